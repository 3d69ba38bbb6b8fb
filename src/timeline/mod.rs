//! Visibility timelines: per time bin and origin AS, how many of the
//! origin's prefixes and how much of its address space the peers see.
//!
//! [`Visibility`] follows the routing state of one or several collectors
//! through the change stream of their replays ([`Replay::drain_changes`]),
//! never reading an input twice; [`run`] drives an [`Archive`] bin by bin
//! and hands each bin's values to the caller. [`table`] writes the values
//! as tables (CSV, JSON lines, Parquet), `stored` (feature `parquet`)
//! reads Parquet tables back as series, and [`outage`] finds the outages
//! in a series.
//!
//! # What a bin holds
//!
//! * A bin `[S, S + bin)` is labelled by its start `S`; its values are the
//!   state after every record timestamped before its end: the state of
//!   `snapshot --at S+bin-1s`.
//! * Full-feed peers are decided at every bin by the snapshot's rules
//!   ([`FullFeed`]), per collector and family, on the prefix counts of the
//!   peers at that instant. Peers are told apart by collector, address
//!   and AS; full-feed peers count by AS: two full-feed peers of one AS
//!   are one full-feed peer ASN.
//! * A prefix is visible to an origin at threshold T when the full-feed
//!   peer ASNs seeing it with that origin are at least T of those seeing it
//!   with any origin (bgpview's denominator): the thresholds are
//!   [`THRESHOLDS`]: at least one full-feed peer ASN, then 25, 50, 75 and
//!   100%. The 50% series is the headline (IODA's signal).
//! * Per (origin, family) and threshold, an [`Aggregate`]: the visible
//!   prefixes, and the visible address space, the union of the visible
//!   prefixes in /24 units for IPv4 (a prefix longer than /24 counts as
//!   the one /24 it lies in; prefixes shorter than /6 are left out of the
//!   space, not of the prefix count) and /64 units for IPv6 (prefixes
//!   shorter than /8 left out likewise); plus the peers (all of them, of
//!   every collector) and the full-feed peer ASNs seeing at least one of
//!   the origin's prefixes of that family.
//! * AS_SET origins (and routes with no origin) are origins of their own,
//!   written as `{a,b}` and `-`: an AS_SET never counts for its members.
//! * A route with ADD-PATH is counted once per (peer, prefix, origin),
//!   however many paths carry it.
//! * A bin is null ([`Bin::null`]) when a collector given has a gap
//!   ([`Archive::gaps`]) overlapping it, or has a RIB dump among its inputs
//!   but has not reached it yet (before the first base the state is not
//!   known). A collector given no RIB dump at all starts empty: its
//!   routes are those announced by its updates. A bin in which a damaged
//!   record was met is flagged ([`Bin::damaged`]), not null; so are the
//!   bins after it and after a gap until a RIB dump of that collector
//!   re-bases its state ([`Bin::uncertain`]): a withdrawal in a missing
//!   file leaves its route in the state until then.
//!
//! # Cost
//!
//! The state is one bitmap of peers per (prefix, origin) and one per
//! prefix (any origin): bits set while at least one route carries it, a
//! count on the side for the rare second path of an ADD-PATH peer. A
//! change flips a bit; a bin recomputes the origins whose prefixes
//! changed (all of them when the full-feed peers changed) with popcounts
//! over the bitmaps.

pub mod outage;
#[cfg(feature = "parquet")]
pub mod stored;
pub mod table;

use crate::bgp::{Origin, Prefix};
use crate::layout::Kind;
use crate::replay::{Archive, ChangeIds, Fast, InputError, Replay};
use crate::snapshot::FullFeed;
use std::collections::HashMap;
use std::net::IpAddr;

/// The visibility thresholds, as the shares of full-feed peer ASNs
/// (`numerator / denominator`) a prefix needs; the first is "at least
/// one".
pub const THRESHOLDS: [Threshold; 5] = [
    Threshold::AtLeastOne,
    Threshold::Share(1, 4),
    Threshold::Share(1, 2),
    Threshold::Share(3, 4),
    Threshold::Share(1, 1),
];

/// The names of [`THRESHOLDS`] in column names: `1`, `25`, `50`, `75`,
/// `100`.
pub const THRESHOLD_NAMES: [&str; 5] = ["1", "25", "50", "75", "100"];

/// The index of the headline threshold (50%) in [`THRESHOLDS`].
pub const HEADLINE: usize = 2;

/// A visibility threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threshold {
    /// Seen by at least one full-feed peer ASN.
    AtLeastOne,
    /// Seen by at least this share (numerator, denominator) of the
    /// full-feed peer ASNs that see the prefix with any origin.
    Share(u32, u32),
}

impl Threshold {
    /// Whether `seen` full-feed peer ASNs out of `of` meet it.
    pub fn met(self, seen: u32, of: u32) -> bool {
        seen > 0
            && match self {
                Threshold::AtLeastOne => true,
                Threshold::Share(n, d) => u64::from(seen) * u64::from(d) >= u64::from(of) * u64::from(n),
            }
    }
}

