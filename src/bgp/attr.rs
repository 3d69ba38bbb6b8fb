//! Path attributes (RFC 4271 §4.3 and the RFCs that add attributes).
//!
//! [`Attrs::parse`] walks the attribute block once and keeps a borrowed slice
//! (or a small decoded value) for every attribute the crate knows, without
//! allocating. Unknown attributes stay reachable through [`RawAttrs`].
//! Malformed known attributes follow RFC 7606 (and RFC 6793 for AS4_PATH and
//! AS4_AGGREGATOR): most make the route *treat-as-withdraw*
//! ([`Attrs::withdraw`]: ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, the
//! community attributes, ORIGINATOR_ID, CLUSTER_LIST, ONLY_TO_CUSTOMER);
//! ATOMIC_AGGREGATE, AGGREGATOR, AS4_AGGREGATOR and AS4_PATH are discarded
//! alone (*attribute-discard*), and a malformed MP_REACH/MP_UNREACH loses its
//! prefixes (RFC 7606 resets the session or disables the family there): these
//! are counted in [`Attrs::warnings`]. Only a block whose framing is broken is
//! an error of the parse itself.

use super::as_path::AsPath;
use super::nlri::{Nlri, AFI_IPV4, AFI_IPV6};
use crate::cursor::Reader;
use crate::error::{Error, Result};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Attribute type codes.
pub mod code {
    /// ORIGIN.
    pub const ORIGIN: u8 = 1;
    /// AS_PATH.
    pub const AS_PATH: u8 = 2;
    /// NEXT_HOP.
    pub const NEXT_HOP: u8 = 3;
    /// MULTI_EXIT_DISC.
    pub const MED: u8 = 4;
    /// LOCAL_PREF.
    pub const LOCAL_PREF: u8 = 5;
    /// ATOMIC_AGGREGATE.
    pub const ATOMIC_AGGREGATE: u8 = 6;
    /// AGGREGATOR.
    pub const AGGREGATOR: u8 = 7;
    /// COMMUNITIES (RFC 1997).
    pub const COMMUNITIES: u8 = 8;
    /// ORIGINATOR_ID (RFC 4456).
    pub const ORIGINATOR_ID: u8 = 9;
    /// CLUSTER_LIST (RFC 4456).
    pub const CLUSTER_LIST: u8 = 10;
    /// MP_REACH_NLRI (RFC 4760).
    pub const MP_REACH_NLRI: u8 = 14;
    /// MP_UNREACH_NLRI (RFC 4760).
    pub const MP_UNREACH_NLRI: u8 = 15;
    /// EXTENDED_COMMUNITIES (RFC 4360).
    pub const EXTENDED_COMMUNITIES: u8 = 16;
    /// AS4_PATH (RFC 6793).
    pub const AS4_PATH: u8 = 17;
    /// AS4_AGGREGATOR (RFC 6793).
    pub const AS4_AGGREGATOR: u8 = 18;
    /// IPv6 address-specific extended communities (RFC 5701).
    pub const IPV6_EXT_COMMUNITIES: u8 = 25;
    /// AIGP (RFC 7311).
    pub const AIGP: u8 = 26;
    /// LARGE_COMMUNITY (RFC 8092).
    pub const LARGE_COMMUNITIES: u8 = 32;
    /// ONLY_TO_CUSTOMER (RFC 9234).
    pub const ONLY_TO_CUSTOMER: u8 = 35;
    /// ATTR_SET (RFC 6368).
    pub const ATTR_SET: u8 = 128;
}

/// Attribute flag: optional.
pub const FLAG_OPTIONAL: u8 = 0x80;
/// Attribute flag: transitive.
pub const FLAG_TRANSITIVE: u8 = 0x40;
/// Attribute flag: partial.
pub const FLAG_PARTIAL: u8 = 0x20;
/// Attribute flag: two-byte length.
pub const FLAG_EXTENDED: u8 = 0x10;

/// One raw path attribute.
#[derive(Clone, Copy, Debug)]
pub struct RawAttr<'a> {
    /// Flags octet.
    pub flags: u8,
    /// Type code.
    pub code: u8,
    /// The value.
    pub value: &'a [u8],
    /// Absolute offset of the value.
    pub offset: u64,
}

impl<'a> RawAttr<'a> {
    /// The attribute at the start of `b` (absolute offset `at`) and its
    /// size with its header; `None` where it does not fit.
    #[inline(always)]
    fn split(b: &'a [u8], at: u64) -> Option<(RawAttr<'a>, usize)> {
        let (flags, code, head, len) = match *b {
            [f, c, l, ..] if f & FLAG_EXTENDED == 0 => (f, c, 3, usize::from(l)),
            [f, c, h, l, ..] => (f, c, 4, usize::from(u16::from_be_bytes([h, l]))),
            _ => return None,
        };
        let value = b.get(head..head + len)?;
        Some((
            RawAttr {
                flags,
                code,
                value,
                offset: at + head as u64,
            },
            head + len,
        ))
    }
}

