//! Input sources: files read whole, mapped or through a decompressor,
//! streams and buffers in memory, all cut into [`Batch`]es of whole
//! records.
//!
//! A batch is one contiguous buffer that starts and ends on record
//! boundaries. From an uncompressed input in memory (a map or a buffer) it
//! is a zero-copy slice of it (a [`Bytes`] that keeps the input alive); from
//! a decompressor it is a freshly filled buffer, the partial record at its
//! end carried into the next one. Either way it keeps the bytes after it
//! that the cutter saw, as read-only look-ahead for framing (see
//! [`Batch::records`]). Memory stays bounded by a few batches whatever the
//! decoded size: decompression runs on its own thread and hands batches over
//! a bounded channel, so parsing overlaps decompression and a slow consumer
//! holds the producer back. gzip members and zstd frames in memory, and
//! bzip2 blocks from any input, are decoded in parallel on the rayon pool, a
//! bounded number in flight (see [`crate::decompress`]).
//!
//! The parts: `open` (opening inputs, the memory map and the release of its
//! pages: the only `unsafe` here), `cut` (sequential cutting), `speculate`
//! ([`Speculation`]: parallel cutting of an uncompressed input in memory)
//! and `producer` (the decompressing thread and its buffer pool).

mod cut;
mod open;
mod producer;
mod speculate;

pub use crate::decompress::Compression;
pub use speculate::{Cut, Speculation};

use crate::decompress::{self, DecodeError, FailedDecoder};
use crate::error::Error;
use crate::mrt::framing::FrameState;
use crate::mrt::PeerTable;
use bytes::Bytes;
use cut::{Cutter, MemoryCutter};
use open::{annotate, PageRelease};
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::sync::Arc;

/// Default batch size: large enough to amortise per-batch work, small
/// enough that a few in flight per thread stay cache- and memory-friendly.
///
/// # Performance
/// 4 MiB before: a batch and the rows decoded from it outgrew a core's
/// 2 MiB L2, and on two cores the thread that merges in order waited on
/// decodes of that length. With 1 MiB (medians of alternated runs, 2-core
/// EPYC): the snapshot of the route-views.jinx RIB ×10 401 -> 361 ms on one
/// pinned core, 241 -> 219 ms on two, peak RSS 87 -> 48 MiB; `dump` of the
/// PCH 2015 updates ×10 201 -> 172 ms on two; `stats`, the full-feed
/// tables and the bzip2, gzip and zstd inputs within 3%.
pub const DEFAULT_BATCH_SIZE: usize = 1 << 20;

/// Where the bytes of a source come from.
enum Kind {
    /// Whole input in memory (a map or a buffer).
    Memory(Bytes),
    /// A regular file read through a decompressor on a thread (opened
    /// again for each walk).
    File(PathBuf, Compression),
    /// Standard input, a pipe, a FIFO, a socket or a device: opened once,
    /// its first bytes (the format sniffed from them) put back in front of
    /// the rest. It can be walked once.
    Stream(std::sync::Mutex<Option<Box<dyn Read + Send>>>),
}

