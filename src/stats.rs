//! Statistics of one MRT input: records by type, peers, prefixes by family,
//! time range, errors and warnings; what `mrtsnap stats` prints.
//!
//! [`FileStats::collect`] decodes the batches of a [`Source`] in parallel
//! on the current rayon pool ([`map_ordered`]); each batch gathers its own
//! counters, merged in input order, so the result does not depend on the
//! number of threads.
//!
//! # Example
//! ```
//! # let record: Vec<u8> = [
//! #     &[0x5e, 0x0b, 0xe1, 0x00, 0, 16, 0, 4, 0, 0, 0, 71][..],
//! #     &[0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
//! #     &[0xff; 16], &[0, 51, 2, 0, 0, 0, 24],
//! #     &[0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1],
//! #     &[24, 192, 0, 2],
//! # ].concat();
//! // `record`: one BGP4MP MESSAGE_AS4 UPDATE announcing 192.0.2.0/24.
//! use mrtsnap::stats::FileStats;
//! let src = mrtsnap::Source::from_bytes("updates", record);
//! let stats = FileStats::collect(&src, false)?;
//! assert_eq!(stats.report.total_records(), 1);
//! assert_eq!((stats.announced.ipv4, stats.update_peers), (1, 1));
//! let mut text = Vec::new();
//! stats.write_text("updates", &mut text)?;
//! assert!(String::from_utf8(text)?.contains("  BGP4MP(16)/MESSAGE_AS4(4): 1\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::bgp::message::Message;
use crate::bgp::Prefix;
use crate::error::{Error, Result};
use crate::mrt::{subtype_name, Bgp4mpBody, MrtType, Record};
use crate::pipeline::{for_each_record, map_ordered, RecordDamage};
use crate::replay::Fast;
use crate::report::Report;
use crate::routes::{routes_of, tally_update, Peer, RouteKind, UpdateTally};
use crate::source::{Batch, Compression, Source, DEFAULT_BATCH_SIZE};
use rayon::slice::ParallelSliceMut;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::net::IpAddr;

/// A count split by address family.
///
/// # Example
/// ```
/// let c = mrtsnap::stats::FamilyCount { ipv4: 3, ipv6: 1 };
/// assert_eq!(c.total(), 4);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FamilyCount {
    /// IPv4.
    pub ipv4: u64,
    /// IPv6.
    pub ipv6: u64,
}

impl FamilyCount {
    /// IPv4 and IPv6 together.
    ///
    /// # Example
    /// ```
    /// assert_eq!(mrtsnap::stats::FamilyCount::default().total(), 0);
    /// ```
    pub fn total(&self) -> u64 {
        self.ipv4 + self.ipv6
    }

    #[inline]
    fn add(&mut self, v6: bool) {
        if v6 {
            self.ipv6 += 1;
        } else {
            self.ipv4 += 1;
        }
    }

    fn merge(&mut self, o: FamilyCount) {
        self.ipv4 += o.ipv4;
        self.ipv6 += o.ipv6;
    }
}

