//! A bzip2 block decoder: one block, given its exact bit range.
//!
//! The stages are those of libbzip2 (Huffman → MTF/RLE2 → inverse BWT →
//! RLE1 → CRC), written for speed in safe Rust:
//!
//! - Huffman symbols come from a 1024-entry table per coding group indexed by
//!   the next 10 bits (nearly all codes in one lookup; longer ones by
//!   canonical ranges), from a 64-bit bit buffer refilled eight bytes at a
//!   time. libbzip2 walks code lengths one bit at a time.
//! - The inverse BWT, a chain of dependent random loads, is most of the
//!   time. Two things make it faster: the link vectors live in 2 MiB pages
//!   (an anonymous map advised for transparent huge pages: with 4 KiB pages
//!   nearly every load also missed the TLB), and the text is produced from
//!   both ends at once, forwards through the FL links and backwards through
//!   the LF links, two independent chains whose misses overlap.
//! - RLE1 is undone in a separate pass; the block CRC is computed with
//!   slicing-by-8.
//!
//! Measured on the 2-core dev machine (`benches/decompress.rs`, group
//! `decompress/block`, one 860 kB block): 33.8 ms with one chain and 4 KiB
//! pages, 31.5 ms with two chains, 16.1 ms with two chains in huge pages;
//! libbz2-rs-sys takes 37.3 ms. Blocks with the obsolete "randomised" bit
//! are left to the caller ([`BlockError::Randomised`]), which hands them to
//! libbz2-rs-sys.
//!
//! Every bound is checked: any input gives `Ok` or an error, never a panic
//! or an out-of-range write.

use super::scan::BLOCK_MAGIC;
use std::cell::RefCell;
use zerocopy::FromBytes;

const TABLE_BITS: u32 = 10;
const MAX_CODE_LEN: u32 = 20;
const MAX_GROUPS: usize = 6;
const MAX_ALPHA: usize = 258;
const GROUP_SIZE: u32 = 50;
/// libbzip2 1.0.8 keeps at most this many selectors (and ignores the rest).
const MAX_SELECTORS: usize = 18002;

/// Why a block did not decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockError {
    /// The block uses the obsolete randomisation (bzip2 0.9.0); decode it
    /// with libbzip2.
    Randomised,
    /// The data is not a valid block.
    Corrupt(&'static str),
    /// The decoded block's CRC differs from the stored one.
    Crc {
        /// CRC stored in the block header.
        stored: u32,
        /// CRC of the decoded bytes.
        computed: u32,
    },
}

impl std::fmt::Display for BlockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlockError::Randomised => f.write_str("randomised block"),
            BlockError::Corrupt(what) => write!(f, "corrupt block: {what}"),
            BlockError::Crc { stored, computed } => {
                write!(f, "block CRC mismatch (stored {stored:#010x}, computed {computed:#010x})")
            }
        }
    }
}

/// MSB-first bit reader over a byte slice, from a bit offset.
struct Bits<'a> {
    data: &'a [u8],
    /// Next byte to load.
    pos: usize,
    /// Valid bits at the top of `buf`.
    n: u32,
    buf: u64,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], bit: u64) -> Bits<'a> {
        let mut b = Bits {
            data,
            pos: usize::try_from(bit / 8).unwrap_or(usize::MAX),
            n: 0,
            buf: 0,
        };
        b.refill();
        let skip = (bit % 8) as u32;
        b.consume(skip.min(b.n));
        b
    }

    /// Bring the buffer to at least 56 valid bits (zeros past the end; see
    /// [`Bits::consumed`]).
    #[inline(always)]
    fn refill(&mut self) {
        if let Some(w) = self.data.get(self.pos..self.pos.wrapping_add(8)) {
            let w = u64::from_be_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
            self.buf |= w >> self.n;
            let bytes = (63 - self.n) / 8;
            self.pos += bytes as usize;
            self.n += bytes * 8;
        } else {
            while self.n <= 56 {
                let b = self.data.get(self.pos).copied().unwrap_or(0);
                self.buf |= u64::from(b) << (56 - self.n);
                self.pos = self.pos.saturating_add(1);
                self.n += 8;
            }
        }
    }

    #[inline(always)]
    fn peek(&self, k: u32) -> u32 {
        (self.buf >> (64 - k)) as u32
    }

    #[inline(always)]
    fn consume(&mut self, k: u32) {
        self.buf <<= k;
        self.n -= k;
    }

    /// Read `k` ≤ 32 bits.
    #[inline(always)]
    fn get(&mut self, k: u32) -> u32 {
        if self.n < k {
            self.refill();
        }
        let v = self.peek(k);
        self.consume(k);
        v
    }

    /// Bits consumed since bit 0 of `data`.
    fn consumed(&self) -> u64 {
        (self.pos as u64) * 8 - u64::from(self.n)
    }
}