/// Iterator over the raw attributes of a block; yields an error once and
/// stops if the block's framing is broken.
#[derive(Clone, Debug)]
pub struct RawAttrs<'a> {
    r: Reader<'a>,
    failed: bool,
}

impl<'a> RawAttrs<'a> {
    /// Attributes in `data`, at absolute offset `offset`.
    pub fn new(data: &'a [u8], offset: u64) -> Self {
        RawAttrs {
            r: Reader::new(data, offset),
            failed: false,
        }
    }

    /// The next attribute.
    ///
    /// # Performance
    /// Read from one look at its header and one bounds check; the field by
    /// field path, whose error names the field, runs only when the block is
    /// broken. The field-by-field reads took 66 instructions an attribute
    /// (19M on the RIS 2016 updates file ×4, callgrind); with them
    /// [`Attrs::parse`] took 50.4M there, this way 27.0M.
    #[inline]
    fn read(&mut self) -> Result<RawAttr<'a>> {
        match RawAttr::split(self.r.peek_rest(), self.r.offset()) {
            Some((a, n)) => {
                self.r.take(n, "path attribute")?;
                Ok(a)
            }
            None => self.read_fields(),
        }
    }

    /// [`RawAttrs::read`] field by field: the error names the field.
    #[cold]
    fn read_fields(&mut self) -> Result<RawAttr<'a>> {
        let flags = self.r.u8("path attribute flags")?;
        let code = self.r.u8("path attribute type")?;
        let len = if flags & FLAG_EXTENDED != 0 {
            usize::from(self.r.u16("path attribute length")?)
        } else {
            usize::from(self.r.u8("path attribute length")?)
        };
        let offset = self.r.offset();
        let value = self.r.take(len, "path attribute")?;
        Ok(RawAttr {
            flags,
            code,
            value,
            offset,
        })
    }
}

impl<'a> Iterator for RawAttrs<'a> {
    type Item = Result<RawAttr<'a>>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.r.is_empty() {
            return None;
        }
        let a = self.read();
        self.failed = a.is_err();
        Some(a)
    }
}

/// MP_REACH_NLRI (RFC 4760 §3), full or abbreviated (RFC 6396 §4.3.4).
#[derive(Clone, Copy, Debug)]
pub struct MpReach<'a> {
    /// AFI.
    pub afi: u16,
    /// SAFI (0 when the abbreviated RIB form gives none).
    pub safi: u8,
    /// The next-hop field (4, 16 or 32 bytes for IP families).
    pub next_hop: &'a [u8],
    /// Announced NLRI (empty in the abbreviated form).
    pub nlri: &'a [u8],
    /// Absolute offset of `nlri`.
    pub nlri_offset: u64,
    /// Whether this was the abbreviated RIB-entry form.
    pub abbreviated: bool,
}

