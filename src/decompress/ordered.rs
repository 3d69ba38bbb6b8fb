//! Jobs run on rayon workers and taken back in the order they were started:
//! the shared machinery of the in-memory gzip and zstd decoders.
//!
//! Each job reports on its own one-slot channel, so the front of the queue
//! is always the next one to hand out. Waiting for it from a rayon worker
//! (a caller inside `ThreadPool::install`) runs queued jobs instead of
//! blocking, as [`super::bzip2`] does: with one thread, blocking would
//! deadlock.

use std::collections::VecDeque;
use std::sync::mpsc::{sync_channel, Receiver};

/// A job in flight.
pub(crate) struct Pending<M, T> {
    /// What the caller needs to know about the job (its input range …).
    pub meta: M,
    /// Output bytes the job may hold (its share of the memory budget).
    pub bytes: usize,
    rx: Receiver<Option<T>>,
}

/// Jobs in flight, in order.
pub(crate) struct Ordered<M, T> {
    queue: VecDeque<Pending<M, T>>,
    bytes: usize,
}

impl<M, T: Send + 'static> Ordered<M, T> {
    pub fn new() -> Self {
        Ordered {
            queue: VecDeque::new(),
            bytes: 0,
        }
    }

    /// Jobs in flight.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether no job is in flight.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Output bytes the jobs in flight may hold.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The oldest job.
    pub fn front(&self) -> Option<&Pending<M, T>> {
        self.queue.front()
    }

    /// Start `work` on the current rayon pool. A panic in `work` is reported
    /// as `None`.
    pub fn spawn<F>(&mut self, meta: M, bytes: usize, work: F)
    where
        F: FnOnce() -> T + Send + 'static,
    {
        let (tx, rx) = sync_channel(1);
        rayon::spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).ok();
            let _ = tx.send(r);
        });
        self.bytes = self.bytes.saturating_add(bytes);
        self.queue.push_back(Pending { meta, bytes, rx });
    }

    /// Drop the oldest job without waiting for it (its result, when it
    /// comes, goes nowhere).
    pub fn drop_front(&mut self) -> Option<M> {
        let p = self.queue.pop_front()?;
        self.bytes = self.bytes.saturating_sub(p.bytes);
        Some(p.meta)
    }

    /// Wait for the oldest job and take it out with its result (`None`: the
    /// job panicked or was lost).
    pub fn wait_front(&mut self) -> Option<(M, Option<T>)> {
        let p = self.queue.pop_front()?;
        self.bytes = self.bytes.saturating_sub(p.bytes);
        let r = crate::sched::recv_helping(&p.rx, std::time::Duration::from_millis(1)).flatten();
        Some((p.meta, r))
    }
}

/// An output buffer for a member or frame decoded whole: anonymous memory
/// asked for in huge pages, a `Vec` when mapping fails. A 220 MB member
/// written into fresh 4 KiB pages took ~140 ms more system time end to end
/// than the decoding itself saved, so buffers are also reused ([`Pool`]).
pub(crate) enum Buffer {
    Map(memmap2::MmapMut),
    Vec(Vec<u8>),
}

impl Buffer {
    /// A buffer of at least `len` bytes.
    pub fn new(len: usize) -> Buffer {
        match memmap2::MmapOptions::new().len(len.max(1)).map_anon() {
            Ok(m) => {
                #[cfg(target_os = "linux")]
                let _ = m.advise(memmap2::Advice::HugePage);
                Buffer::Map(m)
            }
            Err(_) => Buffer::Vec(vec![0; len]),
        }
    }

    /// Its size.
    pub fn capacity(&self) -> usize {
        self.bytes().len()
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            Buffer::Map(m) => m,
            Buffer::Vec(v) => v,
        }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            Buffer::Map(m) => m,
            Buffer::Vec(v) => v,
        }
    }
}

/// Buffers kept for reuse, at most `limit` bytes of them.
pub(crate) struct Pool {
    free: Vec<Buffer>,
    limit: usize,
}

impl Pool {
    pub fn new(limit: usize) -> Pool {
        Pool { free: Vec::new(), limit }
    }

    /// A free buffer of at least `len` bytes (the smallest that fits), or a
    /// new one.
    pub fn take(&mut self, len: usize) -> Buffer {
        let best = (0..self.free.len())
            .filter(|&i| self.free[i].capacity() >= len)
            .min_by_key(|&i| self.free[i].capacity());
        match best {
            Some(i) => self.free.swap_remove(i),
            None => Buffer::new(len),
        }
    }

    /// Keep `buf` for later, dropping the largest buffers beyond the limit.
    pub fn give(&mut self, buf: Buffer) {
        self.free.push(buf);
        self.free.sort_by_key(Buffer::capacity);
        while self.free.iter().map(Buffer::capacity).sum::<usize>() > self.limit {
            self.free.pop();
        }
    }
}
