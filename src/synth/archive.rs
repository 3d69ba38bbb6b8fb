//! A generated collector archive: RIB dumps and updates files of one
//! collector, named and filed as RouteViews or RIPE RIS file them, with the
//! true routing state at chosen instants.
//!
//! [`write_archive`] simulates one collector over a span of time. It keeps
//! its own model of what every peer announced — per peer (address, AS) and
//! per (prefix, path id), the route and so its origin — and writes:
//!
//! * a RIB dump (TABLE_DUMP_V2: PEER_INDEX_TABLE, then `RIB_IPV4_UNICAST` /
//!   `RIB_IPV6_UNICAST` records, and `RIB_*_ADDPATH` records for the
//!   ADD-PATH peers' entries) every [`ArchiveOptions::rib_interval`] from
//!   the start: each a dump of the model at its dump start (every record
//!   timestamped before it), every record timestamped with it;
//! * an updates file (BGP4MP) every [`ArchiveOptions::updates_interval`],
//!   holding the records timestamped within `[its name's time, + interval)`,
//!   in time order: announcements, path changes (another AS path, now and
//!   then another origin), withdrawals, flaps (a withdrawal, then the route
//!   again within seconds, sometimes the same second), withdrawals of routes
//!   never announced, keepalives, session resets (STATE_CHANGE Established
//!   → Idle, later Idle → … → Established with an OPEN and a KEEPALIVE, then
//!   the peer's table announced again and an End-of-RIB), peers joining
//!   after the start (absent from the first RIB's peer table, listed in the
//!   later ones), ADD-PATH peers (`MESSAGE_AS4_ADDPATH`, two path ids per
//!   prefix at times), IPv4 in the UPDATE's own fields and IPv6 in
//!   MP_REACH_NLRI / MP_UNREACH_NLRI, AS_SET origins, and bursts of records
//!   in one second;
//! * the true prefix-origin pairs at every instant of
//!   [`ArchiveOptions::truth_instants`] — the model after every record
//!   timestamped at or before it — in the bytes `mrtsnap snapshot --at T
//!   --format pairs` writes (`PREFIX/LEN<TAB>ORIGIN<TAB>PEERS`, in the
//!   snapshot's row order), named as `mrtsnap snapshot --every` names its
//!   outputs, so `diff -r` compares the two folders.
//!
//! The model is the generator's own, written from the semantics of
//! [`crate::replay`] and independent of it: comparing the two is what the
//! archive is for. To keep every re-base exact, no session changes state
//! within the [`crate::replay::DUMP_LAG`] seconds before a RIB's dump start
//! (a drop there keeps a peer's routes out of the re-base, by design of the
//! replay), so a replay fed a RIB, the updates before the next one and that
//! next RIB finds no difference at the re-base.
//!
//! # Outages and visibility
//!
//! A [`PinnedOrigin`] has fixed prefixes and upstream; an [`Outage`] has
//! every peer withdraw an origin at a time of its own and announce it
//! again later, and [`ArchiveSummary::outages`] tells what was done. With
//! [`ArchiveOptions::keep_visible`], a prefix that some route of the first
//! RIB has with its usual origin keeps at least one such route at every
//! instant, but within an outage of that origin: the background leaves
//! out a withdrawal, flap or origin change that would take the last one
//! away ([`ArchiveCounts::kept_visible`]), and resets a session only when
//! each of the peer's such routes has another ([`ArchiveSummary::guarded`]
//! lists those pairs). Session resets and joins keep [`EVENT_MARGIN`]
//! seconds away from every outage's start and end.
//!
//! # Layout
//!
//! | layout | RIB dumps | updates files |
//! |---|---|---|
//! | [`ArchiveLayout::RouteViews`] | `DIR/<collector>/bgpdata/YYYY.MM/RIBS/rib.YYYYMMDD.HHMM.bz2` | `DIR/<collector>/bgpdata/YYYY.MM/UPDATES/updates.YYYYMMDD.HHMM.bz2` |
//! | [`ArchiveLayout::Ris`] | `DIR/<rrcNN>/YYYY.MM/bview.YYYYMMDD.HHMM.gz` | `DIR/<rrcNN>/YYYY.MM/updates.YYYYMMDD.HHMM.gz` |
//!
//! RouteViews files route-views2 at the root of its archive (`DIR/bgpdata/…`,
//! no collector folder). The truth goes to
//! `DIR/truth/<collector>.YYYYMMDDTHHMMSSZ.pairs.tsv`.
//!
//! # Determinism and cost
//!
//! The output is a pure function of the options (the rayon pool only
//! splits RIB dumps and truth files into chunks written in order). Memory
//! is about 4 bytes per (peer, prefix) plus one table per session being
//! re-announced.

use std::collections::{BinaryHeap, HashSet};
use std::fs;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::prefix::{mask_v4, mask_v6, unique_v4, unique_v6};
use super::rng::{hash2, Rng, SplitMix64, Threshold, Weighted, Xoshiro256};
use super::topology::Topology;
use super::wire::*;
use super::{Compression, SynthError};
use crate::bgp::{self, as_path, Origin, Prefix};
use crate::mrt;

/// BGP4MP `MESSAGE_AS4_ADDPATH` (RFC 8050).
const MESSAGE_AS4_ADDPATH: u16 = 9;
/// BGP FSM states of the STATE_CHANGE records written.
const IDLE: u16 = 1;
const ESTABLISHED: u16 = 6;
/// Path ids an ADD-PATH peer uses per prefix (path ids 1 and 2).
const ADD_PATH_SLOTS: usize = 2;
/// Most prefixes in one UPDATE.
const MAX_NLRI: usize = 24;
/// How far the generator looks from a random prefix for one that fits.
const SCAN: usize = 4096;
/// Largest accepted peer count (initial and joining together).
pub const MAX_ARCHIVE_PEERS: usize = 1000;
/// Largest accepted number of truth instants.
pub const MAX_TRUTH_INSTANTS: usize = 10_000;
/// The first instant of the default presets: 2014-12-01 00:00:00 UTC.
pub const DECEMBER_2014: u32 = 1_417_392_000;
/// Largest accepted number of pinned prefixes, all origins together.
pub const MAX_PINNED_PREFIXES: usize = 4096;
/// Largest accepted number of outages.
pub const MAX_OUTAGES: usize = 255;
/// Seconds session resets and joins keep away from an outage's start and
/// end, so that every peer's session is up across them.
pub const EVENT_MARGIN: u32 = 1200;

/// The naming convention of an archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArchiveLayout {
    /// The RouteViews archive: bzip2, RIBs every 2 hours, updates every 15
    /// minutes.
    RouteViews,
    /// The RIPE RIS archive: gzip, bviews every 8 hours, updates every 5
    /// minutes.
    Ris,
}

impl ArchiveLayout {
    /// `route-views2` or `rrc00`.
    pub fn default_collector(self) -> &'static str {
        match self {
            ArchiveLayout::RouteViews => "route-views2",
            ArchiveLayout::Ris => "rrc00",
        }
    }

    /// Seconds between RIB dumps: 2 hours (RouteViews), 8 hours (RIS).
    pub fn rib_interval(self) -> u32 {
        match self {
            ArchiveLayout::RouteViews => 7200,
            ArchiveLayout::Ris => 28_800,
        }
    }

    /// Seconds per updates file: 15 minutes (RouteViews), 5 minutes (RIS).
    pub fn updates_interval(self) -> u32 {
        match self {
            ArchiveLayout::RouteViews => 900,
            ArchiveLayout::Ris => 300,
        }
    }

    /// bzip2 (RouteViews) or gzip (RIS).
    pub fn compression(self) -> Compression {
        match self {
            ArchiveLayout::RouteViews => Compression::Bzip2,
            ArchiveLayout::Ris => Compression::Gzip,
        }
    }

    /// The collector's AS and addresses on its sessions (RouteViews AS6447,
    /// RIS AS12654), and its BGP identifier.
    fn local(self) -> (u32, Ipv4Addr, Ipv6Addr) {
        match self {
            ArchiveLayout::RouteViews => (
                6447,
                Ipv4Addr::new(128, 223, 51, 102),
                Ipv6Addr::new(0x2001, 0x468, 0xd01, 0x33, 0, 0, 0x80df, 0x3366),
            ),
            ArchiveLayout::Ris => (
                12_654,
                Ipv4Addr::new(193, 0, 4, 28),
                Ipv6Addr::new(0x2001, 0x7f8, 0x1, 0, 0, 0, 0x3, 0x1205),
            ),
        }
    }
}

/// Options for [`write_archive`]: one collector's archive and its truth.
#[derive(Clone, Debug, PartialEq)]
pub struct ArchiveOptions {
    /// Seed; the output is a pure function of the options.
    pub seed: u64,
    /// Names, folders and compression.
    pub layout: ArchiveLayout,
    /// The collector: `route-views…` for RouteViews, `rrcNN` for RIS.
    pub collector: String,
    /// The first RIB's dump start and the first updates file's time (Unix
    /// seconds, a multiple of `updates_interval`).
    pub start: u32,
    /// Seconds covered by updates files (a multiple of `updates_interval`).
    pub duration: u32,
    /// Seconds between RIB dumps (a multiple of `updates_interval`); RIBs
    /// are dumped at `start`, `start + rib_interval`, … before the end.
    pub rib_interval: u32,
    /// Seconds per updates file.
    pub updates_interval: u32,
    /// Peers that carry (almost) every prefix, in the first RIB.
    pub full_peers: usize,
    /// Peers that carry a fraction of the prefixes, in the first RIB.
    pub partial_peers: usize,
    /// Range of the fraction a partial peer carries.
    pub partial_fraction: RangeInclusive<f64>,
    /// Full-feed peers that join after the start (absent from the first
    /// RIB), at spread instants.
    pub joining_peers: usize,
    /// Peers of the first RIB with ADD-PATH sessions (path ids 1 and 2).
    pub add_path_peers: usize,
    /// Distinct IPv4 prefixes.
    pub ipv4_prefixes: usize,
    /// Distinct IPv6 prefixes.
    pub ipv6_prefixes: usize,
    /// Records per updates file on average (±20 % from file to file),
    /// table re-announcements after resets and joins not counted.
    pub messages_per_file: usize,
    /// Session resets over the archive.
    pub resets: usize,
    /// Routes a peer announces per second when it announces its table.
    pub transfer_rate: u32,
    /// Fraction of prefixes announced as aggregates ending in an AS_SET.
    pub as_set_fraction: f64,
    /// Fraction of the background's path changes that bring another
    /// origin (to 0.0001): the prefix's second origin, or its usual one
    /// back.
    pub origin_changes: f64,
    /// The truth is written every this many seconds from `start` up to
    /// `start + duration` included.
    pub truth_every: u32,
    /// More instants of the truth, within `start..=start + duration`.
    pub truth_at: Vec<u32>,
    /// Seed of the table: the AS topology, the prefixes, their usual
    /// origins, which prefixes have a second origin or end in an AS_SET.
    /// Archives of several collectors with one `table_seed` (and one
    /// table size) see one Internet, each through its own peers. `None`:
    /// drawn from `seed`.
    pub table_seed: Option<u64>,
    /// Origins with fixed prefixes and upstream ([`PinnedOrigin`]).
    pub pinned: Vec<PinnedOrigin>,
    /// Origins every peer withdraws for a while ([`Outage`]).
    pub outages: Vec<Outage>,
    /// Keep every prefix seen with its usual origin at every instant,
    /// outages apart (see the [module docs](self#outages-and-visibility)).
    pub keep_visible: bool,
}

/// An origin AS with fixed prefixes and one upstream
/// ([`ArchiveOptions::pinned`]): announced by every full-feed peer (the
/// joiners included) and by no partial one, always on AS paths ending
/// `… upstream asn` (no prepending), never a second origin or an AS_SET,
/// left alone by the background churn: only session resets and
/// [`Outage`]s take its routes away.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinnedOrigin {
    /// The origin AS.
    pub asn: u32,
    /// Its one upstream AS.
    pub upstream: u32,
    /// Its prefixes (IPv6 ones at most /64); generated prefixes that
    /// overlap them are left out of the table.
    pub prefixes: Vec<Prefix>,
}

