//! The `mrtsnap` command-line tool.

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use mrtsnap::dump::BgpdumpWriter;
use mrtsnap::pipeline::{for_each_record, map_ordered};
use mrtsnap::report::Report;
use mrtsnap::source::DEFAULT_BATCH_SIZE;
use mrtsnap::Source;
use std::io::Write;
use std::process::ExitCode;

mod batch_cmd;
mod snapshot_cmd;

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
    /// Many archives into a hive-partitioned dataset of snapshots
    /// (resumable, parallel, shardable), with a manifest.
    Batch(batch_cmd::BatchArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Preset {
    /// A few thousand prefixes (the shipped corpus sample).
    Small,
    /// About 1.0M IPv4 and 230k IPv6 prefixes, 20 full and 10 partial peers.
    Default,
    /// Shaped like a 2026 route-views2 RIB (~21M RIB entries).
    RouteViews2,
    /// Shaped like a 2026 RIS rrc00 RIB (~53M RIB entries).
    Rrc00,
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

fn open(path: &str, no_mmap: bool) -> anyhow::Result<Source> {
    if no_mmap || path == "-" {
        return Source::open(path).with_context(|| format!("cannot open {path}"));
    }
    // SAFETY: archives are not modified while mrtsnap reads them; a file
    // truncated under the map is the one case that would fault, as with
    // every mmap-based reader (ripgrep makes the same choice).
    unsafe { Source::open_mmap(path) }.with_context(|| format!("cannot open {path}"))
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
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let threads = rayon::current_num_threads();
    let window = threads * 2;
    let sink: Box<dyn Write> = if output == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(output).with_context(|| format!("creating {output}"))?)
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, sink);
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
    let mut damaged = false;
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
                let r = for_each_record(batch, &mut rep, strict, |raw, rec, peers| match format {
                    DumpFormat::Bgpdump => w.write_record(raw, rec, peers, &mut text),
                    DumpFormat::Jsonl => mrtsnap::dump::jsonl::write_record(raw, rec, peers, &mut text),
                });
                if let Some(r) = text.len().saturating_mul(16).checked_div(n) {
                    ratio16.fetch_max(r + 1, Ordering::Relaxed);
                }
                (text, rep, r)
            },
            |(text, rep, r)| {
                out.write_all(&text)?;
                let mut f = free.lock().unwrap_or_else(|e| e.into_inner());
                if f.len() < window + 2 {
                    f.push(text);
                }
                drop(f);
                report.merge(rep);
                r
            },
        );
        if let Err(e) = &res {
            if matches!(e.kind(), mrtsnap::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe) {
                return Ok(ExitCode::SUCCESS);
            }
        }
        print_errors(file, &report, quiet);
        if let Err(e) = res {
            out.flush()?;
            anyhow::bail!("{file}: {e}");
        }
        damaged |= report.skipped() > 0;
    }
    out.flush().with_context(|| format!("writing {output}"))?;
    Ok(if damaged { ExitCode::from(1) } else { ExitCode::SUCCESS })
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
        rayon::ThreadPoolBuilder::new().num_threads(n.max(1)).build_global().ok();
    }
    match cli.cmd {
        Cmd::Synth { what } => synth(what),
        Cmd::Snapshot(a) => snapshot_cmd::snapshot(a, cli.strict, cli.quiet, cli.no_mmap),
        Cmd::Lookup(a) => snapshot_cmd::lookup(a, cli.strict, cli.quiet, cli.no_mmap),
        Cmd::Batch(a) => batch_cmd::batch(a, cli.strict, cli.quiet),
        Cmd::Dump { files, format, output } => dump(&files, format, &output, cli.strict, cli.quiet, cli.no_mmap),
        Cmd::Stats { files, json } => {
            let mut damaged = false;
            for file in &files {
                let src = open(file, cli.no_mmap)?;
                let stats = mrtsnap::stats::FileStats::collect(&src, cli.strict).with_context(|| file.clone())?;
                let stdout = std::io::stdout();
                let mut out = stdout.lock();
                if json {
                    stats.write_json(file, &mut out)?;
                } else {
                    stats.write_text(file, &mut out)?;
                }
                out.flush()?;
                print_errors(file, &stats.report, cli.quiet);
                damaged |= stats.report.skipped() > 0;
            }
            Ok(if damaged { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
    }
}

fn main() -> ExitCode {
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
