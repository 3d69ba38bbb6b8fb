//! Building snapshots: per-batch workers, the in-order merge of their
//! partial results, and the finishing passes (peer order, AS sets, counts).
//!
//! A worker turns one batch into a [`Chunk`]: rows of (prefix, origin key,
//! peer list) in batch-local peer ids. Per RIB record it locates every entry
//! in one pass and decides most origins with a short loop over the located
//! attribute blocks ([`EntryTable`]), the exact [`find_origin`] taking the
//! rest, and pushes one (origin, peer) pair per entry into two reused
//! columns; when the prefix changes the pairs are collapsed into rows: one
//! row directly when there is one origin (the common case, checked a vector
//! at a time), else sorted, de-duplicated (ADD-PATH paths of one peer count
//! once) and grouped by origin. Table peers get ids by arithmetic
//! (`base + index`), so the hot path hashes nothing; TABLE_DUMP peers go
//! through a small map.
//!
//! The [`Accumulator`] receives chunks in input order. It interns each
//! chunk's peer keys and AS sets and adds its rows. Worker and accumulator
//! both hold their rows in a [`RowsBuilder`], which joins duplicate (prefix,
//! origin) rows as they arrive (a prefix straddling batches, an unsorted
//! file, a table repeated), so memory follows the output, not the RIB
//! entries. The rows of every (prefix, origin) are the same however they
//! arrive, so the result is the same for any batching or thread timing.

use super::column::ListColumn;
use super::scan::{find_origin, EntryTable, Found};
use super::{naming, DecodeStats, FullFeed, PeerInfo, Snapshot, SnapshotOptions, SourceInfo, KEY_ASN, KEY_SET, KIND_SHIFT};
use crate::bgp::as_path::set_members;
use crate::bgp::as_path::AsPathBuf;
use crate::bgp::OriginRef;
use crate::bgp::{Origin, Prefix};
use crate::error::{Error, ErrorKind, Result};
use crate::mrt::{Bgp4mpBody, PeerTable, RawRecord, Record, Rib, TableDump};
use crate::pipeline::{for_each_record, map_ordered};
use crate::report::Report;
use crate::simd::{self, Backend};
use crate::source::{Batch, Source};
use rustc_hash::FxHashMap;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

/// Who a route comes from. The derived order is the order of the final
/// peer table: PEER_INDEX_TABLE peers by index, then TABLE_DUMP/BGP4MP
/// peers, then bare indexes of RIB records without a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum PeerKey {
    Table {
        index: u16,
        bgp_id: Ipv4Addr,
        addr: IpAddr,
        asn: u32,
    },
    Addr {
        addr: IpAddr,
        asn: u32,
    },
    Bare {
        index: u16,
    },
}

impl PeerKey {
    fn info(&self, source: u32) -> PeerInfo {
        let (index, bgp_id, addr, asn) = match *self {
            PeerKey::Table { index, bgp_id, addr, asn } => (Some(index), Some(bgp_id), Some(addr), Some(asn)),
            PeerKey::Addr { addr, asn } => (None, None, Some(addr), Some(asn)),
            PeerKey::Bare { index } => (Some(index), None, None, None),
        };
        PeerInfo {
            source,
            index,
            bgp_id,
            addr,
            asn,
            ipv4_prefixes: 0,
            ipv6_prefixes: 0,
            full_feed_ipv4: false,
            full_feed_ipv6: false,
        }
    }
}

/// AS sets, interned: equal members get equal ids.
#[derive(Clone, Debug, Default)]
pub(crate) struct SetTable {
    sets: ListColumn<u32>,
    ids: HashMap<Box<[u32]>, u32>,
}

impl SetTable {
    pub(crate) fn intern(&mut self, members: &[u32]) -> u32 {
        if let Some(&id) = self.ids.get(members) {
            return id;
        }
        let id = self.sets.len() as u32;
        self.sets.push_slice(members);
        self.ids.insert(members.into(), id);
        id
    }

    /// The origin key of `o`.
    pub(crate) fn key(&mut self, o: &Origin) -> u64 {
        match o {
            Origin::None => 0,
            Origin::Asn(a) => KEY_ASN | u64::from(*a),
            Origin::Set(v) => KEY_SET | u64::from(self.intern(v)),
        }
    }
}

/// Compare origin keys by what they mean (sets by their members).
#[inline]
fn cmp_origin(a: u64, b: u64, sets: &ListColumn<u32>) -> Ordering {
    if a != b && a >> KIND_SHIFT == 2 && b >> KIND_SHIFT == 2 {
        sets.get(a as u32 as usize).cmp(sets.get(b as u32 as usize))
    } else {
        a.cmp(&b)
    }
}

/// Rows held below the sorted ones before they are merged in, at least
/// (see [`RowsBuilder`]).
const MIN_PENDING_ROWS: usize = 1 << 16;

/// List values held below the sorted rows before a merge, at least.
const MIN_PENDING_VALUES: usize = 1 << 20;

/// Rows under construction: (prefix, origin key, peer list), joined as they
/// arrive, so that memory follows the distinct (prefix, origin) rows of the
/// output, not the rows (or RIB entries) pushed.
///
/// The rows held are strictly increasing by (prefix, origin). A row above
/// the last one is appended and a row equal to it joins its list: on input
/// sorted by prefix, the common case, that is one comparison per row and
/// no hashing. A row below the last (an unsorted file, a table repeated,
/// a prefix with several origins straddling batches) is looked up by binary
/// search and dropped when its peers are already listed there; otherwise it
/// waits in `pending`, which is sorted and merged into the rows when it
/// grows as large as them (at least [`MIN_PENDING_ROWS`] rows or
/// [`MIN_PENDING_VALUES`] values): O(n log n) in all, and about twice the
/// output (plus those constants) held at most.
///
/// # Performance
/// The sorted path costs what the old append-and-flag did: callgrind,
/// `snapshot --threads 1`, worker flush and in-order merge together 133.5M
/// instructions before, 129.0M now on the route-views.jinx RIB (497k rows);
/// 61.0M and 60.0M on a generated table at scale 0.1 (2.7M entries). The
/// merge appends the rest of a batch's rows uncompared once one of them
/// went after the rows held ([`RowsBuilder::push_after`]). A file of 60M
/// entries for 1000 rows: 3.43 GB peak before, 79 MB now
/// (`examples/duprib.rs`).
#[derive(Clone, Debug)]
pub(crate) struct RowsBuilder {
    prefixes: Vec<Prefix>,
    origins: Vec<u64>,
    pub(crate) sets: SetTable,
    lists: ListColumn<u32>,
    /// Every list sorted ascending and distinct.
    pub(crate) lists_sorted: bool,
    /// Rows that arrived below the last one, not yet merged.
    pending: Pending,
    /// A list off the appending path.
    scratch: Vec<u32>,
    /// The most rows held at once, merged and pending.
    peak_rows: usize,
    /// Where the last row below the last one was looked up: the next one
    /// is looked for there first, and searched for from there (see
    /// [`RowsBuilder::lower_bound`]).
    hint: usize,
}

/// Rows waiting to be merged into a [`RowsBuilder`]'s sorted rows.
#[derive(Clone, Debug, Default)]
struct Pending {
    prefixes: Vec<Prefix>,
    origins: Vec<u64>,
    lists: ListColumn<u32>,
}

impl Default for RowsBuilder {
    fn default() -> Self {
        RowsBuilder {
            prefixes: Vec::new(),
            origins: Vec::new(),
            sets: SetTable::default(),
            lists: ListColumn::default(),
            lists_sorted: true,
            pending: Pending::default(),
            scratch: Vec::new(),
            peak_rows: 0,
            hint: 0,
        }
    }
}

/// The buffers of a chunk's rows, handed back by the accumulator once it
/// has taken the rows in, for a later batch's worker to fill again.
///
/// # Performance
/// A worker's rows (about 2.5 MB per 4 MiB batch of the route-views.jinx
/// RIB, the batch size then) are above glibc's mapping threshold (`memory.rs` of the binary), so
/// fresh vectors were fresh pages every batch: mapped, zeroed by the kernel
/// and unmapped again. perf, `snapshot --threads 1` pinned on the jinx RIB
/// concatenated 10 times: 90k page faults and 0.24 s of system time
/// before, 28k and 0.08 s with the buffers kept (perf stat).
#[derive(Debug, Default)]
struct Spare {
    prefixes: Vec<Prefix>,
    origins: Vec<u64>,
    lists: ListColumn<u32>,
}

