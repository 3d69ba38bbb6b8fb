//! Ground truth: the prefix-origin pairs a generated RIB contains.

use std::fmt;
use std::io::{self, Write};
use std::net::IpAddr;

/// The origin of a route: the crate's one [`Origin`](crate::bgp::Origin).
pub use crate::bgp::Origin;

/// One true prefix-origin pair of a generated RIB.
///
/// The ordering is the canonical truth order: IPv4 before IPv6, then
/// numeric address, then prefix length, then origin (an AS, then a set,
/// then none; numbers and sets compared naturally), then peers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TruthRow {
    /// Network address (host bits zero).
    pub prefix: IpAddr,
    /// Prefix length in bits.
    pub length: u8,
    /// Origin of the routes counted in `peers`.
    pub origin: Origin,
    /// Number of distinct peer indices with at least one RIB entry for this
    /// prefix whose AS_PATH yields `origin` (an add-path peer with two paths
    /// to the same origin counts once).
    pub peers: u32,
}

impl TruthRow {
    fn key(&self) -> (IpAddr, u8, u8, u32, &[u32], u32) {
        let (rank, asn, set): (u8, u32, &[u32]) = match &self.origin {
            Origin::Asn(a) => (0, *a, &[]),
            Origin::Set(s) => (1, 0, s),
            Origin::None => (2, 0, &[]),
        };
        (self.prefix, self.length, rank, asn, set, self.peers)
    }
}

impl Ord for TruthRow {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for TruthRow {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for TruthRow {
    /// Formats as `PREFIX/LEN<TAB>ORIGIN<TAB>PEERS` (no newline).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}\t{}\t{}", self.prefix, self.length, self.origin, self.peers)
    }
}

/// Writes truth rows as text, one `PREFIX/LEN\tORIGIN\tPEERS` line each, in
/// the canonical [`TruthRow`] order (IPv4 then IPv6, numeric address, length,
/// origin). Rows are sorted first if they are not already in that order.
///
/// IPv6 addresses use the standard compressed form (`2001:db8::/32`).
pub fn write_truth<W: Write>(rows: &[TruthRow], out: W) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    if rows.is_sorted() {
        for r in rows {
            writeln!(out, "{r}")?;
        }
    } else {
        let mut sorted: Vec<&TruthRow> = rows.iter().collect();
        sorted.sort();
        for r in sorted {
            writeln!(out, "{r}")?;
        }
    }
    out.flush()
}
