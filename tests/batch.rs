//! End-to-end tests of `mrtsnap batch` on a synthetic archive tree made with
//! the project's generator: RouteViews (route-views2's plain `bgpdata/`,
//! route-views.linx) and RIS (rrc00, rrc01) layouts over several days, RIBs
//! and updates, pre-2003 RouteViews names in Pacific time, files named by
//! nothing but their content, and broken inputs (truncated, corrupt, empty,
//! not MRT, a dangling link).
//!
//! Checked: layout recognition and selection (`--dry-run`), outputs and the
//! manifest (CSV and Parquet), outputs byte-identical to `mrtsnap snapshot`,
//! resume after SIGKILL (byte-identical to an uninterrupted run, no temporary
//! leftovers), a clean stop on SIGINT, `--fail-fast`, 3 shards into one tree
//! equal to the unsharded run, and a DuckDB (else pyarrow) query of the
//! dataset (skipped, saying so, when python3 has neither).

use mrtsnap::dataset::manifest::{parse_csv, Record, Status};
use mrtsnap::synth::{write_compressed, write_rib, write_updates, Compression, RibOptions, UpdatesOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn mrtsnap() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mrtsnap"))
}

/// Unix time of a UTC wall time.
fn utc(y: i64, mo: i64, d: i64, h: i64, mi: i64) -> u32 {
    let t = mrtsnap::layout::days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60;
    u32::try_from(t).expect("time fits")
}

fn rib_bytes(scale: f64, seed: u64, ts: u32, id: Ipv4Addr) -> Vec<u8> {
    let mut o = RibOptions::small().scale(scale);
    o.seed = seed;
    o.timestamp = ts;
    o.collector_bgp_id = id;
    let mut v = Vec::new();
    write_rib(&o, &mut v).expect("synth rib");
    v
}

fn put(path: &Path, data: &[u8], comp: Compression) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let mut out = Vec::new();
    write_compressed(&mut out, comp, |w| {
        w.write_all(data)?;
        Ok(())
    })
    .expect("compress");
    fs::write(path, out).expect("write");
}

fn updates(path: &Path, seed: u64, start: u32) {
    let o = UpdatesOptions {
        messages: 300,
        seed,
        start_time: start,
        ..UpdatesOptions::small()
    };
    let mut v = Vec::new();
    write_updates(&o, &mut v).expect("synth updates");
    put(path, &v, Compression::from_path(path));
}

const RV2: Ipv4Addr = Ipv4Addr::new(128, 223, 51, 102);
const LINX: Ipv4Addr = Ipv4Addr::new(195, 66, 224, 175);
const RRC00: Ipv4Addr = Ipv4Addr::new(193, 0, 4, 28);
const RRC01: Ipv4Addr = Ipv4Addr::new(195, 66, 224, 175);

/// Number of inputs in the tree, and how they end.
const INPUTS: usize = 22;
const OK: usize = 13;
const DAMAGED: usize = 2;
const FAILED: usize = 3;
const SKIPPED: usize = 4;

struct Fixture {
    dir: PathBuf,
    arch: String,
    /// The uninterrupted reference run.
    reference: PathBuf,
    reference_run: Output,
}

