//! `mrtsnap snapshot` and `mrtsnap lookup`.

use crate::output::Output;
use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use mrtsnap::replay::{Archive, InputError};
use mrtsnap::snapshot::{FullFeed, Snapshot, SnapshotOptions};
use mrtsnap::source::DEFAULT_BATCH_SIZE;
use mrtsnap::{ErrorKind, Prefix};
use std::io::{Read, Write};
use std::net::IpAddr;
use std::path::Path;
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SnapFormat {
    /// Parquet (zstd), the full snapshot with its metadata and peer table.
    Parquet,
    /// CAIDA prefix-to-AS text: `prefix<TAB>length<TAB>AS[_AS...]`.
    Pfx2as,
    /// `PREFIX/LEN<TAB>ORIGIN<TAB>PEERS`, one line per prefix-origin pair.
    Pairs,
    /// One JSON object per prefix-origin pair.
    Jsonl,
}

impl SnapFormat {
    fn extension(self) -> &'static str {
        match self {
            SnapFormat::Parquet => "parquet",
            SnapFormat::Pfx2as => "pfx2as",
            SnapFormat::Pairs => "pairs.tsv",
            SnapFormat::Jsonl => "jsonl",
        }
    }
}

#[derive(Args)]
pub struct SnapshotArgs {
    /// RIB dumps (TABLE_DUMP_V2 rib.*/bview.*, or legacy TABLE_DUMP); `-` for standard input.
    #[arg(required = true)]
    files: Vec<String>,
    /// Output file (`-`: standard output). With several inputs and no
    /// --merge, a directory for one output each. Default: named after the
    /// input (collector and file name), in the current directory.
    #[arg(short, long)]
    output: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "parquet")]
    format: SnapFormat,
    /// Merge the inputs (collectors dumped at the same time) into one snapshot.
    #[arg(long)]
    merge: bool,
    /// Full-feed rule: `relative:FRACTION` of the largest peer's prefix
    /// count per family (default relative:0.8), `ioda` (400k IPv4 / 10k
    /// IPv6 prefixes), or `fixed:IPV4,IPV6`.
    #[arg(long, default_value = "relative:0.8")]
    full_feed: FullFeed,
    /// Also take multicast RIB records.
    #[arg(long)]
    multicast: bool,
    /// Batch size in bytes.
    #[arg(long, default_value_t = DEFAULT_BATCH_SIZE, hide = true)]
    batch_size: usize,
    /// The routing state at this instant (RFC 3339, a date, or Unix
    /// seconds): the FILEs, RIB dumps and updates files of one collector or
    /// several in any order, are replayed up to it (see the crate's
    /// `replay` docs); gaps in the updates and damaged records are reported.
    #[arg(long, conflicts_with = "every")]
    at: Option<String>,
    /// One snapshot of the replayed state every DURATION (`15m`, `2h`,
    /// `1d`) from --from to --until, into -o DIR (default: the current
    /// directory). The replay goes on from one instant to the next: every
    /// input is read once.
    #[arg(long, requires_all = ["from", "until"])]
    every: Option<String>,
    /// The first instant of --every.
    #[arg(long, requires = "every")]
    from: Option<String>,
    /// The last instant of --every (included when on the step).
    #[arg(long, requires = "every")]
    until: Option<String>,
}

#[derive(Args)]
pub struct LookupArgs {
    /// A snapshot (Parquet written by `mrtsnap snapshot`) or a RIB dump.
    input: String,
    /// Addresses (longest-prefix match) or prefixes (exact match).
    #[arg(required = true)]
    queries: Vec<String>,
    /// Print every covering prefix, not only the most specific one.
    #[arg(long)]
    all: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Tab-separated: `change prefix origin peers_before peers_after`, with that header.
    Text,
    /// One JSON object per row, the same keys.
    Jsonl,
    /// Parquet (zstd), the same columns.
    Parquet,
}

