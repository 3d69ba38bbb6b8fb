//! Decompressors that hand out decoded bytes in chunks: bzip2 decoded in
//! parallel; gzip members and zstd frames decoded in parallel when the
//! compressed input is in memory (a mapped file, or a file that
//! `Source::open` reads whole), streamed otherwise; xz streamed.
//!
//! [`decoder`] picks one for a [`Compression`] over any [`Read`];
//! [`memory_decoder`] over bytes in memory. [`Decode::next_chunk`] gives
//! the decoded bytes in order, in pieces of a block (bzip2), up to 8 MiB
//! (a gzip member or zstd frame decoded whole) or up to 1 MiB (streams),
//! and [`DecodeReader`] turns any of them into a [`std::io::Read`]. The
//! batch producer of [`crate::source`] copies the chunks straight into its
//! batch buffer.
//!
//! # Choices (measured on the 2-core dev machine, 199 MB synthetic RIB)
//!
//! - bzip2: [`bzip2::ParallelDecoder`]: block scan in [`scan`] (~1.6 GiB/s
//!   of compressed input, about 1% of the time), blocks decoded by
//!   [`block`] on rayon workers (~120 MB/s of output per core on a 222 MB
//!   synthetic RIB, where the `lbzip2` program decodes ~65 MB/s per core
//!   and libbz2-rs-sys ~55 MB/s; see `BENCHMARKS.md`, "bzip2"). The
//!   crates `lbzip2` 0.5 and `parallel_bzip2_decoder` 0.2 were measured on
//!   the same file with 2 threads: 9.5 s and 8.9 s of CPU (RSS 248 MB, the
//!   whole output, and 134 MB) against 4.7 s for libbz2-rs-sys on one
//!   thread, so neither is used.
//! - gzip from memory: [`gzip::MemoryGzip`]. Member starts are guessed
//!   from their headers (a `memchr` scan, 2 ms for 63 MB), each guessed
//!   member is decoded whole by libdeflate on a rayon worker into a buffer
//!   of its trailer's ISIZE, at most [`Options::gzip_member_cap`] (256 MiB,
//!   also the bound on bytes in flight), verified in order (CRC32, ISIZE,
//!   and the member ending exactly where the next guess starts); members
//!   above the cap and wrong guesses are streamed by [`inflate`], a
//!   deflate decoder laid out like libdeflate's (0.94 GB/s on one member
//!   of the 222 MB table against 0.66 GB/s for zlib-rs through flate2 and
//!   1.11 GB/s for libdeflate decoding the member whole; snapshot of that
//!   file in 321 ms, 398 ms with zlib-rs; unchecked indexing in its loop measured 2%
//!   faster, so it has no `unsafe`); on pools of three threads or more a
//!   member of several 2 MiB chunks is decoded in parallel chunks
//!   ([`member`]: 212 ms for that member on two threads, where it was not
//!   faster end to end). Measured on a
//!   222 MB table (`BENCHMARKS.md`, "gzip and zstd"): zlib-rs through
//!   flate2 decodes one member at 0.69 GB/s, libdeflate at 1.09 GB/s
//!   (0.77 GB/s into fresh 4 KiB pages, hence huge-page buffers, reused);
//!   16 concatenated members decode at 0.84 GB/s on one pool thread
//!   against 0.47 GB/s streamed. A file of one member is decoded whole
//!   only up to 64 MiB ([`gzip::SINGLE_MEMBER_WHOLE_MAX`]): on the 222 MB
//!   member, decoding whole saves 15% of CPU but holds 385 MB instead of
//!   45 MB, delays parsing until the member is done and is slower in
//!   wall time. zlib-ng (flate2's `zlib-ng` feature) needs cmake, which
//!   the build machines lack: not measured. `rapidgzip-core` 0.3.1
//!   (parallel decoding of one member) runs at 0.84 GB/s on one thread and
//!   no faster on two of this machine's cores, with its own thread pool:
//!   not used. `pigz -i` still writes one member, so only concatenated
//!   members (`cat a.gz b.gz`, bgzip) decode in parallel.
//! - gzip from a stream (standard input, a pipe, `Source::from_reader`):
//!   [`gzip::StreamGzip`], members in order on the producer's thread,
//!   decoded by [`inflate`] over a sliding window of the compressed input
//!   ([`window`]): the decoder the in-memory path streams with, so that a
//!   damaged member gives the same bytes and errors (73.5 MB table: 0.21 s,
//!   where zlib-rs through `flate2` took 0.37 s).
//! - zstd from memory: [`zstd::MemoryZstd`]: frames are walked by their
//!   block headers without decoding (skippable frames skipped), frames
//!   of at most 32 MiB of output decoded whole by libzstd on rayon
//!   workers in order, larger ones (one frame for the whole file, as
//!   `zstd -T0` writes) streamed: libzstd streams at ~1 GB/s. 27 `pzstd`
//!   frames: 0.99 GB/s on one pool thread, 1.42 GB/s on two, but the
//!   snapshot of that file is slower in parallel on two cores (374 against
//!   316 ms), so frames go to workers only on pools of three threads or
//!   more ([`zstd::memory_parallel`]). Files that start with a skippable
//!   frame (`pzstd`) are recognised as zstd.
//! - zstd from a stream: [`zstd::StreamZstd`], the frames streamed by the
//!   [`zstd::FrameDecoder`] of the in-memory path over a [`window`].
//! - xz: [`xz::StreamXz`], one stream at a time through liblzma. xz blocks
//!   could be decoded in parallel when the encoder wrote several with sizes
//!   in their headers (`xz -T`), but RIS and RouteViews ship no xz, so it
//!   stays sequential.
//!
//! # Errors
//!
//! A [`DecodeError`] names the format, the unit (member, block, frame,
//! stream), the compressed byte offsets, and what went wrong; everything
//! decoded before it has been handed out. Damage is skipped: the decoder
//! goes on at the next unit ([`DecodeError::resumes_at`]), and only a unit
//! cut by the end of the input, with nothing decodable after it, ends the
//! input early ([`DecodeError::end_of_input`]). The producer adds the
//! decompressed offset reached and marks the break in the decompressed
//! stream.