/// An MRT input.
///
/// # Which constructor
///
/// - [`Source::open`] is safe and takes any path. A regular gzip or zstd
///   file is read whole into memory: its members or frames are then decoded
///   in parallel on the rayon pool, exactly as from a map (16 gzip members
///   decoding to 109 MB, cut into batches on a pool of two threads: 74 ms,
///   146 ms when streamed; one member of a RIS bview decoding to 6.9 MB:
///   8.7 ms, 8.0 ms streamed, since a member that small is decoded whole
///   before its first batch). A compressed file
///   is several times smaller than what it decodes to, and the batches
///   decoded from it are a few MiB at a time, so holding it costs a
///   fraction of the decoded size. A plain file is read in batches through
///   a thread, memory bounded by a few batches: read whole it would cost
///   its full size, and its fast path is the map. bzip2 and xz are decoded
///   from a stream on any input (bzip2 blocks in parallel), so reading them
///   whole would gain nothing.
/// - [`Source::open_mmap`] maps plain, gzip and zstd files. It is an
///   `unsafe fn` because a mapped file that another process truncates or
///   rewrites changes or faults under the `&[u8]` the parser holds, which
///   no safe function can rule out (ripgrep's `MmapChoice::auto` is
///   `unsafe` for the same reason). What it adds over `open`: speculative
///   parallel cutting of a plain file ([`Batches::speculation`]) without
///   reading it into memory first, and pages released behind the reader
///   (`madvise(MADV_DONTNEED)`), so that resident memory follows the
///   batches in flight rather than the file size. The command line uses
///   it, with a SIGBUS handler for a file that shrinks under the map.
/// - [`Source::from_bytes`] takes bytes already in memory (any format);
///   `Source::from_bytes(name, std::fs::read(path)?)` is the safe way to
///   cut a plain file speculatively, at the cost of holding all of it.
/// - [`Source::from_reader`] reads anything that implements [`Read`] once,
///   memory bounded by a few batches.
pub struct Source {
    name: String,
    kind: Kind,
    compression: Compression,
    size: Option<u64>,
    /// The map behind a `Kind::Memory` of a mapped file, to release pages
    /// already decoded ([`Speculation::release`]).
    map: Option<Arc<memmap2::Mmap>>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("name", &self.name)
            .field("compression", &self.compression)
            .finish()
    }
}

impl Source {
    /// The name (path) of the input.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The compression detected.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Size of the input as stored (compressed), when known.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// Whether the whole decoded input is in memory (an uncompressed map or
    /// buffer): its batches are slices of it and can be cut speculatively.
    pub fn is_in_memory(&self) -> bool {
        matches!(self.kind, Kind::Memory(_)) && self.compression == Compression::None
    }

    /// Cut the input into batches of about `batch_size` bytes.
    pub fn batches(&self, batch_size: usize) -> Batches {
        let batch_size = batch_size.max(1 << 10);
        match &self.kind {
            Kind::Memory(b) if self.compression == Compression::None => Batches(BatchesInner::Memory(MemoryCutter {
                data: b.clone(),
                pos: 0,
                cutter: Cutter::new(batch_size),
                map: self.map.clone(),
            })),
            Kind::Memory(b) => {
                let comp = self.compression;
                let b = b.clone();
                let map = self.map.clone();
                Batches::spawn_releasing(batch_size, self.map.clone(), move || {
                    let mut behind = PageRelease::default();
                    decompress::memory_decoder_scanned(comp, b, decompress::Options::default(), |end| {
                        if let Some(m) = &map {
                            behind.release(m, end as u64);
                        }
                    })
                })
            }
            Kind::File(path, comp) => {
                let (path, comp) = (path.clone(), *comp);
                let name = self.name.clone();
                Batches::spawn(batch_size, move || match File::open(&path) {
                    Ok(f) => comp.decoder(f),
                    Err(e) => Box::new(FailedDecoder(Some(DecodeError::io(annotate(e, &name), 0)))),
                })
            }
            Kind::Stream(reader) => {
                let taken = reader.lock().unwrap_or_else(|e| e.into_inner()).take();
                let (comp, name) = (self.compression, self.name.clone());
                Batches::spawn(batch_size, move || match taken {
                    Some(r) => comp.decoder(r),
                    None => {
                        let e = std::io::Error::other(format!("{name}: a stream (standard input, a pipe) can be read only once"));
                        Box::new(FailedDecoder(Some(DecodeError::io(e, 0))))
                    }
                })
            }
        }
    }
}