/// The spare buffers of one build: at most as many as batches in flight.
#[derive(Debug)]
struct Spares {
    held: std::sync::Mutex<Vec<Spare>>,
    most: usize,
}

impl Spares {
    fn new(most: usize) -> Spares {
        Spares {
            held: std::sync::Mutex::new(Vec::new()),
            most,
        }
    }

    /// Empty buffers: spare ones if there are, else new.
    fn take(&self) -> Spare {
        self.held.lock().ok().and_then(|mut h| h.pop()).unwrap_or_default()
    }

    /// Keep `spare` for a later batch (cleared), unless enough are kept.
    fn give(&self, mut spare: Spare) {
        spare.prefixes.clear();
        spare.origins.clear();
        spare.lists.clear();
        if let Ok(mut h) = self.held.lock() {
            if h.len() < self.most {
                h.push(spare);
            }
        }
    }
}

/// Finished rows: sorted, joined, sets in member order.
pub(crate) struct RowColumns {
    pub(crate) prefixes: Vec<Prefix>,
    pub(crate) origins: Vec<u64>,
    pub(crate) sets: ListColumn<u32>,
    pub(crate) lists: ListColumn<u32>,
}

/// Whether every value of `a` is in `b` (both sorted ascending).
fn is_subset(a: &[u32], b: &[u32]) -> bool {
    is_subset_iter(a.iter().copied(), b)
}

/// [`is_subset`] of the values `a` yields (ascending).
fn is_subset_iter(mut a: impl Iterator<Item = u32>, b: &[u32]) -> bool {
    let mut b = b.iter();
    a.all(|x| b.any(|&y| y == x))
}

impl RowsBuilder {
    /// No rows, held in the (empty) buffers of `spare`.
    fn reusing(spare: Spare) -> RowsBuilder {
        RowsBuilder {
            prefixes: spare.prefixes,
            origins: spare.origins,
            lists: spare.lists,
            ..RowsBuilder::default()
        }
    }

    /// How the last row held compares with (`prefix`, `origin`): `Less`
    /// when the new row goes after it (or there is none).
    #[inline(always)]
    fn order(&self, prefix: Prefix, origin: u64) -> Ordering {
        match (self.prefixes.last(), self.origins.last()) {
            (Some(&lp), Some(&lo)) => lp.cmp(&prefix).then_with(|| cmp_origin(lo, origin, &self.sets.sets)),
            _ => Ordering::Less,
        }
    }

    /// Add a row; `origin` is a key of `self.sets`, `list` sorted and
    /// distinct while `lists_sorted` holds. Returns whether the row is now
    /// the last one held (appended, or joined to the last).
    #[inline]
    pub(crate) fn push(&mut self, prefix: Prefix, origin: u64, list: impl IntoIterator<Item = u32>) -> bool {
        match self.order(prefix, origin) {
            Ordering::Less => self.push_after(prefix, origin, list),
            Ordering::Equal => self.join_last(list),
            Ordering::Greater => {
                self.push_below(prefix, origin, list);
                return false;
            }
        }
        true
    }

    /// Append a row known to go after the last one held: the row after one
    /// that [`RowsBuilder::push`] made the last, in a run of rows strictly
    /// increasing by (prefix, origin) (a batch's rows).
    #[inline]
    pub(crate) fn push_after(&mut self, prefix: Prefix, origin: u64, list: impl IntoIterator<Item = u32>) {
        debug_assert_eq!(self.order(prefix, origin), Ordering::Less);
        self.prefixes.push(prefix);
        self.origins.push(origin);
        self.lists.push_iter(list);
    }

    /// The next row of a run strictly increasing by (prefix, origin):
    /// appended uncompared once one of the run was the last held (`last`),
    /// else through [`RowsBuilder::push`]. Returns whether it is the last.
    #[inline]
    fn push_run(&mut self, last: bool, prefix: Prefix, origin: u64, list: impl IntoIterator<Item = u32>) -> bool {
        if last {
            self.push_after(prefix, origin, list);
            true
        } else {
            self.push(prefix, origin, list)
        }
    }

    /// [`RowsBuilder::push`] of a list held as a slice (copied whole).
    ///
    /// # Performance
    /// A worker's rows come this way: through `push`'s iterator the copy
    /// went value by value, 59M instructions for the 500k rows of the
    /// route-views.jinx RIB against 18M (callgrind).
    #[inline]
    pub(crate) fn push_slice(&mut self, prefix: Prefix, origin: u64, list: &[u32]) {
        match self.order(prefix, origin) {
            Ordering::Less => {
                self.prefixes.push(prefix);
                self.origins.push(origin);
                self.lists.push_slice(list);
            }
            Ordering::Equal => self.join_last(list.iter().copied()),
            Ordering::Greater => self.push_below(prefix, origin, list.iter().copied()),
        }
    }

    /// Join `list` to the last row's.
    fn join_last(&mut self, list: impl IntoIterator<Item = u32>) {
        self.lists.extend_last(list);
        if self.lists_sorted {
            self.lists.normalize_last();
        }
    }

    /// [`RowsBuilder::push`] of a row below the last one.
    #[inline(never)]
    fn push_below(&mut self, prefix: Prefix, origin: u64, list: impl IntoIterator<Item = u32>) {
        self.scratch.clear();
        self.scratch.extend(list);
        if self.lists_sorted {
            // In a run of rows below the last one, the next row held is
            // usually the one sought; else search.
            let at = self.at_hint(prefix, origin).or_else(|| self.find(prefix, origin));
            if let Some(at) = at {
                self.hint = at + 1;
                if is_subset(&self.scratch, self.lists.get(at)) {
                    return;
                }
            }
        }
        let p = &mut self.pending;
        p.prefixes.push(prefix);
        p.origins.push(origin);
        p.lists.push_slice(&self.scratch);
        if p.prefixes.len() >= self.prefixes.len().max(MIN_PENDING_ROWS)
            || p.lists.values_len() >= self.lists.values_len().max(MIN_PENDING_VALUES)
        {
            self.merge_pending();
        }
    }

    /// The row held for (`prefix`, `origin`), if there is one.
    fn find(&mut self, prefix: Prefix, origin: u64) -> Option<usize> {
        let lo = self.lower_bound(prefix);
        let hi = lo
            + self
                .prefixes
                .get(lo..)
                .map_or(0, |r| r.iter().take_while(|p| **p == prefix).count());
        let sets = &self.sets.sets;
        let same = self.origins.get(lo..hi)?;
        let at = lo + same.partition_point(|&o| cmp_origin(o, origin, sets) == Ordering::Less);
        (at < hi && self.origins.get(at) == Some(&origin)).then_some(at)
    }

    /// Whether the row held where the last search ended is (`prefix`,
    /// `origin`) and already lists every peer of `list` (ascending): a row
    /// met again that adds nothing, the common case of a repeated table.
    /// The next search starts after it.
    #[inline]
    fn repeats_at_hint(&mut self, prefix: Prefix, origin: u64, list: impl Iterator<Item = u32>) -> bool {
        match self.at_hint(prefix, origin) {
            Some(at) if self.lists_sorted && is_subset_iter(list, self.lists.get(at)) => {
                self.hint = at + 1;
                true
            }
            _ => false,
        }
    }

    /// The row where the last search ended, when it is (`prefix`, `origin`).
    #[inline]
    fn at_hint(&self, prefix: Prefix, origin: u64) -> Option<usize> {
        let at = self.hint;
        (self.prefixes.get(at) == Some(&prefix) && self.origins.get(at) == Some(&origin)).then_some(at)
    }

    /// The first row held whose prefix is not below `prefix`.
    ///
    /// Rows below the last one come in sorted runs (a batch's rows, a table
    /// repeated), so the search gallops forward from where the previous one
    /// ended and is a full binary search only when the run starts over.
    ///
    /// # Performance
    /// A binary search over all rows per row was 31% of `snapshot
    /// --threads 1` on the route-views.jinx RIB concatenated 10 times
    /// (4.5M rows below the 497k held, each a dozen cache misses; perf).
    /// Galloping, `push_below` took 1,632M of the 10,408M instructions
    /// (callgrind), all of it in the in-order merge; looking at the row
    /// after the last one found first, 580M (9,303M in all, same bytes).
    fn lower_bound(&mut self, prefix: Prefix) -> usize {
        let ps = &self.prefixes;
        let from = self.hint.min(ps.len());
        let lo = if from > 0 && ps[from - 1] >= prefix {
            ps[..from].partition_point(|p| *p < prefix)
        } else {
            // Every row in from..lo is below `prefix`.
            let (mut lo, mut step) = (from, 1);
            while lo + step <= ps.len() && ps[lo + step - 1] < prefix {
                lo += step;
                step *= 2;
            }
            let end = (lo + step - 1).min(ps.len());
            lo + ps[lo..end].partition_point(|p| *p < prefix)
        };
        self.hint = lo;
        lo
    }

