//! Speculative parallel cutting of inputs in memory (`pipeline::map_ordered`
//! over a map or a buffer, `source::Speculation`) must give exactly what
//! cutting in order gives: the same records with the same indices and
//! offsets, the same errors (offsets and record indices), the same dump
//! lines and the same snapshot bytes, at one and several threads, for clean
//! inputs, damaged ones (cut, bit-flipped, garbage at batch boundaries, a
//! second PEER_INDEX_TABLE mid-file) and batch sizes small enough that
//! nearly every boundary is speculated.
//!
//! The reference is the sequential cutter: iterating `Source::batches`
//! (the same memory, cut in order on one thread), and for snapshots the
//! same bytes behind a compressor (cut in order on the decompressing
//! thread).
//!
//! Tests that need `../shared/corpus` skip with a message when it is absent.

mod common;

use common::Rng;
use mrtsnap::dump::bgpdump::BgpdumpWriter;
use mrtsnap::pipeline::{for_each_record, map_ordered};
use mrtsnap::snapshot::{Snapshot, SnapshotOptions};
use mrtsnap::source::Batch;
use mrtsnap::synth::{write_rib, write_updates, RibOptions, UpdatesOptions};
use mrtsnap::Report;
use mrtsnap::Source;
use std::io::Write;

/// One framed record: index, offset, type, subtype, body length, slack length.
type Rec = (u64, u64, u16, u16, usize, usize);
/// One error: offset, record index, message.
type Err = (u64, Option<u64>, String);

/// Everything a walk over the batches produces, in input order.
#[derive(Debug, Default, PartialEq)]
struct Out {
    records: Vec<Rec>,
    framing_errors: Vec<Err>,
    /// The report of `for_each_record` (counts, warnings, first errors).
    report: String,
    bgpdump: Vec<u8>,
    jsonl: Vec<u8>,
}

impl Out {
    fn extend(&mut self, (o, rep): (Out, Report), report: &mut Report) {
        self.records.extend(o.records);
        self.framing_errors.extend(o.framing_errors);
        self.bgpdump.extend(o.bgpdump);
        self.jsonl.extend(o.jsonl);
        report.merge(rep);
    }
}

fn describe(r: &Report) -> String {
    let errs: Vec<Err> = r.first_errors.iter().map(|e| (e.offset(), e.record(), e.to_string())).collect();
    format!("{:?} {:?} {:?} {} {:?}", r.records, r.errors, r.warnings, r.end_of_input, errs)
}

fn err(e: &mrtsnap::Error) -> Err {
    (e.offset(), e.record(), e.to_string())
}

/// What one batch gives.
fn per_batch(b: &Batch) -> (Out, Report) {
    let mut o = Out::default();
    for r in b.records() {
        match r {
            Ok(raw) => o.records.push((
                raw.index,
                raw.offset,
                raw.header.mrt_type,
                raw.header.subtype,
                raw.body.len(),
                raw.slack.len(),
            )),
            Err(e) => o.framing_errors.push(err(&e)),
        }
    }
    if let Some(e) = &b.error {
        o.framing_errors.push(err(e));
    }
    let mut rep = Report::default();
    let mut w = BgpdumpWriter::new();
    let (mut text, mut json) = (Vec::new(), Vec::new());
    let _ = for_each_record(b, &mut rep, false, |raw, rec, peers| {
        w.write_record(raw, rec, peers, &mut text);
        mrtsnap::dump::jsonl::write_record(raw, rec, peers, &mut json);
    });
    o.bgpdump = text;
    o.jsonl = json;
    (o, rep)
}

/// In order, on this thread.
fn sequential(src: &Source, batch: usize) -> Out {
    let (mut out, mut report) = (Out::default(), Report::default());
    for b in src.batches(batch) {
        out.extend(per_batch(&b), &mut report);
    }
    out.report = describe(&report);
    out
}

/// Through `map_ordered` on a pool of `threads` threads (the calling thread
/// one of them), or on the global pool from outside it (`threads == 0`).
fn speculative(src: &Source, batch: usize, threads: usize) -> Out {
    let (mut out, mut report) = (Out::default(), Report::default());
    let mut run = || {
        map_ordered(src.batches(batch), 4, per_batch, |o| {
            out.extend(o, &mut report);
            Ok(())
        })
    };
    if threads == 0 {
        run().expect("not strict");
    } else {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        pool.install(run).expect("not strict");
    }
    out.report = describe(&report);
    out
}

