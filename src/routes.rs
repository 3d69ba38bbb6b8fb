//! Routes: one item per (prefix, peer) of a RIB and per announced or
//! withdrawn prefix of an update, whatever the record type carrying it.
//!
//! A [`Route`] borrows its path attributes from the input ([`Attrs`]) and
//! owns only small values (prefix, peer, timestamps); producing one neither
//! allocates nor copies attribute bytes. Routes come from
//!
//! * TABLE_DUMP_V2 RIB records (every RIB subtype, ADD-PATH included, and
//!   RIB_GENERIC of IPv4/IPv6 unicast and multicast): one [`RouteKind::RibEntry`]
//!   per entry, the peer looked up in the PEER_INDEX_TABLE;
//! * TABLE_DUMP (v1) records, including the multi-entry records of early RIS
//!   dumps, and BGP4MP ENTRY records: one `RibEntry` per entry;
//! * UPDATE messages in BGP4MP and BGP4MP_ET records of every subtype and in
//!   the legacy BGP type: one [`RouteKind::Withdraw`] per withdrawn prefix
//!   (classic, then MP_UNREACH_NLRI), then one [`RouteKind::Announce`] per
//!   announced prefix (classic, then MP_REACH_NLRI), the order `bgpdump -m`
//!   prints them in.
//!
//! NLRI of families other than IPv4/IPv6 unicast and multicast (VPN, EVPN,
//! flowspec, ...) give no routes; [`RecordRoutes::other_families`] counts the
//! blocks left out. Damage inside a record that decoded (an entry whose
//! attribute block is broken, a prefix running past its block, a RIB entry
//! naming a peer the table lacks) drops what it touches and is reported by
//! [`RecordRoutes::error`]; the whole-input walkers count the first of each
//! record as an error, like a damaged record, and `--strict` stops there.
//! A route whose attributes are treat-as-withdraw under RFC 7606 (a
//! malformed AS_PATH, ORIGIN, NEXT_HOP, ...: [`Attrs::withdraw`]) is damage
//! too: a RIB entry gives no route, an announcement comes out as a
//! [`RouteKind::Withdraw`], as a BGP speaker would take it.
//!
//! Three ways in: [`for_each_route`] over a whole [`Source`],
//! [`routes_in_batch`] over one [`Batch`] (what parallel callers hand to
//! their workers), and [`routes_of`] over one decoded record.
//!
//! # Example
//!
//! A BGP4MP MESSAGE_AS4 record carrying an UPDATE that announces
//! 192.0.2.0/24 with AS path `65001 65002`, built in memory:
//!
//! ```
//! use mrtsnap::routes::{for_each_route, RouteOptions, RouteKind};
//! use mrtsnap::Source;
//!
//! let record: Vec<u8> = [
//!     // MRT header: 2020-01-01 00:00:00, BGP4MP (16) / MESSAGE_AS4 (4), 71 bytes.
//!     &[0x5e, 0x0b, 0xe1, 0x00, 0, 16, 0, 4, 0, 0, 0, 71][..],
//!     // Peer AS 65001, local AS 65002, ifindex 0, AFI 1, peer 10.0.0.1, local 10.0.0.2.
//!     &[0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
//!     // BGP header (length 51, UPDATE), no withdrawals, 24 bytes of attributes.
//!     &[0xff; 16], &[0, 51, 2, 0, 0, 0, 24],
//!     // ORIGIN IGP, AS_PATH 65001 65002, NEXT_HOP 10.0.0.1.
//!     &[0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1],
//!     // NLRI: 192.0.2.0/24.
//!     &[24, 192, 0, 2],
//! ]
//! .concat();
//! let src = Source::from_bytes("update.mrt", record);
//! let mut seen = Vec::new();
//! let report = for_each_route(&src, RouteOptions::default(), |r| {
//!     seen.push(format!("{:?} {} from AS{} origin {:?}", r.kind, r.prefix, r.peer.asn, r.origin_as()));
//! })?;
//! assert_eq!(seen, ["Announce 192.0.2.0/24 from AS65001 origin Asn(65002)"]);
//! assert_eq!(report.total_errors(), 0);
//! # Ok::<(), mrtsnap::Error>(())
//! ```

use crate::bgp::as_path::{AsPathBuf, OriginRef};
pub use crate::bgp::as_path::{PathSegment, PathSegments};
use crate::bgp::attr::{next_hop_ip, AttrContext, Attrs};
use crate::bgp::message::{Message, Update};
use crate::bgp::nlri::{Nlri, Prefix, Prefixes};
use crate::error::{Error, ErrorKind, Result};
use crate::mrt::{Bgp4mp, Bgp4mpBody, LegacyBgp, PeerTable, RawRecord, Record, RibEntries, TableDump};
use crate::pipeline::{for_each_record, RecordDamage};
use crate::report::Report;
use crate::source::{Batch, Source, DEFAULT_BATCH_SIZE};
use std::net::IpAddr;

/// What a route is.
///
/// # Example
/// ```
/// use mrtsnap::routes::RouteKind;
/// assert_eq!(RouteKind::Withdraw.name(), "withdraw");
/// assert!(RouteKind::Announce.is_update());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteKind {
    /// An entry of a table dump (TABLE_DUMP_V2 RIB, TABLE_DUMP, BGP4MP ENTRY).
    RibEntry,
    /// A prefix announced by an UPDATE.
    Announce,
    /// A prefix withdrawn by an UPDATE.
    Withdraw,
}

impl RouteKind {
    /// A short lower-case name: `rib`, `announce` or `withdraw`.
    ///
    /// # Example
    /// ```
    /// assert_eq!(mrtsnap::routes::RouteKind::RibEntry.name(), "rib");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            RouteKind::RibEntry => "rib",
            RouteKind::Announce => "announce",
            RouteKind::Withdraw => "withdraw",
        }
    }

    /// Whether the route comes from an UPDATE message.
    ///
    /// # Example
    /// ```
    /// assert!(!mrtsnap::routes::RouteKind::RibEntry.is_update());
    /// ```
    pub fn is_update(self) -> bool {
        !matches!(self, RouteKind::RibEntry)
    }
}

/// The peer a route was learnt from.
///
/// BGP4MP, legacy BGP and TABLE_DUMP records carry the peer's address and AS
/// themselves; TABLE_DUMP_V2 entries carry an index into the
/// PEER_INDEX_TABLE ([`Peer::index`]) and take both from the table. Only a
/// TABLE_DUMP_V2 entry read without its table, or naming an index the table
/// lacks (damage, counted in the report), has no address or AS: they are
/// then the unspecified address and 0 ([`Peer::unknown`]). The shortened
/// zebra records of 2000 leave the address out: it is the unspecified
/// address there too.
///
/// # Example
/// ```
/// use mrtsnap::routes::Peer;
/// let p = Peer { index: None, addr: "192.0.2.1".parse().unwrap(), asn: 64500 };
/// assert_eq!(p.to_string(), "192.0.2.1 AS64500");
/// assert_eq!(Peer::unknown(3).to_string(), "0.0.0.0 AS0");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Peer {
    /// Index in the PEER_INDEX_TABLE (TABLE_DUMP_V2 only).
    pub index: Option<u16>,
    /// Peer address.
    pub addr: IpAddr,
    /// Peer AS.
    pub asn: u32,
}