pub mod block;
pub mod bzip2;
pub mod gzip;
pub mod inflate;
pub mod member;
mod ordered;
pub mod scan;
pub mod window;
pub mod xz;
pub mod zstd;

use std::fmt;
use std::io::{BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Compression formats, recognised by their magic bytes when read (and
/// chosen by file extension when the generator writes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Plain MRT.
    #[default]
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
    /// The conventional file-name extension, without the dot (`""` for none).
    pub fn extension(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => "gz",
            Compression::Bzip2 => "bz2",
            Compression::Zstd => "zst",
            Compression::Xz => "xz",
        }
    }

    /// Chooses the compression from a path's extension (`.gz`, `.bz2`,
    /// `.zst`/`.zstd`, `.xz`; anything else is [`Compression::None`]).
    pub fn from_path(path: &std::path::Path) -> Compression {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("gz" | "gzip") => Compression::Gzip,
            Some("bz2" | "bzip2") => Compression::Bzip2,
            Some("zst" | "zstd") => Compression::Zstd,
            Some("xz") => Compression::Xz,
            _ => Compression::None,
        }
    }

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
    /// on the current rayon pool).
    pub fn reader<'r, R: Read + Send + 'r>(self, r: R) -> Box<dyn Read + Send + 'r> {
        match self {
            Compression::None => Box::new(r),
            _ => Box::new(DecodeReader::new(self.decoder(r))),
        }
    }

    /// A chunked decoder over `r` (see [`decoder`]).
    pub fn decoder<'r, R: Read + Send + 'r>(self, r: R) -> Box<dyn Decode + 'r> {
        decoder(self, r, Options::default())
    }
}

