//! The batch manifest: one record per input, kept crash-safe in append-only
//! journals and compacted into `manifest.csv` and `manifest.parquet`.
//!
//! Files, in `DIR/_manifest/` (the leading `_` hides it from Spark, Hive,
//! Trino and pyarrow's dataset discovery):
//!
//! - `journal-PART.csv`: the truth. `PART` is `all` for an unsharded run and
//!   `shard-K-of-N` for a shard, so shards sharing one output tree never
//!   write the same file. A run appends one CSV record per finished input
//!   (a single `write` followed by `fdatasync`); a record cut by a crash has
//!   no final newline (or an open quote) and is dropped when read, and cut
//!   off when the journal is next opened. Runs compact their own journal
//!   (latest record per input, written to a temporary file and renamed).
//! - `journal-PART.lock`: locked (`flock`) by the run writing that journal,
//!   so that one part never runs twice at once; `manifest.lock`: held while
//!   the manifest is rebuilt.
//! - `manifest.csv`, `manifest.parquet`: every journal merged, the latest
//!   record per (path, format), sorted by path; rewritten (temporary file +
//!   rename) every 10 minutes during a run and at its end, so either the old
//!   or the new version is there, never a torn one. `mrtsnap batch --out DIR` with no input only
//!   rebuilds them.
//!
//! Columns (CSV: empty for none; Parquet: null) are those of [`COLUMNS`].
//!
//! `mrtsnap batch --every` keeps a second table the same way, one row per
//! derived output ([`super::derived::Derived`]): journals
//! `derived-journal-PART.csv` (under the same `journal-PART.lock`),
//! compacted into `derived.csv` and `derived.parquet` under `derived.lock`.
//! Both are [`Row`]s: the journal, merge and compaction code is theirs.

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The manifest directory inside the output directory.
pub const MANIFEST_DIR: &str = "_manifest";

/// What became of an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Output written; every record decoded.
    Ok,
    /// Output written, but damaged records were skipped or the input ends
    /// early (a truncated download): see `errors` and `first_error_offset`.
    Damaged,
    /// No output: unreadable, empty, not MRT, no RIB records, or a write
    /// error. `reason` says why.
    Failed,
    /// Not processed: an updates file (`reason` = `not-a-rib`); `batch
    /// --every` replays updates onto RIB dumps (the derived table). Not
    /// used in derived rows.
    Skipped,
}

impl Status {
    /// `ok`, `damaged`, `failed` or `skipped`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Damaged => "damaged",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Status> {
        match s {
            "ok" => Some(Status::Ok),
            "damaged" => Some(Status::Damaged),
            "failed" => Some(Status::Failed),
            "skipped" => Some(Status::Skipped),
            _ => None,
        }
    }

    /// Whether an output was written.
    pub fn has_output(self) -> bool {
        matches!(self, Status::Ok | Status::Damaged)
    }
}

/// One input's manifest record.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The input path as found (see [`super::discover::Input::display`]).
    pub path: String,
    /// Output format: `parquet` or `pfx2as`.
    pub format: String,
    /// What became of it.
    pub status: Status,
    /// Why it failed or was skipped; for damaged inputs, a summary.
    pub reason: String,
    /// Collector.
    pub collector: String,
    /// `rib`, `updates` or `unknown`.
    pub kind: String,
    /// The naming convention recognised ([`super::layout::Layout::as_str`]).
    pub layout: String,
    /// Dump time (Unix seconds, UTC) from the name, else the first record.
    pub dump_time: Option<i64>,
    /// UTC date of `dump_time`: the `date=` partition.
    pub date: String,
    /// Timestamp of the first record, from the snapshot.
    pub content_time: Option<i64>,
    /// Input size in bytes.
    pub size: u64,
    /// Input modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// Content fingerprint (see [`super::fingerprint`]).
    pub fingerprint: String,
    /// The output, relative to the output directory (empty: none).
    pub output: String,
    /// Output size in bytes.
    pub output_size: Option<u64>,
    /// Snapshot rows (prefix-origin pairs).
    pub rows: Option<u64>,
    /// MRT records read.
    pub records: Option<u64>,
    /// RIB entries read.
    pub rib_entries: Option<u64>,
    /// Peers in the snapshot's peer table.
    pub peers: Option<u64>,
    /// Errors by kind: `kind=count;kind=count`.
    pub errors: String,
    /// Offset (in the decompressed input) of the first error.
    pub first_error_offset: Option<u64>,
    /// The first error, as text.
    pub first_error: String,
    /// Seconds spent on the input.
    pub elapsed_s: f64,
    /// When the record was written, Unix milliseconds.
    pub finished_ms: i64,
    /// `mrtsnap` version that wrote it.
    pub tool_version: String,
    /// Options that shape the output (`format=…;full_feed=…;…`): a rerun with
    /// other options redoes the input.
    pub options: String,
    /// Which run wrote it: `all` or `shard-K-of-N`.
    pub part: String,
}

