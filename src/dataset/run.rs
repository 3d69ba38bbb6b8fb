//! The executor: process a [`Plan`]'s inputs, several files in flight.
//!
//! Each file in flight has a driver thread (a plain thread, not a rayon
//! worker: it blocks on its decompressor) that builds the snapshot with
//! [`Snapshot::build`], whose batch decoding (and bzip2 block decoding) runs
//! on the global rayon pool, and then writes the output on a pool worker. So
//! the pool's threads do the decoding of every file, and the next file starts
//! while the last one is being merged and written: no stalls between files.
//! Memory is bounded by the files in flight: each holds its snapshot under
//! construction and at most two batches per pool thread in flight.
//!
//! Outputs are written to a hidden temporary name ([`super::temp_path`]),
//! flushed to disk and renamed; then the manifest record is appended to the
//! journal. A run that is killed leaves at worst a temporary file (removed
//! when the input is next processed) or an output without its record (redone
//! by the next run, with identical bytes). A stop request (Ctrl-C, or the
//! first failure with `fail_fast`) closes the registry of files being
//! written: temporary files are removed, no rename happens after it, and the
//! run returns at once; driver threads still decoding drop their work.

use super::discover::text_path;
use super::manifest::{self, Journal, Record, Row, Status};
use super::{fingerprint, output_path, temp_path, BatchOptions, Item, Names, Plan};
use crate::error::ErrorKind;
use crate::snapshot::Snapshot;
use crate::source::Source;
use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The reason recorded for updates files.
pub const NOT_A_RIB: &str =
    "not-a-rib: an updates file; a snapshot per input needs a RIB dump (batch --every replays updates onto RIB dumps)";

/// How often a run rebuilds `manifest.csv` and `manifest.parquet`.
const COMPACT_EVERY: Duration = Duration::from_secs(600);

/// The reason of a damaged input that was only cut at its end.
pub(super) const ENDS_EARLY: &str = "input ends early; everything before the cut was decoded";

/// What a run did: counts of inputs, or with `--every` of derived outputs
/// ([`super::every::run`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Inputs in this shard's plan.
    pub planned: usize,
    /// Inputs left alone because complete.
    pub complete: usize,
    /// Inputs processed with status ok.
    pub ok: usize,
    /// Inputs with an output but damaged records (or an early end).
    pub damaged: usize,
    /// Of `damaged`, those where damage inside the input was skipped (not
    /// only an early end): what makes the exit status 1.
    pub damage_skipped: usize,
    /// Inputs that failed.
    pub failed: usize,
    /// Updates files recorded as skipped.
    pub skipped: usize,
    /// Inputs left unprocessed because the run stopped.
    pub abandoned: usize,
    /// Whether the run was stopped (stop flag, or `fail_fast`).
    pub stopped: bool,
    /// Input bytes processed.
    pub bytes: u64,
    /// Wall-clock seconds.
    pub elapsed_s: f64,
}

impl Summary {
    /// Count one finished input (output) of `status`; `skipped_damage`:
    /// whether damage inside it was skipped (for [`Status::Damaged`]).
    pub(super) fn count(&mut self, status: Status, skipped_damage: bool) {
        match status {
            Status::Ok => self.ok += 1,
            Status::Damaged => {
                self.damaged += 1;
                self.damage_skipped += usize::from(skipped_damage);
            }
            Status::Failed => self.failed += 1,
            Status::Skipped => self.skipped += 1,
        }
    }
}

/// Progress of a run, reported on the calling thread: of inputs and their
/// [`Record`]s, or with `--every` of derived outputs and their
/// [`super::derived::Derived`] rows.
#[derive(Debug)]
pub enum Event<'a, R = Record> {
    /// Before the first one: inputs (outputs) to process, the bytes to
    /// read, inputs (outputs) complete.
    Start {
        /// Inputs (outputs) to process.
        todo: usize,
        /// The bytes of the inputs to read.
        bytes: u64,
        /// Inputs (outputs) already complete.
        complete: usize,
    },
    /// One finished.
    Done {
        /// Its row.
        record: &'a R,
        /// Input bytes read for it.
        bytes: u64,
        /// Finished so far in this run.
        done: usize,
        /// To process in this run.
        todo: usize,
    },
}

