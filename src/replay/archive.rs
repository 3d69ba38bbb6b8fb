//! Many inputs, of one collector or several, replayed to increasing
//! instants: [`Archive`].
//!
//! The inputs are placed before anything is read: each collector's apart
//! (from the path, else a RIB's peer table: [`crate::layout`]; inputs that
//! tell neither join the one collector the others name, when there is
//! only one, and form a group of their own otherwise), in time
//! order (the time in the name, else the first record's), a RIB before an
//! updates file of the same time. Each collector has its own [`Replay`];
//! [`Archive::state_at`] brings every one to the instant (in parallel, one
//! rayon task per collector, each decoding on the pool) and merges their
//! snapshots, peers apart. Instants asked in increasing order are built
//! incrementally: every input is read once ([`Replay::feed`]); an earlier
//! instant starts the collectors over.
//!
//! # Gaps
//!
//! A missing updates file is reported, never bridged ([`Archive::gaps`]).
//! A collector's updates-file interval is read from its inputs, not
//! assumed: the smallest difference between the times in the names of two
//! consecutive updates files, and, when a file's records fill less (two
//! files ten minutes apart holding five minutes each), the longest span of
//! records of any file read, rounded up to the interval archives use that
//! it reaches within 30 s (1, 2, 5, 10, 15, 30 or 60 minutes; a sparse
//! 5-minute file's records may span 4). An updates file
//! at time `U` covers `[U, U + interval)`, a RIB dump at `R` the instant
//! `R`. From the first input on, every second up to the instant that no
//! input covers is in a gap.

use super::{Applied, Decoded, Replay};
use crate::error::{Error, ErrorKind, Result};
use crate::layout::{probe, recognise, Kind};
use crate::snapshot::Snapshot;
use crate::source::Source;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One input, placed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The path given.
    pub path: PathBuf,
    /// RIB dump or updates (from the name, else the first records).
    pub kind: Kind,
    /// Its time: from the name, else the first record's timestamp.
    pub time: u32,
}

/// Seconds no input of a collector covers, up to the instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    /// The collector (empty when its inputs do not tell).
    pub collector: String,
    /// The first second missing.
    pub from: u32,
    /// The first second after the gap: the next input's time, or the
    /// instant plus one when nothing follows.
    pub until: u32,
    /// The input before the gap.
    pub after: Option<PathBuf>,
    /// The input after it; `None` when the gap runs to the instant.
    pub before: Option<PathBuf>,
    /// The collector's updates-file interval, when its inputs tell.
    pub interval: Option<u32>,
}

/// A gap in words: `no updates from FROM until UNTIL between A and B; N
/// updates file(s) of M min missing` (`up to the instant, LAST` when
/// nothing follows it; `after A` or `before B` when only one side is
/// known).
///
/// ```
/// use mrtsnap::replay::Gap;
/// let g = Gap { collector: "rrc00".into(), from: 1_419_206_700, until: 1_419_207_600,
///     after: Some("u.0000.gz".into()), before: Some("u.0020.gz".into()), interval: Some(300) };
/// assert_eq!(g.to_string(), "no updates from 2014-12-22T00:05:00Z until 2014-12-22T00:20:00Z \
///     between u.0000.gz and u.0020.gz; 3 updates file(s) of 5 min missing");
/// ```
impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::fmt::utc_datetime;
        write!(f, "no updates from {} ", utc_datetime(i64::from(self.from)))?;
        match self.before {
            Some(_) => write!(f, "until {}", utc_datetime(i64::from(self.until)))?,
            None => write!(f, "up to the instant, {}", utc_datetime(i64::from(self.until) - 1))?,
        }
        match (&self.after, &self.before) {
            (Some(a), Some(b)) => write!(f, " between {} and {}", a.display(), b.display())?,
            (Some(a), None) => write!(f, " after {}", a.display())?,
            (None, Some(b)) => write!(f, " before {}", b.display())?,
            (None, None) => {}
        }
        if let (Some(n), Some(i)) = (self.missing_files(), self.interval) {
            write!(f, "; {n} updates file(s) of {} min missing", i / 60)?;
        }
        Ok(())
    }
}

