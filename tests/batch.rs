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

mod common;

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
    common::dataset(dir)
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

/// `batch --every`: replayed snapshots, per collector, from each RIB dump
/// and the updates that follow it (issue 13).
mod every {
    use super::*;
    use mrtsnap::dataset::derived::Derived;
    use mrtsnap::dataset::manifest::parse_rows;

    /// An updates file of `seed` covering `[start, start + secs)`.
    fn updates_over(path: &Path, seed: u64, start: u32, secs: u32) {
        let o = UpdatesOptions {
            messages: 200,
            seed,
            start_time: start,
            duration_secs: secs,
            ..UpdatesOptions::small()
        };
        let mut v = Vec::new();
        write_updates(&o, &mut v).expect("synth updates");
        put(path, &v, Compression::from_path(path));
    }

    fn t(h: i64, m: i64) -> u32 {
        utc(2014, 12, 22, h, m)
    }

    /// rrc00's updates files: name time (hour, minute), seed.
    const RRC00_UPDATES: [(i64, i64); 7] = [(0, 0), (0, 5), (0, 10), (0, 35), (7, 55), (8, 0), (8, 5)];

    /// A synthetic tree in the archives' layouts: RIS rrc00 (two bviews, the
    /// second starting 5 s after its name; updates every 5 min with gaps),
    /// RouteViews route-views.linx (a RIB and 15-min updates, plus an empty
    /// RIB), route-views2 (updates only), and a file of no known kind.
    fn tree(root: &Path) {
        let ris = root.join("ris/rrc00/2014.12");
        put(
            &ris.join("bview.20141222.0000.gz"),
            &rib_bytes(0.5, 31, t(0, 0), RRC00),
            Compression::Gzip,
        );
        put(
            &ris.join("bview.20141222.0800.gz"),
            &rib_bytes(0.5, 32, t(8, 0) + 5, RRC00),
            Compression::Gzip,
        );
        for (i, (h, m)) in RRC00_UPDATES.into_iter().enumerate() {
            updates_over(&ris.join(format!("updates.20141222.{h:02}{m:02}.gz")), 40 + i as u64, t(h, m), 300);
        }
        let linx = root.join("routeviews/route-views.linx/bgpdata/2014.12");
        put(
            &linx.join("RIBS/rib.20141222.0000.bz2"),
            &rib_bytes(0.5, 33, t(0, 0), LINX),
            Compression::Bzip2,
        );
        fs::write(linx.join("RIBS/rib.20141222.0200.bz2"), b"").expect("empty");
        updates_over(&linx.join("UPDATES/updates.20141222.0000.bz2"), 50, t(0, 0), 900);
        updates_over(&linx.join("UPDATES/updates.20141222.0015.bz2"), 51, t(0, 15), 900);
        let rv2 = root.join("routeviews/bgpdata/2014.12/UPDATES");
        updates_over(&rv2.join("updates.20141222.0000.bz2"), 52, t(0, 0), 900);
        updates_over(&rv2.join("updates.20141222.0015.bz2"), 53, t(0, 15), 900);
        fs::write(root.join("notes.txt"), "not an archive\n").expect("notes");
    }

    struct Every {
        arch: String,
        /// `--every 1h` into it, once.
        reference: PathBuf,
        reference_run: Output,
    }