impl<'a> MpReach<'a> {
    /// Decode a full-form value.
    pub fn parse_full(value: &'a [u8], offset: u64) -> Result<MpReach<'a>> {
        match MpReach::full(value, offset) {
            Some(m) => Ok(m),
            None => MpReach::full_fields(value, offset),
        }
    }

    /// [`MpReach::parse_full`] without the error.
    ///
    /// # Performance
    /// Read from slices into the caller's registers: `Attrs::parse` took
    /// `parse_full`'s `Result` through memory, and reloading it stalled
    /// (perf: 11% of `Attrs::parse` in `stats` on the RIS 2016 updates
    /// file ×40; `stats` there 83.4 -> 82.4 ms on one pinned core,
    /// alternated runs).
    #[inline(always)]
    fn full(value: &'a [u8], offset: u64) -> Option<MpReach<'a>> {
        let [a, b, safi, nhl, rest @ ..] = value else { return None };
        let (next_hop, rest) = rest.split_at_checked(usize::from(*nhl))?;
        let (&snpas, mut rest) = rest.split_first()?;
        // RFC 2858's SNPAs: a count, then (length in semi-octets, value).
        for _ in 0..snpas {
            let (&l, tail) = rest.split_first()?;
            rest = tail.get(usize::from(l).div_ceil(2)..)?;
        }
        Some(MpReach {
            afi: u16::from_be_bytes([*a, *b]),
            safi: *safi,
            next_hop,
            nlri: rest,
            nlri_offset: offset + (value.len() - rest.len()) as u64,
            abbreviated: false,
        })
    }

    /// [`MpReach::parse_full`] field by field: the error names the field.
    #[cold]
    fn full_fields(value: &'a [u8], offset: u64) -> Result<MpReach<'a>> {
        let mut r = Reader::new(value, offset);
        let afi = r.u16("MP_REACH AFI")?;
        let safi = r.u8("MP_REACH SAFI")?;
        let nhl = r.u8("MP_REACH next hop length")?;
        let next_hop = r.take(usize::from(nhl), "MP_REACH next hop")?;
        let snpas = r.u8("MP_REACH reserved")?;
        // RFC 2858's SNPAs: a count, then (length in semi-octets, value).
        for _ in 0..snpas {
            let l = r.u8("SNPA length")?;
            r.take(usize::from(l).div_ceil(2), "SNPA")?;
        }
        let nlri_offset = r.offset();
        Ok(MpReach {
            afi,
            safi,
            next_hop,
            nlri: r.rest(),
            nlri_offset,
            abbreviated: false,
        })
    }

    /// Decode the value of a RIB entry's MP_REACH_NLRI, which should be the
    /// abbreviated form (next-hop length and next hop) but is the full form
    /// in some old RIS dumps. `afi` is the RIB's family.
    pub fn parse_rib(value: &'a [u8], offset: u64, afi: u16) -> Result<MpReach<'a>> {
        match MpReach::abbreviated(value, offset, afi) {
            Some(m) => Ok(m),
            None => MpReach::parse_full(value, offset),
        }
    }

    /// The abbreviated form of [`MpReach::parse_rib`].
    #[inline(always)]
    fn abbreviated(value: &'a [u8], offset: u64, afi: u16) -> Option<MpReach<'a>> {
        let (&nhl, nh) = value.split_first()?;
        (usize::from(nhl) == nh.len()).then_some(MpReach {
            afi,
            safi: 1,
            next_hop: nh,
            nlri: &[],
            nlri_offset: offset + value.len() as u64,
            abbreviated: true,
        })
    }

    /// The announced prefixes; empty unless the family is IPv4 or IPv6
    /// unicast/multicast (other families' NLRI stay raw in `nlri`).
    pub fn prefixes(&self, add_path: bool) -> Nlri<'a> {
        let nlri = if self.is_ip() { self.nlri } else { &[] };
        Nlri::detect(nlri, self.nlri_offset, self.afi, add_path)
    }

    /// The global next hop, as an address, when the length says IPv4 or IPv6.
    pub fn next_hop_addr(&self) -> Option<IpAddr> {
        next_hop_ip(self.next_hop)
    }

    /// Whether the family is IPv4 or IPv6 unicast/multicast (the families
    /// this crate decodes prefixes of).
    pub fn is_ip(&self) -> bool {
        matches!(self.afi, AFI_IPV4 | AFI_IPV6) && matches!(self.safi, 0..=2)
    }
}

/// The address in a next-hop field: 4 bytes IPv4, 16 or 32 (global +
/// link-local) IPv6; for VPN forms (12/24 bytes) the address after the route
/// distinguisher.
pub fn next_hop_ip(nh: &[u8]) -> Option<IpAddr> {
    let a16 = |b: &[u8]| -> Option<IpAddr> { Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(b.get(..16)?).ok()?))) };
    match nh.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(nh).ok()?))),
        12 => Some(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(nh.get(8..12)?).ok()?))),
        16 | 32 => a16(nh),
        24 | 48 => a16(nh.get(8..)?),
        _ => None,
    }
}

/// MP_UNREACH_NLRI (RFC 4760 §4).
#[derive(Clone, Copy, Debug)]
pub struct MpUnreach<'a> {
    /// AFI.
    pub afi: u16,
    /// SAFI.
    pub safi: u8,
    /// Withdrawn NLRI.
    pub nlri: &'a [u8],
    /// Absolute offset of `nlri`.
    pub nlri_offset: u64,
}

impl<'a> MpUnreach<'a> {
    /// Decode a value.
    pub fn parse(value: &'a [u8], offset: u64) -> Result<MpUnreach<'a>> {
        let mut r = Reader::new(value, offset);
        let afi = r.u16("MP_UNREACH AFI")?;
        let safi = r.u8("MP_UNREACH SAFI")?;
        let nlri_offset = r.offset();
        Ok(MpUnreach {
            afi,
            safi,
            nlri: r.rest(),
            nlri_offset,
        })
    }

    /// The withdrawn prefixes; empty unless the family is IPv4 or IPv6
    /// unicast/multicast (other families' NLRI stay raw in `nlri`).
    pub fn prefixes(&self, add_path: bool) -> Nlri<'a> {
        let nlri = if self.is_ip() { self.nlri } else { &[] };
        Nlri::detect(nlri, self.nlri_offset, self.afi, add_path)
    }

    /// Whether the family is IPv4 or IPv6 unicast/multicast.
    pub fn is_ip(&self) -> bool {
        matches!(self.afi, AFI_IPV4 | AFI_IPV6) && matches!(self.safi, 1 | 2)
    }
}

/// How the attributes of a block are to be read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AttrContext {
    /// Size of ASNs in AS_PATH and AGGREGATOR (2 or 4).
    pub asn_len: u8,
    /// The block belongs to a TABLE_DUMP_V2 RIB entry of family `afi`
    /// (MP_REACH_NLRI is abbreviated there).
    pub rib_afi: Option<u16>,
}

