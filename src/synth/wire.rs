//! Low-level MRT / BGP wire encoding for the generator (big-endian, append
//! to a `Vec<u8>`): the attributes and paths it writes, on the record
//! builder of [`crate::testkit`] and the codes `mrt` and `bgp` define.

use crate::bgp::as_path::{AS_CONFED_SEQUENCE, AS_CONFED_SET, AS_SEQUENCE, AS_SET, AS_TRANS};
use crate::bgp::attr::{code, FLAG_EXTENDED, FLAG_OPTIONAL, FLAG_TRANSITIVE};
pub(crate) use crate::testkit::{attr_hdr, finish_mrt, patch_u16, put_u16, put_u32, start_mrt};

/// Well-known mandatory / discretionary attributes.
const WELL_KNOWN: u8 = FLAG_TRANSITIVE;
/// Optional transitive attributes.
const OPT_TRANS: u8 = FLAG_OPTIONAL | FLAG_TRANSITIVE;
/// Optional non-transitive attributes.
const OPT_NON_TRANS: u8 = FLAG_OPTIONAL;

/// Number of bytes used by a prefix of `len` bits in NLRI encoding.
#[inline]
pub(crate) fn prefix_bytes(len: u8) -> usize {
    usize::from(len).div_ceil(8)
}

/// Appends an NLRI-encoded IPv4 prefix (length byte then significant bytes).
#[inline]
pub(crate) fn put_prefix_v4(buf: &mut Vec<u8>, addr: u32, len: u8) {
    buf.push(len);
    buf.extend_from_slice(&addr.to_be_bytes()[..prefix_bytes(len)]);
}

/// Appends an NLRI-encoded IPv6 prefix (length byte then significant bytes).
#[inline]
pub(crate) fn put_prefix_v6(buf: &mut Vec<u8>, addr: u128, len: u8) {
    buf.push(len);
    buf.extend_from_slice(&addr.to_be_bytes()[..prefix_bytes(len)]);
}

/// ORIGIN attribute.
#[inline]
pub(crate) fn attr_origin(buf: &mut Vec<u8>, origin: u8) {
    attr_hdr(buf, WELL_KNOWN, code::ORIGIN, 1);
    buf.push(origin);
}

/// An AS path as a flat list of ASNs split into typed segments.
#[derive(Clone, Debug)]
pub(crate) struct AsPath {
    /// All AS numbers, segment after segment.
    asns: [u32; Self::MAX_ASNS],
    /// Number of used entries in `asns`.
    n: usize,
    /// `(segment type, count)` per segment.
    segs: [(u8, u8); Self::MAX_SEGS],
    /// Number of used entries in `segs`.
    nsegs: usize,
}

impl AsPath {
    /// Capacity in AS numbers (paths built here stay far below).
    pub(crate) const MAX_ASNS: usize = 64;
    /// Capacity in segments.
    pub(crate) const MAX_SEGS: usize = 8;

    /// An empty path.
    pub(crate) fn new() -> Self {
        AsPath {
            asns: [0; Self::MAX_ASNS],
            n: 0,
            segs: [(0, 0); Self::MAX_SEGS],
            nsegs: 0,
        }
    }

    /// Clears the path.
    #[inline]
    pub(crate) fn clear(&mut self) {
        self.n = 0;
        self.nsegs = 0;
    }

    /// Starts a new segment of the given type (ignored when full).
    #[inline]
    pub(crate) fn begin(&mut self, seg_type: u8) {
        if self.nsegs < Self::MAX_SEGS {
            self.segs[self.nsegs] = (seg_type, 0);
            self.nsegs += 1;
        }
    }

    /// Appends an ASN to the current segment (ignored when full or no segment).
    #[inline]
    pub(crate) fn push(&mut self, asn: u32) {
        if self.nsegs == 0 || self.n >= Self::MAX_ASNS {
            return;
        }
        let seg = &mut self.segs[self.nsegs - 1];
        if seg.1 == u8::MAX {
            return;
        }
        seg.1 += 1;
        self.asns[self.n] = asn;
        self.n += 1;
    }

    /// Appends an ASN to the current segment unless it already occurs anywhere
    /// in the path (loop avoidance for generated hops).
    #[inline]
    pub(crate) fn push_unique(&mut self, asn: u32) {
        if !self.contains(asn) {
            self.push(asn);
        }
    }

    /// Whether `asn` occurs in the path.
    #[inline]
    pub(crate) fn contains(&self, asn: u32) -> bool {
        self.asns[..self.n].contains(&asn)
    }

