//! Columnar prefix-origin snapshots of full-table RIB dumps.
//!
//! A [`Snapshot`] says, for every prefix of a RIB dump, which AS originates
//! it and how widely it is seen: one row per (prefix, origin) pair, sorted
//! by (family, address, length, origin), with the peers that carry the pair.
//! It is what CAIDA's pfx2as, MOAS and hijack studies, RPKI origin checks
//! and outage detection (prefixes whose peer count drops to zero) start from.
//!
//! ```
//! use mrtsnap::snapshot::{Snapshot, SnapshotOptions};
//! use mrtsnap::Source;
//!
//! # let mrt = mrtsnap::snapshot::example_rib();
//! let src = Source::from_bytes("rib.20140530.2200", mrt);
//! let snap = Snapshot::build(&src, &SnapshotOptions::default())?;
//! for row in snap.rows() {
//!     println!("{}\t{}\t{}", row.prefix, row.origin, row.peers());
//! }
//! let hit = snap.longest_match("192.0.2.77".parse()?);
//! assert_eq!(hit.map(|r| r.origin.to_string()).collect::<Vec<_>>(), ["64500", "{64510,64511}"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Rows
//!
//! | column | meaning |
//! |---|---|
//! | prefix | the prefix ([`Prefix`]; family, address and length) |
//! | origin | [`RowOrigin`]: the last AS of the AS_PATH after the AS4_PATH merge (RFC 6793); the members of a trailing AS_SET, sorted (repeats kept, as on the wire); or none for an empty path or one of confederation segments only. Trailing confederation segments are passed over; prepending changes nothing. |
//! | peers | distinct peers with at least one route for the pair (ADD-PATH: several paths of one peer count once) |
//! | peer_asns | distinct ASNs among those peers |
//! | full_feed_peers | those peers that are full-feed peers in the prefix's family |
//! | peer_ids | the peers themselves, as sorted indexes into [`Snapshot::peers`], so visibility can be recounted for any subset of peers ([`Row::count_in`]) |
//!
//! # Peers
//!
//! A peer is identified by its PEER_INDEX_TABLE entry (index, BGP id,
//! address, AS) in TABLE_DUMP_V2, by (address, AS) in TABLE_DUMP and
//! BGP4MP_ENTRY, and by its bare index when RIB records come without a
//! PEER_INDEX_TABLE (the routes still count; the missing table is reported).
//! [`Snapshot::peers`] lists every peer of the PEER_INDEX_TABLE (also those
//! without routes) in index order, then the others; with one table, a peer
//! id is its PEER_INDEX_TABLE index. Each peer carries its IPv4 and IPv6
//! prefix counts and a full-feed flag per family, decided by [`FullFeed`].
//!
//! # Building in parallel
//!
//! The input is cut into batches of whole records ([`Source::batches`]),
//! and rayon workers decode each batch into its own partial result with no
//! lock or atomic on the per-entry path and no allocation per RIB entry:
//! each entry's origin comes from a scan of the raw attribute block that
//! only hops over attribute headers, and the (origin, peer) pairs of one
//! prefix collapse into rows as soon as the prefix changes (RIB records are
//! sorted by prefix). The partial results are merged in input order (a
//! prefix straddling batches, or an unsorted file, is merged exactly), so
//! the snapshot is identical, byte for byte, for any thread count and batch
//! size. Memory follows the rows and their peer lists, plus the batches in
//! flight (two per thread): nothing is kept per RIB entry but a peer id in
//! its row's list, and duplicate (prefix, origin, peer) entries are joined
//! as they arrive, however many times a table repeats them.
//!
//! # Outputs
//!
//! [`Snapshot::write_parquet`] (schema in [`parquet`](self#parquet-schema)
//! below), [`Snapshot::write_pfx2as`] (CAIDA's format),
//! [`Snapshot::write_pairs`] and [`Snapshot::write_jsonl`].
//!
//! # Parquet schema
//!
//! Version 1 (key `mrtsnap.schema`). One row per (prefix, origin), sorted;
//! zstd-compressed; readable by pyarrow, DuckDB and Polars.
//!
//! | column | Arrow type | notes |
//! |---|---|---|
//! | `prefix` | utf8 | `192.0.2.0/24`, `2001:db8::/32` |
//! | `family` | uint8 | 4 or 6 |
//! | `address` | binary | network address, 4 or 16 bytes, network order |
//! | `length` | uint8 | prefix length |
//! | `origin_kind` | utf8 | `asn`, `set` or `none` |
//! | `origin` | uint32, nullable | the origin AS when `origin_kind` is `asn` |
//! | `origin_set` | list\<uint32\>, nullable | the sorted AS_SET members when `origin_kind` is `set` |
//! | `peers` | uint32 | distinct peers carrying the pair |
//! | `peer_asns` | uint32 | distinct ASNs of those peers |
//! | `full_feed_peers` | uint32 | how many of them are full-feed peers in this family |
//! | `peer_ids` | list\<uint32\> | sorted indexes into the peer table |
//!
//! File key-value metadata (all strings):
//!
//! | key | value |
//! |---|---|
//! | `mrtsnap.schema` | `1` |
//! | `mrtsnap.collector` | collector name(s), comma-separated |
//! | `mrtsnap.dump_time` | earliest dump time, Unix seconds (empty if unknown) |
//! | `mrtsnap.full_feed` | the full-feed rule, as [`FullFeed`]'s `Display` |
//! | `mrtsnap.sources` | JSON array, one object per input: `file`, `collector`, `collector_id`, `view_name`, `dump_time`, `stats` (`records`, `rib_records`, `rib_entries`, `errors` and `warnings` by kind) |
//! | `mrtsnap.peers` | JSON array, the peer table in id order: `id`, `source` (index into `mrtsnap.sources`), `collector`, `index`, `bgp_id`, `address`, `asn` (null when unknown), `ipv4_prefixes`, `ipv6_prefixes`, `full_feed_ipv4`, `full_feed_ipv6` |
//!
//! The peer table travels inside the file (JSON in the key-value metadata)
//! rather than in a second file, so a snapshot is one self-describing file
//! that can be moved, written to standard output or read from a pipe. It is
//! small (one entry per peer). In pyarrow:
//! `json.loads(pq.read_schema(f).metadata[b"mrtsnap.peers"])`; in DuckDB:
//! `SELECT value FROM parquet_kv_metadata('f.parquet') WHERE key = 'mrtsnap.peers'`.
//!
//! [`Source::batches`]: crate::Source::batches