/// A run of whole MRT records, with what is needed to decode it alone.
#[derive(Clone, Debug)]
pub struct Batch {
    /// The bytes: whole records (and any damage between them).
    pub data: Bytes,
    /// Absolute offset of `data[0]` in the decompressed input.
    pub offset: u64,
    /// Index of the first record.
    pub first_record: u64,
    /// Framing state at the start of the batch.
    pub state: FrameState,
    /// The PEER_INDEX_TABLE in effect at the start of the batch.
    pub peers: Option<Arc<PeerTable>>,
    /// Whether this batch ends the input.
    pub last: bool,
    /// An error after this batch: a damaged region of the compressed
    /// input that was skipped (the next batch starts after it, and its
    /// first bytes may lie anywhere inside a record; `last` is false), or
    /// what ended the input (a truncated compressed stream, an I/O error).
    pub error: Option<Error>,
    /// `data` followed by the bytes after it that the cutter framed it with:
    /// the rest of an input in memory (a slice of the same buffer), the
    /// rest of the decoded buffer of a stream (the buffer the batch keeps
    /// anyway). Read-only look-ahead for [`Batch::records`].
    window: Bytes,
    /// `window` runs to the end of the input, or (with `window_ends_at_break`)
    /// to a break in the decompressed stream.
    window_ends_input: bool,
    /// `window` ends where a damaged compressed region was skipped.
    window_ends_at_break: bool,
    /// The cutter framed every record of `data` by its declared length
    /// alone (no damage, no slack): [`Batch::records`] reads them so.
    clean: bool,
}

impl Batch {
    /// The records of the batch: exactly those (and the framing errors) of
    /// one walk over the whole input. Where a record ends may depend on the
    /// bytes after the batch (the next header, or a candidate header and the
    /// record after it when resynchronising), so they are framed over the
    /// batch's look-ahead as well, as the cutter framed them
    /// ([`crate::mrt::Records::batch`]).
    pub fn records(&self) -> crate::mrt::Records<'_> {
        crate::mrt::Records::batch(
            &self.window,
            self.data.len(),
            self.window_ends_input,
            self.offset,
            self.first_record,
            self.state,
        )
        .ending_at_break(self.window_ends_at_break)
        .framed_clean(self.clean)
    }
}

/// Iterator over the batches of a [`Source`].
pub struct Batches(BatchesInner);

/// How the batches are produced.
enum BatchesInner {
    /// Cutting a buffer in memory.
    Memory(MemoryCutter),
    /// Receiving batches from a decompressing thread.
    Stream(Receiver<Batch>),
}

impl Batches {
    /// Speculative parallel cutting ([`Speculation`]) of these batches when
    /// they are cut from an uncompressed input in memory (a map or a
    /// buffer); otherwise the batches themselves back.
    pub fn speculation(self) -> std::result::Result<Speculation, Batches> {
        match self.0 {
            BatchesInner::Memory(m) => Ok(Speculation::new(m)),
            other => Err(Batches(other)),
        }
    }
}