/// The values of one (origin, family) at one bin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Aggregate {
    /// Visible prefixes, per threshold.
    pub prefixes: [u32; 5],
    /// Visible address space per threshold: /24s (IPv4) or /64s (IPv6).
    pub space: [u64; 5],
    /// Peers seeing at least one of the origin's prefixes.
    pub peers: u32,
    /// Full-feed peer ASNs seeing at least one of them.
    pub full_feed_peer_asns: u32,
}

/// What one prefix looks like at a bin ([`Visibility::prefix`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrefixView {
    /// Peers seeing it with any origin.
    pub peers: u32,
    /// Full-feed peer ASNs seeing it with any origin.
    pub full_feed_peer_asns: u32,
    /// Per origin: the origin, its peers and full-feed peer ASNs.
    pub origins: Vec<(Origin, u32, u32)>,
}

/// A peer, of one collector.
#[derive(Clone, Debug)]
struct PeerSlot {
    collector: u16,
    asn: u32,
    /// Prefixes it sees, per family (IPv4, IPv6).
    counts: [u64; 2],
}

/// A (prefix, origin) row: its prefix, its (origin, family) group, and the
/// next rows of the same prefix and of the same group.
#[derive(Clone, Copy, Debug)]
struct Row {
    prefix: u32,
    origin: u32,
    group: u32,
    next_in_prefix: u32,
    /// How many of [`THRESHOLDS`] it met at the last bin.
    level: u8,
}

/// One (origin, family): its rows, its peers, and its values at the last
/// bin, kept up to date change by change where a count allows it.
#[derive(Clone, Debug)]
struct Group {
    origin: u32,
    v6: bool,
    /// Its rows; in prefix order when `sorted`.
    rows: Vec<u32>,
    sorted: bool,
    /// Its peers or its space changed since the last bin.
    dirty: bool,
    space_dirty: bool,
    value: Aggregate,
}

/// A prefix: its first row, and whether it changed since the last bin.
#[derive(Clone, Copy, Debug)]
struct PrefixSlot {
    prefix: Prefix,
    first_row: u32,
    dirty: bool,
}

const NONE: u32 = u32::MAX;

/// The full-feed peers of a family: their bitmap, and the bitmaps of the
/// ASNs with more than one of them (counted once).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct FullFeedSet {
    mask: Vec<u64>,
    shared_asns: Vec<Vec<u64>>,
}

impl FullFeedSet {
    /// The full-feed peer ASNs among the peers of `bits`.
    fn asns(&self, bits: &[u64]) -> u32 {
        let mut n: u32 = bits.iter().zip(&self.mask).map(|(b, m)| (b & m).count_ones()).sum();
        for g in &self.shared_asns {
            let k: u32 = bits.iter().zip(g).map(|(b, m)| (b & m).count_ones()).sum();
            n -= k.saturating_sub(1);
        }
        n
    }
}

/// Bitmaps of peers with a count per bit: a bit is set while at least one
/// route carries it; counts past one are kept on the side.
#[derive(Debug, Default)]
struct Counted {
    bits: Vec<u64>,
    extra: HashMap<(u32, u32), u32>,
}

impl Counted {
    /// Add one to (slot, peer); whether the bit was clear.
    fn add(&mut self, words: usize, slot: u32, peer: u32) -> bool {
        let w = slot as usize * words + (peer / 64) as usize;
        let bit = 1u64 << (peer % 64);
        if self.bits[w] & bit == 0 {
            self.bits[w] |= bit;
            return true;
        }
        *self.extra.entry((slot, peer)).or_insert(0) += 1;
        false
    }

    /// Take one from (slot, peer); whether the bit became clear.
    fn remove(&mut self, words: usize, slot: u32, peer: u32) -> bool {
        if let Some(n) = self.extra.get_mut(&(slot, peer)) {
            *n -= 1;
            if *n == 0 {
                self.extra.remove(&(slot, peer));
            }
            return false;
        }
        let w = slot as usize * words + (peer / 64) as usize;
        let bit = 1u64 << (peer % 64);
        let was = self.bits[w] & bit != 0;
        self.bits[w] &= !bit;
        was
    }

    fn slot(&self, words: usize, slot: u32) -> &[u64] {
        &self.bits[slot as usize * words..(slot as usize + 1) * words]
    }

    /// Widen every slot from `old` words to `new`.
    fn widen(&mut self, old: usize, new: usize) {
        let n = self.bits.len().checked_div(old).unwrap_or(0);
        let mut bits = vec![0u64; n * new];
        for i in 0..n {
            bits[i * new..i * new + old].copy_from_slice(&self.bits[i * old..(i + 1) * old]);
        }
        self.bits = bits;
    }
}

