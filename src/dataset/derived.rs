//! The table of derived outputs: one row per snapshot that `mrtsnap batch
//! --every` replayed from several inputs, or per day's timeline that
//! `mrtsnap batch --timeline` replayed ([`super::timeline`]), with those
//! inputs.
//!
//! Kept as the input manifest is ([`super::manifest`]): journals
//! `_manifest/derived-journal-PART.csv`, compacted into `derived.csv` and
//! `derived.parquet`, the latest row per (collector, instant, format,
//! timeline bin).
//! Columns: [`DERIVED_COLUMNS`]. `inputs` lists what the output was built
//! from, in replay order (the base RIB first): in Parquet a list of
//! `{path, size, mtime_ns, fingerprint}`; in CSV one line per input,
//! `FINGERPRINT SIZE MTIME_NS PATH`, the path with control characters
//! escaped as `\xHH` ([`shown`]), so that a line is one input.

use super::discover::{escape_bytes, shown, text_bytes};
use super::manifest::{opt, Columns, Row, Status};
use arrow_array::builder::{Int64Builder, ListBuilder, StringBuilder, StructBuilder, UInt64Builder};
use arrow_array::ArrayRef;
use arrow_schema::{DataType, Field, Fields};
use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

/// One input of a derived output, as the manifest identifies inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputRef {
    /// The path as found ([`super::discover::Input::display`]).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// Content fingerprint ([`super::fingerprint`]).
    pub fingerprint: String,
}

impl InputRef {
    /// The CSV line of the input (without newline): `FINGERPRINT SIZE
    /// MTIME_NS PATH`.
    fn line(&self) -> String {
        format!("{} {} {} {}", self.fingerprint, self.size, self.mtime_ns, shown(&self.path))
    }

    /// The inverse of [`InputRef::line`].
    fn parse(line: &str) -> Option<InputRef> {
        let mut it = line.splitn(4, ' ');
        let fingerprint = it.next()?.to_string();
        let size = it.next()?.parse().ok()?;
        let mtime_ns = it.next()?.parse().ok()?;
        let path = escape_bytes(&text_bytes(it.next()?), false);
        Some(InputRef {
            path,
            size,
            mtime_ns,
            fingerprint,
        })
    }
}

/// One derived output: the replayed state of a collector at an instant,
/// or a collector's timeline of one UTC day.
#[derive(Clone, Debug, PartialEq)]
pub struct Derived {
    /// The collector.
    pub collector: String,
    /// The instant (Unix seconds, UTC): every record timestamped at or
    /// before it is applied. A timeline's: the start of its day.
    pub instant: i64,
    /// Output format: `parquet` or `pfx2as`.
    pub format: String,
    /// A timeline's bin width, seconds; `None` for a snapshot.
    pub timeline_bin_s: Option<u32>,
    /// `ok`, `damaged` (inputs with damaged records, or cut short) or
    /// `failed` (no output; `reason` says why).
    pub status: Status,
    /// Why it failed; what was damaged; that there was no RIB (the state
    /// replayed from empty from the first updates file); the gaps.
    pub reason: String,
    /// UTC date of the instant: the `date=` partition.
    pub date: String,
    /// The output, relative to the output directory (empty: none).
    pub output: String,
    /// Output size in bytes.
    pub output_size: Option<u64>,
    /// Snapshot rows (prefix-origin pairs); a timeline's rows.
    pub rows: Option<u64>,
    /// Peers in the snapshot's peer table; for a timeline, the peers met
    /// by the day's replay.
    pub peers: Option<u64>,
    /// Routes in the replayed state (one per peer, prefix and path id);
    /// for a timeline, at the end of the day.
    pub routes: Option<u64>,
    /// The RIB dump the state starts from (empty: none; the state starts
    /// empty at the first updates file).
    pub base: String,
    /// The base's dump start (its first record's timestamp).
    pub base_time: Option<i64>,
    /// The inputs, in replay order: the base, then the updates files that
    /// follow it up to the instant (a timeline's: and the RIB dumps).
    pub inputs: Vec<InputRef>,
    /// Seconds no input covers, between the base and the instant
    /// ([`crate::replay::Archive::gaps`]), as `FROM/UNTIL` (RFC 3339,
    /// `UNTIL` the first second after) joined by `;`.
    pub gaps: String,
    /// The seconds of `gaps`, in all.
    pub gap_s: u64,
    /// Decoding errors of the inputs read by `kind=count;…`.
    pub errors: String,
    /// Damaged records met at or before the instant.
    pub damaged_records: u64,
    /// Peers whose state a damaged record leaves uncertain (all peers
    /// count as one when the record's peer is unknown).
    pub uncertain_peers: u64,
    /// The first decoding error, as text.
    pub first_error: String,
    /// Seconds spent on it: the replay since the previous output of the
    /// same run of its base, and the writing.
    pub elapsed_s: f64,
    /// When the row was written, Unix milliseconds.
    pub finished_ms: i64,
    /// `mrtsnap` version that wrote it.
    pub tool_version: String,
    /// Options that shape the output ([`super::BatchOptions::options_tag`]).
    pub options: String,
    /// Which run wrote it: `all` or `shard-K-of-N`.
    pub part: String,
}

