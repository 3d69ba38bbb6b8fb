//! Deterministic synthetic MRT archives with known ground truth.
//!
//! This module writes realistic RFC 6396 MRT files for tests, benchmarks and
//! samples, without network access or real archives:
//!
//! * [`write_rib`]: a TABLE_DUMP_V2 RIB snapshot (PEER_INDEX_TABLE plus
//!   RIB_IPV4_UNICAST / RIB_IPV6_UNICAST records, or the RFC 8050 add-path
//!   variants), returning the true prefix-origin pairs ([`TruthRow`]) with
//!   per-pair peer counts. [`write_truth`] renders them as text.
//! * [`write_updates`]: a BGP4MP / BGP4MP_ET updates file (UPDATE, KEEPALIVE,
//!   OPEN, STATE_CHANGE records, 2-byte and 4-byte AS sessions).
//! * [`write_to`] / [`write_compressed`]: the same through gzip, bzip2, zstd
//!   or xz ([`Compression`]).
//! * [`archive::write_archive`]: a collector's archive over hours or days
//!   (RIB dumps and updates files in RouteViews or RIS names and folders)
//!   with the true pairs at chosen instants, for checking
//!   [`crate::replay`] against a model of its own.
//! * [`scenario::Nk2014`]: two collectors' archives over one table, with
//!   an origin's outages and what else happens written down beside (the
//!   acceptance scenario of visibility timelines and outage detection).
//!
//! Output is a pure function of the options: the generators use their own
//! PRNGs (SplitMix64 and xoshiro256**) and only integer and basic IEEE-754
//! arithmetic, never the platform's `HashMap` iteration order, libm, or the
//! thread count, so a given seed yields the same bytes everywhere, forever
//! (compressed output additionally depends on the compression library).
//!
//! The module writes with the crate's codes, formats and names, never with
//! its decoders or its replay: what it writes is checked by them, not made
//! by them.
//!
//! # Presets and what they stand for
//!
//! | [`RibOptions`] | CLI `--preset` | calibrated against |
//! |---|---|---|
//! | [`jinx_like`](RibOptions::jinx_like) | `jinx` | route-views.jinx RIB of 2014-05-30 (the corpus file, whole) |
//! | [`route_views2_like`](RibOptions::route_views2_like) | `route-views2` | route-views2 RIB of 2014-05-23 (the corpus's first MB) |
//! | [`route_views6_like`](RibOptions::route_views6_like) | `route-views6` | route-views6 RIB of 2015-11-01 (the corpus's first MB) |
//! | [`default`](RibOptions::default), [`rrc00_like`](RibOptions::rrc00_like), [`small`](RibOptions::small) | `default`, `rrc00`, `small` | shape only (issue 4's histograms), not cost |
//!
//! The three calibrated presets copy their real file's shape (peers and
//! their coverage, entry order, attribute mix, AS path lengths), and
//! `benches/calibrate.sh` holds their decode cost per byte (callgrind
//! instructions of a one-thread snapshot) within 20 % of the real file's.
//! `docs/calibration.md` has both comparisons.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use mrtsnap::synth::{write_truth, Compression, RibOptions};
//!
//! let summary = RibOptions::small().write_to("sample.mrt.gz".as_ref(), Compression::Gzip)?;
//! write_truth(&summary.truth, std::fs::File::create("sample.truth.tsv")?)?;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

pub mod archive;
mod prefix;
mod rib;
mod rng;
pub mod scenario;
mod topology;
mod truth;
mod updates;
mod wire;

#[cfg(test)]
mod tests;

pub use rib::{rib_truth, write_rib, EntryOrder, RibOptions, RibSummary, MAX_COMMUNITIES, MAX_PEERS, MAX_PREFIXES_PER_FAMILY};
pub use truth::{write_truth, Origin, TruthRow};
pub use updates::{write_updates, UpdatesOptions, UpdatesSummary, MAX_UPDATE_PEERS};

/// Errors of the synthetic generators.
#[derive(Debug)]
pub enum SynthError {
    /// An option is out of range or inconsistent.
    InvalidOption {
        /// Name of the offending option field.
        option: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Writing (or compressing) the output failed.
    Io(io::Error),
}

impl SynthError {
    /// Shorthand for [`SynthError::InvalidOption`].
    pub(crate) fn invalid(option: &'static str, reason: impl Into<String>) -> Self {
        SynthError::InvalidOption {
            option,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for SynthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SynthError::InvalidOption { option, reason } => write!(f, "invalid option `{option}`: {reason}"),
            SynthError::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

impl std::error::Error for SynthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SynthError::Io(e) => Some(e),
            SynthError::InvalidOption { .. } => None,
        }
    }
}

impl From<io::Error> for SynthError {
    fn from(e: io::Error) -> Self {
        SynthError::Io(e)
    }
}

impl From<SynthError> for io::Error {
    fn from(e: SynthError) -> Self {
        match e {
            SynthError::Io(e) => e,
            other => io::Error::new(io::ErrorKind::InvalidInput, other.to_string()),
        }
    }
}

/// Output compression for [`write_to`] / [`write_compressed`]: the crate's
/// one [`Compression`](crate::decompress::Compression).
pub use crate::decompress::Compression;

/// Runs `generate` on a writer that compresses into `out`, then finishes
/// the compressed stream and flushes `out`.
///
/// `generate` is typically `|w| write_rib(&opts, w)` or
/// `|w| write_updates(&opts, w)`.
pub fn write_compressed<W, T, F>(out: W, compression: Compression, generate: F) -> Result<T, SynthError>
where
    W: Write,
    F: FnOnce(&mut dyn Write) -> Result<T, SynthError>,
{
    match compression {
        Compression::None => {
            let mut w = BufWriter::with_capacity(1 << 20, out);
            let t = generate(&mut w)?;
            w.flush()?;
            Ok(t)
        }
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(out, flate2::Compression::default());
            let t = generate(&mut e)?;
            e.finish()?.flush()?;
            Ok(t)
        }
        Compression::Bzip2 => {
            let mut e = bzip2::write::BzEncoder::new(out, bzip2::Compression::default());
            let t = generate(&mut e)?;
            e.finish()?.flush()?;
            Ok(t)
        }
        Compression::Zstd => {
            let mut e = zstd::stream::write::Encoder::new(out, 3)?;
            let t = generate(&mut e)?;
            e.finish()?.flush()?;
            Ok(t)
        }
        Compression::Xz => {
            let mut e = liblzma::write::XzEncoder::new(out, 6);
            let t = generate(&mut e)?;
            e.finish()?.flush()?;
            Ok(t)
        }
    }
}

/// Creates (truncates) the file at `path` and runs `generate` on a writer
/// that compresses into it (see [`write_compressed`]). On error the partial
/// file is removed.
///
/// ```no_run
/// # fn main() -> Result<(), mrtsnap::synth::SynthError> {
/// use mrtsnap::synth::{write_to, write_updates, Compression, UpdatesOptions};
///
/// let opts = UpdatesOptions::small();
/// let summary = write_to("updates.mrt.bz2".as_ref(), Compression::Bzip2, |w| write_updates(&opts, w))?;
/// assert_eq!(summary.records as usize, opts.messages);
/// # Ok(())
/// # }
/// ```
pub fn write_to<T, F>(path: &Path, compression: Compression, generate: F) -> Result<T, SynthError>
where
    F: FnOnce(&mut dyn Write) -> Result<T, SynthError>,
{
    let file = File::create(path)?;
    let result = write_compressed(BufWriter::with_capacity(1 << 20, file), compression, generate);
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}
