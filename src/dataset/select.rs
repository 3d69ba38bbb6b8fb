//! Selecting inputs: by collector, time, kind, and one RIB per collector-day.

use super::discover::match_segment;
use super::layout::Kind;
use std::collections::BTreeMap;
use std::str::FromStr;

/// One RIB per collector per (UTC) day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Daily {
    /// The RIB whose dump time is nearest this time of day (seconds after
    /// midnight UTC); ties go to the earlier dump.
    At(u32),
    /// The RIB of median size (of an even count, the larger of the two
    /// middle ones): CAIDA's choice for its pfx2as files, which passes over
    /// truncated dumps. Ties in size go to the earlier dump.
    MedianSize,
}

impl FromStr for Daily {
    type Err = String;
    /// `HH:MM` or `median-size`.
    fn from_str(s: &str) -> Result<Daily, String> {
        if s == "median-size" || s == "median" {
            return Ok(Daily::MedianSize);
        }
        let bad = || format!("--daily {s:?}: expected HH:MM (e.g. 00:00) or median-size");
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok(Daily::At(h * 3600 + m * 60))
    }
}

/// Which inputs to take.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Collector names or glob patterns (`rrc0*`); empty: all.
    pub collectors: Vec<String>,
    /// Dumps at or after this time (Unix seconds).
    pub from: Option<i64>,
    /// Dumps at or before this time (Unix seconds).
    pub until: Option<i64>,
    /// Only this kind.
    pub kind: Option<Kind>,
    /// One RIB per collector-day (updates files are then left out).
    pub daily: Option<Daily>,
}

/// What selection looks at for one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// Collector name (`unknown` when neither path nor content says).
    pub collector: &'a str,
    /// Kind.
    pub kind: Kind,
    /// Dump time, when known.
    pub time: Option<i64>,
    /// Size in bytes.
    pub size: u64,
}

pub use crate::fmt::parse_time;

impl Selection {
    /// Whether one input passes the collector, kind and time filters (not
    /// `daily`, which looks at all of them). An input whose time is unknown
    /// passes the time filters: it cannot be placed, and is kept so that
    /// its failure is recorded.
    pub fn keeps(&self, c: &Candidate<'_>) -> bool {
        if !self.collectors.is_empty() && !self.collectors.iter().any(|p| match_segment(p.as_bytes(), c.collector.as_bytes())) {
            return false;
        }
        if let Some(k) = self.kind {
            if c.kind != k && c.kind != Kind::Unknown {
                return false;
            }
        }
        if self.daily.is_some() && c.kind == Kind::Updates {
            return false;
        }
        if let Some(t) = c.time {
            if self.from.is_some_and(|f| t < f) || self.until.is_some_and(|u| t > u) {
                return false;
            }
        }
        true
    }

    /// The indexes of the candidates selected, in input order.
    ///
    /// ```
    /// use mrtsnap::layout::Kind;
    /// use mrtsnap::dataset::select::{Candidate, Daily, Selection};
    /// let day = 1_419_206_400;
    /// let c = |t: i64, size| Candidate { collector: "rrc00", kind: Kind::Rib, time: Some(day + t), size };
    /// let all = [c(0, 90), c(8 * 3600, 100), c(16 * 3600, 10), c(86_400 + 3600, 5)];
    /// let sel = Selection { daily: Some("08:30".parse().unwrap()), ..Default::default() };
    /// assert_eq!(sel.select(&all), [1, 3]);
    /// let sel = Selection { daily: Some(Daily::MedianSize), ..Default::default() };
    /// assert_eq!(sel.select(&all), [0, 3]);
    /// ```
    pub fn select(&self, all: &[Candidate<'_>]) -> Vec<usize> {
        let kept: Vec<usize> = (0..all.len()).filter(|&i| all.get(i).is_some_and(|c| self.keeps(c))).collect();
        let Some(daily) = self.daily else { return kept };
        // Group the RIBs with a known time by (collector, UTC day).
        let mut groups: BTreeMap<(&str, i64), Vec<usize>> = BTreeMap::new();
        let mut out = Vec::new();
        for &i in &kept {
            let Some(c) = all.get(i) else { continue };
            match c.time {
                Some(t) if c.kind == Kind::Rib => groups.entry((c.collector, t.div_euclid(86_400))).or_default().push(i),
                _ => out.push(i),
            }
        }
        for ((_, day), mut members) in groups {
            let key = |i: &usize| all.get(*i).map_or((0, 0), |c| (c.size, c.time.unwrap_or(0)));
            let pick = match daily {
                Daily::At(secs) => {
                    let target = day * 86_400 + i64::from(secs);
                    members.iter().copied().min_by_key(|i| {
                        let t = all.get(*i).and_then(|c| c.time).unwrap_or(0);
                        ((t - target).abs(), t)
                    })
                }
                Daily::MedianSize => {
                    members.sort_by_key(|i| {
                        let (s, t) = key(i);
                        (s, std::cmp::Reverse(t))
                    });
                    members.get(members.len() / 2).copied()
                }
            };
            out.extend(pick);
        }
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        let day = 1_419_206_400;
        let c = |col, kind, t: Option<i64>| Candidate {
            collector: col,
            kind,
            time: t.map(|t| day + t),
            size: 1,
        };
        let all = [
            c("rrc00", Kind::Rib, Some(0)),
            c("rrc01", Kind::Updates, Some(300)),
            c("route-views2", Kind::Rib, Some(86_400)),
            c("unknown", Kind::Unknown, None),
        ];
        let s = |sel: Selection| sel.select(&all);
        assert_eq!(s(Selection::default()), [0, 1, 2, 3]);
        assert_eq!(
            s(Selection {
                collectors: vec!["rrc*".into()],
                ..Default::default()
            }),
            [0, 1]
        );
        assert_eq!(
            s(Selection {
                kind: Some(Kind::Rib),
                ..Default::default()
            }),
            [0, 2, 3]
        );
        assert_eq!(
            s(Selection {
                kind: Some(Kind::Updates),
                ..Default::default()
            }),
            [1, 3]
        );
        let from = Some(day + 1);
        assert_eq!(
            s(Selection {
                from,
                ..Default::default()
            }),
            [1, 2, 3]
        );
        assert_eq!(
            s(Selection {
                until: Some(day + 300),
                ..Default::default()
            }),
            [0, 1, 3]
        );
        assert_eq!(
            s(Selection {
                daily: Some(Daily::At(0)),
                ..Default::default()
            }),
            [0, 2, 3]
        );
        // Median of an even count: the larger middle one; ties in size: the earlier.
        let sized = |t: i64, size| Candidate {
            collector: "c",
            kind: Kind::Rib,
            time: Some(day + t),
            size,
        };
        let m = Selection {
            daily: Some(Daily::MedianSize),
            ..Default::default()
        };
        assert_eq!(m.select(&[sized(0, 10), sized(7200, 30), sized(14_400, 20), sized(21_600, 5)]), [2]);
        assert_eq!(m.select(&[sized(0, 10), sized(7200, 10)]), [0]);
        // Nearest 00:00 within the day; ties to the earlier.
        let at = Selection {
            daily: Some("12:00".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(at.select(&[sized(6 * 3600, 1), sized(18 * 3600, 1)]), [0]);
        assert!("24:00".parse::<Daily>().is_err() && "x".parse::<Daily>().is_err());
        assert!(parse_time("1969-12-31", false).is_err());
        assert_eq!(parse_time("2014-12-22 01:02:03", false), Ok(day + 3723));
    }
}
