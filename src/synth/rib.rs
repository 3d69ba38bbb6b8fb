//! TABLE_DUMP_V2 RIB generation.

use crate::bgp::as_path;
use crate::mrt;
use std::collections::HashSet;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::RangeInclusive;
use std::path::Path;

use rayon::prelude::*;

use super::prefix::{unique_v4, unique_v6};
use super::rng::{hash2, Rng, SplitMix64, Threshold, Weighted, Xoshiro256};
use super::topology::{RouteMix, Topology};
use super::truth::{Origin, TruthRow};
use super::wire::*;
use super::{Compression, SynthError};

/// Largest accepted prefix count per address family.
pub const MAX_PREFIXES_PER_FAMILY: usize = 8_000_000;
/// Largest accepted number of COMMUNITIES on one route
/// ([`RibOptions::communities`]).
pub const MAX_COMMUNITIES: u8 = 64;

/// Communities per route of [`RibOptions::default`]: 0 on 30 % of the
/// routes of peers that keep them, a tail up to 40.
const DEFAULT_COMMUNITIES: &[(u8, u32)] = &[
    (0, 300),
    (1, 100),
    (2, 100),
    (3, 100),
    (4, 90),
    (5, 70),
    (6, 60),
    (7, 40),
    (8, 30),
    (9, 20),
    (10, 18),
    (11, 12),
    (12, 10),
    (13, 8),
    (14, 7),
    (15, 6),
    (16, 6),
    (18, 5),
    (20, 5),
    (22, 4),
    (24, 3),
    (28, 2),
    (32, 2),
    (40, 1),
];

/// Largest accepted total peer count (two add-path entries per peer must fit
/// the 16-bit entry count of a RIB record).
pub const MAX_PEERS: usize = 30_000;

/// Options for [`write_rib`]: shape and content of a synthetic TABLE_DUMP_V2
/// RIB snapshot.
///
/// Every peer carries both address families. Full-feed peers carry each
/// prefix with probability [`full_coverage`](Self::full_coverage); each
/// partial peer carries a fixed fraction drawn uniformly from
/// [`partial_fraction`](Self::partial_fraction). Every prefix is carried by
/// at least one peer, so the file has exactly one RIB record per prefix.
/// Expected RIB entries ≈ `(ipv4_prefixes + ipv6_prefixes) × (full_peers ×
/// full_coverage + partial_peers × mean(partial_fraction))`, plus about 8 %
/// more with [`add_path`](Self::add_path).
#[derive(Clone, Debug, PartialEq)]
pub struct RibOptions {
    /// Seed; the output is a pure function of the options.
    pub seed: u64,
    /// Number of distinct IPv4 prefixes (at most [`MAX_PREFIXES_PER_FAMILY`]).
    pub ipv4_prefixes: usize,
    /// Number of distinct IPv6 prefixes (at most [`MAX_PREFIXES_PER_FAMILY`]).
    pub ipv6_prefixes: usize,
    /// Number of full-feed peers.
    pub full_peers: usize,
    /// Number of partial-feed peers.
    pub partial_peers: usize,
    /// Range of the fraction of prefixes each partial peer carries (within `[0, 1]`).
    pub partial_fraction: RangeInclusive<f64>,
    /// Probability that a full-feed peer carries a given prefix (within `[0, 1]`).
    pub full_coverage: f64,
    /// Fraction of prefixes with multiple origins (2 or 3), each seen by a
    /// subset of the peers.
    pub moas_fraction: f64,
    /// Fraction of prefixes whose origin prepends itself 1 to 5 extra times.
    pub prepend_fraction: f64,
    /// Fraction of (single-origin) prefixes announced as aggregates whose
    /// AS_PATH ends in an AS_SET.
    pub as_set_fraction: f64,
    /// Fraction of RIB entries with an AS_CONFED_SEQUENCE segment (half
    /// leading, half trailing; trailing ones may be AS_CONFED_SET).
    pub confed_fraction: f64,
    /// Fraction of prefixes where one peer has an empty AS_PATH (an iBGP-like
    /// route with no origin).
    pub empty_path_fraction: f64,
    /// Fraction of routes through the origin's tier-1 with an extra transit
    /// hop between the peer and it (path `peer transit tier-1 upstreams…
    /// origin`).
    pub transit_hop_fraction: f64,
    /// Fraction of routes from the peer straight to the origin's upstreams,
    /// skipping its tier-1.
    pub skip_tier1_fraction: f64,
    /// Fraction of routes where the peer is the origin's upstream (path
    /// `peer origin`). The rest of the routes (one minus the three
    /// fractions) go `peer tier-1 upstreams… origin`.
    pub direct_fraction: f64,
    /// Fraction of peers that send MULTI_EXIT_DISC on their routes.
    pub med_peers: f64,
    /// Fraction of peers that strip COMMUNITIES from their routes.
    pub strip_communities_peers: f64,
    /// Weights of the number of COMMUNITIES on a route of a peer that keeps
    /// them, as `(count, weight)` (counts at most [`MAX_COMMUNITIES`]).
    pub communities: Vec<(u8, u32)>,
    /// Fraction of routes with a LARGE_COMMUNITY attribute (1 to 3 values).
    pub large_communities_fraction: f64,
    /// Fraction of prefixes announced with an AGGREGATOR attribute, half of
    /// them with ATOMIC_AGGREGATE too (prefixes ending in an AS_SET always
    /// carry AGGREGATOR).
    pub aggregator_fraction: f64,
    /// Fraction of peers whose IPv6 next hop is followed by a link-local
    /// one (32 bytes instead of 16).
    pub link_local_peers: f64,
    /// Write AS_PATH with the extended-length flag whatever its length, as
    /// Quagga-based collectors (RouteViews') do.
    pub extended_as_path: bool,
    /// Write IPv6 entries' MP_REACH_NLRI in full (AFI, SAFI, next hop, a
    /// reserved byte, the entry's prefix), as RouteViews' collectors do,
    /// instead of the abbreviated form of RFC 6396 §4.3.4 (next hop only).
    pub full_mp_reach: bool,
    /// Order of a prefix's entries in its RIB record.
    pub entry_order: EntryOrder,
    /// Fraction of peers that are a further session of an earlier peer's
    /// AS (real collectors peer with some ASes twice: two routers, or an
    /// IPv4 and an IPv6 session).
    pub shared_asn_peers: f64,
    /// Write RFC 8050 add-path RIB subtypes (8 and 10) with path identifiers;
    /// about a third of the peers then send a second path for ~25 % of prefixes.
    pub add_path: bool,
    /// Dump time: MRT header timestamp of every record.
    pub timestamp: u32,
    /// Collector BGP identifier in the PEER_INDEX_TABLE.
    pub collector_bgp_id: Ipv4Addr,
    /// View name in the PEER_INDEX_TABLE (at most 65535 bytes; usually empty).
    pub view_name: String,
}

