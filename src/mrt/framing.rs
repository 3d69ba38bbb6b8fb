//! Record framing: cutting a byte stream into MRT records.
//!
//! Framing is sequential (each length locates the next header) and cheap: it
//! reads 12-byte headers and jumps. It is also where damage is handled:
//!
//! * A record whose declared length runs past the end of the data is reported
//!   once as [`ErrorKind::Truncated`] and ends the stream.
//! * Bytes that do not start a plausible header (torn writes in 2000-era RIS
//!   files, the 4 stray bytes after each record of early RIS TABLE_DUMP files)
//!   are skipped up to the next *plausible* header, reported once as
//!   [`ErrorKind::Garbage`] with their offset and size. A header is plausible
//!   when its type/subtype pair is known, its length fits what the type
//!   allows, the header it points to is plausible too (or the data ends
//!   there), and either its timestamp lies within a day of the last good
//!   record's or a well-formed chain starts at it: [`CHAIN`] headers of known
//!   types and allowed lengths, each where the one before ends (or up to
//!   [`MAX_SLACK`] bytes later), whatever their timestamps, or fewer running
//!   exactly to the end of the input. So a clock that steps, or files of
//!   different years concatenated, frame like any other input, and time only
//!   makes a lone candidate inside damage acceptable on a shorter chain.
//! * Some early BGP4MP_ET writers left the 4-byte microsecond field out of the
//!   length. When an ET record's declared end is not a plausible header but
//!   four bytes further is, the framer reads every later ET record that way.
//! * Where a damaged compressed region was skipped (see
//!   [`crate::decompress::DecodeError`]), the decompressed stream has a
//!   break: the bytes before it are framed as if the input ended there (a
//!   record cut by the break is reported as truncated "before a damaged
//!   region", which is damage, not an early end of input), and after it no
//!   header is trusted until one is confirmed (it and the header after it
//!   plausible); the bytes before that one are reported as garbage.
//!
//! The same [`Framer`] both cuts batches out of a stream (with
//! `at_end = false`, stopping where it would need bytes it has not seen) and
//! walks the records of a batch, so both make identical decisions. A batch
//! is walked over the same bytes the cutter framed it with, those after its
//! end included ([`Records::batch`]): deciding where a record ends may take
//! the next header, the record after a candidate header, or more, and a
//! batch cut off at its end decided differently from the whole input.

use super::header::{is_known, Header, HEADER_LEN};
use crate::error::{Error, ErrorKind, Result};

/// How far a record's timestamp may stray from the previous one before a
/// header needs a well-formed chain ([`CHAIN`] headers) behind it to be
/// trusted.
const TIME_WINDOW: u32 = 86_400;

/// The most stray bytes after a record that are taken as its slack rather
/// than reported as garbage.
const MAX_SLACK: usize = 8;

/// One framed MRT record: its header and its body, borrowed from the input.
#[derive(Clone, Copy, Debug)]
pub struct RawRecord<'a> {
    /// Zero-based record index in the input.
    pub index: u64,
    /// Absolute byte offset of the common header.
    pub offset: u64,
    /// The common header.
    pub header: Header,
    /// Microseconds of an `_ET` record.
    pub micros: Option<u32>,
    /// The message, after the common header (and the microsecond field).
    pub body: &'a [u8],
    /// Absolute byte offset of `body[0]`.
    pub body_offset: u64,
    /// Bytes following the declared end that the framer had to skip before
    /// the next plausible header (empty unless the input is damaged). Early
    /// RIS TABLE_DUMP files under-declare their length by four bytes; their
    /// decoder uses this to complete the last entry.
    pub slack: &'a [u8],
    /// `body` and `slack` together, as one contiguous slice.
    pub body_ext: &'a [u8],
}

/// State the framer carries from one record to the next (and from one batch
/// to the next).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameState {
    /// Timestamp of the last good record.
    pub last_ts: Option<u32>,
    /// ET records under-declare their length by the microsecond field.
    pub et_short: bool,
    /// The bytes here follow a break in the decompressed stream (a damaged
    /// compressed region skipped): they may start anywhere inside a record.
    pub after_break: bool,
}

/// What one framing step found.
#[derive(Debug)]
pub(crate) enum Step<'a> {
    /// A whole record.
    Record(RawRecord<'a>),
    /// A framing error; framing goes on from the framer's new position.
    Damage(Error),
    /// More bytes are needed to decide (only when not at the end).
    NeedMore,
    /// The buffer is exhausted.
    End,
}

