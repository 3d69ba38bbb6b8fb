//! `mrtsnap batch --timeline` and `mrtsnap outages` over the dataset it
//! writes, on the generated `nk-2014` scenario (two days of route-views2
//! and rrc00): one table per collector and day, each what `mrtsnap
//! timeline` writes over that collector's files for that day; resumable
//! (a rerun writes nothing, a returned input re-derives its day, a killed
//! run resumes to the same bytes), sharded by collector, the same bytes
//! on one thread or two; the outages of the dataset, per collector, are
//! those of the raw files of each collector, and AS131279's two events
//! within a bin of the truth.

mod common;
use common::{nk_at as at, utc_seconds as time};

use common::dataset;
use mrtsnap::dataset::derived::Derived;
use mrtsnap::dataset::manifest::{parse_rows, Status};
use mrtsnap::synth::scenario::Nk2014;
use mrtsnap::timeline::stored::read_table;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn mrtsnap() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mrtsnap"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn run(args: &[&str]) -> Output {
    mrtsnap().args(args).output().expect("run mrtsnap")
}

/// Run `args`, exit status 0, its standard output.
fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("timeline-batch-cases").join(name);
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).expect("mkdir");
    d
}

/// The two collectors, and where their files are in the scenario.
const COLLECTORS: [(&str, &str); 2] = [("route-views2", "bgpdata"), ("rrc00", "rrc00")];

struct Fixture {
    /// The scenario.
    arch: PathBuf,
    /// `batch --timeline 5m` over it, once.
    reference: PathBuf,
    reference_run: Output,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("timeline-batch");
        let _ = fs::remove_dir_all(&dir);
        let arch = dir.join("arch");
        Nk2014::new(Nk2014::DEFAULT_SCALE).write(&arch).expect("generate");
        let reference = dir.join("reference");
        let reference_run = batch(&arch, &reference, &[]);
        Fixture {
            arch,
            reference,
            reference_run,
        }
    })
}

/// `batch --timeline 5m` over the collectors' directories of `arch` into
/// `out`, with `extra` arguments.
fn batch(arch: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut c = mrtsnap();
    c.args(["batch", "--timeline", "5m"]);
    for (_, d) in COLLECTORS {
        c.arg(arch.join(d));
    }
    let o = c.arg("--out").arg(out).args(extra).output().expect("batch");
    if !matches!(o.status.code(), Some(0 | 1)) {
        eprintln!("{}", stderr(&o));
    }
    o
}

/// The derived table (CSV), by (collector, day).
fn derived(dir: &Path) -> BTreeMap<(String, i64), Derived> {
    let data = fs::read(dir.join("_manifest/derived.csv")).expect("derived.csv");
    parse_rows::<Derived>(&data)
        .into_iter()
        .map(|r| ((r.collector.clone(), r.instant), r))
        .collect()
}

/// The files of a collector in the scenario, in path order.
fn files_of(arch: &Path, dir: &str) -> Vec<String> {
    fn walk(d: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p.to_string_lossy().into_owned());
            }
        }
    }
    let mut v = Vec::new();
    walk(&arch.join(dir), &mut v);
    v.sort();
    v
}

/// What `mrtsnap timeline --all-origins --family both --format parquet`
/// writes for `inputs` over the day starting at `day`.
fn timeline_of(inputs: &[String], day: u32, work: &Path) -> Vec<u8> {
    let out = work.join("timeline.parquet");
    let (from, until) = (day.to_string(), (day + 86_400).to_string());
    let mut args = vec![
        "-q",
        "timeline",
        "--all-origins",
        "--family",
        "both",
        "--format",
        "parquet",
        "--from",
        &from,
        "--until",
        &until,
        "-o",
    ];
    let o = out.to_str().expect("path");
    args.push(o);
    args.extend(inputs.iter().map(String::as_str));
    ok(&args);
    fs::read(&out).expect("read")
}

