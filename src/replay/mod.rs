//! Routing state at any instant: updates replayed onto RIB dumps.
//!
//! A [`Replay`] holds the routing state of one collector, peer by peer, and
//! is fed whole inputs with [`Replay::apply`] (or [`Replay::apply_until`]):
//! RIB dumps set the state, updates files change it. [`Replay::snapshot`]
//! turns the state into a [`Snapshot`] with the rows and peers of a RIB
//! snapshot, so every output of a snapshot works on it. What the replay did
//! with its inputs (withdrawals of nothing, updates left out, the
//! differences found at each re-base) is counted in a [`ReplayReport`].
//!
//! # Semantics
//!
//! * State per collector: for each peer (peer address and peer AS; with
//!   ADD-PATH, per path id) the routes it announced: prefix → the origin AS
//!   as the snapshot defines it ([`Origin`], interned), and the time of the
//!   last message about it.
//! * Base: a RIB dump (TABLE_DUMP_V2 or TABLE_DUMP) sets the state of every
//!   peer it lists as of its dump start (the first record's timestamp). RIB
//!   entries are not filtered by their per-route "originated" time (routes
//!   can be months old). BGP4MP `*_LOCAL` subtypes (the collector's own
//!   messages) do not change the state.
//! * An announcement sets the route for (peer, prefix), replacing any
//!   earlier one (implicit withdrawal). A withdrawal removes it (counted
//!   when there was nothing to remove). MP_REACH/MP_UNREACH alike, both
//!   families, ADD-PATH path ids.
//! * A peer state change from Established (6) to any other state drops all
//!   of that peer's routes and marks it down; back to Established it starts
//!   empty; an UPDATE from a peer marked down brings it back up. Quagga's
//!   states 7 and 8 count as not Established.
//! * An instant T includes every record with a timestamp (seconds, ET
//!   microseconds ignored for this) at or before T. Records within a file
//!   are taken in file order. With the first base RIB of a collector,
//!   updates timestamped before its dump start minus 60 s are not applied
//!   (counted), and those from that instant on are applied over the RIB's
//!   routes: the same 60 s rule as at a re-base below, since collectors'
//!   dumps lag their update stream. A withdrawal leaves a timestamped
//!   marker, so the re-base rule below protects it like an announcement.
//! * A later RIB dump of the same collector re-bases the state: before it
//!   replaces the replayed state, the differences between the two are
//!   counted per peer (routes only in the replay, only in the RIB, with
//!   another origin) and reported. Then, for each (peer, prefix) of the
//!   peers the RIB lists, the RIB's route replaces the replayed one (a
//!   route the RIB lacks is removed), unless the replayed one came from an
//!   update timestamped at or after the dump's start minus 60 s: collectors'
//!   dumps lag their update stream, so such an update is newer than what
//!   the dump shows. Updates during the dump are applied on top as they
//!   come.
//! * A peer missing from a later peer table keeps its replayed state,
//!   flagged in the report.
//!
//! How the engine reads these rules where they leave room:
//!
//! * The 60 s rule holds for the latest base: after a re-base, updates
//!   timestamped before that dump's start minus 60 s are not applied either.
//!   Updates fed before the first base (an updates file placed before the
//!   RIB) are applied as they come; at the base, what they set before its
//!   window is undone, for every peer, listed or not, and so are session
//!   drops before it.
//! * A session drop (Established to another state) is a withdrawal of every
//!   route of the peer at its time: at a re-base, a drop timestamped at or
//!   after the dump's start minus 60 s protects the peer from the dump's
//!   (older) routes, as a withdrawal marker does for one prefix. A state
//!   change timestamped before the base's 60 s window is not applied.
//! * The peers a RIB lists are those of its PEER_INDEX_TABLE(s) and, in
//!   TABLE_DUMP and BGP4MP_ENTRY dumps, those its entries name.
//! * With [`Replay::apply_until`], a RIB whose dump start is after T is
//!   left out whole (its peers too); its entries are counted with the
//!   records after T.
//! * A route without a path id and the path id 0 of an ADD-PATH session are
//!   one key: a session either carries path ids or does not.
//! * A change into Established from another state starts the peer empty
//!   even where no drop was seen before it, and counts as a drop at its
//!   time for the re-base rule.
//! * Of a route's attributes the state keeps the origin, all a snapshot
//!   needs. RIB entries of multicast tables are left out (counted as the
//!   warning `rib-multicast-skipped`), as in a RIB snapshot.
//! * The replay does not tell collectors apart: one [`Replay`] is fed the
//!   inputs of one collector, in time order. [`Archive`] places inputs of
//!   several collectors, in any order, and gives each its own replay.
//! * MP_REACH/MP_UNREACH routes of SAFI 2 (multicast) are left out
//!   (warning `update-multicast-skipped`), as multicast RIB tables are.
//! * A damaged record (one that does not frame or decode, or whose routes
//!   are cut) is skipped and reported ([`ReplayReport::damaged`]): the state
//!   of its peer (of every peer when the record does not tell, as in a
//!   RIB dump or a framing error) is uncertain from its time
//!   ([`Replay::uncertain`]) until a RIB dump listing the peer re-bases it.
//!   Damage in a RIB dump takes effect after its base.
//! * Updates inside a RIB dump's file are applied as they come, before the
//!   dump's base at its end, which keeps them by the 60 s rule.
//! * Records after the instant of [`Replay::feed`] are held back, then
//!   applied by [`Replay::advance`] or the next input fed, in file order;
//!   states at increasing instants equal those of replays from the start
//!   to each, except where a file's clock steps back across an instant.
//!
//! # Memory
//!
//! Peers are small indices, prefixes and origins are interned (a `Vec` and
//! a hash map each). A peer's routes are the base a RIB set, vectors
//! sorted by prefix id ((prefix id, origin id), 8 bytes a route; ADD-PATH
//! routes apart with their path id), and the routes and withdrawal markers
//! updates set since, in a hash table over it (8-byte key, 8 bytes of
//! origin and time). A snapshot gathers the peers' sorted routes a block of
//! prefix ids at a time, puts them in prefix order with a counting sort
//! and hands the rows to the snapshot as it goes, so it needs no table of
//! all routes.
//! Measured on a quarter-size rrc00-like RIB (13.2M entries, 70 peers): a
//! hash table per peer peaked at 1,049 MB in 21.4 s; sorted vectors at
//! 469 MB in 3.2 s (the RIB's plain snapshot: 111 MB, 1.0 s). On the full
//! size (52M entries): 1,086 MB peak, also when a second RIB re-bases it.
//!
//! # Example
//!
//! ```
//! use mrtsnap::{replay::Replay, Source};
//!
//! let mut replay = Replay::new();
//! replay.apply(&Source::open("corpus/updates.synth.small.mrt.gz")?)?;
//! let snap = replay.snapshot()?;
//! let report = replay.report();
//! assert_eq!((report.announcements, report.withdrawals), (4343, 1881));
//! assert_eq!((report.withdrawn_nothing, report.sessions_down, report.up_by_update), (1482, 0, 0));
//! assert_eq!((snap.len(), snap.peers().len(), replay.routes()), (2179, 16, 2934));
//! # Ok::<(), mrtsnap::Error>(())
//! ```

mod archive;

pub use archive::{Archive, Collector, Gap, Input, InputError};

use crate::bgp::{Origin, Prefix};
use crate::error::Error;
use crate::error::Result;
use crate::mrt::RawRecord;
use crate::mrt::{Bgp4mp, Bgp4mpBody, FsmState, Record};
use crate::pipeline::{map_ordered, walk_records, RecordDamage};
use crate::report::Report;
use crate::routes::{routes_of, RouteKind};
use crate::snapshot::{collector_from_path, DecodeStats, FullFeed, PeerInfo, Snapshot, SourceInfo};
use crate::source::{Batch, Source, DEFAULT_BATCH_SIZE};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// How far, in seconds, a dump lags its collector's update stream: updates
/// timestamped at or after a dump's start minus this are newer than the
/// dump.
pub const DUMP_LAG: u32 = 60;