    /// Rows held, merged and pending.
    fn len(&self) -> usize {
        self.prefixes.len() + self.pending.prefixes.len()
    }

    /// The most rows held at once so far.
    pub(crate) fn peak_rows(&self) -> usize {
        self.peak_rows.max(self.len())
    }

    /// Sort the pending rows and merge them into the sorted ones, joining
    /// equal (prefix, origin) rows (their lists sorted and distinct).
    fn merge_pending(&mut self) {
        let n = self.pending.prefixes.len();
        if n == 0 {
            return;
        }
        self.peak_rows = self.peak_rows();
        let sets = &self.sets.sets;
        let p = &self.pending;
        let key = |i: u32| (p.prefixes[i as usize], p.origins[i as usize]);
        let cmp = |a: (Prefix, u64), b: (Prefix, u64)| a.0.cmp(&b.0).then_with(|| cmp_origin(a.1, b.1, sets));
        // Stable: pending rows often come in sorted runs (a table repeated).
        let mut perm: Vec<u32> = (0..n as u32).collect();
        perm.sort_by(|&a, &b| cmp(key(a), key(b)));
        let rows = self.prefixes.len() + n;
        let (mut prefixes, mut origins) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
        let mut lists = ListColumn::with_capacity(rows, self.lists.values_len() + p.lists.values_len());
        let scratch = &mut self.scratch;
        let (mut i, mut k) = (0usize, 0usize);
        while i < self.prefixes.len() || k < n {
            let next = perm.get(k).map(|&r| key(r));
            let ord = match (next, self.prefixes.get(i), self.origins.get(i)) {
                (None, _, _) => Ordering::Less,
                (Some(_), None, _) | (Some(_), _, None) => Ordering::Greater,
                (Some(run), Some(&mp), Some(&mo)) => cmp((mp, mo), run),
            };
            let Some((rp, ro)) = next.filter(|_| ord != Ordering::Less) else {
                prefixes.push(self.prefixes[i]);
                origins.push(self.origins[i]);
                lists.push_slice(self.lists.get(i));
                i += 1;
                continue;
            };
            scratch.clear();
            if ord == Ordering::Equal {
                scratch.extend_from_slice(self.lists.get(i));
                i += 1;
            }
            while let Some(&r) = perm.get(k).filter(|&&r| key(r) == (rp, ro)) {
                scratch.extend_from_slice(p.lists.get(r as usize));
                k += 1;
            }
            scratch.sort_unstable();
            scratch.dedup();
            prefixes.push(rp);
            origins.push(ro);
            lists.push_slice(scratch);
        }
        (self.prefixes, self.origins, self.lists) = (prefixes, origins, lists);
        self.pending = Pending::default();
        self.hint = 0;
    }

    /// The rows sorted and joined, the set table as interned (a batch's
    /// rows, handed to the accumulator), and the most rows held at once.
    fn into_parts(mut self) -> (Vec<Prefix>, Vec<u64>, SetTable, ListColumn<u32>, usize) {
        self.merge_pending();
        let peak = self.peak_rows();
        (self.prefixes, self.origins, self.sets, self.lists, peak)
    }

    /// The rows sorted and joined, the set table renumbered in member
    /// order, every list sorted and distinct.
    pub(crate) fn finish(self) -> RowColumns {
        let lists_sorted = self.lists_sorted;
        let (prefixes, mut origins, sets, mut lists, _) = self.into_parts();
        let sets = sets.sets;
        if !lists_sorted {
            lists = sort_lists(&lists);
        }
        // Renumber the sets in member order, so that origin keys compare as
        // origins do.
        let mut order: Vec<u32> = (0..sets.len() as u32).collect();
        order.sort_by(|&a, &b| sets.get(a as usize).cmp(sets.get(b as usize)));
        let mut new_id = vec![0u32; sets.len()];
        let mut canon = ListColumn::with_capacity(sets.len(), sets.values_len());
        for (new, &old) in order.iter().enumerate() {
            new_id[old as usize] = new as u32;
            canon.push_slice(sets.get(old as usize));
        }
        for o in &mut origins {
            if *o >> KIND_SHIFT == 2 {
                *o = KEY_SET | u64::from(new_id.get(*o as u32 as usize).copied().unwrap_or(0));
            }
        }
        RowColumns {
            prefixes,
            origins,
            sets: canon,
            lists,
        }
    }
}

/// Sort `ids` ascending and drop repeats.
///
/// # Performance
/// A prefix's peers come from one PEER_INDEX_TABLE, so their ids lie
/// within the table's size: within 256 of each other they are set in a
/// bitmap and read back in order, with no comparison sort. RouteViews
/// lists a prefix's routes about newest first, not in peer order (96-99% of
/// the multi-entry records of the route-views2 2014 and route-views6 2015
/// tables), and sorting them was 12.8% of `snapshot --threads 1` on those
/// two tables cut at their first MB and concatenated 10 times (perf); the
/// bitmap takes 7.9% there. The accumulator sorts a chunk's lists again
/// this way when its map changes their order (two tables in one batch):
/// it marked every list unsorted before, so a row met again went to the
/// pending merge instead of being found to add nothing (643M -> 571M
/// instructions on three of those copies, callgrind; same bytes).
fn sort_distinct(ids: &mut Vec<u32>) {
    let (Some(&lo), Some(&hi)) = (ids.iter().min(), ids.iter().max()) else {
        return;
    };
    if hi - lo >= 256 {
        ids.sort_unstable();
        ids.dedup();
        return;
    }
    let mut bits = [0u64; 4];
    for &id in ids.iter() {
        let d = id - lo;
        if let Some(w) = bits.get_mut((d >> 6) as usize) {
            *w |= 1 << (d & 63);
        }
    }
    ids.clear();
    for (w, mut word) in (0u32..).zip(bits) {
        while word != 0 {
            ids.push(lo + w * 64 + word.trailing_zeros());
            word &= word - 1;
        }
    }
}

/// Every list sorted and de-duplicated.
fn sort_lists(lists: &ListColumn<u32>) -> ListColumn<u32> {
    let mut out = ListColumn::with_capacity(lists.len(), lists.values_len());
    let mut scratch = Vec::new();
    for l in lists.iter() {
        scratch.clear();
        scratch.extend_from_slice(l);
        if !simd::strictly_increasing_u32(&scratch) {
            sort_distinct(&mut scratch);
        }
        out.push_slice(&scratch);
    }
    out
}

/// One batch, decoded.
struct Chunk {
    result: Result<()>,
    report: Report,
    /// The peers, sorted and distinct; list values index this.
    keys: Vec<PeerKey>,
    sets: ListColumn<u32>,
    prefixes: Vec<Prefix>,
    origins: Vec<u64>,
    lists: ListColumn<u32>,
    first_ts: Option<u32>,
    table: Option<(Option<Ipv4Addr>, String)>,
    rib_records: u64,
    rib_entries: u64,
    /// The most rows the worker held at once.
    peak_rows: usize,
}

/// Decodes one batch.
struct Worker {
    multicast: bool,
    strict: bool,
    failed: Option<Error>,
    report: Report,
    keys: Vec<PeerKey>,
    /// Local id of entry 0 of the PEER_INDEX_TABLE in effect, and its size.
    table_base: u32,
    table_len: Option<usize>,
    /// Local ids of peers named by address (TABLE_DUMP, BGP4MP entries)
    /// and of peers named by an index outside any table.
    ///
    /// # Performance
    /// Looked up once per entry: with SipHash (std's `HashMap`) the lookup
    /// was 13% of the snapshot of the 2002 RIS bview (39M of 296M
    /// instructions); with rustc-hash's FxHasher that snapshot took 249M
    /// instead of 279M (same bytes).
    addr_ids: FxHashMap<(IpAddr, u32), u32>,
    bare_ids: FxHashMap<u16, u32>,
    members: Vec<u32>,
    path: AsPathBuf,
    /// The prefix being collected and its (origin key, local peer) pairs,
    /// as two columns (the kernels compare them a vector at a time).
    group: Option<Prefix>,
    pair_origins: Vec<u64>,
    pair_peers: Vec<u32>,
    /// Scratch for the general case of [`Worker::flush`].
    pairs: Vec<(u64, u32)>,
    /// Kernels to use.
    backend: Backend,
    /// The entries of the current RIB record.
    entries: EntryTable,
    /// The batch's rows (duplicates joined as they arrive).
    rows: RowsBuilder,
    first_ts: Option<u32>,
    table: Option<(Option<Ipv4Addr>, String)>,
    rib_records: u64,
    rib_entries: u64,
}