/// The decoded attributes of one UPDATE or RIB entry, borrowed from the input.
#[derive(Clone, Copy, Debug, Default)]
pub struct Attrs<'a> {
    /// The whole attribute block.
    pub raw: &'a [u8],
    /// Absolute offset of `raw`.
    pub offset: u64,
    /// ORIGIN (0 IGP, 1 EGP, 2 INCOMPLETE).
    pub origin: Option<u8>,
    /// AS_PATH.
    pub as_path: Option<AsPath<'a>>,
    /// AS4_PATH.
    pub as4_path: Option<AsPath<'a>>,
    /// NEXT_HOP.
    pub next_hop: Option<Ipv4Addr>,
    /// MULTI_EXIT_DISC.
    pub med: Option<u32>,
    /// LOCAL_PREF.
    pub local_pref: Option<u32>,
    /// ATOMIC_AGGREGATE present.
    pub atomic_aggregate: bool,
    /// AGGREGATOR (AS, router id).
    pub aggregator: Option<(u32, Ipv4Addr)>,
    /// The AGGREGATOR value as on the wire (6 or 8 bytes; or malformed).
    pub aggregator_raw: Option<&'a [u8]>,
    /// AS4_AGGREGATOR (AS, router id).
    pub as4_aggregator: Option<(u32, Ipv4Addr)>,
    /// COMMUNITIES value (4 bytes each).
    pub communities: Option<&'a [u8]>,
    /// LARGE_COMMUNITY value (12 bytes each).
    pub large_communities: Option<&'a [u8]>,
    /// EXTENDED_COMMUNITIES value (8 bytes each).
    pub ext_communities: Option<&'a [u8]>,
    /// IPv6 address-specific extended communities (20 bytes each).
    pub ipv6_ext_communities: Option<&'a [u8]>,
    /// ORIGINATOR_ID.
    pub originator_id: Option<Ipv4Addr>,
    /// CLUSTER_LIST value (4 bytes each).
    pub cluster_list: Option<&'a [u8]>,
    /// MP_REACH_NLRI.
    pub mp_reach: Option<MpReach<'a>>,
    /// MP_UNREACH_NLRI.
    pub mp_unreach: Option<MpUnreach<'a>>,
    /// ONLY_TO_CUSTOMER AS.
    pub only_to_customer: Option<u32>,
    /// AIGP value.
    pub aigp: Option<&'a [u8]>,
    /// ATTR_SET value.
    pub attr_set: Option<&'a [u8]>,
    /// Number of attributes of other types (reachable through [`Attrs::raw_attrs`]).
    pub other: u16,
    /// RFC 7606 conditions met (malformed attributes dropped, duplicates).
    pub warnings: u16,
    /// The first malformed attribute that makes the route treat-as-withdraw
    /// under RFC 7606: its type code and the absolute offset of its header.
    /// The attribute itself is dropped (counted in `warnings` too); a
    /// reader that keeps such a route must treat it as withdrawn
    /// ([`Attrs::withdraw_error`] is the error to report).
    pub withdraw: Option<(u8, u64)>,
    /// How the block was read (to read it again).
    pub context: AttrContext,
}

/// Whether a malformed attribute of type `code` makes its route
/// treat-as-withdraw (RFC 7606 section 7, RFC 8092, RFC 9234); the others
/// known to the crate are attribute-discard (ATOMIC_AGGREGATE, AGGREGATOR,
/// and RFC 6793's AS4_PATH and AS4_AGGREGATOR) or, for MP_REACH and
/// MP_UNREACH, lose their prefixes.
pub fn treat_as_withdraw(code: u8) -> bool {
    code == code::AS_PATH || length_rule(code).is_some()
}

/// The length a treat-as-withdraw attribute other than AS_PATH must have:
/// `(exact, multiple)`, one of them zero. Shared by [`Attrs::parse`] and
/// the snapshot's origin walk, which checks lengths without decoding.
const fn length_rule(code: u8) -> Option<(usize, usize)> {
    match code {
        code::ORIGIN => Some((1, 0)),
        code::NEXT_HOP | code::MED | code::LOCAL_PREF | code::ORIGINATOR_ID | code::ONLY_TO_CUSTOMER => Some((4, 0)),
        code::COMMUNITIES | code::CLUSTER_LIST => Some((0, 4)),
        code::EXTENDED_COMMUNITIES => Some((0, 8)),
        code::LARGE_COMMUNITIES => Some((0, 12)),
        code::IPV6_EXT_COMMUNITIES => Some((0, 20)),
        _ => None,
    }
}

