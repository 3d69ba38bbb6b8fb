//! AS_PATH and AS4_PATH (RFC 4271 §4.3, RFC 5065, RFC 6793).
//!
//! ```text
//! +------------------+------------------+---------------------------+
//! | segment type (1) | segment len (1)  | len × ASN (2 or 4 bytes)  | ...
//! +------------------+------------------+---------------------------+
//! ```

use crate::cursor::Reader;
use crate::error::{Error, Result};

/// AS_SET.
pub const AS_SET: u8 = 1;
/// AS_SEQUENCE.
pub const AS_SEQUENCE: u8 = 2;
/// AS_CONFED_SEQUENCE.
pub const AS_CONFED_SEQUENCE: u8 = 3;
/// AS_CONFED_SET.
pub const AS_CONFED_SET: u8 = 4;
/// AS_TRANS, the 2-byte stand-in for a 4-byte AS number (RFC 6793 §9).
pub const AS_TRANS: u32 = 23456;

/// An AS_PATH (or AS4_PATH) attribute value, borrowed from the input.
#[derive(Clone, Copy, Debug)]
pub struct AsPath<'a> {
    data: &'a [u8],
    offset: u64,
    asn_len: u8,
}

/// One path segment.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    kind: u8,
    asns: &'a [u8],
    asn_len: u8,
}

impl<'a> Segment<'a> {
    /// The segment type (1 = AS_SET, 2 = AS_SEQUENCE, 3/4 = confederation).
    #[inline]
    pub fn kind(&self) -> u8 {
        self.kind
    }

    /// Whether this is a confederation segment.
    #[inline]
    pub fn is_confed(&self) -> bool {
        matches!(self.kind, AS_CONFED_SEQUENCE | AS_CONFED_SET)
    }

    /// Number of ASNs.
    #[inline]
    pub fn len(&self) -> usize {
        self.asns.len() / usize::from(self.asn_len.max(1))
    }

    /// Whether the segment is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.asns.is_empty()
    }

    /// The ASNs.
    #[inline]
    pub fn asns(&self) -> impl ExactSizeIterator<Item = u32> + DoubleEndedIterator + 'a {
        let four = self.asn_len == 4;
        let step = if four { 4 } else { 2 };
        self.asns.chunks_exact(step).map(move |c| match c {
            [a, b, c, d] => u32::from_be_bytes([*a, *b, *c, *d]),
            [a, b] => u32::from(u16::from_be_bytes([*a, *b])),
            _ => 0,
        })
    }

    /// The last ASN.
    #[inline]
    pub fn last(&self) -> Option<u32> {
        // Read straight from the end: this runs once per segment of every
        // path whose origin is asked for (the snapshot's exact walk).
        if self.asn_len == 4 {
            self.asns.last_chunk::<4>().map(|b| u32::from_be_bytes(*b))
        } else {
            self.asns.last_chunk::<2>().map(|b| u32::from(u16::from_be_bytes(*b)))
        }
    }
}

impl<'a> AsPath<'a> {
    /// Validate and wrap an AS_PATH value of `asn_len`-byte ASNs (2 or 4).
    pub fn parse(data: &'a [u8], offset: u64, asn_len: u8) -> Result<AsPath<'a>> {
        if !AsPath::fits(data, asn_len) {
            // Walked again to name what is wrong.
            check(data, offset, asn_len)?;
        }
        Ok(AsPath { data, offset, asn_len })
    }

    /// Whether the value parses as `asn_len`-byte ASNs (what
    /// [`AsPath::parse`] accepts).
    ///
    /// # Performance
    /// A walk of the segment headers that builds nothing: `Attrs::parse`
    /// took `AsPath::parse`'s `Result` through memory, and reloading it
    /// stalled (perf: 40% of `Attrs::parse` in `stats` on the RIS 2016
    /// updates file ×40).
    #[inline]
    pub fn fits(data: &[u8], asn_len: u8) -> bool {
        let mut rest = data;
        while let [kind, n, tail @ ..] = rest {
            if !(1..=4).contains(kind) {
                return false;
            }
            match tail.get(usize::from(*n) * usize::from(asn_len)..) {
                Some(t) => rest = t,
                None => return false,
            }
        }
        rest.is_empty()
    }

    /// The path of a value [`AsPath::fits`] accepted.
    #[inline]
    pub(crate) fn fitted(data: &'a [u8], offset: u64, asn_len: u8) -> AsPath<'a> {
        AsPath { data, offset, asn_len }
    }

    /// An empty path.
    pub fn empty() -> AsPath<'static> {
        AsPath {
            data: &[],
            offset: 0,
            asn_len: 4,
        }
    }

    /// Size of one ASN in bytes.
    pub fn asn_len(&self) -> u8 {
        self.asn_len
    }

    /// The raw attribute value.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.data
    }

