//! Driving decoders over batches: sequentially, or in parallel on rayon with
//! results delivered in input order.

use crate::error::{Error, ErrorKind, Result};
use crate::mrt::{PeerTable, RawRecord, Record};
use crate::report::Report;
use crate::source::{Batch, Batches, Cut, Speculation};
use rayon::Yield;
use std::collections::VecDeque;
use std::sync::mpsc::{channel, sync_channel, Receiver, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Walk the records of `batch`, decoding each and handing it to `f` with the
/// PEER_INDEX_TABLE in effect. Framing and decoding errors are counted in
/// `report` and the bad record skipped; with `strict`, the first error is
/// returned instead.
pub fn for_each_record<'b, F>(batch: &'b Batch, report: &mut Report, strict: bool, f: F) -> Result<()>
where
    F: FnMut(&RawRecord<'b>, &Record<'b>, Option<&PeerTable>),
{
    walk_records(batch, report, strict, f, |_, _| {})
}

/// [`for_each_record`], also telling `on_error` of every error counted:
/// with the record when it was framed but did not decode.
pub fn walk_records<'b, F, E>(batch: &'b Batch, report: &mut Report, strict: bool, mut f: F, mut on_error: E) -> Result<()>
where
    F: FnMut(&RawRecord<'b>, &Record<'b>, Option<&PeerTable>),
    E: FnMut(&Error, Option<&RawRecord<'b>>),
{
    let mut peers: Option<Arc<PeerTable>> = batch.peers.clone();
    // Records are counted by runs of one (type, subtype), added to the
    // report's map when the run ends: at a change of kind, at the end, and
    // before a strict walk stops.
    //
    // # Performance
    // A map entry per record was 2% of the snapshot of the route-views.jinx
    // RIB (778M instructions, callgrind): every record of a RIB is a run.
    let mut run = RecordRun::default();
    let mut fail = |report: &mut Report, run: &mut RecordRun, e: Error, raw: Option<&RawRecord<'b>>| -> Result<()> {
        if strict {
            run.flush(report);
            return Err(e);
        }
        on_error(&e, raw);
        report.error(e);
        Ok(())
    };
    let mut place: Result<Record<'b>> = Ok(Record::Skipped);
    for raw in batch.records() {
        let raw = match raw {
            Ok(r) => r,
            Err(e) => {
                fail(report, &mut run, e, None)?;
                continue;
            }
        };
        run.count(report, raw.header.mrt_type, raw.header.subtype);
        if !raw.slack.is_empty() {
            report.warn("record-slack-bytes", raw.slack.len() as u64);
        }
        // Decoded into one place reused record after record and matched by
        // reference: moving a decoded record (544 bytes) copied it whole.
        // `Record::decode_into` for every record: the snapshot of the
        // route-views.jinx RIB 1,030M -> 1,014M instructions, stats on the
        // RIS 2016 updates file ×4 85.3M -> 84.3M, against decoding only
        // BGP4MP records in place (callgrind).
        Record::decode_into(&raw, &mut place);
        match &place {
            Ok(rec @ Record::PeerIndexTable(t)) => {
                let t = Arc::new(t.clone());
                f(&raw, rec, Some(&t));
                peers = Some(t);
            }
            Ok(rec) => {
                if matches!(rec, Record::Rib(_)) && peers.is_none() {
                    fail(
                        report,
                        &mut run,
                        Error::new(ErrorKind::MissingPeerIndexTable, raw.offset).in_record(raw.index),
                        Some(&raw),
                    )?;
                }
                if matches!(rec, Record::Skipped) {
                    report.warn("skipped-record-type", 1);
                }
                f(&raw, rec, peers.as_deref());
            }
            Err(e) => fail(report, &mut run, e.clone(), Some(&raw))?,
        }
    }
    run.flush(report);
    if let Some(e) = &batch.error {
        fail(report, &mut run, e.clone(), None)?;
    }
    Ok(())
}

/// A run of records of one (type, subtype) not yet added to a report.
#[derive(Default)]
struct RecordRun {
    key: (u16, u16),
    n: u64,
}

impl RecordRun {
    #[inline]
    fn count(&mut self, report: &mut Report, mrt_type: u16, subtype: u16) {
        if self.key != (mrt_type, subtype) {
            self.flush(report);
            self.key = (mrt_type, subtype);
        }
        self.n += 1;
    }

    fn flush(&mut self, report: &mut Report) {
        if self.n > 0 {
            report.count_records(self.key.0, self.key.1, self.n);
            self.n = 0;
        }
    }
}

/// Damage found inside records that decoded (a broken entry, a prefix
/// running past its block, a treat-as-withdraw attribute), collected while
/// [`for_each_record`] walks a batch, whose report it cannot reach.
/// Every command counts it the same way: the first damage of each record
/// is an error, like a record skipped, and with `strict` the first one
/// stops the walk.
#[derive(Debug)]
pub struct RecordDamage {
    strict: bool,
    report: Report,
    first: Option<Error>,
}

