//! One large gzip member decoded on several cores (the approach of
//! rapidgzip, Knespel and Brunst 2023): a RIPE RIS bview is a single member
//! of about 1 GB, which no other MRT tool decodes in parallel.
//!
//! The member's compressed bytes are cut into chunks of [`CHUNK_BYTES`].
//! A job per chunk (after the first) looks for the first bit at or after
//! its chunk's start where a dynamic Huffman block header parses
//! ([`inflate::find_block`]), and decodes from there without knowing the
//! 32 KiB of history before it: it decodes into 16-bit symbols, bytes as
//! themselves and bytes copied from that unknown window as markers
//! ([`Inflater::decode_markers`]). rapidgzip switches to bytes once the
//! last 32 KiB hold no marker; in MRT tables that does not happen (about
//! a fifth of a 2 MiB chunk's symbols are still markers at its end: an
//! encoder copies repeated attribute bytes from their last copy, so an
//! origin before the chunk propagates), so a job decodes its whole chunk
//! in symbols. It stops at the first block boundary at or after the next
//! chunk's start (or after the final block).
//!
//! The caller's thread takes the chunks in order. The first chunk, any
//! chunk whose job did not start where the previous chunk ended (a false
//! block header, a stored or fixed block that the finder does not look
//! for, damage, output above [`CHUNK_OUTPUT_CAP`]), and any chunk whose
//! job no worker had begun when its turn came (claimed back, so that the
//! caller never waits for a job not running and chunks go to workers only
//! when they have time to spare) is decoded there, in the stream, in
//! bytes, with the known window: so the output is the sequential
//! decoder's, whatever the jobs guessed. A chunk that starts where the
//! previous one ended is right by construction (deflate decoding from a
//! block boundary depends only on the bits and the window); its markers
//! are replaced by the bytes of the window, now known
//! ([`inflate::resolve_markers`]). The member's CRC32 and length are
//! checked at its end as for any member.
//!
//! Memory: at most `max_jobs` chunks in flight, each holding its symbols
//! (about 3 to 5 times [`CHUNK_BYTES`] for MRT data, never more than
//! [`CHUNK_OUTPUT_CAP`]), their decoders reused.

use super::inflate::{self, Inflater, WINDOW};
use super::ordered::Ordered;
use bytes::Bytes;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

/// A chunk's job has not started: whoever claims it first decodes it.
const PENDING: u8 = 0;
const BY_JOB: u8 = 1;
const BY_CALLER: u8 = 2;

/// Compressed bytes per chunk. A chunk's job holds about four times as
/// many 16-bit symbols (a 222 MB table compressed 3.1 times); with 4 MiB
/// chunks the first use of those buffers cost 48,000 page faults (0.1 s
/// of system time), with 1 MiB the finder and the extra chunks cost more
/// CPU than that.
pub const CHUNK_BYTES: usize = 2 << 20;

/// Members of fewer chunks are streamed: each chunk decoder's buffers cost
/// page faults on first use (a member of 3 chunks, 5.5 MB, decoded in
/// 31 ms on two threads against 15 ms streamed), which only a long member
/// pays back.
pub const MIN_CHUNKS: usize = 8;

/// Pools smaller than this stream a large member instead. On the 2-core
/// machine, 222 MB member (72.6 MB `gzip -6`): decoding alone took 268 ms
/// streamed and 218 ms in chunks on a pool of two, but the snapshot took
/// 321 ms streamed and 346-356 ms in chunks: the markers, their
/// resolution and the fresh buffers add CPU that two cores, also parsing,
/// do not have.
pub const MIN_THREADS: usize = 3;

/// Decoded bytes (16-bit symbols: twice as many bytes of memory) a chunk
/// job may hold; a chunk that decodes to more is decoded in the stream
/// instead. MRT tables compress 3 to 5 times, so a 2 MiB chunk holds about
/// 8M symbols; the cap bounds what highly compressible data can make a job
/// hold.
pub const CHUNK_OUTPUT_CAP: usize = 16 << 20;

