//! Ground truth: the prefix-origin pairs a generated RIB contains.

use std::fmt;
use std::io::{self, Write};
use std::net::IpAddr;

/// The origin of a route, derived from its AS_PATH.
///
/// Rule: the last AS of the last non-confederation segment; if that segment
/// is an AS_SET, its members sorted (repeats kept, the rule of
/// [`crate::bgp::Origin`]; the generator writes distinct members); trailing AS_CONFED_SEQUENCE /
/// AS_CONFED_SET segments are skipped; a path with no such segment (for
/// example an empty AS_PATH) has no origin.
///
/// The derived ordering is `Asn(_) < Set(_) < None`, with numbers and sets
/// compared naturally.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// A single origin AS.
    Asn(u32),
    /// The members of a trailing AS_SET, sorted ascending.
    Set(Vec<u32>),
    /// No origin (empty path, or only confederation segments).
    None,
}

impl fmt::Display for Origin {
    /// Formats as decimal (`64496`), as `{a,b}` for sets, or `-` for none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Asn(a) => write!(f, "{a}"),
            Origin::Set(s) => {
                f.write_str("{")?;
                for (i, a) in s.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str("}")
            }
            Origin::None => f.write_str("-"),
        }
    }
}

/// One true prefix-origin pair of a generated RIB.
///
/// The derived ordering (field order) is the canonical truth order: IPv4
/// before IPv6, then numeric address, then prefix length, then origin.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
