//! The origin of a route, straight from its raw attribute block.
//!
//! A full table has tens of millions of RIB entries and the snapshot needs
//! one fact from each: the origin AS. [`Attrs::parse`](crate::bgp::Attrs::parse)
//! decodes every attribute; this walk only hops over the attribute headers,
//! keeps the AS_PATH and AS4_PATH values, and reads the last
//! non-confederation segment of the path, without allocating. It gives the
//! same answer as `Attrs::parse` followed by [`AsPathBuf::merge`] and
//! [`AsPathBuf::origin`] (the rules the dump writer uses), which the tests
//! check:
//!
//! - the attribute block must frame (an attribute running past its end is
//!   an error for the entry, as in `Attrs::parse`);
//! - the last AS_PATH (and AS4_PATH) of the block wins;
//! - an AS_PATH that does not parse with the record's ASN size is tried with
//!   the other size; when neither fits (a segment running past the value, a
//!   lone byte after the last segment, an unknown segment type) the route is
//!   treated as withdrawn (RFC 7606 §7.2, "treat-as-withdraw"): no origin, an
//!   error of kind `malformed-attribute` for the entry. So is a route whose
//!   ORIGIN, NEXT_HOP, MED, LOCAL_PREF, community attributes, ORIGINATOR_ID,
//!   CLUSTER_LIST or ONLY_TO_CUSTOMER has a length RFC 7606 calls malformed
//!   (`attr::withdraws_by_length`, the rule `Attrs::parse` applies, so
//!   `dump` and `stats` report the same error, while printing bgpdump's
//!   line). Segments of length zero, malformed for RFC 7606, are accepted
//!   as `AsPath::parse` accepts them (an empty segment names no AS);
//! - an AS4_PATH that does not parse is dropped as an attribute and counted
//!   as the warning `as4-path-malformed` (RFC 6793 §6: the AS_PATH alone
//!   decides); a valid one is merged with AS_PATH as RFC 6793 §4.2.3 says.
//!   That case is rare (a TABLE_DUMP_V2 path is already 4-byte) and takes
//!   the slow, exact path.

use crate::bgp::as_path::{AsPath, AsPathBuf};
use crate::bgp::attr::{self, code, FLAG_EXTENDED};
use crate::bgp::{Origin, OriginRef, RawAttrs};
use crate::error::{Error, ErrorKind, Result};
use crate::report::Report;
use crate::simd;

/// The entries of one RIB record, located in one pass, and their origins
/// where the batched kernel ([`simd::attr_origins`]) decides them.
///
/// # Performance
/// Profile of `snapshot` before this pass (one thread, generated table of
/// 5.5M entries): `find_origin` + `origin_key` 30% and `read_entry` 13% of
/// the time (the entries walked twice, `find_origin` returning its
/// `Found` through memory). Locating every entry first (one hop per entry
/// over the fixed header) and deciding the common case with a short loop
/// ([`simd::attr_origins`]; its gather versions were slower and dropped)
/// took the snapshot from 318 to 234 ms of CPU on a 341 MB table; the exact
/// [`find_origin`] runs only for the entries the loop flags (AS_SET,
/// confederations, AS4_PATH, damage: 0.3% of a real table's entries).
#[derive(Clone, Debug, Default)]
pub(crate) struct EntryTable {
    /// PEER_INDEX_TABLE index of each entry.
    pub(crate) peers: Vec<u16>,
    /// Start of each entry's attribute block in the record's entry bytes.
    pub(crate) starts: Vec<u32>,
    /// End of each entry's attribute block.
    pub(crate) ends: Vec<u32>,
    /// The origin found by the kernel (when `ok`).
    pub(crate) asns: Vec<u32>,
    /// 1 where the kernel decided the origin.
    pub(crate) ok: Vec<u8>,
}

