//! `mrtsnap batch`: many archives into a hive-partitioned dataset.

use anyhow::bail;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mrtsnap::dataset::derived::Derived;
use mrtsnap::dataset::discover::shown;
use mrtsnap::dataset::manifest::{self, Record, Status, MANIFEST_DIR};
use mrtsnap::dataset::select::{parse_time, Daily, Selection};
use mrtsnap::dataset::shard::Shard;
use mrtsnap::dataset::{every, fingerprint, timeline, BatchOptions, Event, OutputFormat, Summary};
use mrtsnap::layout::{utc_datetime, Kind};
use mrtsnap::snapshot::{FullFeed, SnapshotOptions};
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, ValueEnum)]
pub enum KindArg {
    /// RIB dumps (rib.*, bview.*).
    Rib,
    /// Updates files (recorded as skipped: not a RIB).
    Updates,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum BatchFormat {
    /// Parquet snapshots, the schema of `mrtsnap snapshot`.
    Parquet,
    /// CAIDA prefix-to-AS text files.
    Pfx2as,
}

#[derive(Args)]
pub struct BatchArgs {
    /// Inputs: directories (walked recursively), files, quoted glob patterns
    /// ('archive/rrc0*/2014.*/bview.*'), or @LIST (paths one per line, or a
    /// CSV with a `path` column such as a manifest). With none, only rebuild
    /// the manifest of --out from its journals.
    inputs: Vec<OsString>,
    /// Output directory: DIR/collector=C/date=YYYY-MM-DD/NAME.parquet, and
    /// the manifest in DIR/_manifest/.
    #[arg(short, long)]
    out: PathBuf,
    /// Read input paths from a list (as @LIST); `-` for standard input.
    #[arg(long, value_name = "LIST")]
    files_from: Vec<PathBuf>,
    /// Only these collectors (names or glob patterns; repeat or separate by commas).
    #[arg(long, value_delimiter = ',')]
    collector: Vec<String>,
    /// Only dumps at or after this time: RFC 3339 (2014-12-22T16:20:00Z), YYYY-MM-DD[THH:MM[:SS]] (UTC) or Unix seconds (@SECONDS).
    /// With --every: the first instant; with --timeline: the first day.
    #[arg(long)]
    from: Option<String>,
    /// Only dumps at or before this time (a bare date: through the end of that day).
    /// With --every: the last instant; with --timeline: the last day.
    #[arg(long)]
    until: Option<String>,
    /// Only this kind of dump.
    #[arg(long, value_enum)]
    kind: Option<KindArg>,
    /// One RIB per collector per UTC day: the one nearest HH:MM, or
    /// `median-size` (the RIB of median size, as CAIDA picks, passing over
    /// truncated dumps). Updates files are then left out.
    #[arg(long, value_name = "HH:MM|median-size")]
    daily: Option<Daily>,
    /// Replay updates onto RIB dumps: per collector, the routing state at
    /// every multiple of DURATION (`15m`, `1h`, `1d`; counted from the Unix
    /// epoch) from its first RIB dump to the end of its last input, each
    /// from the last RIB dump before it and the updates that follow
    /// (DIR/collector=C/date=D/C.YYYYMMDDTHHMMSSZ.parquet; the inputs of
    /// each in DIR/_manifest/derived.csv and derived.parquet).
    #[arg(long, value_name = "DURATION", conflicts_with_all = ["kind", "daily"])]
    every: Option<String>,
    /// Visibility timelines: per collector and UTC day, the timeline of
    /// every origin in bins of BIN (`5m`; a divisor of a day), both
    /// families, replayed from the last RIB dump at or before the day's
    /// first bin and the updates that follow
    /// (DIR/timeline/bin=BIN/collector=C/date=D/C.YYYYMMDD.parquet, the
    /// schema of `mrtsnap timeline --format parquet`; a row each in
    /// DIR/_manifest/derived.csv and derived.parquet). `--from`/`--until`
    /// bound the days. `mrtsnap outages DIR` reads them.
    #[arg(long, value_name = "BIN", conflicts_with_all = ["kind", "daily", "every"])]
    timeline: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "parquet")]
    format: BatchFormat,
    /// Process only shard K of N (1 <= K <= N), by a stable hash of each
    /// input's path relative to its INPUT (with --every and --timeline: of
    /// each collector's name, whole collectors per shard).
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Files processed at once (memory grows with it; default: half the
    /// threads, 2 to 16).
    #[arg(long, value_name = "N")]
    in_flight: Option<usize>,
    /// Redo inputs whose output is complete.
    #[arg(long)]
    force: bool,
    /// Stop at the first failed input.
    #[arg(long)]
    fail_fast: bool,
    /// Fingerprint inputs by the SHA-256 of the whole file (default: size
    /// and SHA-256 of the first and last MiB).
    #[arg(long)]
    sha256: bool,
    /// On a rerun, re-read unchanged-looking inputs (same size and time) to
    /// compare fingerprints.
    #[arg(long)]
    verify: bool,
    /// Print the plan (one line per input: action, collector, kind, time,
    /// output, path) and do nothing.
    #[arg(long)]
    dry_run: bool,
    /// Full-feed rule (as for `snapshot`).
    #[arg(long, default_value = "relative:0.8")]
    full_feed: FullFeed,
    /// Also take multicast RIB records.
    #[arg(long)]
    multicast: bool,
}

