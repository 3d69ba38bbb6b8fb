//! Timeline tables read back: the Parquet files of `mrtsnap timeline
//! --format parquet` and of `mrtsnap batch --timeline`
//! ([`crate::dataset::timeline`]), as rows ([`read_table`],
//! [`read_batches`]) or as the headline series of their origins
//! ([`Headlines`]), for the outage detector.
//!
//! # Series over stored days
//!
//! A batch writes one table per collector and day, each from its own
//! replay, and lists an origin from the first bin that day's replay meets
//! it in; a replay over every file keeps listing an origin once met, with
//! zeros when its routes are gone. [`Headlines`] reads the tables back as
//! that replay's series: per (collectors, origin, family), the bins of
//! every table in time order, and from the origin's first row on, a bin
//! of its collectors in which it has no row is a zero (its routes are
//! gone), or null when that bin is null. Bins no table holds (a day not
//! written, the bins of a day before its first RIB dump) are left out:
//! the detector skips them as null bins. A bin held twice (the same day
//! given twice) is taken once, from the first table read.
//!
//! # Cost
//!
//! 24 bytes per (origin, family) and bin kept ([`Series`]); reading
//! decodes the columns the series need only.

use super::outage::Point;
use super::table::{arrow_schema, Columns, Select, Series};
use super::Aggregate;
use crate::bgp::Origin;
use crate::error::{Error, Result};
use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampSecondType, UInt32Type, UInt64Type, UInt8Type};
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::Path;

fn invalid(what: impl std::fmt::Display) -> Error {
    Error::io(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("timeline Parquet: {what}"),
    ))
}

/// An origin as `origin_text` writes it: an AS number, `{a,b}` for an
/// AS_SET, `-` for none.
fn parse_origin(s: &str) -> Option<Origin> {
    if s == "-" {
        return Some(Origin::None);
    }
    if let Some(members) = s.strip_prefix('{').and_then(|m| m.strip_suffix('}')) {
        let v = members.split(',').map(|a| a.parse().ok()).collect::<Option<Vec<u32>>>()?;
        return Some(Origin::set(v));
    }
    s.parse().ok().map(Origin::Asn)
}

/// Read the timeline table at `path` batch by batch: `each` gets the rows
/// of each run of one `collectors` value, in file order.
///
/// # Errors
/// When the file cannot be read, is not Parquet, or its schema is not a
/// timeline table's ([`arrow_schema()`]); or what `each` returns.
pub fn read_batches(path: &Path, mut each: impl FnMut(&str, &Columns) -> Result<()>) -> Result<()> {
    let file = File::open(path).map_err(Error::io)?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
    let want = arrow_schema();
    let got = builder.schema();
    let same = got.fields().len() == want.fields().len()
        && got
            .fields()
            .iter()
            .zip(want.fields())
            .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
    if !same {
        return Err(invalid(format!("{}: not a timeline table (its columns differ)", path.display())));
    }
    let reader = builder.with_batch_size(1 << 16).build().map_err(invalid)?;
    let mut cols = Columns::default();
    for batch in reader {
        let b = batch.map_err(invalid)?;
        let mut current: Option<String> = None;
        for_each_row(&b, |collectors, row| {
            if current.as_deref() != Some(collectors) {
                if let Some(c) = current.take() {
                    each(&c, &cols)?;
                    cols.clear();
                }
                current = Some(collectors.to_string());
            }
            row.push_to(&mut cols);
            Ok(())
        })?;
        if let Some(c) = current {
            each(&c, &cols)?;
            cols.clear();
        }
    }
    Ok(())
}

/// One row of a stored table.
struct Row {
    time: u32,
    origin: Origin,
    v6: bool,
    value: Option<Aggregate>,
    uncertain: bool,
}

impl Row {
    fn push_to(self, cols: &mut Columns) {
        cols.time.push(self.time);
        cols.origin.push(self.origin);
        cols.v6.push(self.v6);
        cols.value.push(self.value);
        cols.uncertain.push(self.uncertain);
    }
}