    /// Absolute offset of the value.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Iterate over the segments.
    pub fn segments(&self) -> Segments<'a> {
        Segments {
            data: self.data,
            asn_len: self.asn_len,
        }
    }

    /// The path length as RFC 4271 §9.1.2.2 counts it: an AS_SET counts as
    /// one, confederation segments not at all.
    pub fn count(&self) -> usize {
        self.segments()
            .map(|s| match s.kind {
                AS_SEQUENCE => s.len(),
                AS_SET => 1,
                _ => 0,
            })
            .sum()
    }

    /// The origin: the last segment that is not a confederation segment
    /// decides; an AS_SEQUENCE gives its last ASN, an AS_SET the set (see
    /// [`Origin`] for the order of its members).
    pub fn origin(&self) -> OriginRef<'a> {
        origin_ref(self.segments())
    }

    /// Validate the value as a path of `asn_len`-byte ASNs and find its
    /// origin, in one pass: `None` where [`AsPath::parse`] fails. The
    /// snapshot's exact walk calls this once per entry it cannot decide
    /// with its batched kernel.
    #[inline]
    pub(crate) fn checked_origin(data: &'a [u8], asn_len: u8) -> Option<OriginRef<'a>> {
        let mut o = Decided::None;
        let mut rest = data;
        while let Some((&kind, tail)) = rest.split_first() {
            let (&n, tail) = tail.split_first()?;
            let (asns, tail) = tail.split_at_checked(usize::from(n) * usize::from(asn_len))?;
            if !(1..=4).contains(&kind) {
                return None;
            }
            let s = Segment { kind, asns, asn_len };
            o.step(kind, s.last(), s);
            rest = tail;
        }
        Some(o.into())
    }
}

/// [`AsPath::fits`] segment by segment, naming what is wrong.
#[cold]
fn check(data: &[u8], offset: u64, asn_len: u8) -> Result<()> {
    let mut r = Reader::new(data, offset);
    while !r.is_empty() {
        let at = r.offset();
        let kind = r.u8("AS_PATH segment type")?;
        if !(1..=4).contains(&kind) {
            return Err(Error::bad_value("AS_PATH segment type", u32::from(kind), at));
        }
        let n = r.u8("AS_PATH segment length")?;
        r.take(usize::from(n) * usize::from(asn_len), "AS_PATH segment")?;
    }
    Ok(())
}

/// The origin rule, the one place it is written: the last AS_SEQUENCE or
/// AS_SET that holds an ASN decides (confederation segments and empty
/// segments do not count); an AS_SEQUENCE gives its last ASN, an AS_SET
/// itself. `head` tells a segment's type and last ASN, whatever form the
/// segments take (wire, merged, owned).
#[inline]
fn decide<S>(segs: impl IntoIterator<Item = S>, head: impl Fn(&S) -> (u8, Option<u32>)) -> Decided<S> {
    let mut o = Decided::None;
    for s in segs {
        let (kind, last) = head(&s);
        o.step(kind, last, s);
    }
    o
}

