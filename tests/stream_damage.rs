//! Damage inside a compressed stream is skipped like damage inside MRT
//! data (issue 11, point 4): the decoder reports the damaged region and
//! resumes at the next gzip member, bzip2 block, zstd frame or xz stream;
//! everything decodable on both sides is kept; the region counts as
//! skipped damage (exit status 1), and only a cut at the very end of the
//! input is an early end (exit status 0). Each case of the issue is built
//! from a generated RIB (10,001 records: a PEER_INDEX_TABLE and 10,000 RIB
//! records), compressed by the crates the project already uses, and
//! decoded through every path: in memory (as a mapped file is, and a gzip
//! or zstd file opened by `Source::open`), streamed (`Source::from_reader`)
//! and opened, on pools of 1 and 3 threads, which must give
//! the very same bytes, records and errors; and through the command line
//! (mapped, `--no-mmap`, standard input, 1 and 3 threads).
//!
//! The real single-stream bzip2 RIB of `../shared/corpus` is used when it
//! is there (skipped with a message otherwise).

mod common;
#[path = "common/damaged_streams.rs"]
mod damaged_streams;

use mrtsnap::decompress::bzip2::ParallelDecoder;
use mrtsnap::decompress::scan::{self, MagicKind};
use mrtsnap::mrt::Records;
use mrtsnap::synth::{write_rib, RibOptions};
use mrtsnap::Report;
use mrtsnap::{ErrorKind, Source};
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// A RIB and the (offset, length) of each of its records.
type Rib = (Vec<u8>, Vec<(usize, usize)>);

/// The generated RIB and the (offset, length) of each of its records.
fn rib() -> &'static Rib {
    static R: OnceLock<Rib> = OnceLock::new();
    R.get_or_init(|| {
        let mut opts = RibOptions::small();
        opts.ipv4_prefixes = 8_000;
        opts.ipv6_prefixes = 2_000;
        let mut data = Vec::new();
        write_rib(&opts, &mut data).expect("rib");
        let recs: Vec<(usize, usize)> = Records::from_bytes(&data)
            .map(|r| {
                let r = r.expect("a clean RIB");
                (r.offset as usize, 12 + r.body.len())
            })
            .collect();
        assert_eq!(recs.len(), 10_001);
        (data, recs)
    })
}

/// The bytes of records `from..to`.
fn span(from: usize, to: usize) -> &'static [u8] {
    let (data, recs) = rib();
    let start = recs[from].0;
    let end = recs.get(to).map_or(data.len(), |r| r.0);
    &data[start..end]
}

/// The records in 11 groups: the PEER_INDEX_TABLE, then 10 × 1000.
fn groups() -> Vec<&'static [u8]> {
    let mut g = vec![span(0, 1)];
    g.extend((0..10).map(|i| span(1 + i * 1000, 1 + (i + 1) * 1000)));
    g
}

fn gz(p: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(1));
    e.write_all(p).unwrap();
    e.finish().unwrap()
}

fn bz(p: &[u8], level: u32) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(level));
    e.write_all(p).unwrap();
    e.finish().unwrap()
}

/// A zstd frame with its content size and a checksum.
fn zst(p: &[u8]) -> Vec<u8> {
    let mut c = zstd::bulk::Compressor::new(1).unwrap();
    c.include_checksum(true).unwrap();
    c.compress(p).unwrap()
}

fn xz(p: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
    e.write_all(p).unwrap();
    e.finish().unwrap()
}

/// Compressed units concatenated, and where each starts.
fn concat(units: &[Vec<u8>]) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::new();
    let mut starts = Vec::new();
    for u in units {
        starts.push(out.len());
        out.extend_from_slice(u);
    }
    (out, starts)
}