/// One table per collector and day, named by both; each row lists the
/// day's inputs (the RIB dump of 00:00, then every RIB dump and updates
/// file of the day) and its table is, byte for byte and row for row, what
/// `mrtsnap timeline` writes over those inputs and over all of the
/// collector's files for that day.
#[test]
fn one_table_per_collector_and_day_as_timeline_writes() {
    let f = fixture();
    let err = stderr(&f.reference_run);
    assert_eq!(f.reference_run.status.code(), Some(0), "{err}");
    assert!(err.contains("4 output(s): 4 ok, 0 damaged, 0 failed, 0 already complete;"), "{err}");
    let rows = derived(&f.reference);
    let keys: Vec<(&str, u32)> = rows.keys().map(|(c, d)| (c.as_str(), *d as u32)).collect();
    assert_eq!(
        keys,
        [
            ("route-views2", at(22, 0, 0)),
            ("route-views2", at(23, 0, 0)),
            ("rrc00", at(22, 0, 0)),
            ("rrc00", at(23, 0, 0)),
        ]
    );
    let files: BTreeSet<String> = dataset(&f.reference).into_keys().collect();
    let listed: BTreeSet<String> = rows.values().map(|r| r.output.clone()).collect();
    assert_eq!(files, listed);
    let work = scratch("as-timeline");
    for ((collector, day), r) in &rows {
        let (c, dir) = COLLECTORS.iter().find(|(c, _)| c == collector).expect("a collector");
        let date = mrtsnap::fmt::utc_date(*day);
        assert_eq!(
            r.output,
            format!("timeline/bin=5m/collector={c}/date={date}/{c}.{}.parquet", date.replace('-', ""))
        );
        assert_eq!(
            (r.status, r.timeline_bin_s, r.format.as_str(), r.reason.as_str(), r.gap_s),
            (Status::Ok, Some(300), "parquet", "", 0)
        );
        // route-views2: a RIB every 2 h and updates every 15 min; rrc00:
        // every 8 h and every 5 min.
        let (ribs, updates) = if *c == "rrc00" { (3, 288) } else { (12, 96) };
        assert_eq!(r.inputs.len(), ribs + updates, "{c} {date}");
        let compact = date.replace('-', "");
        assert!(
            r.base
                .ends_with(&format!(".{compact}.0000.{}", if *c == "rrc00" { "gz" } else { "bz2" })),
            "{}",
            r.base
        );
        assert_eq!((r.inputs[0].path.as_str(), r.base_time), (r.base.as_str(), Some(*day)));
        assert!(r.inputs.iter().all(|i| i.path.contains(&format!(".{compact}."))), "{c} {date}");
        let inputs: Vec<String> = r.inputs.iter().map(|i| i.path.clone()).collect();
        let written = fs::read(f.reference.join(&r.output)).expect("table");
        assert_eq!(Some(written.len() as u64), r.output_size);
        assert!(
            written == timeline_of(&inputs, *day as u32, &work),
            "{c} {date}: not what timeline writes for its inputs"
        );
        let all = timeline_of(&files_of(&f.arch, dir), *day as u32, &work);
        assert!(
            written == all,
            "{c} {date}: not what timeline writes over all of the collector's files"
        );
        // Row for row: the 288 bins, the collector named; an origin (of a
        // family) at every bin from the one it is first met in.
        let table = read_table(&f.reference.join(&r.output)).expect("read back");
        let from_all = read_table(&work.join("timeline.parquet")).expect("read back");
        assert!(table == from_all, "{c} {date}: rows differ");
        assert_eq!(table.len(), 1);
        let (name, cols) = &table[0];
        assert_eq!(name, c);
        assert_eq!(Some(cols.len() as u64), r.rows);
        let bins: BTreeSet<u32> = cols.time.iter().copied().collect();
        assert_eq!(bins, (0..288).map(|i| *day as u32 + i * 300).collect());
        let mut series: BTreeMap<_, Vec<u32>> = BTreeMap::new();
        for i in 0..cols.len() {
            series.entry((&cols.origin[i], cols.v6[i])).or_default().push(cols.time[i]);
        }
        for (k, times) in &series {
            let first = times[0];
            assert_eq!(
                *times,
                (first..*day as u32 + 86_400).step_by(300).collect::<Vec<_>>(),
                "{c} {date} {k:?}"
            );
        }
        assert!(cols.v6.iter().any(|v| *v) && cols.value.iter().all(Option::is_some));
    }
}

