//! Decompression benchmarks: the bzip2 block scan, the bzip2 CRC, one bzip2
//! block decoded by this crate's decoder and by libbz2-rs-sys, the parallel
//! bzip2 decoder at 1..N threads (alone, and cut into record batches by
//! `Source::batches` as the CLI reads a file), gzip (zlib-rs streaming vs
//! libdeflate on the whole member, and the in-memory decoder on one member
//! and on 16 members at 1..N threads) and zstd (the streaming reader, and
//! the in-memory decoder on one and on 16 frames at 1..N threads).
//!
//! The input is a synthetic RIB (`synth`, about 16 MB, no network). Each
//! benchmark checks its answer once before timing (length and a hash).
//!
//! Run: `cargo bench --bench decompress` (`-- decompress/block` for one
//! group; `MRTSNAP_BENCH_SCALE=0.05` for a larger input).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mrtsnap::decompress::bzip2::{decode_block_libbz2, BlockDecoder, ParallelDecoder};
use mrtsnap::decompress::{self, block, scan, Decode, Options};
use mrtsnap::synth::{write_rib, RibOptions};
use mrtsnap::{Compression, Source};
use std::hint::black_box;
use std::io::Write;
use std::sync::OnceLock;

struct Inputs {
    plain: Vec<u8>,
    bz2: Vec<u8>,
    gz: Vec<u8>,
    /// 16 gzip members (`cat a.gz b.gz …`).
    gz16: Vec<u8>,
    zst: Vec<u8>,
    /// 16 zstd frames with their content sizes (as pzstd writes).
    zst16: Vec<u8>,
}

fn inputs() -> &'static Inputs {
    static I: OnceLock<Inputs> = OnceLock::new();
    I.get_or_init(|| {
        let scale = std::env::var("MRTSNAP_BENCH_SCALE")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0.01);
        let mut plain = Vec::new();
        write_rib(&RibOptions::default().scale(scale), &mut plain).expect("synth");
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
        e.write_all(&plain).expect("bzip2");
        let bz2 = e.finish().expect("bzip2");
        let mut g = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        g.write_all(&plain).expect("gzip");
        let gz = g.finish().expect("gzip");
        let piece = plain.len().div_ceil(16);
        let mut gz16 = Vec::new();
        let mut zst16 = Vec::new();
        for p in plain.chunks(piece) {
            let mut g = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            g.write_all(p).expect("gzip");
            gz16.extend(g.finish().expect("gzip"));
            zst16.extend(zstd::bulk::compress(p, 3).expect("zstd"));
        }
        let zst = zstd::encode_all(&plain[..], 3).expect("zstd");
        Inputs {
            plain,
            bz2,
            gz,
            gz16,
            zst,
            zst16,
        }
    })
}

