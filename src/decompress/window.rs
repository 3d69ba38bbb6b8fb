//! Compressed input read from a stream (standard input, a pipe, `Source::from_reader`) into
//! a sliding window, for the streaming gzip, zstd and xz decoders: they
//! decode the same units with the same calls as the decoders of an input
//! in memory, and resynchronise after damage with the same scan
//! ([`scan`]), so that both give the same bytes and the same errors.
//!
//! Positions are absolute offsets in the compressed input. Memory: the
//! window holds what a decoder still needs (its look-ahead, and
//! [`LOOKBACK`] behind its position, where a resynchronisation may start),
//! a few MiB whatever the input's size.

use super::DecodeError;
use std::io::Read;

/// Compressed bytes read at a time.
const READ_STEP: usize = 256 << 10;

/// How far before the position where a unit's damage was noticed the next
/// unit is looked for: a damaged length (a stored deflate block, a raw zstd
/// block) can carry a decoder past the end of its unit into the next one
/// before it notices. Decoders of a stream keep this much behind them.
pub const LOOKBACK: u64 = 1 << 20;

/// What [`scan`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Scan {
    /// A unit starts here.
    Found(usize),
    /// None starts before this position; scanning goes on from here once
    /// more bytes are there.
    Before(usize),
}

/// The first position `p` at or after `from` where `is_start` accepts
/// `data[p..]` cut to at most `need` bytes. Without `eof`, only positions
/// with `need` bytes after them are tried, so that a window over a stream
/// and the whole input decide the same.
pub fn scan(data: &[u8], from: usize, need: usize, eof: bool, is_start: &mut dyn FnMut(&[u8]) -> bool) -> Scan {
    let last = if eof { data.len() } else { data.len().saturating_sub(need) };
    let mut p = from;
    while p < last {
        let end = p.saturating_add(need).min(data.len());
        if is_start(&data[p..end]) {
            return Scan::Found(p);
        }
        p += 1;
    }
    Scan::Before(p.max(from))
}

/// A sliding window over a compressed stream.
pub struct Window<R> {
    input: R,
    buf: Vec<u8>,
    /// Absolute offset of `buf[0]`.
    base: u64,
    eof: bool,
}

impl<R: Read> Window<R> {
    /// A window over `input`, empty.
    pub fn new(input: R) -> Window<R> {
        Window {
            input,
            buf: Vec::new(),
            base: 0,
            eof: false,
        }
    }

    /// Absolute offset of the first byte held.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Absolute offset just past the last byte held.
    pub fn end(&self) -> u64 {
        self.base + self.buf.len() as u64
    }

    /// Whether the input has been read to its end.
    pub fn is_eof(&self) -> bool {
        self.eof
    }

    /// The bytes held.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The bytes from absolute offset `at` to the end of the window (empty
    /// when `at` is not inside it).
    pub fn from(&self, at: u64) -> &[u8] {
        at.checked_sub(self.base)
            .and_then(|r| usize::try_from(r).ok())
            .and_then(|r| self.buf.get(r..))
            .unwrap_or(&[])
    }

    /// `at` as an index into [`Window::bytes`].
    pub fn rel(&self, at: u64) -> usize {
        usize::try_from(at.saturating_sub(self.base)).unwrap_or(usize::MAX)
    }

    /// Read until the window reaches absolute offset `end`, or the input
    /// ends.
    pub fn fill_to(&mut self, end: u64) -> Result<(), DecodeError> {
        while !self.eof && self.end() < end {
            let old = self.buf.len();
            let want = usize::try_from(end - self.end()).unwrap_or(usize::MAX).max(READ_STEP);
            self.buf.resize(old + want.min(64 << 20), 0);
            let n = loop {
                match self.input.read(&mut self.buf[old..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.buf.truncate(old);
                        return Err(DecodeError::io(e, self.base + old as u64));
                    }
                }
            };
            self.buf.truncate(old + n);
            if n == 0 {
                self.eof = true;
            }
        }
        Ok(())
    }

    /// Forget the bytes before absolute offset `at`, once they are half the
    /// window (and at least [`READ_STEP`]): the rest is moved to the front,
    /// so each byte is moved about once. Returns how far the window's start
    /// moved: positions kept relative to it go back by as much.
    pub fn release(&mut self, at: u64) -> usize {
        let drop = usize::try_from(at.saturating_sub(self.base))
            .unwrap_or(usize::MAX)
            .min(self.buf.len());
        if drop < READ_STEP || drop * 2 < self.buf.len() {
            return 0;
        }
        self.buf.drain(..drop);
        self.base += drop as u64;
        drop
    }

    /// Read on to absolute offset `to`, releasing all but the [`LOOKBACK`]
    /// bytes before the position reached (a skippable zstd frame is passed
    /// over this way). `false` when the input ends first.
    pub fn skip_to(&mut self, to: u64) -> Result<bool, DecodeError> {
        loop {
            let here = self.end();
            if here >= to {
                return Ok(true);
            }
            if self.eof {
                return Ok(false);
            }
            self.release(here.saturating_sub(LOOKBACK));
            self.fill_to(to.min(here + (8 << 20)))?;
        }
    }

    /// The first absolute offset at or after `from` where a unit starts (see
    /// [`scan`]), reading on as needed and releasing what the scan has
    /// passed (all but the 8 bytes before the position reached: a gzip
    /// trailer before a member found); `None` when the input ends first.
    pub fn find(&mut self, from: u64, need: usize, is_start: &mut dyn FnMut(&[u8]) -> bool) -> Result<Option<u64>, DecodeError> {
        debug_assert!(from >= self.base, "the window no longer holds {from}");
        let mut at = from.max(self.base);
        loop {
            self.release(at.saturating_sub(8));
            self.fill_to(at.saturating_add(need as u64 + READ_STEP as u64))?;
            match scan(&self.buf, self.rel(at), need, self.eof, is_start) {
                Scan::Found(p) => return Ok(Some(self.base + p as u64)),
                Scan::Before(p) => {
                    at = self.base + p as u64;
                    if self.eof && p >= self.buf.len() {
                        return Ok(None);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_scans_as_the_whole_input_does() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let data: Vec<u8> = (0..3_000_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 56) as u8
            })
            .collect();
        // "Starts": the byte 7 followed by 9, then at least 5 bytes.
        let mut is_start = |b: &[u8]| b.len() >= 7 && b[0] == 7 && b[1] == 9;
        let mut whole = Vec::new();
        let mut from = 0;
        while let Scan::Found(p) = scan(&data, from, 7, true, &mut is_start) {
            whole.push(p as u64);
            from = p + 1;
        }
        assert!(whole.len() > 10, "{}", whole.len());
        let mut w = Window::new(&data[..]);
        let mut got = Vec::new();
        let mut from = 0;
        while let Some(p) = w.find(from, 7, &mut is_start).unwrap() {
            got.push(p);
            from = p + 1;
            // Whatever a decoder keeps, the window stays small.
            assert!(w.bytes().len() < 2 << 20);
        }
        assert_eq!(got, whole);
    }
}
