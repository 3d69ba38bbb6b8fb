//! Input sources: memory-mapped files, in-memory buffers and decompressors,
//! all cut into [`Batch`]es of whole records.
//!
//! A batch is one contiguous buffer that starts and ends on record
//! boundaries. From a map it is a zero-copy slice of the map (a [`Bytes`]
//! that keeps the map alive); from a decompressor it is a freshly filled
//! buffer, the partial record at its end carried into the next one. Either
//! way it keeps the bytes after it that the cutter saw, as read-only
//! look-ahead for framing (see [`Batch::records`]). Memory
//! stays bounded by a few batches whatever the file size: decompression runs
//! on its own thread and hands batches over a bounded channel, so parsing
//! overlaps decompression and a slow consumer holds the producer back.
//! bzip2 blocks are decoded in parallel on the rayon pool, a bounded number
//! in flight (see [`crate::decompress`]).
//!
//! This module holds the crate's only `unsafe` outside SIMD kernels: the
//! memory map.
#![allow(unsafe_code)]

use crate::decompress::{self, Decode, DecodeError, FailedDecoder};
use crate::error::{Error, ErrorKind, Result};
use crate::mrt::framing::{self, FrameState, Framer, Step};
use crate::mrt::PeerTable;
use bytes::Bytes;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

/// Default batch size: large enough to amortise per-batch work, small
/// enough that a few in flight per thread stay cache- and memory-friendly.
pub const DEFAULT_BATCH_SIZE: usize = 4 << 20;

/// Decoded bytes held beyond the batch size before a stream batch is cut.
const CUT_SLACK: usize = 1 << 20;

/// Compression formats recognised by their magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Plain MRT.
    None,
    /// gzip (also multi-member).
    Gzip,
    /// bzip2 (also multi-stream).
    Bzip2,
    /// xz.
    Xz,
    /// Zstandard.
    Zstd,
}

impl Compression {
    /// Recognise the format from the first bytes of the input.
    pub fn detect(head: &[u8]) -> Compression {
        match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [b'B', b'Z', b'h', ..] => Compression::Bzip2,
            [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Compression::Xz,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            // A skippable frame before the first zstd frame (`pzstd` writes
            // one before each frame). Its magic reads as an MRT timestamp
            // of 2012-2020, so the zstd frame after it must be seen too.
            [0x50..=0x5f, 0x2a, 0x4d, 0x18, a, b, c, d, rest @ ..] => {
                let size = u32::from_le_bytes([*a, *b, *c, *d]) as usize;
                match rest.get(size..size.saturating_add(4)) {
                    Some([0x28, 0xb5, 0x2f, 0xfd]) => Compression::Zstd,
                    _ => Compression::None,
                }
            }
            _ => Compression::None,
        }
    }

    /// A decompressing reader over `r` (bzip2 blocks are decoded in parallel
    /// on the current rayon pool; see [`crate::decompress`]).
    pub fn reader<'r, R: Read + Send + 'r>(self, r: R) -> Box<dyn Read + Send + 'r> {
        match self {
            Compression::None => Box::new(r),
            _ => Box::new(decompress::DecodeReader::new(self.decoder(r))),
        }
    }

    /// A chunked decoder over `r` (see [`crate::decompress::decoder`]).
    pub fn decoder<'r, R: Read + Send + 'r>(self, r: R) -> Box<dyn Decode + 'r> {
        decompress::decoder(self, r, decompress::Options::default())
    }
}

enum Kind {
    /// Whole input in memory (a map or a buffer).
    Memory(Bytes),
    /// A regular file read through a decompressor (opened again for each
    /// walk).
    File(PathBuf, Compression),
    /// Standard input, a pipe, a FIFO, a socket or a device: opened once,
    /// its first bytes (the format sniffed from them) put back in front of
    /// the rest. It can be walked once.
    Stream(std::sync::Mutex<Option<Box<dyn Read + Send>>>),
}

/// An MRT input.
pub struct Source {
    name: String,
    kind: Kind,
    compression: Compression,
    size: Option<u64>,
    /// The map behind a `Kind::Memory` of a mapped file, to release pages
    /// already decoded ([`Speculation::release`]).
    map: Option<Arc<memmap2::Mmap>>,
}

/// A shared memory map as the owner of a [`Bytes`].
struct SharedMap(Arc<memmap2::Mmap>);

impl AsRef<[u8]> for SharedMap {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("name", &self.name)
            .field("compression", &self.compression)
            .finish()
    }
}

/// Bytes read to recognise the format: the magic numbers, and a short
/// skippable zstd frame with the magic after it.
const SNIFF: usize = 64;