/// The origin id of a withdrawal marker: no route, a time only.
const WITHDRAWN: u32 = u32::MAX;

/// A multiply-rotate hasher for the integer keys of the state tables (the
/// library depends on no hashing crate; SipHash is needlessly slow here).
/// A product's low bits depend only on the key's low bits (a route key's
/// low half is its path id, mostly 0), so `finish` rotates the well-mixed
/// high bits down to where the table takes its bucket index.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl IdHasher {
    #[inline]
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // murmur3's finalizer: every bit of the state reaches every bit of
        // the hash.
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut a = [0u8; 8];
            a[..c.len()].copy_from_slice(c);
            self.add(u64::from_le_bytes(a));
        }
    }
    fn write_u8(&mut self, v: u8) {
        self.add(u64::from(v));
    }
    fn write_u16(&mut self, v: u16) {
        self.add(u64::from(v));
    }
    fn write_u32(&mut self, v: u32) {
        self.add(u64::from(v));
    }
    fn write_u64(&mut self, v: u64) {
        self.add(v);
    }
    fn write_usize(&mut self, v: usize) {
        self.add(v as u64);
    }
}

pub(crate) type Fast = BuildHasherDefault<IdHasher>;

/// A `Vec` of values and the map from value to index.
#[derive(Debug)]
struct Interner<T> {
    values: Vec<T>,
    ids: HashMap<T, u32, Fast>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            values: Vec::new(),
            ids: HashMap::default(),
        }
    }
}

impl<T: Clone + Eq + std::hash::Hash> Interner<T> {
    fn id(&mut self, v: T) -> u32 {
        if let Some(&id) = self.ids.get(&v) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(v.clone());
        self.ids.insert(v, id);
        id
    }
}

/// The prefixes met, by id: IPv4 ones keyed by one 64-bit word (address
/// and length), IPv6 ones apart. Interning was a third of an updates-only
/// replay's time in perf (a day of rrc00-like updates, 11.8M prefixes)
/// with the prefix itself as the key (48-byte buckets).
///
/// The ids given up to the latest base (or the latest large input) are
/// shared with the decoding workers ([`Decoder`]), which look them up, so
/// that the thread applying the operations only interns new prefixes.
#[derive(Debug, Default)]
struct Prefixes {
    values: Vec<Prefix>,
    shared: Arc<PrefixIds>,
    recent: PrefixIds,
}

/// Prefix ids by prefix.
#[derive(Clone, Debug, Default)]
struct PrefixIds {
    v4: HashMap<u64, u32, Fast>,
    v6: HashMap<(u128, u8), u32, Fast>,
}

/// The id an operation carries for a prefix its decoder did not know.
const NO_ID: u32 = u32::MAX;

impl PrefixIds {
    fn get(&self, p: &Prefix) -> Option<u32> {
        match p.addr() {
            IpAddr::V4(a) => self.v4.get(&(u64::from(u32::from(a)) << 8 | u64::from(p.len()))).copied(),
            IpAddr::V6(a) => self.v6.get(&(u128::from(a), p.len())).copied(),
        }
    }

    fn get_or_insert(&mut self, p: Prefix, next: u32) -> u32 {
        match p.addr() {
            IpAddr::V4(a) => *self.v4.entry(u64::from(u32::from(a)) << 8 | u64::from(p.len())).or_insert(next),
            IpAddr::V6(a) => *self.v6.entry((u128::from(a), p.len())).or_insert(next),
        }
    }

    fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }
}

impl Prefixes {
    /// The id of `p`: `known` when its decoder found it.
    fn id(&mut self, p: Prefix, known: u32) -> u32 {
        if known != NO_ID {
            return known;
        }
        if let Some(id) = self.shared.get(&p) {
            return id;
        }
        let next = self.values.len() as u32;
        let id = self.recent.get_or_insert(p, next);
        if id == next {
            self.values.push(p);
        }
        id
    }

    /// Share the ids given since the last time, when there are many.
    fn share(&mut self, at_least: usize) {
        if self.recent.len() >= at_least.max(1) {
            let shared = Arc::make_mut(&mut self.shared);
            shared.v4.extend(self.recent.v4.drain());
            shared.v6.extend(self.recent.v6.drain());
        }
    }
}

/// A route an update set: origin id (or [`WITHDRAWN`]) and the message's
/// time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    origin: u32,
    time: u32,
}

/// The routes a RIB set for one peer, sorted by key: those without a path
/// id as (prefix id, origin id), 8 bytes each, the ADD-PATH ones apart as
/// (prefix id, path id, origin id). Measured on a full-size rrc00-like
/// RIB (52M entries, 70 peers) replayed to an instant and written as
/// pairs: 12 bytes a route peaked at 1,289 MB, 8 at 1,086 MB; re-based by
/// the same RIB again, 1,086 MB.
#[derive(Debug, Default)]
struct Base {
    routes: Vec<[u32; 2]>,
    paths: Vec<[u32; 3]>,
    /// Where each block of [`Base::BLOCK`] prefix ids starts in `routes`:
    /// a search of the base (every announcement while changes are
    /// recorded, every withdrawal) looks among a block's routes, not all
    /// of a full-feed peer's 750k (the binary search was 5.2% of a day's
    /// timeline, a cache miss a step).
    index: Vec<u32>,
}

impl Base {
    /// From the routes a RIB listed, in its order: of two with one key,
    /// the later one stays (as the last message about a route does).
    fn new(mut routes: Vec<[u32; 2]>, mut paths: Vec<[u32; 3]>) -> Base {
        fn last_of_each<T: Copy, K: PartialEq>(v: &mut Vec<T>, key: impl Fn(&T) -> K) {
            let n = v.len();
            let mut w = 0;
            for i in 0..n {
                if i + 1 < n && key(&v[i]) == key(&v[i + 1]) {
                    continue;
                }
                v[w] = v[i];
                w += 1;
            }
            v.truncate(w);
        }
        routes.sort_by_key(|r| r[0]);
        last_of_each(&mut routes, |r| r[0]);
        paths.sort_by_key(|r| (r[0], r[1]));
        last_of_each(&mut paths, |r| (r[0], r[1]));
        let blocks = routes.last().map_or(0, |r| (r[0] >> Base::SHIFT) as usize + 1);
        let mut index = Vec::with_capacity(blocks + 1);
        let mut at = 0;
        for b in 0..=blocks {
            while at < routes.len() && ((routes[at][0] >> Base::SHIFT) as usize) < b {
                at += 1;
            }
            index.push(at as u32);
        }
        Base { routes, paths, index }
    }

    /// Prefix ids per block of the index: 256.
    const SHIFT: u32 = 8;

    fn get(&self, k: u64) -> Option<u32> {
        let (prefix, path) = ((k >> 32) as u32, k as u32);
        if path == 0 {
            let b = (prefix >> Base::SHIFT) as usize;
            let (lo, hi) = match (self.index.get(b), self.index.get(b + 1)) {
                (Some(&lo), Some(&hi)) => (lo as usize, hi as usize),
                _ => return None,
            };
            let block = self.routes.get(lo..hi)?;
            let i = block.binary_search_by_key(&prefix, |r| r[0]).ok()?;
            Some(block[i][1])
        } else {
            let i = self.paths.binary_search_by_key(&(prefix, path), |r| (r[0], r[1])).ok()?;
            Some(self.paths[i][2])
        }
    }

    fn is_empty(&self) -> bool {
        self.routes.is_empty() && self.paths.is_empty()
    }

    /// Its routes in key order, with `over` (sorted by key) over them.
    fn live(&self, over: Vec<(u64, u32)>) -> Live<'_> {
        Live {
            routes: &self.routes,
            paths: &self.paths,
            over,
            ri: 0,
            pi: 0,
            oi: 0,
        }
    }
}