/// Decoded bytes asked of a streaming decoder at a time.
const CHUNK: usize = 1 << 20;
/// Compressed bytes read at a time by streaming decoders.
const INPUT_BUFFER: usize = 256 << 10;

/// A decompressor yielding decoded bytes in order.
pub trait Decode: Send {
    /// The next decoded bytes (never empty), a damaged region (after which
    /// decoding resumes when [`DecodeError::resumes`], and the decoder is
    /// finished otherwise), or `None` at the end of the input.
    fn next_chunk(&mut self) -> Option<Result<&[u8], DecodeError>>;

    /// A compressed offset before which this decoder will not read its input
    /// again, when it knows one. A source that maps its input releases the
    /// pages before it (`crate::source`), so that a mapped compressed file's
    /// resident memory follows the decoder instead of growing to the whole
    /// file. Only a hint: reading a released page again costs a page fault.
    fn input_done_before(&self) -> Option<u64> {
        None
    }
}

/// A damaged region of the compressed input, or why decompression stopped.
///
/// Damage inside a unit the format delimits (a gzip member, a bzip2 block,
/// a zstd frame, an xz stream) is skipped: the decoder hands out what it
/// decoded before noticing the damage, reports the region, and goes on at
/// the next unit that starts after it ([`DecodeError::resumes_at`]). Every
/// decoding path (in memory or streamed, any number of threads) finds the
/// same regions and hands out the same bytes around them.
#[derive(Clone, Debug)]
pub struct DecodeError {
    /// What went wrong, with the format and position.
    pub message: String,
    /// Offset in the compressed input where it went wrong, when known.
    pub compressed_offset: Option<u64>,
    /// The underlying I/O error, when reading the input failed.
    pub io: Option<Arc<std::io::Error>>,
    /// The input ends inside the unit being decoded (a cut file), and
    /// nothing decodable follows: the input ends early rather than being
    /// damaged.
    pub end_of_input: bool,
    /// The compressed offset where decoding goes on after the damaged
    /// region; `None` when the decoder is finished.
    pub resumes_at: Option<u64>,
    /// Decompressed bytes of the region not handed out, where the format
    /// records its unit's size (gzip ISIZE, zstd content size); `None`:
    /// unknown.
    pub lost: Option<u64>,
}

impl DecodeError {
    /// Damaged compressed data, after which the decoder is finished.
    pub fn corrupt(message: impl Into<String>, compressed_offset: Option<u64>) -> DecodeError {
        DecodeError {
            message: message.into(),
            compressed_offset,
            io: None,
            end_of_input: false,
            resumes_at: None,
            lost: None,
        }
    }

    /// The input ends inside a unit, nothing decodable after it.
    pub fn truncated(message: impl Into<String>, compressed_offset: Option<u64>) -> DecodeError {
        DecodeError {
            end_of_input: true,
            ..DecodeError::corrupt(message, compressed_offset)
        }
    }

    /// Reading the compressed input failed at `compressed_offset`.
    pub fn io(e: std::io::Error, compressed_offset: u64) -> DecodeError {
        DecodeError {
            message: e.to_string(),
            io: Some(Arc::new(e)),
            ..DecodeError::corrupt(String::new(), Some(compressed_offset))
        }
    }

    /// Whether the decoder goes on after this region.
    pub fn resumes(&self) -> bool {
        self.resumes_at.is_some()
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DecodeError {}

/// How to decode.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// bzip2 blocks dispatched or decoded and not yet taken, at most (the
    /// memory bound: about 1 MB of input and output each). Default: twice
    /// the rayon threads.
    pub max_in_flight: usize,
    /// gzip members from memory whose ISIZE is at most this are decoded
    /// whole by libdeflate (in parallel when there are several); larger
    /// ones are streamed, and 0 streams every member. Also the bound on the
    /// decoded bytes of members in flight. Default
    /// [`gzip::DEFAULT_MEMBER_CAP`].
    pub gzip_member_cap: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_in_flight: 2 * rayon::current_num_threads().max(1),
            gzip_member_cap: gzip::DEFAULT_MEMBER_CAP,
        }
    }
}