/// Check speculative against sequential cutting of `data` for several
/// batch sizes and thread counts.
fn check(name: &str, data: &[u8], batches: &[usize]) {
    let src = Source::from_bytes(name, data.to_vec());
    assert!(src.is_in_memory(), "{name}: compressed?");
    let want = sequential(&src, 1 << 30);
    for &bs in batches {
        assert!(
            sequential(&src, bs) == want,
            "{name}: sequential batches of {bs} differ from one batch"
        );
        for threads in [1, 3, 0] {
            let got = speculative(&src, bs, threads);
            if got != want {
                let first = got.records.iter().zip(&want.records).position(|(a, b)| a != b);
                panic!(
                    "{name}, batch {bs}, {threads} threads: records {} vs {} (first difference at {first:?}), \
                     framing errors {:?} vs {:?}, reports equal: {}, bgpdump equal: {}, jsonl equal: {}",
                    got.records.len(),
                    want.records.len(),
                    got.framing_errors,
                    want.framing_errors,
                    got.report == want.report,
                    got.bgpdump == want.bgpdump,
                    got.jsonl == want.jsonl
                );
            }
        }
    }
}

fn rib(seed: u64) -> Vec<u8> {
    let opts = RibOptions {
        seed,
        ..RibOptions::small()
    };
    let mut v = Vec::new();
    write_rib(&opts, &mut v).expect("synth rib");
    v
}

fn updates() -> Vec<u8> {
    let mut v = Vec::new();
    write_updates(&UpdatesOptions::small(), &mut v).expect("synth updates");
    v
}

/// Offsets of the records of a clean input.
fn boundaries(data: &[u8]) -> Vec<usize> {
    mrtsnap::mrt::Records::from_bytes(data)
        .map(|r| r.expect("clean input").offset as usize)
        .collect()
}

const SMALL: &[usize] = &[1024, 1500, 4096, 1 << 16];

#[test]
fn clean_tables_and_updates() {
    check("rib", &rib(1), SMALL);
    check("updates", &updates(), SMALL);
}

#[test]
fn cut_tables() {
    let data = rib(2);
    let mut rng = Rng(7);
    for _ in 0..6 {
        let cut = rng.below(data.len());
        check(&format!("rib cut at {cut}"), &data[..cut], &[1024, 4096]);
    }
    let data = updates();
    for _ in 0..4 {
        let cut = rng.below(data.len());
        check(&format!("updates cut at {cut}"), &data[..cut], &[1024, 4096]);
    }
}

#[test]
fn bit_flips() {
    for (name, clean) in [("rib", rib(3)), ("updates", updates())] {
        let mut rng = Rng(11);
        for round in 0..4 {
            let mut data = clean.clone();
            for _ in 0..(1 + round * 8) {
                let at = rng.below(data.len());
                data[at] ^= 1 << rng.below(8);
            }
            check(&format!("{name} flipped, round {round}"), &data, &[1024, 4096]);
        }
    }
}

/// Garbage inserted right at, just before and just after the offsets where
/// speculative jobs start (multiples of the batch size), and inside the
/// header of the record there.
#[test]
fn garbage_at_batch_boundaries() {
    for (name, clean) in [("rib", rib(4)), ("updates", updates())] {
        for bs in [1024usize, 4096] {
            for shift in [0usize, 1, 5, 11, 12, 13] {
                let mut data = Vec::with_capacity(clean.len() + 4096);
                let mut last = 0;
                let mut k = 1;
                while k * bs < clean.len() && k < 40 {
                    let at = (k * bs + shift).min(clean.len());
                    data.extend_from_slice(&clean[last..at]);
                    data.extend_from_slice(&[0xff, 0, 0, 0, 0, 13, 0, 2, 0, 0, 0, 40, 0xaa][..(k % 13) + 1]);
                    last = at;
                    k += 3;
                }
                data.extend_from_slice(&clean[last..]);
                check(&format!("{name} garbage at {bs}k+{shift}"), &data, &[bs]);
            }
        }
    }
    // Stray bytes and torn headers between records, at record boundaries.
    let clean = rib(5);
    let cuts = boundaries(&clean);
    let mut data = Vec::new();
    let mut last = 0;
    for (i, &at) in cuts.iter().enumerate().skip(1).step_by(7) {
        data.extend_from_slice(&clean[last..at]);
        if i % 2 == 0 {
            data.extend_from_slice(&clean[at..at + 7]);
        } else {
            data.extend_from_slice(&[0; 4]);
        }
        last = at;
    }
    data.extend_from_slice(&clean[last..]);
    check("rib, stray bytes between records", &data, SMALL);
}