fn options(a: &BatchArgs, strict: bool) -> anyhow::Result<BatchOptions> {
    let time = |s: &Option<String>, end| s.as_deref().map(|s| parse_time(s, end)).transpose().map_err(anyhow::Error::new);
    let every = a
        .every
        .as_deref()
        .map(|d| mrtsnap::fmt::parse_duration(d).map_err(|e| anyhow::anyhow!("--every: {e}")))
        .transpose()?;
    if every.is_some() {
        // The replay's snapshots are built by its own rules.
        if a.multicast || strict || a.full_feed != FullFeed::default() {
            bail!("--every replays updates by the replay's rules: unicast routes, damaged records skipped and reported, the default full-feed rule; --multicast, --strict and --full-feed do not apply");
        }
    }
    let timeline = a
        .timeline
        .as_deref()
        .map(|d| -> anyhow::Result<u32> {
            let bin = mrtsnap::fmt::parse_duration(d).map_err(|e| anyhow::anyhow!("--timeline: {e}"))?;
            u32::try_from(bin)
                .ok()
                .filter(|&b| b > 0 && 86_400u32.is_multiple_of(b))
                .ok_or_else(|| anyhow::anyhow!("--timeline: a bin that divides a day (1m, 5m, 15m, 1h, ...)"))
        })
        .transpose()?;
    if timeline.is_some() {
        if a.multicast || strict {
            bail!("--timeline replays updates by the replay's rules: unicast routes, damaged records skipped and reported (and flagged in the rows); --multicast and --strict do not apply");
        }
        if !matches!(a.format, BatchFormat::Parquet) {
            bail!("--timeline writes Parquet tables; --format pfx2as does not apply");
        }
    }
    Ok(BatchOptions {
        inputs: a.inputs.clone(),
        lists: a.files_from.clone(),
        out: a.out.clone(),
        selection: Selection {
            collectors: a.collector.clone(),
            from: time(&a.from, false)?,
            until: time(&a.until, true)?,
            kind: a.kind.map(|k| match k {
                KindArg::Rib => Kind::Rib,
                KindArg::Updates => Kind::Updates,
            }),
            daily: a.daily,
        },
        format: match a.format {
            BatchFormat::Parquet => OutputFormat::Parquet,
            BatchFormat::Pfx2as => OutputFormat::Pfx2as,
        },
        shard: a.shard,
        in_flight: a.in_flight.unwrap_or(0),
        force: a.force,
        fail_fast: a.fail_fast,
        fingerprint: if a.sha256 {
            fingerprint::Mode::Sha256
        } else {
            fingerprint::Mode::Fast
        },
        verify: a.verify,
        snapshot: SnapshotOptions {
            strict,
            full_feed: a.full_feed,
            multicast: a.multicast,
            ..Default::default()
        },
        every,
        timeline,
    })
}