impl Peer {
    /// The peer of a TABLE_DUMP_V2 entry whose table entry is missing.
    pub fn unknown(index: u16) -> Peer {
        Peer {
            index: Some(index),
            addr: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            asn: 0,
        }
    }
}

/// `ADDRESS ASn`, as a collector's peer list names a peer.
impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} AS{}", self.addr, self.asn)
    }
}

/// One route: a prefix with its peer, time and path attributes, borrowed
/// from the record it came from.
///
/// A withdrawal carries no attributes (`attrs` is empty), also where its
/// UPDATE announces other prefixes with attributes, and where an
/// announcement is treated as withdrawn (RFC 7606).
///
/// # Example
/// ```
/// # let record: Vec<u8> = [
/// #     &[0x5e, 0x0b, 0xe1, 0x00, 0, 16, 0, 4, 0, 0, 0, 71][..],
/// #     &[0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
/// #     &[0xff; 16], &[0, 51, 2, 0, 0, 0, 24],
/// #     &[0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1],
/// #     &[24, 192, 0, 2],
/// # ].concat();
/// use mrtsnap::mrt::{Record, Records};
/// use mrtsnap::routes::{routes_of, RouteKind};
///
/// let raw = Records::from_bytes(&record).next().unwrap()?;
/// let rec = Record::decode(&raw)?;
/// let route = routes_of(&raw, &rec, None).next().unwrap();
/// assert_eq!(route.kind, RouteKind::Announce);
/// assert_eq!((route.timestamp, route.record), (1_577_836_800, 0));
/// assert_eq!(route.prefix.to_string(), "192.0.2.0/24");
/// assert_eq!(route.peer.addr.to_string(), "10.0.0.1");
/// assert_eq!(route.attrs.local_pref, None);
/// # Ok::<(), mrtsnap::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Route<'a> {
    /// Seconds since the Unix epoch (the MRT header's timestamp).
    pub timestamp: u32,
    /// Microseconds of an `_ET` record.
    pub micros: Option<u32>,
    /// Zero-based index of the MRT record in the input.
    pub record: u64,
    /// RIB entry, announcement or withdrawal.
    pub kind: RouteKind,
    /// The peer.
    pub peer: Peer,
    /// The prefix (host bits masked off).
    pub prefix: Prefix,
    /// ADD-PATH path identifier.
    pub path_id: Option<u32>,
    /// Originated time of a RIB entry (time of last change for BGP4MP ENTRY).
    pub originated: Option<u32>,
    /// Path attributes.
    pub attrs: Attrs<'a>,
    /// The next-hop field of a BGP4MP ENTRY record.
    entry_next_hop: Option<&'a [u8]>,
}

impl<'a> Route<'a> {
    /// A route with the given parts (the next hop from `attrs`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        timestamp: u32,
        micros: Option<u32>,
        record: u64,
        kind: RouteKind,
        peer: Peer,
        prefix: Prefix,
        path_id: Option<u32>,
        originated: Option<u32>,
        attrs: Attrs<'a>,
    ) -> Route<'a> {
        Route {
            timestamp,
            micros,
            record,
            kind,
            peer,
            prefix,
            path_id,
            originated,
            attrs,
            entry_next_hop: None,
        }
    }

    /// The ORIGIN attribute (0 IGP, 1 EGP, 2 INCOMPLETE), if present; the
    /// origin AS is [`Route::origin_as`].
    ///
    /// # Example
    /// ```
    /// # let record: Vec<u8> = [
    /// #     &[0x5e, 0x0b, 0xe1, 0x00, 0, 16, 0, 4, 0, 0, 0, 71][..],
    /// #     &[0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
    /// #     &[0xff; 16], &[0, 51, 2, 0, 0, 0, 24],
    /// #     &[0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1],
    /// #     &[24, 192, 0, 2],
    /// # ].concat();
    /// # use mrtsnap::mrt::{Record, Records};
    /// # let raw = Records::from_bytes(&record).next().unwrap()?;
    /// # let rec = Record::decode(&raw)?;
    /// let route = mrtsnap::routes::routes_of(&raw, &rec, None).next().unwrap();
    /// assert_eq!(route.origin_attr(), Some(0)); // IGP
    /// # Ok::<(), mrtsnap::Error>(())
    /// ```
    #[inline]
    pub fn origin_attr(&self) -> Option<u8> {
        self.attrs.origin
    }

    /// The AS path, AS_PATH merged with AS4_PATH as RFC 6793 §4.2.3 says,
    /// as an iterator over its segments; nothing is copied or allocated.
    /// The merge is [`PathSegments`] (what [`AsPathBuf::merge`] fills itself
    /// from); a route without AS_PATH has none.
    ///
    /// # Example
    /// ```
    /// # let record: Vec<u8> = [
    /// #     &[0x5e, 0x0b, 0xe1, 0x00, 0, 16, 0, 4, 0, 0, 0, 71][..],
    /// #     &[0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
    /// #     &[0xff; 16], &[0, 51, 2, 0, 0, 0, 24],
    /// #     &[0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1],
    /// #     &[24, 192, 0, 2],
    /// # ].concat();
    /// # use mrtsnap::mrt::{Record, Records};
    /// # let raw = Records::from_bytes(&record).next().unwrap()?;
    /// # let rec = Record::decode(&raw)?;
    /// use mrtsnap::bgp::as_path::AS_SEQUENCE;
    /// let route = mrtsnap::routes::routes_of(&raw, &rec, None).next().unwrap();
    /// let segs: Vec<(u8, Vec<u32>)> = route.as_path_segments().map(|s| (s.kind(), s.asns().collect())).collect();
    /// assert_eq!(segs, [(AS_SEQUENCE, vec![65001, 65002])]);
    /// # Ok::<(), mrtsnap::Error>(())
    /// ```
    pub fn as_path_segments(&self) -> PathSegments<'a> {
        PathSegments::new(self.attrs.as_path, self.attrs.as4_path)
    }

    /// Fill `buf` with the merged AS path (see [`Route::as_path_segments`])
    /// and return it. Reusing one buffer does not allocate once it is warm.
    ///
    /// # Example
    /// ```
    /// # let record: Vec<u8> = [
    /// #     &[0x5e, 0x0b, 0xe1, 0x00, 0, 16, 0, 4, 0, 0, 0, 71][..],
    /// #     &[0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
    /// #     &[0xff; 16], &[0, 51, 2, 0, 0, 0, 24],
    /// #     &[0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1],
    /// #     &[24, 192, 0, 2],
    /// # ].concat();
    /// # use mrtsnap::mrt::{Record, Records};
    /// # let raw = Records::from_bytes(&record).next().unwrap()?;
    /// # let rec = Record::decode(&raw)?;
    /// use mrtsnap::bgp::{Origin, AsPathBuf};
    /// let mut buf = AsPathBuf::new();
    /// let route = mrtsnap::routes::routes_of(&raw, &rec, None).next().unwrap();
    /// assert_eq!(route.as_path(&mut buf).origin(), Origin::Asn(65002));
    /// # Ok::<(), mrtsnap::Error>(())
    /// ```
    pub fn as_path<'b>(&self, buf: &'b mut AsPathBuf) -> &'b AsPathBuf {
        buf.clear();
        buf.extend_segments(self.as_path_segments());
        buf
    }

    /// The origin AS of the merged path: the last ASN of its last
    /// AS_SEQUENCE, or its trailing AS_SET (confederation segments do not
    /// count), the rule of [`crate::bgp::AsPath::origin`]. Allocation-free.
    ///
    /// # Example
    /// ```
    /// # let record: Vec<u8> = [
    /// #     &[0x5e, 0x0b, 0xe1, 0x00, 0, 16, 0, 4, 0, 0, 0, 71][..],
    /// #     &[0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
    /// #     &[0xff; 16], &[0, 51, 2, 0, 0, 0, 24],
    /// #     &[0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1],
    /// #     &[24, 192, 0, 2],
    /// # ].concat();
    /// # use mrtsnap::mrt::{Record, Records};
    /// # let raw = Records::from_bytes(&record).next().unwrap()?;
    /// # let rec = Record::decode(&raw)?;
    /// use mrtsnap::bgp::OriginRef;
    /// let route = mrtsnap::routes::routes_of(&raw, &rec, None).next().unwrap();
    /// assert!(matches!(route.origin_as(), OriginRef::Asn(65002)));
    /// # Ok::<(), mrtsnap::Error>(())
    /// ```
    pub fn origin_as(&self) -> OriginRef<'a> {
        self.as_path_segments().origin()
    }

    /// The next hop: for IPv4 prefixes NEXT_HOP, else the MP_REACH_NLRI next
    /// hop; for IPv6 prefixes the MP_REACH_NLRI (global) next hop; for a
    /// BGP4MP ENTRY the entry's own next-hop field. `None` for withdrawals.
    ///
    /// # Example
    /// ```
    /// # let record: Vec<u8> = [
    /// #     &[0x5e, 0x0b, 0xe1, 0x00, 0, 16, 0, 4, 0, 0, 0, 71][..],
    /// #     &[0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
    /// #     &[0xff; 16], &[0, 51, 2, 0, 0, 0, 24],
    /// #     &[0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1],
    /// #     &[24, 192, 0, 2],
    /// # ].concat();
    /// # use mrtsnap::mrt::{Record, Records};
    /// # let raw = Records::from_bytes(&record).next().unwrap()?;
    /// # let rec = Record::decode(&raw)?;
    /// let route = mrtsnap::routes::routes_of(&raw, &rec, None).next().unwrap();
    /// assert_eq!(route.next_hop(), Some("10.0.0.1".parse().unwrap()));
    /// # Ok::<(), mrtsnap::Error>(())
    /// ```
    pub fn next_hop(&self) -> Option<IpAddr> {
        if self.kind == RouteKind::Withdraw {
            return None;
        }
        if let Some(ip) = self.entry_next_hop.and_then(next_hop_ip) {
            return Some(ip);
        }
        let mp = || self.attrs.mp_reach.and_then(|m| next_hop_ip(m.next_hop));
        if self.prefix.is_v6() {
            mp()
        } else {
            self.attrs.next_hop.map(IpAddr::V4).or_else(mp)
        }
    }
}

