//! Low-level MRT / BGP wire encoding helpers (big-endian, append to a `Vec<u8>`).

/// MRT type TABLE_DUMP_V2 (RFC 6396 §4.3).
pub(crate) const MRT_TABLE_DUMP_V2: u16 = 13;
/// MRT type BGP4MP (RFC 6396 §4.4).
pub(crate) const MRT_BGP4MP: u16 = 16;
/// MRT type BGP4MP_ET (RFC 6396 §4.4, microsecond timestamps).
pub(crate) const MRT_BGP4MP_ET: u16 = 17;

/// TABLE_DUMP_V2 subtype PEER_INDEX_TABLE.
pub(crate) const TD2_PEER_INDEX_TABLE: u16 = 1;
/// TABLE_DUMP_V2 subtype RIB_IPV4_UNICAST.
pub(crate) const TD2_RIB_IPV4_UNICAST: u16 = 2;
/// TABLE_DUMP_V2 subtype RIB_IPV6_UNICAST.
pub(crate) const TD2_RIB_IPV6_UNICAST: u16 = 4;
/// TABLE_DUMP_V2 subtype RIB_IPV4_UNICAST_ADDPATH (RFC 8050).
pub(crate) const TD2_RIB_IPV4_UNICAST_ADDPATH: u16 = 8;
/// TABLE_DUMP_V2 subtype RIB_IPV6_UNICAST_ADDPATH (RFC 8050).
pub(crate) const TD2_RIB_IPV6_UNICAST_ADDPATH: u16 = 10;

/// BGP4MP subtype STATE_CHANGE (2-byte AS numbers).
pub(crate) const BGP4MP_STATE_CHANGE: u16 = 0;
/// BGP4MP subtype MESSAGE (2-byte AS numbers).
pub(crate) const BGP4MP_MESSAGE: u16 = 1;
/// BGP4MP subtype MESSAGE_AS4.
pub(crate) const BGP4MP_MESSAGE_AS4: u16 = 4;
/// BGP4MP subtype STATE_CHANGE_AS4.
pub(crate) const BGP4MP_STATE_CHANGE_AS4: u16 = 5;

/// BGP message type OPEN.
pub(crate) const BGP_OPEN: u8 = 1;
/// BGP message type UPDATE.
pub(crate) const BGP_UPDATE: u8 = 2;
/// BGP message type KEEPALIVE.
pub(crate) const BGP_KEEPALIVE: u8 = 4;

/// AS_PATH segment type AS_SET.
pub(crate) const SEG_AS_SET: u8 = 1;
/// AS_PATH segment type AS_SEQUENCE.
pub(crate) const SEG_AS_SEQUENCE: u8 = 2;
/// AS_PATH segment type AS_CONFED_SEQUENCE.
pub(crate) const SEG_CONFED_SEQUENCE: u8 = 3;
/// AS_PATH segment type AS_CONFED_SET.
pub(crate) const SEG_CONFED_SET: u8 = 4;

/// The 2-byte placeholder for 4-byte AS numbers (RFC 6793).
pub(crate) const AS_TRANS: u32 = 23456;

/// Attribute flag: optional.
const F_OPTIONAL: u8 = 0x80;
/// Attribute flag: transitive.
const F_TRANSITIVE: u8 = 0x40;
/// Attribute flag: extended length.
const F_EXTENDED: u8 = 0x10;

/// Well-known mandatory / discretionary attributes.
const WELL_KNOWN: u8 = F_TRANSITIVE;
/// Optional transitive attributes.
const OPT_TRANS: u8 = F_OPTIONAL | F_TRANSITIVE;
/// Optional non-transitive attributes.
const OPT_NON_TRANS: u8 = F_OPTIONAL;

#[inline]
pub(crate) fn put_u16(buf: &mut Vec<u8>, v: u16) {
    buf.extend_from_slice(&v.to_be_bytes());
}

#[inline]
pub(crate) fn put_u32(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_be_bytes());
}

/// Overwrites a big-endian u16 at `pos`.
#[inline]
pub(crate) fn patch_u16(buf: &mut [u8], pos: usize, v: u16) {
    buf[pos..pos + 2].copy_from_slice(&v.to_be_bytes());
}

/// Overwrites a big-endian u32 at `pos`.
#[inline]
pub(crate) fn patch_u32(buf: &mut [u8], pos: usize, v: u32) {
    buf[pos..pos + 4].copy_from_slice(&v.to_be_bytes());
}

/// Writes a 12-byte MRT common header with a zero length; returns the header
/// start so [`finish_mrt`] can patch the length.
#[inline]
pub(crate) fn start_mrt(buf: &mut Vec<u8>, ts: u32, typ: u16, subtype: u16) -> usize {
    let pos = buf.len();
    put_u32(buf, ts);
    put_u16(buf, typ);
    put_u16(buf, subtype);
    put_u32(buf, 0);
    pos
}

/// Patches the MRT length field of the record starting at `hdr`.
#[inline]
pub(crate) fn finish_mrt(buf: &mut [u8], hdr: usize) {
    let len = buf.len() - hdr - 12;
    patch_u32(buf, hdr + 8, len as u32);
}

