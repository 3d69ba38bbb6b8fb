//! TABLE_DUMP_V2 (RFC 6396 §4.3, RFC 8050 ADD-PATH, RFC 6397 GEO_PEER_TABLE).

use super::RawRecord;
use crate::bgp::attr::{AttrContext, Attrs};
use crate::bgp::nlri::{ipv4_bits, read_addr, read_prefix, Prefix, AFI_IPV4, AFI_IPV6};
use crate::cursor::Reader;
use crate::error::{Error, Result};
use std::net::{IpAddr, Ipv4Addr};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

/// Fixed part of a PEER_INDEX_TABLE peer entry.
///
/// ```text
/// +---------------+---------------------------------------------+
/// | Peer Type (1) |           Peer BGP ID (4)                   |
/// +---------------+---------------------------------------------+
/// |  Peer IP Address (4 or 16, bit 0 of type) | Peer AS (2 or 4, bit 1) |
/// ```
#[derive(FromBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct RawPeerEntry {
    /// Bit 0: IPv6 address; bit 1: 4-byte AS.
    pub peer_type: u8,
    /// BGP identifier.
    pub bgp_id: [u8; 4],
}

const _: () = assert!(core::mem::size_of::<RawPeerEntry>() == 5);

/// One peer of a PEER_INDEX_TABLE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeerEntry {
    /// Position in the table.
    pub index: u16,
    /// BGP identifier.
    pub bgp_id: Ipv4Addr,
    /// Peer address.
    pub addr: IpAddr,
    /// Peer AS.
    pub asn: u32,
}

/// Read one peer entry: type, BGP id, address (16 bytes if bit 0 of the
/// type is set, else 4) and AS (4 bytes if bit 1, else 2). Shared by the
/// PEER_INDEX_TABLE and the GEO_PEER_TABLE.
fn read_peer(r: &mut Reader<'_>) -> Result<(Ipv4Addr, IpAddr, u32)> {
    let e: &RawPeerEntry = r.wire("peer entry")?;
    let afi = if e.peer_type & 1 != 0 { AFI_IPV6 } else { AFI_IPV4 };
    let addr = read_addr(r, afi)?;
    let asn = if e.peer_type & 2 != 0 {
        r.u32("peer AS")?
    } else {
        u32::from(r.u16("peer AS")?)
    };
    Ok((Ipv4Addr::from(e.bgp_id), addr, asn))
}

/// The PEER_INDEX_TABLE: owned, since every later RIB record refers to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerTable {
    /// Collector BGP identifier.
    pub collector_id: Option<Ipv4Addr>,
    /// View name (lossy UTF-8).
    pub view_name: String,
    /// Peers in index order.
    pub peers: Vec<PeerEntry>,
}

impl PeerTable {
    /// The table a framed record holds: `None` when the record is not a
    /// PEER_INDEX_TABLE, an error when its body is damaged.
    #[inline]
    pub fn of_record(raw: &RawRecord<'_>) -> Option<Result<PeerTable>> {
        raw.header
            .is_peer_index_table()
            .then(|| PeerTable::parse(raw.body, raw.body_offset))
    }

    /// Decode a PEER_INDEX_TABLE body.
    pub fn parse(body: &[u8], offset: u64) -> Result<PeerTable> {
        let mut r = Reader::new(body, offset);
        let collector_id = Ipv4Addr::from(*r.array::<4>("collector BGP ID")?);
        let vl = r.u16("view name length")?;
        let view_name = String::from_utf8_lossy(r.take(usize::from(vl), "view name")?).into_owned();
        let count = r.u16("peer count")?;
        // Each entry is at least 11 bytes: never reserve more than the body can hold.
        let mut peers = Vec::with_capacity(usize::from(count).min(r.remaining() / 11));
        for index in 0..count {
            let (bgp_id, addr, asn) = read_peer(&mut r)?;
            peers.push(PeerEntry { index, bgp_id, addr, asn });
        }
        Ok(PeerTable {
            collector_id: Some(collector_id),
            view_name,
            peers,
        })
    }

    /// The peer at `index`.
    pub fn get(&self, index: u16) -> Option<&PeerEntry> {
        self.peers.get(usize::from(index))
    }
}