/// Whether an attribute of type `code` whose value is `len` bytes long is
/// malformed by its length in a way that makes its route treat-as-withdraw
/// (AS_PATH, which needs its segments walked, is not decided here).
///
/// # Performance
/// Called for every attribute of every RIB entry by the snapshot's origin
/// walk. Through `length_rule` the multiple was a run-time divisor, a
/// division per attribute; matched here each is a constant (the same
/// answers: `withdraw_rules_agree` below).
#[inline]
pub fn withdraws_by_length(code: u8, len: usize) -> bool {
    match code {
        code::ORIGIN => len != 1,
        code::NEXT_HOP | code::MED | code::LOCAL_PREF | code::ORIGINATOR_ID | code::ONLY_TO_CUSTOMER => len != 4,
        code::COMMUNITIES | code::CLUSTER_LIST => !len.is_multiple_of(4),
        code::EXTENDED_COMMUNITIES => !len.is_multiple_of(8),
        code::LARGE_COMMUNITIES => !len.is_multiple_of(12),
        code::IPV6_EXT_COMMUNITIES => !len.is_multiple_of(20),
        _ => false,
    }
}

/// The name of an attribute type, for messages (`None` for types the crate
/// does not name).
pub fn name(c: u8) -> Option<&'static str> {
    Some(match c {
        code::ORIGIN => "ORIGIN",
        code::AS_PATH => "AS_PATH",
        code::NEXT_HOP => "NEXT_HOP",
        code::MED => "MULTI_EXIT_DISC",
        code::LOCAL_PREF => "LOCAL_PREF",
        code::ATOMIC_AGGREGATE => "ATOMIC_AGGREGATE",
        code::AGGREGATOR => "AGGREGATOR",
        code::COMMUNITIES => "COMMUNITIES",
        code::ORIGINATOR_ID => "ORIGINATOR_ID",
        code::CLUSTER_LIST => "CLUSTER_LIST",
        code::MP_REACH_NLRI => "MP_REACH_NLRI",
        code::MP_UNREACH_NLRI => "MP_UNREACH_NLRI",
        code::EXTENDED_COMMUNITIES => "EXTENDED_COMMUNITIES",
        code::AS4_PATH => "AS4_PATH",
        code::AS4_AGGREGATOR => "AS4_AGGREGATOR",
        code::IPV6_EXT_COMMUNITIES => "IPV6_EXT_COMMUNITIES",
        code::AIGP => "AIGP",
        code::LARGE_COMMUNITIES => "LARGE_COMMUNITY",
        code::ONLY_TO_CUSTOMER => "ONLY_TO_CUSTOMER",
        code::ATTR_SET => "ATTR_SET",
        _ => return None,
    })
}

fn be32(v: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(v.try_into().ok()?))
}

fn ip4(v: &[u8]) -> Option<Ipv4Addr> {
    Some(Ipv4Addr::from(<[u8; 4]>::try_from(v).ok()?))
}

impl<'a> Attrs<'a> {
    /// No attributes yet, of the block `raw` at `offset` read with `ctx`:
    /// what [`Attrs::read`] fills.
    ///
    /// # Performance
    /// Written field by field, not as `..Attrs::EMPTY`: that copied the
    /// 392-byte constant with a `memcpy` call per UPDATE.
    #[inline(always)]
    pub(crate) const fn blank(raw: &'a [u8], offset: u64, context: AttrContext) -> Attrs<'a> {
        Attrs {
            raw,
            offset,
            origin: None,
            as_path: None,
            as4_path: None,
            next_hop: None,
            med: None,
            local_pref: None,
            atomic_aggregate: false,
            aggregator: None,
            aggregator_raw: None,
            as4_aggregator: None,
            communities: None,
            large_communities: None,
            ext_communities: None,
            ipv6_ext_communities: None,
            originator_id: None,
            cluster_list: None,
            mp_reach: None,
            mp_unreach: None,
            only_to_customer: None,
            aigp: None,
            attr_set: None,
            other: 0,
            warnings: 0,
            withdraw: None,
            context,
        }
    }
}

impl Attrs<'_> {
    /// No attributes (what a withdrawal carries).
    pub const EMPTY: Attrs<'static> = Attrs::blank(&[], 0, AttrContext { asn_len: 0, rib_afi: None });
}