/// Decoded bytes handed out at a time.
const HANDOUT: usize = 4 << 20;

/// A chunk decoded by a job.
struct Chunk {
    /// The bit where its first block starts.
    start_bit: usize,
    /// Its symbols, markers unresolved: `body.markers()`.
    body: Inflater,
    /// The block boundary where it stopped, or `None` after the final
    /// block.
    end_bit: Option<usize>,
}

/// Decode the chunk of `data` whose blocks start in `from_bit..to_bit`
/// (see the module documentation), or `None` when no start there decodes.
fn decode_chunk(data: &[u8], from_bit: usize, to_bit: usize, mut body: Inflater) -> Option<Chunk> {
    let expect = 4 * (to_bit - from_bit) / 8;
    let mut bit = from_bit;
    loop {
        let start = inflate::find_block(data, bit, to_bit, &mut body)?;
        bit = start + 1;
        body.reset_at_bit(start);
        body.stop_at_bit(to_bit);
        // MRT tables compress 3 to 5 times; the buffer grows if needed.
        if body.decode_markers(data, CHUNK_OUTPUT_CAP, expect).is_ok() {
            let end_bit = body.stopped_at();
            return Some(Chunk {
                start_bit: start,
                body,
                end_bit,
            });
        }
    }
}

/// Where the decoder is in the member.
enum Current {
    /// Between chunks.
    None,
    /// Handing out a chunk decoded by a job, markers resolved, from `at`.
    Chunk { resolved: Vec<u8>, at: usize },
    /// Decoding a chunk in the stream.
    Stream(Box<Inflater>),
}

/// Where the piece handed out lies.
#[derive(Clone, Copy)]
enum Piece {
    Resolved(usize, usize),
    Stream,
}

/// Why the member could not be decoded: the compressed byte and what.
pub type MemberError = (usize, String);

/// A gzip member's deflate data decoded in parallel chunks (see the module
/// documentation). Yields the decoded bytes in order; the caller checks
/// the trailer at [`ChunkedMember::end`].
pub struct ChunkedMember {
    data: Bytes,
    /// Compressed bytes per chunk.
    chunk_bytes: usize,
    /// The first bit of the deflate data, and the end of the chunks.
    base_bit: usize,
    limit_bit: usize,
    chunks: usize,
    /// Next chunk to dispatch (jobs start at 1) and to take.
    next_job: usize,
    next_take: usize,
    /// Jobs by chunk, with who decodes the chunk ([`PENDING`] ...).
    jobs: Ordered<(usize, Arc<AtomicU8>), Option<Chunk>>,
    max_jobs: usize,
    /// Where the next chunk must start (a bit), once known.
    expected: usize,
    /// The last bytes handed out (at least the window, at most twice it).
    window: Vec<u8>,
    current: Current,
    /// After the final block: the byte after it.
    end: Option<usize>,
    /// Chunks decoded by jobs and in the stream.
    taken: (u64, u64),
    last: Piece,
    /// Decoders of chunks handed out, for the next jobs (their buffers
    /// are warm: fresh memory costs page faults).
    spare: Arc<Mutex<Vec<Inflater>>>,
    /// The decoder of chunks decoded in the stream, between chunks.
    stream_spare: Option<Box<Inflater>>,
    /// The buffer of the chunk handed out last, for the next one.
    spare_out: Option<Vec<u8>>,
}

impl ChunkedMember {
    /// The deflate data starting at byte `deflate_start` of `data`, which
    /// ends before `span_end`, with at most `max_jobs` chunks decoding at
    /// once.
    pub fn new(data: Bytes, deflate_start: usize, span_end: usize, max_jobs: usize) -> ChunkedMember {
        ChunkedMember::with_chunk_bytes(data, deflate_start, span_end, max_jobs, CHUNK_BYTES)
    }

