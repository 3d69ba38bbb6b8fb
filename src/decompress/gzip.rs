//! gzip from memory (a mapped file or a buffer): members decoded whole by
//! libdeflate on rayon workers, speculatively and in parallel, and verified
//! in order; members too large to hold, and wrong guesses, streamed by
//! [`super::inflate`] on the caller's thread.
//!
//! Where a member ends is only known by inflating it, so member starts are
//! guessed: every `1f 8b 08` followed by a plausible header (reserved flag
//! bits clear, XFL 0, 2 or 4, a known OS byte) is a candidate
//! ([`candidates`]). Candidate k's span runs to candidate k+1 (or the end of
//! the input), and if the guess is right, the span ends with member k's
//! trailer, whose ISIZE says how large an output buffer to give libdeflate.
//! A job succeeds only when libdeflate decodes the member (it checks the
//! CRC32 and ISIZE at the member's real end), the output has exactly the
//! span's ISIZE bytes, and the output's CRC32 equals the span's stored one:
//! the member then ends where the span does, since a member ending earlier
//! would have to be followed by bytes that are not a member start but end
//! in a copy of its own trailer.
//!
//! Members are handed out strictly in order. The front job must start where
//! the previous member ended; when it does not (a candidate that was not a
//! member start, a member whose ISIZE is above the cap, a damaged member),
//! that one member is streamed by [`Inflater`] in pieces of up to 1 MiB
//! (CRC32 and ISIZE checked at its end), which finds its true end (or reports the damage with its
//! position, after everything decodable before it), and jobs starting
//! before that end are discarded.
//!
//! # Damage
//!
//! A damaged member (its header, its deflate data, its CRC32 or ISIZE) is
//! reported and skipped: decoding resumes at the first plausible member
//! header after its start, looked for from [`LOOKBACK`] before where the
//! damage was noticed at the earliest ([`resume_from`]); the damaged
//! member's ISIZE, the 4 bytes before that header, tells the bytes lost.
//! [`StreamGzip`] decodes a stream (standard input, a pipe, `Source::from_reader`) member by
//! member with the same [`Inflater`] over a [`Window`] and the same rules,
//! so both give the same bytes and errors.
//!
//! # Memory
//!
//! A member is held whole only when its ISIZE is at most
//! [`super::Options::gzip_member_cap`] (default [`DEFAULT_MEMBER_CAP`]), or
//! [`SINGLE_MEMBER_WHOLE_MAX`] when the input is one member (nothing to
//! decode in parallel, and streaming overlaps decoding with parsing); the
//! jobs in flight together with the member being handed out are kept within
//! that cap too (one job is always allowed), and at most
//! [`super::Options::max_in_flight`] jobs run at once; buffers of members
//! handed out are kept for the next jobs, within the cap too (a fresh
//! buffer costs page faults, see `ordered::Buffer`). So at most
//! twice the cap is held. ISIZE is read from
//! the input and never trusted beyond the cap: a corrupt one costs a failed
//! job, not an allocation. A larger member (a 5 GB table) is streamed.

use super::inflate::Inflater;
use super::member;
use super::ordered::{Buffer, Ordered, Pool};
use super::window::{self, Window, LOOKBACK};
use super::{Decode, DecodeError};
use bytes::Bytes;
use std::io::Read;

/// Largest member (ISIZE) decoded whole, by default.
pub const DEFAULT_MEMBER_CAP: usize = 256 << 20;

/// Largest member decoded whole when the input has a single candidate (one
/// member). Above it the member is streamed: decoding overlaps parsing and
/// memory stays at a few batches. On the 222 MB table (one member), whole:
/// 430 ms of CPU, 385 MB peak RSS, 0.62-0.82 s wall on the loaded 2-core
/// machine (the member decodes before parsing starts; page faults or
/// huge-page compaction on the fresh 220 MB buffer cost 0.1-0.5 s of
/// system time); streamed: 507 ms of CPU, 45 MB, 0.40-0.52 s.
pub const SINGLE_MEMBER_WHOLE_MAX: usize = 64 << 20;

