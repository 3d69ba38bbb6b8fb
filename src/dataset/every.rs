//! `mrtsnap batch --every D`: per collector, the replayed routing state at
//! every multiple of D, from each RIB dump and the updates that follow it.
//!
//! # Plan
//!
//! The inputs are found, recognised and selected by collector as for a
//! plain batch ([`super::plan`]); `--from`/`--until` bound the instants,
//! not the inputs. With `--shard K/N` a shard takes whole collectors: those
//! whose name hashes to K ([`super::shard::path_hash`] of the name), since
//! a replay needs every file of its collector. Then, per collector:
//!
//! - Bases: its RIB dumps. A base starts at its dump start (its first
//!   record's timestamp, read from the file; a dump starts when its name
//!   says or just after), or at the time of its name when that is later.
//!   A RIB dump whose first records cannot be read is left out.
//! - Instants: the multiples of D counted from the Unix epoch (every `1h`
//!   at :00), from the first base's start (a collector without a RIB dump:
//!   from its first updates file; or `--from` when later) to the end of its
//!   last input (or `--until` when earlier). An updates file named at `U`
//!   ends at `U + interval - 1`: the interval is the smallest step between
//!   two of the collector's updates files, else (a single one) 15 min for
//!   RouteViews collectors and 5 min for RIS; a RIB dump ends at its start.
//! - Segments: the state at instant `t` is built from the last base that
//!   starts at or before `t`, and the collector's updates files named from
//!   that base's time up to `t`: exactly the state `mrtsnap snapshot --at
//!   t` gives for those files ([`crate::replay`]). The instants of one base
//!   form a segment, replayed in one pass, each input read once; segments
//!   run in parallel. Updates named before a base (the 60 s of updates
//!   before a dump that the replay would apply over it) are not part of
//!   its segment. A collector without any RIB dump has one segment: the
//!   state starts empty at its first updates file, and its rows say so.
//! - Left out, with the reason printed: inputs whose kind or time is
//!   unknown, unreadable ones, and an input with the collector, kind and
//!   time of an earlier one (in path order; a copy under another root).
//!
//! # Outputs
//!
//! `DIR/collector=C/date=YYYY-MM-DD/C.YYYYMMDDTHHMMSSZ.EXT` (the instant
//! and its UTC date), in the format and schema of the per-input outputs,
//! written to a hidden temporary name and renamed when complete; one row
//! in the derived table ([`super::derived`]) each, with its inputs.
//!
//! # Resuming
//!
//! An output is complete when its row (same options) names it, the file
//! has the size recorded, and its inputs are those planned now, each
//! unchanged (same size and modification time, else the same
//! fingerprint; `--verify`: always the fingerprint). So a rerun writes
//! nothing new; a new updates file re-derives the instants of its segment
//! from its time on, and a new RIB dump those from its start on. A
//! segment is replayed up to its last instant not complete.

use super::derived::{Derived, InputRef};
use super::discover::text_path;
use super::manifest::{self, Journal, Status};
use super::run::{execute, now_ms, Event, Summary, Work, ENDS_EARLY};
use super::select::Selection;
use super::{fingerprint, layout, partition_value, recognise_all, select_items, temp_path, BatchOptions, Item, Kind};
use crate::replay::Archive;
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// One output of a segment: the state at an instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The instant, Unix seconds.
    pub instant: i64,
    /// How many of the segment's inputs (the first ones) it is built from.
    pub inputs: usize,
    /// The output, relative to the output directory.
    pub output: String,
    /// Whether a complete output and row exist (and `--force` was not
    /// given): the run leaves it alone.
    pub complete: bool,
}

/// The instants of one base (or of a collector without any RIB dump).
#[derive(Clone, Debug)]
pub struct Segment {
    /// The collector.
    pub collector: String,
    /// Whether the first input is a RIB dump, the base; else the state
    /// starts empty.
    pub base: bool,
    /// The base's dump start (its first record's timestamp).
    pub base_time: Option<i64>,
    /// The inputs, in replay order: the base, then updates files by time.
    pub inputs: Vec<Item>,
    /// The outputs, by instant.
    pub targets: Vec<Target>,
}