/// A RIB record (RIB_IPV4_UNICAST .. RIB_GENERIC_ADDPATH).
#[derive(Clone, Copy, Debug)]
pub struct Rib<'a> {
    /// Sequence number.
    pub sequence: u32,
    /// AFI.
    pub afi: u16,
    /// SAFI.
    pub safi: u8,
    /// The prefix, when the family is IPv4 or IPv6 unicast/multicast.
    pub prefix: Option<Prefix>,
    /// The raw NLRI of a RIB_GENERIC record of another family.
    pub nlri: &'a [u8],
    /// Number of entries.
    pub entry_count: u16,
    /// Entries carry path identifiers (ADD-PATH subtype, or detected).
    pub add_path: bool,
    entries: &'a [u8],
    entries_offset: u64,
}

/// One RIB entry.
#[derive(Clone, Copy, Debug)]
pub struct RibEntry<'a> {
    /// Index into the PEER_INDEX_TABLE.
    pub peer_index: u16,
    /// Originated time.
    pub originated: u32,
    /// ADD-PATH path identifier.
    pub path_id: Option<u32>,
    /// Attribute block.
    pub attrs: &'a [u8],
    /// Absolute offset of `attrs`.
    pub attrs_offset: u64,
}

impl<'a> RibEntry<'a> {
    /// Decode the attributes (AS_PATH is 4-byte in TABLE_DUMP_V2).
    pub fn parse_attrs(&self, afi: u16) -> Result<Attrs<'a>> {
        Attrs::parse(self.attrs, self.attrs_offset, rib_context(afi))
    }

    /// [`RibEntry::parse_attrs`] into `out` (see [`Attrs::parse_into`]).
    pub fn parse_attrs_into(&self, afi: u16, out: &mut Attrs<'a>) -> Result<()> {
        out.parse_into(self.attrs, self.attrs_offset, rib_context(afi))
    }
}

/// How a RIB entry's attributes of family `afi` are read: 4-byte AS_PATH,
/// MP_REACH_NLRI in its RIB form.
fn rib_context(afi: u16) -> AttrContext {
    AttrContext {
        asn_len: 4,
        rib_afi: Some(afi),
    }
}

fn read_entry<'a>(r: &mut Reader<'a>, add_path: bool) -> Result<RibEntry<'a>> {
    let peer_index = r.u16("RIB entry peer index")?;
    let originated = r.u32("RIB entry originated time")?;
    let path_id = if add_path {
        Some(r.u32("RIB entry path identifier")?)
    } else {
        None
    };
    let al = r.u16("RIB entry attribute length")?;
    let attrs_offset = r.offset();
    let attrs = r.take(usize::from(al), "RIB entry attributes")?;
    Ok(RibEntry {
        peer_index,
        originated,
        path_id,
        attrs,
        attrs_offset,
    })
}

/// Whether `count` entries in `layout` use exactly the bytes of `data`.
///
/// # Performance
/// Runs on every RIB record (the layout check of [`Rib::parse`]), so it only
/// hops over the fixed entry headers (peer index, time, path id, attribute
/// length) instead of building entries through a `Reader`: same decision,
/// no error values.
fn entries_fit(data: &[u8], count: u16, add_path: bool) -> bool {
    let head = if add_path { 12 } else { 8 };
    let mut pos = 0usize;
    for _ in 0..count {
        let Some(len) = data.get(pos..pos + head).and_then(|h| h.last_chunk::<2>()) else {
            return false;
        };
        pos += head + usize::from(u16::from_be_bytes(*len));
    }
    pos == data.len()
}

/// Whether entries of a subtype without ADD-PATH carry path identifiers:
/// some writers put them in such records, so the layout that accounts for
/// every byte is taken.
fn unlabelled_add_path(entries: &[u8], count: u16) -> bool {
    !entries_fit(entries, count, false) && entries_fit(entries, count, true)
}