/// The columns of the derived table, in order.
pub const DERIVED_COLUMNS: [&str; 27] = [
    "collector",
    "instant",
    "time",
    "format",
    "timeline_bin_s",
    "status",
    "reason",
    "date",
    "output",
    "output_size",
    "rows",
    "peers",
    "routes",
    "base",
    "base_time",
    "inputs",
    "gaps",
    "gap_s",
    "errors",
    "damaged_records",
    "uncertain_peers",
    "first_error",
    "elapsed_s",
    "finished_ms",
    "tool_version",
    "options",
    "part",
];

impl Row for Derived {
    const JOURNAL: &'static str = "derived-journal";
    const TABLE: &'static str = "derived";
    /// Collector, instant, format, and the timeline bin (0: a snapshot).
    type Key = (String, i64, String, u32);

    fn columns() -> &'static [&'static str] {
        &DERIVED_COLUMNS
    }

    fn key(&self) -> (String, i64, String, u32) {
        (
            self.collector.clone(),
            self.instant,
            self.format.clone(),
            self.timeline_bin_s.unwrap_or(0),
        )
    }

    fn written(&self) -> (i64, &str) {
        (self.finished_ms, &self.part)
    }

    fn fields(&self) -> Vec<String> {
        vec![
            self.collector.clone(),
            self.instant.to_string(),
            crate::fmt::utc_datetime(self.instant),
            self.format.clone(),
            opt(self.timeline_bin_s),
            self.status.as_str().to_string(),
            self.reason.clone(),
            self.date.clone(),
            self.output.clone(),
            opt(self.output_size),
            opt(self.rows),
            opt(self.peers),
            opt(self.routes),
            self.base.clone(),
            opt(self.base_time),
            self.inputs.iter().map(InputRef::line).collect::<Vec<_>>().join("\n"),
            self.gaps.clone(),
            self.gap_s.to_string(),
            self.errors.clone(),
            self.damaged_records.to_string(),
            self.uncertain_peers.to_string(),
            self.first_error.clone(),
            format!("{:.3}", self.elapsed_s),
            self.finished_ms.to_string(),
            self.tool_version.clone(),
            self.options.clone(),
            self.part.clone(),
        ]
    }

    fn from_map(map: &BTreeMap<&str, &str>) -> Option<Derived> {
        let s = |k: &str| map.get(k).copied().unwrap_or("").to_string();
        let o = |k: &str| map.get(k).and_then(|v| v.parse::<u64>().ok());
        let oi = |k: &str| map.get(k).and_then(|v| v.parse::<i64>().ok());
        let inputs = map
            .get("inputs")
            .copied()
            .unwrap_or("")
            .split('\n')
            .filter(|l| !l.is_empty())
            .map(InputRef::parse)
            .collect::<Option<Vec<_>>>()?;
        Some(Derived {
            collector: map.get("collector").filter(|c| !c.is_empty())?.to_string(),
            instant: oi("instant")?,
            format: s("format"),
            timeline_bin_s: map.get("timeline_bin_s").and_then(|v| v.parse().ok()),
            status: Status::parse(map.get("status")?)?,
            reason: s("reason"),
            date: s("date"),
            output: s("output"),
            output_size: o("output_size"),
            rows: o("rows"),
            peers: o("peers"),
            routes: o("routes"),
            base: s("base"),
            base_time: oi("base_time"),
            inputs,
            gaps: s("gaps"),
            gap_s: o("gap_s").unwrap_or(0),
            errors: s("errors"),
            damaged_records: o("damaged_records").unwrap_or(0),
            uncertain_peers: o("uncertain_peers").unwrap_or(0),
            first_error: s("first_error"),
            elapsed_s: map.get("elapsed_s").and_then(|v| v.parse().ok()).unwrap_or(0.0),
            finished_ms: oi("finished_ms").unwrap_or(0),
            tool_version: s("tool_version"),
            options: s("options"),
            part: s("part"),
        })
    }

    /// Text as utf8, counts as uint64, times as int64, `elapsed_s` as
    /// float64, `inputs` as a list of structs; none as null.
    fn to_parquet(rows: &[&Derived]) -> io::Result<Vec<u8>> {
        Columns::new(rows)
            .text("collector", |r| &r.collector)
            .i64("instant", false, |r| Some(r.instant))
            .array("time", false, {
                let t: Vec<String> = rows.iter().map(|r| crate::fmt::utc_datetime(r.instant)).collect();
                Arc::new(arrow_array::StringArray::from(t))
            })
            .text("format", |r| &r.format)
            .u64("timeline_bin_s", true, |r| r.timeline_bin_s.map(u64::from))
            .text("status", |r| r.status.as_str())
            .text_opt("reason", |r| &r.reason)
            .text("date", |r| &r.date)
            .text_opt("output", |r| &r.output)
            .u64("output_size", true, |r| r.output_size)
            .u64("rows", true, |r| r.rows)
            .u64("peers", true, |r| r.peers)
            .u64("routes", true, |r| r.routes)
            .text_opt("base", |r| &r.base)
            .i64("base_time", true, |r| r.base_time)
            .array("inputs", false, inputs_array(rows))
            .text_opt("gaps", |r| &r.gaps)
            .u64("gap_s", false, |r| Some(r.gap_s))
            .text_opt("errors", |r| &r.errors)
            .u64("damaged_records", false, |r| Some(r.damaged_records))
            .u64("uncertain_peers", false, |r| Some(r.uncertain_peers))
            .text_opt("first_error", |r| &r.first_error)
            .f64("elapsed_s", |r| r.elapsed_s)
            .i64("finished_ms", false, |r| Some(r.finished_ms))
            .text("tool_version", |r| &r.tool_version)
            .text("options", |r| &r.options)
            .text("part", |r| &r.part)
            .finish()
    }
}

