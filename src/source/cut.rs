//! Sequential batch cutting: where a batch of whole records ends, the
//! framing state, record index and PEER_INDEX_TABLE in effect after it.
//! The producer of a decompressed stream and the cutter of an input in
//! memory share [`Cutter`]; [`super::speculate`] uses it to cut each batch
//! from a guessed start.

use super::Batch;
use crate::mrt::framing::{FrameState, Framer, Step};
use crate::mrt::PeerTable;
use bytes::Bytes;
use std::sync::Arc;

/// Where a batch ends and what holds after it.
#[derive(Clone, Debug)]
pub(super) struct After {
    /// The batch's length: where it was cut.
    pub(super) cut: usize,
    /// The framing state, next record index and PEER_INDEX_TABLE in effect
    /// after the batch.
    pub(super) state: FrameState,
    pub(super) index: u64,
    pub(super) peers: Option<Arc<PeerTable>>,
    /// Every record of the batch was framed by its declared length alone:
    /// no damage, no slack, the framing state's length rule the same
    /// throughout (see [`Batch::records`]).
    pub(super) clean: bool,
}

impl After {
    /// Take the framer's position and state after its last record; whether
    /// the batch reaches `target` bytes there.
    fn passed(&mut self, f: &Framer<'_>, target: usize) -> bool {
        self.cut = f.position();
        self.state = f.state();
        self.index = f.next_index();
        self.cut >= target
    }
}

/// Sequential batch-cutting state shared by the map and stream paths.
pub(super) struct Cutter {
    /// Bytes of whole records a batch holds at least (unless the input
    /// ends first).
    pub(super) target: usize,
    /// Offset, record index, framing state and PEER_INDEX_TABLE at the
    /// start of the next batch.
    pub(super) offset: u64,
    pub(super) index: u64,
    pub(super) state: FrameState,
    pub(super) peers: Option<Arc<PeerTable>>,
}

impl Cutter {
    pub(super) fn new(target: usize) -> Cutter {
        Cutter {
            target,
            offset: 0,
            index: 0,
            state: FrameState::default(),
            peers: None,
        }
    }

    /// Where things stand before the next buffer is cut: nothing cut yet.
    pub(super) fn nothing_cut(&self) -> After {
        After {
            cut: 0,
            state: self.state,
            index: self.index,
            peers: self.peers.clone(),
            clean: !self.state.after_break,
        }
    }

    /// Find where to cut `buf` (at most about `target` bytes of whole
    /// records). Returns the cut position and the state after it, and
    /// updates the peer table seen. With `at_end`, the whole buffer is taken
    /// (it ends the input, or with `at_break` a part of the decompressed
    /// stream that a damaged region ends).
    pub(super) fn cut(&mut self, buf: &[u8], at_end: bool, at_break: bool) -> After {
        let mut f = Framer::new(buf, self.offset, self.index, self.state, at_end).ending_at_break(at_break);
        let mut after = self.nothing_cut();
        loop {
            if f.skip_plain(self.target) > 0 && after.passed(&f, self.target) {
                break;
            }
            match f.step() {
                Step::Record(r) => {
                    after.clean &= r.slack.is_empty();
                    if r.header.is_peer_index_table() {
                        if let Ok(t) = PeerTable::parse(r.body, r.body_offset) {
                            after.peers = Some(Arc::new(t));
                        }
                    }
                }
                Step::Damage(_) => after.clean = false,
                Step::NeedMore | Step::End => break,
            }
            if after.passed(&f, self.target) {
                break;
            }
        }
        after.clean &= after.state.et_short == self.state.et_short;
        after
    }

    /// The batch of the first `len` bytes of `window`, the buffer just cut
    /// (`at_end`: it runs to the end of the input), and the cutter moved
    /// past it.
    pub(super) fn make(&mut self, window: Bytes, len: usize, at_end: bool, after: After) -> Batch {
        let After {
            cut,
            state,
            index,
            peers,
            clean,
        } = after;
        let b = Batch {
            offset: self.offset,
            first_record: self.index,
            state: self.state,
            peers: self.peers.clone(),
            error: None,
            last: false,
            data: window.slice(..len),
            window,
            window_ends_input: at_end,
            window_ends_at_break: false,
            // Clean as cut: a batch cut elsewhere (one byte of damage, a
            // whole buffer at the end) is framed with every check.
            clean: clean && len > 0 && len == cut,
        };
        self.offset += b.data.len() as u64;
        self.index = index;
        self.state = state;
        self.peers = peers;
        b
    }
}

/// Sequential cutting of an input in memory (a map or a buffer): each
/// batch a zero-copy slice of it.
pub(super) struct MemoryCutter {
    pub(super) data: Bytes,
    /// Where the next batch starts.
    pub(super) pos: usize,
    pub(super) cutter: Cutter,
    /// The map behind `data`, when it is one.
    pub(super) map: Option<Arc<memmap2::Mmap>>,
}

impl MemoryCutter {
    pub(super) fn next(&mut self) -> Option<Batch> {
        let rest = self.data.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let after = self.cutter.cut(rest, true, false);
        let cut = after.cut.max(1).min(rest.len());
        let window = self.data.slice(self.pos..);
        self.pos += cut;
        let mut b = self.cutter.make(window, cut, true, after);
        b.last = self.pos >= self.data.len();
        Some(b)
    }
}
