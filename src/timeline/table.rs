//! Timeline tables: the values of [`Bin`]s as columns, and their CSV,
//! JSON lines and Parquet forms.
//!
//! # Columns
//!
//! One row per bin and (origin, family):
//!
//! | column | meaning |
//! |---|---|
//! | `time` | the bin's start, RFC 3339 UTC (Parquet: timestamp, seconds, UTC) |
//! | `collectors` | the collectors combined, `;`-separated |
//! | `origin` | the origin AS; `{a,b}` for an AS_SET, `-` for none (Parquet: `origin` UInt32, null for those, and `origin_text`) |
//! | `family` | `ipv4` or `ipv6` (Parquet: 4 or 6) |
//! | `prefixes_T` | prefixes visible at threshold T (`1`, `25`, `50`, `75`, `100`) |
//! | `slash24_T` / `slash64_T` | the address space visible at T, in /24s (IPv4 rows) or /64s (IPv6 rows) |
//! | `peers` | peers seeing at least one of the origin's prefixes |
//! | `full_feed_peer_asns` | full-feed peer ASNs seeing at least one |
//! | `uncertain` | `1` when the state may be wrong ([`Bin::uncertain`]: a damaged record, or a gap before the bin, not yet re-based by a RIB dump), else `0` |
//!
//! The text forms hold the space columns of the families asked for:
//! `slash24_T` for IPv4, `slash64_T` for IPv6, both (each empty on the
//! other family's rows) for both. In a null bin ([`Bin::null`]: a gap in
//! the archive) every value cell is empty (JSON `null`, Parquet null).
//! Parquet always has both space columns.

use super::outage::Point;
use super::{Aggregate, Bin, OriginValue, HEADLINE, THRESHOLD_NAMES};
use crate::bgp::Origin;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Which rows a table takes.
#[derive(Clone, Debug, Default)]
pub struct Select {
    /// The origins (`None`: every origin met).
    pub origins: Option<Vec<Origin>>,
    /// The families: IPv4, IPv6.
    pub families: Families,
}

/// The address families of a table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Families {
    /// IPv4 only (/24 units).
    #[default]
    Ipv4,
    /// IPv6 only (/64 units).
    Ipv6,
    /// Both.
    Both,
}

impl Families {
    /// Whether rows of this family (`v6` or not) are taken.
    pub fn has(self, v6: bool) -> bool {
        match self {
            Families::Ipv4 => !v6,
            Families::Ipv6 => v6,
            Families::Both => true,
        }
    }
}

/// Rows of a timeline table, column by column.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Columns {
    /// Bin start, Unix seconds.
    pub time: Vec<u32>,
    /// The origin.
    pub origin: Vec<Origin>,
    /// Whether the row is of IPv6 prefixes.
    pub v6: Vec<bool>,
    /// The values; `None` in a null bin.
    pub value: Vec<Option<Aggregate>>,
    /// Whether the bin's state may be wrong ([`Bin::uncertain`]).
    pub uncertain: Vec<bool>,
}

impl Columns {
    /// Rows held.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// Whether it holds no row.
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// Drop every row.
    pub fn clear(&mut self) {
        *self = Columns::default();
    }