/// The visibility state of one or several collectors, fed with their
/// routes and changes; see the [module docs](self).
#[derive(Debug)]
pub struct Visibility {
    full_feed: FullFeed,
    words: usize,
    collectors: Vec<String>,
    peers: Vec<PeerSlot>,
    peer_ids: HashMap<(u16, IpAddr, u32), u32, Fast>,
    prefixes: Vec<PrefixSlot>,
    prefix_ids: HashMap<Prefix, u32, Fast>,
    prefix_bits: Counted,
    rows: Vec<Row>,
    row_bits: Counted,
    origins: Vec<Origin>,
    origin_ids: HashMap<Origin, u32, Fast>,
    groups: Vec<Group>,
    group_ids: HashMap<(u32, bool), u32, Fast>,
    /// Per group and peer, the group's rows the peer sees (a row of the
    /// peer's capacity, `words * 64`, per group), and per group the
    /// bitmap of the peers with a count.
    group_peers: Vec<u32>,
    group_bits: Vec<u64>,
    /// The groups in (origin, family) order, while their number holds.
    order: Vec<u32>,
    dirty_prefixes: Vec<u32>,
    dirty_groups: Vec<u32>,
    full: [FullFeedSet; 2],
    /// Prefixes followed one by one ([`Visibility::watch`]), and the ids
    /// of those met that they cover.
    watch: Vec<Prefix>,
    watched: Vec<u32>,
    /// The last peer looked up.
    last_peer: Option<((u16, IpAddr, u32), u32)>,
    /// Per collector, the ids of its replay's peers, prefixes and origins
    /// here ([`NONE`]: not met yet).
    follows: Vec<Follow>,
}

/// The ids of one collector's replay, mapped to a [`Visibility`]'s: a
/// change costs vector lookups, not hashing (measured: hashing prefixes,
/// origins and (prefix, origin) pairs was 52% of a timeline's time).
#[derive(Clone, Debug, Default)]
struct Follow {
    peers: Vec<u32>,
    prefixes: Vec<u32>,
    origins: Vec<u32>,
}

/// Slots of `old` values each widened to `new`, zeros after.
fn widen<T: Copy + Default>(v: &[T], old: usize, new: usize) -> Vec<T> {
    let n = v.len().checked_div(old).unwrap_or(0);
    let mut out = vec![T::default(); n * new];
    for i in 0..n {
        out[i * new..i * new + old].copy_from_slice(&v[i * old..(i + 1) * old]);
    }
    out
}

/// `map[id]`, filled by `make` when not yet known.
fn mapped(map: &mut Vec<u32>, id: u32, make: impl FnOnce() -> u32) -> u32 {
    let i = id as usize;
    if i >= map.len() {
        map.resize(i + 1, NONE);
    }
    if map[i] == NONE {
        map[i] = make();
    }
    map[i]
}

impl Visibility {
    /// An empty state; full-feed peers by `full_feed`.
    pub fn new(full_feed: FullFeed) -> Visibility {
        Visibility {
            full_feed,
            words: 1,
            collectors: Vec::new(),
            peers: Vec::new(),
            peer_ids: HashMap::default(),
            prefixes: Vec::new(),
            prefix_ids: HashMap::default(),
            prefix_bits: Counted::default(),
            rows: Vec::new(),
            row_bits: Counted::default(),
            origins: Vec::new(),
            origin_ids: HashMap::default(),
            groups: Vec::new(),
            group_ids: HashMap::default(),
            group_peers: Vec::new(),
            group_bits: Vec::new(),
            order: Vec::new(),
            dirty_prefixes: Vec::new(),
            dirty_groups: Vec::new(),
            full: Default::default(),
            watch: Vec::new(),
            watched: Vec::new(),
            last_peer: None,
            follows: Vec::new(),
        }
    }

    /// The index of collector `name`, added when new.
    pub fn collector(&mut self, name: &str) -> u16 {
        match self.collectors.iter().position(|c| c == name) {
            Some(i) => i as u16,
            None => {
                self.collectors.push(name.to_string());
                (self.collectors.len() - 1) as u16
            }
        }
    }

    /// The collectors, in the order added.
    pub fn collectors(&self) -> &[String] {
        &self.collectors
    }

    /// Follow the prefixes `p` covers (itself and its more-specifics) for
    /// [`Visibility::watched`].
    pub fn watch(&mut self, p: Prefix) {
        for (id, slot) in self.prefixes.iter().enumerate() {
            if covers(&p, &slot.prefix) && !self.watched.contains(&(id as u32)) {
                self.watched.push(id as u32);
            }
        }
        self.watch.push(p);
    }

    /// The prefixes met that the watched ones cover, in prefix order.
    pub fn watched(&self) -> Vec<Prefix> {
        let mut v: Vec<Prefix> = self.watched.iter().map(|&i| self.prefixes[i as usize].prefix).collect();
        v.sort_unstable();
        v
    }

