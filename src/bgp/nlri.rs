//! Prefixes and NLRI (RFC 4271 §4.3, RFC 4760, RFC 7911 ADD-PATH).

use crate::cursor::Reader;
use crate::error::{Error, ErrorKind, Result};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Address family identifier: IPv4.
pub const AFI_IPV4: u16 = 1;
/// Address family identifier: IPv6.
pub const AFI_IPV6: u16 = 2;

/// An IP prefix. IPv4 prefixes sort before IPv6 ones; within a family, by
/// address then length. Host bits past the length are always zero.
///
/// # Performance
/// The address is held as two `u64` halves (high first, so the derived
/// order is the address's): a `u128` field aligns the struct to 16 bytes
/// and makes it 32 bytes long, 24 this way. A snapshot holds one per row
/// and its batches one per route: the snapshot of the route-views.jinx RIB
/// peaks at 36.2 MB instead of 39.9 (one thread, same bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    v6: bool,
    hi: u64,
    lo: u64,
    len: u8,
}

/// `0.0.0.0/0`.
impl Default for Prefix {
    fn default() -> Prefix {
        Prefix::raw(false, 0, 0)
    }
}

impl Prefix {
    /// A prefix of bits already masked.
    #[inline(always)]
    const fn raw(v6: bool, addr: u128, len: u8) -> Prefix {
        Prefix {
            v6,
            hi: (addr >> 64) as u64,
            lo: addr as u64,
            len,
        }
    }

    /// The address bits as one number.
    #[inline(always)]
    fn addr_bits(&self) -> u128 {
        (u128::from(self.hi) << 64) | u128::from(self.lo)
    }

    /// An IPv4 prefix; host bits are masked off. `None` if `len > 32`.
    pub fn v4(addr: u32, len: u8) -> Option<Prefix> {
        (len <= 32).then(|| Prefix::raw(false, u128::from(addr & mask32(len)), len))
    }

    /// An IPv6 prefix; host bits are masked off. `None` if `len > 128`.
    pub fn v6(addr: u128, len: u8) -> Option<Prefix> {
        (len <= 128).then(|| Prefix::raw(true, addr & mask128(len), len))
    }

    /// A prefix from an address and length.
    pub fn new(addr: IpAddr, len: u8) -> Option<Prefix> {
        match addr {
            IpAddr::V4(a) => Prefix::v4(a.into(), len),
            IpAddr::V6(a) => Prefix::v6(a.into(), len),
        }
    }

    /// Whether this is an IPv6 prefix.
    #[inline]
    pub fn is_v6(&self) -> bool {
        self.v6
    }

    /// The AFI of the prefix.
    #[inline]
    pub fn afi(&self) -> u16 {
        if self.v6 {
            AFI_IPV6
        } else {
            AFI_IPV4
        }
    }

    /// Prefix length in bits.
    #[inline]
    pub fn len(&self) -> u8 {
        self.len
    }

    /// Whether this is a zero-length (default) prefix.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The address bits: an IPv4 address in the low 32 bits.
    #[inline]
    pub fn bits(&self) -> u128 {
        self.addr_bits()
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        if self.v6 {
            IpAddr::V6(Ipv6Addr::from(self.addr_bits()))
        } else {
            IpAddr::V4(Ipv4Addr::from(self.lo as u32))
        }
    }

    /// Whether `addr` lies inside this prefix.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (addr, self.v6) {
            (IpAddr::V4(a), false) => u128::from(u32::from(a) & mask32(self.len)) == self.addr_bits(),
            (IpAddr::V6(a), true) => u128::from(a) & mask128(self.len) == self.addr_bits(),
            _ => false,
        }
    }

    /// Write the prefix as `addr/len` into `out`, without allocating.
    #[inline]
    pub fn write_to(&self, out: &mut Vec<u8>) {
        if self.v6 {
            crate::fmt::write_ipv6(out, self.addr_bits());
            out.push(b'/');
            crate::fmt::write_u32(out, u32::from(self.len));
        } else {
            crate::fmt::write_ipv4_prefix(out, self.lo as u32, self.len);
        }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr(), self.len)
    }
}

impl fmt::Debug for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `ADDRESS/LENGTH`, or a bare address (a host prefix).
impl std::str::FromStr for Prefix {
    type Err = crate::error::ParseError;
    fn from_str(s: &str) -> std::result::Result<Prefix, Self::Err> {
        use crate::error::ParseError;
        let (a, l) = s.split_once('/').unwrap_or((s, ""));
        let addr: IpAddr = a.parse().map_err(|e| ParseError::new(format!("{s}: {e}")))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len: u8 = if l.is_empty() {
            max
        } else {
            l.parse().map_err(|e| ParseError::new(format!("{s}: {e}")))?
        };
        Prefix::new(addr, len).ok_or_else(|| ParseError::new(format!("{s}: prefix length out of range")))
    }
}

#[inline]
fn mask32(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    }
}

#[inline]
fn mask128(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    }
}

