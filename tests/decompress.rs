//! Compressed inputs: the same generated RIB and updates files as plain, gzip
//! (one and several members), bzip2 (large and small blocks, one and several
//! streams), xz and zstd (one and several frames) give byte-identical
//! decompressed bytes, identical batches and identical `mrtsnap dump`
//! output; damaged inputs (a flipped bit in a bzip2 block, a bad stream CRC,
//! a truncated gzip member or bzip2 stream) give an error naming the
//! position, after everything decodable before it.

use mrtsnap::decompress::{self, Options};
use mrtsnap::dump::BgpdumpWriter;
use mrtsnap::pipeline::for_each_record;
use mrtsnap::report::Report;
use mrtsnap::synth::{write_rib, write_updates, RibOptions, UpdatesOptions};
use mrtsnap::{Compression, Error, ErrorKind, Source};
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// A RIB of about 2.6 MB and an updates file, generated once.
fn plain() -> &'static (Vec<u8>, Vec<u8>) {
    static P: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    P.get_or_init(|| {
        let mut rib = Vec::new();
        let mut opts = RibOptions::small();
        opts.ipv4_prefixes = 12_000;
        opts.ipv6_prefixes = 3_000;
        write_rib(&opts, &mut rib).expect("rib");
        let mut upd = Vec::new();
        let u = UpdatesOptions {
            messages: 20_000,
            ..UpdatesOptions::small()
        };
        write_updates(&u, &mut upd).expect("updates");
        (rib, upd)
    })
}

fn gz(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(p).unwrap();
        out.extend(e.finish().unwrap());
    }
    out
}

fn bz(parts: &[&[u8]], level: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(level));
        e.write_all(p).unwrap();
        out.extend(e.finish().unwrap());
    }
    out
}

fn zst(parts: &[&[u8]]) -> Vec<u8> {
    parts.iter().flat_map(|p| zstd::encode_all(*p, 1).unwrap()).collect()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 0);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Every compressed form of `data`, named.
fn forms(data: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let (a, b) = data.split_at(data.len() / 3);
    let (b, c) = b.split_at(b.len() / 2);
    vec![
        ("gz", gz(&[data])),
        ("gz-3-members", gz(&[a, b, c])),
        ("bz2-level9", bz(&[data], 9)),
        ("bz2-level1", bz(&[data], 1)),
        ("bz2-3-streams", bz(&[a, b, c], 2)),
        ("bz2-with-empty-stream", bz(&[a, &[], b, c], 1)),
        ("xz", xz(data)),
        ("zst", zst(&[data])),
        ("zst-3-frames", zst(&[a, b, c])),
    ]
}

/// The bgpdump lines and the error report of a source, through batches.
fn dump(src: &Source, batch: usize) -> (Vec<u8>, Report, u64) {
    let mut out = Vec::new();
    let mut report = Report::default();
    let mut w = BgpdumpWriter::new();
    let mut bytes = 0;
    for b in src.batches(batch) {
        bytes += b.data.len() as u64;
        for_each_record(&b, &mut report, false, |raw, rec, peers| w.write_record(raw, rec, peers, &mut out)).unwrap();
    }
    (out, report, bytes)
}

#[test]
fn every_form_decompresses_to_the_same_bytes() {
    for data in [&plain().0, &plain().1] {
        for (name, c) in forms(data) {
            let comp = Compression::detect(&c);
            for in_flight in [1, 3, 8] {
                let out = decompress::decompress_all(comp, &c, Options { max_in_flight: in_flight });
                let out = out.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(
                    out == *data,
                    "{name} (in flight {in_flight}): {} bytes vs {}",
                    out.len(),
                    data.len()
                );
            }
        }
    }
}

#[test]
fn every_form_dumps_the_same_lines() {
    for data in [&plain().0, &plain().1] {
        let (reference, rep, bytes) = dump(&Source::from_bytes("plain", data.clone()), 1 << 16);
        assert!(reference.len() > 100_000 && rep.total_errors() == 0);
        assert_eq!(bytes, data.len() as u64);
        for (name, c) in forms(data) {
            for batch in [1 << 12, 1 << 20] {
                let (lines, rep, bytes) = dump(&Source::from_bytes(name, c.clone()), batch);
                assert_eq!(rep.total_errors(), 0, "{name}");
                assert_eq!(bytes, data.len() as u64, "{name}");
                assert!(lines == reference, "{name}, batch {batch}: dumps differ");
            }
        }
    }
}

fn mrtsnap(args: &[&str], stdin: Option<&Path>) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mrtsnap"));
    cmd.args(args);
    if let Some(p) = stdin {
        cmd.stdin(std::fs::File::open(p).unwrap());
    }
    cmd.output().unwrap()
}

#[test]
fn cli_dump_is_identical_for_files_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let data = &plain().0;
    let plain_path = dir.path().join("rib.mrt");
    std::fs::write(&plain_path, data).unwrap();
    let reference = mrtsnap(&["dump", plain_path.to_str().unwrap()], None);
    assert!(reference.status.success());
    assert!(reference.stdout.len() > 100_000);
    for (name, c) in forms(data) {
        let p = dir.path().join(format!("rib.{name}"));
        std::fs::write(&p, &c).unwrap();
        for threads in ["1", "2"] {
            let out = mrtsnap(&["--threads", threads, "dump", p.to_str().unwrap()], None);
            assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
            assert!(out.stdout == reference.stdout, "{name}, {threads} threads: dump differs");
        }
        let out = mrtsnap(&["dump", "-"], Some(&p));
        assert!(out.stdout == reference.stdout, "{name} on stdin: dump differs");
    }
}

