//! Output files that never destroy anything.
//!
//! - A regular file is written under a temporary name beside its final one
//!   (`.NAME.mrtsnap-PID-N.tmp`: hidden, in the same directory so that the
//!   rename is atomic), flushed to disk and renamed into place only when
//!   complete ([`Output::finish`]). Until then an earlier file of that name
//!   is untouched; on any error, Ctrl-C or a fault in a mapped input the
//!   temporary file is removed ([`crate::signals`]). A symbolic link as the
//!   output is followed: its target is replaced, the link kept.
//! - Standard output (`-`), pipes, FIFOs and devices such as `/dev/null` are
//!   written directly: they cannot be renamed into.
//! - An output that is one of the inputs (the same file, also through a
//!   symbolic or hard link) is refused before anything is opened
//!   ([`refuse_inputs_as_outputs`]).

use anyhow::{bail, Context};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// An output being written.
pub struct Output {
    name: String,
    inner: Inner,
}

enum Inner {
    Stdout(io::Stdout),
    /// A FIFO, socket or device: written in place.
    Direct(File),
    /// A regular file, written under `tmp` and renamed to `dest`.
    Temp {
        file: File,
        tmp: PathBuf,
        dest: PathBuf,
        slot: Option<usize>,
    },
    /// Renamed, or removed: nothing left to clean up.
    Done,
}

/// Identity of a file: device and inode (the path itself where there are none).
#[derive(PartialEq, Eq)]
struct FileId(#[cfg(unix)] (u64, u64), #[cfg(not(unix))] PathBuf);

impl FileId {
    fn of_path(path: &Path) -> Option<FileId> {
        Self::of(&fs::metadata(path).ok()?, path)
    }

    #[cfg(unix)]
    fn of(m: &fs::Metadata, _: &Path) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        Some(FileId((m.dev(), m.ino())))
    }

    #[cfg(not(unix))]
    fn of(_: &fs::Metadata, path: &Path) -> Option<FileId> {
        fs::canonicalize(path).ok().map(FileId)
    }

    /// Standard output, when it is a regular file (`> FILE`, `>> FILE`).
    fn of_stdout() -> Option<FileId> {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            let fd = io::stdout().as_fd().try_clone_to_owned().ok()?;
            let m = File::from(fd).metadata().ok()?;
            m.is_file().then(|| Self::of(&m, Path::new("-"))).flatten()
        }
        #[cfg(not(unix))]
        None
    }
}

/// Refuse (before anything is opened for writing) any output that is one
/// of the inputs: the same file, also through a link. `-` as an output is
/// standard output, refused when it was redirected to an input.
pub fn refuse_inputs_as_outputs<I: AsRef<str>, O: AsRef<str>>(inputs: &[I], outputs: &[O]) -> anyhow::Result<()> {
    let ins: Vec<(FileId, &str)> = inputs
        .iter()
        .map(AsRef::as_ref)
        .filter(|i| *i != "-")
        .filter_map(|i| Some((FileId::of_path(Path::new(i))?, i)))
        .collect();
    for o in outputs.iter().map(AsRef::as_ref) {
        let id = if o == "-" {
            FileId::of_stdout()
        } else {
            FileId::of_path(Path::new(o))
        };
        if let Some((_, input)) = id.and_then(|id| ins.iter().find(|(i, _)| *i == id)) {
            if o == "-" {
                bail!("standard output is the input {input}: refusing to overwrite it");
            }
            bail!("output {o} is the input {input}: refusing to overwrite it");
        }
    }
    Ok(())
}

/// Whether two input paths name the same file (also through links).
pub fn same_file(a: &str, b: &str) -> bool {
    a == b || matches!((FileId::of_path(Path::new(a)), FileId::of_path(Path::new(b))), (Some(x), Some(y)) if x == y)
}

static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

impl Output {
    /// Open `path` for writing (see the module documentation).
    pub fn create(path: &str) -> anyhow::Result<Output> {
        let name = path.to_string();
        if path == "-" {
            return Ok(Output {
                name,
                inner: Inner::Stdout(io::stdout()),
            });
        }
        let given = Path::new(path);
        // A link is followed: the file it points to is the one replaced.
        let dest = match fs::symlink_metadata(given) {
            Ok(m) if m.file_type().is_symlink() => fs::canonicalize(given).unwrap_or_else(|_| given.to_path_buf()),
            _ => given.to_path_buf(),
        };
        let existing = fs::metadata(&dest).ok();
        if let Some(m) = &existing {
            if m.is_dir() {
                bail!("cannot write {path}: it is a directory");
            }
            if !m.is_file() {
                let file = OpenOptions::new()
                    .write(true)
                    .open(&dest)
                    .with_context(|| format!("cannot open {path} for writing"))?;
                return Ok(Output {
                    name,
                    inner: Inner::Direct(file),
                });
            }
        }
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let file_name = dest.file_name().with_context(|| format!("cannot write {path}: no file name"))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(file_name);
        tmp_name.push(format!(
            ".mrtsnap-{}-{}.tmp",
            std::process::id(),
            NEXT_TEMP.fetch_add(1, Ordering::Relaxed)
        ));
        let tmp = dir.join(tmp_name);
        let slot = crate::signals::register_temp(&tmp);
        let file = match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => f,
            Err(e) => {
                if let Some(s) = slot {
                    crate::signals::unregister_temp(s);
                }
                return Err(e).with_context(|| format!("cannot create a temporary file for {path} in {}", dir.display()));
            }
        };
        // Replacing a file keeps its permissions.
        if let Some(m) = existing {
            let _ = file.set_permissions(m.permissions());
        }
        Ok(Output {
            name,
            inner: Inner::Temp { file, tmp, dest, slot },
        })
    }

    /// Flush, and put a temporary file in place under its final name.
    pub fn finish(mut self) -> anyhow::Result<()> {
        let r = self.finish_inner();
        if r.is_err() {
            self.discard();
        }
        r.with_context(|| format!("writing {}", self.name))
    }

    fn finish_inner(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Stdout(s) => s.flush(),
            Inner::Direct(f) => f.flush(),
            Inner::Temp { file, tmp, dest, slot } => {
                file.flush()?;
                file.sync_data()?;
                fs::rename(&*tmp, &*dest)?;
                if let Some(s) = slot.take() {
                    crate::signals::unregister_temp(s);
                }
                self.inner = Inner::Done;
                Ok(())
            }
            Inner::Done => Ok(()),
        }
    }

    /// Remove a temporary file (nothing reaches the final name).
    fn discard(&mut self) {
        if let Inner::Temp { tmp, slot, .. } = &mut self.inner {
            let _ = fs::remove_file(&*tmp);
            if let Some(s) = slot.take() {
                crate::signals::unregister_temp(s);
            }
            self.inner = Inner::Done;
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        self.discard();
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Stdout(s) => s.write(buf),
            Inner::Direct(f) | Inner::Temp { file: f, .. } => f.write(buf),
            Inner::Done => Err(io::Error::other("output already closed")),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.inner {
            Inner::Stdout(s) => s.write_all(buf),
            Inner::Direct(f) | Inner::Temp { file: f, .. } => f.write_all(buf),
            Inner::Done => Err(io::Error::other("output already closed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Stdout(s) => s.flush(),
            Inner::Direct(f) | Inner::Temp { file: f, .. } => f.flush(),
            Inner::Done => Ok(()),
        }
    }
}