impl Gap {
    /// How many updates files the gap holds, when the interval is known.
    pub fn missing_files(&self) -> Option<u32> {
        self.interval.map(|i| (self.until - self.from).div_ceil(i.max(1)))
    }
}

/// The inputs and the replay of one collector.
#[derive(Debug)]
pub struct Collector {
    name: String,
    inputs: Vec<Input>,
    /// What reading each input gave, for those read (`None`: not yet).
    applied: Vec<Option<Applied>>,
    /// The next input to read.
    next: usize,
    replay: Replay,
    at: Option<u32>,
    record_changes: bool,
}

impl Collector {
    fn new(name: String, inputs: Vec<Input>) -> Collector {
        let n = inputs.len();
        Collector {
            name,
            inputs,
            applied: vec![None; n],
            next: 0,
            replay: Replay::new(),
            at: None,
            record_changes: false,
        }
    }

    /// The collector's name (empty when its inputs do not tell).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its inputs, in replay order.
    pub fn inputs(&self) -> &[Input] {
        &self.inputs
    }

    /// Its replay, at the last instant asked.
    pub fn replay(&self) -> &Replay {
        &self.replay
    }

    /// Its replay, to drain changes ([`Replay::drain_changes`]).
    pub fn replay_mut(&mut self) -> &mut Replay {
        &mut self.replay
    }

    fn advance(&mut self, t: u32, open: &(dyn Fn(&Path) -> Result<Source> + Sync)) -> Result<(), InputError> {
        if self.at.is_some_and(|a| a > t) {
            self.replay = Replay::new();
            self.replay.record_changes(self.record_changes);
            self.applied.iter_mut().for_each(|a| *a = None);
            self.next = 0;
        }
        self.replay.advance(t);
        while let Some(input) = self.inputs.get(self.next).filter(|i| i.time <= t) {
            if input.kind == Kind::Updates {
                self.updates_until(t, open)?;
                continue;
            }
            let src = open(&input.path).map_err(|e| named(&input.path, e))?;
            let applied = self.replay.feed(&src, t).map_err(|e| named(&input.path, e))?;
            if applied.later {
                break;
            }
            self.applied[self.next] = Some(applied);
            self.next += 1;
        }
        self.at = Some(t);
        Ok(())
    }

    /// Feed the run of updates files from `next` on up to `t`: a few
    /// decoded side by side on the pool while the ones before are applied
    /// (a 5-minute file is one batch: decoded alone it would keep one core
    /// busy and the others idle).
    fn updates_until(&mut self, t: u32, open: &(dyn Fn(&Path) -> Result<Source> + Sync)) -> Result<(), InputError> {
        let end = self.next
            + self.inputs[self.next..]
                .iter()
                .take_while(|i| i.kind == Kind::Updates && i.time <= t)
                .count();
        let ahead = 2 * rayon::current_num_threads();
        let decoder = self.replay.decoder();
        let decode = |inputs: &[Input]| -> Vec<Result<Decoded, InputError>> {
            inputs
                .par_iter()
                .map(|i| {
                    let src = open(&i.path).map_err(|e| named(&i.path, e))?;
                    decoder.decode(&src).map_err(|e| named(&i.path, e))
                })
                .collect()
        };
        let mut start = self.next;
        let mut decoded = decode(&self.inputs[start..end.min(start + ahead)]);
        while !decoded.is_empty() {
            let next = (start + decoded.len()).min(end);
            let upcoming = &self.inputs[next..end.min(next + ahead)];
            let (replay, applied) = (&mut self.replay, &mut self.applied);
            let inputs = &self.inputs;
            let (done, following) = rayon::join(
                || -> Result<(), InputError> {
                    for (i, d) in (start..).zip(decoded) {
                        let a = replay.feed_decoded(d?, t).map_err(|e| named(&inputs[i].path, e))?;
                        applied[i] = Some(a);
                    }
                    Ok(())
                },
                || decode(upcoming),
            );
            done?;
            self.next = next;
            start = next;
            decoded = following;
        }
        Ok(())
    }

