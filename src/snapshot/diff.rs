//! The difference between two snapshots: the prefix-origin pairs that
//! appeared, vanished, or changed peer count from one to the other.
//!
//! Rows come sorted by prefix (family, address, length), then origin. Every
//! format has the same five fields:
//!
//! | field | meaning |
//! |---|---|
//! | `change` | `appeared` (only in the second), `vanished` (only in the first), `changed` (in both, another peer count) |
//! | `prefix` | `ADDRESS/LENGTH` |
//! | `origin` | the origin as in `pairs`: an AS, `{a,b}` for an AS_SET, `-` for none |
//! | `peers_before` | peers carrying the pair in the first snapshot (0 when it appeared) |
//! | `peers_after` | peers carrying it in the second (0 when it vanished) |
//!
//! Text ([`Diff::write_text`]) is tab-separated with that header line;
//! JSON lines ([`Diff::write_jsonl`]) one object per row with those keys;
//! Parquet ([`Diff::write_parquet`], feature `parquet`) one column per field
//! (strings, and `uint32` peer counts).

use super::Snapshot;
use crate::bgp::{Origin, Prefix};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// How a pair differs between the two snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    /// Only in the second snapshot.
    Appeared,
    /// Only in the first snapshot.
    Vanished,
    /// In both, with another peer count.
    Changed,
}

impl Change {
    /// `appeared`, `vanished` or `changed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Appeared => "appeared",
            Change::Vanished => "vanished",
            Change::Changed => "changed",
        }
    }
}

/// One prefix-origin pair that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffRow {
    /// How it differs.
    pub change: Change,
    /// The prefix.
    pub prefix: Prefix,
    /// The origin.
    pub origin: Origin,
    /// Peers carrying the pair in the first snapshot.
    pub peers_before: u32,
    /// Peers carrying the pair in the second snapshot.
    pub peers_after: u32,
}

/// The pairs that differ between two snapshots; see [`Snapshot::diff`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    rows: Vec<DiffRow>,
}

impl Snapshot {
    /// The prefix-origin pairs that appeared, vanished or changed peer count
    /// from `self` to `after` (see the [module docs](crate::snapshot::diff)).
    ///
    /// # Example
    /// ```
    /// use mrtsnap::bgp::Origin;
    /// use mrtsnap::snapshot::{Change, PeerInfo, Snapshot};
    /// let peer = |asn| PeerInfo { source: 0, index: None, bgp_id: None, addr: None, asn: Some(asn), ipv4_prefixes: 0, ipv6_prefixes: 0, full_feed_ipv4: true, full_feed_ipv6: true };
    /// let before = Snapshot::from_rows(vec![peer(1), peer(2)], [
    ///     ("175.45.176.0/24".parse()?, Origin::Asn(131279), vec![0, 1]),
    ///     ("10.0.0.0/8".parse()?, Origin::Asn(7), vec![0]),
    /// ])?;
    /// let after = Snapshot::from_rows(vec![peer(1), peer(2)], [
    ///     ("10.0.0.0/8".parse()?, Origin::Asn(7), vec![0, 1]),
    /// ])?;
    /// let diff = before.diff(&after);
    /// let rows: Vec<_> = diff.rows().iter().map(|r| (r.change, r.prefix.to_string(), r.peers_before, r.peers_after)).collect();
    /// assert_eq!(rows, [
    ///     (Change::Changed, "10.0.0.0/8".to_string(), 1, 2),
    ///     (Change::Vanished, "175.45.176.0/24".to_string(), 2, 0),
    /// ]);
    /// assert!(after.diff(&after).is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn diff(&self, after: &Snapshot) -> Diff {
        let mut pairs: BTreeMap<(Prefix, Origin), (u32, u32)> = BTreeMap::new();
        for (p, o, n) in self.pairs() {
            pairs.entry((p, o)).or_default().0 += n;
        }
        for (p, o, n) in after.pairs() {
            pairs.entry((p, o)).or_default().1 += n;
        }
        let rows = pairs
            .into_iter()
            .filter_map(|((prefix, origin), (peers_before, peers_after))| {
                let change = match (peers_before, peers_after) {
                    (0, _) => Change::Appeared,
                    (_, 0) => Change::Vanished,
                    (a, b) if a != b => Change::Changed,
                    _ => return None,
                };
                Some(DiffRow {
                    change,
                    prefix,
                    origin,
                    peers_before,
                    peers_after,
                })
            })
            .collect();
        Diff { rows }
    }
}

