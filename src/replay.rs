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
//!   inputs of one collector, in time order.
//!
//! # Memory
//!
//! Peers are small indices, prefixes and origins are interned (a `Vec` and
//! a hash map each), and a route is a 64-bit key (prefix id, path id) with
//! 12 bytes of value in its peer's hash table.
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

use crate::bgp::{Origin, Prefix};
use crate::error::Result;
use crate::mrt::{Bgp4mp, Bgp4mpBody, FsmState, Record};
use crate::pipeline::{for_each_record, map_ordered, RecordDamage};
use crate::report::Report;
use crate::routes::{routes_of, RouteKind};
use crate::snapshot::{collector_from_path, DecodeStats, FullFeed, PeerInfo, Snapshot, SourceInfo};
use crate::source::{Batch, Source, DEFAULT_BATCH_SIZE};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::{IpAddr, Ipv4Addr};

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
struct IdHasher(u64);

impl IdHasher {
    #[inline]
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
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

type Fast = BuildHasherDefault<IdHasher>;

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

/// One route of a peer: origin id (or [`WITHDRAWN`]), the time of the last
/// message about it, and whether that message was an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    origin: u32,
    time: u32,
    update: bool,
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
    routes: HashMap<u64, Entry, Fast>,
}

impl PeerState {
    fn live(&self) -> impl Iterator<Item = (&u64, &Entry)> {
        self.routes.iter().filter(|(_, e)| e.origin != WITHDRAWN)
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
    /// minus 60 s, not applied.
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
}

/// What a batch of records says, in the replay's terms.
enum Op {
    /// The first record's timestamp of a batch.
    Time(u32),
    /// A PEER_INDEX_TABLE: the peers (address, AS, BGP id) it lists.
    Table(TableOp),
    /// A RIB entry.
    Rib {
        peer: (IpAddr, u32),
        prefix: Prefix,
        path_id: Option<u32>,
        origin: Origin,
    },
    /// An announcement (`Some` origin) or a withdrawal.
    Update {
        time: u32,
        peer: (IpAddr, u32),
        prefix: Prefix,
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
}

/// What the replay takes from a PEER_INDEX_TABLE.
struct TableOp {
    collector_id: Option<Ipv4Addr>,
    view_name: String,
    peers: Vec<(IpAddr, u32, Ipv4Addr)>,
}

/// The RIB being read: its routes per peer, set in place at its end.
struct PendingRib {
    start: u32,
    listed: HashSet<u32, Fast>,
    routes: HashMap<u32, HashMap<u64, u32, Fast>, Fast>,
    entries: u64,
}

/// The routing state of one collector, fed with RIB dumps and updates; see
/// the [module docs](self) for the rules it follows.
#[derive(Debug, Default)]
pub struct Replay {
    peers: Vec<PeerState>,
    peer_ids: HashMap<(IpAddr, u32), u32, Fast>,
    prefixes: Interner<Prefix>,
    origins: Interner<Origin>,
    /// Dump start of the latest base.
    base: Option<u32>,
    /// The inputs applied, in order.
    sources: Vec<SourceInfo>,
    report: ReplayReport,
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
    pub fn apply(&mut self, src: &Source) -> Result<()> {
        self.apply_until(src, u32::MAX)
    }

    /// [`Replay::apply`], taking only the records timestamped at or before
    /// `until` (Unix seconds); the others are counted in
    /// [`ReplayReport::after_until`].
    ///
    /// # Errors
    /// As [`Replay::apply`].
    pub fn apply_until(&mut self, src: &Source, until: u32) -> Result<()> {
        let mut rib: Option<PendingRib> = None;
        let mut first: Option<u32> = None;
        let mut decode_report = Report::default();
        // Peers first seen in this input name it as their source.
        self.sources.push(SourceInfo {
            file: src.name().to_string(),
            ..SourceInfo::default()
        });
        let window = 2 * rayon::current_num_threads();
        map_ordered(src.batches(DEFAULT_BATCH_SIZE), window, decode, |r| {
            let (ops, rep) = r?;
            decode_report.merge(rep);
            for op in ops {
                self.op(op, &mut rib, &mut first, until);
            }
            Ok(())
        })?;
        if let Some(e) = decode_report.not_mrt() {
            return Err(e);
        }
        if let Some(info) = self.sources.last_mut() {
            info.dump_time = first;
            info.collector = collector_from_path(src.name())
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
            self.rebase(src.name(), rib);
        }
        Ok(())
    }