/// What one input holds, and what went wrong reading it.
///
/// # Example
/// ```
/// use mrtsnap::stats::FileStats;
/// // An empty input: no records, no errors.
/// let stats = FileStats::collect(&mrtsnap::Source::from_bytes("empty", Vec::new()), true)?;
/// assert_eq!(stats.report.total_records(), 0);
/// assert_eq!(stats.time_range, None);
/// # Ok::<(), mrtsnap::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct FileStats {
    /// Records by type and subtype, errors and warnings by kind, the first
    /// errors of each kind. A record with damaged route data (see
    /// [`crate::routes::RecordRoutes::error`]) counts its first damage as an
    /// error, as every command does.
    pub report: Report,
    /// Compression detected.
    pub compression: Option<Compression>,
    /// Size of the input as stored, when known.
    pub stored_bytes: Option<u64>,
    /// Bytes after decompression (everything framed, damage included).
    pub decompressed_bytes: u64,
    /// Smallest and largest timestamp of the decoded records.
    pub time_range: Option<(u32, u32)>,
    /// PEER_INDEX_TABLE records.
    pub peer_tables: u64,
    /// Peers in the last PEER_INDEX_TABLE.
    pub peer_table_size: Option<u64>,
    /// Distinct peers with RIB entries (by index for TABLE_DUMP_V2, by
    /// address and AS for TABLE_DUMP).
    pub rib_peers: u64,
    /// Distinct peers (address and AS) of BGP4MP and legacy BGP records:
    /// messages, state changes and ENTRY records.
    pub update_peers: u64,
    /// RIB entries (TABLE_DUMP_V2, TABLE_DUMP, BGP4MP ENTRY).
    pub rib_entries: FamilyCount,
    /// Distinct prefixes with at least one RIB entry.
    pub rib_prefixes: FamilyCount,
    /// Prefixes announced by UPDATEs (one per prefix per message).
    pub announced: FamilyCount,
    /// Prefixes withdrawn by UPDATEs.
    pub withdrawn: FamilyCount,
    /// BGP4MP and legacy BGP state changes.
    pub state_changes: u64,
    /// BGP messages by type (`OPEN`, `UPDATE`, `NOTIFICATION`, `KEEPALIVE`,
    /// `ROUTE-REFRESH`, `UNKNOWN`).
    pub messages: BTreeMap<&'static str, u64>,
    /// NLRI blocks and RIB_GENERIC records of families other than IPv4/IPv6
    /// unicast and multicast, left out.
    pub other_families: u64,
    /// RFC 7606 conditions in attribute blocks that gave routes (malformed
    /// attributes dropped, duplicates), counted once per block.
    pub attribute_warnings: u64,
}

/// What one batch contributes.
///
/// # Performance
/// Every BGP4MP record inserts its peer into `update_peers`: with the
/// standard SipHash that cost 28M of the 329M instructions of `stats
/// --threads 1` on the RIS 2016 updates file ×4 (callgrind); the
/// multiply-rotate hasher of the replay tables takes 6.9M.
#[derive(Default)]
struct Part {
    stats: FileStats,
    prefixes: Vec<Prefix>,
    rib_peers: HashSet<Peer, Fast>,
    update_peers: PeerSet,
}

/// The distinct peers of BGP4MP and BGP records.
#[derive(Default)]
struct PeerSet {
    set: HashSet<Peer, Fast>,
    /// The address and AS last inserted.
    last: Option<(IpAddr, u32)>,
}

impl PeerSet {
    /// Add the peer of a record. Runs of records from one peer are the rule
    /// (one peer in the PCH 2015 file, where the set's insert was 7.5% of
    /// `stats` with the multiply-rotate hasher, perf): a repeat is not
    /// looked up. The repeat is told by the fields, not by a `Peer` built
    /// to compare (stored and reloaded, it stalled: 22% of the closure).
    #[inline]
    fn insert(&mut self, addr: IpAddr, asn: u32) {
        if self.last != Some((addr, asn)) {
            self.set.insert(Peer { index: None, addr, asn });
            self.last = Some((addr, asn));
        }
    }
}

/// The names [`FileStats::messages`] counts messages under, by
/// [`message_kind`].
const MESSAGE_NAMES: [&str; 6] = ["OPEN", "UPDATE", "NOTIFICATION", "KEEPALIVE", "ROUTE-REFRESH", "UNKNOWN"];

/// The index of a message's name in [`MESSAGE_NAMES`].
fn message_kind(m: &Message<'_>) -> usize {
    match m {
        Message::Open(_) => 0,
        Message::Update(_) => 1,
        Message::Notification { .. } => 2,
        Message::Keepalive => 3,
        Message::RouteRefresh { .. } => 4,
        Message::Unknown { .. } => 5,
    }
}

