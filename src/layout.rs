//! Archive layouts: what a path says about a dump (collector, kind, time),
//! and, for files that follow no known layout, what their first records say.
//!
//! Collectors come from [`collector_from_path`] (the crate's collector
//! naming rules, which snapshots use too: the one source of truth); this
//! module adds the kind and the dump time from the file name:
//!
//! | layout | example | time zone of the name |
//! |---|---|---|
//! | RouteViews | `route-views.linx/bgpdata/2014.12/RIBS/rib.20141222.0000.bz2`, `bgpdata/2014.12/UPDATES/updates.20141222.0015.bz2` (route-views2) | UTC, but US Pacific before 2003-02-03 (route-views.eqix: before 2006-02-01) |
//! | RIS | `rrc00/2014.12/bview.20141222.0000.gz`, `rrc00/2014.12/updates.20141222.0005.gz` | UTC |
//! | BGPStream | `routeviews.route-views.jinx.ribs.1401487200.bz2`, `ris.rrc06.updates.1401488100.gz` | Unix seconds |
//!
//! Pacific names follow the US daylight-saving rules of their time (first
//! Sunday of April to last Sunday of October from 1987 to 2006; second
//! Sunday of March to first Sunday of November from 2007). A wall time that
//! does not exist (02:00–02:59 on the spring-forward Sunday) is read as
//! standard time and one that happens twice (01:00–01:59 on the fall-back
//! Sunday) as its first occurrence, daylight time: Python's `zoneinfo` with
//! `fold=0` does the same.

use crate::mrt::PeerTable;
use crate::naming::collector_from_path;
use crate::source::Source;
use std::fmt;

/// What kind of dump a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A RIB dump (`rib.*`, `bview.*`; TABLE_DUMP or TABLE_DUMP_V2 records).
    Rib,
    /// An updates file (`updates.*`; BGP4MP or BGP records).
    Updates,
    /// Neither the name nor the first records tell.
    Unknown,
}

impl Kind {
    /// `rib`, `updates` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Rib => "rib",
            Kind::Updates => "updates",
            Kind::Unknown => "unknown",
        }
    }

    /// The inverse of [`Kind::as_str`].
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "rib" | "ribs" | "bview" => Some(Kind::Rib),
            "updates" => Some(Kind::Updates),
            "unknown" => Some(Kind::Unknown),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which naming convention a path follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// The RouteViews archive (`…/route-views.X/bgpdata/YYYY.MM/RIBS/rib.…`).
    RouteViews,
    /// The RIPE RIS archive (`…/rrcNN/YYYY.MM/bview.…`).
    Ris,
    /// BGPStream-style flat names (`routeviews.route-views.jinx.ribs.1401487200.bz2`).
    BgpStream,
    /// A `rib.`/`bview.`/`updates.` name outside a known collector directory:
    /// kind and time from the name (read as UTC), collector from the content.
    NameOnly,
    /// No known naming: everything from the file's first records.
    Content,
}

impl Layout {
    /// `routeviews`, `ris`, `bgpstream`, `name` or `content`.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::RouteViews => "routeviews",
            Layout::Ris => "ris",
            Layout::BgpStream => "bgpstream",
            Layout::NameOnly => "name",
            Layout::Content => "content",
        }
    }
}

/// What a path says about the dump it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveName {
    /// The collector, when the path names it.
    pub collector: Option<String>,
    /// RIB or updates, when the file name says.
    pub kind: Kind,
    /// The dump time (Unix seconds, UTC), when the file name says.
    pub time: Option<i64>,
    /// The naming convention recognised.
    pub layout: Layout,
    /// Whether the name's time was read as US Pacific time.
    pub pacific: bool,
}

