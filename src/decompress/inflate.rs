//! A deflate (RFC 1951) decoder for compressed data in memory, streaming
//! its output in pieces through a buffer that keeps the 32 KiB window in
//! front of the next piece, for gzip members too large to decode whole
//! (a RIS bview is one member of ~1 GB).
//!
//! Why not zlib-rs (through flate2) as before: on the 222 MB table of
//! `BENCHMARKS.md` it streamed one member at 0.65 GB/s, where libdeflate,
//! which can only decode a whole member into a buffer of its full size,
//! ran at 1.09 GB/s. The speed of libdeflate comes from its layout, which
//! this decoder follows (the techniques, not the code):
//!
//! - a 64-bit bit buffer refilled with one unaligned 8-byte load and no
//!   loop, after which at least 56 bits are available: enough for three
//!   literals, or one length with its extra bits, without another refill;
//! - decode tables whose entries carry everything a symbol needs: the
//!   literal byte or the base length / distance, the codeword length and
//!   the count of extra bits, so that one lookup and one shift decode a
//!   length including its extra bits; codes longer than the main table's
//!   index go through a second lookup in a subtable;
//! - matches copied 8 bytes at a time, overshooting into the margin kept
//!   free at the end of the buffer, with a fill for distance 1 (runs of
//!   one byte) and a byte loop for the other short distances.
//!
//! For [`super::member`] (one member decoded in parallel chunks) it also
//! starts at any bit ([`Inflater::reset_at_bit`]), stops at the first block
//! boundary past a given bit ([`Inflater::stop_at_bit`]), decodes into
//! 16-bit symbols in which bytes copied from an unknown window are markers
//! ([`Inflater::decode_markers`], [`resolve_markers`]), and finds block
//! starts ([`find_block`]).
//!
//! Bounds are checked (no `unsafe`): every table index is masked to its
//! table's length, which the compiler can see for the main tables, and
//! output writes fall inside a buffer whose free margin is checked once per
//! symbol. Near the end of the input the refill falls back to bytewise
//! loads followed by zero bytes, counted, so that a truncated stream ends
//! in an error and never in a read past the input.

use std::fmt;

/// History a deflate stream may refer back to.
pub const WINDOW: usize = 32 << 10;

/// Symbols of [`Inflater::decode_markers`] from this value up stand for
/// bytes of the unknown window before the start.
pub const MARKER: u16 = 256;

/// Replace the markers of `symbols` (from [`Inflater::decode_markers`]) by
/// the bytes of `window` (the bytes before the start, its last [`WINDOW`]
/// or all there are), appending to `out`. `false` when a marker refers to
/// a byte before the stream's start (the start was not a real one, or the
/// stream is damaged).
pub fn resolve_markers(symbols: &[u16], window: &[u8], out: &mut Vec<u8>) -> bool {
    let window = &window[window.len().saturating_sub(WINDOW)..];
    if window.len() < WINDOW {
        // A stream shorter than the window so far: a marker before its
        // start is an error.
        let first = MARKER + (WINDOW - window.len()) as u16;
        if symbols.iter().any(|&v| (MARKER..first).contains(&v)) {
            return false;
        }
    }
    // One table for both: symbol v is lut[v] (a 33 KiB table, in L1).
    let mut lut = vec![0u8; usize::from(MARKER) + WINDOW];
    for (i, l) in lut[..256].iter_mut().enumerate() {
        *l = i as u8;
    }
    lut[usize::from(MARKER) + WINDOW - window.len()..].copy_from_slice(window);
    out.extend(symbols.iter().map(|&v| lut.get(usize::from(v)).copied().unwrap_or(0)));
    true
}

/// The first bit in `from_bit..to_bit` of `input` where a non-final
/// dynamic Huffman block header parses without fault: block type 2, at
/// most 286 and 30 symbols, a complete code length code, code lengths that
/// fit the symbol counts, a complete literal/length code with an
/// end-of-block code, a valid distance code. `scratch` is used to parse
/// (its state is lost). Checked cheaply first from one 128-bit read (type,
/// counts, the Kraft sum of the code length code), which all but about one
/// bit position in several thousand fail; a false positive remains
/// possible, and callers verify by decoding.
pub fn find_block(input: &[u8], from_bit: usize, to_bit: usize, scratch: &mut Inflater) -> Option<usize> {
    for bit in from_bit..to_bit {
        let Some(w) = input.get(bit / 8..bit / 8 + 16) else { break };
        let x = u128::from_le_bytes(w.try_into().unwrap_or([0; 16])) >> (bit % 8);
        if x & 7 != 4 || (x >> 3) & 31 > 29 || (x >> 8) & 31 > 29 {
            continue;
        }
        let hclen = ((x >> 13) & 15) as usize + 4;
        let mut kraft = 0u32;
        for i in 0..hclen {
            let l = ((x >> (17 + 3 * i)) & 7) as u32;
            if l != 0 {
                kraft += 128 >> l;
            }
        }
        if kraft != 128 {
            continue;
        }
        scratch.reset_at_bit(bit);
        let skip = scratch.skip;
        scratch.skip = 0;
        if scratch.bits(input, skip).is_ok()
            && scratch.header(input).is_ok()
            && scratch.block == Block::Huffman
            && !scratch.last_block
            && !scratch.fixed_tables
        {
            return Some(bit);
        }
    }
    None
}

/// Decoded bytes produced per call of [`Inflater::next_piece`] at most.
pub const PIECE: usize = 1 << 20;