#[derive(Args)]
pub struct DiffArgs {
    /// Two states, each a snapshot (Parquet written by `mrtsnap snapshot`)
    /// or a RIB dump; with `--at T1 --at T2`, the RIB dumps and updates
    /// files replayed to both instants.
    #[arg(required = true)]
    files: Vec<String>,
    /// Two instants (RFC 3339, a date, or Unix seconds): the FILEs' state
    /// at the first against their state at the second.
    #[arg(long)]
    at: Vec<String>,
    /// Output file (`-`: standard output).
    #[arg(short, long, default_value = "-")]
    output: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: DiffFormat,
    /// Exit with status 1 when the two differ (as `git diff --exit-code`).
    #[arg(long)]
    exit_code: bool,
}

/// Build the snapshot of one input, report its errors and fold them into
/// `status`. An input without any RIB record (empty, not MRT) is fatal.
fn build(file: &str, opts: &SnapshotOptions, no_mmap: bool, quiet: bool, status: &mut crate::Status) -> anyhow::Result<Snapshot> {
    let src = crate::open(file, no_mmap)?;
    // A non-MRT input is reported by `status.input` below, after its errors.
    let snap = match Snapshot::build_any(&src, opts) {
        Ok(s) => s,
        Err(e) => match e.kind() {
            ErrorKind::Unsupported { what } => bail!("{file}: {what}"),
            _ => bail!("{file}: {e}"),
        },
    };
    // RIB records without a PEER_INDEX_TABLE are not skipped: say so apart.
    let mut report = snap.report().clone();
    let missing = report.errors.remove("missing-peer-index-table").unwrap_or(0);
    report.first_errors.retain(|e| e.kind().name() != "missing-peer-index-table");
    if missing > 0 {
        eprintln!("mrtsnap: {file}: {missing} RIB record(s) without a PEER_INDEX_TABLE: routes kept, peers known by index only");
    }
    status.input(file, &report, quiet)?;
    if snap.report().total_records() == 0 {
        bail!("{file}: empty input: not a RIB dump");
    }
    Ok(snap)
}

/// `rib.20140530.2200.bz2` from route-views.jinx → `route-views.jinx.rib.20140530.2200.parquet`.
/// The collector is the one [`mrtsnap::snapshot::collector_from_path`]
/// finds (the snapshot's own, for such paths), so names are known before
/// any input is read.
fn default_name(input: &str, format: SnapFormat) -> String {
    let base = Path::new(input)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| "stdin".into());
    let mut stem = base.as_str();
    for ext in [".gz", ".bz2", ".xz", ".zst", ".mrt"] {
        stem = stem.strip_suffix(ext).unwrap_or(stem);
    }
    let stem = if stem.is_empty() || stem == "-" { "stdin" } else { stem };
    match mrtsnap::snapshot::collector_from_path(input) {
        Some(collector) if !stem.contains(&collector) => format!("{collector}.{stem}.{}", format.extension()),
        _ => format!("{stem}.{}", format.extension()),
    }
}

/// Write `snap` to `out` (a temporary file renamed into place when
/// complete; see [`crate::output`]).
fn write(snap: &Snapshot, format: SnapFormat, out: &str) -> anyhow::Result<()> {
    let mut o = Output::create(out)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, &mut o);
    let r = match format {
        SnapFormat::Parquet => snap.write_parquet(&mut w).map_err(|e| match e.kind() {
            // Only the output can fail here: say what it said.
            ErrorKind::Io(io) => anyhow::anyhow!("{io}"),
            _ => anyhow::Error::new(e),
        }),
        SnapFormat::Pfx2as => snap.write_pfx2as(&mut w).map_err(Into::into),
        SnapFormat::Pairs => snap.write_pairs(&mut w).map_err(Into::into),
        SnapFormat::Jsonl => snap.write_jsonl(&mut w).map_err(Into::into),
    };
    match r.and_then(|()| w.flush().map_err(anyhow::Error::from)) {
        Err(e) if crate::is_broken_pipe(&e) => Err(e),
        Err(e) => Err(e.context(format!("writing {out}"))),
        Ok(()) => {
            drop(w);
            o.finish()
        }
    }
}