    /// Add every route of `replay`'s state, for collector `collector`: the
    /// state its changes then apply to ([`Visibility::follow`]).
    pub fn load(&mut self, collector: u16, replay: &Replay) {
        // Room for every prefix of the table at once (growing the map a
        // doubling at a time was a third of loading the jinx RIB).
        let more = replay.prefixes_met().saturating_sub(self.prefixes.len());
        self.prefix_ids.reserve(more);
        self.prefixes.reserve(more);
        self.prefix_bits.bits.reserve(more * self.words);
        let mut f = self.take_follow(collector);
        for [p, prefix, _, o] in replay.state_route_ids() {
            let (p, prefix) = self.map_route(&mut f, collector, replay, p, prefix);
            let o = self.map_origin(&mut f, replay, o);
            self.change(p, prefix, None, Some(o));
        }
        self.follows[usize::from(collector)] = f;
    }

    /// Apply the changes `replay` recorded since the last call (for
    /// collector `collector`, loaded first with [`Visibility::load`]).
    pub fn follow(&mut self, collector: u16, replay: &mut Replay) {
        let mut f = self.take_follow(collector);
        let changes: Vec<ChangeIds> = replay.drain_change_ids().collect();
        for c in changes {
            let (p, prefix) = self.map_route(&mut f, collector, replay, c.peer, c.prefix);
            let old = c.old.map(|o| self.map_origin(&mut f, replay, o));
            let new = c.new.map(|o| self.map_origin(&mut f, replay, o));
            self.change(p, prefix, old, new);
        }
        self.follows[usize::from(collector)] = f;
    }

    /// A route of a peer for a prefix changed from origin `old` to `new`
    /// (`None`: no route).
    pub fn route(&mut self, collector: u16, peer: (IpAddr, u32), prefix: Prefix, old: Option<&Origin>, new: Option<&Origin>) {
        if old == new {
            return;
        }
        let p = self.peer(collector, peer);
        let id = self.prefix_id(prefix);
        let old = old.map(|o| self.origin_id(o));
        let new = new.map(|o| self.origin_id(o));
        self.change(p, id, old, new);
    }

    /// The id maps of `collector`'s replay, taken out for a batch of its
    /// routes (put back by the caller).
    fn take_follow(&mut self, collector: u16) -> Follow {
        let c = usize::from(collector);
        if self.follows.len() <= c {
            self.follows.resize_with(c + 1, Follow::default);
        }
        std::mem::take(&mut self.follows[c])
    }

    /// The ids here of a replay's peer and prefix.
    fn map_route(&mut self, f: &mut Follow, collector: u16, replay: &Replay, peer: u32, prefix: u32) -> (u32, u32) {
        let p = mapped(&mut f.peers, peer, || {
            let key = replay.peer_of(peer).unwrap_or((IpAddr::from([0, 0, 0, 0]), 0));
            self.peer(collector, key)
        });
        let prefix = mapped(&mut f.prefixes, prefix, || {
            self.prefix_id(replay.prefix_of(prefix).unwrap_or_default())
        });
        (p, prefix)
    }

    /// The id here of a replay's origin.
    fn map_origin(&mut self, f: &mut Follow, replay: &Replay, origin: u32) -> u32 {
        mapped(&mut f.origins, origin, || {
            self.origin_id(replay.origin_of(origin).unwrap_or(&Origin::None))
        })
    }

    /// The route of peer `p` for prefix `id` changed from origin `old` to
    /// `new` (ids here).
    fn change(&mut self, p: u32, id: u32, old: Option<u32>, new: Option<u32>) {
        if old == new {
            return;
        }
        let fam = usize::from(self.prefixes[id as usize].prefix.is_v6());
        if let Some(o) = old {
            if let Some(row) = self.find_row(id, o) {
                if self.row_bits.remove(self.words, row, p) {
                    self.group_peer(row, p, false);
                }
            }
            if self.prefix_bits.remove(self.words, id, p) {
                self.peers[p as usize].counts[fam] -= 1;
            }
        }
        if let Some(o) = new {
            let row = self.row(id, o);
            if self.row_bits.add(self.words, row, p) {
                self.group_peer(row, p, true);
            }
            if self.prefix_bits.add(self.words, id, p) {
                self.peers[p as usize].counts[fam] += 1;
            }
        }
        let slot = &mut self.prefixes[id as usize];
        if !slot.dirty {
            slot.dirty = true;
            self.dirty_prefixes.push(id);
        }
    }

    fn peer(&mut self, collector: u16, (addr, asn): (IpAddr, u32)) -> u32 {
        let key = (collector, addr, asn);
        if let Some((k, id)) = self.last_peer {
            if k == key {
                return id;
            }
        }
        let next = self.peers.len() as u32;
        let id = *self.peer_ids.entry(key).or_insert(next);
        if id == next {
            self.peers.push(PeerSlot {
                collector,
                asn,
                counts: [0, 0],
            });
            if self.peers.len() > self.words * 64 {
                let (old, new) = (self.words, self.words * 2);
                self.prefix_bits.widen(old, new);
                self.row_bits.widen(old, new);
                self.group_bits = widen(&self.group_bits, old, new);
                self.group_peers = widen(&self.group_peers, old * 64, new * 64);
                self.words = new;
            }
        }
        self.last_peer = Some((key, id));
        id
    }

