//! Finding the inputs: directories (walked recursively), glob patterns and
//! lists of paths.
//!
//! Every input found gets a *relative path*, the path below the INPUT it was
//! found under, with `/` separators: below the directory for a directory,
//! below the pattern's literal leading directories for a glob
//! (`archive/rrc*/2014.*/bview.*` → relative to `archive`), and the path as
//! written for a file named directly or listed. Shards are assigned by a
//! hash of it ([`super::shard`]), so machines that mount the archive in
//! different places agree.
//!
//! Walks are sorted by name, skip names starting with `.` (temporary
//! files, editors' and rsync's partial transfers) and the output directory
//! (when it is the INPUT itself: its `_manifest` and `collector=…` entries),
//! and do not follow symbolic links to directories (no loops). Names are
//! bytes: paths are kept as [`path_text`] (lossless; bytes that are not
//! UTF-8 as `\xHH`), opened through [`text_path`]. Symbolic links
//! to files are followed; a dangling one is kept as an input, so that it is
//! recorded as unreadable.

use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// One input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The path to open.
    pub path: PathBuf,
    /// The path as found (the INPUT as given, joined with the relative
    /// path), as text ([`path_text`]): the manifest key, and the `file`
    /// recorded in snapshots.
    pub display: String,
    /// The path relative to the INPUT it was found under (see the module
    /// docs), as text ([`path_text`]).
    pub rel: String,
    /// Size in bytes (0 when it cannot be read).
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch (0 when unknown).
    pub mtime_ns: i64,
    /// Why the file cannot be looked at, when it cannot.
    pub stat_error: Option<String>,
}

impl Input {
    fn new(path: PathBuf, display: String, rel: String) -> Input {
        let (size, mtime_ns, stat_error) = match fs::metadata(&path) {
            Ok(m) if m.is_file() => (m.len(), mtime_ns(&m), None),
            Ok(_) => (0, 0, Some("not a regular file".to_string())),
            Err(e) => (0, 0, Some(e.to_string())),
        };
        Input {
            path,
            display,
            rel,
            size,
            mtime_ns,
            stat_error,
        }
    }
}

/// Modification time in nanoseconds since the Unix epoch (0 when unknown).
pub fn mtime_ns(m: &fs::Metadata) -> i64 {
    m.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// The bytes of a file name or path (on Unix, exactly; elsewhere its
/// UTF-8, lossily).
pub fn os_bytes(s: &OsStr) -> Cow<'_, [u8]> {
    #[cfg(unix)]
    {
        Cow::Borrowed(std::os::unix::ffi::OsStrExt::as_bytes(s))
    }
    #[cfg(not(unix))]
    {
        match s.to_string_lossy() {
            Cow::Borrowed(t) => Cow::Borrowed(t.as_bytes()),
            Cow::Owned(t) => Cow::Owned(t.into_bytes()),
        }
    }
}

/// The path of these bytes (the inverse of [`os_bytes`]).
pub fn bytes_path(b: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        PathBuf::from(<OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(b).into_owned())
    }
}