/// Build the archive tree and run the reference batch once for all tests.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("batch");
        let _ = fs::remove_dir_all(&dir);
        let a = dir.join("arch");
        let rv = a.join("routeviews");
        let ris = a.join("ris");
        let bz = Compression::Bzip2;
        let gz = Compression::Gzip;
        // route-views2: the archive's plain bgpdata/ (no collector directory).
        let rv2 = rv.join("bgpdata");
        put(
            &rv2.join("2014.12/RIBS/rib.20141222.0000.bz2"),
            &rib_bytes(0.1, 1, utc(2014, 12, 22, 0, 0), RV2),
            bz,
        );
        put(
            &rv2.join("2014.12/RIBS/rib.20141222.0800.bz2"),
            &rib_bytes(0.3, 2, utc(2014, 12, 22, 8, 0), RV2),
            bz,
        );
        put(
            &rv2.join("2014.12/RIBS/rib.20141222.1600.bz2"),
            &rib_bytes(0.5, 3, utc(2014, 12, 22, 16, 0), RV2),
            bz,
        );
        put(
            &rv2.join("2014.12/RIBS/rib.20141223.0000.bz2"),
            &rib_bytes(0.3, 4, utc(2014, 12, 23, 0, 0), RV2),
            bz,
        );
        updates(&rv2.join("2014.12/UPDATES/updates.20141222.0000.bz2"), 5, utc(2014, 12, 22, 0, 0));
        // Pre-2003 names are US Pacific time: PDT in July, PST across New Year.
        put(
            &rv2.join("2002.07/RIBS/rib.20020701.0000.bz2"),
            &rib_bytes(0.2, 6, utc(2002, 7, 1, 7, 0), RV2),
            bz,
        );
        put(
            &rv2.join("2002.12/RIBS/rib.20021231.2000.bz2"),
            &rib_bytes(0.2, 7, utc(2003, 1, 1, 4, 0), RV2),
            bz,
        );
        let linx = rv.join("route-views.linx/bgpdata/2014.12");
        put(
            &linx.join("RIBS/rib.20141222.0000.bz2"),
            &rib_bytes(0.3, 8, utc(2014, 12, 22, 0, 0), LINX),
            bz,
        );
        put(
            &linx.join("RIBS/rib.20141223.0000.bz2"),
            &rib_bytes(0.3, 9, utc(2014, 12, 23, 0, 0), LINX),
            bz,
        );
        // Truncated download: the first 60% of a bzip2 file (100k blocks,
        // as `bzip2 -1` writes them, so whole blocks come before the cut).
        let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        enc.write_all(&rib_bytes(0.3, 10, utc(2014, 12, 24, 0, 0), LINX)).expect("bz2");
        let mut cut = enc.finish().expect("bz2");
        cut.truncate(cut.len() * 6 / 10);
        fs::write(linx.join("RIBS/rib.20141224.0000.bz2"), &cut).expect("write");
        updates(&linx.join("UPDATES/updates.20141222.0015.bz2"), 11, utc(2014, 12, 22, 0, 15));
        // RIS.
        let r0 = ris.join("rrc00/2014.12");
        put(
            &r0.join("bview.20141222.0000.gz"),
            &rib_bytes(0.3, 12, utc(2014, 12, 22, 0, 0), RRC00),
            gz,
        );
        put(
            &r0.join("bview.20141222.0800.gz"),
            &rib_bytes(0.3, 13, utc(2014, 12, 22, 8, 0), RRC00),
            gz,
        );
        put(
            &r0.join("bview.20141223.0000.gz"),
            &rib_bytes(0.3, 14, utc(2014, 12, 23, 0, 0), RRC00),
            gz,
        );
        fs::write(r0.join("bview.20141224.0000.gz"), b"").expect("empty");
        updates(&r0.join("updates.20141222.0005.gz"), 15, utc(2014, 12, 22, 0, 5));
        let r1 = ris.join("rrc01/2014.12");
        put(
            &r1.join("bview.20141222.0000.gz"),
            &rib_bytes(0.3, 16, utc(2014, 12, 22, 0, 0), RRC01),
            gz,
        );
        // Corrupt: 64 bytes of garbage in the middle of the records.
        let mut bad = rib_bytes(0.3, 17, utc(2014, 12, 23, 0, 0), RRC01);
        let mid = bad.len() / 2;
        bad[mid..mid + 64].fill(0xab);
        put(&r1.join("bview.20141223.0000.gz"), &bad, gz);
        #[cfg(unix)]
        std::os::unix::fs::symlink("/nonexistent/mrtsnap-test", r1.join("bview.20141225.0000.gz")).expect("symlink");
        // Named by nothing but their content.
        let misc = a.join("misc");
        put(
            &misc.join("table.mrt.zst"),
            &rib_bytes(0.3, 18, utc(2014, 12, 22, 12, 0), Ipv4Addr::new(192, 0, 2, 1)),
            Compression::Zstd,
        );
        fs::write(misc.join("junk.mrt"), "this is not an MRT file\n".repeat(200)).expect("junk");
        updates(&misc.join("stream.bin"), 19, utc(2014, 12, 22, 3, 0));
        let arch = a.to_str().expect("utf-8 path").to_string();
        let reference = dir.join("reference");
        let reference_run = batch(&[&arch, "--out", reference.to_str().expect("path")]);
        Fixture {
            dir,
            arch,
            reference,
            reference_run,
        }
    })
}

fn batch(args: &[&str]) -> Output {
    let out = mrtsnap().arg("batch").args(args).output().expect("run mrtsnap batch");
    if !matches!(out.status.code(), Some(0 | 1)) {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    }
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every file of a dataset (not the manifest), by relative path.
fn dataset(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(rd) = fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(base).expect("prefix").to_string_lossy().into_owned();
            if rel == "_manifest" {
                continue;
            }
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.insert(rel, fs::read(&p).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// What readers see of a dataset: files not hidden by a leading `.` or `_`.
fn visible(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut d = dataset(dir);
    d.retain(|p, _| !p.rsplit('/').next().unwrap_or(p).starts_with(['.', '_']));
    d
}

/// How many outputs readers see (names only: cheap enough to poll).
fn count_visible(dir: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(['.', '_']) {
                continue;
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            } else {
                n += 1;
            }
        }
    }
    n
}

/// Every path under `dir` (manifest included) whose name looks temporary.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if e.file_name().to_string_lossy().ends_with(".tmp") {
                v.push(p);
            }
        }
    }
    v
}

fn manifest(dir: &Path) -> BTreeMap<String, Record> {
    let text = fs::read_to_string(dir.join("_manifest/manifest.csv")).expect("manifest.csv");
    parse_csv(&text).into_iter().map(|r| (r.path.clone(), r)).collect()
}

/// The parts of a record that do not depend on when or how it was made.
fn essence(r: &Record) -> String {
    format!(
        "{} {} {} {} {} {:?} {} {:?} {:?} {} {:?}",
        r.status.as_str(),
        r.collector,
        r.kind,
        r.date,
        r.output,
        r.output_size,
        r.fingerprint,
        r.rows,
        r.records,
        r.errors,
        r.first_error_offset
    )
}

fn rel<'a>(f: &Fixture, m: &'a BTreeMap<String, Record>, path: &str) -> &'a Record {
    m.get(&format!("{}/{path}", f.arch))
        .unwrap_or_else(|| panic!("{path} not in the manifest"))
}