/// Walks MRT records through a buffer.
#[derive(Clone, Debug)]
pub struct Framer<'a> {
    buf: &'a [u8],
    pos: usize,
    base: u64,
    index: u64,
    state: FrameState,
    at_end: bool,
    /// The buffer ends at a break in the decompressed stream rather than at
    /// the end of the input (with `at_end`).
    at_break: bool,
}

impl<'a> Framer<'a> {
    /// A framer over `buf`, whose first byte is absolute offset `base` and
    /// whose first record has index `first_index`. `at_end` says the data
    /// ends with the buffer.
    pub fn new(buf: &'a [u8], base: u64, first_index: u64, state: FrameState, at_end: bool) -> Self {
        Framer {
            buf,
            pos: 0,
            base,
            index: first_index,
            state,
            at_end,
            at_break: false,
        }
    }

    /// The buffer (given with `at_end`) ends at a break in the decompressed
    /// stream, not at the end of the input: a record cut there is damage.
    pub(crate) fn ending_at_break(mut self, yes: bool) -> Self {
        self.at_break = yes;
        self
    }

    /// What a record or header cut by the end of the buffer is called.
    fn cut_what(&self, what: &'static str) -> &'static str {
        match (self.at_break, what) {
            (false, w) => w,
            (true, "MRT header") => "MRT header before a damaged region",
            (true, _) => "MRT record before a damaged region",
        }
    }

    /// The first step after a break in the decompressed stream: the bytes up
    /// to the first confirmed header are garbage (`None`: the header here is
    /// confirmed, frame on). Until a header is confirmed the state keeps
    /// saying so, also across batches, so that bytes that cannot be decided
    /// yet are decided where more are seen.
    fn after_break(&mut self) -> Option<Step<'a>> {
        let start = self.pos;
        let mut q = start;
        while q < self.buf.len() {
            match self.confirmed(q, None) {
                Some(true) => {
                    self.state.after_break = false;
                    break;
                }
                Some(false) => q += 1,
                None => break,
            }
        }
        if q == start || (self.state.after_break && q < self.buf.len() && q - start < GARBAGE_SPLIT) {
            // Undecided: wait for more bytes rather than cut the region in
            // two (unless it is already long: memory stays bounded).
            return if self.state.after_break { Some(Step::NeedMore) } else { None };
        }
        self.pos = q;
        let err = Error::new(
            ErrorKind::Garbage {
                skipped: (q - start) as u64,
            },
            self.base + start as u64,
        );
        Some(Step::Damage(err))
    }

    /// Position in the buffer of the next unframed byte.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Index the next record will get.
    pub fn next_index(&self) -> u64 {
        self.index
    }

    /// The state to hand to a framer that continues where this one stops.
    pub fn state(&self) -> FrameState {
        self.state
    }

    fn header_at(&self, pos: usize) -> Option<Header> {
        Header::parse(self.buf.get(pos..)?)
    }

    /// Total size (header + body) the record of `h` occupies.
    fn frame_len(&self, h: &Header) -> u64 {
        let extra = if h.is_et() && self.state.et_short { 4 } else { 0 };
        HEADER_LEN as u64 + u64::from(h.length) + extra
    }

    fn time_ok(&self, ts: u32) -> bool {
        match self.state.last_ts {
            Some(last) => ts.abs_diff(last) <= TIME_WINDOW,
            None => true,
        }
    }

    /// The largest length a record of `mrt_type` may declare.
    fn max_len(mrt_type: u16) -> u32 {
        match mrt_type {
            5 | 16 | 17 => 65_535 + 128,
            _ => 64 << 20,
        }
    }

    /// Whether a header has the shape of one: a known type/subtype pair and
    /// a length the type allows. Timestamps aside.
    #[inline]
    fn shaped(h: &Header) -> bool {
        is_known(h.mrt_type, h.subtype) && h.length >= 4 && h.length <= Self::max_len(h.mrt_type)
    }

    /// Strict plausibility of the header `h` at `pos` (see
    /// [`Framer::plausible_after`]).
    #[inline]
    fn plausible(&self, pos: usize, h: &Header) -> Option<bool> {
        self.plausible_after(pos, h, None)
    }