/// Free bytes kept after the output position while decoding Huffman
/// symbols: three literals, the longest match and an 8-byte overshoot.
const MARGIN: usize = 3 + 258 + 16 + 32;

const LITLEN_BITS: u32 = 11;
const LITLEN_MAIN: usize = 1 << LITLEN_BITS;
/// The main table, then subtables of at most 16 entries for each of at most
/// 286 codes longer than 11 bits.
const LITLEN_SIZE: usize = LITLEN_MAIN + 286 * 16;
const DIST_BITS: u32 = 8;
const DIST_MAIN: usize = 1 << DIST_BITS;
const DIST_SIZE: usize = DIST_MAIN + 30 * 128;
const PRE_BITS: u32 = 7;
const PRE_SIZE: usize = 1 << PRE_BITS;

// Table entries (u32): bits 0..=4 hold the bits a symbol takes (codeword
// and extra bits; for a subtable pointer, the subtable's index bits), bits
// 8..=11 the codeword length, bits 12..=15 the flags below, bits 16..=31 the
// value (literal byte, base length or distance, subtable start).
const LITERAL: u32 = 1 << 12;
const SUBTABLE: u32 = 1 << 13;
const END_OF_BLOCK: u32 = 1 << 14;
const INVALID: u32 = 1 << 15;
/// Not a literal and not a length: end of block, invalid, or a subtable.
const EXCEPTIONAL: u32 = END_OF_BLOCK | INVALID;

const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385,
    24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
];
/// The order in which the code length code's lengths are sent.
const PRE_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

const fn litlen_entry(sym: usize) -> u32 {
    match sym {
        0..=255 => ((sym as u32) << 16) | LITERAL,
        256 => END_OF_BLOCK,
        257..=285 => ((LENGTH_BASE[sym - 257] as u32) << 16) | LENGTH_EXTRA[sym - 257] as u32,
        _ => INVALID,
    }
}

const fn dist_entry(sym: usize) -> u32 {
    match sym {
        0..=29 => ((DIST_BASE[sym] as u32) << 16) | DIST_EXTRA[sym] as u32,
        _ => INVALID,
    }
}

const fn pre_entry(sym: usize) -> u32 {
    (sym as u32) << 16
}

/// Table entries by symbol, before the codeword length is added: value,
/// flags and count of extra bits (see [`build`]).
macro_rules! entries {
    ($f:ident, $n:expr) => {{
        let mut t = [0u32; $n];
        let mut i = 0;
        while i < $n {
            t[i] = $f(i);
            i += 1;
        }
        t
    }};
}

static LITLEN_ENTRIES: [u32; 288] = entries!(litlen_entry, 288);
static DIST_ENTRIES: [u32; 32] = entries!(dist_entry, 32);
static PRE_ENTRIES: [u32; 19] = entries!(pre_entry, 19);

/// Why a deflate stream could not be decoded, and where: `at` is the
/// compressed byte (relative to the input given) where the decoder was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InflateError {
    /// Compressed byte offset (in the input given) the decoder had reached.
    pub at: usize,
    /// What was wrong.
    pub what: &'static str,
}

impl fmt::Display for InflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (deflate data, compressed byte {})", self.what, self.at)
    }
}

impl std::error::Error for InflateError {}

/// Which codes a Huffman table may be built from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Completeness {
    /// Every codeword used: the code length code, and literal/length codes.
    Complete,
    /// Complete, or no codeword at all, or a single codeword of length 1
    /// (zlib accepts these for distance codes, so encoders emit them).
    Distances,
}

/// Fill `table` (the main part of `1 << bits` entries, then subtables) for
/// the canonical code with lengths `lens` (each at most 15); `entry` gives
/// a symbol's value, flags and extra-bit count.
fn build(table: &mut [u32], bits: u32, lens: &[u8], entry: &[u32], completeness: Completeness) -> Result<(), &'static str> {
    let mut count = [0u16; 16];
    for &l in lens {
        count[usize::from(l & 15)] += 1;
    }
    count[0] = 0;
    let mut left: i32 = 1;
    for &c in &count[1..] {
        left = (left << 1) - i32::from(c);
        if left < 0 {
            return Err("over-subscribed Huffman code");
        }
    }
    let used: u16 = count.iter().sum();
    let max_len = (1..16).rev().find(|&l| count[l] > 0).unwrap_or(0) as u32;
    let main = 1usize << bits;
    if left > 0 {
        let allowed = completeness == Completeness::Distances && (used == 0 || (used == 1 && max_len == 1));
        if !allowed {
            return Err("incomplete Huffman code");
        }
    }
    // Symbols sorted by codeword length (canonical order), by counting.
    let mut offset = [0u16; 16];
    for l in 1..15 {
        offset[l + 1] = offset[l] + count[l];
    }
    let mut sorted = [0u16; 288];
    for (sym, &l) in lens.iter().enumerate() {
        let l = usize::from(l & 15);
        if l != 0 {
            sorted[usize::from(offset[l])] = sym as u16;
            offset[l] += 1;
        }
    }
    let sub_bits = max_len.saturating_sub(bits);
    let mut next_sub = main;
    let mut cur_prefix = usize::MAX;
    let mut cur_start = 0;
    let mut code: u32 = 0;
    let mut len: u32 = 1;
    let mut left_at_len = count[1];
    // The main table is filled by doubling: before the codes of length L
    // are written, its first 2^(L-1) entries (the shorter codes, each
    // repeated wherever its bits match, and INVALID where no code does)
    // are copied after themselves. Every entry is written about once,
    // mostly by memcpy, where writing each short code at all its places
    // took a fifth of the decoder's instructions (callgrind, a 30 MB
    // table of 20 kB blocks: 1,500 tables).
    table[0] = INVALID;
    let mut filled = 1usize;
    let grow = |table: &mut [u32], filled: &mut usize, to: usize| {
        while *filled < to {
            table.copy_within(..*filled, *filled);
            *filled *= 2;
        }
    };
    for &sym in &sorted[..usize::from(used)] {
        while left_at_len == 0 {
            code <<= 1;
            len += 1;
            left_at_len = count[len as usize];
        }
        let sym = usize::from(sym);
        let rev = (code.reverse_bits() >> (32 - len)) as usize;
        let e = entry.get(sym).copied().unwrap_or(INVALID) + len + (len << 8);
        if len <= bits {
            grow(table, &mut filled, 1 << len);
            table[rev] = e;
        } else {
            grow(table, &mut filled, main);
            let prefix = rev & (main - 1);
            if prefix != cur_prefix {
                cur_prefix = prefix;
                cur_start = next_sub;
                next_sub += 1 << sub_bits;
                if next_sub > table.len() {
                    return Err("Huffman table too large");
                }
                table[prefix] = ((cur_start as u32) << 16) | SUBTABLE | sub_bits;
            }
            let step = 1usize << (len - bits);
            let mut i = rev >> bits;
            while i < 1 << sub_bits {
                table[cur_start + i] = e;
                i += step;
            }
        }
        code += 1;
        left_at_len -= 1;
    }
    grow(table, &mut filled, main);
    Ok(())
}

