//! Speculative parallel cutting of an uncompressed input in memory: jobs
//! on any thread cut batches from guessed starts, and an in-order step
//! checks each against the batch before it.

use super::cut::{Cutter, MemoryCutter};
use super::open::PageRelease;
use super::Batch;
use crate::mrt::framing::{self, FrameState};
use crate::mrt::PeerTable;
use bytes::Bytes;
use std::sync::Arc;

/// Where one batch of an input in memory was cut: by a speculative job on
/// a pool worker, or in order.
#[derive(Debug)]
pub struct Cut {
    /// Offset of the first record.
    start: usize,
    /// The framing state assumed at `start`.
    state: FrameState,
    /// Offset just past the last record.
    end: usize,
    /// The framing state at `end`.
    end_state: FrameState,
    /// Record indices the batch uses up.
    records: u64,
    /// The last PEER_INDEX_TABLE the batch holds, if any.
    peer_table: Option<Arc<PeerTable>>,
    /// Every record framed by its length alone (see `After::clean`).
    clean: bool,
}

/// Cut `data` from `start` in framing state `state` to the first record
/// boundary at or after `to`, as [`MemoryCutter`](super::cut::MemoryCutter) cuts a batch.
fn cut_at(data: &[u8], start: usize, state: FrameState, to: usize) -> Cut {
    let rest = data.get(start..).unwrap_or(&[]);
    let mut c = Cutter::new(to.saturating_sub(start));
    c.offset = start as u64;
    c.state = state;
    let after = c.cut(rest, true, false);
    let cut = after.cut.max(1).min(rest.len());
    Cut {
        start,
        state,
        end: start + cut,
        end_state: after.state,
        records: after.index,
        peer_table: after.peers,
        clean: after.clean && cut == after.cut,
    }
}

/// Speculative parallel cutting of an uncompressed input in memory.
///
/// The input is divided at fixed byte offsets ("guesses", one per batch
/// size from where cutting starts). The job of guess `k` runs on any
/// thread: it finds the first plausible record boundary at or after its
/// offset (`framing::find_boundary`) and frames from there to the first
/// boundary at or after the next guess's offset, without knowing anything
/// about what came before. [`Speculation::accept`], called for each guess
/// in order, checks that the job started exactly where the batch before
/// ended, in a framing state that frames the same
/// (`framing::same_framing`); when it did not (damage, a false boundary
/// inside a record, a guess inside a record longer than a batch), it cuts
/// that batch again in order from the verified position. The batches handed
/// out are thus exactly those of a sequential cutter, only with each
/// batch's end at the first boundary at or after a fixed offset rather than
/// a fixed length after its start; framing decisions do not depend on where
/// batches are cut (`tests/framing_batches.rs`), so neither does any output.
///
/// What the job does not know, the in-order step supplies: the record
/// index of the first record, the PEER_INDEX_TABLE in effect, the exact
/// framing state. A PEER_INDEX_TABLE found by a job changes the table for
/// the batches after it without any speculation being wrong, since cutting
/// does not depend on the table.
///
/// # Performance
/// Framing a mapped file is dominated by the first touch of each page (a
/// page fault, a TLB and a cache miss per record header). Done in order on
/// one thread, it would bound the whole pipeline; done by jobs on the pool
/// it is spread over all threads, and what stays in order is a comparison
/// per batch. See `ARCHITECTURE.md`, "Measurements behind decisions".
#[derive(Debug)]
pub struct Speculation {
    data: Bytes,
    map: Option<Arc<memmap2::Mmap>>,
    /// Offset of the first guess.
    base: usize,
    /// Distance between guesses.
    size: usize,
    /// Number of guesses.
    count: usize,
    /// Verified position: offset, framing state, next record index and the
    /// PEER_INDEX_TABLE in effect there.
    pos: usize,
    state: FrameState,
    index: u64,
    peers: Option<Arc<PeerTable>>,
    /// The map is released up to here.
    released: PageRelease,
    /// Batches cut again in order because the guess was wrong.
    redone: usize,
}