/// Decode `b`'s rows, in order, with their `collectors` value.
fn for_each_row(b: &RecordBatch, mut each: impl FnMut(&str, Row) -> Result<()>) -> Result<()> {
    let col = |name: &str| b.column_by_name(name).ok_or_else(|| invalid(format!("no column {name}")));
    let time = col("time")?
        .as_primitive_opt::<TimestampSecondType>()
        .ok_or_else(|| invalid("time"))?;
    let collectors = col("collectors")?.as_string_opt::<i32>().ok_or_else(|| invalid("collectors"))?;
    let origin = col("origin")?.as_primitive_opt::<UInt32Type>().ok_or_else(|| invalid("origin"))?;
    let text = col("origin_text")?.as_string_opt::<i32>().ok_or_else(|| invalid("origin_text"))?;
    let family = col("family")?.as_primitive_opt::<UInt8Type>().ok_or_else(|| invalid("family"))?;
    let u32s = |name: &str| -> Result<_> { col(name)?.as_primitive_opt::<UInt32Type>().ok_or_else(|| invalid(name)) };
    let u64s = |name: &str| -> Result<_> { col(name)?.as_primitive_opt::<UInt64Type>().ok_or_else(|| invalid(name)) };
    let names = super::THRESHOLD_NAMES;
    let prefixes = names.map(|t| u32s(&format!("prefixes_{t}")));
    let s24 = names.map(|t| u64s(&format!("slash24_{t}")));
    let s64 = names.map(|t| u64s(&format!("slash64_{t}")));
    let (peers, ff) = (u32s("peers")?, u32s("full_feed_peer_asns")?);
    let uncertain = col("uncertain")?.as_boolean_opt().ok_or_else(|| invalid("uncertain"))?;
    let prefixes = prefixes.into_iter().collect::<Result<Vec<_>>>()?;
    let s24 = s24.into_iter().collect::<Result<Vec<_>>>()?;
    let s64 = s64.into_iter().collect::<Result<Vec<_>>>()?;
    for i in 0..b.num_rows() {
        let t = u32::try_from(time.value(i)).map_err(|_| invalid("a time outside the range of MRT timestamps"))?;
        let o = if origin.is_valid(i) {
            Origin::Asn(origin.value(i))
        } else {
            parse_origin(text.value(i)).ok_or_else(|| invalid(format!("origin {:?}", text.value(i))))?
        };
        let v6 = match family.value(i) {
            4 => false,
            6 => true,
            f => return Err(invalid(format!("family {f}"))),
        };
        let space = if v6 { &s64 } else { &s24 };
        let value = if peers.is_valid(i) {
            let mut a = Aggregate {
                peers: peers.value(i),
                full_feed_peer_asns: ff.value(i),
                ..Aggregate::default()
            };
            for t in 0..names.len() {
                a.prefixes[t] = prefixes[t].value(i);
                a.space[t] = space[t].value(i);
            }
            Some(a)
        } else {
            None
        };
        let row = Row {
            time: t,
            origin: o,
            v6,
            value,
            uncertain: uncertain.value(i),
        };
        each(collectors.value(i), row)?;
    }
    Ok(())
}

/// The rows of the timeline table at `path`, per run of one `collectors`
/// value, in file order: what [`Columns`] held when it was written.
///
/// # Errors
/// As [`read_batches`].
pub fn read_table(path: &Path) -> Result<Vec<(String, Columns)>> {
    let mut out: Vec<(String, Columns)> = Vec::new();
    read_batches(path, |c, cols| {
        match out.last_mut() {
            Some((last, all)) if last == c => {
                all.time.extend_from_slice(&cols.time);
                all.origin.extend_from_slice(&cols.origin);
                all.v6.extend_from_slice(&cols.v6);
                all.value.extend_from_slice(&cols.value);
                all.uncertain.extend_from_slice(&cols.uncertain);
            }
            _ => out.push((c.to_string(), cols.clone())),
        }
        Ok(())
    })?;
    Ok(out)
}

/// A series' key: the collectors, the origin, whether IPv6.
pub type SeriesKey = (String, Origin, bool);

/// The headline series of stored timeline tables, per (collectors,
/// origin, family); see the [module docs](self).
#[derive(Debug, Default)]
pub struct Headlines {
    select: Select,
    keep: Option<(u32, u32)>,
    /// Per collectors, per (origin, family).
    series: BTreeMap<String, BTreeMap<(Origin, bool), Series>>,
    /// Per collectors: the bins held, and whether each is null.
    bins: HashMap<String, BTreeMap<u32, bool>>,
}