/// The routes of one peer a RIB being read lists, in chunks of fixed size:
/// memory grows by the chunk, not by doubling a vector, and each chunk is
/// its own mapping, returned when freed (measured: a quarter-size
/// rrc00-like RIB's replay peaked at 503 MB with vectors, 469 MB so).
#[derive(Default)]
struct Chunks<T> {
    full: Vec<Vec<T>>,
    last: Vec<T>,
}

impl<T: Copy> Chunks<T> {
    const SIZE: usize = 1 << 16;

    fn push(&mut self, r: T) {
        if self.last.len() == Self::SIZE {
            self.full.push(std::mem::take(&mut self.last));
        }
        if self.last.capacity() == 0 {
            self.last.reserve_exact(Self::SIZE);
        }
        self.last.push(r);
    }

    /// One vector of every route, freeing the chunks as they are copied.
    fn take(&mut self) -> Vec<T> {
        let n = self.full.len() * Self::SIZE + self.last.len();
        let mut v = Vec::with_capacity(n);
        for c in self.full.drain(..) {
            v.extend_from_slice(&c);
        }
        v.append(&mut self.last);
        self.last = Vec::new();
        v
    }
}

/// The routes of one peer a RIB being read lists.
#[derive(Default)]
struct PendingPeer {
    routes: Chunks<[u32; 2]>,
    paths: Vec<[u32; 3]>,
}

/// The live routes of a peer in key order: its base with the updates over
/// it merged in, withdrawal markers left out.
struct Live<'a> {
    routes: &'a [[u32; 2]],
    paths: &'a [[u32; 3]],
    over: Vec<(u64, u32)>,
    ri: usize,
    pi: usize,
    oi: usize,
}

impl Iterator for Live<'_> {
    type Item = (u64, u32);

    fn next(&mut self) -> Option<(u64, u32)> {
        loop {
            let r = self.routes.get(self.ri).map(|r| (u64::from(r[0]) << 32, r[1]));
            let q = self.paths.get(self.pi).map(|r| (u64::from(r[0]) << 32 | u64::from(r[1]), r[2]));
            // The base's next route (its two vectors never share a key),
            // and whether it is an ADD-PATH one.
            let b = match (r, q) {
                (Some(r), Some(q)) if q.0 < r.0 => Some((q, true)),
                (Some(r), _) => Some((r, false)),
                (None, q) => q.map(|q| (q, true)),
            };
            let o = self.over.get(self.oi).copied();
            let (b, from_base) = match (b, o) {
                (None, None) => return None,
                (Some((b, path)), None) => (b, Some(path)),
                (None, Some(o)) => {
                    self.oi += 1;
                    (o, None)
                }
                (Some((b, path)), Some(o)) if b.0 < o.0 => (b, Some(path)),
                (Some((b, path)), Some(o)) => {
                    // An update over the base's route replaces it.
                    self.oi += 1;
                    (o, (b.0 == o.0).then_some(path))
                }
            };
            match from_base {
                Some(true) => self.pi += 1,
                Some(false) => self.ri += 1,
                None => {}
            }
            if b.1 != WITHDRAWN {
                return Some(b);
            }
        }
    }
}

/// A route key: prefix id in the high half, path id in the low half.
fn key(prefix: u32, path_id: Option<u32>) -> u64 {
    u64::from(prefix) << 32 | u64::from(path_id.unwrap_or(0))
}

#[derive(Debug)]
struct PeerState {
    /// The input it was first seen in: index into `Replay::sources`.
    source: u32,
    addr: IpAddr,
    asn: u32,
    bgp_id: Option<Ipv4Addr>,
    up: bool,
    /// Time of the last session drop: a withdrawal marker for every route.
    reset: Option<u32>,
    /// Since when a damaged record may have left its state wrong.
    uncertain: Option<u32>,
    /// The routes of the latest base.
    base: Base,
    /// Routes and withdrawal markers updates set since, over `base`.
    over: HashMap<u64, Entry, Fast>,
}

impl PeerState {
    fn live(&self) -> Live<'_> {
        let mut over: Vec<(u64, u32)> = self.over.iter().map(|(k, e)| (*k, e.origin)).collect();
        over.sort_unstable();
        self.base.live(over)
    }

    /// How many routes it has: its base's, corrected by what updates set
    /// over it (a search of the base per update, not a walk of every route).
    fn count(&self) -> usize {
        let mut n = self.base.routes.len() + self.base.paths.len();
        for (&k, e) in &self.over {
            match (self.base.get(k).is_some(), e.origin != WITHDRAWN) {
                (true, false) => n -= 1,
                (false, true) => n += 1,
                _ => {}
            }
        }
        n
    }

    /// Drop what updates set before `window`; how many routes and markers.
    fn drop_before(&mut self, window: u32) -> u64 {
        let before = self.over.len();
        self.over.retain(|_, e| e.time >= window);
        (before - self.over.len()) as u64
    }

    fn clear(&mut self) {
        self.base = Base::default();
        self.over = HashMap::default();
    }
}

/// The differences a re-base found for one peer, between the replayed
/// routes and the RIB's (counted per (prefix, path id)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerDiff {
    /// The peer's address.
    pub addr: IpAddr,
    /// The peer's AS.
    pub asn: u32,
    /// Routes the replay has and the RIB lacks.
    pub only_replay: u64,
    /// Routes the RIB has and the replay lacks.
    pub only_rib: u64,
    /// Routes both have, with another origin.
    pub other_origin: u64,
}

/// What applying one RIB dump did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rebase {
    /// The input, as [`Source::name`] gives it.
    pub file: String,
    /// The dump start: the first record's timestamp.
    pub dump_start: u32,
    /// Whether a base existed before (a re-base): only then are
    /// differences counted.
    pub rebase: bool,
    /// Per peer with at least one difference, in peer order.
    pub diffs: Vec<PeerDiff>,
    /// Replayed routes and withdrawal markers kept over the RIB's by the
    /// 60 s rule.
    pub kept_newer: u64,
    /// Peers of the RIB's list whose session drop at or after the dump's
    /// start minus 60 s kept the RIB's routes out.
    pub kept_down: Vec<(IpAddr, u32)>,
    /// Peers with routes in the replay that the RIB does not list: they
    /// keep their replayed state.
    pub missing_peers: Vec<(IpAddr, u32)>,
}

/// What a [`Replay`] did with its inputs.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ReplayReport {
    /// The decoding of all inputs: records by type, errors, warnings.
    pub decode: Report,
    /// RIB entries read into bases.
    pub rib_entries: u64,
    /// Announcements applied.
    pub announcements: u64,
    /// Withdrawals applied (those of nothing included).
    pub withdrawals: u64,
    /// Withdrawals with no route to remove.
    pub withdrawn_nothing: u64,
    /// BGP4MP `*_LOCAL` records ignored.
    pub local_ignored: u64,
    /// Updates and state changes timestamped before the base's dump start
    /// minus 60 s, not applied; and, at the first base, the routes and
    /// withdrawal markers that updates applied before it (inputs given
    /// before the RIB) had set before its window, undone.
    pub before_base: u64,
    /// Updates, state changes and RIB entries after the instant asked for
    /// ([`Replay::apply_until`]), not applied.
    pub after_until: u64,
    /// Sessions that left Established (each dropped the peer's routes).
    pub sessions_down: u64,
    /// Peers marked down that an UPDATE brought back up.
    pub up_by_update: u64,
    /// One entry per RIB dump applied, in order.
    pub bases: Vec<Rebase>,
    /// The damaged records met at or before the instant, in order (the
    /// first [`MAX_DAMAGED`]; `damaged_records` counts them all).
    pub damaged: Vec<Damaged>,
    /// Damaged records met, all of them.
    pub damaged_records: u64,
}

/// How many [`Damaged`] entries a [`ReplayReport`] keeps.
pub const MAX_DAMAGED: usize = 1000;

