//! One-shot decode timings for a .gz/.zst file (best of N runs, wall):
//! `cargo run --release --example gzbench -- FILE [RUNS]`. Used for the
//! "gzip and zstd" table in BENCHMARKS.md (on a multi-member file the
//! libdeflate line decodes the first member only); the criterion benches in
//! `benches/decompress.rs` cover the same decoders on a generated input.
//! `GZBENCH_ONLY=open` times only `Source::open` and `Source::open_mmap`
//! (the file cut into batches).

use mrtsnap::decompress::{self, Decode, Options};
use mrtsnap::{Compression, Source};
use std::io::Read;
use std::time::Instant;

fn best<F: FnMut() -> usize>(name: &str, runs: usize, input: usize, mut f: F) {
    let mut times = Vec::new();
    let mut n = 0;
    for _ in 0..runs {
        let t = Instant::now();
        n = f();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let t = times[0];
    println!(
        "{name:40} {:8.1} ms (median {:8.1})  {:6.3} GB/s of output  ({n} bytes, input {input})",
        t * 1e3,
        times[times.len() / 2] * 1e3,
        n as f64 / t / 1e9
    );
}

fn drain(mut d: Box<dyn Decode + '_>) -> usize {
    let mut n = 0;
    while let Some(c) = d.next_chunk() {
        n += c.expect("decode").len();
    }
    n
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = &args[1];
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let data = std::fs::read(path).expect("read");
    let comp = Compression::detect(&data);
    let len = data.len();
    // One decoder alone (for instruction counts under callgrind).
    match std::env::var("GZBENCH_ONLY").as_deref() {
        Ok("libdeflate") => {
            let isize = u32::from_le_bytes(data[len - 4..].try_into().unwrap()) as usize;
            let mut out = vec![0u8; isize];
            best("libdeflate whole member", runs, len, || {
                libdeflater::Decompressor::new()
                    .gzip_decompress(&data, &mut out)
                    .expect("libdeflate")
            });
            return;
        }
        Ok("open") => {
            for t in [1usize, 2] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap();
                open_lines(&pool, t, path, runs, len);
            }
            return;
        }
        Ok("inflate") => {
            let mut inf = decompress::inflate::Inflater::new(0);
            best("mrtsnap Inflater alone", runs, len, || inflate_all(&mut inf, &data));
            return;
        }
        _ => {}
    }
    if comp == Compression::Gzip {
        best("flate2+zlib-rs MultiGzDecoder, 1 MiB reads", runs, len, || {
            let mut d = flate2::bufread::MultiGzDecoder::new(&data[..]);
            let mut buf = vec![0u8; 1 << 20];
            let mut n = 0;
            loop {
                let k = d.read(&mut buf).expect("gz");
                if k == 0 {
                    break n;
                }
                n += k;
            }
        });
        let isize = u32::from_le_bytes(data[len - 4..].try_into().unwrap()) as usize;
        pieces(&data, isize);
        let start = decompress::gzip::deflate_start(&data, 0).expect("header");
        let mut inf = decompress::inflate::Inflater::new(start);
        best("mrtsnap Inflater alone (pieces, no CRC)", runs, len, || {
            inflate_all(&mut inf, &data)
        });
        best("mrtsnap Inflater, 16-bit symbols (marker mode)", runs, len, || {
            inf.reset(start);
            inf.decode_markers(&data, usize::MAX, 0).expect("inflate");
            inf.markers().len()
        });
        let mut out = vec![0u8; isize];
        let mut dd = libdeflater::Decompressor::new();
        best("libdeflate whole member", runs, len, || {
            dd.gzip_decompress(&data, &mut out).expect("libdeflate")
        });
    }
    for t in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap();
        open_lines(&pool, t, path, runs, len);
        best(&format!("mrtsnap decoder (pool of {t})"), runs, len, || {
            pool.install(|| drain(decompress::decoder(comp, &data[..], Options::default())))
        });
        let bytes = bytes::Bytes::from(data.clone());
        best(&format!("mrtsnap in-memory decoder (pool of {t})"), runs, len, || {
            pool.install(|| drain(decompress::memory_decoder(comp, bytes.clone(), Options::default())))
        });
        if comp == Compression::Gzip {
            best(&format!("mrtsnap gzip in parallel chunks (pool of {t})"), runs, len, || {
                pool.install(|| {
                    let opts = Options::default();
                    let d = decompress::gzip::MemoryGzip::new(bytes.clone(), opts.gzip_member_cap, opts.max_in_flight);
                    drain(Box::new(d.parallel_chunks(true)))
                })
            });
        }
    }
}

/// `Source::open` and `Source::open_mmap` of `path`, cut into batches on
/// `pool` (of `t` threads).
fn open_lines(pool: &rayon::ThreadPool, t: usize, path: &str, runs: usize, len: usize) {
    best(&format!("Source::open, batches (pool of {t})"), runs, len, || {
        pool.install(|| batches(&Source::open(path).expect("open")))
    });
    best(&format!("Source::open_mmap, batches (pool of {t})"), runs, len, || {
        // SAFETY: a benchmark input, not modified while mapped.
        pool.install(|| batches(&unsafe { Source::open_mmap(path) }.expect("open")))
    });
}

/// The decoded bytes of `src` cut into batches as the pipeline reads them.
fn batches(src: &Source) -> usize {
    src.batches(mrtsnap::source::DEFAULT_BATCH_SIZE).map(|b| b.data.len()).sum()
}

/// Decode the first member's deflate data of `data` with `inf` (reset to
/// its start) in pieces, no CRC: the decoded length.
fn inflate_all(inf: &mut decompress::inflate::Inflater, data: &[u8]) -> usize {
    inf.reset(decompress::gzip::deflate_start(data, 0).expect("header"));
    let mut n = 0;
    loop {
        let k = inf.next_piece(data).expect("inflate").len();
        if k == 0 {
            break n;
        }
        n += k;
    }
}

/// Where the time of a whole-member decode goes: the candidate scan, the
/// decode into fresh and into used memory, the CRC32 check.
fn pieces(data: &[u8], isize: usize) {
    let t = Instant::now();
    let c = decompress::gzip::candidates(data);
    println!("  candidate scan: {:?} ({} candidates)", t.elapsed(), c.len());
    let mut out = vec![0u8; isize];
    let t = Instant::now();
    let n = libdeflater::Decompressor::new().gzip_decompress(data, &mut out);
    println!("  libdeflate into fresh memory: {:?} ({n:?})", t.elapsed());
    let t = Instant::now();
    let crc = libdeflater::crc32(&out);
    println!("  crc32: {:?} ({crc:08x})", t.elapsed());
    let opts = Options::default();
    let mut d = decompress::gzip::MemoryGzip::new(bytes::Bytes::copy_from_slice(data), opts.gzip_member_cap, opts.max_in_flight);
    while let Some(c) = d.next_chunk() {
        c.expect("decode");
    }
    println!("  members (decoded whole, streamed): {:?}", d.members());
}