impl Worker {
    fn new(opts: &SnapshotOptions, spare: Spare) -> Worker {
        Worker {
            multicast: opts.multicast,
            strict: opts.strict,
            failed: None,
            report: Report::default(),
            keys: Vec::new(),
            table_base: 0,
            table_len: None,
            addr_ids: FxHashMap::default(),
            bare_ids: FxHashMap::default(),
            members: Vec::new(),
            path: AsPathBuf::new(),
            group: None,
            pair_origins: Vec::with_capacity(1024),
            pair_peers: Vec::with_capacity(1024),
            pairs: Vec::new(),
            backend: opts.simd.unwrap_or_else(Backend::current),
            entries: EntryTable::default(),
            rows: RowsBuilder::reusing(spare),
            first_ts: None,
            table: None,
            rib_records: 0,
            rib_entries: 0,
        }
    }

    fn fail(&mut self, e: Error) {
        if self.strict {
            self.failed.get_or_insert(e);
        } else {
            self.report.error(e);
        }
    }

    /// A new PEER_INDEX_TABLE: every peer gets a local id, in index order.
    fn set_table(&mut self, t: &PeerTable) {
        self.table_base = self.keys.len() as u32;
        self.table_len = Some(t.peers.len());
        self.keys.extend(t.peers.iter().map(|p| PeerKey::Table {
            index: p.index,
            bgp_id: p.bgp_id,
            addr: p.addr,
            asn: p.asn,
        }));
        if self.table.is_none() {
            self.table = Some((t.collector_id, t.view_name.clone()));
        }
    }

    fn addr_peer(&mut self, addr: IpAddr, asn: u32) -> u32 {
        let next = self.keys.len() as u32;
        let id = *self.addr_ids.entry((addr, asn)).or_insert(next);
        if id == next {
            self.keys.push(PeerKey::Addr { addr, asn });
        }
        id
    }

    #[inline(never)]
    fn bare_peer(&mut self, index: u16) -> u32 {
        let next = self.keys.len() as u32;
        let id = *self.bare_ids.entry(index).or_insert(next);
        if id == next {
            self.keys.push(PeerKey::Bare { index });
        }
        id
    }

    /// The origin key of the route whose attribute block is `attrs`: by the
    /// kernel's rule for one block where it decides, else by the exact walk.
    ///
    /// # Performance
    /// TABLE_DUMP paths (2-byte ASNs) all took the exact walk: 23M of the
    /// 232M instructions of the snapshot of the 2002 RIS bview; 215M with
    /// the kernel's rule for 2-byte paths, and that snapshot then ran in
    /// 24.9 ms against 28.7 ms for `dump` on one pinned core (it was
    /// slower than `dump`).
    #[inline]
    fn origin_key(&mut self, attrs: &[u8], offset: u64, asn_len: u8) -> Result<u64> {
        match simd::attr_origin(attrs, asn_len) {
            Some(asn) => Ok(KEY_ASN | u64::from(asn)),
            None => self.origin_key_exact(attrs, offset, asn_len),
        }
    }

    /// [`Worker::origin_key`] by the exact walk.
    #[inline(never)]
    fn origin_key_exact(&mut self, attrs: &[u8], offset: u64, asn_len: u8) -> Result<u64> {
        Ok(match find_origin(attrs, offset, asn_len, &mut self.path, &mut self.report)? {
            Found::Path(OriginRef::None) => 0,
            Found::Path(OriginRef::Asn(a)) => KEY_ASN | u64::from(a),
            Found::Path(OriginRef::Set(s)) => {
                set_members(s.asns(), &mut self.members);
                KEY_SET | u64::from(self.rows.sets.intern(&self.members))
            }
            Found::Merged(o) => self.rows.sets.key(&o),
        })
    }

    /// Start (or continue) collecting routes of `prefix`.
    #[inline]
    fn start(&mut self, prefix: Prefix) {
        if self.group != Some(prefix) {
            self.flush();
            self.group = Some(prefix);
        }
    }

    /// Record that the current prefix has `origin` at local peer `peer`.
    #[inline]
    fn pair(&mut self, origin: u64, peer: u32) {
        self.pair_origins.push(origin);
        self.pair_peers.push(peer);
    }

    /// The route of a record whose only entry it is: a row of its own,
    /// unless the prefix's routes are being collected (a record of the
    /// same prefix before it).
    ///
    /// # Performance
    /// Through `start`, `pair` and `flush` (two columns filled, checked
    /// and cleared per prefix) each one-entry record of the jinx RIB x10
    /// took about 130 instructions in `flush` alone; the row goes straight
    /// to the batch's rows, which join a prefix met again as `flush`
    /// would: that snapshot 5,123M -> 4,965M instructions (callgrind, one
    /// thread; the jinx RIB 682.7M -> 667.0M), same bytes.
    #[inline]
    fn single(&mut self, prefix: Prefix, origin: u64, peer: u32) {
        if self.group == Some(prefix) {
            self.pair(origin, peer);
            return;
        }
        self.flush();
        self.rows.push_slice(prefix, origin, &[peer]);
    }

    /// Collapse the pairs of the current prefix into rows.
    fn flush(&mut self) {
        let Some(prefix) = self.group.take() else { return };
        let Some(&first) = self.pair_origins.first() else { return };
        // The common case (98% of prefixes): one origin; the peers usually
        // come in table order. Decided a vector at a time instead of sorting
        // (origin, peer) pairs: the sort was 7% of the snapshot profile.
        if simd::all_equal_u64_with(self.backend, &self.pair_origins) {
            if !simd::strictly_increasing_u32_with(self.backend, &self.pair_peers) {
                sort_distinct(&mut self.pair_peers);
            }
            self.rows.push_slice(prefix, first, &self.pair_peers);
            self.pair_origins.clear();
            self.pair_peers.clear();
            return;
        }
        self.pairs.clear();
        self.pairs
            .extend(self.pair_origins.iter().copied().zip(self.pair_peers.iter().copied()));
        self.pair_origins.clear();
        self.pair_peers.clear();
        if self.pairs.iter().any(|p| p.0 >> KIND_SHIFT == 2) {
            let sets = &self.rows.sets.sets;
            self.pairs.sort_unstable_by(|a, b| cmp_origin(a.0, b.0, sets).then(a.1.cmp(&b.1)));
        } else {
            self.pairs.sort_unstable();
        }
        self.pairs.dedup();
        for run in self.pairs.chunk_by(|a, b| a.0 == b.0) {
            let Some(&(origin, _)) = run.first() else { continue };
            self.rows.push(prefix, origin, run.iter().map(|p| p.1));
        }
        self.pairs.clear();
    }

    fn record(&mut self, raw: &RawRecord<'_>, rec: &Record<'_>, peers: Option<&PeerTable>) {
        if self.first_ts.is_none() {
            self.first_ts = Some(raw.header.timestamp);
        }
        match rec {
            Record::PeerIndexTable(t) => self.set_table(t),
            Record::Rib(rib) => self.rib(raw, rib, peers),
            Record::TableDump(td) => self.table_dump(raw, td),
            Record::Bgp4mp(m) => {
                if let Bgp4mpBody::Entry(e) = &m.body {
                    if e.safi != 1 && !(self.multicast && e.safi == 2) {
                        self.report.warn("rib-multicast-skipped", 1);
                        return;
                    }
                    self.rib_records += 1;
                    self.rib_entries += 1;
                    self.start(e.prefix);
                    let peer = self.addr_peer(m.peering.peer_ip, m.peering.peer_as);
                    match self.origin_key(e.attrs, e.attrs_offset, 4) {
                        Ok(o) => self.pair(o, peer),
                        Err(err) => self.fail(err.in_record(raw.index)),
                    }
                }
            }
            _ => {}
        }
    }

