//! File to snapshot, the whole pipeline, at 1..N threads. Real files lead
//! (from the shared corpus, `MRTSNAP_CORPUS` or `../shared/corpus`; left
//! out with a message when absent): the route-views.jinx 2014 RIB (about
//! one entry per prefix, 14 peers) plain through a memory map and as its
//! bzip2 file, and the route-views2 2014 and route-views6 2015 full-feed
//! tables cut at their first MB (trimmed to their last whole record). Then
//! generated tables: the `jinx` preset, calibrated by decode cost against
//! the real jinx RIB (`benches/calibrate.sh`), and a default-shaped table
//! plain and gzip. Group `pipeline/<input>`, `BenchmarkId::new(simd,
//! threads)`, `Throughput::Bytes` of uncompressed input. Every benchmark
//! checks its answer (rows and RIB entries: pinned for the real files,
//! the generator's truth for generated ones) once before timing.
//!
//! - `MRTSNAP_BENCH_SCALE`: scale of the default-shaped table (default
//!   0.01 of the 1.23M-prefix default: about 17 MB, 280k RIB entries).
//! - `MRTSNAP_BENCH_FILE`: a RIB dump to use instead of all of these
//!   (uncompressed or compressed, recognised by its bytes; its counts are
//!   checked against the first run).
//! - `MRTSNAP_BENCH_THREADS`: largest thread count (default: all cores).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mrtsnap::mrt::Records;
use mrtsnap::simd::Backend;
use mrtsnap::snapshot::{Snapshot, SnapshotOptions};
use mrtsnap::synth::{Compression, RibOptions};
use mrtsnap::Source;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One input: name, path, uncompressed size, expected (rows, RIB entries)
/// when known.
type Input = (String, PathBuf, u64, Option<(usize, u64)>);

/// The real files: corpus path, name, whether to keep it compressed, and
/// its (rows, RIB entries).
const REAL: &[(&str, &str, bool, (usize, u64))] = &[
    (
        "CAIDA+libbgpstream/test-dumps/routeviews.route-views.jinx.ribs.1401487200.bz2",
        "real_jinx",
        false,
        (497_413, 503_590),
    ),
    (
        "CAIDA+libbgpstream/test-dumps/routeviews.route-views.jinx.ribs.1401487200.bz2",
        "real_jinx_bz2",
        true,
        (497_413, 503_590),
    ),
    (
        "hadiasghari+pyasn/data/rib.20140523.0600_firstMB.bz2",
        "real_rv2_2014_first_mb",
        false,
        (0, 269_914),
    ),
    (
        "hadiasghari+pyasn/data/rib6.20151101.0600_firstMB.bz2",
        "real_rv6_2015_first_mb",
        false,
        (0, 149_561),
    ),
];

/// The decompressed bytes of `path`, up to the end of its last whole
/// record (the firstMB files stop inside one).
fn whole_records(path: &Path) -> Vec<u8> {
    let src = Source::open(path).expect("open corpus file");
    let mut data = Vec::new();
    for b in src.batches(4 << 20) {
        data.extend_from_slice(&b.data);
    }
    let end = Records::from_bytes(&data)
        .filter_map(Result::ok)
        .map(|r| (r.body_offset + r.body.len() as u64) as usize)
        .last()
        .unwrap_or(0);
    data.truncate(end);
    data
}

fn real_inputs(dir: &Path) -> Vec<Input> {
    let corpus = std::env::var_os("MRTSNAP_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let mut out = Vec::new();
    for &(rel, name, compressed, (rows, entries)) in REAL {
        let file = corpus.join(rel);
        if !file.is_file() {
            eprintln!("pipeline bench: {} not found: {name} left out", file.display());
            continue;
        }
        let data = whole_records(&file);
        let size = data.len() as u64;
        let p = if compressed {
            file
        } else {
            let p = dir.join(format!("{name}.mrt"));
            std::fs::write(&p, &data).expect("write plain copy");
            p
        };
        // Rows of the full-feed cuts are checked against the first run.
        out.push((name.to_string(), p, size, (rows > 0).then_some((rows, entries))));
    }
    out
}

fn inputs(dir: &Path) -> Vec<Input> {
    if let Some(f) = std::env::var_os("MRTSNAP_BENCH_FILE") {
        let p = PathBuf::from(f);
        let src = Source::open(&p).expect("open MRTSNAP_BENCH_FILE");
        let size = src.batches(4 << 20).map(|b| b.data.len() as u64).sum();
        return vec![("file".into(), p, size, None)];
    }
    let mut out = real_inputs(dir);
    let p = dir.join("gen_jinx.mrt");
    let s = RibOptions::jinx_like().write_to(&p, Compression::None).expect("generate");
    out.push(("gen_jinx".to_string(), p, s.bytes, Some((s.truth.len(), s.entries))));
    let scale = std::env::var("MRTSNAP_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.01);
    let mut o = RibOptions::default().scale(scale);
    o.seed = 7;
    for (name, comp) in [
        ("gen_default_plain_mmap", Compression::None),
        ("gen_default_gzip", Compression::Gzip),
    ] {
        let p = dir.join(format!("bench.mrt{}", if comp == Compression::None { "" } else { ".gz" }));
        let s = o.write_to(&p, comp).expect("generate");
        out.push((name.to_string(), p, s.bytes, Some((s.truth.len(), s.entries))));
    }
    out
}

fn open(p: &Path) -> Source {
    // SAFETY: the benchmark's own temporary file (or the file named by
    // MRTSNAP_BENCH_FILE), not modified while mapped.
    unsafe { Source::open_mmap(p) }.expect("open")
}

fn build(p: &Path, simd: Backend) -> Snapshot {
    let opts = SnapshotOptions {
        simd: Some(simd),
        ..Default::default()
    };
    Snapshot::build(&open(p), &opts).expect("build")
}

fn pipeline(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let max_threads = std::env::var("MRTSNAP_BENCH_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut threads: Vec<usize> = vec![1];
    while threads.last().is_some_and(|&t| t * 2 <= max_threads) {
        threads.push(threads.last().map_or(1, |t| t * 2));
    }
    if threads.last() != Some(&max_threads) {
        threads.push(max_threads);
    }
    for (name, path, size, truth) in inputs(dir.path()) {
        let mut g = c.benchmark_group(format!("pipeline/{name}"));
        g.warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3))
            .sample_size(10);
        g.throughput(Throughput::Bytes(size));
        let reference = build(&path, Backend::Scalar);
        let stats = &reference.sources()[0].stats;
        if let Some((rows, entries)) = truth {
            assert_eq!((reference.len(), stats.rib_entries), (rows, entries), "{name}: rows and entries");
        }
        for &t in &threads {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(t).build().expect("pool");
            let mut backends = vec![Backend::Scalar];
            if Backend::detect() != Backend::Scalar {
                backends.push(Backend::detect());
            }
            for simd in backends {
                if simd == Backend::Scalar && t > 1 && t != max_threads {
                    continue;
                }
                // In the pool, the calling worker verifies cuts and merges
                // chunks, and cuts and decodes while it waits; from a map,
                // cutting itself runs on the pool (`map_ordered`).
                let go = || {
                    let snap = pool.install(|| build(&path, simd));
                    (snap.len(), snap.sources()[0].stats.rib_entries)
                };
                assert_eq!(go(), (reference.len(), stats.rib_entries), "{name} {simd} {t}");
                g.bench_function(BenchmarkId::new(simd.name(), t), |b| b.iter(go));
            }
        }
        g.finish();
    }
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
