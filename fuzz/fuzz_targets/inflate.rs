//! The deflate decoder alone (`mrtsnap::decompress::inflate`), differential
//! against zlib-rs (through flate2): arbitrary bytes as a raw deflate
//! stream. Where either decoder decodes the input without error, both must,
//! with the same bytes and (for mrtsnap) the stream's end; the 16-bit
//! symbol mode used for chunks of a member decoded in parallel must give
//! the same bytes, as symbols below 256; the block finder must only return
//! positions inside the input where a block header parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mrtsnap::decompress::inflate::{self, Inflater};
use std::io::Read;

const CAP: usize = 16 << 20;

fuzz_target!(|data: &[u8]| {
    let mut inf = Inflater::new(0);
    let mut ours = Vec::new();
    let ok = loop {
        match inf.next_piece(data) {
            Ok([]) => break true,
            Ok(p) => {
                if ours.len() + p.len() > CAP {
                    return;
                }
                ours.extend_from_slice(p);
            }
            Err(_) => break false,
        }
    };
    let mut theirs = Vec::new();
    let zok = flate2::read::DeflateDecoder::new(data)
        .take(CAP as u64)
        .read_to_end(&mut theirs)
        .is_ok()
        && theirs.len() < CAP;
    if ok || zok {
        assert_eq!(ok, zok, "one decoder accepts what the other refuses");
        assert!(ours == theirs, "different bytes");
        let mut m = Inflater::new(0);
        assert!(m.decode_markers(data, CAP, 0).is_ok());
        assert!(m.markers().iter().map(|&v| v as u8).eq(ours.iter().copied()));
        assert!(m.markers().iter().all(|&v| v < inflate::MARKER));
    }
    let bits = data.len() * 8;
    let mut scratch = Inflater::new(0);
    if let Some(at) = inflate::find_block(data, 0, bits, &mut scratch) {
        assert!(at < bits);
        // From there, with an unknown window: decoding ends in an error or
        // a result, never a panic.
        let mut m = Inflater::new(0);
        m.reset_at_bit(at);
        let _ = m.decode_markers(data, CAP, 0);
    }
});
