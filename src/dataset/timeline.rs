//! `mrtsnap batch --timeline BIN`: per collector and UTC day, the
//! visibility timeline of every origin ([`crate::timeline`]) in bins of
//! BIN, one Parquet table per day.
//!
//! # Plan
//!
//! The inputs are found, selected by collector, sharded (whole
//! collectors) and placed as for `--every` ([`super::every`]): RIB dumps
//! as bases from their start (the later of their dump start and their
//! name's time), updates files by time, the same inputs left out. BIN
//! divides a day (`1m`, `5m`, `15m`, `1h`, …). Then, per collector:
//!
//! - Days: the UTC days that an input covers part of (an updates file
//!   named at `U` covers `[U, U + interval)`, a RIB dump its start), from
//!   the day of the collector's first base (a collector without any RIB
//!   dump: of its first updates file); `--from`/`--until` keep the days
//!   that overlap them. A day is always whole: its bins run from 00:00 to
//!   24:00.
//! - A day's replay: its first bin's values are the state at `00:00 +
//!   BIN - 1 s`, so, as `--every` builds a state, it starts from the last
//!   base that starts at or before that instant, and takes the updates
//!   files named from that base's time up to the day's end, and the RIB
//!   dumps that start after it within the day (each re-bases the state).
//!   Updates named before the base are not part of it (the replay would
//!   lay their last 60 s over the dump). With no such base the day takes
//!   its own updates files and RIB dumps: its bins are null until its
//!   first RIB dump (a collector without any RIB dump starts each day
//!   empty at its first updates file, and its rows say so).
//! - The day's table: [`crate::timeline::run`] over exactly those inputs
//!   from 00:00 to 24:00, every origin met and both families
//!   ([`Families::Both`]), what `mrtsnap timeline --all-origins --family
//!   both --format parquet --from DAY --until DAY+1d` writes for them
//!   (the schema of [`crate::timeline::table`]; `collectors` is the
//!   collector's name). An origin is listed from the bin it is first met
//!   in that day's replay.
//!
//! # Outputs
//!
//! `DIR/timeline/bin=BIN/collector=C/date=YYYY-MM-DD/C.YYYYMMDD.parquet`,
//! written to a hidden temporary name and renamed when complete, the same
//! bytes on any number of threads; one row each in the derived table
//! ([`super::derived`]): `instant` the day's start, `timeline_bin_s` the
//! bin, `rows` the table's rows, `peers` the peers met, `routes` the
//! replay's at the day's end, `base` and `base_time` the base the day
//! starts from, the gaps and damage of the day's inputs. Resuming is
//! `--every`'s: a day is complete when its row (same options) names its
//! file, the file has the size recorded, and its inputs are those planned
//! now, each unchanged; so a rerun writes nothing, and a new or changed
//! input re-derives the days it is an input of.

