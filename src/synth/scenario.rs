//! Scenarios: archives of several collectors that see one table, with
//! what happens in them written down beside.
//!
//! [`Nk2014`] is the acceptance scenario of visibility timelines and
//! outage detection: North Korea's four /24s, originated by AS131279
//! through AS4837, withdrawn on 22 December 2014 from 16:15 UTC to 01:46
//! the next day and again on 23 December from 15:41 to 16:12, in two days
//! of route-views2 and rrc00 with the background churn of a real
//! collector (path changes, flaps, session resets, peers joining, other
//! origins withdrawn briefly) that never makes another origin's prefix
//! vanish at two consecutive 5-minute bin ends.
//!
//! # Files
//!
//! | path | what |
//! |---|---|
//! | `bgpdata/2014.12/RIBS/rib.YYYYMMDD.HHMM.bz2` | route-views2: a RIB every 2 hours |
//! | `bgpdata/2014.12/UPDATES/updates.YYYYMMDD.HHMM.bz2` | route-views2: updates every 15 minutes |
//! | `rrc00/2014.12/bview.YYYYMMDD.HHMM.gz` | rrc00: a RIB every 8 hours |
//! | `rrc00/2014.12/updates.YYYYMMDD.HHMM.gz` | rrc00: updates every 5 minutes |
//! | `truth/events.csv` | `origin,start,end` (RFC 3339 UTC): the outages to find, AS131279's two |
//! | `truth/brief.csv` | `origin,start,end`: the other origins' brief withdrawals, never at two bin ends |
//! | `truth/stable.csv` | `origin,prefixes`: the origins kept visible, and how many prefixes each keeps |
//! | `truth/all.YYYYMMDDTHHMMSSZ.pairs.tsv` | the true pairs of both collectors together at an instant: what `mrtsnap snapshot --at T --format pairs` writes over every file |
//! | `truth/<collector>.YYYYMMDDTHHMMSSZ.pairs.tsv` | the same, one collector's |
//!
//! The instants of the truth are every 8 hours from 22 December 00:00 to
//! 24 December 00:00, and around the events: 16:14:59, 16:15:45 (half of
//! the peers withdrawn), 16:17:00, 01:45:00, 01:46:45, 01:48:00, 15:40:59,
//! 15:43:00, 16:11:00, 16:14:00, and two bin ends inside brief withdrawals.
//!
//! # Visibility
//!
//! An outage's origin is withdrawn by each peer at its start plus a delay
//! of the peer's own, spread over [`Outage::spread`] seconds (90 for
//! AS131279), and announced again likewise from its end: at `start`
//! every peer still has it, from `start + spread` none does, until `end`;
//! from `end + spread` every peer whose session is up has it again.
//!
//! The rule that keeps every other origin's prefixes visible, applied by
//! each collector to its own peers ([`ArchiveOptions::keep_visible`]): a
//! prefix seen with its usual origin in the collector's first RIB keeps
//! at least one route with that origin at every instant. The background
//! leaves out any withdrawal, flap or origin change that would take the
//! last such route away, and resets a session only when every such route
//! of the peer has another; only an outage of that origin takes them all
//! away. The brief outages withdraw an origin with 1 to 8 prefixes for
//! less than a 5-minute bin (start to end plus spread under 300 s) around
//! one bin end: its prefixes are gone at that bin end only. Session
//! resets and joins keep 20 minutes away from every outage's start and
//! end, so every full-feed peer sees AS131279 right before and after.
//! Second origins (a prefix with two, or an origin change) and AS_SET
//! aggregates carry no guarantee: they come and go.
//!
//! `truth/stable.csv` lists every origin, AS131279 apart, with a prefix
//! kept by that rule, and how many prefixes it keeps: those are seen at
//! every 5-minute bin end, but for the origins of `truth/brief.csv` at the
//! one bin end inside their withdrawal.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::archive::{write_archive, ArchiveFile, ArchiveLayout, ArchiveOptions, ArchiveSummary, Outage, PinnedOrigin, DECEMBER_2014};
use super::rng::hash2;
use super::SynthError;
use crate::bgp::{Origin, Prefix};

/// 2014-12-22 00:00:00 UTC.
const DEC_22: u32 = DECEMBER_2014 + 21 * 86_400;
const HOUR: u32 = 3600;
const MINUTE: u32 = 60;
const DAY: u32 = 86_400;