mod builder;
mod column;
pub mod diff;
mod json;
#[cfg(feature = "parquet")]
mod parquet;
mod scan;
mod text;

use crate::naming;
pub use crate::naming::collector_from_path;
pub use diff::{Change, Diff, DiffRow};
#[cfg(feature = "parquet")]
pub use parquet::{arrow_schema, SCHEMA_VERSION};
pub use text::Pfx2asLine;

use crate::bgp::{Origin, Prefix};
use crate::error::Result;
use crate::report::Report;
use crate::source::{Source, DEFAULT_BATCH_SIZE};
use column::ListColumn;
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

/// How a snapshot is built.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotOptions {
    /// Batch size in bytes (see [`Source::batches`](crate::Source::batches)).
    pub batch_size: usize,
    /// Batches decoded at a time; `None`: twice the rayon thread count.
    pub window: Option<usize>,
    /// Fail at the first damaged record instead of skipping it.
    pub strict: bool,
    /// Which peers are full-feed peers.
    pub full_feed: FullFeed,
    /// Also take multicast RIB records (SAFI 2); by default only unicast
    /// routes make the snapshot and multicast ones are counted as skipped.
    pub multicast: bool,
    /// SIMD kernels to use: `None` for the process-wide choice
    /// ([`Backend::current`](crate::simd::Backend::current)),
    /// `Some(Backend::Scalar)` for the portable code. Every backend builds
    /// the same snapshot.
    pub simd: Option<crate::simd::Backend>,
}

impl Default for SnapshotOptions {
    fn default() -> Self {
        SnapshotOptions {
            batch_size: DEFAULT_BATCH_SIZE,
            window: None,
            strict: false,
            full_feed: FullFeed::default(),
            multicast: false,
            simd: None,
        }
    }
}