/// A damaged record met by the replay: the state of the peers it may have
/// concerned is uncertain from its time on, until a RIB dump listing them
/// re-bases it ([`Replay::uncertain`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damaged {
    /// The input, as [`Source::name`] gives it.
    pub file: String,
    /// Byte offset of the damage in the (decompressed) input.
    pub offset: u64,
    /// Zero-based index of the record, when it was framed.
    pub record: Option<u64>,
    /// The record's timestamp, else that of the last record before it.
    pub time: u32,
    /// The peer (address, AS) of the record; `None` when it cannot be
    /// told (a framing error, a RIB record): any peer.
    pub peer: Option<(IpAddr, u32)>,
    /// What was wrong.
    pub error: String,
}

/// Why the state of a (peer, prefix, path id) changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cause {
    /// An announcement (new route or new origin).
    Announce,
    /// A withdrawal.
    Withdraw,
    /// The session left Established: every route of the peer dropped.
    SessionDown,
    /// The session came (back) to Established: the peer starts empty.
    SessionUp,
    /// A RIB dump re-based the peer's state.
    Rebase,
}

/// One change of the state: the route of a peer for a prefix (and path
/// id) appeared, vanished or changed origin ([`Replay::record_changes`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The time of the message (of the dump start for [`Cause::Rebase`]).
    pub time: u32,
    /// The peer's address.
    pub peer_addr: IpAddr,
    /// The peer's AS.
    pub peer_asn: u32,
    /// The prefix.
    pub prefix: Prefix,
    /// The ADD-PATH path id (`None` for 0 and sessions without).
    pub path_id: Option<u32>,
    /// The origin before, `None` when the peer had no route.
    pub old: Option<Origin>,
    /// The origin after, `None` when the route is gone.
    pub new: Option<Origin>,
    /// Why.
    pub cause: Cause,
}

/// A [`Change`] by the replay's ids ([`Replay::drain_change_ids`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangeIds {
    /// The time of the message (of the dump start for [`Cause::Rebase`]).
    pub time: u32,
    /// The peer id ([`Replay::peer_of`]).
    pub peer: u32,
    /// The prefix id ([`Replay::prefix_of`]).
    pub prefix: u32,
    /// The ADD-PATH path id (`None` for 0 and sessions without).
    pub path_id: Option<u32>,
    /// The origin id before ([`Replay::origin_of`]), `None` when the peer
    /// had no route.
    pub old: Option<u32>,
    /// The origin id after, `None` when the route is gone.
    pub new: Option<u32>,
    /// Why.
    pub cause: Cause,
}

/// Decodes inputs into a [`Replay`]'s operations on the pool, apart from
/// the replay ([`Replay::decoder`]); it knows the prefixes the replay had
/// met when it was made.
#[derive(Clone, Debug)]
pub struct Decoder {
    ids: Arc<PrefixIds>,
}

impl Decoder {
    /// Decode every record of `src`, for [`Replay::feed_decoded`]. For
    /// updates files: a RIB's operations take far more memory than the RIB.
    ///
    /// # Errors
    /// As [`Replay::apply`].
    pub fn decode(&self, src: &Source) -> Result<Decoded> {
        let mut batches = Vec::new();
        let window = 2 * rayon::current_num_threads();
        map_ordered(
            src.batches(DEFAULT_BATCH_SIZE),
            window,
            |b: &Batch| decode(b, &self.ids),
            |r| {
                batches.push(r?);
                Ok(())
            },
        )?;
        Ok(Decoded {
            name: src.name().to_string(),
            batches,
        })
    }
}

/// One batch decoded: its operations, its decode report, its largest
/// timestamp.
type DecodedBatch = (Vec<Op>, Report, Option<u32>);

/// An input decoded ahead of its turn ([`Decoder::decode`]).
#[derive(Debug)]
pub struct Decoded {
    name: String,
    batches: Vec<DecodedBatch>,
}

/// The input being read.
struct Reading {
    /// Its index in `Replay::sources`.
    index: u32,
    rib: Option<PendingRib>,
    first: Option<u32>,
    last: Option<u32>,
    /// Whether its first timestamp was seen.
    decided: bool,
    /// A RIB dump after the instant: left whole for later.
    later: bool,
    report: Report,
}

/// What [`Replay::feed`] or [`Replay::apply_until`] did with one input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Applied {
    /// The first record's timestamp.
    pub first: Option<u32>,
    /// The largest record timestamp.
    pub last: Option<u32>,
    /// Whether it held a RIB dump (a base).
    pub rib: bool,
    /// A RIB dump whose start is after the instant: nothing of it was
    /// applied; feed it again for a later instant.
    pub later: bool,
}

/// What a batch of records says, in the replay's terms.
#[derive(Debug)]
enum Op {
    /// The first record's timestamp of a batch.
    Time(u32),
    /// A PEER_INDEX_TABLE: the peers (address, AS, BGP id) it lists.
    Table(TableOp),
    /// A RIB entry.
    Rib {
        peer: (IpAddr, u32),
        /// The entry's index in the PEER_INDEX_TABLE.
        index: Option<u16>,
        prefix: Prefix,
        /// The prefix's id, or [`NO_ID`].
        id: u32,
        path_id: Option<u32>,
        origin: Origin,
    },
    /// An announcement (`Some` origin) or a withdrawal.
    Update {
        time: u32,
        peer: (IpAddr, u32),
        prefix: Prefix,
        /// The prefix's id, or [`NO_ID`].
        id: u32,
        path_id: Option<u32>,
        origin: Option<Origin>,
    },
    /// A session state change.
    State {
        time: u32,
        peer: (IpAddr, u32),
        old: FsmState,
        new: FsmState,
    },
    /// A BGP4MP `*_LOCAL` record.
    Local,
    /// A damaged record.
    Damage {
        time: u32,
        peer: Option<(IpAddr, u32)>,
        offset: u64,
        record: Option<u64>,
        error: String,
    },
}

impl Op {
    /// The time of an update, state change or damage: what an instant
    /// holds back.
    fn time(&self) -> Option<u32> {
        match self {
            Op::Update { time, .. } | Op::State { time, .. } | Op::Damage { time, .. } => Some(*time),
            _ => None,
        }
    }
}

/// What the replay takes from a PEER_INDEX_TABLE.
#[derive(Debug)]
struct TableOp {
    collector_id: Option<Ipv4Addr>,
    view_name: String,
    peers: Vec<(IpAddr, u32, Ipv4Addr)>,
}

/// The RIB being read: its routes per peer (indexed by peer id), set in
/// place at its end.
struct PendingRib {
    start: u32,
    listed: HashSet<u32, Fast>,
    routes: Vec<PendingPeer>,
    entries: u64,
    /// The last prefix interned, and its id: a RIB record's entries share
    /// one prefix.
    last_prefix: Option<(Prefix, u32)>,
    /// The peer id of each index of the peer table in effect
    /// (`u32::MAX`: not seen yet).
    by_index: Vec<u32>,
}

/// The routing state of one collector, fed with RIB dumps and updates; see
/// the [module docs](self) for the rules it follows.
#[derive(Debug, Default)]
pub struct Replay {
    peers: Vec<PeerState>,
    peer_ids: HashMap<(IpAddr, u32), u32, Fast>,
    prefixes: Prefixes,
    origins: Interner<Origin>,
    /// Dump start of the latest base.
    base: Option<u32>,
    /// The inputs applied, in order.
    sources: Vec<SourceInfo>,
    report: ReplayReport,
    /// Updates, state changes and damage after the instant of the last
    /// [`Replay::feed`], with the input each came from, in order.
    held: Vec<(u32, Op)>,
    /// Damage of the input being read, applied at its end (after its base).
    damage: Vec<(u32, Op)>,
    /// Since when the state of every peer is uncertain (a damaged record
    /// of no known peer).
    uncertain_all: Option<u32>,
    /// The changes recorded, when asked for, by ids.
    changes: Option<Vec<ChangeIds>>,
}