impl EntryTable {
    /// Locate `count` entries in `data` (a RIB record's entries, with path
    /// identifiers when `add_path`). True when they use exactly all of its
    /// bytes: then `rib.entries()` would yield exactly these entries and no
    /// error. False otherwise (the caller takes the entry iterator, which
    /// reports the damage).
    pub(crate) fn locate(&mut self, data: &[u8], count: u16, add_path: bool) -> bool {
        self.peers.clear();
        self.starts.clear();
        self.ends.clear();
        if data.len() > u32::MAX as usize {
            return false;
        }
        let head = if add_path { 12 } else { 8 };
        let mut pos = 0usize;
        for _ in 0..count {
            let Some(h) = data.get(pos..pos + head) else { return false };
            let (Some(peer), Some(len)) = (h.first_chunk::<2>(), h.last_chunk::<2>()) else {
                return false;
            };
            let start = pos + head;
            let end = start + usize::from(u16::from_be_bytes(*len));
            if end > data.len() {
                return false;
            }
            self.peers.push(u16::from_be_bytes(*peer));
            self.starts.push(start as u32);
            self.ends.push(end as u32);
            pos = end;
        }
        pos == data.len()
    }

    /// Run the origin kernel over the located entries of `data`.
    pub(crate) fn origins(&mut self, data: &[u8]) {
        let n = self.starts.len();
        self.asns.clear();
        self.asns.resize(n, 0);
        self.ok.clear();
        self.ok.resize(n, 0);
        simd::attr_origins(data, &self.starts, &self.ends, &mut self.asns, &mut self.ok);
    }
}

/// An origin found by [`find_origin`].
#[derive(Clone, Debug)]
pub(crate) enum Found<'a> {
    /// The origin of the AS_PATH, borrowed from it (no AS4_PATH to merge).
    Path(OriginRef<'a>),
    /// The result of an AS4_PATH merge (owned; rare).
    Merged(Origin),
}

/// The error `RawAttrs` gives for a block that does not frame.
#[cold]
#[inline(never)]
fn framing_error(attrs: &[u8], offset: u64) -> Error {
    RawAttrs::new(attrs, offset).find_map(|a| a.err()).unwrap_or_else(|| {
        Error::new(
            ErrorKind::Truncated {
                what: "path attribute",
                needed: 1,
                available: 0,
            },
            offset,
        )
    })
}