impl<'a> Rib<'a> {
    /// Decode a RIB record of `subtype` (2..=6 and 8..=12).
    pub fn parse(subtype: u16, body: &'a [u8], offset: u64) -> Result<Rib<'a>> {
        if subtype == 2 {
            if let Some(rib) = Rib::ipv4_unicast(body, offset) {
                return Ok(rib);
            }
        }
        let mut r = Reader::new(body, offset);
        let sequence = r.u32("RIB sequence number")?;
        let add_path = subtype >= 8;
        let (afi, safi, prefix, nlri) = match subtype {
            2 | 8 => (AFI_IPV4, 1, Some(read_prefix(&mut r, AFI_IPV4)?), &[][..]),
            3 | 9 => (AFI_IPV4, 2, Some(read_prefix(&mut r, AFI_IPV4)?), &[][..]),
            4 | 10 => (AFI_IPV6, 1, Some(read_prefix(&mut r, AFI_IPV6)?), &[][..]),
            5 | 11 => (AFI_IPV6, 2, Some(read_prefix(&mut r, AFI_IPV6)?), &[][..]),
            6 | 12 => {
                let afi = r.u16("RIB_GENERIC AFI")?;
                let safi = r.u8("RIB_GENERIC SAFI")?;
                if matches!(afi, AFI_IPV4 | AFI_IPV6) && matches!(safi, 1 | 2) {
                    if add_path {
                        r.u32("RIB_GENERIC path identifier")?;
                    }
                    (afi, safi, Some(read_prefix(&mut r, afi)?), &[][..])
                } else {
                    // The NLRI of other families cannot be delimited without
                    // understanding them; keep the rest raw.
                    let rest = r.rest();
                    return Ok(Rib {
                        sequence,
                        afi,
                        safi,
                        prefix: None,
                        nlri: rest,
                        entry_count: 0,
                        add_path,
                        entries: &[],
                        entries_offset: offset + body.len() as u64,
                    });
                }
            }
            _ => return Err(Error::bad_value("RIB subtype", u32::from(subtype), offset)),
        };
        let entry_count = r.u16("RIB entry count")?;
        let entries_offset = r.offset();
        let entries = r.rest();
        let add_path = add_path || unlabelled_add_path(entries, entry_count);
        Ok(Rib {
            sequence,
            afi,
            safi,
            prefix,
            nlri,
            entry_count,
            add_path,
            entries,
            entries_offset,
        })
    }

    /// A RIB_IPV4_UNICAST record whose fixed fields are all there, read by
    /// the slice's shape; `None` otherwise (the general path then names
    /// what is wrong).
    ///
    /// # Performance
    /// Field by field through `Reader`, each read carrying its error, this
    /// record (nearly every record of an IPv4 RIB) took 195 instructions
    /// before its entries on the route-views.jinx RIB; the snapshot of that
    /// RIB took 820M instructions in all, 784M read by shape (same bytes).
    #[inline]
    fn ipv4_unicast(body: &'a [u8], offset: u64) -> Option<Rib<'a>> {
        let (&[s0, s1, s2, s3, bits], rest) = body.split_first_chunk::<5>()?;
        if bits > 32 {
            return None;
        }
        let n = usize::from(bits).div_ceil(8);
        let (p, rest) = rest.split_at_checked(n)?;
        let (&count, entries) = rest.split_first_chunk::<2>()?;
        let entry_count = u16::from_be_bytes(count);
        Some(Rib {
            sequence: u32::from_be_bytes([s0, s1, s2, s3]),
            afi: AFI_IPV4,
            safi: 1,
            prefix: Prefix::v4(ipv4_bits(p), bits),
            nlri: &[],
            entry_count,
            add_path: unlabelled_add_path(entries, entry_count),
            entries,
            entries_offset: offset + (5 + n + 2) as u64,
        })
    }

    /// The raw entries (everything after the entry count) and the absolute
    /// offset of their first byte, for callers that walk them in bulk.
    pub fn raw_entries(&self) -> (&'a [u8], u64) {
        (self.entries, self.entries_offset)
    }

    /// The record's only entry, when it has one and it fills the record
    /// exactly (what [`Rib::entries`] would yield alone, without an error).
    ///
    /// # Performance
    /// Nearly every record of a RIB with about one route per prefix (the
    /// route-views.jinx RIB) is such a record; read from the slice, not
    /// through the entry iterator or the snapshot's entry table.
    #[inline]
    pub fn only_entry(&self) -> Option<RibEntry<'a>> {
        if self.entry_count != 1 {
            return None;
        }
        let head = if self.add_path { 12 } else { 8 };
        let (h, attrs) = self.entries.split_at_checked(head)?;
        let (&[p0, p1, o0, o1, o2, o3], &[l0, l1]) = (h.first_chunk::<6>()?, h.last_chunk::<2>()?);
        let path_id = match h.get(6..10) {
            Some(&[a, b, c, d]) if self.add_path => Some(u32::from_be_bytes([a, b, c, d])),
            _ => None,
        };
        (usize::from(u16::from_be_bytes([l0, l1])) == attrs.len()).then_some(RibEntry {
            peer_index: u16::from_be_bytes([p0, p1]),
            originated: u32::from_be_bytes([o0, o1, o2, o3]),
            path_id,
            attrs,
            attrs_offset: self.entries_offset + head as u64,
        })
    }

    /// Iterate over the entries. Stops after the first error.
    pub fn entries(&self) -> RibEntries<'a> {
        RibEntries {
            r: Reader::new(self.entries, self.entries_offset),
            left: self.entry_count,
            add_path: self.add_path,
        }
    }
}