/// One error as reported: kind, decompressed offset, message.
type Reported = (&'static str, u64, String);

/// What decoding an input gives.
#[derive(Clone, Debug, Default, PartialEq)]
struct Outcome {
    bytes: Vec<u8>,
    /// (offset, body length) of each record framed.
    records: Vec<(u64, usize)>,
    errors: Vec<Reported>,
    /// `lost` of each decompression error.
    lost: Vec<Option<u64>>,
    skipped: u64,
    end_of_input: u64,
}

fn outcome(src: &Source) -> Outcome {
    let mut o = Outcome::default();
    let mut report = Report::default();
    let mut note = |o: &mut Outcome, e: &mrtsnap::Error| {
        if let ErrorKind::Decompress { lost, .. } = e.kind() {
            o.lost.push(*lost);
        }
        o.errors.push((e.kind().name(), e.offset(), e.to_string()));
        report.error(e.clone());
    };
    for b in src.batches(1 << 16) {
        o.bytes.extend_from_slice(&b.data);
        for r in b.records() {
            match r {
                Ok(r) => o.records.push((r.offset, r.body.len())),
                Err(e) => note(&mut o, &e),
            }
        }
        if let Some(e) = &b.error {
            note(&mut o, e);
        }
    }
    o.skipped = report.skipped();
    o.end_of_input = report.end_of_input;
    o
}

/// Decode `c` through every path of the library; they must agree. The
/// common outcome.
fn every_path(name: &str, c: &[u8]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, c).unwrap();
    let mut all: Vec<(String, Outcome)> = Vec::new();
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            all.push((
                format!("in memory, {threads} threads"),
                outcome(&Source::from_bytes(name, c.to_vec())),
            ));
            let file = std::fs::File::open(&path).unwrap();
            all.push((
                format!("streamed, {threads} threads"),
                outcome(&Source::from_reader(name, file).unwrap()),
            ));
            all.push((format!("opened, {threads} threads"), outcome(&Source::open(&path).unwrap())));
            // SAFETY: the file is this test's own, not modified while mapped.
            let mapped = unsafe { Source::open_mmap(&path) }.unwrap();
            all.push((format!("mapped, {threads} threads"), outcome(&mapped)));
        });
    }
    let (first, want) = &all[0];
    for (how, got) in &all[1..] {
        assert!(
            got == want,
            "{name}: {how} differs from {first}: {} and {} bytes, {} and {} records, errors {:?} and {:?}",
            got.bytes.len(),
            want.bytes.len(),
            got.records.len(),
            want.records.len(),
            got.errors,
            want.errors
        );
    }
    want.clone()
}

/// The kinds of the errors.
fn kinds(o: &Outcome) -> Vec<&'static str> {
    o.errors.iter().map(|e| e.0).collect()
}

/// The message of the only decompression error.
fn decompress_message(o: &Outcome) -> &str {
    let d: Vec<&Reported> = o.errors.iter().filter(|e| e.0 == "decompress").collect();
    assert_eq!(d.len(), 1, "{:?}", o.errors);
    &d[0].2
}

/// The output of `rib()` with `data[from..to]` left out.
fn without(from: usize, to: usize) -> Vec<u8> {
    let data = &rib().0;
    let mut v = data[..from].to_vec();
    v.extend_from_slice(&data[to..]);
    v
}

/// gzip, one member per record, as the issue measured them.
fn members() -> Vec<Vec<u8>> {
    (0..10_001).map(|i| gz(span(i, i + 1))).collect()
}

#[test]
fn gzip_member_with_a_bad_crc_is_reported_and_every_member_kept() {
    // Member 5001 of 10,001 (index 5000), its stored CRC32 flipped. Before:
    // 5001 of 10,000 RIB records, "input ends early", exit 0.
    let mut m = members();
    let n = m[5000].len();
    m[5000][n - 6] ^= 0x10;
    let (c, starts) = concat(&m);
    let o = every_path("crc.gz", &c);
    assert!(o.bytes == rib().0, "{} bytes", o.bytes.len());
    assert_eq!(o.records.len(), 10_001);
    assert_eq!(kinds(&o), ["decompress"]);
    let msg = decompress_message(&o);
    assert!(
        msg.contains(&format!(
            "gzip member 5000 at compressed byte {} damaged near compressed byte {}: CRC32 mismatch; skipped to compressed byte {}",
            starts[5000],
            starts[5001] - 8,
            starts[5001]
        )),
        "{msg}"
    );
    assert!(msg.ends_with("decompressed bytes lost: 0"), "{msg}");
    assert_eq!(o.errors[0].1, rib().1[5001].0 as u64, "the decompressed offset of the region");
    assert_eq!((o.skipped, o.end_of_input), (1, 0));
}

