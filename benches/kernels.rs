//! Every SIMD kernel against its scalar twin: group `kernels/<op>`,
//! `BenchmarkId::new(backend, size)`, `Throughput::Bytes` of input, on
//! buffers from L1 to memory size; the batched attribute pass against the
//! general parser and the decimal writer against `itoa` (both scalar: their
//! SIMD forms measured slower and were dropped, see `src/simd/mod.rs`). Each kernel is called the way the
//! pipeline calls it (per RIB record, per prefix, per row, per number), so
//! the figures include the call and dispatch overhead that decides whether
//! a kernel pays. Every benchmark checks its answer against the scalar twin
//! once before timing.
//!
//! `MRTSNAP_BENCH_SIZES` (comma-separated byte counts) replaces the default
//! sizes (32 KiB, 1 MiB, 16 MiB, 128 MiB).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mrtsnap::mrt::{Record, Records};
use mrtsnap::simd::{self, Backend};
use mrtsnap::synth::{write_rib, RibOptions};
use std::hint::black_box;
use std::time::Duration;

fn sizes() -> Vec<usize> {
    match std::env::var("MRTSNAP_BENCH_SIZES") {
        Ok(s) => s.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
        Err(_) => vec![32 << 10, 1 << 20, 16 << 20, 128 << 20],
    }
}

fn label(n: usize) -> String {
    if n >= 1 << 20 {
        format!("{}MiB", n >> 20)
    } else {
        format!("{}KiB", n >> 10)
    }
}

#[path = "../tests/common/mod.rs"]
mod common;
use common::Rng;

fn group<'a>(c: &'a mut Criterion, name: &str) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(format!("kernels/{name}"));
    g.warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(15);
    g
}

/// The entries of the RIB records of a generated table: the record entry
/// bytes laid end to end, and per record its range and located entries.
struct Ribs {
    buf: Vec<u8>,
    records: Vec<(usize, usize, usize, usize)>,
    starts: Vec<u32>,
    ends: Vec<u32>,
}

fn ribs(bytes: usize) -> Ribs {
    // About 62 bytes of entries per RIB entry in the default shape.
    let mut o = RibOptions::default().scale((bytes as f64 / 1.4e9).max(0.0001));
    o.seed = 3;
    let mut file = Vec::new();
    write_rib(&o, &mut file).expect("generate");
    let mut r = Ribs {
        buf: Vec::new(),
        records: Vec::new(),
        starts: Vec::new(),
        ends: Vec::new(),
    };
    for raw in Records::from_bytes(&file).flatten() {
        let Ok(Record::Rib(rib)) = Record::decode(&raw) else { continue };
        let (data, _) = rib.raw_entries();
        let base = r.buf.len();
        let first = r.starts.len();
        let mut pos = 0usize;
        for e in rib.entries().flatten() {
            let head = if e.path_id.is_some() { 12 } else { 8 };
            let s = pos + head;
            pos = s + e.attrs.len();
            r.starts.push(s as u32);
            r.ends.push(pos as u32);
        }
        r.buf.extend_from_slice(data);
        r.records.push((base, base + data.len(), first, r.starts.len()));
        if r.buf.len() >= bytes {
            break;
        }
    }
    r
}

fn run_origins(r: &Ribs, asns: &mut [u32], ok: &mut [u8]) -> u64 {
    let mut h = 0u64;
    for &(s, e, i, j) in &r.records {
        let (a, k) = (&mut asns[i..j], &mut ok[i..j]);
        simd::attr_origins(&r.buf[s..e], &r.starts[i..j], &r.ends[i..j], a, k);
        h = a
            .iter()
            .zip(k.iter())
            .fold(h, |h, (&x, &y)| h.wrapping_mul(31).wrapping_add(u64::from(x) << 1 | u64::from(y)));
    }
    h
}