#[test]
fn a_rerun_writes_nothing() {
    let f = fixture();
    let mtimes = |d: &Path| -> BTreeMap<String, (Vec<u8>, std::time::SystemTime)> {
        dataset(d)
            .into_iter()
            .map(|(p, b)| {
                let m = fs::metadata(d.join(&p)).and_then(|m| m.modified()).expect("mtime");
                (p, (b, m))
            })
            .collect()
    };
    let before = mtimes(&f.reference);
    let r = batch(&f.arch, &f.reference, &[]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert!(
        stderr(&r).contains("0 output(s) to process (0.0 B), 4 already complete"),
        "{}",
        stderr(&r)
    );
    assert!(before == mtimes(&f.reference), "a rerun rewrote tables");
    let dry = batch(&f.arch, &f.reference, &["--dry-run"]);
    let text = String::from_utf8_lossy(&dry.stdout).into_owned();
    let actions: Vec<&str> = text.lines().skip(1).filter_map(|l| l.split('\t').next()).collect();
    assert_eq!(actions, ["complete"; 4], "{text}");
}

/// A copy of the scenario without rrc00's updates of 23 December 10:00 to
/// 10:55: that day's table has null bins (a gap, said so in its row);
/// the files back, only that day is derived again, to the reference's
/// bytes; an updates file changed in place re-derives its day.
#[test]
fn a_returned_input_re_derives_its_day() {
    let f = fixture();
    let d = scratch("returned");
    let arch = d.join("arch");
    let held = d.join("held");
    fs::create_dir_all(&held).expect("mkdir");
    for (_, dir) in COLLECTORS {
        for p in files_of(&f.arch, dir) {
            let rel = Path::new(&p).strip_prefix(&f.arch).expect("under").to_path_buf();
            let missing = rel.to_string_lossy().contains("rrc00/2014.12/updates.20141223.10");
            let to = if missing {
                held.join(rel.file_name().expect("name"))
            } else {
                arch.join(&rel)
            };
            fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
            fs::copy(&p, &to).expect("copy");
        }
    }
    let out = d.join("out");
    let r = batch(&arch, &out, &[]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let rows = derived(&out);
    let gap = &rows[&("rrc00".to_string(), i64::from(at(23, 0, 0)))];
    assert_eq!(gap.gaps, "2014-12-23T10:00:00Z/2014-12-23T11:00:00Z");
    assert!(
        gap.reason.starts_with("gap: no updates from 2014-12-23T10:00:00Z"),
        "{}",
        gap.reason
    );
    let table = read_table(&out.join(&gap.output)).expect("read");
    let nulls: BTreeSet<u32> = table[0]
        .1
        .time
        .iter()
        .zip(&table[0].1.value)
        .filter(|(_, v)| v.is_none())
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(nulls, (0..12).map(|i| at(23, 10, 0) + i * 300).collect());
    for e in fs::read_dir(&held).expect("held").flatten() {
        fs::copy(e.path(), arch.join("rrc00/2014.12").join(e.file_name())).expect("copy back");
    }
    let r = batch(&arch, &out, &[]);
    assert!(
        stderr(&r).contains("1 output(s) to process (") && stderr(&r).contains("3 already complete"),
        "{}",
        stderr(&r)
    );
    assert!(
        dataset(&out) == dataset(&f.reference),
        "the re-derived day differs from the reference"
    );
    // An updates file of 22 December rewritten (another size): that day.
    let rows = derived(&out);
    let victim = arch.join("bgpdata/2014.12/UPDATES/updates.20141222.1200.bz2");
    let mut bytes = fs::read(&victim).expect("read");
    bytes.extend_from_slice(&bytes.clone());
    fs::write(&victim, bytes).expect("write");
    let r = batch(&arch, &out, &[]);
    assert!(stderr(&r).contains("1 output(s) to process ("), "{}", stderr(&r));
    let again = derived(&out);
    let changed: Vec<&(String, i64)> = again.keys().filter(|k| again[*k] != rows[*k]).collect();
    assert_eq!(changed, [&("route-views2".to_string(), i64::from(at(22, 0, 0)))]);
}

/// `--shard K/N` takes whole collectors; the shards together write what
/// one run writes.
#[test]
fn shards_take_whole_collectors() {
    let f = fixture();
    let out = scratch("shards");
    for k in 1..=2 {
        let r = batch(&f.arch, &out, &["--shard", &format!("{k}/2")]);
        assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    }
    assert!(dataset(&out) == dataset(&f.reference), "sharded dataset differs");
    for ((c, _), r) in derived(&out) {
        let shard = mrtsnap::dataset::shard::path_hash(&c) % 2 + 1;
        assert_eq!(r.part, format!("shard-{shard}-of-2"), "{c}");
    }
    let parts: BTreeSet<String> = derived(&out).values().map(|r| r.part.clone()).collect();
    assert_eq!(parts.len(), 2, "the two collectors hash to one shard: {parts:?}");
}

#[test]
fn one_thread_or_two_write_the_same_bytes() {
    let f = fixture();
    let reference = dataset(&f.reference);
    for threads in ["1", "2"] {
        let out = scratch(&format!("threads-{threads}"));
        let mut c = mrtsnap();
        c.args(["--threads", threads, "batch", "--timeline", "5m"]);
        for (_, d) in COLLECTORS {
            c.arg(f.arch.join(d));
        }
        let r = c.arg("--out").arg(&out).output().expect("run");
        assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
        assert!(dataset(&out) == reference, "--threads {threads}");
    }
}

/// SIGKILL after the first table: the rerun ends with the dataset of an
/// uninterrupted run, no temporary file left.
#[test]
fn killed_run_resumes_to_the_same_tables() {
    let f = fixture();
    let out = scratch("killed");
    let mut c = mrtsnap();
    c.args(["--threads", "1", "batch", "--timeline", "5m", "--in-flight", "1", "--quiet"]);
    for (_, d) in COLLECTORS {
        c.arg(f.arch.join(d));
    }
    let mut child = c.arg("--out").arg(&out).stderr(Stdio::null()).spawn().expect("spawn");
    let t0 = Instant::now();
    while dataset(&out)
        .keys()
        .all(|p| p.rsplit('/').next().is_some_and(|n| n.starts_with('.')))
        && t0.elapsed() < Duration::from_secs(60)
        && child.try_wait().expect("wait").is_none()
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let reference = dataset(&f.reference);
    let partial = dataset(&out);
    let visible: Vec<&String> = partial
        .keys()
        .filter(|p| !p.rsplit('/').next().unwrap_or(p).starts_with('.'))
        .collect();
    assert!(!visible.is_empty() && visible.len() < 4, "killed after {visible:?}");
    for p in visible {
        assert!(Some(&partial[p]) == reference.get(p), "{p} is partial or unexpected");
    }
    let r = batch(&f.arch, &out, &[]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert!(dataset(&out) == reference, "resumed tables differ from an uninterrupted run");
    assert_eq!(derived(&out).len(), 4);
}

/// (collector, origin, start, end) of a dataset's outages CSV.
fn events(csv: &str) -> Vec<(String, String, u32, Option<u32>)> {
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("collector,origin,start,end,duration_s,depth,severity,peers_withdrawn")
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 8, "{l}");
            (
                f[0].to_string(),
                f[1].to_string(),
                time(f[2]),
                (!f[3].is_empty()).then(|| time(f[3])),
            )
        })
        .collect()
}