/// An origin withdrawn by every peer for a while
/// ([`ArchiveOptions::outages`]): each peer withdraws its routes with that
/// origin (AS_SET aggregates apart) at `start + d`, announces none with it
/// until `end + d'`, and then announces again the ones it withdrew, `d`
/// and `d'` drawn per peer in `0..=spread`. A peer whose session is down
/// at `end + d'` announces them with its table once it is back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outage {
    /// A pinned origin's AS; `None`: an origin of the table with 1 to 8
    /// usual prefixes, drawn from the table seed (so every collector of
    /// one table draws the same), a different one for each outage.
    pub asn: Option<u32>,
    /// The first withdrawals (Unix seconds).
    pub start: u32,
    /// The first announcements again (Unix seconds).
    pub end: u32,
    /// Seconds over which the peers' withdrawals (and announcements) are
    /// spread.
    pub spread: u32,
}

impl ArchiveOptions {
    /// A small archive for tests: 4 full and 2 partial peers (one of each
    /// with ADD-PATH) and 2 joining later, 3000 IPv4 and 800 IPv6
    /// prefixes, 3 hours from 2014-12-01 00:00 UTC with RIBs at 00:00 and
    /// 02:00 (in both layouts: a RIS collector dumps every 8 hours, which
    /// would leave one RIB), 4 session resets, the truth every 30 minutes.
    pub fn small(layout: ArchiveLayout) -> Self {
        let updates_interval = layout.updates_interval();
        ArchiveOptions {
            seed: 0x6d72_7473_6e61_7041,
            layout,
            collector: layout.default_collector().to_string(),
            start: DECEMBER_2014,
            duration: 3 * 3600,
            rib_interval: 7200,
            updates_interval,
            full_peers: 4,
            partial_peers: 2,
            partial_fraction: 0.1..=0.5,
            joining_peers: 2,
            add_path_peers: 2,
            ipv4_prefixes: 3000,
            ipv6_prefixes: 800,
            // 40 records a minute.
            messages_per_file: (updates_interval / 60 * 40) as usize,
            resets: 4,
            transfer_rate: 400,
            as_set_fraction: 0.005,
            origin_changes: 0.12,
            truth_every: 1800,
            truth_at: Vec::new(),
            table_seed: None,
            pinned: Vec::new(),
            outages: Vec::new(),
            keep_visible: false,
        }
    }

    /// One day of RIS rrc00 in December 2014: bviews at 00:00, 08:00 and
    /// 16:00 and 288 five-minute updates files from 2014-12-01 00:00 UTC,
    /// an rrc00-like table ([`RibOptions::rrc00_like`](super::RibOptions::rrc00_like):
    /// 1,000,000 IPv4 and 230,000 IPv6 prefixes) seen by 30 full and 18
    /// partial peers, 2 more joining during the day (50 peers), 6 session
    /// resets, the truth every 4 hours. `layout` RouteViews keeps the day
    /// and the table, with RouteViews' names and intervals.
    ///
    /// Update volume. The one published figure found is the RIS FAQ's
    /// answer to "How much traffic does a Remote Route Collector
    /// generate?": "Max. 4 MB data per peer, daily (compressed)" (RIPE
    /// NCC, FAQ: Routing Information Services, undated,
    /// <https://www.ripe.net/analyse/internet-measurements/routing-information-service-ris/faq-ris>):
    /// for 50 peers, at most 200 MB of gzip'd updates a day. No count of
    /// rrc00's own December 2014 updates files was found (the RIS archive
    /// and its listings are not among the sources searched). The preset
    /// sits just under that bound: 2,900,000 records a day (10,069 per
    /// five-minute file), plus the tables announced again after the resets
    /// and joins; measured, 6.8 million records, 770 MB, 195 MB gzip'd.
    pub fn rrc00_day(layout: ArchiveLayout) -> Self {
        let updates_interval = layout.updates_interval();
        let per_day: u64 = 2_900_000;
        ArchiveOptions {
            seed: 0x6d72_7473_6e61_7042,
            layout,
            collector: layout.default_collector().to_string(),
            start: DECEMBER_2014,
            duration: 86_400,
            rib_interval: layout.rib_interval(),
            updates_interval,
            full_peers: 30,
            partial_peers: 18,
            partial_fraction: 0.02..=0.2,
            joining_peers: 2,
            add_path_peers: 0,
            ipv4_prefixes: 1_000_000,
            ipv6_prefixes: 230_000,
            messages_per_file: (per_day * u64::from(updates_interval) / 86_400) as usize,
            resets: 6,
            transfer_rate: 10_000,
            as_set_fraction: 0.001,
            origin_changes: 0.12,
            truth_every: 4 * 3600,
            truth_at: Vec::new(),
            table_seed: None,
            pinned: Vec::new(),
            outages: Vec::new(),
            keep_visible: false,
        }
    }

    /// Checks every option, and that the archive's names read back as its
    /// collector's, in UTC; [`write_archive`] calls this first.
    pub fn validate(&self) -> Result<(), SynthError> {
        let iv = self.updates_interval;
        if iv == 0 || !iv.is_multiple_of(60) {
            return Err(SynthError::invalid("updates_interval", "a positive number of whole minutes"));
        }
        if !self.start.is_multiple_of(iv) {
            return Err(SynthError::invalid("start", format!("a multiple of the updates interval ({iv} s)")));
        }
        if self.duration == 0 || !self.duration.is_multiple_of(iv) {
            return Err(SynthError::invalid(
                "duration",
                format!("a positive multiple of the updates interval ({iv} s)"),
            ));
        }
        if self.rib_interval == 0 || !self.rib_interval.is_multiple_of(iv) {
            return Err(SynthError::invalid(
                "rib_interval",
                format!("a positive multiple of the updates interval ({iv} s)"),
            ));
        }
        if self.start.checked_add(self.duration).is_none_or(|e| e > u32::MAX - 86_400) {
            return Err(SynthError::invalid(
                "duration",
                "start + duration is past the range of MRT timestamps",
            ));
        }
        if self.truth_every == 0 {
            return Err(SynthError::invalid("truth_every", "more than 0 seconds"));
        }
        if self.duration / self.truth_every >= MAX_TRUTH_INSTANTS as u32 {
            return Err(SynthError::invalid("truth_every", format!("at most {MAX_TRUTH_INSTANTS} instants")));
        }
        let initial = self.full_peers.saturating_add(self.partial_peers);
        if initial == 0 {
            return Err(SynthError::invalid("full_peers + partial_peers", "at least one peer"));
        }
        if initial.saturating_add(self.joining_peers) > MAX_ARCHIVE_PEERS {
            return Err(SynthError::invalid("peers", format!("at most {MAX_ARCHIVE_PEERS} in all")));
        }
        if self.add_path_peers > initial {
            return Err(SynthError::invalid("add_path_peers", "at most full_peers + partial_peers"));
        }
        if self.ipv4_prefixes > super::MAX_PREFIXES_PER_FAMILY || self.ipv6_prefixes > super::MAX_PREFIXES_PER_FAMILY {
            return Err(SynthError::invalid(
                "ipv4_prefixes / ipv6_prefixes",
                format!("at most {} each", super::MAX_PREFIXES_PER_FAMILY),
            ));
        }
        if self.ipv4_prefixes + self.ipv6_prefixes == 0 {
            return Err(SynthError::invalid("ipv4_prefixes + ipv6_prefixes", "at least one prefix"));
        }
        let (lo, hi) = (*self.partial_fraction.start(), *self.partial_fraction.end());
        if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) || lo > hi {
            return Err(SynthError::invalid("partial_fraction", "a range within [0, 1]"));
        }
        if !(0.0..=1.0).contains(&self.as_set_fraction) {
            return Err(SynthError::invalid("as_set_fraction", "within [0, 1]"));
        }
        if !(0.0..=1.0).contains(&self.origin_changes) {
            return Err(SynthError::invalid("origin_changes", "within [0, 1]"));
        }
        if self.transfer_rate == 0 {
            return Err(SynthError::invalid("transfer_rate", "at least 1"));
        }
        let end = self.start + self.duration;
        if self.truth_at.iter().any(|&t| t < self.start || t > end) {
            return Err(SynthError::invalid("truth_at", "instants within start..=start + duration"));
        }
        if self.truth_instants().len() > MAX_TRUTH_INSTANTS {
            return Err(SynthError::invalid("truth_at", format!("at most {MAX_TRUTH_INSTANTS} instants")));
        }
        self.validate_events()?;
        let c = self.collector.as_str();
        let ok = match self.layout {
            ArchiveLayout::RouteViews => {
                c.starts_with("route-views")
                    && c.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
            }
            ArchiveLayout::Ris => c.len() == 5 && c.starts_with("rrc") && c[3..].bytes().all(|b| b.is_ascii_digit()),
        };
        if !ok {
            let want = match self.layout {
                ArchiveLayout::RouteViews => "route-views2, route-views.linx, …",
                ArchiveLayout::Ris => "rrc00 … rrc99",
            };
            return Err(SynthError::invalid(
                "collector",
                format!("{c:?} is not a collector of this layout ({want})"),
            ));
        }
        // RouteViews named its files in US Pacific time before 2003-02-03
        // (route-views.eqix: before 2006-02-01); the names here are UTC.
        let utc_from: u32 = if c == "route-views.eqix" { 1_138_752_000 } else { 1_044_230_400 };
        if self.layout == ArchiveLayout::RouteViews && self.start < utc_from {
            return Err(SynthError::invalid(
                "start",
                format!(
                    "{c} named its files in US Pacific time before {}",
                    crate::fmt::utc_date(i64::from(utc_from))
                ),
            ));
        }
        let path = self.rib_path(self.start);
        if crate::naming::collector_from_path(&path.to_string_lossy()).as_deref() != Some(c) {
            return Err(SynthError::invalid("collector", format!("{} does not name {c}", path.display())));
        }
        Ok(())
    }

    /// Checks [`ArchiveOptions::pinned`] and [`ArchiveOptions::outages`].
    fn validate_events(&self) -> Result<(), SynthError> {
        let bad_asn = |a: u32| a == 0 || a == as_path::AS_TRANS;
        let mut asns = HashSet::new();
        let mut prefixes: Vec<Prefix> = Vec::new();
        for p in &self.pinned {
            if bad_asn(p.asn) || bad_asn(p.upstream) || p.asn == p.upstream {
                return Err(SynthError::invalid("pinned", format!("AS{} behind AS{}", p.asn, p.upstream)));
            }
            if !asns.insert(p.asn) {
                return Err(SynthError::invalid("pinned", format!("AS{} pinned twice", p.asn)));
            }
            if p.prefixes.is_empty() || p.prefixes.iter().any(|q| q.is_v6() && q.len() > 64) {
                return Err(SynthError::invalid("pinned", "one prefix or more each, IPv6 ones at most /64"));
            }
            prefixes.extend(&p.prefixes);
        }
        let n = prefixes.len();
        prefixes.sort_unstable();
        prefixes.dedup();
        if prefixes.len() != n || n > MAX_PINNED_PREFIXES {
            return Err(SynthError::invalid(
                "pinned",
                format!("at most {MAX_PINNED_PREFIXES} prefixes, each pinned once"),
            ));
        }
        let last = self.start + self.duration;
        if self.outages.len() > MAX_OUTAGES {
            return Err(SynthError::invalid("outages", format!("at most {MAX_OUTAGES}")));
        }
        for (i, o) in self.outages.iter().enumerate() {
            if o.start < self.start || o.start >= o.end || o.spread > 3600 || o.end.saturating_add(o.spread) >= last {
                return Err(SynthError::invalid(
                    "outages",
                    "start <= start < end, end + spread before the end of the archive, spread at most an hour",
                ));
            }
            if let Some(a) = o.asn {
                if !asns.contains(&a) {
                    return Err(SynthError::invalid("outages", format!("AS{a} is not pinned")));
                }
                let overlaps = self.outages[..i]
                    .iter()
                    .any(|p| p.asn == Some(a) && p.start <= o.end + o.spread && o.start <= p.end + p.spread);
                if overlaps {
                    return Err(SynthError::invalid("outages", format!("two outages of AS{a} overlap")));
                }
            }
        }
        Ok(())
    }

    /// Dump starts of the RIBs: from `start` every `rib_interval`, before
    /// `start + duration`.
    pub fn rib_times(&self) -> Vec<u32> {
        (0..self.duration.div_ceil(self.rib_interval))
            .map(|i| self.start + i * self.rib_interval)
            .collect()
    }

    /// Times of the updates files: from `start` every `updates_interval`,
    /// before `start + duration`.
    pub fn updates_times(&self) -> Vec<u32> {
        (0..self.duration / self.updates_interval.max(1))
            .map(|i| self.start + i * self.updates_interval)
            .collect()
    }

    /// The instants of the truth: from `start` every `truth_every`, up to
    /// `start + duration` included, and those of `truth_at`, in order.
    pub fn truth_instants(&self) -> Vec<u32> {
        let mut out: Vec<u32> = (0..=self.duration / self.truth_every.max(1))
            .map(|i| self.start + i * self.truth_every)
            .chain(self.truth_at.iter().copied())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Where the RIB dumped at `t` goes, relative to the archive's folder.
    pub fn rib_path(&self, t: u32) -> PathBuf {
        let (month, stamp) = name_time(t);
        match self.layout {
            ArchiveLayout::RouteViews => self.rv_root().join(format!("bgpdata/{month}/RIBS/rib.{stamp}.bz2")),
            ArchiveLayout::Ris => PathBuf::from(format!("{}/{month}/bview.{stamp}.gz", self.collector)),
        }
    }

    /// Where the updates file of `t` goes, relative to the archive's folder.
    pub fn updates_path(&self, t: u32) -> PathBuf {
        let (month, stamp) = name_time(t);
        match self.layout {
            ArchiveLayout::RouteViews => self.rv_root().join(format!("bgpdata/{month}/UPDATES/updates.{stamp}.bz2")),
            ArchiveLayout::Ris => PathBuf::from(format!("{}/{month}/updates.{stamp}.gz", self.collector)),
        }
    }

    /// Where the truth at `t` goes, relative to the archive's folder:
    /// `truth/<collector>.YYYYMMDDTHHMMSSZ.pairs.tsv`, the name `mrtsnap
    /// snapshot --every … --format pairs` gives the state at `t`.
    pub fn truth_path(&self, t: u32) -> PathBuf {
        let stamp = crate::fmt::utc_datetime(i64::from(t)).replace([':', '-'], "");
        PathBuf::from(format!("truth/{}.{stamp}.pairs.tsv", self.collector))
    }

    fn rv_root(&self) -> PathBuf {
        if self.collector == "route-views2" {
            PathBuf::new()
        } else {
            PathBuf::from(&self.collector)
        }
    }

    /// The first time from `t` on at which state changes during
    /// `t..=t + span` stay out of the `DUMP_LAG` (plus 2) seconds before
    /// every RIB's dump start.
    fn clear_of_ribs(&self, mut t: u32, span: u32) -> u32 {
        let lag = crate::replay::DUMP_LAG + 2;
        loop {
            let hit = self.rib_times().into_iter().find(|&r| t < r && t + span + lag >= r);
            match hit {
                Some(r) => t = r,
                None => return t,
            }
        }
    }
}