/// Decoding table of one coding group.
struct Table {
    /// Indexed by the next 10 bits: `symbol << 5 | length`, or 0 for codes
    /// longer than 10 bits (and unused prefixes).
    fast: [u16; 1 << TABLE_BITS],
    /// Canonical ranges for the long codes: first code and first index of
    /// each length into `perm`, and symbols per length.
    first_code: [u32; MAX_CODE_LEN as usize + 1],
    first_index: [u16; MAX_CODE_LEN as usize + 1],
    count: [u16; MAX_CODE_LEN as usize + 1],
    perm: [u16; MAX_ALPHA],
    max_len: u32,
}

impl Table {
    fn new() -> Table {
        Table {
            fast: [0; 1 << TABLE_BITS],
            first_code: [0; MAX_CODE_LEN as usize + 1],
            first_index: [0; MAX_CODE_LEN as usize + 1],
            count: [0; MAX_CODE_LEN as usize + 1],
            perm: [0; MAX_ALPHA],
            max_len: 0,
        }
    }

    /// Build from code lengths (1..=20), canonical as the bzip2 encoder
    /// assigns them (by length, then symbol).
    fn build(&mut self, lens: &[u8]) -> Result<(), BlockError> {
        self.fast = [0; 1 << TABLE_BITS];
        self.count = [0; MAX_CODE_LEN as usize + 1];
        for &l in lens {
            self.count[usize::from(l)] += 1;
        }
        let mut code = 0u32;
        let mut index = 0u16;
        self.max_len = 0;
        for len in 1..=MAX_CODE_LEN as usize {
            self.first_code[len] = code;
            self.first_index[len] = index;
            code += u32::from(self.count[len]);
            index += self.count[len];
            if self.count[len] > 0 {
                self.max_len = len as u32;
            }
            if code > 1 << len {
                return Err(BlockError::Corrupt("over-subscribed Huffman code"));
            }
            code <<= 1;
        }
        let mut next = self.first_index;
        for (sym, &l) in lens.iter().enumerate() {
            let l = usize::from(l);
            let i = usize::from(next[l]);
            next[l] += 1;
            if let Some(p) = self.perm.get_mut(i) {
                *p = sym as u16;
            }
            if l as u32 <= TABLE_BITS {
                let c = self.first_code[l] + (i as u32 - u32::from(self.first_index[l]));
                let shift = TABLE_BITS - l as u32;
                let start = (c << shift) as usize;
                let end = start + (1usize << shift);
                if let Some(slots) = self.fast.get_mut(start..end) {
                    slots.fill(((sym as u16) << 5) | l as u16);
                }
            }
        }
        Ok(())
    }

    /// Decode one symbol; the buffer must hold at least 20 bits.
    #[inline(always)]
    fn decode(&self, bits: &mut Bits<'_>) -> Result<u32, BlockError> {
        let e = self.fast[bits.peek(TABLE_BITS) as usize];
        if e != 0 {
            bits.consume(u32::from(e & 31));
            return Ok(u32::from(e >> 5));
        }
        self.decode_long(bits)
    }

    #[cold]
    fn decode_long(&self, bits: &mut Bits<'_>) -> Result<u32, BlockError> {
        for len in TABLE_BITS + 1..=self.max_len {
            let c = bits.peek(len);
            let l = len as usize;
            let off = c.wrapping_sub(self.first_code[l]);
            if off < u32::from(self.count[l]) {
                bits.consume(len);
                let sym = self.perm[usize::from(self.first_index[l]) + off as usize];
                return Ok(u32::from(sym));
            }
        }
        Err(BlockError::Corrupt("invalid Huffman code"))
    }
}