/// What [`decide`] found so far: no origin, one AS, or the deciding AS_SET.
enum Decided<S> {
    None,
    Asn(u32),
    Set(S),
}

impl<S> Decided<S> {
    /// Take the next segment `s` (of type `kind`, last ASN `last`) into account.
    #[inline]
    fn step(&mut self, kind: u8, last: Option<u32>, s: S) {
        match (kind, last) {
            (AS_SEQUENCE, Some(a)) => *self = Decided::Asn(a),
            (AS_SET, Some(_)) => *self = Decided::Set(s),
            _ => {}
        }
    }
}

impl<'a> From<Decided<Segment<'a>>> for OriginRef<'a> {
    #[inline]
    fn from(d: Decided<Segment<'a>>) -> OriginRef<'a> {
        match d {
            Decided::None => OriginRef::None,
            Decided::Asn(a) => OriginRef::Asn(a),
            Decided::Set(s) => OriginRef::Set(s),
        }
    }
}

/// [`decide`] over wire segments.
#[inline]
fn origin_ref<'a>(segs: impl IntoIterator<Item = Segment<'a>>) -> OriginRef<'a> {
    decide(segs, |s| (s.kind, s.last())).into()
}

/// The origin of a path, borrowed from it.
#[derive(Clone, Copy, Debug)]
pub enum OriginRef<'a> {
    /// An empty path, or only confederation segments.
    None,
    /// One origin AS.
    Asn(u32),
    /// The path ends in an AS_SET (members as on the wire; [`Origin::from`]
    /// puts them in the origin's order).
    Set(Segment<'a>),
}

/// Iterator over the segments of a validated [`AsPath`].
#[derive(Clone, Debug)]
pub struct Segments<'a> {
    data: &'a [u8],
    asn_len: u8,
}

impl<'a> Iterator for Segments<'a> {
    type Item = Segment<'a>;

    #[inline]
    fn next(&mut self) -> Option<Segment<'a>> {
        let (&kind, rest) = self.data.split_first()?;
        let (&n, rest) = rest.split_first()?;
        let bytes = usize::from(n) * usize::from(self.asn_len);
        let (asns, rest) = rest.split_at_checked(bytes)?;
        self.data = rest;
        Some(Segment {
            kind,
            asns,
            asn_len: self.asn_len,
        })
    }
}

/// An owned AS path in a reusable buffer: the result of merging AS_PATH with
/// AS4_PATH. Clearing and refilling it does not allocate once warm.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AsPathBuf {
    segs: Vec<(u8, u32, u32)>,
    asns: Vec<u32>,
}

impl AsPathBuf {
    /// An empty buffer.
    pub fn new() -> AsPathBuf {
        AsPathBuf::default()
    }

    /// Empty the buffer, keeping its capacity.
    pub fn clear(&mut self) {
        self.segs.clear();
        self.asns.clear();
    }

    /// Append a segment.
    pub fn push_segment(&mut self, kind: u8, asns: impl IntoIterator<Item = u32>) {
        let start = self.asns.len() as u32;
        self.asns.extend(asns);
        let end = self.asns.len() as u32;
        self.segs.push((kind, start, end));
    }

    /// Append the segments of a merged path (see [`PathSegments`]).
    pub fn extend_segments(&mut self, segs: PathSegments<'_>) {
        for s in segs {
            self.push_segment(s.kind(), s.asns());
        }
    }

    /// Fill from one path, no merge.
    pub fn load(&mut self, p: &AsPath<'_>) {
        self.clear();
        // A copy, segment by segment: the dump writers load every path.
        for s in p.segments() {
            self.push_segment(s.kind, s.asns());
        }
    }

    /// Fill with AS_PATH merged with AS4_PATH as RFC 6793 §4.2.3 says (the
    /// rule is written once, in [`PathSegments::new`]).
    pub fn merge(&mut self, as_path: &AsPath<'_>, as4_path: &AsPath<'_>) {
        self.clear();
        self.extend_segments(PathSegments::new(Some(*as_path), Some(*as4_path)));
    }