/// AS131279's two outages in each collector's series, each edge within a
/// 5-minute bin of the truth's.
#[test]
fn outages_per_collector() {
    let f = fixture();
    let ds = f.reference.to_str().expect("path");
    let got = events(&ok(&["-q", "outages", "--origin", "131279", ds]));
    let mut want = Vec::new();
    for (c, _) in COLLECTORS {
        want.push((c.to_string(), "131279".to_string(), at(22, 16, 15), Some(at(23, 1, 45))));
        want.push((c.to_string(), "131279".to_string(), at(23, 15, 40), Some(at(23, 16, 10))));
    }
    assert_eq!(got, want);
    let truth: Vec<(u32, u32)> = fs::read_to_string(f.arch.join("truth/events.csv"))
        .expect("truth")
        .lines()
        .skip(1)
        .map(|l| {
            let x: Vec<&str> = l.split(',').collect();
            (time(x[1]), time(x[2]))
        })
        .collect();
    assert_eq!(truth.len(), 2);
    for (i, (_, _, s, e)) in got.iter().enumerate() {
        let (ts, te) = truth[i % 2];
        assert!(s.abs_diff(ts) < 300 && e.expect("closed").abs_diff(te) < 300, "{got:?} {truth:?}");
    }
    // JSON lines name the collector first.
    let jsonl = ok(&["-q", "outages", "--origin", "AS131279", "--format", "jsonl", ds]);
    assert!(
        jsonl.starts_with("{\"collector\":\"route-views2\",\"origin\":\"131279\",\"family\":\"ipv4\",\"start\":\"2014-12-22T16:15:00Z\""),
        "{jsonl}"
    );
    assert_eq!(jsonl.lines().count(), 4);
}