fn fnv(data: &[u8]) -> u64 {
    data.iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

fn drain(mut d: Box<dyn Decode + '_>) -> (usize, u64) {
    let mut n = 0;
    let mut h = 0u64;
    while let Some(c) = d.next_chunk() {
        let c = c.expect("decode");
        n += c.len();
        h = h.wrapping_add(c.first().map_or(0, |&b| u64::from(b)));
    }
    (n, h)
}

fn bench_scan(c: &mut Criterion) {
    let inp = inputs();
    let mut found = Vec::new();
    scan::scan(&inp.bz2, 0, &mut found);
    let mut naive = Vec::new();
    scan::scan_naive(&inp.bz2, 0, &mut naive);
    assert_eq!(found, naive);
    let blocks = found.iter().filter(|m| m.kind == scan::MagicKind::Block).count();
    assert!(blocks >= inp.plain.len() / 900_000, "{blocks} blocks");
    let mut g = c.benchmark_group("decompress/scan");
    g.throughput(Throughput::Bytes(inp.bz2.len() as u64));
    g.bench_function("scalar", |b| {
        let mut out = Vec::new();
        b.iter(|| {
            out.clear();
            scan::scan(black_box(&inp.bz2), 0, &mut out);
            assert_eq!(out.len(), found.len());
        })
    });
    g.finish();
}

fn bench_crc(c: &mut Criterion) {
    let inp = inputs();
    let data = &inp.plain[..inp.plain.len().min(1 << 20)];
    let bytewise = data.iter().fold(!0u32, |mut crc, &b| {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
        crc
    });
    assert_eq!(block::crc32(data), !bytewise);
    let mut g = c.benchmark_group("decompress/crc");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("slicing-by-16", |b| b.iter(|| block::crc32(black_box(data))));
    g.finish();
}

fn bench_block(c: &mut Criterion) {
    let inp = inputs();
    let mut m = Vec::new();
    scan::scan(&inp.bz2, 0, &mut m);
    let (start, end) = (m[1].bit, m[2].bit); // the second block (a full one)
    let crc = scan::bits(&inp.bz2, start + 48, 32).expect("crc") as u32;
    let mut native = Vec::new();
    block::decode_block(&inp.bz2, start, end, 900_000, &mut native).expect("native");
    let wrapped = decode_block_libbz2(&inp.bz2, start, end - start, crc).expect("libbz2");
    assert_eq!(fnv(&native), fnv(&wrapped));
    let mut g = c.benchmark_group("decompress/block");
    g.throughput(Throughput::Bytes(native.len() as u64));
    g.bench_function("native", |b| {
        let mut out = Vec::with_capacity(native.len() * 2);
        b.iter(|| {
            out.clear();
            block::decode_block(black_box(&inp.bz2), start, end, 900_000, &mut out).expect("native");
            assert_eq!(out.len(), native.len());
        })
    });
    g.bench_function("libbz2-rs", |b| {
        b.iter(|| {
            let out = decode_block_libbz2(black_box(&inp.bz2), start, end - start, crc).expect("libbz2");
            assert_eq!(out.len(), native.len());
        })
    });
    g.finish();
}

fn bench_bzip2_threads(c: &mut Criterion) {
    let inp = inputs();
    let expect = (inp.plain.len(), {
        let mut d = decompress::decoder(Compression::Bzip2, &inp.bz2[..], Options::default());
        let mut h = 0u64;
        while let Some(c) = d.next_chunk() {
            h = h.wrapping_add(c.expect("decode").first().map_or(0, |&b| u64::from(b)));
        }
        h
    });
    assert_eq!(
        decompress::decompress_all(Compression::Bzip2, &inp.bz2, Options::default())
            .map(|v| fnv(&v))
            .ok(),
        Some(fnv(&inp.plain))
    );
    let mut g = c.benchmark_group("decompress/bzip2");
    g.throughput(Throughput::Bytes(inp.plain.len() as u64));
    g.sample_size(10);
    let max = std::thread::available_parallelism().map_or(2, |n| n.get());
    for backend in [BlockDecoder::Native, BlockDecoder::Libbz2] {
        let mut threads = 1;
        while threads <= max {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
            let name = format!("{backend:?}");
            g.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, &t| {
                b.iter(|| {
                    pool.install(|| {
                        let d = ParallelDecoder::with_backend(&inp.bz2[..], 2 * t, backend);
                        assert_eq!(drain(Box::new(d)), expect);
                    })
                })
            });
            threads *= 2;
        }
    }
    g.finish();
}

/// The CLI's path: decode on the global pool, copy into batches, cut at
/// record boundaries on the producer thread. Counts records to check the
/// answer.
fn bench_bzip2_batches(c: &mut Criterion) {
    let inp = inputs();
    let count = |src: &Source| -> (u64, usize) {
        let (mut records, mut bytes) = (0u64, 0usize);
        for b in src.batches(mrtsnap::source::DEFAULT_BATCH_SIZE) {
            assert!(b.error.is_none());
            records += b.records().count() as u64;
            bytes += b.data.len();
        }
        (records, bytes)
    };
    let expect = count(&Source::from_bytes("plain", inp.plain.clone()));
    assert_eq!(expect.1, inp.plain.len());
    let mut g = c.benchmark_group("decompress/bzip2-batches");
    g.throughput(Throughput::Bytes(inp.plain.len() as u64));
    g.sample_size(10);
    // The producer thread is not a pool worker, so its blocks go to the
    // global pool (as in the CLI, which sizes it with --threads): set
    // RAYON_NUM_THREADS to choose.
    g.bench_function(BenchmarkId::from_parameter(rayon::current_num_threads()), |b| {
        b.iter(|| {
            let src = Source::from_bytes("bz2", inp.bz2.clone());
            assert_eq!(count(&src), expect);
        })
    });
    g.finish();
}

