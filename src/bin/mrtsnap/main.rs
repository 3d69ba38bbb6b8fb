//! The `mrtsnap` command-line tool.
#![deny(unsafe_code)]

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use mrtsnap::dump::BgpdumpWriter;
use mrtsnap::pipeline::{for_each_record, map_ordered};
use mrtsnap::source::DEFAULT_BATCH_SIZE;
use mrtsnap::Report;
use mrtsnap::Source;
use std::io::Write;
use std::process::ExitCode;

mod batch_cmd;
mod memory;
mod output;
mod signals;
mod snapshot_cmd;
mod timeline_cmd;

use output::Output;

#[derive(Parser)]
#[command(
    name = "mrtsnap",
    version,
    about = "Fast MRT (RFC 6396) archive reader and prefix-origin snapshots"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    /// Worker threads (default: all cores).
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// Stop at the first damaged record instead of skipping it.
    #[arg(long, global = true)]
    strict: bool,
    /// Do not print per-record errors (the summary is still printed).
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Never memory-map inputs; read them instead.
    #[arg(long, global = true)]
    no_mmap: bool,
    /// SIMD kernels: `auto` (the best this CPU has), `scalar` (the portable
    /// code, to compare), or one backend by name. Output is identical.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    simd: SimdChoice,
}

#[derive(Clone, Copy, ValueEnum)]
enum SimdChoice {
    /// The best backend this CPU has.
    Auto,
    /// Portable scalar code.
    Scalar,
    /// x86_64 SSE2.
    Sse2,
    /// x86_64 AVX2.
    Avx2,
    /// x86_64 AVX-512 (F, BW, VL).
    Avx512,
    /// aarch64 NEON.
    Neon,
}