#[test]
fn gzip_members_whose_isize_lies_are_reported_and_kept() {
    // Before: a lying ISIZE in member 1 left 1 row.
    let mut m = members();
    for k in [1, 5000] {
        let n = m[k].len();
        m[k][n - 2] ^= 0x10;
    }
    let (c, starts) = concat(&m);
    let o = every_path("isize.gz", &c);
    assert!(o.bytes == rib().0);
    assert_eq!(o.records.len(), 10_001);
    assert_eq!(kinds(&o), ["decompress", "decompress"]);
    for (e, k) in o.errors.iter().zip([1, 5000]) {
        assert!(
            e.2.contains(&format!(
                "gzip member {k} at compressed byte {} damaged near compressed byte {}: length (ISIZE) mismatch; skipped to compressed byte {}",
                starts[k],
                starts[k + 1] - 4,
                starts[k + 1]
            )),
            "{}",
            e.2
        );
    }
    assert_eq!(o.lost, [Some(0), Some(0)]);
    assert_eq!((o.skipped, o.end_of_input), (2, 0));
}

#[test]
fn gzip_member_with_damaged_data_loses_only_its_record() {
    let mut m = members();
    let clean = m[5000].clone();
    // The first flip inside the deflate data that the decoder notices
    // before the member's end (a flip that decodes to other bytes is
    // caught by the CRC instead, as in the test above).
    let (c, starts, lost_at) = (20..clean.len() - 8)
        .find_map(|at| {
            let mut d = clean.clone();
            d[at] ^= 0x01;
            let mut out = Vec::new();
            let r = std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&d[..]), &mut out);
            let crc = r.as_ref().is_err_and(|e| e.to_string().contains("checksum"));
            (r.is_err() && !crc).then(|| {
                m[5000] = d;
                let (c, starts) = concat(&m);
                (c, starts, at)
            })
        })
        .expect("a flip the decoder notices");
    let o = every_path("flip.gz", &c);
    let recs = &rib().1;
    let (rec_start, rec_end) = (recs[5000].0, recs[5001].0);
    // The member's bytes before the damage, then every member after it.
    let kept = o.bytes.len() - (rib().0.len() - rec_end);
    assert!(kept >= rec_start && kept < rec_end, "{kept}");
    assert!(o.bytes[..rec_start] == rib().0[..rec_start]);
    assert!(o.bytes[kept..] == rib().0[rec_end..]);
    assert_eq!(o.records.len(), 10_000, "every record but the damaged one");
    let msg = decompress_message(&o);
    assert!(
        msg.contains(&format!("gzip member 5000 at compressed byte {} damaged near", starts[5000]))
            && msg.contains(&format!("skipped to compressed byte {}", starts[5001])),
        "{msg} (flip at {lost_at})"
    );
    // ISIZE says what the member held: the bytes not handed out.
    assert_eq!(o.lost, [Some((rec_end - kept) as u64)]);
    assert!(msg.ends_with(&format!("decompressed bytes lost: {}", rec_end - kept)), "{msg}");
    // The record cut by the damage is reported as damage too.
    if kept > rec_start {
        assert_eq!(kinds(&o), ["truncated", "decompress"]);
        assert!(
            o.errors[0].2.contains("record 5000 ") && o.errors[0].2.contains("before a damaged region"),
            "{:?}",
            o.errors
        );
    }
    assert_eq!(o.end_of_input, 0);
    assert_eq!(o.skipped, o.errors.len() as u64);
}