/// Find the origin of the route whose attribute block is `attrs` (at
/// absolute `offset`), its AS_PATH made of `asn_len`-byte ASNs (4 in
/// TABLE_DUMP_V2, 2 in TABLE_DUMP). `path` is scratch space for the rare
/// AS4_PATH merge; a dropped AS4_PATH is counted as a warning in `report`.
///
/// # Errors
/// When the block does not frame (an attribute runs past its end), and
/// [`ErrorKind::MalformedAttribute`] (at the attribute's header) when an
/// attribute that makes its route treat-as-withdraw under RFC 7606 is
/// malformed (an AS_PATH occurrence whose segments do not parse, or a
/// fixed-size attribute of the wrong length: [`attr::withdraws_by_length`],
/// the rule `Attrs::parse` applies): the route is withdrawn, not given an
/// origin.
pub(crate) fn find_origin<'a>(attrs: &'a [u8], offset: u64, asn_len: u8, path: &mut AsPathBuf, report: &mut Report) -> Result<Found<'a>> {
    // As in `Attrs::parse`, the last occurrence wins; a malformed AS4_PATH
    // is dropped (and counted), a malformed AS_PATH withdraws the route.
    let mut as_path: Option<(&'a [u8], OriginRef<'a>, u8)> = None;
    let mut as4_path: Option<&'a [u8]> = None;
    let mut withdraw: Option<(u8, u64)> = None;
    let other = if asn_len == 4 { 2 } else { 4 };
    // Hop over the attribute headers by hand: this loop runs once per
    // attribute of every RIB entry and is most of the snapshot's decoding
    // time; `RawAttrs` (with its error bookkeeping) only runs to describe a
    // block that does not frame.
    let mut rest = attrs;
    while let [flags, code, tail @ ..] = rest {
        let (len, tail) = match (flags & FLAG_EXTENDED != 0, tail) {
            (true, [a, b, t @ ..]) => (usize::from(u16::from_be_bytes([*a, *b])), t),
            (false, [a, t @ ..]) => (usize::from(*a), t),
            _ => return Err(framing_error(attrs, offset)),
        };
        let Some((value, tail)) = tail.split_at_checked(len) else {
            return Err(framing_error(attrs, offset));
        };
        match *code {
            code::AS_PATH => match AsPath::checked_origin(value, asn_len) {
                Some(f) => as_path = Some((value, f, asn_len)),
                None => match AsPath::checked_origin(value, other) {
                    Some(f) => as_path = Some((value, f, other)),
                    // `rest` still starts at this attribute's header.
                    None => {
                        let at = offset + (attrs.len() - rest.len()) as u64;
                        withdraw = withdraw.or(Some((*code, at)));
                    }
                },
            },
            code::AS4_PATH => {
                if AsPath::fits(value, 4) {
                    as4_path = Some(value);
                } else {
                    report.warn("as4-path-malformed", 1);
                }
            }
            c if attr::withdraws_by_length(c, len) => {
                let at = offset + (attrs.len() - rest.len()) as u64;
                withdraw = withdraw.or(Some((c, at)));
            }
            _ => {}
        }
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(framing_error(attrs, offset));
    }
    if let Some((code, at)) = withdraw {
        return Err(Error::new(
            ErrorKind::MalformedAttribute {
                code,
                name: attr::name(code),
            },
            at,
        ));
    }
    let Some((v, found, len)) = as_path else {
        return Ok(Found::Path(OriginRef::None));
    };
    let Some(v4) = as4_path else { return Ok(Found::Path(found)) };
    let (Ok(p), Ok(p4)) = (AsPath::parse(v, 0, len), AsPath::parse(v4, 0, 4)) else {
        return Ok(Found::Path(found));
    };
    path.merge(&p, &p4);
    Ok(Found::Merged(path.origin()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::as_path::{AS_CONFED_SEQUENCE, AS_SEQUENCE, AS_SET};
    use crate::bgp::attr::AttrContext;
    use crate::bgp::Attrs;
    use crate::testkit::seg;

    /// A transitive attribute (the extended length form when it needs it).
    pub(super) fn attr(code: u8, v: &[u8]) -> Vec<u8> {
        crate::testkit::attr(0x40, code, v)
    }

    /// The slow, reference answer: what the dump writer derives.
    fn reference(block: &[u8], asn_len: u8) -> Option<Origin> {
        let a = Attrs::parse(block, 0, AttrContext { asn_len, rib_afi: None }).ok()?;
        if a.withdraw.is_some() {
            return None;
        }
        let mut pb = AsPathBuf::new();
        match (a.as_path, a.as4_path) {
            (Some(p), Some(p4)) => pb.merge(&p, &p4),
            (Some(p), None) => pb.load(&p),
            (None, _) => pb.clear(),
        }
        Some(pb.origin())
    }

    fn fast(block: &[u8], asn_len: u8) -> Option<Origin> {
        let mut pb = AsPathBuf::new();
        let mut rep = Report::default();
        let f = find_origin(block, 0, asn_len, &mut pb, &mut rep).ok()?;
        Some(match f {
            Found::Path(o) => Origin::from(o),
            Found::Merged(o) => o,
        })
    }

    /// Wherever the batched kernel decides an origin, it is the one
    /// `find_origin` gives.
    #[test]
    fn kernel_agrees_with_find_origin() {
        let mut blocks: Vec<Vec<u8>> = vec![
            [attr(1, &[0]), attr(2, &seg(AS_SEQUENCE, &[1, 2, 3], 4)), attr(3, &[1, 2, 3, 4])].concat(),
            [attr(2, &seg(AS_SEQUENCE, &[7], 4)), attr(8, &[0; 300])].concat(),
            [attr(2, &seg(AS_SEQUENCE, &[1], 4)), attr(2, &seg(AS_SEQUENCE, &[2], 4))].concat(),
            [attr(2, &seg(AS_SEQUENCE, &[1, 2], 4)), attr(17, &seg(AS_SEQUENCE, &[2], 4))].concat(),
            attr(2, &[seg(AS_SEQUENCE, &[1, 2], 4), seg(AS_SET, &[9, 7], 4)].concat()),
            attr(2, &seg(AS_SEQUENCE, &[], 4)),
            attr(2, &seg(AS_SEQUENCE, &[100, 200], 2)),
            [attr(2, &seg(AS_SEQUENCE, &[5], 4)), vec![0x40]].concat(),
            vec![],
        ];
        blocks.push([attr(6, &[]), attr(2, &seg(AS_SEQUENCE, &[u32::MAX], 4)), attr(6, &[])].concat());
        // Malformed AS_PATHs (treat-as-withdraw) are left to `find_origin`.
        blocks.push(attr(2, &[2, 255]));
        blocks.push(attr(2, &[seg(AS_SEQUENCE, &[1, 2], 4), vec![2]].concat()));
        blocks.push(attr(2, &[2, 2, 0, 0, 0, 1]));
        let mut buf = Vec::new();
        let (mut starts, mut ends) = (Vec::new(), Vec::new());
        for b in &blocks {
            starts.push(buf.len() as u32);
            buf.extend_from_slice(b);
            ends.push(buf.len() as u32);
        }
        let n = blocks.len();
        let (mut asns, mut ok) = (vec![0; n], vec![0; n]);
        simd::attr_origins(&buf, &starts, &ends, &mut asns, &mut ok);
        assert_eq!(ok, [1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
        for (i, b) in blocks.iter().enumerate() {
            if ok[i] == 1 {
                assert_eq!(fast(b, 4), Some(Origin::Asn(asns[i])), "block {i}");
            }
        }
        assert_eq!((asns[0], asns[1], asns[9]), (3, 7, u32::MAX));
    }

    /// The one-block rule for either ASN size decides only what
    /// `find_origin` gives the same answer for.
    #[test]
    fn one_block_rule_agrees_with_find_origin() {
        let blocks: Vec<(Vec<u8>, u8, Option<u32>)> = vec![
            (
                [attr(1, &[0]), attr(2, &seg(AS_SEQUENCE, &[1, 2, 65535], 2))].concat(),
                2,
                Some(65535),
            ),
            (attr(2, &seg(AS_SEQUENCE, &[1, 2, 3], 4)), 4, Some(3)),
            // A 4-byte path read as 2-byte ASNs has twice the bytes it
            // declares: left to the exact walk (which tries the other size).
            (attr(2, &seg(AS_SEQUENCE, &[1, 70000], 4)), 2, None),
            (attr(2, &seg(AS_SEQUENCE, &[100, 200], 2)), 4, None),
            (attr(2, &[seg(AS_SEQUENCE, &[1], 2), seg(AS_SET, &[9, 7], 2)].concat()), 2, None),
            (
                [attr(2, &seg(AS_SEQUENCE, &[1], 2)), attr(17, &seg(AS_SEQUENCE, &[7], 4))].concat(),
                2,
                None,
            ),
            (attr(2, &seg(AS_SEQUENCE, &[], 2)), 2, None),
            ([attr(2, &seg(AS_SEQUENCE, &[5], 2)), vec![0x40]].concat(), 2, None),
        ];
        for (i, (b, asn_len, want)) in blocks.iter().enumerate() {
            let got = simd::attr_origin(b, *asn_len);
            assert_eq!(got, *want, "block {i}");
            if let Some(a) = got {
                assert_eq!(fast(b, *asn_len), Some(Origin::Asn(a)), "block {i}");
            }
        }
    }

    #[test]
    fn agrees_with_attrs_parse() {
        let origin_attr = attr(1, &[0]);
        let cases: Vec<(Vec<u8>, u8)> = vec![
            (attr(2, &seg(AS_SEQUENCE, &[1, 2, 3, 3], 4)), 4),
            (
                [attr(2, &seg(AS_SEQUENCE, &[1, 2], 4)), attr(2, &seg(AS_SEQUENCE, &[9], 4))].concat(),
                4,
            ),
            ([seg(AS_SEQUENCE, &[1, 2], 4), seg(AS_SET, &[9, 7, 9], 4)].concat(), 4),
            (
                [
                    seg(AS_SEQUENCE, &[1, 2], 4),
                    seg(AS_SET, &[9, 7], 4),
                    seg(AS_CONFED_SEQUENCE, &[65000], 4),
                ]
                .concat(),
                4,
            ),
            (seg(AS_CONFED_SEQUENCE, &[65000], 4), 4),
            ([seg(AS_SEQUENCE, &[1, 2], 4), seg(AS_SET, &[], 4)].concat(), 4),
            (vec![], 4),
            (seg(AS_SEQUENCE, &[100, 200], 2), 4), // 2-byte path in a 4-byte context
            (seg(AS_SEQUENCE, &[100, 200], 2), 2),
        ]
        .into_iter()
        .map(|(p, l)| {
            if p.first().is_some_and(|&b| b == 0x40) {
                (p, l)
            } else {
                ([origin_attr.clone(), attr(2, &p)].concat(), l)
            }
        })
        .collect();
        let mut all = cases.clone();
        // AS4_PATH merges (RFC 6793 §4.2.3) and a malformed AS4_PATH.
        let as2 = attr(2, &seg(AS_SEQUENCE, &[1, 23456, 23456], 2));
        all.push(([as2.clone(), attr(17, &seg(AS_SEQUENCE, &[70000, 80000], 4))].concat(), 2));
        all.push(([as2.clone(), attr(17, &seg(AS_SET, &[70000, 80000], 4))].concat(), 2));
        all.push(([as2.clone(), attr(17, &seg(AS_SEQUENCE, &[5, 6, 7, 8], 4))].concat(), 2));
        all.push(([as2.clone(), attr(17, &[2, 9, 0])].concat(), 2));
        all.push(([as2.clone(), attr(17, &seg(AS_SET, &[], 4))].concat(), 2));
        all.push(([as2, attr(17, &seg(AS_CONFED_SEQUENCE, &[1], 4))].concat(), 2));
        // Only AS4_PATH: no AS_PATH, no origin.
        all.push((attr(17, &seg(AS_SEQUENCE, &[70000], 4)), 2));
        // Duplicates: the last occurrence wins.
        all.push((
            [attr(2, &seg(AS_SEQUENCE, &[5], 4)), attr(2, &seg(AS_SEQUENCE, &[6], 4))].concat(),
            4,
        ));
        for (block, len) in &all {
            assert_eq!(fast(block, *len), reference(block, *len), "{block:?} asn_len {len}");
        }
        // Broken framing is an error in both.
        let mut broken = all[0].0.clone();
        broken.extend_from_slice(&[0x40, 5, 4, 0]);
        assert_eq!(fast(&broken, 4), None);
        assert_eq!(reference(&broken, 4), None);
        assert_eq!(fast(&all[0].0, 4), Some(Origin::Asn(3)));
        assert_eq!(fast(&all[2].0, 4), Some(Origin::Set(vec![7, 9, 9])));
    }

    use proptest::prelude::*;

    /// One attribute: an AS_PATH or AS4_PATH of 2- or 4-byte segments (few
    /// distinct ASNs, so sets repeat members), a path of random bytes, or
    /// another attribute, its length sometimes one RFC 7606 calls malformed.
    fn arb_attr() -> impl Strategy<Value = Vec<u8>> {
        let path_code = prop_oneof![Just(2u8), Just(17u8)];
        let asn = prop_oneof![1u32..4, any::<u32>()];
        let segs = proptest::collection::vec((1u8..=4, proptest::collection::vec(asn, 0..4)), 0..4);
        prop_oneof![
            (path_code.clone(), segs, any::<bool>()).prop_map(|(c, segs, four)| {
                let len = if four { 4 } else { 2 };
                attr(c, &segs.iter().flat_map(|(k, a)| seg(*k, a, len)).collect::<Vec<u8>>())
            }),
            (path_code, proptest::collection::vec(any::<u8>(), 0..12)).prop_map(|(c, v)| attr(c, &v)),
            (
                proptest::sample::select(vec![1u8, 3, 4, 5, 8, 9, 10, 32, 99]),
                proptest::collection::vec(any::<u8>(), 0..13)
            )
                .prop_map(|(c, v)| attr(c, &v)),
        ]
    }

    proptest! {
        /// The snapshot's own walk (`find_origin`: its attribute header hops
        /// and `AsPath::checked_origin`) gives what `Attrs::parse` and the
        /// `bgp` origin rule give, on generated attribute blocks; both
        /// refuse the same blocks (not framing, or treat-as-withdraw).
        #[test]
        fn find_origin_matches_bgp(
            attrs in proptest::collection::vec(arb_attr(), 0..6),
            tail in proptest::option::of(any::<u8>()),
            four in any::<bool>(),
        ) {
            let mut block = attrs.concat();
            block.extend(tail);
            let asn_len = if four { 4 } else { 2 };
            prop_assert_eq!(fast(&block, asn_len), reference(&block, asn_len), "{:?}", block);
        }
    }
}

#[cfg(test)]
mod withdraw_tests {
    use super::tests::attr;
    use super::*;
    use crate::bgp::as_path::AS_SEQUENCE;

    /// `find_origin` of `block` at offset 1000: the error's kind name and
    /// offset, or the origin, with the warnings counted.
    fn origin(block: &[u8], asn_len: u8) -> (std::result::Result<Origin, (&'static str, u64)>, u64) {
        let mut pb = AsPathBuf::new();
        let mut rep = Report::default();
        let r = match find_origin(block, 1000, asn_len, &mut pb, &mut rep) {
            Ok(Found::Path(o)) => Ok(Origin::from(o)),
            Ok(Found::Merged(o)) => Ok(o),
            Err(e) => Err((e.kind().name(), e.offset())),
        };
        (r, rep.warnings.values().sum())
    }

    /// RFC 7606 §7.2: a malformed AS_PATH withdraws the route (an error at
    /// the attribute); RFC 6793 §6: a malformed AS4_PATH is dropped (a
    /// warning) and the AS_PATH alone decides.
    #[test]
    fn malformed_paths() {
        let origin_attr = attr(1, &[0]);
        let good = attr(2, &[AS_SEQUENCE, 2, 0, 0, 0, 7, 0, 0, 0, 9]);
        let withdrawn = |at| (Err(("malformed-attribute", at)), 0);
        // A segment claiming 255 ASNs with nothing behind it.
        assert_eq!(origin(&[origin_attr.clone(), attr(2, &[2, 255])].concat(), 4), withdrawn(1004));
        assert_eq!(origin(&attr(2, &[2, 255]), 2), withdrawn(1000));
        // Too short for either ASN size, a lone byte after a segment, a bad type.
        assert_eq!(origin(&attr(2, &[2, 5, 0, 1]), 2), withdrawn(1000));
        assert_eq!(origin(&attr(2, &[2, 1, 0, 0, 0, 1, 2]), 4), withdrawn(1000));
        assert_eq!(origin(&attr(2, &[9, 0]), 4), withdrawn(1000));
        // Either occurrence of a repeated AS_PATH.
        assert_eq!(origin(&[good.clone(), attr(2, &[2, 9, 0])].concat(), 4), withdrawn(1013));
        assert_eq!(origin(&[attr(2, &[2, 9, 0]), good.clone()].concat(), 4), withdrawn(1000));
        // A sound AS4_PATH does not rescue it.
        let as4 = attr(17, &[AS_SEQUENCE, 1, 0, 1, 0x11, 0x70]);
        assert_eq!(origin(&[attr(2, &[2, 9, 0]), as4.clone()].concat(), 2), withdrawn(1000));
        // A block that does not frame is that error, not a withdrawal.
        let broken = [attr(2, &[2, 9, 0]), vec![0x40, 5, 4, 0]].concat();
        assert_eq!(origin(&broken, 4).0, Err(("truncated", 1009)));
        // The 2-byte reading of a path in a 4-byte context still counts.
        assert_eq!(origin(&attr(2, &[2, 1, 0, 5]), 4), (Ok(Origin::Asn(5)), 0));
        // Malformed AS4_PATHs: dropped with a warning, AS_PATH decides.
        let as2 = attr(2, &[AS_SEQUENCE, 2, 0, 1, 0x5b, 0xa0]);
        assert_eq!(origin(&[as2.clone(), as4].concat(), 2), (Ok(Origin::Asn(70000)), 0));
        for bad in [&[2, 9, 0][..], &[2, 1, 0, 0, 0, 1, 0], &[7, 1, 0, 0, 0, 1], &[2]] {
            assert_eq!(
                origin(&[as2.clone(), attr(17, bad)].concat(), 2),
                (Ok(Origin::Asn(23456)), 1),
                "{bad:?}"
            );
        }
        assert_eq!(origin(&[good.clone(), attr(17, &[2, 9, 0])].concat(), 4), (Ok(Origin::Asn(9)), 1));
        // Other treat-as-withdraw attributes, by their length: an ORIGIN of
        // two bytes, a NEXT_HOP of three, COMMUNITIES of six.
        for (code, len) in [(1u8, 2usize), (3, 3), (8, 6)] {
            let bad = attr(code, &vec![0; len]);
            assert_eq!(origin(&[good.clone(), bad].concat(), 4), withdrawn(1013), "{code}");
        }
        let fine = [attr(1, &[0]), attr(3, &[10, 0, 0, 1]), attr(8, &[0; 8]), good].concat();
        assert_eq!(origin(&fine, 4), (Ok(Origin::Asn(9)), 0));
    }
}