    fn prefix_id(&mut self, prefix: Prefix) -> u32 {
        let next = self.prefixes.len() as u32;
        let id = *self.prefix_ids.entry(prefix).or_insert(next);
        if id == next {
            self.prefixes.push(PrefixSlot {
                prefix,
                first_row: NONE,
                dirty: false,
            });
            self.prefix_bits.bits.resize(self.prefixes.len() * self.words, 0);
            if self.watch.iter().any(|w| covers(w, &prefix)) {
                self.watched.push(id);
            }
        }
        id
    }

    /// Peer `p` started (`add`) or stopped seeing row `row`: its group's
    /// count of the peer's rows.
    fn group_peer(&mut self, row: u32, p: u32, add: bool) {
        let g = self.rows[row as usize].group as usize;
        let cap = self.words * 64;
        let n = &mut self.group_peers[g * cap + p as usize];
        let bit = 1u64 << (p % 64);
        let w = g * self.words + (p / 64) as usize;
        if add {
            *n += 1;
            self.group_bits[w] |= bit;
        } else {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.group_bits[w] &= !bit;
            }
        }
        let group = &mut self.groups[g];
        if !group.dirty {
            group.dirty = true;
            self.dirty_groups.push(g as u32);
        }
    }

    fn origin_id(&mut self, origin: &Origin) -> u32 {
        match self.origin_ids.get(origin) {
            Some(&o) => o,
            None => {
                let o = self.origins.len() as u32;
                self.origins.push(origin.clone());
                self.origin_ids.insert(origin.clone(), o);
                o
            }
        }
    }

    /// The row of (prefix, origin), if any: a walk of the prefix's rows
    /// (one or two in a real table).
    fn find_row(&self, prefix: u32, origin: u32) -> Option<u32> {
        let mut r = self.prefixes[prefix as usize].first_row;
        while r != NONE {
            let row = &self.rows[r as usize];
            if row.origin == origin {
                return Some(r);
            }
            r = row.next_in_prefix;
        }
        None
    }

    fn row(&mut self, prefix: u32, oid: u32) -> u32 {
        if let Some(r) = self.find_row(prefix, oid) {
            return r;
        }
        let row = self.rows.len() as u32;
        let v6 = self.prefixes[prefix as usize].prefix.is_v6();
        let ng = self.groups.len() as u32;
        let g = *self.group_ids.entry((oid, v6)).or_insert(ng);
        if g == ng {
            self.groups.push(Group {
                origin: oid,
                v6,
                rows: Vec::new(),
                sorted: true,
                dirty: false,
                space_dirty: false,
                value: Aggregate::default(),
            });
            self.group_bits.resize(self.groups.len() * self.words, 0);
            self.group_peers.resize(self.groups.len() * self.words * 64, 0);
        }
        let slot = &mut self.prefixes[prefix as usize];
        let group = &mut self.groups[g as usize];
        group.rows.push(row);
        group.sorted = false;
        self.rows.push(Row {
            prefix,
            origin: oid,
            group: g,
            next_in_prefix: slot.first_row,
            level: 0,
        });
        slot.first_row = row;
        self.row_bits.bits.resize(self.rows.len() * self.words, 0);
        row
    }

    /// Bring every origin's values up to date with the routes given so
    /// far: the values of a bin. The prefixes changed since the last bin
    /// (all of them when the full-feed peers changed) get their rows'
    /// levels again, each level change counted in its origin's prefixes;
    /// origins whose peers changed get their peer counts from their
    /// bitmaps, those whose levels changed their space from their rows in
    /// prefix order.
    pub fn compute(&mut self) {
        let full = [self.full_feed_set(false), self.full_feed_set(true)];
        // The peers whose full-feed standing changed, with every peer of an
        // AS one of them belongs to (its ASN counts once): only the
        // prefixes and origins they see can change level or count.
        // Measured on a day of an rrc00-like collector: recomputing every
        // prefix whenever the set changed (each session reset changes it
        // twice) was 14% of the timeline.
        let changed: [Vec<u64>; 2] = [0, 1].map(|f| {
            let (old, new) = (&self.full[f], &full[f]);
            let words = self.words;
            let mut m: Vec<u64> = (0..words)
                .map(|w| old.mask.get(w).copied().unwrap_or(0) ^ new.mask.get(w).copied().unwrap_or(0))
                .collect();
            for g in old.shared_asns.iter().chain(&new.shared_asns) {
                if g.iter().zip(&m).any(|(a, b)| a & b != 0) {
                    for (x, y) in m.iter_mut().zip(g) {
                        *x |= y;
                    }
                }
            }
            m
        });
        self.full = full;
        let touches = |bits: &[u64], v6: bool| bits.iter().zip(&changed[usize::from(v6)]).any(|(a, b)| a & b != 0);
        let any_change = changed.iter().flatten().any(|&w| w != 0);
        for id in (0..self.prefixes.len()).filter(|_| any_change) {
            let slot = &self.prefixes[id];
            if !slot.dirty && touches(self.prefix_bits.slot(self.words, id as u32), slot.prefix.is_v6()) {
                self.prefixes[id].dirty = true;
                self.dirty_prefixes.push(id as u32);
            }
        }
        for g in (0..self.groups.len()).filter(|_| any_change) {
            let group = &self.groups[g];
            let bits = &self.group_bits[g * self.words..(g + 1) * self.words];
            if !group.dirty && touches(bits, group.v6) {
                self.groups[g].dirty = true;
                self.dirty_groups.push(g as u32);
            }
        }
        let prefixes = std::mem::take(&mut self.dirty_prefixes);
        let words = self.words;
        for id in prefixes {
            let slot = &mut self.prefixes[id as usize];
            slot.dirty = false;
            let full = &self.full[usize::from(slot.prefix.is_v6())];
            let of = full.asns(self.prefix_bits.slot(words, id));
            let mut r = slot.first_row;
            while r != NONE {
                let row = &mut self.rows[r as usize];
                let seen = full.asns(self.row_bits.slot(words, r));
                let level = THRESHOLDS.iter().take_while(|t| t.met(seen, of)).count() as u8;
                if level != row.level {
                    let g = &mut self.groups[row.group as usize];
                    let (was, now) = (usize::from(row.level), usize::from(level));
                    for n in &mut g.value.prefixes[now.min(was)..now.max(was)] {
                        *n = if now > was { *n + 1 } else { n.saturating_sub(1) };
                    }
                    row.level = level;
                    g.space_dirty = true;
                    if !g.dirty {
                        g.dirty = true;
                        self.dirty_groups.push(row.group);
                    }
                }
                r = row.next_in_prefix;
            }
        }
        let groups = std::mem::take(&mut self.dirty_groups);
        let mut spans = Vec::new();
        for g in groups {
            let (v6, space_dirty) = {
                let group = &mut self.groups[g as usize];
                group.dirty = false;
                (group.v6, std::mem::take(&mut group.space_dirty))
            };
            let bits = &self.group_bits[g as usize * words..(g as usize + 1) * words];
            let peers = bits.iter().map(|b| b.count_ones()).sum();
            let asns = self.full[usize::from(v6)].asns(bits);
            if space_dirty {
                let space = self.space(g, &mut spans);
                self.groups[g as usize].value.space = space;
            }
            let value = &mut self.groups[g as usize].value;
            value.peers = peers;
            value.full_feed_peer_asns = asns;
        }
        // The groups new since the last bin, put in (origin, family) order
        // one by one (sorting them all again whenever an origin appeared
        // was 5.7% of a day's all-origins timeline).
        let (groups, origins) = (&self.groups, &self.origins);
        let key = |g: u32| (&origins[groups[g as usize].origin as usize], groups[g as usize].v6);
        if self.order.is_empty() {
            self.order = (0..groups.len() as u32).collect();
            self.order.sort_unstable_by(|&a, &b| key(a).cmp(&key(b)));
        } else {
            for g in self.order.len() as u32..groups.len() as u32 {
                let at = self.order.partition_point(|&o| key(o) < key(g));
                self.order.insert(at, g);
            }
        }
    }

    /// The union of a group's visible prefixes at each threshold, in
    /// units; sorts its rows by prefix first when new ones came.
    fn space(&mut self, g: u32, spans: &mut Vec<(u128, u128, u8)>) -> [u64; 5] {
        let group = &mut self.groups[g as usize];
        if !group.sorted {
            let (rows, prefixes) = (&self.rows, &self.prefixes);
            group
                .rows
                .sort_unstable_by_key(|&r| prefixes[rows[r as usize].prefix as usize].prefix);
            group.sorted = true;
        }
        spans.clear();
        for &r in &group.rows {
            let row = &self.rows[r as usize];
            if row.level > 0 {
                if let Some((start, end)) = units(&self.prefixes[row.prefix as usize].prefix) {
                    spans.push((start, end, row.level));
                }
            }
        }
        // In prefix order a prefix's start never decreases, and one that
        // starts inside the span so far ends inside it or after.
        let mut out = [0u64; 5];
        for (t, space) in out.iter_mut().enumerate() {
            let mut total: u128 = 0;
            let mut cur: Option<(u128, u128)> = None;
            for &(start, end, _) in spans.iter().filter(|sp| usize::from(sp.2) > t) {
                match cur {
                    Some((a, b)) if start < b => cur = Some((a, b.max(end))),
                    Some((a, b)) => {
                        total += b - a;
                        cur = Some((start, end));
                    }
                    None => cur = Some((start, end)),
                }
            }
            if let Some((a, b)) = cur {
                total += b - a;
            }
            *space = u64::try_from(total).unwrap_or(u64::MAX);
        }
        out
    }

    /// The full-feed peers of a family at this instant.
    fn full_feed_set(&self, v6: bool) -> FullFeedSet {
        let fam = usize::from(v6);
        let mut max = vec![0u64; self.collectors.len().max(1)];
        let last = max.len() - 1;
        for p in &self.peers {
            let m = &mut max[usize::from(p.collector).min(last)];
            *m = (*m).max(p.counts[fam]);
        }
        let mut mask = vec![0u64; self.words];
        let mut by_asn: HashMap<u32, Vec<u32>> = HashMap::new();
        for (i, p) in self.peers.iter().enumerate() {
            let m = max[usize::from(p.collector).min(last)];
            if self.full_feed.is_full(v6, p.counts[fam], m) {
                mask[i / 64] |= 1 << (i % 64);
                by_asn.entry(p.asn).or_default().push(i as u32);
            }
        }
        let mut shared: Vec<(u32, Vec<u64>)> = by_asn
            .into_iter()
            .filter(|(_, v)| v.len() > 1)
            .map(|(asn, v)| {
                let mut m = vec![0u64; self.words];
                for i in v {
                    m[i as usize / 64] |= 1 << (i % 64);
                }
                (asn, m)
            })
            .collect();
        shared.sort_unstable();
        FullFeedSet {
            mask,
            shared_asns: shared.into_iter().map(|(_, m)| m).collect(),
        }
    }
}

