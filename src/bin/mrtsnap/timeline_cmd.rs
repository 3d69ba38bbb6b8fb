//! `mrtsnap timeline` and `mrtsnap outages`.

use crate::output::Output;
use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use mrtsnap::bgp::Origin;
use mrtsnap::dataset::manifest::MANIFEST_DIR;
use mrtsnap::fmt::{csv_field, json_string};
use mrtsnap::replay::Archive;
use mrtsnap::snapshot::FullFeed;
use mrtsnap::timeline::outage::{Detector, Outage};
use mrtsnap::timeline::stored::Headlines;
use mrtsnap::timeline::table::{Columns, Families, Select, Series, TableWriter};
use mrtsnap::timeline::{self, Bin, Options};
use mrtsnap::Prefix;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimelineFormat {
    /// CSV with a header (the columns of the crate's `timeline::table` docs).
    Csv,
    /// One JSON object per row.
    Jsonl,
    /// Parquet (zstd): IPv4 and IPv6 space columns both.
    Parquet,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FamilyArg {
    /// IPv4 prefixes, space in /24s.
    Ipv4,
    /// IPv6 prefixes, space in /64s.
    Ipv6,
    /// Both.
    Both,
}

impl From<FamilyArg> for Families {
    fn from(f: FamilyArg) -> Families {
        match f {
            FamilyArg::Ipv4 => Families::Ipv4,
            FamilyArg::Ipv6 => Families::Ipv6,
            FamilyArg::Both => Families::Both,
        }
    }
}

/// What `timeline` and `outages` share: the inputs and how they are binned.
#[derive(Args)]
pub struct Binning {
    /// RIB dumps and updates files of one or several collectors, any order,
    /// or directories holding them (searched for rib.*, bview.* and
    /// updates.* names). For `outages`, instead: datasets of `mrtsnap batch
    /// --timeline` (directories holding _manifest/; their tables of --bin)
    /// or timeline Parquet files, read per collector.
    #[arg(required = true)]
    inputs: Vec<String>,
    /// Bin width (`5m`, `1m`, `1h`). A bin is labelled by its start; its
    /// values are the state after every record before its end.
    #[arg(long, default_value = "5m")]
    bin: String,
    /// The origin AS to follow (`131279` or `AS131279`); repeat for more.
    #[arg(long = "origin", value_name = "AS")]
    origins: Vec<String>,
    /// Every origin met.
    #[arg(long, conflicts_with = "origins")]
    all_origins: bool,
    /// Address family.
    #[arg(long, value_enum, default_value = "ipv4")]
    family: FamilyArg,
    /// The first bin (RFC 3339, date or Unix seconds); default: the
    /// earliest input.
    #[arg(long)]
    from: Option<String>,
    /// No bin ends after this; default: the end of the last input.
    #[arg(long)]
    until: Option<String>,
    /// Full-feed rule, as `snapshot --full-feed` (`ioda`: 400k IPv4 / 10k
    /// IPv6 prefixes).
    #[arg(long, default_value = "relative:0.8")]
    full_feed: FullFeed,
}

#[derive(Args)]
pub struct TimelineArgs {
    #[command(flatten)]
    binning: Binning,
    /// A prefix to follow with its more-specifics: one row per bin, prefix
    /// and origin (peers and full-feed peer ASNs seeing it); repeat for more.
    #[arg(long = "prefix", value_name = "PREFIX")]
    prefixes: Vec<String>,
    /// Output format (default csv; parquet with --all-origins).
    #[arg(long, value_enum)]
    format: Option<TimelineFormat>,
    /// Output file (`-`: standard output).
    #[arg(short, long, default_value = "-")]
    output: String,
    /// Draw the 50% series of the origins (events shaded) into FILE.svg or
    /// FILE.png.
    #[arg(long, value_name = "FILE")]
    plot: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutageFormat {
    /// CSV: `origin,start,end,duration_s,depth,severity,peers_withdrawn`
    /// (over stored timelines, `collector,` first).
    Csv,
    /// One JSON object per event (over stored timelines, a `collector`
    /// key first).
    Jsonl,
}

#[derive(Args)]
pub struct OutagesArgs {
    #[command(flatten)]
    binning: Binning,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    format: OutageFormat,
    /// Output file (`-`: standard output).
    #[arg(short, long, default_value = "-")]
    output: String,
    /// The baseline's window: the median of the 50% series over it.
    #[arg(long, default_value = "24h")]
    window: String,
    /// Bins with a value needed before a baseline exists.
    #[arg(long, default_value_t = 12)]
    warmup: usize,
    /// An event starts below this fraction of the baseline and ends at or above it.
    #[arg(long, default_value_t = 0.5)]
    fraction: f64,
    /// Events shorter than this many bins are not reported.
    #[arg(long, default_value_t = 2)]
    min_bins: usize,
    /// Draw the origin's series with its events shaded (one --origin).
    #[arg(long, value_name = "FILE")]
    plot: Option<String>,
}

/// An origin given on the command line.
fn parse_origin(s: &str) -> anyhow::Result<Origin> {
    let digits = s.strip_prefix("AS").or_else(|| s.strip_prefix("as")).unwrap_or(s);
    digits
        .parse::<u32>()
        .map(Origin::Asn)
        .map_err(|_| anyhow::anyhow!("--origin {s:?}: not an AS number"))
}

/// The inputs: files as given, directories searched (recursively) for
/// files named as RIB dumps or updates, in name order.
pub fn expand_inputs(inputs: &[String]) -> anyhow::Result<Vec<String>> {
    fn walk(dir: &Path, out: &mut Vec<String>) -> anyhow::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read directory {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else {
                let s = p.to_string_lossy().into_owned();
                if mrtsnap::layout::recognise(&s).kind != mrtsnap::layout::Kind::Unknown {
                    out.push(s);
                }
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for i in inputs {
        let p = Path::new(i);
        if p.is_dir() {
            let before = out.len();
            walk(p, &mut out)?;
            if out.len() == before {
                bail!("{i}: no RIB dump or updates file (rib.*, bview.*, updates.*) in this directory");
            }
        } else {
            out.push(i.clone());
        }
    }
    Ok(out)
}

/// What a run over the archive needs: the archive, the options, the
/// origins asked for.
struct Run {
    archive: Archive,
    files: Vec<String>,
    opts: Options,
    origins: Option<Vec<Origin>>,
    families: Families,
}

impl Binning {
    fn start(&self, watch: Vec<Prefix>, no_mmap: bool) -> anyhow::Result<Run> {
        let files = expand_inputs(&self.inputs)?;
        let (opts, origins) = self.options(watch)?;
        let archive = crate::snapshot_cmd::archive(&files, no_mmap)?;
        Ok(Run {
            archive,
            files,
            opts,
            origins,
            families: self.family.into(),
        })
    }

    /// The bins asked for, and the origins (`None`: all).
    fn options(&self, watch: Vec<Prefix>) -> anyhow::Result<(Options, Option<Vec<Origin>>)> {
        let bin = mrtsnap::fmt::parse_duration(&self.bin).map_err(|e| anyhow::anyhow!("--bin: {e}"))?;
        let bin = u32::try_from(bin)
            .ok()
            .filter(|&b| b > 0)
            .context("--bin: a positive duration, at most 136 years")?;
        let time = |s: &Option<String>, what: &str| -> anyhow::Result<Option<u32>> {
            s.as_deref()
                .map(|s| crate::snapshot_cmd::instant(s).map_err(|e| anyhow::anyhow!("{what}: {e:#}")))
                .transpose()
        };
        let opts = Options {
            bin,
            from: time(&self.from, "--from")?,
            until: time(&self.until, "--until")?,
            full_feed: self.full_feed,
            watch,
        };
        let origins = if self.all_origins {
            None
        } else {
            Some(self.origins.iter().map(|o| parse_origin(o)).collect::<anyhow::Result<Vec<_>>>()?)
        };
        Ok((opts, origins))
    }

    /// The stored timeline tables the inputs name, when they are stored
    /// timelines: batch datasets (a directory holding `_manifest/`: its
    /// tables of `bin` seconds) and timeline Parquet files. `None` for
    /// raw archives.
    fn stored(&self, bin: u32) -> anyhow::Result<Option<Vec<PathBuf>>> {
        let dataset = |i: &str| Path::new(i).join(MANIFEST_DIR).is_dir();
        let table = |i: &str| Path::new(i).is_file() && i.to_ascii_lowercase().ends_with(".parquet");
        let n = self.inputs.iter().filter(|i| dataset(i) || table(i)).count();
        if n == 0 {
            return Ok(None);
        }
        if n < self.inputs.len() {
            bail!("give raw archives or stored timelines (batch datasets, timeline Parquet files), not both");
        }
        let mut files = Vec::new();
        for i in &self.inputs {
            if dataset(i) {
                let tables = mrtsnap::dataset::timeline::tables(Path::new(i), bin).map_err(anyhow::Error::msg)?;
                files.extend(tables.into_iter().map(|(_, p)| p));
            } else {
                files.push(PathBuf::from(i));
            }
        }
        Ok(Some(files))
    }
}

/// Say which origins asked for were never met.
fn say_missing(asked: Option<&[Origin]>, met: &std::collections::HashSet<Origin>) {
    for o in asked.into_iter().flatten() {
        if !met.contains(o) {
            eprintln!("mrtsnap: AS{o}: no route with this origin in the inputs: no rows");
        }
    }
}

impl Run {
    fn collectors(&self) -> String {
        let names: Vec<&str> = self
            .archive
            .collectors()
            .iter()
            .map(|c| c.name())
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() {
            "replay".to_string()
        } else {
            names.join(";")
        }
    }

    /// Run the bins; then report what the replay met (gaps, damage).
    fn bins(&mut self, quiet: bool, mut each: impl FnMut(&Bin<'_>) -> anyhow::Result<()>) -> anyhow::Result<ExitCode> {
        let mut bins = 0u64;
        let mut nulls = 0u64;
        timeline::run(&mut self.archive, &self.opts, |b: &Bin<'_>| -> anyhow::Result<()> {
            bins += 1;
            nulls += u64::from(b.null);
            each(b)
        })
        .map_err(|e| match e.downcast::<mrtsnap::replay::InputError>() {
            Ok(e) => crate::snapshot_cmd::input_error(e),
            Err(e) => e,
        })?;
        let mut status = crate::Status::default();
        crate::snapshot_cmd::report_replay(&self.archive, quiet, &mut status)?;
        if !quiet {
            eprintln!(
                "mrtsnap: {bins} bins of {} s, {nulls} null (gaps or before a first RIB dump)",
                self.opts.bin
            );
        }
        Ok(status.code())
    }

    /// Say which origins asked for were never met.
    fn missing(&self, met: &std::collections::HashSet<Origin>) {
        say_missing(self.origins.as_deref(), met);
    }
}

pub fn timeline(a: TimelineArgs, quiet: bool, no_mmap: bool) -> anyhow::Result<ExitCode> {
    let watch = a
        .prefixes
        .iter()
        .map(|p| p.parse::<Prefix>().map_err(|e| anyhow::anyhow!("--prefix {p:?}: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if a.binning.origins.is_empty() && !a.binning.all_origins && watch.is_empty() {
        bail!("say what to follow: --origin AS (repeatable), --prefix PREFIX, or --all-origins");
    }
    if a.plot.is_some() && (a.binning.all_origins || a.binning.origins.is_empty()) {
        bail!("--plot draws the origins given with --origin");
    }
    let format = a.format.unwrap_or(if a.binning.all_origins {
        TimelineFormat::Parquet
    } else {
        TimelineFormat::Csv
    });
    let by_prefix = !watch.is_empty();
    if by_prefix && format == TimelineFormat::Parquet {
        bail!("--prefix rows are written as csv or jsonl");
    }
    let mut run = a.binning.start(watch, no_mmap)?;
    let mut outputs = vec![a.output.as_str()];
    outputs.extend(a.plot.as_deref());
    crate::output::refuse_inputs_as_outputs(&run.files, &outputs)?;
    let collectors = run.collectors();
    let select = Select {
        origins: run.origins.clone().filter(|o| !o.is_empty()),
        families: run.families,
    };
    let out = Output::create(&a.output)?;
    let mut sink = match format {
        TimelineFormat::Parquet => {
            // Encoded on a thread of its own, beside the replay: the table of
            // every origin at every bin (20M rows a day of a full collector)
            // was 11% of the run on the replay's thread.
            let (tx, rx) = std::sync::mpsc::sync_channel::<Columns>(2);
            let names = collectors.clone();
            let writer = std::thread::spawn(move || -> anyhow::Result<Output> {
                let mut w = TableWriter::new(out, &names)?;
                for cols in rx {
                    w.write(&cols)?;
                }
                Ok(w.finish()?)
            });
            Sink::Parquet { tx, writer }
        }
        _ => Sink::Text(out),
    };
    if let (Sink::Text(out), TimelineFormat::Csv) = (&mut sink, format) {
        if by_prefix {
            out.write_all(b"time,collectors,prefix,origin,peers,full_feed_peer_asns,prefix_peers,prefix_full_feed_peer_asns,uncertain\n")?;
        } else {
            out.write_all(Columns::csv_header(select.families).as_bytes())?;
        }
    }
    let mut cols = Columns::default();
    let mut met = std::collections::HashSet::new();
    let mut series: BTreeMap<(Origin, bool), Series> = BTreeMap::new();
    let keep_series = a.plot.is_some();
    let status = run.bins(quiet, |b| {
        if by_prefix {
            if let Sink::Text(out) = &mut sink {
                write_prefix_rows(b, &collectors, select.origins.as_deref(), format, out)?;
            }
            return Ok(());
        }
        cols.push_bin(b, &select);
        if select.origins.is_some() {
            met.extend(cols.origin.iter().cloned());
        }
        if keep_series {
            Series::collect(&mut series, &cols);
        }
        match &mut sink {
            Sink::Parquet { tx, .. } => {
                if cols.len() < 1 << 16 {
                    return Ok(());
                }
                if tx.send(std::mem::take(&mut cols)).is_err() {
                    bail!("the Parquet writer stopped");
                }
            }
            Sink::Text(out) if format == TimelineFormat::Csv => cols.write_csv(&collectors, select.families, out)?,
            Sink::Text(out) => cols.write_jsonl(&collectors, out)?,
        }
        cols.clear();
        Ok(())
    });
    let status = match status {
        Ok(s) => s,
        Err(e) => {
            // The writer's temporary file is removed with its output.
            if let Sink::Parquet { tx, writer } = sink {
                drop(tx);
                let _ = writer.join();
            }
            return Err(e);
        }
    };
    let out = match sink {
        Sink::Parquet { tx, writer } => {
            let sent = tx.send(cols);
            drop(tx);
            let out = writer.join().map_err(|_| anyhow::anyhow!("the Parquet writer panicked"))??;
            if sent.is_err() {
                bail!("the Parquet writer stopped");
            }
            out
        }
        Sink::Text(out) => out,
    };
    if !by_prefix {
        run.missing(&met);
    }
    out.finish()?;
    if let Some(plot) = &a.plot {
        let detector = Detector::default();
        draw(plot, &run, &series, &detector, &collectors)?;
    }
    Ok(status)
}

/// Where `timeline` writes its rows.
enum Sink {
    Text(Output),
    /// Batches of rows to the writer thread, which gives the file back.
    Parquet {
        tx: std::sync::mpsc::SyncSender<Columns>,
        writer: std::thread::JoinHandle<anyhow::Result<Output>>,
    },
}

/// The `--prefix` rows of one bin: per prefix followed and origin.
fn write_prefix_rows(
    b: &Bin<'_>,
    collectors: &str,
    origins: Option<&[Origin]>,
    format: TimelineFormat,
    out: &mut Output,
) -> anyhow::Result<()> {
    let time = mrtsnap::fmt::utc_datetime(i64::from(b.start));
    let (mut csv_collectors, mut json_collectors) = (String::new(), String::new());
    csv_field(&mut csv_collectors, collectors);
    json_string(&mut json_collectors, collectors);
    for p in b.state.watched() {
        let Some(view) = b.state.prefix(&p) else { continue };
        let mut rows: Vec<(String, Option<(u32, u32)>)> = view
            .origins
            .iter()
            .filter(|(o, _, _)| origins.is_none_or(|list| list.is_empty() || list.contains(o)))
            .map(|(o, n, f)| (o.to_string(), Some((*n, *f))))
            .collect();
        if rows.is_empty() {
            rows.push((String::new(), Some((0, 0))));
        }
        for (origin, v) in rows {
            let v = v.filter(|_| !b.null);
            let cell = |x: Option<u32>| x.map_or_else(String::new, |x| x.to_string());
            let pv = (!b.null).then_some((view.peers, view.full_feed_peer_asns));
            match format {
                TimelineFormat::Jsonl => {
                    let num = |x: Option<u32>| x.map_or_else(|| "null".to_string(), |x| x.to_string());
                    writeln!(
                        out,
                        "{{\"time\":\"{time}\",\"collectors\":{json_collectors},\"prefix\":\"{p}\",\"origin\":\"{origin}\",\"peers\":{},\"full_feed_peer_asns\":{},\"prefix_peers\":{},\"prefix_full_feed_peer_asns\":{},\"uncertain\":{}}}",
                        num(v.map(|v| v.0)),
                        num(v.map(|v| v.1)),
                        num(pv.map(|v| v.0)),
                        num(pv.map(|v| v.1)),
                        b.uncertain
                    )?;
                }
                _ => {
                    let mut origin_cell = String::new();
                    csv_field(&mut origin_cell, &origin);
                    writeln!(
                        out,
                        "{time},{csv_collectors},{p},{origin_cell},{},{},{},{},{}",
                        cell(v.map(|v| v.0)),
                        cell(v.map(|v| v.1)),
                        cell(pv.map(|v| v.0)),
                        cell(pv.map(|v| v.1)),
                        u8::from(b.uncertain)
                    )?;
                }
            }
        }
    }
    Ok(())
}

pub fn outages(a: OutagesArgs, quiet: bool, no_mmap: bool) -> anyhow::Result<ExitCode> {
    if a.binning.origins.is_empty() && !a.binning.all_origins {
        bail!("say what to watch: --origin AS (repeatable) or --all-origins");
    }
    if a.plot.is_some() && a.binning.origins.len() != 1 {
        bail!("--plot draws one origin: give one --origin");
    }
    let window = mrtsnap::fmt::parse_duration(&a.window).map_err(|e| anyhow::anyhow!("--window: {e}"))?;
    if !(a.fraction > 0.0 && a.fraction <= 1.0) {
        bail!("--fraction: a number in (0, 1]");
    }
    let detector = Detector {
        window: u32::try_from(window).unwrap_or(u32::MAX),
        warmup: a.warmup,
        fraction: a.fraction,
        min_bins: a.min_bins.max(1),
    };
    let bin = a.binning.options(Vec::new())?.0.bin;
    if let Some(files) = a.binning.stored(bin)? {
        return outages_stored(&a, &files, &detector, quiet);
    }
    let mut run = a.binning.start(Vec::new(), no_mmap)?;
    let mut outputs = vec![a.output.as_str()];
    outputs.extend(a.plot.as_deref());
    crate::output::refuse_inputs_as_outputs(&run.files, &outputs)?;
    let collectors = run.collectors();
    let select = Select {
        origins: run.origins.clone(),
        families: run.families,
    };
    let mut cols = Columns::default();
    let mut series: BTreeMap<(Origin, bool), Series> = BTreeMap::new();
    let status = run.bins(quiet, |b| {
        cols.push_bin(b, &select);
        Series::collect(&mut series, &cols);
        cols.clear();
        Ok(())
    })?;
    let met = series.keys().map(|(o, _)| o.clone()).collect();
    run.missing(&met);
    let mut out = Output::create(&a.output)?;
    if a.format == OutageFormat::Csv {
        out.write_all(b"origin,start,end,duration_s,depth,severity,peers_withdrawn\n")?;
    }
    let mut events = 0usize;
    for ((origin, v6), s) in &series {
        for e in detector.detect(&s.points(), run.opts.bin) {
            events += 1;
            write_event(&mut out, a.format, None, origin, *v6, &e)?;
        }
    }
    out.finish()?;
    if !quiet {
        eprintln!("mrtsnap: {events} event(s) over {} origin series", series.len());
    }
    if let Some(plot) = &a.plot {
        draw(plot, &run, &series, &detector, &collectors)?;
    }
    Ok(status)
}

/// `outages` over stored timelines: per collector (the tables'
/// `collectors`), origin and family, the headline series of the tables,
/// concatenated in time order.
fn outages_stored(a: &OutagesArgs, files: &[PathBuf], detector: &Detector, quiet: bool) -> anyhow::Result<ExitCode> {
    if a.binning.full_feed != FullFeed::default() {
        bail!("--full-feed does not apply to stored timelines: their tables were built by the rule of the run that wrote them");
    }
    if a.plot.is_some() {
        bail!(
            "--plot draws series replayed from raw archives; over stored timelines it does not apply (give the collector's files instead)"
        );
    }
    let (opts, origins) = a.binning.options(Vec::new())?;
    let names: Vec<String> = files.iter().map(|f| f.to_string_lossy().into_owned()).collect();
    crate::output::refuse_inputs_as_outputs(&names, &[a.output.as_str()])?;
    let bin = opts.bin;
    // The bins `timeline::run` would compute: from `--from` (rounded down
    // to the bin), those that end by `--until`.
    let lo = opts.from.map_or(0, |f| f / bin * bin);
    let keep = match opts.until {
        None => Some((lo, u32::MAX)),
        Some(u) => Some(u.checked_sub(bin).map_or((1, 0), |hi| (lo, hi))),
    };
    let select = Select {
        origins: origins.clone(),
        families: a.binning.family.into(),
    };
    let mut heads = Headlines::new(select, keep);
    for f in files {
        heads
            .read(f)
            .with_context(|| format!("cannot read the timeline table {}", f.display()))?;
    }
    let met = heads.keys().map(|(_, o, _)| o).collect();
    say_missing(origins.as_deref(), &met);
    let mut out = Output::create(&a.output)?;
    if a.format == OutageFormat::Csv {
        out.write_all(b"collector,origin,start,end,duration_s,depth,severity,peers_withdrawn\n")?;
    }
    let (mut events, mut n) = (0usize, 0usize);
    for ((collectors, origin, v6), points) in heads.series() {
        n += 1;
        for e in detector.detect(&points, bin) {
            events += 1;
            write_event(&mut out, a.format, Some(&collectors), &origin, v6, &e)?;
        }
    }
    out.finish()?;
    if !quiet {
        eprintln!(
            "mrtsnap: {events} event(s) over {n} collector and origin series, from {} stored table(s)",
            files.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One event: as CSV, `collector,` first when `collector` is given (stored
/// timelines); as JSON, a `collector` key first.
fn write_event(
    out: &mut Output,
    format: OutageFormat,
    collector: Option<&str>,
    origin: &Origin,
    v6: bool,
    e: &Outage,
) -> anyhow::Result<()> {
    use mrtsnap::fmt::utc_datetime;
    let end = e.end.map(|t| utc_datetime(i64::from(t)));
    let duration = e.duration();
    match format {
        OutageFormat::Csv => {
            let mut head = String::new();
            if let Some(c) = collector {
                csv_field(&mut head, c);
                head.push(',');
            }
            csv_field(&mut head, &origin.to_string());
            writeln!(
                out,
                "{head},{},{},{},{:.3},{:.1},{}",
                utc_datetime(i64::from(e.start)),
                end.unwrap_or_default(),
                duration.map_or_else(String::new, |d| d.to_string()),
                e.depth,
                e.severity,
                e.peers_withdrawn
            )?;
        }
        OutageFormat::Jsonl => {
            let mut head = String::from("{");
            if let Some(c) = collector {
                head.push_str("\"collector\":");
                json_string(&mut head, c);
                head.push(',');
            }
            out.write_all(head.as_bytes())?;
            writeln!(
                out,
                "\"origin\":\"{origin}\",\"family\":\"{}\",\"start\":\"{}\",\"end\":{},\"duration_s\":{},\"depth\":{:.3},\"severity\":{:.1},\"peers_withdrawn\":{},\"baseline\":{}}}",
                if v6 { "ipv6" } else { "ipv4" },
                utc_datetime(i64::from(e.start)),
                end.map_or_else(|| "null".to_string(), |t| format!("\"{t}\"")),
                duration.map_or_else(|| "null".to_string(), |d| d.to_string()),
                e.depth,
                e.severity,
                e.peers_withdrawn,
                e.baseline
            )?;
        }
    }
    Ok(())
}

/// Draw the headline series of the origins asked for (and, for one
/// origin, its space seen by at least one full-feed peer ASN), events
/// shaded, null bins grey.
fn draw(path: &str, run: &Run, series: &BTreeMap<(Origin, bool), Series>, detector: &Detector, collectors: &str) -> anyhow::Result<()> {
    use mrtsnap::plot::{self, Chart};
    let bin = run.opts.bin;
    let unit = match run.families {
        Families::Ipv6 => "/64s",
        Families::Ipv4 => "/24s",
        Families::Both => "/24s (IPv4), /64s (IPv6)",
    };
    let mut chart = Chart {
        title: String::new(),
        y_label: format!("{unit} visible to ≥50% of full-feed peer ASNs"),
        series: Vec::new(),
        shaded: Vec::new(),
        missing: Vec::new(),
    };
    let asked = run.origins.clone().unwrap_or_default();
    let mut names = Vec::new();
    for ((origin, v6), s) in series.iter().filter(|((o, _), _)| asked.contains(o)) {
        let family = if run.families == Families::Both {
            if *v6 {
                " IPv6"
            } else {
                " IPv4"
            }
        } else {
            ""
        };
        names.push(format!("AS{origin}{family}"));
        chart.series.push(plot::Series {
            label: format!("AS{origin}{family} ≥50%"),
            points: s.times().iter().copied().zip(s.values()).collect(),
        });
        if asked.len() == 1 && run.families != Families::Both {
            chart.series.push(plot::Series {
                label: format!("AS{origin} ≥1 full-feed peer ASN"),
                points: s.times().iter().copied().zip(s.seen_by_one()).collect(),
            });
        }
        for e in detector.detect(&s.points(), bin) {
            let end = e.end.unwrap_or_else(|| s.times().last().map_or(e.start, |&t| t + bin));
            chart.shaded.push((e.start, end));
        }
        for (&t, v) in s.times().iter().zip(s.values()) {
            if v.is_some() {
                continue;
            }
            match chart.missing.last_mut() {
                Some(m) if m.1 == t => m.1 = t + bin,
                _ => chart.missing.push((t, t + bin)),
            }
        }
    }
    chart.missing.sort_unstable();
    chart.missing.dedup();
    chart.title = format!("{} — {}", names.join(", "), collectors.replace(';', ", "));
    plot::write(&chart, Path::new(path)).map_err(|e| anyhow::anyhow!("--plot: {e}"))
}