/// Everything a damaged input gives: records decoded, decompressed bytes,
/// and the decompression error.
fn damaged(name: &str, c: Vec<u8>) -> (usize, u64, Error) {
    let src = Source::from_bytes(name, c);
    let (mut records, mut bytes, mut error) = (0, 0, None);
    for b in src.batches(1 << 14) {
        bytes += b.data.len() as u64;
        records += b.records().filter(|r| r.is_ok()).count();
        if let Some(e) = b.error.clone() {
            assert!(b.last, "the error ends the input");
            error = Some(e);
        }
    }
    (records, bytes, error.expect("an error"))
}

fn message(e: &Error) -> String {
    match e.kind() {
        ErrorKind::Decompress { message } => message.to_string(),
        other => panic!("not a decompression error: {other:?}"),
    }
}

/// The bit offsets of the blocks of a bzip2 stream.
fn blocks(c: &[u8]) -> Vec<u64> {
    let mut m = Vec::new();
    decompress::scan::scan(c, 0, &mut m);
    m.iter()
        .filter(|m| m.kind == decompress::scan::MagicKind::Block)
        .map(|m| m.bit)
        .collect()
}

#[test]
fn flipped_bit_in_a_bzip2_block_keeps_the_blocks_before() {
    let data = &plain().0;
    let c = bz(&[data], 1);
    let starts = blocks(&c);
    assert!(starts.len() > 10, "{} blocks", starts.len());
    let k = starts.len() / 2;
    let mut bad = c.clone();
    let at = (starts[k] / 8) as usize + 1000;
    bad[at] ^= 0x08;
    let (records, bytes, e) = damaged("flip.bz2", bad);
    let msg = message(&e);
    assert!(
        msg.contains(&format!("bzip2 block {k} at compressed byte {}", starts[k] / 8)),
        "{msg}"
    );
    // Every byte of the blocks before is delivered and counted; the error
    // sits at the decompressed offset reached.
    let before = decompress::decompress_all(Compression::Bzip2, &bz(&[data], 1), Options::default()).unwrap();
    assert!(bytes > 0 && bytes <= before.len() as u64 && data.starts_with(&before[..bytes as usize]));
    assert!(e.offset() >= bytes && e.offset() < data.len() as u64, "{} vs {bytes}", e.offset());
    assert!(records > 1000, "{records}");
    assert!(e.is_end_of_input());
    assert!(e.to_string().contains("compressed byte"), "{e}");
}

#[test]
fn bad_bzip2_stream_crc_is_reported_after_all_data() {
    let data = &plain().1;
    let mut c = bz(&[data], 9);
    let n = c.len();
    c[n - 3] ^= 0x40; // inside the stored combined CRC (the last byte is padding)
    let (_, bytes, e) = damaged("crc.bz2", c);
    assert_eq!(bytes, data.len() as u64);
    assert_eq!(e.offset(), data.len() as u64);
    assert!(message(&e).contains("stream CRC mismatch"), "{}", message(&e));
}

#[test]
fn truncated_inputs_report_where_they_stop() {
    let data = &plain().0;
    for (name, c) in [
        ("cut.gz", gz(&[data])),
        ("cut.bz2", bz(&[data], 1)),
        ("cut.zst", zst(&[data])),
        ("cut.xz", xz(data)),
    ] {
        let cut = c[..c.len() * 2 / 3].to_vec();
        let (records, bytes, e) = damaged(name, cut);
        let msg = message(&e);
        assert!(msg.contains("compressed byte"), "{name}: {msg}");
        assert!(msg.contains("truncated") || msg.contains("damaged"), "{name}: {msg}");
        assert!(records > 1000, "{name}: {records} records kept");
        assert!(bytes > data.len() as u64 / 3 && bytes < data.len() as u64, "{name}: {bytes}");
        assert!(e.is_end_of_input());
    }
}

#[test]
fn cli_names_the_file_and_the_positions() {
    let dir = tempfile::tempdir().unwrap();
    let data = &plain().0;
    let c = bz(&[data], 1);
    let starts = blocks(&c);
    let mut bad = c.clone();
    bad[(starts[3] / 8) as usize + 500] ^= 0x01;
    let p = dir.path().join("flip.mrt.bz2");
    std::fs::write(&p, &bad).unwrap();
    let out = mrtsnap(&["dump", p.to_str().unwrap()], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("flip.mrt.bz2"), "{err}");
    assert!(
        err.contains(&format!("bzip2 block 3 at compressed byte {}", starts[3] / 8)),
        "{err}"
    );
    assert!(err.contains("at byte 0x"), "{err}");
    assert!(!out.stdout.is_empty());
}

#[test]
fn random_damage_never_panics() {
    let data = &plain().1[..200_000];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for (name, c) in forms(data) {
        for _ in 0..12 {
            let mut m = c.clone();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = (x % m.len() as u64) as usize;
            m[at] ^= 1 << (x >> 61);
            let cut = m.len() - (x >> 40) as usize % (m.len() / 4 + 1);
            let comp = Compression::detect(&m[..cut]);
            let _ = decompress::decompress_all(comp, &m[..cut], Options::default());
            let _ = dump(&Source::from_bytes(name, m[..cut].to_vec()), 1 << 12);
        }
    }
}
