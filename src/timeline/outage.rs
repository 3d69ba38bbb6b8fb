//! Outages in one origin's visibility series: drops below a fraction of a
//! moving median.
//!
//! [`Detector::detect`] reads a series of [`Point`]s (one per time bin, `bin`
//! seconds wide, e.g. the number of the origin's /24s visible to at least half
//! of the full-feed peers) and returns the [`Outage`]s in it, in time order.
//! `bin` serves only the lengths and the severity below; the points carry
//! their own times.
//!
//! # Rules
//!
//! * Input. A point whose value is `None` or not finite (NaN, ±inf) is a
//!   *null* bin. Null bins are skipped: they never start or end an event,
//!   never enter the baseline, and add nothing to the severity. Non-null
//!   points are read in slice order and must have strictly increasing times;
//!   one whose time is at or before that of the last non-null point read is
//!   ignored like a null bin. Times need not be contiguous: the window is
//!   measured in seconds, not in points. Negative values are taken as they
//!   are.
//! * Baseline. The baseline at a bin starting at `t` is the median of the
//!   values in the window: the non-null bins with a time in
//!   `[t - window, t)` (the bin itself excluded) that are not part of an
//!   event (below). The median of an even count is the mean of the two
//!   middle values. A bin has no baseline, so no event can start there,
//!   unless the window holds at least `warmup` values (at least one when
//!   `warmup` is 0). A series shorter than the window needs `warmup` values
//!   from its start; after a gap as long as the window it needs them again.
//! * Threshold. A value `v` is *below* a baseline `b` when
//!   `v < fraction × b` or `v ≤ 0`: a drop to zero from a positive baseline
//!   always counts, whatever `fraction`. Otherwise it is *at or above*.
//! * Start. With no event open, a non-null bin whose value is below a
//!   baseline greater than 0 starts an event at its time. The baseline is
//!   then frozen for the event: a baseline of 0 (or less) never opens one.
//! * During. Every non-null bin below the frozen baseline belongs to the
//!   event. These bins never enter the window, not even after the event
//!   ends (and also when the event is too short to be reported): a long
//!   outage does not drag the baseline of the next days down. A consequence:
//!   a lasting drop (the origin keeps a third of its space for good) stays
//!   one open event until the values come back.
//! * End. The first non-null bin at or above the frozen baseline ends the
//!   event; the event's end is that bin's time. That bin enters the window
//!   and cannot start another event itself.
//! * Length. An event with `end - start < min_bins × bin` is dropped. An
//!   event still open after the last point is reported with no end if
//!   `last + bin - start ≥ min_bins × bin`, where `last` is the time of its
//!   last non-null bin.
//! * Measures, over the event's non-null bins: `depth` is the lowest value
//!   divided by the baseline; `severity` the sum of
//!   `(1 - value / baseline) × bin / 60` (IODA's alert area: minutes of
//!   total loss); `peers_withdrawn` the peer count of the
//!   last non-null bin before the event minus the lowest peer count among
//!   the event's bins, saturating at 0. Peer counts missing (`None`) are
//!   skipped for the lowest; `peers_withdrawn` is 0 when the bin before has
//!   none, when there is no such bin, or when no bin of the event has one.
//!
//! # Cost
//!
//! O(n × w) for n points and windows of w values, with a small constant: the
//! window is kept sorted, each value inserted and removed once by binary
//! search and a move of the values after it. Four weeks of 5-minute bins
//! with a one-day window: about 0.7 ms on one core.
//!
//! # Example
//!
//! ```
//! use mrtsnap::timeline::outage::{Detector, Point};
//!
//! let bin = 300;
//! let values = [4.0; 20].into_iter().chain([0.0; 3]).chain([4.0; 5]);
//! let points: Vec<Point> = values
//!     .enumerate()
//!     .map(|(i, v)| Point { time: i as u32 * bin, value: Some(v), peers: Some(30) })
//!     .collect();
//! let outages = Detector::default().detect(&points, bin);
//! assert_eq!(outages.len(), 1);
//! assert_eq!((outages[0].start, outages[0].end), (20 * bin, Some(23 * bin)));
//! assert_eq!((outages[0].baseline, outages[0].depth, outages[0].severity), (4.0, 0.0, 15.0));
//! ```

use std::collections::VecDeque;

/// One bin of a series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Start of the bin, Unix seconds (UTC).
    pub time: u32,
    /// The value; `None` for no data (e.g. a gap in the archive). A value that
    /// is not finite counts as `None`.
    pub value: Option<f64>,
    /// Number of peers seeing at least one of the origin's prefixes; `None`
    /// with the value.
    pub peers: Option<u32>,
}