/// The manifest columns, in order.
pub const COLUMNS: [&str; 27] = [
    "path",
    "format",
    "status",
    "reason",
    "collector",
    "kind",
    "layout",
    "dump_time",
    "date",
    "content_time",
    "size",
    "mtime_ns",
    "fingerprint",
    "output",
    "output_size",
    "rows",
    "records",
    "rib_entries",
    "peers",
    "errors",
    "first_error_offset",
    "first_error",
    "elapsed_s",
    "finished_ms",
    "tool_version",
    "options",
    "part",
];

/// A CSV field of an optional value: empty for none.
pub(super) fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// A row of a manifest table (see the module docs): its columns, key,
/// CSV fields and Parquet encoding.
pub trait Row: Clone + Sized {
    /// The journals' name: `NAME-PART.csv`.
    const JOURNAL: &'static str;
    /// The compacted table's name: `NAME.csv`, `NAME.parquet`, `NAME.lock`.
    const TABLE: &'static str;
    /// What rows are merged by: the latest row per key is kept.
    type Key: Ord + Clone;
    /// The column names, in order.
    fn columns() -> &'static [&'static str];
    /// The merge key.
    fn key(&self) -> Self::Key;
    /// When it was written (Unix ms) and by which part: the later wins.
    fn written(&self) -> (i64, &str);
    /// The CSV fields, in column order.
    fn fields(&self) -> Vec<String>;
    /// A row from CSV fields by column name; `None` when a required field
    /// is missing or malformed.
    fn from_map(map: &BTreeMap<&str, &str>) -> Option<Self>;
    /// The rows as a Parquet file.
    ///
    /// # Errors
    /// When encoding fails.
    fn to_parquet(rows: &[&Self]) -> io::Result<Vec<u8>>;

    /// One CSV line, with its newline.
    fn csv_line(&self) -> String {
        let mut s = String::new();
        for (i, f) in self.fields().iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            crate::fmt::csv_field(&mut s, f);
        }
        s.push('\n');
        s
    }
}

impl Row for Record {
    const JOURNAL: &'static str = "journal";
    const TABLE: &'static str = "manifest";
    type Key = (String, String);

