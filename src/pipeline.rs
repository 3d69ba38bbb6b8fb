//! Driving decoders over batches: sequentially, or in parallel on rayon with
//! results delivered in input order.

use crate::error::{Error, ErrorKind, Result};
use crate::mrt::{PeerTable, RawRecord, Record};
use crate::report::Report;
use crate::source::{Batch, Batches};
use rayon::prelude::*;
use std::sync::Arc;

/// Walk the records of `batch`, decoding each and handing it to `f` with the
/// PEER_INDEX_TABLE in effect. Framing and decoding errors are counted in
/// `report` and the bad record skipped; with `strict`, the first error is
/// returned instead.
pub fn for_each_record<'b, F>(batch: &'b Batch, report: &mut Report, strict: bool, mut f: F) -> Result<()>
where
    F: FnMut(&RawRecord<'b>, &Record<'b>, Option<&PeerTable>),
{
    let mut peers: Option<Arc<PeerTable>> = batch.peers.clone();
    let fail = |report: &mut Report, e: Error| -> Result<()> {
        if strict {
            return Err(e);
        }
        report.error(e);
        Ok(())
    };
    for raw in batch.records() {
        let raw = match raw {
            Ok(r) => r,
            Err(e) => {
                fail(report, e)?;
                continue;
            }
        };
        report.record(raw.header.mrt_type, raw.header.subtype);
        if !raw.slack.is_empty() {
            report.warn("record-slack-bytes", raw.slack.len() as u64);
        }
        match Record::decode(&raw) {
            Ok(Record::PeerIndexTable(t)) => {
                let t = Arc::new(t);
                f(&raw, &Record::PeerIndexTable(PeerTable::clone(&t)), Some(&t));
                peers = Some(t);
            }
            Ok(rec) => {
                if matches!(rec, Record::Rib(_)) && peers.is_none() {
                    fail(
                        report,
                        Error::new(ErrorKind::MissingPeerIndexTable, raw.offset).in_record(raw.index),
                    )?;
                }
                if matches!(rec, Record::Skipped) {
                    report.warn("skipped-record-type", 1);
                }
                f(&raw, &rec, peers.as_deref());
            }
            Err(e) => fail(report, e)?,
        }
    }
    if let Some(e) = &batch.error {
        fail(report, e.clone())?;
    }
    Ok(())
}

/// Map `f` over the batches on the current rayon pool, `window` batches at a
/// time, and hand the results to `sink` in input order. Memory is bounded
/// by the window.
pub fn map_ordered<T, F, S>(batches: Batches, window: usize, f: F, mut sink: S) -> Result<()>
where
    T: Send,
    F: Fn(&Batch) -> T + Sync,
    S: FnMut(T) -> Result<()>,
{
    let window = window.max(1);
    let mut batches = batches.peekable();
    let mut buf: Vec<Batch> = Vec::with_capacity(window);
    while batches.peek().is_some() {
        buf.clear();
        buf.extend(batches.by_ref().take(window));
        let results: Vec<T> = if buf.len() == 1 {
            buf.iter().map(&f).collect()
        } else {
            buf.par_iter().map(&f).collect()
        };
        for r in results {
            sink(r)?;
        }
    }
    Ok(())
}
