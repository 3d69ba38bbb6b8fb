//! Batch processing of archives: many RIB dumps into a hive-partitioned
//! dataset of snapshots, resumable, parallel and shardable.
//!
//! ```text
//! inputs ──discover──> files ──layout──> (collector, kind, time) ──select──> ──shard──> plan ──run──> DIR/collector=C/date=D/NAME.parquet
//!  dirs, globs, lists   sizes    names, else first records        --collector      K/N     todo /           + DIR/_manifest/
//!                                                                 --from/--until           complete
//!                                                                 --kind, --daily
//! ```
//!
//! - [`discover`]: inputs from directories, globs and lists, with the
//!   relative paths shards are cut by.
//! - [`layout`]: RouteViews, RIS and BGPStream names (RouteViews' Pacific
//!   time before 2003), or the file's first records.
//! - [`select`]: `--collector`, `--from`/`--until`, `--kind`, `--daily`.
//! - [`shard`]: `--shard K/N` by a stable hash of the relative path.
//! - [`manifest`]: crash-safe journals, compacted into `manifest.csv` and
//!   `manifest.parquet`.
//! - [`fingerprint`]: what a rerun compares.
//! - [`run`](mod@run): the executor: files in flight on driver threads, all decoding on
//!   the global rayon pool; outputs written to hidden temporary names and
//!   renamed when complete; a clean stop.
//!
//! Outputs are the snapshot module's ([`Snapshot::write_parquet`], same
//! schema as `mrtsnap snapshot`; or [`Snapshot::write_pfx2as`]), one per
//! input, at `collector=C/date=YYYY-MM-DD/NAME.EXT` where `date` is the UTC
//! date of the dump time and `NAME` the input's file name without its
//! compression extension. Two inputs that would share an output name (the
//! same file name under two roots) are told apart by a hash of their path:
//! `NAME-1a2b3c4d.EXT`, decided on all inputs before sharding.
//!
//! [`Snapshot::write_parquet`]: crate::snapshot::Snapshot::write_parquet
//! [`Snapshot::write_pfx2as`]: crate::snapshot::Snapshot::write_pfx2as

pub mod discover;
pub mod fingerprint;
pub mod layout;
pub mod manifest;
pub mod run;
pub mod select;
pub mod shard;

use crate::snapshot::SnapshotOptions;
use discover::Input;
use layout::{Kind, Layout};
use manifest::{Record, Status};
use select::{Candidate, Selection};
use shard::Shard;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

pub use run::{run, Event, Summary};

/// The output format of a batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputFormat {
    /// Parquet snapshots (the schema of `mrtsnap snapshot`).
    #[default]
    Parquet,
    /// CAIDA pfx2as text.
    Pfx2as,
}

impl OutputFormat {
    /// `parquet` or `pfx2as`: the name and the file extension.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Parquet => "parquet",
            OutputFormat::Pfx2as => "pfx2as",
        }
    }
}

/// What a batch does.
#[derive(Clone, Debug, Default)]
pub struct BatchOptions {
    /// Directories, globs, files, or `@LIST` files.
    pub inputs: Vec<String>,
    /// Lists of paths (one per line, or a CSV with a `path` column).
    pub lists: Vec<PathBuf>,
    /// The output directory.
    pub out: PathBuf,
    /// Which inputs to take.
    pub selection: Selection,
    /// Output format.
    pub format: OutputFormat,
    /// Only this shard of the inputs.
    pub shard: Option<Shard>,
    /// Files processed at once (0: the default, half the rayon threads,
    /// at least 2 and at most 16).
    pub in_flight: usize,
    /// Redo inputs whose output is complete.
    pub force: bool,
    /// Stop at the first failed input.
    pub fail_fast: bool,
    /// Fingerprint kind for new records.
    pub fingerprint: fingerprint::Mode,
    /// Re-read inputs whose size and time are unchanged to compare fingerprints.
    pub verify: bool,
    /// How snapshots are built.
    pub snapshot: SnapshotOptions,
}

impl BatchOptions {
    /// The manifest part this run writes: `all`, or `shard-K-of-N`.
    pub fn part(&self) -> String {
        self.shard.filter(|s| s.count > 1).map_or_else(|| "all".to_string(), |s| s.tag())
    }

    /// The options that shape outputs, as recorded in the manifest.
    pub fn options_tag(&self) -> String {
        format!(
            "format={};full_feed={};multicast={};strict={}",
            self.format.as_str(),
            self.snapshot.full_feed,
            u8::from(self.snapshot.multicast),
            u8::from(self.snapshot.strict)
        )
    }

