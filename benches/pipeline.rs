//! File to snapshot, the whole pipeline, at 1..N threads: a generated
//! default-shaped table written once to a temporary file, read uncompressed
//! through a memory map and compressed (gzip) through the decompressing
//! reader. Group `pipeline/<input>`, `BenchmarkId::new(simd, threads)`,
//! `Throughput::Bytes` of uncompressed input. Every benchmark checks its
//! answer (row and RIB-entry counts against the generator's truth) once
//! before timing.
//!
//! - `MRTSNAP_BENCH_SCALE`: scale of the generated table (default 0.01 of
//!   the 1.23M-prefix default: about 17 MB, 280k RIB entries).
//! - `MRTSNAP_BENCH_FILE`: a real RIB dump to use instead (uncompressed or
//!   compressed, recognised by its bytes; its counts are checked against
//!   the first run).
//! - `MRTSNAP_BENCH_THREADS`: largest thread count (default: all cores).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mrtsnap::simd::Backend;
use mrtsnap::snapshot::{Snapshot, SnapshotOptions};
use mrtsnap::synth::{Compression, RibOptions};
use mrtsnap::Source;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One input: name, path, uncompressed size, expected (rows, RIB entries)
/// when known.
type Input = (String, PathBuf, u64, Option<(usize, u64)>);

fn inputs(dir: &Path) -> Vec<Input> {
    if let Some(f) = std::env::var_os("MRTSNAP_BENCH_FILE") {
        let p = PathBuf::from(f);
        let src = Source::open(&p).expect("open MRTSNAP_BENCH_FILE");
        let size = src.batches(4 << 20).map(|b| b.data.len() as u64).sum();
        return vec![("file".into(), p, size, None)];
    }
    let scale = std::env::var("MRTSNAP_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.01);
    let mut o = RibOptions::default().scale(scale);
    o.seed = 7;
    let mut out = Vec::new();
    for (name, comp) in [("plain_mmap", Compression::None), ("gzip", Compression::Gzip)] {
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