/// Path bytes as text, losslessly: UTF-8 as it is (newlines included),
/// every byte that is not UTF-8 as `\xHH`, and a `\` doubled where it
/// comes before an `x`, another `\` or an escaped byte (so that it cannot
/// be read as the start of an escape). With `controls`, control characters
/// are escaped too (for log lines and `--dry-run`). [`text_bytes`] reads
/// both forms back.
///
/// ```
/// use mrtsnap::dataset::discover::{escape_bytes, text_bytes};
/// assert_eq!(escape_bytes(b"rrc00/bview.gz", false), "rrc00/bview.gz");
/// assert_eq!(escape_bytes(b"caf\xc3\xa9 \xff.gz", false), r"café \xff.gz");
/// assert_eq!(escape_bytes(br"C:\dumps\x41", false), r"C:\dumps\\x41");
/// assert_eq!(escape_bytes(b"\\\xff", false), r"\\\xff");
/// assert_eq!(escape_bytes(b"line\n.mrt", false), "line\n.mrt");
/// assert_eq!(escape_bytes(b"line\n.mrt", true), r"line\x0a.mrt");
/// for b in [&b"a\xff\\b\\"[..], b"\\\\\xff", b"line\n\\\n", br"\x41\\x"] {
///     assert_eq!(text_bytes(&escape_bytes(b, false)), b);
///     assert_eq!(text_bytes(&escape_bytes(b, true)), b);
/// }
/// ```
pub fn escape_bytes(b: &[u8], controls: bool) -> String {
    let mut out = String::with_capacity(b.len());
    let escaped = |c: char| controls && c.is_control();
    for chunk in b.utf8_chunks() {
        let valid = chunk.valid();
        let mut chars = valid.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\\' {
                out.push('\\');
                let next_escaped = match chars.peek() {
                    Some(&n) => n == 'x' || n == '\\' || escaped(n),
                    None => !chunk.invalid().is_empty(),
                };
                if next_escaped {
                    out.push('\\');
                }
            } else if escaped(c) {
                out.push_str(&format!("\\x{:02x}", u32::from(c)));
            } else {
                out.push(c);
            }
        }
        for x in chunk.invalid() {
            out.push_str(&format!("\\x{x:02x}"));
        }
    }
    out
}

