//! The replay engine ([`mrtsnap::replay`]): how fast updates are applied,
//! and what a snapshot at an instant (RIB + updates → [`Snapshot`]) costs.
//!
//! - `replay/apply/<input>`: [`Replay::apply`] of one updates file from
//!   empty state, the file decompressed into memory once;
//!   `Throughput::Elements` of routes applied (announced and withdrawn
//!   prefixes), so criterion reports updates/s. Inputs: a generated file
//!   (100 000 records from 16 peers, the generator's default) and, from the
//!   shared corpus, the PCH `updates.et-header.2015.gz` (89 686 BGP4MP_ET
//!   records) and the RIS rrc15 `updates.20100227.1600.gz` (6615 records).
//! - `replay/snapshot_at/<input>`: the route-views.jinx RIB of 2014-05-30
//!   22:00 and its updates of 23:45 replayed to the end of the updates, then
//!   [`Replay::snapshot`]; `bz2` reads the files as they are (the CLI's
//!   work), `memory` from their decompressed bytes. `Throughput::Bytes` of
//!   uncompressed input.
//! - `replay/snapshot/jinx`: [`Replay::snapshot`] alone, of that state.
//!
//! Each benchmark is `BenchmarkId::from_parameter(threads)`: on a rayon
//! pool of exactly that many threads, 1 and all cores
//! (`MRTSNAP_BENCH_THREADS` caps it). For one-core figures run under
//! `taskset -c 0` with `MRTSNAP_BENCH_THREADS=1`. Every benchmark checks its
//! answer once before timing: the counts of announcements and withdrawals
//! against the generator's summary or the route iterator's count, and the
//! jinx state's routes and rows against the pinned figures (the same as
//! `tests/replay_bgpdump.rs`'s independent model). The corpus groups are
//! skipped, with a message, when the corpus (`$MRTSNAP_CORPUS`, else
//! `../shared/corpus`) lacks the files.

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mrtsnap::replay::Replay;
use mrtsnap::synth::{write_updates, UpdatesOptions};
use mrtsnap::{RouteKind, Snapshot, Source};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The jinx files and the state at the end of their updates (23:59:42).
const JINX_RIB: &str = "CAIDA+libbgpstream/test-dumps/routeviews.route-views.jinx.ribs.1401487200.bz2";
const JINX_UPDATES: &str = "CAIDA+libbgpstream/test-dumps/routeviews.route-views.jinx.updates.1401493500.bz2";
const JINX_END: u32 = 1_401_494_382;
/// Routes and rows of that state.
const JINX_STATE: (usize, usize) = (503_602, 497_426);

/// The shared corpus, or `None` (after saying so).
fn corpus() -> Option<PathBuf> {
    let dir = common::corpus_dir();
    if dir.is_none() {
        eprintln!("replay: real-file groups skipped");
    }
    dir
}

/// A corpus file, if present (a message otherwise).
fn corpus_file(dir: &Path, rel: &str) -> Option<PathBuf> {
    let p = dir.join(rel);
    if p.is_file() {
        Some(p)
    } else {
        eprintln!("replay: {} is absent: skipped", p.display());
        None
    }
}

/// A file's decompressed bytes, as one in-memory source.
fn in_memory(p: &Path) -> Source {
    let src = Source::open(p).expect("open");
    let mut bytes = Vec::new();
    for b in src.batches(4 << 20) {
        bytes.extend_from_slice(&b.data);
    }
    Source::from_bytes(p.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()), bytes)
}

fn uncompressed_size(src: &Source) -> u64 {
    src.batches(4 << 20).map(|b| b.data.len() as u64).sum()
}