/// Decoded bytes handed out at a time from a member held whole.
const HANDOUT: usize = 8 << 20;

/// The smallest gzip member: 10 header bytes, an empty final stored or
/// fixed block (2 bytes), 8 trailer bytes.
const MIN_MEMBER: usize = 20;

/// Whether `h` (at least 10 bytes) looks like a gzip member header.
fn plausible(h: &[u8]) -> bool {
    matches!(h, [0x1f, 0x8b, 8, flg, _, _, _, _, xfl, os, ..]
        if flg & 0xe0 == 0 && matches!(xfl, 0 | 2 | 4) && (*os <= 13 || *os == 255))
}

/// Candidates kept at most (8 MiB of offsets; a bgzip file of 5 GB has
/// ~80,000 members). Members after the last candidate are streamed.
pub const MAX_CANDIDATES: usize = 1 << 20;

/// Offsets of the plausible member headers in `data`, ascending, at most
/// [`MAX_CANDIDATES`]; 0 always comes first (the input was recognised as
/// gzip by its first bytes).
pub fn candidates(data: &[u8]) -> Vec<usize> {
    candidates_in_steps(data, usize::MAX, |_| {})
}

/// [`candidates`], scanning `step` bytes at a time and calling `done(end)`
/// after each step with the offset scanned up to (the mapped source drops
/// the pages behind it, so that scanning a large mapped file does not make
/// all of it resident at once).
pub fn candidates_in_steps(data: &[u8], step: usize, mut done: impl FnMut(usize)) -> Vec<usize> {
    const MAGIC: [u8; 3] = [0x1f, 0x8b, 8];
    let step = step.max(1);
    let finder = memchr::memmem::Finder::new(&MAGIC);
    let mut out = vec![0];
    let mut from = 0;
    while from < data.len() && out.len() < MAX_CANDIDATES {
        let end = from.saturating_add(step).min(data.len());
        // A match starting before `end` may run 2 bytes past it.
        let window = data.get(from..end.saturating_add(MAGIC.len() - 1).min(data.len())).unwrap_or(&[]);
        for rel in finder.find_iter(window) {
            let at = from + rel;
            if out.len() >= MAX_CANDIDATES {
                break;
            }
            if at > 0 && data.get(at..at + 10).is_some_and(plausible) {
                out.push(at);
            }
        }
        done(end);
        from = end;
    }
    out
}