/// Temporary files being written, and whether renames are still allowed.
#[derive(Default)]
struct Registry {
    closed: bool,
    temps: HashSet<PathBuf>,
}

/// The jobs of a run and what its driver threads share: the next job to
/// take, the stop flag, and the registry of temporary files.
pub(super) struct Work<J> {
    jobs: Vec<J>,
    next: AtomicUsize,
    halt: AtomicBool,
    registry: Mutex<Registry>,
}

impl<J> Work<J> {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the run is stopping: drop the work in hand.
    pub(super) fn halted(&self) -> bool {
        self.halt.load(Ordering::Relaxed)
    }

    /// Write an output to `tmp` (its hidden temporary name beside `dest`,
    /// registered until renamed or removed) with `write`, on a pool worker,
    /// and flush it to disk: its size. `None` when the run is stopping;
    /// on an error `tmp` is removed.
    pub(super) fn write(
        &self,
        tmp: &Path,
        dest: &Path,
        write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()> + Send,
    ) -> Option<io::Result<u64>> {
        // On a pool worker: the pool's threads bound the CPU work.
        self.write_here(tmp, dest, |w| rayon::scope(|_| write(w)))
    }

    /// As [`Work::write`], but `write` runs on this thread (a driver
    /// thread): for a writer that waits on the pool itself, such as a
    /// replay that feeds its output as it goes.
    pub(super) fn write_here(
        &self,
        tmp: &Path,
        dest: &Path,
        write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
    ) -> Option<io::Result<u64>> {
        {
            let mut reg = self.registry();
            if reg.closed {
                return None;
            }
            reg.temps.insert(tmp.to_path_buf());
        }
        let written = (|| -> io::Result<u64> {
            if let Some(dir) = dest.parent() {
                fs::create_dir_all(dir)?;
            }
            let file = File::create(tmp)?;
            let mut w = BufWriter::with_capacity(1 << 20, file);
            write(&mut w)?;
            let file = w.into_inner().map_err(|e| e.into_error())?;
            file.sync_data()?;
            Ok(file.metadata()?.len())
        })();
        if written.is_err() {
            let _ = fs::remove_file(tmp);
            self.registry().temps.remove(tmp);
        }
        Some(written)
    }

    /// Rename `tmp` to `dest` and call `then` with the result, both under
    /// the registry lock, so that after a stop closed it no output appears
    /// and every output renamed has been reported. `false` (and `tmp`
    /// removed, nothing renamed) when the run is stopping. A failed rename
    /// removes `tmp`.
    pub(super) fn commit(&self, tmp: &Path, dest: &Path, then: impl FnOnce(io::Result<()>)) -> bool {
        let mut reg = self.registry();
        reg.temps.remove(tmp);
        if reg.closed {
            let _ = fs::remove_file(tmp);
            return false;
        }
        let renamed = fs::rename(tmp, dest);
        if renamed.is_err() {
            let _ = fs::remove_file(tmp);
        }
        then(renamed);
        drop(reg);
        true
    }
}

/// What the driver threads of a plain run share besides their [`Work`].
struct Shared {
    names: Mutex<Names>,
    opts: BatchOptions,
    part: String,
    options_tag: String,
}

/// Unix time in milliseconds.
pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0))
}

fn base_record(item: &Item, sh: &Shared) -> Record {
    Record {
        path: item.input.display.clone(),
        format: sh.opts.format.as_str().to_string(),
        status: Status::Failed,
        reason: String::new(),
        collector: item.collector.clone(),
        kind: item.kind.as_str().to_string(),
        layout: item.layout.as_str().to_string(),
        dump_time: item.time,
        date: item.time.map(super::layout::utc_date).unwrap_or_default(),
        content_time: None,
        size: item.input.size,
        mtime_ns: item.input.mtime_ns,
        fingerprint: String::new(),
        output: String::new(),
        output_size: None,
        rows: None,
        records: None,
        rib_entries: None,
        peers: None,
        errors: String::new(),
        first_error_offset: None,
        first_error: String::new(),
        elapsed_s: 0.0,
        finished_ms: 0,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        options: sh.options_tag.clone(),
        part: sh.part.clone(),
    }
}