impl Iterator for Batches {
    type Item = Batch;
    fn next(&mut self) -> Option<Batch> {
        match &mut self.0 {
            BatchesInner::Memory(m) => m.next(),
            // From a pool worker (a caller iterating inside `par_iter`), the
            // decompressor's jobs on the same pool must still run.
            BatchesInner::Stream(rx) => crate::sched::recv_helping(rx, std::time::Duration::from_micros(200)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use std::io::Write;

    fn records(n: u32) -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..n {
            let body = vec![i as u8; (i % 50 + 8) as usize];
            v.extend_from_slice(&(1000 + i).to_be_bytes());
            v.extend_from_slice(&[0, 16, 0, 4]);
            v.extend_from_slice(&(body.len() as u32).to_be_bytes());
            v.extend_from_slice(&body);
        }
        v
    }

    fn collect(src: &Source, bs: usize) -> (Vec<(u64, u64, usize)>, usize) {
        let mut out = Vec::new();
        let mut n = 0;
        for b in src.batches(bs) {
            for r in b.records() {
                let r = r.unwrap();
                out.push((r.index, r.offset, r.body.len()));
            }
            n += 1;
        }
        (out, n)
    }

    #[test]
    fn batches_agree_across_sizes_and_compressions() {
        let data = records(3000);
        let reference = collect(&Source::from_bytes("m", data.clone()), 1 << 30).0;
        assert_eq!(reference.len(), 3000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data[..1000]).unwrap();
        let mut gz = gz.finish().unwrap();
        let mut gz2 = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz2.write_all(&data[1000..]).unwrap();
        gz.extend(gz2.finish().unwrap());
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(&data).unwrap();
        let bz = bz.finish().unwrap();
        let zs = zstd::encode_all(&data[..], 1).unwrap();
        for bs in [1 << 10, 5000, 1 << 16] {
            let (m, n) = collect(&Source::from_bytes("m", data.clone()), bs);
            assert_eq!(m, reference);
            assert!(n > 1);
            for c in [&gz, &bz, &zs] {
                assert_eq!(collect(&Source::from_bytes("c", c.clone()), bs).0, reference);
            }
        }
    }

    /// Run every speculative job here, in order, and count the batches
    /// that had to be cut again.
    fn speculate(data: Vec<u8>, bs: usize) -> (Vec<(u64, u64, usize)>, usize) {
        let Ok(mut spec) = Source::from_bytes("m", data).batches(bs).speculation() else {
            panic!("a buffer in memory speculates")
        };
        let mut out = Vec::new();
        for k in 0..spec.count() {
            let cut = spec.job(k)();
            if let Some(b) = spec.accept(k, cut) {
                out.extend(b.records().filter_map(|r| r.ok()).map(|r| (r.index, r.offset, r.body.len())));
            }
        }
        (out, spec.redone())
    }

    #[test]
    fn speculation_holds_on_clean_input() {
        // Timestamps one second apart: each guess assumes its first
        // record's own as the last good one, and must converge.
        let data = records(3000);
        let reference = collect(&Source::from_bytes("m", data.clone()), 1 << 30).0;
        for bs in [1 << 10, 5000, 1 << 16] {
            let (got, redone) = speculate(data.clone(), bs);
            assert_eq!(got, reference, "batch {bs}");
            assert_eq!(redone, 0, "batch {bs}");
        }
        // Garbage near a guess: at most the batches around it are cut again.
        let mut bad = data.clone();
        bad.splice(5000..5000, [0xffu8; 9]);
        let (got, redone) = speculate(bad.clone(), 1 << 10);
        assert!(redone <= 3, "{redone}");
        let src = Source::from_bytes("m", bad);
        let want: Vec<_> = src
            .batches(1 << 30)
            .flat_map(|b| {
                b.records()
                    .filter_map(|r| r.ok())
                    .map(|r| (r.index, r.offset, r.body.len()))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn truncated_gzip_keeps_what_came_before() {
        let data = records(2000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        let gz = gz.finish().unwrap();
        let cut = gz[..gz.len() / 2].to_vec();
        let src = Source::from_bytes("t", cut);
        let mut ok = 0;
        let mut errs = Vec::new();
        for b in src.batches(4096) {
            for r in b.records() {
                match r {
                    Ok(_) => ok += 1,
                    Err(e) => errs.push(e),
                }
            }
            if let Some(e) = b.error {
                errs.push(e);
            }
        }
        assert!(ok > 500 && ok < 2000, "{ok}");
        assert!(errs.iter().any(|e| matches!(e.kind(), ErrorKind::Decompress { .. })));
    }

    /// `Source::open` holds a regular gzip or zstd file in memory and reads
    /// plain and bzip2 files through a thread; every way of opening gives
    /// the same records.
    #[test]
    fn open_reads_gzip_and_zstd_whole() {
        let data = records(2000);
        let reference = collect(&Source::from_bytes("m", data.clone()), 1 << 30).0;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        let gz = gz.finish().unwrap();
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(&data).unwrap();
        let bz = bz.finish().unwrap();
        let zs = zstd::encode_all(&data[..], 1).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes, whole) in [
            ("p.mrt", &data, false),
            ("g.gz", &gz, true),
            ("z.zst", &zs, true),
            ("b.bz2", &bz, false),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let src = Source::open(&path).unwrap();
            assert_eq!(matches!(src.kind, Kind::Memory(_)), whole, "{name}");
            assert_eq!(matches!(src.kind, Kind::File(..)), !whole, "{name}");
            assert_eq!(src.size(), Some(bytes.len() as u64), "{name}");
            assert_eq!(collect(&src, 5000).0, reference, "{name}");
            let streamed = Source::from_reader(name, std::fs::File::open(&path).unwrap()).unwrap();
            assert_eq!(streamed.compression(), src.compression(), "{name}");
            assert_eq!(collect(&streamed, 5000).0, reference, "{name}");
            let again = collect(&streamed, 5000).0;
            assert!(again.is_empty(), "{name}: a reader is walked once");
        }
    }
}