/// The bytes [`escape_bytes`] wrote: `\\` is one `\`, `\xHH` one byte,
/// any other `\` itself.
pub fn text_bytes(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let hex = |c: u8| char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'\\' {
            match (
                b.get(i + 1),
                b.get(i + 2).copied().and_then(hex),
                b.get(i + 3).copied().and_then(hex),
            ) {
                (Some(b'\\'), _, _) => {
                    out.push(b'\\');
                    i += 2;
                    continue;
                }
                (Some(b'x'), Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 4;
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// A path as text ([`escape_bytes`] of its bytes): what the manifest
/// records.
pub fn path_text(p: &Path) -> String {
    escape_bytes(&os_bytes(p.as_os_str()), false)
}

/// The path a text of [`path_text`] names.
pub fn text_path(s: &str) -> PathBuf {
    bytes_path(&text_bytes(s))
}

/// A path text for log lines and `--dry-run`: control characters (a
/// newline in a file name) escaped as well, so one input is one line.
pub fn shown(text: &str) -> Cow<'_, str> {
    if text.contains(|c: char| c.is_control()) {
        Cow::Owned(escape_bytes(&text_bytes(text), true))
    } else {
        Cow::Borrowed(text)
    }
}

/// Whether `s` holds glob metacharacters (`*`, `?`, `[`).
pub fn is_glob(s: &[u8]) -> bool {
    s.iter().any(|c| matches!(c, b'*' | b'?' | b'['))
}

/// `a//b/./c/` → `a/b/c`; keeps a leading `/`.
fn normalize(s: &[u8]) -> Vec<u8> {
    let abs = s.first() == Some(&b'/');
    let parts: Vec<&[u8]> = s.split(|&c| c == b'/').filter(|c| !c.is_empty() && *c != b".").collect();
    let joined = parts.join(&b'/');
    match (abs, joined.is_empty()) {
        (true, _) => [&b"/"[..], &joined].concat(),
        (false, true) => b".".to_vec(),
        (false, false) => joined,
    }
}

fn join(base: &str, rel: &str) -> String {
    match base {
        "." | "" => rel.to_string(),
        "/" => format!("/{rel}"),
        b => format!("{b}/{rel}"),
    }
}

/// One directory entry: name as text, name bytes, path, whether a directory.
struct Entry {
    text: String,
    path: PathBuf,
    is_dir: bool,
}

/// What to leave out of walks: the output directory.
struct Walker {
    exclude: Option<PathBuf>,
    out: Vec<Input>,
}

/// Whether an entry of the output directory is the batch's own: the
/// manifest and the `collector=…` partitions.
fn is_output_entry(name: &[u8]) -> bool {
    name == super::manifest::MANIFEST_DIR.as_bytes() || name.starts_with(b"collector=")
}

impl Walker {
    fn excluded(&self, p: &Path) -> bool {
        self.exclude.as_ref().is_some_and(|x| fs::canonicalize(p).is_ok_and(|c| &c == x))
    }

    /// The entries of `dir`, sorted by name, hidden ones left out (and in
    /// the output directory, the batch's own).
    fn entries(&self, dir: &Path) -> Vec<(Vec<u8>, Entry)> {
        let Ok(rd) = fs::read_dir(dir) else { return Vec::new() };
        let is_out = self.excluded(dir);
        let mut v: Vec<(Vec<u8>, Entry)> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name();
                let bytes = os_bytes(&name).into_owned();
                if bytes.starts_with(b".") || is_out && is_output_entry(&bytes) {
                    return None;
                }
                // A symlink to a directory is not followed (loops).
                let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
                let text = escape_bytes(&bytes, false);
                Some((
                    bytes,
                    Entry {
                        text,
                        path: e.path(),
                        is_dir,
                    },
                ))
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Walk `dir`; the output directory is left out when met below an
    /// INPUT (`rel` not empty), and walked without its own entries when it
    /// is the INPUT.
    fn walk(&mut self, dir: &Path, display: &str, rel: &str) {
        if !rel.is_empty() && self.excluded(dir) {
            return;
        }
        for (_, e) in self.entries(dir) {
            let r = if rel.is_empty() { e.text } else { format!("{rel}/{}", e.text) };
            if e.is_dir {
                self.walk(&e.path, display, &r);
            } else {
                self.out.push(Input::new(e.path, join(display, &r), r));
            }
        }
    }

    /// Match `pat` (components) below `dir`.
    fn glob(&mut self, dir: &Path, display: &str, rel: &str, pat: &[&[u8]]) {
        let Some((first, rest)) = pat.split_first() else { return };
        if *first == b"**" {
            self.glob(dir, display, rel, rest);
            for (_, e) in self.entries(dir) {
                if e.is_dir && !self.excluded(&e.path) {
                    let r = if rel.is_empty() { e.text } else { format!("{rel}/{}", e.text) };
                    self.glob(&e.path, display, &r, pat);
                }
            }
            return;
        }
        for (name, e) in self.entries(dir) {
            if !match_segment(first, &name) {
                continue;
            }
            let r = if rel.is_empty() { e.text } else { format!("{rel}/{}", e.text) };
            match (rest.is_empty(), e.is_dir) {
                (true, true) => self.walk(&e.path, display, &r),
                (true, false) => self.out.push(Input::new(e.path, join(display, &r), r)),
                (false, true) => self.glob(&e.path, display, &r, rest),
                (false, false) => {}
            }
        }
    }
}

/// Whether the path component `name` matches the glob component `pat`
/// (`*`, `?`, `[abc]`, `[a-z]`, `[!a]`).
///
/// ```
/// use mrtsnap::dataset::discover::match_segment;
/// assert!(match_segment(b"rib.*.bz2", b"rib.20141222.0000.bz2"));
/// assert!(match_segment(b"rrc0[0-4]", b"rrc03"));
/// assert!(!match_segment(b"rrc0[!0-4]", b"rrc03"));
/// assert!(!match_segment(b"rib.?", b"rib.10"));
/// ```
pub fn match_segment(pat: &[u8], name: &[u8]) -> bool {
    match pat.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| name.get(i..).is_some_and(|n| match_segment(rest, n))),
        Some((b'?', rest)) => name.split_first().is_some_and(|(_, n)| match_segment(rest, n)),
        Some((b'[', rest)) => {
            let Some(close) = rest.iter().skip(1).position(|&c| c == b']').map(|p| p + 1) else {
                // No closing bracket: a literal `[`.
                return name.first() == Some(&b'[') && match_segment(rest, name.get(1..).unwrap_or(&[]));
            };
            let Some((&c, n)) = name.split_first() else { return false };
            let (set, after) = (rest.get(..close).unwrap_or(&[]), rest.get(close + 1..).unwrap_or(&[]));
            let (neg, set) = match set.split_first() {
                Some((b'!' | b'^', s)) => (true, s),
                _ => (false, set),
            };
            let mut hit = false;
            let mut i = 0;
            while let Some(&a) = set.get(i) {
                if set.get(i + 1) == Some(&b'-') && i + 2 < set.len() {
                    let b = set.get(i + 2).copied().unwrap_or(a);
                    hit |= (a..=b).contains(&c);
                    i += 3;
                } else {
                    hit |= a == c;
                    i += 1;
                }
            }
            hit != neg && match_segment(after, n)
        }
        Some((&p, rest)) => name.split_first().is_some_and(|(&c, n)| c == p && match_segment(rest, n)),
    }
}

/// Read a list of paths: one per line (`#` comments and blank lines left
/// out; the bytes as they are), or a CSV file with a `path` column (such
/// as a batch manifest, whose paths are text of [`path_text`]).
///
/// # Errors
/// When the list cannot be read.
pub fn read_list(list: &Path) -> std::io::Result<Vec<Vec<u8>>> {
    let mut data = Vec::new();
    if list == Path::new("-") {
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut data)?;
    } else {
        data = fs::read(list)?;
    }
    if !data.ends_with(b"\n") {
        data.push(b'\n');
    }
    let first = data.split_inclusive(|&c| c == b'\n').next().unwrap_or(&[]);
    let (header, _) = super::manifest::csv_records(first);
    let col = header
        .first()
        .filter(|h| h.len() > 1)
        .and_then(|h| h.iter().position(|c| c.trim() == "path"));
    if let Some(col) = col {
        let (records, _) = super::manifest::csv_records(&data);
        return Ok(records
            .into_iter()
            .skip(1)
            .filter_map(|r| r.into_iter().nth(col))
            .filter(|p| !p.is_empty())
            .map(|p| text_bytes(&p))
            .collect());
    }
    Ok(data
        .split(|&c| c == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty() && !l.starts_with(b"#"))
        .map(<[u8]>::to_vec)
        .collect())
}

/// Find the inputs named by `inputs` (directories, globs, files; `@FILE`
/// reads a list as [`read_list`]) and by the lists `lists`, leaving out
/// `exclude` (the output directory: skipped when met inside an INPUT; when
/// it is an INPUT itself, walked without its `_manifest` and `collector=…`
/// entries). Names are taken as bytes ([`path_text`]). Sorted by display
/// path, duplicates (same display path) removed.
///
/// # Errors
/// When an INPUT does not exist (a listed path that does not exist is kept,
/// to be recorded as unreadable), a list cannot be read, or a glob matches
/// nothing.
pub fn discover(inputs: &[OsString], lists: &[PathBuf], exclude: Option<&Path>) -> Result<Vec<Input>, String> {
    let mut w = Walker {
        exclude: exclude.and_then(|x| fs::canonicalize(x).ok()),
        out: Vec::new(),
    };
    let mut named: Vec<(Vec<u8>, bool)> = Vec::new();
    for i in inputs {
        let b = os_bytes(i);
        match b.strip_prefix(b"@") {
            Some(list) => {
                let list = bytes_path(list);
                let l = read_list(&list).map_err(|e| format!("cannot read list {}: {e}", path_text(&list)))?;
                named.extend(l.into_iter().map(|p| (p, true)));
            }
            None => named.push((b.into_owned(), false)),
        }
    }
    for list in lists {
        let l = read_list(list).map_err(|e| format!("cannot read list {}: {e}", path_text(list)))?;
        named.extend(l.into_iter().map(|p| (p, true)));
    }
    for (raw, listed) in named {
        let n = normalize(&raw);
        let p = bytes_path(&n);
        let text = escape_bytes(&n, false);
        if p.is_dir() {
            w.walk(&p, &text, "");
        } else if p.exists() || fs::symlink_metadata(&p).is_ok() || (listed && !is_glob(&n)) {
            let rel = text.trim_start_matches('/').to_string();
            w.out.push(Input::new(p, text, rel));
        } else if is_glob(&n) {
            let comps: Vec<&[u8]> = n.split(|&c| c == b'/').collect();
            let lit = comps.iter().take_while(|c| !is_glob(c)).count();
            let root: Vec<u8> = match (n.first() == Some(&b'/'), lit) {
                (true, 1) => b"/".to_vec(),
                (_, 0) => b".".to_vec(),
                _ => comps.get(..lit).map(|c| c.join(&b'/')).unwrap_or_default(),
            };
            let pat: Vec<&[u8]> = comps.get(lit..).unwrap_or(&[]).to_vec();
            let before = w.out.len();
            w.glob(&bytes_path(&root), &escape_bytes(&root, false), "", &pat);
            if w.out.len() == before {
                return Err(format!("{}: no file matches", shown(&escape_bytes(&raw, false))));
            }
        } else {
            return Err(format!("{}: no such file or directory", shown(&escape_bytes(&raw, false))));
        }
    }
    let mut out = w.out;
    out.sort_by(|a, b| a.display.cmp(&b.display));
    out.dedup_by(|a, b| a.display == b.display);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os<S: AsRef<OsStr>>(v: &[S]) -> Vec<OsString> {
        v.iter().map(|s| s.as_ref().to_os_string()).collect()
    }

    /// A fresh directory `name` in the temporary directory holding `files`.
    fn tree(name: &str, files: &[&str]) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mrtsnap-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        for f in files {
            let p = d.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, b"x").unwrap();
        }
        d
    }

    #[test]
    fn globs_and_walks() {
        let d = tree(
            "discover",
            &[
                "rrc00/2014.12/bview.1.gz",
                "rrc00/2014.12/updates.1.gz",
                "rrc01/2014.12/bview.2.gz",
                "rrc01/.hidden",
                "out/x.parquet",
            ],
        );
        let root = d.to_str().unwrap().to_string();
        let rels = |v: Vec<Input>| v.into_iter().map(|i| i.rel).collect::<Vec<_>>();
        let all = discover(&os(&[root.as_str()]), &[], Some(&d.join("out"))).unwrap();
        assert_eq!(
            rels(all),
            ["rrc00/2014.12/bview.1.gz", "rrc00/2014.12/updates.1.gz", "rrc01/2014.12/bview.2.gz"]
        );
        let g = discover(&os(&[format!("{root}/rrc*/**/bview.*")]), &[], None).unwrap();
        assert_eq!(rels(g.clone()), ["rrc00/2014.12/bview.1.gz", "rrc01/2014.12/bview.2.gz"]);
        assert_eq!(g[0].display, format!("{root}/rrc00/2014.12/bview.1.gz"));
        assert_eq!(g[0].size, 1);
        let g = discover(&os(&[format!("{root}/rrc0[1]")]), &[], None).unwrap();
        assert_eq!(rels(g), ["rrc01/2014.12/bview.2.gz"]);
        assert!(discover(&os(&[format!("{root}/nothing*")]), &[], None).is_err());
        assert!(discover(&os(&[format!("{root}/missing")]), &[], None).is_err());
        let list = d.join("list.txt");
        fs::write(&list, format!("# comment\n{root}/rrc00/2014.12/bview.1.gz\n\n{root}/gone.gz\n")).unwrap();
        let l = discover(&os(&[format!("@{}", list.display())]), &[], None).unwrap();
        assert_eq!(l.len(), 2);
        assert!(l[0].stat_error.is_some() && l[1].stat_error.is_none());
        fs::write(&list, format!("path,status\n\"{root}/rrc01/2014.12/bview.2.gz\",ok\n")).unwrap();
        assert_eq!(discover(&[], std::slice::from_ref(&list), None).unwrap().len(), 1);
        fs::remove_dir_all(&d).unwrap();
    }

    /// The output directory as the INPUT: its own entries (manifest,
    /// partitions, temporaries) are left out, everything else is found; as
    /// a directory inside the INPUT, it is left out whole.
    #[test]
    fn output_directory_is_never_an_input() {
        let d = tree(
            "discover-out",
            &[
                "rib.1.mrt",
                "sub/rib.2.mrt",
                "_manifest/journal-all.csv",
                "collector=x/date=2014-12-22/rib.1.parquet",
                "collector=x/date=2014-12-22/.rib.2.parquet.all.tmp",
                "snap/_manifest/manifest.csv",
                "snap/rib.3.mrt",
            ],
        );
        let root = d.to_str().unwrap().to_string();
        let rels = |v: Vec<Input>| v.into_iter().map(|i| i.rel).collect::<Vec<_>>();
        // Only the output directory's own entries: `snap/_manifest` is not.
        let same = discover(&os(&[root.as_str()]), &[], Some(&d)).unwrap();
        let expect = ["rib.1.mrt", "snap/_manifest/manifest.csv", "snap/rib.3.mrt", "sub/rib.2.mrt"];
        assert_eq!(rels(same), expect);
        let glob = discover(&os(&[format!("{root}/*")]), &[], Some(&d)).unwrap();
        assert_eq!(rels(glob), expect);
        let inside = discover(&os(&[root.as_str()]), &[], Some(&d.join("snap"))).unwrap();
        assert_eq!(
            rels(inside),
            [
                "_manifest/journal-all.csv",
                "collector=x/date=2014-12-22/rib.1.parquet",
                "rib.1.mrt",
                "sub/rib.2.mrt"
            ]
        );
        fs::remove_dir_all(&d).unwrap();
    }

    /// Names are bytes: a newline, a byte that is not UTF-8 and a literal
    /// `\x` are found, shown as text that reads back to the same path, and
    /// listed back (a manifest's `path` column) to the same inputs.
    #[cfg(unix)]
    #[test]
    fn names_are_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let d = std::env::temp_dir().join(format!("mrtsnap-discover-bytes-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        let names: [&[u8]; 4] = [b"line\n.mrt", b"caf\xe9.mrt", br"lit\x41.mrt", b"plain.mrt"];
        for n in names {
            fs::write(d.join(OsStr::from_bytes(n)), n).unwrap();
        }
        let root = d.to_str().unwrap().to_string();
        let found = discover(&os(&[root.as_str()]), &[], None).unwrap();
        let rels: Vec<&str> = found.iter().map(|i| i.rel.as_str()).collect();
        assert_eq!(rels, [r"caf\xe9.mrt", "line\n.mrt", r"lit\\x41.mrt", "plain.mrt"]);
        for i in &found {
            assert_eq!(fs::read(&i.path).unwrap(), os_bytes(i.path.file_name().unwrap()).as_ref());
            assert_eq!(text_path(&i.display), i.path);
        }
        assert_eq!(shown("line\n.mrt"), r"line\x0a.mrt");
        // A manifest lists them back.
        let mut csv = String::from("path,status\n");
        for i in &found {
            csv.push_str(&format!("\"{}\",ok\n", i.display.replace('"', "\"\"")));
        }
        let list = std::env::temp_dir().join(format!("mrtsnap-discover-bytes-{}.csv", std::process::id()));
        fs::write(&list, csv).unwrap();
        let again = discover(&[], std::slice::from_ref(&list), None).unwrap();
        let listed: Vec<Input> = found
            .iter()
            .map(|i| Input {
                rel: i.display.trim_start_matches('/').to_string(),
                ..i.clone()
            })
            .collect();
        assert_eq!(again, listed);
        // A non-UTF-8 INPUT given as such.
        let raw = [d.as_os_str().as_bytes(), b"/caf\xe9.mrt"].concat();
        let one = discover(&[OsStr::from_bytes(&raw).to_os_string()], &[], None).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].display, format!(r"{root}/caf\xe9.mrt"));
        fs::remove_file(&list).unwrap();
        fs::remove_dir_all(&d).unwrap();
    }

    proptest::proptest! {
        #[test]
        fn escapes_read_back(
            b in proptest::collection::vec(proptest::sample::select(vec![b'\\', b'x', b'4', b'f', 0xff, 0xc3, 0xa9, b'\n', b'a']), 0..40),
            controls: bool,
        ) {
            proptest::prop_assert_eq!(text_bytes(&escape_bytes(&b, controls)), b);
        }
    }

    #[test]
    fn normalizes() {
        assert_eq!(normalize(b"./a//b/"), b"a/b");
        assert_eq!(normalize(b"/a/./b"), b"/a/b");
        assert_eq!(normalize(b"."), b".");
        assert!(match_segment(b"[", b"["));
        assert!(match_segment(b"*", b""));
    }
}
