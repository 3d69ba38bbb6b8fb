//! MRT records and BGP values written by hand: the one builder behind the
//! unit tests, the integration tests, the fuzz targets and the generator
//! (`synth` writes its records with the appending forms here).
//!
//! Nothing here validates: a test that wants a damaged record passes the
//! damage in. The value forms (`mrt`, `bgp`, `attr`, ...) return a new
//! buffer; the appending forms (`start_mrt`/`finish_mrt`, `attr_hdr`,
//! `put_u16`, `put_u32`) write into one, for the generator's hot loops.
//!
//! # Example
//! A BGP4MP MESSAGE_AS4 record announcing 192.0.2.0/24 with AS path
//! `65001 65002`:
//! ```
//! use mrtsnap::bgp::as_path::AS_SEQUENCE;
//! use mrtsnap::bgp::attr::{code, FLAG_TRANSITIVE};
//! use mrtsnap::mrt::{code::BGP4MP, subtype::MESSAGE_AS4};
//! use mrtsnap::testkit::{attr, bgp4mp_as4, mrt, seg, update};
//!
//! let attrs = [
//!     attr(FLAG_TRANSITIVE, code::ORIGIN, &[0]),
//!     attr(FLAG_TRANSITIVE, code::AS_PATH, &seg(AS_SEQUENCE, &[65001, 65002], 4)),
//!     attr(FLAG_TRANSITIVE, code::NEXT_HOP, &[10, 0, 0, 1]),
//! ]
//! .concat();
//! let body = bgp4mp_as4((65001, [10, 0, 0, 1]), (65002, [10, 0, 0, 2]), &update(&[], &attrs, &[24, 192, 0, 2]));
//! let record = mrt(1_577_836_800, BGP4MP, MESSAGE_AS4, &body);
//! let src = mrtsnap::Source::from_bytes("update.mrt", record);
//! let mut n = 0;
//! mrtsnap::routes::for_each_route(&src, Default::default(), |_| n += 1)?;
//! assert_eq!(n, 1);
//! # Ok::<(), mrtsnap::Error>(())
//! ```

use crate::bgp::attr::FLAG_EXTENDED;
use crate::bgp::message::BGP_HEADER_LEN;
use crate::mrt::HEADER_LEN;

/// Append a big-endian `u16`.
#[inline]
pub fn put_u16(buf: &mut Vec<u8>, v: u16) {
    buf.extend_from_slice(&v.to_be_bytes());
}

/// Append a big-endian `u32`.
#[inline]
pub fn put_u32(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_be_bytes());
}

/// Overwrite the big-endian `u16` at `pos` (a length written after what it
/// counts); nothing when `buf` is too short.
#[inline]
pub fn patch_u16(buf: &mut [u8], pos: usize, v: u16) {
    if let Some(field) = buf.get_mut(pos..pos + 2) {
        field.copy_from_slice(&v.to_be_bytes());
    }
}

/// Append an MRT common header with a zero length; returns where it starts,
/// for [`finish_mrt`] to fill the length in.
#[inline]
pub fn start_mrt(buf: &mut Vec<u8>, ts: u32, mrt_type: u16, subtype: u16) -> usize {
    let pos = buf.len();
    put_u32(buf, ts);
    put_u16(buf, mrt_type);
    put_u16(buf, subtype);
    put_u32(buf, 0);
    pos
}

/// Fill in the length of the record whose header starts at `hdr`: every
/// byte after the header up to the end of `buf` (a length over `u32::MAX`
/// is cut, as the field is).
#[inline]
pub fn finish_mrt(buf: &mut [u8], hdr: usize) {
    let len = buf.len().saturating_sub(hdr + HEADER_LEN) as u32;
    if let Some(field) = buf.get_mut(hdr + 8..hdr + 12) {
        field.copy_from_slice(&len.to_be_bytes());
    }
}

/// Append a path attribute header (flags, type, length), in the extended
/// length form when `flags` asks for it or `len` needs it.
#[inline]
pub fn attr_hdr(buf: &mut Vec<u8>, flags: u8, code: u8, len: usize) {
    if len > 255 || flags & FLAG_EXTENDED != 0 {
        buf.push(flags | FLAG_EXTENDED);
        buf.push(code);
        put_u16(buf, len as u16);
    } else {
        buf.push(flags);
        buf.push(code);
        buf.push(len as u8);
    }
}