/// Per-thread scratch: the BWT vector (up to 3.6 MB) and the tables, kept
/// between blocks to avoid page faults on fresh allocations.
struct Scratch {
    links: Links,
    raw: Vec<u8>,
    tables: Vec<Table>,
}

impl Scratch {
    const fn new() -> Scratch {
        Scratch {
            links: Links {
                map: None,
                vec: Vec::new(),
            },
            raw: Vec::new(),
            tables: Vec::new(),
        }
    }
}

/// Largest block of any bzip2 stream (level 9).
const MAX_BLOCK: usize = 900_000;
const HUGE_PAGE: usize = 2 << 20;

/// The forward and backward link vectors, `2 × MAX_BLOCK` words: an
/// anonymous map advised for huge pages, or a `Vec` where that fails.
struct Links {
    map: Option<memmap2::MmapMut>,
    vec: Vec<u32>,
}

impl Links {
    /// # Performance
    /// The inverse BWT is a chain of dependent random loads over 7.2 MB;
    /// with 4 KiB pages most of them also miss the TLB. Backing the vectors
    /// with 2 MiB pages (transparent huge pages; `madvise` mode is the
    /// common default) removes those page walks.
    fn get(&mut self) -> &mut [u32] {
        const BYTES: usize = 2 * MAX_BLOCK * 4;
        if self.map.is_none() && self.vec.is_empty() {
            // One spare huge page to align the vectors on a huge-page boundary.
            self.map = memmap2::MmapMut::map_anon(BYTES + HUGE_PAGE).ok();
            if let Some(m) = &self.map {
                let _ = m.advise(memmap2::Advice::HugePage);
            }
            if self.map.is_none() {
                self.vec = vec![0; 2 * MAX_BLOCK];
            }
        }
        match self.map.as_mut() {
            Some(m) => {
                let skew = (HUGE_PAGE - m.as_ptr() as usize % HUGE_PAGE) % HUGE_PAGE;
                // Page-aligned, so the cast cannot fail; an empty slice if it did.
                m.get_mut(skew..skew + BYTES)
                    .and_then(|r| <[u32]>::mut_from_bytes(r).ok())
                    .unwrap_or_default()
            }
            None => &mut self.vec,
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch::new()) };
}

/// Decode the block whose magic starts at bit `start` of `data` and which
/// ends exactly at bit `end`, appending its bytes to `out`. `max_block` is
/// the stream's block size (100 000 × level). Returns the block's stored
/// CRC (verified).
pub fn decode_block(data: &[u8], start: u64, end: u64, max_block: usize, out: &mut Vec<u8>) -> Result<u32, BlockError> {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => decode_with(&mut s, data, start, end, max_block, out),
        Err(_) => decode_with(&mut Scratch::new(), data, start, end, max_block, out),
    })
}