fn scan(batch: &Batch, strict: bool) -> (Part, Result<()>) {
    let mut part = Part::default();
    part.stats.decompressed_bytes = batch.data.len() as u64;
    let mut report = Report::default();
    let mut damage = RecordDamage::new(strict);
    // Messages by kind, put in the map at the end: a map lookup per
    // message by name cost 10M of the 149M instructions of `stats
    // --threads 1` on the RIS 2016 updates file ×4 (callgrind).
    let mut messages = [0u64; MESSAGE_NAMES.len()];
    let mut updates = UpdateTally::default();
    let r = for_each_record(batch, &mut report, strict, |raw, rec, peers| {
        let s = &mut part.stats;
        let ts = raw.header.timestamp;
        s.time_range = Some(match s.time_range {
            Some((lo, hi)) => (lo.min(ts), hi.max(ts)),
            None => (ts, ts),
        });
        let body = match rec {
            Record::PeerIndexTable(t) => {
                s.peer_tables += 1;
                s.peer_table_size = Some(t.peers.len() as u64);
                None
            }
            Record::Bgp4mp(m) => {
                part.update_peers.insert(m.peering.peer_ip, m.peering.peer_as);
                Some(&m.body)
            }
            Record::LegacyBgp(l) => {
                part.update_peers.insert(IpAddr::V4(l.peer_ip), l.peer_as);
                Some(&l.body)
            }
            _ => None,
        };
        let mut update_warnings = 0;
        match body {
            Some(Bgp4mpBody::StateChange { .. }) => s.state_changes += 1,
            Some(Bgp4mpBody::Message { message, .. }) => {
                messages[message_kind(message)] += 1;
                if let Message::Update(u) = message {
                    update_warnings = u64::from(u.attrs.warnings);
                }
            }
            _ => {}
        }
        if let Some(n) = tally_update(raw, rec, &mut updates) {
            // One attribute block per UPDATE with routes.
            if n > 0 {
                s.attribute_warnings += update_warnings;
            }
            if updates.error.is_some() {
                damage.note(updates.error.take());
            }
            return;
        }
        let mut routes = routes_of(raw, rec, peers);
        let mut last: Option<Prefix> = None;
        let mut attr_warnings = 0;
        for r in routes.by_ref() {
            let v6 = r.prefix.is_v6();
            match r.kind {
                RouteKind::RibEntry => {
                    // One attribute block per RIB entry.
                    attr_warnings += u64::from(r.attrs.warnings);
                    s.rib_entries.add(v6);
                    part.rib_peers.insert(r.peer);
                    // Entries of one record share their prefix: push it once.
                    if last != Some(r.prefix) {
                        part.prefixes.push(r.prefix);
                        last = Some(r.prefix);
                    }
                }
                RouteKind::Announce => s.announced.add(v6),
                RouteKind::Withdraw => s.withdrawn.add(v6),
            }
        }
        s.other_families += u64::from(routes.other_families());
        s.attribute_warnings += attr_warnings;
        damage.note(routes.take_error());
    });
    let r = damage.finish(r, &mut report);
    part.stats.report = report;
    let s = &mut part.stats;
    s.announced.merge(FamilyCount {
        ipv4: updates.announced[0],
        ipv6: updates.announced[1],
    });
    s.withdrawn.merge(FamilyCount {
        ipv4: updates.withdrawn[0],
        ipv6: updates.withdrawn[1],
    });
    s.other_families += updates.other_families;
    for (name, n) in MESSAGE_NAMES.into_iter().zip(messages) {
        if n > 0 {
            part.stats.messages.insert(name, n);
        }
    }
    // Sorting here, on the worker, leaves the final pass little to do.
    part.prefixes.sort_unstable();
    part.prefixes.dedup();
    (part, r)
}