#[test]
fn bzip2_stream_with_a_flipped_byte_loses_only_that_stream() {
    // Eleven streams (a PEER_INDEX_TABLE, then 1000 records each), one
    // block each; a byte flipped in stream 5 of 11. Before: 4000 of
    // 10,000 records.
    let g = groups();
    let units: Vec<Vec<u8>> = g.iter().map(|p| bz(p, 9)).collect();
    let (mut c, starts) = concat(&units);
    c[starts[4] + units[4].len() / 2] ^= 0x10;
    let o = every_path("flip.bz2", &c);
    let recs = &rib().1;
    assert!(o.bytes == without(recs[3001].0, recs[4001].0));
    assert_eq!(o.records.len(), 9_001);
    let msg = decompress_message(&o);
    assert!(
        msg.contains(&format!("bzip2 block 4 at compressed byte {} (bit 0)", starts[4] + 4)),
        "{msg}"
    );
    assert!(msg.ends_with("decompressed bytes lost: unknown"), "{msg}");
    assert_eq!(kinds(&o), ["decompress"]);
    assert_eq!((o.skipped, o.end_of_input), (1, 0));
}

/// The bit offset and decoded length of each block of a bzip2 stream.
fn bzip2_blocks(c: &[u8]) -> Vec<(u64, usize)> {
    let mut magics = Vec::new();
    scan::scan(c, 0, &mut magics);
    let bits: Vec<u64> = magics.iter().filter(|m| m.kind == MagicKind::Block).map(|m| m.bit).collect();
    let mut d = ParallelDecoder::new(c, 2);
    let mut lens = Vec::new();
    while let Some(b) = d.next_block().unwrap() {
        lens.push(b.len());
    }
    assert_eq!(bits.len(), lens.len());
    bits.into_iter().zip(lens).collect()
}

/// Flip a byte in the middle of block `k` of the single bzip2 stream
/// `c` (decoding to `data`): the output is `data` without that block's
/// bytes, the block is reported, and the rest is framed again after it.
fn check_one_block_lost(name: &str, c: &[u8], data: &[u8], k: usize) -> Outcome {
    let blocks = bzip2_blocks(c);
    assert!(blocks.len() > k + 2, "{} blocks", blocks.len());
    let (bit, len) = blocks[k];
    let from: usize = blocks[..k].iter().map(|b| b.1).sum();
    let mut bad = c.to_vec();
    let at = ((bit + blocks[k + 1].0) / 16) as usize;
    bad[at] ^= 0x10;
    let o = every_path(name, &bad);
    let mut want = data[..from].to_vec();
    want.extend_from_slice(&data[from + len..]);
    assert!(o.bytes == want, "{name}: {} bytes, {} expected", o.bytes.len(), want.len());
    let msg = decompress_message(&o);
    assert!(
        msg.contains(&format!("bzip2 block {k} at compressed byte {} (bit {})", bit / 8, bit % 8))
            && msg.contains(&format!(
                "skipped to compressed byte {} (bit {})",
                blocks[k + 1].0 / 8,
                blocks[k + 1].0 % 8
            )),
        "{name}: {msg}"
    );
    assert_eq!(o.end_of_input, 0, "{name}");
    assert_eq!(o.skipped, o.errors.len() as u64, "{name}");
    o
}

#[test]
fn bzip2_single_stream_block_with_a_flipped_byte_is_skipped() {
    // One stream of 100 kB blocks: a byte flipped in a middle block loses
    // that block only. Records cut by the block's edges are reported
    // (truncated before the region, garbage after it).
    let data = &rib().0;
    let c = bz(data, 1);
    let o = check_one_block_lost("single.bz2", &c, data, 10);
    let recs = &rib().1;
    let blocks = bzip2_blocks(&c);
    let from: usize = blocks[..10].iter().map(|b| b.1).sum();
    let to = from + blocks[10].1;
    let whole = recs.iter().filter(|&&(off, len)| off + len <= from || off >= to).count();
    assert_eq!(o.records.len(), whole, "every record outside the lost block");
    assert_eq!(kinds(&o), ["truncated", "decompress", "garbage"], "{:?}", o.errors);
}