impl Default for RibOptions {
    /// A full-size table: 1 000 000 IPv4 + 230 000 IPv6 prefixes, 20 full and
    /// 10 partial peers (about 27 million RIB entries, ~1.6 GB uncompressed).
    fn default() -> Self {
        RibOptions {
            seed: 0x6d72_7473_6e61_7000,
            ipv4_prefixes: 1_000_000,
            ipv6_prefixes: 230_000,
            full_peers: 20,
            partial_peers: 10,
            partial_fraction: 0.05..=0.5,
            full_coverage: 0.99,
            moas_fraction: 0.015,
            prepend_fraction: 0.10,
            as_set_fraction: 0.001,
            confed_fraction: 0.0005,
            empty_path_fraction: 0.000_02,
            transit_hop_fraction: RouteMix::DEFAULT.transit_hop,
            skip_tier1_fraction: RouteMix::DEFAULT.skip_tier1,
            direct_fraction: RouteMix::DEFAULT.direct,
            med_peers: 0.30,
            strip_communities_peers: 0.20,
            communities: DEFAULT_COMMUNITIES.to_vec(),
            large_communities_fraction: 0.04,
            aggregator_fraction: 0.02,
            link_local_peers: 0.40,
            extended_as_path: false,
            full_mp_reach: false,
            entry_order: EntryOrder::PeerIndex,
            shared_asn_peers: 0.0,
            add_path: false,
            timestamp: 1_700_000_000,
            collector_bgp_id: Ipv4Addr::new(128, 223, 51, 102),
            view_name: String::new(),
        }
    }
}

impl RibOptions {
    /// Shaped like a RouteViews route-views2 RIB: IPv4 only, 1,000,000
    /// prefixes (a 2026 table) seen by 31 full-feed peers (92.5 % of the
    /// table each) and 16 partial ones (up to 13.5 %), about 29.7 entries
    /// per prefix (29.7 million at full size, ~1.7 GB).
    ///
    /// Peers, coverage and the attribute mix (MED, communities, AGGREGATOR,
    /// AS path lengths, extended-length AS_PATH) follow the route-views2
    /// RIB of 2014-05-23 06:00 in the shared corpus
    /// (`rib.20140523.0600_firstMB.bz2`); its decode cost per byte is
    /// held within 20 % of that file's by `benches/calibrate.sh`.
    pub fn route_views2_like() -> Self {
        RibOptions {
            ipv4_prefixes: 1_000_000,
            ipv6_prefixes: 0,
            full_peers: 31,
            partial_peers: 16,
            full_coverage: 0.925,
            partial_fraction: 0.0..=0.135,
            collector_bgp_id: Ipv4Addr::new(128, 223, 51, 102),
            timestamp: 1_400_824_800,
            prepend_fraction: 0.16,
            as_set_fraction: 0.0003,
            confed_fraction: 0.0,
            empty_path_fraction: 0.0,
            transit_hop_fraction: 0.10,
            skip_tier1_fraction: 0.35,
            direct_fraction: 0.04,
            med_peers: 0.38,
            communities: vec![
                (0, 3889),
                (1, 1420),
                (2, 939),
                (3, 345),
                (4, 558),
                (5, 1252),
                (6, 520),
                (7, 314),
                (8, 129),
                (9, 132),
                (10, 220),
                (11, 81),
                (12, 46),
                (13, 50),
                (14, 32),
                (15, 16),
                (16, 21),
                (17, 5),
                (18, 6),
                (19, 3),
                (24, 23),
            ],
            large_communities_fraction: 0.0,
            aggregator_fraction: 0.057,
            extended_as_path: true,
            full_mp_reach: true,
            entry_order: EntryOrder::NewestFirst,
            shared_asn_peers: 0.13,
            ..Self::default()
        }
    }

    /// Shaped like a RouteViews route-views6 RIB: IPv6 only, 230,000
    /// prefixes (a 2026 table) seen by 25 full-feed peers (85 % of the
    /// table each) and 4 partial ones (up to 27 %), about 21.8 entries per
    /// prefix (5 million at full size, ~400 MB).
    ///
    /// Peers, coverage and the attribute mix (MED, communities, AGGREGATOR,
    /// link-local next hops, full MP_REACH_NLRI, AS path lengths) follow
    /// the route-views6 RIB of 2015-11-01 06:00 in the shared corpus
    /// (`rib6.20151101.0600_firstMB.bz2`); its decode cost per byte is
    /// held within 20 % of that file's by `benches/calibrate.sh`.
    pub fn route_views6_like() -> Self {
        RibOptions {
            seed: 0x6d72_7473_6e61_7003,
            ipv4_prefixes: 0,
            ipv6_prefixes: 230_000,
            full_peers: 25,
            partial_peers: 4,
            full_coverage: 0.85,
            partial_fraction: 0.0..=0.27,
            collector_bgp_id: Ipv4Addr::new(128, 223, 51, 108),
            timestamp: 1_446_357_600,
            prepend_fraction: 0.11,
            as_set_fraction: 0.0012,
            confed_fraction: 0.0,
            empty_path_fraction: 0.0,
            transit_hop_fraction: 0.03,
            skip_tier1_fraction: 0.47,
            direct_fraction: 0.09,
            med_peers: 0.38,
            communities: vec![
                (0, 1549),
                (1, 3724),
                (2, 1366),
                (3, 313),
                (4, 1666),
                (5, 573),
                (6, 567),
                (7, 36),
                (8, 127),
                (9, 18),
                (10, 16),
                (11, 12),
                (12, 8),
                (13, 3),
                (14, 1),
                (15, 1),
                (16, 2),
                (17, 3),
                (24, 15),
            ],
            large_communities_fraction: 0.0,
            aggregator_fraction: 0.092,
            link_local_peers: 0.16,
            extended_as_path: true,
            full_mp_reach: true,
            entry_order: EntryOrder::NewestFirst,
            shared_asn_peers: 0.2,
            ..Self::default()
        }
    }

