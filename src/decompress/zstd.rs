//! Zstandard from memory (a mapped file or a buffer): frames found without
//! decoding and decoded on rayon workers, handed out in order.
//!
//! A frame's extent is known from its headers alone (RFC 8878 §3.1.1): the
//! frame header, then blocks whose 3-byte headers give their sizes up to
//! the one marked last, then an optional 4-byte checksum; skippable frames
//! (§3.1.2) give their size and are skipped. [`frame_at`] walks them and
//! also bounds the frame's output: its Frame_Content_Size when present,
//! otherwise the sum of raw and RLE block sizes plus 128 KiB (the largest
//! block) per compressed block.
//!
//! Frames whose output bound is at most [`PARALLEL_FRAME_MAX`] are decoded
//! whole by libzstd (`zstd::bulk`, which checks the content size and
//! checksum) on rayon workers, at most [`super::Options::max_in_flight`] at
//! a time and within a budget of [`PARALLEL_BUDGET`] output bytes (one
//! frame is always allowed). Larger frames (`zstd -T0` and the `zstd`
//! library write one frame for the whole file) are streamed on the caller's
//! thread: libzstd streams at over 1 GB/s, and a whole-frame decode would
//! only delay parsing. With at most two rayon threads every frame is
//! streamed ([`memory_parallel`]): on the 2-core dev machine, 27 `pzstd`
//! frames to snapshot took 374 ms (best of 10, 2 threads) decoded in
//! parallel against 316 ms streamed. Decoding whole frames into memory
//! costs page faults and cache misses (8-10% of the profile, and the
//! copy out of a frame-sized buffer instead of a cache-sized one) that
//! only a third core pays back, since the parser needs the second. Frames
//! to stream are walked only until that is known ([`frame_within`]): a
//! walk to the end of one large frame read every page of it before
//! decoding began, so a mapped 199 MB single-frame file peaked at 233 MB
//! resident, and at 118 MB without that walk. A frame that cannot be walked (truncated, reserved
//! block type, bad magic) is streamed too, from its start, so everything
//! decodable before the damage is handed out before the error.

use super::ordered::{Buffer, BytesReader, Ordered, Pool};
use super::{Decode, DecodeError, CHUNK};
use bytes::Bytes;
use std::io::Read;

/// Frames with at most this much output are decoded whole on workers.
pub const PARALLEL_FRAME_MAX: usize = 32 << 20;
/// Output bytes of frames in flight, at most (one frame is always allowed).
pub const PARALLEL_BUDGET: usize = 64 << 20;

/// The largest block's output (RFC 8878 §3.1.1.2.4, Block_Maximum_Size).
const BLOCK_MAX: u64 = 128 << 10;
const MAGIC: u32 = 0xfd2f_b528;

/// Whether frames are worth decoding in parallel on a pool of `threads`
/// (see the module documentation).
pub fn memory_parallel(threads: usize) -> bool {
    threads > 2
}

/// What [`frame_at`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A data frame ending at `end`, with at most `bound` bytes of output
    /// (exactly `bound` when `exact`: the content size was given).
    Data {
        /// Offset just past the frame.
        end: usize,
        /// Output size bound.
        bound: u64,
        /// Whether `bound` is the declared content size.
        exact: bool,
    },
    /// A skippable frame ending at `end`.
    Skippable {
        /// Offset just past the frame.
        end: usize,
    },
    /// A data frame with more output than the limit given to
    /// [`frame_within`], not walked to its end (that would read every
    /// page of it before it is decoded).
    Large,
}

fn le(data: &[u8], at: usize, n: usize) -> Option<u64> {
    let b = data.get(at..at.checked_add(n)?)?;
    Some(b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
}

/// Walk the frame starting at `at`; `Err` says why it cannot be walked.
pub fn frame_at(data: &[u8], at: usize) -> Result<Frame, &'static str> {
    frame_within(data, at, u64::MAX)
}