/// Recognise a path: collector (via [`collector_from_path`]), kind and dump
/// time. Never fails; what the path does not say is left empty.
///
/// ```
/// use mrtsnap::layout::{recognise, Kind, Layout};
/// let n = recognise("mirror/route-views2/bgpdata/2014.12/RIBS/rib.20141222.0000.bz2");
/// assert_eq!((n.collector.as_deref(), n.kind, n.time, n.layout), (Some("route-views2"), Kind::Rib, Some(1_419_206_400), Layout::RouteViews));
/// // Before 2003-02-03 RouteViews names are US Pacific time: 00:00 PST is 08:00 UTC.
/// assert_eq!(recognise("bgpdata/2002.01/RIBS/rib.20020101.0000.bz2").time, Some(1_009_872_000));
/// assert_eq!(recognise("rrc00/2014.12/updates.20141222.0005.gz").kind, Kind::Updates);
/// assert_eq!(recognise("misc/dump.mrt").layout, Layout::Content);
/// ```
pub fn recognise(path: &str) -> ArchiveName {
    let collector = collector_from_path(path);
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let mut name = ArchiveName {
        collector: collector.clone(),
        kind: Kind::Unknown,
        time: None,
        layout: Layout::Content,
        pacific: false,
    };
    // BGPStream: project.collector.kind.epoch[.ext]
    for project in ["routeviews.", "ris."] {
        if let Some(rest) = file.strip_prefix(project) {
            for (tag, kind) in [
                (".ribs.", Kind::Rib),
                (".rib.", Kind::Rib),
                (".bview.", Kind::Rib),
                (".updates.", Kind::Updates),
            ] {
                if let Some((_, tail)) = rest.split_once(tag) {
                    let digits: &str = tail.split('.').next().unwrap_or("");
                    if let Ok(t) = digits.parse::<i64>() {
                        name.kind = kind;
                        name.time = Some(t);
                        name.layout = Layout::BgpStream;
                        return name;
                    }
                }
            }
        }
    }
    let lower = file.to_ascii_lowercase();
    let (kind, rest) = if let Some(r) = lower.strip_prefix("rib.") {
        (Kind::Rib, r)
    } else if let Some(r) = lower.strip_prefix("bview.") {
        (Kind::Rib, r)
    } else if let Some(r) = lower.strip_prefix("updates.") {
        (Kind::Updates, r)
    } else {
        return name;
    };
    name.kind = kind;
    let Some(local) = parse_name_time(rest) else {
        name.layout = if collector.is_some() {
            layout_of(collector.as_deref())
        } else {
            Layout::NameOnly
        };
        return name;
    };
    name.layout = match collector.as_deref() {
        Some(_) => layout_of(collector.as_deref()),
        None => Layout::NameOnly,
    };
    let pacific = name.layout == Layout::RouteViews && collector.as_deref().is_some_and(|c| local < pacific_until(c));
    name.pacific = pacific;
    name.time = Some(if pacific { pacific_to_utc(local) } else { local });
    name
}

fn layout_of(collector: Option<&str>) -> Layout {
    match collector {
        Some(c) if c.starts_with("rrc") => Layout::Ris,
        Some(_) => Layout::RouteViews,
        None => Layout::NameOnly,
    }
}

/// Until when (as written in the name, seconds) a RouteViews collector named
/// its files in Pacific time.
fn pacific_until(collector: &str) -> i64 {
    if collector == "route-views.eqix" {
        days_from_civil(2006, 2, 1) * 86_400
    } else {
        days_from_civil(2003, 2, 3) * 86_400
    }
}

/// `YYYYMMDD.HHMM[...]` → seconds of that wall time counted as if UTC.
fn parse_name_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 13 || b.get(8) != Some(&b'.') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d, h, mi) = (num(0..4)?, num(4..6)?, num(6..8)?, num(9..11)?, num(11..13)?);
    if let Some(&c) = b.get(13) {
        if c.is_ascii_digit() {
            return None;
        }
    }
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

pub use crate::fmt::{civil_from_days, days_from_civil, utc_date, utc_datetime};

/// Day of the week of a day count, 0 = Sunday.
fn weekday(days: i64) -> i64 {
    (days + 4).rem_euclid(7)
}

/// The `n`th (1-based) Sunday of a month, or the last one with `n == 0`.
fn sunday(y: i64, m: i64, n: i64) -> i64 {
    if n == 0 {
        let last = days_from_civil(y, m, days_in_month(y, m));
        last - weekday(last)
    } else {
        let first = days_from_civil(y, m, 1);
        first + (7 - weekday(first)) % 7 + 7 * (n - 1)
    }
}

