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
        self.asns().next_back()
    }
}

impl<'a> AsPath<'a> {
    /// Validate and wrap an AS_PATH value of `asn_len`-byte ASNs (2 or 4).
    pub fn parse(data: &'a [u8], offset: u64, asn_len: u8) -> Result<AsPath<'a>> {
        let p = AsPath { data, offset, asn_len };
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
        Ok(p)
    }

    /// Whether the value parses as `asn_len`-byte ASNs.
    pub fn fits(data: &[u8], asn_len: u8) -> bool {
        AsPath::parse(data, 0, asn_len).is_ok()
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
    /// decides; an AS_SEQUENCE gives its last ASN, an AS_SET the set.
    pub fn origin(&self) -> OriginRef<'a> {
        let mut o = OriginRef::None;
        for s in self.segments() {
            match s.kind {
                AS_SEQUENCE => {
                    if let Some(a) = s.last() {
                        o = OriginRef::Asn(a);
                    }
                }
                AS_SET if !s.is_empty() => o = OriginRef::Set(s),
                _ => {}
            }
        }
        o
    }
}

/// The origin of a path, borrowed from it.
#[derive(Clone, Copy, Debug)]
pub enum OriginRef<'a> {
    /// An empty path, or only confederation segments.
    None,
    /// One origin AS.
    Asn(u32),
    /// The path ends in an AS_SET (members unsorted, as on the wire).
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

    /// Fill from one path, no merge.
    pub fn load(&mut self, p: &AsPath<'_>) {
        self.clear();
        for s in p.segments() {
            self.push_segment(s.kind, s.asns());
        }
    }

    /// Fill with AS_PATH merged with AS4_PATH as RFC 6793 §4.2.3 says: when
    /// AS_PATH has fewer ASes than AS4_PATH, AS4_PATH is ignored; otherwise
    /// the leading ASes of AS_PATH (as many as it has more than AS4_PATH) are
    /// kept, segment by segment, followed by the segments of AS4_PATH.
    /// Confederation segments in AS4_PATH are discarded.
    pub fn merge(&mut self, as_path: &AsPath<'_>, as4_path: &AsPath<'_>) {
        let n = as_path.count();
        let m = as4_path
            .segments()
            .filter(|s| !s.is_confed())
            .map(|s| if s.kind == AS_SET { 1 } else { s.len() })
            .sum::<usize>();
        if n < m {
            self.load(as_path);
            return;
        }
        self.clear();
        let mut keep = n - m;
        for s in as_path.segments() {
            if keep == 0 {
                break;
            }
            match s.kind {
                AS_SEQUENCE => {
                    let take = s.len().min(keep);
                    self.push_segment(s.kind, s.asns().take(take));
                    keep -= take;
                }
                AS_SET => {
                    self.push_segment(s.kind, s.asns());
                    keep -= 1;
                }
                _ => self.push_segment(s.kind, s.asns()),
            }
        }
        for s in as4_path.segments().filter(|s| !s.is_confed()) {
            self.push_segment(s.kind, s.asns());
        }
    }

    /// Iterate over `(segment type, ASNs)`.
    pub fn segments(&self) -> impl Iterator<Item = (u8, &[u32])> + '_ {
        self.segs
            .iter()
            .map(|&(k, s, e)| (k, self.asns.get(s as usize..e as usize).unwrap_or(&[])))
    }

    /// The origin, by the same rule as [`AsPath::origin`].
    pub fn origin(&self) -> Origin {
        let mut o = Origin::None;
        for (k, a) in self.segments() {
            match k {
                AS_SEQUENCE => {
                    if let Some(&l) = a.last() {
                        o = Origin::Asn(l);
                    }
                }
                AS_SET if !a.is_empty() => o = Origin::set(a.iter().copied()),
                _ => {}
            }
        }
        o
    }
}

/// An owned origin.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// No origin: empty path or only confederation segments.
    None,
    /// One origin AS.
    Asn(u32),
    /// An AS_SET origin: members sorted and de-duplicated.
    Set(Vec<u32>),
}

impl Origin {
    /// A set origin from members in any order.
    pub fn set(members: impl IntoIterator<Item = u32>) -> Origin {
        let mut v: Vec<u32> = members.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        Origin::Set(v)
    }
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

impl AsPathBuf {
    /// Append the path as `bgpdump` prints it: sequences space-separated,
    /// `{a,b}` sets, `(a b)` confederation sequences, `[a,b]` confederation
    /// sets. The allocation-free form of [`Display`](std::fmt::Display).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        for (i, (kind, asns)) in self.segments().enumerate() {
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
            for (j, a) in asns.iter().enumerate() {
                if j > 0 {
                    out.push(sep);
                }
                crate::fmt::write_u32(out, *a);
            }
            out.extend_from_slice(close);
        }
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

    fn seg(kind: u8, asns: &[u32], four: bool) -> Vec<u8> {
        let mut v = vec![kind, asns.len() as u8];
        for a in asns {
            if four {
                v.extend_from_slice(&a.to_be_bytes());
            } else {
                v.extend_from_slice(&(*a as u16).to_be_bytes());
            }
        }
        v
    }

    #[test]
    fn origin_rules() {
        let mut b = seg(AS_SEQUENCE, &[1, 2, 3, 3], true);
        let p = AsPath::parse(&b, 0, 4).unwrap();
        assert!(matches!(p.origin(), OriginRef::Asn(3)));
        assert_eq!(p.count(), 4);
        b.extend(seg(AS_SET, &[9, 7], true));
        let p = AsPath::parse(&b, 0, 4).unwrap();
        assert_eq!(Origin::from(p.origin()), Origin::Set(vec![7, 9]));
        assert_eq!(Origin::from(p.origin()).to_string(), "{7,9}");
        b.extend(seg(AS_CONFED_SEQUENCE, &[65000], true));
        let p = AsPath::parse(&b, 0, 4).unwrap();
        assert_eq!(Origin::from(p.origin()), Origin::Set(vec![7, 9]));
        let c = seg(AS_CONFED_SEQUENCE, &[65000], true);
        assert!(matches!(AsPath::parse(&c, 0, 4).unwrap().origin(), OriginRef::None));
        assert!(AsPath::parse(&[2, 2, 0, 1], 0, 2).is_err());
        assert!(AsPath::parse(&[9, 0], 0, 2).is_err());
    }

    /// RFC 6793 §4.2.3: AS_PATH 1 23456 23456 with AS4_PATH 70000 80000 gives 1 70000 80000.
    #[test]
    fn as4_merge() {
        let a = seg(AS_SEQUENCE, &[1, 23456, 23456], false);
        let a4 = seg(AS_SEQUENCE, &[70000, 80000], true);
        let (a, a4) = (AsPath::parse(&a, 0, 2).unwrap(), AsPath::parse(&a4, 0, 4).unwrap());
        let mut pb = AsPathBuf::new();
        pb.merge(&a, &a4);
        let v: Vec<_> = pb.segments().flat_map(|(_, s)| s.to_vec()).collect();
        assert_eq!(v, [1, 70000, 80000]);
        assert_eq!(pb.origin(), Origin::Asn(80000));
        // AS4_PATH longer than AS_PATH: ignored.
        let long = seg(AS_SEQUENCE, &[5, 6, 7, 8], true);
        pb.merge(&a, &AsPath::parse(&long, 0, 4).unwrap());
        assert_eq!(pb.origin(), Origin::Asn(23456));
    }
}