fn decode_with(s: &mut Scratch, data: &[u8], start: u64, end: u64, max_block: usize, out: &mut Vec<u8>) -> Result<u32, BlockError> {
    let corrupt = BlockError::Corrupt;
    if end > (data.len() as u64) * 8 || end < start {
        return Err(corrupt("block range outside the data"));
    }
    let mut bits = Bits::new(data, start);
    let magic = (u64::from(bits.get(24)) << 24) | u64::from(bits.get(24));
    if magic != BLOCK_MAGIC {
        return Err(corrupt("bad block magic"));
    }
    let stored_crc = bits.get(32);
    if bits.get(1) != 0 {
        return Err(BlockError::Randomised);
    }
    let orig_ptr = bits.get(24) as usize;

    // Symbol map.
    let used16 = bits.get(16);
    let mut seq_to_byte = [0u8; 256];
    let mut n_in_use = 0usize;
    for i in 0..16 {
        if used16 & (0x8000 >> i) != 0 {
            let used = bits.get(16);
            for j in 0..16 {
                if used & (0x8000 >> j) != 0 {
                    seq_to_byte[n_in_use] = (i * 16 + j) as u8;
                    n_in_use += 1;
                }
            }
        }
    }
    if n_in_use == 0 {
        return Err(corrupt("no symbols in use"));
    }
    let alpha = n_in_use + 2;

    // Coding groups and selectors.
    let n_groups = bits.get(3) as usize;
    if !(2..=MAX_GROUPS).contains(&n_groups) {
        return Err(corrupt("bad number of Huffman groups"));
    }
    let n_selectors = bits.get(15) as usize;
    if n_selectors == 0 {
        return Err(corrupt("no selectors"));
    }
    let mut group_mtf = [0u8, 1, 2, 3, 4, 5];
    let mut selectors = Vec::with_capacity(n_selectors.min(MAX_SELECTORS));
    for _ in 0..n_selectors {
        let mut j = 0usize;
        while bits.get(1) == 1 {
            j += 1;
            if j >= n_groups {
                return Err(corrupt("bad selector"));
            }
        }
        let g = group_mtf[j];
        group_mtf.copy_within(0..j, 1);
        group_mtf[0] = g;
        if selectors.len() < MAX_SELECTORS {
            selectors.push(g);
        }
    }

    // Code lengths, delta-coded.
    while s.tables.len() < n_groups {
        s.tables.push(Table::new());
    }
    let mut lens = [0u8; MAX_ALPHA];
    for table in s.tables.iter_mut().take(n_groups) {
        let mut cur = bits.get(5);
        for l in lens.iter_mut().take(alpha) {
            loop {
                if !(1..=MAX_CODE_LEN).contains(&cur) {
                    return Err(corrupt("bad Huffman code length"));
                }
                if bits.get(1) == 0 {
                    break;
                }
                if bits.get(1) == 0 {
                    cur += 1;
                } else {
                    cur -= 1;
                }
            }
            *l = cur as u8;
        }
        table.build(&lens[..alpha])?;
    }

    // Symbols → MTF/RLE2 → bytes in tt (low 8 bits), with counts.
    let max_block = max_block.min(MAX_BLOCK);
    let links = s.links.get();
    if links.len() < 2 * MAX_BLOCK {
        return Err(corrupt("no memory for the block"));
    }
    let (tt, bt) = links.split_at_mut(MAX_BLOCK);
    let mut n = 0usize;
    let mut counts = [0u32; 256];
    let mut mtf = [0u8; 256];
    mtf[..n_in_use].copy_from_slice(&seq_to_byte[..n_in_use]);
    let eob = (n_in_use + 1) as u32;
    let mut run: usize = 0;
    let mut run_bit: usize = 1;
    let mut group = 0usize;
    let mut left = 0u32;
    let mut table = &s.tables[0];
    loop {
        if left == 0 {
            let sel = *selectors.get(group).ok_or(corrupt("ran out of selectors"))?;
            table = &s.tables[usize::from(sel)];
            group += 1;
            left = GROUP_SIZE;
        }
        left -= 1;
        if bits.n < MAX_CODE_LEN {
            bits.refill();
        }
        let sym = table.decode(&mut bits)?;
        if sym <= 1 {
            // RUNA / RUNB: bijective base-2 run length of the front symbol.
            run += run_bit << sym;
            run_bit <<= 1;
            if run > max_block {
                return Err(corrupt("run longer than the block"));
            }
            continue;
        }
        if run > 0 {
            let b = mtf[0];
            let fill = tt.get_mut(n..n + run).filter(|_| n + run <= max_block);
            fill.ok_or(corrupt("block longer than its stream's block size"))?.fill(u32::from(b));
            counts[usize::from(b)] += run as u32;
            n += run;
            run = 0;
            run_bit = 1;
        }
        if sym == eob {
            break;
        }
        let idx = (sym - 1) as usize;
        if idx >= n_in_use {
            return Err(corrupt("symbol out of range"));
        }
        if n >= max_block {
            return Err(corrupt("block longer than its stream's block size"));
        }
        let b = mtf[idx];
        mtf.copy_within(0..idx, 1);
        mtf[0] = b;
        counts[usize::from(b)] += 1;
        tt[n] = u32::from(b);
        n += 1;
    }
    if bits.consumed() != end {
        return Err(corrupt(if bits.consumed() > end {
            "block runs past its end"
        } else {
            "bytes after the end of the block"
        }));
    }
    if orig_ptr >= n {
        return Err(corrupt("BWT origin pointer out of range"));
    }
    let (tt, bt) = (&mut tt[..n], &mut bt[..n]);

    // Inverse BWT. With L the decoded column (low byte of tt) and LF the
    // usual last-to-first map, the scatter below computes both directions:
    // tt[LF(i)] gets i in its high bits (FL, the forward link) and bt[i]
    // gets LF(i) (the backward link) next to L[i]. The text is
    // T[k] = L[FL^(k+1)(orig)] forwards and T[n-1-k] = L[LF^k(orig)]
    // backwards.
    let mut next = [0u32; 256];
    let mut sum = 0u32;
    for (c, &k) in next.iter_mut().zip(counts.iter()) {
        *c = sum;
        sum += k;
    }
    for (i, back) in bt.iter_mut().enumerate() {
        let b = tt[i] & 0xff;
        let at = next[b as usize];
        next[b as usize] += 1;
        tt[at as usize] |= (i as u32) << 8;
        *back = (at << 8) | b;
    }

    // Walk both chains at once: the walk is a chain of dependent cache
    // misses, and two independent chains overlap their misses (with one
    // chain this loop was three quarters of the block's time).
    let raw = &mut s.raw;
    raw.clear();
    raw.resize(n, 0);
    let half = n / 2;
    let (front, back) = raw.split_at_mut(half);
    let mut f = tt[orig_ptr] >> 8;
    let mut g = orig_ptr as u32;
    for (x, y) in front.iter_mut().zip(back.iter_mut().rev()) {
        let e = tt[f as usize];
        let d = bt[g as usize];
        *x = e as u8;
        *y = d as u8;
        f = e >> 8;
        g = d >> 8;
    }
    if n % 2 == 1 {
        back[0] = bt[g as usize] as u8;
    }

    // Undo RLE1: after four equal bytes comes a count of further copies.
    let start_len = out.len();
    out.reserve(n + n / 8 + 16);
    let mut last: u32 = 0x100;
    let mut same = 0u32;
    for &b in raw.iter() {
        let b = u32::from(b);
        if same == 4 {
            out.resize(out.len() + b as usize, last as u8);
            same = 0;
            last = 0x100;
            continue;
        }
        if b == last {
            same += 1;
        } else {
            same = 1;
            last = b;
        }
        out.push(b as u8);
    }
    let computed = crc32(&out[start_len..]);
    if computed != stored_crc {
        out.truncate(start_len);
        return Err(BlockError::Crc {
            stored: stored_crc,
            computed,
        });
    }
    Ok(stored_crc)
}