/// [`frame_at`], but stop with [`Frame::Large`] as soon as the frame is
/// known to have more than `limit` bytes of output.
pub fn frame_within(data: &[u8], at: usize, limit: u64) -> Result<Frame, &'static str> {
    const TRUNC: &str = "truncated: the input ends inside this frame";
    let magic = le(data, at, 4).ok_or("truncated frame magic")? as u32;
    if magic & 0xffff_fff0 == 0x184d_2a50 {
        let size = le(data, at + 4, 4).ok_or(TRUNC)?;
        let end = usize::try_from(size)
            .ok()
            .and_then(|s| (at + 8).checked_add(s))
            .filter(|&e| e <= data.len())
            .ok_or(TRUNC)?;
        return Ok(Frame::Skippable { end });
    }
    if magic != MAGIC {
        return Err("not a zstd frame (bad magic)");
    }
    let fhd = *data.get(at + 4).ok_or(TRUNC)?;
    if fhd & 0x08 != 0 {
        return Err("reserved frame header bit set");
    }
    let single = fhd & 0x20 != 0;
    let did = [0, 1, 2, 4][usize::from(fhd & 3)];
    let fcs_len = match fhd >> 6 {
        0 => usize::from(single),
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let fcs_at = at + 5 + usize::from(!single) + did;
    let fcs = match fcs_len {
        0 => None,
        2 => le(data, fcs_at, 2).map(|v| v + 256),
        n => le(data, fcs_at, n),
    };
    if fcs_len > 0 && fcs.is_none() {
        return Err(TRUNC);
    }
    if fcs.is_some_and(|n| n > limit) {
        return Ok(Frame::Large);
    }
    let mut p = fcs_at + fcs_len;
    let mut bound = 0u64;
    loop {
        let h = le(data, p, 3).ok_or(TRUNC)?;
        let (last, kind, size) = (h & 1 != 0, (h >> 1) & 3, h >> 3);
        let (stored, out) = match kind {
            0 => (size, size),
            1 => (1, size),
            2 if size <= BLOCK_MAX => (size, BLOCK_MAX),
            2 => return Err("compressed block larger than 128 KiB"),
            _ => return Err("reserved block type"),
        };
        p = usize::try_from(stored)
            .ok()
            .and_then(|s| (p + 3).checked_add(s))
            .filter(|&e| e <= data.len())
            .ok_or(TRUNC)?;
        bound = bound.saturating_add(out);
        if last {
            break;
        }
        if fcs.is_none() && bound > limit {
            return Ok(Frame::Large);
        }
    }
    if fhd & 0x04 != 0 {
        p += 4;
        if p > data.len() {
            return Err(TRUNC);
        }
    }
    Ok(match fcs {
        Some(n) => Frame::Data {
            end: p,
            bound: n,
            exact: true,
        },
        None => Frame::Data {
            end: p,
            bound,
            exact: false,
        },
    })
}