/// Writes an attribute header (flags, type, length), choosing the extended
/// length form when `len > 255`.
#[inline]
pub(crate) fn attr_hdr(buf: &mut Vec<u8>, flags: u8, typ: u8, len: usize) {
    if len > 255 {
        buf.push(flags | F_EXTENDED);
        buf.push(typ);
        put_u16(buf, len as u16);
    } else {
        buf.push(flags & !F_EXTENDED);
        buf.push(typ);
        buf.push(len as u8);
    }
}

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
    attr_hdr(buf, WELL_KNOWN, 1, 1);
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
            if t == SEG_AS_SEQUENCE && !s.is_empty() {
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
                    SEG_AS_SEQUENCE => return OriginClass::Asn(self.asns[end - 1]),
                    SEG_AS_SET => return OriginClass::Set { start, end },
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
    let size = if four_byte { 4 } else { 2 };
    attr_hdr(buf, WELL_KNOWN, 2, path.encoded_len(size));
    put_segments(buf, path, four_byte, true);
}

/// AS4_PATH attribute (RFC 6793): 4-byte ASNs, confederation segments omitted.
pub(crate) fn attr_as4_path(buf: &mut Vec<u8>, path: &AsPath) {
    let len: usize = path
        .segments()
        .filter(|(t, s)| !s.is_empty() && (*t == SEG_AS_SEQUENCE || *t == SEG_AS_SET))
        .map(|(_, s)| 2 + 4 * s.len())
        .sum();
    attr_hdr(buf, OPT_TRANS, 17, len);
    put_segments(buf, path, true, false);
}

fn put_segments(buf: &mut Vec<u8>, path: &AsPath, four_byte: bool, with_confed: bool) {
    for (t, s) in path.segments() {
        if s.is_empty() || (!with_confed && (t == SEG_CONFED_SEQUENCE || t == SEG_CONFED_SET)) {
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
    attr_hdr(buf, WELL_KNOWN, 3, 4);
    buf.extend_from_slice(&nh);
}

/// MULTI_EXIT_DISC attribute.
#[inline]
pub(crate) fn attr_med(buf: &mut Vec<u8>, med: u32) {
    attr_hdr(buf, OPT_NON_TRANS, 4, 4);
    put_u32(buf, med);
}

/// ATOMIC_AGGREGATE attribute.
#[inline]
pub(crate) fn attr_atomic_aggregate(buf: &mut Vec<u8>) {
    attr_hdr(buf, WELL_KNOWN, 6, 0);
}

/// AGGREGATOR attribute: 8 bytes with a 4-byte AS, or 6 bytes with a 2-byte
/// AS (AS_TRANS when the AS does not fit).
pub(crate) fn attr_aggregator(buf: &mut Vec<u8>, asn: u32, ip: [u8; 4], four_byte: bool) {
    if four_byte {
        attr_hdr(buf, OPT_TRANS, 7, 8);
        put_u32(buf, asn);
    } else {
        attr_hdr(buf, OPT_TRANS, 7, 6);
        put_u16(buf, if asn > 0xFFFF { AS_TRANS as u16 } else { asn as u16 });
    }
    buf.extend_from_slice(&ip);
}

/// AS4_AGGREGATOR attribute (RFC 6793).
pub(crate) fn attr_as4_aggregator(buf: &mut Vec<u8>, asn: u32, ip: [u8; 4]) {
    attr_hdr(buf, OPT_TRANS, 18, 8);
    put_u32(buf, asn);
    buf.extend_from_slice(&ip);
}

/// COMMUNITIES attribute (RFC 1997).
pub(crate) fn attr_communities(buf: &mut Vec<u8>, comms: &[u32]) {
    attr_hdr(buf, OPT_TRANS, 8, 4 * comms.len());
    for &c in comms {
        put_u32(buf, c);
    }
}

/// LARGE_COMMUNITY attribute (RFC 8092).
pub(crate) fn attr_large_communities(buf: &mut Vec<u8>, comms: &[[u32; 3]]) {
    attr_hdr(buf, OPT_TRANS, 32, 12 * comms.len());
    for c in comms {
        for &w in c {
            put_u32(buf, w);
        }
    }
}

/// MP_REACH_NLRI in the abbreviated TABLE_DUMP_V2 form (RFC 6396 §4.3.4):
/// next-hop length byte and next hop only.
pub(crate) fn attr_mp_reach_abbrev(buf: &mut Vec<u8>, nh: &[u8]) {
    attr_hdr(buf, OPT_NON_TRANS, 14, 1 + nh.len());
    buf.push(nh.len() as u8);
    buf.extend_from_slice(nh);
}

/// Full MP_REACH_NLRI (RFC 4760) with pre-encoded NLRI bytes.
pub(crate) fn attr_mp_reach(buf: &mut Vec<u8>, afi: u16, safi: u8, nh: &[u8], nlri: &[u8]) {
    attr_hdr(buf, OPT_NON_TRANS, 14, 2 + 1 + 1 + nh.len() + 1 + nlri.len());
    put_u16(buf, afi);
    buf.push(safi);
    buf.push(nh.len() as u8);
    buf.extend_from_slice(nh);
    buf.push(0);
    buf.extend_from_slice(nlri);
}

/// MP_UNREACH_NLRI (RFC 4760) with pre-encoded withdrawn prefixes.
pub(crate) fn attr_mp_unreach(buf: &mut Vec<u8>, afi: u16, safi: u8, withdrawn: &[u8]) {
    attr_hdr(buf, OPT_NON_TRANS, 15, 3 + withdrawn.len());
    put_u16(buf, afi);
    buf.push(safi);
    buf.extend_from_slice(withdrawn);
}