const fn crc_tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u32) << 24;
        let mut k = 0;
        while k < 8 {
            c = if c & 0x8000_0000 != 0 { (c << 1) ^ 0x04c1_1db7 } else { c << 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut s = 1;
    while s < 8 {
        let mut i = 0;
        while i < 256 {
            let p = t[s - 1][i];
            t[s][i] = (p << 8) ^ t[0][(p >> 24) as usize];
            i += 1;
        }
        s += 1;
    }
    t
}

static CRC: [[u32; 256]; 8] = crc_tables();

/// The bzip2 CRC (CRC-32, MSB first, as libbzip2 computes it) of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    let t = &CRC;
    let mut crc = !0u32;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let hi = crc ^ u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        crc = t[7][(hi >> 24) as usize]
            ^ t[6][((hi >> 16) & 0xff) as usize]
            ^ t[5][((hi >> 8) & 0xff) as usize]
            ^ t[4][(hi & 0xff) as usize]
            ^ t[3][usize::from(c[4])]
            ^ t[2][usize::from(c[5])]
            ^ t[1][usize::from(c[6])]
            ^ t[0][usize::from(c[7])];
    }
    for &b in chunks.remainder() {
        crc = (crc << 8) ^ t[0][((crc >> 24) ^ u32::from(b)) as usize];
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decompress::scan::{self, MagicKind};
    use std::io::Write;

    fn bz(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = ::bzip2::write::BzEncoder::new(Vec::new(), ::bzip2::Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn crc_bytewise(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b) << 24;
            for _ in 0..8 {
                crc = if crc & 0x8000_0000 != 0 {
                    (crc << 1) ^ 0x04c1_1db7
                } else {
                    crc << 1
                };
            }
        }
        !crc
    }

    #[test]
    fn crc_matches_bytewise() {
        let d: Vec<u8> = (0..1000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for n in [0, 1, 7, 8, 9, 63, 1000] {
            assert_eq!(crc32(&d[..n]), crc_bytewise(&d[..n]), "{n}");
        }
        assert_eq!(crc32(b"123456789"), 0xfc89_1918); // CRC-32/BZIP2 check value
    }

    fn blocks(c: &[u8]) -> Vec<(u64, u64)> {
        let mut m = Vec::new();
        scan::scan(c, 0, &mut m);
        m.windows(2)
            .filter(|w| w[0].kind == MagicKind::Block)
            .map(|w| (w[0].bit, w[1].bit))
            .collect()
    }

    fn check(data: &[u8], level: u32) {
        let c = bz(data, level);
        let mut out = Vec::new();
        for (s, e) in blocks(&c) {
            decode_block(&c, s, e, level as usize * 100_000, &mut out).unwrap();
        }
        assert_eq!(out, data);
    }

    #[test]
    fn decodes_varied_data() {
        check(b"", 9);
        check(b"a", 9);
        check(b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1);
        let zeros = vec![0u8; 3_000_000]; // RLE1 runs, huge RUNA/RUNB runs
        check(&zeros, 1);
        let all: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8 ^ (i / 7919) as u8).collect();
        check(&all, 2);
        let mut x = 1u64;
        let noisy: Vec<u8> = (0..400_000)
            .map(|i: u32| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                if i.is_multiple_of(5) {
                    (x >> 56) as u8
                } else {
                    (i / 1000) as u8
                }
            })
            .collect();
        check(&noisy, 3);
        // Four equal bytes then a count of zero, and runs at block edges.
        let mut edge = Vec::new();
        for k in 0..2000u32 {
            edge.extend(std::iter::repeat_n((k % 3) as u8, (k % 9) as usize));
        }
        check(&edge, 1);
    }

    #[test]
    fn randomised_blocks_are_left_to_libbzip2() {
        let c = bz(b"hello hello hello", 1);
        let (s, e) = blocks(&c)[0];
        let mut r = c.clone();
        let bit = s + 48 + 32; // the randomised flag
        r[(bit / 8) as usize] |= 0x80 >> (bit % 8);
        assert_eq!(decode_block(&r, s, e, 100_000, &mut Vec::new()), Err(BlockError::Randomised));
    }

    #[test]
    fn errors_not_panics() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 97) as u8 ^ (i >> 9) as u8).collect();
        let c = bz(&data, 2);
        let (s, e) = blocks(&c)[0];
        let mut out = Vec::new();
        assert!(matches!(decode_block(&c, s, e - 1, 200_000, &mut out), Err(BlockError::Corrupt(_))));
        assert!(matches!(decode_block(&c, s, e + 1, 200_000, &mut out), Err(BlockError::Corrupt(_))));
        assert!(decode_block(&c, s + 1, e, 200_000, &mut out).is_err());
        assert!(decode_block(&c, s, e, 100, &mut out).is_err());
        let mut bad = c.clone();
        bad[(s / 8) as usize + 8] ^= 0x01; // in the CRC field
        assert!(matches!(decode_block(&bad, s, e, 200_000, &mut out), Err(BlockError::Crc { .. })));
        let mut x = 3u64;
        for _ in 0..300 {
            let mut m = c.clone();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = (s / 8) as usize + 10 + (x % 2000) as usize;
            m[at] ^= 1 << (x >> 61);
            out.clear();
            let _ = decode_block(&m, s, e, 200_000, &mut out);
        }
        assert!(out.len() <= 200_000 * 52);
    }
}