impl Headlines {
    /// No series yet; rows are taken by `select` (origins, families),
    /// and only bins starting within `keep` (inclusive; `None`: all).
    pub fn new(select: Select, keep: Option<(u32, u32)>) -> Headlines {
        Headlines {
            select,
            keep,
            ..Headlines::default()
        }
    }

    /// Add the rows of `collectors` in `cols`.
    pub fn add(&mut self, collectors: &str, cols: &Columns) {
        let bins = self.bins.entry(collectors.to_string()).or_default();
        let series = self.series.entry(collectors.to_string()).or_default();
        for i in 0..cols.len() {
            let t = cols.time[i];
            if self.keep.is_some_and(|(a, b)| t < a || t > b) {
                continue;
            }
            bins.entry(t).or_insert(cols.value[i].is_none());
            let (o, v6) = (&cols.origin[i], cols.v6[i]);
            if !self.select.families.has(v6) || self.select.origins.as_ref().is_some_and(|l| !l.contains(o)) {
                continue;
            }
            series.entry((o.clone(), v6)).or_default().push(t, cols.value[i].as_ref());
        }
    }

    /// Read the table at `path` into the series.
    ///
    /// # Errors
    /// As [`read_batches`].
    pub fn read(&mut self, path: &Path) -> Result<()> {
        read_batches(path, |c, cols| {
            self.add(c, cols);
            Ok(())
        })
    }

    /// Whether no row was taken.
    pub fn is_empty(&self) -> bool {
        self.series.values().all(BTreeMap::is_empty)
    }

    /// The keys of the series, in order.
    pub fn keys(&self) -> impl Iterator<Item = SeriesKey> + '_ {
        self.series
            .iter()
            .flat_map(|(c, m)| m.keys().map(move |(o, v6)| (c.clone(), o.clone(), *v6)))
    }

    /// Each series in key order (collectors, origin, IPv4 first), as the
    /// outage detector reads it: by time, from its first row, filled with
    /// zeros and nulls as the [module docs](self) say. One at a time: the
    /// points of one series are built when it is reached.
    pub fn series(self) -> impl Iterator<Item = (SeriesKey, Vec<Point>)> {
        let bins = self.bins;
        self.series.into_iter().flat_map(move |(c, m)| {
            let held = bins.get(&c).cloned().unwrap_or_default();
            m.into_iter().map(move |((o, v6), s)| {
                let points = fill(&s, &held);
                ((c.clone(), o, v6), points)
            })
        })
    }
}