/// A decoder for `compression` over `input`. bzip2 blocks are decoded on the
/// current rayon pool.
pub fn decoder<'r, R: Read + Send + 'r>(compression: Compression, input: R, opts: Options) -> Box<dyn Decode + 'r> {
    match compression {
        Compression::Bzip2 => Box::new(bzip2::ParallelDecoder::new(input, opts.max_in_flight)),
        Compression::None => Box::new(Streaming::new("read", input, |r| r)),
        Compression::Gzip => Box::new(gzip::StreamGzip::new(input)),
        Compression::Xz => Box::new(xz::StreamXz::new(input)),
        Compression::Zstd => Box::new(zstd::StreamZstd::new(input)),
    }
}

/// A decoder for `compression` over bytes in memory (a mapped file or a
/// buffer): gzip members and zstd frames are decoded in parallel on the
/// current rayon pool (see [`gzip`] and [`zstd`]); the other formats go
/// through [`decoder`].
pub fn memory_decoder(compression: Compression, data: bytes::Bytes, opts: Options) -> Box<dyn Decode> {
    memory_decoder_scanned(compression, data, opts, |_| {})
}

/// [`memory_decoder`], reporting the progress of the up-front scan of the
/// whole input that gzip needs (its member candidates): `scanned(end)` after
/// each 16 MiB, so that a mapped source can drop the pages behind it and a
/// large file never becomes resident whole.
pub fn memory_decoder_scanned(compression: Compression, data: bytes::Bytes, opts: Options, scanned: impl FnMut(usize)) -> Box<dyn Decode> {
    match compression {
        Compression::Gzip => {
            let cands = gzip::candidates_in_steps(&data, 16 << 20, scanned);
            Box::new(gzip::MemoryGzip::new(data, opts.gzip_member_cap, opts.max_in_flight).with_candidates(cands))
        }
        Compression::Zstd => Box::new(zstd::MemoryZstd::new(
            data,
            opts.max_in_flight,
            zstd::memory_parallel(rayon::current_num_threads()),
        )),
        _ => decoder(compression, std::io::Cursor::new(data), opts),
    }
}

/// Everything `d` decodes, or its first error.
pub fn read_to_end(d: &mut dyn Decode) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    while let Some(c) = d.next_chunk() {
        out.extend_from_slice(c?);
    }
    Ok(out)
}

/// Decode all of `data` into memory through [`memory_decoder`].
pub fn decompress_all_in_memory(compression: Compression, data: &[u8], opts: Options) -> Result<Vec<u8>, DecodeError> {
    read_to_end(&mut *memory_decoder(compression, bytes::Bytes::copy_from_slice(data), opts))
}

/// Decode all of `data` into memory (tests, benches, small inputs).
pub fn decompress_all(compression: Compression, data: &[u8], opts: Options) -> Result<Vec<u8>, DecodeError> {
    read_to_end(&mut *decoder(compression, data, opts))
}

/// A buffered reader that counts the compressed bytes its decoder consumed.
struct Counted<R> {
    inner: std::io::BufReader<R>,
    consumed: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Read> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, n: usize) {
        self.consumed.fetch_add(n as u64, Ordering::Relaxed);
        self.inner.consume(n);
    }
}

/// A streaming decoder run through `Read`, on the caller's thread.
struct Streaming<'r> {
    format: &'static str,
    reader: Box<dyn Read + Send + 'r>,
    consumed: Arc<AtomicU64>,
    buf: Vec<u8>,
    done: bool,
}