impl<'a> Attrs<'a> {
    /// Decode the attribute block `data` at absolute `offset`.
    ///
    /// # Errors
    /// When the block's framing is broken (an attribute runs past its end).
    pub fn parse(data: &'a [u8], offset: u64, ctx: AttrContext) -> Result<Attrs<'a>> {
        let mut a = Attrs::EMPTY;
        a.read(data, offset, ctx)?;
        Ok(a)
    }

    /// [`Attrs::parse`] into `self`, whatever it held: a caller decoding
    /// block after block reuses one place instead of moving each result.
    ///
    /// # Performance
    /// Through [`Attrs::parse`] each RIB entry's attributes (392 bytes)
    /// were built, returned and moved, three copies per entry: 118M of the
    /// 1,178M instructions of `dump --threads 1` on the route-views.jinx
    /// RIB; 1,128M read in place (1,178M before).
    pub fn parse_into(&mut self, data: &'a [u8], offset: u64, ctx: AttrContext) -> Result<()> {
        *self = Attrs::EMPTY;
        self.read(data, offset, ctx)
    }

    /// [`Attrs::parse`] into `self`, which must be [`Attrs::EMPTY`]: a
    /// caller that holds the attributes inside a larger value decodes them
    /// in place.
    ///
    /// # Performance
    /// `Attrs` is 392 bytes; returned through `Result` and moved into its
    /// UPDATE, it was copied twice per message: `stats --threads 1` on the
    /// RIS 2016 updates file ×4 took 204M instructions, 199M with the
    /// attributes read in place (callgrind).
    pub(crate) fn read(&mut self, data: &'a [u8], offset: u64, ctx: AttrContext) -> Result<()> {
        let a = self;
        a.raw = data;
        a.offset = offset;
        a.context = ctx;
        // The walk of `RawAttrs`, without its `Option<Result<_>>` per
        // attribute (11M of the 38M of this function on the PCH 2015
        // updates file; `stats` there 222M -> 204M instructions, callgrind).
        let (mut rest, mut at) = (data, offset);
        while !rest.is_empty() {
            let attr = match RawAttr::split(rest, at) {
                Some((attr, n)) => {
                    rest = rest.get(n..).unwrap_or_default();
                    at += n as u64;
                    attr
                }
                None => {
                    let mut r = RawAttrs::new(rest, at);
                    let attr = r.read_fields()?;
                    (rest, at) = (r.r.peek_rest(), r.r.offset());
                    attr
                }
            };
            let v = attr.value;
            let ok = match attr.code {
                code::ORIGIN => v.first().filter(|_| v.len() == 1).map(|&o| a.origin = Some(o)).is_some(),
                code::AS_PATH => {
                    // A 2-byte path labelled as 4-byte (or the reverse) is
                    // taken in the size that parses.
                    let other = if ctx.asn_len == 4 { 2 } else { 4 };
                    let len = [ctx.asn_len, other].into_iter().find(|&l| AsPath::fits(v, l));
                    len.map(|l| a.as_path = Some(AsPath::fitted(v, attr.offset, l))).is_some()
                }
                code::AS4_PATH => AsPath::fits(v, 4)
                    .then(|| a.as4_path = Some(AsPath::fitted(v, attr.offset, 4)))
                    .is_some(),
                code::NEXT_HOP => ip4(v).map(|n| a.next_hop = Some(n)).is_some(),
                code::MED => be32(v).map(|n| a.med = Some(n)).is_some(),
                code::LOCAL_PREF => be32(v).map(|n| a.local_pref = Some(n)).is_some(),
                code::ATOMIC_AGGREGATE => {
                    a.atomic_aggregate = true;
                    v.is_empty()
                }
                code::AGGREGATOR => {
                    a.aggregator_raw = Some(v);
                    let r = match v.len() {
                        6 => v
                            .split_at_checked(2)
                            .and_then(|(asn, id)| Some((u32::from(u16::from_be_bytes(asn.try_into().ok()?)), ip4(id)?))),
                        8 => v.split_at_checked(4).and_then(|(asn, id)| Some((be32(asn)?, ip4(id)?))),
                        _ => None,
                    };
                    r.map(|r| a.aggregator = Some(r)).is_some()
                }
                code::AS4_AGGREGATOR => v
                    .split_at_checked(4)
                    .and_then(|(asn, id)| Some((be32(asn)?, ip4(id)?)))
                    .map(|r| a.as4_aggregator = Some(r))
                    .is_some(),
                code::COMMUNITIES => (v.len() % 4 == 0).then(|| a.communities = Some(v)).is_some(),
                code::LARGE_COMMUNITIES => (v.len() % 12 == 0).then(|| a.large_communities = Some(v)).is_some(),
                code::EXTENDED_COMMUNITIES => (v.len() % 8 == 0).then(|| a.ext_communities = Some(v)).is_some(),
                code::IPV6_EXT_COMMUNITIES => (v.len() % 20 == 0).then(|| a.ipv6_ext_communities = Some(v)).is_some(),
                code::ORIGINATOR_ID => ip4(v).map(|n| a.originator_id = Some(n)).is_some(),
                code::CLUSTER_LIST => (v.len() % 4 == 0).then(|| a.cluster_list = Some(v)).is_some(),
                code::MP_REACH_NLRI => {
                    let r = match ctx.rib_afi {
                        Some(afi) => MpReach::abbreviated(v, attr.offset, afi).or_else(|| MpReach::full(v, attr.offset)),
                        None => MpReach::full(v, attr.offset),
                    };
                    r.map(|m| a.mp_reach = Some(m)).is_some()
                }
                code::MP_UNREACH_NLRI => MpUnreach::parse(v, attr.offset).map(|m| a.mp_unreach = Some(m)).is_ok(),
                code::ONLY_TO_CUSTOMER => be32(v).map(|n| a.only_to_customer = Some(n)).is_some(),
                code::AIGP => {
                    a.aigp = Some(v);
                    true
                }
                code::ATTR_SET => {
                    a.attr_set = Some(v);
                    true
                }
                _ => {
                    a.other = a.other.saturating_add(1);
                    true
                }
            };
            if !ok {
                a.warnings = a.warnings.saturating_add(1);
                if a.withdraw.is_none() && treat_as_withdraw(attr.code) {
                    let header = if attr.flags & FLAG_EXTENDED != 0 { 4 } else { 3 };
                    a.withdraw = Some((attr.code, attr.offset.saturating_sub(header)));
                }
            }
        }
        Ok(())
    }

    /// The error for a route whose attributes are treat-as-withdraw
    /// ([`Attrs::withdraw`]), at the malformed attribute.
    pub fn withdraw_error(&self) -> Option<Error> {
        self.withdraw
            .map(|(code, offset)| Error::new(crate::error::ErrorKind::MalformedAttribute { code, name: name(code) }, offset))
    }

    /// All attributes of the block, raw.
    pub fn raw_attrs(&self) -> RawAttrs<'a> {
        RawAttrs::new(self.raw, self.offset)
    }