/// The detector's parameters; [`Default`] gives IODA-like ones.
#[derive(Clone, Debug, PartialEq)]
pub struct Detector {
    /// Length of the baseline window before each bin, in seconds (default
    /// 86 400: one day).
    pub window: u32,
    /// Values the window must hold for a baseline (default 12).
    pub warmup: usize,
    /// An event starts below `fraction × baseline` (default 0.5).
    pub fraction: f64,
    /// Shortest event reported, in bins (default 2).
    pub min_bins: usize,
}

impl Default for Detector {
    fn default() -> Self {
        Detector {
            window: 86_400,
            warmup: 12,
            fraction: 0.5,
            min_bins: 2,
        }
    }
}

/// One outage of a series; see the [module docs](self) for the rules.
#[derive(Clone, Debug, PartialEq)]
pub struct Outage {
    /// Start of the first bin below the threshold.
    pub start: u32,
    /// Start of the first bin back at or above the threshold (the end of the
    /// event's last bin, null bins included); `None` while still open at the
    /// series' end.
    pub end: Option<u32>,
    /// The baseline frozen at the start.
    pub baseline: f64,
    /// The lowest value during the event divided by the baseline (0.0: all
    /// gone).
    pub depth: f64,
    /// Sum over the event's non-null bins of `(1 - value / baseline)` × bin
    /// minutes.
    pub severity: f64,
    /// Peers of the last non-null bin before the event minus the fewest
    /// peers in a bin of the event (saturating).
    pub peers_withdrawn: u32,
}

impl Outage {
    /// `end - start` in seconds; `None` for an event still open.
    pub fn duration(&self) -> Option<u32> {
        self.end.map(|end| end.saturating_sub(self.start))
    }
}

impl Detector {
    /// The outages of one series of `bin`-second bins, in time order, not
    /// overlapping. Never panics, whatever the values or parameters.
    pub fn detect(&self, points: &[Point], bin: u32) -> Vec<Outage> {
        let need = self.warmup.max(1);
        let min_len = u64::try_from(self.min_bins).unwrap_or(u64::MAX).saturating_mul(u64::from(bin));
        let minutes = f64::from(bin) / 60.0;
        let mut out = Vec::new();
        let mut window = Window::default();
        let mut open: Option<Open> = None;
        // Time and peers of the last non-null point read.
        let mut last: Option<(u32, Option<u32>)> = None;
        for p in points {
            let Some(v) = p.value.filter(|v| v.is_finite()) else {
                continue;
            };
            if last.is_some_and(|(t, _)| p.time <= t) {
                continue;
            }
            let before = last.replace((p.time, p.peers));
            window.evict_before(p.time.saturating_sub(self.window));
            if let Some(ev) = &mut open {
                if self.below(v, ev.baseline) {
                    ev.add(p, v, minutes);
                    continue;
                }
                if let Some(ev) = open.take() {
                    if u64::from(p.time - ev.start) >= min_len {
                        out.push(ev.finish(Some(p.time)));
                    }
                }
            } else if let Some(b) = window.median().filter(|_| window.len() >= need) {
                if b > 0.0 && self.below(v, b) {
                    let mut ev = Open::new(p.time, b, before.and_then(|(_, peers)| peers));
                    ev.add(p, v, minutes);
                    open = Some(ev);
                    continue;
                }
            }
            window.push(p.time, v);
        }
        if let Some(ev) = open {
            if u64::from(ev.last) + u64::from(bin) - u64::from(ev.start) >= min_len {
                out.push(ev.finish(None));
            }
        }
        out
    }

    fn below(&self, v: f64, baseline: f64) -> bool {
        v < self.fraction * baseline || v <= 0.0
    }
}

/// An event being read.
struct Open {
    start: u32,
    baseline: f64,
    /// Time of its last non-null bin.
    last: u32,
    lowest: f64,
    severity: f64,
    peers_before: Option<u32>,
    fewest_peers: Option<u32>,
}

impl Open {
    fn new(start: u32, baseline: f64, peers_before: Option<u32>) -> Self {
        Open {
            start,
            baseline,
            last: start,
            lowest: f64::INFINITY,
            severity: 0.0,
            peers_before,
            fewest_peers: None,
        }
    }

    fn add(&mut self, p: &Point, v: f64, minutes: f64) {
        self.last = p.time;
        self.lowest = self.lowest.min(v);
        self.severity += (1.0 - v / self.baseline) * minutes;
        if let Some(n) = p.peers {
            self.fewest_peers = Some(self.fewest_peers.map_or(n, |f| f.min(n)));
        }
    }

