//! Input fingerprints: what a rerun compares to decide that an input has not
//! changed since its output was written.
//!
//! - `fast1:HEX` (default): SHA-256 of the size (8 bytes, little-endian),
//!   the first MiB and the last MiB of the file (the whole file when it is
//!   at most 2 MiB), first 128 bits in hex. Two MiB read per input, whatever
//!   its size: a re-download that changed or cut the file changes its size
//!   or its tail, which is where truncated and re-published dumps differ.
//! - `sha256:HEX` (`--sha256`): SHA-256 of the whole file, one extra
//!   sequential read per input (the file is then in the page cache for the
//!   decoder).
//!
//! On a rerun the manifest's size and modification time are compared
//! first: when both are unchanged the input is taken as unchanged without
//! reading it (`--verify` re-reads and compares the fingerprint anyway);
//! when only the time changed, the fingerprint decides.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// Which fingerprint to compute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Size, first and last MiB (`fast1:`).
    #[default]
    Fast,
    /// The whole file (`sha256:`).
    Sha256,
}

impl Mode {
    /// The mode a stored fingerprint was made with.
    pub fn of(fingerprint: &str) -> Option<Mode> {
        if fingerprint.starts_with("fast1:") {
            Some(Mode::Fast)
        } else if fingerprint.starts_with("sha256:") {
            Some(Mode::Sha256)
        } else {
            None
        }
    }
}

const EDGE: u64 = 1 << 20;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn feed<R: Read>(r: &mut R, h: &mut Sha256, mut n: u64) -> io::Result<()> {
    let mut buf = vec![0u8; 1 << 16];
    while n > 0 {
        let want = usize::try_from(n.min(buf.len() as u64)).unwrap_or(buf.len());
        let got = r.read(buf.get_mut(..want).unwrap_or(&mut []))?;
        if got == 0 {
            break;
        }
        h.update(buf.get(..got).unwrap_or(&[]));
        n -= got as u64;
    }
    Ok(())
}

/// The fingerprint of the file at `path`.
///
/// ```
/// use mrtsnap::dataset::fingerprint::{fingerprint, Mode};
/// let p = std::env::temp_dir().join(format!("mrtsnap-fp-{}", std::process::id()));
/// std::fs::write(&p, b"abc")?;
/// assert_eq!(fingerprint(&p, Mode::Sha256)?, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
/// assert!(fingerprint(&p, Mode::Fast)?.starts_with("fast1:"));
/// # std::fs::remove_file(&p)?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// When the file cannot be read.
pub fn fingerprint(path: &Path, mode: Mode) -> io::Result<String> {
    let mut f = File::open(path)?;
    let size = f.metadata()?.len();
    let mut h = Sha256::new();
    match mode {
        Mode::Sha256 => {
            feed(&mut f, &mut h, u64::MAX)?;
            Ok(format!("sha256:{}", hex(&h.finalize())))
        }
        Mode::Fast => {
            h.update(size.to_le_bytes());
            if size <= 2 * EDGE {
                feed(&mut f, &mut h, size)?;
            } else {
                feed(&mut f, &mut h, EDGE)?;
                f.seek(SeekFrom::Start(size - EDGE))?;
                feed(&mut f, &mut h, EDGE)?;
            }
            let d = h.finalize();
            Ok(format!("fast1:{}", hex(d.get(..16).unwrap_or(&[]))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_sees_size_head_and_tail() {
        let p = std::env::temp_dir().join(format!("mrtsnap-fp-t-{}", std::process::id()));
        let mut data = vec![7u8; 3 << 20];
        std::fs::write(&p, &data).unwrap();
        let a = fingerprint(&p, Mode::Fast).unwrap();
        data[(3 << 20) - 1] = 8;
        std::fs::write(&p, &data).unwrap();
        let b = fingerprint(&p, Mode::Fast).unwrap();
        data[(3 << 20) - 1] = 7;
        data[1 << 20] = 9; // the middle is not looked at
        std::fs::write(&p, &data).unwrap();
        let c = fingerprint(&p, Mode::Fast).unwrap();
        data.pop();
        std::fs::write(&p, &data).unwrap();
        let d = fingerprint(&p, Mode::Fast).unwrap();
        assert!(a != b && a == c && a != d);
        assert_ne!(fingerprint(&p, Mode::Sha256).unwrap(), c);
        assert_eq!(Mode::of(&a), Some(Mode::Fast));
        std::fs::remove_file(&p).unwrap();
    }
}