    fn rib(&mut self, raw: &RawRecord<'_>, rib: &Rib<'_>, peers: Option<&PeerTable>) {
        let Some(prefix) = rib.prefix else {
            self.report.warn("rib-other-family-skipped", 1);
            return;
        };
        if rib.safi != 1 && !(self.multicast && rib.safi == 2) {
            self.report.warn("rib-multicast-skipped", 1);
            return;
        }
        if let Some(t) = peers {
            // The table in effect is the last one `set_table` saw; this only
            // guards the arithmetic below.
            if self.table_len != Some(t.peers.len()) {
                self.set_table(t);
            }
        }
        self.rib_records += 1;
        let has_table = peers.is_some();
        // One entry that fills the record (nearly every record of a RIB
        // with about one route per prefix, like route-views.jinx's): read
        // in place.
        //
        // # Performance
        // Through the entry table (`EntryTable`: five columns cleared,
        // filled and zipped per record) the jinx RIB took 963M instructions
        // in all; in place, 820M (same bytes; one pinned core on jinx x10:
        // 0.49 s -> 0.44 s, with the write in place of `Record::decode_into`
        // 0.55 s before both).
        if let Some(e) = rib.only_entry() {
            self.rib_entries += 1;
            let at = e.attrs_offset - if e.path_id.is_some() { 12 } else { 8 };
            let Some(peer) = self.rib_peer(has_table, e.peer_index, at, raw.index) else {
                return;
            };
            match self.origin_key(e.attrs, e.attrs_offset, 4) {
                Ok(o) => self.single(prefix, o, peer),
                Err(err) => self.fail(err.in_record(raw.index)),
            }
            return;
        }
        self.start(prefix);
        let (data, base) = rib.raw_entries();
        let head: u64 = if rib.add_path { 12 } else { 8 };
        // One pass locates every entry; the kernel then finds the origins of
        // all of them (see `EntryTable`). A record whose entries do not fit
        // its bytes takes the entry iterator, which reports the damage.
        let mut table = std::mem::take(&mut self.entries);
        if table.locate(data, rib.entry_count, rib.add_path) {
            table.origins(data);
            let rows = table
                .peers
                .iter()
                .zip(&table.starts)
                .zip(&table.ends)
                .zip(&table.asns)
                .zip(&table.ok);
            for ((((&index, &start), &end), &asn), &ok) in rows {
                self.rib_entries += 1;
                let at = base + u64::from(start);
                let Some(peer) = self.rib_peer(has_table, index, at.saturating_sub(head), raw.index) else {
                    continue;
                };
                if ok != 0 {
                    self.pair(KEY_ASN | u64::from(asn), peer);
                    continue;
                }
                let attrs = data.get(start as usize..end as usize).unwrap_or(&[]);
                match self.origin_key_exact(attrs, at, 4) {
                    Ok(o) => self.pair(o, peer),
                    Err(err) => self.fail(err.in_record(raw.index)),
                }
            }
            self.entries = table;
            return;
        }
        self.entries = table;
        for e in rib.entries() {
            let e = match e {
                Ok(e) => e,
                Err(err) => {
                    self.fail(err.in_record(raw.index));
                    break;
                }
            };
            self.rib_entries += 1;
            let at = e.attrs_offset.saturating_sub(if e.path_id.is_some() { 12 } else { 8 });
            let Some(peer) = self.rib_peer(has_table, e.peer_index, at, raw.index) else {
                continue;
            };
            match self.origin_key(e.attrs, e.attrs_offset, 4) {
                Ok(o) => self.pair(o, peer),
                Err(err) => self.fail(err.in_record(raw.index)),
            }
        }
    }

    /// The local id of the peer at `index` of the table in effect (`at`:
    /// offset of the entry, for the error when the index is out of range).
    ///
    /// # Performance
    /// Called per entry; with the error path inline it was a call of its
    /// own, 131M of the 5,347M instructions of the snapshot of jinx x10
    /// (callgrind, one thread).
    #[inline(always)]
    fn rib_peer(&mut self, has_table: bool, index: u16, at: u64, record: u64) -> Option<u32> {
        match (has_table, self.table_len) {
            (true, Some(n)) if usize::from(index) < n => Some(self.table_base + u32::from(index)),
            (true, Some(n)) => {
                self.peer_out_of_range(index, n, at, record);
                None
            }
            _ => Some(self.bare_peer(index)),
        }
    }

    #[cold]
    #[inline(never)]
    fn peer_out_of_range(&mut self, index: u16, n: usize, at: u64, record: u64) {
        let kind = ErrorKind::PeerIndexOutOfRange {
            index,
            peers: n.min(usize::from(u16::MAX)) as u16,
        };
        self.fail(Error::new(kind, at).in_record(record));
    }

    fn table_dump(&mut self, raw: &RawRecord<'_>, td: &TableDump<'_>) {
        self.rib_records += 1;
        for e in td.clone() {
            let e = match e {
                Ok(e) => e,
                Err(err) => {
                    self.fail(err.in_record(raw.index));
                    break;
                }
            };
            self.rib_entries += 1;
            self.start(e.prefix);
            let peer = self.addr_peer(e.peer_ip, e.peer_as);
            match self.origin_key(e.attrs, e.attrs_offset, 2) {
                Ok(o) => self.pair(o, peer),
                Err(err) => self.fail(err.in_record(raw.index)),
            }
        }
    }

    fn finish(mut self, result: Result<()>, mut report: Report) -> Chunk {
        self.flush();
        // Renumber the peers in key order (and join a peer listed by two
        // tables of the batch), so that the accumulator's mapping is
        // order-preserving in the common case.
        let keys = &self.keys;
        let mut order: Vec<u32> = (0..keys.len() as u32).collect();
        order.sort_by(|&a, &b| keys[a as usize].cmp(&keys[b as usize]));
        let mut map = vec![0u32; keys.len()];
        let mut sorted_keys: Vec<PeerKey> = Vec::with_capacity(keys.len());
        for &i in &order {
            let k = keys[i as usize];
            if sorted_keys.last() != Some(&k) {
                sorted_keys.push(k);
            }
            map[i as usize] = sorted_keys.len() as u32 - 1;
        }
        let identity = map.iter().enumerate().all(|(i, &m)| m as usize == i);
        let (prefixes, origins, sets, mut lists, peak_rows) = self.rows.into_parts();
        if !identity {
            for v in lists.values_mut() {
                *v = map[*v as usize];
            }
            if sorted_keys.len() < keys.len() {
                // Two local ids became one: lists may repeat it.
                lists = sort_lists(&lists);
            } else if !simd::strictly_increasing_u32(&map) {
                lists.sort_each();
            }
        }
        report.merge(self.report);
        Chunk {
            result: match (result, self.failed) {
                (Err(e), _) | (Ok(()), Some(e)) => Err(e),
                (Ok(()), None) => Ok(()),
            },
            report,
            keys: sorted_keys,
            sets: sets.sets,
            prefixes,
            origins,
            lists,
            first_ts: self.first_ts,
            table: self.table,
            rib_records: self.rib_records,
            rib_entries: self.rib_entries,
            peak_rows,
        }
    }
}

fn decode_batch(batch: &Batch, opts: &SnapshotOptions, spare: Spare) -> Chunk {
    let mut w = Worker::new(opts, spare);
    if let Some(t) = &batch.peers {
        w.set_table(t);
    }
    let mut report = Report::default();
    let result = for_each_record(batch, &mut report, opts.strict, |raw, rec, peers| w.record(raw, rec, peers));
    w.finish(result, report)
}

/// The chunks of one input, joined in input order.
struct Accumulator {
    report: Report,
    keys: Vec<PeerKey>,
    ids: HashMap<PeerKey, u32>,
    rows: RowsBuilder,
    first_ts: Option<u32>,
    table: Option<(Option<Ipv4Addr>, String)>,
    rib_records: u64,
    rib_entries: u64,
    map: Vec<u32>,
    set_map: Vec<u64>,
    /// A chunk's list mapped to the accumulator's ids and sorted again.
    scratch: Vec<u32>,
    /// The most rows a worker held at once, over the batches.
    chunk_peak_rows: usize,
}