/// The `nk-2014` scenario: two days of route-views2 and rrc00, 22 and 23
/// December 2014, with North Korea's outages (see the [module
/// docs](self)).
///
/// | | route-views2 | rrc00 |
/// |---|---|---|
/// | RIBs | every 2 h, bzip2 | every 8 h, gzip |
/// | updates files | every 15 min | every 5 min |
/// | peers | 30 full feeds, 10 partial, 1 full feed joining | 30 full feeds, 14 partial, 1 full feed joining |
/// | session resets | 12 | 12 |
///
/// One table for both, of 960,000 IPv4 and 40,000 IPv6 prefixes at full
/// scale (2014's share of IPv6), times [`Nk2014::scale`]. The updates
/// come at 58,000 records per peer and day at full scale (the volume of
/// [`ArchiveOptions::rrc00_day`], per peer), times the scale, so that
/// each route churns as much at any scale.
#[derive(Clone, Debug, PartialEq)]
pub struct Nk2014 {
    /// The table's size as a fraction of the full one (1M prefixes), in
    /// `0.001..=1`.
    pub scale: f64,
    /// Seed of the table and of both collectors' churn.
    pub seed: u64,
}

impl Default for Nk2014 {
    fn default() -> Self {
        Nk2014 {
            scale: Nk2014::DEFAULT_SCALE,
            seed: Nk2014::DEFAULT_SEED,
        }
    }
}

/// What [`Nk2014::write`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioSummary {
    /// Each collector's name and archive.
    pub collectors: Vec<(String, ArchiveSummary)>,
    /// The truth of all collectors together, in time order.
    pub truths: Vec<ArchiveFile>,
    /// `truth/events.csv`: (origin, start, end).
    pub events: Vec<(u32, u32, u32)>,
    /// `truth/brief.csv`: (origin, start, end).
    pub brief: Vec<(u32, u32, u32)>,
    /// `truth/stable.csv`: (origin, prefixes kept).
    pub stable: Vec<(u32, u32)>,
}

impl Nk2014 {
    /// The default scale: 0.002, a table of 2,000 prefixes (generated in
    /// about 5 s on two cores), the one `tests/nk_scenario.rs` checks.
    pub const DEFAULT_SCALE: f64 = 0.002;
    /// The default seed.
    pub const DEFAULT_SEED: u64 = 0x006e_6b2d_3230_3134;
    /// The withdrawn origin: Star Joint Venture, North Korea.
    pub const ORIGIN: u32 = 131_279;
    /// Its upstream: China Unicom.
    pub const UPSTREAM: u32 = 4837;
    /// Seconds over which the peers' withdrawals of AS131279 (and their
    /// announcements again) are spread.
    pub const SPREAD: u32 = 90;
    /// The first instant: 2014-12-22 00:00 UTC.
    pub const START: u32 = DEC_22;
    /// The last instant: 2014-12-24 00:00 UTC.
    pub const END: u32 = DEC_22 + 2 * DAY;

    /// A scenario at `scale` with the default seed.
    pub fn new(scale: f64) -> Self {
        Nk2014 {
            scale,
            ..Nk2014::default()
        }
    }

    /// AS131279's prefixes: 175.45.176.0/24 to 175.45.179.0/24.
    pub fn prefixes() -> Vec<Prefix> {
        (176..180).filter_map(|c| Prefix::v4(175 << 24 | 45 << 16 | c << 8, 24)).collect()
    }

    /// AS131279's outages: 22 December 16:15 to 23 December 01:46, and 23
    /// December 15:41 to 16:12.
    pub fn events() -> Vec<Outage> {
        let at = |day: u32, h: u32, m: u32| DEC_22 + day * DAY + h * HOUR + m * MINUTE;
        [(at(0, 16, 15), at(1, 1, 46)), (at(1, 15, 41), at(1, 16, 12))]
            .into_iter()
            .map(|(start, end)| Outage {
                asn: Some(Nk2014::ORIGIN),
                start,
                end,
                spread: Nk2014::SPREAD,
            })
            .collect()
    }

    /// The brief withdrawals of other origins: each around a bin end `B`,
    /// from `B - before` to `B + after`, spread over 30 s.
    pub fn brief() -> Vec<Outage> {
        // (day, hour, minute of B, before, after): before > 30 (all gone
        // at B), before + after + 30 < 300 (back before the bins around).
        const BRIEF: [(u32, u32, u32, u32, u32); 8] = [
            (0, 3, 20, 100, 120),
            (0, 7, 45, 60, 180),
            (0, 11, 10, 150, 90),
            (0, 20, 35, 45, 60),
            (1, 5, 5, 200, 40),
            (1, 9, 50, 90, 150),
            (1, 13, 25, 120, 100),
            (1, 21, 40, 35, 200),
        ];
        BRIEF
            .iter()
            .map(|&(d, h, m, before, after)| {
                let b = DEC_22 + d * DAY + h * HOUR + m * MINUTE;
                Outage {
                    asn: None,
                    start: b - before,
                    end: b + after,
                    spread: 30,
                }
            })
            .collect()
    }