impl Replay {
    /// An empty state: no peer, no route, no base.
    pub fn new() -> Replay {
        Replay::default()
    }

    /// Apply every record of `src`, in file order: a RIB dump is a base
    /// (or re-base), updates and state changes change the state. Inputs
    /// are taken in the order given: give them in time order.
    ///
    /// # Errors
    /// When the input cannot be read or holds no MRT record at all (the
    /// records read before stay applied). Damaged records are skipped and
    /// counted in [`ReplayReport::decode`].
    pub fn apply(&mut self, src: &Source) -> Result<Applied> {
        self.apply_until(src, u32::MAX)
    }

    /// [`Replay::apply`], taking only the records timestamped at or before
    /// `until` (Unix seconds); the others are counted in
    /// [`ReplayReport::after_until`] and dropped.
    ///
    /// # Errors
    /// As [`Replay::apply`].
    pub fn apply_until(&mut self, src: &Source, until: u32) -> Result<Applied> {
        self.read(src, until, false)
    }

    /// [`Replay::apply_until`], holding the records after `until` back
    /// instead of dropping them: [`Replay::advance`] applies them for a
    /// later instant. States at increasing instants are built this way
    /// without reading an input twice. A RIB dump whose start is after
    /// `until` is not applied at all ([`Applied::later`]): feed it again.
    ///
    /// Records held back are applied before those of the next input fed.
    ///
    /// # Errors
    /// As [`Replay::apply`].
    pub fn feed(&mut self, src: &Source, until: u32) -> Result<Applied> {
        self.advance(until);
        self.read(src, until, true)
    }

    /// Apply the records held back by [`Replay::feed`] that are timestamped
    /// at or before `until`, in their order; the rest stay held.
    pub fn advance(&mut self, until: u32) {
        if self.held.is_empty() {
            return;
        }
        let held = std::mem::take(&mut self.held);
        let mut rest = Vec::new();
        let mut rib = None;
        let mut first = None;
        for (src, op) in held {
            if op.time().is_some_and(|t| t > until) {
                rest.push((src, op));
            } else {
                self.op(op, src, &mut rib, &mut first, until, false);
            }
        }
        self.held = rest;
        self.report.after_until = self.held.len() as u64;
        self.flush_damage();
    }

    fn read(&mut self, src: &Source, until: u32, hold: bool) -> Result<Applied> {
        let mut st = self.start_input(src.name());
        let window = 2 * rayon::current_num_threads();
        let ids = Arc::clone(&self.prefixes.shared);
        map_ordered(
            src.batches(DEFAULT_BATCH_SIZE),
            window,
            |b: &Batch| decode(b, &ids),
            |r| {
                self.take_batch(&mut st, r?, until, hold);
                Ok(())
            },
        )?;
        self.finish_input(st, src.name(), hold)
    }

    /// A decoder of inputs for this replay, to decode them side by side
    /// while others are applied ([`Decoder::decode`], then
    /// [`Replay::feed_decoded`]).
    pub fn decoder(&self) -> Decoder {
        Decoder {
            ids: Arc::clone(&self.prefixes.shared),
        }
    }

    /// [`Replay::feed`] of an input decoded by [`Decoder::decode`].
    ///
    /// # Errors
    /// When the input holds no MRT record at all.
    pub fn feed_decoded(&mut self, input: Decoded, until: u32) -> Result<Applied> {
        self.advance(until);
        let mut st = self.start_input(&input.name);
        for batch in input.batches {
            self.take_batch(&mut st, batch, until, true);
        }
        self.finish_input(st, &input.name, true)
    }

    fn start_input(&mut self, name: &str) -> Reading {
        // Peers first seen in this input name it as their source.
        self.sources.push(SourceInfo {
            file: name.to_string(),
            ..SourceInfo::default()
        });
        Reading {
            index: (self.sources.len() - 1) as u32,
            rib: None,
            first: None,
            last: None,
            decided: false,
            later: false,
            report: Report::default(),
        }
    }

    fn take_batch(&mut self, st: &mut Reading, (ops, rep, max): DecodedBatch, until: u32, hold: bool) {
        st.report.merge(rep);
        st.last = st.last.max(max);
        for op in ops {
            if let (Op::Time(t), false) = (&op, st.decided) {
                // A RIB dump that starts after the instant waits whole.
                st.decided = true;
                st.later = hold && *t > until;
            }
            if !(st.later && matches!(op, Op::Table(_) | Op::Rib { .. })) {
                self.op(op, st.index, &mut st.rib, &mut st.first, until, hold);
            }
        }
    }

    fn finish_input(&mut self, st: Reading, name: &str, hold: bool) -> Result<Applied> {
        let Reading {
            index,
            rib,
            first,
            last,
            later,
            report: decode_report,
            ..
        } = st;
        if let Some(e) = decode_report.not_mrt() {
            self.sources.pop();
            return Err(e);
        }
        let is_rib = rib.is_some() || decode_report.records.keys().any(|&(t, s)| crate::mrt::header::is_rib(t, s));
        if later && is_rib {
            self.sources.pop();
            self.held.retain(|(s, _)| *s != index);
            self.report.after_until = self.held.len() as u64;
            return Ok(Applied {
                first,
                last,
                rib: true,
                later: true,
            });
        }
        if let Some(info) = self.sources.last_mut() {
            info.dump_time = first;
            info.collector = collector_from_path(name)
                .or_else(|| info.collector_id.map(|c| c.to_string()))
                .unwrap_or_else(|| "unknown".to_string());
            info.stats = DecodeStats {
                records: decode_report.total_records(),
                rib_records: decode_report
                    .records
                    .iter()
                    .filter(|((t, s), _)| crate::mrt::header::is_rib(*t, *s))
                    .map(|(_, n)| n)
                    .sum(),
                rib_entries: rib.as_ref().map_or(0, |r| r.entries),
                errors: decode_report.errors.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                warnings: decode_report.warnings.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            };
        }
        self.report.decode.merge(decode_report);
        if let Some(rib) = rib {
            self.rebase(name, rib);
            self.prefixes.share(1);
        }
        // Updates alone: shared once they are a good part of the table.
        self.prefixes.share(65_536.max(self.prefixes.shared.len() / 8));
        self.flush_damage();
        if hold {
            self.report.after_until = self.held.len() as u64;
        }
        Ok(Applied {
            first,
            last,
            rib: is_rib,
            later: false,
        })
    }

    /// What the replay did so far.
    pub fn report(&self) -> &ReplayReport {
        &self.report
    }

    /// Routes in the state (withdrawal markers not counted).
    pub fn routes(&self) -> usize {
        self.peers.iter().map(PeerState::count).sum()
    }

    /// The dump start of the latest base, if any.
    pub fn base(&self) -> Option<u32> {
        self.base
    }

    /// The peers (address, AS) whose state a damaged record may have left
    /// wrong, each with the time from which it is uncertain; `None` for
    /// every peer. A RIB dump listing a peer makes it certain again.
    pub fn uncertain(&self) -> Vec<(Option<(IpAddr, u32)>, u32)> {
        let mut out: Vec<_> = self.uncertain_all.map(|t| (None, t)).into_iter().collect();
        out.extend(self.peers.iter().filter_map(|p| Some((Some((p.addr, p.asn)), p.uncertain?))));
        out
    }

    /// Record every change of the state from now on, for
    /// [`Replay::drain_changes`]: a route of a peer appearing, vanishing
    /// or changing origin, with its time and cause. The routes the first
    /// base sets are the initial state, not changes: read them with
    /// [`Replay::snapshot`]. Announcements that keep the origin are not
    /// changes.
    pub fn record_changes(&mut self, on: bool) {
        if on {
            self.changes.get_or_insert_with(Vec::new);
        } else {
            self.changes = None;
        }
    }