impl ArchiveOptions {
    /// The first time from `t` on at which `t..=t + span` stays
    /// [`EVENT_MARGIN`] seconds clear of every outage's start and end
    /// (spread included).
    fn clear_of_outages(&self, mut t: u32, span: u32) -> u32 {
        loop {
            let hit = self
                .outages
                .iter()
                .flat_map(|o| [(o.start, o.spread), (o.end, o.spread)])
                .find(|&(e, spread)| t <= e + spread + EVENT_MARGIN && t.saturating_add(span).saturating_add(EVENT_MARGIN) >= e);
            match hit {
                Some((e, spread)) => t = e + spread + EVENT_MARGIN + 1,
                None => return t,
            }
        }
    }

    /// The first time from `t` on clear of the RIBs (see `clear_of_ribs`,
    /// over `rib_span`) and of the outages (over `span`).
    fn clear_of_both(&self, mut t: u32, rib_span: u32, span: u32) -> u32 {
        loop {
            let next = self.clear_of_ribs(self.clear_of_outages(t, span), rib_span);
            if next == t {
                return t;
            }
            t = next;
        }
    }
}

/// `YYYY.MM` and `YYYYMMDD.HHMM` of a time.
fn name_time(t: u32) -> (String, String) {
    let t = i64::from(t);
    let (y, m, d) = crate::fmt::civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    (
        format!("{y:04}.{m:02}"),
        format!("{y:04}{m:02}{d:02}.{:02}{:02}", s / 3600, s / 60 % 60),
    )
}

/// One file of the archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveFile {
    /// Its path, relative to the archive's folder.
    pub path: PathBuf,
    /// The time its name gives (the truth's instant).
    pub time: u32,
    /// MRT records (lines for a truth file).
    pub records: u64,
    /// Bytes before compression.
    pub bytes: u64,
}

/// What the updates files hold, counted as the generator wrote them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArchiveCounts {
    /// MRT records in all updates files.
    pub records: u64,
    /// UPDATE messages (End-of-RIB markers included).
    pub updates: u64,
    /// KEEPALIVE messages.
    pub keepalives: u64,
    /// OPEN messages.
    pub opens: u64,
    /// STATE_CHANGE records.
    pub state_changes: u64,
    /// Routes announced: (peer, prefix, path id) triples over all UPDATEs.
    pub announced: u64,
    /// Routes withdrawn (those never announced included).
    pub withdrawn: u64,
    /// Announcements where the peer had no route for the (prefix, path id).
    pub new_routes: u64,
    /// Announcements replacing a route by one with the same origin and
    /// another AS path.
    pub path_changes: u64,
    /// Announcements replacing a route by one with another origin.
    pub origin_changes: u64,
    /// Withdrawals of a route the peer did not have.
    pub withdrawn_nothing: u64,
    /// Routes announced again after their withdrawal (flaps).
    pub flaps: u64,
    /// Flaps whose withdrawal and announcement share their second.
    pub flaps_same_second: u64,
    /// Session resets (Established → Idle).
    pub resets: u64,
    /// Peers that joined after the start.
    pub joins: u64,
    /// Tables announced in full after a reset or a join.
    pub transfers: u64,
    /// Routes announced in those tables.
    pub transfer_routes: u64,
    /// Announcements with a path id (ADD-PATH sessions).
    pub add_path_announced: u64,
    /// Announcements of a second path id for a prefix whose first path id
    /// the peer has.
    pub second_paths: u64,
    /// IPv6 announcements (MP_REACH_NLRI).
    pub ipv6_announced: u64,
    /// Announcements whose AS path ends in an AS_SET.
    pub as_set_announced: u64,
    /// Records timestamped in the same second as the record before them.
    pub same_second: u64,
    /// The most records of one second.
    pub max_per_second: u64,
    /// Announcements and withdrawals left out because they would have
    /// taken the last route of a prefix with its usual origin away
    /// ([`ArchiveOptions::keep_visible`]).
    pub kept_visible: u64,
}

/// An outage as written ([`ArchiveOptions::outages`], the origin
/// resolved).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutageSummary {
    /// The origin AS.
    pub asn: u32,
    /// As asked: the first withdrawals.
    pub start: u32,
    /// As asked: the first announcements again.
    pub end: u32,
    /// The origin's usual prefixes (it may have others, as a second
    /// origin).
    pub prefixes: Vec<Prefix>,
    /// The first and the last peer's time to withdraw.
    pub withdrawn: (u32, u32),
    /// The first and the last peer's time to announce again.
    pub announced: (u32, u32),
    /// Routes withdrawn by the peers.
    pub routes_withdrawn: u64,
    /// Routes announced again.
    pub routes_announced: u64,
}

/// What [`write_archive`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArchiveSummary {
    /// The RIB dumps, in time order.
    pub ribs: Vec<ArchiveFile>,
    /// The updates files, in time order.
    pub updates: Vec<ArchiveFile>,
    /// The truth files, in time order.
    pub truths: Vec<ArchiveFile>,
    /// What the updates hold.
    pub counts: ArchiveCounts,
    /// Peers in the peer table of each RIB, in RIB order.
    pub rib_peers: Vec<usize>,
    /// Truth instants whose second holds several records.
    pub burst_instants: Vec<u32>,
    /// Truth instants at which a reset session is not yet Established again.
    pub down_instants: Vec<u32>,
    /// Truth instants after a peer joined (Established).
    pub joined_instants: Vec<u32>,
    /// The outages, in the order of [`ArchiveOptions::outages`].
    pub outages: Vec<OutageSummary>,
    /// With [`ArchiveOptions::keep_visible`]: the (prefix, usual origin
    /// AS) pairs that some route of the first RIB has (AS_SET aggregates
    /// and pinned origins apart), in prefix order: each is seen at every
    /// instant but within its origin's outages.
    pub guarded: Vec<(Prefix, u32)>,
}

/// A peer of the simulated collector.
#[derive(Clone, Debug)]
struct APeer {
    addr: IpAddr,
    asn: u32,
    bgp_id: u32,
    nh4: [u8; 4],
    nh6: [u8; 16],
    seed: u64,
    carry: Threshold,
    /// A full feed (pinned prefixes are announced by those only).
    full: bool,
    add_path: bool,
    med: bool,
    /// When the session came up before the start (initial peers).
    up_since: u32,
}

impl APeer {
    fn slots(&self) -> usize {
        if self.add_path {
            ADD_PATH_SLOTS
        } else {
            1
        }
    }
}

/// What does not change while the archive is generated.
struct Universe<'a> {
    opts: &'a ArchiveOptions,
    topo: Topology,
    v4: Vec<u64>,
    v6: Vec<u128>,
    /// The usual origin (topology index) per prefix id.
    primary: Vec<u32>,
    peers: Vec<APeer>,
    /// Peers of the first RIB: `0..initial`; the joiners follow.
    initial: usize,
    /// Seed of the collector's churn.
    seed: u64,
    /// Seed of the table's hashed choices (second origins, aggregates).
    tseed: u64,
    /// Origin indices from this one on are pinned.
    pinned_from: u32,
    /// The outages, resolved.
    downs: Vec<Down>,
    moas: Threshold,
    as_set: Threshold,
}

/// An outage, resolved: its origin (topology index) and the ids of its
/// usual prefixes.
struct Down {
    origin: u32,
    prefixes: Vec<u32>,
    start: u32,
    end: u32,
    spread: u32,
}

/// A route as the model keeps it: 0 for none; otherwise the origin's
/// topology index plus one (23 bits), the AS-path variant (4 bits) and
/// whether the path ends in the prefix's AS_SET.
type Route = u32;
const ORIGIN_MASK: u32 = (1 << 23) - 1;
const VARIANT_SHIFT: u32 = 23;
const VARIANTS: u32 = 15;
const SET_BIT: u32 = 1 << 27;
/// The origin code of every AS_SET route of a prefix (its one set).
const SET_CODE: u32 = u32::MAX;

fn route(origin: u32, variant: u32, set: bool) -> Route {
    ((origin + 1) & ORIGIN_MASK) | (variant % VARIANTS) << VARIANT_SHIFT | if set { SET_BIT } else { 0 }
}

fn origin_index(r: Route) -> u32 {
    (r & ORIGIN_MASK).wrapping_sub(1)
}

fn variant(r: Route) -> u32 {
    (r >> VARIANT_SHIFT) & 0xF
}

/// What the truth tells routes apart by: the origin AS (its index) or the
/// prefix's AS_SET.
fn origin_code(r: Route) -> u32 {
    if r & SET_BIT != 0 {
        SET_CODE
    } else {
        origin_index(r)
    }
}

impl<'a> Universe<'a> {
    fn new(opts: &'a ArchiveOptions) -> Result<Self, SynthError> {
        let tseed = opts.table_seed.unwrap_or(opts.seed);
        let mut rng = Xoshiro256::new(tseed);
        let total = opts.ipv4_prefixes + opts.ipv6_prefixes;
        let reserved: Vec<u32> = opts.pinned.iter().flat_map(|p| [p.asn, p.upstream]).collect();
        let mut topo = Topology::new(&mut rng, (total / 16).clamp(16, 120_000), &reserved);
        let mut v4 = unique_v4(&mut Xoshiro256::new(hash2(tseed, 4)), opts.ipv4_prefixes)?;
        let mut v6 = unique_v6(&mut Xoshiro256::new(hash2(tseed, 6)), opts.ipv6_prefixes)?;
        let pinned_from = topo.origins.len() as u32;
        let pins = pin(opts, tseed, &mut topo, &mut v4, &mut v6);
        let total = v4.len() + v6.len();
        // Neighbouring prefixes often share their origin (allocations).
        let mut orng = Xoshiro256::new(hash2(tseed, 40));
        let same_as_prev = Threshold::new(0.35);
        let mut primary: Vec<u32> = Vec::with_capacity(total);
        let mut next_pin = pins.iter().peekable();
        for i in 0..total {
            if let Some(&(_, o)) = next_pin.next_if(|&&(id, _)| id as usize == i) {
                primary.push(o);
                continue;
            }
            let o = if i > 0 && i != v4.len() && primary[i - 1] < pinned_from && orng.chance(same_as_prev) {
                primary[i - 1]
            } else {
                topo.pick_origin(&mut orng)
            };
            primary.push(o);
        }
        let initial = opts.full_peers + opts.partial_peers;
        // One table, peers of one's own: the peers from the collector's seed.
        let mut prng = match opts.table_seed {
            Some(_) => Xoshiro256::new(hash2(opts.seed, 0x9EE2)),
            None => rng,
        };
        let peers = build_peers(opts, &mut prng, &mut topo);
        let seed = prng.next_u64();
        let mut u = Universe {
            opts,
            topo,
            v4,
            v6,
            primary,
            peers,
            initial,
            seed,
            tseed: if opts.table_seed.is_some() { hash2(tseed, 0x7AB1E) } else { seed },
            pinned_from,
            downs: Vec::new(),
            moas: Threshold::new(0.015),
            as_set: Threshold::new(opts.as_set_fraction),
        };
        u.downs = u.resolve_outages()?;
        Ok(u)
    }