/// Read up to [`SNIFF`] bytes (fewer only at the end of the input).
fn peek(r: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut head = vec![0u8; SNIFF];
    let mut n = 0;
    while n < head.len() {
        match r.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(n);
    Ok(head)
}

/// A stream whose first bytes were read to sniff its format: they are
/// handed out again, then the rest. Nothing is lost, nothing read twice.
fn stream_source(name: String, mut r: impl Read + Send + 'static, path: &Path) -> Result<Source> {
    let head = peek(&mut r).map_err(|e| Error::io(annotate(e, path)))?;
    let compression = Compression::detect(&head);
    let reader: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(head).chain(r));
    Ok(Source {
        name,
        kind: Kind::Stream(std::sync::Mutex::new(Some(reader))),
        compression,
        size: None,
        map: None,
    })
}

fn annotate(e: std::io::Error, path: &Path) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

impl Source {
    /// Open `path` (or `-` for standard input) without mapping it: plain
    /// files are read in batches, compressed ones decompressed on a thread.
    ///
    /// The format is recognised from the first bytes. A regular file is
    /// opened again for each walk ([`Source::batches`]); standard input, a
    /// pipe, a FIFO, a socket or a device (`<(zcat ...)`, `/dev/stdin`) is
    /// opened once and read once: its first bytes are kept and handed out
    /// again in front of the rest, so nothing is lost, and it can be walked
    /// only once (a second walk reports an error).
    pub fn open(path: impl AsRef<Path>) -> Result<Source> {
        let path = path.as_ref();
        let name = path.display().to_string();
        if path == Path::new("-") {
            return stream_source(name, std::io::stdin(), path);
        }
        let mut f = File::open(path).map_err(|e| Error::io(annotate(e, path)))?;
        let meta = f.metadata().map_err(|e| Error::io(annotate(e, path)))?;
        if meta.is_dir() {
            let e = std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory");
            return Err(Error::io(annotate(e, path)));
        }
        if !meta.is_file() {
            return stream_source(name, f, path);
        }
        let head = peek(&mut f).map_err(|e| Error::io(annotate(e, path)))?;
        let compression = Compression::detect(&head);
        Ok(Source {
            name,
            kind: Kind::File(path.to_path_buf(), compression),
            compression,
            size: Some(meta.len()),
            map: None,
        })
    }

    /// Open `path`, memory-mapping it when it is a regular file, plain,
    /// gzip or zstd; falls back to [`Source::open`] when mapping fails, for
    /// other compressions, and for inputs that are not regular files
    /// (standard input, pipes, FIFOs, devices are never mapped).
    ///
    /// # Safety
    /// - The file must not be modified or truncated while the source or any
    ///   batch cut from it is alive; doing so is undefined behaviour (the
    ///   map would change or fault under the parser).
    pub unsafe fn open_mmap(path: impl AsRef<Path>) -> Result<Source> {
        let src = Source::open(path.as_ref())?;
        // Plain files are cut in place; gzip and zstd are decoded from the
        // map, members and frames in parallel (see `decompress`).
        let mappable = matches!(src.kind, Kind::File(_, Compression::None | Compression::Gzip | Compression::Zstd));
        if !mappable || src.size == Some(0) {
            return Ok(src);
        }
        let Ok(file) = File::open(path.as_ref()) else { return Ok(src) };
        // SAFETY: the caller promises the file is not modified while mapped
        // (this function's contract); the map is read-only.
        let map = unsafe { memmap2::MmapOptions::new().map(&file) };
        match map {
            Ok(map) => {
                #[cfg(unix)]
                let _ = map.advise(memmap2::Advice::Sequential);
                let map = Arc::new(map);
                Ok(Source {
                    name: src.name,
                    kind: Kind::Memory(Bytes::from_owner(SharedMap(Arc::clone(&map)))),
                    compression: src.compression,
                    size: src.size,
                    map: Some(map),
                })
            }
            Err(_) => Ok(src),
        }
    }

    /// A source over bytes in memory; compressed bytes are decompressed on
    /// the fly.
    pub fn from_bytes(name: impl Into<String>, data: impl Into<Bytes>) -> Source {
        let data: Bytes = data.into();
        let compression = Compression::detect(&data);
        let size = Some(data.len() as u64);
        Source {
            name: name.into(),
            kind: Kind::Memory(data),
            compression,
            size,
            map: None,
        }
    }

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