/// What `batch --every` will do.
#[derive(Clone, Debug, Default)]
pub struct EveryPlan {
    /// Inputs found.
    pub found: usize,
    /// Inputs selected (all shards).
    pub selected: usize,
    /// The step between instants, seconds.
    pub step: i64,
    /// This shard's segments, by collector and time.
    pub segments: Vec<Segment>,
    /// This shard's inputs left out, and why.
    pub left_out: Vec<(Item, String)>,
}

/// The updates-file interval of RouteViews collectors, seconds.
const ROUTEVIEWS_INTERVAL: i64 = 900;
/// The updates-file interval of RIS collectors, seconds.
const RIS_INTERVAL: i64 = 300;
/// How many gaps a row's `reason` names (all are in `gaps`).
const GAPS_NAMED: usize = 3;

/// The interval of a collector's updates files: the smallest step between
/// two of their times, else the archive's.
pub(super) fn interval(collector: &str, times: &[i64]) -> i64 {
    let by_names = times.windows(2).map(|w| w[1] - w[0]).filter(|&d| d > 0).min();
    by_names.unwrap_or(if collector.starts_with("rrc") {
        RIS_INTERVAL
    } else if collector.starts_with("route-views") {
        ROUTEVIEWS_INTERVAL
    } else {
        1
    })
}

/// The output of `collector` at `t`.
pub fn output_path(collector: &str, t: i64, format: super::OutputFormat) -> String {
    let c = partition_value(collector);
    format!(
        "collector={c}/date={}/{c}.{}.{}",
        layout::utc_date(t),
        crate::fmt::utc_stamp(t),
        format.as_str()
    )
}

/// Why an item cannot be replayed, if it cannot.
pub(super) fn unusable(it: &Item) -> Option<String> {
    if let Some(e) = &it.input.stat_error {
        return Some(format!("unreadable: {e}"));
    }
    if it.time.is_none() {
        return Some("no time: neither its name nor its first records give one".into());
    }
    if it.kind == Kind::Unknown {
        return Some("neither a RIB dump nor an updates file, by its name and first records".into());
    }
    None
}

/// What [`gather`] finds: the inputs of this shard by collector, and the
/// rows of earlier runs.
pub(super) struct Gathered {
    /// Inputs found.
    pub(super) found: usize,
    /// Inputs selected (all shards).
    pub(super) selected: usize,
    /// This shard's usable inputs, by collector: bases by start, updates
    /// files by time.
    pub(super) collectors: BTreeMap<String, Inputs>,
    /// This shard's inputs left out, and why.
    pub(super) left_out: Vec<(Item, String)>,
    /// The derived table's rows, by key.
    pub(super) records: BTreeMap<(String, i64, String, u32), Derived>,
}