impl FileStats {
    /// Read the whole of `src` and count. Batches are decoded in parallel
    /// on the current rayon pool.
    ///
    /// # Errors
    /// With `strict`, the first framing or record error; otherwise errors
    /// are counted in [`FileStats::report`] and reading goes on. Damage
    /// inside a decoded record counts as an error too (the first of each
    /// record; see [`crate::pipeline::RecordDamage`]).
    ///
    /// # Example
    /// ```
    /// # let record: Vec<u8> = [
    /// #     &[0x5e, 0x0b, 0xe1, 0x00, 0, 16, 0, 4, 0, 0, 0, 71][..],
    /// #     &[0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
    /// #     &[0xff; 16], &[0, 51, 2, 0, 0, 0, 24],
    /// #     &[0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1],
    /// #     &[24, 192, 0, 2],
    /// # ].concat();
    /// use mrtsnap::stats::FileStats;
    /// let mut damaged = record.clone();
    /// damaged.extend_from_slice(&record[..30]); // a second record, cut short
    /// let stats = FileStats::collect(&mrtsnap::Source::from_bytes("cut", damaged.clone()), false)?;
    /// assert_eq!(stats.report.errors.get("truncated"), Some(&1));
    /// assert_eq!(stats.time_range, Some((1_577_836_800, 1_577_836_800)));
    /// assert!(FileStats::collect(&mrtsnap::Source::from_bytes("cut", damaged), true).is_err());
    /// # Ok::<(), mrtsnap::Error>(())
    /// ```
    pub fn collect(src: &Source, strict: bool) -> Result<FileStats> {
        let mut stats = FileStats {
            compression: Some(src.compression()),
            stored_bytes: src.size(),
            ..FileStats::default()
        };
        let mut prefixes: Vec<Prefix> = Vec::new();
        let mut rib_peers: HashSet<Peer, Fast> = HashSet::default();
        let mut update_peers: HashSet<Peer, Fast> = HashSet::default();
        let window = rayon::current_num_threads() * 2;
        let res = map_ordered(
            src.batches(DEFAULT_BATCH_SIZE),
            window,
            |b| scan(b, strict),
            |(part, r)| {
                stats.merge(part.stats);
                prefixes.extend(part.prefixes);
                rib_peers.extend(part.rib_peers);
                update_peers.extend(part.update_peers.set);
                r
            },
        );
        res?;
        prefixes.par_sort_unstable();
        prefixes.dedup();
        for p in &prefixes {
            stats.rib_prefixes.add(p.is_v6());
        }
        stats.rib_peers = rib_peers.len() as u64;
        stats.update_peers = update_peers.len() as u64;
        Ok(stats)
    }