/// What processing one input came to.
enum Outcome {
    /// A record without an output.
    Record(Record),
    /// An output written to `tmp`, to be renamed to `dest`.
    Written(Record, PathBuf, PathBuf),
    /// Dropped: the run is stopping.
    Abandoned,
}

fn failed(mut rec: Record, reason: impl std::fmt::Display) -> Outcome {
    rec.status = Status::Failed;
    rec.reason = manifest::clean(&reason.to_string());
    Outcome::Record(rec)
}

/// Build and write one input (on its driver thread).
fn process(item: &Item, sh: &Shared, work: &Work<Item>) -> Outcome {
    let mut rec = base_record(item, sh);
    if let Some(e) = &item.input.stat_error {
        return failed(rec, format!("unreadable: {e}"));
    }
    match fingerprint::fingerprint(&item.input.path, sh.opts.fingerprint) {
        Ok(f) => rec.fingerprint = f,
        Err(e) => return failed(rec, format!("unreadable: {e}")),
    }
    if item.kind == super::Kind::Updates {
        rec.status = Status::Skipped;
        rec.reason = NOT_A_RIB.to_string();
        return Outcome::Record(rec);
    }
    if item.input.size == 0 {
        return failed(rec, "empty file");
    }
    let src = match Source::open(text_path(&item.input.display)) {
        Ok(s) => s,
        Err(e) => return failed(rec, format!("unreadable: {e}")),
    };
    let snap = match Snapshot::build_any(&src, &sh.opts.snapshot) {
        Ok(s) => s,
        Err(e) => {
            if let ErrorKind::Unsupported { .. } = e.kind() {
                rec.status = Status::Skipped;
                rec.kind = super::Kind::Updates.as_str().to_string();
                rec.reason = NOT_A_RIB.to_string();
                return Outcome::Record(rec);
            }
            rec.first_error_offset = Some(e.offset());
            rec.first_error = manifest::clean(&e.to_string());
            rec.errors = format!("{}=1", e.kind().name());
            return failed(rec, e);
        }
    };
    drop(src);
    if work.halted() {
        return Outcome::Abandoned;
    }
    let info = snap.sources().first().cloned().unwrap_or_default();
    let st = &info.stats;
    rec.content_time = info.dump_time.map(i64::from);
    rec.rows = Some(snap.len() as u64);
    rec.records = Some(st.records);
    rec.rib_entries = Some(st.rib_entries);
    rec.peers = Some(snap.peers().len() as u64);
    rec.errors = st.errors.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(";");
    let report = snap.report();
    if let Some(first) = report.first_errors.iter().min_by_key(|e| e.offset()) {
        rec.first_error_offset = Some(first.offset());
        rec.first_error = manifest::clean(&first.to_string());
    }
    if st.records == 0 {
        // Bytes that are not MRT are reported as damage; none at all means
        // nothing to read (a compressed stream of nothing).
        let why = match report.not_mrt() {
            Some(_) => "not MRT: no record could be read",
            None => "empty: no data once decompressed",
        };
        return failed(rec, why);
    }
    if st.rib_records == 0 {
        return failed(rec, "no RIB records (not a RIB dump, or too damaged)");
    }
    let damaged = report.total_errors() > 0;
    if damaged {
        let skipped = report.skipped();
        rec.reason = if skipped > 0 {
            format!("{skipped} damaged record(s) or region(s) skipped")
        } else {
            ENDS_EARLY.to_string()
        };
    }
    rec.status = if damaged { Status::Damaged } else { Status::Ok };
    if rec.dump_time.is_none() {
        rec.dump_time = rec.content_time;
        rec.date = rec.dump_time.map(super::layout::utc_date).unwrap_or_default();
    }
    let output = match (&item.output, rec.dump_time) {
        (Some(o), _) => o.clone(),
        (None, Some(t)) => {
            let base = output_path(&item.input.display, &item.collector, t, sh.opts.format);
            let mut names = sh.names.lock().unwrap_or_else(|e| e.into_inner());
            names.take(&base, &item.input.display, None, || Some(rec.fingerprint.clone()))
        }
        (None, None) => return failed(rec, "no dump time: neither the name nor the records give one"),
    };
    let dest = sh.opts.out.join(&output);
    let tmp = temp_path(&sh.opts.out, &output, &sh.part);
    let written = work.write(&tmp, &dest, |w| match sh.opts.format {
        super::OutputFormat::Parquet => snap.write_parquet(w).map_err(io::Error::other),
        super::OutputFormat::Pfx2as => snap.write_pfx2as(w),
    });
    match written {
        None => Outcome::Abandoned,
        Some(Ok(n)) => {
            rec.output = output;
            rec.output_size = Some(n);
            Outcome::Written(rec, tmp, dest)
        }
        Some(Err(e)) => failed(rec, format!("cannot write output {output}: {e}")),
    }
}

