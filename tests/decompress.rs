//! Compressed inputs: the same generated RIB and updates files as plain, gzip
//! (one and several members), bzip2 (large and small blocks, one and several
//! streams), xz and zstd (one and several frames) give byte-identical
//! decompressed bytes, identical batches and identical `mrtsnap dump`
//! output; damaged inputs (a flipped bit in a bzip2 block, a bad stream CRC,
//! a truncated gzip member or bzip2 stream) give an error naming the
//! position, after everything decodable before it (and, for damage that is
//! not a cut, before everything decodable after it: `tests/stream_damage.rs`). gzip and zstd are also
//! decoded from memory (members and frames in parallel, at 1 and 3
//! threads): many members, empty and one-byte members, a gzip header inside
//! compressed data, zstd frames with and without content sizes, skippable
//! frames; damaged members and frames (truncated, bad CRC, flipped bit,
//! garbage after the end) are named with their compressed offsets.

mod common;

use mrtsnap::decompress::{self, Options};
use mrtsnap::dump::BgpdumpWriter;
use mrtsnap::pipeline::for_each_record;
use mrtsnap::synth::{write_rib, write_updates, RibOptions, UpdatesOptions};
use mrtsnap::Report;
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
    gz_level(parts, 1)
}

fn gz_level(parts: &[&[u8]], level: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        e.write_all(p).unwrap();
        out.extend(e.finish().unwrap());
    }
    out
}

/// `data` cut into `n` nearly equal parts.
fn pieces(data: &[u8], n: usize) -> Vec<&[u8]> {
    data.chunks(data.len().div_ceil(n).max(1)).collect()
}

/// zstd frames that declare their content size (as `pzstd` and
/// `zstd::bulk` write them), with a checksum.
fn zst_sized(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        let mut c = zstd::bulk::Compressor::new(1).unwrap();
        c.include_checksum(true).unwrap();
        out.extend(c.compress(p).unwrap());
    }
    out
}

/// A skippable frame (RFC 8878 §3.1.2) of `n` bytes.
fn skippable(n: u8) -> Vec<u8> {
    let mut v = vec![0x53, 0x2a, 0x4d, 0x18, n, 0, 0, 0];
    v.extend(std::iter::repeat_n(0xab, usize::from(n)));
    v
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
        ("gz-40-members", gz(&pieces(data, 40))),
        ("gz-tiny-members", {
            let (x, y) = data.split_at(1);
            gz(&[&[], x, &[], &y[..1], &[], &y[1..y.len() / 2], &y[y.len() / 2..], &[]])
        }),
        ("zst-30-sized-frames", zst_sized(&pieces(data, 30))),
        ("zst-pzstd-like", {
            // pzstd writes a skippable frame before each frame.
            let mut v = Vec::new();
            for p in pieces(data, 7) {
                v.extend(skippable(4));
                v.extend(zst_sized(&[p]));
            }
            v
        }),
        ("zst-skippable-frames", {
            let mut v = zst_sized(&[a]);
            v.extend(skippable(0));
            v.extend(zst(&[b]));
            v.extend(skippable(9));
            v.extend(zst_sized(&[c]));
            v.extend(skippable(3));
            v
        }),
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
        for_each_record(&b, &mut report, false, |raw, rec, peers| {
            w.write_record(raw, rec, peers, &mut out);
        })
        .unwrap();
    }
    (out, report, bytes)
}