    /// The truth's instants besides the 8-hour grid (see the [module
    /// docs](self)).
    pub fn instants() -> Vec<u32> {
        let at = |day: u32, h: u32, m: u32, s: u32| DEC_22 + day * DAY + h * HOUR + m * MINUTE + s;
        vec![
            at(0, 3, 20, 0),
            at(0, 16, 14, 59),
            at(0, 16, 15, 45),
            at(0, 16, 17, 0),
            at(0, 20, 35, 0),
            at(1, 1, 45, 0),
            at(1, 1, 46, 45),
            at(1, 1, 48, 0),
            at(1, 15, 40, 59),
            at(1, 15, 43, 0),
            at(1, 16, 11, 0),
            at(1, 16, 14, 0),
        ]
    }

    /// The options of the two collectors' archives: route-views2, then
    /// rrc00.
    ///
    /// # Errors
    /// A scale outside `0.001..=1`.
    pub fn collectors(&self) -> Result<[ArchiveOptions; 2], SynthError> {
        if !(0.001..=1.0).contains(&self.scale) {
            return Err(SynthError::invalid("scale", "within 0.001..=1"));
        }
        let ipv4 = (960_000.0 * self.scale).round() as usize;
        let ipv6 = (40_000.0 * self.scale).round() as usize;
        let table_seed = hash2(self.seed, 0x7AB1E);
        let one = |layout: ArchiveLayout, partial: usize, k: u64| {
            let interval = layout.updates_interval();
            let peers = 30 + partial + 1;
            let per_day = 58_000.0 * peers as f64 * self.scale;
            ArchiveOptions {
                seed: hash2(self.seed, k),
                layout,
                collector: layout.default_collector().to_string(),
                start: DEC_22,
                duration: 2 * DAY,
                rib_interval: layout.rib_interval(),
                updates_interval: interval,
                full_peers: 30,
                partial_peers: partial,
                partial_fraction: 0.02..=0.2,
                joining_peers: 1,
                add_path_peers: 0,
                ipv4_prefixes: ipv4,
                ipv6_prefixes: ipv6,
                messages_per_file: (per_day * f64::from(interval) / f64::from(DAY)).round().max(1.0) as usize,
                resets: 12,
                transfer_rate: 10_000,
                as_set_fraction: 0.001,
                origin_changes: 0.01,
                truth_every: 8 * HOUR,
                truth_at: Nk2014::instants(),
                table_seed: Some(table_seed),
                pinned: vec![PinnedOrigin {
                    asn: Nk2014::ORIGIN,
                    upstream: Nk2014::UPSTREAM,
                    prefixes: Nk2014::prefixes(),
                }],
                outages: Nk2014::events().into_iter().chain(Nk2014::brief()).collect(),
                keep_visible: true,
            }
        };
        Ok([one(ArchiveLayout::RouteViews, 10, 1), one(ArchiveLayout::Ris, 14, 2)])
    }

    /// Writes the scenario into `dir` (created if needed; files of the same
    /// names are replaced): both archives, their truth, the truth of both
    /// together and the events (see the [module docs](self)).
    ///
    /// ```no_run
    /// use mrtsnap::synth::scenario::Nk2014;
    ///
    /// let s = Nk2014::new(0.002).write("nk".as_ref())?;
    /// assert_eq!(s.events.len(), 2);
    /// # Ok::<(), mrtsnap::synth::SynthError>(())
    /// ```
    ///
    /// # Errors
    /// A scale out of range, or a file that cannot be written.
    pub fn write(&self, dir: &Path) -> Result<ScenarioSummary, SynthError> {
        let [rv, ris] = self.collectors()?;
        // Apart but for the folder: side by side (route-views2's bzip2
        // is most of the time, on one core).
        let (a, b) = rayon::join(|| write_archive(&rv, dir), || write_archive(&ris, dir));
        let collectors = vec![(rv.collector.clone(), a?), (ris.collector.clone(), b?)];
        // One table: every collector drew the same brief origins.
        let outages = |s: &ArchiveSummary| -> Vec<(u32, u32, u32)> { s.outages.iter().map(|o| (o.asn, o.start, o.end)).collect() };
        let all = outages(&collectors[0].1);
        if collectors.iter().any(|(_, s)| outages(s) != all) {
            return Err(SynthError::invalid("seed", "the collectors drew different origins to withdraw"));
        }
        let (events, brief): (Vec<_>, Vec<_>) = all.into_iter().partition(|o| o.0 == Nk2014::ORIGIN);
        let truth = dir.join("truth");
        fs::create_dir_all(&truth)?;
        write_events(&truth.join("events.csv"), &events)?;
        write_events(&truth.join("brief.csv"), &brief)?;
        let stable = stable(collectors.iter().map(|(_, s)| s.guarded.as_slice()));
        let mut f = BufWriter::new(fs::File::create(truth.join("stable.csv"))?);
        writeln!(f, "origin,prefixes")?;
        for (asn, n) in &stable {
            writeln!(f, "{asn},{n}")?;
        }
        f.flush()?;
        let mut truths = Vec::new();
        for (i, t) in collectors[0].1.truths.iter().enumerate() {
            let parts: Vec<PathBuf> = collectors
                .iter()
                .map(|(_, s)| s.truths.get(i).filter(|u| u.time == t.time).map(|u| dir.join(&u.path)))
                .collect::<Option<_>>()
                .ok_or_else(|| SynthError::invalid("truth_at", "the collectors' truth instants differ"))?;
            let rel = PathBuf::from(format!("truth/all.{}.pairs.tsv", crate::fmt::utc_stamp(i64::from(t.time))));
            let (records, bytes) = merge_pairs(&parts, &dir.join(&rel))?;
            truths.push(ArchiveFile {
                path: rel,
                time: t.time,
                records,
                bytes,
            });
        }
        Ok(ScenarioSummary {
            collectors,
            truths,
            events,
            brief,
            stable,
        })
    }
}