/// Find, recognise, select (by collector) and shard (whole collectors)
/// the inputs; read the dump start of each RIB dump (from the rows of
/// earlier runs for unchanged ones); leave out what cannot be replayed.
///
/// # Errors
/// When an input does not exist or a list cannot be read.
pub(super) fn gather(opts: &BatchOptions) -> Result<Gathered, String> {
    let (found, items) = recognise_all(opts)?;
    let by_collector = Selection {
        collectors: opts.selection.collectors.clone(),
        ..Selection::default()
    };
    let selected = select_items(items, &by_collector);
    let n_selected = selected.len();
    let mut left_out = Vec::new();
    // This shard's inputs that can be placed, in path order.
    let mut kept: Vec<Item> = Vec::new();
    for it in selected {
        if opts.shard.is_some_and(|s| !s.contains(&it.collector)) {
            continue;
        }
        match unusable(&it) {
            Some(why) => left_out.push((it, why)),
            None => kept.push(it),
        }
    }
    // Dump starts: from the rows of earlier runs for unchanged bases, else
    // read.
    let records = manifest::load_rows::<Derived>(&opts.out);
    let known: HashMap<&str, (u64, i64, i64)> = records
        .values()
        .filter_map(|r| {
            let b = r.inputs.first().filter(|b| b.path == r.base)?;
            Some((b.path.as_str(), (b.size, b.mtime_ns, r.base_time?)))
        })
        .collect();
    let mut starts: Vec<Option<i64>> = vec![None; kept.len()];
    let mut need = Vec::new();
    for (i, it) in kept.iter().enumerate().filter(|(_, it)| it.kind == Kind::Rib) {
        match known.get(it.input.display.as_str()) {
            Some(&(size, mtime, t)) if size == it.input.size && mtime == it.input.mtime_ns => starts[i] = Some(t),
            _ => need.push(i),
        }
    }
    for (i, p) in need.iter().zip(super::probe_all(&kept, &need)) {
        starts[*i] = p.time;
    }
    // By collector, one input per (collector, kind, time): the first in
    // path order that can be read.
    let mut collectors: BTreeMap<String, Inputs> = BTreeMap::new();
    let mut first: HashMap<(String, Kind, i64), String> = HashMap::new();
    for (it, start) in kept.into_iter().zip(starts) {
        if it.kind == Kind::Rib && start.is_none() {
            let why = "a RIB dump whose first records cannot be read (empty, not MRT, or unreadable)";
            left_out.push((it, why.into()));
            continue;
        }
        let key = (it.collector.clone(), it.kind, it.time.unwrap_or_default());
        if let Some(p) = first.get(&key) {
            let why = format!("the same collector, kind and time as {p}");
            left_out.push((it, why));
            continue;
        }
        first.insert(key, it.input.display.clone());
        let inputs = collectors.entry(it.collector.clone()).or_default();
        match start {
            Some(s) if it.kind == Kind::Rib => inputs.bases.push(Base {
                start: s.max(it.time.unwrap_or(s)),
                dump_start: s,
                item: it,
            }),
            _ => inputs.updates.push(it),
        }
    }
    for inputs in collectors.values_mut() {
        inputs
            .bases
            .sort_by(|a, b| (a.start, &a.item.input.display).cmp(&(b.start, &b.item.input.display)));
        inputs
            .updates
            .sort_by(|a, b| (a.time, &a.input.display).cmp(&(b.time, &b.input.display)));
    }
    Ok(Gathered {
        found,
        selected: n_selected,
        collectors,
        left_out,
        records,
    })
}

/// Find, recognise, select and shard (by collector) the inputs, lay out
/// every collector's segments and instants, and check the derived table in
/// `opts.out` for the outputs already complete.
///
/// # Errors
/// When an input does not exist, a list cannot be read, or `opts.every`
/// is not a positive duration.
pub fn plan(opts: &BatchOptions) -> Result<EveryPlan, String> {
    let step = opts
        .every
        .filter(|&s| s > 0)
        .ok_or_else(|| "--every needs a duration of at least 1 s".to_string())?;
    let g = gather(opts)?;
    let mut fingerprints = Fingerprints::default();
    let mut segments = Vec::new();
    for (collector, inputs) in &g.collectors {
        for (k, instants) in inputs.instants(collector, step, opts) {
            let mut seg = inputs.segment(collector, k, &instants, opts.format);
            for t in &mut seg.targets {
                let key = (collector.clone(), t.instant, opts.format.as_str().to_string(), 0);
                t.complete = !opts.force
                    && g.records.get(&key).is_some_and(|r| {
                        let inputs = seg.inputs.get(..t.inputs).unwrap_or(&[]);
                        is_complete(r, &t.output, inputs, opts, &mut fingerprints)
                    });
            }
            segments.push(seg);
        }
    }
    Ok(EveryPlan {
        found: g.found,
        selected: g.selected,
        step,
        segments,
        left_out: g.left_out,
    })
}

/// A RIB dump of a collector, as a base.
#[derive(Clone, Debug)]
pub(super) struct Base {
    /// When it counts from: the later of its dump start and its name's
    /// time.
    pub(super) start: i64,
    /// Its dump start: its first record's timestamp.
    pub(super) dump_start: i64,
    /// The file.
    pub(super) item: Item,
}

