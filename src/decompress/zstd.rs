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
//!
//! # Streaming and damage
//!
//! A frame is streamed by [`FrameDecoder`]: its header is parsed here and
//! handed to libzstd without the content size (which is checked here once
//! the frame is decoded: a frame whose size field lies keeps its data, and
//! is reported), then one block per call, so that a damaged block loses
//! only its own output. The same decoder streams frames read from a stream
//! ([`StreamZstd`], through a [`Window`]) with the same calls, so that both
//! hand out the same bytes. After a damaged frame decoding resumes at the
//! next frame start ([`is_frame_start`]: a frame header and its first block
//! header that parse, or a skippable frame before one) after the damaged
//! frame's start, looked for from [`LOOKBACK`] before where the damage was
//! noticed at the earliest.

use super::ordered::{Buffer, Ordered, Pool};
use super::window::{self, Window, LOOKBACK};
use super::{Decode, DecodeError, CHUNK};
use ::zstd::stream::raw::Operation;
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

/// Bytes a [`FrameDecoder`] may need past its position: the largest frame
/// header (18) and a block with its header (3 + 128 KiB), or a skippable
/// frame header.
const NEED: usize = 18 + 3 + (128 << 10);

/// Bytes [`is_frame_start`] reads: a skippable frame of up to 1 KiB and the
/// header of the data frame after it.
const START_NEED: usize = 2048;

/// Whether a data frame header and the header of its first block parse at
/// the start of `b`.
fn data_frame_start(b: &[u8]) -> bool {
    if le(b, 0, 4) != Some(u64::from(MAGIC)) {
        return false;
    }
    let Some(&fhd) = b.get(4) else { return false };
    if fhd & 0x08 != 0 {
        return false;
    }
    let single = fhd & 0x20 != 0;
    let did = [0, 1, 2, 4][usize::from(fhd & 3)];
    let fcs_len = [usize::from(single), 2, 4, 8][usize::from(fhd >> 6)];
    let h = 5 + usize::from(!single) + did + fcs_len;
    match le(b, h, 3) {
        Some(bh) => (bh >> 1) & 3 != 3 && bh >> 3 <= BLOCK_MAX,
        None => false,
    }
}

/// Whether a zstd frame starts at the start of `b` (at most
/// [`START_NEED`] bytes, fewer at the end of the input): a data frame
/// ([`data_frame_start`]), or a skippable frame of at most 1 KiB followed
/// by one or by the end of the input. Resynchronisation after damage takes
/// the first such position.
pub fn is_frame_start(b: &[u8]) -> bool {
    match le(b, 0, 4) {
        Some(m) if m as u32 & 0xffff_fff0 == 0x184d_2a50 => {
            let Some(size) = le(b, 4, 4).filter(|&n| n <= 1024) else {
                return false;
            };
            let end = 8 + size as usize;
            (end == b.len() && b.len() < START_NEED) || b.get(end..).is_some_and(data_frame_start)
        }
        _ => data_frame_start(b),
    }
}

/// What [`unit_at`] found where a frame should start.
enum Unit {
    /// A skippable frame, ending at this offset.
    Skippable(u64),
    /// A data frame: stream it with a [`FrameDecoder`].
    Data,
    /// Not a frame.
    Bad(&'static str),
}

/// The unit starting at absolute offset `pos`, `b` the bytes from there
/// (at least 8, unless the input ends).
fn unit_at(b: &[u8], pos: u64) -> Unit {
    match le(b, 0, 4) {
        Some(m) if m as u32 & 0xffff_fff0 == 0x184d_2a50 => match le(b, 4, 4) {
            Some(size) => Unit::Skippable(pos + 8 + size),
            None => Unit::Bad("truncated: the input ends inside this frame"),
        },
        Some(m) if m as u32 == MAGIC => Unit::Data,
        Some(_) => Unit::Bad("not a zstd frame (bad magic)"),
        None => Unit::Bad("truncated frame magic"),
    }
}

/// A damaged frame, as reported from memory and from a stream alike.
struct Damage {
    /// Index of the frame.
    index: u64,
    /// Where it starts, and where the damage was noticed.
    start: u64,
    at: u64,
    what: String,
    /// Its end, when it was decoded to its end (only a check failed: no
    /// byte was lost).
    end: Option<u64>,
    /// Its content size, when its header gives it, and what it handed out.
    fcs: Option<u64>,
    decoded: u64,
}

impl Damage {
    /// Where the next frame is looked for: from the byte after the frame's
    /// start, no further back than [`LOOKBACK`] before the damage (not from
    /// the frame's end even when it was decoded to its end: damaged block
    /// sizes can carry that end past the next frame's start).
    fn resume_from(&self) -> u64 {
        (self.start + 1).max(self.at.saturating_sub(LOOKBACK))
    }

