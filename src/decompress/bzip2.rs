//! Parallel bzip2: blocks found by their magic, decoded on rayon workers,
//! stitched back in order.
//!
//! # Design
//!
//! A bzip2 file is one or more streams (`BZh[1-9]`, blocks, end-of-stream
//! marker with the combined CRC, padding to a byte); each block is
//! independent of the others. [`ParallelDecoder`] reads the compressed input
//! in 1 MiB chunks into a sliding window, finds block and end-of-stream
//! magics with [`scan::scan`], and hands each block candidate `[start, next
//! candidate)` — a copy of its bytes — to a rayon worker, which decodes it
//! with [`super::block::decode_block`] (2.2 times faster per block than
//! libbz2-rs-sys here; see that module). Blocks with the obsolete
//! randomisation bit, and every block with [`BlockDecoder::Libbz2`], are
//! re-wrapped as a stand-alone stream (header `BZh9`, the block's bits
//! re-aligned, an end-of-stream marker with the block's own CRC as the
//! stream CRC) and decoded with the `bzip2` crate (libbz2-rs-sys, a
//! pure-Rust port of libbzip2). The calling thread takes results in input
//! order.
//!
//! # Correctness
//!
//! - Each block's CRC is verified by the block decoder, and the combined stream
//!   CRC is recomputed from the block CRCs and compared with the stored one
//!   at each end-of-stream marker.
//! - A magic that occurs by chance inside compressed data cuts a real block
//!   short, and that block then fails to decode: the candidate is merged with
//!   the next (the region grows to the following candidate, up to four times
//!   and at most [`MAX_BLOCK_BYTES`]), and only if no merge decodes is the
//!   block reported damaged. The false candidate's own job fails or is
//!   ignored.
//! - Multi-stream files (pbzip2, concatenation): after each end-of-stream
//!   marker a new `BZh[1-9]` header is expected at the next byte; anything
//!   else there is trailing garbage and ends the input, as with `bzip2 -d`,
//!   unless a block follows (a damaged stream header: its blocks decode all
//!   the same).
//! - Damage is skipped block by block: a block that fails to decode (its
//!   CRC, or its data) is reported with its compressed byte and bit offset,
//!   after all bytes before it, and decoding resumes at the next candidate
//!   (block or end-of-stream magic). The stream's combined CRC is then not
//!   checked (it was computed from the stored block CRCs, the damaged
//!   block's included, so it only says the same again). Blocks do not
//!   record their decoded size: the bytes lost are unknown.
//!
//! # Memory
//!
//! At most `max_in_flight` blocks (default twice the rayon threads) are
//! dispatched or decoded and not yet taken; the window holds the compressed
//! bytes from the oldest unresolved block on. A caller that stops asking
//! stops the dispatching: that is the backpressure.

use super::block::{self, BlockError};
use super::scan::{self, Magic, MagicKind, BLOCK_MAGIC, END_MAGIC};
use super::{Decode, DecodeError};
use std::collections::VecDeque;
use std::io::Read;
use std::sync::mpsc::{channel, Receiver, Sender};

/// Compressed bytes read at a time.
const READ_CHUNK: usize = 1 << 20;
/// Largest compressed block accepted (a 900 kB block of incompressible data
/// needs a little over 900 kB; 20-bit codes for every symbol would need
/// 2.25 MB).
pub const MAX_BLOCK_BYTES: u64 = 3 << 20;
/// Largest decoded block accepted: 900 kB of run-length codes expand at most
/// 51.8 times (runs of 4 + 255).
const MAX_BLOCK_OUTPUT: usize = 48 << 20;
/// Merges tried when a block candidate fails to decode.
const MAX_MERGES: usize = 4;

/// Decoded block or the decoder's message.
type JobResult = Result<Vec<u8>, String>;

#[derive(Debug)]
enum Job {
    /// Not dispatched yet.
    Idle,
    /// On a worker.
    Running,
    /// Finished.
    Done(JobResult),
}

