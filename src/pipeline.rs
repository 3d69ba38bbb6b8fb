//! Driving decoders over batches: sequentially, or in parallel on rayon with
//! results delivered in input order.

use crate::error::{Error, ErrorKind, Result};
use crate::mrt::{PeerTable, RawRecord, Record};
use crate::report::Report;
use crate::source::{Batch, Batches};
use rayon::Yield;
use std::collections::VecDeque;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

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

/// Map `f` over the batches on the current rayon pool, at most `window`
/// batches in flight, and hand the results to `sink` in input order. Memory
/// is bounded by the window.
///
/// # Performance
/// Cutting batches (framing a mapped file: the first touch of each page, a
/// cache and TLB miss per record header) and the sink (merging chunks) run
/// on the calling thread *while* the pool decodes: this thread cuts batch
/// `k + window` and sinks the result of batch `k` as soon as it is ready.
/// Before, windows were cut, decoded and sunk in turn, and with two threads
/// the snapshot of a mapped file ran no faster than with one (the calling
/// thread's serial part was 37% of all samples). When the calling thread is
/// itself a worker of the pool (`pool.install`), it decodes batches while it
/// waits, so a pool of one thread cannot starve.
pub fn map_ordered<T, F, S>(mut batches: Batches, window: usize, f: F, mut sink: S) -> Result<()>
where
    T: Send,
    F: Fn(&Batch) -> T + Sync,
    S: FnMut(T) -> Result<()>,
{
    let window = window.max(1);
    let f = &f;
    rayon::in_place_scope(|scope| {
        let mut pending: VecDeque<Receiver<T>> = VecDeque::with_capacity(window);
        loop {
            while pending.len() < window {
                let Some(batch) = batches.next() else { break };
                let (tx, rx) = sync_channel(1);
                scope.spawn(move |_| {
                    let _ = tx.send(f(&batch));
                });
                pending.push_back(rx);
            }
            let Some(rx) = pending.pop_front() else { return Ok(()) };
            // A closed channel means the job panicked: the scope re-raises
            // that panic when it ends.
            let Some(r) = wait(&rx) else { return Ok(()) };
            sink(r)?;
        }
    })
}

/// The value sent on `rx`; a pool worker runs other jobs of its pool while
/// it waits. `None` when the sender is gone without sending.
fn wait<T>(rx: &Receiver<T>) -> Option<T> {
    loop {
        match rx.try_recv() {
            Ok(v) => return Some(v),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => {}
        }
        match rayon::yield_now() {
            Some(Yield::Executed) => {}
            Some(Yield::Idle) => match rx.recv_timeout(Duration::from_micros(200)) {
                Ok(v) => return Some(v),
                Err(RecvTimeoutError::Disconnected) => return None,
                Err(RecvTimeoutError::Timeout) => {}
            },
            None => return rx.recv().ok(),
        }
    }
}
