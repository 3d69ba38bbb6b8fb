//! xz, streamed: one stream at a time through liblzma's stream decoder
//! over a sliding window of the compressed input ([`Window`]), the same
//! for a file, standard input and bytes in memory.
//!
//! An xz file is one or more streams (a 12-byte header whose flags carry
//! a CRC32, blocks, an index, a footer), with zero bytes of padding
//! between them. Damage inside a stream (a block's check, corrupt LZMA2
//! data, a damaged index or footer) loses the rest of that stream: the
//! bytes decoded before liblzma noticed are handed out, the region is
//! reported, and decoding resumes at the next stream header after the
//! damaged stream's start ([`is_stream_start`]: magic, flags and their
//! CRC32), looked for from [`LOOKBACK`] before where the damage was noticed
//! at the earliest. `xz -dc` stops at the first damaged stream; this
//! decodes the streams after it too. The bytes lost are unknown (only the
//! damaged stream's index, at its end, records them).
//!
//! Input is given to liblzma in steps of [`STEP`] bytes whatever the
//! reader returns, so that the bytes handed out before an error never
//! depend on how the input arrived.

use super::window::{Window, LOOKBACK};
use super::{Decode, DecodeError, CHUNK};
use liblzma::stream::{Action, Status, Stream};
use std::io::Read;

/// Compressed bytes given to liblzma per call.
const STEP: usize = 64 << 10;

/// Memory liblzma may use for one stream (its dictionary, mostly): `xz
/// -9` needs 65 MiB; a header asking for more is damage, not an
/// allocation.
const MEMLIMIT: u64 = 256 << 20;

const MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0];

/// Whether an xz stream header starts at the start of `b` (12 bytes):
/// magic, flags with the reserved bits clear, and the CRC32 of the flags.
pub fn is_stream_start(b: &[u8]) -> bool {
    b.len() >= 12
        && b[..6] == MAGIC
        && b[6] == 0
        && b[7] & 0xf0 == 0
        && libdeflater::crc32(&b[6..8]).to_le_bytes() == [b[8], b[9], b[10], b[11]]
}

/// Where [`StreamXz`] is.
enum At {
    /// Between streams: padding or a stream header is next.
    Between(u64),
    /// Inside the stream starting here; liblzma has read up to `read`.
    Stream {
        start: u64,
        read: u64,
    },
    Done,
}

/// The xz decoder (see the module documentation).
pub struct StreamXz<R> {
    win: Window<R>,
    at: At,
    stream: Option<Stream>,
    /// Index of the stream being decoded.
    index: u64,
    out: Vec<u8>,
    /// Damage met after some output: (stream start, where, what), reported
    /// on the next call.
    pending: Option<(u64, u64, String)>,
}

impl<R: Read> StreamXz<R> {
    /// A decoder over the xz stream(s) read from `input`.
    pub fn new(input: R) -> StreamXz<R> {
        StreamXz {
            win: Window::new(input),
            at: At::Between(0),
            stream: None,
            index: 0,
            out: vec![0; CHUNK],
            pending: None,
        }
    }

    /// Report the damaged stream at `start` (damage noticed at `at`) and go
    /// on at the next stream header after it.
    fn damaged(&mut self, start: u64, at: u64, what: &str) -> DecodeError {
        self.stream = None;
        let from = (start + 1).max(at.saturating_sub(LOOKBACK));
        let next = match self.win.find(from, 12, &mut is_stream_start) {
            Ok(n) => n,
            Err(e) => {
                self.at = At::Done;
                return e;
            }
        };
        let unit = format!("xz stream {} at compressed byte {start}", self.index);
        let e = match next {
            Some(c) => DecodeError {
                resumes_at: Some(c),
                ..DecodeError::corrupt(
                    format!("{unit} damaged near compressed byte {at}: {what}; skipped to compressed byte {c}"),
                    Some(at),
                )
            },
            None if what.starts_with("truncated") => {
                DecodeError::truncated(format!("{unit} truncated near compressed byte {at}: {what}"), Some(at))
            }
            None => DecodeError::corrupt(
                format!("{unit} damaged near compressed byte {at}: {what}; no stream follows"),
                Some(at),
            ),
        };
        self.index += 1;
        self.at = next.map_or(At::Done, At::Between);
        e
    }