    /// Plausibility of the header `h` at `pos` that would follow a record
    /// stamped `after` (the last good record when `None`): shaped, and
    /// stamped within [`TIME_WINDOW`] of that record or at the start of a
    /// well-formed chain ([`Framer::chain_at`]). `None`: more bytes are
    /// needed to tell.
    ///
    /// # Performance
    /// The chain is only walked for a header whose timestamp is out of the
    /// window: on a well-formed input, once per jump in time.
    #[inline]
    fn plausible_after(&self, pos: usize, h: &Header, after: Option<u32>) -> Option<bool> {
        if !Self::shaped(h) {
            return Some(false);
        }
        let time_ok = match after {
            Some(ts) => h.timestamp.abs_diff(ts) <= TIME_WINDOW,
            None => self.time_ok(h.timestamp),
        };
        if time_ok {
            Some(true)
        } else {
            self.chain_at(pos)
        }
    }

    /// Whether a well-formed chain starts at `pos`: [`CHAIN`] shaped
    /// headers ([`Framer::shaped`]), each starting where the record before
    /// ends or up to [`MAX_SLACK`] bytes later, whatever their timestamps;
    /// or fewer whose last record ends the input (up to slack). `None`: more
    /// bytes are needed to tell.
    #[cold]
    #[inline(never)]
    fn chain_at(&self, pos: usize) -> Option<bool> {
        let len = self.buf.len() as u64;
        let mut at = pos as u64;
        for _ in 0..CHAIN {
            let Some(h) = usize::try_from(at).ok().and_then(|a| self.header_at(a)) else {
                return if self.at_end { Some(false) } else { None };
            };
            if !Self::shaped(&h) {
                return Some(false);
            }
            let end = at + self.frame_len(&h);
            let mut next = None;
            for gap in 0..=MAX_SLACK as u64 {
                let q = end + gap;
                if q >= len {
                    // The record ends the input (after some slack), or runs
                    // past it: a chain only when it ends exactly there.
                    return if !self.at_end { None } else { Some(q == len) };
                }
                match usize::try_from(q).ok().and_then(|q| self.header_at(q)) {
                    Some(n) if Self::shaped(&n) => {
                        next = Some(q);
                        break;
                    }
                    Some(_) => {}
                    None if !self.at_end => return None,
                    None => {}
                }
            }
            let Some(q) = next else { return Some(false) };
            at = q;
        }
        Some(true)
    }

    /// Whether the bytes from `pos` to the end of the input, fewer than a
    /// header, can be the start of a plausible header after a record
    /// stamped `ts`: a header torn by the end of the input. Each field is
    /// checked as far as its bytes are there (a partial field as the range
    /// of values it can still take).
    fn torn_header(&self, pos: usize, ts: u32) -> bool {
        let Some(tail) = self.buf.get(pos..) else { return false };
        if !self.at_end || tail.is_empty() || tail.len() >= HEADER_LEN {
            return false;
        }
        let (mut lo, mut hi) = ([0u8; HEADER_LEN], [0xffu8; HEADER_LEN]);
        lo[..tail.len()].copy_from_slice(tail);
        hi[..tail.len()].copy_from_slice(tail);
        let (Some(lo), Some(hi)) = (Header::parse(&lo), Header::parse(&hi)) else {
            return false;
        };
        if hi.timestamp < ts.saturating_sub(TIME_WINDOW) || lo.timestamp > ts.saturating_add(TIME_WINDOW) {
            return false;
        }
        // Every known type accepts subtype 1.
        let type_ok = match tail.len() {
            0..=4 => true,
            5 => (lo.mrt_type..=hi.mrt_type).any(|t| is_known(t, 1)),
            6 => is_known(lo.mrt_type, 1),
            7 => (lo.subtype..=hi.subtype).any(|s| is_known(lo.mrt_type, s)),
            _ => is_known(lo.mrt_type, lo.subtype),
        };
        type_ok && (tail.len() <= 8 || (hi.length >= 4 && lo.length <= Self::max_len(lo.mrt_type)))
    }