/// `origin,start,end` rows, times in RFC 3339 UTC.
fn write_events(path: &Path, rows: &[(u32, u32, u32)]) -> Result<(), SynthError> {
    let mut f = BufWriter::new(fs::File::create(path)?);
    writeln!(f, "origin,start,end")?;
    for &(asn, start, end) in rows {
        let t = |x: u32| crate::fmt::utc_datetime(i64::from(x));
        writeln!(f, "{asn},{},{}", t(start), t(end))?;
    }
    f.flush()?;
    Ok(())
}

/// Per origin, the prefixes some collector keeps seen with it.
fn stable<'a>(guarded: impl Iterator<Item = &'a [(Prefix, u32)]>) -> Vec<(u32, u32)> {
    let mut pairs: Vec<(Prefix, u32)> = guarded.flatten().copied().collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut by_origin: BTreeMap<u32, u32> = BTreeMap::new();
    for (_, asn) in pairs {
        *by_origin.entry(asn).or_default() += 1;
    }
    by_origin.into_iter().collect()
}

/// One line of a pairs file: its key, its text up to the peer count, and
/// the count.
struct Line {
    key: (Prefix, Origin),
    head: String,
    peers: u64,
}

fn parse_line(line: &str) -> Option<Line> {
    let (head, peers) = line.rsplit_once('\t')?;
    let (prefix, origin) = head.split_once('\t')?;
    let origin = match origin {
        "-" => Origin::None,
        o if o.starts_with('{') => {
            let members: Option<Vec<u32>> = o.trim_matches(['{', '}']).split(',').map(|a| a.parse().ok()).collect();
            Origin::set(members?)
        }
        o => Origin::Asn(o.parse().ok()?),
    };
    Some(Line {
        key: (prefix.parse().ok()?, origin),
        head: head.to_string(),
        peers: peers.parse().ok()?,
    })
}

/// Merges pairs files (each in the snapshot's row order) into `out`, the
/// peer counts of equal pairs added (the collectors' peers are apart).
/// Returns the lines and bytes written.
fn merge_pairs(parts: &[PathBuf], out: &Path) -> Result<(u64, u64), SynthError> {
    let bad = |p: &Path| SynthError::invalid("truth", format!("{}: not a pairs file", p.display()));
    let mut readers = Vec::with_capacity(parts.len());
    for p in parts {
        readers.push(BufReader::with_capacity(1 << 20, fs::File::open(p)?).lines());
    }
    let mut next = |i: usize| -> Result<Option<Line>, SynthError> {
        match readers[i].next() {
            None => Ok(None),
            Some(l) => parse_line(&l?).map(Some).ok_or_else(|| bad(&parts[i])),
        }
    };
    let mut heads: Vec<Option<Line>> = Vec::with_capacity(parts.len());
    for i in 0..parts.len() {
        heads.push(next(i)?);
    }
    let mut f = BufWriter::with_capacity(1 << 20, fs::File::create(out)?);
    let (mut lines, mut bytes) = (0u64, 0u64);
    while let Some(key) = heads.iter().flatten().map(|l| &l.key).min().cloned() {
        let (mut head, mut peers) = (String::new(), 0u64);
        for (i, h) in heads.iter_mut().enumerate() {
            if h.as_ref().is_some_and(|l| l.key == key) {
                if let Some(l) = h.take() {
                    peers += l.peers;
                    head = l.head;
                }
                *h = next(i)?;
            }
        }
        let line = format!("{head}\t{peers}\n");
        f.write_all(line.as_bytes())?;
        lines += 1;
        bytes += line.len() as u64;
    }
    f.flush()?;
    Ok((lines, bytes))
}