    /// The outages' origins and their usual prefixes: a pinned origin, or
    /// one drawn from the table with 1 to 8 usual prefixes.
    fn resolve_outages(&self) -> Result<Vec<Down>, SynthError> {
        let o = self.opts;
        if o.outages.is_empty() {
            return Ok(Vec::new());
        }
        let n = self.prefixes() as u32;
        let mut usual = vec![0u32; self.topo.origins.len()];
        for p in 0..n {
            if !self.is_aggregate(p) {
                usual[self.primary[p as usize] as usize] += 1;
            }
        }
        let pickable = self.pinned_from as usize;
        let mut taken: Vec<u32> = Vec::new();
        let mut out = Vec::with_capacity(o.outages.len());
        for (k, outage) in o.outages.iter().enumerate() {
            let origin = match outage.asn {
                Some(a) => (self.pinned_from..self.topo.origins.len() as u32)
                    .find(|&i| self.topo.origins[i as usize] == a)
                    .ok_or_else(|| SynthError::invalid("outages", format!("AS{a} is not pinned")))?,
                None => {
                    let first = (hash2(self.tseed ^ 0x0D7, k as u64) % pickable as u64) as usize;
                    (0..pickable)
                        .map(|i| ((first + i) % pickable) as u32)
                        .find(|&i| (1..=8).contains(&usual[i as usize]) && !taken.contains(&i))
                        .ok_or_else(|| SynthError::invalid("outages", "no origin of the table has 1 to 8 prefixes to withdraw"))?
                }
            };
            taken.push(origin);
            let prefixes: Vec<u32> = (0..n)
                .filter(|&p| self.primary[p as usize] == origin && !self.is_aggregate(p))
                .collect();
            out.push(Down {
                origin,
                prefixes,
                start: outage.start,
                end: outage.end,
                spread: outage.spread,
            });
        }
        Ok(out)
    }

    fn prefixes(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    fn is_v6(&self, p: u32) -> bool {
        p as usize >= self.v4.len()
    }

    /// The ids of `p`'s family.
    fn family(&self, p: u32) -> std::ops::Range<u32> {
        if self.is_v6(p) {
            self.v4.len() as u32..self.prefixes() as u32
        } else {
            0..self.v4.len() as u32
        }
    }

    /// Prefix `p` (always `Some`: the keys are valid prefixes).
    fn prefix(&self, p: u32) -> Option<Prefix> {
        let p = p as usize;
        if p < self.v4.len() {
            let k = self.v4[p];
            Prefix::v4((k >> 8) as u32, (k & 0xFF) as u8)
        } else {
            let k = self.v6.get(p - self.v4.len())?;
            Prefix::new(IpAddr::V6(Ipv6Addr::from(k & !0xFF)), (k & 0xFF) as u8)
        }
    }

    /// Appends the NLRI form of `p` (path id first with ADD-PATH).
    fn put_nlri(&self, buf: &mut Vec<u8>, p: u32, path_id: Option<u32>) {
        if let Some(id) = path_id {
            put_u32(buf, id);
        }
        let i = p as usize;
        if i < self.v4.len() {
            let k = self.v4[i];
            put_prefix_v4(buf, (k >> 8) as u32, (k & 0xFF) as u8);
        } else {
            let k = self.v6[i - self.v4.len()];
            put_prefix_v6(buf, k & !0xFF, (k & 0xFF) as u8);
        }
    }

    /// Whether `p` is announced as an aggregate ending in an AS_SET.
    fn is_aggregate(&self, p: u32) -> bool {
        !self.is_pinned(p) && self.as_set.hit(hash2(self.tseed ^ 0xA66, u64::from(p)))
    }

    /// Whether `p` is a pinned origin's prefix.
    fn is_pinned(&self, p: u32) -> bool {
        self.primary[p as usize] >= self.pinned_from
    }

    /// What the truth tells `p`'s routes with its usual origin by: that
    /// origin, or the AS_SET of an aggregate.
    fn usual_code(&self, p: u32) -> u32 {
        if self.is_aggregate(p) {
            SET_CODE
        } else {
            self.primary[p as usize]
        }
    }

    /// A second origin for `p` (MOAS and origin changes).
    fn other_origin(&self, p: u32) -> u32 {
        let n = self.pinned_from;
        let o = self
            .topo
            .pick_origin(&mut SplitMix64::new(hash2(self.tseed ^ 0x0A17, u64::from(p))));
        if o == self.primary[p as usize] {
            (o + 1) % n
        } else {
            o
        }
    }

    /// The members of `p`'s AS_SET (2 or 3 distinct origin ASes), sorted.
    fn set_members(&self, p: u32) -> Vec<u32> {
        let mut r = SplitMix64::new(hash2(self.tseed ^ 0x5E7, u64::from(p)));
        let want = 2 + r.below(2) as usize;
        let mut out: Vec<u32> = Vec::with_capacity(want);
        for _ in 0..64 {
            if out.len() == want {
                break;
            }
            let a = self.topo.origins[self.topo.pick_origin(&mut r) as usize];
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out.sort_unstable();
        out
    }

    fn carries(&self, pi: usize, p: u32) -> bool {
        let peer = &self.peers[pi];
        if self.is_pinned(p) {
            return peer.full;
        }
        peer.carry.hit(hash2(peer.seed, u64::from(p)))
    }

    /// The route peer `pi` has for `p` in path slot `slot` when its session
    /// comes up (0: none).
    fn initial_route(&self, pi: usize, p: u32, slot: usize) -> Route {
        if !self.carries(pi, p) {
            return 0;
        }
        let peer = &self.peers[pi];
        let h = hash2(peer.seed ^ (slot as u64) << 56, u64::from(p));
        if slot > 0 && !h.is_multiple_of(4) {
            return 0;
        }
        self.default_route(pi, p, slot, h)
    }

    /// The route `pi` announces for `p` when it has none (`h` picks among
    /// the prefix's origins).
    fn default_route(&self, pi: usize, p: u32, slot: usize, h: u64) -> Route {
        // A prefix with two origins: a quarter of the peers see the second
        // one. Split half and half, the usual origin hovered at the 50%
        // visibility threshold and every flap tipped it over (the
        // timeline of a stable origin then shows outages of its space).
        let moas = !self.is_pinned(p) && self.moas.hit(hash2(self.tseed ^ 0x3045, u64::from(p)));
        let origin = if moas && (h >> 61) & 3 == 3 {
            self.other_origin(p)
        } else {
            self.primary[p as usize]
        };
        let v = (hash2(self.peers[pi].seed, u64::from(origin)) % 3) as u32 + 3 * slot as u32;
        route(origin, v, self.is_aggregate(p))
    }

    /// The AS path of `route` from peer `pi` for prefix `p`.
    fn path(&self, path: &mut AsPath, pi: usize, p: u32, r: Route) {
        let peer = &self.peers[pi];
        let origin = origin_index(r);
        let h = hash2(peer.seed ^ 0x9E9, u64::from(origin));
        let prepend = if h.is_multiple_of(10) && origin < self.pinned_from {
            1 + (h >> 8) % 3
        } else {
            0
        } as u8;
        self.topo.route(path, peer.asn, peer.seed, origin, u64::from(variant(r)), prepend);
        if r & SET_BIT != 0 {
            path.begin(as_path::AS_SET);
            for a in self.set_members(p) {
                path.push(a);
            }
        }
    }

    /// Path attributes of `route` from `pi` (the same for every prefix but
    /// an AS_SET's), without MP_REACH_NLRI.
    fn attrs(&self, buf: &mut Vec<u8>, path: &mut AsPath, pi: usize, p: u32, r: Route, v6: bool) {
        let peer = &self.peers[pi];
        let h = hash2(peer.seed ^ 0xA77, u64::from(r & !SET_BIT));
        attr_origin(buf, if h.is_multiple_of(10) { 2 } else { 0 });
        self.path(path, pi, p, r);
        attr_as_path(buf, path, true);
        if !v6 {
            attr_next_hop(buf, peer.nh4);
        }
        if peer.med {
            attr_med(buf, ((h >> 8) % 1000) as u32);
        }
        let n = ((h >> 20) % 5) as usize;
        if n > 0 {
            let hi = if peer.asn <= 0xFFFF { peer.asn } else { 65_000 + peer.asn % 500 };
            let comms: Vec<u32> = (0..n).map(|i| hi << 16 | (1 + ((h >> (24 + 6 * i)) & 0x3FF) as u32)).collect();
            attr_communities(buf, &comms);
        }
    }
}

/// Adds the pinned origins to `topo` and their prefixes to the tables
/// (generated prefixes that overlap them left out); returns the pinned
/// prefix ids and their origins, in id order.
fn pin(opts: &ArchiveOptions, tseed: u64, topo: &mut Topology, v4: &mut Vec<u64>, v6: &mut Vec<u128>) -> Vec<(u32, u32)> {
    if opts.pinned.is_empty() {
        return Vec::new();
    }
    let mut k4: Vec<(u64, u32)> = Vec::new();
    let mut k6: Vec<(u128, u32)> = Vec::new();
    for p in &opts.pinned {
        let o = topo.pin(p.asn, p.upstream, hash2(tseed ^ 0x919, u64::from(p.asn)));
        for q in &p.prefixes {
            if q.is_v6() {
                k6.push((q.bits() | u128::from(q.len()), o));
            } else {
                k4.push(((q.bits() as u64) << 8 | u64::from(q.len()), o));
            }
        }
    }
    let over4 = |a: u64, b: u64| {
        let m = mask_v4(((a & 0xFF) as u8).min((b & 0xFF) as u8));
        (a >> 8) as u32 & m == (b >> 8) as u32 & m
    };
    let over6 = |a: u128, b: u128| {
        let m = mask_v6(((a & 0xFF) as u8).min((b & 0xFF) as u8));
        a & !0xFF & m == b & !0xFF & m
    };
    v4.retain(|&k| !k4.iter().any(|&(q, _)| over4(k, q)));
    v6.retain(|&k| !k6.iter().any(|&(q, _)| over6(k, q)));
    v4.extend(k4.iter().map(|x| x.0));
    v6.extend(k6.iter().map(|x| x.0));
    v4.sort_unstable();
    v6.sort_unstable();
    let mut ids: Vec<(u32, u32)> = k4
        .iter()
        .filter_map(|&(q, o)| Some((v4.binary_search(&q).ok()? as u32, o)))
        .chain(
            k6.iter()
                .filter_map(|&(q, o)| Some(((v4.len() + v6.binary_search(&q).ok()?) as u32, o))),
        )
        .collect();
    ids.sort_unstable();
    ids
}

fn build_peers(opts: &ArchiveOptions, rng: &mut Xoshiro256, topo: &mut Topology) -> Vec<APeer> {
    let initial = opts.full_peers + opts.partial_peers;
    let n = initial + opts.joining_peers;
    // Full and partial feeds shuffled among the initial peers; joiners are full.
    let mut full: Vec<bool> = (0..initial).map(|i| i < opts.full_peers).collect();
    for i in (1..initial).rev() {
        full.swap(i, rng.below_usize(i + 1));
    }
    full.extend(std::iter::repeat_n(true, opts.joining_peers));
    // ADD-PATH on every k-th initial peer.
    let step = initial.checked_div(opts.add_path_peers).unwrap_or(0).max(1);
    let (plo, phi) = (*opts.partial_fraction.start(), *opts.partial_fraction.end());
    let mut asns = HashSet::new();
    let mut addrs = HashSet::new();
    let mut peers = Vec::with_capacity(n);
    for (i, &is_full) in full.iter().enumerate() {
        let asn = loop {
            let r = rng.below(100);
            let a = if r < 25 {
                topo.tier1[rng.below_usize(topo.tier1.len())]
            } else if r < 70 {
                topo.transit[rng.below_usize(topo.transit.len())]
            } else {
                let four = rng.below(100) < 35;
                topo.fresh_asn(rng, four)
            };
            if asns.insert(a) {
                break a;
            }
        };
        topo.reserve(asn);
        let v6 = i % 3 == 2;
        let addr = loop {
            let a = if v6 {
                IpAddr::V6(Ipv6Addr::from(0x2001_07f8_0001u128 << 80 | u128::from(rng.range(1, 0xFFFF_FFFF))))
            } else {
                // AMS-IX's peering LAN, 80.249.208.0/21.
                IpAddr::V4(Ipv4Addr::from(0x50F9_D000 + rng.range(1, 0x7FE) as u32))
            };
            if addrs.insert(a) {
                break a;
            }
        };
        let bgp_id = match addr {
            IpAddr::V4(a) => u32::from(a),
            IpAddr::V6(_) => rng.next_u64() as u32 | 0x0100_0000,
        };
        let nh4 = match addr {
            IpAddr::V4(a) => a.octets(),
            IpAddr::V6(_) => (0x50F9_D800 + i as u32).to_be_bytes(),
        };
        let nh6 = match addr {
            IpAddr::V6(a) => a.octets(),
            IpAddr::V4(a) => (0x2001_07f8_0001u128 << 80 | u128::from(u32::from(a))).to_be_bytes(),
        };
        let carry = if is_full {
            Threshold::new(0.99)
        } else {
            Threshold::new(plo + (phi - plo) * rng.unit())
        };
        peers.push(APeer {
            addr,
            asn,
            bgp_id,
            nh4,
            nh6,
            seed: rng.next_u64(),
            carry,
            full: is_full,
            add_path: i < initial && opts.add_path_peers > 0 && i % step == 0 && i / step < opts.add_path_peers,
            med: rng.below(100) < 30,
            up_since: opts.start.saturating_sub(3600 + rng.below(60 * 86_400) as u32),
        });
    }
    peers
}

/// The session of a peer, as the generator drives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Session {
    /// A joiner before it connects.
    Absent,
    /// Established.
    Up,
    /// Reset, not reconnecting yet.
    Down,
    /// Walking back to Established.
    Connecting,
}

/// Something the generator does at a set time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    /// The second half of a flap.
    Reannounce {
        peer: u16,
        slot: u8,
        prefix: u32,
        route: Route,
        since: u32,
    },
    /// A planned reset of (preferably) this peer, for `down` seconds.
    Drop { peer: u16, down: u32 },
    /// Step `step` of the way back to Established (joins too).
    Step { peer: u16, step: u8 },
    /// The next second of a table transfer, from prefix `cursor`.
    Transfer { peer: u16, cursor: u32 },
    /// A peer's withdrawal of an outage's origin.
    OutageDown { outage: u8, peer: u16 },
    /// A peer's announcements again at an outage's end.
    OutageUp { outage: u8, peer: u16 },
}