/// US Pacific wall time (seconds counted as if UTC) → Unix time, with the
/// daylight-saving rules in force that year (see the module docs for the
/// skipped and repeated hours).
///
/// ```
/// use mrtsnap::layout::{days_from_civil, pacific_to_utc};
/// let wall = |y, m, d, h: i64| days_from_civil(y, m, d) * 86_400 + h * 3600;
/// assert_eq!(pacific_to_utc(wall(2002, 1, 15, 12)), wall(2002, 1, 15, 20)); // PST, UTC-8
/// assert_eq!(pacific_to_utc(wall(2002, 7, 15, 12)), wall(2002, 7, 15, 19)); // PDT, UTC-7
/// ```
pub fn pacific_to_utc(local: i64) -> i64 {
    let days = local.div_euclid(86_400);
    let (y, _, _) = civil_from_days(days);
    let (start, end) = if y >= 2007 {
        (sunday(y, 3, 2), sunday(y, 11, 1))
    } else if y >= 1987 {
        (sunday(y, 4, 1), sunday(y, 10, 0))
    } else {
        (sunday(y, 4, 0), sunday(y, 10, 0))
    };
    let dst = local >= start * 86_400 + 3 * 3600 && local < end * 86_400 + 2 * 3600;
    local + if dst { 7 * 3600 } else { 8 * 3600 }
}

/// What the first records of a file say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Probe {
    /// The PEER_INDEX_TABLE's collector BGP id, as text.
    pub collector_id: Option<String>,
    /// The first record's timestamp.
    pub time: Option<i64>,
    /// RIB (TABLE_DUMP, TABLE_DUMP_V2) or updates (BGP4MP, BGP) records.
    pub kind: Option<Kind>,
}