    fn error(&self, next: Option<u64>) -> DecodeError {
        let unit = format!("zstd frame {} at compressed byte {}", self.index, self.start);
        let (at, what) = (self.at, &self.what);
        let lost = match (self.end, self.fcs) {
            (Some(_), _) => Some(0),
            (None, Some(n)) => n.checked_sub(self.decoded),
            (None, None) => None,
        };
        let Some(c) = next else {
            if what.starts_with("truncated") {
                return DecodeError::truncated(format!("{unit} truncated near compressed byte {at}: {what}"), Some(at));
            }
            return DecodeError {
                lost,
                ..DecodeError::corrupt(
                    format!("{unit} damaged near compressed byte {at}: {what}; no frame follows"),
                    Some(at),
                )
            };
        };
        DecodeError {
            resumes_at: Some(c),
            lost,
            ..DecodeError::corrupt(
                format!("{unit} damaged near compressed byte {at}: {what}; skipped to compressed byte {c}"),
                Some(at),
            )
        }
    }
}

/// Where a [`FrameDecoder`] is in its frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Header,
    Block,
    Checksum,
    /// Decoded; its content size is checked next.
    Done,
}

/// What one [`FrameDecoder::step`] did.
enum Step {
    /// This many bytes of output are in [`FrameDecoder::output`] (0: none
    /// this step).
    Output(usize),
    /// The frame is decoded and checked; it ends at [`FrameDecoder::next`].
    End,
    /// The frame is damaged.
    Damage(Damage),
}

/// One data frame streamed by libzstd a part at a time (see the module
/// documentation): the frame header (rewritten without its content size),
/// each block, the checksum. Given the same bytes, it makes the same calls
/// whether they come from memory or from a stream.
pub struct FrameDecoder {
    dctx: ::zstd::stream::raw::Decoder<'static>,
    start: u64,
    index: u64,
    /// Where the next part starts.
    next: u64,
    stage: Stage,
    fcs: Option<u64>,
    checksum: bool,
    decoded: u64,
    out: Vec<u8>,
}

/// The smallest window descriptor (RFC 8878 §3.1.1.1.2) for a window of at
/// least `size` bytes.
fn window_descriptor(size: u64) -> u8 {
    for exp in 0..32u8 {
        let base = 1u64 << (10 + exp);
        for mant in 0..8u8 {
            if base + base / 8 * u64::from(mant) >= size {
                return exp << 3 | mant;
            }
        }
    }
    0xff
}

/// The window given to libzstd for a single-segment frame (whose window is
/// its content size): at least 8 MiB, so that a content size that lies
/// low still leaves room for the frame's matches, and at most libzstd's
/// default limit of 128 MiB (a larger one it refuses anyway).
fn single_segment_window(fcs: u64) -> u64 {
    fcs.clamp(8 << 20, 128 << 20)
}

impl FrameDecoder {
    /// A decoder for the data frame `index` starting at absolute offset
    /// `start`, reusing the libzstd context of the last frame's decoder
    /// when there is one (a new one allocates its buffers again).
    fn new(start: u64, index: u64, last: Option<FrameDecoder>) -> Result<FrameDecoder, String> {
        let (dctx, out) = match last {
            Some(mut f) => {
                f.dctx.reinit().map_err(|e| e.to_string())?;
                (f.dctx, f.out)
            }
            None => (
                ::zstd::stream::raw::Decoder::new().map_err(|e| e.to_string())?,
                vec![0; 2 * BLOCK_MAX as usize + 4096],
            ),
        };
        Ok(FrameDecoder {
            dctx,
            start,
            index,
            next: start,
            stage: Stage::Header,
            fcs: None,
            checksum: false,
            decoded: 0,
            out,
        })
    }

    /// The output of the last step.
    fn output(&self, n: usize) -> &[u8] {
        &self.out[..n]
    }

    fn damage(&self, at: u64, what: impl Into<String>, end: Option<u64>) -> Step {
        Step::Damage(Damage {
            index: self.index,
            start: self.start,
            at,
            what: what.into(),
            end,
            fcs: self.fcs,
            decoded: self.decoded,
        })
    }