impl Accumulator {
    fn new() -> Accumulator {
        Accumulator {
            report: Report::default(),
            keys: Vec::new(),
            ids: HashMap::new(),
            rows: RowsBuilder::default(),
            first_ts: None,
            table: None,
            rib_records: 0,
            rib_entries: 0,
            map: Vec::new(),
            set_map: Vec::new(),
            scratch: Vec::new(),
            chunk_peak_rows: 0,
        }
    }

    /// Take in the next chunk's rows; its buffers go back to `spares`.
    fn push(&mut self, c: Chunk, spares: &Spares) -> Result<()> {
        self.report.merge(c.report);
        self.first_ts = self.first_ts.or(c.first_ts);
        if self.table.is_none() {
            self.table = c.table;
        }
        self.rib_records += c.rib_records;
        self.rib_entries += c.rib_entries;
        self.chunk_peak_rows = self.chunk_peak_rows.max(c.peak_rows);
        self.map.clear();
        for k in &c.keys {
            let next = self.keys.len() as u32;
            let id = *self.ids.entry(*k).or_insert(next);
            if id == next {
                self.keys.push(*k);
            }
            self.map.push(id);
        }
        // A chunk's lists are sorted in its own ids; mapped through an
        // order-changing map they are sorted again here, so that the rows
        // held stay sorted and a row met again is found to add nothing.
        let monotone = simd::strictly_increasing_u32(&self.map);
        self.set_map.clear();
        for s in c.sets.iter() {
            let id = self.rows.sets.intern(s);
            self.set_map.push(KEY_SET | u64::from(id));
        }
        // A chunk's rows are strictly increasing: once one is the last
        // held, the rest go after it uncompared.
        let mut last = false;
        for (i, (&p, &o)) in c.prefixes.iter().zip(&c.origins).enumerate() {
            let o = if o >> KIND_SHIFT == 2 { self.set_map[o as u32 as usize] } else { o };
            let map = &self.map;
            let list = c.lists.get(i).iter().map(|&v| map[v as usize]);
            // A row met again that adds nothing (a table repeated) is
            // dropped here, its list read in place.
            //
            // # Performance
            // Through `push` it was copied and compared with the last row
            // first: `push_below` took 580M of the 9,303M instructions of
            // `snapshot --threads 1` on the jinx RIB ×10, all of it in this
            // in-order merge, the part that two cores cannot share; read in
            // place, `Accumulator::push` takes 693M instead of 928M (8,608M
            // in all, same bytes).
            if monotone {
                if !last && self.rows.repeats_at_hint(p, o, list.clone()) {
                    continue;
                }
                last = self.rows.push_run(last, p, o, list);
            } else {
                self.scratch.clear();
                self.scratch.extend(list);
                sort_distinct(&mut self.scratch);
                last = self.rows.push_run(last, p, o, self.scratch.iter().copied());
            }
        }
        spares.give(Spare {
            prefixes: c.prefixes,
            origins: c.origins,
            lists: c.lists,
        });
        c.result
    }

    fn finish(self, file: &str, full_feed: FullFeed, backend: Backend) -> Result<Snapshot> {
        let updates: u64 = self
            .report
            .records
            .iter()
            .filter(|((t, _), _)| matches!(t, 5 | 16 | 17))
            .map(|(_, n)| n)
            .sum();
        if self.rib_records == 0 && updates > 0 {
            let what = "not a RIB dump: an updates file (BGP4MP/BGP messages, no TABLE_DUMP or TABLE_DUMP_V2 RIB records); snapshots need a RIB dump (rib.*, bview.*)";
            return Err(Error::new(ErrorKind::Unsupported { what }, 0));
        }
        let cols = self.rows.finish();
        // Final peer ids: rank in key order.
        let keys = self.keys;
        let mut order: Vec<u32> = (0..keys.len() as u32).collect();
        order.sort_by(|&a, &b| keys[a as usize].cmp(&keys[b as usize]));
        let mut fin = vec![0u32; keys.len()];
        for (new, &old) in order.iter().enumerate() {
            fin[old as usize] = new as u32;
        }
        let mut lists = cols.lists;
        if !fin.iter().enumerate().all(|(i, &f)| f as usize == i) {
            for v in lists.values_mut() {
                *v = fin[*v as usize];
            }
            // `fin` is one to one: each list only needs its order back.
            //
            // # Performance
            // Copied into a new column and sorted (`sort_lists`), this was
            // 7% of the snapshot of the 2002 RIS bview, whose peers are
            // numbered in the order they appear: 249M -> 232M instructions
            // sorted in place.
            if !simd::strictly_increasing_u32(&fin) {
                lists.sort_each();
            }
        }
        let mut peers: Vec<PeerInfo> = order.iter().map(|&i| keys[i as usize].info(0)).collect();
        let (v4, v6) = prefix_counts(&cols.prefixes, &lists, peers.len());
        let (max4, max6) = (v4.iter().copied().max().unwrap_or(0), v6.iter().copied().max().unwrap_or(0));
        for (p, (&a, &b)) in peers.iter_mut().zip(v4.iter().zip(&v6)) {
            p.ipv4_prefixes = a;
            p.ipv6_prefixes = b;
            p.full_feed_ipv4 = full_feed.is_full(false, a, max4);
            p.full_feed_ipv6 = full_feed.is_full(true, b, max6);
        }
        let (collector_id, view_name) = self.table.unwrap_or((None, String::new()));
        let collector = naming::collector_from_path(file)
            .or_else(|| collector_id.map(|c| c.to_string()))
            .unwrap_or_else(|| "unknown".to_string());
        let stats = DecodeStats {
            records: self.report.total_records(),
            rib_records: self.rib_records,
            rib_entries: self.rib_entries,
            errors: self.report.errors.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            warnings: self.report.warnings.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        };
        let source = SourceInfo {
            file: file.to_string(),
            collector,
            collector_id,
            view_name,
            dump_time: self.first_ts,
            stats,
        };
        let mut snap = Snapshot {
            sources: vec![source],
            full_feed: Some(full_feed),
            peers,
            prefixes: cols.prefixes,
            origins: cols.origins,
            sets: cols.sets,
            peer_ids: lists,
            report: self.report,
            ..Snapshot::default()
        };
        derive_counts(&mut snap, backend);
        Ok(snap)
    }
}

/// Rows a job of the finishing passes ([`prefix_counts`],
/// [`derive_counts`]) takes.
const FINISH_ROWS: usize = 1 << 15;

/// Distinct IPv4 and IPv6 prefixes per peer.
///
/// # Performance
/// Runs after the merge, when nothing else is left to share the cores
/// with: ranges of rows (cut where the prefix changes, so that no prefix
/// is counted twice) are counted on the pool and the counts summed.
fn prefix_counts(prefixes: &[Prefix], lists: &ListColumn<u32>, peers: usize) -> (Vec<u64>, Vec<u64>) {
    use rayon::prelude::*;
    let mut cuts = vec![0];
    let mut at = FINISH_ROWS;
    while at < prefixes.len() {
        while at < prefixes.len() && prefixes.get(at - 1) == prefixes.get(at) {
            at += 1;
        }
        cuts.push(at);
        at += FINISH_ROWS;
    }
    cuts.push(prefixes.len());
    cuts.dedup();
    let count = |range: &[usize]| {
        let (mut v4, mut v6) = (vec![0u64; peers], vec![0u64; peers]);
        let mut stamp = vec![usize::MAX; peers];
        let mut group = 0usize;
        let mut prev: Option<Prefix> = None;
        for i in range[0]..range[1] {
            let Some(p) = prefixes.get(i) else { break };
            if prev != Some(*p) {
                group = i;
                prev = Some(*p);
            }
            let counts = if p.is_v6() { &mut v6 } else { &mut v4 };
            for &id in lists.get(i) {
                let id = id as usize;
                if let (Some(s), Some(c)) = (stamp.get_mut(id), counts.get_mut(id)) {
                    if *s != group {
                        *s = group;
                        *c += 1;
                    }
                }
            }
        }
        (v4, v6)
    };
    let sum = |mut a: (Vec<u64>, Vec<u64>), b: (Vec<u64>, Vec<u64>)| {
        for (x, y) in a.0.iter_mut().zip(&b.0).chain(a.1.iter_mut().zip(&b.1)) {
            *x += y;
        }
        a
    };
    cuts.par_windows(2)
        .map(count)
        .reduce(|| (vec![0u64; peers], vec![0u64; peers]), sum)
}

