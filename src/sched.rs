//! Waiting for a result without starving the rayon pool.
//!
//! A job that waits for another job's result on a pool worker must not
//! block: with one worker (or every worker waiting), the job it waits for
//! would never run. [`recv_helping`] is the one wait loop the pipeline and
//! the parallel decoders share: on a pool worker it runs other jobs of the
//! pool while the result is not there, and sleeps on the channel only when
//! the pool has nothing to run; off the pool it blocks.
//!
//! This module imports nothing of the crate, so every layer (decompression
//! included) can use it.

use rayon::Yield;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::Duration;

/// The value sent on `rx`; `None` when the sender is gone without sending
/// (its job panicked or was dropped).
///
/// `idle` is how long a worker sleeps on the channel when the pool has no
/// job for it before it looks for one again; the sleep ends as soon as the
/// value comes, so it bounds only how late a job spawned meanwhile is
/// picked up.
pub(crate) fn recv_helping<T>(rx: &Receiver<T>, idle: Duration) -> Option<T> {
    loop {
        match rx.try_recv() {
            Ok(v) => return Some(v),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => {}
        }
        match rayon::yield_now() {
            Some(Yield::Executed) => {}
            Some(Yield::Idle) => match rx.recv_timeout(idle) {
                Ok(v) => return Some(v),
                Err(RecvTimeoutError::Disconnected) => return None,
                Err(RecvTimeoutError::Timeout) => {}
            },
            None => return rx.recv().ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::sync_channel;

    /// On a one-thread pool, a job waiting for a job spawned after it
    /// finishes: the waiter runs it.
    #[test]
    fn one_worker_does_not_deadlock() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let got = pool.install(|| {
            let (tx, rx) = sync_channel(1);
            rayon::spawn(move || {
                let _ = tx.send(41 + 1);
            });
            recv_helping(&rx, Duration::from_millis(1))
        });
        assert_eq!(got, Some(42));
    }

    /// A sender dropped without sending gives `None`, on and off the pool.
    #[test]
    fn lost_sender_is_none() {
        let (tx, rx) = sync_channel::<u8>(1);
        drop(tx);
        assert_eq!(recv_helping(&rx, Duration::from_millis(1)), None);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let got = pool.install(|| {
            let (tx, rx) = sync_channel::<u8>(1);
            rayon::spawn(move || drop(tx));
            recv_helping(&rx, Duration::from_millis(1))
        });
        assert_eq!(got, None);
    }
}