/// The usable inputs of one collector.
#[derive(Default)]
pub(super) struct Inputs {
    /// RIB dumps, by start.
    pub(super) bases: Vec<Base>,
    /// Updates files, by time.
    pub(super) updates: Vec<Item>,
}

impl Inputs {
    /// The instants of `step`, by base (index into `bases`; `None`: no
    /// RIB dump): from each base's start to the end of its last input,
    /// before the next base's start, within `--from`/`--until`.
    fn instants(&self, collector: &str, step: i64, opts: &BatchOptions) -> BTreeMap<Option<usize>, Vec<i64>> {
        let times: Vec<i64> = self.updates.iter().filter_map(|u| u.time).collect();
        let interval = interval(collector, &times);
        let end_of_updates = |from: i64, before: i64| times.iter().filter(|&&u| u >= from && u < before).map(|u| u + interval - 1).max();
        let mut spans: Vec<(Option<usize>, i64, i64)> = Vec::new();
        if self.bases.is_empty() {
            if let (Some(&first), Some(end)) = (times.first(), end_of_updates(i64::MIN, i64::MAX)) {
                spans.push((None, first, end));
            }
        }
        for (k, b) in self.bases.iter().enumerate() {
            let next = self.bases.get(k + 1).map_or(i64::MAX, |b| b.start);
            let end = end_of_updates(b.item.time.unwrap_or(b.start), next).map_or(b.start, |e| e.max(b.start));
            spans.push((Some(k), b.start, end.min(next - 1)));
        }
        let mut by_base: BTreeMap<Option<usize>, Vec<i64>> = BTreeMap::new();
        for (k, lo, hi) in spans {
            let lo = opts.selection.from.map_or(lo, |f| lo.max(f));
            let hi = opts.selection.until.map_or(hi, |u| hi.min(u));
            // The first multiple of the step at or after `lo`.
            let mut t = lo.div_euclid(step) * step + if lo.rem_euclid(step) > 0 { step } else { 0 };
            while t <= hi {
                by_base.entry(k).or_default().push(t);
                t += step;
            }
        }
        by_base
    }

    /// The segment of base `k` (`None`: no RIB dump) with its `instants`
    /// (increasing): the base, then the updates files named from its time
    /// to the last instant; outputs in `format`, not yet known complete.
    fn segment(&self, collector: &str, k: Option<usize>, instants: &[i64], format: super::OutputFormat) -> Segment {
        let base = k.and_then(|k| self.bases.get(k));
        let from = base.and_then(|b| b.item.time).unwrap_or(i64::MIN);
        let last = instants.last().copied().unwrap_or(i64::MIN);
        let follow: Vec<&Item> = self
            .updates
            .iter()
            .filter(|u| u.time.is_some_and(|ut| ut >= from && ut <= last))
            .collect();
        let n_base = usize::from(base.is_some());
        let targets = instants
            .iter()
            .map(|&t| Target {
                instant: t,
                inputs: n_base + follow.iter().filter(|u| u.time.is_some_and(|ut| ut <= t)).count(),
                output: output_path(collector, t, format),
                complete: false,
            })
            .collect();
        Segment {
            collector: collector.to_string(),
            base: base.is_some(),
            base_time: base.map(|b| b.dump_start),
            inputs: base.map(|b| &b.item).into_iter().chain(follow).cloned().collect(),
            targets,
        }
    }
}

/// Fingerprints computed while planning, by path and mode.
#[derive(Default)]
pub(super) struct Fingerprints(HashMap<(PathBuf, fingerprint::Mode), Option<String>>);

impl Fingerprints {
    fn of(&mut self, it: &Item, mode: fingerprint::Mode) -> Option<&str> {
        self.0
            .entry((it.input.path.clone(), mode))
            .or_insert_with(|| fingerprint::fingerprint(&it.input.path, mode).ok())
            .as_deref()
    }
}