    fn finish(self, end: Option<u32>) -> Outage {
        let peers_withdrawn = match (self.peers_before, self.fewest_peers) {
            (Some(before), Some(fewest)) => before.saturating_sub(fewest),
            _ => 0,
        };
        Outage {
            start: self.start,
            end,
            baseline: self.baseline,
            depth: self.lowest / self.baseline,
            severity: self.severity,
            peers_withdrawn,
        }
    }
}

/// The baseline window: its values in time order and the same values sorted
/// (finite values only, so `total_cmp` is their numeric order and finds each
/// one again for removal).
#[derive(Default)]
struct Window {
    by_time: VecDeque<(u32, f64)>,
    sorted: Vec<f64>,
}

impl Window {
    fn len(&self) -> usize {
        self.sorted.len()
    }

    fn push(&mut self, time: u32, v: f64) {
        self.by_time.push_back((time, v));
        let at = self.sorted.partition_point(|x| x.total_cmp(&v).is_lt());
        self.sorted.insert(at, v);
    }

    /// Removes the values older than `from`.
    fn evict_before(&mut self, from: u32) {
        while let Some(&(time, v)) = self.by_time.front() {
            if time >= from {
                break;
            }
            self.by_time.pop_front();
            let at = self.sorted.partition_point(|x| x.total_cmp(&v).is_lt());
            self.sorted.remove(at);
        }
    }

