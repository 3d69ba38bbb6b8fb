//! Input sources: memory-mapped files, in-memory buffers and decompressors,
//! all cut into [`Batch`]es of whole records.
//!
//! A batch is one contiguous buffer that starts and ends on record
//! boundaries. From a map it is a zero-copy slice of the map (a [`Bytes`]
//! that keeps the map alive); from a decompressor it is a freshly filled
//! buffer, the partial record at its end carried into the next one. Memory
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
use crate::mrt::framing::{FrameState, Framer, Step};
use crate::mrt::PeerTable;
use bytes::{Bytes, BytesMut};
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
    /// A file read through a decompressor.
    File(PathBuf, Compression),
    /// Standard input.
    Stdin,
}

/// An MRT input.
pub struct Source {
    name: String,
    kind: Kind,
    compression: Compression,
    size: Option<u64>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("name", &self.name)
            .field("compression", &self.compression)
            .finish()
    }
}

fn sniff(path: &Path) -> Result<(Compression, u64)> {
    let mut f = File::open(path).map_err(|e| Error::io(annotate(e, path)))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    // Enough for the magic numbers, and for a short skippable zstd frame
    // and the magic after it.
    let mut head = [0u8; 64];
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(annotate(e, path))),
        }
    }
    Ok((Compression::detect(&head[..n]), size))
}

fn annotate(e: std::io::Error, path: &Path) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

impl Source {
    /// Open `path` (or `-` for standard input) without mapping it: plain
    /// files are read in batches, compressed ones decompressed on a thread.
    pub fn open(path: impl AsRef<Path>) -> Result<Source> {
        let path = path.as_ref();
        let name = path.display().to_string();
        if path == Path::new("-") {
            return Ok(Source {
                name,
                kind: Kind::Stdin,
                compression: Compression::None,
                size: None,
            });
        }
        let (compression, size) = sniff(path)?;
        Ok(Source {
            name,
            kind: Kind::File(path.to_path_buf(), compression),
            compression,
            size: Some(size),
        })
    }

    /// Open `path`, memory-mapping it when it is a plain (uncompressed)
    /// file; falls back to [`Source::open`] when mapping fails or the file
    /// is compressed.
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
                Ok(Source {
                    name: src.name,
                    kind: Kind::Memory(Bytes::from_owner(map)),
                    compression: src.compression,
                    size: src.size,
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
            })),
            Kind::Memory(b) => {
                let comp = self.compression;
                let b = b.clone();
                Batches::spawn(batch_size, move || {
                    decompress::memory_decoder(comp, b, decompress::Options::default())
                })
            }
            Kind::File(path, comp) => {
                let (path, comp) = (path.clone(), *comp);
                Batches::spawn(batch_size, move || match File::open(&path) {
                    Ok(f) => comp.decoder(f),
                    Err(e) => Box::new(FailedDecoder(Some(DecodeError::io(annotate(e, &path), 0)))),
                })
            }
            Kind::Stdin => Batches::spawn(batch_size, || {
                let mut stdin = std::io::BufReader::with_capacity(1 << 16, std::io::stdin());
                let head = std::io::BufRead::fill_buf(&mut stdin)
                    .map(Compression::detect)
                    .unwrap_or(Compression::None);
                head.decoder(stdin)
            }),
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
    /// An error that ended the input after this batch (a damaged or
    /// truncated compressed stream, an I/O error).
    pub error: Option<Error>,
}

impl Batch {
    /// The records of the batch.
    pub fn records(&self) -> crate::mrt::Records<'_> {
        if self.last {
            crate::mrt::Records::new(&self.data, self.offset, self.first_record, self.state)
        } else {
            crate::mrt::Records::batch(&self.data, self.offset, self.first_record, self.state)
        }
    }
}

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
    /// updates the peer table seen. With `at_end`, the whole buffer is taken.
    fn cut(&mut self, buf: &[u8], at_end: bool) -> (usize, FrameState, u64, Option<Arc<PeerTable>>) {
        let mut f = Framer::new(buf, self.offset, self.index, self.state, at_end);
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

    fn make(&mut self, data: Bytes, state: FrameState, index: u64, peers: Option<Arc<PeerTable>>) -> Batch {
        let b = Batch {
            offset: self.offset,
            first_record: self.index,
            state: self.state,
            peers: self.peers.clone(),
            error: None,
            last: false,
            data,
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
}

impl MemoryCutter {
    fn next(&mut self) -> Option<Batch> {
        let rest = self.data.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let (cut, state, index, peers) = self.cutter.cut(rest, true);
        let cut = cut.max(1).min(rest.len());
        let data = self.data.slice(self.pos..self.pos + cut);
        self.pos += cut;
        let mut b = self.cutter.make(data, state, index, peers);
        b.last = self.pos >= self.data.len();
        Some(b)
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
    fn spawn<F>(batch_size: usize, open: F) -> Batches
    where
        F: FnOnce() -> Box<dyn Decode> + Send + 'static,
    {
        // Two batches in flight: enough to overlap decompression with parsing.
        let (tx, rx) = sync_channel::<Batch>(2);
        std::thread::spawn(move || {
            let mut decoder = open();
            let mut cutter = Cutter::new(batch_size);
            let mut buf = BytesMut::with_capacity(batch_size + 2 * CUT_SLACK);
            let mut eof = false;
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
            loop {
                // Fill to `want` (or to end of input). Decoders hand out
                // chunks (a bzip2 block, up to 1 MiB of a stream) that are
                // copied in once. That copy is ~1% of a bzip2 snapshot's
                // samples (222 MB synthetic RIB); handing blocks over without
                // it would need batches of several buffers, since records
                // cross block boundaries, and every parser takes a batch as
                // one slice, so it stays.
                while !eof && buf.len() < want {
                    match decoder.next_chunk() {
                        None => eof = true,
                        Some(Ok(chunk)) => {
                            buf.extend_from_slice(chunk);
                            decoded += chunk.len() as u64;
                        }
                        Some(Err(e)) => {
                            eof = true;
                            error = Some(decode_error(e, decoded));
                        }
                    }
                }
                if buf.is_empty() {
                    if let Some(e) = error.take() {
                        let mut b = cutter.make(Bytes::new(), cutter.state, cutter.index, cutter.peers.clone());
                        b.error = Some(e);
                        b.last = true;
                        let _ = tx.send(b);
                    }
                    return;
                }
                let (mut cut, state, index, peers) = cutter.cut(&buf, eof);
                if cut == 0 {
                    if eof {
                        cut = buf.len();
                    } else {
                        // A single record larger than the buffer: read more.
                        want = buf.len() * 2;
                        continue;
                    }
                }
                want = fill;
                let data = buf.split_to(cut).freeze();
                let mut b = cutter.make(data, state, index, peers);
                if eof && buf.is_empty() {
                    b.error = error.take();
                    b.last = true;
                }
                if tx.send(b).is_err() {
                    return; // the consumer hung up
                }
            }
        });
        Batches(BatchesInner::Stream(rx))
    }
}

/// The crate error for a decoder's error at decompressed offset `decoded`.
fn decode_error(e: DecodeError, decoded: u64) -> Error {
    let kind = match e.io {
        Some(io) if matches!(io.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied) => ErrorKind::Io(io),
        _ => ErrorKind::Decompress {
            message: Arc::from(e.message),
        },
    };
    Error::new(kind, decoded)
}

impl Iterator for Batches {
    type Item = Batch;
    fn next(&mut self) -> Option<Batch> {
        match &mut self.0 {
            BatchesInner::Memory(m) => m.next(),
            BatchesInner::Stream(rx) => rx.recv().ok(),
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