impl Diff {
    /// The rows, sorted by prefix, then origin.
    pub fn rows(&self) -> &[DiffRow] {
        &self.rows
    }

    /// How many pairs differ.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the two snapshots have the same pairs with the same peer
    /// counts.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// How many pairs appeared, vanished and changed.
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |c| self.rows.iter().filter(|r| r.change == c).count();
        (n(Change::Appeared), n(Change::Vanished), n(Change::Changed))
    }

    /// Tab-separated text: the header `change prefix origin peers_before
    /// peers_after`, then one line per row.
    pub fn write_text<W: Write>(&self, mut w: W) -> io::Result<()> {
        writeln!(w, "change\tprefix\torigin\tpeers_before\tpeers_after")?;
        for r in &self.rows {
            writeln!(
                w,
                "{}\t{}\t{}\t{}\t{}",
                r.change.as_str(),
                r.prefix,
                r.origin,
                r.peers_before,
                r.peers_after
            )?;
        }
        w.flush()
    }

    /// One JSON object per row, with the keys of the text header.
    pub fn write_jsonl<W: Write>(&self, mut w: W) -> io::Result<()> {
        for r in &self.rows {
            writeln!(
                w,
                "{{\"change\":\"{}\",\"prefix\":\"{}\",\"origin\":\"{}\",\"peers_before\":{},\"peers_after\":{}}}",
                r.change.as_str(),
                r.prefix,
                r.origin,
                r.peers_before,
                r.peers_after
            )?;
        }
        w.flush()
    }

    /// Parquet (zstd): the columns `change`, `prefix`, `origin` (strings),
    /// `peers_before`, `peers_after` (uint32).
    ///
    /// # Errors
    /// When writing fails.
    #[cfg(feature = "parquet")]
    pub fn write_parquet<W: Write + Send>(&self, w: W) -> crate::Result<()> {
        use arrow_array::builder::{StringBuilder, UInt32Builder};
        use arrow_array::{ArrayRef, RecordBatch};
        use arrow_schema::{DataType, Field, Schema};
        use parquet::arrow::ArrowWriter;
        use parquet::basic::{Compression, ZstdLevel};
        use parquet::file::properties::WriterProperties;
        use std::sync::Arc;

        let invalid =
            |e: &dyn std::fmt::Display| crate::Error::io(io::Error::new(io::ErrorKind::InvalidData, format!("diff Parquet: {e}")));
        let schema = Arc::new(Schema::new(vec![
            Field::new("change", DataType::Utf8, false),
            Field::new("prefix", DataType::Utf8, false),
            Field::new("origin", DataType::Utf8, false),
            Field::new("peers_before", DataType::UInt32, false),
            Field::new("peers_after", DataType::UInt32, false),
        ]));
        let level = ZstdLevel::try_new(3).map_err(|e| invalid(&e))?;
        let props = WriterProperties::builder().set_compression(Compression::ZSTD(level)).build();
        let mut writer = ArrowWriter::try_new(w, schema.clone(), Some(props)).map_err(|e| invalid(&e))?;
        for chunk in self.rows.chunks(1 << 16) {
            let (mut change, mut prefix, mut origin) = (StringBuilder::new(), StringBuilder::new(), StringBuilder::new());
            let (mut before, mut after) = (UInt32Builder::new(), UInt32Builder::new());
            for r in chunk {
                change.append_value(r.change.as_str());
                prefix.append_value(r.prefix.to_string());
                origin.append_value(r.origin.to_string());
                before.append_value(r.peers_before);
                after.append_value(r.peers_after);
            }
            let columns: Vec<ArrayRef> = vec![
                Arc::new(change.finish()),
                Arc::new(prefix.finish()),
                Arc::new(origin.finish()),
                Arc::new(before.finish()),
                Arc::new(after.finish()),
            ];
            let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| invalid(&e))?;
            writer.write(&batch).map_err(|e| invalid(&e))?;
        }
        writer.close().map_err(|e| invalid(&e))?;
        Ok(())
    }
}