/// Where each input's snapshot goes: `None` for the inputs of `--merge`
/// (one output, returned apart).
fn output_names(a: &SnapshotArgs) -> anyhow::Result<Vec<String>> {
    let many = a.files.len() > 1;
    if a.merge {
        return Ok(vec![a.output.clone().unwrap_or_else(|| format!("merged.{}", a.format.extension()))]);
    }
    let names: Vec<String> = match a.output.as_deref() {
        Some(o) if many && o != "-" => a
            .files
            .iter()
            .map(|f| Path::new(o).join(default_name(f, a.format)).to_string_lossy().into_owned())
            .collect(),
        Some(o) => a.files.iter().map(|_| o.to_string()).collect(),
        None => a.files.iter().map(|f| default_name(f, a.format)).collect(),
    };
    // Two inputs must never write one file (`a/x.mrt` and `b/x.gz`); the
    // same input given twice writes the same file twice.
    let mut seen: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
    for (n, f) in names.iter().zip(&a.files) {
        let ins = seen.entry(n.as_str()).or_default();
        if n != "-" && !ins.iter().any(|i| crate::output::same_file(i, f)) {
            ins.push(f.as_str());
        }
    }
    let clashes: Vec<String> = seen
        .iter()
        .filter(|(_, ins)| ins.len() > 1)
        .map(|(out, ins)| format!("  {out} <- {}", ins.join(", ")))
        .collect();
    if !clashes.is_empty() {
        bail!(
            "several inputs would write the same output; nothing was written (give them separate -o DIR runs, or --merge):\n{}",
            clashes.join("\n")
        );
    }
    Ok(names)
}

/// An instant given on the command line, as an MRT timestamp.
pub(crate) fn instant(at: &str) -> anyhow::Result<u32> {
    let t = mrtsnap::fmt::parse_time(at, false).map_err(|e| anyhow::anyhow!("--at: {e}"))?;
    u32::try_from(t).map_err(|_| anyhow::anyhow!("--at: {at:?} is outside the range of MRT timestamps"))
}

/// `files` (RIB dumps and updates files, any order) placed by collector
/// and time (see `mrtsnap::replay::Archive`), opened as every command opens
/// its inputs.
pub(crate) fn archive(files: &[String], no_mmap: bool) -> anyhow::Result<Archive> {
    for f in files {
        crate::check_input(f)?;
    }
    let archive = Archive::new(files).map_err(input_error)?;
    Ok(archive.with_opener(move |p| {
        crate::open(&p.to_string_lossy(), no_mmap).map_err(|e| mrtsnap::Error::io(std::io::Error::other(format!("{e:#}"))))
    }))
}

pub(crate) fn input_error(e: InputError) -> anyhow::Error {
    match e.error.kind() {
        ErrorKind::Io(io) => anyhow::anyhow!("{io}"),
        ErrorKind::Unsupported { what } => anyhow::anyhow!("{}: cannot replay {what}", e.path.display()),
        _ => anyhow::anyhow!("{e}"),
    }
}

/// The state of `archive` at `t`, with a line per collector on standard
/// error.
fn state_at(archive: &mut Archive, t: u32, quiet: bool) -> anyhow::Result<Snapshot> {
    let snap = archive.state_at(t).map_err(input_error)?;
    if !quiet {
        for c in archive.collectors() {
            let who = if c.name().is_empty() {
                String::new()
            } else {
                format!("{}: ", c.name())
            };
            eprintln!(
                "mrtsnap: {who}state at {}: {} routes",
                mrtsnap::fmt::utc_datetime(i64::from(t)),
                c.replay().routes(),
            );
        }
    }
    Ok(snap)
}