    /// The length of the next output piece (in `out`), or an error.
    fn step(&mut self) -> Option<Result<usize, DecodeError>> {
        if let Some((start, at, what)) = self.pending.take() {
            return Some(Err(self.damaged(start, at, &what)));
        }
        loop {
            match self.at {
                At::Done => return None,
                At::Between(pos) => {
                    self.win.release(pos.saturating_sub(LOOKBACK));
                    if let Err(e) = self.win.fill_to(pos + STEP as u64) {
                        self.at = At::Done;
                        return Some(Err(e));
                    }
                    let b = self.win.from(pos);
                    if b.is_empty() {
                        self.at = At::Done;
                        return None;
                    }
                    // Stream padding (zero bytes) between streams.
                    let zeros = b.iter().take_while(|&&x| x == 0).count();
                    if zeros > 0 {
                        self.at = At::Between(pos + zeros as u64);
                        continue;
                    }
                    if !b.starts_with(&MAGIC[..b.len().min(6)]) || b.len() < 6 {
                        let what = if b.len() < 6 && MAGIC.starts_with(b) {
                            "truncated stream header"
                        } else {
                            "not an xz stream header"
                        };
                        return Some(Err(self.damaged(pos, pos, what)));
                    }
                    match Stream::new_stream_decoder(MEMLIMIT, 0) {
                        Ok(s) => self.stream = Some(s),
                        Err(e) => return Some(Err(self.damaged(pos, pos, &e.to_string()))),
                    }
                    self.at = At::Stream { start: pos, read: pos };
                }
                At::Stream { start, read } => {
                    self.win.release(read.saturating_sub(LOOKBACK));
                    if let Err(e) = self.win.fill_to(read + STEP as u64) {
                        self.at = At::Done;
                        return Some(Err(e));
                    }
                    let eof = self.win.is_eof();
                    let b = self.win.from(read);
                    let input = &b[..b.len().min(STEP)];
                    let Some(stream) = self.stream.as_mut() else {
                        self.at = At::Done;
                        return None;
                    };
                    let (in0, out0) = (stream.total_in(), stream.total_out());
                    let r = stream.process(input, &mut self.out, Action::Run);
                    let used = stream.total_in() - in0;
                    let n = (stream.total_out() - out0) as usize;
                    let now = read + used;
                    match r {
                        Ok(Status::StreamEnd) => {
                            self.stream = None;
                            self.index += 1;
                            self.at = At::Between(now);
                        }
                        Ok(_) if n == 0 && used == 0 && input.is_empty() && eof => {
                            return Some(Err(self.damaged(start, now, "truncated: the input ends inside this stream")));
                        }
                        Ok(_) if n == 0 && used == 0 => {
                            return Some(Err(self.damaged(start, now, "the decoder made no progress")));
                        }
                        Ok(_) => self.at = At::Stream { start, read: now },
                        Err(e) => {
                            let what = match e {
                                liblzma::stream::Error::MemLimit => "the stream needs more than 256 MiB of memory".to_string(),
                                e => e.to_string(),
                            };
                            if n > 0 {
                                // Hand out what came before the damage; the
                                // error comes next.
                                self.pending = Some((start, now, what));
                                return Some(Ok(n));
                            }
                            return Some(Err(self.damaged(start, now, &what)));
                        }
                    }
                    if n > 0 {
                        return Some(Ok(n));
                    }
                }
            }
        }
    }
}

impl<R: Read + Send> Decode for StreamXz<R> {
    fn next_chunk(&mut self) -> Option<Result<&[u8], DecodeError>> {
        match self.step()? {
            Ok(n) => Some(Ok(&self.out[..n])),
            Err(e) => Some(Err(e)),
        }
    }
}