/// Fill `peer_asns` and `full_feed_peers` from the rows and the peer table
/// (every list sorted and distinct, as the builders leave them).
///
/// # Performance
/// Runs once over all rows after the merge, ranges of rows on the pool
/// (4% of the snapshot profile when it sorted each row's peer ASNs). Peers
/// get a dense ASN group id first; when no two peers share an AS (the usual
/// peer table) a row's distinct ASN count is its length, otherwise a stamp
/// per group counts them without sorting. Full-feed peers are a bitmap per
/// family, counted with [`simd::count_in_bitmap`].
pub(crate) fn derive_counts(s: &mut Snapshot, backend: Backend) {
    let n = s.peers.len();
    // A peer of unknown AS is its own AS.
    let mut group_of: Vec<u32> = Vec::with_capacity(n);
    let mut groups: HashMap<u32, u32> = HashMap::new();
    let mut next = 0u32;
    for p in &s.peers {
        let fresh = next;
        let g = match p.asn {
            Some(a) => *groups.entry(a).or_insert(fresh),
            None => fresh,
        };
        if g == fresh {
            next += 1;
        }
        group_of.push(g);
    }
    let distinct = next as usize == n;
    let words = n.div_ceil(64);
    let (mut full4, mut full6) = (vec![0u64; words], vec![0u64; words]);
    for (i, p) in s.peers.iter().enumerate() {
        if let (Some(w4), Some(w6)) = (full4.get_mut(i / 64), full6.get_mut(i / 64)) {
            *w4 |= u64::from(p.full_feed_ipv4) << (i % 64);
            *w6 |= u64::from(p.full_feed_ipv6) << (i % 64);
        }
    }
    let rows = s.prefixes.len();
    let (mut pa, mut ff) = (vec![0u32; rows], vec![0u32; rows]);
    let (prefixes, lists) = (&s.prefixes, &s.peer_ids);
    // Rows are independent: ranges of them on the pool, each with its own
    // stamps.
    use rayon::prelude::*;
    pa.par_chunks_mut(FINISH_ROWS)
        .zip(ff.par_chunks_mut(FINISH_ROWS))
        .enumerate()
        .for_each(|(chunk, (pa, ff))| {
            let mut stamp = vec![usize::MAX; next as usize];
            let first = chunk * FINISH_ROWS;
            for (j, (pa, ff)) in pa.iter_mut().zip(ff.iter_mut()).enumerate() {
                let i = first + j;
                let ids = lists.get(i);
                let v6 = prefixes.get(i).is_some_and(Prefix::is_v6);
                *ff = simd::count_in_bitmap_with(backend, ids, if v6 { &full6 } else { &full4 }) as u32;
                *pa = if distinct {
                    ids.len() as u32
                } else {
                    let mut c = 0u32;
                    for &id in ids {
                        match group_of.get(id as usize).and_then(|&g| stamp.get_mut(g as usize)) {
                            Some(st) if *st == i => {}
                            Some(st) => {
                                *st = i;
                                c += 1;
                            }
                            None => c += 1,
                        }
                    }
                    c
                };
            }
        });
    s.peer_asns = pa;
    s.full_feed_peers = ff;
}

/// Build a snapshot of `src` (see [`Snapshot::build`]).
pub(crate) fn build(src: &Source, opts: &SnapshotOptions) -> Result<Snapshot> {
    build_counted(src, opts).map(|(s, _)| s)
}

/// The most rows held at once while building: by one batch's worker, and
/// by the in-order merge of all of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PeakRows {
    pub(crate) worker: usize,
    pub(crate) merged: usize,
}

/// [`build`], with the rows held at the peaks.
pub(crate) fn build_counted(src: &Source, opts: &SnapshotOptions) -> Result<(Snapshot, PeakRows)> {
    let window = opts.window.unwrap_or_else(|| rayon::current_num_threads() * 2).max(1);
    let mut acc = Accumulator::new();
    // Batches in flight and the one being taken in.
    let spares = Spares::new(window + 1);
    map_ordered(
        src.batches(opts.batch_size),
        window,
        |b| decode_batch(b, opts, spares.take()),
        |c| acc.push(c, &spares),
    )?;
    let peaks = PeakRows {
        worker: acc.chunk_peak_rows,
        merged: acc.rows.peak_rows(),
    };
    let snap = acc.finish(src.name(), opts.full_feed, opts.simd.unwrap_or_else(Backend::current))?;
    Ok((snap, peaks))
}

