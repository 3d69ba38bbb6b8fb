//! Finding bzip2 block and end-of-stream magics at any bit position.
//!
//! A bzip2 stream is a bit stream: after the 4-byte `BZh[1-9]` header each
//! block starts with the 48-bit magic `0x314159265359` (digits of π) and the
//! stream ends with `0x177245385090` (√π) and the combined CRC, at whatever
//! bit position the previous block ended. Splitting a stream into blocks
//! therefore means searching for two 48-bit patterns at all eight bit
//! alignments.
//!
//! # Performance
//!
//! Whatever its bit alignment, a 48-bit pattern that starts in byte `i`
//! covers bytes `i+1` and `i+2` completely. The 16 (pattern, alignment)
//! pairs therefore give 16 possible 16-bit values at byte `i+1`; a bitset of
//! all 65,536 values (8 KiB, resident in L1) filters each byte position with
//! one load and one bit test, and only the rare hits (16 in 65,536 for
//! random data) are checked in full on a 64-bit big-endian window. The scan
//! runs at 1.6 GiB/s of compressed input on one core (`benches/decompress.rs`,
//! group `decompress/scan`), far above the ~25 MB/s of compressed input a
//! core decodes. In the profile of a whole snapshot of a 222 MB synthetic
//! RIB from `lbzip2 -9` (after the block decoder's eight-chain inverse BWT,
//! one decoding thread, `perf record`) `scan` is 1.1% of the samples (1.0%
//! at two threads), so the SIMD kernel the issue proposed for this search
//! was not built: at most 1% could be gained.
//!
//! [`scan_naive`] is the bit-by-bit oracle the tests compare against.

/// The 48-bit magic that starts every bzip2 block (BCD of π).
pub const BLOCK_MAGIC: u64 = 0x3141_5926_5359;
/// The 48-bit magic that ends every bzip2 stream (BCD of √π).
pub const END_MAGIC: u64 = 0x1772_4538_5090;

const MASK48: u64 = (1 << 48) - 1;

/// Which magic was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MagicKind {
    /// A block header ([`BLOCK_MAGIC`]).
    Block,
    /// An end-of-stream marker ([`END_MAGIC`]).
    End,
}

/// A magic found at a bit position (bit 0 is the most significant bit of
/// byte 0, bzip2's bit order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Magic {
    /// Bit position of the first bit of the magic.
    pub bit: u64,
    /// Which magic.
    pub kind: MagicKind,
}

/// The 16-bit value at byte `i+1` for `magic` starting at bit `shift` of
/// byte `i`.
const fn anchor(magic: u64, shift: u32) -> u16 {
    (((magic << (16 - shift)) >> 40) & 0xffff) as u16
}

const fn build_filter() -> [u64; 1024] {
    let mut f = [0u64; 1024];
    let mut s = 0;
    while s < 8 {
        let a = anchor(BLOCK_MAGIC, s) as usize;
        f[a >> 6] |= 1 << (a & 63);
        let b = anchor(END_MAGIC, s) as usize;
        f[b >> 6] |= 1 << (b & 63);
        s += 1;
    }
    f
}

/// Bitset over 16-bit values: set where some magic at some alignment has
/// that value at its second and third byte.
static FILTER: [u64; 1024] = build_filter();

/// Bits `[bit, bit + 48)` of `buf`, or `None` where they run past the end.
pub fn bits48(buf: &[u8], bit: u64) -> Option<u64> {
    bits(buf, bit, 48)
}

/// Bits `[bit, bit + n)` of `buf` (`n` ≤ 57) as the low bits of a `u64`, or
/// `None` where they run past the end.
pub fn bits(buf: &[u8], bit: u64, n: u32) -> Option<u64> {
    if n > 57 || bit.checked_add(u64::from(n))? > (buf.len() as u64) * 8 {
        return None;
    }
    if n == 0 {
        return Some(0);
    }
    let byte = usize::try_from(bit / 8).ok()?;
    let shift = (bit % 8) as u32;
    let mut w = [0u8; 8];
    let avail = buf.len().saturating_sub(byte).min(8);
    w[..avail].copy_from_slice(buf.get(byte..byte + avail)?);
    let w = u64::from_be_bytes(w);
    Some((w << shift) >> (64 - n))
}

fn classify(v: u64) -> Option<MagicKind> {
    match v {
        BLOCK_MAGIC => Some(MagicKind::Block),
        END_MAGIC => Some(MagicKind::End),
        _ => None,
    }
}

/// Append to `out`, in increasing order, every magic that starts at a bit
/// position `≥ from_bit` and lies wholly inside `buf`. Returns the first
/// bit position not examined (where a later scan of a longer buffer must
/// resume): every position before it has been checked.
///
/// # Panics
/// Never.
pub fn scan(buf: &[u8], from_bit: u64, out: &mut Vec<Magic>) -> u64 {
    let total_bits = (buf.len() as u64) * 8;
    // Positions p with p + 48 <= total_bits can hold a magic.
    let end = (total_bits + 1).saturating_sub(48).max(from_bit);
    if from_bit >= end {
        return end;
    }
    let first_byte = usize::try_from(from_bit / 8).unwrap_or(usize::MAX);
    // Fast path: byte positions i with a full 8-byte window i..i+8.
    let fast_end = buf.len().saturating_sub(7);
    let mut i = first_byte;
    if i < fast_end {
        for (k, win) in buf[i..].windows(8).enumerate() {
            let a = usize::from(u16::from_be_bytes([win[1], win[2]]));
            if FILTER[a >> 6] >> (a & 63) & 1 == 0 {
                continue;
            }
            let w = u64::from_be_bytes([win[0], win[1], win[2], win[3], win[4], win[5], win[6], win[7]]);
            let base = ((i + k) as u64) * 8;
            for s in 0..8u32 {
                if let Some(kind) = classify((w >> (16 - s)) & MASK48) {
                    let bit = base + u64::from(s);
                    if bit >= from_bit {
                        out.push(Magic { bit, kind });
                    }
                }
            }
        }
        i = fast_end;
    }
    // Tail: fewer than 8 bytes left from byte i on; check bit by bit.
    let mut p = ((i as u64) * 8).max(from_bit);
    while p < end {
        if let Some(kind) = bits48(buf, p).and_then(classify) {
            out.push(Magic { bit: p, kind });
        }
        p += 1;
    }
    end
}