impl Speculation {
    pub(super) fn new(m: MemoryCutter) -> Speculation {
        let len = m.data.len();
        let size = m.cutter.target.max(1);
        let base = m.pos.min(len);
        Speculation {
            count: (len - base).div_ceil(size),
            data: m.data,
            map: m.map,
            base,
            size,
            pos: base,
            state: m.cutter.state,
            index: m.cutter.index,
            peers: m.cutter.peers,
            released: PageRelease::default(),
            redone: 0,
        }
    }

    /// Number of guesses (an upper bound on the number of batches).
    pub fn count(&self) -> usize {
        self.count
    }

    /// Batches cut again in order so far, because their guess was wrong.
    pub fn redone(&self) -> usize {
        self.redone
    }

    /// The byte range of guess `k`: its batch starts at the first record
    /// boundary at or after the start, and ends at the first at or after the
    /// end.
    fn range(&self, k: usize) -> (usize, usize) {
        let len = self.data.len();
        let lo = k.saturating_mul(self.size).saturating_add(self.base).min(len);
        let hi = if k + 1 >= self.count {
            len
        } else {
            lo.saturating_add(self.size).min(len)
        };
        (lo, hi)
    }

    /// The job of guess `k`, to run on any thread: `None` when it found no
    /// record boundary in its range. Guess 0 starts at the verified
    /// position and is exact.
    pub fn job(&self, k: usize) -> impl FnOnce() -> Option<Cut> + Send + 'static {
        let (lo, hi) = self.range(k);
        let data = self.data.clone();
        let exact = (k == 0).then_some(self.state);
        move || match exact {
            Some(state) => Some(cut_at(&data, lo, state, hi)),
            None => {
                let (start, state) = framing::find_boundary(&data, lo, hi)?;
                Some(cut_at(&data, start, state, hi))
            }
        }
    }

    /// Take the result of guess `k`'s job, in order of `k`: the batch to
    /// decode, exactly as a sequential cutter would have cut it, or `None`
    /// when the batches before already cover the guess's range.
    pub fn accept(&mut self, k: usize, cut: Option<Cut>) -> Option<Batch> {
        let (_, hi) = self.range(k);
        if self.pos >= hi {
            return None;
        }
        let data: &[u8] = &self.data;
        let ok = |c: &Cut| {
            c.start == self.pos
                && c.end > c.start
                && data
                    .get(c.start..)
                    .is_some_and(|rest| framing::same_framing(rest, c.start as u64, c.state, self.state, c.end - c.start))
        };
        let cut = match cut {
            Some(c) if ok(&c) => c,
            _ => {
                self.redone += 1;
                cut_at(data, self.pos, self.state, hi)
            }
        };
        let batch = Batch {
            data: self.data.slice(cut.start..cut.end),
            window: self.data.slice(cut.start..),
            window_ends_input: true,
            window_ends_at_break: false,
            offset: cut.start as u64,
            first_record: self.index,
            state: self.state,
            peers: self.peers.clone(),
            last: cut.end >= self.data.len(),
            error: None,
            // Framed from the job's state, which frames as the verified one
            // does; the length rule must be the verified state's as well.
            clean: cut.clean && cut.state.et_short == self.state.et_short && !self.state.after_break,
        };
        self.pos = cut.end;
        self.state = cut.end_state;
        self.index += cut.records;
        if let Some(t) = cut.peer_table {
            self.peers = Some(t);
        }
        Some(batch)
    }

    /// Say that everything before offset `upto` has been consumed: the whole
    /// pages before it are dropped from a map (`madvise(MADV_DONTNEED)`),
    /// so that a map's resident memory follows the batches in flight rather
    /// than the file size. Does nothing for a buffer that is not a map, or
    /// where the advice is not supported.
    ///
    /// Reading a released page again is harmless: the map is a read-only
    /// shared file mapping, so the page faults back in from the page cache
    /// with the same bytes. Nothing reads them in the normal course: the
    /// batches before `upto` are decoded and their results consumed, and
    /// verification and any re-cut start at the verified position, past
    /// `upto`. A speculative job whose guess lies before `upto` and is
    /// still scanning may touch such a page; it only faults it back in.
    pub fn release(&mut self, upto: u64) {
        if let Some(m) = &self.map {
            self.released.release(m, upto);
        }
    }
}