    /// Iterate over `(segment type, ASNs)`.
    pub fn segments(&self) -> impl Iterator<Item = (u8, &[u32])> + '_ {
        self.segs
            .iter()
            .map(|&(k, s, e)| (k, self.asns.get(s as usize..e as usize).unwrap_or(&[])))
    }

    /// The origin, by the same rule as [`AsPath::origin`].
    pub fn origin(&self) -> Origin {
        match decide(self.segments(), |(k, a)| (*k, a.last().copied())) {
            Decided::None => Origin::None,
            Decided::Asn(a) => Origin::Asn(a),
            Decided::Set((_, a)) => Origin::set(a.iter().copied()),
        }
    }
}

/// An owned origin.
///
/// The members of an AS_SET origin are sorted ascending and repeats are
/// kept: the multiset of the wire segment in one canonical order. `bgpdump
/// -m` prints a set's members as they come, repeats included (a 2002 RIS
/// dump has `{20305,20305,20305,20305,17401}`), and the prefix-origin pairs
/// derived from it (the conformance references of `snapshot --format
/// pairs`) keep all five; de-duplicating would make two wire paths that
/// bgpdump tells apart one origin.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// No origin: empty path or only confederation segments.
    None,
    /// One origin AS.
    Asn(u32),
    /// An AS_SET origin: members sorted, repeats kept.
    Set(Vec<u32>),
}

impl Origin {
    /// A set origin from members in any order.
    ///
    /// # Example
    /// ```
    /// use mrtsnap::bgp::Origin;
    /// assert_eq!(Origin::set([9, 7, 9]), Origin::Set(vec![7, 9, 9]));
    /// ```
    pub fn set(members: impl IntoIterator<Item = u32>) -> Origin {
        let mut v = Vec::new();
        set_members(members, &mut v);
        Origin::Set(v)
    }
}

/// The members of an AS_SET origin into `out` (cleared first), in the order
/// of [`Origin::Set`]: sorted, repeats kept. Reusing `out` does not
/// allocate once it is warm.
///
/// # Example
/// ```
/// let mut v = Vec::new();
/// mrtsnap::bgp::as_path::set_members([20305, 17401, 20305], &mut v);
/// assert_eq!(v, [17401, 20305, 20305]);
/// ```
#[inline]
pub fn set_members(members: impl IntoIterator<Item = u32>, out: &mut Vec<u32>) {
    out.clear();
    out.extend(members);
    out.sort_unstable();
}

impl From<OriginRef<'_>> for Origin {
    fn from(o: OriginRef<'_>) -> Origin {
        match o {
            OriginRef::None => Origin::None,
            OriginRef::Asn(a) => Origin::Asn(a),
            OriginRef::Set(s) => Origin::set(s.asns()),
        }
    }
}