    /// The number of files in flight.
    pub fn files_in_flight(&self) -> usize {
        if self.in_flight > 0 {
            self.in_flight
        } else {
            (rayon::current_num_threads() / 2).clamp(2, 16)
        }
    }
}

/// One input of the plan.
#[derive(Clone, Debug)]
pub struct Item {
    /// The file.
    pub input: Input,
    /// Collector (from the path, else the PEER_INDEX_TABLE's BGP id, else `unknown`).
    pub collector: String,
    /// RIB or updates.
    pub kind: Kind,
    /// Dump time, Unix seconds.
    pub time: Option<i64>,
    /// How the path was recognised.
    pub layout: Layout,
    /// The output, relative to the output directory (`None` for updates
    /// files and inputs of unknown time).
    pub output: Option<String>,
    /// Whether a complete output and manifest record exist (and `--force`
    /// was not given): the run leaves it alone.
    pub complete: bool,
}

/// What a batch will do.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Inputs found.
    pub found: usize,
    /// Inputs selected (all shards).
    pub selected: usize,
    /// This shard's inputs, in path order.
    pub items: Vec<Item>,
}

/// A collector name usable as a partition value.
fn partition_value(s: &str) -> String {
    let v: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if v.is_empty() {
        "unknown".to_string()
    } else {
        v
    }
}

/// The file name without compression and `.mrt` extensions; never hidden.
fn stem(display: &str) -> String {
    let file = display.rsplit('/').next().unwrap_or(display);
    let mut s = file;
    loop {
        let lower = s.to_ascii_lowercase();
        let Some(ext) = [".gz", ".bz2", ".xz", ".zst", ".zstd", ".gzip", ".bzip2", ".mrt", ".dump"]
            .into_iter()
            .find(|e| lower.ends_with(e) && lower.len() > e.len())
        else {
            break;
        };
        s = s.get(..s.len() - ext.len()).unwrap_or(s);
    }
    let s = partition_value(s);
    if s.starts_with(['.', '_']) {
        format!("f{s}")
    } else {
        s
    }
}

/// The output path (relative) of an input of `collector` dumped at `time`.
pub fn output_path(display: &str, collector: &str, time: i64, format: OutputFormat) -> String {
    format!(
        "collector={}/date={}/{}.{}",
        partition_value(collector),
        layout::utc_date(time),
        stem(display),
        format.as_str()
    )
}

/// The hidden temporary name an output is written under: `.NAME.PART.tmp`
/// beside it (DuckDB's, Spark's and pyarrow's readers skip it: it starts
/// with `.` and does not end in `.parquet`).
pub fn temp_path(out: &Path, output: &str, part: &str) -> PathBuf {
    let dest = out.join(output);
    let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("output").to_string();
    dest.with_file_name(format!(".{name}.{part}.tmp"))
}

/// Whether `rec` says the input of `item` is done: same options, output
/// (or skip) still there, input unchanged.
fn is_complete(rec: &Record, item: &Item, opts: &BatchOptions) -> bool {
    if rec.options != opts.options_tag() || rec.size != item.input.size || item.input.stat_error.is_some() {
        return false;
    }
    let done = match rec.status {
        Status::Ok | Status::Damaged => {
            item.output.as_deref().is_none_or(|o| o == rec.output)
                && std::fs::metadata(opts.out.join(&rec.output)).is_ok_and(|m| Some(m.len()) == rec.output_size)
        }
        Status::Skipped => item.kind == Kind::Updates || item.kind == Kind::Unknown,
        Status::Failed => false,
    };
    if !done {
        return false;
    }
    if rec.mtime_ns == item.input.mtime_ns && !opts.verify {
        return true;
    }
    let mode = fingerprint::Mode::of(&rec.fingerprint).unwrap_or(opts.fingerprint);
    fingerprint::fingerprint(&item.input.path, mode).is_ok_and(|f| f == rec.fingerprint)
}