/// Bytes as `12.3 MiB`.
fn human(b: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", units.get(u).copied().unwrap_or("B"))
}

/// Peak resident memory of this process (Linux: VmHWM), in bytes.
fn peak_rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// What a progress line says of a finished row.
trait Line {
    fn status(&self) -> Status;
    fn line(&self) -> String;
}

impl Line for Record {
    fn status(&self) -> Status {
        self.status
    }

    fn line(&self) -> String {
        let r = self;
        let mut s = format!(
            "{} {} {}",
            r.status.as_str(),
            r.collector,
            if r.date.is_empty() { "-" } else { &r.date }
        );
        s.push(' ');
        s.push_str(&shown(&r.path));
        if let Some(rows) = r.rows {
            s.push_str(&format!(" rows={rows}"));
        }
        s.push_str(&format!(" {:.2}s", r.elapsed_s));
        if !r.reason.is_empty() && r.status != Status::Skipped {
            s.push_str(": ");
            s.push_str(&r.reason);
            if let Some(o) = r.first_error_offset {
                s.push_str(&format!(" (first error at byte {o}: {})", r.first_error));
            }
        }
        s
    }
}

impl Line for Derived {
    fn status(&self) -> Status {
        self.status
    }

    fn line(&self) -> String {
        let r = self;
        let mut s = format!("{} {} {}", r.status.as_str(), r.collector, utc_datetime(r.instant));
        if let Some(bin) = r.timeline_bin_s {
            s.push_str(&format!(" timeline bin={}", mrtsnap::fmt::duration(u64::from(bin))));
        }
        if let Some(rows) = r.rows {
            s.push_str(&format!(" rows={rows}"));
        }
        s.push_str(&format!(" inputs={}", r.inputs.len()));
        if r.base.is_empty() {
            s.push_str(" base=none");
        }
        if r.gap_s > 0 {
            s.push_str(&format!(" gap_s={}", r.gap_s));
        }
        s.push_str(&format!(" {:.2}s", r.elapsed_s));
        if r.status != Status::Ok && !r.reason.is_empty() {
            s.push_str(": ");
            s.push_str(&r.reason);
        }
        s
    }
}

/// Progress: an indicatif bar on a terminal, log lines otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
    started: std::time::Instant,
    bytes_done: u64,
    bytes_total: u64,
    /// What is processed: `input(s)` or `output(s)`.
    what: &'static str,
}

impl Progress {
    fn event<R: Line>(&mut self, e: Event<'_, R>) {
        let what = self.what;
        match e {
            Event::Start { todo, bytes, complete } => {
                self.bytes_total = bytes;
                let msg = format!(
                    "mrtsnap batch: {todo} {what} to process ({}), {complete} already complete",
                    human(bytes as f64)
                );
                if let Some(bar) = &self.bar {
                    bar.set_length(bytes);
                    bar.set_message(format!("0/{todo} {what}"));
                    bar.println(msg);
                } else {
                    eprintln!("{msg}");
                }
            }
            Event::Done { record, bytes, done, todo } => {
                self.bytes_done += bytes;
                let failed = record.status() == Status::Failed;
                if let Some(bar) = &self.bar {
                    bar.inc(bytes);
                    bar.set_message(format!("{done}/{todo} {what}"));
                    if failed || !self.quiet && record.status() == Status::Damaged {
                        bar.println(format!("mrtsnap batch: {}", record.line()));
                    }
                } else if !self.quiet || failed {
                    let secs = self.started.elapsed().as_secs_f64().max(1e-9);
                    let rate = self.bytes_done as f64 / secs;
                    let eta = if rate > 0.0 {
                        self.bytes_total.saturating_sub(self.bytes_done) as f64 / rate
                    } else {
                        0.0
                    };
                    eprintln!(
                        "mrtsnap batch: [{done}/{todo} {what}, {}/{}, {}/s, ETA {:.0}s] {}",
                        human(self.bytes_done as f64),
                        human(self.bytes_total as f64),
                        human(rate),
                        eta,
                        record.line()
                    );
                }
            }
        }
    }
}