    fn columns() -> &'static [&'static str] {
        &COLUMNS
    }

    fn key(&self) -> (String, String) {
        (self.path.clone(), self.format.clone())
    }

    fn written(&self) -> (i64, &str) {
        (self.finished_ms, &self.part)
    }

    fn fields(&self) -> Vec<String> {
        vec![
            self.path.clone(),
            self.format.clone(),
            self.status.as_str().to_string(),
            self.reason.clone(),
            self.collector.clone(),
            self.kind.clone(),
            self.layout.clone(),
            opt(self.dump_time),
            self.date.clone(),
            opt(self.content_time),
            self.size.to_string(),
            self.mtime_ns.to_string(),
            self.fingerprint.clone(),
            self.output.clone(),
            opt(self.output_size),
            opt(self.rows),
            opt(self.records),
            opt(self.rib_entries),
            opt(self.peers),
            self.errors.clone(),
            opt(self.first_error_offset),
            self.first_error.clone(),
            format!("{:.3}", self.elapsed_s),
            self.finished_ms.to_string(),
            self.tool_version.clone(),
            self.options.clone(),
            self.part.clone(),
        ]
    }

    fn from_map(map: &BTreeMap<&str, &str>) -> Option<Record> {
        let s = |k: &str| map.get(k).copied().unwrap_or("").to_string();
        let o = |k: &str| map.get(k).and_then(|v| v.parse::<u64>().ok());
        let oi = |k: &str| map.get(k).and_then(|v| v.parse::<i64>().ok());
        Some(Record {
            path: map.get("path").filter(|p| !p.is_empty())?.to_string(),
            format: s("format"),
            status: Status::parse(map.get("status")?)?,
            reason: s("reason"),
            collector: s("collector"),
            kind: s("kind"),
            layout: s("layout"),
            dump_time: oi("dump_time"),
            date: s("date"),
            content_time: oi("content_time"),
            size: o("size")?,
            mtime_ns: oi("mtime_ns").unwrap_or(0),
            fingerprint: s("fingerprint"),
            output: s("output"),
            output_size: o("output_size"),
            rows: o("rows"),
            records: o("records"),
            rib_entries: o("rib_entries"),
            peers: o("peers"),
            errors: s("errors"),
            first_error_offset: o("first_error_offset"),
            first_error: s("first_error"),
            elapsed_s: map.get("elapsed_s").and_then(|v| v.parse().ok()).unwrap_or(0.0),
            finished_ms: oi("finished_ms").unwrap_or(0),
            tool_version: s("tool_version"),
            options: s("options"),
            part: s("part"),
        })
    }

    fn to_parquet(rows: &[&Record]) -> io::Result<Vec<u8>> {
        write_parquet(rows)
    }
}

/// Text for a CSV field: newlines and other control characters become spaces.
pub fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The CSV records of `data` (RFC 4180: a quoted field may hold commas,
/// doubled quotes and newlines; `\r\n` ends a record as `\n` does; blank
/// lines are left out), and how many bytes of `data` they fill: a last
/// record without its final newline, or with a quote left open, was cut by
/// a crash and is left out. Fields that are not UTF-8 are read lossily.
///
/// ```
/// use mrtsnap::dataset::manifest::csv_records;
/// let text = "a,\"b,c\",\"d\"\"e\",,f\r\n\"line\n.mrt\",x\n\"cut";
/// let (records, complete) = csv_records(text.as_bytes());
/// assert_eq!(records, [vec!["a", "b,c", "d\"e", "", "f"], vec!["line\n.mrt", "x"]]);
/// assert_eq!(complete, text.len() - 4);
/// ```
pub fn csv_records(data: &[u8]) -> (Vec<Vec<String>>, usize) {
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let (mut quoted, mut was_quoted) = (false, false);
    let mut complete = 0;
    let mut i = 0;
    let field = |cur: &mut Vec<u8>| String::from_utf8_lossy(&std::mem::take(cur)).into_owned();
    while let Some(&c) = data.get(i) {
        i += 1;
        match (quoted, c) {
            (true, b'"') if data.get(i) == Some(&b'"') => {
                cur.push(b'"');
                i += 1;
            }
            (true, b'"') => quoted = false,
            (true, c) => cur.push(c),
            (false, b'"') if cur.is_empty() && !was_quoted => (quoted, was_quoted) = (true, true),
            (false, b',') => {
                fields.push(field(&mut cur));
                was_quoted = false;
            }
            (false, b'\r') if data.get(i) == Some(&b'\n') => {}
            (false, b'\n') => {
                fields.push(field(&mut cur));
                was_quoted = false;
                if fields.len() > 1 || fields.first().is_some_and(|f| !f.is_empty()) {
                    records.push(std::mem::take(&mut fields));
                }
                fields.clear();
                complete = i;
            }
            (false, c) => cur.push(c),
        }
    }
    (records, complete)
}

fn header_line<R: Row>() -> String {
    let mut s = R::columns().join(",");
    s.push('\n');
    s
}

/// Parse CSV text written by [`Journal`] or [`write_csv`]: whole records
/// only (see [`csv_records`]); records that do not parse are dropped.
pub fn parse_csv(text: &str) -> Vec<Record> {
    parse_rows(text.as_bytes())
}

/// The rows of CSV text of a table (a header line, then rows): whole
/// records only (see [`csv_records`]); rows that do not parse are dropped.
pub fn parse_rows<R: Row>(data: &[u8]) -> Vec<R> {
    let (records, _) = csv_records(data);
    let mut it = records.into_iter();
    let Some(header) = it.next() else { return Vec::new() };
    it.filter(|f| f.len() == header.len())
        .filter_map(|f| {
            let map: BTreeMap<&str, &str> = header.iter().map(String::as_str).zip(f.iter().map(String::as_str)).collect();
            R::from_map(&map)
        })
        .collect()
}

/// The journal files of `R` in `dir/_manifest`.
fn journals<R: Row>(out: &Path) -> Vec<PathBuf> {
    let Ok(rd) = fs::read_dir(out.join(MANIFEST_DIR)) else {
        return Vec::new();
    };
    let prefix = format!("{}-", R::JOURNAL);
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".csv"))
        })
        .collect();
    v.sort();
    v
}