    /// Whether the header at `pos` is plausible, the data ends at `pos` (or
    /// in a torn header there, see [`Framer::torn_header`]; `ts` is the
    /// timestamp of the record before), or (`None`) more bytes are needed
    /// to tell.
    fn next_ok(&self, pos: u64, ts: u32) -> Option<bool> {
        let len = self.buf.len() as u64;
        if pos == len && self.at_end {
            return Some(true);
        }
        if pos.saturating_add(HEADER_LEN as u64) > len {
            return if self.at_end {
                Some(self.torn_header(pos as usize, ts))
            } else {
                None
            };
        }
        let h = self.header_at(pos as usize)?;
        self.plausible(pos as usize, &h)
    }

    /// Whether a candidate header at `pos` and the header after it both look
    /// right. With `cut = Some(ts)` (`ts` the timestamp of the record
    /// before), a header that the end of the input tears, or a plausible
    /// header whose record it cuts short, also counts: the next step reports
    /// it as truncated.
    fn confirmed(&self, pos: usize, cut: Option<u32>) -> Option<bool> {
        if pos == self.buf.len() && self.at_end {
            return Some(false);
        }
        let Some(h) = self.header_at(pos) else {
            return if self.at_end {
                Some(cut.is_some_and(|ts| self.torn_header(pos, ts)))
            } else {
                None
            };
        };
        if !self.plausible_after(pos, &h, cut)? {
            return Some(false);
        }
        let end = pos as u64 + self.frame_len(&h);
        if end > self.buf.len() as u64 {
            return if self.at_end { Some(cut.is_some()) } else { None };
        }
        // The next header may itself follow a few bytes of slack.
        for gap in 0..=MAX_SLACK as u64 {
            match self.next_ok(end + gap, h.timestamp) {
                Some(true) => return Some(true),
                None => return None,
                Some(false) if end + gap >= self.buf.len() as u64 => return Some(false),
                Some(false) => {}
            }
        }
        Some(false)
    }

