//! Parquet output and input (arrow-rs), in the schema the [module
//! docs](super#parquet-schema) describe.

use super::json::{self, Json};
use super::{builder, DecodeStats, FullFeed, PeerInfo, Snapshot, SourceInfo};
use crate::bgp::{Origin, Prefix};
use crate::error::{Error, Result};
use arrow_array::builder::{BinaryBuilder, ListBuilder, StringBuilder, UInt32Builder, UInt8Builder};
use arrow_array::{Array, ArrayRef, BinaryArray, ListArray, RecordBatch, StringArray, UInt32Array, UInt8Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use std::fmt::Write as _;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::Arc;

/// The schema version written in `mrtsnap.schema`.
pub const SCHEMA_VERSION: &str = "1";
/// Rows per Arrow batch written.
const BATCH_ROWS: usize = 1 << 16;

fn invalid(what: impl std::fmt::Display) -> Error {
    Error::io(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("snapshot Parquet: {what}"),
    ))
}

fn item() -> Field {
    Field::new_list_field(DataType::UInt32, false)
}

/// The Arrow schema of a snapshot's rows.
///
/// ```
/// let s = mrtsnap::snapshot::arrow_schema();
/// assert_eq!(s.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>(),
///     ["prefix", "family", "address", "length", "origin_kind", "origin", "origin_set", "peers", "peer_asns", "full_feed_peers", "peer_ids"]);
/// ```
pub fn arrow_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("prefix", DataType::Utf8, false),
        Field::new("family", DataType::UInt8, false),
        Field::new("address", DataType::Binary, false),
        Field::new("length", DataType::UInt8, false),
        Field::new("origin_kind", DataType::Utf8, false),
        Field::new("origin", DataType::UInt32, true),
        Field::new("origin_set", DataType::List(Arc::new(item())), true),
        Field::new("peers", DataType::UInt32, false),
        Field::new("peer_asns", DataType::UInt32, false),
        Field::new("full_feed_peers", DataType::UInt32, false),
        Field::new("peer_ids", DataType::List(Arc::new(item())), false),
    ]))
}

fn sources_json(sources: &[SourceInfo]) -> String {
    let mut s = String::from("[");
    for (i, src) in sources.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str("{\"file\":");
        json::push_str(&mut s, &src.file);
        s.push_str(",\"collector\":");
        json::push_str(&mut s, &src.collector);
        s.push_str(",\"collector_id\":");
        json::push_opt_str(&mut s, src.collector_id);
        s.push_str(",\"view_name\":");
        json::push_str(&mut s, &src.view_name);
        s.push_str(",\"dump_time\":");
        json::push_opt(&mut s, src.dump_time);
        let st = &src.stats;
        let _ = write!(
            s,
            ",\"stats\":{{\"records\":{},\"rib_records\":{},\"rib_entries\":{}",
            st.records, st.rib_records, st.rib_entries
        );
        for (name, map) in [("errors", &st.errors), ("warnings", &st.warnings)] {
            let _ = write!(s, ",\"{name}\":{{");
            for (j, (k, v)) in map.iter().enumerate() {
                if j > 0 {
                    s.push(',');
                }
                json::push_str(&mut s, k);
                let _ = write!(s, ":{v}");
            }
            s.push('}');
        }
        s.push_str("}}");
    }
    s.push(']');
    s
}

fn peers_json(peers: &[PeerInfo], sources: &[SourceInfo]) -> String {
    let mut s = String::from("[");
    for (i, p) in peers.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{{\"id\":{i},\"source\":{},\"collector\":", p.source);
        json::push_str(&mut s, sources.get(p.source as usize).map_or("", |x| x.collector.as_str()));
        s.push_str(",\"index\":");
        json::push_opt(&mut s, p.index);
        s.push_str(",\"bgp_id\":");
        json::push_opt_str(&mut s, p.bgp_id);
        s.push_str(",\"address\":");
        json::push_opt_str(&mut s, p.addr);
        s.push_str(",\"asn\":");
        json::push_opt(&mut s, p.asn);
        let _ = write!(
            s,
            ",\"ipv4_prefixes\":{},\"ipv6_prefixes\":{},\"full_feed_ipv4\":{},\"full_feed_ipv6\":{}}}",
            p.ipv4_prefixes, p.ipv6_prefixes, p.full_feed_ipv4, p.full_feed_ipv6
        );
    }
    s.push(']');
    s
}

