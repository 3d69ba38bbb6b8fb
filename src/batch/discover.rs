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
//! files, editors' and rsync's partial transfers) and the output directory,
//! and do not follow symbolic links to directories (no loops). Symbolic links
//! to files are followed; a dangling one is kept as an input, so that it is
//! recorded as unreadable.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// One input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The path to open.
    pub path: PathBuf,
    /// The path as found (the INPUT as given, joined with the relative
    /// path): the manifest key, and the `file` recorded in snapshots.
    pub display: String,
    /// The path relative to the INPUT it was found under (see the module docs).
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

/// Whether `s` holds glob metacharacters (`*`, `?`, `[`).
pub fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// `a//b/./c/` → `a/b/c`; keeps a leading `/`.
fn normalize(s: &str) -> String {
    let abs = s.starts_with('/');
    let parts: Vec<&str> = s.split('/').filter(|c| !c.is_empty() && *c != ".").collect();
    let joined = parts.join("/");
    match (abs, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
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

/// What to leave out of walks: the output directory.
struct Walker {
    exclude: Option<PathBuf>,
    out: Vec<Input>,
}

impl Walker {
    fn excluded(&self, p: &Path) -> bool {
        self.exclude.as_ref().is_some_and(|x| fs::canonicalize(p).is_ok_and(|c| &c == x))
    }

    /// The entries of `dir`, sorted by name, hidden ones left out.
    fn entries(dir: &Path) -> Vec<(String, PathBuf, bool)> {
        let Ok(rd) = fs::read_dir(dir) else { return Vec::new() };
        let mut v: Vec<(String, PathBuf, bool)> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_string();
                if name.starts_with('.') {
                    return None;
                }
                // A symlink to a directory is not followed (loops).
                let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
                Some((name, e.path(), is_dir))
            })
            .collect();
        v.sort();
        v
    }

    fn walk(&mut self, dir: &Path, display: &str, rel: &str) {
        if self.excluded(dir) {
            return;
        }
        for (name, path, is_dir) in Self::entries(dir) {
            let r = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            if is_dir {
                self.walk(&path, display, &r);
            } else {
                self.out.push(Input::new(path, join(display, &r), r));
            }
        }
    }

    /// Match `pat` (components) below `dir`.
    fn glob(&mut self, dir: &Path, display: &str, rel: &str, pat: &[&str]) {
        let Some((first, rest)) = pat.split_first() else { return };
        if *first == "**" {
            self.glob(dir, display, rel, rest);
            for (name, path, is_dir) in Self::entries(dir) {
                if is_dir && !self.excluded(&path) {
                    let r = if rel.is_empty() { name } else { format!("{rel}/{name}") };
                    self.glob(&path, display, &r, pat);
                }
            }
            return;
        }
        for (name, path, is_dir) in Self::entries(dir) {
            if !match_segment(first.as_bytes(), name.as_bytes()) {
                continue;
            }
            let r = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            match (rest.is_empty(), is_dir) {
                (true, true) => self.walk(&path, display, &r),
                (true, false) => self.out.push(Input::new(path, join(display, &r), r)),
                (false, true) => self.glob(&path, display, &r, rest),
                (false, false) => {}
            }
        }
    }
}