    fn fixture() -> &'static Every {
        static F: OnceLock<Every> = OnceLock::new();
        F.get_or_init(|| {
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("batch-every");
            let _ = fs::remove_dir_all(&dir);
            let arch = dir.join("arch");
            tree(&arch);
            let arch = arch.to_str().expect("utf-8 path").to_string();
            let reference = dir.join("reference");
            let reference_run = batch(&["--every", "1h", &arch, "--out", reference.to_str().expect("path")]);
            Every {
                arch,
                reference,
                reference_run,
            }
        })
    }

    /// The derived table (CSV), by (collector, instant).
    fn derived(dir: &Path) -> BTreeMap<(String, i64), Derived> {
        let data = fs::read(dir.join("_manifest/derived.csv")).expect("derived.csv");
        parse_rows::<Derived>(&data)
            .into_iter()
            .map(|r| ((r.collector.clone(), r.instant), r))
            .collect()
    }

    /// What `mrtsnap snapshot --at T --format parquet` writes for `inputs`.
    fn snapshot_at(instant: i64, inputs: &[&str], dir: &Path) -> Vec<u8> {
        let out = dir.join("at.parquet");
        let s = mrtsnap()
            .args(["snapshot", "--format", "parquet", "--at", &instant.to_string(), "-o"])
            .arg(&out)
            .args(inputs)
            .output()
            .expect("snapshot");
        assert!(matches!(s.status.code(), Some(0 | 1)), "{}", stderr(&s));
        fs::read(&out).expect("read")
    }

    /// Each derived output of `dir` is what `snapshot --at` writes for the
    /// inputs its row lists, byte for byte; its row counts its rows and
    /// peers.
    fn outputs_equal_snapshot_at(dir: &Path) {
        let work = scratch(&format!("every-at-{}", dir.file_name().unwrap().to_string_lossy()));
        let rows = derived(dir);
        assert!(!rows.is_empty());
        for ((c, instant), r) in &rows {
            assert!(r.status.has_output(), "{c} {instant}: {r:?}");
            let inputs: Vec<&str> = r.inputs.iter().map(|i| i.path.as_str()).collect();
            let written = fs::read(dir.join(&r.output)).expect("output");
            assert!(
                written == snapshot_at(*instant, &inputs, &work),
                "{c} at {instant}: not what snapshot --at writes"
            );
            assert_eq!(Some(written.len() as u64), r.output_size);
            let snap = mrtsnap::Snapshot::read_parquet(dir.join(&r.output)).expect("read back");
            assert_eq!(
                (r.rows, r.peers),
                (Some(snap.len() as u64), Some(snap.peers().len() as u64)),
                "{c} {instant}"
            );
        }
    }

    #[test]
    fn instants_segments_and_the_derived_table() {
        let f = fixture();
        let err = stderr(&f.reference_run);
        assert_eq!(f.reference_run.status.code(), Some(0), "{err}");
        assert!(
            err.contains(
                "routeviews/route-views.linx/bgpdata/2014.12/RIBS/rib.20141222.0200.bz2: a RIB dump whose first records cannot be read"
            ),
            "{err}"
        );
        assert!(err.contains("notes.txt: no time"), "{err}");
        assert!(
            err.contains("11 output(s): 11 ok, 0 damaged, 0 failed, 0 already complete, 2 input(s) left out"),
            "{err}"
        );
        let rows = derived(&f.reference);
        let rel = |p: &str| p.strip_prefix(&format!("{}/", f.arch)).expect("under the tree").to_string();
        let got: Vec<(String, String, String, Vec<String>)> = rows
            .values()
            .map(|r| {
                let base = if r.base.is_empty() { "-".to_string() } else { rel(&r.base) };
                (
                    r.collector.clone(),
                    mrtsnap::fmt::utc_datetime(r.instant),
                    base,
                    r.inputs.iter().map(|i| rel(&i.path)).collect(),
                )
            })
            .collect();
        let ris = |f: &str| format!("ris/rrc00/2014.12/{f}");
        let upd = |n: usize| {
            RRC00_UPDATES[..n]
                .iter()
                .map(|(h, m)| ris(&format!("updates.20141222.{h:02}{m:02}.gz")))
                .collect::<Vec<_>>()
        };
        let b0 = ris("bview.20141222.0000.gz");
        let mut want = Vec::new();
        let linx = "routeviews/route-views.linx/bgpdata/2014.12";
        want.push((
            "route-views.linx".to_string(),
            "2014-12-22T00:00:00Z".to_string(),
            format!("{linx}/RIBS/rib.20141222.0000.bz2"),
            vec![
                format!("{linx}/RIBS/rib.20141222.0000.bz2"),
                format!("{linx}/UPDATES/updates.20141222.0000.bz2"),
            ],
        ));
        want.push((
            "route-views2".to_string(),
            "2014-12-22T00:00:00Z".to_string(),
            "-".to_string(),
            vec!["routeviews/bgpdata/2014.12/UPDATES/updates.20141222.0000.bz2".to_string()],
        ));
        // 08:00 precedes the second bview's start (08:00:05): the first
        // base's segment, with the updates up to 08:00.
        for h in 0..=8 {
            let n = match h {
                0 => 1,
                1..=7 => 4,
                _ => 6,
            };
            let inputs: Vec<String> = std::iter::once(b0.clone()).chain(upd(n)).collect();
            want.push(("rrc00".to_string(), format!("2014-12-22T{h:02}:00:00Z"), b0.clone(), inputs));
        }
        want.sort();
        assert_eq!(got, want);
        // Rows: the base's dump start, the gaps in the updates, the
        // collector without a RIB dump said so, names of the instants.
        let r = &rows[&("rrc00".to_string(), i64::from(t(1, 0)))];
        assert_eq!(r.base_time, Some(i64::from(t(0, 0))));
        assert_eq!(
            r.gaps,
            "2014-12-22T00:15:00Z/2014-12-22T00:35:00Z;2014-12-22T00:40:00Z/2014-12-22T01:00:01Z"
        );
        assert_eq!(r.gap_s, 1200 + 1201);
        assert_eq!(r.output, "collector=rrc00/date=2014-12-22/rrc00.20141222T010000Z.parquet");
        assert!(
            r.reason
                .starts_with("gap: no updates from 2014-12-22T00:15:00Z until 2014-12-22T00:35:00Z between "),
            "{}",
            r.reason
        );
        assert_eq!((r.errors.as_str(), r.damaged_records, r.uncertain_peers), ("", 0, 0));
        let first = &rows[&("rrc00".to_string(), i64::from(t(0, 0)))];
        assert_eq!((first.gaps.as_str(), first.reason.as_str()), ("", ""));
        let rv2 = &rows[&("route-views2".to_string(), i64::from(t(0, 0)))];
        assert_eq!((rv2.base.as_str(), rv2.base_time), ("", None));
        assert_eq!(
            rv2.reason,
            format!("no RIB dump: the state starts empty at the first updates file, {}/routeviews/bgpdata/2014.12/UPDATES/updates.20141222.0000.bz2", f.arch)
        );
        for r in rows.values() {
            let fp = mrtsnap::dataset::fingerprint::fingerprint(Path::new(&r.inputs[0].path), mrtsnap::dataset::fingerprint::Mode::Fast)
                .expect("fp");
            assert_eq!(r.inputs[0].fingerprint, fp);
            assert_eq!((r.part.as_str(), r.format.as_str(), r.status), ("all", "parquet", Status::Ok));
        }
        // The Parquet table holds the same rows.
        let pq = fs::read(f.reference.join("_manifest/derived.parquet")).expect("derived.parquet");
        assert_eq!(&pq[..4], b"PAR1");
        // Only derived outputs: the inputs' own snapshots are not written.
        let files: BTreeSet<String> = dataset(&f.reference).into_keys().collect();
        let listed: BTreeSet<String> = rows.values().map(|r| r.output.clone()).collect();
        assert_eq!(files, listed);
    }

    #[test]
    fn outputs_are_what_snapshot_at_writes() {
        outputs_equal_snapshot_at(&fixture().reference);
    }

    /// A window of 5-min instants around the second bview, whose dump
    /// starts 5 s after its name: 08:00 is still the first base's, 08:05
    /// the second's.
    #[test]
    fn a_base_counts_from_its_dump_start() {
        let f = fixture();
        let out = scratch("every-window");
        let r = batch(&[
            "--every",
            "5m",
            "--from",
            "2014-12-22T07:50",
            "--until",
            "2014-12-22T08:05",
            "--collector",
            "rrc00",
            &f.arch,
            "--out",
            out.to_str().expect("path"),
        ]);
        assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
        let rows = derived(&out);
        let got: Vec<(i64, usize, String, Option<i64>)> = rows
            .values()
            .map(|r| {
                (
                    r.instant,
                    r.inputs.len(),
                    r.base.rsplit('/').next().unwrap_or("").to_string(),
                    r.base_time,
                )
            })
            .collect();
        let (b0, b8) = ("bview.20141222.0000.gz".to_string(), "bview.20141222.0800.gz".to_string());
        assert_eq!(
            got,
            [
                (i64::from(t(7, 50)), 5, b0.clone(), Some(i64::from(t(0, 0)))),
                (i64::from(t(7, 55)), 6, b0.clone(), Some(i64::from(t(0, 0)))),
                (i64::from(t(8, 0)), 7, b0, Some(i64::from(t(0, 0)))),
                (i64::from(t(8, 5)), 3, b8, Some(i64::from(t(8, 0)) + 5)),
            ]
        );
        let last = &rows[&("rrc00".to_string(), i64::from(t(8, 5)))];
        let names: Vec<&str> = last.inputs.iter().map(|i| i.path.rsplit('/').next().unwrap_or("")).collect();
        assert_eq!(
            names,
            ["bview.20141222.0800.gz", "updates.20141222.0800.gz", "updates.20141222.0805.gz"]
        );
        outputs_equal_snapshot_at(&out);
    }

    #[test]
    fn a_rerun_writes_nothing() {
        let f = fixture();
        let o = f.reference.to_str().expect("path");
        let before: BTreeMap<String, (Vec<u8>, std::time::SystemTime)> = dataset(&f.reference)
            .into_iter()
            .map(|(p, b)| {
                let m = fs::metadata(f.reference.join(&p)).and_then(|m| m.modified()).expect("mtime");
                (p, (b, m))
            })
            .collect();
        let r = batch(&["--every", "1h", &f.arch, "--out", o]);
        assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
        assert!(
            stderr(&r).contains("0 output(s) to process (0.0 B), 11 already complete"),
            "{}",
            stderr(&r)
        );
        let after: BTreeMap<String, (Vec<u8>, std::time::SystemTime)> = dataset(&f.reference)
            .into_iter()
            .map(|(p, b)| {
                let m = fs::metadata(f.reference.join(&p)).and_then(|m| m.modified()).expect("mtime");
                (p, (b, m))
            })
            .collect();
        assert!(before == after, "a rerun rewrote outputs");
        // The plan says so too.
        let dry = batch(&["--every", "1h", "--dry-run", &f.arch, "--out", o]);
        let text = String::from_utf8_lossy(&dry.stdout).into_owned();
        let actions: Vec<&str> = text.lines().skip(1).filter_map(|l| l.split('\t').next()).collect();
        assert_eq!(actions, ["complete"; 11], "{text}");
    }

    /// A new updates file re-derives the instants of its segment from its
    /// time on; an input changed in place those built from it; the others
    /// are left alone.
    #[test]
    fn new_or_changed_inputs_re_derive_what_they_feed() {
        let d = scratch("every-new-input");
        let arch = d.join("arch");
        tree(&arch);
        let (a, o) = (arch.to_str().expect("path"), d.join("out"));
        let o = o.to_str().expect("path");
        let run = |want: &str| {
            let r = batch(&["--every", "1h", "--collector", "rrc00", a, "--out", o]);
            assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
            assert!(stderr(&r).contains(want), "{want}: {}", stderr(&r));
        };
        run("9 output(s) to process");
        let ris = arch.join("ris/rrc00/2014.12");
        updates_over(&ris.join("updates.20141222.0040.gz"), 99, t(0, 40), 300);
        run("8 output(s) to process (");
        let rows = derived(Path::new(o));
        let has = |h: i64| {
            rows[&("rrc00".to_string(), i64::from(t(h, 0)))]
                .inputs
                .iter()
                .any(|i| i.path.ends_with("updates.20141222.0040.gz"))
        };
        assert!(!has(0) && (1..=8).all(has));
        outputs_equal_snapshot_at(Path::new(o));
        run("0 output(s) to process (0.0 B), 9 already complete");
        // 07:55 rewritten (another size): 08:00 only.
        updates_over(&ris.join("updates.20141222.0755.gz"), 98, t(7, 55), 300);
        run("1 output(s) to process (");
    }

    /// `--shard K/N` takes whole collectors, by the hash of their name; the
    /// shards together write what one run writes.
    #[test]
    fn shards_take_whole_collectors() {
        let f = fixture();
        let out = scratch("every-shards");
        let o = out.to_str().expect("path");
        for k in 1..=2 {
            let r = batch(&["--every", "1h", &f.arch, "--out", o, "--shard", &format!("{k}/2")]);
            assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
        }
        assert!(dataset(&out) == dataset(&f.reference), "sharded dataset differs");
        let rebuilt = batch(&["--out", o]);
        assert!(
            stderr(&rebuilt).contains("derived table rebuilt: 11 row(s)"),
            "{}",
            stderr(&rebuilt)
        );
        let (a, b) = (derived(&out), derived(&f.reference));
        assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        for (k, r) in &a {
            let shard = mrtsnap::dataset::shard::path_hash(&r.collector) % 2 + 1;
            assert_eq!(r.part, format!("shard-{shard}-of-2"), "{k:?}");
            let strip = |r: &Derived| (r.status, r.output.clone(), r.output_size, r.rows, r.inputs.clone(), r.gaps.clone());
            assert_eq!(strip(r), strip(&b[k]), "{k:?}");
        }
        // The test tree puts its collectors in both shards.
        let parts: BTreeSet<&str> = a.values().map(|r| r.part.as_str()).collect();
        assert_eq!(parts.len(), 2, "{parts:?}");
    }

    #[test]
    fn one_thread_or_two_write_the_same_bytes() {
        let f = fixture();
        let reference = dataset(&f.reference);
        for threads in ["1", "2"] {
            let out = scratch(&format!("every-threads-{threads}"));
            let r = mrtsnap()
                .args([
                    "--threads",
                    threads,
                    "batch",
                    "--every",
                    "1h",
                    &f.arch,
                    "--out",
                    out.to_str().expect("path"),
                ])
                .output()
                .expect("run");
            assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
            assert!(dataset(&out) == reference, "--threads {threads}");
        }
    }

    #[test]
    fn killed_run_resumes_to_the_same_outputs() {
        let f = fixture();
        let d = scratch("every-killed");
        let (full, out) = (d.join("full"), d.join("killed"));
        let args = |o: &Path| -> Vec<String> {
            ["--every", "5m", "--collector", "rrc00", &f.arch, "--out", o.to_str().expect("path")]
                .map(str::to_string)
                .to_vec()
        };
        let r = batch(&args(&full).iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
        let reference = dataset(&full);
        assert_eq!(reference.len(), 98);
        let mut child = mrtsnap()
            .args(["--threads", "1", "batch", "--in-flight", "1", "--quiet"])
            .args(args(&out))
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let t0 = Instant::now();
        while count_visible(&out) < 3 && t0.elapsed() < Duration::from_secs(60) && child.try_wait().expect("wait").is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        let partial = visible(&out);
        assert!(
            partial.len() >= 3 && partial.len() < reference.len(),
            "killed after {} outputs",
            partial.len()
        );
        for (p, bytes) in &partial {
            assert_eq!(Some(bytes), reference.get(p), "{p} is partial or unexpected");
        }
        let r = batch(&args(&out).iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
        assert!(dataset(&out) == reference, "resumed outputs differ from an uninterrupted run");
        assert!(temporaries(&out).is_empty(), "{:?}", temporaries(&out));
        assert_eq!(derived(&out).len(), 98);
    }

    /// The tree of the plain batch tests (RIBs over years, damaged,
    /// truncated, empty and foreign inputs), every day: a base without
    /// updates gives its own instant only (no years of copies of a 2003
    /// RIB), a truncated base an output `damaged` that ends early, a
    /// corrupt one `damaged` with damage skipped (exit status 1); inputs
    /// that cannot be placed or read are left out, said so.
    #[test]
    fn odd_inputs_every_day() {
        let f = super::fixture();
        let out = scratch("every-odd");
        let r = batch(&["--every", "1d", &f.arch, "--out", out.to_str().expect("path")]);
        let err = stderr(&r);
        assert_eq!(r.status.code(), Some(1), "{err}");
        for left in [
            "misc/junk.mrt: no time",
            "ris/rrc01/2014.12/bview.20141225.0000.gz: unreadable",
            "ris/rrc00/2014.12/bview.20141224.0000.gz: a RIB dump whose first records cannot be read",
        ] {
            assert!(err.contains(left), "{left}: {err}");
        }
        assert!(
            err.contains("9 output(s): 7 ok, 2 damaged, 0 failed, 0 already complete, 3 input(s) left out"),
            "{err}"
        );
        assert!(err.contains("0 output(s) failed, 1 with damage skipped"), "{err}");
        let got: Vec<String> = derived(&out)
            .values()
            .map(|r| format!("{} {} {} {} {}", r.collector, r.date, r.status.as_str(), r.inputs.len(), r.reason))
            .collect();
        assert_eq!(
            got,
            [
                "route-views.linx 2014-12-22 ok 1 ",
                "route-views.linx 2014-12-23 ok 1 ",
                "route-views.linx 2014-12-24 damaged 1 input ends early; everything before the cut was decoded",
                "route-views2 2014-12-22 ok 2 ",
                "route-views2 2014-12-23 ok 1 ",
                "rrc00 2014-12-22 ok 1 ",
                "rrc00 2014-12-23 ok 1 ",
                "rrc01 2014-12-22 ok 1 ",
                "rrc01 2014-12-23 damaged 1 1 damaged record(s) or region(s) skipped",
            ]
        );
        outputs_equal_snapshot_at(&out);
    }

    /// Copies of an input under several roots: the first that can be read
    /// is replayed, the others are left out, said so.
    #[test]
    fn copies_are_replayed_once() {
        let d = scratch("every-copies");
        let rib = rib_bytes(0.2, 61, t(0, 0), RRC00);
        let name = "rrc00/2014.12/bview.20141222.0000.gz";
        let roots = ["a", "b", "c"].map(|r| d.join(r));
        fs::create_dir_all(roots[0].join(name).parent().expect("parent")).expect("mkdir");
        fs::write(roots[0].join(name), b"").expect("empty");
        put(&roots[1].join(name), &rib, Compression::Gzip);
        put(&roots[2].join(name), &rib, Compression::Gzip);
        updates_over(&roots[2].join("rrc00/2014.12/updates.20141222.0000.gz"), 62, t(0, 0), 300);
        let out = d.join("out");
        let r = batch(
            &[
                &["--every", "5m"][..],
                &roots.each_ref().map(|r| r.to_str().expect("path")),
                &["--out", out.to_str().expect("path")],
            ]
            .concat(),
        );
        let err = stderr(&r);
        assert_eq!(r.status.code(), Some(0), "{err}");
        let path = |k: usize| roots[k].join(name).to_string_lossy().into_owned();
        assert!(
            err.contains(&format!("left out: {}: a RIB dump whose first records cannot be read", path(0))),
            "{err}"
        );
        assert!(
            err.contains(&format!("left out: {}: the same collector, kind and time as {}", path(2), path(1))),
            "{err}"
        );
        let rows = derived(&out);
        let inputs: Vec<Vec<String>> = rows.values().map(|r| r.inputs.iter().map(|i| i.path.clone()).collect()).collect();
        let upd = roots[2]
            .join("rrc00/2014.12/updates.20141222.0000.gz")
            .to_string_lossy()
            .into_owned();
        assert_eq!(inputs, [vec![path(1), upd]]);
    }

    /// The options the replay has no use for are refused; --kind and
    /// --daily conflict with --every.
    #[test]
    fn options_that_do_not_apply_are_refused() {
        let f = fixture();
        let o = scratch("every-refused");
        for extra in [
            &["--multicast"][..],
            &["--full-feed", "ioda"],
            &["--kind", "rib"],
            &["--daily", "00:00"],
        ] {
            let r = batch(&[&["--every", "1h", &f.arch, "--out", o.to_str().expect("path")][..], extra].concat());
            assert_eq!(r.status.code(), Some(2), "{extra:?}: {}", stderr(&r));
        }
        let r = batch(&["--every", "0m", &f.arch, "--out", o.to_str().expect("path")]);
        assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
        assert!(!o.join("_manifest/derived.csv").exists());
    }

    /// The route-views.jinx RIB of 2014-05-30 22:00 and its 23:45 updates
    /// file, in RouteViews layout, and the rrc06 updates file of 22:15 (no
    /// RIB dump): every 15 min.
    #[test]
    fn jinx_rib_and_updates_every_15_min() {
        let Some(corpus) = crate::common::corpus_dir() else { return };
        let src = corpus.join("CAIDA+libbgpstream/test-dumps");
        let files = [
            (
                "routeviews.route-views.jinx.ribs.1401487200.bz2",
                "route-views.jinx/bgpdata/2014.05/RIBS/rib.20140530.2200.bz2",
            ),
            (
                "routeviews.route-views.jinx.updates.1401493500.bz2",
                "route-views.jinx/bgpdata/2014.05/UPDATES/updates.20140530.2345.bz2",
            ),
            ("ris.rrc06.updates.1401488100.gz", "rrc06/2014.05/updates.20140530.2215.gz"),
        ];
        if files.iter().any(|(f, _)| !src.join(f).is_file()) {
            eprintln!("SKIPPED: the jinx and rrc06 test dumps are absent from {}", src.display());
            return;
        }
        let d = scratch("every-jinx");
        let arch = d.join("arch");
        for (f, to) in files {
            fs::create_dir_all(arch.join(to).parent().expect("parent")).expect("mkdir");
            std::os::unix::fs::symlink(src.join(f), arch.join(to)).expect("symlink");
        }
        let out = d.join("out");
        let r = batch(&["--every", "15m", arch.to_str().expect("path"), "--out", out.to_str().expect("path")]);
        assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
        let rows = derived(&out);
        let jinx: Vec<(i64, usize, u64)> = rows
            .values()
            .filter(|r| r.collector == "route-views.jinx")
            .map(|r| (r.instant, r.inputs.len(), r.gap_s))
            .collect();
        let at = |m: i64| 1_401_487_200 + m * 60;
        // Seconds without updates: from the dump to the instant (one more:
        // the instant's own second), then to the updates file of 23:45.
        let want: Vec<(i64, usize, u64)> = (0..8u64)
            .map(|k| {
                (
                    at(15 * k as i64),
                    1 + usize::from(k == 7),
                    if k == 7 { 6300 } else { 900 * k + u64::from(k > 0) },
                )
            })
            .collect();
        assert_eq!(jinx, want);
        let first = &rows[&("route-views.jinx".to_string(), at(0))];
        assert_eq!((first.rows, first.peers, first.routes), (Some(497_413), Some(14), Some(503_590)));
        let rrc06 = &rows[&("rrc06".to_string(), 1_401_488_100)];
        assert!(rrc06.base.is_empty() && rrc06.reason.starts_with("no RIB dump"), "{rrc06:?}");
        outputs_equal_snapshot_at(&out);
    }
}