/// An outage as it goes, per peer.
struct DownState {
    /// Withdrawn, not announced again yet.
    withdrawn: Vec<bool>,
    /// The routes to announce again: (prefix, path slot, route).
    captured: Vec<Vec<(u32, u8, Route)>>,
}

/// The way from Idle to Established: (seconds after the step before, what).
const CONNECT: &[(u32, Step)] = &[
    (0, Step::State(1, 2)),
    (0, Step::State(2, 3)),
    (1, Step::State(3, 4)),
    (0, Step::Open),
    (0, Step::State(4, 5)),
    (1, Step::Keepalive),
    (0, Step::State(5, ESTABLISHED)),
];

#[derive(Clone, Copy, Debug)]
enum Step {
    State(u16, u16),
    Open,
    Keepalive,
}

/// Kinds of background UPDATE.
#[derive(Clone, Copy, Debug)]
enum Op {
    Change,
    Withdraw,
    Announce,
    Flap,
    Phantom,
    Mixed,
}

/// The generator's state: the model and what it has written.
struct Sim<'a> {
    u: &'a Universe<'a>,
    /// Per peer, per path slot, the route per prefix id.
    routes: Vec<Vec<Vec<Route>>>,
    session: Vec<Session>,
    /// When each peer's session last came up (RIB "originated" times).
    up_since: Vec<u32>,
    /// Listed in the peer tables of RIBs dumped from now on.
    listed: Vec<bool>,
    /// Peers with a table still to announce: the table.
    pending: Vec<Option<Vec<Vec<Route>>>>,
    /// Established peers, in index order.
    up: Vec<u16>,
    /// Peers reset and not Established again yet.
    resetting: Vec<bool>,
    /// With `keep_visible`, per prefix: the routes (peer, path slot) with
    /// its usual origin; empty otherwise.
    held: Vec<u16>,
    /// The outages, per peer.
    downs: Vec<DownState>,
    queue: BinaryHeap<std::cmp::Reverse<(u32, u64, Action)>>,
    seq: u64,
    /// Records of the file being written.
    buf: Vec<u8>,
    file_records: u64,
    /// (second, records in it) of the last record written.
    second: (u32, u64),
    instants: Vec<u32>,
    next_instant: usize,
    dir: &'a Path,
    path: AsPath,
    scratch: Vec<u8>,
    scratch2: Vec<u8>,
    summary: ArchiveSummary,
    nlri_count: Weighted<u8>,
    burst: Weighted<u8>,
    ops: Weighted<u8>,
    /// `origin_changes` in basis points.
    origin_change_bp: u64,
}

impl<'a> Sim<'a> {
    fn new(u: &'a Universe<'a>, dir: &'a Path) -> Self {
        let n = u.prefixes();
        let mut routes = Vec::with_capacity(u.peers.len());
        let mut session = Vec::with_capacity(u.peers.len());
        for (pi, peer) in u.peers.iter().enumerate() {
            if pi < u.initial {
                let slots: Vec<Vec<Route>> = (0..peer.slots())
                    .map(|s| (0..n as u32).into_par_iter().map(|p| u.initial_route(pi, p, s)).collect())
                    .collect();
                routes.push(slots);
                session.push(Session::Up);
            } else {
                routes.push((0..peer.slots()).map(|_| Vec::new()).collect());
                session.push(Session::Absent);
            }
        }
        let up = (0..u.initial as u16).collect();
        let held: Vec<u16> = if u.opts.keep_visible {
            (0..n as u32)
                .into_par_iter()
                .map(|p| {
                    let code = u.usual_code(p);
                    let c = routes
                        .iter()
                        .flatten()
                        .filter(|s| s.get(p as usize).is_some_and(|&r| r != 0 && origin_code(r) == code));
                    c.count() as u16
                })
                .collect()
        } else {
            Vec::new()
        };
        let summary = ArchiveSummary {
            guarded: held
                .iter()
                .enumerate()
                .filter(|&(p, &h)| h > 0 && !u.is_pinned(p as u32) && !u.is_aggregate(p as u32))
                .filter_map(|(p, _)| Some((u.prefix(p as u32)?, u.topo.origins[u.primary[p] as usize])))
                .collect(),
            ..ArchiveSummary::default()
        };
        let peers = u.peers.len();
        let downs = u
            .downs
            .iter()
            .map(|_| DownState {
                withdrawn: vec![false; peers],
                captured: vec![Vec::new(); peers],
            })
            .collect();
        Sim {
            u,
            routes,
            session,
            up_since: u.peers.iter().map(|p| p.up_since).collect(),
            listed: (0..u.peers.len()).map(|i| i < u.initial).collect(),
            pending: vec![None; u.peers.len()],
            up,
            resetting: vec![false; u.peers.len()],
            held,
            downs,
            queue: BinaryHeap::new(),
            seq: 0,
            buf: Vec::with_capacity(1 << 20),
            file_records: 0,
            second: (0, 0),
            instants: u.opts.truth_instants(),
            next_instant: 0,
            dir,
            path: AsPath::new(),
            scratch: Vec::with_capacity(1024),
            scratch2: Vec::with_capacity(1024),
            summary,
            nlri_count: Weighted::new(&[(1, 500), (2, 150), (3, 90), (4, 60), (6, 60), (10, 50), (16, 40), (24, 50)]),
            burst: Weighted::new(&[(1, 40), (2, 20), (3, 12), (4, 8), (6, 8), (10, 6), (20, 4), (40, 2)]),
            ops: Weighted::new(&[(0, 40), (1, 20), (2, 15), (3, 10), (4, 8), (5, 7)]),
            origin_change_bp: (u.opts.origin_changes * 10_000.0).round() as u64,
        }
    }

    fn schedule(&mut self, t: u32, a: Action) {
        self.seq += 1;
        self.queue.push(std::cmp::Reverse((t, self.seq, a)));
    }

    fn set_session(&mut self, pi: usize, s: Session) {
        self.session[pi] = s;
        self.up = (0..self.session.len() as u16)
            .filter(|&i| self.session[usize::from(i)] == Session::Up)
            .collect();
    }

    // ---- records ----

    /// Opens a BGP4MP record of peer `pi`; returns where its header starts.
    fn bgp4mp(&mut self, t: u32, pi: usize, subtype: u16) -> usize {
        let peer = &self.u.peers[pi];
        let (local_asn, l4, l6) = self.u.opts.layout.local();
        let hdr = start_mrt(&mut self.buf, t, mrt::code::BGP4MP, subtype);
        put_u32(&mut self.buf, peer.asn);
        put_u32(&mut self.buf, local_asn);
        put_u16(&mut self.buf, 0);
        match peer.addr {
            IpAddr::V4(a) => {
                put_u16(&mut self.buf, 1);
                self.buf.extend_from_slice(&a.octets());
                self.buf.extend_from_slice(&l4.octets());
            }
            IpAddr::V6(a) => {
                put_u16(&mut self.buf, 2);
                self.buf.extend_from_slice(&a.octets());
                self.buf.extend_from_slice(&l6.octets());
            }
        }
        let c = &mut self.summary.counts;
        c.records += 1;
        self.file_records += 1;
        if self.second.0 == t {
            self.second.1 += 1;
            c.same_second += 1;
        } else {
            self.second = (t, 1);
        }
        c.max_per_second = c.max_per_second.max(self.second.1);
        hdr
    }

    /// Fills in the lengths of the BGP message at `msg` and of the MRT
    /// record at `hdr`.
    fn close(&mut self, msg: usize, hdr: usize) {
        msg_finish(&mut self.buf, msg);
        finish_mrt(&mut self.buf, hdr);
    }

    fn state_change(&mut self, t: u32, pi: usize, old: u16, new: u16) {
        let hdr = self.bgp4mp(t, pi, mrt::subtype::STATE_CHANGE_AS4);
        put_u16(&mut self.buf, old);
        put_u16(&mut self.buf, new);
        finish_mrt(&mut self.buf, hdr);
        self.summary.counts.state_changes += 1;
    }

    fn keepalive(&mut self, t: u32, pi: usize) {
        let hdr = self.bgp4mp(t, pi, mrt::subtype::MESSAGE_AS4);
        let m = msg_start(&mut self.buf, bgp::message::KEEPALIVE);
        self.close(m, hdr);
        self.summary.counts.keepalives += 1;
    }

    fn open(&mut self, t: u32, pi: usize) {
        let hdr = self.bgp4mp(t, pi, mrt::subtype::MESSAGE_AS4);
        let peer = &self.u.peers[pi];
        put_open(&mut self.buf, peer.asn, 180, peer.bgp_id, true, peer.add_path);
        finish_mrt(&mut self.buf, hdr);
        self.summary.counts.opens += 1;
    }

    /// One UPDATE of peer `pi` (one family): `withdraw` then `announce`
    /// (all with `route`), applied to the model. With `keep_visible`, an
    /// announcement that would replace the last route of a prefix with
    /// its usual origin by one with another is left out (and the UPDATE
    /// with it when nothing is left).
    fn update(&mut self, t: u32, pi: usize, withdraw: &[(u32, u8)], announce: &[(u32, u8)], r: Route) {
        if self.held.is_empty() {
            return self.write_update(t, pi, withdraw, announce, r);
        }
        let u = self.u;
        let code = origin_code(r);
        let keep = |&(p, s): &(u32, u8)| {
            let usual = u.usual_code(p);
            let cur = self.routes[pi][usize::from(s)][p as usize];
            code == usual || cur == 0 || origin_code(cur) != usual || self.held[p as usize] > 1
        };
        let ann: Vec<(u32, u8)> = announce.iter().copied().filter(keep).collect();
        self.summary.counts.kept_visible += (announce.len() - ann.len()) as u64;
        if !withdraw.is_empty() || !ann.is_empty() {
            self.write_update(t, pi, withdraw, &ann, r);
        }
    }