/// A second PEER_INDEX_TABLE (another table's) in the middle of a RIB: the
/// records after it are decoded against it.
#[test]
fn second_peer_index_table() {
    let first = rib(6);
    let other = rib(8);
    let pit_len = boundaries(&other)[1];
    let cuts = boundaries(&first);
    for at in [cuts[cuts.len() / 3], cuts[cuts.len() / 2], cuts[cuts.len() - 2]] {
        let mut data = first[..at].to_vec();
        data.extend_from_slice(&other[..pit_len]);
        data.extend_from_slice(&first[at..]);
        check(&format!("rib with a second table at {at}"), &data, &[1024, 4096, 1 << 16]);
    }
}

/// A record longer than several batches: the guesses inside it find no
/// boundary, or a false one inside its body.
#[test]
fn records_longer_than_a_batch() {
    let clean = rib(9);
    let cuts = boundaries(&clean);
    let at = cuts[cuts.len() / 2];
    // A record of an unknown but plausible type whose body holds copies of
    // real records (plausible header chains inside a body).
    let mut body = Vec::new();
    while body.len() < 20_000 {
        body.extend_from_slice(&clean[cuts[5]..cuts[40]]);
    }
    let ts = u32::from_be_bytes([clean[at], clean[at + 1], clean[at + 2], clean[at + 3]]);
    let mut data = clean[..at].to_vec();
    data.extend(mrtsnap::testkit::mrt(ts, 13, 3, &body));
    data.extend_from_slice(&clean[at..]);
    check("rib with a long record", &data, &[1024, 4096]);
}

#[test]
fn corpus_files() {
    let dir = corpus_or_skip!();
    let mut n = 0;
    for row in common::manifest(&dir) {
        let data = common::read_corpus_file(&dir, &row.path);
        // Keep the test quick: the largest file is checked on a prefix.
        let data = &data[..data.len().min(4 << 20)];
        let batches: &[usize] = if data.len() > (1 << 20) { &[4096, 1 << 16] } else { &[1024, 4096] };
        check(&row.path, data, batches);
        n += 1;
    }
    assert!(n > 20, "only {n} corpus files");
}

/// Snapshots built speculatively from memory are byte-identical (Parquet,
/// pairs) to those built from the same bytes cut in order (behind gzip).
#[test]
fn snapshot_bytes() {
    let clean = rib(10);
    let mut flipped = clean.clone();
    let mut rng = Rng(3);
    for _ in 0..20 {
        let at = rng.below(flipped.len());
        flipped[at] ^= 0x10;
    }
    for (name, data) in [("clean", clean), ("flipped", flipped)] {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).expect("gzip");
        let gz = Source::from_bytes("rib", gz.finish().expect("gzip"));
        let mem = Source::from_bytes("rib", data);
        for bs in [1024usize, 1 << 16] {
            let build = |src: &Source, threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
                let opts = SnapshotOptions {
                    batch_size: bs,
                    ..Default::default()
                };
                let s = pool.install(|| Snapshot::build(src, &opts)).expect("build");
                let (mut parquet, mut pairs) = (Vec::new(), Vec::new());
                s.write_parquet(&mut parquet).expect("parquet");
                s.write_pairs(&mut pairs).expect("pairs");
                (parquet, pairs, describe(s.report()))
            };
            let want = build(&gz, 1);
            for threads in [1, 2, 4] {
                let got = build(&mem, threads);
                assert!(got.1 == want.1, "{name}, batch {bs}, {threads} threads: pairs differ");
                assert!(got.2 == want.2, "{name}, batch {bs}, {threads} threads: reports differ");
                assert!(got.0 == want.0, "{name}, batch {bs}, {threads} threads: parquet differs");
            }
        }
    }
}

/// How many batches of `$MRTSNAP_SPEC_FILE` (an uncompressed MRT file) a
/// wrong guess makes cut again, at the default batch size. Run with
/// `cargo test --release --test speculation -- --ignored --nocapture`.
#[test]
#[ignore = "needs MRTSNAP_SPEC_FILE"]
fn redone_on_a_file() {
    let Some(path) = std::env::var_os("MRTSNAP_SPEC_FILE") else {
        eprintln!("SKIPPED: set MRTSNAP_SPEC_FILE");
        return;
    };
    // SAFETY: a file the person running the test names, not modified while
    // the test runs.
    let src = unsafe { Source::open_mmap(&path) }.expect("open");
    let Ok(mut spec) = src.batches(mrtsnap::source::DEFAULT_BATCH_SIZE).speculation() else {
        panic!("not an uncompressed file")
    };
    let (mut batches, mut records) = (0, 0u64);
    for k in 0..spec.count() {
        let cut = spec.job(k)();
        if let Some(b) = spec.accept(k, cut) {
            batches += 1;
            records = b.first_record;
        }
    }
    eprintln!(
        "{}: {batches} batches, {} redone, last batch from record {records}",
        path.to_string_lossy(),
        spec.redone()
    );
}