/// Keep the latest row of each key (by [`Row::written`]).
fn latest<R: Row>(rows: impl IntoIterator<Item = R>) -> BTreeMap<R::Key, R> {
    let mut m: BTreeMap<R::Key, R> = BTreeMap::new();
    for r in rows {
        match m.get(&r.key()) {
            Some(old) if old.written() > r.written() => {}
            _ => {
                m.insert(r.key(), r);
            }
        }
    }
    m
}

/// Every journal in `out` merged: the latest record per (path, format).
pub fn load(out: &Path) -> BTreeMap<(String, String), Record> {
    load_rows(out)
}

/// Every journal of `R` in `out` merged: the latest row per key.
pub fn load_rows<R: Row>(out: &Path) -> BTreeMap<R::Key, R> {
    let mut all = Vec::new();
    for j in journals::<R>(out) {
        if let Ok(data) = fs::read(&j) {
            all.extend(parse_rows::<R>(&data));
        }
    }
    latest(all)
}

/// An append-only journal of `R` rows (see the module docs), locked for as
/// long as it is open.
pub struct Journal<R: Row = Record> {
    path: PathBuf,
    file: File,
    /// `journal-PART.lock`, held (`flock`) until the journal is dropped.
    _lock: File,
    _rows: std::marker::PhantomData<fn(&R)>,
}

/// Take an exclusive `flock` on `path` (created when missing): at once
/// (`wait` false: `Err` of kind `WouldBlock` when another process holds
/// it) or when it is free.
fn lock_file(path: &Path, wait: bool) -> io::Result<File> {
    let f = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
    if wait {
        f.lock()?;
    } else {
        match f.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(io::Error::from(io::ErrorKind::WouldBlock)),
            Err(fs::TryLockError::Error(e)) => return Err(e),
        }
    }
    Ok(f)
}

impl<R: Row> Journal<R> {
    /// The journal of `part` in `out`, created when missing, and locked
    /// (`journal-PART.lock`, whatever the table): while it is open, no
    /// other process can open a journal of the same part (an error of kind
    /// `WouldBlock`: the same part is running). A record cut
    /// by a crash at its end is cut off, so that the next one starts on a
    /// line of its own.
    ///
    /// # Errors
    /// When the file cannot be created, locked or written.
    pub fn open(out: &Path, part: &str) -> io::Result<Journal<R>> {
        let dir = out.join(MANIFEST_DIR);
        fs::create_dir_all(&dir)?;
        let lock = lock_file(&dir.join(format!("journal-{part}.lock")), false)?;
        let path = dir.join(format!("{}-{part}.csv", R::JOURNAL));
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(&path)?;
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        let (_, complete) = csv_records(&data);
        if complete < data.len() {
            file.set_len(complete as u64)?;
        }
        if complete == 0 {
            file.write_all(header_line::<R>().as_bytes())?;
        }
        file.sync_data()?;
        Ok(Journal {
            path,
            file,
            _lock: lock,
            _rows: std::marker::PhantomData,
        })
    }

    /// Append one record and flush it to disk.
    ///
    /// # Errors
    /// When writing fails.
    pub fn append(&mut self, r: &R) -> io::Result<()> {
        self.file.write_all(r.csv_line().as_bytes())?;
        self.file.sync_data()
    }