/// Merge snapshots (see [`Snapshot::merge`]).
pub(crate) fn merge(parts: Vec<Snapshot>) -> Snapshot {
    let mut out = Snapshot {
        full_feed: parts.first().and_then(|p| p.full_feed),
        ..Snapshot::default()
    };
    let mut bases = Vec::with_capacity(parts.len());
    for p in &parts {
        bases.push(out.peers.len() as u32);
        let src_base = out.sources.len() as u32;
        out.sources.extend(p.sources.iter().cloned());
        out.peers.extend(p.peers.iter().map(|x| PeerInfo {
            source: x.source + src_base,
            ..x.clone()
        }));
        out.report.merge(p.report.clone());
    }
    let mut rows = RowsBuilder::default();
    let mut cur = vec![0usize; parts.len()];
    let mut list: Vec<u32> = Vec::new();
    loop {
        let mut best: Option<(Prefix, super::RowOrigin<'_>)> = None;
        for (p, &c) in parts.iter().zip(&cur) {
            if let Some(r) = p.row(c) {
                if best.is_none_or(|b| (r.prefix, r.origin) < b) {
                    best = Some((r.prefix, r.origin));
                }
            }
        }
        let Some((prefix, origin)) = best else { break };
        list.clear();
        for ((p, c), &base) in parts.iter().zip(cur.iter_mut()).zip(&bases) {
            if let Some(r) = p.row(*c) {
                if r.prefix == prefix && r.origin == origin {
                    list.extend(r.peer_ids.iter().map(|&id| id + base));
                    *c += 1;
                }
            }
        }
        let key = rows.sets.key(&origin.to_origin());
        rows.push(prefix, key, list.iter().copied());
    }
    let cols = rows.finish();
    out.prefixes = cols.prefixes;
    out.origins = cols.origins;
    out.sets = cols.sets;
    out.peer_ids = cols.lists;
    derive_counts(&mut out, Backend::current());
    out
}

/// A snapshot from rows given one by one (see [`Snapshot::from_rows`]).
pub(crate) fn from_rows(
    sources: Vec<SourceInfo>,
    peers: Vec<PeerInfo>,
    full_feed: FullFeed,
    rows: impl IntoIterator<Item = (Prefix, Origin, Vec<u32>)>,
) -> Result<Snapshot> {
    let mut b = RowsBuilder {
        lists_sorted: false,
        ..RowsBuilder::default()
    };
    for (row, (prefix, origin, ids)) in rows.into_iter().enumerate() {
        if let Some(&bad) = ids.iter().find(|&&id| id as usize >= peers.len()) {
            return Err(Error::new(
                ErrorKind::BadValue {
                    what: "snapshot peer id",
                    value: bad,
                },
                row as u64,
            ));
        }
        if let Origin::Set(v) = &origin {
            if v.is_empty() {
                return Err(Error::new(
                    ErrorKind::BadValue {
                        what: "snapshot empty AS_SET origin",
                        value: 0,
                    },
                    row as u64,
                ));
            }
        }
        let origin = match origin {
            Origin::Set(mut v) => {
                v.sort_unstable();
                Origin::Set(v)
            }
            o => o,
        };
        let key = b.sets.key(&origin);
        b.push(prefix, key, ids);
    }
    if let Some(p) = peers.iter().find(|p| p.source as usize >= sources.len()) {
        return Err(Error::new(
            ErrorKind::BadValue {
                what: "snapshot peer source",
                value: p.source,
            },
            0,
        ));
    }
    let cols = b.finish();
    let mut snap = Snapshot {
        sources,
        full_feed: Some(full_feed),
        peers,
        prefixes: cols.prefixes,
        origins: cols.origins,
        sets: cols.sets,
        peer_ids: cols.lists,
        ..Snapshot::default()
    };
    derive_counts(&mut snap, Backend::current());
    Ok(snap)
}

#[cfg(all(test, feature = "synth"))]
mod tests {
    use super::*;
    use crate::mrt::Records;
    use crate::synth::{write_rib, RibOptions};
    use std::collections::{BTreeMap, BTreeSet};

    /// A SplitMix64 stream, for reproducible row orders.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d4_9bb1_3311_14eb);
            (z ^ (z >> 31)) % n
        }
    }

    type Model = BTreeMap<(Prefix, Origin), BTreeSet<u32>>;

    /// Push `rows` into a builder and check the finished rows against a
    /// plain map of every (prefix, origin) to its peers. Returns the most
    /// rows held and the distinct rows.
    fn check(rows: &[(Prefix, Origin, Vec<u32>)]) -> (usize, usize) {
        let mut b = RowsBuilder::default();
        let mut model = Model::new();
        for (p, o, l) in rows {
            let key = b.sets.key(o);
            b.push(*p, key, l.iter().copied());
            model.entry((*p, o.clone())).or_default().extend(l);
        }
        let peak = b.peak_rows();
        let cols = b.finish();
        let got: Vec<(Prefix, Origin, Vec<u32>)> = (0..cols.prefixes.len())
            .map(|i| {
                let o = match cols.origins[i] {
                    0 => Origin::None,
                    k if k >> KIND_SHIFT == 2 => Origin::Set(cols.sets.get(k as u32 as usize).to_vec()),
                    k => Origin::Asn(k as u32),
                };
                (cols.prefixes[i], o, cols.lists.get(i).to_vec())
            })
            .collect();
        let want: Vec<(Prefix, Origin, Vec<u32>)> = model.into_iter().map(|((p, o), l)| (p, o, l.into_iter().collect())).collect();
        assert_eq!(got, want);
        (peak, want.len())
    }

    /// `n` prefixes with one to three origins each (sets among them), in
    /// the order a worker gives them, and a sorted list of peers from
    /// `0..peers` per row.
    fn table(n: u32, peers: u32, rng: &mut Rng) -> Vec<(Prefix, Origin, Vec<u32>)> {
        let mut rows = Vec::new();
        for i in 0..n {
            let p = Prefix::v4(0x0a00_0000 + (i << 8), 24).expect("prefix");
            let mut origins = vec![Origin::Asn(64_500 + i % 7)];
            if i % 11 == 0 {
                origins.push(Origin::Asn(70_000 + i));
            }
            if i % 5 == 0 {
                origins.push(Origin::Set(vec![1, 2 + i % 3]));
            }
            for o in origins {
                let l: Vec<u32> = (0..peers).filter(|_| rng.below(3) != 0).collect();
                rows.push((p, o, if l.is_empty() { vec![0] } else { l }));
            }
        }
        rows
    }

    /// Counted by ranges of rows on the pool, a prefix whose rows straddle
    /// a range's end is still counted once per peer.
    #[test]
    fn prefix_counts_across_ranges() {
        let mut lists = ListColumn::default();
        let mut prefixes = Vec::new();
        // Three rows (origins) per prefix, peer 0 in each, peer 1 in the
        // last; every fourth prefix IPv6.
        let n = 3 * FINISH_ROWS + 7;
        for i in 0..n {
            let p = if i % 4 == 3 {
                Prefix::v6((i as u128) << 96, 32)
            } else {
                Prefix::v4((i as u32) << 8, 24)
            }
            .expect("prefix");
            for k in 0..3 {
                prefixes.push(p);
                lists.push_slice(if k == 2 { &[0, 1] } else { &[0] });
            }
        }
        let (v6, v4) = (n / 4, n - n / 4);
        assert_eq!(prefix_counts(&prefixes, &lists, 2), (vec![v4 as u64; 2], vec![v6 as u64; 2]));
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().expect("pool");
        assert_eq!(
            pool.install(|| prefix_counts(&prefixes, &lists, 2)),
            (vec![v4 as u64; 2], vec![v6 as u64; 2])
        );
    }

    #[test]
    fn sort_distinct_is_sort_and_dedup() {
        let mut rng = Rng(7);
        for n in 0..200 {
            let spread = [1u32, 64, 200, 255, 256, 257, 5000][n % 7];
            let base = rng.below(1 << 20) as u32;
            let mut ids: Vec<u32> = (0..n % 40).map(|_| base + rng.below(u64::from(spread)) as u32).collect();
            let mut want = ids.clone();
            want.sort_unstable();
            want.dedup();
            sort_distinct(&mut ids);
            assert_eq!(ids, want, "spread {spread}");
        }
        let mut ids = vec![u32::MAX, 0, u32::MAX - 3];
        sort_distinct(&mut ids);
        assert_eq!(ids, [0, u32::MAX - 3, u32::MAX]);
    }

    /// Sorted input, a table repeated, a table fed peer by peer, rows
    /// straddling, and a shuffle: the rows of a plain map every time; held
    /// rows bounded by the output (a repeated table: exactly the output).
    #[test]
    fn rows_join_as_they_arrive() {
        let mut rng = Rng(7);
        let t = table(3000, 5, &mut rng);
        let distinct = t.len();
        // Sorted: appended, nothing pending.
        assert_eq!(check(&t), (distinct, distinct));
        // Repeated 20 times: every repeat is dropped by binary search.
        let rep: Vec<_> = (0..20).flat_map(|_| t.iter().cloned()).collect();
        assert_eq!(check(&rep), (distinct, distinct));
        // The origins of each prefix reversed, then repeated: the rows
        // below wait until they are merged (pending rows are not searched).
        let mut rev = t.clone();
        for run in rev.chunk_by_mut(|a, b| a.0 == b.0) {
            run.reverse();
        }
        let rep: Vec<_> = (0..20).flat_map(|_| rev.iter().cloned()).collect();
        let (peak, n) = check(&rep);
        assert!(
            n == distinct && peak > distinct && peak <= distinct + MIN_PENDING_ROWS,
            "{peak} {n}"
        );
        // Peer by peer: each pass adds a peer to rows already held; the
        // pending rows are merged in whenever they reach the minimum.
        let big = table(30_000, 5, &mut rng);
        let by_peer: Vec<_> = (0..5u32)
            .flat_map(|peer| big.iter().map(move |(p, o, _)| (*p, o.clone(), vec![peer])))
            .collect();
        let (peak, n) = check(&by_peer);
        assert!(n == big.len() && peak <= n + MIN_PENDING_ROWS, "{peak} {n}");
        // Each row split in two halves that arrive one after the other
        // (a prefix straddling batches): joined in place.
        let split: Vec<_> = t
            .iter()
            .flat_map(|(p, o, l)| {
                let (a, b) = l.split_at(l.len() / 2);
                [(*p, o.clone(), b.to_vec()), (*p, o.clone(), a.to_vec())]
            })
            .collect();
        assert_eq!(check(&split), (distinct, distinct));
        // Shuffled, 200,000 rows (several merges of the pending rows).
        let mut all: Vec<_> = (0..70).flat_map(|_| table(3000, 9, &mut rng)).collect();
        for i in (1..all.len()).rev() {
            all.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let (peak, n) = check(&all);
        assert!(n < 5000 && peak <= 2 * n + MIN_PENDING_ROWS, "{peak} {n}");
    }

    /// The generator's table of 1000 prefixes seen by one peer, its RIB
    /// records repeated 200 times (200,000 entries): the snapshot is the
    /// table's, and no worker nor the merge ever holds more than its 1000
    /// rows (they held one row per entry before).
    #[test]
    fn duplicate_heavy_rib_holds_the_output_only() {
        let opts = RibOptions::single_peer(1000);
        let mut table = Vec::new();
        write_rib(&opts, &mut table).expect("generate");
        let pit = Records::from_bytes(&table).next().expect("a record").expect("the peer table");
        let pit_len = pit.body_offset as usize + pit.body.len();
        let mut dup = table.clone();
        for _ in 1..200 {
            dup.extend_from_slice(&table[pit_len..]);
        }
        let snap_opts = SnapshotOptions {
            batch_size: 64 << 10,
            ..Default::default()
        };
        let (one, _) = build_counted(&Source::from_bytes("one", table), &snap_opts).expect("build");
        let (snap, peaks) = build_counted(&Source::from_bytes("dup", dup), &snap_opts).expect("build");
        assert_eq!(snap.sources()[0].stats.rib_entries, 200_000);
        assert_eq!(one.len(), 1000);
        assert!(snap.rows().eq(one.rows()));
        assert_eq!(peaks.merged, 1000);
        assert!(peaks.worker > 0 && peaks.worker <= 1000, "{peaks:?}");
    }
}