/// The same origins through the general attribute parser (what the
/// snapshot did before the batched pass): `Attrs::parse`, then the path.
fn run_attrs_parse(r: &Ribs) -> u64 {
    use mrtsnap::bgp::attr::AttrContext;
    let mut h = 0u64;
    for &(s, _, i, j) in &r.records {
        for (&a, &b) in r.starts[i..j].iter().zip(&r.ends[i..j]) {
            let block = &r.buf[s + a as usize..s + b as usize];
            let o = mrtsnap::bgp::Attrs::parse(block, 0, AttrContext { asn_len: 4, rib_afi: None })
                .ok()
                .and_then(|x| x.as_path)
                .and_then(|p| match p.origin() {
                    mrtsnap::bgp::OriginRef::Asn(a) => Some(a),
                    _ => None,
                });
            h = h.wrapping_mul(31).wrapping_add(u64::from(o.unwrap_or(0)));
        }
    }
    h
}

/// The batched per-record pass (scalar on every backend: its gather forms
/// were slower and dropped) against the general attribute parser.
fn attr_origins(c: &mut Criterion) {
    let mut g = group(c, "attr_origins");
    for size in sizes() {
        let r = ribs(size);
        let n = r.starts.len();
        let (mut asns, mut ok) = (vec![0u32; n], vec![0u8; n]);
        run_origins(&r, &mut asns, &mut ok);
        let decided = ok.iter().filter(|&&k| k == 1).count();
        assert!(decided * 100 > n * 95, "{decided} of {n} decided");
        // Check: where the pass decides, the general parser agrees.
        let mut again = 0usize;
        for &(s, _, i, j) in &r.records {
            for k in i..j {
                let block = &r.buf[s + r.starts[k] as usize..s + r.ends[k] as usize];
                if ok[k] == 1 {
                    let p = mrtsnap::bgp::Attrs::parse(block, 0, mrtsnap::bgp::attr::AttrContext { asn_len: 4, rib_afi: None })
                        .expect("parses");
                    let o = p.as_path.map(|p| p.origin());
                    assert!(matches!(o, Some(mrtsnap::bgp::OriginRef::Asn(a)) if a == asns[k]));
                    again += 1;
                }
            }
        }
        assert_eq!(again, decided);
        g.throughput(Throughput::Bytes(r.buf.len() as u64));
        g.bench_function(BenchmarkId::new("batched", label(size)), |bench| {
            bench.iter(|| run_origins(black_box(&r), &mut asns, &mut ok))
        });
        g.bench_function(BenchmarkId::new("attrs_parse", label(size)), |bench| {
            bench.iter(|| run_attrs_parse(black_box(&r)))
        });
    }
    g.finish();
}

/// Chunk length of the per-prefix kernels: about the entries of a prefix in
/// a route-views2-like table.
const PER_PREFIX: usize = 24;

fn all_equal(c: &mut Criterion) {
    let mut g = group(c, "all_equal_u64");
    for size in sizes() {
        let mut rng = Rng(1);
        let mut x: Vec<u64> = Vec::with_capacity(size / 8);
        for k in 0..size / 8 / PER_PREFIX {
            let v = rng.next_u64();
            x.extend(std::iter::repeat_n(v, PER_PREFIX));
            if k % 50 == 0 {
                if let Some(l) = x.last_mut() {
                    *l ^= 1;
                }
            }
        }
        let run = |b: Backend, x: &[u64]| x.chunks(PER_PREFIX).filter(|c| simd::all_equal_u64_with(b, c)).count();
        let want = run(Backend::Scalar, &x);
        g.throughput(Throughput::Bytes((x.len() * 8) as u64));
        for b in Backend::available() {
            assert_eq!(run(b, &x), want, "{b}");
            g.bench_function(BenchmarkId::new(b.name(), label(size)), |bench| {
                bench.iter(|| run(b, black_box(&x)))
            });
        }
    }
    g.finish();
}