impl<'r> Streaming<'r> {
    fn new<R, D, F>(format: &'static str, input: R, make: F) -> Streaming<'r>
    where
        R: Read + Send + 'r,
        D: Read + Send + 'r,
        F: FnOnce(Counted<R>) -> D,
    {
        let consumed = Arc::new(AtomicU64::new(0));
        let counted = Counted {
            inner: std::io::BufReader::with_capacity(INPUT_BUFFER, input),
            consumed: consumed.clone(),
        };
        Streaming {
            format,
            reader: Box::new(make(counted)),
            consumed,
            buf: Vec::new(),
            done: false,
        }
    }
}

impl Decode for Streaming<'_> {
    fn next_chunk(&mut self) -> Option<Result<&[u8], DecodeError>> {
        if self.done {
            return None;
        }
        if self.buf.len() < CHUNK {
            self.buf.resize(CHUNK, 0); // zeroed once, reused
        }
        loop {
            match self.reader.read(&mut self.buf) {
                Ok(0) => {
                    self.done = true;
                    return None;
                }
                Ok(n) => return Some(Ok(&self.buf[..n.min(self.buf.len())])),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.done = true;
                    let at = self.consumed.load(Ordering::Relaxed);
                    let keep_io = matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied);
                    let message = format!("{} stream damaged or truncated near compressed byte {at}: {e}", self.format);
                    let mut err = DecodeError::corrupt(message, Some(at));
                    if keep_io {
                        err.message = e.to_string();
                        err.io = Some(Arc::new(e));
                    }
                    return Some(Err(err));
                }
            }
        }
    }
}

/// A decoder that only reports an error (for example, the input could not
/// be opened).
pub struct FailedDecoder(pub Option<DecodeError>);

impl Decode for FailedDecoder {
    fn next_chunk(&mut self) -> Option<Result<&[u8], DecodeError>> {
        self.0.take().map(Err)
    }
}

/// [`Read`] over a [`Decode`]. A damaged region is returned as an error
/// of kind `InvalidData`; reading on goes on after it when the decoder
/// resumes.
pub struct DecodeReader<'r> {
    inner: Box<dyn Decode + 'r>,
    pending: Vec<u8>,
    pos: usize,
}

impl<'r> DecodeReader<'r> {
    /// Wrap a decoder.
    pub fn new(inner: Box<dyn Decode + 'r>) -> DecodeReader<'r> {
        DecodeReader {
            inner,
            pending: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for DecodeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.pending.len() {
            match self.inner.next_chunk() {
                None => return Ok(0),
                Some(Ok(c)) => {
                    // Copy straight out when the whole chunk fits.
                    if c.len() <= buf.len() {
                        buf[..c.len()].copy_from_slice(c);
                        return Ok(c.len());
                    }
                    self.pending.clear();
                    self.pending.extend_from_slice(c);
                    self.pos = 0;
                }
                Some(Err(e)) => {
                    let kind = e.io.as_ref().map_or(std::io::ErrorKind::InvalidData, |io| io.kind());
                    return Err(std::io::Error::new(kind, e));
                }
            }
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reader_gives_the_same_bytes_for_any_read_size() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8 ^ (i >> 12) as u8).collect();
        let mut bz = ::bzip2::write::BzEncoder::new(Vec::new(), ::bzip2::Compression::new(1));
        bz.write_all(&data).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        for (comp, c) in [
            (Compression::Bzip2, bz.finish().unwrap()),
            (Compression::Gzip, gz.finish().unwrap()),
        ] {
            for step in [1usize, 7, 4096, 1 << 20] {
                let mut r = DecodeReader::new(decoder(comp, &c[..], Options::default()));
                let mut out = Vec::new();
                let mut buf = vec![0u8; step];
                loop {
                    let n = r.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    out.extend_from_slice(&buf[..n]);
                }
                assert!(out == data, "{comp:?}, reads of {step}");
            }
            let mut bad = c.clone();
            bad.truncate(c.len() / 2);
            let mut r = DecodeReader::new(decoder(comp, &bad[..], Options::default()));
            let e = std::io::copy(&mut r, &mut std::io::sink()).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
            assert!(e.to_string().contains("compressed byte"), "{e}");
        }
    }
}