impl RecordDamage {
    /// Nothing noted yet.
    pub fn new(strict: bool) -> RecordDamage {
        RecordDamage {
            strict,
            report: Report::default(),
            first: None,
        }
    }

    /// Note the first damage of one record, if any.
    #[inline]
    pub fn note(&mut self, e: Option<Error>) {
        if let Some(e) = e {
            self.noted(e);
        }
    }

    #[cold]
    fn noted(&mut self, e: Error) {
        if self.strict {
            self.first.get_or_insert(e);
        } else {
            self.report.error(e);
        }
    }

    /// Add what was noted to `report` (errors kept in input order) and
    /// return the walk's result: with `strict`, the first damage noted
    /// comes before any error the walk stopped at (the walk stops at its
    /// first error, so every record noted came before it).
    pub fn finish(self, walk: Result<()>, report: &mut Report) -> Result<()> {
        if let Some(e) = self.first {
            return Err(e);
        }
        if self.report.total_errors() > 0 {
            report.merge(self.report);
            report.first_errors.sort_by_key(Error::offset);
        }
        walk
    }
}

/// Map `f` over the batches on the current rayon pool, at most `window`
/// batches in flight, and hand the results to `sink` in input order. Memory
/// is bounded by the window.
///
/// Batches of an uncompressed input in memory (a map) are cut on the pool
/// too, speculatively ([`Speculation`]): the batches are the same as a
/// sequential cutter's, and so is the output. Behind the sink, the pages
/// of a map that are consumed are released, so that a map's resident
/// memory stays bounded by the window too.
///
/// # Performance
/// Cutting batches (framing a mapped file: the first touch of each page, a
/// cache and TLB miss per record header) is the part of the pipeline that
/// runs in order unless it is speculated. From a stream (decompression), batches are cut on the
/// decompressing thread and arrive in order; the sink (merging chunks) runs
/// on the calling thread *while* the pool decodes: this thread takes batch
/// `k + window` and sinks the result of batch `k` as soon as it is ready.
/// From memory, the cutting itself runs as jobs on the pool, each from a
/// byte offset, and the calling thread only checks that each batch starts
/// where the one before ended, starts its decoding, and sinks. With two
/// threads, the CLI's snapshot of a mapped file cut in order runs at
/// 1.2–1.4× one thread's speed; cut speculatively, at the figures in
/// `ARCHITECTURE.md` ("Measurements behind decisions"). When the calling thread is itself a worker of the pool
/// (`pool.install`), it runs jobs while it waits, so a pool of one thread
/// cannot starve.
pub fn map_ordered<T, F, S>(batches: Batches, window: usize, f: F, mut sink: S) -> Result<()>
where
    T: Send,
    F: Fn(&Batch) -> T + Sync,
    S: FnMut(T) -> Result<()>,
{
    let window = window.max(1);
    let f = &f;
    let mut batches = match batches.speculation() {
        Ok(spec) => return map_speculative(spec, window, f, &mut sink),
        Err(batches) => batches,
    };
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
            let Some(r) = crate::sched::recv_helping(&rx, Duration::from_micros(200)) else {
                return Ok(());
            };
            sink(r)?;
        }
    })
}