    /// Add the counters of later input (not the distinct counts, which the
    /// caller computes from the merged sets).
    fn merge(&mut self, o: FileStats) {
        self.report.merge(o.report);
        self.decompressed_bytes += o.decompressed_bytes;
        self.time_range = match (self.time_range, o.time_range) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (x, y) => x.or(y),
        };
        self.peer_tables += o.peer_tables;
        if o.peer_table_size.is_some() {
            self.peer_table_size = o.peer_table_size;
        }
        self.rib_entries.merge(o.rib_entries);
        self.announced.merge(o.announced);
        self.withdrawn.merge(o.withdrawn);
        self.state_changes += o.state_changes;
        for (k, v) in o.messages {
            *self.messages.entry(k).or_insert(0) += v;
        }
        self.other_families += o.other_families;
        self.attribute_warnings += o.attribute_warnings;
    }

    /// Write a readable report of the input named `file`.
    ///
    /// Record counts appear one per line as `TYPE(code)/SUBTYPE(code): n`,
    /// the notation of the shared corpus's MANIFEST.
    ///
    /// # Errors
    /// Only those of `out`.
    ///
    /// # Example
    /// ```
    /// use mrtsnap::stats::FileStats;
    /// let stats = FileStats::collect(&mrtsnap::Source::from_bytes("empty", Vec::new()), false)?;
    /// let mut out = Vec::new();
    /// stats.write_text("empty", &mut out)?;
    /// let text = String::from_utf8(out)?;
    /// assert!(text.starts_with("file: empty\n"));
    /// assert!(text.contains("\nrecords: 0\n"));
    /// assert!(text.contains("\nerrors: none\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_text<W: Write + ?Sized>(&self, file: &str, out: &mut W) -> std::io::Result<()> {
        let fam = |c: &FamilyCount| format!("{} (IPv4 {}, IPv6 {})", c.total(), c.ipv4, c.ipv6);
        writeln!(out, "file: {file}")?;
        write!(out, "input: {}", compression_name(self.compression))?;
        if let Some(n) = self.stored_bytes {
            write!(out, ", {n} bytes stored")?;
        }
        writeln!(out, ", {} bytes decoded", self.decompressed_bytes)?;
        match self.time_range {
            Some((lo, hi)) => writeln!(out, "time: {} .. {} UTC ({lo} .. {hi})", utc(lo), utc(hi))?,
            None => writeln!(out, "time: -")?,
        }
        writeln!(out, "records: {}", self.report.total_records())?;
        for (&(t, st), n) in &self.report.records {
            writeln!(out, "  {}: {n}", type_key(t, st))?;
        }
        write!(out, "peers: ")?;
        match self.peer_table_size {
            Some(n) => write!(out, "{n} in the peer table")?,
            None => write!(out, "no peer table")?,
        }
        writeln!(
            out,
            ", {} with RIB entries, {} in BGP4MP/BGP records",
            self.rib_peers, self.update_peers
        )?;
        writeln!(out, "RIB entries: {}", fam(&self.rib_entries))?;
        writeln!(out, "RIB prefixes, distinct: {}", fam(&self.rib_prefixes))?;
        writeln!(out, "announced: {}", fam(&self.announced))?;
        writeln!(out, "withdrawn: {}", fam(&self.withdrawn))?;
        writeln!(out, "state changes: {}", self.state_changes)?;
        write!(out, "BGP messages:")?;
        if self.messages.is_empty() {
            write!(out, " none")?;
        }
        for (i, (k, v)) in self.messages.iter().enumerate() {
            write!(out, "{} {k} {v}", if i > 0 { "," } else { "" })?;
        }
        writeln!(out)?;
        writeln!(out, "other address families: {} NLRI blocks left out", self.other_families)?;
        let r = &self.report;
        if r.errors.is_empty() {
            writeln!(out, "errors: none")?;
        } else {
            writeln!(
                out,
                "errors: {} ({} damaged records or regions skipped, {} at the end of the input)",
                r.total_errors(),
                r.skipped(),
                r.end_of_input
            )?;
            for (kind, n) in &r.errors {
                write!(out, "  {kind}: {n}")?;
                let first: Vec<String> = r
                    .first_errors
                    .iter()
                    .filter(|e| e.kind().name() == *kind)
                    .take(FIRST_SHOWN)
                    .map(where_)
                    .collect();
                if !first.is_empty() {
                    write!(
                        out,
                        " (first: {}{})",
                        first.join(", "),
                        if *n as usize > first.len() { ", ..." } else { "" }
                    )?;
                }
                writeln!(out)?;
            }
        }
        if r.warnings.is_empty() {
            writeln!(out, "warnings: none")?;
        } else {
            writeln!(out, "warnings: {}", r.warnings.values().sum::<u64>())?;
            for (kind, n) in &r.warnings {
                writeln!(out, "  {kind}: {n}")?;
            }
        }
        writeln!(out, "attribute warnings (RFC 7606): {}", self.attribute_warnings)?;
        Ok(())
    }

    /// Write the same figures as one JSON object (and a newline).
    ///
    /// # Errors
    /// Only those of `out`.
    ///
    /// # Example
    /// ```
    /// use mrtsnap::stats::FileStats;
    /// let stats = FileStats::collect(&mrtsnap::Source::from_bytes("empty", Vec::new()), false)?;
    /// let mut out = Vec::new();
    /// stats.write_json("empty", &mut out)?;
    /// let text = String::from_utf8(out)?;
    /// assert!(text.starts_with(r#"{"file":"empty","compression":"none","#));
    /// assert!(text.contains(r#""records":0,"records_by_type":{}"#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_json<W: Write + ?Sized>(&self, file: &str, out: &mut W) -> std::io::Result<()> {
        let mut o = Vec::with_capacity(1024);
        let s = |o: &mut Vec<u8>, v: &str| crate::fmt::json_str(o, v.as_bytes());
        let fam = |o: &mut Vec<u8>, k: &str, c: &FamilyCount| {
            let _ = write!(o, ",\"{k}\":{{\"ipv4\":{},\"ipv6\":{}}}", c.ipv4, c.ipv6);
        };
        let opt = |v: Option<u64>| v.map_or_else(|| "null".to_string(), |v| v.to_string());
        o.extend_from_slice(b"{\"file\":");
        s(&mut o, file);
        o.extend_from_slice(b",\"compression\":");
        s(&mut o, compression_name(self.compression));
        write!(
            o,
            ",\"stored_bytes\":{},\"decoded_bytes\":{}",
            opt(self.stored_bytes),
            self.decompressed_bytes
        )?;
        match self.time_range {
            Some((lo, hi)) => write!(o, ",\"time_range\":{{\"first\":{lo},\"last\":{hi}}}")?,
            None => write!(o, ",\"time_range\":null")?,
        }
        write!(o, ",\"records\":{},\"records_by_type\":{{", self.report.total_records())?;
        for (i, (&(t, st), n)) in self.report.records.iter().enumerate() {
            if i > 0 {
                o.push(b',');
            }
            s(&mut o, &type_key(t, st));
            write!(o, ":{n}")?;
        }
        write!(
            o,
            "}},\"peer_tables\":{},\"peer_table_size\":{},\"rib_peers\":{},\"update_peers\":{}",
            self.peer_tables,
            opt(self.peer_table_size),
            self.rib_peers,
            self.update_peers
        )?;
        fam(&mut o, "rib_entries", &self.rib_entries);
        fam(&mut o, "rib_prefixes", &self.rib_prefixes);
        fam(&mut o, "announced", &self.announced);
        fam(&mut o, "withdrawn", &self.withdrawn);
        write!(o, ",\"state_changes\":{},\"bgp_messages\":{{", self.state_changes)?;
        for (i, (k, v)) in self.messages.iter().enumerate() {
            write!(o, "{}\"{k}\":{v}", if i > 0 { "," } else { "" })?;
        }
        let r = &self.report;
        write!(
            o,
            "}},\"other_families\":{},\"errors\":{{\"total\":{},\"skipped\":{},\"end_of_input\":{},\"by_kind\":{{",
            self.other_families,
            r.total_errors(),
            r.skipped(),
            r.end_of_input
        )?;
        for (i, (k, v)) in r.errors.iter().enumerate() {
            write!(o, "{}\"{k}\":{v}", if i > 0 { "," } else { "" })?;
        }
        o.extend_from_slice(b"},\"first\":[");
        for (i, e) in r.first_errors.iter().enumerate() {
            write!(
                o,
                "{}{{\"kind\":\"{}\",\"offset\":{},\"record\":{},\"message\":",
                if i > 0 { "," } else { "" },
                e.kind().name(),
                e.offset(),
                opt(e.record())
            )?;
            s(&mut o, &e.kind().to_string());
            o.push(b'}');
        }
        o.extend_from_slice(b"]},\"warnings\":{");
        for (i, (k, v)) in r.warnings.iter().enumerate() {
            write!(o, "{}\"{k}\":{v}", if i > 0 { "," } else { "" })?;
        }
        writeln!(o, "}},\"attribute_warnings\":{}}}", self.attribute_warnings)?;
        out.write_all(&o)
    }
}

