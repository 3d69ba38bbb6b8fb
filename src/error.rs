//! The crate's single error type.
//!
//! Every decoding failure carries what went wrong ([`ErrorKind`]), the absolute
//! byte offset in the (decompressed) input where it was noticed, and, once the
//! framing layer has attached it, the zero-based index of the MRT record.
//! Constructors are `#[cold]` and never allocate (except [`ErrorKind::Io`]).

use std::fmt;
use std::sync::Arc;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error that occurred while reading or decoding an MRT archive.
#[derive(Clone, Debug)]
pub struct Error {
    kind: ErrorKind,
    offset: u64,
    record: Option<u64>,
}

/// What went wrong. Each variant names the offending field with a static
/// string so that errors can be counted by kind without allocating.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub enum ErrorKind {
    /// A field or structure runs past the end of its container.
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// A length field holds a value that cannot be right.
    BadLength {
        /// The length field.
        what: &'static str,
        /// The value found.
        declared: u32,
        /// The largest value that would have been possible.
        limit: u32,
    },
    /// A prefix length larger than the address family allows.
    InvalidPrefixLen {
        /// Address family identifier (1 = IPv4, 2 = IPv6).
        afi: u16,
        /// The prefix length found.
        bits: u8,
    },
    /// A RIB entry names a peer that the PEER_INDEX_TABLE does not have.
    PeerIndexOutOfRange {
        /// The peer index of the entry.
        index: u16,
        /// Number of peers in the table.
        peers: u16,
    },
    /// RIB records appeared before any PEER_INDEX_TABLE.
    MissingPeerIndexTable,
    /// A field holds a value the format does not allow.
    BadValue {
        /// The field.
        what: &'static str,
        /// The value found.
        value: u32,
    },
    /// Bytes between records that do not form a valid MRT header; the reader
    /// resynchronised on the next plausible header.
    Garbage {
        /// Number of bytes skipped.
        skipped: u64,
    },
    /// The compressed stream is damaged or ends early. A damaged region
    /// inside it (a gzip member, bzip2 block, zstd frame or xz stream) is
    /// skipped: decoding resumes at the next unit that decodes, and the
    /// decompressed stream is marked broken there (no MRT record is framed
    /// across the break).
    Decompress {
        /// The decompressor's message: format, unit, compressed offsets,
        /// where decoding resumed.
        message: Arc<str>,
        /// The compressed input ends inside the unit (a cut file): nothing
        /// after it was lost, and everything before it was decoded.
        end_of_input: bool,
        /// Decompressed bytes of the damaged region that were not handed
        /// out, where the format records the unit's size (gzip ISIZE, a
        /// zstd frame's content size); `None`: unknown.
        lost: Option<u64>,
    },
    /// A path attribute whose value is malformed in a way that makes its
    /// route treat-as-withdraw (RFC 7606; see [`crate::bgp::attr::Attrs::withdraw`]).
    MalformedAttribute {
        /// The attribute type code.
        code: u8,
        /// Its name ([`crate::bgp::attr::name`]), when the crate knows it.
        name: Option<&'static str>,
    },
    /// The input is not of the kind the operation needs.
    Unsupported {
        /// What is not supported.
        what: &'static str,
    },
    /// An input that is not empty holds no MRT record at all: not an MRT
    /// file (text, zeros, another format), or damaged from its start.
    NotMrt,
    /// An I/O error while opening, mapping or reading the input.
    Io(Arc<std::io::Error>),
}

impl ErrorKind {
    /// A short stable name for the kind, used as a key when counting errors.
    pub fn name(&self) -> &'static str {
        match self {
            ErrorKind::Truncated { .. } => "truncated",
            ErrorKind::BadLength { .. } => "bad-length",
            ErrorKind::InvalidPrefixLen { .. } => "invalid-prefix-length",
            ErrorKind::PeerIndexOutOfRange { .. } => "peer-index-out-of-range",
            ErrorKind::MissingPeerIndexTable => "missing-peer-index-table",
            ErrorKind::BadValue { .. } => "bad-value",
            ErrorKind::Garbage { .. } => "garbage",
            ErrorKind::Decompress { .. } => "decompress",
            ErrorKind::MalformedAttribute { .. } => "malformed-attribute",
            ErrorKind::Unsupported { .. } => "unsupported",
            ErrorKind::NotMrt => "not-mrt",
            ErrorKind::Io(_) => "io",
        }
    }
}