    /// What the replay did so far.
    pub fn report(&self) -> &ReplayReport {
        &self.report
    }

    /// Routes in the state (withdrawal markers not counted).
    pub fn routes(&self) -> usize {
        self.peers.iter().map(|p| p.live().count()).sum()
    }

    /// The dump start of the latest base, if any.
    pub fn base(&self) -> Option<u32> {
        self.base
    }

    fn peer(&mut self, (addr, asn): (IpAddr, u32)) -> u32 {
        let next = self.peers.len() as u32;
        let id = *self.peer_ids.entry((addr, asn)).or_insert(next);
        if id == next {
            self.peers.push(PeerState {
                source: self.sources.len().saturating_sub(1) as u32,
                addr,
                asn,
                bgp_id: None,
                up: true,
                reset: None,
                routes: HashMap::default(),
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

    fn op(&mut self, op: Op, rib: &mut Option<PendingRib>, first: &mut Option<u32>, until: u32) {
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
                let peers = peers.peers;
                let pending = pending(rib, *first);
                for (addr, asn, bgp_id) in peers {
                    let p = self.peer((addr, asn));
                    self.peers[p as usize].bgp_id = Some(bgp_id);
                    pending.listed.insert(p);
                }
            }
            Op::Rib {
                peer,
                prefix,
                path_id,
                origin,
            } => {
                let p = self.peer(peer);
                let k = key(self.prefixes.id(prefix), path_id);
                let o = self.origins.id(origin);
                let pending = pending(rib, *first);
                pending.listed.insert(p);
                pending.routes.entry(p).or_default().insert(k, o);
                pending.entries += 1;
            }
            Op::Update {
                time,
                peer,
                prefix,
                path_id,
                origin,
            } => {
                if !self.admit(time, until) {
                    return;
                }
                let p = self.peer(peer);
                let k = key(self.prefixes.id(prefix), path_id);
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
                let entry = Entry {
                    origin: o,
                    time,
                    update: true,
                };
                let old = st.routes.insert(k, entry);
                if o == WITHDRAWN && old.is_none_or(|e| e.origin == WITHDRAWN) {
                    self.report.withdrawn_nothing += 1;
                }
            }
            Op::State { time, peer, old, new } => {
                if !self.admit(time, until) {
                    return;
                }
                let p = self.peer(peer);
                let st = &mut self.peers[p as usize];
                let established = new == FsmState::Established;
                if old == FsmState::Established && !established {
                    self.report.sessions_down += 1;
                    st.routes.clear();
                    st.reset = Some(time);
                    st.up = false;
                } else if established && old != FsmState::Established {
                    st.routes.clear();
                    st.reset = Some(time);
                    st.up = true;
                }
            }
            Op::Local => self.report.local_ignored += 1,
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
        for (p, st) in self.peers.iter_mut().enumerate() {
            let p = p as u32;
            let rib_routes = match (rib.listed.contains(&p), rib.routes.remove(&p)) {
                (false, _) => {
                    if st.live().next().is_some() {
                        info.missing_peers.push((st.addr, st.asn));
                    }
                    continue;
                }
                (true, r) => r.unwrap_or_default(),
            };
            if info.rebase {
                let mut d = PeerDiff {
                    addr: st.addr,
                    asn: st.asn,
                    only_replay: 0,
                    only_rib: 0,
                    other_origin: 0,
                };
                for (k, e) in st.live() {
                    match rib_routes.get(k) {
                        None => d.only_replay += 1,
                        Some(&o) if o != e.origin => d.other_origin += 1,
                        Some(_) => {}
                    }
                }
                d.only_rib = rib_routes
                    .keys()
                    .filter(|k| st.routes.get(k).is_none_or(|e| e.origin == WITHDRAWN))
                    .count() as u64;
                if d.only_replay + d.only_rib + d.other_origin > 0 {
                    info.diffs.push(d);
                }
            }
            st.routes.retain(|_, e| e.update && e.time >= window);
            info.kept_newer += st.routes.len() as u64;
            if st.reset.is_some_and(|r| r >= window) {
                info.kept_down.push((st.addr, st.asn));
                continue;
            }
            st.reset = None;
            if !rib_routes.is_empty() {
                st.up = true;
            }
            for (k, origin) in rib_routes {
                st.routes.entry(k).or_insert(Entry {
                    origin,
                    time: start,
                    update: false,
                });
            }
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
        // (prefix id, origin id, peer) of every route, sorted: the rows in
        // runs, 12 bytes a route instead of a list per row in a map.
        let mut routes: Vec<(u32, u32, u32)> = Vec::with_capacity(self.routes());
        let mut counts = Vec::with_capacity(self.peers.len());
        for (p, st) in self.peers.iter().enumerate() {
            let p = p as u32;
            let mut prefixes = Vec::new();
            for (k, e) in st.live() {
                let prefix = (k >> 32) as u32;
                prefixes.push(prefix);
                routes.push((prefix, e.origin, p));
            }
            prefixes.sort_unstable();
            prefixes.dedup();
            let v6 = prefixes.iter().filter(|&&i| self.prefixes.values[i as usize].is_v6()).count() as u64;
            counts.push((prefixes.len() as u64 - v6, v6));
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
        // ADD-PATH: several paths of one peer with one origin count once.
        routes.sort_unstable();
        routes.dedup();
        let rows = routes.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)).map(|run| {
            let (prefix, origin, _) = run[0];
            let ids = run.iter().map(|r| r.2).collect();
            (
                self.prefixes.values[prefix as usize],
                self.origins.values[origin as usize].clone(),
                ids,
            )
        });
        Snapshot::from_parts(self.sources.clone(), peers, rule, rows)
    }
}

/// The RIB being read, started at the input's first record time.
fn pending(rib: &mut Option<PendingRib>, first: Option<u32>) -> &mut PendingRib {
    rib.get_or_insert_with(|| PendingRib {
        start: first.unwrap_or(0),
        listed: HashSet::default(),
        routes: HashMap::default(),
        entries: 0,
    })
}

/// Decode one batch into the replay's operations, on a pool worker.
fn decode(batch: &Batch) -> Result<(Vec<Op>, Report)> {
    let mut out = Vec::new();
    let mut report = Report::default();
    let mut damage = RecordDamage::new(false);
    let mut multicast = 0;
    let walk = for_each_record(batch, &mut report, false, |raw, rec, peers| {
        let time = raw.header.timestamp;
        if out.is_empty() {
            out.push(Op::Time(time));
        }
        let state = |peer, body: &Bgp4mpBody<'_>| match *body {
            Bgp4mpBody::StateChange { old, new } => Some(Op::State { time, peer, old, new }),
            _ => None,
        };
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
            Record::Bgp4mp(m) => out.extend(state((m.peering.peer_ip, m.peering.peer_as), &m.body)),
            Record::LegacyBgp(l) => out.extend(state((IpAddr::V4(l.peer_ip), l.peer_as), &l.body)),
            _ => {}
        }
        let mut routes = routes_of(raw, rec, peers);
        for r in routes.by_ref() {
            let peer = (r.peer.addr, r.peer.asn);
            let (prefix, path_id) = (r.prefix, r.path_id);
            out.push(match r.kind {
                RouteKind::RibEntry => Op::Rib {
                    peer,
                    prefix,
                    path_id,
                    origin: Origin::from(r.origin_as()),
                },
                RouteKind::Announce => Op::Update {
                    time,
                    peer,
                    prefix,
                    path_id,
                    origin: Some(Origin::from(r.origin_as())),
                },
                RouteKind::Withdraw => Op::Update {
                    time,
                    peer,
                    prefix,
                    path_id,
                    origin: None,
                },
            });
        }
        damage.note(routes.take_error());
    });
    if multicast > 0 {
        report.warn("rib-multicast-skipped", multicast);
    }
    damage.finish(walk, &mut report)?;
    Ok((out, report))
}