/// The thread counts to run at: 1 and all cores (or `MRTSNAP_BENCH_THREADS`).
fn threads() -> Vec<usize> {
    let max = std::env::var("MRTSNAP_BENCH_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if max > 1 {
        vec![1, max]
    } else {
        vec![1]
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool")
}

/// Announcements and withdrawals after applying `src` from empty state.
fn apply(src: &Source) -> (u64, u64) {
    let mut r = Replay::new();
    r.apply(src).expect("apply");
    (r.report().announcements, r.report().withdrawals)
}

fn apply_group(c: &mut Criterion) {
    let mut inputs: Vec<(String, Source, (u64, u64))> = Vec::new();
    let opts = UpdatesOptions::default();
    let mut bytes = Vec::new();
    let summary = write_updates(&opts, &mut bytes).expect("generate");
    inputs.push((
        "generated".into(),
        Source::from_bytes("generated", bytes),
        (summary.announced, summary.withdrawn),
    ));
    if let Some(dir) = corpus() {
        for (name, rel) in [
            ("pch.et-header.2015", "RIPE-NCC+bgpdump/test_data/updates.et-header.2015.gz"),
            (
                "rrc15.20100227.1600",
                "bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc15/2010.02/updates.20100227.1600.gz",
            ),
        ] {
            let Some(p) = corpus_file(&dir, rel) else { continue };
            let src = in_memory(&p);
            let (mut a, mut w) = (0, 0);
            for r in src.routes().flatten() {
                match r.kind {
                    RouteKind::Announce => a += 1,
                    RouteKind::Withdraw => w += 1,
                    RouteKind::RibEntry => {}
                }
            }
            inputs.push((name.into(), src, (a, w)));
        }
    }
    for (name, src, want) in &inputs {
        let mut g = c.benchmark_group(format!("replay/apply/{name}"));
        g.warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3))
            .sample_size(10);
        g.throughput(Throughput::Elements(want.0 + want.1));
        for t in threads() {
            let pool = pool(t);
            assert_eq!(pool.install(|| apply(src)), *want, "{name}: announcements, withdrawals");
            g.bench_function(BenchmarkId::from_parameter(t), |b| b.iter(|| pool.install(|| apply(src))));
        }
        g.finish();
    }
}

/// The jinx RIB and updates replayed to the end of the updates.
fn replay_jinx(rib: &Source, updates: &Source) -> Replay {
    let mut r = Replay::new();
    r.apply_until(rib, JINX_END).expect("apply the RIB");
    r.apply_until(updates, JINX_END).expect("apply the updates");
    r
}

fn routes_and_rows(r: &Replay, snap: &Snapshot) -> (usize, usize) {
    (r.routes(), snap.len())
}

fn snapshot_group(c: &mut Criterion) {
    let Some(dir) = corpus() else { return };
    let (Some(rib), Some(upd)) = (corpus_file(&dir, JINX_RIB), corpus_file(&dir, JINX_UPDATES)) else {
        return;
    };
    let files = (Source::open(&rib).expect("open"), Source::open(&upd).expect("open"));
    let memory = (in_memory(&rib), in_memory(&upd));
    let size = uncompressed_size(&memory.0) + uncompressed_size(&memory.1);
    for (name, (rib, upd)) in [("bz2", &files), ("memory", &memory)] {
        let mut g = c.benchmark_group(format!("replay/snapshot_at/{name}"));
        g.warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(5))
            .sample_size(10);
        g.throughput(Throughput::Bytes(size));
        for t in threads() {
            let pool = pool(t);
            let go = || {
                pool.install(|| {
                    let r = replay_jinx(rib, upd);
                    let snap = r.snapshot().expect("snapshot");
                    routes_and_rows(&r, &snap)
                })
            };
            assert_eq!(go(), JINX_STATE, "jinx {name}: routes and rows");
            g.bench_function(BenchmarkId::from_parameter(t), |b| b.iter(go));
        }
        g.finish();
    }
    let state = replay_jinx(&memory.0, &memory.1);
    let mut g = c.benchmark_group("replay/snapshot/jinx");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10);
    g.throughput(Throughput::Elements(state.routes() as u64));
    for t in threads() {
        let pool = pool(t);
        let snap = || pool.install(|| state.snapshot().expect("snapshot"));
        assert_eq!(routes_and_rows(&state, &snap()), JINX_STATE);
        g.bench_function(BenchmarkId::from_parameter(t), |b| b.iter(snap));
    }
    g.finish();
}

criterion_group!(benches, apply_group, snapshot_group);
criterion_main!(benches);