/// Report what the replay met up to the last instant: damaged records
/// and the peers they leave uncertain, and gaps in each collector's
/// updates (warnings: they leave the exit status as it is).
pub(crate) fn report_replay(archive: &Archive, quiet: bool, status: &mut crate::Status) -> anyhow::Result<()> {
    use mrtsnap::fmt::utc_datetime;
    let peer = |p: Option<(IpAddr, u32)>| p.map_or_else(|| "every peer".to_string(), |(a, asn)| format!("peer {a} AS{asn}"));
    for c in archive.collectors() {
        let who = if c.name().is_empty() {
            "replay".to_string()
        } else {
            c.name().to_string()
        };
        let rep = c.replay().report();
        status.input(&who, &rep.decode, quiet)?;
        if !quiet {
            for d in &rep.damaged {
                let record = d.record.map(|r| format!("record {r} ")).unwrap_or_default();
                eprintln!(
                    "mrtsnap: {}: damaged {record}at byte {:#x} ({}, {}): {}",
                    d.file,
                    d.offset,
                    utc_datetime(i64::from(d.time)),
                    peer(d.peer),
                    d.error
                );
            }
            if rep.damaged_records > rep.damaged.len() as u64 {
                eprintln!(
                    "mrtsnap: {who}: {} more damaged records",
                    rep.damaged_records - rep.damaged.len() as u64
                );
            }
        }
        for (p, since) in c.replay().uncertain() {
            eprintln!(
                "mrtsnap: warning: {who}: the state of {} is uncertain from {} (a damaged record)",
                peer(p),
                utc_datetime(i64::from(since))
            );
        }
        for g in c.gaps() {
            eprintln!("mrtsnap: warning: {who}: gap: {}", g);
        }
    }
    Ok(())
}

/// The name of the replayed state at `t`: `COLLECTOR.YYYYMMDDTHHMMSSZ.EXT`.
fn replay_name(files: &[String], t: u32, format: SnapFormat) -> String {
    let stamp = mrtsnap::fmt::utc_stamp(i64::from(t));
    let collector = files.iter().find_map(|f| mrtsnap::snapshot::collector_from_path(f));
    format!("{}.{stamp}.{}", collector.as_deref().unwrap_or("replay"), format.extension())
}

/// `snapshot --at T FILE...`: one snapshot of the replayed state.
fn snapshot_at(a: &SnapshotArgs, at: &str, quiet: bool, no_mmap: bool) -> anyhow::Result<ExitCode> {
    let t = instant(at)?;
    let out = a.output.clone().unwrap_or_else(|| replay_name(&a.files, t, a.format));
    crate::output::refuse_inputs_as_outputs(&a.files, &[&out])?;
    let mut archive = archive(&a.files, no_mmap)?;
    let snap = state_at(&mut archive, t, quiet)?;
    let mut status = crate::Status::default();
    report_replay(&archive, quiet, &mut status)?;
    write(&snap, a.format, &out)?;
    Ok(status.code())
}

