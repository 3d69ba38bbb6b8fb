//! Text outputs: `pairs`, CAIDA pfx2as and jsonl.

use super::json;
use super::KIND_SHIFT;
use super::{Row, RowOrigin, Snapshot};
use crate::bgp::Prefix;
use crate::fmt::{write_u32, Line};
use std::fmt;
use std::io::{self, Write};

/// Flush the buffer to `w` once it holds this much.
const FLUSH_AT: usize = 1 << 16;

/// Rows a job of [`Snapshot::write_rows`] formats (the pairs of 16,384 rows
/// are about 400 KB).
const ROWS_PER_BLOCK: usize = 1 << 14;

fn write_origin_braced(out: &mut Vec<u8>, o: RowOrigin<'_>) {
    match o {
        RowOrigin::None => out.push(b'-'),
        RowOrigin::Asn(a) => write_u32(out, a),
        RowOrigin::Set(s) => {
            out.push(b'{');
            write_joined(out, s);
            out.push(b'}');
        }
    }
}

fn write_joined(out: &mut Vec<u8>, s: &[u32]) {
    for (i, a) in s.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_u32(out, *a);
    }
}

/// One line of a CAIDA pfx2as file: a prefix and its origins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pfx2asLine {
    /// The prefix.
    pub prefix: Prefix,
    /// The origin field: ASNs (and `a,b` AS sets) joined by `_`, most-seen
    /// first.
    pub origins: String,
}

impl fmt::Display for Pfx2asLine {
    /// `address<TAB>length<TAB>origins`, no newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\t{}\t{}", self.prefix.addr(), self.prefix.len(), self.origins)
    }
}