fn bench_gzip(c: &mut Criterion) {
    let inp = inputs();
    let mut g = c.benchmark_group("decompress/gzip");
    g.throughput(Throughput::Bytes(inp.plain.len() as u64));
    g.sample_size(10);
    assert_eq!(
        decompress::decompress_all(Compression::Gzip, &inp.gz, Options::default())
            .map(|v| fnv(&v))
            .ok(),
        Some(fnv(&inp.plain))
    );
    g.bench_function("zlib-rs-streaming", |b| {
        b.iter(|| {
            let d = decompress::decoder(Compression::Gzip, &inp.gz[..], Options::default());
            assert_eq!(drain(d).0, inp.plain.len());
        })
    });
    let start = decompress::gzip::deflate_start(&inp.gz, 0).expect("header");
    let mut inf = decompress::inflate::Inflater::new(start);
    g.bench_function("mrtsnap-inflate-streaming", |b| {
        b.iter(|| {
            inf.reset(start);
            let mut n = 0;
            loop {
                let k = inf.next_piece(black_box(&inp.gz)).expect("inflate").len();
                if k == 0 {
                    break;
                }
                n += k;
            }
            assert_eq!(n, inp.plain.len());
        })
    });
    let mut out = vec![0u8; inp.plain.len()];
    let mut d = libdeflater::Decompressor::new();
    assert_eq!(d.gzip_decompress(&inp.gz, &mut out).ok(), Some(inp.plain.len()));
    assert_eq!(fnv(&out), fnv(&inp.plain));
    g.bench_function("libdeflate-whole-member", |b| {
        b.iter(|| {
            let n = d.gzip_decompress(black_box(&inp.gz), &mut out).expect("libdeflate");
            assert_eq!(n, inp.plain.len());
        })
    });
    g.finish();
}

/// The in-memory decoders (gzip members, zstd frames) at 1..N threads, and
/// the streaming reader of each format for comparison.
fn bench_in_memory_threads(c: &mut Criterion) {
    let inp = inputs();
    let expect = fnv(&inp.plain);
    let mut g = c.benchmark_group("decompress/in-memory");
    g.throughput(Throughput::Bytes(inp.plain.len() as u64));
    g.sample_size(10);
    let max = std::thread::available_parallelism().map_or(2, |n| n.get());
    let cases: [(&str, &Vec<u8>, Compression); 4] = [
        ("gzip-1-member", &inp.gz, Compression::Gzip),
        ("gzip-16-members", &inp.gz16, Compression::Gzip),
        ("zstd-1-frame", &inp.zst, Compression::Zstd),
        ("zstd-16-frames", &inp.zst16, Compression::Zstd),
    ];
    for (name, data, comp) in cases {
        let bytes = bytes::Bytes::from(data.clone());
        assert_eq!(
            decompress::decompress_all_in_memory(comp, data, Options::default())
                .map(|v| fnv(&v))
                .ok(),
            Some(expect),
            "{name}"
        );
        assert_eq!(
            decompress::decompress_all(comp, data, Options::default()).map(|v| fnv(&v)).ok(),
            Some(expect),
            "{name}"
        );
        g.bench_function(BenchmarkId::new(format!("{name}/streaming"), 1), |b| {
            b.iter(|| assert_eq!(drain(decompress::decoder(comp, &data[..], Options::default())).0, inp.plain.len()))
        });
        let mut threads = 1;
        while threads <= max {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
            g.bench_with_input(BenchmarkId::new(format!("{name}/in-memory"), threads), &threads, |b, _| {
                b.iter(|| {
                    pool.install(|| {
                        let d = decompress::memory_decoder(comp, bytes.clone(), Options::default());
                        assert_eq!(drain(d).0, inp.plain.len());
                    })
                })
            });
            if name == "gzip-1-member" && data.len() >= 2 * decompress::member::CHUNK_BYTES {
                // One member in parallel chunks, whatever the pool size
                // (the CLI uses them from three threads up).
                let decoder = || Box::new(decompress::gzip::MemoryGzip::new(bytes.clone(), 0, 4).parallel_chunks(true));
                let all = pool.install(|| decompress::read_to_end(&mut *decoder()).map(|v| fnv(&v)).ok());
                assert_eq!(all, Some(expect), "{name} in chunks");
                g.bench_with_input(BenchmarkId::new(format!("{name}/chunks"), threads), &threads, |b, _| {
                    b.iter(|| assert_eq!(pool.install(|| drain(decoder()).0), inp.plain.len()))
                });
            }
            threads *= 2;
        }
    }
    g.finish();
}

criterion_group!(
    benches,
    bench_scan,
    bench_crc,
    bench_block,
    bench_bzip2_threads,
    bench_bzip2_batches,
    bench_gzip,
    bench_in_memory_threads
);
criterion_main!(benches);