    /// [`ChunkedMember::new`] with chunks of `chunk_bytes` compressed bytes
    /// (at least 1 KiB) instead of [`CHUNK_BYTES`] (tests use small ones to
    /// cut real files into many chunks).
    pub fn with_chunk_bytes(data: Bytes, deflate_start: usize, span_end: usize, max_jobs: usize, chunk_bytes: usize) -> ChunkedMember {
        let chunk_bytes = chunk_bytes.max(1 << 10);
        let base_bit = deflate_start * 8;
        let limit_bit = span_end.max(deflate_start) * 8;
        let chunks = (limit_bit - base_bit).div_ceil(chunk_bytes * 8).max(1);
        ChunkedMember {
            data,
            chunk_bytes,
            base_bit,
            limit_bit,
            chunks,
            next_job: 1,
            next_take: 0,
            jobs: Ordered::new(),
            max_jobs: max_jobs.max(1),
            expected: base_bit,
            window: Vec::with_capacity(2 * WINDOW),
            current: Current::None,
            end: None,
            taken: (0, 0),
            last: Piece::Stream,
            spare: Arc::new(Mutex::new(Vec::new())),
            stream_spare: None,
            spare_out: None,
        }
    }

    /// Chunks taken so far: (decoded by jobs, decoded in the stream).
    pub fn chunks_taken(&self) -> (u64, u64) {
        self.taken
    }

    /// The byte after the member's deflate data, once it has all been
    /// handed out.
    pub fn end(&self) -> Option<usize> {
        self.end.filter(|_| matches!(self.current, Current::None))
    }

    /// A compressed offset before which the input is not read again.
    pub fn input_done_before(&self) -> usize {
        match &self.current {
            Current::Stream(inf) => inf.position(),
            _ => self.expected / 8,
        }
    }

    /// The first bit of chunk `k`.
    fn chunk_bit(&self, k: usize) -> usize {
        match k {
            0 => self.base_bit,
            k if k >= self.chunks => self.limit_bit,
            k => self.base_bit + k * self.chunk_bytes * 8,
        }
    }

    fn dispatch(&mut self) {
        while self.jobs.len() < self.max_jobs && self.next_job < self.chunks && self.end.is_none() {
            let k = self.next_job;
            let (from, to) = (self.chunk_bit(k), self.chunk_bit(k + 1));
            let data = self.data.clone();
            let claim = Arc::new(AtomicU8::new(PENDING));
            let spare = Arc::clone(&self.spare);
            let mine = Arc::clone(&claim);
            self.jobs.spawn((k, claim), 0, move || {
                if mine.compare_exchange(PENDING, BY_JOB, Ordering::AcqRel, Ordering::Acquire).is_err() {
                    return None; // the caller's thread decodes this chunk
                }
                let body = spare.lock().ok().and_then(|mut s| s.pop()).unwrap_or_else(|| Inflater::new(0));
                decode_chunk(&data, from, to, body)
            });
            self.next_job += 1;
        }
    }

    /// Remember `piece` as the latest output.
    fn handed(window: &mut Vec<u8>, piece: &[u8]) {
        if window.len() + piece.len().min(WINDOW) > 2 * WINDOW {
            let keep = WINDOW.saturating_sub(piece.len()).min(window.len());
            window.drain(..window.len() - keep);
        }
        window.extend_from_slice(&piece[piece.len().saturating_sub(WINDOW)..]);
    }

    /// The next decoded bytes, `Ok(None)` after the final block.
    pub fn next_piece(&mut self) -> Result<Option<&[u8]>, MemberError> {
        let Some(piece) = self.advance()? else { return Ok(None) };
        self.last = piece;
        Ok(Some(self.last_piece()))
    }

    /// The bytes the last [`ChunkedMember::next_piece`] gave.
    pub fn last_piece(&self) -> &[u8] {
        match (&self.current, self.last) {
            (Current::Chunk { resolved, .. }, Piece::Resolved(from, to)) => &resolved[from..to],
            (Current::Stream(inf), Piece::Stream) => inf.last_piece(),
            _ => &[],
        }
    }