/// An MRT record: common header (its length that of `body`), then `body`
/// (for `_ET` types the body starts with the microsecond field).
pub fn mrt(ts: u32, mrt_type: u16, subtype: u16, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(HEADER_LEN + body.len());
    let hdr = start_mrt(&mut v, ts, mrt_type, subtype);
    v.extend_from_slice(body);
    finish_mrt(&mut v, hdr);
    v
}

/// A BGP message: marker, length, type, body.
pub fn bgp(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xff; 16];
    put_u16(&mut v, (BGP_HEADER_LEN + body.len()) as u16);
    v.push(msg_type);
    v.extend_from_slice(body);
    v
}

/// A path attribute (see [`attr_hdr`] for the length form).
pub fn attr(flags: u8, code: u8, value: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + value.len());
    attr_hdr(&mut v, flags, code, value.len());
    v.extend_from_slice(value);
    v
}

/// An AS path segment of `asn_len`-byte ASNs (2 or 4; a 2-byte ASN keeps
/// the low 16 bits).
pub fn seg(kind: u8, asns: &[u32], asn_len: u8) -> Vec<u8> {
    let mut v = vec![kind, asns.len() as u8];
    for a in asns {
        if asn_len == 4 {
            put_u32(&mut v, *a);
        } else {
            put_u16(&mut v, *a as u16);
        }
    }
    v
}

/// An UPDATE body: withdrawn routes, attributes, NLRI (each already encoded).
pub fn update(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + withdrawn.len() + attrs.len() + nlri.len());
    put_u16(&mut v, withdrawn.len() as u16);
    v.extend_from_slice(withdrawn);
    put_u16(&mut v, attrs.len() as u16);
    v.extend_from_slice(attrs);
    v.extend_from_slice(nlri);
    v
}

/// Every byte string of up to `max_len` bytes drawn from `alphabet`,
/// shortest first: the inputs of exhaustive agreement tests between a
/// fast reader and the field-by-field one.
///
/// # Example
/// ```
/// let all: Vec<Vec<u8>> = mrtsnap::testkit::byte_strings(&[0, 9], 2).collect();
/// assert_eq!(all, [vec![], vec![0], vec![9], vec![0, 0], vec![9, 0], vec![0, 9], vec![9, 9]]);
/// ```
pub fn byte_strings(alphabet: &[u8], max_len: u32) -> impl Iterator<Item = Vec<u8>> + '_ {
    (0..=max_len).flat_map(move |len| {
        (0..alphabet.len().pow(len)).map(move |i| {
            let mut k = i;
            (0..len)
                .map(|_| {
                    let b = alphabet.get(k % alphabet.len()).copied().unwrap_or(0);
                    k /= alphabet.len();
                    b
                })
                .collect()
        })
    })
}

/// The body of a BGP4MP MESSAGE_AS4 record over IPv4 carrying an UPDATE:
/// `(AS, address)` of the peer and of the local side, interface 0.
pub fn bgp4mp_as4(peer: (u32, [u8; 4]), local: (u32, [u8; 4]), update_body: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    put_u32(&mut v, peer.0);
    put_u32(&mut v, local.0);
    put_u16(&mut v, 0);
    put_u16(&mut v, crate::bgp::nlri::AFI_IPV4);
    v.extend_from_slice(&peer.1);
    v.extend_from_slice(&local.1);
    v.extend(bgp(crate::bgp::message::UPDATE, update_body));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        assert_eq!(mrt(1, 16, 4, &[9, 9]), [0, 0, 0, 1, 0, 16, 0, 4, 0, 0, 0, 2, 9, 9]);
        assert_eq!(bgp(4, &[]), [[0xff; 16].as_slice(), &[0, 19, 4]].concat());
        assert_eq!(attr(0x40, 1, &[0]), [0x40, 1, 1, 0]);
        assert_eq!(attr(0x50, 1, &[0]), [0x50, 1, 0, 1, 0]);
        assert_eq!(attr(0x40, 8, &[0; 300])[..4], [0x50, 8, 1, 44]);
        assert_eq!(seg(2, &[1, 70000], 4), [2, 2, 0, 0, 0, 1, 0, 1, 0x11, 0x70]);
        assert_eq!(seg(1, &[1, 70000], 2), [1, 2, 0, 1, 0x11, 0x70]);
        assert_eq!(update(&[8, 10], &[1], &[]), [0, 2, 8, 10, 0, 1, 1]);
    }
}