use super::derived::Derived;
use super::every::{
    self, base_row, deliver, describe, failed, finish, input_refs, is_complete, Ctx, EveryPlan, Fingerprints, Inputs, Replay, Segment,
    Target,
};
use super::manifest::{self, MANIFEST_DIR};
use super::run::Work;
use super::{layout, partition_value, temp_path, BatchOptions, Item, Kind, OutputFormat};
use crate::replay::InputError;
use crate::timeline::table::{Columns, Families, Select, TableWriter};
use crate::timeline::{self, Options};
use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Rows written to the table at once (as `mrtsnap timeline` writes them,
/// so that both write the same bytes).
const BATCH_ROWS: usize = 1 << 16;

/// The table of `collector`'s day starting at `day`, in bins of `bin`
/// seconds, relative to the output directory.
///
/// ```
/// use mrtsnap::dataset::timeline::output_path;
/// assert_eq!(
///     output_path("rrc00", 1_419_206_400, 300),
///     "timeline/bin=5m/collector=rrc00/date=2014-12-22/rrc00.20141222.parquet"
/// );
/// ```
pub fn output_path(collector: &str, day: i64, bin: u32) -> String {
    let c = partition_value(collector);
    let date = layout::utc_date(day);
    format!(
        "timeline/bin={}/collector={c}/date={date}/{c}.{}.parquet",
        crate::fmt::duration(u64::from(bin)),
        date.replace('-', "")
    )
}

/// Find, recognise, select and shard (by collector) the inputs, lay out
/// every collector's days and their inputs (see the [module docs](self)),
/// and check the derived table in `opts.out` for the days already
/// complete. Each day is a [`Segment`] of one [`Target`]: the day's start,
/// all of its inputs, its table.
///
/// # Errors
/// When `opts.timeline` is not a bin that divides a day, the format is
/// not Parquet, an input does not exist, or a list cannot be read.
pub fn plan(opts: &BatchOptions) -> Result<EveryPlan, String> {
    let bin = opts
        .timeline
        .filter(|&b| b > 0 && 86_400u32.is_multiple_of(b))
        .ok_or_else(|| "--timeline needs a bin that divides a day (1m, 5m, 15m, 1h, ...)".to_string())?;
    if opts.format != OutputFormat::Parquet {
        return Err("--timeline writes Parquet tables: --format pfx2as does not apply".into());
    }
    let g = every::gather(opts)?;
    let mut fingerprints = Fingerprints::default();
    let mut segments = Vec::new();
    for (collector, inputs) in &g.collectors {
        for day in days(inputs, collector, opts) {
            let mut seg = day_segment(inputs, collector, day, bin);
            for t in &mut seg.targets {
                let key = (collector.clone(), day, OutputFormat::Parquet.as_str().to_string(), bin);
                t.complete = !opts.force
                    && g.records
                        .get(&key)
                        .is_some_and(|r| is_complete(r, &t.output, &seg.inputs, opts, &mut fingerprints));
            }
            segments.push(seg);
        }
    }
    Ok(EveryPlan {
        found: g.found,
        selected: g.selected,
        step: DAY,
        segments,
        left_out: g.left_out,
    })
}

/// The days of a collector: those an input covers part of, from the day
/// of its first base (or first updates file), that overlap
/// `--from`/`--until`.
fn days(inputs: &Inputs, collector: &str, opts: &BatchOptions) -> Vec<i64> {
    let times: Vec<i64> = inputs.updates.iter().filter_map(|u| u.time).collect();
    let interval = every::interval(collector, &times);
    let Some(first) = inputs.bases.first().map(|b| b.start).or_else(|| times.first().copied()) else {
        return Vec::new();
    };
    let spans = inputs
        .bases
        .iter()
        .map(|b| (b.start, b.start))
        .chain(times.iter().map(|&u| (u, u + interval - 1)));
    let mut days = BTreeSet::new();
    for (lo, hi) in spans {
        let mut d = lo.max(first).div_euclid(DAY) * DAY;
        while d <= hi {
            days.insert(d);
            d += DAY;
        }
    }
    let (from, until) = (opts.selection.from, opts.selection.until);
    days.into_iter()
        .filter(|&d| from.is_none_or(|f| d + DAY > f) && until.is_none_or(|u| d <= u))
        .collect()
}

/// The segment of `collector`'s day starting at `day`: its inputs in
/// replay order (the base, if any, first) and its one target.
fn day_segment(inputs: &Inputs, collector: &str, day: i64, bin: u32) -> Segment {
    let first_bin = day + i64::from(bin) - 1;
    let end = day + DAY;
    let k = inputs.bases.iter().rposition(|b| b.start <= first_bin);
    let base = k.and_then(|k| inputs.bases.get(k));
    let from = base.map_or(day, |b| b.item.time.unwrap_or(b.start));
    let named = |it: &Item| it.time.is_some_and(|t| t >= from && t < end);
    let mut rest: Vec<&Item> = inputs
        .bases
        .iter()
        .skip(k.map_or(0, |k| k + 1))
        .filter(|b| b.start < end && named(&b.item))
        .map(|b| &b.item)
        .chain(inputs.updates.iter().filter(|u| named(u)))
        .collect();
    // The replay's order ([`crate::replay::Archive`]): by time, a RIB dump
    // before updates of the same time.
    rest.sort_by(|a, b| (a.time, a.kind != Kind::Rib, &a.input.display).cmp(&(b.time, b.kind != Kind::Rib, &b.input.display)));
    let inputs: Vec<Item> = base.map(|b| &b.item).into_iter().chain(rest).cloned().collect();
    Segment {
        collector: collector.to_string(),
        base: base.is_some(),
        base_time: base.map(|b| b.dump_start),
        targets: vec![Target {
            instant: day,
            inputs: inputs.len(),
            output: output_path(collector, day, bin),
            complete: false,
        }],
        inputs,
    }
}

/// Why a day's table was not written.
enum Stop {
    /// An input could not be read.
    Input(InputError),
    /// The table could not be written.
    Write(crate::error::Error),
    /// The run is stopping.
    Halted,
}

impl From<InputError> for Stop {
    fn from(e: InputError) -> Stop {
        Stop::Input(e)
    }
}

/// Replay one day (a segment of [`plan`]) and write its table, reporting
/// its row (on its driver thread). The replay runs here, feeding the
/// table as it goes: a day's rows are never all in memory.
pub(super) fn derive(seg: &Segment, ctx: &Ctx, bin: u32, work: &Work<Segment>, emit: &mut dyn FnMut(Derived) -> bool) {
    let Some(target) = seg.targets.first().filter(|t| !t.complete) else {
        return;
    };
    let mut clock = Instant::now();
    let (refs, broken) = input_refs(&seg.inputs, ctx.opts.fingerprint);
    let row = base_row(seg, target, &refs, ctx);
    let span = u32::try_from(target.instant).ok().and_then(|d| Some((d, d.checked_add(86_400)?)));
    let (mut archive, (day, end)) = match (Replay::new(&seg.inputs, &refs, broken).into_archive(), span) {
        (Ok(a), Some(span)) => (a, span),
        (Err(why), _) => {
            emit(finish(failed(row, &why), &mut clock));
            return;
        }
        (_, None) => {
            emit(finish(failed(row, "the day is outside the range of MRT timestamps"), &mut clock));
            return;
        }
    };
    let opts = Options {
        bin,
        from: Some(day),
        until: Some(end),
        full_feed: ctx.opts.snapshot.full_feed,
        watch: Vec::new(),
    };
    let out = &ctx.opts.out;
    let (dest, tmp) = (out.join(&target.output), temp_path(out, &target.output, &ctx.part));
    let (mut rows, mut peers) = (0usize, 0usize);
    let mut input_error = None;
    let written = work.write_here(&tmp, &dest, |w| {
        let mut table = TableWriter::new(w, &seg.collector).map_err(io::Error::other)?;
        let mut cols = Columns::default();
        let select = Select {
            origins: None,
            families: Families::Both,
        };
        let ran = timeline::run(&mut archive, &opts, |b| -> Result<(), Stop> {
            if work.halted() {
                return Err(Stop::Halted);
            }
            cols.push_bin(b, &select);
            peers = b.state.peer_counts().0;
            if cols.len() >= BATCH_ROWS {
                table.write(&cols).map_err(Stop::Write)?;
                rows += cols.len();
                cols.clear();
            }
            Ok(())
        });
        match ran {
            Ok(()) => {}
            Err(Stop::Input(e)) => {
                let why = e.to_string();
                input_error = Some(why.clone());
                return Err(io::Error::other(why));
            }
            Err(Stop::Write(e)) => return Err(io::Error::other(e)),
            Err(Stop::Halted) => return Err(io::Error::other("stopping")),
        }
        table.write(&cols).map_err(io::Error::other)?;
        rows += cols.len();
        table.finish().map_err(io::Error::other)?;
        Ok(())
    });
    if work.halted() {
        return;
    }
    if let Some(why) = input_error {
        emit(finish(failed(row, &why), &mut clock));
        return;
    }
    let mut row = row;
    describe(&mut row, &archive, rows, peers, seg);
    // The base the day starts from (the replay's last is a later one).
    row.base_time = seg.base_time;
    deliver(work, written, (&tmp, &dest), &target.output, row, &mut clock, emit);
}

/// The tables of bin `bin` seconds that `mrtsnap batch --timeline` wrote
/// into the dataset `dir`, by collector and day, from its derived table
/// (the journals): those whose row has an output, and the collector of
/// each.
///
/// # Errors
/// When `dir` has no derived table, or holds no timeline of that bin (the
/// message names the bins it holds).
pub fn tables(dir: &Path, bin: u32) -> Result<Vec<(String, PathBuf)>, String> {
    if !dir.join(MANIFEST_DIR).is_dir() {
        return Err(format!("{}: no {MANIFEST_DIR}/: not a batch dataset", dir.display()));
    }
    let rows = manifest::load_rows::<Derived>(dir);
    let mut bins = BTreeSet::new();
    let mut out = Vec::new();
    for r in rows.values() {
        let Some(b) = r.timeline_bin_s else { continue };
        bins.insert(b);
        if b == bin && r.status.has_output() && !r.output.is_empty() {
            out.push((r.collector.clone(), dir.join(&r.output)));
        }
    }
    if out.is_empty() {
        let held: Vec<String> = bins.iter().map(|&b| crate::fmt::duration(u64::from(b))).collect();
        return Err(if held.is_empty() {
            format!(
                "{}: no timeline in this dataset (mrtsnap batch --timeline BIN writes them)",
                dir.display()
            )
        } else {
            format!(
                "{}: no timeline of {} bins in this dataset; it holds bins of {} (--bin)",
                dir.display(),
                crate::fmt::duration(u64::from(bin)),
                held.join(", ")
            )
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            output_path("route-views.jinx", 1_401_408_000, 3600),
            "timeline/bin=1h/collector=route-views.jinx/date=2014-05-30/route-views.jinx.20140530.parquet"
        );
        assert_eq!(
            output_path("a/b", 0, 90),
            "timeline/bin=90s/collector=a_b/date=1970-01-01/a_b.19700101.parquet"
        );
    }
}
