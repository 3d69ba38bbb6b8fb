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
//! chunk's peer keys and AS sets and appends its rows; rows that arrive out
//! of order (a prefix straddling batches, an unsorted file) only clear a
//! flag, and the finishing pass then sorts and joins them. Every decision
//! depends on keys and input order only, never on batch boundaries or
//! thread timing, so the result is the same for any batching.

use super::column::ListColumn;
use super::scan::{find_origin, set_members, EntryTable, Found};
use super::{naming, DecodeStats, FullFeed, PeerInfo, Snapshot, SnapshotOptions, SourceInfo, KEY_ASN, KEY_SET, KIND_SHIFT};
use crate::bgp::as_path::PathBuf;
use crate::bgp::{Origin, Prefix};
use crate::error::{Error, ErrorKind, Result};
use crate::mrt::{Bgp4mpBody, PeerTable, RawRecord, Record, Rib, TableDump};
use crate::pipeline::{for_each_record, map_ordered};
use crate::report::Report;
use crate::simd::{self, Backend};
use crate::source::{Batch, Source};
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

/// Rows under construction: (prefix, origin key, peer list), with the
/// knowledge of whether they are already in order.
#[derive(Clone, Debug)]
pub(crate) struct RowsBuilder {
    prefixes: Vec<Prefix>,
    origins: Vec<u64>,
    pub(crate) sets: SetTable,
    lists: ListColumn<u32>,
    /// Rows strictly increasing by (prefix, origin).
    sorted: bool,
    /// Every list sorted ascending and distinct.
    pub(crate) lists_sorted: bool,
}