    /// Whether the background may take peer `pi`'s route for `p` in slot
    /// `s` away: with `keep_visible`, not the last with `p`'s usual origin.
    fn removable(&self, pi: usize, s: usize, p: u32) -> bool {
        if self.held.is_empty() {
            return true;
        }
        let r = self.routes[pi][s][p as usize];
        r == 0 || self.held[p as usize] > 1 || origin_code(r) != self.u.usual_code(p)
    }

    /// [`Sim::update`] as asked.
    fn write_update(&mut self, t: u32, pi: usize, withdraw: &[(u32, u8)], announce: &[(u32, u8)], r: Route) {
        let u = self.u;
        let peer = &u.peers[pi];
        let add_path = peer.add_path;
        let id = |slot: u8| add_path.then_some(u32::from(slot) + 1);
        let first = withdraw.first().or(announce.first()).map_or(0, |x| x.0);
        let v6 = u.is_v6(first);
        self.scratch.clear();
        self.scratch2.clear();
        for &(p, s) in withdraw {
            u.put_nlri(&mut self.scratch2, p, id(s));
        }
        for &(p, s) in announce {
            u.put_nlri(&mut self.scratch, p, id(s));
        }
        let subtype = if add_path { MESSAGE_AS4_ADDPATH } else { mrt::subtype::MESSAGE_AS4 };
        let hdr = self.bgp4mp(t, pi, subtype);
        let m = msg_start(&mut self.buf, bgp::message::UPDATE);
        if v6 {
            put_u16(&mut self.buf, 0);
        } else {
            put_u16(&mut self.buf, self.scratch2.len() as u16);
            self.buf.extend_from_slice(&self.scratch2);
        }
        let alen = self.buf.len();
        put_u16(&mut self.buf, 0);
        let astart = self.buf.len();
        if !announce.is_empty() {
            u.attrs(&mut self.buf, &mut self.path, pi, first, r, v6);
            if v6 {
                let nh = peer.nh6;
                attr_mp_reach(&mut self.buf, 2, 1, &nh, &self.scratch);
            }
        }
        if v6 && !withdraw.is_empty() {
            attr_mp_unreach(&mut self.buf, 2, 1, &self.scratch2);
        }
        let len = self.buf.len() - astart;
        patch_u16(&mut self.buf, alen, len as u16);
        if !v6 {
            self.buf.extend_from_slice(&self.scratch);
        }
        self.close(m, hdr);
        // The model.
        let c = &mut self.summary.counts;
        c.updates += 1;
        let keep = !self.held.is_empty();
        for &(p, s) in withdraw {
            c.withdrawn += 1;
            let slot = &mut self.routes[pi][usize::from(s)][p as usize];
            if *slot == 0 {
                c.withdrawn_nothing += 1;
            }
            let old = std::mem::replace(slot, 0);
            if keep && old != 0 && origin_code(old) == u.usual_code(p) {
                self.held[p as usize] -= 1;
            }
        }
        for &(p, s) in announce {
            c.announced += 1;
            c.ipv6_announced += u64::from(v6);
            c.as_set_announced += u64::from(r & SET_BIT != 0);
            if add_path {
                c.add_path_announced += 1;
                if s > 0 && self.routes[pi][0][p as usize] != 0 {
                    c.second_paths += 1;
                }
            }
            let slot = &mut self.routes[pi][usize::from(s)][p as usize];
            match *slot {
                0 => c.new_routes += 1,
                old if origin_code(old) == origin_code(r) => c.path_changes += 1,
                _ => c.origin_changes += 1,
            }
            let old = std::mem::replace(slot, r);
            if keep {
                let usual = u.usual_code(p);
                let h = &mut self.held[p as usize];
                *h = *h - u16::from(old != 0 && origin_code(old) == usual) + u16::from(origin_code(r) == usual);
            }
        }
    }

    fn end_of_rib(&mut self, t: u32, pi: usize) {
        let subtype = if self.u.peers[pi].add_path {
            MESSAGE_AS4_ADDPATH
        } else {
            mrt::subtype::MESSAGE_AS4
        };
        let hdr = self.bgp4mp(t, pi, subtype);
        let m = msg_start(&mut self.buf, bgp::message::UPDATE);
        put_u16(&mut self.buf, 0);
        put_u16(&mut self.buf, 0);
        self.close(m, hdr);
        self.summary.counts.updates += 1;
    }

    // ---- what happens ----

    /// The first prefix id at or after `start` (cyclically, within its
    /// family, at most `SCAN` looked at, pinned ones left out) for which
    /// `f` holds.
    fn scan(&self, start: u32, f: impl Fn(u32) -> bool) -> Option<u32> {
        let fam = self.u.family(start);
        let len = fam.end - fam.start;
        (0..len.min(SCAN as u32))
            .map(|i| fam.start + (start - fam.start + i) % len)
            .find(|&p| !self.u.is_pinned(p) && f(p))
    }

    /// Up to `k` prefixes from `first` on (same family, consecutive ids
    /// looked at, at most 4 k, pinned ones left out) for which `f` holds,
    /// `first` included.
    fn run(&self, first: u32, k: usize, f: impl Fn(u32) -> bool) -> Vec<u32> {
        let end = self.u.family(first).end;
        let mut out = vec![first];
        let mut p = first + 1;
        while out.len() < k && p < end && p < first + 4 * k as u32 {
            if !self.u.is_pinned(p) && f(p) {
                out.push(p);
            }
            p += 1;
        }
        out
    }

    /// One background record at `t`.
    fn background(&mut self, t: u32, rng: &mut Xoshiro256) {
        if self.up.is_empty() {
            return;
        }
        let u = self.u;
        // Noisy peers first: low positions of the Established list.
        let x = rng.unit();
        let pi = usize::from(self.up[((x * x * self.up.len() as f64) as usize).min(self.up.len() - 1)]);
        if rng.below(100) < 3 {
            self.keepalive(t, pi);
            return;
        }
        let slots = u.peers[pi].slots();
        let s = rng.below_usize(slots);
        let s8 = s as u8;
        let p0 = rng.below(u.prefixes() as u64) as u32;
        let k = usize::from(self.nlri_count.sample(rng));
        let mut op = match self.ops.sample(rng) {
            0 => Op::Change,
            1 => Op::Withdraw,
            2 => Op::Announce,
            3 => Op::Flap,
            4 => Op::Phantom,
            _ => Op::Mixed,
        };
        let held = |p: u32| self.routes[pi][s][p as usize] != 0;
        let first_held = self.scan(p0, held);
        // Routes the background may take away (see `removable`): the
        // first from `first_held` on.
        let gone = |p: u32| held(p) && self.removable(pi, s, p);
        let first_gone = first_held.and_then(|p| self.scan(p, gone));
        if first_gone.is_none() && matches!(op, Op::Withdraw | Op::Flap | Op::Mixed) && first_held.is_some() {
            self.summary.counts.kept_visible += 1;
            self.keepalive(t, pi);
            return;
        }
        if first_held.is_none() && matches!(op, Op::Change | Op::Withdraw | Op::Flap | Op::Mixed) {
            op = Op::Announce;
        }
        match (op, first_held) {
            (Op::Change, Some(p)) => {
                let cur = self.routes[pi][s][p as usize];
                let code = origin_code(cur);
                let origin = if rng.below(10_000) < self.origin_change_bp {
                    let other = u.other_origin(p);
                    if origin_index(cur) == other {
                        u.primary[p as usize]
                    } else {
                        other
                    }
                } else {
                    origin_index(cur)
                };
                let v = (variant(cur) + 1 + rng.below(u64::from(VARIANTS) - 1) as u32) % VARIANTS;
                let agg = u.is_aggregate(p);
                let r = route(origin, v, agg);
                let group = if agg {
                    vec![p]
                } else {
                    self.run(p, k, |q| {
                        let c = self.routes[pi][s][q as usize];
                        c != 0 && origin_code(c) == code && !u.is_aggregate(q)
                    })
                };
                let ann: Vec<(u32, u8)> = group.into_iter().map(|q| (q, s8)).collect();
                if self.suppressed(pi, r).is_some() {
                    self.keepalive(t, pi);
                } else {
                    self.update(t, pi, &[], &ann, r);
                }
            }
            (Op::Withdraw, Some(_)) => {
                let p = first_gone.unwrap_or_default();
                let wd: Vec<(u32, u8)> = self.run(p, k, gone).into_iter().map(|q| (q, s8)).collect();
                self.update(t, pi, &wd, &[], 0);
            }
            (Op::Flap, Some(_)) => {
                let p = first_gone.unwrap_or_default();
                let r = self.routes[pi][s][p as usize];
                self.update(t, pi, &[(p, s8)], &[], 0);
                let delay = match rng.below(10) {
                    0..=2 => 0,
                    3..=6 => 1 + rng.below(5) as u32,
                    _ => 5 + rng.below(115) as u32,
                };
                // Now and then the route comes back on another path.
                let r = if rng.below(10) < 3 {
                    (r & !(0xF << VARIANT_SHIFT)) | ((variant(r) + 1) % VARIANTS) << VARIANT_SHIFT
                } else {
                    r
                };
                self.schedule(
                    t + delay,
                    Action::Reannounce {
                        peer: pi as u16,
                        slot: s8,
                        prefix: p,
                        route: r,
                        since: t,
                    },
                );
            }
            (Op::Mixed, Some(_)) => {
                let p = first_gone.unwrap_or_default();
                let wd: Vec<(u32, u8)> = self.run(p, k.div_ceil(2), gone).into_iter().map(|q| (q, s8)).collect();
                let free = |q: u32| self.routes[pi][s][q as usize] == 0 && u.carries(pi, q) && !u.is_aggregate(q);
                match self.scan(p0, free) {
                    Some(a) => {
                        let r = u.default_route(pi, a, s, rng.next_u64());
                        let code = origin_code(r);
                        let group = self.run(a, k.div_ceil(2), |q| {
                            free(q) && origin_code(u.default_route(pi, q, s, 0)) == code && !wd.iter().any(|w| w.0 == q)
                        });
                        let ann: Vec<(u32, u8)> = group.into_iter().map(|q| (q, s8)).collect();
                        if self.suppressed(pi, r).is_some() {
                            self.update(t, pi, &wd, &[], 0);
                        } else {
                            self.update(t, pi, &wd, &ann, r);
                        }
                    }
                    None => self.update(t, pi, &wd, &[], 0),
                }
            }
            (Op::Phantom, _) => {
                let free = |q: u32| self.routes[pi][s][q as usize] == 0;
                if let Some(p) = self.scan(p0, free) {
                    let wd: Vec<(u32, u8)> = self.run(p, k.min(4), free).into_iter().map(|q| (q, s8)).collect();
                    self.update(t, pi, &wd, &[], 0);
                } else {
                    self.keepalive(t, pi);
                }
            }
            _ => {
                // A new route: in the peer's feed, on a second path where
                // the first is there.
                let free =
                    |q: u32| self.routes[pi][s][q as usize] == 0 && u.carries(pi, q) && (s == 0 || self.routes[pi][0][q as usize] != 0);
                let any_free = |q: u32| self.routes[pi][s][q as usize] == 0;
                match self.scan(p0, free).or_else(|| self.scan(p0, any_free)) {
                    Some(p) => {
                        let r = u.default_route(pi, p, s, rng.next_u64());
                        let group = if u.is_aggregate(p) {
                            vec![p]
                        } else {
                            let code = origin_code(r);
                            self.run(p, k, |q| {
                                free(q) && !u.is_aggregate(q) && origin_code(u.default_route(pi, q, s, 0)) == code
                            })
                        };
                        let ann: Vec<(u32, u8)> = group.into_iter().map(|q| (q, s8)).collect();
                        if self.suppressed(pi, r).is_some() {
                            self.keepalive(t, pi);
                        } else {
                            self.update(t, pi, &[], &ann, r);
                        }
                    }
                    None => self.keepalive(t, pi),
                }
            }
        }
    }