    /// COMMUNITIES as `(asn, value)` pairs.
    pub fn communities(&self) -> impl Iterator<Item = (u16, u16)> + 'a {
        self.communities.unwrap_or(&[]).chunks_exact(4).map(|c| match c {
            [a, b, c, d] => (u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d])),
            _ => (0, 0),
        })
    }

    /// LARGE_COMMUNITY as `(global, local1, local2)`.
    pub fn large_communities(&self) -> impl Iterator<Item = (u32, u32, u32)> + 'a {
        self.large_communities.unwrap_or(&[]).chunks_exact(12).map(|c| {
            let w = |i: usize| c.get(i..i + 4).and_then(be32).unwrap_or(0);
            (w(0), w(4), w(8))
        })
    }

    /// EXTENDED_COMMUNITIES, each 8 raw bytes.
    pub fn ext_communities(&self) -> impl Iterator<Item = [u8; 8]> + 'a {
        self.ext_communities
            .unwrap_or(&[])
            .chunks_exact(8)
            .map(|c| <[u8; 8]>::try_from(c).unwrap_or([0; 8]))
    }

    /// CLUSTER_LIST entries.
    pub fn cluster_list(&self) -> impl Iterator<Item = Ipv4Addr> + 'a {
        self.cluster_list.unwrap_or(&[]).chunks_exact(4).filter_map(ip4)
    }

    /// The AGGREGATOR after RFC 6793's AS4_AGGREGATOR substitution.
    pub fn effective_aggregator(&self) -> Option<(u32, Ipv4Addr)> {
        match (self.aggregator, self.as4_aggregator) {
            (Some((23456, _)), Some(a4)) => Some(a4),
            (a, _) => a,
        }
    }
}