/// One line: the time (UTC), the kind, the prefix, the peer, and for a RIB
/// entry or an announcement the AS path and origin AS.
///
/// # Example
/// ```
/// let src = mrtsnap::Source::open("corpus/updates.synth.small.mrt.gz")?;
/// let route = src.routes().next().unwrap()?;
/// assert_eq!(route.to_string(), "2023-11-14T22:13:20Z announce 61.190.0.0/20 from 2001:7f8:7663::b AS29152 path 29152 6461 4702 origin 4702");
/// # Ok::<(), mrtsnap::Error>(())
/// ```
impl std::fmt::Display for Route<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let time = crate::fmt::utc_datetime(i64::from(self.timestamp));
        write!(f, "{time} {} {} from {}", self.kind.name(), self.prefix, self.peer)?;
        if self.kind != RouteKind::Withdraw {
            let mut path = AsPathBuf::new();
            let origin = crate::bgp::Origin::from(self.origin_as());
            write!(f, " path {} origin {origin}", self.as_path(&mut path))?;
        }
        Ok(())
    }
}

/// Damage found while walking a record's routes.
#[derive(Clone, Debug, Default)]
struct Damage {
    first: Option<Error>,
    count: u32,
    other_families: u32,
}

impl Damage {
    #[cold]
    fn note(&mut self, e: Error, record: u64) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(e.in_record(record));
        }
    }
}

/// Which part of an UPDATE is being walked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Withdrawn,
    MpUnreach,
    Nlri,
    MpReach,
    Done,
}

#[derive(Clone, Debug)]
enum State<'a> {
    Done,
    Rib {
        prefix: Prefix,
        afi: u16,
        entries: RibEntries<'a>,
    },
    TableDump(TableDump<'a>),
    One(Route<'a>),
    Update {
        peer: Peer,
        update: Update<'a>,
        /// The MRT subtype announces ADD-PATH (MP blocks are read that way,
        /// or detected, as `bgpdump` does).
        add_path: bool,
        stage: Stage,
        cur: Option<Prefixes<'a>>,
    },
}

/// The routes of one decoded record; see [`routes_of`].
///
/// # Example
/// ```
/// # let record: Vec<u8> = [
/// #     &[0x5e, 0x0b, 0xe1, 0x00, 0, 16, 0, 4, 0, 0, 0, 71][..],
/// #     &[0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
/// #     &[0xff; 16], &[0, 51, 2, 0, 0, 0, 24],
/// #     &[0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1],
/// #     &[24, 192, 0, 2],
/// # ].concat();
/// use mrtsnap::mrt::{Record, Records};
/// let raw = Records::from_bytes(&record).next().unwrap()?;
/// let rec = Record::decode(&raw)?;
/// let mut routes = mrtsnap::routes::routes_of(&raw, &rec, None);
/// assert_eq!(routes.by_ref().count(), 1);
/// assert!(routes.error().is_none());
/// # Ok::<(), mrtsnap::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RecordRoutes<'a, 'p> {
    timestamp: u32,
    micros: Option<u32>,
    record: u64,
    peers: Option<&'p PeerTable>,
    state: State<'a>,
    damage: Damage,
}

impl RecordRoutes<'_, '_> {
    /// The first damage met so far (with its offset and record index): an
    /// entry whose attribute block is broken, a prefix running past its
    /// block, a RIB entry naming a peer the table does not have. What it
    /// touched was left out (except an unknown peer index: that route is
    /// yielded with the peer's address unknown).
    ///
    /// # Example
    /// ```
    /// use mrtsnap::mrt::{RawRecord, Record, Records};
    /// // A BGP4MP MESSAGE UPDATE whose NLRI claims a /24 but holds one byte.
    /// let bytes: Vec<u8> = [
    ///     &[0, 0, 0, 1, 0, 16, 0, 1, 0, 0, 0, 41][..],
    ///     &[0, 1, 0, 2, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
    ///     &[0xff; 16], &[0, 25, 2, 0, 0, 0, 0, 24, 10],
    /// ]
    /// .concat();
    /// let raw = Records::from_bytes(&bytes).next().unwrap()?;
    /// let rec = Record::decode(&raw)?;
    /// let mut routes = mrtsnap::routes::routes_of(&raw, &rec, None);
    /// assert_eq!(routes.by_ref().count(), 0);
    /// assert_eq!(routes.error_count(), 1);
    /// assert_eq!(routes.error().unwrap().record(), Some(0));
    /// # Ok::<(), mrtsnap::Error>(())
    /// ```
    pub fn error(&self) -> Option<&Error> {
        self.damage.first.as_ref()
    }