/// Whether `outer` covers `inner`: same family, no longer, and holding
/// its address.
fn covers(outer: &Prefix, inner: &Prefix) -> bool {
    outer.is_v6() == inner.is_v6() && outer.len() <= inner.len() && outer.contains(inner.addr())
}

/// The address space of a prefix in /24 (IPv4) or /64 (IPv6) units, as a
/// half-open range; `None` for the prefixes left out (IPv4 shorter than
/// /6, IPv6 shorter than /8).
fn units(p: &Prefix) -> Option<(u128, u128)> {
    let (unit, width, shortest) = if p.is_v6() { (64u32, 128u32, 8u8) } else { (24, 32, 6) };
    if p.len() < shortest {
        return None;
    }
    let start = p.bits() >> (width - unit);
    let count = if u32::from(p.len()) <= unit {
        1u128 << (unit - u32::from(p.len()))
    } else {
        1
    };
    Some((start, start + count))
}

/// The values of one (origin, family) at a bin ([`Visibility::origins`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OriginValue<'a> {
    /// The origin.
    pub origin: &'a Origin,
    /// Whether these are its IPv6 prefixes.
    pub v6: bool,
    /// The values.
    pub value: &'a Aggregate,
}

impl Visibility {
    /// Every (origin, family) met up to the last [`Visibility::compute`],
    /// in (origin, family) order (IPv4 first), with its values then. An
    /// origin whose routes are all gone stays, with zeros.
    pub fn origins(&self) -> impl Iterator<Item = OriginValue<'_>> + '_ {
        self.order.iter().map(move |&g| self.value_of(g))
    }