    /// Rewrite the journal with the latest row per key only.
    ///
    /// # Errors
    /// When the journal cannot be read or rewritten.
    pub fn compact(&mut self) -> io::Result<()> {
        let rows = latest(parse_rows::<R>(&fs::read(&self.path)?));
        let s = write_csv(rows.values());
        let name = self.path.file_name().and_then(|n| n.to_str()).unwrap_or("journal.csv").to_string();
        write_atomic(&self.path.with_file_name(format!(".{name}.tmp")), &self.path, s.as_bytes())?;
        self.file = OpenOptions::new().read(true).append(true).open(&self.path)?;
        Ok(())
    }
}

/// Write `data` to `tmp`, flush it to disk, and rename it to `dest`.
///
/// # Errors
/// When writing or renaming fails (the temporary file is then removed).
pub fn write_atomic(tmp: &Path, dest: &Path, data: &[u8]) -> io::Result<()> {
    let res = (|| {
        let mut f = File::create(tmp)?;
        f.write_all(data)?;
        f.sync_data()?;
        fs::rename(tmp, dest)
    })();
    if res.is_err() {
        let _ = fs::remove_file(tmp);
    }
    res
}

/// A table as CSV text (header, then one line per row).
pub fn write_csv<'a, R: Row + 'a>(records: impl IntoIterator<Item = &'a R>) -> String {
    let mut s = header_line::<R>();
    for r in records {
        s.push_str(&r.csv_line());
    }
    s
}

/// The manifest as Parquet (zstd): text columns as utf8, counts as uint64,
/// times as int64, `elapsed_s` as float64; none as null.
///
/// # Errors
/// When encoding fails.
pub fn write_parquet(records: &[&Record]) -> io::Result<Vec<u8>> {
    Columns::new(records)
        .text("path", |r| &r.path)
        .text("format", |r| &r.format)
        .text("status", |r| r.status.as_str())
        .text_opt("reason", |r| &r.reason)
        .text_opt("collector", |r| &r.collector)
        .text("kind", |r| &r.kind)
        .text("layout", |r| &r.layout)
        .i64("dump_time", true, |r| r.dump_time)
        .text_opt("date", |r| &r.date)
        .i64("content_time", true, |r| r.content_time)
        .u64("size", false, |r| Some(r.size))
        .i64("mtime_ns", false, |r| Some(r.mtime_ns))
        .text("fingerprint", |r| &r.fingerprint)
        .text_opt("output", |r| &r.output)
        .u64("output_size", true, |r| r.output_size)
        .u64("rows", true, |r| r.rows)
        .u64("records", true, |r| r.records)
        .u64("rib_entries", true, |r| r.rib_entries)
        .u64("peers", true, |r| r.peers)
        .text_opt("errors", |r| &r.errors)
        .u64("first_error_offset", true, |r| r.first_error_offset)
        .text_opt("first_error", |r| &r.first_error)
        .f64("elapsed_s", |r| r.elapsed_s)
        .i64("finished_ms", false, |r| Some(r.finished_ms))
        .text("tool_version", |r| &r.tool_version)
        .text("options", |r| &r.options)
        .text("part", |r| &r.part)
        .finish()
}

/// The columns of a table's Parquet file, added one by one; a nullable
/// column keeps its type and nullability whatever the rows (a stable
/// schema).
pub struct Columns<'a, R> {
    rows: &'a [&'a R],
    columns: Vec<(Field, ArrayRef)>,
}

