//! `mrtsnap snapshot` and `mrtsnap lookup`.

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use mrtsnap::snapshot::{FullFeed, Snapshot, SnapshotOptions};
use mrtsnap::source::DEFAULT_BATCH_SIZE;
use mrtsnap::{ErrorKind, Prefix};
use std::io::{Read, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
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

/// Errors other than a missing PEER_INDEX_TABLE (whose routes are kept)
/// and the input ending early.
fn damaged(snap: &Snapshot) -> bool {
    let r = snap.report();
    let missing = r.errors.get("missing-peer-index-table").copied().unwrap_or(0);
    r.skipped() > missing
}

fn build(file: &str, opts: &SnapshotOptions, no_mmap: bool, quiet: bool) -> anyhow::Result<Snapshot> {
    let src = crate::open(file, no_mmap)?;
    let snap = match Snapshot::build(&src, opts) {
        Ok(s) => s,
        Err(e) => match e.kind() {
            ErrorKind::Unsupported { what } => bail!("{file}: {what}"),
            _ => return Err(anyhow::Error::new(e).context(file.to_string())),
        },
    };
    // RIB records without a PEER_INDEX_TABLE are not skipped: say so apart.
    let mut report = snap.report().clone();
    let missing = report.errors.remove("missing-peer-index-table").unwrap_or(0);
    report.first_errors.retain(|e| e.kind().name() != "missing-peer-index-table");
    crate::print_errors(file, &report, quiet);
    if missing > 0 {
        eprintln!("mrtsnap: {file}: {missing} RIB record(s) without a PEER_INDEX_TABLE: routes kept, peers known by index only");
    }
    Ok(snap)
}

/// `rib.20140530.2200.bz2` from route-views.jinx → `route-views.jinx.rib.20140530.2200.parquet`.
fn default_name(input: &str, collector: &str, format: SnapFormat) -> String {
    let base = Path::new(input)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| "stdin".into());
    let mut stem = base.as_str();
    for ext in [".gz", ".bz2", ".xz", ".zst", ".mrt"] {
        stem = stem.strip_suffix(ext).unwrap_or(stem);
    }
    let stem = if stem.is_empty() || stem == "-" { "stdin" } else { stem };
    let known = mrtsnap::snapshot::collector_from_path(input).is_some();
    if known && !stem.contains(collector) {
        format!("{collector}.{stem}.{}", format.extension())
    } else {
        format!("{stem}.{}", format.extension())
    }
}

fn write(snap: &Snapshot, format: SnapFormat, out: &str) -> anyhow::Result<()> {
    fn to<W: Write + Send>(snap: &Snapshot, format: SnapFormat, w: W) -> anyhow::Result<()> {
        match format {
            SnapFormat::Parquet => snap.write_parquet(w)?,
            SnapFormat::Pfx2as => snap.write_pfx2as(w)?,
            SnapFormat::Pairs => snap.write_pairs(w)?,
            SnapFormat::Jsonl => snap.write_jsonl(w)?,
        }
        Ok(())
    }
    if out == "-" {
        return to(snap, format, std::io::BufWriter::with_capacity(1 << 20, std::io::stdout()));
    }
    let f = std::fs::File::create(out).with_context(|| format!("cannot create {out}"))?;
    to(snap, format, std::io::BufWriter::with_capacity(1 << 20, f)).with_context(|| out.to_string())
}

pub fn snapshot(a: SnapshotArgs, strict: bool, quiet: bool, no_mmap: bool) -> anyhow::Result<ExitCode> {
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
    let mut bad = false;
    if a.merge {
        let mut parts = Vec::with_capacity(a.files.len());
        for f in &a.files {
            let s = build(f, &opts, no_mmap, quiet)?;
            bad |= damaged(&s);
            parts.push(s);
        }
        let snap = Snapshot::merge(parts);
        let out = a.output.unwrap_or_else(|| format!("merged.{}", a.format.extension()));
        write(&snap, a.format, &out)?;
    } else {
        let dir = match a.output.as_deref() {
            Some(o) if many && o != "-" => {
                std::fs::create_dir_all(o).with_context(|| format!("cannot create directory {o}"))?;
                Some(PathBuf::from(o))
            }
            _ => None,
        };
        for f in &a.files {
            let s = build(f, &opts, no_mmap, quiet)?;
            bad |= damaged(&s);
            let name = || default_name(f, &s.collector(), a.format);
            let out = match (&a.output, &dir) {
                (_, Some(d)) => d.join(name()).to_string_lossy().into_owned(),
                (Some(o), None) => o.clone(),
                (None, None) => name(),
            };
            write(&s, a.format, &out)?;
        }
    }
    Ok(if bad { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn is_parquet(path: &str) -> bool {
    let mut head = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && &head == b"PAR1"
}

pub fn lookup(a: LookupArgs, strict: bool, quiet: bool, no_mmap: bool) -> anyhow::Result<ExitCode> {
    let snap = if a.input != "-" && is_parquet(&a.input) {
        Snapshot::read_parquet(&a.input).with_context(|| a.input.clone())?
    } else {
        build(
            &a.input,
            &SnapshotOptions {
                strict,
                ..Default::default()
            },
            no_mmap,
            quiet,
        )?
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for q in &a.queries {
        let rows = if q.contains('/') {
            let p: Prefix = q.parse().map_err(|e: String| anyhow::anyhow!(e))?;
            snap.lookup(p).collect()
        } else {
            let addr: IpAddr = q.parse().with_context(|| format!("bad address {q:?}"))?;
            if a.all {
                snap.covering(addr)
            } else {
                snap.longest_match(addr).collect()
            }
        };
        if rows.is_empty() {
            writeln!(out, "{q}\t-\t-\t0\t0")?;
        }
        for r in rows {
            writeln!(out, "{q}\t{}\t{}\t{}\t{}", r.prefix, r.origin, r.peers(), r.full_feed_peers)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let jinx = "x/routeviews.route-views.jinx.ribs.1401487200.bz2";
        assert_eq!(
            default_name(jinx, "route-views.jinx", SnapFormat::Parquet),
            "routeviews.route-views.jinx.ribs.1401487200.parquet"
        );
        let rv = "a/route-views.sg/bgpdata/2026.01/RIBS/rib.20260101.0000.bz2";
        assert_eq!(
            default_name(rv, "route-views.sg", SnapFormat::Pfx2as),
            "route-views.sg.rib.20260101.0000.pfx2as"
        );
        assert_eq!(default_name("/tmp/rib.mrt", "10.0.0.1", SnapFormat::Pairs), "rib.pairs.tsv");
        assert_eq!(default_name("-", "unknown", SnapFormat::Jsonl), "stdin.jsonl");
    }
}