    /// The segments as `(type, asns)` pairs.
    pub(crate) fn segments(&self) -> impl Iterator<Item = (u8, &[u32])> + '_ {
        let mut start = 0usize;
        self.segs[..self.nsegs].iter().map(move |&(t, c)| {
            let s = &self.asns[start..start + usize::from(c)];
            start += usize::from(c);
            (t, s)
        })
    }

    /// The AS the first hop learned the route from: the second AS of the
    /// first AS_SEQUENCE, or its only AS (0 for an empty path).
    pub(crate) fn neighbor(&self) -> u32 {
        for (t, s) in self.segments() {
            if t == AS_SEQUENCE && !s.is_empty() {
                return if s.len() >= 2 { s[1] } else { s[0] };
            }
        }
        0
    }

    /// Whether any ASN needs 4 bytes.
    pub(crate) fn has_4byte(&self) -> bool {
        self.asns[..self.n].iter().any(|&a| a > 0xFFFF)
    }

    /// Encoded length of the attribute value with `asn_size`-byte ASNs,
    /// skipping empty segments.
    #[inline]
    pub(crate) fn encoded_len(&self, asn_size: usize) -> usize {
        self.segs[..self.nsegs]
            .iter()
            .filter(|s| s.1 > 0)
            .map(|&(_, c)| 2 + asn_size * usize::from(c))
            .sum()
    }

    /// Origin classification by the truth rule: the last AS of the last
    /// non-confederation segment, the whole segment for an AS_SET, `None`
    /// when no such segment exists.
    pub(crate) fn origin_class(&self) -> OriginClass {
        let mut end = self.n;
        for &(t, c) in self.segs[..self.nsegs].iter().rev() {
            let c = usize::from(c);
            let start = end - c;
            if c > 0 {
                match t {
                    AS_SEQUENCE => return OriginClass::Asn(self.asns[end - 1]),
                    AS_SET => return OriginClass::Set { start, end },
                    _ => {}
                }
            }
            end = start;
        }
        OriginClass::None
    }
}

/// Where the origin of an [`AsPath`] lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OriginClass {
    /// A single origin AS.
    Asn(u32),
    /// An AS_SET occupying `start..end` of the flat ASN list.
    Set {
        /// First index.
        start: usize,
        /// One past the last index.
        end: usize,
    },
    /// No origin (empty path or confederation segments only).
    None,
}

/// AS_PATH attribute with 4-byte (`four_byte`) or 2-byte ASNs; 2-byte
/// encoding maps ASNs above 65535 to AS_TRANS.
pub(crate) fn attr_as_path(buf: &mut Vec<u8>, path: &AsPath, four_byte: bool) {
    attr_as_path_flags(buf, path, four_byte, WELL_KNOWN);
}

/// [`attr_as_path`] with the extended-length flag set whatever the length
/// (as Quagga-based collectors, RouteViews' among them, write it).
pub(crate) fn attr_as_path_extended(buf: &mut Vec<u8>, path: &AsPath) {
    attr_as_path_flags(buf, path, true, WELL_KNOWN | FLAG_EXTENDED);
}

fn attr_as_path_flags(buf: &mut Vec<u8>, path: &AsPath, four_byte: bool, flags: u8) {
    let size = if four_byte { 4 } else { 2 };
    attr_hdr(buf, flags, code::AS_PATH, path.encoded_len(size));
    put_segments(buf, path, four_byte, true);
}

/// AS4_PATH attribute (RFC 6793): 4-byte ASNs, confederation segments omitted.
pub(crate) fn attr_as4_path(buf: &mut Vec<u8>, path: &AsPath) {
    let len: usize = path
        .segments()
        .filter(|(t, s)| !s.is_empty() && (*t == AS_SEQUENCE || *t == AS_SET))
        .map(|(_, s)| 2 + 4 * s.len())
        .sum();
    attr_hdr(buf, OPT_TRANS, code::AS4_PATH, len);
    put_segments(buf, path, true, false);
}

fn put_segments(buf: &mut Vec<u8>, path: &AsPath, four_byte: bool, with_confed: bool) {
    for (t, s) in path.segments() {
        if s.is_empty() || (!with_confed && (t == AS_CONFED_SEQUENCE || t == AS_CONFED_SET)) {
            continue;
        }
        buf.push(t);
        buf.push(s.len() as u8);
        for &a in s {
            if four_byte {
                put_u32(buf, a);
            } else {
                put_u16(buf, if a > 0xFFFF { AS_TRANS as u16 } else { a as u16 });
            }
        }
    }
}

/// NEXT_HOP attribute (IPv4).
#[inline]
pub(crate) fn attr_next_hop(buf: &mut Vec<u8>, nh: [u8; 4]) {
    attr_hdr(buf, WELL_KNOWN, code::NEXT_HOP, 4);
    buf.extend_from_slice(&nh);
}

/// MULTI_EXIT_DISC attribute.
#[inline]
pub(crate) fn attr_med(buf: &mut Vec<u8>, med: u32) {
    attr_hdr(buf, OPT_NON_TRANS, code::MED, 4);
    put_u32(buf, med);
}

/// ATOMIC_AGGREGATE attribute.
#[inline]
pub(crate) fn attr_atomic_aggregate(buf: &mut Vec<u8>) {
    attr_hdr(buf, WELL_KNOWN, code::ATOMIC_AGGREGATE, 0);
}