    fn value_of(&self, g: u32) -> OriginValue<'_> {
        let group = &self.groups[g as usize];
        OriginValue {
            origin: &self.origins[group.origin as usize],
            v6: group.v6,
            value: &group.value,
        }
    }

    /// The values of `origin`'s prefixes of a family at the last
    /// [`Visibility::compute`]; `None` when it was never met.
    pub fn origin(&self, origin: &Origin, v6: bool) -> Option<&Aggregate> {
        let o = self.origin_ids.get(origin)?;
        let g = self.group_ids.get(&(*o, v6))?;
        Some(&self.groups[*g as usize].value)
    }

    /// How `prefix` is seen now; `None` when it was never met.
    pub fn prefix(&self, prefix: &Prefix) -> Option<PrefixView> {
        let id = *self.prefix_ids.get(prefix)?;
        let full = &self.full[usize::from(prefix.is_v6())];
        let bits = self.prefix_bits.slot(self.words, id);
        let mut view = PrefixView {
            peers: bits.iter().map(|b| b.count_ones()).sum(),
            full_feed_peer_asns: full.asns(bits),
            origins: Vec::new(),
        };
        let mut r = self.prefixes[id as usize].first_row;
        while r != NONE {
            let row = self.rows[r as usize];
            let bits = self.row_bits.slot(self.words, r);
            let peers: u32 = bits.iter().map(|b| b.count_ones()).sum();
            if peers > 0 {
                let origin = self.origins[self.groups[row.group as usize].origin as usize].clone();
                view.origins.push((origin, peers, full.asns(bits)));
            }
            r = row.next_in_prefix;
        }
        view.origins.sort_unstable();
        Some(view)
    }

    /// The peers known, and how many are full-feed now (IPv4, IPv6).
    pub fn peer_counts(&self) -> (usize, [u32; 2]) {
        let ff = |f: &FullFeedSet| f.mask.iter().map(|b| b.count_ones()).sum();
        (self.peers.len(), [ff(&self.full[0]), ff(&self.full[1])])
    }
}