    fn median(&self) -> Option<f64> {
        let n = self.sorted.len();
        if n % 2 == 1 {
            self.sorted.get(n / 2).copied()
        } else {
            // Halves first: the sum of two large finite values may overflow.
            let (a, b) = (self.sorted.get((n / 2).checked_sub(1)?)?, self.sorted.get(n / 2)?);
            Some(a / 2.0 + b / 2.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BIN: u32 = 300;
    /// 2014-12-22T00:00Z.
    const T0: u32 = 1_419_206_400;

    /// Points every `BIN` seconds from `T0`, with the peers given.
    fn series(values: &[(Option<f64>, Option<u32>)]) -> Vec<Point> {
        (0u32..)
            .zip(values)
            .map(|(i, &(value, peers))| Point {
                time: T0 + i * BIN,
                value,
                peers,
            })
            .collect()
    }

    /// Points every `BIN` seconds from `T0`, 30 peers with every value.
    fn plain(values: impl IntoIterator<Item = f64>) -> Vec<Point> {
        let v: Vec<_> = values.into_iter().map(|v| (Some(v), Some(30))).collect();
        series(&v)
    }

    fn rep(v: f64, n: usize) -> impl Iterator<Item = f64> {
        std::iter::repeat_n(v, n)
    }

    fn at(bins: u32) -> u32 {
        T0 + bins * BIN
    }

    fn outage(start: u32, end: Option<u32>, baseline: f64, depth: f64, severity: f64, peers: u32) -> Outage {
        Outage {
            start,
            end,
            baseline,
            depth,
            severity,
            peers_withdrawn: peers,
        }
    }

    /// North Korea, December 2014: 4 /24s, gone 16:15–01:45 and 15:40–16:10.
    #[test]
    fn north_korea() {
        let hhmm = |day: u32, h: u32, m: u32| (day * 1440 + h * 60 + m) / 5;
        let out1 = hhmm(0, 16, 15)..hhmm(1, 1, 45);
        let out2 = hhmm(1, 15, 40)..hhmm(1, 16, 10);
        assert_eq!((out1.len(), out2.len()), (114, 6));
        let values: Vec<_> = (0..576)
            .map(|i| match out1.contains(&i) || out2.contains(&i) {
                true => (Some(0.0), Some(0)),
                false => (Some(4.0), Some(30)),
            })
            .collect();
        assert_eq!(
            Detector::default().detect(&series(&values), BIN),
            [
                outage(T0 + 58_500, Some(T0 + 92_700), 4.0, 0.0, 570.0, 30),
                outage(T0 + 142_800, Some(T0 + 144_600), 4.0, 0.0, 30.0, 30),
            ]
        );
        let found = Detector::default().detect(&series(&values), BIN);
        assert_eq!(found.iter().map(Outage::duration).collect::<Vec<_>>(), [Some(34_200), Some(1_800)]);
    }

    #[test]
    fn min_bins() {
        let d = Detector::default();
        assert_eq!(d.detect(&plain(rep(4.0, 20).chain([0.0]).chain(rep(4.0, 5))), BIN), []);
        assert_eq!(
            d.detect(&plain(rep(4.0, 20).chain([0.0, 1.0]).chain(rep(4.0, 5))), BIN),
            [outage(at(20), Some(at(22)), 4.0, 0.0, 5.0 + 3.75, 0)]
        );
        // A dip of one bin, open at the end, is not reported either.
        assert_eq!(d.detect(&plain(rep(4.0, 20).chain([0.0])), BIN), []);
    }

    #[test]
    fn nulls_inside_an_outage() {
        let mut v: Vec<_> = rep(4.0, 20).map(|v| (Some(v), Some(30))).collect();
        v.extend([(Some(0.0), Some(3)), (Some(0.0), Some(2))]);
        v.extend([(None, None), (Some(f64::NAN), Some(0)), (Some(f64::INFINITY), None)]);
        v.extend([(Some(0.0), Some(5)), (Some(4.0), Some(30))]);
        assert_eq!(
            Detector::default().detect(&series(&v), BIN),
            [outage(at(20), Some(at(26)), 4.0, 0.0, 15.0, 28)]
        );
    }

    #[test]
    fn nulls_alone() {
        let mut v: Vec<_> = rep(4.0, 20).map(|v| (Some(v), Some(30))).collect();
        v.extend(std::iter::repeat_n((None, None), 30));
        v.extend(rep(4.0, 10).map(|v| (Some(v), Some(30))));
        assert_eq!(Detector::default().detect(&series(&v), BIN), []);
        // Missing points (a jump in time) alike.
        let mut p = plain(rep(4.0, 40));
        p.iter_mut().skip(20).for_each(|p| p.time += 30 * BIN);
        assert_eq!(Detector::default().detect(&p, BIN), []);
    }

    #[test]
    fn zero_baseline_never_opens() {
        assert_eq!(Detector::default().detect(&plain(rep(0.0, 40)), BIN), []);
        assert_eq!(Detector::default().detect(&plain(rep(0.0, 20).chain(rep(-1.0, 5))), BIN), []);
    }

    #[test]
    fn warmup() {
        // 10 values then zeros: the zeros have fewer than 12 values before
        // them, so no baseline (and they enter the window).
        let p = plain(rep(4.0, 10).chain(rep(0.0, 2)));
        assert_eq!(Detector::default().detect(&p, BIN), []);
        let d = Detector {
            warmup: 10,
            ..Detector::default()
        };
        assert_eq!(d.detect(&p, BIN), [outage(at(10), None, 4.0, 0.0, 10.0, 0)]);
    }

    #[test]
    fn half_drop() {
        let d = Detector::default();
        assert_eq!(d.detect(&plain(rep(4.0, 20).chain(rep(2.0, 10))), BIN), []);
        assert_eq!(
            d.detect(&plain(rep(4.0, 20).chain(rep(1.0, 10))), BIN),
            [outage(at(20), None, 4.0, 0.25, 37.5, 0)]
        );
    }

    #[test]
    fn slow_growth() {
        let d = Detector::default();
        assert_eq!(d.detect(&plain((0..2000).map(|i| 100.0 + f64::from(i))), BIN), []);
        assert_eq!(d.detect(&plain((0..2000).map(|i| 1.001f64.powi(i))), BIN), []);
    }

    #[test]
    fn peers_withdrawn() {
        let mut v: Vec<_> = rep(4.0, 20).map(|v| (Some(v), Some(30))).collect();
        v.extend([(Some(4.0), Some(40)), (None, Some(1))]);
        v.extend([
            (Some(1.0), Some(35)),
            (Some(0.0), Some(28)),
            (Some(1.5), None),
            (Some(1.0), Some(31)),
        ]);
        v.push((Some(3.0), Some(39)));
        assert_eq!(
            Detector::default().detect(&series(&v), BIN),
            [outage(at(22), Some(at(26)), 4.0, 0.0, 3.75 + 5.0 + 3.125 + 3.75, 12)]
        );
        // No peer count before the event: 0.
        v[20].1 = None;
        assert_eq!(Detector::default().detect(&series(&v), BIN)[0].peers_withdrawn, 0);
    }

    /// 2 for two hours, 8 for two hours, then 3: against the last hour (all
    /// 8) 3 is below half; against the whole day (median 5) it is not.
    #[test]
    fn window_honoured() {
        let p = plain(rep(2.0, 24).chain(rep(8.0, 24)).chain(rep(3.0, 3)));
        let hour = Detector {
            window: 3600,
            warmup: 3,
            ..Detector::default()
        };
        assert_eq!(hour.detect(&p, BIN), [outage(at(48), None, 8.0, 0.375, 9.375, 0)]);
        assert_eq!(Detector::default().detect(&p, BIN), []);
        // Seconds, not points: with 10 bins missing before the 3s, the hour
        // before them holds the last two 8s alone (the last 12 points have a
        // median of 2).
        let mut p = plain(rep(2.0, 24).chain(rep(8.0, 6)).chain(rep(3.0, 3)));
        p.iter_mut().skip(30).for_each(|p| p.time += 10 * BIN);
        let hour = Detector { warmup: 1, ..hour };
        assert_eq!(hour.detect(&p, BIN), [outage(at(40), None, 8.0, 0.375, 9.375, 0)]);
    }

    /// After a long outage the baseline is still that of before it (with the
    /// outage's 1s in the window, its median would be 1).
    #[test]
    fn event_bins_stay_out_of_the_baseline() {
        let p = plain(rep(8.0, 12).chain(rep(1.0, 30)).chain([6.0, 2.0, 2.0]));
        assert_eq!(
            Detector::default().detect(&p, BIN),
            [
                outage(at(12), Some(at(42)), 8.0, 0.125, 131.25, 0),
                outage(at(43), None, 8.0, 0.25, 7.5, 0),
            ]
        );
    }

    #[test]
    fn out_of_order_points_are_ignored() {
        let mut p = plain(rep(4.0, 20).chain(rep(0.0, 3)).chain([4.0]));
        p.insert(
            21,
            Point {
                time: at(3),
                value: Some(100.0),
                peers: None,
            },
        );
        assert_eq!(
            Detector::default().detect(&p, BIN),
            [outage(at(20), Some(at(23)), 4.0, 0.0, 15.0, 0)]
        );
    }

    fn value() -> impl Strategy<Value = Option<f64>> {
        prop_oneof![Just(None), any::<f64>().prop_map(Some), (0.0..8.0).prop_map(Some), Just(Some(0.0))]
    }

    proptest! {
        #[test]
        fn never_panics_events_ordered(
            steps in proptest::collection::vec((0u32..900, value(), proptest::option::of(0u32..50)), 0..400),
            wild in proptest::collection::vec((any::<u32>(), value(), any::<Option<u32>>()), 0..20),
            window in 0u32..20_000, warmup in 0usize..20, fraction in any::<f64>(),
            min_bins in 0usize..5, bin in prop_oneof![Just(300u32), any::<u32>()],
        ) {
            let d = Detector { window, warmup, fraction, min_bins };
            let mut t = T0;
            let points: Vec<_> = steps
                .iter()
                .map(|&(step, value, peers)| { t = t.saturating_add(step); Point { time: t, value, peers } })
                .collect();
            let found = d.detect(&points, bin);
            for (i, o) in found.iter().enumerate() {
                prop_assert!(o.baseline > 0.0 && o.baseline.is_finite());
                prop_assert!(o.end.is_none_or(|end| end > o.start));
                if let Some(next) = found.get(i + 1) {
                    prop_assert!(o.end.is_some_and(|end| end <= next.start));
                }
            }
            let shuffled: Vec<_> = wild.iter().map(|&(time, value, peers)| Point { time, value, peers }).collect();
            let _ = d.detect(&shuffled, bin);
            let _ = (Detector { window: u32::MAX, warmup: 0, fraction: f64::NAN, min_bins: usize::MAX }).detect(&shuffled, bin);
        }

        /// The sliding window's median against sorting the window at each step.
        #[test]
        fn window_median(values in proptest::collection::vec((0u32..50, -1e308f64..1e308), 0..200), span in 0u32..300) {
            let mut w = Window::default();
            let mut t = 0u32;
            let mut all = Vec::new();
            for (step, v) in values {
                t += step;
                w.evict_before(t.saturating_sub(span));
                all.retain(|&(time, _)| time >= t.saturating_sub(span));
                let mut naive: Vec<f64> = all.iter().map(|&(_, v)| v).collect();
                naive.sort_by(f64::total_cmp);
                let n = naive.len();
                let want = match n {
                    0 => None,
                    _ if n % 2 == 1 => Some(naive[n / 2]),
                    _ => Some(naive[n / 2 - 1] / 2.0 + naive[n / 2] / 2.0),
                };
                prop_assert_eq!(w.median(), want);
                prop_assert_eq!(w.len(), n);
                w.push(t, v);
                all.push((t, v));
            }
        }
    }
}