/// Whether `rec` says the output `output` built from `inputs` is done:
/// same options, output still there, the same inputs, each unchanged.
pub(super) fn is_complete(rec: &Derived, output: &str, inputs: &[Item], opts: &BatchOptions, fps: &mut Fingerprints) -> bool {
    if !rec.status.has_output() || rec.options != opts.options_tag() || rec.output != output || rec.inputs.len() != inputs.len() {
        return false;
    }
    if !std::fs::metadata(opts.out.join(output)).is_ok_and(|m| Some(m.len()) == rec.output_size) {
        return false;
    }
    rec.inputs.iter().zip(inputs).all(|(r, it)| {
        if r.path != it.input.display || r.size != it.input.size || it.input.stat_error.is_some() {
            return false;
        }
        if r.mtime_ns == it.input.mtime_ns && !opts.verify {
            return true;
        }
        let mode = fingerprint::Mode::of(&r.fingerprint).unwrap_or(opts.fingerprint);
        fps.of(it, mode) == Some(r.fingerprint.as_str())
    })
}

/// What the driver threads of a `--every` run share besides their
/// [`Work`].
pub(super) struct Ctx {
    pub(super) opts: BatchOptions,
    pub(super) part: String,
    pub(super) options_tag: String,
}

/// The row of `target` before it is built.
pub(super) fn base_row(seg: &Segment, target: &Target, inputs: &[InputRef], ctx: &Ctx) -> Derived {
    Derived {
        collector: seg.collector.clone(),
        instant: target.instant,
        format: ctx.opts.format.as_str().to_string(),
        timeline_bin_s: ctx.opts.timeline,
        status: Status::Failed,
        reason: String::new(),
        date: layout::utc_date(target.instant),
        output: String::new(),
        output_size: None,
        rows: None,
        peers: None,
        routes: None,
        base: if seg.base {
            seg.inputs.first().map(|b| b.input.display.clone()).unwrap_or_default()
        } else {
            String::new()
        },
        base_time: None,
        inputs: inputs.get(..target.inputs).unwrap_or(inputs).to_vec(),
        gaps: String::new(),
        gap_s: 0,
        errors: String::new(),
        damaged_records: 0,
        uncertain_peers: 0,
        first_error: String::new(),
        elapsed_s: 0.0,
        finished_ms: 0,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        options: ctx.options_tag.clone(),
        part: ctx.part.clone(),
    }
}

pub(super) fn failed(mut row: Derived, why: &str) -> Derived {
    row.status = Status::Failed;
    row.reason = manifest::clean(why);
    row
}

/// The replay of a segment's first inputs, and why it stopped if it did.
pub(super) struct Replay {
    archive: Option<Archive>,
    /// The inputs it reads: the segment's first ones, up to the first
    /// unreadable one.
    usable: usize,
    /// Why the inputs from `usable` on cannot be read.
    broken: String,
    /// Why the replay gives no state (at all, or any longer).
    failure: Option<String>,
}

impl Replay {
    /// The replay of `inputs` (identified by `refs`, where an empty
    /// fingerprint marks an unreadable input, `broken` saying why).
    pub(super) fn new(inputs: &[Item], refs: &[InputRef], broken: String) -> Replay {
        let usable = refs.iter().position(|r| r.fingerprint.is_empty()).unwrap_or(refs.len());
        let paths: Vec<PathBuf> = inputs.iter().take(usable).map(|it| text_path(&it.input.display)).collect();
        let mut r = Replay {
            archive: None,
            usable,
            broken,
            failure: None,
        };
        match Archive::new(&paths) {
            Err(e) => r.failure = Some(e.to_string()),
            Ok(a) => {
                // The plan and the replay place the inputs alike (the same
                // rules): say so loudly if they ever do not.
                let placed: Vec<&PathBuf> = a.collectors().iter().flat_map(|c| c.inputs()).map(|i| &i.path).collect();
                if a.collectors().len() > 1 || placed != paths.iter().collect::<Vec<_>>() {
                    r.failure = Some("the replay places these inputs otherwise than the plan (collector or order)".into());
                } else {
                    r.archive = Some(a);
                }
            }
        }
        r
    }