    /// Runs a planned action at `t`.
    fn act(&mut self, t: u32, a: Action) {
        match a {
            Action::Reannounce {
                peer,
                slot,
                prefix,
                route,
                since,
            } => {
                let pi = usize::from(peer);
                // Not once the session went down in between, nor while
                // the route's origin is withdrawn.
                if self.session[pi] == Session::Up && self.up_since[pi] <= since && self.suppressed(pi, route).is_none() {
                    self.update(t, pi, &[], &[(prefix, slot)], route);
                    self.summary.counts.flaps += 1;
                    self.summary.counts.flaps_same_second += u64::from(t == since);
                }
            }
            Action::Drop { peer, down } => {
                // The planned peer, or the next one that is Established
                // and announces no table.
                let n = self.u.initial;
                let idle = |i: usize| self.session[i] == Session::Up && self.pending[i].is_none();
                let Some(pi) = (0..n).map(|i| (usize::from(peer) + i) % n).find(|&i| idle(i) && self.can_reset(i)) else {
                    return;
                };
                // Down, back, and the table announced again, clear of the
                // outages' starts and ends.
                let span = down + 10 + (self.u.prefixes() * self.u.peers[pi].slots()) as u32 / self.u.opts.transfer_rate;
                let at = self.u.opts.clear_of_both(t, 0, span);
                if at != t {
                    self.schedule(at, Action::Drop { peer: pi as u16, down });
                    return;
                }
                self.state_change(t, pi, ESTABLISHED, IDLE);
                self.summary.counts.resets += 1;
                if !self.held.is_empty() {
                    let u = self.u;
                    for slot in &self.routes[pi] {
                        for (p, &r) in slot.iter().enumerate() {
                            if r != 0 && origin_code(r) == u.usual_code(p as u32) {
                                self.held[p] -= 1;
                            }
                        }
                    }
                }
                let empty: Vec<Vec<Route>> = (0..self.u.peers[pi].slots()).map(|_| vec![0; self.u.prefixes()]).collect();
                self.pending[pi] = Some(std::mem::replace(&mut self.routes[pi], empty));
                self.set_session(pi, Session::Down);
                self.resetting[pi] = true;
                let back = self.u.opts.clear_of_ribs(t + down, 3);
                self.schedule(back, Action::Step { peer: pi as u16, step: 0 });
            }
            Action::Step { peer, step } => {
                let pi = usize::from(peer);
                if step == 0 && self.session[pi] == Session::Absent {
                    self.summary.counts.joins += 1;
                }
                self.set_session(pi, Session::Connecting);
                match CONNECT[usize::from(step)].1 {
                    Step::State(old, new) => self.state_change(t, pi, old, new),
                    Step::Open => self.open(t, pi),
                    Step::Keepalive => self.keepalive(t, pi),
                }
                match CONNECT.get(usize::from(step) + 1) {
                    Some(&(delay, _)) => self.schedule(t + delay, Action::Step { peer, step: step + 1 }),
                    None => {
                        // Established: an empty state, then the table.
                        self.set_session(pi, Session::Up);
                        self.resetting[pi] = false;
                        self.up_since[pi] = t;
                        self.listed[pi] = true;
                        let n = self.u.prefixes();
                        if self.routes[pi].iter().any(|s| s.len() != n) {
                            self.routes[pi] = (0..self.u.peers[pi].slots()).map(|_| vec![0; n]).collect();
                        }
                        if self.pending[pi].is_none() {
                            let u = self.u;
                            let table = (0..u.peers[pi].slots())
                                .map(|s| (0..n as u32).into_par_iter().map(|p| u.initial_route(pi, p, s)).collect())
                                .collect();
                            self.pending[pi] = Some(table);
                        }
                        self.schedule(t, Action::Transfer { peer, cursor: 0 });
                    }
                }
            }
            Action::Transfer { peer, cursor } => self.transfer(t, usize::from(peer), cursor),
            Action::OutageDown { outage, peer } => self.outage_down(t, usize::from(outage), usize::from(peer)),
            Action::OutageUp { outage, peer } => self.outage_up(t, usize::from(outage), usize::from(peer)),
        }
    }

    /// The outage (index) whose origin `pi` has withdrawn and not
    /// announced again, if `r` has that origin.
    fn suppressed(&self, pi: usize, r: Route) -> Option<usize> {
        if r == 0 || r & SET_BIT != 0 {
            return None;
        }
        let o = origin_index(r);
        self.u
            .downs
            .iter()
            .zip(&self.downs)
            .position(|(d, st)| d.origin == o && st.withdrawn[pi])
    }

    /// Whether resetting `pi`'s session leaves, with `keep_visible`, every
    /// prefix it has with its usual origin to another route.
    fn can_reset(&self, pi: usize) -> bool {
        if self.held.is_empty() {
            return true;
        }
        let u = self.u;
        let routes = &self.routes[pi];
        (0..u.prefixes() as u32).into_par_iter().all(|p| {
            let code = u.usual_code(p);
            let mine = routes
                .iter()
                .filter(|s| s.get(p as usize).is_some_and(|&r| r != 0 && origin_code(r) == code))
                .count();
            mine == 0 || usize::from(self.held[p as usize]) > mine
        })
    }