fn parse_sources(j: &Json) -> Result<Vec<SourceInfo>> {
    let counts = |j: &Json| -> std::collections::BTreeMap<String, u64> {
        j.members().iter().filter_map(|(k, v)| Some((k.clone(), v.as_u64()?))).collect()
    };
    j.as_array()
        .iter()
        .map(|s| {
            let st = s.get("stats");
            Ok(SourceInfo {
                file: s.get("file").as_str().unwrap_or("").to_string(),
                collector: s.get("collector").as_str().unwrap_or("").to_string(),
                collector_id: match s.get("collector_id") {
                    Json::Null => None,
                    v => Some(v.as_str().and_then(|x| x.parse().ok()).ok_or_else(|| invalid("bad collector_id"))?),
                },
                view_name: s.get("view_name").as_str().unwrap_or("").to_string(),
                dump_time: s.get("dump_time").as_u64().and_then(|t| u32::try_from(t).ok()),
                stats: DecodeStats {
                    records: st.get("records").as_u64().unwrap_or(0),
                    rib_records: st.get("rib_records").as_u64().unwrap_or(0),
                    rib_entries: st.get("rib_entries").as_u64().unwrap_or(0),
                    errors: counts(st.get("errors")),
                    warnings: counts(st.get("warnings")),
                },
            })
        })
        .collect()
}

fn parse_peers(j: &Json) -> Result<Vec<PeerInfo>> {
    j.as_array()
        .iter()
        .map(|p| {
            let opt_parse = |k: &str| -> Result<Option<String>> {
                match p.get(k) {
                    Json::Null => Ok(None),
                    Json::Str(s) => Ok(Some(s.clone())),
                    _ => Err(invalid(format!("bad peer {k}"))),
                }
            };
            Ok(PeerInfo {
                source: p
                    .get("source")
                    .as_u64()
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| invalid("bad peer source"))?,
                index: p.get("index").as_u64().and_then(|v| u16::try_from(v).ok()),
                bgp_id: opt_parse("bgp_id")?.map(|s| s.parse::<Ipv4Addr>()).transpose().map_err(invalid)?,
                addr: opt_parse("address")?.map(|s| s.parse::<IpAddr>()).transpose().map_err(invalid)?,
                asn: p.get("asn").as_u64().and_then(|v| u32::try_from(v).ok()),
                ipv4_prefixes: p.get("ipv4_prefixes").as_u64().unwrap_or(0),
                ipv6_prefixes: p.get("ipv6_prefixes").as_u64().unwrap_or(0),
                full_feed_ipv4: p.get("full_feed_ipv4").as_bool().unwrap_or(false),
                full_feed_ipv6: p.get("full_feed_ipv6").as_bool().unwrap_or(false),
            })
        })
        .collect()
}