/// How [`run`] bins an archive.
#[derive(Clone, Debug)]
pub struct Options {
    /// The bin width, seconds.
    pub bin: u32,
    /// The first bin's start (rounded down to a multiple of `bin`); by
    /// default the earliest input's time.
    pub from: Option<u32>,
    /// The end: bins that end after it are not computed; by default the
    /// end of the last input (an updates file's time plus its interval).
    pub until: Option<u32>,
    /// The full-feed rule.
    pub full_feed: FullFeed,
    /// Prefixes followed one by one ([`Visibility::watch`]).
    pub watch: Vec<Prefix>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            bin: 300,
            from: None,
            until: None,
            full_feed: FullFeed::default(),
            watch: Vec::new(),
        }
    }
}

/// One bin of [`run`]: its span and the state at its last second.
#[derive(Debug)]
pub struct Bin<'a> {
    /// Its start, Unix seconds.
    pub start: u32,
    /// Its end (exclusive): its values are the state at `end - 1`.
    pub end: u32,
    /// No values: a gap in a collector's archive overlaps it, or a
    /// collector has not reached its first RIB dump.
    pub null: bool,
    /// A damaged record was met during it.
    pub damaged: bool,
    /// The state may be wrong: a collector met a damaged record, or had a
    /// gap in its updates, and no RIB dump has re-based it since (a
    /// withdrawal in a missing file leaves its route in the state until
    /// then). Damaged bins are uncertain.
    pub uncertain: bool,
    /// The state, computed.
    pub state: &'a Visibility,
}

/// The span [`run`] covers for `archive` by default: from the earliest
/// input's time to the end of the last input (an updates file's time plus
/// its collector's interval, a RIB dump's time plus one second).
pub fn span(archive: &Archive) -> Option<(u32, u32)> {
    let mut out: Option<(u32, u32)> = None;
    for c in archive.collectors() {
        let interval = c.interval().unwrap_or(1);
        for i in c.inputs() {
            let end = if i.kind == Kind::Rib {
                i.time.saturating_add(1)
            } else {
                i.time.saturating_add(interval)
            };
            out = Some(match out {
                None => (i.time, end),
                Some((a, b)) => (a.min(i.time), b.max(end)),
            });
        }
    }
    out
}

/// Replay `archive` bin by bin and hand each bin to `each`, in time
/// order: the inputs are read once, the state follows their changes.
///
/// # Errors
/// The first input that cannot be read, or what `each` returns.
pub fn run<E: From<InputError>>(archive: &mut Archive, opts: &Options, mut each: impl FnMut(&Bin<'_>) -> Result<(), E>) -> Result<(), E> {
    let bin = opts.bin.max(1);
    let Some((first, last)) = span(archive) else { return Ok(()) };
    let from = opts.from.unwrap_or(first) / bin * bin;
    let until = opts.until.unwrap_or(last);
    let mut state = Visibility::new(opts.full_feed);
    for p in &opts.watch {
        state.watch(*p);
    }
    let ids: Vec<u16> = archive.collectors().iter().map(|c| state.collector(c.name())).collect();
    // A collector given no RIB dump starts empty; the others at their first.
    let mut loaded: Vec<bool> = archive
        .collectors()
        .iter()
        .map(|c| !c.inputs().iter().any(|i| i.kind == Kind::Rib))
        .collect();
    let mut damaged = vec![0u64; ids.len()];
    archive.record_changes(true);
    let mut start = u64::from(from);
    while start + u64::from(bin) <= u64::from(until) {
        let (s, e) = (start as u32, (start + u64::from(bin)) as u32);
        archive.advance_to(e - 1)?;
        let mut is_damaged = false;
        for (i, c) in archive.collectors_mut().iter_mut().enumerate() {
            let replay = c.replay_mut();
            if loaded[i] {
                state.follow(ids[i], replay);
            } else if replay.base().is_some() {
                replay.drain_change_ids().for_each(drop);
                state.load(ids[i], replay);
                loaded[i] = true;
            } else {
                replay.drain_change_ids().for_each(drop);
            }
            let d = replay.report().damaged_records;
            is_damaged |= d > damaged[i];
            damaged[i] = d;
        }
        let gaps = archive.gaps();
        let gap = gaps.iter().any(|g| g.from < e && g.until > s);
        // A gap over, with no base after its end: the state is stale.
        let stale = archive.collectors().iter().any(|c| {
            let base = c.replay().base();
            !c.replay().uncertain().is_empty()
                || gaps
                    .iter()
                    .any(|g| g.collector == c.name() && g.until <= e && base.is_none_or(|b| b < g.until))
        });
        state.compute();
        each(&Bin {
            start: s,
            end: e,
            null: gap || loaded.iter().any(|l| !l),
            damaged: is_damaged,
            uncertain: is_damaged || stale,
            state: &state,
        })?;
        start += u64::from(bin);
    }
    Ok(())
}