impl<'a, R> Columns<'a, R> {
    /// No column yet, over `rows`.
    pub fn new(rows: &'a [&'a R]) -> Self {
        Columns { rows, columns: Vec::new() }
    }

    /// A column built elsewhere.
    pub fn array(mut self, name: &str, nullable: bool, array: ArrayRef) -> Self {
        self.columns.push((Field::new(name, array.data_type().clone(), nullable), array));
        self
    }

    /// A text column (utf8), never null.
    pub fn text(self, name: &str, f: impl Fn(&R) -> &str) -> Self {
        let a: ArrayRef = Arc::new(StringArray::from(self.rows.iter().map(|r| f(r)).collect::<Vec<&str>>()));
        self.array(name, false, a)
    }

    /// A text column (utf8), null where the text is empty.
    pub fn text_opt(self, name: &str, f: impl Fn(&R) -> &str) -> Self {
        let a: ArrayRef = Arc::new(StringArray::from(
            self.rows
                .iter()
                .map(|r| Some(f(r)).filter(|s| !s.is_empty()))
                .collect::<Vec<Option<&str>>>(),
        ));
        self.array(name, true, a)
    }

    /// A uint64 column.
    pub fn u64(self, name: &str, nullable: bool, f: impl Fn(&R) -> Option<u64>) -> Self {
        let a: ArrayRef = Arc::new(UInt64Array::from(self.rows.iter().map(|r| f(r)).collect::<Vec<_>>()));
        self.array(name, nullable, a)
    }

    /// An int64 column.
    pub fn i64(self, name: &str, nullable: bool, f: impl Fn(&R) -> Option<i64>) -> Self {
        let a: ArrayRef = Arc::new(Int64Array::from(self.rows.iter().map(|r| f(r)).collect::<Vec<_>>()));
        self.array(name, nullable, a)
    }

    /// A float64 column, never null.
    pub fn f64(self, name: &str, f: impl Fn(&R) -> f64) -> Self {
        let a: ArrayRef = Arc::new(Float64Array::from(self.rows.iter().map(|r| f(r)).collect::<Vec<f64>>()));
        self.array(name, false, a)
    }

    /// The Parquet file (zstd level 3, one row group).
    ///
    /// # Errors
    /// When encoding fails.
    pub fn finish(self) -> io::Result<Vec<u8>> {
        let err = |e: parquet::errors::ParquetError| io::Error::other(e.to_string());
        let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = self.columns.into_iter().unzip();
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| io::Error::other(e.to_string()))?;
        let level = ZstdLevel::try_new(3).map_err(err)?;
        let props = WriterProperties::builder().set_compression(Compression::ZSTD(level)).build();
        let mut buf = Vec::new();
        let mut w = ArrowWriter::try_new(&mut buf, schema, Some(props)).map_err(err)?;
        w.write(&batch).map_err(err)?;
        w.close().map_err(err)?;
        Ok(buf)
    }
}

/// Rebuild `manifest.csv` and `manifest.parquet` from every journal in
/// `out` (each written to a temporary file, then renamed), holding
/// `manifest.lock` meanwhile: runs that end at once take turns, and the
/// last one reads every journal as it is after its own last record.
/// Returns the merged records.
///
/// # Errors
/// When the files cannot be written.
pub fn compact(out: &Path) -> io::Result<BTreeMap<(String, String), Record>> {
    compact_rows(out)
}

/// [`compact`] for the table of `R`: `TABLE.csv` and `TABLE.parquet`
/// under `TABLE.lock`.
///
/// # Errors
/// When the files cannot be written.
pub fn compact_rows<R: Row>(out: &Path) -> io::Result<BTreeMap<R::Key, R>> {
    let dir = out.join(MANIFEST_DIR);
    fs::create_dir_all(&dir)?;
    let table = R::TABLE;
    let _lock = lock_file(&dir.join(format!("{table}.lock")), true)?;
    let merged = load_rows::<R>(out);
    let rows: Vec<&R> = merged.values().collect();
    write_atomic(
        &dir.join(format!(".{table}.csv.tmp")),
        &dir.join(format!("{table}.csv")),
        write_csv(rows.iter().copied()).as_bytes(),
    )?;
    write_atomic(
        &dir.join(format!(".{table}.parquet.tmp")),
        &dir.join(format!("{table}.parquet")),
        &R::to_parquet(&rows)?,
    )?;
    Ok(merged)
}