    /// Scan forward from `from` for a confirmed header.
    fn resync(&mut self, from: usize) -> Step<'a> {
        let start = self.pos;
        let mut q = from;
        while q < self.buf.len() {
            match self.confirmed(q, None) {
                Some(true) => {
                    self.pos = q;
                    let err = Error::new(
                        ErrorKind::Garbage {
                            skipped: (q - start) as u64,
                        },
                        self.base + start as u64,
                    );
                    return Step::Damage(err);
                }
                Some(false) => q += 1,
                None => {
                    // Not enough data to confirm the candidate at q: wait for
                    // more, or (when the garbage is long already, to keep
                    // memory bounded) let the caller cut the garbage before
                    // it and come back with more.
                    if q - start >= GARBAGE_SPLIT {
                        self.pos = q;
                        let err = Error::new(
                            ErrorKind::Garbage {
                                skipped: (q - start) as u64,
                            },
                            self.base + start as u64,
                        );
                        return Step::Damage(err);
                    }
                    return Step::NeedMore;
                }
            }
        }
        self.pos = self.buf.len();
        let err = Error::new(
            ErrorKind::Garbage {
                skipped: (self.buf.len() - start) as u64,
            },
            self.base + start as u64,
        );
        Step::Damage(err)
    }

    /// Frame the next record.
    pub(crate) fn step(&mut self) -> Step<'a> {
        let pos = self.pos;
        let avail = self.buf.len() - pos;
        if avail == 0 {
            return if self.at_end { Step::End } else { Step::NeedMore };
        }
        if self.state.after_break {
            if let Some(step) = self.after_break() {
                return step;
            }
        }
        let Some(h) = self.header_at(pos) else {
            if !self.at_end {
                return Step::NeedMore;
            }
            self.pos = self.buf.len();
            let err = Error::truncated(self.cut_what("MRT header"), HEADER_LEN, avail, self.base + pos as u64).in_record(self.index);
            self.index += 1;
            return Step::Damage(err);
        };
        // A known header is trusted when it is stamped near the last good
        // record or a well-formed chain starts at it (a clock step, files of
        // different years concatenated).
        let known = is_known(h.mrt_type, h.subtype)
            && (self.time_ok(h.timestamp)
                || match self.chain_at(pos) {
                    Some(c) => c,
                    None => return Step::NeedMore,
                });
        let total = self.frame_len(&h);
        let mut end = pos as u64 + total;
        if end > self.buf.len() as u64 {
            let plausible = match self.plausible(pos, &h) {
                Some(p) => p,
                None => return Step::NeedMore,
            };
            if !known || !plausible {
                return self.resync(pos + 1);
            }
            if !self.at_end {
                return Step::NeedMore;
            }
            self.pos = self.buf.len();
            let err = Error::truncated(self.cut_what("MRT record"), total as usize, avail, self.base + pos as u64).in_record(self.index);
            self.index += 1;
            return Step::Damage(err);
        }
        // Whether the header at `end` is plausible, kept for `next_bad`
        // below (the check is most of framing's time).
        let mut next_good = true;
        match self.next_ok(end, h.timestamp) {
            None => return Step::NeedMore,
            Some(true) => {}
            Some(false) => {
                next_good = false;
                if h.is_et() && !self.state.et_short {
                    // An early ET writer that left the microseconds out of the length?
                    let alt = end + 4;
                    if alt <= self.buf.len() as u64 {
                        match self.next_ok(alt, h.timestamp) {
                            None => return Step::NeedMore,
                            Some(true) => {
                                self.state.et_short = true;
                                next_good = true;
                                end = alt;
                            }
                            Some(false) => {}
                        }
                    }
                }
                if !known {
                    return self.resync(pos + 1);
                }
            }
        }
        // The declared end is not a plausible header: either a few stray
        // bytes follow this record (slack, the early RIS quirk), or this
        // header is itself torn and a real record starts inside what it
        // claims, or the damage lies after this record.
        let end = end as usize;
        let mut slack: &'a [u8] = &[];
        let next_bad = end < self.buf.len() && !next_good;
        if self.at_end && next_bad && self.buf.len() - end < HEADER_LEN.min(MAX_SLACK + 1) {
            // A few bytes after the last record cannot be a record: slack,
            // up to where a header torn by the end of the input starts
            // (reported by the next step).
            let left = self.buf.len() - end;
            let gap = (1..left).find(|&g| self.torn_header(end + g, h.timestamp)).unwrap_or(left);
            slack = self.buf.get(end..end + gap).unwrap_or(&[]);
        } else if next_bad {
            for gap in 1..=MAX_SLACK {
                match self.confirmed(end + gap, Some(h.timestamp)) {
                    Some(true) => {
                        slack = self.buf.get(end..end + gap).unwrap_or(&[]);
                        break;
                    }
                    // Deciding needs bytes not yet seen (a batch being cut
                    // from a stream): wait for them rather than decide
                    // differently from a reader that has them.
                    None => return Step::NeedMore,
                    Some(false) => {}
                }
            }
            if slack.is_empty() {
                for q in pos + 1..end {
                    match self.confirmed(q, None) {
                        Some(true) => {
                            self.pos = q;
                            let err = Error::new(ErrorKind::Garbage { skipped: (q - pos) as u64 }, self.base + pos as u64);
                            return Step::Damage(err);
                        }
                        // As above: decide as a reader with the bytes would.
                        None => return Step::NeedMore,
                        Some(false) => {}
                    }
                }
            }
        }
        Step::Record(self.record(pos, h, end, slack, known))
    }

    /// Move past the records from the current position that frame with
    /// nothing to decide, exactly as [`Framer::step`] would frame them: a
    /// known type stamped near the last good record, whole in the buffer,
    /// followed by the end of the input or by a header of the same kind.
    /// Stops at `until`, before a PEER_INDEX_TABLE (its reader needs the
    /// record) and before anything else; returns how many it passed.
    ///
    /// # Performance
    /// The batch cutter frames every record only to find where a batch
    /// ends; through `step` that was 146M of the 1,104M instructions of
    /// `snapshot --threads 1` on the route-views.jinx RIB (callgrind), and
    /// 52M this way (1,012M in all, same bytes).
    pub(crate) fn skip_plain(&mut self, until: usize) -> u64 {
        if self.state.after_break {
            return 0;
        }
        let len = self.buf.len();
        let mut passed = 0;
        while self.pos < until {
            let pos = self.pos;
            let Some(h) = self.header_at(pos) else { break };
            if h.is_peer_index_table() || !is_known(h.mrt_type, h.subtype) || !self.time_ok(h.timestamp) {
                break;
            }
            let Ok(end) = usize::try_from(pos as u64 + self.frame_len(&h)) else {
                break;
            };
            if end > len {
                break;
            }
            if end == len {
                if !self.at_end {
                    break;
                }
            } else {
                // `next_ok`: the header after it shaped and in time (the
                // last good timestamp is still the one before this record).
                match self.header_at(end) {
                    Some(next) if Self::shaped(&next) && self.time_ok(next.timestamp) => {}
                    _ => break,
                }
            }
            self.pos = end;
            self.index += 1;
            self.state.last_ts = Some(h.timestamp);
            passed += 1;
        }
        passed
    }

    /// Frame the record at the current position by its declared length
    /// alone, when it ends by `stop` (see [`Records::framed_clean`]);
    /// `None` otherwise.
    #[inline]
    pub(crate) fn step_clean(&mut self, stop: usize) -> Option<RawRecord<'a>> {
        let pos = self.pos;
        let h = self.header_at(pos)?;
        let end = usize::try_from(pos as u64 + self.frame_len(&h)).ok()?;
        if end > stop || end > self.buf.len() {
            return None;
        }
        let known = is_known(h.mrt_type, h.subtype);
        Some(self.record(pos, h, end, &[], known))
    }

    /// The record at `pos` with header `h`, ending at `end` and followed by
    /// `slack`; the framer moves past them.
    #[inline(always)]
    fn record(&mut self, pos: usize, h: Header, end: usize, slack: &'a [u8], known: bool) -> RawRecord<'a> {
        let offset = self.base + pos as u64;
        let body_all = self.buf.get(pos + HEADER_LEN..end).unwrap_or(&[]);
        let body_start = if h.is_et() && body_all.len() >= 4 {
            pos + HEADER_LEN + 4
        } else {
            pos + HEADER_LEN
        };
        let body_ext = self.buf.get(body_start..end + slack.len()).unwrap_or(&[]);
        let (micros, body, body_offset) = if h.is_et() {
            match body_all.split_first_chunk::<4>() {
                Some((m, rest)) => (Some(u32::from_be_bytes(*m)), rest, offset + 16),
                None => (None, body_all, offset + HEADER_LEN as u64),
            }
        } else {
            (None, body_all, offset + HEADER_LEN as u64)
        };
        let rec = RawRecord {
            index: self.index,
            offset,
            header: h,
            micros,
            body,
            body_offset,
            slack,
            body_ext,
        };
        self.index += 1;
        // Slack is handed to the record (its decoder may need it) rather than
        // reported again as garbage by the next step.
        self.pos = end + slack.len();
        if known {
            self.state.last_ts = Some(h.timestamp);
        }
        rec
    }
}