    /// Peer `pi` withdraws its routes with outage `k`'s origin (when its
    /// session is down, its table is held back when it comes up).
    fn outage_down(&mut self, t: u32, k: usize, pi: usize) {
        self.downs[k].withdrawn[pi] = true;
        if self.session[pi] != Session::Up {
            return;
        }
        let u = self.u;
        let origin = u.downs[k].origin;
        // Wherever the origin is: its usual prefixes, a second origin's,
        // those an origin change brought it to.
        let mut gone: Vec<(u32, u8, Route)> = Vec::new();
        for (s, slot) in self.routes[pi].iter().enumerate() {
            for (p, &r) in slot.iter().enumerate() {
                if r != 0 && r & SET_BIT == 0 && origin_index(r) == origin {
                    gone.push((p as u32, s as u8, r));
                }
            }
        }
        // One UPDATE per path slot and family, as many prefixes as fit.
        let mut wd: Vec<(u8, bool, u32)> = gone.iter().map(|&(p, s, _)| (s, u.is_v6(p), p)).collect();
        wd.sort_unstable();
        for run in wd.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            for part in run.chunks(MAX_NLRI) {
                let w: Vec<(u32, u8)> = part.iter().map(|x| (x.2, x.0)).collect();
                self.update(t, pi, &w, &[], 0);
            }
        }
        self.summary.outages[k].routes_withdrawn += gone.len() as u64;
        self.downs[k].captured[pi].extend(gone);
    }

    /// Peer `pi` announces again what it withdrew for outage `k` (into its
    /// table, when its session is down).
    fn outage_up(&mut self, t: u32, k: usize, pi: usize) {
        self.downs[k].withdrawn[pi] = false;
        let mut back = std::mem::take(&mut self.downs[k].captured[pi]);
        // The last route captured per (prefix, slot).
        back.reverse();
        back.sort_by_key(|x| (x.0, x.1));
        back.dedup_by_key(|x| (x.0, x.1));
        if self.session[pi] != Session::Up {
            if let Some(table) = self.pending[pi].as_mut() {
                for &(p, s, r) in &back {
                    table[usize::from(s)][p as usize] = r;
                }
            }
            return;
        }
        let u = self.u;
        let mut batch: Vec<(u8, bool, Route, u32)> = back.iter().map(|&(p, s, r)| (s, u.is_v6(p), r, p)).collect();
        batch.sort_unstable();
        for run in batch.chunk_by(|a, b| (a.0, a.1, a.2) == (b.0, b.1, b.2)) {
            for part in run.chunks(MAX_NLRI) {
                let ann: Vec<(u32, u8)> = part.iter().map(|x| (x.3, x.0)).collect();
                self.update(t, pi, &[], &ann, part[0].2);
            }
        }
        self.summary.outages[k].routes_announced += back.len() as u64;
    }

    /// One second of peer `pi` announcing its table from prefix `cursor`.
    fn transfer(&mut self, t: u32, pi: usize, cursor: u32) {
        if self.session[pi] != Session::Up {
            self.pending[pi] = None;
            return;
        }
        let Some(table) = self.pending[pi].take() else { return };
        let u = self.u;
        let n = u.prefixes() as u32;
        let mut budget = u.opts.transfer_rate;
        let mut p = cursor;
        // This second's routes, grouped as a router packs them: one UPDATE
        // per path slot, family and route (an AS_SET's prefix alone).
        let mut batch: Vec<(usize, bool, Route, u32)> = Vec::with_capacity(budget as usize);
        // Routes of an origin the peer has withdrawn wait for its end.
        let holding = self.downs.iter().any(|d| d.withdrawn[pi]);
        while p < n && budget > 0 {
            for (s, slot) in table.iter().enumerate() {
                let r = slot[p as usize];
                let suppressed = if holding { self.suppressed(pi, r) } else { None };
                if let Some(k) = suppressed {
                    self.downs[k].captured[pi].push((p, s as u8, r));
                } else if r != 0 {
                    batch.push((s, u.is_v6(p), r, p));
                    budget = budget.saturating_sub(1);
                }
            }
            p += 1;
        }
        self.summary.counts.transfer_routes += batch.len() as u64;
        batch.sort_unstable();
        for run in batch.chunk_by(|a, b| (a.0, a.1, a.2) == (b.0, b.1, b.2) && a.2 & SET_BIT == 0) {
            for part in run.chunks(MAX_NLRI) {
                let ann: Vec<(u32, u8)> = part.iter().map(|x| (x.3, x.0 as u8)).collect();
                self.update(t, pi, &[], &ann, part[0].2);
            }
        }
        if p < n {
            self.pending[pi] = Some(table);
            self.schedule(
                t + 1,
                Action::Transfer {
                    peer: pi as u16,
                    cursor: p,
                },
            );
        } else {
            self.end_of_rib(t, pi);
            self.summary.counts.transfers += 1;
        }
    }

    // ---- planning and files ----

    /// Plans the resets and the joins. The first reset keeps its peer down
    /// over a truth instant (a third of the way), the first join comes 10
    /// minutes before another (half way); the others fall at random.
    fn plan(&mut self) {
        let u = self.u;
        let o = u.opts;
        let (start, span) = (o.start, o.duration.saturating_sub(180).max(1));
        let mut rng = Xoshiro256::new(hash2(u.seed, 0x91A));
        let third = (self.instants.len() >= 3).then(|| self.instants[self.instants.len() / 3]);
        let half = (self.instants.len() >= 3).then(|| self.instants[self.instants.len() / 2]);
        for i in 0..o.resets {
            let (t, down) = match third {
                Some(at) if i == 0 => (at.saturating_sub(90), 300),
                _ => (start + 60 + rng.below(u64::from(span)) as u32, 60 + rng.below(840) as u32),
            };
            let peer = rng.below_usize(u.initial) as u16;
            self.schedule(t.max(start), Action::Drop { peer, down });
        }
        for j in 0..o.joining_peers {
            let t = match half {
                Some(at) if j == 0 => at.saturating_sub(600),
                _ => start + 60 + rng.below(u64::from(span)) as u32,
            };
            let peer = u.initial + j;
            let transfer = (u.prefixes() * u.peers[peer].slots()) as u32 / o.transfer_rate;
            let t = o.clear_of_both(t.max(start), 3, 13 + transfer);
            self.schedule(
                t,
                Action::Step {
                    peer: peer as u16,
                    step: 0,
                },
            );
        }
        // Each peer's withdrawal and announcement again of every outage.
        for (k, d) in u.downs.iter().enumerate() {
            let (mut down, mut up) = ((u32::MAX, 0), (u32::MAX, 0));
            for pi in 0..u.peers.len() {
                let h = hash2(u.seed ^ 0x0D0, (k as u64) << 32 | pi as u64);
                let a = d.start + (h % (u64::from(d.spread) + 1)) as u32;
                let b = d.end + ((h >> 32) % (u64::from(d.spread) + 1)) as u32;
                (down, up) = ((down.0.min(a), down.1.max(a)), (up.0.min(b), up.1.max(b)));
                let (outage, peer) = (k as u8, pi as u16);
                self.schedule(a, Action::OutageDown { outage, peer });
                self.schedule(b, Action::OutageUp { outage, peer });
            }
            self.summary.outages.push(OutageSummary {
                asn: u.topo.origins[d.origin as usize],
                start: d.start,
                end: d.end,
                prefixes: d.prefixes.iter().filter_map(|&p| u.prefix(p)).collect(),
                withdrawn: down,
                announced: up,
                routes_withdrawn: 0,
                routes_announced: 0,
            });
        }
    }

    /// Writes the updates file of window `w`, which starts at `s`.
    fn window(&mut self, w: usize, s: u32) -> Result<(), SynthError> {
        let o = self.u.opts;
        let end = s + o.updates_interval;
        let mut rng = Xoshiro256::new(hash2(self.u.seed ^ 0x3717, w as u64));
        let n = (o.messages_per_file as f64 * (0.8 + 0.4 * rng.unit())).round() as usize;
        let mut times: Vec<u32> = Vec::with_capacity(n + 8);
        while times.len() < n {
            let b = usize::from(self.burst.sample(&mut rng)).min(n - times.len());
            let sec = s + rng.below(u64::from(o.updates_interval)) as u32;
            times.extend(std::iter::repeat_n(sec, b));
        }
        // Several records in the second of each truth instant.
        for &at in self.instants.iter().filter(|&&at| at >= s && at < end) {
            times.extend([at; 3]);
        }
        times.sort_unstable();
        self.buf.clear();
        self.file_records = 0;
        let mut i = 0;
        loop {
            let bg = times.get(i).copied();
            let q = self.queue.peek().map(|r| r.0 .0).filter(|&q| q < end);
            match (q, bg) {
                (Some(q), b) if b.is_none_or(|b| q <= b) => {
                    let Some(std::cmp::Reverse((_, _, a))) = self.queue.pop() else {
                        break;
                    };
                    self.flush_truth(q)?;
                    self.act(q, a);
                }
                (_, Some(b)) => {
                    i += 1;
                    self.flush_truth(b)?;
                    self.background(b, &mut rng);
                }
                _ => break,
            }
        }
        let rel = o.updates_path(s);
        let path = self.dir.join(&rel);
        create_parent(&path)?;
        let buf = &self.buf;
        super::write_to(&path, o.layout.compression(), |wr| wr.write_all(buf).map_err(SynthError::from))?;
        self.summary.updates.push(ArchiveFile {
            path: rel,
            time: s,
            records: self.file_records,
            bytes: self.buf.len() as u64,
        });
        Ok(())
    }

    /// Writes the truth of every instant before `t`.
    fn flush_truth(&mut self, t: u32) -> Result<(), SynthError> {
        while let Some(&at) = self.instants.get(self.next_instant).filter(|&&at| at < t) {
            self.next_instant += 1;
            if self.second.0 == at && self.second.1 >= 2 {
                self.summary.burst_instants.push(at);
            }
            if self.resetting.iter().any(|&r| r) {
                self.summary.down_instants.push(at);
            }
            if self.listed[self.u.initial..].iter().any(|&l| l) {
                self.summary.joined_instants.push(at);
            }
            self.write_truth(at)?;
        }
        Ok(())
    }

    /// Writes the true pairs at `at`: the model now.
    fn write_truth(&mut self, at: u32) -> Result<(), SynthError> {
        let rel = self.u.opts.truth_path(at);
        let path = self.dir.join(&rel);
        create_parent(&path)?;
        let mut f = std::io::BufWriter::with_capacity(1 << 20, fs::File::create(&path)?);
        let (mut lines, mut bytes) = (0u64, 0u64);
        let this = &*self;
        for batch in chunks(this.u.prefixes()).chunks(4 * rayon::current_num_threads()) {
            let outs: Vec<(Vec<u8>, u64)> = batch.par_iter().map(|&(a, b)| this.truth_chunk(a, b)).collect();
            for (out, n) in outs {
                f.write_all(&out)?;
                lines += n;
                bytes += out.len() as u64;
            }
        }
        f.flush()?;
        self.summary.truths.push(ArchiveFile {
            path: rel,
            time: at,
            records: lines,
            bytes,
        });
        Ok(())
    }

    /// The pairs lines of prefixes `a..b`, and how many.
    fn truth_chunk(&self, a: u32, b: u32) -> (Vec<u8>, u64) {
        let u = self.u;
        let mut out = Vec::with_capacity((b - a) as usize * 32);
        let mut lines = 0;
        let mut routes: Vec<(u32, u32)> = Vec::new();
        let mut rows: Vec<(Origin, u32)> = Vec::new();
        for p in a..b {
            routes.clear();
            for (pi, slots) in self.routes.iter().enumerate() {
                for slot in slots {
                    if let Some(&r) = slot.get(p as usize).filter(|&&r| r != 0) {
                        routes.push((origin_code(r), pi as u32));
                    }
                }
            }
            if routes.is_empty() {
                continue;
            }
            // An ADD-PATH peer with two paths to one origin counts once.
            routes.sort_unstable();
            routes.dedup();
            rows.clear();
            for run in routes.chunk_by(|x, y| x.0 == y.0) {
                let origin = match run[0].0 {
                    SET_CODE => Origin::Set(u.set_members(p)),
                    i => Origin::Asn(u.topo.origins[i as usize]),
                };
                rows.push((origin, run.len() as u32));
            }
            // The snapshot's row order: an AS, by number, before a set.
            rows.sort_unstable();
            let Some(prefix) = u.prefix(p) else { continue };
            for (origin, peers) in &rows {
                prefix.write_to(&mut out);
                out.push(b'\t');
                match origin {
                    Origin::Asn(a) => crate::fmt::write_u32(&mut out, *a),
                    Origin::Set(s) => {
                        out.push(b'{');
                        for (i, a) in s.iter().enumerate() {
                            if i > 0 {
                                out.push(b',');
                            }
                            crate::fmt::write_u32(&mut out, *a);
                        }
                        out.push(b'}');
                    }
                    Origin::None => out.push(b'-'),
                }
                out.push(b'\t');
                crate::fmt::write_u32(&mut out, *peers);
                out.push(b'\n');
                lines += 1;
            }
        }
        (out, lines)
    }

    /// Dumps the model at `t` as a TABLE_DUMP_V2 RIB.
    fn write_rib(&mut self, t: u32) -> Result<(), SynthError> {
        let u = self.u;
        let rel = u.opts.rib_path(t);
        let path = self.dir.join(&rel);
        create_parent(&path)?;
        let listed: Vec<usize> = (0..u.peers.len()).filter(|&i| self.listed[i]).collect();
        let mut index = vec![u16::MAX; u.peers.len()];
        for (k, &i) in listed.iter().enumerate() {
            index[i] = k as u16;
        }
        let this = &*self;
        let (records, bytes) = super::write_to(&path, u.opts.layout.compression(), |w| {
            let mut head = Vec::new();
            this.peer_index_table(&mut head, t, &listed);
            w.write_all(&head)?;
            let (mut records, mut bytes, mut seq) = (1u64, head.len() as u64, 0u32);
            for batch in chunks(u.prefixes()).chunks(4 * rayon::current_num_threads()) {
                let outs: Vec<(Vec<u8>, Vec<usize>)> = batch.par_iter().map(|&(a, b)| this.rib_chunk(t, a, b, &index)).collect();
                for (mut out, at) in outs {
                    for pos in at {
                        out[pos..pos + 4].copy_from_slice(&seq.to_be_bytes());
                        seq = seq.wrapping_add(1);
                        records += 1;
                    }
                    w.write_all(&out)?;
                    bytes += out.len() as u64;
                }
            }
            Ok((records, bytes))
        })?;
        self.summary.ribs.push(ArchiveFile {
            path: rel,
            time: t,
            records,
            bytes,
        });
        self.summary.rib_peers.push(listed.len());
        Ok(())
    }

    fn peer_index_table(&self, buf: &mut Vec<u8>, t: u32, listed: &[usize]) {
        let hdr = start_mrt(buf, t, mrt::code::TABLE_DUMP_V2, mrt::subtype::PEER_INDEX_TABLE);
        buf.extend_from_slice(&self.u.opts.layout.local().1.octets());
        put_u16(buf, 0);
        put_u16(buf, listed.len() as u16);
        for &i in listed {
            let p = &self.u.peers[i];
            // Address family bit, 4-byte AS bit.
            buf.push(u8::from(p.addr.is_ipv6()) | 2);
            put_u32(buf, p.bgp_id);
            match p.addr {
                IpAddr::V4(a) => buf.extend_from_slice(&a.octets()),
                IpAddr::V6(a) => buf.extend_from_slice(&a.octets()),
            }
            put_u32(buf, p.asn);
        }
        finish_mrt(buf, hdr);
    }

    /// The RIB records of prefixes `a..b` (sequence numbers left 0), and
    /// where their sequence numbers go.
    fn rib_chunk(&self, t: u32, a: u32, b: u32, index: &[u16]) -> (Vec<u8>, Vec<usize>) {
        let u = self.u;
        let mut out = Vec::with_capacity((b - a) as usize * 64 * u.peers.len().min(64));
        let mut seq_at = Vec::new();
        let mut path = AsPath::new();
        for p in a..b {
            let v6 = u.is_v6(p);
            // Plain sessions' entries, then the ADD-PATH sessions' ones.
            for add_path in [false, true] {
                let subtype = match (v6, add_path) {
                    (false, false) => mrt::subtype::RIB_IPV4_UNICAST,
                    (true, false) => mrt::subtype::RIB_IPV6_UNICAST,
                    (false, true) => mrt::subtype::RIB_IPV4_UNICAST_ADDPATH,
                    (true, true) => mrt::subtype::RIB_IPV6_UNICAST_ADDPATH,
                };
                let mut record: Option<(usize, usize)> = None;
                let mut entries = 0u16;
                for (pi, peer) in u.peers.iter().enumerate() {
                    if peer.add_path != add_path || index[pi] == u16::MAX {
                        continue;
                    }
                    for (s, slot) in self.routes[pi].iter().enumerate() {
                        let Some(&r) = slot.get(p as usize).filter(|&&r| r != 0) else {
                            continue;
                        };
                        if record.is_none() {
                            let hdr = start_mrt(&mut out, t, mrt::code::TABLE_DUMP_V2, subtype);
                            seq_at.push(out.len());
                            put_u32(&mut out, 0);
                            u.put_nlri(&mut out, p, None);
                            record = Some((hdr, out.len()));
                            put_u16(&mut out, 0);
                        }
                        put_u16(&mut out, index[pi]);
                        put_u32(&mut out, self.up_since[pi]);
                        if add_path {
                            put_u32(&mut out, s as u32 + 1);
                        }
                        let alen = out.len();
                        put_u16(&mut out, 0);
                        let astart = out.len();
                        u.attrs(&mut out, &mut path, pi, p, r, v6);
                        if v6 {
                            attr_mp_reach_abbrev(&mut out, &peer.nh6);
                        }
                        let len = out.len() - astart;
                        patch_u16(&mut out, alen, len as u16);
                        entries += 1;
                    }
                }
                if let Some((hdr, count_at)) = record {
                    patch_u16(&mut out, count_at, entries);
                    finish_mrt(&mut out, hdr);
                }
            }
        }
        (out, seq_at)
    }
}

/// Prefix ids in chunks of 16,384: `(first, end)`.
fn chunks(n: usize) -> Vec<(u32, u32)> {
    const CHUNK: usize = 16_384;
    (0..n.div_ceil(CHUNK))
        .map(|i| ((i * CHUNK) as u32, ((i + 1) * CHUNK).min(n) as u32))
        .collect()
}

fn create_parent(path: &Path) -> Result<(), SynthError> {
    if let Some(d) = path.parent() {
        fs::create_dir_all(d)?;
    }
    Ok(())
}

/// Generates the archive `opts` describes into the folder `dir` (created
/// if needed; files of the same names are replaced), with its truth (see
/// the [module docs](self)).
///
/// ```no_run
/// use mrtsnap::synth::archive::{write_archive, ArchiveLayout, ArchiveOptions};
///
/// let opts = ArchiveOptions::small(ArchiveLayout::Ris);
/// let summary = write_archive(&opts, "archive".as_ref())?;
/// assert_eq!(summary.ribs.len(), 2);
/// assert_eq!(summary.updates.len(), 36);
/// assert_eq!(summary.truths.len(), 7);
/// # Ok::<(), mrtsnap::synth::SynthError>(())
/// ```
///
/// # Errors
/// An option out of range ([`ArchiveOptions::validate`]), or a file that
/// cannot be written.
pub fn write_archive(opts: &ArchiveOptions, dir: &Path) -> Result<ArchiveSummary, SynthError> {
    opts.validate()?;
    let u = Universe::new(opts)?;
    fs::create_dir_all(dir)?;
    let mut sim = Sim::new(&u, dir);
    sim.plan();
    let ribs = opts.rib_times();
    for (w, s) in opts.updates_times().into_iter().enumerate() {
        sim.flush_truth(s)?;
        if ribs.contains(&s) {
            sim.write_rib(s)?;
        }
        sim.window(w, s)?;
    }
    sim.flush_truth(u32::MAX)?;
    Ok(sim.summary)
}