    /// Add the rows `select` takes from `bin`: the origins asked for in
    /// their order (an origin never met gives no row), or every origin
    /// met, in origin order.
    pub fn push_bin(&mut self, bin: &Bin<'_>, select: &Select) {
        let mut push = |v: OriginValue<'_>| {
            self.time.push(bin.start);
            self.origin.push(v.origin.clone());
            self.v6.push(v.v6);
            self.value.push((!bin.null).then_some(*v.value));
            self.uncertain.push(bin.uncertain);
        };
        match &select.origins {
            None => bin.state.origins().filter(|v| select.families.has(v.v6)).for_each(push),
            Some(list) => {
                for o in list {
                    for v6 in [false, true] {
                        if !select.families.has(v6) {
                            continue;
                        }
                        if let Some(value) = bin.state.origin(o, v6) {
                            push(OriginValue { origin: o, v6, value });
                        }
                    }
                }
            }
        }
    }

    /// The CSV header for `families`.
    pub fn csv_header(families: Families) -> String {
        let mut h = String::from("time,collectors,origin,family");
        for t in THRESHOLD_NAMES {
            h.push_str(&format!(",prefixes_{t}"));
            if families.has(false) {
                h.push_str(&format!(",slash24_{t}"));
            }
            if families.has(true) {
                h.push_str(&format!(",slash64_{t}"));
            }
        }
        h.push_str(",peers,full_feed_peer_asns,uncertain\n");
        h
    }

    /// Write the rows as CSV lines (no header), `collectors` in each.
    ///
    /// # Errors
    /// When writing fails.
    pub fn write_csv<W: Write>(&self, collectors: &str, families: Families, w: &mut W) -> io::Result<()> {
        let mut line = String::new();
        for i in 0..self.len() {
            line.clear();
            line.push_str(&crate::fmt::utc_datetime(i64::from(self.time[i])));
            line.push(',');
            crate::fmt::csv_field(&mut line, collectors);
            line.push(',');
            crate::fmt::csv_field(&mut line, &self.origin[i].to_string());
            line.push_str(if self.v6[i] { ",ipv6" } else { ",ipv4" });
            let v = self.value[i];
            let cell = |line: &mut String, x: Option<u64>| {
                line.push(',');
                if let Some(x) = x {
                    line.push_str(itoa::Buffer::new().format(x));
                }
            };
            for t in 0..THRESHOLD_NAMES.len() {
                cell(&mut line, v.map(|v| u64::from(v.prefixes[t])));
                for fam_v6 in [false, true] {
                    if families.has(fam_v6) {
                        cell(&mut line, v.filter(|_| self.v6[i] == fam_v6).map(|v| v.space[t]));
                    }
                }
            }
            cell(&mut line, v.map(|v| u64::from(v.peers)));
            cell(&mut line, v.map(|v| u64::from(v.full_feed_peer_asns)));
            line.push_str(if self.uncertain[i] { ",1\n" } else { ",0\n" });
            w.write_all(line.as_bytes())?;
        }
        Ok(())
    }

    /// Write the rows as JSON lines: the CSV's columns as keys, numbers as
    /// numbers, `null` in null bins, `uncertain` a boolean.
    ///
    /// # Errors
    /// When writing fails.
    pub fn write_jsonl<W: Write>(&self, collectors: &str, w: &mut W) -> io::Result<()> {
        let mut line = String::new();
        for i in 0..self.len() {
            line.clear();
            line.push_str(&format!(
                "{{\"time\":\"{}\",\"collectors\":",
                crate::fmt::utc_datetime(i64::from(self.time[i]))
            ));
            crate::fmt::json_string(&mut line, collectors);
            line.push_str(&format!(
                ",\"origin\":\"{}\",\"family\":\"{}\"",
                self.origin[i],
                if self.v6[i] { "ipv6" } else { "ipv4" }
            ));
            let unit = if self.v6[i] { "slash64" } else { "slash24" };
            let v = self.value[i];
            let num = |x: Option<u64>| x.map_or_else(|| "null".to_string(), |x| x.to_string());
            for (t, name) in THRESHOLD_NAMES.iter().enumerate() {
                line.push_str(&format!(
                    ",\"prefixes_{name}\":{},\"{unit}_{name}\":{}",
                    num(v.map(|v| u64::from(v.prefixes[t]))),
                    num(v.map(|v| v.space[t]))
                ));
            }
            line.push_str(&format!(
                ",\"peers\":{},\"full_feed_peer_asns\":{},\"uncertain\":{}}}\n",
                num(v.map(|v| u64::from(v.peers))),
                num(v.map(|v| u64::from(v.full_feed_peer_asns))),
                self.uncertain[i]
            ));
            w.write_all(line.as_bytes())?;
        }
        Ok(())
    }
}

/// One origin's headline series, compact: per bin, its start, the address
/// space visible at 50% ([`HEADLINE`]: /24s for IPv4, /64s for IPv6) and
/// the peers seeing the origin, `None` in a null bin (and, for charts, the
/// space seen by at least one full-feed peer ASN); 24 bytes a bin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Series {
    times: Vec<u32>,
    /// The space, `u64::MAX` in a null bin.
    values: Vec<u64>,
    /// The space seen by at least one full-feed peer ASN, likewise.
    any: Vec<u64>,
    peers: Vec<u32>,
}