/// Garbage longer than this is reported in parts when the bytes that would
/// end it are not there yet (a stream cut into batches); shorter regions are
/// reported whole, as one walk over the whole input reports them.
const GARBAGE_SPLIT: usize = 1 << 20;

/// How many consecutive headers must chain by their lengths before
/// [`find_boundary`] takes a position for the start of a record.
const CHAIN: usize = 4;

/// How many steps [`same_framing`] takes, at most, before it gives up on two
/// framing states converging.
const CONVERGE_STEPS: usize = 64;

/// Speculative resynchronisation, for cutting a buffer in memory at a byte
/// offset chosen without framing what comes before it: the first position
/// in `from..to` where a record plausibly starts, and the framing state to
/// assume there.
///
/// A position is taken when [`CHAIN`] headers chain from it, each plausible
/// (known type/subtype, a length the type allows, a timestamp within a day
/// of the first one's) and each starting where the one before ends (or up
/// to [`MAX_SLACK`] bytes later: early RIS slack, ET records that leave the
/// microseconds out of their length), or when the chain ends exactly at the
/// end of the buffer. The state assumed is the first header's timestamp as
/// the last good one, and lengths taken as declared.
///
/// This is a guess, never trusted alone: the caller checks that the
/// position and state are where framing from a known position really
/// arrives (see [`same_framing`]), and frames in order otherwise. A wrong
/// guess costs time, never output.
///
/// # Performance
/// A guess lands inside a record: scanning to the next boundary costs a
/// header parse and a type check per byte, about the length of one record.
pub(crate) fn find_boundary(buf: &[u8], from: usize, to: usize) -> Option<(usize, FrameState)> {
    let to = to.min(buf.len());
    let pos = (from..to).find(|&p| chains(buf, p))?;
    let first = Header::parse(buf.get(pos..)?)?;
    Some((
        pos,
        FrameState {
            last_ts: Some(first.timestamp),
            ..FrameState::default()
        },
    ))
}