impl std::fmt::Display for Origin {
    /// `-`, an ASN, or `{a,b}` sorted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::None => f.write_str("-"),
            Origin::Asn(a) => write!(f, "{a}"),
            Origin::Set(v) => {
                f.write_str("{")?;
                for (i, a) in v.iter().enumerate() {
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

/// One segment of a merged AS path (see [`PathSegments`]): a segment of
/// AS_PATH or AS4_PATH, possibly cut short by the merge.
///
/// # Example
/// ```
/// use mrtsnap::bgp::as_path::{AsPath, PathSegments, AS_SEQUENCE};
/// let p = AsPath::parse(&[AS_SEQUENCE, 2, 0, 1, 0, 2], 0, 2)?;
/// let seg = PathSegments::new(Some(p), None).next().unwrap();
/// assert_eq!((seg.kind(), seg.len(), seg.is_confed()), (AS_SEQUENCE, 2, false));
/// # Ok::<(), mrtsnap::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct PathSegment<'a> {
    /// The segment, its ASNs already cut to the merged part.
    seg: Segment<'a>,
}

impl<'a> PathSegment<'a> {
    /// The segment type (1 AS_SET, 2 AS_SEQUENCE, 3 AS_CONFED_SEQUENCE, 4 AS_CONFED_SET).
    #[inline]
    pub fn kind(&self) -> u8 {
        self.seg.kind()
    }

    /// Whether this is a confederation segment.
    #[inline]
    pub fn is_confed(&self) -> bool {
        self.seg.is_confed()
    }

    /// Number of ASNs.
    #[inline]
    pub fn len(&self) -> usize {
        self.seg.len()
    }

    /// Whether the segment holds no ASN.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The ASNs, in wire order.
    #[inline]
    pub fn asns(&self) -> impl ExactSizeIterator<Item = u32> + 'a {
        self.seg.asns()
    }

    /// The last ASN.
    #[inline]
    pub fn last(&self) -> Option<u32> {
        self.seg.last()
    }
}

/// The segments of AS_PATH merged with AS4_PATH as RFC 6793 §4.2.3 says,
/// streamed from the wire: nothing is copied or allocated. The one place
/// the merge is written; [`AsPathBuf::merge`] fills itself from it.
///
/// When AS_PATH has fewer ASes than AS4_PATH (counted as RFC 4271 §9.1.2.2
/// counts: an AS_SET as one, confederation segments not at all), AS4_PATH
/// is ignored; otherwise the leading ASes of AS_PATH (as many as it has
/// more than AS4_PATH) are kept, segment by segment, followed by the
/// segments of AS4_PATH. Confederation segments in AS4_PATH are discarded.
///
/// # Example
/// RFC 6793 §4.2.3: AS_PATH `1 23456 23456` with AS4_PATH `70000 80000`
/// gives `1 70000 80000`.
/// ```
/// use mrtsnap::bgp::as_path::{AsPath, PathSegments, AS_SEQUENCE};
/// let p = AsPath::parse(&[AS_SEQUENCE, 3, 0, 1, 0x5b, 0xa0, 0x5b, 0xa0], 0, 2)?;
/// let p4 = AsPath::parse(&[AS_SEQUENCE, 2, 0, 1, 0x11, 0x70, 0, 1, 0x38, 0x80], 0, 4)?;
/// let asns: Vec<u32> = PathSegments::new(Some(p), Some(p4)).flat_map(|s| s.asns()).collect();
/// assert_eq!(asns, [1, 70000, 80000]);
/// assert!(matches!(PathSegments::new(Some(p), Some(p4)).origin(), mrtsnap::bgp::OriginRef::Asn(80000)));
/// # Ok::<(), mrtsnap::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct PathSegments<'a> {
    /// AS_PATH, while its part of the merged path lasts.
    first: Option<Segments<'a>>,
    /// ASes of AS_PATH still to take (`usize::MAX`: all of them).
    keep: usize,
    /// AS4_PATH, when it is merged in.
    second: Option<Segments<'a>>,
}

impl<'a> PathSegments<'a> {
    /// The merged segments of `as_path` and `as4_path`: none without
    /// AS_PATH, AS_PATH's own without AS4_PATH.
    pub fn new(as_path: Option<AsPath<'a>>, as4_path: Option<AsPath<'a>>) -> PathSegments<'a> {
        let Some(p) = as_path else {
            return PathSegments {
                first: None,
                keep: 0,
                second: None,
            };
        };
        let all = PathSegments {
            first: Some(p.segments()),
            keep: usize::MAX,
            second: None,
        };
        let Some(p4) = as4_path else { return all };
        let n = p.count();
        let m = p4
            .segments()
            .filter(|s| !s.is_confed())
            .map(|s| if s.kind() == AS_SET { 1 } else { s.len() })
            .sum::<usize>();
        if n < m {
            return all;
        }
        PathSegments {
            first: Some(p.segments()),
            keep: n - m,
            second: Some(p4.segments()),
        }
    }

    /// The origin of the merged path, by the rule of [`AsPath::origin`].
    /// An AS_SET is never cut by the merge, so a set origin is a whole
    /// wire segment.
    #[inline]
    pub fn origin(self) -> OriginRef<'a> {
        match decide(self, |s| (s.kind(), s.last())) {
            Decided::None => OriginRef::None,
            Decided::Asn(a) => OriginRef::Asn(a),
            Decided::Set(s) => OriginRef::Set(s.seg),
        }
    }
}