/// The pfx2as origin field for one prefix's rows.
///
/// As CAIDA writes it since 2010-10-27: the origins of a MOAS prefix joined
/// by `_` in descending order of the number of peers that see each one;
/// ties in lexicographical (string) order of the origin text, so `10`
/// comes before `9`. An AS_SET origin is its members joined by `,`
/// without braces. Rows without an origin (empty AS_PATH) are left out;
/// `None` when nothing is left.
pub(crate) fn pfx2as_origins(rows: &[Row<'_>]) -> Option<String> {
    let mut items: Vec<(u32, Vec<u8>)> = rows
        .iter()
        .filter_map(|r| {
            let mut t = Vec::new();
            match r.origin {
                RowOrigin::None => return None,
                RowOrigin::Asn(a) => write_u32(&mut t, a),
                RowOrigin::Set(s) => write_joined(&mut t, s),
            }
            Some((r.peers(), t))
        })
        .collect();
    if items.is_empty() {
        return None;
    }
    items.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut out = Vec::new();
    for (i, (_, t)) in items.iter().enumerate() {
        if i > 0 {
            out.push(b'_');
        }
        out.extend_from_slice(t);
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

impl Snapshot {
    /// Write `PREFIX/LEN<TAB>ORIGIN<TAB>PEERS` lines, one per row, in row
    /// order: ORIGIN is the ASN, `{a,b}` (sorted) for an AS_SET, `-` for
    /// none. Addresses are written as `bgpdump` writes them, so the lines
    /// compare equal to pairs derived from `bgpdump -m` output.
    ///
    /// ```
    /// # let snap = mrtsnap::snapshot::Snapshot::build(&mrtsnap::Source::from_bytes("x", mrtsnap::snapshot::example_rib()), &Default::default())?;
    /// let mut out = Vec::new();
    /// snap.write_pairs(&mut out)?;
    /// assert!(String::from_utf8(out)?.starts_with("192.0.0.0/16\t64500\t1\n192.0.2.0/24\t64500\t2\n192.0.2.0/24\t{64510,64511}\t1\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_pairs<W: Write>(&self, w: W) -> io::Result<()> {
        self.write_rows(w, |buf, i| {
            let (Some(p), Some(&o)) = (self.prefixes.get(i), self.origins.get(i)) else {
                return;
            };
            let peers = self.peer_ids.get(i).len() as u32;
            // An IPv4 row whose origin is one ASN or none (nearly every row
            // of a real table) is built as one line; the rest piece by piece.
            if !p.is_v6() && o >> KIND_SHIFT != 2 {
                let mut l = Line::new();
                l.ipv4_prefix(p.bits() as u32, p.len());
                l.byte(b'\t');
                if o >> KIND_SHIFT == 1 {
                    l.u32(o as u32);
                } else {
                    l.byte(b'-');
                }
                l.byte(b'\t');
                l.u32(peers);
                l.byte(b'\n');
                l.finish(buf);
                return;
            }
            p.write_to(buf);
            buf.push(b'\t');
            write_origin_braced(buf, self.origin_of(o));
            buf.push(b'\t');
            write_u32(buf, peers);
            buf.push(b'\n');
        })
    }

    /// Write each row as `line` formats row `i` into a block: blocks of rows formatted on the
    /// rayon pool, a round of blocks at a time, written in row order (the
    /// same bytes for any number of threads; memory a round of blocks).
    ///
    /// # Performance
    /// The text comes after every batch is merged, so written in order on
    /// one thread it left the other cores idle: 16.4 ms of the 251 ms the
    /// snapshot of jinx ×10 took on two pinned cores (the pairs of 497,413
    /// rows). In blocks on the pool: 11.5 ms on two pinned cores, 12.7 ms
    /// on one (the writer's own span, means of six runs).
    fn write_rows<W, F>(&self, mut w: W, line: F) -> io::Result<()>
    where
        W: Write,
        F: Fn(&mut Vec<u8>, usize) + Sync,
    {
        use rayon::prelude::*;
        let mut bufs: Vec<Vec<u8>> = vec![Vec::new(); 2 * rayon::current_num_threads()];
        let mut start = 0;
        while start < self.len() {
            let first = start;
            let end = |k: usize| (first + (k + 1) * ROWS_PER_BLOCK).min(self.len());
            bufs.par_iter_mut().enumerate().for_each(|(k, buf)| {
                buf.clear();
                for i in (first + k * ROWS_PER_BLOCK).min(self.len())..end(k) {
                    line(buf, i);
                }
            });
            for b in &bufs {
                w.write_all(b)?;
            }
            start = end(bufs.len() - 1);
        }
        w.flush()
    }

    /// The lines of a CAIDA pfx2as file, one per prefix with an origin (see
    /// [`Snapshot::write_pfx2as`]).
    ///
    /// ```
    /// # let snap = mrtsnap::snapshot::Snapshot::build(&mrtsnap::Source::from_bytes("x", mrtsnap::snapshot::example_rib()), &Default::default())?;
    /// let moas = snap.pfx2as_lines().find(|l| l.prefix.to_string() == "198.51.100.0/24").ok_or("missing")?;
    /// assert_eq!(moas.origins, "64501_64502");
    /// assert_eq!(moas.to_string(), "198.51.100.0\t24\t64501_64502");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pfx2as_lines(&self) -> impl Iterator<Item = Pfx2asLine> + '_ {
        let mut i = 0;
        std::iter::from_fn(move || loop {
            let first = self.row(i)?;
            let mut group = vec![first];
            i += 1;
            while let Some(r) = self.row(i).filter(|r| r.prefix == first.prefix) {
                group.push(r);
                i += 1;
            }
            if let Some(origins) = pfx2as_origins(&group) {
                return Some(Pfx2asLine {
                    prefix: first.prefix,
                    origins,
                });
            }
        })
    }

    /// Write the snapshot as CAIDA's pfx2as text (RouteViews prefix-to-AS
    /// files): `address<TAB>length<TAB>AS` per prefix, MOAS origins joined
    /// by `_` in descending order of the peers that see each origin (ties in
    /// string order of the origin, as CAIDA documents: "sort by
    /// lexicographical order"), AS sets as `a,b` without braces. Prefixes
    /// seen only with an empty AS_PATH have no origin and no line.
    ///
    /// ```
    /// # let snap = mrtsnap::snapshot::Snapshot::build(&mrtsnap::Source::from_bytes("x", mrtsnap::snapshot::example_rib()), &Default::default())?;
    /// let mut out = Vec::new();
    /// snap.write_pfx2as(&mut out)?;
    /// assert_eq!(String::from_utf8(out)?, "192.0.0.0\t16\t64500\n192.0.2.0\t24\t64500_64510,64511\n198.51.100.0\t24\t64501_64502\n2001:db8::\t32\t64503\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_pfx2as<W: Write>(&self, mut w: W) -> io::Result<()> {
        let mut buf = Vec::with_capacity(FLUSH_AT + 256);
        for line in self.pfx2as_lines() {
            buf.extend_from_slice(line.to_string().as_bytes());
            buf.push(b'\n');
            if buf.len() >= FLUSH_AT {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
        w.write_all(&buf)?;
        w.flush()
    }

    /// Write one JSON object per row: `prefix`, `family`, `length`,
    /// `origin_kind`, `origin` (ASN or null), `origin_set` (members or
    /// null), `peers`, `peer_asns`, `full_feed_peers`, `peer_ids`.
    ///
    /// ```
    /// # let snap = mrtsnap::snapshot::Snapshot::build(&mrtsnap::Source::from_bytes("x", mrtsnap::snapshot::example_rib()), &Default::default())?;
    /// let mut out = Vec::new();
    /// snap.write_jsonl(&mut out)?;
    /// let first = String::from_utf8(out)?.lines().next().unwrap_or("").to_string();
    /// assert_eq!(first, r#"{"prefix":"192.0.0.0/16","family":4,"length":16,"origin_kind":"asn","origin":64500,"origin_set":null,"peers":1,"peer_asns":1,"full_feed_peers":1,"peer_ids":[0]}"#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_jsonl<W: Write>(&self, mut w: W) -> io::Result<()> {
        let mut s = String::with_capacity(FLUSH_AT + 256);
        for r in self.rows() {
            s.push_str("{\"prefix\":");
            json::push_str(&mut s, &r.prefix.to_string());
            s.push_str(if r.prefix.is_v6() { ",\"family\":6" } else { ",\"family\":4" });
            s.push_str(",\"length\":");
            s.push_str(itoa::Buffer::new().format(r.prefix.len()));
            s.push_str(",\"origin_kind\":\"");
            s.push_str(r.origin.kind().as_str());
            s.push_str("\",\"origin\":");
            json::push_opt(&mut s, if let RowOrigin::Asn(a) = r.origin { Some(a) } else { None });
            s.push_str(",\"origin_set\":");
            match r.origin {
                RowOrigin::Set(m) => push_u32_array(&mut s, m),
                _ => s.push_str("null"),
            }
            for (k, v) in [
                ("peers", r.peers()),
                ("peer_asns", r.peer_asns),
                ("full_feed_peers", r.full_feed_peers),
            ] {
                s.push_str(",\"");
                s.push_str(k);
                s.push_str("\":");
                s.push_str(itoa::Buffer::new().format(v));
            }
            s.push_str(",\"peer_ids\":");
            push_u32_array(&mut s, r.peer_ids);
            s.push_str("}\n");
            if s.len() >= FLUSH_AT {
                w.write_all(s.as_bytes())?;
                s.clear();
            }
        }
        w.write_all(s.as_bytes())?;
        w.flush()
    }
}

fn push_u32_array(s: &mut String, v: &[u32]) {
    s.push('[');
    for (i, a) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(itoa::Buffer::new().format(*a));
    }
    s.push(']');
}