    /// The changes recorded since the last call, in the order they were
    /// made (see [`Replay::record_changes`]).
    pub fn drain_changes(&mut self) -> impl Iterator<Item = Change> + '_ {
        let changes = self.changes.get_or_insert_with(Vec::new);
        let (peers, prefixes, origins) = (&self.peers, &self.prefixes.values, &self.origins.values);
        changes.drain(..).map(move |c| {
            let origin = |o: Option<u32>| o.map(|o| origins[o as usize].clone());
            let st = &peers[c.peer as usize];
            Change {
                time: c.time,
                peer_addr: st.addr,
                peer_asn: st.asn,
                prefix: prefixes[c.prefix as usize],
                path_id: c.path_id,
                old: origin(c.old),
                new: origin(c.new),
                cause: c.cause,
            }
        })
    }

    /// [`Replay::drain_changes`] by ids: peers, prefixes and origins as
    /// the replay numbers them ([`Replay::peer_of`], [`Replay::prefix_of`],
    /// [`Replay::origin_of`]); nothing is cloned.
    pub fn drain_change_ids(&mut self) -> std::vec::Drain<'_, ChangeIds> {
        self.changes.get_or_insert_with(Vec::new).drain(..)
    }

    /// The peer (address, AS) of a peer id.
    pub fn peer_of(&self, id: u32) -> Option<(IpAddr, u32)> {
        self.peers.get(id as usize).map(|p| (p.addr, p.asn))
    }

    /// How many prefixes the replay has met (prefix ids are below it).
    pub fn prefixes_met(&self) -> usize {
        self.prefixes.values.len()
    }

    /// The prefix of a prefix id.
    pub fn prefix_of(&self, id: u32) -> Option<Prefix> {
        self.prefixes.values.get(id as usize).copied()
    }

    /// The origin of an origin id.
    pub fn origin_of(&self, id: u32) -> Option<&Origin> {
        self.origins.values.get(id as usize)
    }

    /// Every route of the state by ids, peer by peer (in the order first
    /// seen), each peer's in prefix-id order: (peer id, prefix id, path id
    /// (0: none), origin id). The state a consumer of
    /// [`Replay::drain_change_ids`] starts from (ADD-PATH paths one by one).
    pub fn state_route_ids(&self) -> impl Iterator<Item = [u32; 4]> + '_ {
        self.peers
            .iter()
            .enumerate()
            .flat_map(|(p, st)| st.live().map(move |(k, o)| [p as u32, (k >> 32) as u32, k as u32, o]))
    }

    fn change(&mut self, time: u32, p: u32, k: u64, old: u32, new: u32, cause: Cause) {
        let Some(changes) = self.changes.as_mut() else { return };
        let id = |o: u32| (o != WITHDRAWN).then_some(o);
        changes.push(ChangeIds {
            time,
            peer: p,
            prefix: (k >> 32) as u32,
            path_id: (k as u32 != 0).then_some(k as u32),
            old: id(old),
            new: id(new),
            cause,
        });
    }

    fn peer(&mut self, (addr, asn): (IpAddr, u32), source: u32) -> u32 {
        let next = self.peers.len() as u32;
        let id = *self.peer_ids.entry((addr, asn)).or_insert(next);
        if id == next {
            self.peers.push(PeerState {
                source,
                addr,
                asn,
                bgp_id: None,
                up: true,
                reset: None,
                uncertain: None,
                base: Base::default(),
                over: HashMap::default(),
            });
        }
        id
    }

    /// Whether a message timestamped `time` is applied: at or before
    /// `until`, and not before the base's 60 s window (counted otherwise).
    fn admit(&mut self, time: u32, until: u32) -> bool {
        if time > until {
            self.report.after_until += 1;
            return false;
        }
        if self.base.is_some_and(|b| time < b.saturating_sub(DUMP_LAG)) {
            self.report.before_base += 1;
            return false;
        }
        true
    }

    /// Drop every route of peer `p` at `time`.
    fn drop_routes(&mut self, p: u32, time: u32, cause: Cause) {
        if self.changes.is_some() {
            let live: Vec<(u64, u32)> = self.peers[p as usize].live().collect();
            for (k, o) in live {
                self.change(time, p, k, o, WITHDRAWN, cause);
            }
        }
        let st = &mut self.peers[p as usize];
        st.clear();
        st.reset = Some(time);
    }

    fn op(&mut self, op: Op, source: u32, rib: &mut Option<PendingRib>, first: &mut Option<u32>, until: u32, hold: bool) {
        // Held back: what comes after the instant, and the updates and
        // state changes after one held (file order); damage by its time.
        let damage = matches!(op, Op::Damage { .. });
        if hold && op.time().is_some_and(|t| t > until || (!damage && !self.held.is_empty())) {
            self.held.push((source, op));
            return;
        }
        match op {
            Op::Time(t) => {
                first.get_or_insert(t);
            }
            Op::Table(_) | Op::Rib { .. } if first.is_some_and(|t| t > until) => {
                self.report.after_until += u64::from(matches!(op, Op::Rib { .. }));
            }
            Op::Table(peers) => {
                if let Some(info) = self.sources.last_mut().filter(|i| i.collector_id.is_none()) {
                    info.collector_id = peers.collector_id;
                    info.view_name = peers.view_name;
                }
                let pending = pending(rib, *first);
                pending.by_index.clear();
                for (addr, asn, bgp_id) in peers.peers {
                    let p = self.peer((addr, asn), source);
                    self.peers[p as usize].bgp_id = Some(bgp_id);
                    pending.listed.insert(p);
                }
            }
            Op::Rib {
                peer,
                index,
                prefix,
                id: known,
                path_id,
                origin,
            } => {
                // The peers of a table's indices, found once (measured: the
                // peer's hash lookup was 5.5% of a RIB's replay).
                let cached = index.and_then(|i| pending(rib, *first).by_index.get(usize::from(i)).copied());
                let p = match cached.filter(|&p| p != u32::MAX) {
                    Some(p) => p,
                    None => {
                        let p = self.peer(peer, source);
                        if let Some(i) = index.map(usize::from) {
                            let by_index = &mut pending(rib, *first).by_index;
                            if by_index.len() <= i {
                                by_index.resize(i + 1, u32::MAX);
                            }
                            by_index[i] = p;
                        }
                        p
                    }
                };
                let o = self.origins.id(origin);
                let pending = pending(rib, *first);
                let id = match pending.last_prefix {
                    Some((last, id)) if last == prefix => id,
                    _ => {
                        let id = self.prefixes.id(prefix, known);
                        pending.last_prefix = Some((prefix, id));
                        id
                    }
                };
                pending.listed.insert(p);
                if pending.routes.len() <= p as usize {
                    pending.routes.resize_with(p as usize + 1, PendingPeer::default);
                }
                let peer = &mut pending.routes[p as usize];
                match path_id.filter(|&id| id != 0) {
                    None => peer.routes.push([id, o]),
                    Some(path) => peer.paths.push([id, path, o]),
                }
                pending.entries += 1;
            }
            Op::Update {
                time,
                peer,
                prefix,
                id,
                path_id,
                origin,
            } => {
                if !self.admit(time, until) {
                    return;
                }
                let p = self.peer(peer, source);
                let k = key(self.prefixes.id(prefix, id), path_id);
                let o = match origin {
                    Some(o) => {
                        self.report.announcements += 1;
                        self.origins.id(o)
                    }
                    None => {
                        self.report.withdrawals += 1;
                        WITHDRAWN
                    }
                };
                let st = &mut self.peers[p as usize];
                if !st.up {
                    st.up = true;
                    self.report.up_by_update += 1;
                }
                let entry = Entry { origin: o, time };
                // The route before: only a withdrawal (withdrawn nothing?)
                // and the change stream need it; an announcement's search
                // of the base is skipped otherwise.
                let need = o == WITHDRAWN || self.changes.is_some();
                let old = match st.over.insert(k, entry) {
                    Some(e) => e.origin,
                    None if need => st.base.get(k).unwrap_or(WITHDRAWN),
                    None => WITHDRAWN,
                };
                if o == WITHDRAWN && old == WITHDRAWN {
                    self.report.withdrawn_nothing += 1;
                }
                if old != o {
                    let cause = if o == WITHDRAWN { Cause::Withdraw } else { Cause::Announce };
                    self.change(time, p, k, old, o, cause);
                }
            }
            Op::State { time, peer, old, new } => {
                if !self.admit(time, until) {
                    return;
                }
                let p = self.peer(peer, source);
                let established = new == FsmState::Established;
                if old == FsmState::Established && !established {
                    self.report.sessions_down += 1;
                    self.drop_routes(p, time, Cause::SessionDown);
                    self.peers[p as usize].up = false;
                } else if established && old != FsmState::Established {
                    self.drop_routes(p, time, Cause::SessionUp);
                    self.peers[p as usize].up = true;
                }
            }
            Op::Local => self.report.local_ignored += 1,
            op @ Op::Damage { .. } => {
                // Applied at the input's end, after the base it may hold.
                if op.time().is_some_and(|t| t <= until) {
                    self.damage.push((source, op));
                }
            }
        }
    }

    /// Note the damage of the input just read: the peers it may concern
    /// become uncertain.
    fn flush_damage(&mut self) {
        for (source, op) in std::mem::take(&mut self.damage) {
            let Op::Damage {
                time,
                peer,
                offset,
                record,
                error,
            } = op
            else {
                continue;
            };
            self.report.damaged_records += 1;
            match peer {
                Some(peer) => {
                    let p = self.peer(peer, source);
                    self.peers[p as usize].uncertain.get_or_insert(time);
                }
                None => {
                    self.uncertain_all.get_or_insert(time);
                }
            }
            if self.report.damaged.len() < MAX_DAMAGED {
                let file = self.sources.get(source as usize).map(|s| s.file.clone()).unwrap_or_default();
                self.report.damaged.push(Damaged {
                    file,
                    offset,
                    record,
                    time,
                    peer,
                    error,
                });
            }
        }
    }

    /// Set the state of the peers `rib` lists, by the rules of the module
    /// docs.
    fn rebase(&mut self, file: &str, mut rib: PendingRib) {
        let start = rib.start;
        let window = start.saturating_sub(DUMP_LAG);
        let mut info = Rebase {
            file: file.to_string(),
            dump_start: start,
            rebase: self.base.is_some(),
            ..Rebase::default()
        };
        self.report.rib_entries += rib.entries;
        // Changes are recorded from the second base on: the first one's
        // routes are the initial state.
        let record = self.changes.is_some() && self.base.is_some();
        let mut changes = Vec::new();
        for (p, st) in self.peers.iter_mut().enumerate() {
            let p = p as u32;
            if !rib.listed.contains(&p) {
                if !info.rebase {
                    // The first base: what updates before its window set
                    // is not applied, for the peers it lists or not.
                    self.report.before_base += st.drop_before(window);
                    if st.reset.is_some_and(|r| r < window) {
                        st.reset = None;
                        st.up = true;
                    }
                } else if st.count() > 0 {
                    info.missing_peers.push((st.addr, st.asn));
                }
                continue;
            }
            let rib_routes = match rib.routes.get_mut(p as usize) {
                Some(peer) => Base::new(peer.routes.take(), std::mem::take(&mut peer.paths)),
                None => Base::default(),
            };
            let before: Vec<(u64, u32)> = if info.rebase || record { st.live().collect() } else { Vec::new() };
            if info.rebase {
                let mut d = PeerDiff {
                    addr: st.addr,
                    asn: st.asn,
                    only_replay: 0,
                    only_rib: 0,
                    other_origin: 0,
                };
                for (_, old, new) in differences(before.iter().copied(), rib_routes.live(Vec::new())) {
                    match (old, new) {
                        (WITHDRAWN, _) => d.only_rib += 1,
                        (_, WITHDRAWN) => d.only_replay += 1,
                        _ => d.other_origin += 1,
                    }
                }
                if d.only_replay + d.only_rib + d.other_origin > 0 {
                    info.diffs.push(d);
                }
            }
            st.uncertain = None;
            let dropped = st.drop_before(window);
            if !info.rebase {
                self.report.before_base += dropped;
            }
            info.kept_newer += st.over.len() as u64;
            if st.reset.is_some_and(|r| r >= window) {
                info.kept_down.push((st.addr, st.asn));
                st.base = Base::default();
            } else {
                st.reset = None;
                if !rib_routes.is_empty() {
                    st.up = true;
                }
                st.base = rib_routes;
            }
            if record {
                changes.extend(differences(before.into_iter(), st.live()).map(|(k, o, n)| (p, k, o, n)));
            }
        }
        // Damage of no known peer stays with the peers the dump left out.
        if let Some(t) = self.uncertain_all.take() {
            for (p, st) in self.peers.iter_mut().enumerate() {
                if !rib.listed.contains(&(p as u32)) {
                    st.uncertain.get_or_insert(t);
                }
            }
        }
        for (p, k, old, new) in changes {
            self.change(start, p, k, old, new, Cause::Rebase);
        }
        self.base = Some(start);
        self.report.bases.push(info);
    }

    /// The state as a snapshot: one row per (prefix, origin) with the peers
    /// carrying it, every peer the replay knows in the peer table (in the
    /// order first seen, each naming the input it was first seen in), with
    /// its prefix counts and full-feed flags ([`FullFeed::default`]), and
    /// one [`SourceInfo`] per input applied (its dump time the input's
    /// first record's timestamp).
    ///
    /// # Errors
    /// None in practice: the rows are built from the replay's own peers.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let mut counts = Vec::with_capacity(self.peers.len());
        for st in &self.peers {
            let (mut v4, mut v6, mut last) = (0u64, 0u64, None);
            for (k, _) in st.live() {
                let prefix = (k >> 32) as u32;
                if last != Some(prefix) {
                    last = Some(prefix);
                    if self.prefixes.values[prefix as usize].is_v6() {
                        v6 += 1;
                    } else {
                        v4 += 1;
                    }
                }
            }
            counts.push((v4, v6));
        }
        let max4 = counts.iter().map(|c| c.0).max().unwrap_or(0);
        let max6 = counts.iter().map(|c| c.1).max().unwrap_or(0);
        let rule = FullFeed::default();
        let peers = self
            .peers
            .iter()
            .zip(&counts)
            .map(|(st, &(v4, v6))| PeerInfo {
                source: st.source,
                index: None,
                bgp_id: st.bgp_id,
                addr: Some(st.addr),
                asn: Some(st.asn),
                ipv4_prefixes: v4,
                ipv6_prefixes: v6,
                full_feed_ipv4: rule.is_full(false, v4, max4),
                full_feed_ipv6: rule.is_full(true, v6, max6),
            })
            .collect();
        // The peers' routes gathered a block of prefix ids at a time (each
        // peer's routes are in key order) and put in prefix order by a
        // counting sort that keeps the peers' order: no table of all
        // routes, and no comparison per route. Measured on a quarter-size
        // rrc00-like state (13.2M routes, 313k rows): a heap over the
        // peers took 0.76-1.0 s a snapshot, the blocks 0.36-0.42 s.
        const BLOCK: usize = 1 << 14;
        let n = self.prefixes.values.len();
        let mut lives: Vec<std::iter::Peekable<Live<'_>>> = self.peers.iter().map(|p| p.live().peekable()).collect();
        // (prefix offset in the block, origin id, peer) as gathered, then
        // (origin id, peer) in prefix order.
        let mut block: Vec<(u32, u32, u32)> = Vec::new();
        let mut sorted: Vec<(u32, u32)> = Vec::new();
        let mut starts = vec![0u32; BLOCK + 1];
        let mut at = vec![0u32; BLOCK + 1];
        let mut ready: std::collections::VecDeque<(Prefix, Origin, Vec<u32>)> = Default::default();
        let mut lo = 0;
        let rows = std::iter::from_fn(move || loop {
            if let Some(row) = ready.pop_front() {
                return Some(row);
            }
            if lo >= n {
                return None;
            }
            let hi = (lo + BLOCK).min(n);
            block.clear();
            for (p, live) in lives.iter_mut().enumerate() {
                while let Some((k, o)) = live.next_if(|&(k, _)| ((k >> 32) as usize) < hi) {
                    block.push(((k >> 32) as u32 - lo as u32, o, p as u32));
                }
            }
            starts.fill(0);
            for e in &block {
                starts[e.0 as usize + 1] += 1;
            }
            for i in 1..starts.len() {
                starts[i] += starts[i - 1];
            }
            sorted.clear();
            sorted.resize(block.len(), (0, 0));
            at.copy_from_slice(&starts);
            for &(off, o, p) in &block {
                sorted[at[off as usize] as usize] = (o, p);
                at[off as usize] += 1;
            }
            for off in 0..hi - lo {
                let group = &mut sorted[starts[off] as usize..starts[off + 1] as usize];
                if group.is_empty() {
                    continue;
                }
                let prefix = self.prefixes.values[lo + off];
                // One origin and peers strictly increasing (no ADD-PATH
                // repeats): the row as it is, the common case.
                if group.windows(2).all(|w| w[0].0 == w[1].0 && w[0].1 < w[1].1) {
                    let origin = self.origins.values[group[0].0 as usize].clone();
                    ready.push_back((prefix, origin, group.iter().map(|r| r.1).collect()));
                    continue;
                }
                group.sort_unstable();
                for run in group.chunk_by(|a, b| a.0 == b.0) {
                    // ADD-PATH: several paths of one peer with one origin count once.
                    let mut ids: Vec<u32> = run.iter().map(|r| r.1).collect();
                    ids.dedup();
                    ready.push_back((prefix, self.origins.values[run[0].0 as usize].clone(), ids));
                }
            }
            lo = hi;
        });
        Snapshot::from_parts(self.sources.clone(), peers, rule, rows)
    }
}