/// Which peers count as full-feed peers, per address family.
///
/// The default, [`FullFeed::Relative`] with [`FullFeed::DEFAULT_FRACTION`]
/// (0.8), needs no tuning across the years: a peer is full-feed in a family
/// when it carries at least 80% as many prefixes of that family as the
/// peer with the most. Full tables seen from different places differ by a
/// few percent (filters on long prefixes and bogons; the largest peer often
/// adds internal more-specifics), so 0.9 of an inflated maximum can miss
/// real full feeds, while partial feeds (customer cones, route-server
/// subsets) rarely reach half the table. 0.8 is also the ratio IODA's fixed
/// thresholds had to the IPv4 table when they were set (400k of ~500k in
/// 2014).
///
/// [`FullFeed::IODA`] selects IODA's fixed thresholds: at least 400,000
/// IPv4 and 10,000 IPv6 prefixes (CLI: `--full-feed ioda`). They suit
/// recent dumps only: in 2001 no peer had 400k prefixes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FullFeed {
    /// At least this fraction (0..=1) of the largest peer's prefix count in
    /// the family (and at least one prefix).
    Relative(f64),
    /// Fixed minimum prefix counts per family.
    Fixed {
        /// Minimum IPv4 prefixes.
        ipv4: u64,
        /// Minimum IPv6 prefixes.
        ipv6: u64,
    },
}

impl FullFeed {
    /// The default fraction of [`FullFeed::Relative`].
    pub const DEFAULT_FRACTION: f64 = 0.8;
    /// IODA's thresholds: 400,000 IPv4 and 10,000 IPv6 prefixes.
    pub const IODA: FullFeed = FullFeed::Fixed {
        ipv4: 400_000,
        ipv6: 10_000,
    };

    /// Whether a peer with `count` prefixes of a family (`v6` or not) is a
    /// full-feed peer, given the largest count `max` of that family.
    ///
    /// ```
    /// use mrtsnap::snapshot::FullFeed;
    /// assert!(FullFeed::default().is_full(false, 81, 100));
    /// assert!(!FullFeed::default().is_full(false, 79, 100));
    /// assert!(FullFeed::IODA.is_full(true, 10_000, 10_000));
    /// ```
    pub fn is_full(&self, v6: bool, count: u64, max: u64) -> bool {
        match *self {
            FullFeed::Relative(f) => count > 0 && count as f64 >= f * max as f64,
            FullFeed::Fixed { ipv4, ipv6 } => count >= if v6 { ipv6 } else { ipv4 },
        }
    }
}

impl Default for FullFeed {
    fn default() -> Self {
        FullFeed::Relative(FullFeed::DEFAULT_FRACTION)
    }
}

impl fmt::Display for FullFeed {
    /// `relative:0.8` or `fixed:400000,10000` (what [`str::parse`] reads).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FullFeed::Relative(x) => write!(f, "relative:{x}"),
            FullFeed::Fixed { ipv4, ipv6 } => write!(f, "fixed:{ipv4},{ipv6}"),
        }
    }
}

impl std::str::FromStr for FullFeed {
    type Err = crate::error::ParseError;
    /// `relative:F` (or a bare fraction `F`), `fixed:V4,V6`, or `ioda`.
    ///
    /// ```
    /// use mrtsnap::snapshot::FullFeed;
    /// assert_eq!("ioda".parse::<FullFeed>(), Ok(FullFeed::IODA));
    /// assert_eq!("0.9".parse::<FullFeed>(), Ok(FullFeed::Relative(0.9)));
    /// assert_eq!("fixed:1,2".parse::<FullFeed>(), Ok(FullFeed::Fixed { ipv4: 1, ipv6: 2 }));
    /// ```
    fn from_str(s: &str) -> std::result::Result<FullFeed, Self::Err> {
        let bad = || {
            crate::error::ParseError::new(format!(
                "bad full-feed rule {s:?} (want relative:FRACTION, fixed:IPV4,IPV6 or ioda)"
            ))
        };
        if s.eq_ignore_ascii_case("ioda") {
            return Ok(FullFeed::IODA);
        }
        if let Some(rest) = s.strip_prefix("fixed:") {
            let (a, b) = rest.split_once(',').ok_or_else(bad)?;
            return Ok(FullFeed::Fixed {
                ipv4: a.trim().parse().map_err(|_| bad())?,
                ipv6: b.trim().parse().map_err(|_| bad())?,
            });
        }
        let f: f64 = s.strip_prefix("relative:").unwrap_or(s).trim().parse().map_err(|_| bad())?;
        if !(0.0..=1.0).contains(&f) {
            return Err(bad());
        }
        Ok(FullFeed::Relative(f))
    }
}

/// The kind of a row's origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OriginKind {
    /// No origin: empty path, or only confederation segments.
    None,
    /// One AS.
    Asn,
    /// An AS_SET.
    Set,
}

impl OriginKind {
    /// `none`, `asn` or `set` (the Parquet `origin_kind` values).
    ///
    /// ```
    /// assert_eq!(mrtsnap::snapshot::OriginKind::Set.as_str(), "set");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            OriginKind::None => "none",
            OriginKind::Asn => "asn",
            OriginKind::Set => "set",
        }
    }
}