    /// Give libzstd `part` whole, collecting its output; the bytes written.
    fn feed(&mut self, part: &[u8]) -> Result<(usize, usize), String> {
        let (mut read, mut written) = (0, 0);
        let mut hint = 1;
        loop {
            let st = self
                .dctx
                .run_on_buffers(&part[read..], &mut self.out[written..])
                .map_err(|e| e.to_string())?;
            read += st.bytes_read;
            written += st.bytes_written;
            hint = if st.bytes_read == 0 && st.bytes_written == 0 {
                hint
            } else {
                st.remaining
            };
            if read == part.len() && written < self.out.len() {
                return Ok((written, hint));
            }
            if written == self.out.len() {
                return Err("block decodes to more than 256 KiB".into());
            }
            if st.bytes_read == 0 && st.bytes_written == 0 {
                return Err("the decoder made no progress".into());
            }
        }
    }

    /// Decode the next part from `b`, the bytes from [`FrameDecoder::next`]
    /// on: at least [`NEED`] of them unless the input ends there.
    fn step(&mut self, b: &[u8]) -> Step {
        const TRUNC: &str = "truncated: the input ends inside this frame";
        let at = self.next;
        match self.stage {
            Stage::Header => {
                let Some(&fhd) = b.get(4) else {
                    return self.damage(at, TRUNC, None);
                };
                if fhd & 0x08 != 0 {
                    return self.damage(at, "reserved frame header bit set", None);
                }
                let single = fhd & 0x20 != 0;
                let did = [0, 1, 2, 4][usize::from(fhd & 3)];
                let fcs_len = [usize::from(single), 2, 4, 8][usize::from(fhd >> 6)];
                let fcs_at = 5 + usize::from(!single) + did;
                let Some(header) = b.get(..fcs_at + fcs_len) else {
                    return self.damage(at, TRUNC, None);
                };
                self.fcs = match fcs_len {
                    0 => None,
                    2 => le(header, fcs_at, 2).map(|v| v + 256),
                    n => le(header, fcs_at, n),
                };
                self.checksum = fhd & 0x04 != 0;
                // The same header without the content size: a window
                // descriptor instead of the single-segment flag.
                let mut h = header[..4].to_vec();
                h.push(fhd & 0x07);
                if single {
                    h.push(window_descriptor(single_segment_window(self.fcs.unwrap_or(0))));
                } else {
                    h.push(header[5]);
                }
                h.extend_from_slice(&header[fcs_at - did..fcs_at]);
                if let Err(e) = self.feed(&h) {
                    return self.damage(at, e, None);
                }
                self.next = at + header.len() as u64;
                self.stage = Stage::Block;
                Step::Output(0)
            }
            Stage::Block => {
                let Some(bh) = le(b, 0, 3) else {
                    return self.damage(at, TRUNC, None);
                };
                let (last, kind, size) = (bh & 1 != 0, (bh >> 1) & 3, bh >> 3);
                let stored = match kind {
                    0 | 2 => size,
                    1 => 1,
                    _ => return self.damage(at, "reserved block type", None),
                };
                // Raw and RLE blocks give their size, compressed blocks
                // take it: at most 128 KiB either way (a window over a
                // stream holds no more).
                if size > BLOCK_MAX {
                    return self.damage(at, "block larger than 128 KiB", None);
                }
                let Some(part) = b.get(..3 + stored as usize) else {
                    return self.damage(at, TRUNC, None);
                };
                match self.feed(part) {
                    Ok((n, hint)) => {
                        self.decoded += n as u64;
                        self.next = at + part.len() as u64;
                        if last {
                            self.stage = if self.checksum { Stage::Checksum } else { Stage::Done };
                            if !self.checksum && hint != 0 {
                                return self.damage(at, "the frame does not end after its last block", None);
                            }
                        }
                        Step::Output(n)
                    }
                    Err(e) => self.damage(at, e, None),
                }
            }
            Stage::Checksum => {
                let Some(part) = b.get(..4) else {
                    return self.damage(at, TRUNC, None);
                };
                match self.feed(part) {
                    Ok((n, 0)) => {
                        self.next = at + 4;
                        self.stage = Stage::Done;
                        self.decoded += n as u64;
                        Step::Output(n)
                    }
                    Ok(_) => self.damage(at, "the frame does not end after its checksum", None),
                    Err(e) => self.damage(at, e, Some(at + 4)),
                }
            }
            Stage::Done => match self.fcs {
                Some(size) if size != self.decoded => {
                    let what = format!("content size {size} declared, {} bytes decoded", self.decoded);
                    self.damage(at, what, Some(at))
                }
                _ => Step::End,
            },
        }
    }
}