    /// The archive of every input, or why there is none.
    pub(super) fn into_archive(self) -> Result<Archive, String> {
        match (self.failure, self.archive) {
            (Some(f), _) => Err(f),
            (None, Some(a)) if self.broken.is_empty() => Ok(a),
            (None, _) => Err(self.broken),
        }
    }

    /// The state after the first `n` inputs at `instant`.
    fn state(&mut self, n: usize, instant: i64) -> Result<crate::snapshot::Snapshot, String> {
        if n > self.usable {
            return Err(self.broken.clone());
        }
        if let Some(f) = &self.failure {
            return Err(f.clone());
        }
        let t = u32::try_from(instant).map_err(|_| "the instant is outside the range of MRT timestamps".to_string())?;
        let Some(a) = self.archive.as_mut() else {
            return Err("no replay".into());
        };
        // A replay that failed stays failed: its state is unknown.
        a.state_at(t).map_err(|e| self.failure.insert(e.to_string()).clone())
    }
}

/// Fill `row` with what the replay of `archive` says at its last instant.
pub(super) fn describe(row: &mut Derived, archive: &Archive, snap_rows: usize, snap_peers: usize, seg: &Segment) {
    let Some(c) = archive.collectors().first() else { return };
    let replay = c.replay();
    let rep = replay.report();
    row.rows = Some(snap_rows as u64);
    row.peers = Some(snap_peers as u64);
    row.routes = Some(replay.routes() as u64);
    row.base_time = replay.base().map(i64::from);
    let gaps = c.gaps();
    row.gaps = gaps
        .iter()
        .map(|g| {
            format!(
                "{}/{}",
                crate::fmt::utc_datetime(i64::from(g.from)),
                crate::fmt::utc_datetime(i64::from(g.until))
            )
        })
        .collect::<Vec<_>>()
        .join(";");
    row.gap_s = gaps.iter().map(|g| u64::from(g.until.saturating_sub(g.from))).sum();
    row.errors = rep
        .decode
        .errors
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";");
    row.damaged_records = rep.damaged_records;
    row.uncertain_peers = replay.uncertain().len() as u64;
    if let Some(e) = rep.decode.first_errors.iter().min_by_key(|e| e.offset()) {
        row.first_error = manifest::clean(&e.to_string());
    }
    let damaged = rep.decode.total_errors() > 0 || rep.damaged_records > 0;
    let mut reason = Vec::new();
    if damaged {
        let skipped = rep.decode.skipped();
        reason.push(if skipped > 0 {
            format!("{skipped} damaged record(s) or region(s) skipped")
        } else {
            ENDS_EARLY.to_string()
        });
    }
    if !seg.base {
        let first = seg.inputs.first().map_or("", |i| i.input.display.as_str());
        // A timeline's day may have its first RIB dump after its first bin.
        match seg.inputs.iter().find(|i| i.kind == Kind::Rib) {
            None => reason.push(format!("no RIB dump: the state starts empty at the first updates file, {first}")),
            Some(r) => reason.push(format!(
                "no RIB dump before the first bin: the bins are null until the first, {}",
                r.input.display
            )),
        }
    }
    for g in gaps.iter().take(GAPS_NAMED) {
        reason.push(format!("gap: {}", g));
    }
    if gaps.len() > GAPS_NAMED {
        reason.push(format!("{} more gaps", gaps.len() - GAPS_NAMED));
    }
    row.reason = manifest::clean(&reason.join("; "));
    row.status = if damaged { Status::Damaged } else { Status::Ok };
}