    /// Shaped like the RouteViews route-views.jinx RIB of 2014-05-30
    /// 22:00 in the shared corpus (`routeviews.route-views.jinx.ribs.
    /// 1401487200.bz2`, a small IXP collector): its 497,323 IPv4 and 84
    /// IPv6 prefixes, 14 peers of which one carries the whole table and
    /// 13 a few prefixes each (about 1.01 entries per prefix), next to
    /// no communities, no MED, extended-length AS_PATH and full
    /// MP_REACH_NLRI. About 32 MB at full size, like the real file; its
    /// decode cost per byte is held within 20 % of that file's by
    /// `benches/calibrate.sh`.
    pub fn jinx_like() -> Self {
        RibOptions {
            seed: 0x6d72_7473_6e61_7004,
            ipv4_prefixes: 497_323,
            ipv6_prefixes: 84,
            full_peers: 1,
            partial_peers: 13,
            full_coverage: 1.0,
            partial_fraction: 0.0..=0.002,
            collector_bgp_id: Ipv4Addr::new(196, 223, 14, 1),
            timestamp: 1_401_487_200,
            prepend_fraction: 0.12,
            as_set_fraction: 0.000_25,
            confed_fraction: 0.0,
            empty_path_fraction: 0.0,
            transit_hop_fraction: 0.05,
            skip_tier1_fraction: 0.40,
            direct_fraction: 0.05,
            med_peers: 0.0,
            strip_communities_peers: 0.0,
            communities: vec![(0, 9913), (1, 5), (2, 17), (3, 24), (4, 8), (5, 18), (6, 10), (8, 4), (10, 1)],
            large_communities_fraction: 0.0,
            aggregator_fraction: 0.088,
            extended_as_path: true,
            full_mp_reach: true,
            entry_order: EntryOrder::NewestFirst,
            shared_asn_peers: 0.43,
            ..Self::default()
        }
    }

    /// Shaped like a RIPE RIS rrc00 RIB: 40 full and 30 partial peers (about
    /// 43 full-feed equivalents), about 53 million RIB entries at full size.
    pub fn rrc00_like() -> Self {
        RibOptions {
            full_peers: 40,
            partial_peers: 30,
            partial_fraction: 0.02..=0.2,
            collector_bgp_id: Ipv4Addr::new(193, 0, 4, 28),
            seed: 0x6d72_7473_6e61_7001,
            ..Self::default()
        }
    }

    /// A small table (3000 IPv4 + 800 IPv6 prefixes, 4 full + 3 partial
    /// peers, about 19 000 entries) with boosted rates of rare features
    /// (AS_SET, confederations, empty paths) so a small sample still
    /// exercises them.
    pub fn small() -> Self {
        RibOptions {
            seed: 0x6d72_7473_6e61_7002,
            ipv4_prefixes: 3_000,
            ipv6_prefixes: 800,
            full_peers: 4,
            partial_peers: 3,
            partial_fraction: 0.1..=0.5,
            moas_fraction: 0.02,
            as_set_fraction: 0.004,
            confed_fraction: 0.002,
            empty_path_fraction: 0.002,
            view_name: "synthetic".to_string(),
            ..Self::default()
        }
    }

    /// `prefixes` IPv4 prefixes, each seen by one full-feed peer and no
    /// other: a PEER_INDEX_TABLE of one peer, then one one-entry RIB record
    /// per prefix (repeated, the duplicate-heavy input of the snapshot's
    /// memory checks).
    pub fn single_peer(prefixes: usize) -> Self {
        RibOptions {
            ipv4_prefixes: prefixes,
            ipv6_prefixes: 0,
            full_peers: 1,
            partial_peers: 0,
            full_coverage: 1.0,
            moas_fraction: 0.0,
            ..Self::small()
        }
    }

    /// Returns the options with both prefix counts multiplied by `factor`
    /// (rounded; a NaN or negative factor gives 0 prefixes).
    #[must_use]
    pub fn scale(mut self, factor: f64) -> Self {
        let f = |n: usize| {
            let v = (n as f64 * factor).round();
            if v.is_nan() || v <= 0.0 {
                0
            } else {
                v as usize
            }
        };
        self.ipv4_prefixes = f(self.ipv4_prefixes);
        self.ipv6_prefixes = f(self.ipv6_prefixes);
        self
    }