/// `s` in time order (a bin held twice: the first), then every bin of
/// `bins` from its first on where it has none: a zero, or null.
fn fill(s: &Series, bins: &BTreeMap<u32, bool>) -> Vec<Point> {
    let mut own: Vec<Point> = s.points();
    own.sort_by_key(|p| p.time);
    own.dedup_by_key(|p| p.time);
    let Some(first) = own.first().map(|p| p.time) else { return own };
    let mut out = Vec::with_capacity(bins.len());
    let mut mine = own.into_iter().peekable();
    for (&t, &null) in bins.range(first..) {
        match mine.peek() {
            Some(p) if p.time == t => out.extend(mine.next()),
            _ if null => out.push(Point {
                time: t,
                value: None,
                peers: None,
            }),
            _ => out.push(Point {
                time: t,
                value: Some(0.0),
                peers: Some(0),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::table::{Families, TableWriter};

    fn agg(space: u64, peers: u32) -> Aggregate {
        Aggregate {
            prefixes: [4, 3, 2, 1, 0],
            space: [space + 4, space + 3, space, space / 2, 0],
            peers,
            full_feed_peer_asns: peers / 2,
        }
    }

    fn cols(rows: &[(u32, Origin, bool, Option<Aggregate>)]) -> Columns {
        let mut c = Columns::default();
        for (t, o, v6, v) in rows {
            c.time.push(*t);
            c.origin.push(o.clone());
            c.v6.push(*v6);
            c.value.push(*v);
            c.uncertain.push(v.is_none());
        }
        c
    }

    fn write(dir: &Path, name: &str, collectors: &str, c: &Columns) -> std::path::PathBuf {
        let path = dir.join(name);
        let mut w = TableWriter::new(File::create(&path).unwrap(), collectors).unwrap();
        w.write(c).unwrap();
        w.finish().unwrap();
        path
    }

    fn pt(time: u32, v: Option<(f64, u32)>) -> Point {
        Point {
            time,
            value: v.map(|v| v.0),
            peers: v.map(|v| v.1),
        }
    }

    /// Rows read back as written, AS_SET, no-origin and null rows
    /// included; a table of another schema is refused.
    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let set = Origin::set([7, 3]);
        let day1 = cols(&[
            (0, Origin::Asn(1), false, Some(agg(10, 6))),
            (0, Origin::Asn(1), true, Some(agg(1 << 40, 2))),
            (0, set.clone(), false, Some(agg(1, 1))),
            (0, Origin::None, false, Some(agg(2, 1))),
            (300, Origin::Asn(1), false, None),
        ]);
        let p = write(dir.path(), "a.parquet", "rrc00", &day1);
        assert_eq!(read_table(&p).unwrap(), vec![("rrc00".to_string(), day1)]);
        assert_eq!(parse_origin("{3,7}"), Some(set));
        assert_eq!(parse_origin("{3,x}"), None);
        let other = dir.path().join("b.parquet");
        let snap = crate::Snapshot::default();
        snap.write_parquet(File::create(&other).unwrap()).unwrap();
        let e = read_table(&other).unwrap_err().to_string();
        assert!(e.contains("not a timeline table"), "{e}");
    }

    /// Two days of one collector: an origin gone from the second day's
    /// table is a zero at its non-null bins, null at its null ones; a bin
    /// given twice is taken from the first table; `keep` and the
    /// selection bound what is taken.
    #[test]
    fn headlines_fill_the_days() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (Origin::Asn(1), Origin::Asn(2));
        let day1 = cols(&[
            (0, a.clone(), false, Some(agg(10, 6))),
            (300, a.clone(), false, Some(agg(11, 6))),
            (300, b.clone(), false, Some(agg(20, 3))),
            (300, b.clone(), true, Some(agg(5, 3))),
        ]);
        // The next day starts again at 300 (a copy of that bin, other
        // values) and lists `a` alone; 600 is a null bin.
        let day2 = cols(&[
            (300, a.clone(), false, Some(agg(99, 9))),
            (600, a.clone(), false, None),
            (900, a.clone(), false, Some(agg(12, 5))),
        ]);
        let other = cols(&[(0, b.clone(), false, Some(agg(30, 4)))]);
        let p1 = write(dir.path(), "d1.parquet", "rrc00", &day1);
        let p2 = write(dir.path(), "d2.parquet", "rrc00", &day2);
        let p3 = write(dir.path(), "x.parquet", "route-views2", &other);
        let read = |select: Select, keep: Option<(u32, u32)>| {
            let mut h = Headlines::new(select, keep);
            for p in [&p1, &p2, &p3] {
                h.read(p).unwrap();
            }
            h.series().collect::<Vec<_>>()
        };
        let all = read(
            Select {
                origins: None,
                families: Families::Both,
            },
            None,
        );
        let key = |c: &str, o: &Origin, v6: bool| (c.to_string(), o.clone(), v6);
        assert_eq!(
            all,
            vec![
                (key("route-views2", &b, false), vec![pt(0, Some((30.0, 4)))]),
                (
                    key("rrc00", &a, false),
                    vec![
                        pt(0, Some((10.0, 6))),
                        pt(300, Some((11.0, 6))),
                        pt(600, None),
                        pt(900, Some((12.0, 5)))
                    ]
                ),
                (
                    key("rrc00", &b, false),
                    vec![pt(300, Some((20.0, 3))), pt(600, None), pt(900, Some((0.0, 0)))]
                ),
                (
                    key("rrc00", &b, true),
                    vec![pt(300, Some((5.0, 3))), pt(600, None), pt(900, Some((0.0, 0)))]
                ),
            ]
        );
        let some = read(
            Select {
                origins: Some(vec![b.clone()]),
                families: Families::Ipv6,
            },
            Some((600, 900)),
        );
        assert_eq!(some, vec![]);
        let some = read(
            Select {
                origins: Some(vec![b.clone()]),
                families: Families::Ipv4,
            },
            Some((300, 600)),
        );
        assert_eq!(some, vec![(key("rrc00", &b, false), vec![pt(300, Some((20.0, 3))), pt(600, None)])]);
    }
}