/// Whether `out` holds journals of `R`.
pub fn has_journals<R: Row>(out: &Path) -> bool {
    !journals::<R>(out).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample(path: &str, status: Status, finished_ms: i64) -> Record {
        Record {
            path: path.to_string(),
            format: "parquet".into(),
            status,
            reason: "x, \"quoted\"".into(),
            collector: "rrc00".into(),
            kind: "rib".into(),
            layout: "ris".into(),
            dump_time: Some(1_419_206_400),
            date: "2014-12-22".into(),
            content_time: None,
            size: 10,
            mtime_ns: 5,
            fingerprint: "fast1:ab".into(),
            output: "collector=rrc00/date=2014-12-22/bview.20141222.0000.parquet".into(),
            output_size: Some(7),
            rows: Some(3),
            records: Some(4),
            rib_entries: Some(5),
            peers: Some(2),
            errors: "truncated=1".into(),
            first_error_offset: Some(99),
            first_error: "bad".into(),
            elapsed_s: 0.5,
            finished_ms,
            tool_version: "0.1.0".into(),
            options: "format=parquet".into(),
            part: "all".into(),
        }
    }

    /// A journal `name` in the temporary directory holding `records`, then
    /// `cut` (a record cut by a crash); its directory and path.
    fn cut_journal(name: &str, records: &[Record], cut: &[u8]) -> (PathBuf, PathBuf) {
        let d = std::env::temp_dir().join(format!("mrtsnap-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        let mut j = Journal::open(&d, "all").unwrap();
        for r in records {
            j.append(r).unwrap();
        }
        drop(j);
        let jp = d.join(MANIFEST_DIR).join("journal-all.csv");
        OpenOptions::new().append(true).open(&jp).unwrap().write_all(cut).unwrap();
        (d, jp)
    }

    #[test]
    fn journal_survives_torn_lines_and_compacts() {
        let recs = [sample("a", Status::Failed, 1), sample("b", Status::Ok, 2)];
        let (d, jp) = cut_journal("manifest", &recs, b"c,parquet,ok,,rrc");
        let mut j = Journal::open(&d, "all").unwrap();
        // The cut record is cut off, not closed by a newline.
        assert!(!fs::read_to_string(&jp).unwrap().contains("\nc,parquet"));
        // Locked: the same part cannot be opened twice at once; another can.
        let again = Journal::<Record>::open(&d, "all").err().map(|e| e.kind());
        assert_eq!(again, Some(io::ErrorKind::WouldBlock));
        // The derived table's journal of the part shares its lock.
        let derived = Journal::<crate::dataset::derived::Derived>::open(&d, "all").err().map(|e| e.kind());
        assert_eq!(derived, Some(io::ErrorKind::WouldBlock));
        drop(Journal::<Record>::open(&d, "shard-1-of-2").unwrap());
        j.append(&sample("a", Status::Ok, 3)).unwrap();
        let m = load(&d);
        assert_eq!(m.len(), 2);
        assert_eq!(m[&("a".to_string(), "parquet".to_string())].status, Status::Ok);
        assert_eq!(m[&("b".to_string(), "parquet".to_string())], sample("b", Status::Ok, 2));
        j.compact().unwrap();
        j.append(&sample("d", Status::Skipped, 4)).unwrap();
        let text = fs::read_to_string(&jp).unwrap();
        assert_eq!(text.lines().count(), 4, "{text}");
        let merged = compact(&d).unwrap();
        assert_eq!(merged.len(), 3);
        let csv = fs::read_to_string(d.join(MANIFEST_DIR).join("manifest.csv")).unwrap();
        assert_eq!(parse_csv(&csv), merged.values().cloned().collect::<Vec<_>>());
        let pq = fs::read(d.join(MANIFEST_DIR).join("manifest.parquet")).unwrap();
        assert_eq!(&pq[..4], b"PAR1");
        fs::remove_dir_all(&d).unwrap();
    }

    /// A path with a newline, quotes and commas is one record, read back
    /// whole; a record cut inside its quotes is cut off on the next open
    /// and the records after it are read.
    #[test]
    fn quoted_newlines_round_trip() {
        let odd = "dir/line\n\"x\",y.mrt";
        let (d, _) = cut_journal("manifest-nl", &[sample(odd, Status::Ok, 1)], b"\"cut\nin the middle");
        let mut j = Journal::open(&d, "all").unwrap();
        j.append(&sample("b", Status::Ok, 2)).unwrap();
        let m = load(&d);
        assert_eq!(m.keys().map(|k| k.0.as_str()).collect::<Vec<_>>(), ["b", odd]);
        assert_eq!(m[&(odd.to_string(), "parquet".to_string())], sample(odd, Status::Ok, 1));
        fs::remove_dir_all(&d).unwrap();
    }
}