/// A row's origin, borrowed from the snapshot.
///
/// Ordered as rows are: none, then ASNs, then sets (by their members).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowOrigin<'a> {
    /// No origin.
    None,
    /// One AS.
    Asn(u32),
    /// An AS_SET: members sorted ascending (a member repeated on the wire
    /// is kept repeated).
    Set(&'a [u32]),
}

impl RowOrigin<'_> {
    /// The kind.
    pub fn kind(&self) -> OriginKind {
        match self {
            RowOrigin::None => OriginKind::None,
            RowOrigin::Asn(_) => OriginKind::Asn,
            RowOrigin::Set(_) => OriginKind::Set,
        }
    }

    /// An owned copy.
    ///
    /// ```
    /// use mrtsnap::snapshot::RowOrigin;
    /// use mrtsnap::bgp::Origin;
    /// assert_eq!(RowOrigin::Set(&[1, 2]).to_origin(), Origin::Set(vec![1, 2]));
    /// ```
    pub fn to_origin(&self) -> Origin {
        match *self {
            RowOrigin::None => Origin::None,
            RowOrigin::Asn(a) => Origin::Asn(a),
            RowOrigin::Set(s) => Origin::Set(s.to_vec()),
        }
    }
}

impl fmt::Display for RowOrigin<'_> {
    /// `-`, the ASN, or `{a,b}` (the `pairs` format).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowOrigin::None => f.write_str("-"),
            RowOrigin::Asn(a) => write!(f, "{a}"),
            RowOrigin::Set(s) => {
                f.write_str("{")?;
                for (i, a) in s.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// One row of a snapshot: a (prefix, origin) pair and who sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row<'a> {
    /// The prefix.
    pub prefix: Prefix,
    /// The origin.
    pub origin: RowOrigin<'a>,
    /// The peers carrying the pair: sorted indexes into [`Snapshot::peers`].
    pub peer_ids: &'a [u32],
    /// Distinct ASNs among those peers.
    pub peer_asns: u32,
    /// How many of those peers are full-feed peers in the prefix's family.
    pub full_feed_peers: u32,
}

impl Row<'_> {
    /// Distinct peers carrying the pair.
    #[inline]
    pub fn peers(&self) -> u32 {
        self.peer_ids.len() as u32
    }

    /// How many of the row's peers are in `keep` (indexed by peer id; ids
    /// past its end count as not kept): visibility recounted for any subset
    /// of peers.
    ///
    /// ```
    /// # let snap = mrtsnap::snapshot::Snapshot::build(&mrtsnap::Source::from_bytes("x", mrtsnap::snapshot::example_rib()), &Default::default())?;
    /// let only_first_peer: Vec<bool> = (0..snap.peers().len()).map(|i| i == 0).collect();
    /// for row in snap.rows() {
    ///     assert!(row.count_in(&only_first_peer) <= 1);
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn count_in(&self, keep: &[bool]) -> u32 {
        self.peer_ids
            .iter()
            .filter(|&&p| keep.get(p as usize).copied().unwrap_or(false))
            .count() as u32
    }
}

/// One peer of a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PeerInfo {
    /// The input it comes from: index into [`Snapshot::sources`].
    pub source: u32,
    /// Its PEER_INDEX_TABLE index (`None` for TABLE_DUMP and BGP4MP peers).
    pub index: Option<u16>,
    /// Its BGP identifier, when the PEER_INDEX_TABLE gives it.
    pub bgp_id: Option<Ipv4Addr>,
    /// Its address (`None` when RIB records came without a peer table).
    pub addr: Option<IpAddr>,
    /// Its AS (`None` when RIB records came without a peer table).
    pub asn: Option<u32>,
    /// Distinct IPv4 prefixes it carries.
    pub ipv4_prefixes: u64,
    /// Distinct IPv6 prefixes it carries.
    pub ipv6_prefixes: u64,
    /// Full-feed in IPv4 (see [`FullFeed`]).
    pub full_feed_ipv4: bool,
    /// Full-feed in IPv6.
    pub full_feed_ipv6: bool,
}

/// What decoding one input found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// MRT records framed.
    pub records: u64,
    /// RIB records used (TABLE_DUMP_V2 RIB, TABLE_DUMP, BGP4MP_ENTRY).
    pub rib_records: u64,
    /// RIB entries decoded (routes, before grouping).
    pub rib_entries: u64,
    /// Errors by kind (see [`ErrorKind::name`](crate::ErrorKind::name)).
    pub errors: BTreeMap<String, u64>,
    /// Warnings by name (malformed attributes dropped, skipped records…).
    pub warnings: BTreeMap<String, u64>,
}