    /// Take the first damage met, leaving `None`.
    ///
    /// # Example
    /// ```
    /// # let record: Vec<u8> = [
    /// #     &[0x5e, 0x0b, 0xe1, 0x00, 0, 16, 0, 4, 0, 0, 0, 71][..],
    /// #     &[0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
    /// #     &[0xff; 16], &[0, 51, 2, 0, 0, 0, 24],
    /// #     &[0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1],
    /// #     &[24, 192, 0, 2],
    /// # ].concat();
    /// # use mrtsnap::mrt::{Record, Records};
    /// # let raw = Records::from_bytes(&record).next().unwrap()?;
    /// # let rec = Record::decode(&raw)?;
    /// let mut routes = mrtsnap::routes::routes_of(&raw, &rec, None);
    /// routes.by_ref().for_each(drop);
    /// assert!(routes.take_error().is_none());
    /// # Ok::<(), mrtsnap::Error>(())
    /// ```
    pub fn take_error(&mut self) -> Option<Error> {
        self.damage.first.take()
    }

    /// How many pieces of damage were met so far (see [`RecordRoutes::error`]).
    ///
    /// # Example
    /// ```
    /// # let record: Vec<u8> = [
    /// #     &[0x5e, 0x0b, 0xe1, 0x00, 0, 16, 0, 4, 0, 0, 0, 71][..],
    /// #     &[0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
    /// #     &[0xff; 16], &[0, 51, 2, 0, 0, 0, 24],
    /// #     &[0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1],
    /// #     &[24, 192, 0, 2],
    /// # ].concat();
    /// # use mrtsnap::mrt::{Record, Records};
    /// # let raw = Records::from_bytes(&record).next().unwrap()?;
    /// # let rec = Record::decode(&raw)?;
    /// let mut routes = mrtsnap::routes::routes_of(&raw, &rec, None);
    /// routes.by_ref().for_each(drop);
    /// assert_eq!(routes.error_count(), 0);
    /// # Ok::<(), mrtsnap::Error>(())
    /// ```
    pub fn error_count(&self) -> u32 {
        self.damage.count
    }

    /// How many NLRI blocks (MP_REACH/MP_UNREACH, RIB_GENERIC records) of
    /// families other than IPv4/IPv6 unicast and multicast were left out.
    ///
    /// # Example
    /// ```
    /// # let record: Vec<u8> = [
    /// #     &[0x5e, 0x0b, 0xe1, 0x00, 0, 16, 0, 4, 0, 0, 0, 71][..],
    /// #     &[0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
    /// #     &[0xff; 16], &[0, 51, 2, 0, 0, 0, 24],
    /// #     &[0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1],
    /// #     &[24, 192, 0, 2],
    /// # ].concat();
    /// # use mrtsnap::mrt::{Record, Records};
    /// # let raw = Records::from_bytes(&record).next().unwrap()?;
    /// # let rec = Record::decode(&raw)?;
    /// let mut routes = mrtsnap::routes::routes_of(&raw, &rec, None);
    /// routes.by_ref().for_each(drop);
    /// assert_eq!(routes.other_families(), 0);
    /// # Ok::<(), mrtsnap::Error>(())
    /// ```
    pub fn other_families(&self) -> u32 {
        self.damage.other_families
    }
}

/// The routes of one decoded record. `peers` is the PEER_INDEX_TABLE in
/// effect (what [`crate::pipeline::for_each_record`] hands over); without
/// it, TABLE_DUMP_V2 entries still come out, with only the peer index known.
/// Records without routes (state changes, OPEN, KEEPALIVE, peer tables,
/// skipped types) give none.
///
/// The iterator allocates nothing; each [`Route`] borrows from the record.
///
/// # Example
/// ```
/// # let record: Vec<u8> = [
/// #     &[0x5e, 0x0b, 0xe1, 0x00, 0, 16, 0, 4, 0, 0, 0, 71][..],
/// #     &[0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
/// #     &[0xff; 16], &[0, 51, 2, 0, 0, 0, 24],
/// #     &[0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1],
/// #     &[24, 192, 0, 2],
/// # ].concat();
/// use mrtsnap::mrt::{Record, Records};
/// use mrtsnap::routes::routes_of;
///
/// for raw in Records::from_bytes(&record) {
///     let raw = raw?;
///     let rec = Record::decode(&raw)?;
///     for route in routes_of(&raw, &rec, None) {
///         assert_eq!(route.prefix.to_string(), "192.0.2.0/24");
///     }
/// }
/// # Ok::<(), mrtsnap::Error>(())
/// ```
pub fn routes_of<'a, 'p>(raw: &RawRecord<'a>, rec: &Record<'a>, peers: Option<&'p PeerTable>) -> RecordRoutes<'a, 'p> {
    let mut damage = Damage::default();
    let state = match rec {
        Record::Rib(rib) => match rib.prefix {
            Some(prefix) => State::Rib {
                prefix,
                afi: rib.afi,
                entries: rib.entries(),
            },
            None => {
                damage.other_families += 1;
                State::Done
            }
        },
        Record::TableDump(td) => State::TableDump(td.clone()),
        Record::Bgp4mp(m) => {
            let peer = Peer {
                index: None,
                addr: m.peering.peer_ip,
                asn: m.peering.peer_as,
            };
            match &m.body {
                Bgp4mpBody::Message {
                    message: Message::Update(u),
                    ..
                } => update_state(peer, *u, Bgp4mp::is_add_path(m.subtype), &mut damage, raw.index),
                Bgp4mpBody::Entry(e) => {
                    let attrs = Attrs::parse(
                        e.attrs,
                        e.attrs_offset,
                        AttrContext {
                            asn_len: 2,
                            rib_afi: Some(e.afi),
                        },
                    );
                    match attrs {
                        Ok(attrs) if attrs.withdraw.is_some() => {
                            if let Some(err) = attrs.withdraw_error() {
                                damage.note(err, raw.index);
                            }
                            State::Done
                        }
                        Ok(attrs) => State::One(Route {
                            timestamp: raw.header.timestamp,
                            micros: raw.micros,
                            record: raw.index,
                            kind: RouteKind::RibEntry,
                            peer,
                            prefix: e.prefix,
                            path_id: None,
                            originated: Some(e.time_last_change),
                            attrs,
                            entry_next_hop: Some(e.next_hop),
                        }),
                        Err(err) => {
                            damage.note(err, raw.index);
                            State::Done
                        }
                    }
                }
                _ => State::Done,
            }
        }
        Record::LegacyBgp(l) => match &l.body {
            Bgp4mpBody::Message {
                message: Message::Update(u),
                ..
            } => {
                let peer = Peer {
                    index: None,
                    addr: IpAddr::V4(l.peer_ip),
                    asn: l.peer_as,
                };
                update_state(peer, *u, false, &mut damage, raw.index)
            }
            _ => State::Done,
        },
        Record::PeerIndexTable(_) | Record::GeoPeerTable(_) | Record::Skipped => State::Done,
    };
    RecordRoutes {
        timestamp: raw.header.timestamp,
        micros: raw.micros,
        record: raw.index,
        peers,
        state,
        damage,
    }
}