#[derive(Debug)]
struct Slot {
    magic: Magic,
    job: Job,
    /// Counted in `in_flight` (dispatched, not yet popped).
    counted: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// A stream header is expected at this absolute byte offset.
    Header(u64),
    /// Inside a stream.
    Blocks,
    /// End of input (or after an error).
    Done,
}

/// A bzip2 decoder that decodes blocks in parallel on the current rayon pool
/// and returns them in order (see the module documentation).
pub struct ParallelDecoder<R> {
    input: R,
    window: Vec<u8>,
    /// Absolute byte offset of `window[0]`.
    base: u64,
    eof: bool,
    /// Absolute bit where scanning resumes.
    scanned: u64,
    slots: VecDeque<Slot>,
    /// Index in `slots` of the next slot to consider for dispatch.
    next_dispatch: usize,
    in_flight: usize,
    max_in_flight: usize,
    tx: Sender<(u64, JobResult)>,
    rx: Receiver<(u64, JobResult)>,
    state: State,
    combined_crc: u32,
    blocks: u64,
    scratch: Vec<Magic>,
    current: Vec<u8>,
    backend: BlockDecoder,
    /// A damaged region was skipped in the current stream: its combined CRC
    /// is not checked.
    stream_damaged: bool,
}

/// Which block decoder the workers use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BlockDecoder {
    /// This crate's decoder ([`super::block`]); randomised blocks go to
    /// libbz2-rs-sys.
    #[default]
    Native,
    /// libbz2-rs-sys on each block re-wrapped as a stand-alone stream.
    Libbz2,
}

impl<R: Read> ParallelDecoder<R> {
    /// A decoder over the bzip2 stream(s) in `input`, with at most
    /// `max_in_flight` blocks being decoded or waiting to be taken (at least 1).
    pub fn new(input: R, max_in_flight: usize) -> ParallelDecoder<R> {
        Self::with_backend(input, max_in_flight, BlockDecoder::Native)
    }

    /// [`ParallelDecoder::new`] with a chosen block decoder.
    pub fn with_backend(input: R, max_in_flight: usize, backend: BlockDecoder) -> ParallelDecoder<R> {
        let (tx, rx) = channel();
        ParallelDecoder {
            input,
            window: Vec::new(),
            base: 0,
            eof: false,
            scanned: 0,
            slots: VecDeque::new(),
            next_dispatch: 0,
            in_flight: 0,
            max_in_flight: max_in_flight.max(1),
            tx,
            rx,
            state: State::Header(0),
            combined_crc: 0,
            blocks: 0,
            scratch: Vec::new(),
            current: Vec::new(),
            backend,
            stream_damaged: false,
        }
    }

    /// The next decoded block, `Ok(None)` at the end of the input. After an
    /// error that does not resume ([`DecodeError::resumes`]) the decoder is
    /// finished.
    pub fn next_block(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        let r = self.next_block_inner();
        if r.as_ref().is_err_and(|e| !e.resumes()) {
            self.state = State::Done;
        }
        r
    }