    /// Decode or take the next piece: where it is.
    fn advance(&mut self) -> Result<Option<Piece>, MemberError> {
        loop {
            match &mut self.current {
                Current::Chunk { resolved, at } => {
                    if *at < resolved.len() {
                        let (from, to) = (*at, resolved.len().min(*at + HANDOUT));
                        *at = to;
                        Self::handed(&mut self.window, &resolved[from..to]);
                        return Ok(Some(Piece::Resolved(from, to)));
                    }
                    self.spare_out = Some(std::mem::take(resolved));
                    self.current = Current::None;
                }
                Current::Stream(inf) => {
                    match inf.next_piece(&self.data) {
                        Ok([]) => {}
                        Ok(piece) => {
                            Self::handed(&mut self.window, piece);
                            return Ok(Some(Piece::Stream));
                        }
                        Err(e) => return Err((e.at, e.what.to_string())),
                    }
                    match inf.stopped_at() {
                        Some(bit) => self.expected = bit,
                        None => self.end = Some(inf.position()),
                    }
                    if let Current::Stream(inf) = std::mem::replace(&mut self.current, Current::None) {
                        self.stream_spare = Some(inf);
                    }
                }
                Current::None => {}
            }
            if self.end.is_some() {
                return Ok(None);
            }
            // Past the last chunk when the member's data goes on beyond the
            // span it was given (a member header look-alike inside its
            // compressed data ended the span early): the rest is decoded in
            // the stream, with no stop.
            let k = self.next_take;
            self.next_take += 1;
            self.dispatch();
            // A job not started yet is claimed and its chunk decoded here,
            // in bytes (cheaper than markers): the caller's thread never
            // waits for a chunk that no worker has begun, so chunks go to
            // workers only when they have time to spare (parsing comes
            // first on a pool of two).
            let job = match self.jobs.front() {
                Some(p)
                    if k > 0
                        && p.meta
                            .1
                            .compare_exchange(PENDING, BY_CALLER, Ordering::AcqRel, Ordering::Acquire)
                            .is_ok() =>
                {
                    self.jobs.drop_front();
                    None
                }
                Some(_) if k > 0 => self.jobs.wait_front().and_then(|(_, r)| r).flatten(),
                _ => None,
            };
            let stop = self.chunk_bit(k + 1);
            if self.expected >= stop && k + 1 < self.chunks {
                // Decoding in the stream went past this chunk already.
                continue;
            }
            if let Some(chunk) = job.filter(|c| c.start_bit == self.expected) {
                let mut resolved = self.spare_out.take().unwrap_or_default();
                resolved.clear();
                if inflate::resolve_markers(chunk.body.markers(), &self.window, &mut resolved) {
                    self.taken.0 += 1;
                    match chunk.end_bit {
                        Some(bit) => self.expected = bit,
                        None => self.end = Some(chunk.body.position()),
                    }
                    self.current = Current::Chunk { resolved, at: 0 };
                    if let Ok(mut spare) = self.spare.lock() {
                        spare.push(chunk.body);
                    }
                    continue;
                }
            }
            // No job, or one that started elsewhere: decode this chunk here.
            self.taken.1 += 1;
            let mut inf = self.stream_spare.take().unwrap_or_else(|| Box::new(Inflater::new(0)));
            inf.reset_at_bit(self.expected);
            inf.set_window(&self.window);
            if k + 1 < self.chunks {
                inf.stop_at_bit(stop);
            }
            self.current = Current::Stream(inf);
        }
    }
}

#[cfg(all(test, feature = "synth"))]
mod tests {
    use super::*;
    use std::io::Write;