/// Whether [`CHAIN`] plausible headers chain from `pos` (see
/// [`find_boundary`]).
fn chains(buf: &[u8], pos: usize) -> bool {
    let Some(first) = buf.get(pos..).and_then(Header::parse) else {
        return false;
    };
    let plausible = |h: &Header| {
        is_known(h.mrt_type, h.subtype)
            && h.length >= 4
            && h.length <= Framer::max_len(h.mrt_type)
            && h.timestamp.abs_diff(first.timestamp) <= TIME_WINDOW
    };
    let len = buf.len() as u64;
    let mut h = first;
    let mut at = pos as u64;
    for _ in 0..CHAIN {
        if !plausible(&h) {
            return false;
        }
        let end = at + HEADER_LEN as u64 + u64::from(h.length);
        if end == len {
            return true;
        }
        let next = (0..=MAX_SLACK as u64).find_map(|gap| {
            let q = end.checked_add(gap)?;
            let n = buf.get(usize::try_from(q).ok()?..).and_then(Header::parse)?;
            plausible(&n).then_some((q, n))
        });
        let Some((q, n)) = next else { return false };
        (at, h) = (q, n);
    }
    true
}

/// Whether framing `buf` (to the end of the input, its first byte at
/// absolute offset `base`) from state `a` and from state `b` decides the
/// same up to a record boundary at or before `limit` where the two states
/// have become equal. From such a boundary on, the two framings are the
/// same step for step (a step depends only on the bytes, the position and
/// the state), so a batch cut from `a` is the batch a cutter in state `b`
/// would have cut.
///
/// Two states differ, in practice, in the last good timestamp: a
/// speculative cut assumes the first record's own, while in order it is the
/// record's before. After the first record both are that record's.
/// Conservative: any framing error before the states meet, more than
/// [`CONVERGE_STEPS`] steps, or a difference in any decision gives `false`.
pub(crate) fn same_framing(buf: &[u8], base: u64, a: FrameState, b: FrameState, limit: usize) -> bool {
    if a == b {
        return true;
    }
    let mut fa = Framer::new(buf, base, 0, a, true);
    let mut fb = Framer::new(buf, base, 0, b, true);
    for _ in 0..CONVERGE_STEPS {
        match (fa.step(), fb.step()) {
            (Step::Record(x), Step::Record(y)) => {
                let same = x.offset == y.offset
                    && x.header == y.header
                    && x.micros == y.micros
                    && x.body_offset == y.body_offset
                    && x.body.len() == y.body.len()
                    && x.slack.len() == y.slack.len()
                    && x.body_ext.len() == y.body_ext.len();
                if !same {
                    return false;
                }
            }
            _ => return false,
        }
        if fa.pos != fb.pos || fa.index != fb.index || fa.pos > limit {
            return false;
        }
        if fa.state == fb.state {
            return true;
        }
    }
    false
}

/// Iterator over the records of a complete buffer. Framing errors are
/// yielded as `Err` items; iteration goes on after them where possible.
#[derive(Clone, Debug)]
pub struct Records<'a> {
    framer: Framer<'a>,
    /// Framing stops at this position in the buffer.
    stop: usize,
    /// The records up to `stop` are known to lie back to back by their
    /// declared lengths ([`Records::framed_clean`]).
    clean: bool,
}

impl<'a> Records<'a> {
    /// Records of `buf`, a whole input (or the last part of one) starting at
    /// absolute offset `base` with record index `first_index`.
    pub fn new(buf: &'a [u8], base: u64, first_index: u64, state: FrameState) -> Self {
        Records {
            framer: Framer::new(buf, base, first_index, state, true),
            stop: buf.len(),
            clean: false,
        }
    }

    /// Records of a batch: the first `len` bytes of `buf`, a record boundary
    /// the batch cutter found framing all of `buf` (`at_end`: `buf` runs to
    /// the end of the input). The bytes after the batch are read-only
    /// look-ahead: framing reads them to decide as the cutter did, so
    /// records, errors and slack are those of one walk over the whole
    /// input, and none is yielded from past `len`.
    ///
    /// # Performance
    /// One comparison per record; look-ahead past the batch costs a header
    /// read on well-formed input, as it does inside the batch.
    pub fn batch(buf: &'a [u8], len: usize, at_end: bool, base: u64, first_index: u64, state: FrameState) -> Self {
        Records {
            framer: Framer::new(buf, base, first_index, state, at_end),
            stop: len.min(buf.len()),
            clean: false,
        }
    }

