//! The decompressing producer: a thread that decodes the input, cuts the
//! decoded bytes into batches and hands them over a bounded channel, its
//! batch buffers reused through a small pool.

use super::cut::Cutter;
use super::open::PageRelease;
use super::{Batch, Batches, BatchesInner};
use crate::decompress::{Decode, DecodeError};
use crate::error::{Error, ErrorKind};
use bytes::Bytes;
use std::sync::mpsc::sync_channel;
use std::sync::Arc;

/// Decoded bytes held beyond the batch size before a stream batch is cut.
const CUT_SLACK: usize = 1 << 20;

impl Batches {
    pub(super) fn spawn<F>(batch_size: usize, open: F) -> Batches
    where
        F: FnOnce() -> Box<dyn Decode> + Send + 'static,
    {
        Batches::spawn_releasing(batch_size, None, open)
    }

    /// [`Batches::spawn`] over a decoder reading a mapped compressed file:
    /// the map's pages before [`Decode::input_done_before`] are released as
    /// decoding goes (on a 1.09 GB single-member gzip table, the pages
    /// read and kept would hold 1.39 GB resident).
    pub(super) fn spawn_releasing<F>(batch_size: usize, map: Option<Arc<memmap2::Mmap>>, open: F) -> Batches
    where
        F: FnOnce() -> Box<dyn Decode> + Send + 'static,
    {
        // Two batches in flight: enough to overlap decompression with parsing.
        let (tx, rx) = sync_channel::<Batch>(2);
        std::thread::spawn(move || {
            let mut decoder = open();
            let mut cutter = Cutter::new(batch_size);
            let pool = BufferPool::default();
            let mut buf = pool.take(batch_size + 2 * CUT_SLACK);
            let mut eof = false;
            // A damaged region was skipped: the buffer ends at a break in
            // the decompressed stream, and is cut as if the input ended
            // there; the bytes after the break start a new part.
            let mut brk = false;
            let mut error: Option<Error> = None;
            let mut decoded: u64 = 0;
            // Bytes to hold before cutting: the batch size and 1 MiB of
            // slack for the record that straddles the cut (a batch may come
            // out a little short where a record is larger), more while a
            // single record is larger than that. The bytes left after a cut
            // are copied into a fresh buffer (the batch keeps the old one):
            // holding twice the batch size would make that copy a second pass
            // over every decoded byte; with the slack it is about a quarter.
            let fill = batch_size + CUT_SLACK;
            let mut want = fill;
            let mut released = PageRelease::default();
            loop {
                // Fill to `want` (or to end of input). Decoders hand out
                // chunks (a bzip2 block, up to 1 MiB of a stream) that are
                // copied in once. That copy is ~1% of a bzip2 snapshot's
                // samples (222 MB synthetic RIB); handing blocks over without
                // it would need batches of several buffers, since records
                // cross block boundaries, and every parser takes a batch as
                // one slice, so it stays.
                while !eof && !brk && buf.len() < want {
                    match decoder.next_chunk() {
                        None => eof = true,
                        Some(Ok(chunk)) => {
                            buf.extend_from_slice(chunk);
                            decoded += chunk.len() as u64;
                        }
                        Some(Err(e)) => {
                            if e.resumes() {
                                brk = true;
                            } else {
                                eof = true;
                            }
                            error = Some(decode_error(e, decoded));
                        }
                    }
                }
                if let (Some(m), Some(done)) = (&map, decoder.input_done_before()) {
                    released.release(m, done);
                }
                let ends = eof || brk;
                if buf.is_empty() {
                    if let Some(e) = error.take() {
                        // Empty, so not read as clean (`Cutter::make`).
                        let mut b = cutter.make(Bytes::new(), 0, true, cutter.nothing_cut());
                        b.error = Some(e);
                        b.last = eof;
                        if tx.send(b).is_err() {
                            return;
                        }
                    }
                    if eof {
                        return;
                    }
                    if brk {
                        brk = false;
                        cutter.state.after_break = true;
                    }
                    continue;
                }
                let after = cutter.cut(&buf, ends, brk);
                let mut cut = after.cut;
                if cut == 0 {
                    if ends {
                        cut = buf.len();
                    } else {
                        // A single record larger than the buffer: read more.
                        want = buf.len() * 2;
                        continue;
                    }
                }
                want = fill;
                // The batch keeps the whole buffer, the bytes after the cut
                // as its look-ahead; they are copied to start the next one.
                let window = pool.share(std::mem::take(&mut buf));
                buf = pool.take(batch_size + 2 * CUT_SLACK);
                buf.extend_from_slice(&window[cut..]);
                let mut b = cutter.make(window, cut, ends, after);
                b.window_ends_at_break = brk;
                if ends && buf.is_empty() {
                    b.error = error.take();
                    b.last = eof;
                    if brk {
                        brk = false;
                        cutter.state.after_break = true;
                    }
                }
                if tx.send(b).is_err() {
                    return; // the consumer hung up
                }
                if eof && buf.is_empty() {
                    return;
                }
            }
        });
        Batches(BatchesInner::Stream(rx))
    }
}

/// Batch buffers of a decompressing producer, reused once every batch
/// that refers to one is dropped (a fresh buffer of a batch's size is new
/// memory from the kernel each time: the allocator maps and unmaps blocks
/// that large). On the 222 MB one-member gzip table the snapshot peaks at
/// 42 MB RSS with the pool and 56 MB with fresh buffers, in 324.2 against
/// 332.9 ms (hyperfine, mean of 12, within one sigma); system time is
/// 43 ms either way: the faults of reading the mapped compressed file and
/// releasing its pages, not the batch buffers.
#[derive(Clone, Default)]
struct BufferPool(Arc<std::sync::Mutex<Vec<Vec<u8>>>>);

/// Buffers kept for reuse at most (batches in flight: two in the channel,
/// those being parsed).
const POOLED_BUFFERS: usize = 4;

impl BufferPool {
    /// An empty buffer of at least `capacity` bytes.
    fn take(&self, capacity: usize) -> Vec<u8> {
        let mut v = self.0.lock().ok().and_then(|mut p| p.pop()).unwrap_or_default();
        v.clear();
        v.reserve(capacity);
        v
    }

    /// `buf` as shared bytes that go back to the pool when dropped.
    fn share(&self, buf: Vec<u8>) -> Bytes {
        Bytes::from_owner(Pooled { buf, pool: self.clone() })
    }
}

/// A buffer lent out as [`Bytes`] by a [`BufferPool`].
struct Pooled {
    buf: Vec<u8>,
    pool: BufferPool,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Ok(mut p) = self.pool.0.lock() {
            if p.len() < POOLED_BUFFERS {
                p.push(std::mem::take(&mut self.buf));
            }
        }
    }
}

/// The crate error for a decoder's error (a damaged region, or what ended
/// the input) at decompressed offset `decoded`.
fn decode_error(e: DecodeError, decoded: u64) -> Error {
    let kind = match e.io {
        Some(io) if matches!(io.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied) => ErrorKind::Io(io),
        _ => ErrorKind::Decompress {
            message: Arc::from(e.message),
            end_of_input: e.end_of_input,
            lost: e.lost,
        },
    };
    Error::new(kind, decoded)
}