    /// The interval of the collector's updates files: see the module docs.
    pub fn interval(&self) -> Option<u32> {
        let times: Vec<u32> = self.updates().map(|(i, _)| i.time).collect();
        let by_names = times.windows(2).map(|w| w[1] - w[0]).filter(|&d| d > 0).min();
        let by_records = self
            .updates()
            .filter_map(|(i, a)| Some(a?.last?.saturating_sub(i.time) + 1))
            .max()
            .map(standard_interval);
        match (by_names, by_records) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn updates(&self) -> impl Iterator<Item = (&Input, Option<Applied>)> {
        self.inputs
            .iter()
            .zip(&self.applied)
            .filter(|(i, a)| i.kind != Kind::Rib && !a.is_some_and(|a| a.rib))
            .map(|(i, a)| (i, *a))
    }

    /// The gaps up to the last instant asked: see the module docs.
    pub fn gaps(&self) -> Vec<Gap> {
        let Some(t) = self.at else { return Vec::new() };
        let interval = self.interval();
        let mut out = Vec::new();
        let mut cursor: Option<(u32, Option<&Path>)> = None;
        for (input, applied) in self.inputs.iter().zip(&self.applied) {
            let Some(applied) = applied else { continue };
            let (from, after) = cursor.unwrap_or((input.time, None));
            if input.time > from {
                out.push(Gap {
                    collector: self.name.clone(),
                    from,
                    until: input.time,
                    after: after.map(Path::to_path_buf),
                    before: Some(input.path.clone()),
                    interval,
                });
            }
            let end = if applied.rib {
                input.time
            } else {
                input.time.saturating_add(interval.unwrap_or(1))
            };
            cursor = Some((from.max(end), Some(&input.path)));
        }
        if let Some((from, after)) = cursor.filter(|c| c.0 < t) {
            out.push(Gap {
                collector: self.name.clone(),
                from,
                until: t.saturating_add(1),
                after: after.map(Path::to_path_buf),
                before: None,
                interval,
            });
        }
        out
    }
}

/// The updates-file interval a span of records (seconds, first to last
/// plus one) stands for: the shortest of the intervals archives use (1, 2,
/// 5, 10, 15, 30, 60 minutes) that the span reaches within 30 s, else the
/// span to the whole minute. A sparse file's records fill less than its
/// interval (the generated archives' 5-minute files at small scale span
/// 4 minutes), so a span is rounded up to the interval it belongs to.
fn standard_interval(span: u32) -> u32 {
    const MINUTES: [u32; 7] = [1, 2, 5, 10, 15, 30, 60];
    MINUTES
        .iter()
        .map(|m| m * 60)
        .find(|&i| span.saturating_sub(30) <= i)
        .unwrap_or((span + 30) / 60 * 60)
}

/// An error of one input of an [`Archive`], with its path.
#[derive(Clone, Debug)]
pub struct InputError {
    /// The input.
    pub path: PathBuf,
    /// What went wrong.
    pub error: Error,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.error)
    }
}

impl std::error::Error for InputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

fn named(path: &Path, error: Error) -> InputError {
    InputError {
        path: path.to_path_buf(),
        error,
    }
}

/// An opener of inputs.
type Opener = Box<dyn Fn(&Path) -> Result<Source> + Send + Sync>;

/// RIB dumps and updates files of one or several collectors, given in any
/// order, replayed to the instants asked; see the [module docs](self).
///
/// # Example
/// ```
/// use mrtsnap::replay::Archive;
///
/// // Any order: placed by their first records' times (their names say none).
/// let mut archive = Archive::new(["corpus/updates.synth.small.mrt.gz", "corpus/rib.synth.small.mrt.bz2"])?;
/// let at_dump = archive.state_at(1_700_000_000)?;
/// let after = archive.state_at(1_700_000_900)?;
/// assert_eq!(archive.collectors().len(), 1);
/// assert_eq!((at_dump.len(), after.len()), (3876, 6050));
/// assert!(archive.gaps().is_empty());
/// # Ok::<(), mrtsnap::replay::InputError>(())
/// ```
pub struct Archive {
    collectors: Vec<Collector>,
    open: Opener,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("collectors", &self.collectors)
            .finish_non_exhaustive()
    }
}