/// The bits of `x` below bit `n` (n < 64).
#[inline(always)]
fn low(x: u64, n: u32) -> u64 {
    x & ((1u64 << n) - 1)
}

/// Where the decoder is between calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    /// A block header is next.
    Header,
    /// Inside a Huffman-coded block.
    Huffman,
    /// Inside a stored block, with this many bytes left.
    Stored(usize),
    /// The final block has ended.
    Done,
}

/// A streaming deflate decoder over a byte slice in memory (see the module
/// documentation). The input is passed to every call and must be the same
/// bytes each time.
pub struct Inflater {
    /// Next input byte to load.
    pos: usize,
    bitbuf: u64,
    bitsleft: u32,
    /// Zero bytes loaded past the end of the input.
    overrun: usize,
    block: Block,
    last_block: bool,
    fixed_tables: bool,
    litlen: Box<[u32; LITLEN_SIZE]>,
    dist: Box<[u32; DIST_SIZE]>,
    /// Output: the window (up to [`WINDOW`] bytes of history), then the
    /// piece being decoded.
    buf: Vec<u8>,
    /// Start of the output not yet handed out.
    piece: usize,
    op: usize,
    /// Bytes of history before `buf[0]`'s stream position that are gone:
    /// distances may reach back to `buf[hist]`.
    hist: usize,
    /// An error met after decoding part of a piece: returned by the next
    /// call, after that part.
    failed: Option<InflateError>,
    /// Bits to skip before the first block header (a start inside a byte).
    skip: u32,
    /// Stop at the first block boundary at or after this bit.
    stop_bit: usize,
    /// Return from [`Inflater::next_piece`] at the first block boundary
    /// once the input is read up to this byte (a window over a stream
    /// holds a bounded look-ahead, see [`Inflater::pause_at`]).
    pause: usize,
    /// Where it stopped there.
    stopped: Option<usize>,
    /// Output of [`Inflater::decode_markers`], after [`WINDOW`] markers.
    marks: Vec<u16>,
    marks_end: usize,
}

impl Inflater {
    /// A decoder for the deflate stream starting at byte `start` of the
    /// input.
    pub fn new(start: usize) -> Inflater {
        Inflater {
            pos: start,
            bitbuf: 0,
            bitsleft: 0,
            overrun: 0,
            block: Block::Header,
            last_block: false,
            fixed_tables: false,
            litlen: vec![0u32; LITLEN_SIZE].into_boxed_slice().try_into().expect("size"),
            dist: vec![0u32; DIST_SIZE].into_boxed_slice().try_into().expect("size"),
            buf: vec![0u8; WINDOW + PIECE + MARGIN],
            piece: WINDOW,
            op: WINDOW,
            hist: WINDOW,
            failed: None,
            skip: 0,
            stop_bit: usize::MAX,
            pause: usize::MAX,
            stopped: None,
            marks: Vec::new(),
            marks_end: 0,
        }
    }

    /// Start over on the deflate stream at byte `start` of the input,
    /// keeping the buffers.
    pub fn reset(&mut self, start: usize) {
        self.pos = start;
        self.bitbuf = 0;
        self.bitsleft = 0;
        self.overrun = 0;
        self.block = Block::Header;
        self.last_block = false;
        self.piece = WINDOW;
        self.op = WINDOW;
        self.hist = WINDOW;
        self.failed = None;
        self.skip = 0;
        self.stop_bit = usize::MAX;
        self.pause = usize::MAX;
        self.stopped = None;
    }

    /// The input given to the next calls starts `by` bytes later than
    /// before (a window over a stream dropped bytes it no longer needs):
    /// positions go back by as much. Errors report positions in the input
    /// given.
    pub fn rebase(&mut self, by: usize) {
        self.pos -= by;
        if let Some(e) = &mut self.failed {
            // An error held back for the next call.
            e.at = e.at.saturating_sub(by);
        }
        if self.stop_bit != usize::MAX {
            self.stop_bit -= by * 8;
        }
        if self.pause != usize::MAX {
            self.pause -= by;
        }
    }