/// Read the first records of `path` (the first 256 KiB decoded) for what
/// its name does not say. Errors give an empty probe: the file is then
/// processed, and fails, like any other.
pub fn probe(path: &std::path::Path) -> Probe {
    let mut p = Probe::default();
    let Ok(src) = Source::open(path) else { return p };
    let mut batches = src.batches(256 << 10);
    let Some(batch) = batches.next() else { return p };
    for raw in batch.records().take(64) {
        let Ok(raw) = raw else { continue };
        let h = raw.header;
        if p.time.is_none() && h.timestamp > 0 {
            p.time = Some(i64::from(h.timestamp));
        }
        match h.mrt_type {
            12 => p.kind = Some(Kind::Rib),
            13 => {
                p.kind = Some(Kind::Rib);
                if p.collector_id.is_none() {
                    if let Some(Ok(t)) = PeerTable::of_record(&raw) {
                        p.collector_id = t.collector_id.map(|c| c.to_string());
                    }
                }
            }
            16 | 17 | 5 if p.kind.is_none() => p.kind = Some(Kind::Updates),
            _ => {}
        }
        if p.kind.is_some() && p.time.is_some() && (p.collector_id.is_some() || p.kind == Some(Kind::Updates)) {
            break;
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wall(y: i64, m: i64, d: i64, h: i64, mi: i64) -> i64 {
        days_from_civil(y, m, d) * 86_400 + h * 3600 + mi * 60
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000, -1, 0, 1, 11_016, 16_426, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(weekday(days_from_civil(2014, 12, 22)), 1); // a Monday
    }

    /// Against Python's zoneinfo America/Los_Angeles (fold=0).
    #[test]
    fn pacific_matches_zoneinfo() {
        let cases = [
            ((2002, 4, 7, 1, 59), 1_018_173_540),
            ((2002, 4, 7, 2, 30), 1_018_175_400),
            ((2002, 4, 7, 3, 0), 1_018_173_600),
            ((2002, 10, 27, 0, 59), 1_035_705_540),
            ((2002, 10, 27, 1, 30), 1_035_707_400),
            ((2002, 10, 27, 2, 0), 1_035_712_800),
            ((2003, 2, 2, 23, 45), 1_044_258_300),
            ((2001, 7, 1, 0, 0), 993_970_800),
            ((1999, 12, 31, 20, 0), 946_699_200),
            ((2005, 6, 15, 12, 0), 1_118_862_000),
            ((2005, 12, 31, 23, 0), 1_136_098_800),
            ((2001, 4, 1, 12, 0), 986_151_600),
            ((2000, 4, 2, 2, 0), 954_669_600),
            ((2000, 10, 29, 1, 59), 972_809_940),
            ((1998, 4, 5, 3, 0), 891_770_400),
        ];
        for ((y, m, d, h, mi), utc) in cases {
            assert_eq!(pacific_to_utc(wall(y, m, d, h, mi)), utc, "{y}-{m}-{d} {h}:{mi}");
        }
    }

    #[test]
    fn layouts() {
        let n = recognise("a/route-views.linx/bgpdata/2014.12/UPDATES/updates.20141222.0015.bz2");
        assert_eq!(n.collector.as_deref(), Some("route-views.linx"));
        assert_eq!(
            (n.kind, n.time, n.layout, n.pacific),
            (Kind::Updates, Some(wall(2014, 12, 22, 0, 15)), Layout::RouteViews, false)
        );
        // Pacific before 2003-02-03 only.
        let n = recognise("bgpdata/2003.02/RIBS/rib.20030202.2200.bz2");
        assert_eq!((n.time, n.pacific), (Some(wall(2003, 2, 3, 6, 0)), true));
        let n = recognise("bgpdata/2003.02/RIBS/rib.20030203.0000.bz2");
        assert_eq!((n.time, n.pacific), (Some(wall(2003, 2, 3, 0, 0)), false));
        // route-views.eqix until 2006-02-01, summer time included.
        let n = recognise("route-views.eqix/bgpdata/2005.07/RIBS/rib.20050701.1200.bz2");
        assert_eq!((n.time, n.pacific), (Some(wall(2005, 7, 1, 19, 0)), true));
        let n = recognise("route-views.eqix/bgpdata/2006.02/RIBS/rib.20060201.0000.bz2");
        assert_eq!((n.time, n.pacific), (Some(wall(2006, 2, 1, 0, 0)), false));
        // RIS is UTC whatever the year.
        let n = recognise("rrc00/2001.01/bview.20010101.0000.gz");
        assert_eq!(
            (n.collector.as_deref(), n.kind, n.time, n.layout),
            (Some("rrc00"), Kind::Rib, Some(wall(2001, 1, 1, 0, 0)), Layout::Ris)
        );
        let n = recognise("ris.rrc06.updates.1401488100.gz");
        assert_eq!(
            (n.collector.as_deref(), n.kind, n.time, n.layout),
            (Some("rrc06"), Kind::Updates, Some(1_401_488_100), Layout::BgpStream)
        );
        let n = recognise("/tmp/rib.20141222.0000.bz2");
        assert_eq!(
            (n.collector, n.kind, n.time, n.layout),
            (None, Kind::Rib, Some(wall(2014, 12, 22, 0, 0)), Layout::NameOnly)
        );
        for bad in [
            "rib.2014122.0000.bz2",
            "rib.20141322.0000",
            "rib.20140230.0000",
            "rib.20141222.2400",
            "rib.20141222.00001",
            "",
            "/",
        ] {
            assert_eq!(recognise(bad).time, None, "{bad}");
        }
        assert_eq!(recognise("x/dump.mrt").layout, Layout::Content);
    }

    #[test]
    fn probe_reads_the_first_records() {
        let dir = std::env::temp_dir().join(format!("mrtsnap-probe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("x.mrt");
        std::fs::write(&f, crate::snapshot::example_rib()).unwrap();
        let p = probe(&f);
        assert_eq!(p.kind, Some(Kind::Rib));
        assert_eq!(p.collector_id.as_deref(), Some("10.0.0.1"));
        assert_eq!(p.time, Some(1_401_487_200));
        std::fs::write(&f, b"").unwrap();
        assert_eq!(probe(&f), Probe::default());
        assert_eq!(probe(&dir.join("missing")), Probe::default());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