/// Find, recognise, select and shard the inputs, and check the manifest in
/// `opts.out` for those already complete.
///
/// # Errors
/// When an input does not exist or a list cannot be read.
pub fn plan(opts: &BatchOptions) -> Result<Plan, String> {
    let inputs = discover::discover(&opts.inputs, &opts.lists, Some(&opts.out))?;
    let found = inputs.len();
    // Recognise names; probe the first records where they say too little.
    let mut items: Vec<Item> = inputs
        .into_iter()
        .map(|input| {
            let n = layout::recognise(&input.display);
            Item {
                collector: n.collector.unwrap_or_default(),
                kind: n.kind,
                time: n.time,
                layout: n.layout,
                input,
                output: None,
                complete: false,
            }
        })
        .collect();
    let need: Vec<usize> = (0..items.len())
        .filter(|&i| {
            items.get(i).is_some_and(|it| {
                it.input.stat_error.is_none() && (it.collector.is_empty() || it.time.is_none() || it.kind == Kind::Unknown)
            })
        })
        .collect();
    let probes = probe_all(&items, &need);
    for (i, p) in need.iter().zip(probes) {
        let Some(it) = items.get_mut(*i) else { continue };
        if it.collector.is_empty() {
            it.collector = p.collector_id.unwrap_or_default();
        }
        if it.time.is_none() {
            it.time = p.time;
        }
        if it.kind == Kind::Unknown {
            it.kind = p.kind.unwrap_or(Kind::Unknown);
        }
    }
    for it in &mut items {
        if it.collector.is_empty() {
            it.collector = "unknown".to_string();
        }
    }
    let candidates: Vec<Candidate<'_>> = items
        .iter()
        .map(|it| Candidate {
            collector: &it.collector,
            kind: it.kind,
            time: it.time,
            size: it.input.size,
        })
        .collect();
    let chosen = opts.selection.select(&candidates);
    let mut selected: Vec<Item> = Vec::with_capacity(chosen.len());
    let mut slots: Vec<Option<Item>> = items.into_iter().map(Some).collect();
    for i in chosen {
        if let Some(it) = slots.get_mut(i).and_then(Option::take) {
            selected.push(it);
        }
    }
    // Outputs, with clashes told apart, on all shards' inputs.
    let mut taken: HashSet<String> = HashSet::new();
    for it in &mut selected {
        if it.kind == Kind::Updates {
            continue;
        }
        let Some(t) = it.time else { continue };
        let mut o = output_path(&it.input.display, &it.collector, t, opts.format);
        if taken.contains(&o) {
            let ext = format!(".{}", opts.format.as_str());
            let base = o.strip_suffix(&ext).unwrap_or(&o).to_string();
            let h = shard::path_hash(&it.input.display);
            o = format!("{base}-{:08x}{ext}", h as u32);
            let mut n = 2;
            while taken.contains(&o) {
                o = format!("{base}-{:08x}-{n}{ext}", h as u32);
                n += 1;
            }
        }
        taken.insert(o.clone());
        it.output = Some(o);
    }
    let n_selected = selected.len();
    let mut mine: Vec<Item> = selected
        .into_iter()
        .filter(|it| opts.shard.is_none_or(|s| s.contains(&it.input.rel)))
        .collect();
    if !opts.force {
        let records = manifest::load(&opts.out);
        let format = opts.format.as_str().to_string();
        for it in &mut mine {
            if let Some(rec) = records.get(&(it.input.display.clone(), format.clone())) {
                it.complete = is_complete(rec, it, opts);
            }
        }
    }
    Ok(Plan {
        found,
        selected: n_selected,
        items: mine,
    })
}

/// Probe `need` (indexes into `items`) on a few plain threads (not rayon
/// workers: a probe blocks on its decompressor, which may need the pool).
fn probe_all(items: &[Item], need: &[usize]) -> Vec<layout::Probe> {
    let threads = rayon::current_num_threads().clamp(1, 8);
    let chunk = need.len().div_ceil(threads).max(1);
    let mut out: BTreeMap<usize, layout::Probe> = BTreeMap::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = need
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|&i| (i, items.get(i).map(|it| layout::probe(&it.input.path)).unwrap_or_default()))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            if let Ok(v) = h.join() {
                out.extend(v);
            }
        }
    });
    need.iter().map(|i| out.remove(i).unwrap_or_default()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(stem("a/rib.20141222.0000.bz2"), "rib.20141222.0000");
        assert_eq!(stem("a/bview.20141222.0000.gz"), "bview.20141222.0000");
        assert_eq!(stem("x/dump.mrt.gz"), "dump");
        assert_eq!(stem(".hidden.gz"), "f.hidden");
        assert_eq!(stem("a b"), "a_b");
        assert_eq!(stem("gz"), "gz");
        assert_eq!(
            output_path("x/rib.20141222.0000.bz2", "route-views2", 1_419_206_400, OutputFormat::Parquet),
            "collector=route-views2/date=2014-12-22/rib.20141222.0000.parquet"
        );
        assert_eq!(
            temp_path(Path::new("D"), "collector=a/date=b/n.parquet", "all"),
            Path::new("D/collector=a/date=b/.n.parquet.all.tmp")
        );
        assert_eq!(partition_value("a/b=c"), "a_b_c");
    }
}