/// One input of a snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceInfo {
    /// The file, as given.
    pub file: String,
    /// The collector: from the file's RouteViews or RIS path or name
    /// ([`collector_from_path`]), else the PEER_INDEX_TABLE's collector BGP
    /// id, else `unknown`.
    pub collector: String,
    /// The PEER_INDEX_TABLE's collector BGP id.
    pub collector_id: Option<Ipv4Addr>,
    /// The PEER_INDEX_TABLE's view name.
    pub view_name: String,
    /// The dump time: the timestamp of the first record, Unix seconds.
    pub dump_time: Option<u32>,
    /// Decode statistics.
    pub stats: DecodeStats,
}

/// Origin keys: `kind << 32 | value`, value an ASN or a set id. With set
/// ids in the order of their members (as in a finished snapshot), key
/// order is origin order.
pub(crate) const KIND_SHIFT: u32 = 32;
pub(crate) const KEY_ASN: u64 = 1 << KIND_SHIFT;
pub(crate) const KEY_SET: u64 = 2 << KIND_SHIFT;

/// A prefix-origin snapshot: rows sorted by (family, address, length,
/// origin), the peer table and per-input metadata. See the [module
/// docs](self).
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    sources: Vec<SourceInfo>,
    full_feed: Option<FullFeed>,
    peers: Vec<PeerInfo>,
    prefixes: Vec<Prefix>,
    origins: Vec<u64>,
    sets: ListColumn<u32>,
    peer_ids: ListColumn<u32>,
    peer_asns: Vec<u32>,
    full_feed_peers: Vec<u32>,
    report: Report,
}

impl PartialEq for Snapshot {
    /// Rows, peers and metadata (not the kept error messages).
    fn eq(&self, other: &Snapshot) -> bool {
        self.sources == other.sources
            && self.full_feed() == other.full_feed()
            && self.peers == other.peers
            && self.prefixes == other.prefixes
            && self.origins == other.origins
            && self.sets == other.sets
            && self.peer_ids == other.peer_ids
            && self.peer_asns == other.peer_asns
            && self.full_feed_peers == other.full_feed_peers
    }
}

/// Iterator over rows of a [`Snapshot`].
#[derive(Clone, Debug)]
pub struct Rows<'a> {
    snap: &'a Snapshot,
    range: std::ops::Range<usize>,
}

impl<'a> Iterator for Rows<'a> {
    type Item = Row<'a>;
    #[inline]
    fn next(&mut self) -> Option<Row<'a>> {
        let i = self.range.next()?;
        self.snap.row(i)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.range.size_hint()
    }
}

impl DoubleEndedIterator for Rows<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let i = self.range.next_back()?;
        self.snap.row(i)
    }
}

impl ExactSizeIterator for Rows<'_> {}

impl Snapshot {
    /// Build the snapshot of a RIB dump: TABLE_DUMP_V2 (every RIB subtype,
    /// ADD-PATH included; RIB_GENERIC for IPv4/IPv6 unicast), TABLE_DUMP,
    /// or BGP4MP_ENTRY records. Batches are decoded on the current rayon
    /// pool (install a pool to choose the thread count); the result does
    /// not depend on it or on the batch size.
    ///
    /// Damaged records are skipped and counted (see [`Snapshot::report`]
    /// and [`SourceInfo::stats`]) unless `opts.strict`.
    ///
    /// ```
    /// use mrtsnap::snapshot::{Snapshot, SnapshotOptions};
    /// let src = mrtsnap::Source::from_bytes("rib", mrtsnap::snapshot::example_rib());
    /// let one = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    /// let a = one.install(|| Snapshot::build(&src, &SnapshotOptions::default()))?;
    /// let b = Snapshot::build(&src, &SnapshotOptions { batch_size: 1, ..Default::default() })?;
    /// assert_eq!(a, b);
    /// assert_eq!(a.len(), 6);
    /// assert_eq!(a.sources()[0].view_name, "main");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// When the input cannot be read; when it holds no MRT record at all
    /// ([`ErrorKind::NotMrt`](crate::ErrorKind::NotMrt): a text file,
    /// zeros); when it is an updates file (BGP4MP or BGP messages and no RIB
    /// records: not a RIB dump); with `opts.strict`, at the first damaged
    /// record. An empty input is an empty snapshot.
    pub fn build(src: &Source, opts: &SnapshotOptions) -> Result<Snapshot> {
        let snap = builder::build(src, opts)?;
        match snap.report().not_mrt() {
            Some(e) => Err(e),
            None => Ok(snap),
        }
    }