    /// With `yes`, `buf` (given with `at_end`) ends at a break in the
    /// decompressed stream (a damaged compressed region skipped), not at
    /// the end of the input: a record cut there is damage.
    pub(crate) fn ending_at_break(mut self, yes: bool) -> Self {
        self.framer = self.framer.ending_at_break(yes);
        self
    }

    /// With `yes`, the batch (given to [`Records::batch`]) was framed whole
    /// by the cutter, which met no damage and no slack in it and kept one
    /// rule for `_ET` lengths: each record ends where its declared length
    /// says, so it is read by that alone, without the checks that decide
    /// where damage lies (the same records, as the cutter's walk found).
    ///
    /// # Performance
    /// Every record was framed twice, by the cutter and by the decoder, at
    /// about 200 instructions each: 250M of the 1,239M instructions of
    /// `snapshot --threads 1` on the route-views.jinx RIB (callgrind).
    /// Read by its length, a record costs about 70: 1,171M in all.
    pub(crate) fn framed_clean(mut self, yes: bool) -> Self {
        self.clean = yes;
        self
    }

    /// Records of a whole in-memory input.
    pub fn from_bytes(buf: &'a [u8]) -> Self {
        Records::new(buf, 0, 0, FrameState::default())
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<RawRecord<'a>>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.framer.pos >= self.stop {
            return None;
        }
        if self.clean {
            if let Some(r) = self.framer.step_clean(self.stop) {
                return Some(Ok(r));
            }
        }
        match self.framer.step() {
            Step::Record(r) => Some(Ok(r)),
            Step::Damage(e) => Some(Err(e)),
            Step::NeedMore | Step::End => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::mrt as rec;

    #[test]
    fn frames_and_reports_truncation() {
        let mut data = rec(1000, 16, 4, &[1; 20]);
        data.extend(rec(1001, 13, 2, &[2; 8]));
        data.extend(rec(1002, 16, 5, &[3; 30]));
        let full: Vec<_> = Records::from_bytes(&data).collect();
        assert_eq!(full.len(), 3);
        assert!(full.iter().all(|r| r.is_ok()));
        let r1 = full[1].as_ref().unwrap();
        assert_eq!((r1.index, r1.offset, r1.body_offset), (1, 32, 44));
        assert_eq!(r1.body, &[2; 8]);
        for cut in 0..data.len() {
            let got: Vec<_> = Records::from_bytes(&data[..cut]).collect();
            let ok = got.iter().filter(|r| r.is_ok()).count();
            let want = [0usize, 32, 52, 94].iter().filter(|&&e| e > 0 && e <= cut).count();
            assert_eq!(ok, want, "cut {cut}");
            if ![0, 32, 52].contains(&cut) {
                let e = got.last().unwrap().as_ref().unwrap_err();
                assert!(e.offset() < cut as u64, "cut {cut}: {e}");
                assert!(matches!(e.kind(), ErrorKind::Truncated { .. }), "cut {cut}: {e}");
            }
        }
    }

    #[test]
    fn resyncs_past_garbage() {
        let mut data = rec(1000, 16, 4, &[1; 20]);
        data.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 9]);
        data.extend(rec(1001, 16, 4, &[2; 20]));
        data.extend(rec(1002, 16, 4, &[3; 20]));
        let got: Vec<_> = Records::from_bytes(&data).collect();
        assert_eq!(got.len(), 4);
        let e = got[1].as_ref().unwrap_err();
        assert_eq!(e.offset(), 32);
        assert!(matches!(e.kind(), ErrorKind::Garbage { skipped: 14 }));
        assert_eq!(got[2].as_ref().unwrap().body, &[2; 20]);
        assert_eq!(got[3].as_ref().unwrap().index, 2);
    }

    #[test]
    fn et_length_without_micros() {
        let mut data = Vec::new();
        for i in 0..3u32 {
            let mut r = rec(1000 + i, 17, 4, &[7; 10]);
            r.splice(12..12, (i * 5).to_be_bytes());
            data.extend(r);
        }
        let got: Vec<_> = Records::from_bytes(&data).map(|r| r.unwrap()).collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[2].micros, Some(10));
        assert_eq!(got[2].body, &[7; 10]);
    }
}