#[derive(Clone, Copy, ValueEnum)]
enum DumpFormat {
    /// Lines identical to `bgpdump -m`.
    Bgpdump,
    /// One JSON object per route.
    Jsonl,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write synthetic MRT files (deterministic for a seed) with their true
    /// prefix-origin pairs.
    Synth {
        #[command(subcommand)]
        what: SynthCmd,
    },
    /// Print every route of MRT files.
    Dump {
        /// Input files (`-` for standard input).
        #[arg(required = true)]
        files: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "bgpdump")]
        format: DumpFormat,
        /// Output file (`-`: standard output).
        #[arg(long, short, default_value = "-")]
        output: String,
    },
    /// Count records by type, peers, prefixes, errors.
    Stats {
        /// Input files.
        #[arg(required = true)]
        files: Vec<String>,
        /// One JSON object per file instead of the readable report.
        #[arg(long)]
        json: bool,
    },
    /// Prefix-origin snapshots of RIB dumps: one row per (prefix, origin)
    /// with its peers (Parquet, CAIDA pfx2as, pairs or jsonl).
    Snapshot(snapshot_cmd::SnapshotArgs),
    /// Look up addresses (longest match) or prefixes in a snapshot or a RIB dump.
    Lookup(snapshot_cmd::LookupArgs),
    /// Prefix-origin pairs that appeared, vanished or changed peer count
    /// between two snapshots or RIB dumps (exit 0 either way; --exit-code
    /// for 1 when they differ).
    Diff(snapshot_cmd::DiffArgs),
    /// Many archives into a hive-partitioned dataset of snapshots (or of
    /// daily visibility timelines: --timeline), resumable, parallel,
    /// shardable, with a manifest.
    Batch(batch_cmd::BatchArgs),
    /// Visibility of origins (or prefixes) bin by bin over RIB dumps and
    /// updates replayed: prefixes and /24s (/64s) visible to at least one,
    /// 25, 50, 75, 100% of the full-feed peer ASNs, peers seeing them.
    Timeline(timeline_cmd::TimelineArgs),
    /// Outages of origins: drops of their 50% visibility below a fraction
    /// of a moving baseline (the median of the preceding 24 h), over raw
    /// archives (their collectors combined) or over the timelines of a
    /// `batch --timeline` dataset (per collector: a leading `collector`
    /// column).
    Outages(timeline_cmd::OutagesArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Preset {
    /// A few thousand prefixes (the shipped corpus sample).
    Small,
    /// About 1.0M IPv4 and 230k IPv6 prefixes, 20 full and 10 partial peers.
    Default,
    /// Shaped like a 2026 route-views2 RIB: 1M IPv4 prefixes, ~29.7M RIB
    /// entries; decode cost calibrated on the real route-views2 RIB of
    /// 2014-05-23.
    RouteViews2,
    /// Shaped like a 2026 route-views6 RIB: 230k IPv6 prefixes, ~5M RIB
    /// entries; decode cost calibrated on the real route-views6 RIB of
    /// 2015-11-01.
    RouteViews6,
    /// Like the real route-views.jinx RIB of 2014-05-30: 497k prefixes, 14
    /// peers, ~1 RIB entry per prefix; decode cost calibrated on it.
    Jinx,
    /// Shaped like a 2026 RIS rrc00 RIB (~53M RIB entries).
    Rrc00,
}

#[derive(Clone, Copy, ValueEnum)]
enum ArchivePreset {
    /// 7 peers (2 joining later), 3800 prefixes, 3 hours, 2 RIBs (tests).
    Small,
    /// One rrc00 day of December 2014: 50 peers, 1.23M prefixes, 3 bviews,
    /// 288 updates files.
    Rrc00Day,
}

#[derive(Clone, Copy, ValueEnum)]
enum ScenarioArg {
    /// North Korea's outages of 22-23 December 2014 in route-views2 and
    /// rrc00, with the events written down in DIR/truth.
    #[value(name = "nk-2014")]
    Nk2014,
}

#[derive(Clone, Copy, ValueEnum)]
enum ArchiveLayoutArg {
    /// RIPE RIS: rrcNN/YYYY.MM/bview.*.gz, updates.*.gz.
    Ris,
    /// RouteViews: [COLLECTOR/]bgpdata/YYYY.MM/{RIBS,UPDATES}/*.bz2.
    Routeviews,
}

#[derive(Subcommand)]
enum SynthCmd {
    /// A TABLE_DUMP_V2 RIB.
    Rib {
        /// Output file; compression from its extension (.gz, .bz2, .zst, .xz).
        #[arg(short, long)]
        output: std::path::PathBuf,
        /// Size and shape.
        #[arg(long, value_enum, default_value = "default")]
        preset: Preset,
        /// Scale the prefix counts.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write ADD-PATH RIB subtypes.
        #[arg(long)]
        add_path: bool,
        /// Also write the true prefix-origin pairs (`PREFIX/LEN<TAB>ORIGIN<TAB>PEERS`).
        #[arg(long)]
        truth: Option<std::path::PathBuf>,
    },
    /// A collector's archive: RIB dumps and updates files in the names and
    /// folders of RouteViews or RIS, and the true prefix-origin pairs at
    /// every --truth-every in DIR/truth (named as `snapshot --every` names
    /// its outputs). With --scenario, several collectors' archives and
    /// what happens in them.
    Archive {
        /// Size and shape.
        #[arg(long, value_enum, default_value = "small")]
        preset: ArchivePreset,
        /// A scenario instead of a preset: its collectors, span and events
        /// are its own (see the crate's `synth::scenario` docs).
        #[arg(long, value_enum, conflicts_with_all = ["preset", "layout", "collector", "start", "hours", "truth_every"])]
        scenario: Option<ScenarioArg>,
        /// With --scenario: the table's size as a fraction of the full
        /// one (1M prefixes), 0.001 to 1 (default 0.002: 2,000 prefixes,
        /// a few seconds).
        #[arg(long, requires = "scenario")]
        scale: Option<f64>,
        /// Names, folders, compression and intervals.
        #[arg(long, value_enum, default_value = "ris")]
        layout: ArchiveLayoutArg,
        /// The collector (default route-views2 or rrc00).
        #[arg(long)]
        collector: Option<String>,
        /// Random seed (default: the preset's).
        #[arg(long)]
        seed: Option<u64>,
        /// The first RIB's dump start (RFC 3339, a date, or Unix seconds;
        /// default 2014-12-01).
        #[arg(long)]
        start: Option<String>,
        /// Hours covered by updates files (default: the preset's).
        #[arg(long)]
        hours: Option<u32>,
        /// The truth every DURATION (`30m`, `4h`; default: the preset's).
        #[arg(long)]
        truth_every: Option<String>,
        /// Output folder.
        #[arg(short, long)]
        output: std::path::PathBuf,
    },
    /// A BGP4MP updates file.
    Updates {
        /// Output file; compression from its extension.
        #[arg(short, long)]
        output: std::path::PathBuf,
        /// Number of records.
        #[arg(long, default_value_t = 100_000)]
        messages: usize,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write BGP4MP_ET records (microsecond timestamps).
        #[arg(long)]
        et: bool,
    },
}

fn synth(what: SynthCmd) -> anyhow::Result<ExitCode> {
    use mrtsnap::synth::{Compression, RibOptions, UpdatesOptions};
    match what {
        SynthCmd::Rib {
            output,
            preset,
            scale,
            seed,
            add_path,
            truth,
        } => {
            let base = match preset {
                Preset::Small => RibOptions::small(),
                Preset::Default => RibOptions::default(),
                Preset::RouteViews2 => RibOptions::route_views2_like(),
                Preset::RouteViews6 => RibOptions::route_views6_like(),
                Preset::Jinx => RibOptions::jinx_like(),
                Preset::Rrc00 => RibOptions::rrc00_like(),
            };
            let mut opts = if scale == 1.0 { base } else { base.scale(scale) };
            opts.seed = seed;
            opts.add_path = add_path;
            let summary = opts.write_to(&output, Compression::from_path(&output))?;
            eprintln!(
                "mrtsnap: wrote {}: {} records, {} RIB entries, {} peers, {} bytes uncompressed",
                output.display(),
                summary.records,
                summary.entries,
                summary.peers,
                summary.bytes
            );
            if let Some(t) = truth {
                let f = std::io::BufWriter::new(std::fs::File::create(&t).with_context(|| t.display().to_string())?);
                mrtsnap::synth::write_truth(&summary.truth, f)?;
            }
        }
        SynthCmd::Archive {
            scenario: Some(ScenarioArg::Nk2014),
            scale,
            seed,
            output,
            ..
        } => synth_nk_2014(scale, seed, &output)?,
        SynthCmd::Archive {
            preset,
            layout,
            collector,
            seed,
            start,
            hours,
            truth_every,
            output,
            scenario: None,
            ..
        } => synth_archive(preset, layout, collector, seed, start, hours, truth_every, &output)?,
        SynthCmd::Updates {
            output,
            messages,
            seed,
            et,
        } => {
            let opts = UpdatesOptions {
                messages,
                seed,
                et,
                ..UpdatesOptions::default()
            };
            let s = opts.write_to(&output, Compression::from_path(&output))?;
            eprintln!(
                "mrtsnap: wrote {}: {} records, {} bytes uncompressed",
                output.display(),
                s.records,
                s.bytes
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Records and bytes of archive files, all together.
fn totals(files: &[mrtsnap::synth::archive::ArchiveFile]) -> (u64, u64) {
    (files.iter().map(|f| f.records).sum(), files.iter().map(|f| f.bytes).sum())
}

/// `mrtsnap synth archive --scenario nk-2014`.
fn synth_nk_2014(scale: Option<f64>, seed: Option<u64>, output: &std::path::Path) -> anyhow::Result<()> {
    use mrtsnap::synth::scenario::Nk2014;
    let mut sc = Nk2014::new(scale.unwrap_or(Nk2014::DEFAULT_SCALE));
    if let Some(s) = seed {
        sc.seed = s;
    }
    let clock = std::time::Instant::now();
    let s = sc.write(output)?;
    for (name, a) in &s.collectors {
        let ((rr, rb), (ur, ub)) = (totals(&a.ribs), totals(&a.updates));
        let c = &a.counts;
        eprintln!(
            "mrtsnap: {name}: {} RIBs ({rr} records, {rb} bytes uncompressed), {} updates files ({ur} records, {ub} bytes uncompressed); {} announced, {} withdrawn, {} flaps, {} resets, {} joins",
            a.ribs.len(),
            a.updates.len(),
            c.announced,
            c.withdrawn,
            c.flaps,
            c.resets,
            c.joins,
        );
    }
    eprintln!(
        "mrtsnap: wrote {} in {:.1} s: {} outages of AS{}, {} brief withdrawals, {} stable origins, {} truth instants",
        output.display(),
        clock.elapsed().as_secs_f64(),
        s.events.len(),
        Nk2014::ORIGIN,
        s.brief.len(),
        s.stable.len(),
        s.truths.len(),
    );
    Ok(())
}

/// `mrtsnap synth archive`.
#[allow(clippy::too_many_arguments)]
fn synth_archive(
    preset: ArchivePreset,
    layout: ArchiveLayoutArg,
    collector: Option<String>,
    seed: Option<u64>,
    start: Option<String>,
    hours: Option<u32>,
    truth_every: Option<String>,
    output: &std::path::Path,
) -> anyhow::Result<()> {
    use mrtsnap::synth::archive::{write_archive, ArchiveLayout, ArchiveOptions};
    let layout = match layout {
        ArchiveLayoutArg::Ris => ArchiveLayout::Ris,
        ArchiveLayoutArg::Routeviews => ArchiveLayout::RouteViews,
    };
    let mut opts = match preset {
        ArchivePreset::Small => ArchiveOptions::small(layout),
        ArchivePreset::Rrc00Day => ArchiveOptions::rrc00_day(layout),
    };
    if let Some(c) = collector {
        opts.collector = c;
    }
    if let Some(s) = seed {
        opts.seed = s;
    }
    if let Some(t) = start {
        let t = mrtsnap::fmt::parse_time(&t, false).map_err(|e| anyhow::anyhow!("--start: {e}"))?;
        opts.start = u32::try_from(t).map_err(|_| anyhow::anyhow!("--start: outside the range of MRT timestamps"))?;
    }
    if let Some(h) = hours {
        opts.duration = h.checked_mul(3600).ok_or_else(|| anyhow::anyhow!("--hours: too many"))?;
    }
    if let Some(d) = truth_every {
        let d = mrtsnap::fmt::parse_duration(&d).map_err(|e| anyhow::anyhow!("--truth-every: {e}"))?;
        opts.truth_every = u32::try_from(d).map_err(|_| anyhow::anyhow!("--truth-every: too long"))?;
    }
    let clock = std::time::Instant::now();
    let s = write_archive(&opts, output)?;
    let ((rr, rb), (ur, ub)) = (totals(&s.ribs), totals(&s.updates));
    let c = &s.counts;
    eprintln!(
        "mrtsnap: wrote {} in {:.1} s: {} RIBs ({rr} records, {rb} bytes uncompressed), {} updates files ({ur} records, {ub} bytes uncompressed), {} truth files",
        output.display(),
        clock.elapsed().as_secs_f64(),
        s.ribs.len(),
        s.updates.len(),
        s.truths.len(),
    );
    eprintln!(
        "mrtsnap: {} announced, {} withdrawn ({} of nothing), {} flaps, {} resets, {} joins, {} table transfers ({} routes), {} ADD-PATH announcements",
        c.announced, c.withdrawn, c.withdrawn_nothing, c.flaps, c.resets, c.joins, c.transfers, c.transfer_routes, c.add_path_announced
    );
    Ok(())
}

/// Open an input. Regular files are mapped (unless `--no-mmap`); other
/// inputs (standard input, pipes, FIFOs, devices) are read once.
/// That `path` (not `-`) exists and is not a directory, in the words every
/// command uses.
fn check_input(path: &str) -> anyhow::Result<()> {
    if path != "-" {
        match std::fs::metadata(path) {
            Err(e) => anyhow::bail!("cannot open {path}: {e}"),
            Ok(m) if m.is_dir() => anyhow::bail!("cannot read {path}: it is a directory"),
            Ok(_) => {}
        }
    }
    Ok(())
}

fn open(path: &str, no_mmap: bool) -> anyhow::Result<Source> {
    check_input(path)?;
    signals::reading(path);
    let src = if no_mmap || path == "-" {
        Source::open(path)
    } else {
        open_mapped(path)
    };
    src.map_err(|e| match e.kind() {
        mrtsnap::ErrorKind::Io(io) => anyhow::anyhow!("cannot open {path}: {}", io.kind()),
        _ => anyhow::anyhow!("cannot open {path}: {e}"),
    })
}

#[allow(unsafe_code)]
fn open_mapped(path: &str) -> mrtsnap::Result<Source> {
    // SAFETY: a file changed under the map is the one case that would
    // fault (SIGBUS, as with every mmap-based reader: ripgrep makes the
    // same choice); the handler of `signals` turns that into a message
    // naming the file, removes temporary outputs and exits with 2.
    unsafe { Source::open_mmap(path) }
}

/// The exit status of a run: 0 when every input decoded cleanly or was
/// only cut at its end, 1 when damage was skipped, 2 on a fatal error
/// (which is an `Err` instead).
#[derive(Clone, Copy, Default)]
struct Status {
    damaged: bool,
}

impl Status {
    /// Report on one input's decoding and fold it into the run's status.
    /// An input that is not empty but holds no MRT record at all is fatal:
    /// nothing was read from it (a text file, a wrong path, a stream
    /// damaged from its first byte).
    fn input(&mut self, file: &str, report: &Report, quiet: bool) -> anyhow::Result<()> {
        print_errors(file, report, quiet);
        if let Some(e) = report.not_mrt() {
            anyhow::bail!("{file}: {}", e.kind());
        }
        self.damaged |= report.skipped() > 0;
        Ok(())
    }

    fn code(self) -> ExitCode {
        if self.damaged {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }
}

fn print_errors(file: &str, report: &Report, quiet: bool) {
    if !quiet {
        for e in &report.first_errors {
            eprintln!("mrtsnap: {file}: {e}");
        }
    }
    let total = report.total_errors();
    if total > 0 {
        let kinds: Vec<String> = report.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let skipped = report.skipped();
        if skipped > 0 {
            eprintln!(
                "mrtsnap: {file}: {skipped} damaged record(s) or region(s) skipped ({})",
                kinds.join(", ")
            );
        } else {
            eprintln!(
                "mrtsnap: {file}: input ends early; everything before the cut was decoded ({})",
                kinds.join(", ")
            );
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `mrtsnap dump`: every route of `files` as text, in record order.
///
/// Batches are formatted in parallel and written in order. Output buffers go
/// back to a small free list after they are written, so each batch formats
/// into memory that is already faulted in (a fresh 8 MiB buffer per batch
/// cost a page fault per 4 KiB written: 11.7k faults, ~8% of the CPU of a
/// jinx RIB dump), and each is sized from the largest output-to-input ratio
/// seen so far (bgpdump lines are ~1.9 times a RIB's bytes, JSON lines ~11
/// times), so a batch rarely grows its buffer.
fn dump(files: &[String], format: DumpFormat, output: &str, strict: bool, quiet: bool, no_mmap: bool) -> anyhow::Result<ExitCode> {
    use mrtsnap::pipeline::RecordDamage;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let threads = rayon::current_num_threads();
    let window = threads * 2;
    output::refuse_inputs_as_outputs(files, &[output])?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, Output::create(output)?);
    // An error writing the output, told apart from the inputs' errors.
    let mut write_error: Option<std::io::Error> = None;
    // Output bytes per 16 input bytes, the largest seen (a starting guess).
    let ratio16 = AtomicUsize::new(match format {
        DumpFormat::Bgpdump => 40,
        DumpFormat::Jsonl => 190,
    });
    let free: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    let take_buffer = |want: usize| {
        let mut v = free.lock().unwrap_or_else(|e| e.into_inner()).pop().unwrap_or_default();
        v.clear();
        v.reserve(want);
        v
    };
    let mut status = Status::default();
    for file in files {
        let src = open(file, no_mmap)?;
        let mut report = Report::default();
        let res = map_ordered(
            src.batches(DEFAULT_BATCH_SIZE),
            window,
            |batch| {
                let n = batch.data.len();
                let mut text = take_buffer(n.saturating_mul(ratio16.load(Ordering::Relaxed)) / 16 + 4096);
                let mut rep = Report::default();
                let mut w = BgpdumpWriter::new();
                let mut damage = RecordDamage::new(strict);
                let r = for_each_record(batch, &mut rep, strict, |raw, rec, peers| {
                    damage.note(match format {
                        DumpFormat::Bgpdump => w.write_record(raw, rec, peers, &mut text),
                        DumpFormat::Jsonl => mrtsnap::dump::jsonl::write_record(raw, rec, peers, &mut text),
                    })
                });
                let r = damage.finish(r, &mut rep);
                if let Some(r) = text.len().saturating_mul(16).checked_div(n) {
                    ratio16.fetch_max(r + 1, Ordering::Relaxed);
                }
                (text, rep, r)
            },
            |(text, rep, r)| {
                if let Err(e) = out.write_all(&text) {
                    let stop = mrtsnap::Error::io(std::io::Error::new(e.kind(), "output"));
                    write_error = Some(e);
                    return Err(stop);
                }
                let mut f = free.lock().unwrap_or_else(|e| e.into_inner());
                if f.len() < window + 2 {
                    f.push(text);
                }
                drop(f);
                report.merge(rep);
                r
            },
        );
        if let Some(e) = write_error {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(ExitCode::SUCCESS);
            }
            return Err(anyhow::Error::new(e).context(format!("writing {output}")));
        }
        if let Err(e) = res {
            print_errors(file, &report, quiet);
            anyhow::bail!("{file}: {e}");
        }
        status.input(file, &report, quiet)?;
    }
    match out.into_inner() {
        Ok(o) => o.finish()?,
        Err(e) if e.error().kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(anyhow::Error::new(e.into_error()).context(format!("writing {output}"))),
    }
    Ok(status.code())
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    use mrtsnap::simd::{set_backend, Backend};
    let backend = match cli.simd {
        SimdChoice::Auto => None,
        SimdChoice::Scalar => Some(Backend::Scalar),
        SimdChoice::Sse2 => Some(Backend::Sse2),
        SimdChoice::Avx2 => Some(Backend::Avx2),
        SimdChoice::Avx512 => Some(Backend::Avx512),
        SimdChoice::Neon => Some(Backend::Neon),
    };
    if let Some(b) = backend {
        set_backend(b)?;
    }
    if let Some(n) = cli.threads {
        // More threads than this only cost memory and start-up time (10,000
        // threads took a minute on a 906-byte file).
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cap = cores.saturating_mul(4).max(4);
        let n = if n > cap {
            eprintln!("mrtsnap: --threads {n} is more than 4 x the {cores} core(s) here; using {cap}");
            cap
        } else {
            n.max(1)
        };
        rayon::ThreadPoolBuilder::new().num_threads(n).build_global().ok();
    }
    signals::install(!matches!(cli.cmd, Cmd::Batch(_)));
    if matches!(cli.cmd, Cmd::Batch(_)) {
        // Its drivers are threads of their own that block on the pool.
        return command(cli);
    }
    // Every other command runs on a worker of the pool, so that --threads N
    // is N busy threads in all: off the pool, the thread that takes the
    // batches' results in (the snapshot's merge of rows) ran beside the N
    // workers, and `--threads 1` kept two cores busy.
    let (done, ()) = rayon::join(|| command(cli), || ());
    done
}

/// Run the command of `cli` (the process set up).
fn command(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.cmd {
        Cmd::Synth { what } => synth(what),
        Cmd::Snapshot(a) => snapshot_cmd::snapshot(a, cli.strict, cli.quiet, cli.no_mmap),
        Cmd::Lookup(a) => snapshot_cmd::lookup(a, cli.strict, cli.quiet, cli.no_mmap),
        Cmd::Diff(a) => snapshot_cmd::diff(a, cli.strict, cli.quiet, cli.no_mmap),
        Cmd::Batch(a) => batch_cmd::batch(a, cli.strict, cli.quiet),
        Cmd::Timeline(a) => timeline_cmd::timeline(a, cli.quiet, cli.no_mmap),
        Cmd::Outages(a) => timeline_cmd::outages(a, cli.quiet, cli.no_mmap),
        Cmd::Dump { files, format, output } => dump(&files, format, &output, cli.strict, cli.quiet, cli.no_mmap),
        Cmd::Stats { files, json } => {
            let mut status = Status::default();
            for file in &files {
                let src = open(file, cli.no_mmap)?;
                let stats = mrtsnap::stats::FileStats::collect(&src, cli.strict).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
                let stdout = std::io::stdout();
                let mut out = stdout.lock();
                if json {
                    stats.write_json(file, &mut out)?;
                } else {
                    stats.write_text(file, &mut out)?;
                }
                out.flush()?;
                status.input(file, &stats.report, cli.quiet)?;
            }
            Ok(status.code())
        }
    }
}

fn main() -> ExitCode {
    memory::fix_mmap_threshold();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mrtsnap: {e:#}");
            ExitCode::from(2)
        }
    }
}