/// Over every origin of the dataset: AS131279's events alone, none for
/// the origins the truth keeps visible.
#[test]
fn no_false_positives_over_all_origins() {
    let f = fixture();
    let got = events(&ok(&["-q", "outages", "--all-origins", f.reference.to_str().expect("path")]));
    let stable = common::stable_origins(&f.arch.join("truth"));
    assert!(stable.len() > 100, "{}", stable.len());
    assert!(got.iter().all(|e| !stable.contains(&e.1)), "{got:?}");
    assert!(got.iter().all(|e| e.1 == "131279"), "{got:?}");
    assert_eq!(got.len(), 4);
}

/// The outages of the dataset are, collector by collector, those
/// `outages` finds over that collector's raw files: with a detector set
/// to fire often, both families, and a window of bins.
#[test]
fn stored_and_raw_outages_agree() {
    let f = fixture();
    let ds = f.reference.to_str().expect("path");
    let often = ["--fraction", "1", "--min-bins", "1", "--warmup", "1"];
    for extra in [
        vec!["--all-origins", "--family", "both"],
        [&["--all-origins", "--family", "both", "--window", "2h"][..], &often].concat(),
        [
            &["--all-origins", "--from", "2014-12-22T12:02", "--until", "2014-12-23T13:07"][..],
            &often,
        ]
        .concat(),
    ] {
        let extra = &extra[..];
        let stored = ok(&[&["-q", "outages", ds][..], extra].concat());
        let mut raw = vec!["collector,origin,start,end,duration_s,depth,severity,peers_withdrawn".to_string()];
        for (c, dir) in COLLECTORS {
            let files = files_of(&f.arch, dir);
            let args: Vec<&str> = [&["-q", "outages"][..], extra, &files.iter().map(String::as_str).collect::<Vec<_>>()].concat();
            let csv = ok(&args);
            let mut lines = csv.lines();
            assert_eq!(lines.next(), Some("origin,start,end,duration_s,depth,severity,peers_withdrawn"));
            raw.extend(lines.map(|l| format!("{c},{l}")));
        }
        let stored: Vec<&str> = stored.lines().collect();
        assert_eq!(stored, raw, "{extra:?}");
        assert!(stored.len() > 1, "{extra:?}: no event");
    }
}