impl Error {
    /// Create an error of `kind` at absolute byte `offset`.
    #[cold]
    #[inline(never)]
    pub fn new(kind: ErrorKind, offset: u64) -> Error {
        Error {
            kind,
            offset,
            record: None,
        }
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn truncated(what: &'static str, needed: usize, available: usize, offset: u64) -> Error {
        Error::new(ErrorKind::Truncated { what, needed, available }, offset)
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn bad_length(what: &'static str, declared: u32, limit: u32, offset: u64) -> Error {
        Error::new(ErrorKind::BadLength { what, declared, limit }, offset)
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn bad_value(what: &'static str, value: u32, offset: u64) -> Error {
        Error::new(ErrorKind::BadValue { what, value }, offset)
    }

    /// Wrap an I/O error.
    #[cold]
    pub fn io(err: std::io::Error) -> Error {
        Error::new(ErrorKind::Io(Arc::new(err)), 0)
    }

    /// Attach the MRT record index (done once, by the framing layer).
    #[must_use]
    pub fn in_record(mut self, index: u64) -> Error {
        self.record = Some(index);
        self
    }

    /// Replace the offset (used when a decompressor reports its position).
    #[must_use]
    pub fn at(mut self, offset: u64) -> Error {
        self.offset = offset;
        self
    }

    /// Whether the error says only that the input ends early: a truncated
    /// final record or a compressed stream cut inside its last unit.
    /// Everything before it was decoded; partial downloads and archives cut
    /// at a size limit end this way. Damage inside a compressed stream that
    /// was skipped, and a record cut by it, is not an end of input.
    pub fn is_end_of_input(&self) -> bool {
        match &self.kind {
            ErrorKind::Truncated { what, .. } => matches!(*what, "MRT record" | "MRT header"),
            ErrorKind::Decompress { end_of_input, .. } => *end_of_input,
            _ => false,
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Absolute byte offset in the decompressed input.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Zero-based MRT record index, when known.
    pub fn record(&self) -> Option<u64> {
        self.record
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Truncated { what, needed, available } => write!(f, "truncated {what}: need {needed} bytes, {available} available"),
            ErrorKind::BadLength { what, declared, limit } => write!(f, "bad {what}: {declared} (at most {limit} possible)"),
            ErrorKind::InvalidPrefixLen { afi, bits } => {
                write!(f, "invalid prefix length {bits} for AFI {afi}")
            }
            ErrorKind::PeerIndexOutOfRange { index, peers } => {
                write!(f, "peer index {index} out of range ({peers} peers)")
            }
            ErrorKind::MissingPeerIndexTable => f.write_str("RIB record without a PEER_INDEX_TABLE"),
            ErrorKind::BadValue { what, value } => write!(f, "bad {what}: {value}"),
            ErrorKind::Garbage { skipped } => {
                write!(f, "{skipped} bytes of garbage between records skipped")
            }
            ErrorKind::Decompress {
                message,
                end_of_input: true,
                ..
            } => write!(f, "decompression failed: {message}"),
            ErrorKind::Decompress {
                message, lost: Some(n), ..
            } => write!(f, "decompression failed: {message}; decompressed bytes lost: {n}"),
            ErrorKind::Decompress { message, lost: None, .. } => {
                write!(f, "decompression failed: {message}; decompressed bytes lost: unknown")
            }
            ErrorKind::MalformedAttribute { code, name } => match name {
                Some(n) => write!(f, "malformed {n} attribute: route treated as withdrawn (RFC 7606)"),
                None => write!(f, "malformed attribute of type {code}: route treated as withdrawn (RFC 7606)"),
            },
            ErrorKind::Unsupported { what } => write!(f, "unsupported: {what}"),
            ErrorKind::NotMrt => f.write_str("no MRT record found: not an MRT file, or damaged from its start"),
            ErrorKind::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(r) = self.record {
            write!(f, "record {r} ")?;
        }
        write!(f, "at byte {:#x}: {}", self.offset, self.kind)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io(e) => Some(&**e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::io(e)
    }
}

/// Text that does not parse as the value asked for: a [`Prefix`](crate::Prefix)
/// (`"192.0.2.0/33"`), a full-feed rule
/// ([`FullFeed`](crate::snapshot::FullFeed)). Its message names the text
/// and what is wrong with it.
///
/// # Example
/// ```
/// let e = "192.0.2.0/33".parse::<mrtsnap::Prefix>().unwrap_err();
/// assert_eq!(e.to_string(), "192.0.2.0/33: prefix length out of range");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    message: String,
}

impl ParseError {
    pub(crate) fn new(message: impl Into<String>) -> ParseError {
        ParseError { message: message.into() }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}