    /// [`Snapshot::build`], with an input that holds no MRT record at all
    /// an empty snapshot whose report says why: the command line prints
    /// the report's errors before saying so, the dataset runner records it.
    #[doc(hidden)]
    pub fn build_any(src: &Source, opts: &SnapshotOptions) -> Result<Snapshot> {
        builder::build(src, opts)
    }

    /// A snapshot from (prefix, origin, peer ids) rows in any order, over
    /// the peer table `peers` (of one unnamed source): rows of equal (prefix, origin) are joined,
    /// lists sorted, and the per-row counts derived from `peers`
    /// (full-feed flags as given).
    ///
    /// ```
    /// use mrtsnap::bgp::Origin;
    /// use mrtsnap::snapshot::{PeerInfo, Snapshot};
    /// let peer = |asn| PeerInfo { source: 0, index: None, bgp_id: None, addr: None, asn: Some(asn), ipv4_prefixes: 0, ipv6_prefixes: 0, full_feed_ipv4: true, full_feed_ipv6: true };
    /// let snap = Snapshot::from_rows(vec![peer(1), peer(1), peer(2)], [
    ///     ("10.0.0.0/8".parse()?, Origin::Asn(7), vec![2, 0]),
    ///     ("10.0.0.0/8".parse()?, Origin::Asn(7), vec![1]),
    /// ])?;
    /// let r = snap.row(0).ok_or("no row")?;
    /// assert_eq!((r.peers(), r.peer_asns, r.peer_ids), (3, 2, &[0, 1, 2][..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// When a peer id is not in `peers`, a peer's `source` is not 0, or a
    /// set origin is empty.
    pub fn from_rows(peers: Vec<PeerInfo>, rows: impl IntoIterator<Item = (Prefix, Origin, Vec<u32>)>) -> Result<Snapshot> {
        builder::from_rows(vec![SourceInfo::default()], peers, FullFeed::default(), rows)
    }

    /// [`Snapshot::from_rows`] over the inputs `sources` (each peer's
    /// `source` an index into them) and the full-feed rule `full_feed`: the
    /// replay's snapshots.
    pub(crate) fn from_parts(
        sources: Vec<SourceInfo>,
        peers: Vec<PeerInfo>,
        full_feed: FullFeed,
        rows: impl IntoIterator<Item = (Prefix, Origin, Vec<u32>)>,
    ) -> Result<Snapshot> {
        builder::from_rows(sources, peers, full_feed, rows)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.prefixes.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty()
    }