/// `--dry-run` lines: path (relative to the tree) → (action, collector, kind, time, output).
fn dry(args: &[&str]) -> BTreeMap<String, Vec<String>> {
    let f = fixture();
    let out = mrtsnap()
        .args(["batch", "--dry-run", &f.arch, "--out", f.dir.join("dry").to_str().expect("path")])
        .args(args)
        .output()
        .expect("dry run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    text.lines()
        .skip(1)
        .map(|l| {
            let c: Vec<String> = l.split('\t').map(str::to_string).collect();
            let p = c[5].strip_prefix(&format!("{}/", f.arch)).expect("under the tree").to_string();
            (p, c[..5].to_vec())
        })
        .collect()
}

fn keys(m: &BTreeMap<String, Vec<String>>) -> Vec<&str> {
    m.keys().map(String::as_str).collect()
}

#[test]
fn layouts_are_recognised() {
    let all = dry(&[]);
    assert_eq!(all.len(), INPUTS, "{all:#?}");
    let row = |p: &str| all.get(p).unwrap_or_else(|| panic!("{p} missing")).join(" ");
    assert_eq!(
        row("routeviews/bgpdata/2014.12/RIBS/rib.20141222.0800.bz2"),
        "todo route-views2 rib 2014-12-22T08:00:00Z collector=route-views2/date=2014-12-22/rib.20141222.0800.parquet"
    );
    // Pacific time before 2003-02-03: PDT (UTC-7) in July, PST (UTC-8) in
    // December, which moves the dump into the next UTC day.
    assert_eq!(
        row("routeviews/bgpdata/2002.07/RIBS/rib.20020701.0000.bz2"),
        "todo route-views2 rib 2002-07-01T07:00:00Z collector=route-views2/date=2002-07-01/rib.20020701.0000.parquet"
    );
    assert_eq!(
        row("routeviews/bgpdata/2002.12/RIBS/rib.20021231.2000.bz2"),
        "todo route-views2 rib 2003-01-01T04:00:00Z collector=route-views2/date=2003-01-01/rib.20021231.2000.parquet"
    );
    assert_eq!(
        row("routeviews/route-views.linx/bgpdata/2014.12/UPDATES/updates.20141222.0015.bz2"),
        "todo route-views.linx updates 2014-12-22T00:15:00Z -"
    );
    assert_eq!(
        row("ris/rrc00/2014.12/bview.20141223.0000.gz"),
        "todo rrc00 rib 2014-12-23T00:00:00Z collector=rrc00/date=2014-12-23/bview.20141223.0000.parquet"
    );
    assert_eq!(
        row("ris/rrc00/2014.12/updates.20141222.0005.gz"),
        "todo rrc00 updates 2014-12-22T00:05:00Z -"
    );
    // Unnamed: collector id, time and kind from the first records.
    assert_eq!(
        row("misc/table.mrt.zst"),
        "todo 192.0.2.1 rib 2014-12-22T12:00:00Z collector=192.0.2.1/date=2014-12-22/table.parquet"
    );
    assert_eq!(row("misc/stream.bin"), "todo unknown updates 2014-12-22T03:00:00Z -");
    assert_eq!(row("misc/junk.mrt"), "todo unknown unknown - -");
}

#[test]
fn selection() {
    let ris = dry(&["--collector", "rrc0*"]);
    assert_eq!(ris.len(), 8);
    assert!(ris.keys().all(|k| k.starts_with("ris/")));
    let ribs = dry(&["--kind", "rib"]);
    assert_eq!(ribs.len(), INPUTS - 4, "{:?}", keys(&ribs));
    assert!(ribs.values().all(|v| v[2] != "updates"));
    let day = dry(&["--from", "2014-12-23", "--until", "2014-12-23"]);
    assert_eq!(
        keys(&day),
        [
            "misc/junk.mrt", // time unknown: kept, to be recorded
            "ris/rrc00/2014.12/bview.20141223.0000.gz",
            "ris/rrc01/2014.12/bview.20141223.0000.gz",
            "routeviews/bgpdata/2014.12/RIBS/rib.20141223.0000.bz2",
            "routeviews/route-views.linx/bgpdata/2014.12/RIBS/rib.20141223.0000.bz2",
        ]
    );
    let at = dry(&["--daily", "00:00", "--collector", "route-views2"]);
    assert_eq!(
        keys(&at),
        [
            "routeviews/bgpdata/2002.07/RIBS/rib.20020701.0000.bz2",
            "routeviews/bgpdata/2002.12/RIBS/rib.20021231.2000.bz2",
            "routeviews/bgpdata/2014.12/RIBS/rib.20141222.0000.bz2",
            "routeviews/bgpdata/2014.12/RIBS/rib.20141223.0000.bz2",
        ]
    );
    // Median size: of 2014-12-22's three RIBs (scales 0.1, 0.3, 0.5) the middle one.
    let med = dry(&[
        "--daily",
        "median-size",
        "--collector",
        "route-views2",
        "--from",
        "2014-12-22",
        "--until",
        "2014-12-22",
    ]);
    assert_eq!(keys(&med), ["routeviews/bgpdata/2014.12/RIBS/rib.20141222.0800.bz2"]);
    let noon = dry(&["--daily", "13:00", "--collector", "rrc00"]);
    assert_eq!(
        keys(&noon),
        [
            "ris/rrc00/2014.12/bview.20141222.0800.gz",
            "ris/rrc00/2014.12/bview.20141223.0000.gz",
            "ris/rrc00/2014.12/bview.20141224.0000.gz",
        ]
    );
    // Shards split the inputs exactly.
    let all = dry(&[]);
    let mut union = BTreeSet::new();
    for k in 1..=3 {
        let s = dry(&["--shard", &format!("{k}/3")]);
        assert!(!s.is_empty() && s.len() < INPUTS, "shard {k}: {}", s.len());
        for p in s.keys() {
            assert!(union.insert(p.clone()), "{p} in two shards");
        }
    }
    assert_eq!(union.into_iter().collect::<Vec<_>>(), keys(&all));
}

#[test]
fn outputs_and_manifest() {
    let f = fixture();
    let run = &f.reference_run;
    let err = stderr(run);
    assert_eq!(run.status.code(), Some(1), "failures give status 1: {err}");
    assert!(err.contains(&format!("{FAILED} input(s) failed")), "{err}");
    let m = manifest(&f.reference);
    assert_eq!(m.len(), INPUTS);
    let count = |s: Status| m.values().filter(|r| r.status == s).count();
    assert_eq!(
        (
            count(Status::Ok),
            count(Status::Damaged),
            count(Status::Failed),
            count(Status::Skipped)
        ),
        (OK, DAMAGED, FAILED, SKIPPED)
    );
    // Pacific names: the name's time converted is the records' time.
    for p in [
        "routeviews/bgpdata/2002.07/RIBS/rib.20020701.0000.bz2",
        "routeviews/bgpdata/2002.12/RIBS/rib.20021231.2000.bz2",
    ] {
        let r = rel(f, &m, p);
        assert_eq!(r.dump_time, r.content_time, "{p}");
    }
    for r in m.values().filter(|r| r.status.has_output()) {
        assert_eq!(r.dump_time, r.content_time, "{}", r.path);
        let out = f.reference.join(&r.output);
        assert_eq!(fs::metadata(&out).map(|m| m.len()).ok(), r.output_size, "{}", r.output);
        assert!(r.fingerprint.starts_with("fast1:") && r.rows.unwrap_or(0) > 100, "{r:?}");
    }
    let truncated = rel(f, &m, "routeviews/route-views.linx/bgpdata/2014.12/RIBS/rib.20141224.0000.bz2");
    assert_eq!(truncated.status, Status::Damaged);
    assert!(
        truncated.reason.contains("ends early") && truncated.first_error_offset.is_some(),
        "{truncated:?}"
    );
    let corrupt = rel(f, &m, "ris/rrc01/2014.12/bview.20141223.0000.gz");
    assert_eq!(corrupt.status, Status::Damaged);
    let at = corrupt.first_error_offset.expect("offset");
    let mid = rib_bytes(0.3, 17, 0, RRC01).len() as u64 / 2;
    assert!(at <= mid + 64 && at + 4096 > mid, "first error at {at}, garbage at {mid}");
    for (p, why) in [
        ("ris/rrc00/2014.12/bview.20141224.0000.gz", "empty"),
        ("ris/rrc01/2014.12/bview.20141225.0000.gz", "unreadable"),
        ("misc/junk.mrt", "not MRT"),
    ] {
        let r = rel(f, &m, p);
        assert_eq!(r.status, Status::Failed, "{p}");
        assert!(r.reason.contains(why), "{p}: {}", r.reason);
        assert!(r.output.is_empty());
    }
    for p in ["misc/stream.bin", "ris/rrc00/2014.12/updates.20141222.0005.gz"] {
        let r = rel(f, &m, p);
        assert_eq!((r.status, r.kind.as_str()), (Status::Skipped, "updates"), "{p}");
        assert!(r.reason.starts_with("not-a-rib"));
    }
    // The same bytes as `mrtsnap snapshot` (same schema, same writer).
    let r = rel(f, &m, "ris/rrc00/2014.12/bview.20141222.0800.gz");
    let single = f.dir.join("single.parquet");
    let s = mrtsnap().args(["snapshot", &r.path, "-o"]).arg(&single).output().expect("snapshot");
    assert_eq!(s.status.code(), Some(0));
    assert_eq!(
        fs::read(&single).expect("read"),
        fs::read(f.reference.join(&r.output)).expect("read")
    );
    // The Parquet manifest holds the same records.
    let pq = mrtsnap::snapshot::Snapshot::read_parquet(f.reference.join(&r.output)).expect("snapshot parquet");
    assert_eq!(pq.len() as u64, r.rows.unwrap_or(0));
    assert!(temporaries(&f.reference).is_empty());
    // A rerun leaves complete inputs alone (and retries the failed ones).
    let before = dataset(&f.reference);
    let again = batch(&[&f.arch, "--out", f.reference.to_str().expect("path")]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains(&format!("{FAILED} input(s) to process")),
        "{}",
        stderr(&again)
    );
    assert!(stderr(&again).contains(&format!("{} already complete", INPUTS - FAILED)));
    assert_eq!(dataset(&f.reference), before);
}

#[test]
fn manifest_parquet_and_pfx2as() {
    let f = fixture();
    let out = f.dir.join("pfx2as");
    let run = batch(&[
        &f.arch,
        "--out",
        out.to_str().expect("path"),
        "--format",
        "pfx2as",
        "--collector",
        "rrc00",
        "--kind",
        "rib",
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let m = manifest(&out);
    assert_eq!(m.len(), 4);
    let r = rel(f, &m, "ris/rrc00/2014.12/bview.20141223.0000.gz");
    assert_eq!(r.output, "collector=rrc00/date=2014-12-23/bview.20141223.0000.pfx2as");
    let text = mrtsnap()
        .args(["snapshot", &r.path, "--format", "pfx2as", "-o", "-"])
        .output()
        .expect("snapshot");
    assert_eq!(text.stdout, fs::read(out.join(&r.output)).expect("read"));
    // --force redoes everything, to the same bytes.
    let before = dataset(&out);
    let forced = batch(&[
        &f.arch,
        "--out",
        out.to_str().expect("path"),
        "--format",
        "pfx2as",
        "--collector",
        "rrc00",
        "--kind",
        "rib",
        "--force",
    ]);
    assert!(stderr(&forced).contains("4 input(s) to process"), "{}", stderr(&forced));
    assert_eq!(dataset(&out), before);
    // `--out DIR` alone rebuilds the manifest from the journal.
    fs::remove_file(out.join("_manifest/manifest.csv")).expect("rm");
    let rebuilt = batch(&["--out", out.to_str().expect("path")]);
    assert_eq!(rebuilt.status.code(), Some(0), "{}", stderr(&rebuilt));
    assert_eq!(manifest(&out).len(), 4);
}

#[test]
fn killed_run_resumes_to_the_same_dataset() {
    let f = fixture();
    let out = f.dir.join("killed");
    let reference = dataset(&f.reference);
    let total = reference.len();
    let mut child = mrtsnap()
        .args([
            "--threads",
            "1",
            "batch",
            &f.arch,
            "--out",
            out.to_str().expect("path"),
            "--in-flight",
            "1",
            "--quiet",
        ])
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let t0 = Instant::now();
    let seen = loop {
        let n = count_visible(&out);
        if n >= 3 || t0.elapsed() > Duration::from_secs(60) {
            break n;
        }
        if child.try_wait().expect("wait").is_some() {
            break n;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    child.kill().expect("SIGKILL"); // SIGKILL on Unix
    let _ = child.wait();
    let partial = visible(&out);
    assert!(
        seen >= 3 && partial.len() < total,
        "killed after {} of {total} outputs",
        partial.len()
    );
    // Whatever readers see is complete (a temporary file may be left: hidden).
    for (p, bytes) in &partial {
        assert_eq!(Some(bytes), reference.get(p), "{p} is partial or unexpected");
    }
    let rerun = batch(&[&f.arch, "--out", out.to_str().expect("path")]);
    assert_eq!(rerun.status.code(), Some(1), "{}", stderr(&rerun));
    assert!(dataset(&out) == reference, "resumed dataset differs from an uninterrupted run");
    assert!(temporaries(&out).is_empty(), "{:?}", temporaries(&out));
    let (a, b) = (manifest(&out), manifest(&f.reference));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, r) in &a {
        assert_eq!(essence(r), essence(&b[k]), "{k}");
    }
}

#[test]
fn interrupt_leaves_no_partial_output() {
    let f = fixture();
    let out = f.dir.join("interrupted");
    let mut child = mrtsnap()
        .args([
            "--threads",
            "1",
            "batch",
            &f.arch,
            "--out",
            out.to_str().expect("path"),
            "--in-flight",
            "1",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let t0 = Instant::now();
    while count_visible(&out) == 0 && t0.elapsed() < Duration::from_secs(60) && child.try_wait().expect("wait").is_none() {
        std::thread::sleep(Duration::from_millis(2));
    }
    let pid = child.id().to_string();
    let kill = Command::new("kill").args(["-INT", &pid]).status();
    if !kill.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: `kill -INT` not available; interrupt not tested");
        let _ = child.kill();
        return;
    }
    let res = child.wait_with_output().expect("wait");
    let err = stderr(&res);
    if res.status.code() == Some(1) {
        eprintln!("NOTE: the batch finished before SIGINT arrived; interrupt not tested this time");
        return;
    }
    assert_eq!(res.status.code(), Some(130), "{err}");
    assert!(err.contains("stopping"), "{err}");
    assert!(temporaries(&out).is_empty(), "{:?}", temporaries(&out));
    // Every output is complete and in the manifest.
    let m = manifest(&out);
    let listed: BTreeSet<String> = m.values().filter(|r| r.status.has_output()).map(|r| r.output.clone()).collect();
    let present: BTreeSet<String> = dataset(&out).into_keys().collect();
    assert_eq!(listed, present);
    let reference = dataset(&f.reference);
    for (p, b) in dataset(&out) {
        assert_eq!(Some(&b), reference.get(&p), "{p}");
    }
}

#[test]
fn fail_fast_stops_at_the_first_failure() {
    let f = fixture();
    let out = f.dir.join("failfast");
    let run = mrtsnap()
        .args([
            "--threads",
            "1",
            "batch",
            &f.arch,
            "--out",
            out.to_str().expect("path"),
            "--in-flight",
            "1",
            "--fail-fast",
        ])
        .output()
        .expect("run");
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let m = manifest(&out);
    // Inputs go in path order: misc/junk.mrt (not MRT) is the first one.
    assert_eq!(m.values().filter(|r| r.status == Status::Failed).count(), 1);
    assert!(m.len() < INPUTS, "{} records", m.len());
    assert!(stderr(&run).contains("not done (stopped)"), "{}", stderr(&run));
}

#[test]
fn shards_into_one_tree_equal_the_single_run() {
    let f = fixture();
    let out = f.dir.join("sharded");
    let o = out.to_str().expect("path").to_string();
    // Three machines at once, sharing one output tree.
    let children: Vec<_> = (1..=3)
        .map(|k| {
            mrtsnap()
                .args(["--threads", "1", "batch", &f.arch, "--out", &o, "--shard", &format!("{k}/3")])
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for mut c in children {
        let s = c.wait().expect("wait");
        assert!(matches!(s.code(), Some(0 | 1)), "{s:?}");
    }
    assert!(dataset(&out) == dataset(&f.reference), "sharded dataset differs");
    let rebuilt = batch(&["--out", &o]);
    assert_eq!(rebuilt.status.code(), Some(0));
    let (a, b) = (manifest(&out), manifest(&f.reference));
    assert_eq!(a.len(), INPUTS);
    for (k, r) in &a {
        assert_eq!(essence(r), essence(&b[k]), "{k}");
        assert!(r.part.starts_with("shard-") && r.part.ends_with("-of-3"));
    }
    assert!(temporaries(&out).is_empty());
}

#[test]
fn dataset_query_with_duckdb_or_pyarrow() {
    let f = fixture();
    let m = manifest(&f.reference);
    let mut expect: BTreeMap<String, u64> = BTreeMap::new();
    for r in m.values().filter(|r| r.status.has_output()) {
        *expect.entry(r.collector.clone()).or_default() += r.rows.unwrap_or(0);
    }
    let statuses: u64 = m.len() as u64;
    let d = f.reference.to_str().expect("path");
    let script = format!(
        r#"
import sys
d = {d:?}
try:
    import duckdb
    rows = duckdb.sql(f"SELECT collector, count(*) FROM read_parquet('{{d}}/collector=*/date=*/*.parquet', hive_partitioning=true) GROUP BY collector ORDER BY collector").fetchall()
    n = duckdb.sql(f"SELECT count(*) FROM read_parquet('{{d}}/_manifest/manifest.parquet')").fetchall()[0][0]
    days = duckdb.sql(f"SELECT count(DISTINCT date) FROM read_parquet('{{d}}/collector=*/date=*/*.parquet', hive_partitioning=true) WHERE collector = 'route-views2'").fetchall()[0][0]
    print("engine duckdb")
except ImportError:
    try:
        import pyarrow.dataset as ds, pyarrow.parquet as pq
    except ImportError:
        print("engine none"); sys.exit(0)
    t = ds.dataset(d, format="parquet", partitioning="hive").to_table(columns=["collector", "date"])
    counts = {{}}
    for c in t.column("collector").to_pylist():
        counts[c] = counts.get(c, 0) + 1
    rows = sorted(counts.items())
    n = pq.read_table(d + "/_manifest/manifest.parquet").num_rows
    days = len({{str(x) for c, x in zip(t.column("collector").to_pylist(), t.column("date").to_pylist()) if c == "route-views2"}})
    print("engine pyarrow")
for c, k in rows:
    print("rows", c, k)
print("manifest", n)
print("days", days)
"#
    );
    let out = match Command::new("python3").arg("-c").arg(&script).output() {
        Ok(o) => o,
        Err(_) => {
            eprintln!("SKIPPED: python3 not found; dataset not queried");
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    if text.contains("engine none") {
        eprintln!("SKIPPED: python3 has neither duckdb nor pyarrow; dataset not queried");
        return;
    }
    let mut got: BTreeMap<String, u64> = BTreeMap::new();
    for l in text.lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        match w.as_slice() {
            ["rows", c, n] => {
                got.insert(c.to_string(), n.parse().expect("count"));
            }
            ["manifest", n] => assert_eq!(n.parse::<u64>().expect("count"), statuses),
            ["days", n] => assert_eq!(*n, "4", "route-views2 days: 2002-07-01, 2003-01-01, 2014-12-22, 2014-12-23"),
            _ => {}
        }
    }
    assert_eq!(got, expect, "{text}");
    eprintln!("{}", text.lines().next().unwrap_or(""));
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("batch-cases").join(name);
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).expect("mkdir");
    d
}

/// What `mrtsnap snapshot` writes for `path` (the reference for an output).
fn snapshot_of(path: &std::ffi::OsStr, dir: &Path) -> Vec<u8> {
    let out = dir.join("single.parquet");
    let s = mrtsnap().arg("snapshot").arg(path).arg("-o").arg(&out).output().expect("snapshot");
    assert_eq!(s.status.code(), Some(0), "{}", stderr(&s));
    fs::read(&out).expect("read")
}

/// Output of each manifest record, by path.
fn outputs(dir: &Path) -> BTreeMap<String, String> {
    manifest(dir).into_iter().map(|(p, r)| (p, r.output)).collect()
}

/// Run `batch args` again: it has nothing to do, `complete` inputs being
/// complete.
fn nothing_to_do(args: &[&str], complete: usize) {
    let r = batch(args);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let want = format!("0 input(s) to process (0.0 B), {complete} already complete");
    assert!(stderr(&r).contains(&want), "{args:?}: {}", stderr(&r));
}

/// The first 8 hex digits of an input's default fingerprint.
fn fp8(path: &Path) -> String {
    let f = mrtsnap::dataset::fingerprint::fingerprint(path, mrtsnap::dataset::fingerprint::Mode::Fast).expect("fingerprint");
    f.strip_prefix("fast1:").expect("fast1")[..8].to_string()
}

/// Issue 11, point 3: inputs with the same file name, collector and date,
/// in separate runs into one `--out`, in one run, and in shards, get
/// distinct outputs (told apart by their fingerprint, identical copies by
/// their path too); each output holds its own input's snapshot; reruns
/// keep the names and write nothing.
#[test]
fn same_file_names_never_share_an_output() {
    let d = scratch("names");
    let t = d.join("t");
    let when = utc(2014, 5, 30, 22, 0);
    let id = Ipv4Addr::new(1, 2, 3, 4);
    let (a, b) = (rib_bytes(0.05, 31, when, id), rib_bytes(0.05, 32, when, id));
    assert_ne!(a, b);
    for (dir, data) in [("a", &a), ("b", &b), ("c", &a), ("d", &a)] {
        fs::create_dir_all(t.join(dir)).expect("mkdir");
        fs::write(t.join(dir).join("nolayout.mrt"), data).expect("write");
    }
    let input = |k: &str| t.join(k).join("nolayout.mrt");
    let key = |k: &str| input(k).to_str().expect("utf-8").to_string();
    let base = "collector=1.2.3.4/date=2014-05-30/nolayout";
    let (ha, hb) = (fp8(&input("a")), fp8(&input("b")));
    let pd = format!("{:08x}", mrtsnap::dataset::shard::path_hash(&key("d")) as u32);
    let expect: BTreeMap<String, String> = [
        (key("a"), format!("{base}.parquet")),
        (key("b"), format!("{base}-{hb}.parquet")),
        (key("c"), format!("{base}-{ha}.parquet")),
        (key("d"), format!("{base}-{ha}-{pd}.parquet")),
    ]
    .into_iter()
    .collect();
    // Four runs into one directory, one input each.
    let o = d.join("o");
    let os = o.to_str().expect("path");
    for k in ["a", "b", "c", "d"] {
        let r = batch(&[t.join(k).to_str().expect("path"), "--out", os]);
        assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    }
    assert_eq!(outputs(&o), expect);
    let files = dataset(&o);
    assert_eq!(
        files.keys().cloned().collect::<BTreeSet<_>>(),
        expect.values().cloned().collect::<BTreeSet<_>>()
    );
    for (k, out) in &expect {
        assert_eq!(files[out], snapshot_of(k.as_ref(), &d), "{out} is not the snapshot of {k}");
        assert_eq!(manifest(&o)[k].status, Status::Ok);
    }
    // A rerun of all four keeps every name and writes nothing.
    nothing_to_do(&[t.to_str().expect("path"), "--out", os], 4);
    assert!(dataset(&o) == files);
    assert_eq!(outputs(&o), expect);
    // One run over all four, and two shards of it, give the same dataset.
    let one = d.join("one");
    let r = batch(&[t.to_str().expect("path"), "--out", one.to_str().expect("path")]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert_eq!(outputs(&one), expect);
    assert!(dataset(&one) == files);
    let sharded = d.join("sharded");
    for k in ["1/2", "2/2"] {
        let r = batch(&[t.to_str().expect("path"), "--out", sharded.to_str().expect("path"), "--shard", k]);
        assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    }
    assert_eq!(outputs(&sharded), expect);
    assert!(dataset(&sharded) == files);
}

/// Issue 11, point 9: file names are bytes. A newline, a byte that is not
/// UTF-8 and a literal `\x41` are processed, recorded so that they read
/// back (CSV quoting, `\xHH`), found complete by a rerun and by a rerun
/// from the manifest as a list, and shown on one line each.
#[cfg(unix)]
#[test]
fn odd_file_names_round_trip() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let d = scratch("odd-names");
    let t = d.join("in");
    fs::create_dir_all(&t).expect("mkdir");
    let names: [(&[u8], u8); 3] = [(b"line\n.mrt", 1), (b"\xff.mrt", 2), (br"lit\x41.mrt", 3)];
    for (n, i) in names {
        let data = rib_bytes(0.05, 40 + u64::from(i), utc(2014, 12, 22, 0, 0), Ipv4Addr::new(10, 0, 0, i));
        fs::write(t.join(OsStr::from_bytes(n)), data).expect("write");
    }
    let root = t.to_str().expect("path");
    let o = d.join("o");
    let os = o.to_str().expect("path");
    let r = batch(&[root, "--out", os]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let err = stderr(&r);
    assert!(err.contains(r"line\x0a.mrt rows="), "{err}");
    assert_eq!(err.lines().count(), 5, "one line per input: {err}");
    let got = outputs(&o);
    let expect: BTreeMap<String, String> = [
        (format!(r"{root}/\xff.mrt"), "collector=10.0.0.2/date=2014-12-22/f_xff.parquet"),
        (format!("{root}/line\n.mrt"), "collector=10.0.0.1/date=2014-12-22/line_.parquet"),
        (
            format!(r"{root}/lit\\x41.mrt"),
            "collector=10.0.0.3/date=2014-12-22/lit__x41.parquet",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect();
    assert_eq!(got, expect);
    // Each output is its own input's snapshot (built here with the
    // library: `snapshot` takes UTF-8 arguments only).
    for r in manifest(&o).values() {
        let path = mrtsnap::dataset::discover::text_path(&r.path);
        assert!(path.is_file(), "{:?} does not read back", r.path);
        let src = mrtsnap::source::Source::open(&path).expect("open");
        let snap = mrtsnap::snapshot::Snapshot::build(&src, &Default::default()).expect("build");
        let mut want = Vec::new();
        snap.write_parquet(&mut want).expect("write");
        assert!(fs::read(o.join(&r.output)).expect("output") == want, "{}", r.output);
    }
    // The journal reads back: a rerun has nothing to do.
    nothing_to_do(&[root, "--out", os], 3);
    let manifest_csv = o.join("_manifest/manifest.csv");
    nothing_to_do(&["--files-from", manifest_csv.to_str().expect("path"), "--out", os], 3);
    // The plan, one line per input.
    let plan = mrtsnap().args(["batch", "--dry-run", root, "--out", os]).output().expect("dry run");
    let text = String::from_utf8(plan.stdout).expect("utf-8");
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.contains(&format!("line_.parquet\t{root}/line\\x0a.mrt\n")), "{text}");
}

/// Issue 11, point 9: `--out` equal to the INPUT finds the inputs and
/// never reads its own manifest or outputs back; `--out` inside the INPUT
/// is left out.
#[test]
fn output_directory_inside_or_equal_to_the_input() {
    let d = scratch("out-in-input");
    for (dir, out) in [("same", "same"), ("nested", "nested/snap")] {
        let t = d.join(dir);
        for (i, name) in ["x.mrt", "sub/y.mrt"].into_iter().enumerate() {
            let p = t.join(name);
            fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            let data = rib_bytes(0.05, 50 + i as u64, utc(2014, 12, 22, 0, 0), Ipv4Addr::new(10, 1, 0, i as u8));
            fs::write(&p, data).expect("write");
        }
        let (ts, o) = (t.to_str().expect("path"), d.join(out));
        let os = o.to_str().expect("path");
        let first = batch(&[ts, "--out", os]);
        assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
        assert!(stderr(&first).contains("2 input(s) to process"), "{dir}: {}", stderr(&first));
        nothing_to_do(&[ts, "--out", os], 2);
        assert_eq!(
            outputs(&o),
            [
                (
                    format!("{ts}/sub/y.mrt"),
                    "collector=10.1.0.1/date=2014-12-22/y.parquet".to_string()
                ),
                (format!("{ts}/x.mrt"), "collector=10.1.0.0/date=2014-12-22/x.parquet".to_string()),
            ]
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
            "{dir}"
        );
    }
}

/// Issue 11, point 9: the same part cannot run twice at once into one
/// `--out` (its journal is locked: the second run exits 2 with a message
/// and touches nothing), while other shards run beside it.
#[test]
fn same_part_cannot_run_twice_at_once() {
    let d = scratch("lock");
    let t = d.join("in");
    for i in 0..4u8 {
        let data = rib_bytes(0.05, 60 + u64::from(i), utc(2014, 12, 22, 0, 0), Ipv4Addr::new(10, 2, 0, i));
        fs::create_dir_all(&t).expect("mkdir");
        fs::write(t.join(format!("r{i}.mrt")), data).expect("write");
    }
    let o = d.join("o");
    let (ts, os) = (t.to_str().expect("path"), o.to_str().expect("path"));
    fs::create_dir_all(o.join("_manifest")).expect("mkdir");
    // Another process holds part `all` (a lock taken here, as a run takes it).
    let hold = |part: &str| {
        let f = fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(o.join(format!("_manifest/journal-{part}.lock")))
            .expect("lock file");
        f.try_lock().expect("free");
        f
    };
    let held = hold("all");
    let refused = batch(&[ts, "--out", os]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("another mrtsnap batch is writing part `all` into"),
        "{}",
        stderr(&refused)
    );
    assert!(dataset(&o).is_empty() && !o.join("_manifest/journal-all.csv").exists());
    // Shards are other parts: they run.
    let held2 = hold("shard-2-of-2");
    let s1 = batch(&[ts, "--out", os, "--shard", "1/2"]);
    assert_eq!(s1.status.code(), Some(0), "{}", stderr(&s1));
    let s2 = batch(&[ts, "--out", os, "--shard", "2/2"]);
    assert_eq!(s2.status.code(), Some(2), "{}", stderr(&s2));
    let n1 = manifest(&o).len();
    assert!(n1 > 0 && n1 < 4, "shard 1 of 2 did {n1} of 4");
    drop((held, held2));
    let all = batch(&[ts, "--out", os]);
    assert_eq!(all.status.code(), Some(0), "{}", stderr(&all));
    assert!(
        stderr(&all).contains(&format!("{} input(s) to process", 4 - n1)),
        "{}",
        stderr(&all)
    );
    let m = manifest(&o);
    assert_eq!(m.len(), 4);
    assert!(m.values().all(|r| r.status == Status::Ok && o.join(&r.output).is_file()));
}

/// Issue 11, point 8: an empty updates file (or a compressed stream of
/// nothing) is a quiet empty interval, recorded `skipped` like any updates
/// file; an empty RIB, a compressed RIB of nothing and a file that is not
/// MRT are failed inputs, and the batch exits 1.
#[test]
fn empty_and_non_mrt_inputs() {
    let d = scratch("empty");
    let t = d.join("rrc00/2014.12");
    fs::create_dir_all(&t).expect("mkdir");
    let nothing = |name: &str| put(&t.join(name), b"", Compression::from_path(Path::new(name)));
    fs::write(t.join("updates.20141222.0000.gz"), b"").expect("write");
    nothing("updates.20141222.0005.gz");
    fs::write(t.join("bview.20141222.0000.gz"), b"").expect("write");
    nothing("bview.20141222.0800.gz");
    fs::write(t.join("bview.20141222.1600.gz"), "not MRT at all\n".repeat(100)).expect("write");
    put(
        &t.join("bview.20141223.0000.gz"),
        &rib_bytes(0.05, 70, utc(2014, 12, 23, 0, 0), RRC00),
        Compression::Gzip,
    );
    let o = d.join("o");
    let r = batch(&[d.to_str().expect("path"), "--out", o.to_str().expect("path")]);
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(stderr(&r).contains("3 input(s) failed"), "{}", stderr(&r));
    let rows: BTreeMap<String, (Status, String)> = manifest(&o)
        .into_values()
        .map(|r| {
            let name = r.path.rsplit('/').next().unwrap_or("").to_string();
            let why = r.reason.split(':').next().unwrap_or("").to_string();
            (name, (r.status, why))
        })
        .collect();
    let expect: BTreeMap<String, (Status, String)> = [
        ("bview.20141222.0000.gz", Status::Failed, "empty file"),
        ("bview.20141222.0800.gz", Status::Failed, "empty"),
        ("bview.20141222.1600.gz", Status::Failed, "not MRT"),
        ("bview.20141223.0000.gz", Status::Ok, ""),
        ("updates.20141222.0000.gz", Status::Skipped, "not-a-rib"),
        ("updates.20141222.0005.gz", Status::Skipped, "not-a-rib"),
    ]
    .into_iter()
    .map(|(n, s, w)| (n.to_string(), (s, w.to_string())))
    .collect();
    assert_eq!(rows, expect);
}

/// The exit status follows the rule of every command: an input only cut at
/// its end is clean (0), damage skipped inside an input makes it 1.
#[test]
fn exit_status_counts_damage_skipped() {
    let d = scratch("exit-status");
    let rib = rib_bytes(0.2, 5, utc(2014, 5, 30, 0, 0), Ipv4Addr::new(10, 0, 0, 9));
    let cut = d.join("cut/rib.20140530.0000.mrt");
    put(&cut, &rib[..rib.len() - 10], Compression::None);
    let r = batch(&[cut.parent().unwrap().to_str().unwrap(), "--out", d.join("o1").to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert_eq!(manifest(&d.join("o1")).values().next().map(|r| r.status), Some(Status::Damaged));
    let mut bad = rib.clone();
    let mid = bad.len() / 2;
    bad[mid..mid + 64].fill(0xee);
    let damaged = d.join("bad/rib.20140530.0000.mrt");
    put(&damaged, &bad, Compression::None);
    let r = batch(&[damaged.parent().unwrap().to_str().unwrap(), "--out", d.join("o2").to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(stderr(&r).contains("0 input(s) failed, 1 with damage skipped"), "{}", stderr(&r));
}