/// The in-memory zstd decoder (see the module documentation).
pub struct MemoryZstd {
    data: Bytes,
    /// Where the next frame to walk starts.
    scan: usize,
    /// Frames walked (data and skippable).
    frames: u64,
    /// The frame being streamed, from its start to the end of the input.
    streamed: Option<(::zstd::stream::read::Decoder<'static, BytesReader>, usize, u64)>,
    /// Frames walked but not handed to a job: streamed when their turn comes.
    waiting: Option<(usize, u64)>,
    /// Why the walk stopped early (handed out after streaming that frame).
    walk_error: Option<(usize, u64, &'static str)>,
    jobs: Ordered<(usize, u64), Result<(Buffer, usize), String>>,
    /// The frame being handed out (its length), and how far.
    current: Option<Buffer>,
    current_len: usize,
    pool: Pool,
    handed: usize,
    buf: Vec<u8>,
    max_in_flight: usize,
    /// Whether frames go to workers (otherwise every frame is streamed).
    parallel: bool,
    done: bool,
}

impl MemoryZstd {
    /// A decoder over the zstd frame(s) in `data`, with at most
    /// `max_in_flight` frames decoding at once; with `parallel` false,
    /// every frame is streamed on the caller's thread.
    pub fn new(data: Bytes, max_in_flight: usize, parallel: bool) -> MemoryZstd {
        MemoryZstd {
            data,
            scan: 0,
            frames: 0,
            streamed: None,
            waiting: None,
            walk_error: None,
            jobs: Ordered::new(),
            current: None,
            current_len: 0,
            pool: Pool::new(PARALLEL_BUDGET),
            handed: 0,
            buf: Vec::new(),
            max_in_flight: max_in_flight.max(1),
            parallel,
            done: false,
        }
    }

    /// Walk frames and start jobs while the bounds allow; stop at a frame to
    /// stream (kept in `waiting`) or at damage (`walk_error`).
    fn dispatch(&mut self) {
        while self.waiting.is_none() && self.walk_error.is_none() && self.scan < self.data.len() {
            if self.jobs.len() >= self.max_in_flight {
                return;
            }
            let (start, index) = (self.scan, self.frames);
            // Frames to stream are not walked past what says so.
            let limit = if self.parallel { PARALLEL_FRAME_MAX as u64 } else { 0 };
            match frame_within(&self.data, start, limit) {
                Err(why) => self.walk_error = Some((start, index, why)),
                Ok(Frame::Large) => {
                    self.waiting = Some((start, index));
                    return;
                }
                Ok(Frame::Skippable { end }) => {
                    self.scan = end;
                    self.frames += 1;
                }
                Ok(Frame::Data { end, bound, exact }) => {
                    let size = usize::try_from(bound).unwrap_or(usize::MAX);
                    if size > PARALLEL_FRAME_MAX || !self.parallel {
                        self.waiting = Some((start, index));
                        return;
                    }
                    if !self.jobs.is_empty() && self.jobs.bytes().saturating_add(size) > PARALLEL_BUDGET {
                        return;
                    }
                    self.scan = end;
                    self.frames += 1;
                    let data = self.data.slice(start..end);
                    let mut buf = self.pool.take(size);
                    self.jobs.spawn((start, index), size, move || {
                        let mut d = ::zstd::bulk::Decompressor::new().map_err(|e| e.to_string())?;
                        let out = buf.bytes_mut().get_mut(..size).ok_or("buffer too small")?;
                        let n = d.decompress_to_buffer(&data[..], out).map_err(|e| e.to_string())?;
                        if exact && n != size {
                            return Err(format!("{n} bytes decoded, content size {size}"));
                        }
                        Ok((buf, n))
                    });
                }
            }
        }
    }

    fn error(index: u64, start: usize, at: usize, what: impl std::fmt::Display) -> DecodeError {
        DecodeError::corrupt(
            format!("zstd frame {index} at compressed byte {start} damaged or truncated near compressed byte {at}: {what}"),
            Some(at as u64),
        )
    }

    /// Stream the frame at `start`: a single-frame decoder over the rest of
    /// the input (it stops at the frame's end).
    fn stream(&mut self, start: usize, index: u64) -> Result<(), DecodeError> {
        let reader = BytesReader {
            data: self.data.clone(),
            pos: start,
        };
        match ::zstd::stream::read::Decoder::with_buffer(reader) {
            Ok(d) => {
                self.streamed = Some((d.single_frame(), start, index));
                Ok(())
            }
            Err(e) => Err(Self::error(index, start, start, e)),
        }
    }
}

impl Decode for MemoryZstd {
    /// The streamed frame's read position, else the first frame not handed
    /// out yet (waiting to be streamed, or the oldest job's), else the walk.
    fn input_done_before(&self) -> Option<u64> {
        let at = match (&self.streamed, self.waiting, self.jobs.front()) {
            (Some((d, _, _)), _, _) => d.get_ref().pos,
            (None, Some((start, _)), _) => start,
            (None, None, Some(p)) => p.meta.0,
            (None, None, None) => self.scan,
        };
        Some(at as u64)
    }

    fn next_chunk(&mut self) -> Option<Result<&[u8], DecodeError>> {
        loop {
            if self.done {
                return None;
            }
            if self.handed < self.current_len {
                let from = self.handed;
                let to = (from + CHUNK * 8).min(self.current_len);
                self.handed = to;
                let cur = self.current.as_ref().map_or(&[][..], Buffer::bytes);
                return Some(Ok(cur.get(from..to).unwrap_or(&[])));
            }
            if let Some((d, start, index)) = self.streamed.as_mut() {
                if self.buf.len() < CHUNK {
                    self.buf.resize(CHUNK, 0);
                }
                match d.read(&mut self.buf) {
                    Ok(0) => {
                        let end = d.get_ref().pos;
                        self.frames = self.frames.max(*index + 1);
                        self.scan = end;
                        self.streamed = None;
                        // The walk stopped at this frame; the decoder got
                        // through it, so walk on from its end.
                        self.walk_error = None;
                        continue;
                    }
                    Ok(n) => return Some(Ok(&self.buf[..n])),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        let (start, index, at) = (*start, *index, d.get_ref().pos);
                        let what = match self.walk_error {
                            Some((s, _, why)) if s == start => format!("{e} ({why})"),
                            _ => e.to_string(),
                        };
                        self.done = true;
                        return Some(Err(Self::error(index, start, at, what)));
                    }
                }
            }
            if let Some(done) = self.current.take() {
                self.pool.give(done);
            }
            self.current_len = 0;
            self.handed = 0;
            self.dispatch();
            if let Some(((start, index), r)) = self.jobs.wait_front() {
                match r {
                    Some(Ok((out, n))) => {
                        self.current = Some(out);
                        self.current_len = n;
                        self.dispatch();
                    }
                    // Stream the damaged frame for what it gives before the
                    // error; the walk resumes after it (or stops there).
                    _ => {
                        while self.jobs.drop_front().is_some() {}
                        self.waiting = None;
                        self.walk_error = None;
                        self.frames = index;
                        self.scan = start;
                        if let Err(e) = self.stream(start, index) {
                            self.done = true;
                            return Some(Err(e));
                        }
                    }
                }
                continue;
            }
            if let Some((start, index)) = self.waiting.take().or(self.walk_error.map(|(s, i, _)| (s, i))) {
                if let Err(e) = self.stream(start, index) {
                    self.done = true;
                    return Some(Err(e));
                }
                continue;
            }
            self.done = true;
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_with_and_without_sizes_and_skippable_frames() {
        let data: Vec<u8> = (0..400_000u32).map(|i| (i * 7 % 253) as u8 ^ (i >> 9) as u8).collect();
        let mut c = ::zstd::bulk::compress(&data[..1000], 3).unwrap(); // content size given
        c.extend([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]); // skippable
        c.extend(zstd::encode_all(&data[1000..300_000], 1).unwrap()); // no content size
        c.extend(::zstd::bulk::compress(&[], 3).unwrap());
        c.extend(zstd::encode_all(&data[300_000..], 19).unwrap());
        c.extend([0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0]);
        let mut p = 0;
        let mut n = 0;
        while p < c.len() {
            p = match frame_at(&c, p).unwrap() {
                Frame::Data { end, .. } | Frame::Skippable { end } => end,
                Frame::Large => unreachable!("no limit"),
            };
            n += 1;
        }
        assert_eq!((p, n), (c.len(), 6));
        // With a limit, frames above it are not walked to their end.
        let mut p = 0;
        let mut kinds = Vec::new();
        while p < c.len() {
            let f = frame_within(&c, p, 1000).unwrap();
            kinds.push(f);
            p = match (f, frame_at(&c, p).unwrap()) {
                (_, Frame::Data { end, .. } | Frame::Skippable { end }) => end,
                (_, Frame::Large) => unreachable!(),
            };
        }
        assert!(
            matches!(
                kinds[..],
                [
                    Frame::Data { bound: 1000, .. },
                    Frame::Skippable { .. },
                    Frame::Large,
                    Frame::Data { bound: 0, .. },
                    Frame::Large,
                    Frame::Skippable { .. }
                ]
            ),
            "{kinds:?}"
        );
        for inflight in [1, 3] {
            assert!(crate::decompress::read_to_end(&mut MemoryZstd::new(Bytes::from(c.clone()), inflight, inflight > 1)).unwrap() == data);
        }
        for cut in [5, 100, c.len() - 3] {
            let mut d = MemoryZstd::new(Bytes::from(c[..cut].to_vec()), 2, true);
            assert!(crate::decompress::read_to_end(&mut d).is_err(), "cut at {cut}");
        }
    }
}