#[test]
fn bzip2_jinx_rib_with_a_flipped_byte_decodes_the_blocks_after_it() {
    // Before: 16.2 of 32.6 MB decoded although later blocks are intact.
    let Some(dir) = common::corpus_dir() else { return };
    let path = dir.join("CAIDA+libbgpstream/test-dumps/routeviews.route-views.jinx.ribs.1401487200.bz2");
    let Ok(c) = std::fs::read(&path) else {
        eprintln!("SKIPPED: {} is absent", path.display());
        return;
    };
    let data = mrtsnap::decompress::decompress_all(mrtsnap::Compression::Bzip2, &c, Default::default()).unwrap();
    let blocks = bzip2_blocks(&c);
    let o = check_one_block_lost("jinx.bz2", &c, &data, blocks.len() / 2);
    assert!(o.bytes.len() > data.len() - 1_000_000, "{} of {}", o.bytes.len(), data.len());
}

#[test]
fn zstd_frame_with_a_flipped_byte_loses_only_its_damaged_blocks() {
    // Eleven frames; a byte flipped in the second block of frame 5 of 11.
    // Before: 4000 of 10,000 records.
    let g = groups();
    let units: Vec<Vec<u8>> = g.iter().map(|p| zst(p)).collect();
    let (mut c, starts) = concat(&units);
    // Past the frame's first block, the first flip that libzstd notices in
    // the block it hits (one that decodes to other bytes is caught by the
    // checksum at the frame's end instead, as a CRC catches it in gzip).
    let len = units[4].len();
    let at = (len / 2..len - 4)
        .find(|&at| {
            let mut f = units[4].clone();
            f[at] ^= 0x10;
            zstd::stream::decode_all(&f[..]).is_err_and(|e| !e.to_string().contains("checksum"))
        })
        .expect("a flip libzstd notices");
    c[starts[4] + at] ^= 0x10;
    let o = every_path("flip.zst", &c);
    let recs = &rib().1;
    let (x, y) = (recs[3001].0, recs[4001].0);
    let data = &rib().0;
    let kept = o.bytes.len() - (data.len() - y);
    assert!(o.bytes[..kept] == data[..kept] && o.bytes[kept..] == data[y..]);
    // Whole 128 KiB blocks of the frame before the damaged one.
    assert!(kept >= x && kept < y && (kept - x).is_multiple_of(128 << 10), "{x} {kept} {y}");
    let msg = decompress_message(&o);
    assert!(
        msg.contains(&format!("zstd frame 4 at compressed byte {} damaged near", starts[4]))
            && msg.contains(&format!("skipped to compressed byte {}", starts[5])),
        "{msg}"
    );
    // The frame's content size says what was lost.
    assert_eq!(o.lost, [Some((y - kept) as u64)]);
    assert!(o.records.len() >= 9_001, "{}", o.records.len());
    assert_eq!(o.end_of_input, 0);
}

#[test]
fn zstd_frame_whose_content_size_lies_keeps_its_data() {
    // One frame of 5000 records whose content size field is wrong. Before:
    // 0 of 5000 records.
    let data = span(0, 5001);
    let clean = zst(data);
    // The frame header: magic, descriptor, (window,) content size.
    let fhd = clean[4];
    let single = fhd & 0x20 != 0;
    let fcs_len = [usize::from(single), 2, 4, 8][usize::from(fhd >> 6)];
    let at = 5 + usize::from(!single) + [0, 1, 2, 4][usize::from(fhd & 3)];
    assert!(fcs_len >= 4, "{fcs_len}");
    for (name, size) in [("low.zst", data.len() / 3), ("high.zst", data.len() * 2)] {
        let mut c = clean.clone();
        c[at..at + 4].copy_from_slice(&(size as u32).to_le_bytes());
        let o = every_path(name, &c);
        assert!(o.bytes == data, "{name}: {} bytes", o.bytes.len());
        assert_eq!(o.records.len(), 5001, "{name}");
        let msg = decompress_message(&o);
        assert!(
            msg.contains(&format!("content size {size} declared, {} bytes decoded", data.len())),
            "{name}: {msg}"
        );
        assert_eq!(o.lost, [Some(0)], "{name}");
        assert_eq!((o.skipped, o.end_of_input), (1, 0), "{name}");
    }
}