/// AGGREGATOR attribute: 8 bytes with a 4-byte AS, or 6 bytes with a 2-byte
/// AS (AS_TRANS when the AS does not fit).
pub(crate) fn attr_aggregator(buf: &mut Vec<u8>, asn: u32, ip: [u8; 4], four_byte: bool) {
    if four_byte {
        attr_hdr(buf, OPT_TRANS, code::AGGREGATOR, 8);
        put_u32(buf, asn);
    } else {
        attr_hdr(buf, OPT_TRANS, code::AGGREGATOR, 6);
        put_u16(buf, if asn > 0xFFFF { AS_TRANS as u16 } else { asn as u16 });
    }
    buf.extend_from_slice(&ip);
}

/// AS4_AGGREGATOR attribute (RFC 6793).
pub(crate) fn attr_as4_aggregator(buf: &mut Vec<u8>, asn: u32, ip: [u8; 4]) {
    attr_hdr(buf, OPT_TRANS, code::AS4_AGGREGATOR, 8);
    put_u32(buf, asn);
    buf.extend_from_slice(&ip);
}

/// COMMUNITIES attribute (RFC 1997).
pub(crate) fn attr_communities(buf: &mut Vec<u8>, comms: &[u32]) {
    attr_hdr(buf, OPT_TRANS, code::COMMUNITIES, 4 * comms.len());
    for &c in comms {
        put_u32(buf, c);
    }
}

/// LARGE_COMMUNITY attribute (RFC 8092).
pub(crate) fn attr_large_communities(buf: &mut Vec<u8>, comms: &[[u32; 3]]) {
    attr_hdr(buf, OPT_TRANS, code::LARGE_COMMUNITIES, 12 * comms.len());
    for c in comms {
        for &w in c {
            put_u32(buf, w);
        }
    }
}

/// MP_REACH_NLRI in the abbreviated TABLE_DUMP_V2 form (RFC 6396 §4.3.4):
/// next-hop length byte and next hop only.
pub(crate) fn attr_mp_reach_abbrev(buf: &mut Vec<u8>, nh: &[u8]) {
    attr_hdr(buf, OPT_NON_TRANS, code::MP_REACH_NLRI, 1 + nh.len());
    buf.push(nh.len() as u8);
    buf.extend_from_slice(nh);
}

/// Full MP_REACH_NLRI (RFC 4760) with pre-encoded NLRI bytes.
pub(crate) fn attr_mp_reach(buf: &mut Vec<u8>, afi: u16, safi: u8, nh: &[u8], nlri: &[u8]) {
    attr_hdr(buf, OPT_NON_TRANS, code::MP_REACH_NLRI, 2 + 1 + 1 + nh.len() + 1 + nlri.len());
    put_u16(buf, afi);
    buf.push(safi);
    buf.push(nh.len() as u8);
    buf.extend_from_slice(nh);
    buf.push(0);
    buf.extend_from_slice(nlri);
}

/// MP_UNREACH_NLRI (RFC 4760) with pre-encoded withdrawn prefixes.
pub(crate) fn attr_mp_unreach(buf: &mut Vec<u8>, afi: u16, safi: u8, withdrawn: &[u8]) {
    attr_hdr(buf, OPT_NON_TRANS, code::MP_UNREACH_NLRI, 3 + withdrawn.len());
    put_u16(buf, afi);
    buf.push(safi);
    buf.extend_from_slice(withdrawn);
}

/// Appends a BGP message header (marker, length to fill in, type); returns
/// where the message starts, for [`msg_finish`].
pub(crate) fn msg_start(buf: &mut Vec<u8>, typ: u8) -> usize {
    let pos = buf.len();
    buf.extend_from_slice(&[0xFF; 16]);
    put_u16(buf, 0);
    buf.push(typ);
    pos
}

/// Fills in the length of the BGP message that starts at `pos`.
pub(crate) fn msg_finish(buf: &mut [u8], pos: usize) {
    let len = buf.len() - pos;
    patch_u16(buf, pos + 16, len as u16);
}

/// Appends a BGP OPEN (version 4, AS_TRANS for a 4-byte AS) with the
/// multiprotocol IPv4 and IPv6 unicast and route refresh capabilities, the
/// 4-byte AS one with `as4`, and ADD-PATH (send, both families) with
/// `add_path`.
pub(crate) fn put_open(buf: &mut Vec<u8>, asn: u32, hold: u16, bgp_id: u32, as4: bool, add_path: bool) {
    let m = msg_start(buf, crate::bgp::message::OPEN);
    buf.push(4);
    put_u16(buf, if asn > 0xFFFF { AS_TRANS as u16 } else { asn as u16 });
    put_u16(buf, hold);
    put_u32(buf, bgp_id);
    let mut caps: Vec<u8> = vec![1, 4, 0, 1, 0, 1, 1, 4, 0, 2, 0, 1, 2, 0];
    if as4 {
        caps.extend_from_slice(&[65, 4]);
        caps.extend_from_slice(&asn.to_be_bytes());
    }
    if add_path {
        caps.extend_from_slice(&[69, 8, 0, 1, 1, 2, 0, 2, 1, 2]);
    }
    buf.push((caps.len() + 2) as u8);
    buf.push(2);
    buf.push(caps.len() as u8);
    buf.extend_from_slice(&caps);
    msg_finish(buf, m);
}
