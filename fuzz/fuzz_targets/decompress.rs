//! Decompressors: arbitrary bytes as a bzip2, gzip or zstd stream.
//!
//! The first byte picks the format (0: bzip2, 1: gzip, 2: zstd) and the
//! decoder (bit 2: the in-memory decoder of a mapped file, else the streaming
//! one); the rest is the compressed input. Besides "no panic, no abort, no
//! unbounded allocation", decoded output is bounded (bzip2 expands at most
//! ~46,000 times per block, deflate and zstd within their format limits),
//! and where the reference decoder (the `bzip2` and `flate2` crates)
//! decodes the input without error, mrtsnap's decoder must give the same
//! bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mrtsnap::decompress::{self, Decode, Options};
use mrtsnap::Compression;
use std::io::Read;

/// Stop collecting output past this (a fuzz input is small; anything larger
/// is only checked for not panicking).
const CAP: usize = 64 << 20;

fn drain(mut d: Box<dyn Decode + '_>) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    while let Some(c) = d.next_chunk() {
        match c {
            Ok(c) => {
                if out.len() < CAP {
                    out.extend_from_slice(c);
                }
            }
            Err(_) => return (out, false),
        }
    }
    (out, true)
}

fn reference(comp: Compression, data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let ok = match comp {
        Compression::Bzip2 => bzip2::read::MultiBzDecoder::new(data)
            .take(CAP as u64)
            .read_to_end(&mut out)
            .is_ok(),
        Compression::Gzip => flate2::read::MultiGzDecoder::new(data)
            .take(CAP as u64)
            .read_to_end(&mut out)
            .is_ok(),
        _ => return None,
    };
    (ok && out.len() < CAP).then_some(out)
}

fuzz_target!(|input: &[u8]| {
    let Some((&sel, data)) = input.split_first() else { return };
    let comp = match sel & 3 {
        0 => Compression::Bzip2,
        1 => Compression::Gzip,
        _ => Compression::Zstd,
    };
    let opts = Options {
        max_in_flight: 2,
        ..Options::default()
    };
    let (out, ok) = if sel & 4 != 0 {
        drain(decompress::memory_decoder(comp, bytes::Bytes::copy_from_slice(data), opts))
    } else {
        drain(decompress::decoder(comp, data, opts))
    };
    if ok && out.len() < CAP {
        if let Some(want) = reference(comp, data) {
            // Both decoded without error: same bytes. (Empty input is "no
            // stream" for some decoders and an empty stream for others.)
            if !data.is_empty() {
                assert_eq!(out.len(), want.len(), "{comp:?}: lengths differ");
                assert!(out == want, "{comp:?}: bytes differ");
            }
        }
    }
});