/// Check that `value` is exactly `n` bytes; used by callers that need to
/// reject rather than warn.
pub fn expect_len(value: &[u8], n: usize, what: &'static str, offset: u64) -> Result<()> {
    if value.len() == n {
        Ok(())
    } else {
        Err(Error::bad_length(what, value.len() as u32, n as u32, offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The origin walk's length check and the decoder's rule agree on every
    /// type and length.
    #[test]
    fn withdraw_rules_agree() {
        for c in 0..=255u8 {
            for len in 0..300usize {
                let rule = match length_rule(c) {
                    Some((0, m)) => len % m != 0,
                    Some((n, _)) => len != n,
                    None => false,
                };
                assert_eq!(withdraws_by_length(c, len), rule, "type {c}, {len} bytes");
            }
        }
    }

    #[test]
    fn parses_known_attributes() {
        let block: Vec<u8> = [
            &[0x40, 1, 1, 2][..],                           // ORIGIN INCOMPLETE
            &[0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe8],          // AS_PATH 65000 (4-byte)
            &[0x40, 3, 4, 10, 0, 0, 1],                     // NEXT_HOP
            &[0x80, 4, 4, 0, 0, 0, 5],                      // MED 5
            &[0xc0, 8, 8, 0, 1, 0, 2, 0xff, 0xff, 0xff, 1], // COMMUNITIES
            &[0x50, 99, 0, 2, 7, 7],                        // unknown, extended length
            &[0x40, 1, 2, 0, 0],                            // malformed ORIGIN: warning
        ]
        .concat();
        let a = Attrs::parse(&block, 100, AttrContext { asn_len: 4, rib_afi: None }).unwrap();
        assert_eq!(a.origin, Some(2));
        assert!(matches!(a.as_path.unwrap().origin(), crate::bgp::OriginRef::Asn(65000)));
        assert_eq!(a.next_hop, Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(a.med, Some(5));
        assert_eq!(a.communities().collect::<Vec<_>>(), [(1, 2), (0xffff, 0xff01)]);
        assert_eq!((a.other, a.warnings), (1, 1));
        assert_eq!(a.raw_attrs().count(), 7);
        for cut in 1..block.len() {
            // Every truncation either fails cleanly or (at attribute boundaries) succeeds.
            let _ = Attrs::parse(&block[..cut], 0, AttrContext { asn_len: 4, rib_afi: None });
        }
        let e = Attrs::parse(&block[..5], 100, AttrContext { asn_len: 4, rib_afi: None }).unwrap_err();
        assert_eq!(e.offset(), 105);
    }

    /// RFC 7606 treat-as-withdraw: `Attrs::parse` and the length rule the
    /// snapshot's walk uses agree on every code and length; the withdraw
    /// points at the attribute's header; AS_PATH is decided by its segments.
    #[test]
    fn treat_as_withdraw_rules() {
        let ctx = AttrContext { asn_len: 4, rib_afi: None };
        for code in 0..=255u8 {
            for len in 0..41usize {
                let mut block = vec![0x40, 1, 1, 0];
                block.extend_from_slice(&[0xc0, code, len as u8]);
                block.extend((0..len).map(|i| i as u8));
                let a = Attrs::parse(&block, 1000, ctx).unwrap();
                if matches!(code, code::AS_PATH | code::MP_REACH_NLRI | code::MP_UNREACH_NLRI) {
                    continue;
                }
                let want = withdraws_by_length(code, len);
                assert_eq!(a.withdraw.is_some(), want, "code {code} length {len}");
                if want {
                    assert_eq!(a.withdraw, Some((code, 1004)));
                    assert!(treat_as_withdraw(code));
                    assert_eq!(a.withdraw_error().map(|e| e.kind().name()), Some("malformed-attribute"));
                }
            }
        }
        for code in [
            code::ATOMIC_AGGREGATE,
            code::AGGREGATOR,
            code::AS4_PATH,
            code::AS4_AGGREGATOR,
            code::MP_REACH_NLRI,
        ] {
            assert!(!treat_as_withdraw(code), "{code}");
        }
        // An AS_PATH segment claiming 255 ASNs with one behind it.
        let block = [0x50, 2, 0, 6, 2, 255, 0, 0, 0xfd, 0xe8];
        let a = Attrs::parse(&block, 10, ctx).unwrap();
        assert_eq!((a.as_path.is_none(), a.withdraw), (true, Some((code::AS_PATH, 10))));
        let e = a.withdraw_error().unwrap();
        assert_eq!(
            e.to_string(),
            "at byte 0xa: malformed AS_PATH attribute: route treated as withdrawn (RFC 7606)"
        );
        // A malformed AS4_PATH is only dropped.
        let block = [0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe8, 0xc0, 17, 3, 2, 9, 0];
        let a = Attrs::parse(&block, 0, ctx).unwrap();
        assert_eq!((a.as4_path.is_none(), a.withdraw, a.warnings), (true, None, 1));
    }

    /// `MpReach::full` accepts what the field-by-field read does, and
    /// gives the same value, on every value of up to seven bytes drawn
    /// from a few lengths and counts.
    #[test]
    fn mp_reach_full_agrees_with_fields() {
        let mut agree = [0usize; 2];
        for v in crate::testkit::byte_strings(&[0, 1, 2, 3, 0xff], 7) {
            let fast = MpReach::full(&v, 100).map(|m| (m.afi, m.safi, m.next_hop, m.nlri, m.nlri_offset));
            let slow = MpReach::full_fields(&v, 100)
                .ok()
                .map(|m| (m.afi, m.safi, m.next_hop, m.nlri, m.nlri_offset));
            assert_eq!(fast, slow, "{v:?}");
            agree[usize::from(fast.is_some())] += 1;
        }
        assert!(agree[0] > 10_000 && agree[1] > 1_000, "{agree:?}");
    }

    #[test]
    fn mp_reach_forms() {
        let abbrev = [16u8, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let m = MpReach::parse_rib(&abbrev, 0, AFI_IPV6).unwrap();
        assert!(m.abbreviated);
        assert_eq!(m.next_hop_addr().unwrap().to_string(), "2001:db8::1");
        let full = [
            0, 2, 1, 16, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 32, 0x20, 1, 0xd, 0xb8,
        ];
        let m = MpReach::parse_rib(&full, 0, AFI_IPV6).unwrap();
        assert!(!m.abbreviated);
        let p: Vec<_> = m.prefixes(false).iter().map(|p| p.unwrap().1.to_string()).collect();
        assert_eq!(p, ["2001:db8::/32"]);
    }
}