    /// Whether the whole decompressed input is in memory (mapped).
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
                Batches::spawn(batch_size, move || match File::open(&path) {
                    Ok(f) => comp.decoder(f),
                    Err(e) => Box::new(FailedDecoder(Some(DecodeError::io(annotate(e, &path), 0)))),
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
    }
}

/// The framing state, next record index and PEER_INDEX_TABLE in effect
/// after a batch.
type After = (FrameState, u64, Option<Arc<PeerTable>>);

/// Sequential batch-cutting state shared by the map and stream paths.
struct Cutter {
    target: usize,
    offset: u64,
    index: u64,
    state: FrameState,
    peers: Option<Arc<PeerTable>>,
}

impl Cutter {
    fn new(target: usize) -> Cutter {
        Cutter {
            target,
            offset: 0,
            index: 0,
            state: FrameState::default(),
            peers: None,
        }
    }

    /// Find where to cut `buf` (at most about `target` bytes of whole
    /// records). Returns the cut position and the state after it, and
    /// updates the peer table seen. With `at_end`, the whole buffer is taken
    /// (it ends the input, or with `at_break` a part of the decompressed
    /// stream that a damaged region ends).
    fn cut(&mut self, buf: &[u8], at_end: bool, at_break: bool) -> (usize, FrameState, u64, Option<Arc<PeerTable>>) {
        let mut f = Framer::new(buf, self.offset, self.index, self.state, at_end).ending_at_break(at_break);
        let mut peers = self.peers.clone();
        let (mut cut, mut state, mut index) = (0, self.state, self.index);
        loop {
            match f.step() {
                Step::Record(r) => {
                    if r.header.mrt_type == 13 && r.header.subtype == 1 {
                        if let Ok(t) = PeerTable::parse(r.body, r.body_offset) {
                            peers = Some(Arc::new(t));
                        }
                    }
                }
                Step::Damage(_) => {}
                Step::NeedMore | Step::End => break,
            }
            cut = f.position();
            state = f.state();
            index = f.next_index();
            if cut >= self.target {
                break;
            }
        }
        (cut, state, index, peers)
    }