/// [`map_ordered`] over an input in memory: cut jobs (speculative) and
/// decode jobs on the pool; on the calling thread, each cut is verified in
/// order ([`Speculation::accept`]), its batch handed to a decode job, and
/// the results sunk in order. At most `window` cuts and `window` decodes in
/// flight: memory (results, and pages of a map touched ahead of the sink)
/// stays bounded by the window.
fn map_speculative<T, F, S>(mut spec: Speculation, window: usize, f: &F, sink: &mut S) -> Result<()>
where
    T: Send,
    F: Fn(&Batch) -> T + Sync,
    S: FnMut(T) -> Result<()>,
{
    let count = spec.count();
    rayon::in_place_scope(|scope| {
        // Each job sends its result on its own channel, then a wake-up here.
        let (wake, woken) = channel::<()>();
        let mut cuts: VecDeque<(Receiver<Option<Cut>>, Slot<'_>)> = VecDeque::with_capacity(window);
        let mut decodes: VecDeque<(u64, Receiver<T>, Slot<'_>)> = VecDeque::with_capacity(window);
        let (mut launched, mut verified) = (0usize, 0usize);
        loop {
            while launched < count && cuts.len() < window {
                let job = spec.job(launched);
                let (tx, rx) = sync_channel(1);
                let wake = wake.clone();
                let slot = spawn_claimable(
                    scope,
                    Box::new(move || {
                        let _ = tx.send(job());
                        let _ = wake.send(());
                    }),
                );
                cuts.push_back((rx, slot));
                launched += 1;
            }
            // The oldest decode, when done, goes to the sink.
            if let Some((end, rx, _)) = decodes.front() {
                match rx.try_recv() {
                    Ok(r) => {
                        let end = *end;
                        decodes.pop_front();
                        sink(r)?;
                        spec.release(end);
                        continue;
                    }
                    // The job panicked: the scope re-raises it.
                    Err(TryRecvError::Disconnected) => return Ok(()),
                    Err(TryRecvError::Empty) => {}
                }
            }
            // The oldest cut, when done, is verified and its batch decoded.
            if decodes.len() < window {
                if let Some((rx, _)) = cuts.front() {
                    match rx.try_recv() {
                        Ok(cut) => {
                            cuts.pop_front();
                            if let Some(batch) = spec.accept(verified, cut) {
                                let end = batch.offset + batch.data.len() as u64;
                                let (tx, rx) = sync_channel(1);
                                let wake = wake.clone();
                                let slot = spawn_claimable(
                                    scope,
                                    Box::new(move || {
                                        let _ = tx.send(f(&batch));
                                        let _ = wake.send(());
                                    }),
                                );
                                decodes.push_back((end, rx, slot));
                            }
                            verified += 1;
                            continue;
                        }
                        Err(TryRecvError::Disconnected) => return Ok(()),
                        Err(TryRecvError::Empty) => {}
                    }
                }
            }
            if cuts.is_empty() && decodes.is_empty() && launched >= count {
                return Ok(());
            }
            // Nothing ready: run a job of the pool, or wait for one to end.
            // The timeout only matters when a job panicked (it sends no
            // wake-up; its closed channel is seen above).
            // This thread takes a job no worker has started: the decode the
            // sink waits for first, then the cuts that feed the decodes,
            // then the rest.
            //
            // # Performance
            // On the pool this took whatever `rayon::yield_now` popped (the
            // job spawned last): while it decoded a batch far ahead, no cut
            // was verified and no decode spawned, and the other worker ran
            // out of jobs (idle 18% of two pinned cores on jinx ×10, `perf
            // sched`; 10% after). Two pinned cores: jinx ×10 245 -> 232 ms,
            // full-feed ×10 101 -> 94 ms (hyperfine, same bytes).
            let claimed =
                decodes.front().is_some_and(|d| claim(&d.2)) || cuts.iter().any(|c| claim(&c.1)) || decodes.iter().any(|d| claim(&d.2));
            if !claimed {
                match rayon::yield_now() {
                    Some(Yield::Executed) => {}
                    Some(Yield::Idle) => {
                        let _ = woken.recv_timeout(Duration::from_micros(200));
                    }
                    None => {
                        let _ = woken.recv_timeout(Duration::from_millis(5));
                    }
                }
            }
        }
    })
}

/// A job spawned on the pool that another thread may run instead, if it
/// takes it first.
type Slot<'s> = Arc<Mutex<Option<Box<dyn FnOnce() + Send + 's>>>>;

/// Spawn `work` on `scope` as a job that [`claim`] can take over.
///
/// # Performance
/// A caller off the pool (a library user's thread; the CLI runs its
/// commands on a pool worker, so that `--threads N` is N busy threads) has
/// little to do but wait while the pool cuts and decodes; taking over jobs
/// keeps it busy.
fn spawn_claimable<'s>(scope: &rayon::Scope<'s>, work: Box<dyn FnOnce() + Send + 's>) -> Slot<'s> {
    let slot: Slot<'s> = Arc::new(Mutex::new(Some(work)));
    let mine = Arc::clone(&slot);
    scope.spawn(move |_| {
        claim(&mine);
    });
    slot
}

/// Run the job in `slot` here unless another thread has taken it; whether
/// it ran here.
fn claim(slot: &Slot<'_>) -> bool {
    let work = match slot.lock() {
        Ok(mut w) => w.take(),
        Err(_) => None,
    };
    match work {
        Some(w) => {
            w();
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::mrt;
    use crate::Source;

    /// Records are counted by (type, subtype) exactly, across runs, errors
    /// inside and between them and batch edges; with `strict`, every record
    /// up to the first error is counted.
    #[test]
    fn counts_records_by_kind_in_runs() {
        // OSPF and IS-IS records are skipped without error; an empty BGP4MP record
        // (two bytes) is framed, counted, and does not decode.
        let kinds = [(11, 0), (11, 0), (16, 4), (11, 0), (32, 0), (32, 0), (16, 4), (16, 4), (11, 0)];
        let data: Vec<u8> = kinds.iter().flat_map(|&(t, s)| mrt(1000, t, s, &[0, 1])).collect();
        let mut want = std::collections::BTreeMap::new();
        for &k in &kinds {
            *want.entry(k).or_insert(0u64) += 1;
        }
        for size in [1 << 10, 1 << 20] {
            let mut report = Report::default();
            for batch in Source::from_bytes("x", data.clone()).batches(size) {
                for_each_record(&batch, &mut report, false, |_, _, _| {}).unwrap();
            }
            assert_eq!(report.records, want, "size {size}: {:?}", report.first_errors);
            assert_eq!(report.total_errors(), 3);
        }
        let mut report = Report::default();
        let mut seen = 0;
        let mut batches = Source::from_bytes("x", data).batches(1 << 20);
        let batch = batches.next().unwrap();
        assert!(for_each_record(&batch, &mut report, true, |_, _, _| seen += 1).is_err());
        assert_eq!(seen, 2);
        assert_eq!(report.records, [((11, 0), 2), ((16, 4), 1)].into_iter().collect());
    }
}