    /// Checks every option; [`write_rib`] calls this first.
    pub fn validate(&self) -> Result<(), SynthError> {
        if self.ipv4_prefixes > MAX_PREFIXES_PER_FAMILY {
            return Err(SynthError::invalid("ipv4_prefixes", format!("at most {MAX_PREFIXES_PER_FAMILY}")));
        }
        if self.ipv6_prefixes > MAX_PREFIXES_PER_FAMILY {
            return Err(SynthError::invalid("ipv6_prefixes", format!("at most {MAX_PREFIXES_PER_FAMILY}")));
        }
        let peers = self.full_peers.saturating_add(self.partial_peers);
        if peers > MAX_PEERS {
            return Err(SynthError::invalid("full_peers + partial_peers", format!("at most {MAX_PEERS}")));
        }
        if peers == 0 && self.ipv4_prefixes + self.ipv6_prefixes > 0 {
            return Err(SynthError::invalid("full_peers + partial_peers", "at least one peer is needed"));
        }
        let (lo, hi) = (*self.partial_fraction.start(), *self.partial_fraction.end());
        if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) || lo > hi {
            return Err(SynthError::invalid(
                "partial_fraction",
                "must be a range within [0, 1] with start <= end",
            ));
        }
        for (name, v) in [
            ("full_coverage", self.full_coverage),
            ("moas_fraction", self.moas_fraction),
            ("prepend_fraction", self.prepend_fraction),
            ("as_set_fraction", self.as_set_fraction),
            ("confed_fraction", self.confed_fraction),
            ("empty_path_fraction", self.empty_path_fraction),
            ("transit_hop_fraction", self.transit_hop_fraction),
            ("skip_tier1_fraction", self.skip_tier1_fraction),
            ("direct_fraction", self.direct_fraction),
            ("med_peers", self.med_peers),
            ("strip_communities_peers", self.strip_communities_peers),
            ("large_communities_fraction", self.large_communities_fraction),
            ("aggregator_fraction", self.aggregator_fraction),
            ("link_local_peers", self.link_local_peers),
            ("shared_asn_peers", self.shared_asn_peers),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(SynthError::invalid(name, "must be within [0, 1]"));
            }
        }
        if self.transit_hop_fraction + self.skip_tier1_fraction + self.direct_fraction > 1.0 {
            return Err(SynthError::invalid(
                "transit_hop_fraction + skip_tier1_fraction + direct_fraction",
                "at most 1",
            ));
        }
        if self.communities.iter().all(|&(_, w)| w == 0) {
            return Err(SynthError::invalid("communities", "needs a count of positive weight"));
        }
        if let Some(&(n, _)) = self.communities.iter().find(|&&(n, _)| n > MAX_COMMUNITIES) {
            return Err(SynthError::invalid(
                "communities",
                format!("{n} communities on a route: at most {MAX_COMMUNITIES}"),
            ));
        }
        if self.view_name.len() > usize::from(u16::MAX) {
            return Err(SynthError::invalid("view_name", "at most 65535 bytes"));
        }
        Ok(())
    }

    /// Generates the RIB into a file at `path`, compressed as requested
    /// (see [`super::write_to`]).
    pub fn write_to(&self, path: &Path, compression: Compression) -> Result<RibSummary, SynthError> {
        super::write_to(path, compression, |w| write_rib(self, w))
    }
}

/// Order of the entries of a RIB record ([`RibOptions::entry_order`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryOrder {
    /// Ascending peer index.
    PeerIndex,
    /// The most recently originated route first (equal times in peer
    /// order), as Quagga-based collectors (RouteViews') list a prefix's
    /// routes; the peer indexes then come in no order.
    NewestFirst,
}

/// What [`write_rib`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RibSummary {
    /// MRT records written, including the PEER_INDEX_TABLE.
    pub records: u64,
    /// RIB entries written over all RIB records.
    pub entries: u64,
    /// Uncompressed bytes written.
    pub bytes: u64,
    /// Number of peers in the PEER_INDEX_TABLE.
    pub peers: usize,
    /// True prefix-origin pairs in canonical order (see [`TruthRow`]).
    pub truth: Vec<TruthRow>,
}

/// A peer of the synthetic collector.
#[derive(Clone, Debug)]
struct Peer {
    asn: u32,
    /// Peer type bit 1 (AS number encoded in 4 bytes).
    as4: bool,
    addr: IpAddr,
    bgp_id: u32,
    nh4: [u8; 4],
    /// Global next hop, optionally followed by a link-local one (32 bytes).
    nh6: [u8; 32],
    nh6_len: u8,
    carry: Threshold,
    med: bool,
    strips_communities: bool,
    add_path: bool,
    /// Session establishment time (originated time of most of its routes).
    up_since: u32,
    seed: u64,
}