    /// Make [`Inflater::next_piece`] return at the first block boundary
    /// after the input is read up to byte `at`: possibly an empty piece
    /// while [`Inflater::is_done`] is false. A window over a stream bounds
    /// what one call reads this way (a block reads at most about two bytes
    /// per byte of output, and a piece's output is bounded; only runs of
    /// empty blocks read input without output). Pieces are cut
    /// differently, but their bytes and any error are the same.
    pub fn pause_at(&mut self, at: usize) {
        self.pause = at;
    }

    /// [`Inflater::reset`] to a stream (or a block of one) starting at bit
    /// `bit` of the input (bits counted from the least significant bit of
    /// byte 0).
    pub fn reset_at_bit(&mut self, bit: usize) {
        self.reset(bit / 8);
        self.skip = (bit % 8) as u32;
    }

    /// Stop at the first block boundary at or after bit `bit` of the input
    /// instead of decoding on ([`Inflater::stopped_at`] then says where).
    pub fn stop_at_bit(&mut self, bit: usize) {
        self.stop_bit = bit;
    }

    /// The block boundary (a bit offset) where the decoder stopped, when it
    /// did (see [`Inflater::stop_at_bit`]).
    pub fn stopped_at(&self) -> Option<usize> {
        self.stopped
    }

    /// Give the stream history (the last up to [`WINDOW`] bytes of `w`) for
    /// a start inside a stream, before decoding anything.
    pub fn set_window(&mut self, w: &[u8]) {
        let w = &w[w.len().saturating_sub(WINDOW)..];
        self.buf[WINDOW - w.len()..WINDOW].copy_from_slice(w);
        self.hist = WINDOW - w.len();
    }

    /// Bits of the input consumed so far.
    pub fn bit_position(&self) -> usize {
        self.pos * 8 - self.bitsleft as usize + self.skip as usize
    }

    /// The bytes the last call of [`Inflater::next_piece`] returned.
    pub fn last_piece(&self) -> &[u8] {
        &self.buf[self.piece..self.op]
    }

    /// The input byte the decoder has consumed up to (rounded up to whole
    /// bytes); after the end of the stream, where what follows it begins.
    pub fn position(&self) -> usize {
        (self.pos * 8 - self.bitsleft as usize).div_ceil(8)
    }

    /// Whether the final block has been decoded.
    pub fn is_done(&self) -> bool {
        self.block == Block::Done
    }

    fn err(&self, what: &'static str) -> InflateError {
        InflateError { at: self.position(), what }
    }

    /// The next decoded bytes (at most [`PIECE`]), or an empty slice at the
    /// end of the stream.
    pub fn next_piece(&mut self, input: &[u8]) -> Result<&[u8], InflateError> {
        if let Some(e) = self.failed.take() {
            self.piece = self.op;
            self.block = Block::Done;
            return Err(e);
        }
        self.apply_skip(input)?;
        if self.op > WINDOW {
            // Keep the last WINDOW bytes in front of the next piece.
            let keep = self.op - self.hist.max(self.op - WINDOW);
            self.buf.copy_within(self.op - keep..self.op, WINDOW - keep);
            self.hist = WINDOW - keep;
            self.op = WINDOW;
        }
        self.piece = self.op;
        let mut buf = std::mem::take(&mut self.buf);
        let mut op = self.op;
        let limit = op + PIECE;
        let step = self.run(input, &mut buf, &mut op, self.hist, limit);
        self.buf = buf;
        self.op = op;
        if let Err(e) = step {
            // Hand out what was decoded before the damage first.
            if self.op == self.piece {
                self.block = Block::Done;
                return Err(e);
            }
            self.failed = Some(e);
        }
        Ok(&self.buf[self.piece..self.op])
    }

    /// Decode from a start whose history is unknown (a block start found
    /// inside a stream, [`find_block`]) to the stop bit or the end of the
    /// final block, as 16-bit symbols ([`Inflater::markers`]): bytes as
    /// themselves, bytes copied from the unknown window before the start
    /// as [`MARKER`]` + i` for byte `i` of the [`WINDOW`] bytes before it
    /// ([`resolve_markers`] puts the bytes in once they are known). More
    /// than `cap` symbols is an error.
    pub fn decode_markers(&mut self, input: &[u8], cap: usize, expect: usize) -> Result<(), InflateError> {
        self.apply_skip(input)?;
        let mut marks = std::mem::take(&mut self.marks);
        // The buffer keeps its length between calls (filling fresh memory
        // costs as much as decoding into it): only the window is rewritten.
        // It starts at the size the caller expects, so that it is not
        // copied as it grows.
        let first = WINDOW + expect.min(cap) + PIECE + MARGIN;
        if marks.len() < first {
            marks.resize(first, 0);
        }
        for (i, m) in marks[..WINDOW].iter_mut().enumerate() {
            *m = MARKER + i as u16;
        }
        let mut op = WINDOW;
        let result = loop {
            if self.block == Block::Done {
                break Ok(());
            }
            if op - WINDOW > cap {
                break Err(self.err("decoded chunk too large"));
            }
            if marks.len() < op + PIECE + MARGIN {
                let most = WINDOW + cap.saturating_add(2 * PIECE + MARGIN);
                marks.resize((op + PIECE + MARGIN).max(marks.len() * 2).min(most), 0);
            }
            let limit = op + PIECE;
            if let Err(e) = self.run(input, &mut marks, &mut op, 0, limit) {
                break Err(e);
            }
        };
        self.marks = marks;
        self.marks_end = op;
        result
    }