/// Iterator over the entries of a [`Rib`].
#[derive(Clone, Debug)]
pub struct RibEntries<'a> {
    r: Reader<'a>,
    left: u16,
    add_path: bool,
}

impl<'a> Iterator for RibEntries<'a> {
    type Item = Result<RibEntry<'a>>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let e = read_entry(&mut self.r, self.add_path);
        self.left = if e.is_ok() { self.left - 1 } else { 0 };
        Some(e)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(usize::from(self.left)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RIB_IPV4_UNICAST read by the slice's shape gives what the same
    /// record as RIB_GENERIC (AFI 1, SAFI 1) gives through `Reader`, for
    /// every prefix length and with each tail byte cut; a damaged record
    /// is an error either way.
    #[test]
    fn ipv4_unicast_by_shape_agrees_with_generic() {
        let entry = [0, 3, 0, 0, 0, 9, 0, 4, 0x40, 1, 1, 0];
        for bits in 0..=33u8 {
            let n = usize::from(bits).div_ceil(8);
            let mut body = vec![0, 0, 1, 2, bits];
            body.extend((0..n as u8).map(|i| 0xc0 | i));
            body.extend_from_slice(&[0, 1]);
            body.extend_from_slice(&entry);
            let mut generic = body[..4].to_vec();
            generic.extend_from_slice(&[0, 1, 1]);
            generic.extend_from_slice(&body[4..]);
            for cut in 0..=body.len() {
                let a = Rib::parse(2, &body[..cut], 100);
                let b = Rib::parse(6, &generic[..if cut < 4 { cut } else { cut + 3 }], 97);
                match (a, b) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!((a.sequence, a.afi, a.safi, a.prefix), (b.sequence, b.afi, b.safi, b.prefix));
                        assert_eq!((a.entry_count, a.add_path), (b.entry_count, b.add_path));
                        assert_eq!((a.raw_entries(), a.nlri), (b.raw_entries(), b.nlri), "bits {bits} cut {cut}");
                    }
                    // Past the sequence number both name the same byte.
                    (Err(a), Err(b)) => assert!(cut < 4 || a.offset() == b.offset(), "bits {bits} cut {cut}"),
                    (a, b) => panic!("bits {bits} cut {cut}: {a:?} against {b:?}"),
                }
            }
            assert_eq!(Rib::parse(2, &body, 0).is_ok(), bits <= 32);
        }
    }

    /// RFC 6396 §4.3.1: collector id, view name, peer count, peers.
    #[test]
    fn peer_table() {
        let mut b = vec![10, 0, 0, 1, 0, 2, b'v', b'1', 0, 2];
        b.extend_from_slice(&[0, 1, 1, 1, 1, 192, 0, 2, 1, 0xfd, 0xe8]);
        b.extend_from_slice(&[3, 2, 2, 2, 2]);
        b.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        b.extend_from_slice(&70000u32.to_be_bytes());
        let t = PeerTable::parse(&b, 0).unwrap();
        assert_eq!(t.view_name, "v1");
        assert_eq!(t.peers.len(), 2);
        assert_eq!(t.peers[0].asn, 65000);
        assert_eq!(t.peers[1].addr.to_string(), "2001:db8::1");
        assert_eq!(t.peers[1].asn, 70000);
        for cut in 0..b.len() {
            assert!(PeerTable::parse(&b[..cut], 0).is_err(), "cut {cut}");
        }
        // A count far larger than the body must not allocate for it.
        let huge = [10, 0, 0, 1, 0, 0, 0xff, 0xff];
        assert!(PeerTable::parse(&huge, 0).is_err());
    }

    #[test]
    fn rib_record_and_add_path_detection() {
        let attrs = [0x40u8, 1, 1, 0];
        let mut b = vec![0, 0, 0, 7, 24, 192, 0, 2, 0, 1];
        b.extend_from_slice(&[0, 3, 0, 0, 0, 9]);
        let plain_len = b.len();
        b.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        b.extend_from_slice(&attrs);
        let rib = Rib::parse(2, &b, 0).unwrap();
        assert_eq!(rib.sequence, 7);
        assert_eq!(rib.prefix.unwrap().to_string(), "192.0.2.0/24");
        let e: Vec<_> = rib.entries().map(|e| e.unwrap()).collect();
        assert_eq!((e[0].peer_index, e[0].originated, e[0].path_id), (3, 9, None));
        assert_eq!(e[0].parse_attrs(AFI_IPV4).unwrap().origin, Some(0));
        // The same entry with a path id, in a subtype that does not say so.
        let mut ap = b[..plain_len].to_vec();
        ap.extend_from_slice(&[0, 0, 0, 5]);
        ap.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        ap.extend_from_slice(&attrs);
        let rib = Rib::parse(2, &ap, 0).unwrap();
        assert!(rib.add_path);
        assert_eq!(rib.entries().next().unwrap().unwrap().path_id, Some(5));
        for cut in 0..b.len() {
            let ok = Rib::parse(2, &b[..cut], 0).map(|r| r.entries().all(|e| e.is_ok()));
            assert!(!matches!(ok, Ok(true)), "cut {cut}");
        }
    }
}

