//! Opening inputs: a file read whole, read through a decompressor or
//! mapped, standard input and other streams, bytes in memory; and the
//! release of a map's pages behind the reader.
//!
//! This file holds the crate's only `unsafe` outside the SIMD kernels: the
//! memory map and the advice that drops its pages.
#![allow(unsafe_code)]

use super::{Kind, Source};
use crate::decompress::Compression;
use crate::error::{Error, Result};
use bytes::Bytes;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// A shared memory map as the owner of a [`Bytes`].
struct SharedMap(Arc<memmap2::Mmap>);

impl AsRef<[u8]> for SharedMap {
    fn as_ref(&self) -> &[u8] {
        &self.0
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
fn stream_source(name: String, mut r: impl Read + Send + 'static) -> Result<Source> {
    let head = peek(&mut r).map_err(|e| Error::io(annotate(e, &name)))?;
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

/// `e` with the input's name in front of its message.
pub(super) fn annotate(e: std::io::Error, name: &str) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{name}: {e}"))
}

/// Whether a regular file of this compression is read whole into memory
/// by [`Source::open`]: the formats whose decoders work in parallel from
/// memory (gzip members, zstd frames).
fn read_whole(compression: Compression) -> bool {
    matches!(compression, Compression::Gzip | Compression::Zstd)
}

impl Source {
    /// Open `path` (or `-` for standard input) without mapping it.
    ///
    /// The format is recognised from the first bytes. A regular gzip or
    /// zstd file is read whole into memory, so that its members or frames
    /// are decoded in parallel as from a map (see [`Source`] for why);
    /// when that memory cannot be had it is read through a decompressor
    /// instead. Any other regular file (plain, bzip2, xz) is read through a
    /// decompressor on a thread in batches, opened again for each walk
    /// ([`Source::batches`]). Standard input, a pipe, a FIFO, a socket or a
    /// device (`<(zcat ...)`, `/dev/stdin`) is opened once and read once:
    /// its first bytes are kept and handed out again in front of the rest,
    /// so nothing is lost, and it can be walked only once (a second walk
    /// reports an error).
    pub fn open(path: impl AsRef<Path>) -> Result<Source> {
        Source::open_file(path.as_ref(), true)
    }

    /// [`Source::open`]; `whole`: read a regular gzip or zstd file whole
    /// into memory.
    fn open_file(path: &Path, whole: bool) -> Result<Source> {
        let name = path.display().to_string();
        if path == Path::new("-") {
            return stream_source(name, std::io::stdin());
        }
        let mut f = File::open(path).map_err(|e| Error::io(annotate(e, &name)))?;
        let meta = f.metadata().map_err(|e| Error::io(annotate(e, &name)))?;
        if meta.is_dir() {
            let e = std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory");
            return Err(Error::io(annotate(e, &name)));
        }
        if !meta.is_file() {
            return stream_source(name, f);
        }
        let head = peek(&mut f).map_err(|e| Error::io(annotate(e, &name)))?;
        let compression = Compression::detect(&head);
        if whole && read_whole(compression) {
            let mut data = Vec::new();
            let len = usize::try_from(meta.len()).unwrap_or(usize::MAX);
            if data.try_reserve_exact(len.saturating_add(1)).is_ok() {
                data.extend_from_slice(&head);
                f.read_to_end(&mut data).map_err(|e| Error::io(annotate(e, &name)))?;
                return Ok(Source {
                    name,
                    kind: Kind::Memory(Bytes::from(data)),
                    compression,
                    size: Some(meta.len()),
                    map: None,
                });
            }
        }
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
        let path = path.as_ref();
        let src = Source::open_file(path, false)?;
        // Plain files are cut in place; gzip and zstd are decoded from the
        // map, members and frames in parallel (see `decompress`).
        let mappable = matches!(src.kind, Kind::File(_, Compression::None | Compression::Gzip | Compression::Zstd));
        if !mappable || src.size == Some(0) {
            return Ok(src);
        }
        let Ok(file) = File::open(path) else { return Ok(src) };
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

    /// A source that reads `r` once, in order, through a decompressor on a
    /// thread (memory bounded by a few batches whatever the input's size).
    /// The format is recognised from the first bytes, which are kept and
    /// handed out again in front of the rest. It can be walked only once (a
    /// second walk reports an error).
    pub fn from_reader(name: impl Into<String>, r: impl Read + Send + 'static) -> Result<Source> {
        stream_source(name.into(), r)
    }
}

/// Pages are released in whole multiples of this, a multiple of any page
/// size in use (4 KiB, 16 KiB, 64 KiB), so that a release never reaches
/// past the verified offset it is asked for.
const RELEASE_GRAIN: usize = 64 << 10;

/// How far a map's pages have been released (`madvise(MADV_DONTNEED)`),
/// for the speculative cutter of a mapped plain file and for the producer
/// thread of a mapped compressed one.
#[derive(Debug, Default)]
pub(super) struct PageRelease(usize);

impl PageRelease {
    /// Release the pages of `map` before `upto` (rounded down to
    /// [`RELEASE_GRAIN`], at most the map's length) not released yet.
    pub(super) fn release(&mut self, map: &memmap2::Mmap, upto: u64) {
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