impl Snapshot {
    /// The file key-value metadata written with the rows.
    ///
    /// ```
    /// # let snap = mrtsnap::snapshot::Snapshot::build(&mrtsnap::Source::from_bytes("rrc00/bview.20140530.2200", mrtsnap::snapshot::example_rib()), &Default::default())?;
    /// let md = snap.parquet_metadata();
    /// assert!(md.contains(&("mrtsnap.collector".to_string(), "rrc00".to_string())));
    /// assert!(md.contains(&("mrtsnap.dump_time".to_string(), "1401487200".to_string())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parquet_metadata(&self) -> Vec<(String, String)> {
        let dump_time = self.sources.iter().filter_map(|s| s.dump_time).min();
        vec![
            ("mrtsnap.schema".into(), SCHEMA_VERSION.into()),
            ("mrtsnap.collector".into(), self.collector()),
            ("mrtsnap.dump_time".into(), dump_time.map(|t| t.to_string()).unwrap_or_default()),
            ("mrtsnap.full_feed".into(), self.full_feed().to_string()),
            ("mrtsnap.sources".into(), sources_json(&self.sources)),
            ("mrtsnap.peers".into(), peers_json(&self.peers, &self.sources)),
        ]
    }

    /// Write the snapshot as Parquet (zstd; the schema, metadata and peer
    /// table of the [module docs](super#parquet-schema)). The bytes depend
    /// only on the snapshot.
    ///
    /// ```
    /// use mrtsnap::snapshot::Snapshot;
    /// # let snap = Snapshot::build(&mrtsnap::Source::from_bytes("x", mrtsnap::snapshot::example_rib()), &Default::default())?;
    /// let mut file = Vec::new();
    /// snap.write_parquet(&mut file)?;
    /// let back = Snapshot::from_parquet_bytes(file)?;
    /// assert_eq!(back, snap);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// When writing fails.
    pub fn write_parquet<W: Write + Send>(&self, w: W) -> Result<()> {
        let kv = self.parquet_metadata().into_iter().map(|(k, v)| KeyValue::new(k, v)).collect();
        let level = ZstdLevel::try_new(3).map_err(invalid)?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_key_value_metadata(Some(kv))
            .build();
        let schema = arrow_schema();
        // No embedded Arrow schema: pyarrow would take the schema metadata
        // from it and hide the file's key-value metadata; the Parquet
        // logical types already say uint8/uint32.
        let options = ArrowWriterOptions::new().with_properties(props).with_skip_arrow_metadata(true);
        let mut writer = ArrowWriter::try_new_with_options(w, schema.clone(), options).map_err(invalid)?;
        for start in (0..self.len()).step_by(BATCH_ROWS) {
            let batch = self.record_batch(&schema, start..(start + BATCH_ROWS).min(self.len()))?;
            writer.write(&batch).map_err(invalid)?;
        }
        writer.close().map_err(invalid)?;
        Ok(())
    }

    fn record_batch(&self, schema: &SchemaRef, rows: std::ops::Range<usize>) -> Result<RecordBatch> {
        let n = rows.len();
        let mut prefix = StringBuilder::with_capacity(n, n * 18);
        let mut family = UInt8Builder::with_capacity(n);
        let mut address = BinaryBuilder::with_capacity(n, n * 4);
        let mut length = UInt8Builder::with_capacity(n);
        let mut kind = StringBuilder::with_capacity(n, n * 3);
        let mut origin = UInt32Builder::with_capacity(n);
        let mut origin_set = ListBuilder::new(UInt32Builder::new()).with_field(item());
        let mut peers = UInt32Builder::with_capacity(n);
        let mut peer_asns = UInt32Builder::with_capacity(n);
        let mut full = UInt32Builder::with_capacity(n);
        let mut ids = ListBuilder::new(UInt32Builder::with_capacity(self.peer_ids.values_len().min(n * 64))).with_field(item());
        let mut text = String::new();
        for i in rows {
            let Some(r) = self.row(i) else { break };
            text.clear();
            let _ = write!(text, "{}", r.prefix);
            prefix.append_value(&text);
            family.append_value(if r.prefix.is_v6() { 6 } else { 4 });
            match r.prefix.addr() {
                IpAddr::V4(a) => address.append_value(a.octets()),
                IpAddr::V6(a) => address.append_value(a.octets()),
            }
            length.append_value(r.prefix.len());
            kind.append_value(r.origin.kind().as_str());
            match r.origin {
                super::RowOrigin::Asn(a) => {
                    origin.append_value(a);
                    origin_set.append(false);
                }
                super::RowOrigin::Set(s) => {
                    origin.append_null();
                    origin_set.values().append_slice(s);
                    origin_set.append(true);
                }
                super::RowOrigin::None => {
                    origin.append_null();
                    origin_set.append(false);
                }
            }
            peers.append_value(r.peers());
            peer_asns.append_value(r.peer_asns);
            full.append_value(r.full_feed_peers);
            ids.values().append_slice(r.peer_ids);
            ids.append(true);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(prefix.finish()),
            Arc::new(family.finish()),
            Arc::new(address.finish()),
            Arc::new(length.finish()),
            Arc::new(kind.finish()),
            Arc::new(origin.finish()),
            Arc::new(origin_set.finish()),
            Arc::new(peers.finish()),
            Arc::new(peer_asns.finish()),
            Arc::new(full.finish()),
            Arc::new(ids.finish()),
        ];
        RecordBatch::try_new(schema.clone(), columns).map_err(invalid)
    }

    /// Read a snapshot written by [`Snapshot::write_parquet`] from a file.
    ///
    /// ```
    /// use mrtsnap::snapshot::Snapshot;
    /// # let snap = Snapshot::build(&mrtsnap::Source::from_bytes("x", mrtsnap::snapshot::example_rib()), &Default::default())?;
    /// let path = std::env::temp_dir().join(format!("mrtsnap-doc-{}.parquet", std::process::id()));
    /// snap.write_parquet(std::fs::File::create(&path)?)?;
    /// let back = Snapshot::read_parquet(&path)?;
    /// std::fs::remove_file(&path)?;
    /// assert_eq!(back, snap);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// When the file cannot be read, is not Parquet, or does not hold a
    /// snapshot of a known schema version.
    pub fn read_parquet(path: impl AsRef<Path>) -> Result<Snapshot> {
        let f = std::fs::File::open(path.as_ref()).map_err(Error::io)?;
        read(f)
    }

    /// Read a snapshot written by [`Snapshot::write_parquet`] from memory.
    ///
    /// # Errors
    /// As [`Snapshot::read_parquet`].
    pub fn from_parquet_bytes(data: impl Into<bytes::Bytes>) -> Result<Snapshot> {
        read(data.into())
    }
}