/// Shared, read-only generation state.
struct Ctx {
    opts_add_path: bool,
    entry_order: EntryOrder,
    extended_as_path: bool,
    full_mp_reach: bool,
    timestamp: u32,
    seed: u64,
    topo: Topology,
    peers: Vec<Peer>,
    v4: Vec<u64>,
    v4_origin: Vec<u32>,
    v6: Vec<u128>,
    v6_origin: Vec<u32>,
    moas: Threshold,
    prepend: Threshold,
    as_set: Threshold,
    confed: Threshold,
    empty_path: Threshold,
    second_path: Threshold,
    large_comm: Threshold,
    aggregator: Threshold,
    comm_count: Weighted<u8>,
    prepend_count: Weighted<u8>,
    origin_attr: Weighted<u8>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

/// Origin key while counting peers for one prefix (the prefix has at most
/// one AS_SET, so a set needs no payload here).
#[derive(Clone, Copy, PartialEq, Eq)]
enum OKey {
    Asn(u32),
    Set,
    None,
}

/// Buffers reused from one RIB record to the next.
struct Scratch {
    path: AsPath,
    /// `(origin, peers, last peer)` of the record's prefix.
    counters: Vec<(OKey, u32, u32)>,
    set_members: Vec<u32>,
    /// `(originated time, start, end)` of each entry written, for
    /// [`EntryOrder::NewestFirst`].
    entries: Vec<(u32, u32, u32)>,
    /// The entries in peer order while they are put in another.
    bytes: Vec<u8>,
}

/// Output of one chunk of prefixes.
struct ChunkOut {
    bytes: Vec<u8>,
    records: u64,
    truth: Vec<TruthRow>,
    entries: u64,
}

const PRIVATE_ASN_BASE: u32 = 64_512;
/// SAFI of unicast routes (RFC 4760).
const SAFI_UNICAST: u8 = 1;

fn build_peers(opts: &RibOptions, rng: &mut Xoshiro256, topo: &mut Topology) -> Vec<Peer> {
    let n = opts.full_peers + opts.partial_peers;
    let mut full: Vec<bool> = (0..n).map(|i| i < opts.full_peers).collect();
    for i in (1..n).rev() {
        let j = rng.below_usize(i + 1);
        full.swap(i, j);
    }
    let mut used_asn: HashSet<u32> = HashSet::new();
    let mut used_addr: HashSet<IpAddr> = HashSet::new();
    let (plo, phi) = (*opts.partial_fraction.start(), *opts.partial_fraction.end());
    // IXP-like LANs for IPv4 peer addresses.
    const V4_LANS: &[(u32, u8)] = &[
        (0x5051_C000, 21),
        (0xC342_E000, 22),
        (0xCE7E_EC00, 22),
        (0xBB10_D800, 21),
        (0x50F9_D000, 21),
    ];
    // Session uptimes: mostly weeks, some months, a few years.
    let age_bucket = Weighted::new(&[(30 * 86_400u32, 60), (365 * 86_400, 35), (4 * 365 * 86_400, 5)]);
    let (med, strips) = (Threshold::new(opts.med_peers), Threshold::new(opts.strip_communities_peers));
    let link_local = Threshold::new(opts.link_local_peers);
    let shared = Threshold::new(opts.shared_asn_peers);
    let mut peers = Vec::with_capacity(n);
    for &is_full in full.iter() {
        let v6 = rng.below(100) < 35;
        // A further session of an earlier peer's AS (drawn only when asked
        // for, so that other options keep their bytes).
        let again = if opts.shared_asn_peers > 0.0 && !peers.is_empty() && rng.chance(shared) {
            let p: &Peer = &peers[rng.below_usize(peers.len())];
            Some((p.asn, p.as4))
        } else {
            None
        };
        let r = rng.below(100);
        let asn = match again {
            Some((a, _)) => a,
            None => {
                let mut asn = 0;
                for _ in 0..8 {
                    let cand = if r < 25 {
                        topo.tier1[rng.below_usize(topo.tier1.len())]
                    } else if r < 70 {
                        topo.transit[rng.below_usize(topo.transit.len())]
                    } else {
                        0
                    };
                    if cand != 0 && !used_asn.contains(&cand) {
                        asn = cand;
                        break;
                    }
                }
                if asn == 0 {
                    let four = rng.below(100) < 35;
                    asn = topo.fresh_asn(rng, four);
                }
                asn
            }
        };
        used_asn.insert(asn);
        let as4 = match again {
            Some((_, as4)) => as4,
            None => asn > 0xFFFF || rng.below(2) == 0,
        };
        let addr = loop {
            let a = if v6 {
                // 2001:7f8:XXXX::/48 style IXP LAN, small host part.
                let lan = u128::from(rng.below(0x1_0000)) << 80;
                let host = u128::from(rng.range(1, 0xFFFF_FFFF));
                IpAddr::V6(Ipv6Addr::from((0x2001_07f8u128 << 96) | lan | host))
            } else {
                let (base, len) = V4_LANS[rng.below_usize(V4_LANS.len())];
                let host = (rng.next_u64() as u32) & !super::prefix::mask_v4(len);
                let host = host.clamp(1, !super::prefix::mask_v4(len) - 1);
                IpAddr::V4(Ipv4Addr::from(base | host))
            };
            if used_addr.insert(a) {
                break a;
            }
        };
        let (nh4, bgp_id) = match addr {
            IpAddr::V4(a) => (a.octets(), u32::from(a)),
            IpAddr::V6(_) => {
                let x = (rng.range(1, 223) as u32) << 24 | (rng.next_u64() as u32 & 0x00FF_FFFF);
                (x.to_be_bytes(), rng.next_u64() as u32 | 1)
            }
        };
        let mut nh6 = [0u8; 32];
        let global = match addr {
            IpAddr::V6(a) => a.octets(),
            IpAddr::V4(a) => {
                let v = (0x2001_07f8u128 << 96) | (u128::from(rng.below(0x1_0000)) << 64) | u128::from(u32::from(a));
                v.to_be_bytes()
            }
        };
        nh6[..16].copy_from_slice(&global);
        let nh6_len = if rng.chance(link_local) {
            let ll = (0xfe80u128 << 112) | u128::from(rng.next_u64());
            nh6[16..].copy_from_slice(&ll.to_be_bytes());
            32
        } else {
            16
        };
        let carry = if is_full {
            Threshold::new(opts.full_coverage)
        } else {
            Threshold::new(plo + (phi - plo) * rng.unit())
        };
        peers.push(Peer {
            asn,
            as4,
            addr,
            bgp_id,
            nh4,
            nh6,
            nh6_len,
            carry,
            med: rng.chance(med),
            strips_communities: rng.chance(strips),
            add_path: opts.add_path && rng.below(3) == 0,
            up_since: {
                let max_uptime = age_bucket.sample(rng);
                opts.timestamp.saturating_sub(3_600 + rng.below(u64::from(max_uptime)) as u32)
            },
            seed: rng.next_u64(),
        });
    }
    if n >= 2 {
        // Make sure both address families and both AS encodings occur.
        if peers.iter().all(|p| p.addr.is_ipv4()) {
            let p = &mut peers[n - 1];
            let low = u128::from(rng.next_u64()) & 0xFFFF_FFFF_FFFF;
            p.addr = IpAddr::V6(Ipv6Addr::from((0x2001_07f8_0001u128 << 80) | low));
        } else if peers.iter().all(|p| p.addr.is_ipv6()) {
            let p = &mut peers[0];
            p.addr = IpAddr::V4(Ipv4Addr::from(0x5051_C001 + (rng.below(0x700) as u32)));
        }
        if peers.iter().all(|p| p.asn <= 0xFFFF) {
            let a = topo.fresh_asn(rng, true);
            peers[n - 1].asn = a;
            peers[n - 1].as4 = true;
        }
        if peers.iter().all(|p| p.as4) {
            let j = peers.iter().position(|p| p.asn <= 0xFFFF).unwrap_or(0);
            if peers[j].asn > 0xFFFF {
                peers[j].asn = topo.fresh_asn(rng, false);
            }
            peers[j].as4 = false;
        }
    }
    if n >= 2 && opts.med_peers > 0.0 && !peers.iter().any(|p| p.med) {
        peers[n / 2].med = true;
    }
    if opts.add_path && n > 0 && !peers.iter().any(|p| p.add_path) {
        peers[0].add_path = true;
    }
    for p in &peers {
        topo.reserve(p.asn);
    }
    peers
}

/// Encodes the PEER_INDEX_TABLE record.
fn peer_index_table(buf: &mut Vec<u8>, opts: &RibOptions, peers: &[Peer]) {
    let hdr = start_mrt(buf, opts.timestamp, mrt::code::TABLE_DUMP_V2, mrt::subtype::PEER_INDEX_TABLE);
    buf.extend_from_slice(&opts.collector_bgp_id.octets());
    put_u16(buf, opts.view_name.len() as u16);
    buf.extend_from_slice(opts.view_name.as_bytes());
    put_u16(buf, peers.len() as u16);
    for p in peers {
        let mut t = 0u8;
        if p.addr.is_ipv6() {
            t |= 1;
        }
        if p.as4 {
            t |= 2;
        }
        buf.push(t);
        put_u32(buf, p.bgp_id);
        match p.addr {
            IpAddr::V4(a) => buf.extend_from_slice(&a.octets()),
            IpAddr::V6(a) => buf.extend_from_slice(&a.octets()),
        }
        if p.as4 {
            put_u32(buf, p.asn);
        } else {
            put_u16(buf, p.asn as u16);
        }
    }
    finish_mrt(buf, hdr);
}

impl Ctx {
    fn new(opts: &RibOptions) -> Result<Ctx, SynthError> {
        let mut rng = Xoshiro256::new(opts.seed);
        let total = opts.ipv4_prefixes + opts.ipv6_prefixes;
        let mut topo = Topology::new(&mut rng, (total / 16).clamp(16, 120_000), &[]);
        topo.set_route_mix(RouteMix {
            transit_hop: opts.transit_hop_fraction,
            skip_tier1: opts.skip_tier1_fraction,
            direct: opts.direct_fraction,
        });
        let peers = build_peers(opts, &mut rng, &mut topo);
        let v4 = unique_v4(&mut Xoshiro256::new(hash2(opts.seed, 4)), opts.ipv4_prefixes)?;
        let v6 = unique_v6(&mut Xoshiro256::new(hash2(opts.seed, 6)), opts.ipv6_prefixes)?;
        let same_as_prev = Threshold::new(0.35);
        let assign = |n: usize, rng: &mut Xoshiro256| {
            let mut out = Vec::with_capacity(n);
            let mut prev = 0u32;
            for i in 0..n {
                let o = if i > 0 && rng.chance(same_as_prev) {
                    prev
                } else {
                    topo.pick_origin(rng)
                };
                out.push(o);
                prev = o;
            }
            out
        };
        let v4_origin = assign(v4.len(), &mut Xoshiro256::new(hash2(opts.seed, 40)));
        let v6_origin = assign(v6.len(), &mut Xoshiro256::new(hash2(opts.seed, 60)));
        Ok(Ctx {
            opts_add_path: opts.add_path,
            entry_order: opts.entry_order,
            extended_as_path: opts.extended_as_path,
            full_mp_reach: opts.full_mp_reach,
            timestamp: opts.timestamp,
            seed: rng.next_u64(),
            topo,
            peers,
            v4,
            v4_origin,
            v6,
            v6_origin,
            moas: Threshold::new(opts.moas_fraction),
            prepend: Threshold::new(opts.prepend_fraction),
            as_set: Threshold::new(opts.as_set_fraction),
            confed: Threshold::new(opts.confed_fraction),
            empty_path: Threshold::new(opts.empty_path_fraction),
            second_path: Threshold::new(0.25),
            large_comm: Threshold::new(opts.large_communities_fraction),
            aggregator: Threshold::new(opts.aggregator_fraction),
            comm_count: Weighted::new(&opts.communities),
            prepend_count: Weighted::new(&[(1, 40), (2, 25), (3, 15), (4, 10), (5, 10)]),
            origin_attr: Weighted::new(&[(0, 880), (2, 100), (1, 20)]),
        })
    }