/// `timeline`'s own Parquet files are read as stored timelines too (their
/// `collectors` as the collector); what cannot be read is refused.
#[test]
fn stored_tables_and_refusals() {
    let f = fixture();
    let work = scratch("stored-tables");
    let both = work.join("both.parquet");
    let dirs: Vec<String> = COLLECTORS
        .iter()
        .map(|(_, d)| f.arch.join(d).to_string_lossy().into_owned())
        .collect();
    ok(&[
        "-q",
        "timeline",
        "--all-origins",
        "--family",
        "both",
        "-o",
        both.to_str().expect("path"),
        &dirs[0],
        &dirs[1],
    ]);
    let got = events(&ok(&["-q", "outages", "--origin", "131279", both.to_str().expect("path")]));
    let c = "route-views2;rrc00".to_string();
    assert_eq!(
        got,
        [
            (c.clone(), "131279".to_string(), at(22, 16, 15), Some(at(23, 1, 45))),
            (c, "131279".to_string(), at(23, 15, 40), Some(at(23, 16, 10))),
        ]
    );
    let ds = f.reference.to_str().expect("path");
    let refused = |args: &[&str], says: &str| {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    };
    refused(&["outages", "--origin", "131279", "--bin", "1h", ds], "it holds bins of 5m");
    refused(&["outages", "--origin", "131279", ds, &dirs[0]], "not both");
    refused(
        &["outages", "--origin", "131279", "--full-feed", "ioda", ds],
        "--full-feed does not apply",
    );
    let notes = work.join("notes.parquet");
    fs::write(&notes, b"PAR1 not really").expect("write");
    refused(
        &["outages", "--all-origins", notes.to_str().expect("path")],
        "cannot read the timeline table",
    );
    // A snapshot is not a timeline table.
    let snap = work.join("snap.parquet");
    ok(&[
        "-q",
        "snapshot",
        "--format",
        "parquet",
        "-o",
        snap.to_str().expect("path"),
        &files_of(&f.arch, "rrc00")[0],
    ]);
    refused(&["outages", "--all-origins", snap.to_str().expect("path")], "not a timeline table");
    // Options that do not go with --timeline.
    let out = work.join("out");
    for extra in [
        &["--every", "1h"][..],
        &["--format", "pfx2as"],
        &["--timeline", "7m"],
        &["--multicast"],
        &["--daily", "00:00"],
    ] {
        let mut args = vec!["batch", "--out", out.to_str().expect("path"), &dirs[0]];
        if extra[0] != "--timeline" {
            args.extend(["--timeline", "5m"]);
        }
        args.extend(extra);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
    }
    assert!(!out.join("_manifest/derived.csv").exists());
}

/// The route-views.jinx RIB of 2014-05-30 22:00 and its updates file of
/// 23:45, in RouteViews layout: one day, whose bins are null until the
/// RIB dump (no base before its first bin, said so) and through the gap
/// to 23:45; its table is what `timeline` writes over the two files.
#[test]
fn jinx_day_with_a_late_rib() {
    let Some(corpus) = common::corpus_dir() else { return };
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
    ];
    if files.iter().any(|(f, _)| !src.join(f).is_file()) {
        eprintln!("SKIPPED: the jinx test dumps are absent from {}", src.display());
        return;
    }
    let d = scratch("jinx");
    let arch = d.join("arch");
    let mut inputs = Vec::new();
    for (f, to) in files {
        fs::create_dir_all(arch.join(to).parent().expect("parent")).expect("mkdir");
        std::os::unix::fs::symlink(src.join(f), arch.join(to)).expect("symlink");
        inputs.push(arch.join(to).to_string_lossy().into_owned());
    }
    let out = d.join("out");
    let r = run(&[
        "batch",
        "--timeline",
        "5m",
        arch.to_str().expect("path"),
        "--out",
        out.to_str().expect("path"),
    ]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let rows = derived(&out);
    let day = 1_401_408_000u32;
    let row = &rows[&("route-views.jinx".to_string(), i64::from(day))];
    assert_eq!((row.base.as_str(), row.base_time, row.inputs.len(), row.gap_s), ("", None, 2, 6300));
    assert!(
        row.reason.starts_with(&format!(
            "no RIB dump before the first bin: the bins are null until the first, {}; gap: no updates from 2014-05-30T22:00:00Z until 2014-05-30T23:45:00Z",
            inputs[0]
        )),
        "{}",
        row.reason
    );
    let written = fs::read(out.join(&row.output)).expect("table");
    assert!(written == timeline_of(&inputs, day, &d), "not what timeline writes");
    let table = read_table(&out.join(&row.output)).expect("read back");
    let cols = &table[0].1;
    let valued: BTreeSet<u32> = cols
        .time
        .iter()
        .zip(&cols.value)
        .filter(|(_, v)| v.is_some())
        .map(|(t, _)| *t)
        .collect();
    let held: BTreeSet<u32> = cols.time.iter().copied().collect();
    // Rows from the RIB dump's bin on; values only from the updates on.
    assert_eq!(held, (0..24).map(|i| day + 22 * 3600 + i * 300).collect());
    assert_eq!(valued, (0..3).map(|i| day + 23 * 3600 + 2700 + i * 300).collect());
    assert_eq!(Some(cols.len() as u64), row.rows);
}