/// How many errors of each kind `write_text` locates.
const FIRST_SHOWN: usize = 4;

fn where_(e: &Error) -> String {
    match e.record() {
        Some(r) => format!("record {r} at byte {:#x}", e.offset()),
        None => format!("at byte {:#x}", e.offset()),
    }
}

fn compression_name(c: Option<Compression>) -> &'static str {
    match c {
        Some(Compression::None) | None => "none",
        Some(Compression::Gzip) => "gzip",
        Some(Compression::Bzip2) => "bzip2",
        Some(Compression::Xz) => "xz",
        Some(Compression::Zstd) => "zstd",
    }
}

/// `TYPE(code)/SUBTYPE(code)`, as the corpus MANIFEST writes it.
fn type_key(t: u16, st: u16) -> String {
    format!("{}({t})/{}({st})", MrtType::from(t).name(), subtype_name(t, st))
}

/// `YYYY-MM-DD hh:mm:ss` of a Unix time (proleptic Gregorian, UTC).
fn utc(ts: u32) -> String {
    let secs = ts % 86_400;
    let (y, m, d) = crate::fmt::civil_from_days(i64::from(ts / 86_400));
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::mrt;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(utc(1_401_487_200), "2014-05-30 22:00:00");
        assert_eq!(utc(u32::MAX), "2106-02-07 06:28:15");
    }

    /// Many small batches across threads give the same figures as one.
    #[test]
    fn same_figures_whatever_the_batching() {
        let mut data = Vec::new();
        let mut pit = vec![10, 0, 0, 1, 0, 0, 0, 2];
        pit.extend_from_slice(&[0, 1, 1, 1, 1, 192, 0, 2, 1, 0, 1]);
        pit.extend_from_slice(&[0, 2, 2, 2, 2, 192, 0, 2, 2, 0, 2]);
        data.extend(mrt(1000, 13, 1, &pit));
        for i in 0..3000u32 {
            let b = i.to_be_bytes();
            let mut rib = vec![0, 0, 0, 0, 24, b[2], b[3], 0, 0, 2];
            for peer in 0..2u16 {
                rib.extend_from_slice(&peer.to_be_bytes());
                rib.extend_from_slice(&[0, 0, 0, 0, 0, 4, 0x40, 1, 1, 0]);
            }
            data.extend(mrt(1000 + i % 7, 13, 2, &rib));
        }
        // A RIB for a prefix already seen, and one with a broken entry.
        data.extend(mrt(
            999,
            13,
            2,
            &[0, 0, 0, 0, 24, 0, 5, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 0x40, 1, 1, 0],
        ));
        data.extend(mrt(
            1001,
            13,
            2,
            &[0, 0, 0, 0, 24, 0, 6, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 0x40, 1, 9, 0],
        ));
        let src = Source::from_bytes("m", data.clone());
        let one = FileStats::collect(&src, false).unwrap();
        assert_eq!(one.report.total_records(), 3003);
        assert_eq!(one.rib_entries.ipv4, 6001);
        assert_eq!(one.rib_prefixes.ipv4, 3000);
        assert_eq!((one.rib_peers, one.peer_table_size), (2, Some(2)));
        assert_eq!(one.time_range, Some((999, 1006)));
        // The broken entry (an ORIGIN attribute claiming 9 bytes of 1) is
        // the one error: its record decoded, its route is lost.
        assert_eq!(one.report.errors.get("truncated"), Some(&1));
        assert_eq!(one.report.total_errors(), 1);
        assert_eq!(one.report.first_errors[0].record(), Some(3002));
        assert!(FileStats::collect(&src, true).is_err());
        // The same input cut into many batches (streamed through gzip).
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &data).unwrap();
        let many = Source::from_bytes("z", gz.finish().unwrap());
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let other = pool.install(|| {
            let mut s = FileStats::default();
            let mut v = Vec::new();
            let mut peers = HashSet::new();
            for b in many.batches(1 << 10) {
                let (p, r) = scan(&b, false);
                r.unwrap();
                s.merge(p.stats);
                v.extend(p.prefixes);
                peers.extend(p.rib_peers);
            }
            v.sort_unstable();
            v.dedup();
            (s, v.len(), peers.len())
        });
        assert_eq!(other.0.rib_entries, one.rib_entries);
        assert_eq!(other.0.report.records, one.report.records);
        assert_eq!(other.0.time_range, one.time_range);
        assert_eq!((other.1 as u64, other.2 as u64), (one.rib_prefixes.total(), one.rib_peers));
        let mut text = Vec::new();
        one.write_text("m", &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("  TABLE_DUMP_V2(13)/RIB_IPV4_UNICAST(2): 3002\n"), "{text}");
        assert!(text.contains("  truncated: 1 (first: record 3002 at byte "), "{text}");
    }
}
