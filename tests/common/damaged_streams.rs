//! The check of the `damaged_streams` fuzz target, shared with
//! `tests/stream_damage.rs` (which replays the inputs of its findings) by
//! `#[path]`.
//!
//! Compressed streams damaged in the middle (issue 11): a payload cut into
//! up to eight units (gzip members, bzip2 streams, zstd frames with their
//! content size and a checksum, xz streams), each written by the reference
//! encoder, then up to three bytes of one unit changed.
//!
//! Input: format (0 gzip, 1 bzip2, 2 zstd, 3 xz), unit count, the damaged
//! unit, flip count, three (position high, position low, xor) triples,
//! then the payload.
//!
//! Checks, besides "no panic, no abort, no unbounded allocation":
//! - every decoding path gives the same bytes and the same errors: the
//!   streaming decoder (a file with `--no-mmap`, standard input), the
//!   in-memory one of a mapped file, and for gzip and zstd the in-memory
//!   ones forced to decode in parallel (members in 1 KiB chunks, frames on
//!   workers) on a pool of three threads;
//! - decoding goes forward: each damaged region resumes past the one
//!   before, inside the input;
//! - the differential oracle: every unit that decodes alone (the
//!   reference decoder on its bytes after the damage) appears in the
//!   output, in order.

use mrtsnap::decompress::gzip::MemoryGzip;
use mrtsnap::decompress::zstd::MemoryZstd;
use mrtsnap::decompress::{self, Decode, Options};
use mrtsnap::Compression;
use std::io::{Read, Write};
use std::sync::OnceLock;

/// Output collected at most; past it only "no panic" is checked.
const CAP: usize = 16 << 20;

/// What a decoder gave: its bytes, its errors (message, where it resumed),
/// and whether the output stayed under [`CAP`].
type Drained = (Vec<u8>, Vec<(String, Option<u64>)>, bool);

fn drain(d: &mut dyn Decode) -> Drained {
    let mut out = Vec::new();
    let mut errs = Vec::new();
    while let Some(c) = d.next_chunk() {
        match c {
            Ok(c) => {
                if out.len() + c.len() > CAP {
                    return (out, errs, false);
                }
                out.extend_from_slice(c);
            }
            Err(e) => errs.push((e.message, e.resumes_at)),
        }
    }
    (out, errs, true)
}

fn pool() -> &'static rayon::ThreadPool {
    static P: OnceLock<rayon::ThreadPool> = OnceLock::new();
    P.get_or_init(|| rayon::ThreadPoolBuilder::new().num_threads(3).build().expect("pool"))
}

/// One unit written by the reference encoder.
fn encode(comp: Compression, p: &[u8]) -> Vec<u8> {
    match comp {
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(p).expect("gzip");
            e.finish().expect("gzip")
        }
        Compression::Bzip2 => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            e.write_all(p).expect("bzip2");
            e.finish().expect("bzip2")
        }
        Compression::Zstd => {
            let mut c = zstd::bulk::Compressor::new(1).expect("zstd");
            c.include_checksum(true).expect("zstd");
            c.compress(p).expect("zstd")
        }
        _ => {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 0);
            e.write_all(p).expect("xz");
            e.finish().expect("xz")
        }
    }
}

/// What the reference decoder makes of one unit alone.
fn reference(comp: Compression, u: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let ok = match comp {
        Compression::Gzip => flate2::read::GzDecoder::new(u).take(CAP as u64).read_to_end(&mut out).is_ok(),
        Compression::Bzip2 => bzip2::read::BzDecoder::new(u).take(CAP as u64).read_to_end(&mut out).is_ok(),
        Compression::Zstd => zstd::stream::read::Decoder::new(u)
            .and_then(|d| d.take(CAP as u64).read_to_end(&mut out))
            .is_ok(),
        _ => liblzma::read::XzDecoder::new(u).take(CAP as u64).read_to_end(&mut out).is_ok(),
    };
    (ok && out.len() < CAP).then_some(out)
}

/// Build the damaged input that `input` describes, decode it every way,
/// and check (see the module documentation).
pub fn check(input: &[u8]) {
    let Some((head, payload)) = input.split_at_checked(13) else {
        return;
    };
    let comp = [Compression::Gzip, Compression::Bzip2, Compression::Zstd, Compression::Xz][usize::from(head[0] & 3)];
    let n = 1 + usize::from(head[1] % 8);
    let damaged = usize::from(head[2]) % n;
    let flips = usize::from(head[3] % 4);
    // The units and where each starts.
    let size = payload.len().div_ceil(n).max(1);
    let pieces: Vec<&[u8]> = (0..n)
        .map(|i| {
            payload
                .get((i * size).min(payload.len())..((i + 1) * size).min(payload.len()))
                .unwrap_or(&[])
        })
        .collect();
    let mut data = Vec::new();
    let mut spans = Vec::new();
    for p in &pieces {
        let u = encode(comp, p);
        spans.push((data.len(), data.len() + u.len()));
        data.extend_from_slice(&u);
    }
    let (s, e) = spans[damaged];
    for f in head[4..].chunks(3).take(flips) {
        let at = s + usize::from(u16::from_be_bytes([f[0], f[1]])) % (e - s);
        data[at] ^= f[2].max(1);
    }
    let opts = Options {
        max_in_flight: 2,
        ..Options::default()
    };
    let mut runs: Vec<(&str, Drained)> = vec![
        ("streamed", drain(&mut *decompress::decoder(comp, &data[..], opts))),
        (
            "in memory",
            drain(&mut *decompress::memory_decoder(comp, bytes::Bytes::copy_from_slice(&data), opts)),
        ),
    ];
    match comp {
        Compression::Gzip => runs.push((
            "gzip members in parallel chunks, 3 threads",
            pool().install(|| {
                drain(
                    &mut MemoryGzip::new(bytes::Bytes::copy_from_slice(&data), 0, 4)
                        .chunk_bytes(1 << 10)
                        .parallel_chunks(true),
                )
            }),
        )),
        Compression::Zstd => runs.push((
            "zstd frames on workers, 3 threads",
            pool().install(|| drain(&mut MemoryZstd::new(bytes::Bytes::copy_from_slice(&data), 3, true))),
        )),
        _ => {}
    }
    let (out, errs, whole) = &runs[0].1;
    for (how, (o, e, w)) in &runs[1..] {
        if *whole && *w {
            assert!(o == out, "{comp:?}: {how} gives {} bytes, streamed {}", o.len(), out.len());
            assert_eq!(e, errs, "{comp:?}: {how}");
        }
    }
    // Decoding goes forward, inside the input.
    let mut last = 0;
    for (m, r) in errs {
        if let Some(r) = r {
            assert!(*r > last && *r <= data.len() as u64, "{comp:?}: resumes at {r} after {last}: {m}");
            last = *r;
        }
    }
    if !*whole {
        return;
    }
    // Every unit that decodes alone is in the output, in order.
    let mut cursor = 0;
    for (i, &(s, e)) in spans.iter().enumerate() {
        let Some(want) = reference(comp, &data[s..e]) else { continue };
        if want.is_empty() {
            continue;
        }
        match memchr::memmem::find(&out[cursor..], &want) {
            Some(p) => cursor += p + want.len(),
            None => panic!(
                "{comp:?}: unit {i} of {n} ({} bytes) decodes alone but is not in the output; errors {errs:?}",
                want.len()
            ),
        }
    }
}