/// The in-memory zstd decoder (see the module documentation).
pub struct MemoryZstd {
    data: Bytes,
    /// Where the next frame to walk starts.
    scan: usize,
    /// Frames walked (data and skippable).
    frames: u64,
    /// The frame being streamed.
    frame: Option<FrameDecoder>,
    /// The decoder of the last frame streamed, reused for the next.
    spare: Option<FrameDecoder>,
    /// A unit walked but not handed to a job (a frame to stream, or what
    /// the walk could not take for a frame): its start and index.
    waiting: Option<(usize, u64)>,
    jobs: Ordered<(usize, u64), Result<(Buffer, usize), String>>,
    /// The frame being handed out (its length), and how far.
    current: Option<Buffer>,
    current_len: usize,
    pool: Pool,
    handed: usize,
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
            frame: None,
            spare: None,
            waiting: None,
            jobs: Ordered::new(),
            current: None,
            current_len: 0,
            pool: Pool::new(PARALLEL_BUDGET),
            handed: 0,
            max_in_flight: max_in_flight.max(1),
            parallel,
            done: false,
        }
    }

    /// Walk frames and start jobs while the bounds allow; stop at a frame to
    /// stream or at what the walk cannot take (kept in `waiting`).
    fn dispatch(&mut self) {
        while self.waiting.is_none() && self.scan < self.data.len() {
            if self.jobs.len() >= self.max_in_flight {
                return;
            }
            let (start, index) = (self.scan, self.frames);
            // Frames to stream are not walked past what says so.
            let limit = if self.parallel { PARALLEL_FRAME_MAX as u64 } else { 0 };
            match frame_within(&self.data, start, limit) {
                Err(_) | Ok(Frame::Large) => {
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

    /// Report a damaged frame and go on at the next frame after it (or
    /// finish).
    fn damaged(&mut self, d: Damage) -> DecodeError {
        let from = usize::try_from(d.resume_from()).unwrap_or(usize::MAX);
        let next = match window::scan(&self.data, from, START_NEED, true, &mut is_frame_start) {
            window::Scan::Found(c) => Some(c),
            window::Scan::Before(_) => None,
        };
        let e = d.error(next.map(|c| c as u64));
        while self.jobs.drop_front().is_some() {}
        self.waiting = None;
        match next {
            Some(c) => {
                self.scan = c;
                self.frames = d.index + 1;
            }
            None => self.done = true,
        }
        e
    }

    /// Take the unit at `start` that was not decoded by a job: skip a
    /// skippable frame, start streaming a data frame, or report damage.
    fn begin(&mut self, start: usize, index: u64) -> Option<DecodeError> {
        let d = |at: usize, what: &str| Damage {
            index,
            start: start as u64,
            at: at as u64,
            what: what.to_string(),
            end: None,
            fcs: None,
            decoded: 0,
        };
        match unit_at(self.data.get(start..).unwrap_or(&[]), start as u64) {
            Unit::Skippable(end) if end <= self.data.len() as u64 => {
                self.scan = end as usize;
                self.frames = index + 1;
                None
            }
            Unit::Skippable(_) => {
                let len = self.data.len();
                Some(self.damaged(d(len, "truncated: the input ends inside this frame")))
            }
            Unit::Data => match FrameDecoder::new(start as u64, index, self.spare.take()) {
                Ok(f) => {
                    self.frame = Some(f);
                    None
                }
                Err(e) => Some(self.damaged(d(start, &e))),
            },
            Unit::Bad(what) => Some(self.damaged(d(start, what))),
        }
    }
}

impl Decode for MemoryZstd {
    /// The streamed frame's read position, else the first frame not handed
    /// out yet (waiting to be streamed, or the oldest job's), else the walk.
    fn input_done_before(&self) -> Option<u64> {
        let at = match (&self.frame, self.waiting, self.jobs.front()) {
            (Some(f), _, _) => f.next as usize,
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
            if let Some(f) = self.frame.as_mut() {
                let at = usize::try_from(f.next).unwrap_or(usize::MAX);
                match f.step(self.data.get(at..).unwrap_or(&[])) {
                    Step::Output(0) => continue,
                    Step::Output(n) => return self.frame.as_ref().map(|f| Ok(f.output(n))),
                    Step::End => {
                        self.scan = at;
                        self.frames = f.index + 1;
                        self.spare = self.frame.take();
                        continue;
                    }
                    Step::Damage(d) => {
                        self.spare = self.frame.take();
                        return Some(Err(self.damaged(d)));
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
                    // Stream the frame for what it gives before the damage;
                    // the walk resumes after it.
                    _ => {
                        while self.jobs.drop_front().is_some() {}
                        self.waiting = Some((start, index));
                        self.frames = index;
                        self.scan = start;
                    }
                }
                continue;
            }
            if let Some((start, index)) = self.waiting.take() {
                if let Some(e) = self.begin(start, index) {
                    return Some(Err(e));
                }
                continue;
            }
            self.done = true;
            return None;
        }
    }
}

/// zstd from a stream (standard input, a pipe, `Source::from_reader`): frames in order on
/// the caller's thread, each streamed by a [`FrameDecoder`] over a sliding
/// window of the compressed input, damage skipped as [`MemoryZstd`] skips
/// it: both give the same bytes and the same errors.
pub struct StreamZstd<R> {
    win: Window<R>,
    /// Where the next unit starts, and its index.
    pos: u64,
    index: u64,
    frame: Option<FrameDecoder>,
    /// The decoder of the last frame, reused for the next.
    spare: Option<FrameDecoder>,
    done: bool,
}

impl<R: Read> StreamZstd<R> {
    /// A decoder over the zstd frames read from `input`.
    pub fn new(input: R) -> StreamZstd<R> {
        StreamZstd {
            win: Window::new(input),
            pos: 0,
            index: 0,
            frame: None,
            spare: None,
            done: false,
        }
    }

    fn damaged(&mut self, d: Damage) -> DecodeError {
        let next = match self.win.find(d.resume_from(), START_NEED, &mut is_frame_start) {
            Ok(n) => n,
            Err(e) => {
                self.done = true;
                return e;
            }
        };
        let e = d.error(next);
        match next {
            Some(c) => {
                self.pos = c;
                self.index = d.index + 1;
            }
            None => self.done = true,
        }
        e
    }

    /// Make the window hold `NEED` bytes from `at` (or to the end of the
    /// input) and [`LOOKBACK`] before it.
    fn window_at(&mut self, at: u64) -> Result<(), DecodeError> {
        self.win.release(at.saturating_sub(LOOKBACK));
        self.win.fill_to(at + NEED as u64)
    }

    fn next_step(&mut self) -> Option<Result<usize, DecodeError>> {
        loop {
            if self.done {
                return None;
            }
            if let Some(next) = self.frame.as_ref().map(|f| f.next) {
                if let Err(e) = self.window_at(next) {
                    self.done = true;
                    return Some(Err(e));
                }
                let b = self.win.from(next);
                let Some(f) = self.frame.as_mut() else { continue };
                match f.step(b) {
                    Step::Output(0) => continue,
                    Step::Output(n) => return Some(Ok(n)),
                    Step::End => {
                        self.pos = next;
                        self.index = f.index + 1;
                        self.spare = self.frame.take();
                        continue;
                    }
                    Step::Damage(d) => {
                        self.spare = self.frame.take();
                        return Some(Err(self.damaged(d)));
                    }
                }
            }
            let (start, index) = (self.pos, self.index);
            if let Err(e) = self.window_at(start) {
                self.done = true;
                return Some(Err(e));
            }
            if self.win.is_eof() && start >= self.win.end() {
                self.done = true;
                return None;
            }
            let d = |at: u64, what: &str| Damage {
                index,
                start,
                at,
                what: what.to_string(),
                end: None,
                fcs: None,
                decoded: 0,
            };
            match unit_at(self.win.from(start), start) {
                Unit::Skippable(end) => match self.win.skip_to(end) {
                    Ok(true) => {
                        self.pos = end;
                        self.index = index + 1;
                    }
                    Ok(false) => {
                        let len = self.win.end();
                        return Some(Err(self.damaged(d(len, "truncated: the input ends inside this frame"))));
                    }
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                },
                Unit::Data => match FrameDecoder::new(start, index, self.spare.take()) {
                    Ok(f) => self.frame = Some(f),
                    Err(e) => return Some(Err(self.damaged(d(start, &e)))),
                },
                Unit::Bad(what) => return Some(Err(self.damaged(d(start, what)))),
            }
        }
    }
}

impl<R: Read + Send> Decode for StreamZstd<R> {
    fn next_chunk(&mut self) -> Option<Result<&[u8], DecodeError>> {
        match self.next_step()? {
            Ok(n) => self.frame.as_ref().map(|f| Ok(f.output(n))),
            Err(e) => Some(Err(e)),
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