fn print_summary(s: &Summary, out: &std::path::Path, every: bool, left_out: usize) {
    let rate = s.bytes as f64 / s.elapsed_s.max(1e-9);
    let rss = peak_rss().map(|b| format!("; peak RSS {}", human(b as f64))).unwrap_or_default();
    let stopped = if s.abandoned > 0 {
        format!(", {} not done (stopped)", s.abandoned)
    } else {
        String::new()
    };
    let (what, counts, table) = if every {
        let left = if left_out > 0 {
            format!(", {left_out} input(s) left out")
        } else {
            String::new()
        };
        (
            "output(s)",
            format!(
                "{} ok, {} damaged, {} failed, {} already complete{stopped}{left}",
                s.ok, s.damaged, s.failed, s.complete
            ),
            "derived.csv",
        )
    } else {
        (
            "input(s)",
            format!(
                "{} ok, {} damaged, {} skipped (updates), {} failed, {} already complete{stopped}",
                s.ok, s.damaged, s.skipped, s.failed, s.complete
            ),
            "manifest.csv",
        )
    };
    eprintln!(
        "mrtsnap batch: {} {what}: {counts}; {} in {:.1} s ({}/s){rss}",
        s.planned,
        human(s.bytes as f64),
        s.elapsed_s,
        human(rate)
    );
    if s.failed + s.damage_skipped > 0 {
        eprintln!(
            "mrtsnap batch: {} {what} failed, {} with damage skipped; see {}",
            s.failed,
            s.damage_skipped,
            out.join(MANIFEST_DIR).join(table).display()
        );
    }
}