impl<'a> Iterator for PathSegments<'a> {
    type Item = PathSegment<'a>;

    #[inline]
    fn next(&mut self) -> Option<PathSegment<'a>> {
        if let Some(first) = &mut self.first {
            if self.keep > 0 {
                if let Some(mut seg) = first.next() {
                    match seg.kind() {
                        AS_SEQUENCE => {
                            let t = seg.len().min(self.keep);
                            self.keep -= t;
                            seg.asns = seg.asns.get(..t * usize::from(seg.asn_len)).unwrap_or(seg.asns);
                        }
                        AS_SET => self.keep -= 1,
                        _ => {}
                    }
                    return Some(PathSegment { seg });
                }
            }
            self.first = None;
        }
        let seg = self.second.as_mut()?.find(|s| !s.is_confed())?;
        Some(PathSegment { seg })
    }
}

impl AsPathBuf {
    /// Append the path as `bgpdump` prints it: sequences space-separated,
    /// `{a,b}` sets, `(a b)` confederation sequences, `[a,b]` confederation
    /// sets. The allocation-free form of [`Display`](std::fmt::Display).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        write_path(out, self.segments().map(|(kind, asns)| (kind, asns.iter().copied())));
    }
}

impl AsPath<'_> {
    /// Append the path as [`AsPathBuf::write_to`] does, from the wire.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        write_path(out, self.segments().map(|s| (s.kind(), s.asns())));
    }
}

/// Append segments `(kind, ASNs)` as `bgpdump` prints a path (see
/// [`AsPathBuf::write_to`]); the one path writer of the text formats.
pub(crate) fn write_path<A: Iterator<Item = u32>>(out: &mut Vec<u8>, segments: impl Iterator<Item = (u8, A)>) {
    for (i, (kind, asns)) in segments.enumerate() {
        let (open, sep, close): (&[u8], u8, &[u8]) = match kind {
            AS_SET => (b"{", b',', b"}"),
            AS_CONFED_SEQUENCE => (b"(", b' ', b")"),
            AS_CONFED_SET => (b"[", b',', b"]"),
            _ => (b"", b' ', b""),
        };
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(open);
        for (j, a) in asns.enumerate() {
            if j > 0 {
                out.push(sep);
            }
            crate::fmt::write_u32(out, a);
        }
        out.extend_from_slice(close);
    }
}