#[test]
fn xz_stream_that_is_damaged_loses_only_that_stream() {
    // Eleven streams; stream 5 of 11 damaged in its header, its data, its
    // index. Before: nothing decoded after the damage (0 bytes in the
    // issue's case, where `xz -dc` recovers the first four streams).
    let g = groups();
    let units: Vec<Vec<u8>> = g.iter().map(|p| xz(p)).collect();
    let (c, starts) = concat(&units);
    let recs = &rib().1;
    let data = &rib().0;
    let (x, y) = (recs[3001].0, recs[4001].0);
    let len = units[4].len();
    for (name, at) in [("header.xz", 2), ("data.xz", len / 2), ("index.xz", len - 14)] {
        let mut bad = c.clone();
        bad[starts[4] + at] ^= 0x10;
        let o = every_path(name, &bad);
        let kept = o.bytes.len() - (data.len() - y);
        assert!(o.bytes[..x] == data[..x] && o.bytes[kept..] == data[y..], "{name}");
        let msg = decompress_message(&o);
        assert!(
            msg.contains(&format!("xz stream 4 at compressed byte {} damaged near", starts[4]))
                && msg.contains(&format!("skipped to compressed byte {}", starts[5])),
            "{name}: {msg}"
        );
        assert_eq!(o.lost, [None], "{name}");
        assert_eq!(o.end_of_input, 0, "{name}");
        assert!(o.records.len() >= 9_001, "{name}: {}", o.records.len());
        if name == "header.xz" {
            assert_eq!(kept, x, "{name}: nothing of the stream");
            assert_eq!(o.records.len(), 9_001, "{name}");
        }
    }
}

#[test]
fn a_cut_at_the_end_is_an_early_end_in_every_format() {
    // Cut inside the last unit: everything before it decoded, no damage.
    let g = groups();
    let data = &rib().0;
    let forms: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("cut.gz", g.iter().map(|p| gz(p)).collect()),
        ("cut.bz2", g.iter().map(|p| bz(p, 9)).collect()),
        ("cut.zst", g.iter().map(|p| zst(p)).collect()),
        ("cut.xz", g.iter().map(|p| xz(p)).collect()),
    ];
    let before_last = rib().1[9001].0;
    for (name, units) in forms {
        let (c, starts) = concat(&units);
        let cut = &c[..starts[10] + units[10].len() / 2];
        let o = every_path(name, cut);
        assert!(
            o.bytes.len() >= before_last && data.starts_with(&o.bytes),
            "{name}: {}",
            o.bytes.len()
        );
        assert_eq!(o.skipped, 0, "{name}: {:?}", o.errors);
        assert!(o.end_of_input >= 1, "{name}: {:?}", o.errors);
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

/// `snapshot --format pairs` of `c` mapped, with `--no-mmap` and from
/// standard input, on 1 and 3 threads: the same rows and messages
/// everywhere. The rows and the exit status.
fn cli_every_path(name: &str, c: &[u8]) -> (Vec<u8>, i32) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, c).unwrap();
    let file = p.to_str().unwrap();
    let mut runs = Vec::new();
    for threads in ["1", "3"] {
        for how in ["mapped", "no-mmap", "stdin"] {
            let mut args = vec!["--threads", threads];
            if how == "no-mmap" {
                args.push("--no-mmap");
            }
            args.extend(["snapshot", "--format", "pairs", "-o", "-"]);
            args.push(if how == "stdin" { "-" } else { file });
            let out = mrtsnap(&args, (how == "stdin").then_some(p.as_path()));
            let stderr = String::from_utf8_lossy(&out.stderr).replace(&format!("mrtsnap: {file}: "), "mrtsnap: -: ");
            runs.push((
                format!("{how}, {threads} threads"),
                out.stdout,
                stderr,
                out.status.code().unwrap_or(-1),
            ));
        }
    }
    let (_, rows, stderr, code) = &runs[0];
    for (how, r, e, k) in &runs[1..] {
        assert!(r == rows, "{name}, {how}: rows differ");
        assert_eq!(e, stderr, "{name}, {how}");
        assert_eq!(k, code, "{name}, {how}");
    }
    (rows.clone(), *code)
}