fn le32(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Decode the member guessed to span `data[start..end]` whole, or `None`
/// when the guess is wrong (or the member damaged). `Some((buffer, len))`.
///
/// libdeflate checks the trailer after the member's deflate data and
/// ignores what follows; the span's last 8 bytes are checked here too. A
/// member that ends earlier passes both only when its own trailer and the
/// span's end hold the same 8 bytes: a damaged member (its header no
/// longer a candidate) after one with the same content. So a span whose
/// trailer bytes also occur before its end is streamed instead, which finds
/// the member's true end (found by `fuzz/fuzz_targets/damaged_streams.rs`:
/// the damaged member was skipped without a word).
fn decode_span(data: &[u8], start: usize, end: usize, isize: usize, mut buf: Buffer) -> Option<(Buffer, usize)> {
    let span = data.get(start..end)?;
    let (body, trailer) = span.split_at_checked(span.len().checked_sub(8)?)?;
    let stored_crc = le32(trailer, 0)?;
    let out = buf.bytes_mut().get_mut(..isize)?;
    let n = libdeflater::Decompressor::new().gzip_decompress(span, out).ok()?;
    let whole = n == isize && libdeflater::crc32(out) == stored_crc;
    (whole && memchr::memmem::find(body, trailer).is_none()).then_some((buf, isize))
}

/// A job: the candidate member's span and expected size.
struct Span {
    start: usize,
    end: usize,
}

/// One member streamed by [`Inflater`], or in parallel chunks.
struct Streamed {
    /// Where the member's header starts.
    start: usize,
    crc: libdeflater::Crc,
    /// Bytes decoded.
    total: u64,
    chunked: Option<member::ChunkedMember>,
}

/// Header bytes read at most: a member whose name or comment runs longer
/// is damaged (a window over a stream holds this much ahead, so that it
/// decides as the whole input does).
pub const MAX_HEADER: usize = 1 << 20;

/// Where the deflate data of the member whose header starts at
/// `data[start..]` begins (RFC 1952: optional extra field, name, comment
/// and header CRC after the 10 fixed bytes). Only [`MAX_HEADER`] bytes are
/// read. An error that starts with "truncated" means the input ends inside
/// the header.
pub fn deflate_start(data: &[u8], start: usize) -> Result<usize, &'static str> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    let all = data.get(start..).unwrap_or(&[]);
    let h = &all[..all.len().min(MAX_HEADER)];
    let flg = match h {
        [0x1f, 0x8b, 8, flg, ..] if h.len() >= 10 => *flg,
        [0x1f, 0x8b, _, _, ..] if h.len() >= 10 => return Err("unknown compression method"),
        _ if h.len() < 10 && [0x1f, 0x8b, 8].starts_with(&h[..h.len().min(3)]) => return Err("truncated member header"),
        _ => return Err("not a gzip member header"),
    };
    if flg & 0xe0 != 0 {
        return Err("reserved header flags set");
    }
    let cut = |what| {
        if all.len() < MAX_HEADER {
            Err(what)
        } else {
            Err("header longer than 1 MiB")
        }
    };
    let mut at = 10;
    if flg & FEXTRA != 0 {
        let Some(xlen) = h.get(at..at + 2) else {
            return cut("truncated extra field");
        };
        at += 2 + usize::from(u16::from_le_bytes([xlen[0], xlen[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flg & flag != 0 {
            let Some(rest) = h.get(at..) else { return cut("truncated header") };
            match memchr::memchr(0, rest) {
                Some(n) => at += 1 + n,
                None => return cut("truncated header (name or comment)"),
            }
        }
    }
    if flg & FHCRC != 0 {
        at += 2;
    }
    if at > h.len() {
        return cut("truncated header");
    }
    Ok(start + at)
}

/// Whether `b` (up to 10 bytes from a position) is a member start for
/// resynchronisation after damage: a plausible header ([`plausible`]).
fn is_member_start(b: &[u8]) -> bool {
    b.len() >= 10 && plausible(b)
}

/// The trailer check of a member whose deflate data end at `end`, with
/// `crc` and `total` of what it decoded: where the next member starts, or
/// where and what is wrong.
fn trailer(data: &[u8], end: usize, crc: u32, total: u64) -> Result<usize, (usize, &'static str)> {
    match (le32(data, end), le32(data, end + 4)) {
        (Some(c), Some(isize)) if c == crc && isize == total as u32 => Ok(end + 8),
        (Some(c), Some(_)) if c != crc => Err((end, "CRC32 mismatch")),
        (Some(_), Some(_)) => Err((end + 4, "length (ISIZE) mismatch")),
        _ => Err((end, "truncated trailer")),
    }
}

/// Where the next member is looked for after damage in the member starting
/// at `start`, noticed at `at`: from the byte after its start, but no
/// further back than [`LOOKBACK`] before `at` (a stream keeps no more).
/// Not from the end its deflate data claim even when they were decoded to
/// it (only the trailer wrong): damage can make them end past the next
/// member's start.
fn resume_from(start: u64, at: u64) -> u64 {
    (start + 1).max(at.saturating_sub(LOOKBACK))
}

/// What a damaged member is reported as, the same from memory and from a
/// stream.
struct Damage<'w> {
    /// Index of the member.
    member: u64,
    /// Where its header starts, and where the damage was noticed.
    start: u64,
    at: u64,
    what: &'w str,
    /// Bytes it handed out.
    decoded: u64,
    /// Its end, when its deflate data were decoded to their end (only the
    /// trailer is wrong: no byte was lost).
    end: Option<u64>,
}

impl Damage<'_> {
    /// The error, with `next` the member found at or after
    /// [`resume_from`], and `isize_before` the 4 bytes before it read as
    /// the damaged member's ISIZE.
    fn error(&self, next: Option<u64>, isize_before: Option<u32>) -> DecodeError {
        let Damage {
            member,
            start,
            at,
            what,
            decoded,
            end,
        } = *self;
        let unit = format!("gzip member {member} at compressed byte {start}");
        let Some(c) = next else {
            if what.starts_with("truncated") {
                return DecodeError::truncated(format!("{unit} truncated near compressed byte {at}: {what}"), Some(at));
            }
            let m = format!("{unit} damaged near compressed byte {at}: {what}; no member follows");
            return DecodeError {
                lost: end.map(|_| 0),
                ..DecodeError::corrupt(m, Some(at))
            };
        };
        // The bytes lost: none when the deflate data were decoded to their
        // end; else the damaged member's ISIZE less what it gave, when the
        // next member is the first header after its start (so that its
        // ISIZE is the 4 bytes before).
        let lost = match (end, isize_before) {
            (Some(_), _) => Some(0),
            (None, Some(isize)) if resume_from(start, at) == start + 1 => Some(u64::from(isize.wrapping_sub(decoded as u32))),
            _ => None,
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

/// The in-memory gzip decoder (see the module documentation).
pub struct MemoryGzip {
    data: Bytes,
    /// Candidate member starts, found on first use.
    cands: Option<Vec<usize>>,
    /// Index in `cands` of the next candidate to dispatch.
    next_cand: usize,
    /// Where the next member starts (verified).
    pos: usize,
    /// Index of the next member.
    member: u64,
    /// Members decoded whole by jobs, and streamed.
    whole: u64,
    streamed_members: u64,
    jobs: Ordered<Span, Option<(Buffer, usize)>>,
    /// The member being handed out (its length), and how far.
    current: Option<Buffer>,
    current_len: usize,
    handed: usize,
    streamed: Option<Streamed>,
    /// The streaming decoder, kept for the next streamed member.
    inflater: Option<Box<Inflater>>,
    /// Whether large members are decoded in parallel chunks (pools of
    /// [`member::MIN_THREADS`] or more).
    parallel_chunks: bool,
    /// Members of at least this many compressed bytes are decoded in
    /// chunks (when `parallel_chunks`).
    chunked_from: usize,
    /// Compressed bytes per chunk.
    chunk_bytes: usize,
    /// Chunks of such members decoded by jobs and in the stream.
    chunks: (u64, u64),
    /// Buffers of members handed out, for the next jobs.
    pool: Pool,
    cap: usize,
    max_in_flight: usize,
    done: bool,
}

impl MemoryGzip {
    /// A decoder over the gzip member(s) in `data`, holding members of at
    /// most `cap` decoded bytes whole (0: stream every member), with at
    /// most `max_in_flight` members decoding at once.
    pub fn new(data: Bytes, cap: usize, max_in_flight: usize) -> MemoryGzip {
        MemoryGzip {
            data,
            cands: None,
            next_cand: 0,
            pos: 0,
            member: 0,
            whole: 0,
            streamed_members: 0,
            jobs: Ordered::new(),
            current: None,
            current_len: 0,
            handed: 0,
            streamed: None,
            inflater: None,
            parallel_chunks: rayon::current_num_threads() >= member::MIN_THREADS,
            chunked_from: member::MIN_CHUNKS * member::CHUNK_BYTES,
            chunk_bytes: member::CHUNK_BYTES,
            chunks: (0, 0),
            pool: Pool::new(cap),
            cap,
            max_in_flight: max_in_flight.max(1),
            done: false,
        }
    }

    /// Decode members of several chunks in parallel chunks or not,
    /// whatever the pool's size ([`super::member`]).
    /// (With `true`, members of two chunks or more, not only of
    /// [`member::MIN_CHUNKS`].)
    pub fn parallel_chunks(mut self, on: bool) -> MemoryGzip {
        self.parallel_chunks = on;
        self.chunked_from = 2 * self.chunk_bytes;
        self
    }

    /// Chunks of `n` compressed bytes (at least 1 KiB) instead of
    /// [`member::CHUNK_BYTES`], with [`MemoryGzip::parallel_chunks`]: tests
    /// cut small real files into many chunks with it.
    pub fn chunk_bytes(mut self, n: usize) -> MemoryGzip {
        self.chunk_bytes = n.max(1 << 10);
        self.chunked_from = 2 * self.chunk_bytes;
        self
    }

    /// Use `cands` (from [`candidates`] or [`candidates_in_steps`] over the
    /// same data) instead of scanning on first use.
    pub fn with_candidates(mut self, cands: Vec<usize>) -> MemoryGzip {
        self.cands = Some(cands);
        self
    }

    /// Members decoded so far: (whole, by libdeflate jobs; streamed).
    pub fn members(&self) -> (u64, u64) {
        (self.whole, self.streamed_members)
    }

    /// Start jobs for the next candidates while the bounds allow.
    fn dispatch(&mut self) {
        if self.cap == 0 {
            return;
        }
        let cands = self.cands.get_or_insert_with(|| candidates(&self.data));
        let limit = match cands.len() {
            1 => self.cap.min(SINGLE_MEMBER_WHOLE_MAX),
            _ => self.cap,
        };
        while self.jobs.len() < self.max_in_flight {
            let Some(&start) = cands.get(self.next_cand) else { break };
            if start < self.pos {
                self.next_cand += 1;
                continue;
            }
            let end = cands.get(self.next_cand + 1).copied().unwrap_or(self.data.len());
            let isize = end
                .checked_sub(4)
                .and_then(|at| le32(&self.data, at))
                .and_then(|v| usize::try_from(v).ok())
                .unwrap_or(usize::MAX);
            if end - start < MIN_MEMBER || isize > limit {
                // Streamed when its turn comes; later members can start.
                self.next_cand += 1;
                continue;
            }
            let held = self.jobs.bytes() + self.current_len - self.handed.min(self.current_len);
            if !self.jobs.is_empty() && held.saturating_add(isize) > self.cap {
                break;
            }
            let data = self.data.clone();
            let buf = self.pool.take(isize);
            self.jobs
                .spawn(Span { start, end }, isize, move || decode_span(&data, start, end, isize, buf));
            self.next_cand += 1;
        }
    }

    /// Report the damaged member at `start` (see [`Damage`]) and go on at
    /// the next member after it, or finish when none follows.
    fn damaged(&mut self, start: usize, at: usize, what: &str, decoded: u64, end: Option<usize>) -> DecodeError {
        let d = Damage {
            member: self.member,
            start: start as u64,
            at: at as u64,
            what,
            decoded,
            end: end.map(|e| e as u64),
        };
        let from = usize::try_from(resume_from(d.start, d.at)).unwrap_or(usize::MAX);
        let next = match window::scan(&self.data, from, 10, true, &mut is_member_start) {
            window::Scan::Found(c) => Some(c),
            window::Scan::Before(_) => None,
        };
        let isize_before = next.and_then(|c| le32(&self.data, c.checked_sub(4)?));
        let e = d.error(next.map(|c| c as u64), isize_before);
        match next {
            Some(c) => {
                self.member += 1;
                self.pos = c;
                // Jobs begun before it were inside the damage.
                while self.jobs.front().is_some_and(|p| p.meta.start < c) {
                    self.jobs.drop_front();
                }
            }
            None => self.done = true,
        }
        e
    }

    /// Decode the next piece of the member being streamed: its length
    /// (0 at the member's end, checked against its trailer), or `None`
    /// when no member is being streamed.
    fn next_streamed(&mut self) -> Option<Result<usize, DecodeError>> {
        let s = self.streamed.as_mut()?;
        let piece = match &mut s.chunked {
            Some(m) => m.next_piece(),
            None => {
                let inf = self.inflater.as_mut()?;
                inf.next_piece(&self.data)
                    .map(|p| (!p.is_empty()).then_some(p))
                    .map_err(|e| (e.at, e.what.to_string()))
            }
        };
        let result = match piece {
            Ok(Some(piece)) => {
                s.crc.update(piece);
                s.total += piece.len() as u64;
                return Some(Ok(piece.len()));
            }
            Ok(None) => {
                let end = match &s.chunked {
                    Some(m) => m.end().unwrap_or(self.data.len()),
                    None => self.inflater.as_ref().map_or(self.data.len(), |inf| inf.position()),
                };
                trailer(&self.data, end, s.crc.sum(), s.total).map_err(|(at, what)| (at, what.to_string(), Some(end + 8)))
            }
            Err((at, what)) => Err((at, what, None)),
        };
        let (start, total) = (s.start, s.total);
        if let Some(m) = &s.chunked {
            let (jobs, stream) = m.chunks_taken();
            self.chunks.0 += jobs;
            self.chunks.1 += stream;
        }
        self.streamed = None;
        match result {
            Ok(end) => {
                self.member += 1;
                self.streamed_members += 1;
                self.pos = end;
                // Jobs begun inside this member were wrong guesses.
                while self.jobs.front().is_some_and(|p| p.meta.start < end) {
                    self.jobs.drop_front();
                }
                Some(Ok(0))
            }
            Err((at, what, end)) => Some(Err(self.damaged(start, at, &what, total, end))),
        }
    }

    /// The bytes of the last piece [`MemoryGzip::next_streamed`] gave.
    fn streamed_piece(&self) -> &[u8] {
        match self.streamed.as_ref().and_then(|s| s.chunked.as_ref()) {
            Some(m) => m.last_piece(),
            None => self.inflater.as_ref().map_or(&[][..], |inf| inf.last_piece()),
        }
    }

    /// Chunks of large members decoded by parallel jobs and in the stream
    /// ([`super::member`]).
    pub fn chunks(&self) -> (u64, u64) {
        self.chunks
    }

    /// Start streaming the member at `self.pos`: in parallel chunks when it
    /// may span several and the pool has more than one thread.
    fn stream(&mut self) -> Result<(), DecodeError> {
        let start = self.pos;
        let deflate = match deflate_start(&self.data, start) {
            Ok(d) => d,
            Err(what) => return Err(self.damaged(start, start, what, 0, None)),
        };
        let span_end = self
            .cands
            .as_ref()
            .and_then(|c| c.iter().find(|&&c| c > start).copied())
            .unwrap_or(self.data.len());
        let chunked = (self.parallel_chunks && span_end - deflate >= self.chunked_from).then(|| {
            let jobs = rayon::current_num_threads() + 1;
            member::ChunkedMember::with_chunk_bytes(self.data.clone(), deflate, span_end, jobs, self.chunk_bytes)
        });
        if chunked.is_none() {
            match &mut self.inflater {
                Some(inf) => inf.reset(deflate),
                None => self.inflater = Some(Box::new(Inflater::new(deflate))),
            }
        }
        self.streamed = Some(Streamed {
            start,
            crc: libdeflater::Crc::new(),
            total: 0,
            chunked,
        });
        Ok(())
    }
}

impl Decode for MemoryGzip {
    /// The streamed member's read position, else the next member's start:
    /// jobs only read candidates at or after it.
    fn input_done_before(&self) -> Option<u64> {
        let at = match (&self.streamed, &self.inflater) {
            (Some(Streamed { chunked: Some(m), .. }), _) => m.input_done_before(),
            (Some(_), Some(inf)) => inf.position(),
            _ => self.pos,
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
                let to = (from + HANDOUT).min(self.current_len);
                self.handed = to;
                if to == self.current_len {
                    // Start the jobs the budget held back before handing
                    // out the last piece.
                    self.dispatch();
                }
                let cur = self.current.as_ref().map_or(&[][..], Buffer::bytes);
                return Some(Ok(cur.get(from..to).unwrap_or(&[])));
            }
            if self.streamed.is_some() {
                match self.next_streamed() {
                    Some(Ok(0)) | None => continue,
                    Some(Ok(_)) => return Some(Ok(self.streamed_piece())),
                    Some(Err(e)) => return Some(Err(e)),
                }
            }
            if self.pos >= self.data.len() {
                self.done = true;
                return None;
            }
            if let Some(done) = self.current.take() {
                self.pool.give(done);
            }
            self.current_len = 0;
            self.handed = 0;
            self.dispatch();
            if self.jobs.front().is_some_and(|p| p.meta.start == self.pos) {
                if let Some((span, Some(Some((out, len))))) = self.jobs.wait_front() {
                    self.pos = span.end;
                    self.member += 1;
                    self.whole += 1;
                    self.current = Some(out);
                    self.current_len = len;
                    self.dispatch();
                    continue;
                }
            }
            // No job for this member, or a wrong guess: stream it.
            if let Err(e) = self.stream() {
                return Some(Err(e));
            }
        }
    }
}

/// Compressed bytes held past the decoder's read position: one call of
/// [`Inflater::next_piece`] reads at most [`PAUSE`] bytes before it stops at
/// a block boundary, plus one block's worth (at most about two bytes per
/// byte of its output piece of 1 MiB, or a stored block of 64 KiB).
const LOOKAHEAD: u64 = 4 << 20;
/// Input a call reads before it may stop at a block boundary.
const PAUSE: usize = 1 << 20;

/// Where [`StreamGzip`] is.
#[derive(Clone, Copy, Debug)]
enum At {
    /// A member header is expected here.
    Header(u64),
    /// Inside the member whose header starts here.
    Member(u64),
    Done,
}

/// gzip from a stream (standard input, a pipe, `Source::from_reader`): members in order on
/// the caller's thread, each decoded by [`Inflater`] over a sliding window
/// of the compressed input ([`Window`]) and checked against its trailer.
/// Damaged members are skipped as [`MemoryGzip`] skips them, so that both
/// hand out the same bytes and report the same errors: the same decoder
/// meets the damage at the same place, the next member is looked for by the
/// same rule.
pub struct StreamGzip<R> {
    win: Window<R>,
    inf: Box<Inflater>,
    at: At,
    member: u64,
    crc: libdeflater::Crc,
    total: u64,
}

impl<R: Read> StreamGzip<R> {
    /// A decoder over the gzip member(s) read from `input`.
    pub fn new(input: R) -> StreamGzip<R> {
        StreamGzip {
            win: Window::new(input),
            inf: Box::new(Inflater::new(0)),
            at: At::Header(0),
            member: 0,
            crc: libdeflater::Crc::new(),
            total: 0,
        }
    }

    /// Report the damaged member at `start` and go on at the next member
    /// after it (see [`MemoryGzip::damaged`]).
    fn damaged(&mut self, start: u64, at: u64, what: &str, end: Option<u64>) -> DecodeError {
        let d = Damage {
            member: self.member,
            start,
            at,
            what,
            decoded: self.total,
            end,
        };
        // The 4 bytes before a member found are kept for its ISIZE.
        let next = match self.win.find(resume_from(start, at), 10, &mut is_member_start) {
            Ok(n) => n,
            Err(e) => {
                self.at = At::Done;
                return e;
            }
        };
        let isize_before = next.and_then(|c| le32(self.win.bytes(), self.win.rel(c.checked_sub(4)?)));
        let e = d.error(next, isize_before);
        self.at = match next {
            Some(c) => {
                self.member += 1;
                At::Header(c)
            }
            None => At::Done,
        };
        e
    }

    /// The next piece's length (in `inf.last_piece()`), or an error.
    fn next_piece(&mut self) -> Option<Result<(), DecodeError>> {
        loop {
            match self.at {
                At::Done => return None,
                At::Header(pos) => {
                    let moved = self.win.release(pos.saturating_sub(LOOKBACK));
                    debug_assert!(moved == 0 || self.win.base() <= pos);
                    if let Err(e) = self.win.fill_to(pos + MAX_HEADER as u64) {
                        self.at = At::Done;
                        return Some(Err(e));
                    }
                    if pos >= self.win.end() && self.win.is_eof() {
                        self.at = At::Done;
                        return None;
                    }
                    self.crc = libdeflater::Crc::new();
                    self.total = 0;
                    match deflate_start(self.win.bytes(), self.win.rel(pos)) {
                        Ok(d) => {
                            self.inf.reset(d);
                            self.at = At::Member(pos);
                        }
                        Err(what) => return Some(Err(self.damaged(pos, pos, what, None))),
                    }
                }
                At::Member(start) => {
                    // Keep LOOKBACK behind the read position (and the 8
                    // bytes before it), and LOOKAHEAD in front of it.
                    let read = self.win.base() + self.inf.position() as u64;
                    let moved = self.win.release(read.saturating_sub(LOOKBACK + 8));
                    self.inf.rebase(moved);
                    if let Err(e) = self.win.fill_to(read + LOOKAHEAD) {
                        self.at = At::Done;
                        return Some(Err(e));
                    }
                    self.inf.pause_at(self.win.rel(read) + PAUSE);
                    let base = self.win.base();
                    match self.inf.next_piece(self.win.bytes()).map(|p| p.len()) {
                        Ok(n) if n > 0 => {
                            let p = self.inf.last_piece();
                            self.crc.update(p);
                            self.total += p.len() as u64;
                            return Some(Ok(()));
                        }
                        Ok(_) if !self.inf.is_done() => {}
                        Ok(_) => {
                            let end = base + self.inf.position() as u64;
                            if let Err(e) = self.win.fill_to(end + 8) {
                                self.at = At::Done;
                                return Some(Err(e));
                            }
                            let rel = self.win.rel(end);
                            match trailer(self.win.bytes(), rel, self.crc.sum(), self.total) {
                                Ok(_) => {
                                    self.member += 1;
                                    self.at = At::Header(end + 8);
                                }
                                Err((at, what)) => {
                                    let at = self.win.base() + at as u64;
                                    return Some(Err(self.damaged(start, at, what, Some(end + 8))));
                                }
                            }
                        }
                        Err(e) => return Some(Err(self.damaged(start, base + e.at as u64, e.what, None))),
                    }
                }
            }
        }
    }
}

impl<R: Read + Send> Decode for StreamGzip<R> {
    fn next_chunk(&mut self) -> Option<Result<&[u8], DecodeError>> {
        match self.next_piece()? {
            Ok(()) => Some(Ok(self.inf.last_piece())),
            Err(e) => Some(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(parts: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in parts {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(p).unwrap();
            out.extend(e.finish().unwrap());
        }
        out
    }

    #[test]
    fn members_of_every_size_and_any_cap() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 253) as u8 ^ (i >> 9) as u8).collect();
        let parts: Vec<&[u8]> = vec![&data[..1], &[], &data[1..90_000], &[], &data[90_000..]];
        let c = gz(&parts);
        assert_eq!(candidates(&c).len(), 5);
        for step in [1, 2, 3, 7, 64, c.len()] {
            let mut seen = Vec::new();
            assert_eq!(candidates_in_steps(&c, step, |e| seen.push(e)), candidates(&c), "step {step}");
            assert_eq!(seen.last(), Some(&c.len()));
            assert!(seen.windows(2).all(|w| w[0] < w[1]));
        }
        for cap in [0, 1, 100_000, DEFAULT_MEMBER_CAP] {
            for inflight in [1, 4] {
                let mut d = MemoryGzip::new(Bytes::from(c.clone()), cap, inflight);
                assert!(
                    crate::decompress::read_to_end(&mut d).unwrap() == data,
                    "cap {cap}, in flight {inflight}"
                );
                let (whole, streamed) = d.members();
                assert_eq!(whole + streamed, 5);
                match cap {
                    0 => assert_eq!(whole, 0),
                    1 => assert_eq!(whole, 3), // the empty members and the 1-byte one
                    100_000 => assert_eq!(whole, 4),
                    _ => assert_eq!(whole, 5),
                }
            }
        }
        // A member above the cap first: streamed while the ones after it
        // are decoded whole.
        let c = gz(&[&data[..150_000], &data[150_000..150_001], &data[150_001..]]);
        for inflight in [1, 3] {
            let mut d = MemoryGzip::new(Bytes::from(c.clone()), 100_000, inflight);
            assert!(crate::decompress::read_to_end(&mut d).unwrap() == data);
            assert_eq!(d.members(), (2, 1));
        }
    }
}