/// Read one length-prefixed prefix of `afi` (1 or 2).
#[inline]
pub fn read_prefix(r: &mut Reader<'_>, afi: u16) -> Result<Prefix> {
    let at = r.offset();
    let bits = r.u8("NLRI prefix length")?;
    let max = if afi == AFI_IPV6 { 128 } else { 32 };
    if bits > max {
        return Err(Error::new(ErrorKind::InvalidPrefixLen { afi, bits }, at));
    }
    let n = usize::from(bits).div_ceil(8);
    let b = r.take(n, "NLRI prefix")?;
    Ok(if afi == AFI_IPV6 {
        let mut full = [0u8; 16];
        if let Some(dst) = full.get_mut(..n) {
            dst.copy_from_slice(b);
        }
        Prefix::raw(true, u128::from_be_bytes(full) & mask128(bits), bits)
    } else {
        Prefix::raw(false, u128::from(ipv4_bits(b) & mask32(bits)), bits)
    })
}

/// The IPv4 address whose leading bytes are `b` (at most 4 are read).
///
/// # Performance
/// By the slice's shape: copying a length known only at run time into a
/// buffer is a call to memcpy (8M of the 1,104M instructions of a snapshot
/// of the route-views.jinx RIB, callgrind).
#[inline]
pub(crate) fn ipv4_bits(b: &[u8]) -> u32 {
    match *b {
        [a, b, c, d, ..] => u32::from_be_bytes([a, b, c, d]),
        [a, b, c] => u32::from_be_bytes([a, b, c, 0]),
        [a, b] => u32::from_be_bytes([a, b, 0, 0]),
        [a] => u32::from_be_bytes([a, 0, 0, 0]),
        [] => 0,
    }
}

/// Read an address of `afi` (4 or 16 bytes).
pub fn read_addr(r: &mut Reader<'_>, afi: u16) -> Result<IpAddr> {
    if afi == AFI_IPV6 {
        Ok(IpAddr::V6(Ipv6Addr::from(*r.array::<16>("IPv6 address")?)))
    } else {
        Ok(IpAddr::V4(Ipv4Addr::from(*r.array::<4>("IPv4 address")?)))
    }
}

/// A block of NLRI: a sequence of prefixes of one family, optionally each
/// preceded by an ADD-PATH path identifier.
#[derive(Clone, Copy, Debug)]
pub struct Nlri<'a> {
    data: &'a [u8],
    offset: u64,
    afi: u16,
    add_path: bool,
    /// The number of prefixes, when [`Nlri::detect`] found the block well
    /// formed; [`UNKNOWN`] otherwise.
    count: u32,
}

/// [`Nlri::count`] not known.
const UNKNOWN: u32 = u32::MAX;

impl<'a> Nlri<'a> {
    /// NLRI of `afi` in `data` (absolute offset `offset`). `add_path` says
    /// whether each prefix is preceded by a 4-byte path identifier.
    pub fn new(data: &'a [u8], offset: u64, afi: u16, add_path: bool) -> Nlri<'a> {
        Nlri {
            data,
            offset,
            afi,
            add_path,
            count: UNKNOWN,
        }
    }

    /// Like [`Nlri::new`], but detects ADD-PATH encoding in a block whose
    /// context does not announce it (BIRD, some FRR collectors): a block that
    /// does not parse as plain prefixes but parses cleanly with path
    /// identifiers is taken as ADD-PATH. (Parsing both ways is not enough:
    /// in the shared corpus about 49,000 ordinary NLRI blocks also parse as
    /// ADD-PATH; this rule picks exactly the 12 mislabelled BIRD blocks.)
    pub fn detect(data: &'a [u8], offset: u64, afi: u16, add_path: bool) -> Nlri<'a> {
        let mut plain = Nlri::new(data, offset, afi, add_path);
        if add_path {
            return plain;
        }
        if plain.check() {
            return plain;
        }
        let mut ap = Nlri::new(data, offset, afi, true);
        if ap.check() {
            ap
        } else {
            plain
        }
    }

    /// Whether the block is well formed (every prefix, with its path
    /// identifier if any, within the block and of a valid length); if so
    /// its prefixes are counted.
    #[inline]
    fn check(&mut self) -> bool {
        match self.iter().count_well_formed() {
            Some(n) => {
                self.count = u32::try_from(n).unwrap_or(UNKNOWN);
                true
            }
            None => false,
        }
    }

    /// How many prefixes [`Nlri::iter`] yields, `None` if it stops at an
    /// error ([`Prefixes::tally`] tells which): no walk when
    /// [`Nlri::detect`] already made it (each announced prefix of the PCH
    /// 2015 updates file was walked twice by `stats`: 236M instructions,
    /// 222M with the count kept, callgrind).
    #[inline]
    pub fn count_well_formed(&self) -> Option<u64> {
        if self.count != UNKNOWN {
            return Some(u64::from(self.count));
        }
        self.iter().count_well_formed()
    }

    /// The AFI of the prefixes.
    pub fn afi(&self) -> u16 {
        self.afi
    }

    /// Whether path identifiers precede the prefixes.
    pub fn is_add_path(&self) -> bool {
        self.add_path
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.data
    }

    /// Whether the block holds no prefix.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Iterate over `(path_id, prefix)`.
    pub fn iter(&self) -> Prefixes<'a> {
        Prefixes {
            r: Reader::new(self.data, self.offset),
            afi: self.afi,
            add_path: self.add_path,
            failed: false,
        }
    }
}

impl<'a> IntoIterator for Nlri<'a> {
    type Item = Result<(Option<u32>, Prefix)>;
    type IntoIter = Prefixes<'a>;
    fn into_iter(self) -> Prefixes<'a> {
        self.iter()
    }
}