fn strictly_increasing(c: &mut Criterion) {
    let mut g = group(c, "strictly_increasing_u32");
    for size in sizes() {
        let x: Vec<u32> = (0..(size / 4) as u32)
            .map(|i| (i % PER_PREFIX as u32) * 3 + u32::from(i % 997 == 5))
            .collect();
        let run = |b: Backend, x: &[u32]| x.chunks(PER_PREFIX).filter(|c| simd::strictly_increasing_u32_with(b, c)).count();
        let want = run(Backend::Scalar, &x);
        g.throughput(Throughput::Bytes((x.len() * 4) as u64));
        for b in Backend::available() {
            assert_eq!(run(b, &x), want, "{b}");
            g.bench_function(BenchmarkId::new(b.name(), label(size)), |bench| {
                bench.iter(|| run(b, black_box(&x)))
            });
        }
    }
    g.finish();
}

fn count_in_bitmap(c: &mut Criterion) {
    let mut g = group(c, "count_in_bitmap");
    let bits = [0x5555_aaaa_0f0f_f0f0u64];
    for size in sizes() {
        let mut rng = Rng(2);
        let ids: Vec<u32> = (0..size / 4).map(|_| (rng.next_u64() % 70) as u32).collect();
        let run = |b: Backend, ids: &[u32]| {
            ids.chunks(PER_PREFIX)
                .map(|c| simd::count_in_bitmap_with(b, c, &bits))
                .sum::<usize>()
        };
        let want = ids.iter().filter(|&&i| i < 64 && bits[0] >> i & 1 == 1).count();
        assert_eq!(run(Backend::Scalar, &ids), want);
        g.throughput(Throughput::Bytes((ids.len() * 4) as u64));
        for b in Backend::available() {
            assert_eq!(run(b, &ids), want, "{b}");
            g.bench_function(BenchmarkId::new(b.name(), label(size)), |bench| {
                bench.iter(|| run(b, black_box(&ids)))
            });
        }
    }
    g.finish();
}

/// The dump's decimal writer (`fmt::write_u32`, scalar: its SSE2 form was
/// slower and dropped) against `itoa` with a variable-length append.
fn write_u32(c: &mut Criterion) {
    let mut g = group(c, "write_u32");
    for size in sizes() {
        // ASN-like values: mostly 4 and 5 digits, some 6 to 10 (4-byte ASNs).
        let mut rng = Rng(3);
        let values: Vec<u32> = (0..size / 4)
            .map(|_| match rng.next_u64() % 8 {
                0 => (rng.next_u64() % 4_000_000_000) as u32,
                1 => 196_608 + (rng.next_u64() % 200_000) as u32,
                _ => 1 + (rng.next_u64() % 65_000) as u32,
            })
            .collect();
        let want: String = values.iter().map(|v| format!("{v} ")).collect();
        let mut out = Vec::with_capacity(want.len() + 16);
        let run = |out: &mut Vec<u8>| {
            out.clear();
            for &v in &values {
                mrtsnap::fmt::write_u32(out, v);
                out.push(b' ');
            }
            out.len()
        };
        let itoa_run = |out: &mut Vec<u8>| {
            out.clear();
            for &v in &values {
                out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
                out.push(b' ');
            }
            out.len()
        };
        g.throughput(Throughput::Bytes(want.len() as u64));
        run(&mut out);
        assert_eq!(out, want.as_bytes());
        g.bench_function(BenchmarkId::new("fmt", label(size)), |bench| bench.iter(|| run(&mut out)));
        itoa_run(&mut out);
        assert_eq!(out, want.as_bytes());
        g.bench_function(BenchmarkId::new("itoa", label(size)), |bench| bench.iter(|| itoa_run(&mut out)));
    }
    g.finish();
}

criterion_group!(kernels, attr_origins, all_equal, strictly_increasing, count_in_bitmap, write_u32);
criterion_main!(kernels);
