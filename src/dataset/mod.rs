//! The dataset runner behind `mrtsnap batch`: many RIB dumps into a hive-partitioned
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
//! - [`every`]: `--every D`, updates replayed onto RIB dumps: per collector
//!   the state at every multiple of D, from each RIB dump and the updates
//!   that follow it (shards take whole collectors), on the same executor;
//!   [`derived`]: the table of those outputs and the inputs of each.
//! - [`timeline`]: `--timeline BIN`, per collector and UTC day the
//!   visibility timeline of every origin ([`crate::timeline`]), replayed
//!   like `--every`'s segments, one Parquet table per day, rows in the
//!   derived table.
//!
//! Outputs are the snapshot module's ([`Snapshot::write_parquet`], same
//! schema as `mrtsnap snapshot`; or [`Snapshot::write_pfx2as`]), one per
//! input, at `collector=C/date=YYYY-MM-DD/NAME.EXT` where `date` is the UTC
//! date of the dump time and `NAME` the input's file name without its
//! compression extension. An output name belongs to one input: to the one
//! whose manifest record holds it, else to the first input of the run (in
//! path order, all shards' inputs) that asks for it. Another input that
//! would get the same name (the same file name under two roots, in this run
//! or an earlier one into the same directory) is told apart by the first 8
//! hex digits of its fingerprint, `NAME-1a2b3c4d.EXT` (identical copies:
//! then by a hash of their path too, `NAME-1a2b3c4d-5e6f7a8b.EXT`). An input
//! keeps the name its record holds, so reruns write the same files. Names
//! are compared ignoring ASCII case (case-insensitive file systems).
//!
//! [`Snapshot::write_parquet`]: crate::snapshot::Snapshot::write_parquet
//! [`Snapshot::write_pfx2as`]: crate::snapshot::Snapshot::write_pfx2as

pub mod derived;
pub mod discover;
pub mod every;
pub mod fingerprint;
pub use crate::layout;
pub mod manifest;
pub mod run;
pub mod select;
pub mod shard;
pub mod timeline;

use crate::snapshot::SnapshotOptions;
use discover::Input;
use layout::{Kind, Layout};
use manifest::{Record, Status};
use select::{Candidate, Selection};
use shard::Shard;
use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
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
    /// Directories, globs, files, or `@LIST` files (names as bytes).
    pub inputs: Vec<OsString>,
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
    /// `--every`: replay each collector's RIB dumps and updates to every
    /// multiple of this many seconds ([`every`]); `selection.from` and
    /// `until` then bound the instants, not the inputs.
    pub every: Option<i64>,
    /// `--timeline`: per collector and UTC day, the visibility timeline
    /// of every origin in bins of this many seconds ([`timeline`]);
    /// `selection.from` and `until` then bound the days.
    pub timeline: Option<u32>,
}

impl BatchOptions {
    /// The manifest part this run writes: `all`, or `shard-K-of-N`.
    pub fn part(&self) -> String {
        self.shard.filter(|s| s.count > 1).map_or_else(|| "all".to_string(), |s| s.tag())
    }

    /// The options that shape outputs, as recorded in the manifest (and
    /// with `--timeline`, its bin).
    pub fn options_tag(&self) -> String {
        let mut tag = format!(
            "format={};full_feed={};multicast={};strict={}",
            self.format.as_str(),
            self.snapshot.full_feed,
            u8::from(self.snapshot.multicast),
            u8::from(self.snapshot.strict)
        );
        if let Some(bin) = self.timeline {
            tag.push_str(&format!(";timeline_bin_s={bin}"));
        }
        tag
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
    /// The output names taken (by the manifest and by the plan): outputs
    /// only known once an input is read are named from it.
    pub names: Names,
}

/// Output names and the inputs they belong to (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Lower-cased output name → the input (manifest path) it belongs to.
    owner: HashMap<String, String>,
}