impl Series {
    /// Add a bin: its start and its values (`None`: a null bin).
    pub fn push(&mut self, time: u32, value: Option<&Aggregate>) {
        self.times.push(time);
        self.values.push(value.map_or(u64::MAX, |v| v.space[HEADLINE]));
        self.any.push(value.map_or(u64::MAX, |v| v.space[0]));
        self.peers.push(value.map_or(0, |v| v.peers));
    }

    /// The headline values, `None` in null bins.
    pub fn values(&self) -> impl Iterator<Item = Option<f64>> + '_ {
        self.values.iter().map(|&v| (v != u64::MAX).then_some(v as f64))
    }

    /// The space seen by at least one full-feed peer ASN, `None` in null
    /// bins.
    pub fn seen_by_one(&self) -> impl Iterator<Item = Option<f64>> + '_ {
        self.any.iter().map(|&v| (v != u64::MAX).then_some(v as f64))
    }

    /// Bins held.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether it holds no bin.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The bins' starts, in the order pushed.
    pub fn times(&self) -> &[u32] {
        &self.times
    }

    /// The series as the outage detector reads it.
    pub fn points(&self) -> Vec<Point> {
        (0..self.times.len()).map(|i| self.point(i)).collect()
    }

    /// Bin `i` as a point.
    fn point(&self, i: usize) -> Point {
        let null = self.values[i] == u64::MAX;
        Point {
            time: self.times[i],
            value: (!null).then_some(self.values[i] as f64),
            peers: (!null).then_some(self.peers[i]),
        }
    }

    /// Add the headline series of `cols`' rows, per (origin, family), to
    /// `series`.
    pub fn collect(series: &mut BTreeMap<(Origin, bool), Series>, cols: &Columns) {
        for i in 0..cols.len() {
            let s = series.entry((cols.origin[i].clone(), cols.v6[i])).or_default();
            s.push(cols.time[i], cols.value[i].as_ref());
        }
    }
}

#[cfg(feature = "parquet")]
pub use self::parquet_out::{arrow_schema, TableWriter};

#[cfg(feature = "parquet")]
mod parquet_out {
    use super::{Columns, THRESHOLD_NAMES};
    use crate::bgp::Origin;
    use crate::error::{Error, Result};
    use arrow_array::builder::{BooleanBuilder, StringBuilder, TimestampSecondBuilder, UInt32Builder, UInt64Builder, UInt8Builder};
    use arrow_array::{ArrayRef, RecordBatch};
    use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
    use parquet::arrow::arrow_writer::ArrowWriterOptions;
    use parquet::arrow::ArrowWriter;
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::properties::WriterProperties;
    use std::io::Write;
    use std::sync::Arc;