/// One peer of a GEO_PEER_TABLE (RFC 6397).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeoPeer {
    /// BGP identifier.
    pub bgp_id: Ipv4Addr,
    /// Peer address.
    pub addr: IpAddr,
    /// Peer AS.
    pub asn: u32,
    /// Latitude in degrees (NaN when unknown).
    pub latitude: f32,
    /// Longitude in degrees (NaN when unknown).
    pub longitude: f32,
}

/// The GEO_PEER_TABLE (RFC 6397 §3): collector and peer locations.
#[derive(Clone, Debug, PartialEq)]
pub struct GeoPeerTable {
    /// Collector BGP identifier.
    pub collector_id: Ipv4Addr,
    /// Collector latitude.
    pub latitude: f32,
    /// Collector longitude.
    pub longitude: f32,
    /// Peers.
    pub peers: Vec<GeoPeer>,
}

impl GeoPeerTable {
    /// Decode a GEO_PEER_TABLE body.
    pub fn parse(body: &[u8], offset: u64) -> Result<GeoPeerTable> {
        let mut r = Reader::new(body, offset);
        let f32be = |r: &mut Reader<'_>, what| r.u32(what).map(f32::from_bits);
        let collector_id = Ipv4Addr::from(*r.array::<4>("collector BGP ID")?);
        let latitude = f32be(&mut r, "collector latitude")?;
        let longitude = f32be(&mut r, "collector longitude")?;
        let count = r.u16("peer count")?;
        let mut peers = Vec::with_capacity(usize::from(count).min(r.remaining() / 17));
        for _ in 0..count {
            let (bgp_id, addr, asn) = read_peer(&mut r)?;
            peers.push(GeoPeer {
                bgp_id,
                addr,
                asn,
                latitude: f32be(&mut r, "peer latitude")?,
                longitude: f32be(&mut r, "peer longitude")?,
            });
        }
        Ok(GeoPeerTable {
            collector_id,
            latitude,
            longitude,
            peers,
        })
    }
}

#[cfg(test)]
mod geo_tests {
    use super::*;

    /// RFC 6397 §3: collector id and location, then peers with locations.
    #[test]
    fn geo_peer_table() {
        let mut b = vec![10, 0, 0, 1];
        b.extend_from_slice(&52.5f32.to_bits().to_be_bytes());
        b.extend_from_slice(&13.25f32.to_bits().to_be_bytes());
        b.extend_from_slice(&[0, 1, 2, 1, 1, 1, 1, 192, 0, 2, 1, 0, 1, 0x11, 0x70]);
        b.extend_from_slice(&(-33.5f32).to_bits().to_be_bytes());
        b.extend_from_slice(&f32::NAN.to_bits().to_be_bytes());
        let g = GeoPeerTable::parse(&b, 0).unwrap();
        assert_eq!((g.latitude, g.longitude), (52.5, 13.25));
        assert_eq!(g.peers[0].asn, 70000);
        assert_eq!(g.peers[0].addr.to_string(), "192.0.2.1");
        assert_eq!(g.peers[0].latitude, -33.5);
        assert!(g.peers[0].longitude.is_nan());
        for cut in 0..b.len() {
            assert!(GeoPeerTable::parse(&b[..cut], 0).is_err());
        }
    }
}