    fn next_block_inner(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Header(pos) => {
                    self.begin_stream(pos)?;
                    continue;
                }
                State::Blocks => {}
            }
            self.pump()?;
            let Some(front) = self.slots.front_mut() else {
                if self.eof {
                    return Err(self.error(self.end_bit(), "truncated: the stream ends without an end-of-stream marker"));
                }
                continue;
            };
            let bit = front.magic.bit;
            match front.magic.kind {
                MagicKind::End => {
                    self.end_stream(bit)?;
                    continue;
                }
                MagicKind::Block => {}
            }
            match std::mem::replace(&mut front.job, Job::Running) {
                Job::Done(result) => {
                    let stored_crc = self.read_bits(bit + 48, 32)?;
                    let data = match result {
                        Ok(data) => {
                            self.pop_front(1);
                            data
                        }
                        Err(message) => match self.merge(bit)? {
                            Some(data) => data,
                            None => {
                                // Damaged: skip it, resume at the next
                                // candidate.
                                let resume = self.slots.get(1).map(|s| s.magic.bit);
                                let e = self.damaged(bit, &message, resume, None);
                                self.pop_front(1);
                                self.combined_crc = self.combined_crc.rotate_left(1) ^ stored_crc;
                                self.blocks += 1;
                                self.stream_damaged = true;
                                return Err(e);
                            }
                        },
                    };
                    self.combined_crc = self.combined_crc.rotate_left(1) ^ stored_crc;
                    self.blocks += 1;
                    return Ok(Some(data));
                }
                Job::Running => self.wait()?,
                Job::Idle => {
                    // Not dispatchable yet: pump reads more on the next turn,
                    // or at the end of input the block is cut.
                    front.job = Job::Idle;
                    if self.eof && self.slots.len() == 1 {
                        return Err(self.error(bit, "truncated: the stream ends inside this block"));
                    }
                }
            }
        }
    }

    /// Check the header at byte `pos` and start a stream. Where there is
    /// none, what follows is trailing garbage (ignored, as `bzip2 -d` does)
    /// unless a block or end-of-stream magic follows: the stream header was
    /// damaged, and decoding resumes there.
    fn begin_stream(&mut self, pos: u64) -> Result<(), DecodeError> {
        self.ensure_bytes(pos + 4)?;
        self.stream_damaged = false;
        self.combined_crc = 0;
        let head = self.window_bytes(pos, 4);
        let first = (pos + 4) * 8;
        let header = matches!(head, [b'B', b'Z', b'h', b'1'..=b'9']);
        if head.is_empty() && pos > 0 {
            self.state = State::Done;
            return Ok(());
        }
        if header {
            self.ensure_scanned(first + 48)?;
        }
        // Candidates before the first block are chance matches in the
        // previous stream's CRC, padding or this header.
        let floor = if header { first } else { pos * 8 };
        let stale = self.slots.iter().take_while(|s| s.magic.bit < floor).count();
        self.pop_front(stale);
        if header && self.slots.front().is_some_and(|s| s.magic.bit == first) {
            self.state = State::Blocks;
            return Ok(());
        }
        // Look for a block after the damage; `Blocks` lets `read_more`
        // drop what the search has passed.
        self.state = State::Blocks;
        while self.slots.is_empty() && !self.eof {
            self.read_more()?;
        }
        let what = if header {
            "no block or end-of-stream marker after the stream header"
        } else {
            "no stream header (BZh1-9)"
        };
        let at = pos * 8;
        match self.slots.front().map(|s| s.magic.bit) {
            Some(bit) => {
                self.stream_damaged = true;
                let mut e = self.stream_error(pos, what);
                e.message += &format!("; skipped to compressed byte {} (bit {})", bit / 8, bit % 8);
                e.resumes_at = Some(bit / 8);
                e.lost = (bit == first).then_some(0);
                Err(e)
            }
            None if pos > 0 && !header => {
                self.state = State::Done;
                Ok(())
            }
            None if header => Err(DecodeError::truncated(
                format!("bzip2 stream at compressed byte {pos}: truncated: {what}"),
                Some(at / 8),
            )),
            None => Err(self.stream_error(pos, what)),
        }
    }

    /// A damaged stream header or combined CRC at byte `pos`.
    fn stream_error(&self, pos: u64, what: &str) -> DecodeError {
        DecodeError::corrupt(format!("bzip2 stream at compressed byte {pos}: {what}"), Some(pos))
    }

    /// Check the stored combined CRC at the end-of-stream marker at `bit`
    /// (unless a damaged block was skipped in the stream).
    fn end_stream(&mut self, bit: u64) -> Result<(), DecodeError> {
        let stored = self.read_bits(bit + 48, 32)?;
        let next = (bit + 80).div_ceil(8);
        self.pop_front(1);
        self.state = State::Header(next);
        if stored != self.combined_crc && !self.stream_damaged {
            let mut e = self.error(
                bit,
                &format!("stream CRC mismatch (stored {stored:#010x}, computed {:#010x})", self.combined_crc),
            );
            self.ensure_bytes(next + 1)?;
            if !self.window_bytes(next, 1).is_empty() {
                e.message += &format!("; skipped to compressed byte {next}");
                e.resumes_at = Some(next);
            }
            e.lost = Some(0);
            return Err(e);
        }
        Ok(())
    }

    /// The block at `bit` failed alone: try it together with the following
    /// candidates (chance magics inside its data). `None`: no merge decodes.
    fn merge(&mut self, bit: u64) -> Result<Option<Vec<u8>>, DecodeError> {
        for k in 2..=MAX_MERGES + 1 {
            while self.slots.len() <= k && !self.eof {
                self.read_more()?;
            }
            let end = match self.slots.get(k) {
                Some(s) => s.magic.bit,
                None => break,
            };
            if end - bit > MAX_BLOCK_BYTES * 8 {
                break;
            }
            let job = self.job(bit, end)?;
            if let Ok(data) = job.run() {
                self.pop_front(k);
                return Ok(Some(data));
            }
        }
        Ok(None)
    }

    /// The block at `bit` is damaged (`what`): the error, resuming at bit
    /// `resume` when a candidate follows.
    fn damaged(&self, bit: u64, what: &str, resume: Option<u64>, lost: Option<u64>) -> DecodeError {
        let mut e = self.error(bit, what);
        match resume {
            Some(r) => {
                e.message += &format!("; skipped to compressed byte {} (bit {})", r / 8, r % 8);
                e.resumes_at = Some(r / 8);
                e.end_of_input = false;
                e.lost = lost;
            }
            None if e.end_of_input => {}
            None => e.message += "; nothing decodable follows",
        }
        e
    }

    /// Block until one job reports; file its result.
    fn wait(&mut self) -> Result<(), DecodeError> {
        let lost = || DecodeError::corrupt("bzip2: decoder worker lost", None);
        // On a rayon worker (a caller inside `ThreadPool::install`), help
        // run the queued jobs instead of blocking: with one thread, blocking
        // would deadlock.
        let (bit, result) = crate::sched::recv_helping(&self.rx, std::time::Duration::from_millis(1)).ok_or_else(lost)?;
        // Jobs of candidates already merged away report into nothing.
        if let Some(slot) = self.slots.iter_mut().find(|s| s.magic.bit == bit) {
            slot.job = Job::Done(result);
        }
        Ok(())
    }

    /// Dispatch what can be dispatched; read and scan more input while the
    /// dispatcher is starved and the in-flight budget allows.
    fn pump(&mut self) -> Result<(), DecodeError> {
        loop {
            let mut starved = self.slots.is_empty();
            while self.in_flight < self.max_in_flight && self.next_dispatch < self.slots.len() {
                let d = self.next_dispatch;
                let slot = &self.slots[d];
                if slot.magic.kind == MagicKind::End || !matches!(slot.job, Job::Idle) {
                    self.next_dispatch += 1;
                    continue;
                }
                let start = slot.magic.bit;
                let end = match self.slots.get(d + 1) {
                    Some(next) => next.magic.bit,
                    None if self.eof => {
                        self.slots[d].job = Job::Done(Err("truncated: the stream ends inside this block".into()));
                        self.next_dispatch += 1;
                        continue;
                    }
                    None if self.scanned.saturating_sub(start) > MAX_BLOCK_BYTES * 8 => {
                        self.slots[d].job = Job::Done(Err(format!("no block end within {} MiB", MAX_BLOCK_BYTES >> 20)));
                        self.next_dispatch += 1;
                        continue;
                    }
                    None => {
                        starved = true;
                        break;
                    }
                };
                self.dispatch(d, start, end)?;
                self.next_dispatch += 1;
            }
            if self.next_dispatch >= self.slots.len() && self.in_flight < self.max_in_flight {
                starved = true;
            }
            if !starved || self.eof {
                return Ok(());
            }
            self.read_more()?;
        }
    }

    fn dispatch(&mut self, d: usize, start: u64, end: u64) -> Result<(), DecodeError> {
        if end - start > MAX_BLOCK_BYTES * 8 {
            self.slots[d].job = Job::Done(Err(format!("block longer than {} MiB", MAX_BLOCK_BYTES >> 20)));
            return Ok(());
        }
        let job = self.job(start, end)?;
        let tx = self.tx.clone();
        rayon::spawn(move || {
            let r = std::panic::catch_unwind(|| job.run()).unwrap_or_else(|_| Err("decoder panicked".into()));
            let _ = tx.send((start, r));
        });
        let slot = &mut self.slots[d];
        slot.job = Job::Running;
        slot.counted = true;
        self.in_flight += 1;
        Ok(())
    }

    /// The work of decoding the block at absolute bits `[start, end)`: a
    /// copy of its bytes, so that it can go to another thread.
    fn job(&mut self, start: u64, end: u64) -> Result<Work, DecodeError> {
        let stored_crc = self.read_bits(start + 48, 32)?;
        let first = start / 8;
        let rel = first
            .checked_sub(self.base)
            .and_then(|r| usize::try_from(r).ok())
            .ok_or_else(|| DecodeError::corrupt("bzip2: block before the window (internal error)", None))?;
        let len = usize::try_from(end.div_ceil(8) - first).unwrap_or(usize::MAX);
        let bytes = self.window.get(rel..rel.saturating_add(len)).unwrap_or(&[]).to_vec();
        Ok(Work {
            bytes,
            start: start % 8,
            nbits: end - start,
            // Blocks are dispatched before their stream's header is checked
            // in order, so the largest block size is allowed (as with the
            // `BZh9` of the re-wrapped stream); CRCs still verify every byte.
            max_block: 900_000,
            stored_crc,
            backend: self.backend,
        })
    }

    fn pop_front(&mut self, n: usize) {
        for _ in 0..n {
            if let Some(s) = self.slots.pop_front() {
                if s.counted {
                    self.in_flight -= 1;
                }
            }
        }
        self.next_dispatch = self.next_dispatch.saturating_sub(n);
    }

    /// Read one chunk (dropping consumed window bytes first) and scan it.
    fn read_more(&mut self) -> Result<(), DecodeError> {
        if self.eof {
            return Ok(());
        }
        let keep = match (self.state, self.slots.front()) {
            (State::Header(pos), _) => pos,
            (_, Some(s)) => s.magic.bit / 8,
            _ => self.scanned / 8,
        }
        .min(self.scanned / 8);
        let drop = usize::try_from(keep.saturating_sub(self.base)).unwrap_or(0).min(self.window.len());
        if drop >= READ_CHUNK * 4 || (drop > 0 && drop * 2 >= self.window.len()) {
            self.window.drain(..drop);
            self.base += drop as u64;
        }
        let old = self.window.len();
        self.window.resize(old + READ_CHUNK, 0);
        let n = loop {
            match self.input.read(&mut self.window[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.window.truncate(old);
                    return Err(DecodeError::io(e, self.base + old as u64));
                }
            }
        };
        self.window.truncate(old + n);
        if n == 0 {
            self.eof = true;
        }
        self.scratch.clear();
        let rel = self.scanned - self.base * 8;
        let resume = scan::scan(&self.window, rel, &mut self.scratch);
        self.scanned = self.base * 8 + resume;
        let base_bits = self.base * 8;
        self.slots.extend(self.scratch.iter().map(|m| Slot {
            magic: Magic {
                bit: m.bit + base_bits,
                kind: m.kind,
            },
            job: Job::Idle,
            counted: false,
        }));
        Ok(())
    }

    fn ensure_bytes(&mut self, end: u64) -> Result<(), DecodeError> {
        while !self.eof && self.base + (self.window.len() as u64) < end {
            self.read_more()?;
        }
        Ok(())
    }

    fn ensure_scanned(&mut self, bit: u64) -> Result<(), DecodeError> {
        while !self.eof && self.scanned < bit {
            self.read_more()?;
        }
        Ok(())
    }

    fn window_bytes(&self, pos: u64, n: usize) -> &[u8] {
        let Some(rel) = pos.checked_sub(self.base).and_then(|r| usize::try_from(r).ok()) else {
            return &[];
        };
        let end = rel.saturating_add(n).min(self.window.len());
        self.window.get(rel..end).unwrap_or(&[])
    }

    /// `n` bits at absolute bit `bit` (reading more input if needed).
    fn read_bits(&mut self, bit: u64, n: u32) -> Result<u32, DecodeError> {
        self.ensure_bytes((bit + u64::from(n)).div_ceil(8))?;
        let rel = bit.checked_sub(self.base * 8);
        match rel.and_then(|r| scan::bits(&self.window, r, n)) {
            Some(v) => Ok(v as u32),
            None => Err(self.error(bit, "truncated: the stream ends inside a block header or end-of-stream marker")),
        }
    }

    fn end_bit(&self) -> u64 {
        (self.base + self.window.len() as u64) * 8
    }

    /// An error at block `bit`; one that says "truncated" is an end of
    /// input.
    fn error(&self, bit: u64, what: &str) -> DecodeError {
        let message = format!(
            "bzip2 block {} at compressed byte {} (bit {}): {what}",
            self.blocks,
            bit / 8,
            bit % 8
        );
        if what.starts_with("truncated") {
            DecodeError::truncated(message, Some(bit / 8))
        } else {
            DecodeError::corrupt(message, Some(bit / 8))
        }
    }
}