    /// The batch of the first `len` bytes of `window`, the buffer just cut
    /// (`at_end`: it runs to the end of the input), and the cutter moved
    /// past it.
    fn make(&mut self, window: Bytes, len: usize, at_end: bool, (state, index, peers): After) -> Batch {
        let b = Batch {
            offset: self.offset,
            first_record: self.index,
            state: self.state,
            peers: self.peers.clone(),
            error: None,
            last: false,
            data: window.slice(..len),
            window,
            window_ends_input: at_end,
            window_ends_at_break: false,
        };
        self.offset += b.data.len() as u64;
        self.index = index;
        self.state = state;
        self.peers = peers;
        b
    }
}

struct MemoryCutter {
    data: Bytes,
    pos: usize,
    cutter: Cutter,
    map: Option<Arc<memmap2::Mmap>>,
}

impl MemoryCutter {
    fn next(&mut self) -> Option<Batch> {
        let rest = self.data.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let (cut, state, index, peers) = self.cutter.cut(rest, true, false);
        let cut = cut.max(1).min(rest.len());
        let window = self.data.slice(self.pos..);
        self.pos += cut;
        let mut b = self.cutter.make(window, cut, true, (state, index, peers));
        b.last = self.pos >= self.data.len();
        Some(b)
    }
}

/// Where one batch of an input in memory was cut: by a speculative job on
/// a pool worker, or in order.
#[derive(Debug)]
pub struct Cut {
    /// Offset of the first record.
    start: usize,
    /// The framing state assumed at `start`.
    state: FrameState,
    /// Offset just past the last record.
    end: usize,
    /// The framing state at `end`.
    end_state: FrameState,
    /// Record indices the batch uses up.
    records: u64,
    /// The last PEER_INDEX_TABLE the batch holds, if any.
    peer_table: Option<Arc<PeerTable>>,
}

/// Cut `data` from `start` in framing state `state` to the first record
/// boundary at or after `to`, as [`MemoryCutter`] cuts a batch.
fn cut_at(data: &[u8], start: usize, state: FrameState, to: usize) -> Cut {
    let rest = data.get(start..).unwrap_or(&[]);
    let mut c = Cutter::new(to.saturating_sub(start));
    c.offset = start as u64;
    c.state = state;
    let (cut, end_state, records, peer_table) = c.cut(rest, true, false);
    let cut = cut.max(1).min(rest.len());
    Cut {
        start,
        state,
        end: start + cut,
        end_state,
        records,
        peer_table,
    }
}

/// Speculative parallel cutting of an uncompressed input in memory.
///
/// The input is divided at fixed byte offsets ("guesses", one per batch
/// size from where cutting starts). The job of guess `k` runs on any
/// thread: it finds the first plausible record boundary at or after its
/// offset (`framing::find_boundary`) and frames from there to the first
/// boundary at or after the next guess's offset, without knowing anything
/// about what came before. [`Speculation::accept`], called for each guess
/// in order, checks that the job started exactly where the batch before
/// ended, in a framing state that frames the same
/// (`framing::same_framing`); when it did not (damage, a false boundary
/// inside a record, a guess inside a record longer than a batch), it cuts
/// that batch again in order from the verified position. The batches handed
/// out are thus exactly those of a sequential cutter, only with each
/// batch's end at the first boundary at or after a fixed offset rather than
/// a fixed length after its start; framing decisions do not depend on where
/// batches are cut (`tests/framing_batches.rs`), so neither does any output.
///
/// What the job does not know, the in-order step supplies: the record
/// index of the first record, the PEER_INDEX_TABLE in effect, the exact
/// framing state. A PEER_INDEX_TABLE found by a job changes the table for
/// the batches after it without any speculation being wrong, since cutting
/// does not depend on the table.
///
/// # Performance
/// Framing a mapped file is dominated by the first touch of each page (a
/// page fault, a TLB and a cache miss per record header). Done in order on
/// one thread, it bounded the whole pipeline; done by jobs on the pool it
/// is spread over all threads, and what stays in order is a comparison per
/// batch. See `ARCHITECTURE.md`, "Measurements behind decisions".
#[derive(Debug)]
pub struct Speculation {
    data: Bytes,
    map: Option<Arc<memmap2::Mmap>>,
    /// Offset of the first guess.
    base: usize,
    /// Distance between guesses.
    size: usize,
    /// Number of guesses.
    count: usize,
    /// Verified position: offset, framing state, next record index and the
    /// PEER_INDEX_TABLE in effect there.
    pos: usize,
    state: FrameState,
    index: u64,
    peers: Option<Arc<PeerTable>>,
    /// The map is released up to here.
    released: PageRelease,
    /// Batches cut again in order because the guess was wrong.
    redone: usize,
}

/// Pages are released in whole multiples of this, a multiple of any page
/// size in use (4 KiB, 16 KiB, 64 KiB), so that a release never reaches
/// past the verified offset it is asked for.
const RELEASE_GRAIN: usize = 64 << 10;

/// How far a map's pages have been released (`madvise(MADV_DONTNEED)`),
/// for the speculative cutter of a mapped plain file and for the producer
/// thread of a mapped compressed one.
#[derive(Debug, Default)]
struct PageRelease(usize);

impl PageRelease {
    /// Release the pages of `map` before `upto` (rounded down to
    /// [`RELEASE_GRAIN`], at most the map's length) not released yet.
    fn release(&mut self, map: &memmap2::Mmap, upto: u64) {
        let upto = usize::try_from(upto).unwrap_or(usize::MAX).min(map.len());
        let end = upto - upto % RELEASE_GRAIN;
        if end <= self.0 {
            return;
        }
        #[cfg(unix)]
        {
            // SAFETY: `self.0..end` lies inside the map (`end` is at most the
            // map's length). The map is a read-only `MAP_SHARED` mapping of
            // a file that must not change while it is mapped (the contract
            // of `Source::open_mmap`); MADV_DONTNEED on it only drops the
            // page table entries, and a later access faults the same file
            // bytes back in from the page cache. So every live `&[u8]` into
            // the range (batches, `Bytes` slices, a decoder's input) keeps
            // reading the same bytes: no reference is invalidated.
            let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, self.0, end - self.0) };
        }
        self.0 = end;
    }
}

impl Speculation {
    fn new(m: MemoryCutter) -> Speculation {
        let len = m.data.len();
        let size = m.cutter.target.max(1);
        let base = m.pos.min(len);
        Speculation {
            count: (len - base).div_ceil(size),
            data: m.data,
            map: m.map,
            base,
            size,
            pos: base,
            state: m.cutter.state,
            index: m.cutter.index,
            peers: m.cutter.peers,
            released: PageRelease::default(),
            redone: 0,
        }
    }

    /// Number of guesses (an upper bound on the number of batches).
    pub fn count(&self) -> usize {
        self.count
    }

    /// Batches cut again in order so far, because their guess was wrong.
    pub fn redone(&self) -> usize {
        self.redone
    }

    /// The byte range of guess `k`: its batch starts at the first record
    /// boundary at or after the start, and ends at the first at or after the
    /// end.
    fn range(&self, k: usize) -> (usize, usize) {
        let len = self.data.len();
        let lo = k.saturating_mul(self.size).saturating_add(self.base).min(len);
        let hi = if k + 1 >= self.count {
            len
        } else {
            lo.saturating_add(self.size).min(len)
        };
        (lo, hi)
    }