#[test]
fn every_form_decompresses_to_the_same_bytes() {
    for data in [&plain().0, &plain().1] {
        for (name, c) in forms(data) {
            let comp = Compression::detect(&c);
            for in_flight in [1, 3, 8] {
                let opts = Options {
                    max_in_flight: in_flight,
                    ..Options::default()
                };
                let out = decompress::decompress_all(comp, &c, opts);
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

/// A decompression of `c` from memory on a pool of `threads`.
fn in_memory(c: &[u8], threads: usize, opts: Options) -> Result<Vec<u8>, decompress::DecodeError> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| decompress::decompress_all_in_memory(Compression::detect(c), c, opts))
}

#[test]
fn every_form_decompresses_to_the_same_bytes_from_memory() {
    for data in [&plain().0, &plain().1] {
        for (name, c) in forms(data) {
            for threads in [1, 3] {
                for (in_flight, cap) in [(1, 0), (2, 1 << 16), (8, decompress::gzip::DEFAULT_MEMBER_CAP)] {
                    let opts = Options {
                        max_in_flight: in_flight,
                        gzip_member_cap: cap,
                    };
                    let out = in_memory(&c, threads, opts).unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert!(out == *data, "{name} ({threads} threads, {in_flight} in flight, cap {cap})");
                }
            }
        }
    }
}

/// Stored (level 0) members copy their data verbatim, so a gzip header
/// inside the data is a candidate member start inside compressed data: a
/// wrong guess, discarded.
#[test]
fn a_gzip_header_inside_compressed_data_is_a_wrong_guess() {
    let mut data = plain().1[..300_000].to_vec();
    let fake = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xa5, 0x5a, 0, 0, 0, 0, 0, 0, 0, 0];
    for at in [1000, 150_000, 299_000] {
        data[at..at + fake.len()].copy_from_slice(&fake);
    }
    let mut c = gz_level(&[&data[..200_000]], 0);
    c.extend(gz(&[&data[200_000..]]));
    c.extend(gz_level(&[&data[..5000]], 0));
    let mut expect = data.clone();
    expect.extend_from_slice(&data[..5000]);
    assert!(decompress::gzip::candidates(&c).len() > 3);
    for threads in [1, 2] {
        let out = in_memory(&c, threads, Options::default()).unwrap();
        assert!(out == expect, "{threads} threads");
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
/// and the first decompression error (a damaged region skipped, or what
/// ended the input: then it comes with the last batch).
fn damaged(name: &str, c: Vec<u8>) -> (usize, u64, Error) {
    let (records, out, error) = damaged_bytes(name, c);
    (records, out.len() as u64, error)
}

/// [`damaged`], with the decompressed bytes.
fn damaged_bytes(name: &str, c: Vec<u8>) -> (usize, Vec<u8>, Error) {
    let src = Source::from_bytes(name, c);
    let (mut records, mut out, mut error) = (0, Vec::new(), None);
    for b in src.batches(1 << 14) {
        out.extend_from_slice(&b.data);
        records += b.records().filter(|r| r.is_ok()).count();
        if let Some(e) = b.error.clone() {
            assert!(b.last || !e.is_end_of_input(), "an early end ends the input");
            error = error.or(Some(e));
        }
    }
    (records, out, error.expect("an error"))
}

fn message(e: &Error) -> String {
    match e.kind() {
        ErrorKind::Decompress { message, .. } => message.to_string(),
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
fn flipped_bit_in_a_bzip2_block_loses_that_block_only() {
    let data = &plain().0;
    let c = bz(&[data], 1);
    let starts = blocks(&c);
    assert!(starts.len() > 10, "{} blocks", starts.len());
    let k = starts.len() / 2;
    let mut bad = c.clone();
    let at = (starts[k] / 8) as usize + 1000;
    bad[at] ^= 0x08;
    let (records, out, e) = damaged_bytes("flip.bz2", bad);
    let msg = message(&e);
    assert!(
        msg.contains(&format!("bzip2 block {k} at compressed byte {}", starts[k] / 8))
            && msg.contains(&format!("skipped to compressed byte {}", starts[k + 1] / 8)),
        "{msg}"
    );
    // Every byte of the blocks before and after is delivered; the error
    // sits at the decompressed offset where the damaged block's bytes
    // would have been.
    let at = e.offset() as usize;
    let tail = out.len() - at;
    assert!(out[..at] == data[..at] && out[at..] == data[data.len() - tail..]);
    assert!(out.len() < data.len() && out.len() > data.len() - 200_000, "{}", out.len());
    assert!(records > 9_000, "{records}");
    assert!(!e.is_end_of_input());
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

/// The offsets at which the members of a multi-member gzip file start.
fn member_starts(parts: &[&[u8]]) -> Vec<usize> {
    let mut at = 0;
    parts
        .iter()
        .map(|p| {
            let start = at;
            at += gz(&[p]).len();
            start
        })
        .collect()
}

#[test]
fn damaged_gzip_members_keep_the_members_before() {
    let data = &plain().0;
    let parts = pieces(data, 4);
    let c = gz(&parts);
    let starts = member_starts(&parts);
    let before = |k: usize| parts[..k].iter().map(|p| p.len() as u64).sum::<u64>();
    let n = c.len();
    // (name, damaged input, the member reported, bytes delivered at least)
    let cases: Vec<(&str, Vec<u8>, usize, u64)> = vec![
        ("truncated", c[..starts[2] + 5000].to_vec(), 2, before(2)),
        (
            "bad-crc",
            {
                let mut m = c.clone();
                m[starts[2] - 6] ^= 0x10; // member 1's stored CRC32
                m
            },
            1,
            before(1),
        ),
        (
            "flipped-bit",
            {
                let mut m = c.clone();
                m[starts[1] + 4000] ^= 0x04;
                m
            },
            1,
            before(1),
        ),
        (
            "garbage-tail",
            {
                let mut m = c.clone();
                m.extend_from_slice(b"not gzip, just garbage at the end");
                m
            },
            4,
            data.len() as u64,
        ),
    ];
    for (name, bad, member, at_least) in cases {
        let (records, bytes, e) = damaged(name, bad);
        let msg = message(&e);
        let start = starts.get(member).copied().unwrap_or(n);
        assert!(
            msg.contains(&format!("gzip member {member} at compressed byte {start}")),
            "{name}: {msg}"
        );
        assert!(bytes >= at_least && bytes <= data.len() as u64, "{name}: {bytes} bytes");
        assert!(e.offset() >= at_least, "{name}");
        assert_eq!(e.is_end_of_input(), name == "truncated", "{name}");
        assert!(records > 100, "{name}: {records}");
    }
}

#[test]
fn damaged_zstd_frames_keep_the_frames_before() {
    let data = &plain().0;
    let parts = pieces(data, 5);
    let c = zst_sized(&parts);
    let mut starts = vec![0];
    for p in &parts[..4] {
        starts.push(starts.last().unwrap() + zst_sized(&[p]).len());
    }
    let before = |k: usize| parts[..k].iter().map(|p| p.len() as u64).sum::<u64>();
    let cases: Vec<(&str, Vec<u8>, usize, u64)> = vec![
        ("truncated", c[..starts[3] + 3000].to_vec(), 3, before(3)),
        (
            "flipped-bit",
            {
                let mut m = c.clone();
                m[starts[2] + 2000] ^= 0x20;
                m
            },
            2,
            before(2),
        ),
        (
            "garbage-tail",
            {
                let mut m = c.clone();
                m.extend_from_slice(b"garbage after the last frame");
                m
            },
            5,
            data.len() as u64,
        ),
    ];
    for (name, bad, frame, at_least) in cases {
        let n = c.len();
        let (_, bytes, e) = damaged(name, bad);
        let msg = message(&e);
        let start = starts.get(frame).copied().unwrap_or(n);
        assert!(
            msg.contains(&format!("zstd frame {frame} at compressed byte {start}")),
            "{name}: {msg}"
        );
        assert!(bytes >= at_least && bytes <= data.len() as u64, "{name}: {bytes} bytes");
        assert!(e.offset() >= at_least, "{name}");
        assert_eq!(e.is_end_of_input(), name == "truncated", "{name}");
    }
}

#[test]
fn cli_names_the_gzip_file_and_member() {
    let dir = tempfile::tempdir().unwrap();
    let data = &plain().0;
    let parts = pieces(data, 3);
    let mut c = gz(&parts);
    let starts = member_starts(&parts);
    c[starts[1] + 3000] ^= 0x01;
    let p = dir.path().join("flip.mrt.gz");
    std::fs::write(&p, &c).unwrap();
    for mmap in [true, false] {
        let mut args = vec!["dump", p.to_str().unwrap()];
        if !mmap {
            args.insert(0, "--no-mmap");
        }
        let out = mrtsnap(&args, None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("flip.mrt.gz"), "{err}");
        assert!(err.contains("compressed byte"), "{err}");
        if mmap {
            assert!(err.contains(&format!("gzip member 1 at compressed byte {}", starts[1])), "{err}");
        }
        assert!(!out.stdout.is_empty());
    }
}

/// A skippable zstd frame's magic reads as an MRT timestamp (2012-2020):
/// only a skippable frame followed by a zstd frame makes a file zstd.
#[test]
fn skippable_frame_magic_is_zstd_only_before_a_frame() {
    let data = &plain().1;
    let mut mrt = data[..4096].to_vec();
    // Timestamp 0x5a2a4d18 (2017-12-08): the bytes of a skippable magic.
    mrt[..4].copy_from_slice(&[0x5a, 0x2a, 0x4d, 0x18]);
    assert_eq!(Compression::detect(&mrt), Compression::None);
    let mut pz = skippable(4);
    pz.extend(zst_sized(&[&data[..1000]]));
    assert_eq!(Compression::detect(&pz), Compression::Zstd);
    assert_eq!(Compression::detect(&pz[..10]), Compression::None);
}

/// A large single member (a RIS bview) decoded in parallel chunks gives
/// exactly what the streaming decoders give (mrtsnap's own deflate decoder
/// over the whole input in memory, and over a window of a stream): the
/// same bytes, and on damage (truncated, a flipped bit, a bad CRC) the
/// same bytes before the same error; a member after the damaged one is
/// decoded alike by all three.
#[test]
fn one_large_member_decodes_the_same_in_parallel_chunks() {
    use decompress::gzip::{MemoryGzip, StreamGzip};
    use decompress::member::{CHUNK_BYTES, MIN_THREADS};
    use decompress::Decode;
    let mut data = Vec::new();
    write_rib(&RibOptions::route_views2_like().scale(0.02), &mut data).expect("rib");
    let c = gz_level(&[&data], 6);
    assert!(c.len() > 3 * CHUNK_BYTES, "{} bytes: several chunks", c.len());
    // Everything a decoder gives: its bytes and its errors.
    let drain = |d: &mut dyn Decode| {
        let mut out = Vec::new();
        let mut errs = Vec::new();
        while let Some(c) = d.next_chunk() {
            match c {
                Ok(p) => out.extend_from_slice(p),
                Err(e) => errs.push(e.message),
            }
        }
        (out, errs)
    };
    let run = |c: &[u8], chunked: bool| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(MIN_THREADS).build().unwrap();
        pool.install(|| {
            let mut d = MemoryGzip::new(bytes::Bytes::copy_from_slice(c), 0, 4).parallel_chunks(chunked);
            let (out, errs) = drain(&mut d);
            (out, errs, d.chunks())
        })
    };
    let (out, err, (jobs, stream)) = run(&c, true);
    assert!(out == data && err.is_empty(), "{err:?}");
    // How many chunks workers decode, and how many the caller's thread
    // takes back before a worker starts them, depends on timing; the
    // chunks' jobs alone are tested in `decompress::member`.
    assert_eq!(jobs + stream, c.len().div_ceil(CHUNK_BYTES) as u64);
    let tail = gz_level(&[&data[..100_000]], 6);
    let mut cases: Vec<(&str, Vec<u8>)> = vec![("truncated", c[..c.len() * 7 / 10].to_vec())];
    for at in [c.len() / 3, c.len() * 3 / 5, c.len() - 100] {
        let mut d = c.clone();
        d[at] ^= 0x10;
        d.extend_from_slice(&tail);
        cases.push(("flipped bit", d));
    }
    let mut d = c.clone();
    let n = d.len();
    d[n - 6] ^= 1;
    d.extend_from_slice(&tail);
    cases.push(("bad CRC", d));
    for (what, d) in cases {
        let (a, ea, _) = run(&d, true);
        let (b, eb, _) = run(&d, false);
        let (s, es) = drain(&mut StreamGzip::new(&d[..]));
        assert_eq!(ea.len(), 1, "{what}: one error: {ea:?}");
        assert_eq!(ea, eb, "{what}");
        assert_eq!(ea, es, "{what}");
        assert!(a == b && a == s, "{what}: {}, {} and {} bytes", a.len(), b.len(), s.len());
        assert!(
            data.starts_with(&a[..a.len().min(c.len() / 3)]),
            "{what}: the bytes before the damage"
        );
        if what != "truncated" {
            assert!(
                ea[0].contains(&format!("skipped to compressed byte {}", c.len())),
                "{what}: {}",
                ea[0]
            );
            assert!(a.ends_with(&data[..100_000]), "{what}: the member after the damaged one");
        }
    }
}

/// Every gzip file of the shared corpus (MRT archives and reference
/// outputs, written by several gzip implementations) decodes to what zlib
/// gives: streamed member by member by mrtsnap's own deflate decoder, and
/// cut into 16 KiB chunks decoded in parallel (block starts found, markers
/// resolved) on a pool of three threads.
#[test]
fn every_corpus_gzip_file_decodes_as_zlib_does_streamed_and_in_chunks() {
    use decompress::gzip::MemoryGzip;
    use decompress::Decode;
    use std::io::Read;
    let Some(dir) = common::corpus_dir() else { return };
    let mut files = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "gz") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 50, "{} gzip files", files.len());
    let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    let run = |d: &mut dyn Decode| {
        let mut out = Vec::new();
        while let Some(c) = d.next_chunk() {
            match c {
                Ok(c) => out.extend_from_slice(c),
                Err(_) => return (out, false),
            }
        }
        (out, true)
    };
    let (mut by_jobs, mut chunks) = (0, 0);
    for path in &files {
        let c = std::fs::read(path).unwrap();
        let mut want = Vec::new();
        let ok = flate2::read::MultiGzDecoder::new(&c[..]).read_to_end(&mut want).is_ok();
        let bytes = bytes::Bytes::from(c);
        let streamed = run(&mut MemoryGzip::new(bytes.clone(), 0, 4));
        assert!(streamed == (want.clone(), ok), "{}: streamed", path.display());
        let mut d = MemoryGzip::new(bytes, 0, 4).chunk_bytes(16 << 10).parallel_chunks(true);
        let chunked = pool.install(|| run(&mut d));
        assert!(chunked == (want, ok), "{}: in chunks", path.display());
        by_jobs += d.chunks().0;
        chunks += d.chunks().0 + d.chunks().1;
    }
    eprintln!("{} files, {chunks} chunks, {by_jobs} decoded by jobs", files.len());
    assert!(chunks > 500 && by_jobs > 0, "{chunks} chunks, {by_jobs} by jobs");
}