impl<R: Read + Send> Decode for ParallelDecoder<R> {
    fn next_chunk(&mut self) -> Option<Result<&[u8], DecodeError>> {
        match self.next_block() {
            Ok(Some(b)) => {
                self.current = b;
                Some(Ok(&self.current))
            }
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// One block to decode, with its own copy of the compressed bytes.
struct Work {
    bytes: Vec<u8>,
    /// Bit offset of the block magic in `bytes[0]`.
    start: u64,
    nbits: u64,
    max_block: usize,
    stored_crc: u32,
    backend: BlockDecoder,
}

impl Work {
    fn run(&self) -> JobResult {
        let wrapped = || decode_wrapped(&wrap_block(&self.bytes, self.start, self.nbits, self.stored_crc));
        if self.backend == BlockDecoder::Libbz2 {
            return wrapped();
        }
        let mut out = Vec::new();
        match block::decode_block(&self.bytes, self.start, self.start + self.nbits, self.max_block, &mut out) {
            Ok(_) => Ok(out),
            Err(BlockError::Randomised) => wrapped(),
            // Our decoder is stricter than libbzip2 in places (a code
            // length table that over-subscribes its Huffman code, in
            // symbols the block never uses): a block libbz2 decodes, its
            // CRC checked, is not damaged (found by the damaged_streams
            // fuzz target). Only failures pay for the second try.
            Err(e) => wrapped().map_err(|_| e.to_string()),
        }
    }
}

/// Decode the block at bits `[start, start + nbits)` of `bytes` (magic
/// included; `stored_crc` is its CRC field) with libbz2-rs-sys, by
/// re-wrapping it as a stand-alone stream. The reference for
/// [`super::block::decode_block`], and the decoder of randomised blocks.
///
/// # Errors
/// The decoder's message when the block is damaged.
pub fn decode_block_libbz2(bytes: &[u8], start: u64, nbits: u64, stored_crc: u32) -> Result<Vec<u8>, String> {
    decode_wrapped(&wrap_block(bytes, start, nbits, stored_crc))
}

/// Append `n` bits of `value` (n ≤ 32) to a byte vector being filled bit by
/// bit; `acc`/`fill` hold the pending bits.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    fill: u32,
}

impl BitWriter {
    fn put(&mut self, value: u64, n: u32) {
        self.acc = (self.acc << n) | (value & ((1u64 << n) - 1));
        self.fill += n;
        while self.fill >= 8 {
            self.fill -= 8;
            self.out.push((self.acc >> self.fill) as u8);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.fill > 0 {
            let pad = 8 - self.fill;
            self.put(0, pad);
        }
        self.out
    }
}

/// Build a stand-alone bzip2 stream from the `nbits` bits of `src` starting
/// at bit `start` (a block, magic included), ending it with an end-of-stream
/// marker whose combined CRC is `crc`, the block's own CRC.
pub(crate) fn wrap_block(src: &[u8], start: u64, nbits: u64, crc: u32) -> Vec<u8> {
    let full = (nbits / 8) as usize;
    let mut out = Vec::with_capacity(full + 16);
    out.extend_from_slice(b"BZh9");
    let a = (start / 8) as usize;
    let s = (start % 8) as u32;
    if s == 0 {
        out.extend_from_slice(src.get(a..a + full).unwrap_or(&[]));
    } else if let Some(bytes) = src.get(a..=a + full) {
        out.extend(bytes.windows(2).map(|w| (w[0] << s) | (w[1] >> (8 - s))));
    }
    let mut w = BitWriter { out, acc: 0, fill: 0 };
    let rem = (nbits % 8) as u32;
    if rem > 0 {
        w.put(scan::bits(src, start + (full as u64) * 8, rem).unwrap_or(0), rem);
    }
    w.put(END_MAGIC >> 24, 24);
    w.put(END_MAGIC & 0xff_ffff, 24);
    w.put(u64::from(crc), 32);
    w.finish()
}

/// Decode a stand-alone single-block stream made by [`wrap_block`].
pub(crate) fn decode_wrapped(payload: &[u8]) -> JobResult {
    let mut d = bzip2::Decompress::new(false);
    let mut out: Vec<u8> = Vec::with_capacity(1 << 20);
    loop {
        let consumed = usize::try_from(d.total_in()).unwrap_or(usize::MAX);
        let input = payload.get(consumed..).unwrap_or(&[]);
        let before = (d.total_in(), d.total_out());
        match d.decompress_vec(input, &mut out) {
            Ok(bzip2::Status::StreamEnd) => return Ok(out),
            Ok(_) => {
                if out.len() == out.capacity() {
                    if out.len() >= MAX_BLOCK_OUTPUT {
                        return Err("block decodes to more than 48 MiB".into());
                    }
                    out.reserve(out.len());
                } else if (d.total_in(), d.total_out()) == before {
                    return Err("corrupt block: ends early".into());
                }
            }
            Err(bzip2::Error::Data) => return Err("corrupt block or block CRC mismatch".into()),
            Err(bzip2::Error::DataMagic) => return Err("bad block magic".into()),
            Err(e) => return Err(format!("decoder error: {e}")),
        }
    }
}

const _: () = assert!(BLOCK_MAGIC != END_MAGIC);

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn bz(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = ::bzip2::write::BzEncoder::new(Vec::new(), ::bzip2::Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn sample(n: usize) -> Vec<u8> {
        let mut x = 12345u64;
        (0..n)
            .map(|i| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                if i % 7 < 3 {
                    (i / 100) as u8
                } else {
                    (x >> 60) as u8
                }
            })
            .collect()
    }

    fn decode_all(c: &[u8], k: usize) -> Result<Vec<u8>, (Vec<u8>, DecodeError)> {
        let mut d = ParallelDecoder::new(c, k);
        let mut out = Vec::new();
        loop {
            match d.next_block() {
                Ok(Some(b)) => out.extend_from_slice(&b),
                Ok(None) => return Ok(out),
                Err(e) => return Err((out, e)),
            }
        }
    }

    #[test]
    fn wrap_and_decode_one_block_at_every_alignment() {
        let data = sample(5000);
        let c = bz(&data, 1);
        let mut found = Vec::new();
        scan::scan(&c, 0, &mut found);
        let (start, end) = (found[0].bit, found[1].bit);
        assert_eq!(start, 32);
        let crc = scan::bits(&c, start + 48, 32).unwrap() as u32;
        for shift in 0..8u64 {
            // Shift the whole stream by `shift` bits.
            let mut shifted = vec![0u8; c.len() + 1];
            for p in 0..(c.len() as u64 * 8) {
                let b = (c[(p / 8) as usize] >> (7 - p % 8)) & 1;
                let q = p + shift;
                shifted[(q / 8) as usize] |= b << (7 - q % 8);
            }
            let payload = wrap_block(&shifted, start + shift, end - start, crc);
            assert_eq!(decode_wrapped(&payload).unwrap(), data);
        }
    }

    #[test]
    fn multi_block_multi_stream_and_in_flight_limits() {
        let data = sample(700_000);
        let mut c = bz(&data[..450_000], 1);
        c.extend(bz(&data[450_000..], 2));
        c.extend(bz(&[], 9)); // an empty stream
        for k in [1, 2, 3, 16] {
            let out = decode_all(&c, k).map_err(|(_, e)| e.to_string());
            assert!(out.as_ref().is_ok_and(|o| *o == data), "in flight {k}: {:?}", out.map(|o| o.len()));
        }
    }

    #[test]
    fn trailing_garbage_is_ignored_and_bad_header_is_not() {
        let data = sample(10_000);
        let mut c = bz(&data, 9);
        c.extend_from_slice(b"\0\0garbage");
        assert!(decode_all(&c, 2).is_ok_and(|o| o == data));
        assert!(decode_all(b"BZx9", 2).is_err());
        assert!(decode_all(b"", 2).is_err());
    }

    #[test]
    fn a_false_candidate_is_merged_into_the_block() {
        // Split one real block at an arbitrary bit as if a chance magic were
        // there: region [start, fake) fails, [start, end) decodes.
        let data = sample(200_000);
        let c = bz(&data, 2);
        let mut found = Vec::new();
        scan::scan(&c, 0, &mut found);
        let (start, end) = (found[0].bit, found[1].bit);
        let crc = scan::bits(&c, start + 48, 32).unwrap() as u32;
        let fake = start + (end - start) / 3;
        assert!(decode_wrapped(&wrap_block(&c, start, fake - start, crc)).is_err());
        assert!(decode_wrapped(&wrap_block(&c, fake, end - fake, crc)).is_err());

        // The same through the decoder: inject a fake candidate in its slots.
        let mut d = ParallelDecoder::new(&c[..], 4);
        d.begin_stream(0).unwrap();
        d.slots.insert(
            1,
            Slot {
                magic: Magic {
                    bit: fake,
                    kind: MagicKind::Block,
                },
                job: Job::Idle,
                counted: false,
            },
        );
        let mut out = Vec::new();
        while let Some(b) = d.next_block().unwrap() {
            out.extend_from_slice(&b);
        }
        assert_eq!(out, data);
        assert_eq!(d.in_flight, 0);
    }

    #[test]
    fn flipped_bit_reports_block_and_keeps_earlier_blocks() {
        let data = sample(500_000);
        let c = bz(&data, 1);
        let mut found = Vec::new();
        scan::scan(&c, 0, &mut found);
        let third = found[2].bit;
        let mut bad = c.clone();
        let at = (third / 8 + 2000) as usize;
        bad[at] ^= 0x10;
        let (out, e) = decode_all(&bad, 3).unwrap_err();
        // Blocks of a level-1 stream hold at most 100 kB of RLE'd input.
        assert!(!out.is_empty() && data.starts_with(&out), "{}", out.len());
        let msg = e.to_string();
        assert!(msg.contains("bzip2 block 2 at compressed byte"), "{msg}");
        assert_eq!(e.compressed_offset, Some(third / 8));
    }

    #[test]
    fn bad_stream_crc_and_truncation_are_errors() {
        let data = sample(300_000);
        let c = bz(&data, 1);
        let n = c.len();
        let mut bad = c.clone();
        bad[n - 2] ^= 1; // inside the stored combined CRC
        let (out, e) = decode_all(&bad, 2).unwrap_err();
        assert_eq!(out, data);
        assert!(e.to_string().contains("stream CRC mismatch"), "{e}");
        for cut in [n - 1, n - 5, n - 12, n / 2, 10, 4, 3] {
            let (out, e) = decode_all(&c[..cut], 2).unwrap_err();
            assert!(data.starts_with(&out));
            assert!(
                e.to_string().contains("truncated") || e.to_string().contains("no block") || e.to_string().contains("header"),
                "{cut}: {e}"
            );
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let data = sample(50_000);
        let c = bz(&data, 1);
        let mut x = 7u64;
        for round in 0..200 {
            let mut m = c.clone();
            for _ in 0..1 + round % 4 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let at = (x % m.len() as u64) as usize;
                m[at] = (x >> 32) as u8;
            }
            let cut = (x >> 40) as usize % (m.len() + 1);
            let _ = decode_all(&m[..cut.max(m.len() / 2)], 2);
        }
    }
}