/// The stop flag, set by Ctrl-C or SIGTERM, and the progress display.
fn watch(quiet: bool, what: &'static str) -> anyhow::Result<(Arc<AtomicBool>, Progress)> {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                eprintln!("mrtsnap batch: interrupted again; exiting now");
                std::process::exit(130);
            }
            eprintln!("mrtsnap batch: stopping: files in flight are abandoned, no partial output is left");
        })?;
    }
    let terminal = std::io::stderr().is_terminal();
    let bar = terminal.then(|| {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let progress = Progress {
        bar,
        quiet,
        started: std::time::Instant::now(),
        bytes_done: 0,
        bytes_total: 0,
        what,
    };
    Ok((stop, progress))
}

/// Report a finished run and give its exit status: 1 when an input (an
/// output) failed or had damage skipped inside it (one only cut at its
/// end counts as clean), the rule of every command; 130 when stopped.
fn finish(summary: &Summary, progress: &Progress, stop: &AtomicBool, out: &std::path::Path, left_out: Option<usize>) -> ExitCode {
    if let Some(bar) = &progress.bar {
        bar.finish_and_clear();
    }
    print_summary(summary, out, left_out.is_some(), left_out.unwrap_or(0));
    if stop.load(Ordering::SeqCst) {
        // Driver threads may still be decoding: leave without waiting.
        let _ = std::io::stderr().flush();
        std::process::exit(130);
    }
    if summary.failed + summary.damage_skipped > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

pub fn batch(a: BatchArgs, strict: bool, quiet: bool) -> anyhow::Result<ExitCode> {
    let opts = options(&a, strict)?;
    if a.inputs.is_empty() && a.files_from.is_empty() {
        if !opts.out.join(MANIFEST_DIR).is_dir() {
            bail!("no input, and {} holds no batch manifest to rebuild", opts.out.display());
        }
        let m = manifest::compact(&opts.out)?;
        eprintln!("mrtsnap batch: manifest rebuilt: {} record(s)", m.len());
        if manifest::has_journals::<Derived>(&opts.out) {
            let d = manifest::compact_rows::<Derived>(&opts.out)?;
            eprintln!("mrtsnap batch: derived table rebuilt: {} row(s)", d.len());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if opts.every.is_some() || opts.timeline.is_some() {
        return batch_every(&a, &opts, quiet);
    }
    // The journal is locked before planning: a second run of the same part
    // stops here, before it reads or writes anything.
    let journal = if a.dry_run {
        None
    } else {
        Some(mrtsnap::dataset::open_journal::<Record>(&opts).map_err(anyhow::Error::msg)?)
    };
    let plan = mrtsnap::dataset::plan(&opts).map_err(anyhow::Error::msg)?;
    let Some(journal) = journal else {
        let stdout = std::io::stdout();
        let mut w = std::io::BufWriter::new(stdout.lock());
        writeln!(w, "action\tcollector\tkind\ttime\toutput\tpath")?;
        for it in &plan.items {
            let action = if it.complete { "complete" } else { "todo" };
            let time = it.time.map(utc_datetime).unwrap_or_else(|| "-".into());
            let output = it.output.as_deref().unwrap_or("-");
            writeln!(
                w,
                "{action}\t{}\t{}\t{time}\t{output}\t{}",
                it.collector,
                it.kind,
                shown(&it.input.display)
            )?;
        }
        w.flush()?;
        eprintln!(
            "mrtsnap batch: {} input(s) found, {} selected, {} in this shard",
            plan.found,
            plan.selected,
            plan.items.len()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let (stop, mut progress) = watch(quiet, "input(s)")?;
    let summary = mrtsnap::dataset::run(&opts, plan, journal, &stop, &mut |e| progress.event(e)).map_err(anyhow::Error::msg)?;
    Ok(finish(&summary, &progress, &stop, &opts.out, None))
}

/// `batch --every D` (replayed snapshots) and `batch --timeline BIN`
/// (a timeline per collector and day): a row each in the derived table.
fn batch_every(a: &BatchArgs, opts: &BatchOptions, quiet: bool) -> anyhow::Result<ExitCode> {
    let journal = if a.dry_run {
        None
    } else {
        Some(mrtsnap::dataset::open_journal::<Derived>(opts).map_err(anyhow::Error::msg)?)
    };
    let plan = if opts.timeline.is_some() {
        timeline::plan(opts)
    } else {
        every::plan(opts)
    }
    .map_err(anyhow::Error::msg)?;
    for (it, why) in &plan.left_out {
        eprintln!("mrtsnap batch: left out: {}: {why}", shown(&it.input.display));
    }
    let Some(journal) = journal else {
        let stdout = std::io::stdout();
        let mut w = std::io::BufWriter::new(stdout.lock());
        writeln!(w, "action\tcollector\tinstant\toutput\tinputs\tbase")?;
        let mut outputs = 0;
        for seg in &plan.segments {
            let base = if seg.base {
                seg.inputs.first().map(|b| shown(&b.input.display).into_owned()).unwrap_or_default()
            } else {
                "-".to_string()
            };
            for t in &seg.targets {
                let action = if t.complete { "complete" } else { "todo" };
                writeln!(
                    w,
                    "{action}\t{}\t{}\t{}\t{}\t{base}",
                    seg.collector,
                    utc_datetime(t.instant),
                    t.output,
                    t.inputs
                )?;
                outputs += 1;
            }
        }
        w.flush()?;
        eprintln!(
            "mrtsnap batch: {} input(s) found, {} selected; {} output(s) of {} collector segment(s) in this shard, {} input(s) left out",
            plan.found,
            plan.selected,
            outputs,
            plan.segments.len(),
            plan.left_out.len()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let left_out = plan.left_out.len();
    let (stop, mut progress) = watch(quiet, "output(s)")?;
    let summary = every::run(opts, plan, journal, &stop, &mut |e| progress.event(e)).map_err(anyhow::Error::msg)?;
    Ok(finish(&summary, &progress, &stop, &opts.out, Some(left_out)))
}