    /// Generates the RIB records for prefixes `start..end` of a family.
    fn chunk(&self, fam: Family, start: usize, end: usize) -> ChunkOut {
        let per = self.peers.len() * 64 + 32;
        let mut out = ChunkOut {
            bytes: Vec::with_capacity((end - start) * per),
            truth: Vec::with_capacity((end - start) * 102 / 100 + 4),
            records: (end - start) as u64,
            entries: 0,
        };
        let mut scratch = Scratch {
            path: AsPath::new(),
            counters: Vec::with_capacity(8),
            set_members: Vec::new(),
            entries: Vec::with_capacity(self.peers.len() * 2),
            bytes: Vec::new(),
        };
        for i in start..end {
            out.entries += self.prefix(fam, i, &mut out.bytes, &mut out.truth, &mut scratch);
        }
        out
    }

    /// Encodes one RIB record; returns the number of entries.
    fn prefix(&self, fam: Family, i: usize, buf: &mut Vec<u8>, truth: &mut Vec<TruthRow>, scratch: &mut Scratch) -> u64 {
        let Scratch {
            path,
            counters,
            set_members,
            entries,
            bytes,
        } = scratch;
        let add_path = self.opts_add_path;
        let (seq, subtype, ip, plen, primary, fam_tag) = match fam {
            Family::V4 => {
                let k = self.v4[i];
                let addr = (k >> 8) as u32;
                let st = if add_path {
                    mrt::subtype::RIB_IPV4_UNICAST_ADDPATH
                } else {
                    mrt::subtype::RIB_IPV4_UNICAST
                };
                (i, st, IpAddr::V4(Ipv4Addr::from(addr)), (k & 0xFF) as u8, self.v4_origin[i], 4u64)
            }
            Family::V6 => {
                let k = self.v6[i];
                let addr = k & !0xFF;
                let st = if add_path {
                    mrt::subtype::RIB_IPV6_UNICAST_ADDPATH
                } else {
                    mrt::subtype::RIB_IPV6_UNICAST
                };
                (
                    self.v4.len() + i,
                    st,
                    IpAddr::V6(Ipv6Addr::from(addr)),
                    (k & 0xFF) as u8,
                    self.v6_origin[i],
                    6u64,
                )
            }
        };
        let pseed = hash2(self.seed ^ fam_tag, i as u64);
        let mut r = SplitMix64::new(pseed);
        let topo = &self.topo;

        // Per-prefix plan.
        let mut origins = [primary, 0, 0];
        let mut n_orig = 1usize;
        if r.chance(self.moas) && topo.origins.len() >= 3 {
            n_orig = if r.below(5) == 0 { 3 } else { 2 };
            for k in 1..n_orig {
                origins[k] = loop {
                    let o = topo.pick_origin(&mut r);
                    if !origins[..k].contains(&o) {
                        break o;
                    }
                };
            }
        }
        let prepend = if r.chance(self.prepend) {
            self.prepend_count.sample(&mut r)
        } else {
            0
        };
        set_members.clear();
        if n_orig == 1 && r.chance(self.as_set) {
            let want = r.range(2, 4) as usize;
            while set_members.len() < want {
                let a = topo.origins[topo.pick_origin(&mut r) as usize];
                if a != topo.origins[primary as usize] && !set_members.contains(&a) {
                    set_members.push(a);
                }
            }
        }
        let origin_attr = self.origin_attr.sample(&mut r);
        let aggregator = if !set_members.is_empty() || r.chance(self.aggregator) {
            Some((topo.origins[primary as usize], r.next_u64() as u32 | 0x0100_0000))
        } else {
            None
        };
        let atomic = set_members.is_empty() && aggregator.is_some() && r.below(2) == 0;
        let empty_path = r.chance(self.empty_path);
        let mut empty_done = false;

        // A prefix nobody carries would vanish; force one peer instead.
        let any = self.peers.iter().any(|p| p.carry.hit(hash2(pseed, p.seed)));
        let forced = if any { usize::MAX } else { r.below_usize(self.peers.len()) };

        let hdr = start_mrt(buf, self.timestamp, mrt::code::TABLE_DUMP_V2, subtype);
        put_u32(buf, seq as u32);
        let prefix_at = buf.len();
        match ip {
            IpAddr::V4(a) => put_prefix_v4(buf, u32::from(a), plen),
            IpAddr::V6(a) => put_prefix_v6(buf, u128::from(a), plen),
        }
        // The prefix as NLRI, for a full MP_REACH_NLRI.
        let mut nlri = [0u8; 17];
        let nlri_len = buf.len() - prefix_at;
        nlri[..nlri_len].copy_from_slice(&buf[prefix_at..]);
        let count_pos = buf.len();
        put_u16(buf, 0);
        let mut n_entries = 0u16;
        counters.clear();
        entries.clear();
        let mut comms = [0u32; MAX_COMMUNITIES as usize];
        let mut large = [[0u32; 3]; 3];

        for (pi, peer) in self.peers.iter().enumerate() {
            let h = hash2(pseed, peer.seed);
            if !(peer.carry.hit(h) || pi == forced) {
                continue;
            }
            let mut er = SplitMix64::new(h);
            let k = if n_orig > 1 {
                let x = er.below(100);
                (if x < 60 {
                    0
                } else if x < 85 {
                    1
                } else {
                    2
                }) % n_orig
            } else {
                0
            };
            let n_paths = if add_path && peer.add_path && er.chance(self.second_path) {
                2
            } else {
                1
            };
            let path_id_base = 1 + (er.below(4) as u32) * 16;
            for path_no in 0..n_paths {
                let origin_idx = origins[(k + path_no) % n_orig];
                path.clear();
                if empty_path && !empty_done {
                    empty_done = true;
                } else {
                    let confed = er.chance(self.confed);
                    let confed_lead = confed && er.below(2) == 0;
                    if confed_lead {
                        path.begin(as_path::AS_CONFED_SEQUENCE);
                        for _ in 0..er.range(1, 2) {
                            path.push(PRIVATE_ASN_BASE + er.below(1000) as u32);
                        }
                    }
                    path.begin(as_path::AS_SEQUENCE);
                    topo.push_route(path, peer.asn, peer.seed, origin_idx, path_no as u64);
                    let origin_asn = topo.origins[origin_idx as usize];
                    for _ in 0..=prepend {
                        path.push(origin_asn);
                    }
                    if !set_members.is_empty() {
                        path.begin(as_path::AS_SET);
                        for &a in set_members.iter() {
                            path.push(a);
                        }
                    }
                    if confed && !confed_lead {
                        path.begin(if er.below(2) == 0 {
                            as_path::AS_CONFED_SEQUENCE
                        } else {
                            as_path::AS_CONFED_SET
                        });
                        for _ in 0..er.range(1, 2) {
                            path.push(PRIVATE_ASN_BASE + 1000 + er.below(1000) as u32);
                        }
                    }
                }

                // Attributes that depend on where the peer learned the route
                // (its neighbor AS), not on the prefix: real RIBs repeat them
                // heavily, which also gives realistic compression ratios.
                let origin_asn = topo.origins[origin_idx as usize];
                let ar_seed = if hash2(peer.seed, u64::from(origin_idx)) & 3 == 0 {
                    hash2(peer.seed ^ 0xC0, u64::from(origin_idx) | 1 << 40)
                } else {
                    hash2(peer.seed ^ 0xC0, u64::from(path.neighbor()))
                };
                let mut ar = SplitMix64::new(ar_seed);

                // Entry header: most routes date from the session start.
                let entry_at = buf.len();
                put_u16(buf, pi as u16);
                let otime = if er.below(4) != 0 {
                    peer.up_since
                } else {
                    peer.up_since + er.below(u64::from(self.timestamp - peer.up_since) + 1) as u32
                };
                put_u32(buf, otime);
                if add_path {
                    put_u32(buf, path_id_base + path_no as u32);
                }
                let alen_pos = buf.len();
                put_u16(buf, 0);
                let attrs_start = buf.len();

                attr_origin(buf, origin_attr);
                if self.extended_as_path {
                    attr_as_path_extended(buf, path);
                } else {
                    attr_as_path(buf, path, true);
                }
                if fam == Family::V4 {
                    attr_next_hop(buf, peer.nh4);
                }
                if peer.med {
                    let med = if ar.below(4) == 0 { 0 } else { ar.below(5000) as u32 };
                    attr_med(buf, med);
                }
                if atomic {
                    attr_atomic_aggregate(buf);
                }
                if let Some((asn, ip)) = aggregator {
                    attr_aggregator(buf, asn, ip.to_be_bytes(), true);
                }
                let n_comm = if peer.strips_communities {
                    0
                } else {
                    usize::from(self.comm_count.sample(&mut ar))
                };
                if n_comm > 0 {
                    let tier1 = topo.chains[origin_idx as usize].tier1;
                    for c in comms[..n_comm].iter_mut() {
                        let x = ar.next_u64();
                        let src = match x & 3 {
                            0 | 1 => peer.asn,
                            2 => tier1,
                            _ => origin_asn,
                        };
                        let hi = if src <= 0xFFFF { src } else { 65_000 + src % 500 };
                        let lo = if (x >> 8) & 0x7F == 0 {
                            666
                        } else {
                            1 + ((x >> 16) % 9_999) as u32
                        };
                        *c = if (x >> 40) & 0xFF == 0 { 0xFFFF_FF01 } else { (hi << 16) | lo };
                    }
                    attr_communities(buf, &comms[..n_comm]);
                }
                if fam == Family::V6 {
                    let nh = &peer.nh6[..usize::from(peer.nh6_len)];
                    if self.full_mp_reach {
                        attr_mp_reach(buf, crate::bgp::nlri::AFI_IPV6, SAFI_UNICAST, nh, &nlri[..nlri_len]);
                    } else {
                        attr_mp_reach_abbrev(buf, nh);
                    }
                }
                if ar.chance(self.large_comm) {
                    let n = ar.range(1, 3) as usize;
                    for l in large[..n].iter_mut() {
                        let g = if ar.below(2) == 0 { peer.asn } else { origin_asn };
                        *l = [g, ar.below(1000) as u32, ar.below(100_000) as u32];
                    }
                    attr_large_communities(buf, &large[..n]);
                }
                let alen = buf.len() - attrs_start;
                patch_u16(buf, alen_pos, alen as u16);
                n_entries += 1;
                entries.push((otime, entry_at as u32, buf.len() as u32));

                // Truth bookkeeping.
                let key = match path.origin_class() {
                    OriginClass::Asn(a) => OKey::Asn(a),
                    OriginClass::Set { .. } => OKey::Set,
                    OriginClass::None => OKey::None,
                };
                let pi32 = pi as u32;
                match counters.iter_mut().find(|c| c.0 == key) {
                    Some(c) => {
                        if c.2 != pi32 {
                            c.1 += 1;
                            c.2 = pi32;
                        }
                    }
                    None => counters.push((key, 1, pi32)),
                }
            }
        }
        patch_u16(buf, count_pos, n_entries);
        if self.entry_order == EntryOrder::NewestFirst {
            // Stable: equal times stay in peer order.
            entries.sort_by_key(|e| std::cmp::Reverse(e.0));
            let from = count_pos + 2;
            bytes.clear();
            bytes.extend_from_slice(&buf[from..]);
            buf.truncate(from);
            for &(_, start, end) in entries.iter() {
                buf.extend_from_slice(&bytes[start as usize - from..end as usize - from]);
            }
        }
        finish_mrt(buf, hdr);

        let first = truth.len();
        for &(key, n, _) in counters.iter() {
            let origin = match key {
                OKey::Asn(a) => Origin::Asn(a),
                OKey::Set => {
                    let mut s = Vec::new();
                    crate::bgp::as_path::set_members(set_members.iter().copied(), &mut s);
                    Origin::Set(s)
                }
                OKey::None => Origin::None,
            };
            truth.push(TruthRow {
                prefix: ip,
                length: plen,
                origin,
                peers: n,
            });
        }
        truth[first..].sort_unstable();
        u64::from(n_entries)
    }
}

/// Writes a synthetic TABLE_DUMP_V2 RIB (RFC 6396) to `out` and returns the
/// truth.
///
/// Layout: one PEER_INDEX_TABLE, then one RIB_IPV4_UNICAST record per IPv4
/// prefix and one RIB_IPV6_UNICAST record per IPv6 prefix (add-path subtypes
/// 8 and 10 with [`RibOptions::add_path`]), each family in ascending
/// (address, length) order, with sequence numbers 0, 1, 2, ... across both
/// families. All records carry [`RibOptions::timestamp`].
///
/// Output is streamed in chunks of about 1024 records (generated in parallel
/// on the rayon pool; the bytes do not depend on the thread count), so
/// memory stays bounded apart from the prefix list and the truth rows.
/// `out` receives large writes and need not be buffered.
pub fn write_rib<W: Write>(opts: &RibOptions, mut out: W) -> Result<RibSummary, SynthError> {
    opts.validate()?;
    let ctx = Ctx::new(opts)?;
    let mut buf = Vec::with_capacity(64 + ctx.peers.len() * 32 + opts.view_name.len());
    peer_index_table(&mut buf, opts, &ctx.peers);
    out.write_all(&buf)?;
    let mut summary = RibSummary {
        records: 1,
        entries: 0,
        bytes: buf.len() as u64,
        peers: ctx.peers.len(),
        truth: Vec::with_capacity((ctx.v4.len() + ctx.v6.len()) * 102 / 100),
    };
    const CHUNK: usize = 1024;
    let batch = (rayon::current_num_threads() * 4).max(4);
    for (fam, n) in [(Family::V4, ctx.v4.len()), (Family::V6, ctx.v6.len())] {
        let mut start = 0usize;
        while start < n {
            let ranges: Vec<(usize, usize)> = (0..batch)
                .map(|b| (start + b * CHUNK, (start + (b + 1) * CHUNK).min(n)))
                .filter(|(a, b)| a < b)
                .collect();
            start = ranges.last().map_or(n, |r| r.1);
            let outs: Vec<ChunkOut> = ranges.into_par_iter().map(|(a, b)| ctx.chunk(fam, a, b)).collect();
            for o in outs {
                out.write_all(&o.bytes)?;
                summary.bytes += o.bytes.len() as u64;
                summary.records += o.records;
                summary.entries += o.entries;
                summary.truth.extend(o.truth);
            }
        }
    }
    out.flush()?;
    Ok(summary)
}

/// Computes the truth of [`write_rib`] for `opts` without keeping the bytes
/// (the RIB is generated and discarded).
pub fn rib_truth(opts: &RibOptions) -> Result<Vec<TruthRow>, SynthError> {
    write_rib(opts, std::io::sink()).map(|s| s.truth)
}