/// Whether the path component `name` matches the glob component `pat`
/// (`*`, `?`, `[abc]`, `[a-z]`, `[!a]`).
///
/// ```
/// use mrtsnap::batch::discover::match_segment;
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
/// out), or a CSV file with a `path` column (such as a batch manifest).
///
/// # Errors
/// When the list cannot be read.
pub fn read_list(list: &Path) -> std::io::Result<Vec<String>> {
    let text = if list == Path::new("-") {
        std::io::read_to_string(std::io::stdin())?
    } else {
        fs::read_to_string(list)?
    };
    let mut lines = text.lines();
    let first = lines.clone().next().unwrap_or("");
    let header = super::manifest::split_csv_line(first);
    if header.len() > 1 {
        if let Some(col) = header.iter().position(|h| h == "path") {
            lines.next();
            return Ok(lines
                .filter_map(|l| super::manifest::split_csv_line(l).into_iter().nth(col))
                .filter(|p| !p.is_empty())
                .collect());
        }
    }
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// Find the inputs named by `inputs` (directories, globs, files; `@FILE`
/// reads a list as [`read_list`]) and by the lists `lists`, leaving out
/// `exclude` (the output directory). Sorted by display path, duplicates
/// (same display path) removed.
///
/// # Errors
/// When an INPUT does not exist (a listed path that does not exist is kept,
/// to be recorded as unreadable), a list cannot be read, or a glob matches
/// nothing.
pub fn discover(inputs: &[String], lists: &[PathBuf], exclude: Option<&Path>) -> Result<Vec<Input>, String> {
    let mut w = Walker {
        exclude: exclude.and_then(|x| fs::canonicalize(x).ok()),
        out: Vec::new(),
    };
    let mut named: Vec<(String, bool)> = Vec::new();
    for i in inputs {
        match i.strip_prefix('@') {
            Some(list) => {
                let l = read_list(Path::new(list)).map_err(|e| format!("cannot read list {list}: {e}"))?;
                named.extend(l.into_iter().map(|p| (p, true)));
            }
            None => named.push((i.clone(), false)),
        }
    }
    for list in lists {
        let l = read_list(list).map_err(|e| format!("cannot read list {}: {e}", list.display()))?;
        named.extend(l.into_iter().map(|p| (p, true)));
    }
    for (raw, listed) in named {
        let n = normalize(&raw);
        let p = Path::new(&n);
        if p.is_dir() {
            w.walk(p, &n, "");
        } else if p.exists() || fs::symlink_metadata(p).is_ok() || (listed && !is_glob(&n)) {
            w.out
                .push(Input::new(p.to_path_buf(), n.clone(), n.trim_start_matches('/').to_string()));
        } else if is_glob(&n) {
            let comps: Vec<&str> = n.split('/').collect();
            let lit = comps.iter().take_while(|c| !is_glob(c)).count();
            let root = match (n.starts_with('/'), lit) {
                (true, 1) => "/".to_string(),
                (_, 0) => ".".to_string(),
                _ => comps.get(..lit).map(|c| c.join("/")).unwrap_or_default(),
            };
            let pat: Vec<&str> = comps.get(lit..).unwrap_or(&[]).to_vec();
            let before = w.out.len();
            w.glob(Path::new(&root), &root, "", &pat);
            if w.out.len() == before {
                return Err(format!("{raw}: no file matches"));
            }
        } else {
            return Err(format!("{raw}: no such file or directory"));
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

    #[test]
    fn globs_and_walks() {
        let d = std::env::temp_dir().join(format!("mrtsnap-discover-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        for f in [
            "rrc00/2014.12/bview.1.gz",
            "rrc00/2014.12/updates.1.gz",
            "rrc01/2014.12/bview.2.gz",
            "rrc01/.hidden",
            "out/x.parquet",
        ] {
            let p = d.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, b"x").unwrap();
        }
        let root = d.to_str().unwrap().to_string();
        let rels = |v: Vec<Input>| v.into_iter().map(|i| i.rel).collect::<Vec<_>>();
        let all = discover(std::slice::from_ref(&root), &[], Some(&d.join("out"))).unwrap();
        assert_eq!(
            rels(all),
            ["rrc00/2014.12/bview.1.gz", "rrc00/2014.12/updates.1.gz", "rrc01/2014.12/bview.2.gz"]
        );
        let g = discover(&[format!("{root}/rrc*/**/bview.*")], &[], None).unwrap();
        assert_eq!(rels(g.clone()), ["rrc00/2014.12/bview.1.gz", "rrc01/2014.12/bview.2.gz"]);
        assert_eq!(g[0].display, format!("{root}/rrc00/2014.12/bview.1.gz"));
        assert_eq!(g[0].size, 1);
        let g = discover(&[format!("{root}/rrc0[1]")], &[], None).unwrap();
        assert_eq!(rels(g), ["rrc01/2014.12/bview.2.gz"]);
        assert!(discover(&[format!("{root}/nothing*")], &[], None).is_err());
        assert!(discover(&[format!("{root}/missing")], &[], None).is_err());
        let list = d.join("list.txt");
        fs::write(&list, format!("# comment\n{root}/rrc00/2014.12/bview.1.gz\n\n{root}/gone.gz\n")).unwrap();
        let l = discover(&[format!("@{}", list.display())], &[], None).unwrap();
        assert_eq!(l.len(), 2);
        assert!(l[0].stat_error.is_some() && l[1].stat_error.is_none());
        fs::write(&list, format!("path,status\n\"{root}/rrc01/2014.12/bview.2.gz\",ok\n")).unwrap();
        assert_eq!(discover(&[], std::slice::from_ref(&list), None).unwrap().len(), 1);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn normalizes() {
        assert_eq!(normalize("./a//b/"), "a/b");
        assert_eq!(normalize("/a/./b"), "/a/b");
        assert_eq!(normalize("."), ".");
        assert!(match_segment(b"[", b"["));
        assert!(match_segment(b"*", b""));
    }
}