fn column<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> Result<&'a T> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| invalid(format!("missing or mistyped column {name}")))
}

fn list_u32(l: &ListArray, i: usize) -> Result<Vec<u32>> {
    let v = l.value(i);
    let v = v
        .as_any()
        .downcast_ref::<UInt32Array>()
        .ok_or_else(|| invalid("list of non-uint32"))?;
    Ok(v.values().to_vec())
}

fn read<R: parquet::file::reader::ChunkReader + 'static>(input: R) -> Result<Snapshot> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(input).map_err(invalid)?;
    let kv: Vec<(String, String)> = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| kv.iter().map(|k| (k.key.clone(), k.value.clone().unwrap_or_default())).collect())
        .unwrap_or_default();
    let get = |k: &str| kv.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    match get("mrtsnap.schema") {
        Some(SCHEMA_VERSION) => {}
        Some(v) => return Err(invalid(format!("schema version {v}, this reader knows {SCHEMA_VERSION}"))),
        None => return Err(invalid("not an mrtsnap snapshot (no mrtsnap.schema key)")),
    }
    let sources = parse_sources(&Json::parse(get("mrtsnap.sources").unwrap_or("[]")).map_err(invalid)?)?;
    let peers = parse_peers(&Json::parse(get("mrtsnap.peers").unwrap_or("[]")).map_err(invalid)?)?;
    let full_feed: FullFeed = get("mrtsnap.full_feed").unwrap_or("").parse().unwrap_or_default();
    let reader = builder.with_batch_size(BATCH_ROWS).build().map_err(invalid)?;
    let mut rows: Vec<(Prefix, Origin, Vec<u32>)> = Vec::new();
    for batch in reader {
        let b = batch.map_err(invalid)?;
        let family = column::<UInt8Array>(&b, "family")?;
        let address = column::<BinaryArray>(&b, "address")?;
        let length = column::<UInt8Array>(&b, "length")?;
        let kind = column::<StringArray>(&b, "origin_kind")?;
        let origin = column::<UInt32Array>(&b, "origin")?;
        let origin_set = column::<ListArray>(&b, "origin_set")?;
        let ids = column::<ListArray>(&b, "peer_ids")?;
        for i in 0..b.num_rows() {
            let a = address.value(i);
            let addr = match (family.value(i), a.len()) {
                (4, 4) => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(a).map_err(invalid)?)),
                (6, 16) => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(a).map_err(invalid)?)),
                (f, l) => return Err(invalid(format!("family {f} with a {l}-byte address"))),
            };
            let prefix = Prefix::new(addr, length.value(i)).ok_or_else(|| invalid("prefix length out of range"))?;
            let o = match kind.value(i) {
                "asn" if origin.is_valid(i) => Origin::Asn(origin.value(i)),
                "set" if origin_set.is_valid(i) => Origin::Set(list_u32(origin_set, i)?),
                "none" => Origin::None,
                k => return Err(invalid(format!("bad origin_kind {k:?}"))),
            };
            rows.push((prefix, o, list_u32(ids, i)?));
        }
    }
    builder::from_rows(sources, peers, full_feed, rows)
}