impl Default for RowsBuilder {
    fn default() -> Self {
        RowsBuilder {
            prefixes: Vec::new(),
            origins: Vec::new(),
            sets: SetTable::default(),
            lists: ListColumn::default(),
            sorted: true,
            lists_sorted: true,
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

impl RowsBuilder {
    /// Append a row; `origin` is a key of `self.sets`.
    #[inline]
    pub(crate) fn push(&mut self, prefix: Prefix, origin: u64, list: impl IntoIterator<Item = u32>) {
        if let (Some(&lp), Some(&lo)) = (self.prefixes.last(), self.origins.last()) {
            let ord = lp.cmp(&prefix).then_with(|| cmp_origin(lo, origin, &self.sets.sets));
            if ord != Ordering::Less {
                self.sorted = false;
            }
        }
        self.prefixes.push(prefix);
        self.origins.push(origin);
        self.lists.push_iter(list);
    }

    fn len(&self) -> usize {
        self.prefixes.len()
    }

    /// Sort the rows and join those of equal (prefix, origin), the set table
    /// renumbered in member order, every list sorted and distinct.
    pub(crate) fn finish(self) -> RowColumns {
        let RowsBuilder {
            mut prefixes,
            mut origins,
            sets,
            mut lists,
            sorted,
            lists_sorted,
        } = self;
        let sets = sets.sets;
        let mut scratch: Vec<u32> = Vec::new();
        if !sorted {
            let mut perm: Vec<u32> = (0..prefixes.len() as u32).collect();
            perm.sort_by(|&a, &b| {
                let (a, b) = (a as usize, b as usize);
                prefixes[a]
                    .cmp(&prefixes[b])
                    .then_with(|| cmp_origin(origins[a], origins[b], &sets))
            });
            let (mut p2, mut o2) = (Vec::with_capacity(prefixes.len()), Vec::with_capacity(prefixes.len()));
            let mut l2 = ListColumn::with_capacity(prefixes.len(), lists.values_len());
            for run in perm.chunk_by(|&a, &b| prefixes[a as usize] == prefixes[b as usize] && origins[a as usize] == origins[b as usize]) {
                let Some(&first) = run.first() else { continue };
                p2.push(prefixes[first as usize]);
                o2.push(origins[first as usize]);
                scratch.clear();
                for &r in run {
                    scratch.extend_from_slice(lists.get(r as usize));
                }
                if run.len() > 1 || !lists_sorted {
                    scratch.sort_unstable();
                    scratch.dedup();
                }
                l2.push_slice(&scratch);
            }
            (prefixes, origins, lists) = (p2, o2, l2);
        } else if !lists_sorted {
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

/// Every list sorted and de-duplicated.
fn sort_lists(lists: &ListColumn<u32>) -> ListColumn<u32> {
    let mut out = ListColumn::with_capacity(lists.len(), lists.values_len());
    let mut scratch = Vec::new();
    for l in lists.iter() {
        scratch.clear();
        scratch.extend_from_slice(l);
        scratch.sort_unstable();
        scratch.dedup();
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
    addr_ids: HashMap<(IpAddr, u32), u32>,
    bare_ids: HashMap<u16, u32>,
    sets: SetTable,
    members: Vec<u32>,
    path: PathBuf,
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
    prefixes: Vec<Prefix>,
    origins: Vec<u64>,
    lists: ListColumn<u32>,
    first_ts: Option<u32>,
    table: Option<(Option<Ipv4Addr>, String)>,
    rib_records: u64,
    rib_entries: u64,
}

impl Worker {
    fn new(opts: &SnapshotOptions) -> Worker {
        Worker {
            multicast: opts.multicast,
            strict: opts.strict,
            failed: None,
            report: Report::default(),
            keys: Vec::new(),
            table_base: 0,
            table_len: None,
            addr_ids: HashMap::new(),
            bare_ids: HashMap::new(),
            sets: SetTable::default(),
            members: Vec::new(),
            path: PathBuf::new(),
            group: None,
            pair_origins: Vec::with_capacity(1024),
            pair_peers: Vec::with_capacity(1024),
            pairs: Vec::new(),
            backend: opts.simd.unwrap_or_else(Backend::current),
            entries: EntryTable::default(),
            prefixes: Vec::new(),
            origins: Vec::new(),
            lists: ListColumn::default(),
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

    fn bare_peer(&mut self, index: u16) -> u32 {
        let next = self.keys.len() as u32;
        let id = *self.bare_ids.entry(index).or_insert(next);
        if id == next {
            self.keys.push(PeerKey::Bare { index });
        }
        id
    }

    fn origin_key(&mut self, attrs: &[u8], offset: u64, asn_len: u8) -> Result<u64> {
        Ok(match find_origin(attrs, offset, asn_len, &mut self.path, &mut self.report)? {
            Found::None => 0,
            Found::Asn(a) => KEY_ASN | u64::from(a),
            Found::Set { asns, asn_len } => {
                set_members(asns, asn_len, &mut self.members);
                KEY_SET | u64::from(self.sets.intern(&self.members))
            }
            Found::Merged(o) => self.sets.key(&o),
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

    /// Collapse the pairs of the current prefix into rows.
    fn flush(&mut self) {
        let Some(prefix) = self.group.take() else { return };
        let Some(&first) = self.pair_origins.first() else { return };
        // The common case (98% of prefixes): one origin; the peers usually
        // come in table order. Decided a vector at a time instead of sorting
        // (origin, peer) pairs: the sort was 7% of the snapshot profile.
        if simd::all_equal_u64_with(self.backend, &self.pair_origins) {
            self.prefixes.push(prefix);
            self.origins.push(first);
            if !simd::strictly_increasing_u32_with(self.backend, &self.pair_peers) {
                self.pair_peers.sort_unstable();
                self.pair_peers.dedup();
            }
            self.lists.push_slice(&self.pair_peers);
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
            let sets = &self.sets.sets;
            self.pairs.sort_unstable_by(|a, b| cmp_origin(a.0, b.0, sets).then(a.1.cmp(&b.1)));
        } else {
            self.pairs.sort_unstable();
        }
        self.pairs.dedup();
        for run in self.pairs.chunk_by(|a, b| a.0 == b.0) {
            let Some(&(origin, _)) = run.first() else { continue };
            self.prefixes.push(prefix);
            self.origins.push(origin);
            self.lists.push_iter(run.iter().map(|p| p.1));
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
        self.start(prefix);
        let has_table = peers.is_some();
        // One pass locates every entry; the kernel then finds the origins of
        // all of them (see `EntryTable`). A record whose entries do not fit
        // its bytes takes the entry iterator, which reports the damage.
        let (data, base) = rib.raw_entries();
        let mut table = std::mem::take(&mut self.entries);
        if table.locate(data, rib.entry_count, rib.add_path) {
            table.origins(data);
            let head = if rib.add_path { 12 } else { 8 };
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
                match self.origin_key(attrs, at, 4) {
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
    #[inline]
    fn rib_peer(&mut self, has_table: bool, index: u16, at: u64, record: u64) -> Option<u32> {
        match (has_table, self.table_len) {
            (true, Some(n)) => {
                if usize::from(index) < n {
                    Some(self.table_base + u32::from(index))
                } else {
                    let kind = ErrorKind::PeerIndexOutOfRange {
                        index,
                        peers: n.min(usize::from(u16::MAX)) as u16,
                    };
                    self.fail(Error::new(kind, at).in_record(record));
                    None
                }
            }
            _ => Some(self.bare_peer(index)),
        }
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
        let mut lists = self.lists;
        if !identity {
            for v in lists.values_mut() {
                *v = map[*v as usize];
            }
            if !map.windows(2).all(|w| w[0] < w[1]) {
                lists = sort_lists(&lists);
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
            sets: self.sets.sets,
            prefixes: self.prefixes,
            origins: self.origins,
            lists,
            first_ts: self.first_ts,
            table: self.table,
            rib_records: self.rib_records,
            rib_entries: self.rib_entries,
        }
    }
}

fn decode_batch(batch: &Batch, opts: &SnapshotOptions) -> Chunk {
    let mut w = Worker::new(opts);
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
        }
    }

    fn push(&mut self, c: Chunk) -> Result<()> {
        self.report.merge(c.report);
        self.first_ts = self.first_ts.or(c.first_ts);
        if self.table.is_none() {
            self.table = c.table;
        }
        self.rib_records += c.rib_records;
        self.rib_entries += c.rib_entries;
        self.map.clear();
        for k in &c.keys {
            let next = self.keys.len() as u32;
            let id = *self.ids.entry(*k).or_insert(next);
            if id == next {
                self.keys.push(*k);
            }
            self.map.push(id);
        }
        if !self.map.windows(2).all(|w| w[0] < w[1]) {
            self.rows.lists_sorted = false;
        }
        self.set_map.clear();
        for s in c.sets.iter() {
            let id = self.rows.sets.intern(s);
            self.set_map.push(KEY_SET | u64::from(id));
        }
        for (i, (&p, &o)) in c.prefixes.iter().zip(&c.origins).enumerate() {
            let o = if o >> KIND_SHIFT == 2 { self.set_map[o as u32 as usize] } else { o };
            let map = &self.map;
            self.rows.push(p, o, c.lists.get(i).iter().map(|&v| map[v as usize]));
        }
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
            if !fin.windows(2).all(|w| w[0] < w[1]) {
                lists = sort_lists(&lists);
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

/// Distinct IPv4 and IPv6 prefixes per peer.
fn prefix_counts(prefixes: &[Prefix], lists: &ListColumn<u32>, peers: usize) -> (Vec<u64>, Vec<u64>) {
    let (mut v4, mut v6) = (vec![0u64; peers], vec![0u64; peers]);
    let mut stamp = vec![usize::MAX; peers];
    let mut group = 0usize;
    let mut prev: Option<Prefix> = None;
    for (i, p) in prefixes.iter().enumerate() {
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
}

/// Fill `peer_asns` and `full_feed_peers` from the rows and the peer table
/// (every list sorted and distinct, as the builders leave them).
///
/// # Performance
/// Runs once over all rows on the calling thread after the parallel part
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
    let mut stamp = vec![usize::MAX; next as usize];
    let (mut pa, mut ff) = (Vec::with_capacity(s.prefixes.len()), Vec::with_capacity(s.prefixes.len()));
    for (i, p) in s.prefixes.iter().enumerate() {
        let ids = s.peer_ids.get(i);
        let full = simd::count_in_bitmap_with(backend, ids, if p.is_v6() { &full6 } else { &full4 });
        let asns = if distinct {
            ids.len()
        } else {
            let mut c = 0usize;
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
        pa.push(asns as u32);
        ff.push(full as u32);
    }
    s.peer_asns = pa;
    s.full_feed_peers = ff;
}

/// Build a snapshot of `src` (see [`Snapshot::build`]).
pub(crate) fn build(src: &Source, opts: &SnapshotOptions) -> Result<Snapshot> {
    let window = opts.window.unwrap_or_else(|| rayon::current_num_threads() * 2).max(1);
    let mut acc = Accumulator::new();
    map_ordered(src.batches(opts.batch_size), window, |b| decode_batch(b, opts), |c| acc.push(c))?;
    acc.finish(src.name(), opts.full_feed, opts.simd.unwrap_or_else(Backend::current))
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
    for (prefix, origin, ids) in rows {
        if let Some(&bad) = ids.iter().find(|&&id| id as usize >= peers.len()) {
            return Err(Error::new(
                ErrorKind::BadValue {
                    what: "snapshot peer id",
                    value: bad,
                },
                b.len() as u64,
            ));
        }
        if let Origin::Set(v) = &origin {
            if v.is_empty() {
                return Err(Error::new(
                    ErrorKind::BadValue {
                        what: "snapshot empty AS_SET origin",
                        value: 0,
                    },
                    b.len() as u64,
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