/// The keys whose origin differs between two sorted live lists, with the
/// origin before and after ([`WITHDRAWN`] for none).
fn differences(a: impl Iterator<Item = (u64, u32)>, b: impl Iterator<Item = (u64, u32)>) -> impl Iterator<Item = (u64, u32, u32)> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || loop {
        let next = match (a.peek().copied(), b.peek().copied()) {
            (None, None) => return None,
            (Some(x), Some(y)) if x.0 == y.0 => {
                a.next();
                b.next();
                (x.0, x.1, y.1)
            }
            (Some(x), None) => {
                a.next();
                (x.0, x.1, WITHDRAWN)
            }
            (Some(x), Some(y)) if x.0 < y.0 => {
                a.next();
                (x.0, x.1, WITHDRAWN)
            }
            (_, Some(y)) => {
                b.next();
                (y.0, WITHDRAWN, y.1)
            }
        };
        if next.1 != next.2 {
            return Some(next);
        }
    })
}

/// The RIB being read, started at the input's first record time.
fn pending(rib: &mut Option<PendingRib>, first: Option<u32>) -> &mut PendingRib {
    rib.get_or_insert_with(|| PendingRib {
        start: first.unwrap_or(0),
        listed: HashSet::default(),
        routes: Vec::new(),
        entries: 0,
        last_prefix: None,
        by_index: Vec::new(),
    })
}