/// One input on its driver thread: processed, its output renamed into
/// place, its record reported with `emit`.
fn drive(item: &Item, sh: &Shared, work: &Work<Item>, emit: &mut dyn FnMut(Record) -> bool) {
    let t0 = Instant::now();
    let finish = |mut r: Record| {
        r.elapsed_s = t0.elapsed().as_secs_f64();
        r.finished_ms = now_ms();
        r
    };
    match process(item, sh, work) {
        Outcome::Abandoned => {}
        Outcome::Record(r) => {
            emit(finish(r));
        }
        Outcome::Written(mut r, tmp, dest) => {
            work.commit(&tmp, &dest, |renamed| {
                if let Err(e) = renamed {
                    r.status = Status::Failed;
                    r.reason = manifest::clean(&format!("cannot rename {} to {}: {e}", tmp.display(), dest.display()));
                    r.output.clear();
                    r.output_size = None;
                }
                emit(finish(r));
            });
        }
    }
}

/// Run `plan` with `journal` (this part's, locked by
/// [`Journal::open`] before planning, so that no other run of this part
/// can write into `opts.out` meanwhile): process every input not complete,
/// append their records to the journal, and rebuild the manifest. `stop`
/// is polled: once it is set, the run closes the registry (removing the
/// temporary files of inputs being written), records what finished, and
/// returns with [`Summary::stopped`] set, without waiting for driver
/// threads. `on_event` is called on this thread.
///
/// # Errors
/// When the output directory or the journal cannot be written.
pub fn run(
    opts: &BatchOptions,
    plan: Plan,
    mut journal: Journal,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Summary, String> {
    let t0 = Instant::now();
    let out = &opts.out;
    let part = opts.part();
    let planned = plan.items.len();
    let (done, todo): (Vec<Item>, Vec<Item>) = plan.items.into_iter().partition(|it| it.complete);
    let mut sum = Summary {
        planned,
        complete: done.len(),
        ..Summary::default()
    };
    // Leftovers of a killed run of this part.
    for it in &todo {
        if let Some(o) = &it.output {
            let _ = fs::remove_file(temp_path(out, o, &part));
        }
    }
    let bytes: u64 = todo.iter().map(|it| it.input.size).sum();
    let n = todo.len();
    on_event(Event::Start {
        todo: n,
        bytes,
        complete: sum.complete,
    });
    let in_flight = opts.files_in_flight().min(n.max(1));
    let mut shared_opts = opts.clone();
    // Batches in flight across all files as for one file alone (two per
    // pool thread), unless the caller chose a window.
    if shared_opts.snapshot.window.is_none() {
        shared_opts.snapshot.window = Some((2 * rayon::current_num_threads()).div_ceil(in_flight).max(2));
    }
    let sh = Shared {
        names: Mutex::new(plan.names),
        options_tag: opts.options_tag(),
        opts: shared_opts,
        part,
    };
    let mut finished = 0usize;
    let (stopped, _) = execute(
        todo,
        in_flight,
        move |item, work, emit| drive(item, &sh, work, emit),
        &mut journal,
        out,
        stop,
        opts.fail_fast,
        &mut |r: &Record| {
            finished += 1;
            sum.bytes += r.size;
            sum.count(r.status, r.reason != ENDS_EARLY);
            on_event(Event::Done {
                record: r,
                bytes: r.size,
                done: finished,
                todo: n,
            });
            r.status == Status::Failed
        },
    )?;
    if stopped {
        sum.stopped = true;
        sum.abandoned = n - finished;
    }
    sum.elapsed_s = t0.elapsed().as_secs_f64();
    Ok(sum)
}

/// Run `jobs` on `in_flight` driver threads (plain threads, not pool
/// workers: they block on decompressors and on the pool), each taking the
/// next job and calling `process`, which reports rows with its callback
/// (`false`: the run no longer listens). On this thread, each row is
/// appended to `journal` and passed to `on_row` (`true`: a failure, which
/// stops the run with `fail_fast`); the table is rebuilt every
/// [`COMPACT_EVERY`] and at the end. `stop` is polled: once it is set (or
/// a failure stops the run), the registry is closed (temporary files
/// removed, no rename after it), the rows sent before are recorded, and
/// it returns `true` without waiting for the driver threads, whose work in
/// hand is dropped. Also returns the rows recorded.
///
/// # Errors
/// When the journal or the table cannot be written.
#[allow(clippy::too_many_arguments)]
pub(super) fn execute<J, R>(
    jobs: Vec<J>,
    in_flight: usize,
    process: impl Fn(&J, &Work<J>, &mut dyn FnMut(R) -> bool) + Send + Sync + 'static,
    journal: &mut Journal<R>,
    out: &Path,
    stop: &AtomicBool,
    fail_fast: bool,
    on_row: &mut dyn FnMut(&R) -> bool,
) -> Result<(bool, usize), String>
where
    J: Send + Sync + 'static,
    R: Row + Send + 'static,
{
    let work = Arc::new(Work {
        jobs,
        next: AtomicUsize::new(0),
        halt: AtomicBool::new(false),
        registry: Mutex::new(Registry::default()),
    });
    let process = Arc::new(process);
    let (tx, rx) = channel::<R>();
    let mut handles = Vec::new();
    for _ in 0..in_flight.max(1) {
        let (work, process, tx) = (work.clone(), process.clone(), tx.clone());
        handles.push(std::thread::spawn(move || loop {
            if work.halted() {
                return;
            }
            let i = work.next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = work.jobs.get(i) else { return };
            let mut listening = true;
            process(job, &work, &mut |r| {
                listening &= tx.send(r).is_ok();
                listening
            });
            if !listening {
                return;
            }
        }));
    }
    drop(tx);
    let table = |e: io::Error| format!("cannot write the manifest: {e}");
    let mut recorded = 0usize;
    let mut record = |r: R, journal: &mut Journal<R>| -> Result<bool, String> {
        journal.append(&r).map_err(|e| format!("cannot append to the journal: {e}"))?;
        recorded += 1;
        Ok(on_row(&r))
    };
    let mut stopping = false;
    let mut compacted = Instant::now();
    loop {
        // A long run refreshes the table now and then (the journal is
        // always current).
        if compacted.elapsed() >= COMPACT_EVERY {
            manifest::compact_rows::<R>(out).map_err(table)?;
            compacted = Instant::now();
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(r) => {
                if record(r, journal)? && fail_fast {
                    stopping = true;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if stopping || stop.load(Ordering::Relaxed) {
            stopping = true;
            break;
        }
    }
    if stopping {
        work.halt.store(true, Ordering::Relaxed);
        let mut reg = work.registry();
        reg.closed = true;
        for t in reg.temps.drain() {
            let _ = fs::remove_file(t);
        }
        drop(reg);
        // Rows sent before the registry closed describe complete outputs.
        while let Ok(r) = rx.try_recv() {
            record(r, journal)?;
        }
    } else {
        for h in handles {
            let _ = h.join();
        }
    }
    journal.compact().map_err(|e| format!("cannot compact the journal: {e}"))?;
    manifest::compact_rows::<R>(out).map_err(table)?;
    Ok((stopping, recorded))
}
