//! Waiting on a channel without starving the rayon pool.
//!
//! A pool worker that blocks on a channel takes a thread from the pool; when
//! what it waits for is itself a job of that pool (a decompressed block, a
//! decoded batch), every worker can end up waiting and nothing runs. A worker
//! therefore runs other jobs of its pool while it waits; a thread outside
//! any pool just blocks.

use rayon::Yield;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::Duration;

/// The value sent on `rx`; a pool worker runs other jobs of its pool while
/// it waits. `None` when the sender is gone without sending.
pub(crate) fn wait<T>(rx: &Receiver<T>) -> Option<T> {
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