    /// The job of guess `k`, to run on any thread: `None` when it found no
    /// record boundary in its range. Guess 0 starts at the verified
    /// position and is exact.
    pub fn job(&self, k: usize) -> impl FnOnce() -> Option<Cut> + Send + 'static {
        let (lo, hi) = self.range(k);
        let data = self.data.clone();
        let exact = (k == 0).then_some(self.state);
        move || match exact {
            Some(state) => Some(cut_at(&data, lo, state, hi)),
            None => {
                let (start, state) = framing::find_boundary(&data, lo, hi)?;
                Some(cut_at(&data, start, state, hi))
            }
        }
    }

    /// Take the result of guess `k`'s job, in order of `k`: the batch to
    /// decode, exactly as a sequential cutter would have cut it, or `None`
    /// when the batches before already cover the guess's range.
    pub fn accept(&mut self, k: usize, cut: Option<Cut>) -> Option<Batch> {
        let (_, hi) = self.range(k);
        if self.pos >= hi {
            return None;
        }
        let data: &[u8] = &self.data;
        let ok = |c: &Cut| {
            c.start == self.pos
                && c.end > c.start
                && data
                    .get(c.start..)
                    .is_some_and(|rest| framing::same_framing(rest, c.start as u64, c.state, self.state, c.end - c.start))
        };
        let cut = match cut {
            Some(c) if ok(&c) => c,
            _ => {
                self.redone += 1;
                cut_at(data, self.pos, self.state, hi)
            }
        };
        let batch = Batch {
            data: self.data.slice(cut.start..cut.end),
            window: self.data.slice(cut.start..),
            window_ends_input: true,
            window_ends_at_break: false,
            offset: cut.start as u64,
            first_record: self.index,
            state: self.state,
            peers: self.peers.clone(),
            last: cut.end >= self.data.len(),
            error: None,
        };
        self.pos = cut.end;
        self.state = cut.end_state;
        self.index += cut.records;
        if let Some(t) = cut.peer_table {
            self.peers = Some(t);
        }
        Some(batch)
    }

    /// Say that everything before offset `upto` has been consumed: the whole
    /// pages before it are dropped from a map (`madvise(MADV_DONTNEED)`),
    /// so that a map's resident memory follows the batches in flight rather
    /// than the file size. Does nothing for a buffer that is not a map, or
    /// where the advice is not supported.
    ///
    /// Reading a released page again is harmless: the map is a read-only
    /// shared file mapping, so the page faults back in from the page cache
    /// with the same bytes. Nothing reads them in the normal course: the
    /// batches before `upto` are decoded and their results consumed, and
    /// verification and any re-cut start at the verified position, past
    /// `upto`. A speculative job whose guess lies before `upto` and is
    /// still scanning may touch such a page; it only faults it back in.
    pub fn release(&mut self, upto: u64) {
        if let Some(m) = &self.map {
            self.released.release(m, upto);
        }
    }
}

/// Iterator over the batches of a [`Source`].
pub struct Batches(BatchesInner);

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

impl Batches {
    fn spawn<F>(batch_size: usize, open: F) -> Batches
    where
        F: FnOnce() -> Box<dyn Decode> + Send + 'static,
    {
        Batches::spawn_releasing(batch_size, None, open)
    }

    /// [`Batches::spawn`] over a decoder reading a mapped compressed file:
    /// the map's pages before [`Decode::input_done_before`] are released as
    /// decoding goes (a 1.09 GB single-member gzip table kept 1.39 GB
    /// resident without this).
    fn spawn_releasing<F>(batch_size: usize, map: Option<Arc<memmap2::Mmap>>, open: F) -> Batches
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
            // with twice the batch size held that copy was a second pass over
            // every decoded byte; with the slack it is about a quarter.
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
                        let after = (cutter.state, cutter.index, cutter.peers.clone());
                        let mut b = cutter.make(Bytes::new(), 0, true, after);
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
                let (mut cut, state, index, peers) = cutter.cut(&buf, ends, brk);
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
                let mut b = cutter.make(window, cut, ends, (state, index, peers));
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
/// that large). On the 222 MB one-member gzip table: peak RSS 56 -> 42 MB,
/// snapshot 332.9 -> 324.2 ms (hyperfine, mean of 12, within one sigma);
/// system time stayed at 43 ms, which is the faults of reading the mapped
/// compressed file and releasing its pages, not the batch buffers.
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
}