/// The path as `bgpdump` prints it (see [`AsPathBuf::write_to`]).
///
/// # Example
/// ```
/// use mrtsnap::bgp::AsPathBuf;
/// use mrtsnap::bgp::as_path::{AS_SEQUENCE, AS_SET};
/// let mut p = AsPathBuf::new();
/// p.push_segment(AS_SEQUENCE, [64500, 64501]);
/// p.push_segment(AS_SET, [7, 9]);
/// assert_eq!(p.to_string(), "64500 64501 {7,9}");
/// ```
impl std::fmt::Display for AsPathBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = Vec::new();
        self.write_to(&mut out);
        f.write_str(std::str::from_utf8(&out).map_err(|_| std::fmt::Error)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::seg;

    /// `AsPath::fits` and the walk that names errors agree on every value
    /// of up to six bytes drawn from segment types, counts and ASN bytes.
    #[test]
    fn fits_agrees_with_check() {
        let mut agree = [0usize; 2];
        for v in crate::testkit::byte_strings(&[0, 1, 2, 3, 4, 5, 0xff], 6) {
            for asn_len in [2, 4] {
                let fits = AsPath::fits(&v, asn_len);
                assert_eq!(fits, check(&v, 0, asn_len).is_ok(), "{v:?} of {asn_len}-byte ASNs");
                agree[usize::from(fits)] += 1;
            }
        }
        // Both answers are met, many times.
        assert!(agree[0] > 10_000 && agree[1] > 1_000, "{agree:?}");
    }

    #[test]
    fn origin_rules() {
        let mut b = seg(AS_SEQUENCE, &[1, 2, 3, 3], 4);
        let p = AsPath::parse(&b, 0, 4).unwrap();
        assert!(matches!(p.origin(), OriginRef::Asn(3)));
        assert_eq!(p.count(), 4);
        b.extend(seg(AS_SET, &[9, 7], 4));
        let p = AsPath::parse(&b, 0, 4).unwrap();
        assert_eq!(Origin::from(p.origin()), Origin::Set(vec![7, 9]));
        assert_eq!(Origin::from(p.origin()).to_string(), "{7,9}");
        let r = [seg(AS_SEQUENCE, &[1], 4), seg(AS_SET, &[20305, 17401, 20305], 4)].concat();
        let r = AsPath::parse(&r, 0, 4).unwrap();
        assert_eq!(Origin::from(r.origin()), Origin::Set(vec![17401, 20305, 20305]));
        assert!(matches!(AsPath::checked_origin(r.as_bytes(), 4), Some(OriginRef::Set(s)) if s.len() == 3));
        assert!(AsPath::checked_origin(&[2, 1, 0], 2).is_none());
        assert!(AsPath::checked_origin(&[9, 0], 2).is_none());
        b.extend(seg(AS_CONFED_SEQUENCE, &[65000], 4));
        let p = AsPath::parse(&b, 0, 4).unwrap();
        assert_eq!(Origin::from(p.origin()), Origin::Set(vec![7, 9]));
        let c = seg(AS_CONFED_SEQUENCE, &[65000], 4);
        assert!(matches!(AsPath::parse(&c, 0, 4).unwrap().origin(), OriginRef::None));
        assert!(AsPath::parse(&[2, 2, 0, 1], 0, 2).is_err());
        assert!(AsPath::parse(&[9, 0], 0, 2).is_err());
    }

    /// RFC 6793 §4.2.3: AS_PATH 1 23456 23456 with AS4_PATH 70000 80000 gives 1 70000 80000.
    #[test]
    fn as4_merge() {
        let a = seg(AS_SEQUENCE, &[1, 23456, 23456], 2);
        let a4 = seg(AS_SEQUENCE, &[70000, 80000], 4);
        let (a, a4) = (AsPath::parse(&a, 0, 2).unwrap(), AsPath::parse(&a4, 0, 4).unwrap());
        let mut pb = AsPathBuf::new();
        pb.merge(&a, &a4);
        let v: Vec<_> = pb.segments().flat_map(|(_, s)| s.to_vec()).collect();
        assert_eq!(v, [1, 70000, 80000]);
        assert_eq!(pb.origin(), Origin::Asn(80000));
        // AS4_PATH longer than AS_PATH: ignored.
        let long = seg(AS_SEQUENCE, &[5, 6, 7, 8], 4);
        pb.merge(&a, &AsPath::parse(&long, 0, 4).unwrap());
        assert_eq!(pb.origin(), Origin::Asn(23456));
    }

    type Model = Vec<(u8, Vec<u32>)>;

    /// RFC 6793 §4.2.3 written out plainly on owned segments, the model the
    /// streaming merge is checked against.
    fn model_merge(p: &Model, p4: Option<&Model>) -> Model {
        let count = |m: &Model| -> usize {
            m.iter()
                .map(|(k, a)| match *k {
                    AS_SEQUENCE => a.len(),
                    AS_SET => 1,
                    _ => 0,
                })
                .sum()
        };
        let Some(p4) = p4 else { return p.clone() };
        let p4: Model = p4.iter().filter(|(k, _)| *k == AS_SEQUENCE || *k == AS_SET).cloned().collect();
        let (n, m) = (count(p), count(&p4));
        if n < m {
            return p.clone();
        }
        let mut keep = n - m;
        let mut out = Model::new();
        for (k, a) in p {
            if keep == 0 {
                break;
            }
            match *k {
                AS_SEQUENCE => {
                    let t = a.len().min(keep);
                    out.push((*k, a[..t].to_vec()));
                    keep -= t;
                }
                AS_SET => {
                    out.push((*k, a.clone()));
                    keep -= 1;
                }
                _ => out.push((*k, a.clone())),
            }
        }
        out.extend(p4);
        out
    }

    /// The origin rule written out plainly: the last non-empty AS_SEQUENCE
    /// or AS_SET decides; set members sorted, repeats kept.
    fn model_origin(m: &Model) -> Origin {
        match m.iter().rev().find(|(k, a)| (*k == AS_SEQUENCE || *k == AS_SET) && !a.is_empty()) {
            None => Origin::None,
            Some((AS_SEQUENCE, a)) => Origin::Asn(*a.last().unwrap()),
            Some((_, a)) => {
                let mut v = a.clone();
                v.sort();
                Origin::Set(v)
            }
        }
    }

    fn wire(m: &Model, four: bool) -> Vec<u8> {
        m.iter().flat_map(|(k, a)| seg(*k, a, if four { 4 } else { 2 })).collect()
    }

    fn arb_model(four: bool) -> impl Strategy<Value = Model> {
        let asn = if four { any::<u32>().boxed() } else { (0u32..=0xffff).boxed() };
        // Few distinct ASNs, so that sets repeat members.
        let asn = prop_oneof![asn, 1u32..4];
        proptest::collection::vec((1u8..=4, proptest::collection::vec(asn, 0..5)), 0..5)
    }

    use proptest::prelude::*;

    proptest! {
        /// The streaming merge, `AsPathBuf::merge`/`load` and every origin
        /// (wire, merged, owned) agree with the plain model.
        #[test]
        fn merge_and_origin_match_model(p in arb_model(false), p4 in proptest::option::of(arb_model(true))) {
            let (w, w4) = (wire(&p, false), p4.as_ref().map(|m| wire(m, true)));
            let a = AsPath::parse(&w, 0, 2).unwrap();
            let a4 = w4.as_ref().map(|b| AsPath::parse(b, 0, 4).unwrap());
            let want = model_merge(&p, p4.as_ref());
            let got: Model = PathSegments::new(Some(a), a4).map(|s| (s.kind(), s.asns().collect())).collect();
            prop_assert_eq!(&got, &want);
            let mut pb = AsPathBuf::new();
            match a4 {
                Some(a4) => pb.merge(&a, &a4),
                None => pb.load(&a),
            }
            let owned: Model = pb.segments().map(|(k, a)| (k, a.to_vec())).collect();
            prop_assert_eq!(&owned, &want);
            let origin = model_origin(&want);
            prop_assert_eq!(&pb.origin(), &origin);
            prop_assert_eq!(&Origin::from(PathSegments::new(Some(a), a4).origin()), &origin);
            if a4.is_none() {
                prop_assert_eq!(&Origin::from(a.origin()), &origin);
                prop_assert_eq!(AsPath::checked_origin(&w, 2).map(Origin::from), Some(origin));
            }
        }
    }

    #[test]
    fn confed_segments_survive_load() {
        let p = [seg(AS_CONFED_SEQUENCE, &[65000], 4), seg(AS_SET, &[3, 1], 4)].concat();
        let a = AsPath::parse(&p, 0, 4).unwrap();
        let kinds: Vec<u8> = PathSegments::new(Some(a), None).map(|s| s.kind()).collect();
        assert_eq!(kinds, [AS_CONFED_SEQUENCE, AS_SET]);
        assert_eq!(PathSegments::new(None, Some(a)).count(), 0);
    }
}