#[test]
fn cli_skips_compressed_damage_alike_on_every_path_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("rib.mrt");
    std::fs::write(&plain, &rib().0).unwrap();
    let all = mrtsnap(&["snapshot", "--format", "pairs", "-o", "-", plain.to_str().unwrap()], None);
    assert!(all.status.success());
    let all_rows = all.stdout.iter().filter(|&&b| b == b'\n').count();
    assert!(all_rows >= 10_000, "{all_rows}");

    // A bad CRC: every row, exit 1.
    let mut m = members();
    let n = m[5000].len();
    m[5000][n - 6] ^= 0x10;
    let (rows, code) = cli_every_path("crc.gz", &concat(&m).0);
    assert_eq!((rows, code), (all.stdout.clone(), 1));

    // A lost bzip2 stream: the rows of the other streams, exit 1.
    let units: Vec<Vec<u8>> = groups().iter().map(|p| bz(p, 9)).collect();
    let (mut c, starts) = concat(&units);
    c[starts[4] + units[4].len() / 2] ^= 0x10;
    let (rows, code) = cli_every_path("flip.bz2", &c);
    let n = rows.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(code, 1);
    assert!(n < all_rows && n > all_rows * 8 / 10, "{n} of {all_rows}");

    // A cut at the end: exit 0.
    let units: Vec<Vec<u8>> = groups().iter().map(|p| zst(p)).collect();
    let (c, starts) = concat(&units);
    let (_, code) = cli_every_path("cut.zst", &c[..starts[10] + 100]);
    assert_eq!(code, 0);
}

#[test]
fn gzip_member_with_a_damaged_header_after_one_with_the_same_content_is_reported() {
    // Found by fuzz/fuzz_targets/damaged_streams.rs: members decoded whole
    // from memory took the member before the damaged one (same content,
    // same trailer) for a member running to the next header, and skipped
    // the damaged one without a word; the stream reported it.
    let rec = span(1, 2);
    let mut m: Vec<Vec<u8>> = std::iter::once(gz(span(0, 1))).chain((0..5).map(|_| gz(rec))).collect();
    m[3][0] ^= 0x01;
    let (c, starts) = concat(&m);
    let o = every_path("same.gz", &c);
    let mut want = span(0, 1).to_vec();
    for _ in 0..4 {
        want.extend_from_slice(rec);
    }
    assert!(o.bytes == want, "{} bytes", o.bytes.len());
    assert_eq!(kinds(&o), ["decompress"]);
    let msg = decompress_message(&o);
    assert!(
        msg.contains(&format!(
            "gzip member 3 at compressed byte {0} damaged near compressed byte {0}: not a gzip member header; skipped to compressed byte {1}",
            starts[3], starts[4]
        )),
        "{msg}"
    );
    assert_eq!((o.skipped, o.end_of_input), (1, 0));
}

/// The inputs of the `damaged_streams` fuzz target's findings, kept as its
/// seeds (`fuzz/corpus/damaged_streams/regression-*`), checked as the
/// target checks them: 1, a damaged gzip member after one with the same
/// content (the test above); 2, a bzip2 block that our decoder refused (a
/// code length table that over-subscribes its Huffman code in symbols the
/// block never uses) and libbzip2 decodes with its CRC right.
#[test]
fn fuzz_regressions_decode_alike() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/damaged_streams");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz seeds") {
        let path = entry.expect("entry").path();
        if path.file_name().is_some_and(|f| f.to_string_lossy().starts_with("regression-")) {
            damaged_streams::check(&std::fs::read(&path).expect("input"));
            n += 1;
        }
    }
    assert_eq!(n, 2);
}