impl Names {
    /// The names the outputs of `records` hold; a name two records hold
    /// (written by an older version) belongs to the later one.
    pub fn from_records<'a>(records: impl IntoIterator<Item = &'a Record>) -> Names {
        let mut recs: Vec<&Record> = records
            .into_iter()
            .filter(|r| r.status.has_output() && !r.output.is_empty())
            .collect();
        recs.sort_by(|a, b| (a.finished_ms, &a.part).cmp(&(b.finished_ms, &b.part)));
        Names {
            owner: recs.into_iter().map(|r| (r.output.to_ascii_lowercase(), r.path.clone())).collect(),
        }
    }

    /// Whether `name` is free for the input `path` (nobody's, or its own).
    fn free_for(&self, name: &str, path: &str) -> bool {
        self.owner.get(&name.to_ascii_lowercase()).is_none_or(|p| p == path)
    }

    /// The output of the input `path` whose plain name is `base`, taken for
    /// it: `recorded` (the name its manifest record holds) when that is
    /// `base` or a told-apart form of it and still its own; else `base`
    /// when free; else `base` told apart by `fingerprint` (called only
    /// then; `None`: unreadable), then by the path's hash too, then by a
    /// count.
    pub fn take(&mut self, base: &str, path: &str, recorded: Option<&str>, fingerprint: impl FnOnce() -> Option<String>) -> String {
        let (stem, ext) = base.rsplit_once('.').map_or((base, ""), |(s, e)| (s, e));
        let is_form = |name: &str| {
            name == base
                || name
                    .strip_suffix(ext)
                    .and_then(|n| n.strip_suffix('.'))
                    .and_then(|n| n.strip_prefix(stem))
                    .and_then(|n| n.strip_prefix('-'))
                    .is_some_and(|tag| !tag.is_empty() && tag.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-'))
        };
        let name = match recorded {
            Some(r) if is_form(r) && self.free_for(r, path) => r.to_string(),
            _ if self.free_for(base, path) => base.to_string(),
            _ => {
                let fp = fingerprint();
                let digest = |s: &str| s.split_once(':').map_or(s, |(_, h)| h).get(..8).map(str::to_string);
                let p8 = format!("{:08x}", shard::path_hash(path) as u32);
                let h = fp.as_deref().and_then(digest).unwrap_or_else(|| p8.clone());
                let mut cand = format!("{stem}-{h}.{ext}");
                if !self.free_for(&cand, path) {
                    cand = format!("{stem}-{h}-{p8}.{ext}");
                }
                let mut n = 2;
                while !self.free_for(&cand, path) {
                    cand = format!("{stem}-{h}-{p8}-{n}.{ext}");
                    n += 1;
                }
                cand
            }
        };
        self.owner.insert(name.to_ascii_lowercase(), path.to_string());
        name
    }
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

/// Open this run's journal of `R` rows (the input manifest's, or with
/// `--every` the derived table's) in `opts.out` (creating the directory)
/// and lock it: taken before [`plan`] (or [`every::plan`]) and held until
/// [`run()`] (or [`every::run`]) returns, so that
/// the same part never runs twice at once into one directory (other
/// parts, the shards of one job, run beside it).
///
/// # Errors
/// When another process holds the lock (the message says which), or the
/// directory or journal cannot be written.
pub fn open_journal<R: manifest::Row>(opts: &BatchOptions) -> Result<manifest::Journal<R>, String> {
    let part = opts.part();
    let out = opts.out.display();
    manifest::Journal::<R>::open(&opts.out, &part).map_err(|e| {
        if e.kind() == std::io::ErrorKind::WouldBlock {
            let lock = opts.out.join(manifest::MANIFEST_DIR).join(format!("journal-{part}.lock"));
            format!(
                "another mrtsnap batch is writing part `{part}` into {out} (it holds the lock {}); the same part (the same --shard, or none) runs once at a time",
                lock.display()
            )
        } else {
            format!("cannot open the journal in {out}: {e}")
        }
    })
}

/// Find the inputs and recognise them (collector, kind, time: from their
/// names, else their first records): the inputs found, and the items (not
/// yet selected, no output).
///
/// # Errors
/// When an input does not exist or a list cannot be read.
fn recognise_all(opts: &BatchOptions) -> Result<(usize, Vec<Item>), String> {
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
    Ok((found, items))
}

/// The items `selection` keeps, in their order.
fn select_items(items: Vec<Item>, selection: &Selection) -> Vec<Item> {
    let candidates: Vec<Candidate<'_>> = items
        .iter()
        .map(|it| Candidate {
            collector: &it.collector,
            kind: it.kind,
            time: it.time,
            size: it.input.size,
        })
        .collect();
    let chosen = selection.select(&candidates);
    let mut selected: Vec<Item> = Vec::with_capacity(chosen.len());
    let mut slots: Vec<Option<Item>> = items.into_iter().map(Some).collect();
    for i in chosen {
        if let Some(it) = slots.get_mut(i).and_then(Option::take) {
            selected.push(it);
        }
    }
    selected
}

/// Find, recognise, select and shard the inputs, and check the manifest in
/// `opts.out` for those already complete.
///
/// # Errors
/// When an input does not exist or a list cannot be read.
pub fn plan(opts: &BatchOptions) -> Result<Plan, String> {
    let (found, items) = recognise_all(opts)?;
    let mut selected = select_items(items, &opts.selection);
    // Outputs, on all shards' inputs, told apart from each other and from
    // those of the manifest's other inputs.
    let records = manifest::load(&opts.out);
    let format = opts.format.as_str().to_string();
    let mut names = Names::from_records(records.values().filter(|r| r.format == format));
    for it in &mut selected {
        if it.kind == Kind::Updates {
            continue;
        }
        let Some(t) = it.time else { continue };
        let base = output_path(&it.input.display, &it.collector, t, opts.format);
        let recorded = records
            .get(&(it.input.display.clone(), format.clone()))
            .filter(|r| r.status.has_output())
            .map(|r| r.output.as_str());
        let path = &it.input.path;
        it.output = Some(names.take(&base, &it.input.display, recorded, || {
            fingerprint::fingerprint(path, opts.fingerprint).ok()
        }));
    }
    let n_selected = selected.len();
    let mut mine: Vec<Item> = selected
        .into_iter()
        .filter(|it| opts.shard.is_none_or(|s| s.contains(&it.input.rel)))
        .collect();
    if !opts.force {
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
        names,
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