/// The inputs as rows name them, fingerprinted; an unreadable one gets
/// an empty fingerprint, and the first of them says why (`unreadable:
/// PATH: ERROR`, empty when all are readable).
pub(super) fn input_refs(inputs: &[Item], mode: fingerprint::Mode) -> (Vec<InputRef>, String) {
    let mut broken = None;
    let refs = inputs
        .iter()
        .map(|it| {
            let fp = match &it.input.stat_error {
                Some(e) => Err(e.clone()),
                None => fingerprint::fingerprint(&it.input.path, mode).map_err(|e| e.to_string()),
            };
            let fingerprint = fp.unwrap_or_else(|e| {
                broken.get_or_insert_with(|| format!("unreadable: {}: {e}", it.input.display));
                String::new()
            });
            InputRef {
                path: it.input.display.clone(),
                size: it.input.size,
                mtime_ns: it.input.mtime_ns,
                fingerprint,
            }
        })
        .collect();
    (refs, broken.unwrap_or_default())
}

/// `r` with the seconds since `clock` and the time it is finished; the
/// clock restarted.
pub(super) fn finish(mut r: Derived, clock: &mut Instant) -> Derived {
    r.elapsed_s = clock.elapsed().as_secs_f64();
    r.finished_ms = now_ms();
    *clock = Instant::now();
    r
}

/// Report `row` for an output written to `tmp` ([`Work::write`]'s
/// answer): renamed to `dest` and named in the row, or failed, saying
/// why. Whether the run goes on (it is not stopping, and listens).
#[allow(clippy::too_many_arguments)]
pub(super) fn deliver<J>(
    work: &Work<J>,
    written: Option<io::Result<u64>>,
    (tmp, dest): (&Path, &Path),
    output: &str,
    row: Derived,
    clock: &mut Instant,
    emit: &mut dyn FnMut(Derived) -> bool,
) -> bool {
    match written {
        None => false,
        Some(Err(e)) => emit(finish(failed(row, &format!("cannot write output {output}: {e}")), clock)),
        Some(Ok(n)) => {
            let mut listening = true;
            let committed = work.commit(tmp, dest, |renamed| {
                let row = match renamed {
                    Ok(()) => Derived {
                        output: output.to_string(),
                        output_size: Some(n),
                        ..row
                    },
                    Err(e) => failed(row, &format!("cannot rename {} to {}: {e}", tmp.display(), dest.display())),
                };
                listening = emit(finish(row, clock));
            });
            committed && listening
        }
    }
}

/// Replay one segment and write its outputs not complete, reporting a row
/// each (on its driver thread).
fn derive(seg: &Segment, ctx: &Ctx, work: &Work<Segment>, emit: &mut dyn FnMut(Derived) -> bool) {
    let todo: Vec<&Target> = seg.targets.iter().filter(|t| !t.complete).collect();
    let Some(last) = todo.last() else { return };
    let mut clock = Instant::now();
    let inputs = seg.inputs.get(..last.inputs).unwrap_or(&seg.inputs);
    let (refs, broken) = input_refs(inputs, ctx.opts.fingerprint);
    let mut replay = Replay::new(inputs, &refs, broken);
    for target in todo {
        if work.halted() {
            return;
        }
        let mut row = base_row(seg, target, &refs, ctx);
        let snap = match replay.state(target.inputs, target.instant) {
            Ok(s) => s,
            Err(why) => {
                if !emit(finish(failed(row, &why), &mut clock)) {
                    return;
                }
                continue;
            }
        };
        if let Some(a) = &replay.archive {
            describe(&mut row, a, snap.len(), snap.peers().len(), seg);
        }
        if seg.base && row.base_time.is_none() {
            let why = format!("the RIB dump {} starts after the instant", row.base);
            if !emit(finish(failed(row, &why), &mut clock)) {
                return;
            }
            continue;
        }
        let out = &ctx.opts.out;
        let (dest, tmp) = (out.join(&target.output), temp_path(out, &target.output, &ctx.part));
        let written = work.write(&tmp, &dest, |w| match ctx.opts.format {
            super::OutputFormat::Parquet => snap.write_parquet(w).map_err(io::Error::other),
            super::OutputFormat::Pfx2as => snap.write_pfx2as(w),
        });
        drop(snap);
        if !deliver(work, written, (&tmp, &dest), &target.output, row, &mut clock, emit) {
            return;
        }
    }
}