    fn invalid(what: impl std::fmt::Display) -> Error {
        Error::io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("timeline Parquet: {what}"),
        ))
    }

    /// The Arrow schema of a timeline table (see the [module
    /// docs](super)).
    ///
    /// ```
    /// let s = mrtsnap::timeline::table::arrow_schema();
    /// assert_eq!(s.fields().len(), 5 + 15 + 3);
    /// assert_eq!(s.field(0).name(), "time");
    /// assert_eq!(s.field(10).name(), "slash64_25");
    /// ```
    pub fn arrow_schema() -> SchemaRef {
        let mut fields = vec![
            Field::new("time", DataType::Timestamp(TimeUnit::Second, Some("UTC".into())), false),
            Field::new("collectors", DataType::Utf8, false),
            Field::new("origin", DataType::UInt32, true),
            Field::new("origin_text", DataType::Utf8, false),
            Field::new("family", DataType::UInt8, false),
        ];
        for t in THRESHOLD_NAMES {
            fields.push(Field::new(format!("prefixes_{t}"), DataType::UInt32, true));
            fields.push(Field::new(format!("slash24_{t}"), DataType::UInt64, true));
            fields.push(Field::new(format!("slash64_{t}"), DataType::UInt64, true));
        }
        fields.push(Field::new("peers", DataType::UInt32, true));
        fields.push(Field::new("full_feed_peer_asns", DataType::UInt32, true));
        fields.push(Field::new("uncertain", DataType::Boolean, false));
        Arc::new(Schema::new(fields))
    }

    /// Writes [`Columns`] as one Parquet table, batch by batch.
    pub struct TableWriter<W: Write + Send> {
        writer: ArrowWriter<W>,
        schema: SchemaRef,
        collectors: String,
    }

    impl<W: Write + Send> TableWriter<W> {
        /// A table of `collectors`' rows into `w`.
        ///
        /// # Errors
        /// When the writer cannot be made.
        pub fn new(w: W, collectors: &str) -> Result<TableWriter<W>> {
            let level = ZstdLevel::try_new(3).map_err(invalid)?;
            let props = WriterProperties::builder().set_compression(Compression::ZSTD(level)).build();
            let schema = arrow_schema();
            let options = ArrowWriterOptions::new().with_properties(props);
            let writer = ArrowWriter::try_new_with_options(w, schema.clone(), options).map_err(invalid)?;
            Ok(TableWriter {
                writer,
                schema,
                collectors: collectors.to_string(),
            })
        }

        /// Write `cols` as one batch.
        ///
        /// # Errors
        /// When writing fails.
        pub fn write(&mut self, cols: &Columns) -> Result<()> {
            if cols.is_empty() {
                return Ok(());
            }
            let n = cols.len();
            let mut time = TimestampSecondBuilder::with_capacity(n).with_timezone("UTC");
            let mut collectors = StringBuilder::with_capacity(n, n * self.collectors.len());
            let mut origin = UInt32Builder::with_capacity(n);
            let mut text = StringBuilder::with_capacity(n, n * 6);
            let mut family = UInt8Builder::with_capacity(n);
            let mut prefixes: Vec<UInt32Builder> = (0..5).map(|_| UInt32Builder::with_capacity(n)).collect();
            let mut s24: Vec<UInt64Builder> = (0..5).map(|_| UInt64Builder::with_capacity(n)).collect();
            let mut s64: Vec<UInt64Builder> = (0..5).map(|_| UInt64Builder::with_capacity(n)).collect();
            let mut peers = UInt32Builder::with_capacity(n);
            let mut ff = UInt32Builder::with_capacity(n);
            let mut uncertain = BooleanBuilder::with_capacity(n);
            for i in 0..n {
                time.append_value(i64::from(cols.time[i]));
                collectors.append_value(&self.collectors);
                match &cols.origin[i] {
                    Origin::Asn(a) => origin.append_value(*a),
                    _ => origin.append_null(),
                }
                text.append_value(cols.origin[i].to_string());
                let v6 = cols.v6[i];
                family.append_value(if v6 { 6 } else { 4 });
                let v = cols.value[i];
                for t in 0..5 {
                    prefixes[t].append_option(v.map(|v| v.prefixes[t]));
                    let (mine, other) = if v6 {
                        (&mut s64[t], &mut s24[t])
                    } else {
                        (&mut s24[t], &mut s64[t])
                    };
                    mine.append_option(v.map(|v| v.space[t]));
                    other.append_null();
                }
                peers.append_option(v.map(|v| v.peers));
                ff.append_option(v.map(|v| v.full_feed_peer_asns));
                uncertain.append_value(cols.uncertain[i]);
            }
            let mut columns: Vec<ArrayRef> = vec![
                Arc::new(time.finish()),
                Arc::new(collectors.finish()),
                Arc::new(origin.finish()),
                Arc::new(text.finish()),
                Arc::new(family.finish()),
            ];
            for t in 0..5 {
                columns.push(Arc::new(prefixes[t].finish()));
                columns.push(Arc::new(s24[t].finish()));
                columns.push(Arc::new(s64[t].finish()));
            }
            columns.push(Arc::new(peers.finish()));
            columns.push(Arc::new(ff.finish()));
            columns.push(Arc::new(uncertain.finish()));
            let batch = RecordBatch::try_new(self.schema.clone(), columns).map_err(invalid)?;
            self.writer.write(&batch).map_err(invalid)
        }

        /// Finish the file: its footer written, the writer given back.
        ///
        /// # Errors
        /// When writing fails.
        pub fn finish(self) -> Result<W> {
            self.writer.into_inner().map_err(invalid)
        }
    }
}