/// The obvious bit-by-bit search: the oracle for [`scan`]. Same contract.
pub fn scan_naive(buf: &[u8], from_bit: u64, out: &mut Vec<Magic>) -> u64 {
    let total_bits = (buf.len() as u64) * 8;
    let end = (total_bits + 1).saturating_sub(48).max(from_bit);
    let bit = |p: u64| (buf[(p / 8) as usize] >> (7 - p % 8)) & 1;
    for p in from_bit..end {
        let mut v = 0u64;
        for q in p..p + 48 {
            v = (v << 1) | u64::from(bit(q));
        }
        if let Some(kind) = classify(v) {
            out.push(Magic { bit: p, kind });
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Write the 48 bits of `magic` into `buf` at bit `at` (bzip2 order).
    fn put(buf: &mut [u8], at: u64, magic: u64) {
        for k in 0..48u64 {
            let v = (magic >> (47 - k)) & 1;
            let p = at + k;
            let (byte, sh) = ((p / 8) as usize, 7 - (p % 8) as u32);
            buf[byte] = (buf[byte] & !(1 << sh)) | ((v as u8) << sh);
        }
    }

    fn noise(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    fn both(buf: &[u8], from: u64) -> (Vec<Magic>, u64) {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let ea = scan(buf, from, &mut a);
        let eb = scan_naive(buf, from, &mut b);
        assert_eq!(a, b, "from bit {from}, {} bytes", buf.len());
        assert_eq!(ea, eb);
        (a, ea)
    }

    #[test]
    fn every_bit_offset_matches_naive() {
        for at in 0..(8 * 24) as u64 {
            for magic in [BLOCK_MAGIC, END_MAGIC] {
                let mut buf = noise(32, at + 7);
                put(&mut buf, at, magic);
                let (found, _) = both(&buf, 0);
                assert!(found.iter().any(|m| m.bit == at && m.kind == classify(magic).unwrap()), "{at}");
                // Every start position, every buffer length (the tail path).
                for from in [0, at, at + 1, at.saturating_sub(9)] {
                    both(&buf, from);
                }
                for len in 0..buf.len() {
                    both(&buf[..len], 0);
                }
            }
        }
    }

    #[test]
    fn adjacent_and_overlapping_candidates() {
        let mut buf = vec![0u8; 64];
        put(&mut buf, 3, BLOCK_MAGIC);
        put(&mut buf, 51, END_MAGIC);
        put(&mut buf, 99, BLOCK_MAGIC);
        put(&mut buf, 200, END_MAGIC);
        let (found, _) = both(&buf, 0);
        let bits: Vec<u64> = found.iter().map(|m| m.bit).collect();
        assert_eq!(bits, [3, 51, 99, 200]);
        for from in 0..buf.len() as u64 * 8 {
            both(&buf, from);
        }
    }

    #[test]
    fn random_buffers_match_naive() {
        for seed in 0..40 {
            let mut buf = noise(300 + seed as usize, seed);
            for j in 0..5 {
                let at = (seed * 97 + j * 331) % (buf.len() as u64 * 8 - 48);
                put(&mut buf, at, if j % 2 == 0 { BLOCK_MAGIC } else { END_MAGIC });
            }
            both(&buf, 0);
            both(&buf, seed * 3);
        }
    }

    #[test]
    fn resume_point_covers_everything() {
        // Scanning a growing buffer in pieces finds exactly what one scan finds.
        let mut buf = noise(4000, 5);
        for at in [10u64, 1000, 8000, 16001, 31950] {
            put(&mut buf, at, BLOCK_MAGIC);
        }
        let mut whole = Vec::new();
        scan(&buf, 0, &mut whole);
        let mut pieces = Vec::new();
        let mut from = 0;
        for cut in (0..=buf.len()).step_by(333).chain([buf.len()]) {
            from = scan(&buf[..cut], from, &mut pieces);
        }
        assert_eq!(whole, pieces);
        assert_eq!(whole.len(), 5);
    }

    #[test]
    fn bits_reads_and_bounds() {
        let buf = [0xffu8, 0x00, 0xaa];
        assert_eq!(bits(&buf, 0, 8), Some(0xff));
        assert_eq!(bits(&buf, 4, 8), Some(0xf0));
        assert_eq!(bits(&buf, 16, 8), Some(0xaa));
        assert_eq!(bits(&buf, 17, 8), None);
        assert_eq!(bits(&buf, u64::MAX, 8), None);
        assert_eq!(bits48(&buf, 0), None);
    }
}