    /// Row `i`, if there is one.
    ///
    /// ```
    /// # let snap = mrtsnap::snapshot::Snapshot::build(&mrtsnap::Source::from_bytes("x", mrtsnap::snapshot::example_rib()), &Default::default())?;
    /// let r = snap.row(0).ok_or("empty")?;
    /// assert_eq!((r.prefix.to_string(), r.peers()), ("192.0.0.0/16".to_string(), 1));
    /// assert!(snap.row(snap.len()).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn row(&self, i: usize) -> Option<Row<'_>> {
        Some(Row {
            prefix: *self.prefixes.get(i)?,
            origin: self.origin_of(*self.origins.get(i)?),
            peer_ids: self.peer_ids.get(i),
            peer_asns: self.peer_asns.get(i).copied().unwrap_or(0),
            full_feed_peers: self.full_feed_peers.get(i).copied().unwrap_or(0),
        })
    }

    /// All rows, in order.
    ///
    /// ```
    /// # let snap = mrtsnap::snapshot::Snapshot::build(&mrtsnap::Source::from_bytes("x", mrtsnap::snapshot::example_rib()), &Default::default())?;
    /// assert_eq!(snap.rows().len(), snap.len());
    /// assert!(snap.rows().zip(snap.rows().skip(1)).all(|(a, b)| (a.prefix, a.origin) < (b.prefix, b.origin)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rows(&self) -> Rows<'_> {
        Rows {
            snap: self,
            range: 0..self.len(),
        }
    }

    /// The inputs: one for a built snapshot, several for a merged one.
    pub fn sources(&self) -> &[SourceInfo] {
        &self.sources
    }

    /// The peer table; [`Row::peer_ids`] index it.
    ///
    /// ```
    /// # let snap = mrtsnap::snapshot::Snapshot::build(&mrtsnap::Source::from_bytes("x", mrtsnap::snapshot::example_rib()), &Default::default())?;
    /// let p = &snap.peers()[0];
    /// assert_eq!((p.index, p.asn, p.ipv4_prefixes, p.full_feed_ipv4), (Some(0), Some(65001), 3, true));
    /// assert_eq!(snap.sources()[0].view_name, "main");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn peers(&self) -> &[PeerInfo] {
        &self.peers
    }

    /// The full-feed rule the snapshot was built with.
    pub fn full_feed(&self) -> FullFeed {
        self.full_feed.unwrap_or_default()
    }

    /// Decode statistics with the first errors of each kind (empty for a
    /// snapshot read from Parquet).
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The collector name(s), comma-separated.
    pub fn collector(&self) -> String {
        self.sources.iter().map(|s| s.collector.as_str()).collect::<Vec<_>>().join(",")
    }

    fn origin_of(&self, key: u64) -> RowOrigin<'_> {
        let v = key as u32;
        match key >> KIND_SHIFT {
            1 => RowOrigin::Asn(v),
            2 => RowOrigin::Set(self.sets.get(v as usize)),
            _ => RowOrigin::None,
        }
    }

    /// The rows of exactly `prefix` (one per origin).
    ///
    /// ```
    /// # let snap = mrtsnap::snapshot::Snapshot::build(&mrtsnap::Source::from_bytes("x", mrtsnap::snapshot::example_rib()), &Default::default())?;
    /// let rows: Vec<_> = snap.lookup("198.51.100.0/24".parse()?).map(|r| (r.origin.to_string(), r.peers())).collect();
    /// assert_eq!(rows, [("64501".to_string(), 1), ("64502".to_string(), 1)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lookup(&self, prefix: Prefix) -> Rows<'_> {
        let lo = self.prefixes.partition_point(|p| *p < prefix);
        let hi = lo + self.prefixes.get(lo..).unwrap_or(&[]).partition_point(|p| *p == prefix);
        Rows { snap: self, range: lo..hi }
    }

    /// Every row whose prefix contains `addr`, least specific first (what
    /// pyasn's `get_as_prefix` chain shows).
    ///
    /// ```
    /// # let snap = mrtsnap::snapshot::Snapshot::build(&mrtsnap::Source::from_bytes("x", mrtsnap::snapshot::example_rib()), &Default::default())?;
    /// let p: Vec<String> = snap.covering("192.0.2.77".parse()?).iter().map(|r| r.prefix.to_string()).collect();
    /// assert_eq!(p, ["192.0.0.0/16", "192.0.2.0/24", "192.0.2.0/24"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn covering(&self, addr: IpAddr) -> Vec<Row<'_>> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (0..=max)
            .filter_map(|l| Prefix::new(addr, l))
            .flat_map(|p| self.lookup(p))
            .collect()
    }

    /// The rows of the most specific prefix containing `addr` (empty when
    /// none does): longest-prefix match, with every origin of that prefix.
    ///
    /// ```
    /// # let snap = mrtsnap::snapshot::Snapshot::build(&mrtsnap::Source::from_bytes("x", mrtsnap::snapshot::example_rib()), &Default::default())?;
    /// let hit: Vec<String> = snap.longest_match("198.51.100.7".parse()?).map(|r| r.origin.to_string()).collect();
    /// assert_eq!(hit, ["64501", "64502"]);
    /// assert_eq!(snap.longest_match("10.0.0.1".parse()?).len(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn longest_match(&self, addr: IpAddr) -> Rows<'_> {
        let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
        for l in (0..=max).rev() {
            if let Some(p) = Prefix::new(addr, l) {
                let r = self.lookup(p);
                if r.len() > 0 {
                    return r;
                }
            }
        }
        Rows { snap: self, range: 0..0 }
    }

    /// The (prefix, origin, peers) triples, in row order: the ground truth a
    /// generated RIB can be checked against.
    ///
    /// ```
    /// # let snap = mrtsnap::snapshot::Snapshot::build(&mrtsnap::Source::from_bytes("x", mrtsnap::snapshot::example_rib()), &Default::default())?;
    /// use mrtsnap::bgp::Origin;
    /// let first = snap.pairs().next().ok_or("empty")?;
    /// assert_eq!(first, ("192.0.0.0/16".parse()?, Origin::Asn(64500), 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pairs(&self) -> impl ExactSizeIterator<Item = (Prefix, Origin, u32)> + '_ {
        self.rows().map(|r| (r.prefix, r.origin.to_origin(), r.peers()))
    }

    /// Merge snapshots of several collectors taken at the same time: rows of
    /// the same (prefix, origin) are joined, peer counts add up, peers stay
    /// distinct by input (a peer at two collectors is two peers, though its
    /// ASN counts once in `peer_asns`), and each peer keeps the full-feed
    /// flags of its own collector.
    ///
    /// ```
    /// use mrtsnap::snapshot::Snapshot;
    /// # let snap = Snapshot::build(&mrtsnap::Source::from_bytes("x", mrtsnap::snapshot::example_rib()), &Default::default())?;
    /// let both = Snapshot::merge(vec![snap.clone(), snap.clone()]);
    /// assert_eq!(both.len(), snap.len());
    /// assert_eq!(both.peers().len(), 2 * snap.peers().len());
    /// assert!(both.rows().zip(snap.rows()).all(|(b, s)| b.peers() == 2 * s.peers() && b.peer_asns == s.peer_asns));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn merge(parts: Vec<Snapshot>) -> Snapshot {
        builder::merge(parts)
    }
}