/// Run `plan` with `journal` (this part's derived-table journal, locked
/// before planning): derive every output not complete (with
/// `opts.timeline`, the days' timelines of a [`super::timeline::plan`]),
/// append their rows to the journal, and rebuild the derived table; stop
/// as [`super::run()`] does. The [`Summary`] counts outputs, not inputs.
///
/// # Errors
/// When the output directory or the journal cannot be written.
pub fn run(
    opts: &BatchOptions,
    plan: EveryPlan,
    mut journal: Journal<Derived>,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(Event<'_, Derived>),
) -> Result<Summary, String> {
    let t0 = Instant::now();
    let out = &opts.out;
    let part = opts.part();
    let targets = plan.segments.iter().flat_map(|s| &s.targets);
    let planned = targets.clone().count();
    let complete = targets.clone().filter(|t| t.complete).count();
    let mut sum = Summary {
        planned,
        complete,
        ..Summary::default()
    };
    // Leftovers of a killed run of this part.
    for t in targets.filter(|t| !t.complete) {
        let _ = std::fs::remove_file(temp_path(out, &t.output, &part));
    }
    let jobs: Vec<Segment> = plan
        .segments
        .into_iter()
        .filter(|s| s.targets.iter().any(|t| !t.complete))
        .collect();
    let bytes: u64 = jobs
        .iter()
        .map(|s| {
            let n = s.targets.iter().filter(|t| !t.complete).map(|t| t.inputs).max().unwrap_or(0);
            s.inputs.iter().take(n).map(|i| i.input.size).sum::<u64>()
        })
        .sum();
    let todo = planned - complete;
    on_event(Event::Start { todo, bytes, complete });
    let in_flight = opts.files_in_flight().min(jobs.len().max(1));
    let ctx = Ctx {
        opts: opts.clone(),
        options_tag: opts.options_tag(),
        part,
    };
    // Input bytes already counted, by segment (collector and base; a
    // timeline's day is a segment of its own).
    let mut counted: HashMap<(String, String, i64), usize> = HashMap::new();
    let mut finished = 0usize;
    let (stopped, _) = execute(
        jobs,
        in_flight,
        move |seg, work, emit| match ctx.opts.timeline {
            Some(bin) => super::timeline::derive(seg, &ctx, bin, work, emit),
            None => derive(seg, &ctx, work, emit),
        },
        &mut journal,
        out,
        stop,
        opts.fail_fast,
        &mut |r: &Derived| {
            finished += 1;
            let day = r.timeline_bin_s.map_or(0, |_| r.instant);
            let seen = counted.entry((r.collector.clone(), r.base.clone(), day)).or_insert(0);
            let read: u64 = r.inputs.iter().skip(*seen).map(|i| i.size).sum();
            *seen = (*seen).max(r.inputs.len());
            sum.bytes += read;
            sum.count(r.status, !r.reason.starts_with(ENDS_EARLY));
            on_event(Event::Done {
                record: r,
                bytes: read,
                done: finished,
                todo,
            });
            r.status == Status::Failed
        },
    )?;
    if stopped {
        sum.stopped = true;
        sum.abandoned = todo - finished;
    }
    sum.elapsed_s = t0.elapsed().as_secs_f64();
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_intervals() {
        assert_eq!(
            output_path("route-views.jinx", 1_401_490_800, super::super::OutputFormat::Parquet),
            "collector=route-views.jinx/date=2014-05-30/route-views.jinx.20140530T230000Z.parquet"
        );
        assert_eq!(
            output_path("a/b", 0, super::super::OutputFormat::Pfx2as),
            "collector=a_b/date=1970-01-01/a_b.19700101T000000Z.pfx2as"
        );
        assert_eq!(interval("rrc00", &[0, 600, 300 + 600]), 300);
        assert_eq!(interval("rrc00", &[0]), RIS_INTERVAL);
        assert_eq!(interval("route-views2", &[]), ROUTEVIEWS_INTERVAL);
        assert_eq!(interval("193.0.4.28", &[5, 5]), 1);
    }
}