/// `snapshot --every D --from T1 --until T2 FILE...`: one snapshot per
/// instant, each named after it in the output directory.
fn snapshot_every(a: &SnapshotArgs, every: &str, quiet: bool, no_mmap: bool) -> anyhow::Result<ExitCode> {
    let step = mrtsnap::fmt::parse_duration(every).map_err(|e| anyhow::anyhow!("--every: {e}"))?;
    let (from, until) = (
        instant(a.from.as_deref().unwrap_or_default())?,
        instant(a.until.as_deref().unwrap_or_default())?,
    );
    if until < from {
        bail!("--until is before --from");
    }
    let instants: Vec<u32> = (i64::from(from)..=i64::from(until))
        .step_by(step as usize)
        .filter_map(|t| u32::try_from(t).ok())
        .collect();
    if instants.len() > 100_000 {
        bail!("--every gives {} instants: more than 100,000", instants.len());
    }
    let dir = a.output.clone().unwrap_or_else(|| ".".into());
    if dir == "-" {
        bail!("--every writes one file per instant: -o takes a directory");
    }
    let names: Vec<String> = instants
        .iter()
        .map(|&t| {
            Path::new(&dir)
                .join(replay_name(&a.files, t, a.format))
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    crate::output::refuse_inputs_as_outputs(&a.files, &names)?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create directory {dir}"))?;
    let mut archive = archive(&a.files, no_mmap)?;
    for (&t, out) in instants.iter().zip(&names) {
        let snap = state_at(&mut archive, t, quiet)?;
        write(&snap, a.format, out)?;
    }
    let mut status = crate::Status::default();
    report_replay(&archive, quiet, &mut status)?;
    Ok(status.code())
}

pub fn snapshot(a: SnapshotArgs, strict: bool, quiet: bool, no_mmap: bool) -> anyhow::Result<ExitCode> {
    if a.merge && (a.at.is_some() || a.every.is_some()) {
        bail!("--at and --every replay their inputs into one state: --merge does not apply");
    }
    if let Some(at) = a.at.as_deref() {
        return snapshot_at(&a, at, quiet, no_mmap);
    }
    if let Some(every) = a.every.as_deref() {
        return snapshot_every(&a, every, quiet, no_mmap);
    }
    let opts = SnapshotOptions {
        batch_size: a.batch_size,
        strict,
        full_feed: a.full_feed,
        multicast: a.multicast,
        ..Default::default()
    };
    let many = a.files.len() > 1;
    if a.output.as_deref() == Some("-") && a.format == SnapFormat::Parquet && many && !a.merge {
        bail!("several Parquet snapshots cannot share standard output; use --merge or -o DIR");
    }
    let names = output_names(&a)?;
    crate::output::refuse_inputs_as_outputs(&a.files, &names)?;
    let mut status = crate::Status::default();
    if a.merge {
        let mut parts = Vec::with_capacity(a.files.len());
        for f in &a.files {
            parts.push(build(f, &opts, no_mmap, quiet, &mut status)?);
        }
        let snap = Snapshot::merge(parts);
        write(&snap, a.format, &names[0])?;
    } else {
        if let Some(o) = a.output.as_deref().filter(|o| many && *o != "-") {
            std::fs::create_dir_all(o).with_context(|| format!("cannot create directory {o}"))?;
        }
        for (f, out) in a.files.iter().zip(&names) {
            let s = build(f, &opts, no_mmap, quiet, &mut status)?;
            write(&s, a.format, out)?;
        }
    }
    Ok(status.code())
}

/// Whether `path` is a Parquet file. Only regular files are looked at
/// (Parquet is read from its end, so it cannot come through a pipe): the
/// first bytes of a pipe must not be consumed here.
fn is_parquet(path: &str) -> bool {
    let mut head = [0u8; 4];
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
        && std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok()
        && &head == b"PAR1"
}

/// A query of `lookup`: an address (longest match) or a prefix (exact).
enum Query {
    Addr(IpAddr),
    Prefix(Prefix),
}

fn parse_query(q: &str) -> anyhow::Result<Query> {
    match q.split_once('/') {
        None => q
            .parse()
            .map(Query::Addr)
            .map_err(|_| anyhow::anyhow!("bad query {q:?}: not an IP address or PREFIX/LENGTH")),
        Some((addr, len)) => {
            if addr.parse::<IpAddr>().is_err() || len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) {
                bail!("bad query {q:?}: not an IP address or PREFIX/LENGTH");
            }
            q.parse()
                .map(Query::Prefix)
                .map_err(|e: mrtsnap::ParseError| anyhow::anyhow!("bad query {q:?}: {e}"))
        }
    }
}

/// A snapshot read from Parquet, or built from a RIB dump.
fn snapshot_or_rib(input: &str, strict: bool, quiet: bool, no_mmap: bool, status: &mut crate::Status) -> anyhow::Result<Snapshot> {
    if input != "-" && is_parquet(input) {
        return Snapshot::read_parquet(input).map_err(|e| anyhow::anyhow!("{input}: {e}"));
    }
    let opts = SnapshotOptions {
        strict,
        ..Default::default()
    };
    build(input, &opts, no_mmap, quiet, status)
}

pub fn lookup(a: LookupArgs, strict: bool, quiet: bool, no_mmap: bool) -> anyhow::Result<ExitCode> {
    // Every query is checked before the input is read.
    let queries = a.queries.iter().map(|q| parse_query(q)).collect::<anyhow::Result<Vec<Query>>>()?;
    let mut status = crate::Status::default();
    let snap = snapshot_or_rib(&a.input, strict, quiet, no_mmap, &mut status)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (q, query) in a.queries.iter().zip(&queries) {
        let rows = match *query {
            Query::Prefix(p) => snap.lookup(p).collect(),
            Query::Addr(addr) if a.all => snap.covering(addr),
            Query::Addr(addr) => snap.longest_match(addr).collect(),
        };
        if rows.is_empty() {
            writeln!(out, "{q}\t-\t-\t0\t0")?;
        }
        for r in rows {
            writeln!(out, "{q}\t{}\t{}\t{}\t{}", r.prefix, r.origin, r.peers(), r.full_feed_peers)?;
        }
    }
    out.flush()?;
    Ok(status.code())
}

pub fn diff(a: DiffArgs, strict: bool, quiet: bool, no_mmap: bool) -> anyhow::Result<ExitCode> {
    crate::output::refuse_inputs_as_outputs(&a.files, &[&a.output])?;
    let mut status = crate::Status::default();
    let (before, after) = match (a.at.as_slice(), a.files.as_slice()) {
        ([], [x, y]) => (
            snapshot_or_rib(x, strict, quiet, no_mmap, &mut status)?,
            snapshot_or_rib(y, strict, quiet, no_mmap, &mut status)?,
        ),
        ([], _) => bail!("diff takes two states (snapshots or RIB dumps), or --at T1 --at T2 and the files to replay"),
        ([t1, t2], files) => {
            let (t1, t2) = (instant(t1)?, instant(t2)?);
            let mut archive = archive(files, no_mmap)?;
            // The later instant replays on from the earlier one.
            let (first, second) = (t1.min(t2), t1.max(t2));
            let a = state_at(&mut archive, first, quiet)?;
            let b = state_at(&mut archive, second, quiet)?;
            report_replay(&archive, quiet, &mut status)?;
            if t1 <= t2 {
                (a, b)
            } else {
                (b, a)
            }
        }
        _ => bail!("--at is given twice: the two instants to compare"),
    };
    let diff = before.diff(&after);
    let mut o = Output::create(&a.output)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, &mut o);
    let r = match a.format {
        DiffFormat::Text => diff.write_text(&mut w).map_err(anyhow::Error::from),
        DiffFormat::Jsonl => diff.write_jsonl(&mut w).map_err(anyhow::Error::from),
        DiffFormat::Parquet => diff.write_parquet(&mut w).map_err(anyhow::Error::from),
    };
    match r.and_then(|()| w.flush().map_err(anyhow::Error::from)) {
        Err(e) if crate::is_broken_pipe(&e) => return Err(e),
        Err(e) => return Err(e.context(format!("writing {}", a.output))),
        Ok(()) => {
            drop(w);
            o.finish()?;
        }
    }
    if !quiet {
        let (appeared, vanished, changed) = diff.counts();
        eprintln!("mrtsnap: diff: {appeared} appeared, {vanished} vanished, {changed} changed");
    }
    if a.exit_code && !diff.is_empty() {
        return Ok(ExitCode::from(1));
    }
    Ok(status.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let jinx = "x/routeviews.route-views.jinx.ribs.1401487200.bz2";
        assert_eq!(
            default_name(jinx, SnapFormat::Parquet),
            "routeviews.route-views.jinx.ribs.1401487200.parquet"
        );
        let rv = "a/route-views.sg/bgpdata/2026.01/RIBS/rib.20260101.0000.bz2";
        assert_eq!(default_name(rv, SnapFormat::Pfx2as), "route-views.sg.rib.20260101.0000.pfx2as");
        assert_eq!(default_name("/tmp/rib.mrt", SnapFormat::Pairs), "rib.pairs.tsv");
        assert_eq!(default_name("-", SnapFormat::Jsonl), "stdin.jsonl");
    }

    #[test]
    fn queries() {
        assert!(matches!(parse_query("8.8.8.8"), Ok(Query::Addr(_))));
        assert!(matches!(parse_query("2001:db8::1"), Ok(Query::Addr(_))));
        assert!(matches!(parse_query("8.8.8.0/24"), Ok(Query::Prefix(_))));
        for bad in ["8.8.8.8/", "8.8.8.8/33", "/24", "8.8.8/24", "8.8.8.8/+4", "x", ""] {
            assert!(parse_query(bad).is_err(), "{bad}");
        }
    }
}