impl Archive {
    /// Place `paths`: by collector, in time order (see the module docs).
    /// Nothing is read but the first records of inputs whose names say
    /// neither time nor collector.
    ///
    /// # Errors
    /// An input that neither its name nor its first record places in
    /// time.
    pub fn new<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Result<Archive, InputError> {
        let mut by_collector: BTreeMap<String, Vec<Input>> = BTreeMap::new();
        for path in paths {
            let path = path.as_ref();
            let display = path.to_string_lossy();
            let name = recognise(&display);
            let p = (name.time.is_none() || name.collector.is_none()).then(|| probe(path));
            let unplaced = || {
                let what = "an input that neither its name nor its first record places in time";
                named(path, Error::new(ErrorKind::Unsupported { what }, 0))
            };
            let time = name.time.or_else(|| p.as_ref().and_then(|p| p.time)).ok_or_else(unplaced)?;
            let time = u32::try_from(time).map_err(|_| unplaced())?;
            let kind = match name.kind {
                Kind::Unknown => p.as_ref().and_then(|p| p.kind).unwrap_or(Kind::Unknown),
                k => k,
            };
            let collector = name.collector.or_else(|| p.and_then(|p| p.collector_id)).unwrap_or_default();
            by_collector.entry(collector).or_default().push(Input {
                path: path.to_path_buf(),
                kind,
                time,
            });
        }
        // Inputs that tell no collector join the one collector the others
        // name, if there is only one.
        if by_collector.len() == 2 {
            if let Some(unnamed) = by_collector.remove("") {
                by_collector.values_mut().for_each(|v| v.extend(unnamed.iter().cloned()));
            }
        }
        let collectors = by_collector
            .into_iter()
            .map(|(name, mut inputs)| {
                inputs.sort_by(|a, b| (a.time, a.kind != Kind::Rib, &a.path).cmp(&(b.time, b.kind != Kind::Rib, &b.path)));
                Collector::new(name, inputs)
            })
            .collect();
        Ok(Archive {
            collectors,
            open: Box::new(|p: &Path| Source::open(p)),
        })
    }

    /// Open inputs with `open` instead of [`Source::open`].
    pub fn with_opener(mut self, open: impl Fn(&Path) -> Result<Source> + Send + Sync + 'static) -> Archive {
        self.open = Box::new(open);
        self
    }

    /// Record the changes of every collector's state
    /// ([`Replay::record_changes`]).
    pub fn record_changes(&mut self, on: bool) {
        for c in &mut self.collectors {
            c.record_changes = on;
            c.replay.record_changes(on);
        }
    }

    /// The collectors, by name.
    pub fn collectors(&self) -> &[Collector] {
        &self.collectors
    }

    /// The collectors, to drain their changes.
    pub fn collectors_mut(&mut self) -> &mut [Collector] {
        &mut self.collectors
    }

    /// Bring every collector to instant `t` (Unix seconds): every record
    /// timestamped at or before it applied.
    ///
    /// # Errors
    /// The first input that cannot be read or holds no MRT record, named.
    pub fn advance_to(&mut self, t: u32) -> Result<(), InputError> {
        let open = &*self.open;
        self.collectors.par_iter_mut().try_for_each(|c| c.advance(t, open))
    }

    /// The state at `t`: [`Archive::advance_to`], then the collectors'
    /// snapshots merged, their peers apart.
    ///
    /// # Errors
    /// As [`Archive::advance_to`].
    pub fn state_at(&mut self, t: u32) -> Result<Snapshot, InputError> {
        self.advance_to(t)?;
        self.snapshot().map_err(|error| InputError {
            path: PathBuf::new(),
            error,
        })
    }

    /// The state at the last instant asked, as one snapshot.
    ///
    /// # Errors
    /// None in practice (see [`Replay::snapshot`]).
    pub fn snapshot(&self) -> Result<Snapshot> {
        let mut parts = self.collectors.iter().map(|c| c.replay.snapshot()).collect::<Result<Vec<_>>>()?;
        Ok(if parts.len() == 1 {
            parts.pop().unwrap_or_default()
        } else {
            Snapshot::merge(parts)
        })
    }

    /// The gaps of every collector up to the last instant asked.
    pub fn gaps(&self) -> Vec<Gap> {
        self.collectors.iter().flat_map(Collector::gaps).collect()
    }
}