/// Iterator over the prefixes of an [`Nlri`] block. Stops after the first error.
#[derive(Clone, Debug)]
pub struct Prefixes<'a> {
    r: Reader<'a>,
    afi: u16,
    add_path: bool,
    failed: bool,
}

impl Prefixes<'_> {
    /// Consume the rest of the block without decoding it: how many
    /// prefixes the iterator would still yield, and the error it would stop
    /// at.
    ///
    /// # Performance
    /// A well-formed block is walked by its length octets alone, about 8
    /// instructions a prefix against some 80 for decoding each through
    /// [`Iterator::next`]; a damaged one is walked again by `next`, which
    /// finds the error. [`Nlri::detect`] validates every UPDATE's NLRI
    /// this way: on the RIS 2016 updates file ×4 (165k prefixes) its cost
    /// went from 28.9M instructions to 10.0M (callgrind).
    pub fn tally(&mut self) -> (u64, Option<Error>) {
        if let Some(n) = self.count_well_formed() {
            self.r.rest();
            return (n, None);
        }
        self.tally_damaged()
    }

    /// How many prefixes are left, `None` if the iterator would stop at an
    /// error (or already did): the fast part of [`Prefixes::tally`].
    #[inline]
    fn count_well_formed(&self) -> Option<u64> {
        if self.failed {
            return None;
        }
        let data = self.r.peek_rest();
        let max = if self.afi == AFI_IPV6 { 128 } else { 32 };
        let id = if self.add_path { 4 } else { 0 };
        let (mut i, mut n) = (0usize, 0u64);
        while i < data.len() {
            match data.get(i + id) {
                Some(&bits) if bits <= max => {
                    i += id + 1 + usize::from(bits).div_ceil(8);
                    n += 1;
                }
                _ => return None,
            }
        }
        (i == data.len()).then_some(n)
    }

    /// The slow part of [`Prefixes::tally`]: `next` finds the error,
    /// counting what comes before.
    #[cold]
    fn tally_damaged(&mut self) -> (u64, Option<Error>) {
        let mut n = 0;
        for p in self.by_ref() {
            match p {
                Ok(_) => n += 1,
                Err(e) => return (n, Some(e)),
            }
        }
        (n, None)
    }
}

impl Iterator for Prefixes<'_> {
    type Item = Result<(Option<u32>, Prefix)>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.r.is_empty() || self.failed {
            return None;
        }
        let item = (|| {
            let id = if self.add_path {
                Some(self.r.u32("ADD-PATH path identifier")?)
            } else {
                None
            };
            Ok((id, read_prefix(&mut self.r, self.afi)?))
        })();
        self.failed = item.is_err();
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_host_bits_and_orders() {
        let mut r = Reader::new(&[20, 10, 1, 0xff, 0], 0);
        let p = read_prefix(&mut r, AFI_IPV4).unwrap();
        assert_eq!(p.to_string(), "10.1.240.0/20");
        assert_eq!(r.remaining(), 1);
        let p0 = read_prefix(&mut r, AFI_IPV4).unwrap();
        assert_eq!(p0.to_string(), "0.0.0.0/0");
        assert!(p0 < p);
        let v6: Prefix = "2001:db8::/32".parse().unwrap();
        assert!(p < v6);
        let mut out = Vec::new();
        v6.write_to(&mut out);
        assert_eq!(out, b"2001:db8::/32");
        let e = read_prefix(&mut Reader::new(&[33, 1, 2, 3, 4, 5], 7), AFI_IPV4).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::InvalidPrefixLen { afi: 1, bits: 33 }));
        assert_eq!(e.offset(), 7);
        assert!(read_prefix(&mut Reader::new(&[24, 1, 2], 0), AFI_IPV4).is_err());
    }

    #[test]
    fn detects_add_path() {
        // path id 1, 172.17.0.0/24; path id 1, 172.17.1.0/24
        let b = [0, 0, 0, 1, 24, 172, 17, 0, 0, 0, 0, 1, 24, 172, 17, 1];
        let n = Nlri::detect(&b, 0, AFI_IPV4, false);
        assert!(n.is_add_path());
        let v: Vec<_> = n.iter().map(|r| r.unwrap().1.to_string()).collect();
        assert_eq!(v, ["172.17.0.0/24", "172.17.1.0/24"]);
        let plain = [24, 10, 0, 0, 16, 192, 168];
        assert!(!Nlri::detect(&plain, 0, AFI_IPV4, false).is_add_path());
    }
}