/// Decode one batch into the replay's operations, on a pool worker.
fn decode(batch: &Batch, ids: &PrefixIds) -> Result<DecodedBatch> {
    let mut out = Vec::new();
    let mut report = Report::default();
    let mut damage = RecordDamage::new(false);
    let (mut multicast, mut multicast_updates) = (0, 0);
    // The damaged records, and the last good time for those without one.
    let damaged: RefCell<Vec<Op>> = RefCell::new(Vec::new());
    let last: Cell<Option<u32>> = Cell::new(None);
    let note = |e: &Error, raw: Option<&RawRecord<'_>>, peer: Option<(IpAddr, u32)>| {
        let time = raw.map(|r| r.header.timestamp).or(last.get()).unwrap_or(0);
        let peer = peer.or_else(|| {
            let raw = raw?;
            if !matches!(raw.header.mrt_type, 16 | 17) {
                return None;
            }
            let p = Bgp4mp::peering_of(raw.header.subtype, raw.body)?;
            Some((p.peer_ip, p.peer_as))
        });
        damaged.borrow_mut().push(Op::Damage {
            time,
            peer,
            offset: e.offset(),
            record: raw.map(|r| r.index).or(e.record()),
            error: e.to_string(),
        });
    };
    let walk = walk_records(
        batch,
        &mut report,
        false,
        |raw, rec, peers| {
            let time = raw.header.timestamp;
            last.set(Some(last.get().map_or(time, |l| l.max(time))));
            if out.is_empty() {
                out.push(Op::Time(time));
            }
            let state = |peer, body: &Bgp4mpBody<'_>| match *body {
                Bgp4mpBody::StateChange { old, new } => Some(Op::State { time, peer, old, new }),
                _ => None,
            };
            let mut from = None;
            match rec {
                Record::PeerIndexTable(t) => {
                    out.push(Op::Table(TableOp {
                        collector_id: t.collector_id,
                        view_name: t.view_name.clone(),
                        peers: t.peers.iter().map(|e| (e.addr, e.asn, e.bgp_id)).collect(),
                    }));
                    return;
                }
                Record::Bgp4mp(m) if Bgp4mp::is_local(m.subtype) => {
                    out.push(Op::Local);
                    return;
                }
                // Unicast only, as in a RIB snapshot.
                Record::Rib(rib) if rib.safi != 1 => {
                    multicast += 1;
                    return;
                }
                Record::Bgp4mp(Bgp4mp {
                    body: Bgp4mpBody::Entry(e),
                    ..
                }) if e.safi != 1 => {
                    multicast += 1;
                    return;
                }
                Record::Bgp4mp(m) => {
                    from = Some((m.peering.peer_ip, m.peering.peer_as));
                    out.extend(state((m.peering.peer_ip, m.peering.peer_as), &m.body));
                }
                Record::LegacyBgp(l) => {
                    from = Some((IpAddr::V4(l.peer_ip), l.peer_as));
                    out.extend(state((IpAddr::V4(l.peer_ip), l.peer_as), &l.body));
                }
                _ => {}
            }
            let mut routes = routes_of(raw, rec, peers);
            while let Some(r) = routes.next() {
                let peer = (r.peer.addr, r.peer.asn);
                let (prefix, path_id) = (r.prefix, r.path_id);
                if r.kind != RouteKind::RibEntry && routes.update_safi() != 1 {
                    multicast_updates += 1;
                    continue;
                }
                out.push(match r.kind {
                    RouteKind::RibEntry => Op::Rib {
                        peer,
                        index: r.peer.index,
                        prefix,
                        id: ids.get(&prefix).unwrap_or(NO_ID),
                        path_id,
                        origin: Origin::from(r.origin_as()),
                    },
                    RouteKind::Announce => Op::Update {
                        time,
                        peer,
                        prefix,
                        id: ids.get(&prefix).unwrap_or(NO_ID),
                        path_id,
                        origin: Some(Origin::from(r.origin_as())),
                    },
                    RouteKind::Withdraw => Op::Update {
                        time,
                        peer,
                        prefix,
                        id: ids.get(&prefix).unwrap_or(NO_ID),
                        path_id,
                        origin: None,
                    },
                });
            }
            let e = routes.take_error();
            if let Some(e) = &e {
                note(e, Some(raw), from);
            }
            damage.note(e);
        },
        |e, raw| note(e, raw, None),
    );
    if multicast > 0 {
        report.warn("rib-multicast-skipped", multicast);
    }
    if multicast_updates > 0 {
        report.warn("update-multicast-skipped", multicast_updates);
    }
    damage.finish(walk, &mut report)?;
    out.append(&mut damaged.into_inner());
    Ok((out, report, last.get()))
}