    /// The symbols of the last [`Inflater::decode_markers`].
    pub fn markers(&self) -> &[u16] {
        self.marks.get(WINDOW..self.marks_end).unwrap_or(&[])
    }

    fn apply_skip(&mut self, input: &[u8]) -> Result<(), InflateError> {
        if self.skip != 0 {
            let skip = self.skip;
            self.skip = 0;
            self.bits(input, skip)?;
        }
        Ok(())
    }

    /// Decode blocks into `buf` from `op` up to `limit` (a symbol may run
    /// past it, into the margin), with history back to `buf[hist]`.
    fn run<T: Symbol>(&mut self, input: &[u8], buf: &mut [T], op: &mut usize, hist: usize, limit: usize) -> Result<(), InflateError> {
        while *op < limit {
            match self.block {
                Block::Done => {
                    if self.overran() {
                        return Err(self.err("truncated deflate data"));
                    }
                    break;
                }
                Block::Header if self.pos >= self.pause => break,
                Block::Header => self.header(input)?,
                Block::Stored(n) => self.stored(input, buf, op, n, limit)?,
                Block::Huffman => {
                    // Most of the stream is decoded where the input has room
                    // for every refill of an iteration, without the checks
                    // for its end.
                    self.huffman_loop::<T, false>(input, buf, op, hist, limit)?;
                    if self.block == Block::Huffman && *op < limit {
                        self.huffman_loop::<T, true>(input, buf, op, hist, limit)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Make at least 56 bits available (the bits past the input's end are
    /// zeros, counted in `overrun`). Without `TAIL` the caller has made
    /// sure that 8 bytes can be read at `pos`.
    #[inline(always)]
    fn refill<const TAIL: bool>(input: &[u8], pos: &mut usize, bitbuf: &mut u64, bitsleft: &mut u32, overrun: &mut usize) {
        if !TAIL {
            let w = u64::from_le_bytes(input.get(*pos..*pos + 8).and_then(|w| w.try_into().ok()).unwrap_or([0; 8]));
            *bitbuf |= w << *bitsleft;
            *pos += (63 - *bitsleft as usize) >> 3;
            *bitsleft |= 56;
        } else if let Some(w) = input.get(*pos..*pos + 8) {
            let w = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
            *bitbuf |= w << *bitsleft;
            *pos += (63 - *bitsleft as usize) >> 3;
            *bitsleft |= 56;
        } else {
            while *bitsleft < 56 {
                match input.get(*pos) {
                    Some(&b) => *bitbuf |= u64::from(b) << *bitsleft,
                    None => *overrun += 1,
                }
                *pos += 1;
                *bitsleft += 8;
            }
        }
    }

    /// Whether bits past the end of the input have been consumed.
    fn overran(&self) -> bool {
        self.overrun * 8 > self.bitsleft as usize
    }

    /// Take `n` (at most 32) bits from the stream.
    fn bits(&mut self, input: &[u8], n: u32) -> Result<u32, InflateError> {
        if self.bitsleft < n {
            Self::refill::<true>(input, &mut self.pos, &mut self.bitbuf, &mut self.bitsleft, &mut self.overrun);
        }
        let v = low(self.bitbuf, n) as u32;
        self.bitbuf >>= n;
        self.bitsleft -= n;
        if self.overran() {
            return Err(self.err("truncated deflate data"));
        }
        Ok(v)
    }

    /// Read a block header and set up its tables.
    fn header(&mut self, input: &[u8]) -> Result<(), InflateError> {
        if self.last_block {
            self.block = Block::Done;
            return Ok(());
        }
        let at = self.bit_position();
        if at >= self.stop_bit {
            self.block = Block::Done;
            self.stopped = Some(at);
            return Ok(());
        }
        let h = self.bits(input, 3)?;
        self.last_block = h & 1 != 0;
        match h >> 1 {
            0 => {
                // Stored: skip to a byte boundary; LEN and NLEN follow.
                let skip = self.bitsleft % 8;
                self.bits(input, skip)?;
                let len = self.bits(input, 16)?;
                let nlen = self.bits(input, 16)?;
                if len != !nlen & 0xffff {
                    return Err(self.err("stored block length check failed"));
                }
                self.block = Block::Stored(len as usize);
            }
            1 => {
                if !self.fixed_tables {
                    let mut lens = [0u8; 288];
                    lens[..144].fill(8);
                    lens[144..256].fill(9);
                    lens[256..280].fill(7);
                    lens[280..].fill(8);
                    build(&mut self.litlen[..], LITLEN_BITS, &lens, &LITLEN_ENTRIES, Completeness::Complete).map_err(|w| self.err(w))?;
                    build(&mut self.dist[..], DIST_BITS, &[5u8; 32], &DIST_ENTRIES, Completeness::Complete).map_err(|w| self.err(w))?;
                    self.fixed_tables = true;
                }
                self.block = Block::Huffman;
            }
            2 => {
                self.fixed_tables = false;
                self.dynamic(input)?;
                self.block = Block::Huffman;
            }
            _ => return Err(self.err("invalid block type")),
        }
        Ok(())
    }

    /// Read a dynamic block's code lengths and build its tables.
    fn dynamic(&mut self, input: &[u8]) -> Result<(), InflateError> {
        let hlit = self.bits(input, 5)? as usize + 257;
        let hdist = self.bits(input, 5)? as usize + 1;
        let hclen = self.bits(input, 4)? as usize + 4;
        if hlit > 286 || hdist > 30 {
            return Err(self.err("too many length or distance symbols"));
        }
        let mut pre_lens = [0u8; 19];
        for &i in &PRE_ORDER[..hclen] {
            pre_lens[i] = self.bits(input, 3)? as u8;
        }
        let mut pre = [0u32; PRE_SIZE];
        build(&mut pre, PRE_BITS, &pre_lens, &PRE_ENTRIES, Completeness::Complete).map_err(|w| self.err(w))?;
        let mut lens = [0u8; 286 + 30];
        let n = hlit + hdist;
        let mut i = 0;
        while i < n {
            // A code length symbol (7 bits at most) and its extra bits (7).
            if self.bitsleft < PRE_BITS + 7 {
                Self::refill::<true>(input, &mut self.pos, &mut self.bitbuf, &mut self.bitsleft, &mut self.overrun);
            }
            let e = pre[low(self.bitbuf, PRE_BITS) as usize];
            let clen = e & 31;
            let sym = (e >> 16) as u8;
            let (value, repeat, extra) = match sym {
                0..=15 => (sym, 1, 0),
                16 => {
                    let Some(&prev) = i.checked_sub(1).and_then(|p| lens.get(p)) else {
                        return Err(self.err("code length repeat with no previous length"));
                    };
                    (prev, 3, 2)
                }
                17 => (0, 3, 3),
                _ => (0, 11, 7),
            };
            let repeat = repeat + (low(self.bitbuf >> clen, extra)) as usize;
            self.bitbuf >>= clen + extra;
            self.bitsleft -= clen + extra;
            if self.overrun != 0 && self.overran() {
                return Err(self.err("truncated deflate data"));
            }
            if i + repeat > n {
                return Err(self.err("code lengths overflow the symbol count"));
            }
            lens[i..i + repeat].fill(value);
            i += repeat;
        }
        if lens[256] == 0 {
            return Err(self.err("no end-of-block code"));
        }
        build(
            &mut self.litlen[..],
            LITLEN_BITS,
            &lens[..hlit],
            &LITLEN_ENTRIES,
            Completeness::Complete,
        )
        .map_err(|w| self.err(w))?;
        build(
            &mut self.dist[..],
            DIST_BITS,
            &lens[hlit..n],
            &DIST_ENTRIES,
            Completeness::Distances,
        )
        .map_err(|w| self.err(w))?;
        Ok(())
    }

    /// Copy up to `n` bytes of a stored block, stopping at `limit`.
    fn stored<T: Symbol>(&mut self, input: &[u8], buf: &mut [T], op: &mut usize, n: usize, limit: usize) -> Result<(), InflateError> {
        // Whole bytes still in the bit buffer come first.
        let mut n = n;
        while n > 0 && self.bitsleft >= 8 && *op < limit {
            buf[*op] = T::literal(self.bits(input, 8)? as u8);
            *op += 1;
            n -= 1;
        }
        if self.bitsleft < 8 {
            // The buffer is byte-aligned here: rewind to its first unread byte.
            self.pos -= (self.bitsleft / 8) as usize;
            self.bitbuf = 0;
            self.bitsleft = 0;
            let take = n.min(limit - *op);
            let Some(src) = input.get(self.pos..self.pos + take) else {
                return Err(self.err("truncated stored block"));
            };
            for (d, &b) in buf[*op..*op + take].iter_mut().zip(src) {
                *d = T::literal(b);
            }
            *op += take;
            self.pos += take;
            n -= take;
        }
        self.block = if n == 0 { Block::Header } else { Block::Stored(n) };
        Ok(())
    }

    /// Decode Huffman symbols until the block ends or the output reaches
    /// `limit`; `TAIL` when the input may end within the next 32 bytes.
    /// Without `TAIL` the loop stops there.
    ///
    /// The loop keeps the entry of the next symbol looked up ahead: after a
    /// match's distance is decoded, the bit buffer is refilled and the next
    /// entry loaded before the match is copied, so that the table load
    /// overlaps the copy (306 -> 257 ms on the 222 MB table).
    #[inline(always)]
    fn huffman_loop<T: Symbol, const TAIL: bool>(
        &mut self,
        input: &[u8],
        buf: &mut [T],
        op_out: &mut usize,
        hist: usize,
        limit: usize,
    ) -> Result<(), InflateError> {
        let litlen = &*self.litlen;
        let dist = &*self.dist;
        let end = limit.min(buf.len().saturating_sub(MARGIN));
        // Each iteration refills twice at most, 8 bytes each.
        let in_end = if TAIL { usize::MAX } else { input.len().saturating_sub(32) };
        let (mut pos, mut bb, mut bl, mut overrun) = (self.pos, self.bitbuf, self.bitsleft, self.overrun);
        let mut op = *op_out;
        let mut failure = None;
        // Output before the symbol(s) of the last iteration, to take back a
        // symbol that turns out to have read past the end of the input.
        let mut mark = op;
        if !TAIL && pos > in_end {
            return Ok(());
        }
        Self::refill::<TAIL>(input, &mut pos, &mut bb, &mut bl, &mut overrun);
        let mut e = lookup(litlen, bb);
        // At the top of the loop at least 56 bits are available and `e` is
        // the next symbol's entry.
        while op < end && pos <= in_end {
            if TAIL && overrun * 8 > bl as usize {
                failure = Some("truncated deflate data");
                op = mark;
                break;
            }
            mark = op;
            if e & LITERAL != 0 {
                // Up to three literals per refill (15 bits at most each).
                bb >>= e & 31;
                bl -= e & 31;
                buf[op] = T::literal((e >> 16) as u8);
                op += 1;
                e = lookup(litlen, bb);
                if TAIL {
                    // Near the end of the input: one symbol per check.
                    Self::refill::<TAIL>(input, &mut pos, &mut bb, &mut bl, &mut overrun);
                    e = lookup(litlen, bb);
                    continue;
                }
                if e & LITERAL != 0 {
                    bb >>= e & 31;
                    bl -= e & 31;
                    buf[op] = T::literal((e >> 16) as u8);
                    op += 1;
                    e = lookup(litlen, bb);
                    if e & LITERAL != 0 {
                        bb >>= e & 31;
                        bl -= e & 31;
                        buf[op] = T::literal((e >> 16) as u8);
                        op += 1;
                        Self::refill::<TAIL>(input, &mut pos, &mut bb, &mut bl, &mut overrun);
                        e = lookup(litlen, bb);
                        continue;
                    }
                }
                // A length, the end of the block, or an invalid code after
                // one or two literals: refill, so that the length (20 bits
                // at most with its extra bits) and the distance (28) need no
                // refill in between. The entry was looked up with enough
                // bits. Straight from the top of the loop, 56 bits are there.
                Self::refill::<TAIL>(input, &mut pos, &mut bb, &mut bl, &mut overrun);
            }
            if e & EXCEPTIONAL != 0 {
                if e & END_OF_BLOCK != 0 {
                    bb >>= e & 31;
                    bl -= e & 31;
                    if TAIL && overrun * 8 > bl as usize {
                        failure = Some("truncated deflate data");
                    } else {
                        self.block = Block::Header;
                    }
                    break;
                }
                failure = Some("invalid literal/length code");
                break;
            }
            let total = e & 31;
            let len = (e >> 16) as usize + (low(bb, total) >> ((e >> 8) & 15)) as usize;
            bb >>= total;
            bl -= total;
            let d = lookup(dist, bb);
            if d & INVALID != 0 {
                failure = Some("invalid distance code");
                break;
            }
            let total = d & 31;
            let distance = (d >> 16) as usize + (low(bb, total) >> ((d >> 8) & 15)) as usize;
            bb >>= total;
            bl -= total;
            if TAIL && overrun * 8 > bl as usize {
                failure = Some("truncated deflate data");
                break;
            }
            if distance > op - hist {
                failure = Some("distance too far back");
                break;
            }
            // The next entry is looked up before the refill, off its
            // dependency chain: the bit buffer still holds 64 minus the
            // bits consumed since the last 8-byte refill (48 at most), at
            // least the 15 a lookup reads. Near the end of the input the
            // refill may have loaded fewer: refill first there.
            if TAIL {
                Self::refill::<TAIL>(input, &mut pos, &mut bb, &mut bl, &mut overrun);
                e = lookup(litlen, bb);
            } else {
                e = lookup(litlen, bb);
                Self::refill::<TAIL>(input, &mut pos, &mut bb, &mut bl, &mut overrun);
            }
            let src = op - distance;
            if distance >= 8 {
                // Two words cover most matches; longer ones loop. Words
                // written past the match's end are overwritten later.
                copy8(buf, src, op);
                copy8(buf, src + 8, op + 8);
                let (mut s, mut o) = (src + 16, op + 16);
                while o < op + len {
                    copy8(buf, s, o);
                    s += 8;
                    o += 8;
                }
            } else if distance == 1 {
                let b = buf[src];
                buf[op..op + len].fill(b);
            } else {
                for i in 0..len {
                    buf[op + i] = buf[src + i];
                }
            }
            op += len;
        }
        // Give back the bits of the entry looked up ahead: they stay in the
        // bit buffer (it was only looked at, not consumed).
        self.pos = pos;
        self.bitbuf = bb;
        self.bitsleft = bl;
        self.overrun = overrun;
        *op_out = op;
        match failure {
            Some(what) => Err(self.err(what)),
            None => Ok(()),
        }
    }
}

/// The entry of the symbol at the front of `bb` in a literal/length or
/// distance table (through its subtable when the codeword is long).
#[inline(always)]
fn lookup<const N: usize>(table: &[u32; N], bb: u64) -> u32 {
    let bits = if N == LITLEN_SIZE { LITLEN_BITS } else { DIST_BITS };
    let e = table[low(bb, bits) as usize];
    if e & SUBTABLE == 0 {
        return e;
    }
    table[(e >> 16) as usize + low(bb >> bits, e & 31) as usize]
}

/// Copy 8 symbols from `buf[from..]` to `buf[to..]` (`from + 8 <= to`).
#[inline(always)]
fn copy8<T: Symbol>(buf: &mut [T], from: usize, to: usize) {
    let w: [T; 8] = buf[from..from + 8].try_into().unwrap_or([T::default(); 8]);
    buf[to..to + 8].copy_from_slice(&w);
}

/// What the decoder writes: bytes, or 16-bit symbols with window markers.
trait Symbol: Copy + Default {
    fn literal(b: u8) -> Self;
}

impl Symbol for u8 {
    #[inline(always)]
    fn literal(b: u8) -> u8 {
        b
    }
}

impl Symbol for u16 {
    #[inline(always)]
    fn literal(b: u8) -> u16 {
        u16::from(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn inflate_all(data: &[u8]) -> Result<(Vec<u8>, usize), InflateError> {
        let mut d = Inflater::new(0);
        let mut out = Vec::new();
        loop {
            let p = d.next_piece(data)?;
            if p.is_empty() {
                break;
            }
            out.extend_from_slice(p);
        }
        assert!(d.is_done());
        Ok((out, d.position()))
    }

    fn deflate(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn sample(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed;
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let r = (x >> 33) as usize;
            match r % 4 {
                0 => out.extend_from_slice(&[(r >> 8) as u8; 1][..]),
                1 => out.extend(std::iter::repeat_n((r >> 8) as u8, r % 300)),
                2 => {
                    let back = (r >> 3) % 40_000 + 1;
                    let len = (r >> 20) % 280;
                    for _ in 0..len {
                        let b = if out.len() >= back { out[out.len() - back] } else { 7 };
                        out.push(b);
                    }
                }
                _ => out.extend_from_slice(b"AS131279 0.0.0.0/0 "),
            }
        }
        out.truncate(n);
        out
    }

    #[test]
    fn round_trips_every_level_and_size() {
        for n in [0, 1, 2, 7, 8, 9, 257, 258, 259, 32_768, 100_000, 3 * PIECE + 17] {
            let data = sample(n, n as u64);
            for level in [0, 1, 6, 9] {
                let c = deflate(&data, level);
                let (out, end) = inflate_all(&c).unwrap();
                assert!(out == data, "n {n} level {level}");
                assert_eq!(end, c.len(), "n {n} level {level}");
            }
        }
    }

    #[test]
    fn fixed_and_stored_blocks_and_trailing_bytes() {
        // Fixed-code block of "abc" built by hand: BFINAL=1, BTYPE=01.
        let data = b"hello hello hello hello";
        let c = deflate(data, 1);
        let mut with_tail = c.clone();
        with_tail.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5]);
        let (out, end) = inflate_all(&with_tail).unwrap();
        assert_eq!(out, data);
        assert_eq!(end, c.len());
        // Stored block: 01 (final, stored), LEN 3, NLEN !3.
        let stored = [1u8, 3, 0, !3, 0xff, b'x', b'y', b'z'];
        assert_eq!(inflate_all(&stored).unwrap(), (b"xyz".to_vec(), 8));
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        let data = sample(200_000, 5);
        let c = deflate(&data, 6);
        for cut in [0, 1, 2, 10, c.len() / 2, c.len() - 1] {
            assert!(inflate_all(&c[..cut]).is_err(), "cut at {cut}");
        }
        let mut x = 1u64;
        for _ in 0..300 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            let mut d = c.clone();
            let at = (x >> 20) as usize % d.len();
            d[at] ^= 1 << ((x >> 8) % 8);
            // Either an error or some output; never a panic or a hang.
            let _ = inflate_all(&d);
        }
        assert!(inflate_all(&[0b111]).is_err(), "block type 3");
        assert_eq!(inflate_all(&[1, 3, 0, 3, 0]).unwrap_err().what, "stored block length check failed");
    }

    /// Cut anywhere, the stream gives exactly the bytes zlib gives from the
    /// same prefix, then an error.
    #[test]
    fn cut_streams_keep_what_zlib_keeps() {
        use std::io::Read;
        let data = sample(40_000, 9);
        for level in [1, 6] {
            let c = deflate(&data, level);
            for cut in 0..c.len() {
                let mut d = Inflater::new(0);
                let mut out = Vec::new();
                let err = loop {
                    match d.next_piece(&c[..cut]) {
                        Ok([]) => break None,
                        Ok(p) => out.extend_from_slice(p),
                        Err(e) => break Some(e),
                    }
                };
                assert!(err.is_some(), "cut {cut}");
                let mut z = flate2::read::DeflateDecoder::new(&c[..cut]);
                let mut want = Vec::new();
                let _ = z.read_to_end(&mut want);
                assert_eq!(out.len(), want.len(), "level {level} cut {cut}");
                assert!(out == want, "level {level} cut {cut}");
            }
        }
    }

    #[test]
    fn huffman_tables_match_canonical_codes() {
        // Over-subscribed and incomplete codes are refused.
        let mut t = vec![0u32; LITLEN_SIZE];
        assert!(build(&mut t, 11, &[1, 1, 1], &LITLEN_ENTRIES, Completeness::Complete).is_err());
        assert!(build(&mut t, 11, &[1, 2], &LITLEN_ENTRIES, Completeness::Complete).is_err());
        assert!(build(&mut t, 8, &[1, 0], &DIST_ENTRIES, Completeness::Distances).is_ok());
        assert!(build(&mut t, 8, &[0, 0], &DIST_ENTRIES, Completeness::Distances).is_ok());
        assert!(build(&mut t, 8, &[2, 0], &DIST_ENTRIES, Completeness::Distances).is_err());
        // A code with lengths up to 15 (subtables): every codeword decodes
        // to its symbol with its length.
        let mut lens = vec![0u8; 20];
        for (i, l) in lens.iter_mut().enumerate().take(15) {
            *l = i as u8 + 1;
        }
        lens[15] = 15;
        build(&mut t, 11, &lens, &PRE_ENTRIES, Completeness::Complete).unwrap();
        let mut code = 0u32;
        for (sym, &len) in lens.iter().enumerate().filter(|(_, &l)| l > 0) {
            let len = u32::from(len);
            if sym > 0 && len > u32::from(lens[sym - 1]) {
                code <<= len - u32::from(lens[sym - 1]);
            }
            let rev = (code.reverse_bits() >> (32 - len)) as u64;
            let mut e = t[low(rev, 11) as usize];
            if e & SUBTABLE != 0 {
                e = t[(e >> 16) as usize + low(rev >> 11, e & 31) as usize];
            }
            assert_eq!((e >> 16) as usize, sym);
            assert_eq!(e & 31, len);
            code += 1;
        }
    }
}