    fn deflate(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode(c: &[u8], threads: usize) -> (Vec<u8>, usize, (u64, u64)) {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let mut m = ChunkedMember::new(Bytes::copy_from_slice(c), 0, c.len(), 4);
            let mut out = Vec::new();
            while let Some(p) = m.next_piece().unwrap() {
                out.extend_from_slice(p);
            }
            (out, m.end().unwrap(), m.chunks_taken())
        })
    }

    fn rib() -> Vec<u8> {
        let mut data = Vec::new();
        crate::synth::write_rib(&crate::synth::RibOptions::route_views2_like().scale(0.03), &mut data).unwrap();
        data
    }

    #[test]
    fn chunks_decoded_by_jobs_match_the_stream() {
        let data = rib();
        // zlib-rs at level 1 writes fixed-code blocks, which the jobs do
        // not look for: decoded in the stream, chunk after chunk.
        for level in [1, 6, 9] {
            let c = deflate(&data, level);
            for threads in [1, 2, 3] {
                let (out, end, (jobs, stream)) = decode(&c, threads);
                assert!(out == data, "level {level}");
                assert_eq!(end, c.len());
                if level > 1 {
                    // Jobs not started when their turn comes are decoded in
                    // the stream instead: how many depends on timing.
                    assert_eq!(jobs + stream, c.len().div_ceil(CHUNK_BYTES) as u64);
                    assert!(stream >= 1);
                }
            }
        }
    }

    /// A span that ends before the member does (a member header look-alike
    /// inside the compressed data): the rest is decoded in the stream.
    #[test]
    fn a_span_shorter_than_the_member_is_decoded_to_its_end() {
        let data = rib();
        let c = deflate(&data, 6);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        for span in [c.len() / 3, c.len() - 9, 2 << 10] {
            let mut m = ChunkedMember::with_chunk_bytes(Bytes::copy_from_slice(&c), 0, span, 4, 256 << 10);
            let out = pool.install(|| {
                let mut out = Vec::new();
                while let Some(p) = m.next_piece().unwrap() {
                    out.extend_from_slice(p);
                }
                out
            });
            assert!(out == data, "span {span}");
            assert_eq!(m.end(), Some(c.len()));
        }
    }

    /// Every chunk's job, run alone: it starts on the first block at or
    /// after the chunk's start, ends where the next one starts, and its
    /// symbols, resolved with the bytes before it, are the stream's bytes.
    #[test]
    fn every_chunk_decoded_with_markers_resolves_to_the_stream() {
        let data = rib();
        let c = deflate(&data, 6);
        let chunks = c.len().div_ceil(CHUNK_BYTES);
        assert!(chunks >= 3);
        let mut at = None;
        let mut out = Vec::new();
        let mut markers = 0;
        for k in 1..chunks {
            let to = if k + 1 == chunks { c.len() * 8 } else { (k + 1) * CHUNK_BYTES * 8 };
            let chunk = decode_chunk(&c, k * CHUNK_BYTES * 8, to, Inflater::new(0)).expect("a block start");
            assert!(chunk.start_bit >= k * CHUNK_BYTES * 8 && chunk.start_bit < to);
            if let Some(end) = at {
                assert_eq!(chunk.start_bit, end, "chunk {k} starts where chunk {} ended", k - 1);
            }
            // The bytes before the chunk, from the stream.
            let mut inf = Inflater::new(0);
            inf.stop_at_bit(chunk.start_bit);
            let mut before = Vec::new();
            loop {
                let piece = inf.next_piece(&c).unwrap();
                if piece.is_empty() {
                    break;
                }
                before.extend_from_slice(piece);
            }
            assert_eq!(inf.stopped_at(), Some(chunk.start_bit));
            out.clear();
            assert!(inflate::resolve_markers(chunk.body.markers(), &before, &mut out));
            assert!(data[before.len()..].starts_with(&out), "chunk {k}");
            markers += chunk.body.markers().iter().filter(|&&v| v >= inflate::MARKER).count();
            at = chunk.end_bit;
            if k + 1 == chunks {
                assert_eq!(at, None, "the last chunk holds the final block");
                assert_eq!(before.len() + out.len(), data.len());
            }
        }
        assert!(markers > 0, "MRT data refers back across chunk starts");
    }
}