/// A tiny TABLE_DUMP_V2 RIB for examples and tests: a PEER_INDEX_TABLE of
/// three peers (AS 65001, 65002, 65003) and RIB records for
/// `192.0.0.0/16` (origin 64500), `192.0.2.0/24` (64500, seen by two
/// peers; the third reaches it through an AS_SET `{64510,64511}`),
/// `198.51.100.0/24` (MOAS: 64501 and 64502) and `2001:db8::/32` (64503).
///
/// ```
/// let mrt = mrtsnap::snapshot::example_rib();
/// assert_eq!(mrtsnap::mrt::Records::from_bytes(&mrt).count(), 5);
/// ```
#[doc(hidden)]
pub fn example_rib() -> Vec<u8> {
    use crate::testkit::{attr, seg};
    fn rec(out: &mut Vec<u8>, subtype: u16, body: &[u8]) {
        out.extend(crate::testkit::mrt(1_401_487_200, crate::mrt::code::TABLE_DUMP_V2, subtype, body));
    }
    fn path(segs: &[(u8, &[u32])]) -> Vec<u8> {
        let p: Vec<u8> = segs.iter().flat_map(|(kind, asns)| seg(*kind, asns, 4)).collect();
        [attr(0x40, 1, &[0]), attr(0x40, 2, &p)].concat()
    }
    fn rib(seq: u32, prefix: &[u8], entries: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut b = seq.to_be_bytes().to_vec();
        b.extend_from_slice(prefix);
        b.extend_from_slice(&(entries.len() as u16).to_be_bytes());
        for (peer, attrs) in entries {
            b.extend_from_slice(&peer.to_be_bytes());
            b.extend_from_slice(&1_401_480_000u32.to_be_bytes());
            b.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
            b.extend_from_slice(attrs);
        }
        b
    }
    let mut out = Vec::new();
    let mut pit = vec![10, 0, 0, 1, 0, 4, b'm', b'a', b'i', b'n', 0, 3];
    for (i, asn) in [65001u32, 65002, 65003].iter().enumerate() {
        pit.extend_from_slice(&[2, 10, 0, 0, 10 + i as u8, 192, 0, 2, 200 + i as u8]);
        pit.extend_from_slice(&asn.to_be_bytes());
    }
    rec(&mut out, 1, &pit);
    const SEQ: u8 = 2;
    const SET: u8 = 1;
    rec(&mut out, 2, &rib(0, &[16, 192, 0], &[(0, path(&[(SEQ, &[65001, 64500])]))]));
    let e = [
        (0, path(&[(SEQ, &[65001, 3356, 64500])])),
        (1, path(&[(SEQ, &[65002, 64500, 64500])])),
        (2, path(&[(SEQ, &[65003]), (SET, &[64511, 64510])])),
    ];
    rec(&mut out, 2, &rib(1, &[24, 192, 0, 2], &e));
    let e = [(0, path(&[(SEQ, &[65001, 64501])])), (1, path(&[(SEQ, &[65002, 64502])]))];
    rec(&mut out, 2, &rib(2, &[24, 198, 51, 100], &e));
    rec(
        &mut out,
        4,
        &rib(3, &[32, 0x20, 0x01, 0x0d, 0xb8], &[(2, path(&[(SEQ, &[65003, 64503])]))]),
    );
    out
}