fn update_state<'a>(peer: Peer, update: Update<'a>, add_path: bool, damage: &mut Damage, record: u64) -> State<'a> {
    if let Some(err) = update.attrs.withdraw_error() {
        damage.note(err, record);
    }
    State::Update {
        peer,
        update,
        add_path,
        stage: Stage::Withdrawn,
        cur: Some(update.withdrawn.iter()),
    }
}

impl RecordRoutes<'_, '_> {
    /// The SAFI of the block of an UPDATE message the last route came
    /// from: that of MP_REACH_NLRI or MP_UNREACH_NLRI for theirs (1
    /// unicast, 2 multicast), 1 for the message's own prefix fields and
    /// for every other record.
    pub fn update_safi(&self) -> u8 {
        match &self.state {
            State::Update {
                stage: Stage::MpUnreach,
                update,
                ..
            } => update.attrs.mp_unreach.map_or(1, |m| m.safi),
            State::Update {
                stage: Stage::MpReach,
                update,
                ..
            } => update.attrs.mp_reach.map_or(1, |m| m.safi),
            _ => 1,
        }
    }
}

impl<'a> Iterator for RecordRoutes<'a, '_> {
    type Item = Route<'a>;

    fn next(&mut self) -> Option<Route<'a>> {
        let (timestamp, micros, record) = (self.timestamp, self.micros, self.record);
        // A struct literal, not `Route::new`: the route is built in place
        // (callgrind: 11M instructions more on the 2016 RIS updates file's
        // jsonl dump through the function).
        let route = |kind, peer, prefix, path_id, originated, attrs| Route {
            timestamp,
            micros,
            record,
            kind,
            peer,
            prefix,
            path_id,
            originated,
            attrs,
            entry_next_hop: None,
        };
        loop {
            match &mut self.state {
                State::Done => return None,
                State::One(r) => {
                    let r = *r;
                    self.state = State::Done;
                    return Some(r);
                }
                State::Rib { prefix, afi, entries } => match entries.next() {
                    None => self.state = State::Done,
                    Some(Err(e)) => {
                        self.damage.note(e, record);
                        self.state = State::Done;
                    }
                    Some(Ok(e)) => {
                        let attrs = match e.parse_attrs(*afi) {
                            Ok(a) => a,
                            Err(err) => {
                                self.damage.note(err, record);
                                continue;
                            }
                        };
                        if let Some(err) = attrs.withdraw_error() {
                            self.damage.note(err, record);
                            continue;
                        }
                        let entry = self.peers.map(|t| (t.get(e.peer_index), t.peers.len()));
                        let peer = match entry {
                            Some((Some(p), _)) => Peer {
                                index: Some(e.peer_index),
                                addr: p.addr,
                                asn: p.asn,
                            },
                            Some((None, n)) => {
                                let kind = ErrorKind::PeerIndexOutOfRange {
                                    index: e.peer_index,
                                    peers: u16::try_from(n).unwrap_or(u16::MAX),
                                };
                                let entry_len = if e.path_id.is_some() { 12 } else { 8 };
                                self.damage.note(Error::new(kind, e.attrs_offset.saturating_sub(entry_len)), record);
                                Peer::unknown(e.peer_index)
                            }
                            None => Peer::unknown(e.peer_index),
                        };
                        return Some(route(RouteKind::RibEntry, peer, *prefix, e.path_id, Some(e.originated), attrs));
                    }
                },
                State::TableDump(td) => match td.next() {
                    None => self.state = State::Done,
                    Some(Err(e)) => {
                        self.damage.note(e, record);
                        self.state = State::Done;
                    }
                    Some(Ok(e)) => match e.parse_attrs() {
                        Ok(attrs) if attrs.withdraw.is_some() => {
                            if let Some(err) = attrs.withdraw_error() {
                                self.damage.note(err, record);
                            }
                        }
                        Ok(attrs) => {
                            let peer = Peer {
                                index: None,
                                addr: e.peer_ip,
                                asn: e.peer_as,
                            };
                            return Some(route(RouteKind::RibEntry, peer, e.prefix, None, Some(e.originated), attrs));
                        }
                        Err(err) => self.damage.note(err, record),
                    },
                },
                State::Update {
                    peer,
                    update,
                    add_path,
                    stage,
                    cur,
                } => {
                    match cur.as_mut().and_then(Iterator::next) {
                        Some(Ok((id, p))) => {
                            let kind = block_kind(*stage, update);
                            // A withdrawal carries no attributes.
                            let attrs = if kind == RouteKind::Announce { update.attrs } else { Attrs::EMPTY };
                            return Some(route(kind, *peer, p, id, None, attrs));
                        }
                        Some(Err(e)) => {
                            self.damage.note(e, record);
                            *cur = None;
                        }
                        None => {
                            let (next, block) = next_block(*stage, update, *add_path, &mut self.damage);
                            *stage = next;
                            *cur = block.map(|b| b.iter());
                            if next == Stage::Done {
                                self.state = State::Done;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The kind of the routes of the block of `update` at `stage`: withdrawals
/// in the withdrawn blocks, and everywhere when the attributes are
/// treat-as-withdraw (RFC 7606); announcements otherwise.
#[inline]
fn block_kind(stage: Stage, update: &Update<'_>) -> RouteKind {
    if stage <= Stage::MpUnreach || update.attrs.withdraw.is_some() {
        RouteKind::Withdraw
    } else {
        RouteKind::Announce
    }
}

/// The block of `update` after the one at `stage`, and its stage: classic
/// withdrawals, MP_UNREACH_NLRI, classic NLRI, MP_REACH_NLRI. An MP block
/// of another family gives no prefixes and is counted in `damage`.
fn next_block<'a>(stage: Stage, update: &Update<'a>, add_path: bool, damage: &mut Damage) -> (Stage, Option<Nlri<'a>>) {
    match stage {
        Stage::Withdrawn => match update.attrs.mp_unreach {
            Some(mp) if mp.is_ip() => (Stage::MpUnreach, Some(mp.prefixes(add_path))),
            Some(_) => {
                damage.other_families += 1;
                (Stage::MpUnreach, None)
            }
            None => (Stage::MpUnreach, None),
        },
        Stage::MpUnreach => (Stage::Nlri, Some(update.nlri)),
        Stage::Nlri => match update.attrs.mp_reach {
            Some(mp) if mp.is_ip() => (Stage::MpReach, Some(mp.prefixes(add_path))),
            Some(_) => {
                damage.other_families += 1;
                (Stage::MpReach, None)
            }
            None => (Stage::MpReach, None),
        },
        Stage::MpReach | Stage::Done => (Stage::Done, None),
    }
}

/// The UPDATE a record carries, and whether its MRT subtype announces
/// ADD-PATH.
#[inline]
fn update_of<'r, 'a>(rec: &'r Record<'a>) -> Option<(&'r Update<'a>, bool)> {
    match rec {
        Record::Bgp4mp(Bgp4mp {
            subtype,
            body: Bgp4mpBody::Message {
                message: Message::Update(u),
                ..
            },
            ..
        }) => Some((u, Bgp4mp::is_add_path(*subtype))),
        Record::LegacyBgp(LegacyBgp {
            body: Bgp4mpBody::Message {
                message: Message::Update(u),
                ..
            },
            ..
        }) => Some((u, false)),
        _ => None,
    }
}

/// The routes of UPDATEs, counted: what [`RecordRoutes`] would yield, by
/// kind and family, and the damage it would report.
#[derive(Clone, Debug, Default)]
pub(crate) struct UpdateTally {
    /// Withdrawals (treat-as-withdraw announcements included), IPv4 then IPv6.
    pub withdrawn: [u64; 2],
    /// Announcements, IPv4 then IPv6.
    pub announced: [u64; 2],
    /// MP blocks of other families left out.
    pub other_families: u64,
    /// The first damage of the last UPDATE counted, with its record index
    /// (for the caller to take).
    pub error: Option<Error>,
}

/// Add the routes of a record carrying an UPDATE to `t` without yielding
/// them, and return how many there are (`None`, and `t` untouched, for
/// every other record): the same counts and damage as walking
/// [`routes_of`]; the damage is left in `t.error`.
///
/// # Performance
/// A route of an UPDATE is 512 bytes (its [`Attrs`] by value), built and
/// copied per prefix; `stats`, which only counts, spent 94M of its 329M
/// instructions in `routes_of` and the routes it yields on the RIS 2016
/// updates file ×4 (callgrind, `--threads 1`). Counting walks each NLRI
/// block by its length octets alone ([`Nlri::count_well_formed`]). The
/// counts are added in place and an error is built only for damage: moving
/// an `Option<Error>` out per block stalled on the reload (perf: 8.7% of
/// `stats` on the PCH 2015 file ×10, most of it on that load).
#[inline]
pub(crate) fn tally_update(raw: &RawRecord<'_>, rec: &Record<'_>, t: &mut UpdateTally) -> Option<u64> {
    let (update, add_path) = update_of(rec)?;
    if update.attrs.withdraw.is_some() {
        t.error = update.attrs.withdraw_error().map(|e| e.in_record(raw.index));
    }
    // The blocks in the order `next_block` takes them, each with the kind
    // `block_kind` gives its routes. (Written out, not looped over: an
    // array of the four blocks was stored and reloaded at odd offsets, a
    // stall per record.)
    let announce = update.attrs.withdraw.is_none();
    let mut total = tally_block(update.withdrawn, false, raw.index, t);
    match update.attrs.mp_unreach {
        Some(m) if m.is_ip() => total += tally_block(m.prefixes(add_path), false, raw.index, t),
        Some(_) => t.other_families += 1,
        None => {}
    }
    total += tally_block(update.nlri, announce, raw.index, t);
    match update.attrs.mp_reach {
        Some(m) if m.is_ip() => total += tally_block(m.prefixes(add_path), announce, raw.index, t),
        Some(_) => t.other_families += 1,
        None => {}
    }
    Some(total)
}

/// Add the prefixes of one block of an UPDATE of record `record` to `t`.
#[inline(always)]
fn tally_block(b: Nlri<'_>, announce: bool, record: u64, t: &mut UpdateTally) -> u64 {
    let v6 = usize::from(b.afi() == crate::bgp::nlri::AFI_IPV6);
    let n = match b.count_well_formed() {
        Some(n) => n,
        None => tally_damaged(b, record, t),
    };
    if announce {
        t.announced[v6] += n;
    } else {
        t.withdrawn[v6] += n;
    }
    n
}

/// The prefixes of a damaged block before its error; the error kept in
/// `t` unless one came first.
#[cold]
fn tally_damaged(b: Nlri<'_>, record: u64, t: &mut UpdateTally) -> u64 {
    let (n, e) = b.iter().tally();
    if t.error.is_none() {
        t.error = e.map(|e| e.in_record(record));
    }
    n
}

/// How [`for_each_route`] reads its source.
///
/// # Example
/// ```
/// let opts = mrtsnap::routes::RouteOptions { strict: true, ..Default::default() };
/// assert_eq!(opts.batch_size, mrtsnap::source::DEFAULT_BATCH_SIZE);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RouteOptions {
    /// Stop at the first error instead of skipping what it touched.
    pub strict: bool,
    /// Size of the batches the input is cut into.
    pub batch_size: usize,
}

impl Default for RouteOptions {
    fn default() -> Self {
        RouteOptions {
            strict: false,
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }
}

/// Call `f` for every route of `src`, in input order, on the calling
/// thread. Returns the decode report (records by type, errors and warnings;
/// a record with damaged route data counts its first damage as an error).
///
/// # Errors
/// With `opts.strict`, the first framing or record error. Otherwise errors
/// are counted in the report and never returned.
///
/// # Example
/// ```
/// # let record: Vec<u8> = [
/// #     &[0x5e, 0x0b, 0xe1, 0x00, 0, 16, 0, 4, 0, 0, 0, 71][..],
/// #     &[0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
/// #     &[0xff; 16], &[0, 51, 2, 0, 0, 0, 24],
/// #     &[0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1],
/// #     &[24, 192, 0, 2],
/// # ].concat();
/// use mrtsnap::routes::{for_each_route, RouteOptions};
/// let src = mrtsnap::Source::from_bytes("mem", record);
/// let mut n = 0;
/// let report = for_each_route(&src, RouteOptions::default(), |_| n += 1)?;
/// assert_eq!((n, report.total_records()), (1, 1));
/// # Ok::<(), mrtsnap::Error>(())
/// ```
pub fn for_each_route<F>(src: &Source, opts: RouteOptions, mut f: F) -> Result<Report>
where
    F: FnMut(&Route<'_>),
{
    let mut report = Report::default();
    for batch in src.batches(opts.batch_size) {
        routes_in_batch(&batch, &mut report, opts.strict, &mut f)?;
    }
    Ok(report)
}

/// Call `f` for every route of one batch, counting records, errors and
/// warnings in `report`; the unit of work parallel callers hand to their
/// workers (see [`crate::pipeline::map_ordered`]).
///
/// # Errors
/// With `strict`, the first framing or record error, or the first damage
/// inside a decoded record; otherwise none: each is counted in `report`
/// (a damaged record's first damage, see [`RecordRoutes::error`]).
///
/// # Example
/// ```
/// # let record: Vec<u8> = [
/// #     &[0x5e, 0x0b, 0xe1, 0x00, 0, 16, 0, 4, 0, 0, 0, 71][..],
/// #     &[0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
/// #     &[0xff; 16], &[0, 51, 2, 0, 0, 0, 24],
/// #     &[0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1],
/// #     &[24, 192, 0, 2],
/// # ].concat();
/// use mrtsnap::Report;
/// use mrtsnap::routes::routes_in_batch;
/// let src = mrtsnap::Source::from_bytes("mem", record);
/// let mut report = Report::default();
/// let mut prefixes = Vec::new();
/// for batch in src.batches(1 << 20) {
///     routes_in_batch(&batch, &mut report, false, |r| prefixes.push(r.prefix))?;
/// }
/// assert_eq!(prefixes.len(), 1);
/// # Ok::<(), mrtsnap::Error>(())
/// ```
pub fn routes_in_batch<F>(batch: &Batch, report: &mut Report, strict: bool, mut f: F) -> Result<()>
where
    F: FnMut(&Route<'_>),
{
    let mut damage = RecordDamage::new(strict);
    let r = for_each_record(batch, report, strict, |raw, rec, peers| {
        let mut routes = routes_of(raw, rec, peers);
        for route in routes.by_ref() {
            f(&route);
        }
        damage.note(routes.take_error());
    });
    damage.finish(r, report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::as_path::AS_SEQUENCE;
    use crate::mrt::Records;
    use crate::testkit::{attr, bgp, mrt, seg};

    type Seen = (RouteKind, String, Option<u32>, Peer);

    fn collect(data: &[u8]) -> (Vec<Seen>, u32) {
        let mut out = Vec::new();
        let mut errors = 0;
        let mut peers: Option<PeerTable> = None;
        for raw in Records::from_bytes(data) {
            let raw = raw.unwrap();
            let rec = Record::decode(&raw).unwrap();
            if let Record::PeerIndexTable(t) = &rec {
                peers = Some(t.clone());
            }
            let mut it = routes_of(&raw, &rec, peers.as_ref());
            for r in it.by_ref() {
                out.push((r.kind, r.prefix.to_string(), r.path_id, r.peer));
            }
            errors += it.error_count();
        }
        (out, errors)
    }

    /// BGP4MP MESSAGE_AS4 UPDATE: withdrawals (classic and MP_UNREACH) come
    /// before announcements (classic and MP_REACH), each with its kind.
    #[test]
    fn update_order_and_kinds() {
        let mp_reach = [
            &[0, 2, 1, 16][..],
            &[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            &[0, 32, 0x20, 1, 0xd, 0xb8],
        ]
        .concat();
        let mp_unreach = [0, 2, 1, 48, 0x20, 1, 0xd, 0xb8, 0, 1];
        let attrs = [
            attr(0x40, 1, &[0]),
            attr(0x40, 2, &seg(AS_SEQUENCE, &[65001, 65002], 4)),
            attr(0x40, 3, &[10, 0, 0, 1]),
            attr(0x80, 14, &mp_reach),
            attr(0x80, 15, &mp_unreach),
        ]
        .concat();
        let mut upd = vec![0, 2, 8, 10];
        upd.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        upd.extend_from_slice(&attrs);
        upd.extend_from_slice(&[24, 192, 0, 2]);
        let mut body = vec![0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2];
        body.extend(bgp(2, &upd));
        let data = mrt(1000, 16, 4, &body);
        let (routes, errors) = collect(&data);
        assert_eq!(errors, 0);
        let got: Vec<_> = routes.iter().map(|r| (r.0, r.1.as_str())).collect();
        assert_eq!(
            got,
            [
                (RouteKind::Withdraw, "10.0.0.0/8"),
                (RouteKind::Withdraw, "2001:db8:1::/48"),
                (RouteKind::Announce, "192.0.2.0/24"),
                (RouteKind::Announce, "2001:db8::/32"),
            ]
        );
        let raw = Records::from_bytes(&data).next().unwrap().unwrap();
        let rec = Record::decode(&raw).unwrap();
        let all: Vec<_> = routes_of(&raw, &rec, None).collect();
        assert_eq!(all[0].next_hop(), None);
        assert_eq!(all[2].next_hop().unwrap().to_string(), "10.0.0.1");
        assert_eq!(all[3].next_hop().unwrap().to_string(), "2001:db8::1");
        assert_eq!(all[3].peer.asn, 65001);
    }

    /// TABLE_DUMP_V2: peer index table, then a RIB_IPV4_UNICAST record with
    /// two entries; one names a peer the table lacks. Without the table the
    /// routes still come out, peer unknown.
    #[test]
    fn rib_entries_and_peers() {
        let mut pit = vec![10, 0, 0, 1, 0, 0, 0, 1];
        pit.extend_from_slice(&[2, 1, 1, 1, 1, 192, 0, 2, 1, 0, 1, 0x11, 0x70]);
        let attrs = [attr(0x40, 1, &[2]), attr(0x40, 2, &seg(AS_SEQUENCE, &[70000], 4))].concat();
        let mut rib = vec![0, 0, 0, 0, 16, 10, 1, 0, 2];
        for idx in [0u16, 5] {
            rib.extend_from_slice(&idx.to_be_bytes());
            rib.extend_from_slice(&[0, 0, 0, 9]);
            rib.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
            rib.extend_from_slice(&attrs);
        }
        let mut data = mrt(1000, 13, 1, &pit);
        data.extend(mrt(1000, 13, 2, &rib));
        let (routes, errors) = collect(&data);
        assert_eq!(routes.len(), 2);
        assert_eq!(errors, 1, "peer index 5 out of range");
        assert_eq!(routes[0].3.addr.to_string(), "192.0.2.1");
        assert_eq!(routes[0].3.asn, 70000);
        assert_eq!(routes[1].3, Peer::unknown(5));
        let (routes, errors) = collect(&mrt(1000, 13, 2, &rib));
        assert_eq!((routes.len(), errors), (2, 0));
        assert_eq!(routes[0].3, Peer::unknown(0));
    }

    /// A damaged entry (attribute block cut short) is dropped and counted;
    /// the others still come out.
    #[test]
    fn damaged_entry_is_counted() {
        let good = [attr(0x40, 1, &[0])].concat();
        let bad = [0x40u8, 2, 9, 2];
        let mut rib = vec![0, 0, 0, 0, 8, 10, 0, 3];
        for a in [&good[..], &bad[..], &good[..]] {
            rib.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
            rib.extend_from_slice(&(a.len() as u16).to_be_bytes());
            rib.extend_from_slice(a);
        }
        let (routes, errors) = collect(&mrt(1000, 13, 2, &rib));
        assert_eq!((routes.len(), errors), (2, 1));
    }

    /// What walking `routes_of` gives for a record, as `tally_update`
    /// counts it.
    fn walked(raw: &RawRecord<'_>, rec: &Record<'_>) -> UpdateTally {
        let mut t = UpdateTally::default();
        let mut routes = routes_of(raw, rec, None);
        for r in routes.by_ref() {
            let v6 = usize::from(r.prefix.is_v6());
            match r.kind {
                RouteKind::Announce => t.announced[v6] += 1,
                _ => t.withdrawn[v6] += 1,
            }
        }
        t.other_families = u64::from(routes.other_families());
        t.error = routes.take_error();
        t
    }

    /// `tally_update` on a fresh tally.
    fn tallied(raw: &RawRecord<'_>, rec: &Record<'_>) -> Option<UpdateTally> {
        let mut t = UpdateTally::default();
        let n = tally_update(raw, rec, &mut t)?;
        assert_eq!(n, t.withdrawn.iter().chain(&t.announced).sum::<u64>());
        Some(t)
    }

    fn same(a: &UpdateTally, b: &UpdateTally) -> bool {
        let e = |t: &UpdateTally| t.error.as_ref().map(|e| (e.to_string(), e.offset(), e.record()));
        (a.withdrawn, a.announced, a.other_families, e(a)) == (b.withdrawn, b.announced, b.other_families, e(b))
    }

    /// `tally_update` counts what `routes_of` yields, with the same damage:
    /// classic and MP blocks of both families, another family, ADD-PATH
    /// announced and detected, treat-as-withdraw, prefixes running past
    /// their block, the legacy BGP type; and every UPDATE of the corpus.
    #[test]
    fn tally_matches_routes() {
        let v6 = [&[0, 2, 1, 16][..], &[0x20, 1, 0xd, 0xb8], &[0; 11], &[1, 0]].concat();
        let reach = |nlri: &[u8]| [&v6[..], nlri].concat();
        let evpn = [0, 25, 70, 4, 10, 0, 0, 1, 0, 2, 9, 9];
        let origin = attr(0x40, 1, &[0]);
        // (MRT subtype, withdrawn routes, attributes, NLRI)
        type Case = (u16, Vec<u8>, Vec<u8>, Vec<u8>);
        let cases: Vec<Case> = vec![
            (4, vec![8, 10, 16, 10, 1], origin.clone(), vec![24, 192, 0, 2]),
            (
                4,
                vec![],
                [origin.clone(), attr(0x80, 14, &reach(&[32, 0x20, 1, 0xd, 0xb8]))].concat(),
                vec![],
            ),
            (
                4,
                vec![],
                [origin.clone(), attr(0x80, 15, &[0, 2, 1, 48, 0x20, 1, 0xd, 0xb8, 0, 1])].concat(),
                vec![8, 10],
            ),
            (
                4,
                vec![],
                [origin.clone(), attr(0x80, 14, &evpn), attr(0x80, 15, &[0, 25, 70, 1])].concat(),
                vec![8, 10],
            ),
            (9, vec![0, 0, 0, 1, 8, 10], origin.clone(), vec![0, 0, 0, 2, 24, 192, 0, 2]),
            (
                4,
                vec![],
                origin.clone(),
                vec![0, 0, 0, 1, 24, 172, 17, 0, 0, 0, 0, 1, 24, 172, 17, 1],
            ),
            (4, vec![8, 10], attr(0x40, 1, &[0, 0]), vec![24, 192, 0, 2, 8, 11]),
            (4, vec![24, 10, 0], origin.clone(), vec![24, 192, 0, 2]),
            (4, vec![], origin.clone(), vec![24, 192, 0, 2, 33, 1, 2, 3, 4, 5]),
            (
                4,
                vec![],
                [origin.clone(), attr(0x80, 14, &reach(&[64, 0x20, 1]))].concat(),
                vec![8, 10],
            ),
            (
                4,
                vec![],
                [origin.clone(), attr(0x80, 15, &[0, 1, 1, 40, 1])].concat(),
                vec![24, 10, 0],
            ),
        ];
        let mut data = Vec::new();
        for (subtype, w, a, n) in &cases {
            let mut body = vec![0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2];
            body.extend(bgp(2, &crate::testkit::update(w, a, n)));
            data.extend(mrt(1000, 16, *subtype, &body));
        }
        // Legacy BGP UPDATE: peer AS and address, local AS and address, the bare body.
        let mut legacy = vec![0, 1, 10, 0, 0, 1, 0, 2, 10, 0, 0, 2];
        legacy.extend(crate::testkit::update(&[8, 10], &origin, &[24, 192, 0, 2, 24, 1]));
        data.extend(mrt(1000, 5, 1, &legacy));
        let (mut records, mut damaged, mut other) = (0, Vec::new(), Vec::new());
        for raw in Records::from_bytes(&data) {
            let raw = raw.unwrap();
            let rec = Record::decode(&raw).unwrap();
            let t = tallied(&raw, &rec).unwrap();
            assert!(
                same(&t, &walked(&raw, &rec)),
                "record {}: {t:?} against {:?}",
                raw.index,
                walked(&raw, &rec)
            );
            records += 1;
            if t.error.is_some() {
                damaged.push(raw.index);
            }
            if t.other_families > 0 {
                other.push((raw.index, t.other_families));
            }
        }
        // Treat-as-withdraw, three cut prefix blocks, two cut MP blocks.
        assert_eq!((records, damaged, other), (12, vec![6, 7, 8, 9, 10, 11], vec![(3, 2)]));
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    files(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
        let mut all = Vec::new();
        files(&dir, &mut all);
        if all.is_empty() {
            eprintln!("skipped the corpus part: no corpus at {}", dir.display());
            return;
        }
        let mut updates = 0;
        for f in all {
            let Ok(src) = crate::Source::open(&f) else { continue };
            for batch in src.batches(crate::source::DEFAULT_BATCH_SIZE) {
                for raw in batch.records().flatten() {
                    let Ok(rec) = Record::decode(&raw) else { continue };
                    if let Some(t) = tallied(&raw, &rec) {
                        assert!(same(&t, &walked(&raw, &rec)), "{} record {}", f.display(), raw.index);
                        updates += 1;
                    }
                }
            }
        }
        assert!(updates > 100_000, "{updates} UPDATEs in the corpus");
    }

    /// RFC 6793 §4.2.3 through a route: AS_PATH `1 23456 23456` and AS4_PATH
    /// `70000 80000` give `1 70000 80000`, origin 80000.
    #[test]
    fn as4_merge_through_route() {
        let attrs = [
            attr(0x40, 1, &[0]),
            attr(0x40, 2, &seg(AS_SEQUENCE, &[1, 23456, 23456], 2)),
            attr(0x40, 3, &[10, 0, 0, 1]),
            attr(0xc0, 17, &seg(AS_SEQUENCE, &[70000, 80000], 4)),
        ]
        .concat();
        let mut upd = vec![0, 0];
        upd.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        upd.extend_from_slice(&attrs);
        upd.extend_from_slice(&[8, 10]);
        let mut body = vec![0, 1, 0, 2, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2];
        body.extend(bgp(2, &upd));
        let data = mrt(1000, 16, 1, &body);
        let raw = Records::from_bytes(&data).next().unwrap().unwrap();
        let rec = Record::decode(&raw).unwrap();
        let r = routes_of(&raw, &rec, None).next().unwrap();
        let asns: Vec<u32> = r.as_path_segments().flat_map(|s| s.asns()).collect();
        assert_eq!(asns, [1, 70000, 80000]);
        assert!(matches!(r.origin_as(), OriginRef::Asn(80000)));
        let mut buf = AsPathBuf::new();
        assert_eq!(r.as_path(&mut buf).origin(), crate::bgp::Origin::Asn(80000));
    }
}