/// The `inputs` column: `list<struct<path, size, mtime_ns, fingerprint>>`.
fn inputs_array(rows: &[&Derived]) -> ArrayRef {
    let fields = Fields::from(vec![
        Field::new("path", DataType::Utf8, false),
        Field::new("size", DataType::UInt64, false),
        Field::new("mtime_ns", DataType::Int64, false),
        Field::new("fingerprint", DataType::Utf8, false),
    ]);
    let item = Arc::new(Field::new("item", DataType::Struct(fields.clone()), false));
    let values = StructBuilder::new(
        fields,
        vec![
            Box::new(StringBuilder::new()),
            Box::new(UInt64Builder::new()),
            Box::new(Int64Builder::new()),
            Box::new(StringBuilder::new()),
        ],
    );
    let mut list = ListBuilder::new(values).with_field(item);
    for r in rows {
        let v = list.values();
        for i in &r.inputs {
            if let Some(b) = v.field_builder::<StringBuilder>(0) {
                b.append_value(&i.path);
            }
            if let Some(b) = v.field_builder::<UInt64Builder>(1) {
                b.append_value(i.size);
            }
            if let Some(b) = v.field_builder::<Int64Builder>(2) {
                b.append_value(i.mtime_ns);
            }
            if let Some(b) = v.field_builder::<StringBuilder>(3) {
                b.append_value(&i.fingerprint);
            }
            v.append(true);
        }
        list.append(true);
    }
    Arc::new(list.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::manifest::{parse_rows, write_csv};

    fn sample() -> Derived {
        Derived {
            collector: "route-views.jinx".into(),
            instant: 1_401_490_800,
            format: "parquet".into(),
            timeline_bin_s: None,
            status: Status::Ok,
            reason: "gap: no updates, \"quoted\"".into(),
            date: "2014-05-30".into(),
            output: "collector=route-views.jinx/date=2014-05-30/route-views.jinx.20140530T230000Z.parquet".into(),
            output_size: Some(100),
            rows: Some(3),
            peers: Some(2),
            routes: Some(4),
            base: "a/rib.20140530.2200.bz2".into(),
            base_time: Some(1_401_487_200),
            inputs: vec![
                InputRef {
                    path: "a/rib.20140530.2200.bz2".into(),
                    size: 10,
                    mtime_ns: 5,
                    fingerprint: "fast1:ab".into(),
                },
                InputRef {
                    // As discovery writes paths: a literal `\x41` doubled.
                    path: "a b/line\nx\\\\x41 \u{e9}.bz2".into(),
                    size: 7,
                    mtime_ns: -1,
                    fingerprint: "sha256:cd".into(),
                },
            ],
            gaps: "2014-05-30T22:00:00Z/2014-05-30T23:00:01Z".into(),
            gap_s: 3601,
            errors: String::new(),
            damaged_records: 0,
            uncertain_peers: 0,
            first_error: String::new(),
            elapsed_s: 0.25,
            finished_ms: 7,
            tool_version: "0.1.0".into(),
            options: "format=parquet".into(),
            part: "all".into(),
        }
    }

    /// A row, odd paths and all, reads back from its CSV as it was; a
    /// malformed input line drops the row.
    #[test]
    fn csv_round_trip() {
        let r = sample();
        let text = write_csv([&r]);
        assert_eq!(parse_rows::<Derived>(text.as_bytes()), std::slice::from_ref(&r));
        assert!(text.contains(",\"fast1:ab 10 5 a/rib.20140530.2200.bz2\nsha256:cd 7 -1 a b/line\\x0ax\\\\x41 \u{e9}.bz2\","));
        let broken = text.replace("sha256:cd 7 -1", "sha256:cd seven -1");
        assert!(parse_rows::<Derived>(broken.as_bytes()).is_empty());
        let pq = Derived::to_parquet(&[&r, &r]).unwrap();
        assert_eq!(&pq[..4], b"PAR1");
    }

    /// A timeline's row keeps its bin, and is another key than the
    /// snapshot of its instant; a table written before the column existed
    /// reads as snapshots.
    #[test]
    fn timeline_rows() {
        let snap = sample();
        let tl = Derived {
            timeline_bin_s: Some(300),
            ..sample()
        };
        let text = write_csv([&snap, &tl]);
        assert_eq!(parse_rows::<Derived>(text.as_bytes()), vec![snap.clone(), tl.clone()]);
        assert_ne!(snap.key(), tl.key());
        assert_eq!(tl.key().3, 300);
        let old = text
            .replacen("format,timeline_bin_s,", "format,", 1)
            .replace("parquet,300,", "parquet,")
            .replace("parquet,,", "parquet,");
        assert!(!old.contains("timeline_bin_s"));
        assert_eq!(parse_rows::<Derived>(old.as_bytes()), vec![snap.clone(), snap]);
    }
}
