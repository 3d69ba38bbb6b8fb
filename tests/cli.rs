//! End-to-end tests of the `mrtsnap` binary: exit codes (0 clean, 1 damaged
//! records skipped, 2 fatal), errors on stderr with file, offset and record,
//! quiet broken pipes, `--strict`, `stats` figures pinned for corpus files,
//! and `dump --format jsonl` output that parses.
//!
//! Tests marked "corpus" read `../shared/corpus` (or `$MRTSNAP_CORPUS`) and
//! skip, saying so on stderr, when it is absent; the others build their MRT
//! input in a temporary directory. JSON is checked with `python3`'s `json`
//! module (skipped, saying so, without python3).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn mrtsnap() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mrtsnap"))
}

/// What a run of the binary gave.
struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn lines(&self) -> usize {
        self.stdout.iter().filter(|&&b| b == b'\n').count()
    }

    fn text(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }
}

fn run(args: &[&str], files: &[&Path]) -> Run {
    let out = mrtsnap().args(args).args(files).output().expect("run mrtsnap");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The shared corpus, or `None` (after saying why) when it is absent.
fn corpus() -> Option<PathBuf> {
    let dir = match std::env::var_os("MRTSNAP_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    };
    if dir.join("MANIFEST.tsv").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: shared MRT corpus not found at {} (set MRTSNAP_CORPUS); test not run",
            dir.display()
        );
        None
    }
}

macro_rules! corpus_or_skip {
    () => {
        match corpus() {
            Some(d) => d,
            None => return,
        }
    };
}

// Hand-made MRT records.

use mrtsnap::testkit::{self, bgp4mp_as4, mrt};

/// BGP4MP MESSAGE_AS4 from AS 65001 (10.0.0.1), announcing 10.`n`.0.0/16
/// with AS path `65001 65002`. With `afi` other than 1 the record is damaged.
fn update(ts: u32, n: u8, afi: u8) -> Vec<u8> {
    let attrs = [
        0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1,
    ];
    let mut body = bgp4mp_as4(
        (65001, [10, 0, 0, 1]),
        (65002, [10, 0, 0, 2]),
        &testkit::update(&[], &attrs, &[16, 10, n]),
    );
    // The AFI field (bytes 10..12).
    body[11] = afi;
    mrt(ts, 16, 4, &body)
}

/// A TABLE_DUMP_V2 RIB: a peer table of one peer, then `n` RIB records.
fn rib(n: u32) -> Vec<u8> {
    let mut v = mrt(
        1000,
        13,
        1,
        &[10, 0, 0, 1, 0, 0, 0, 1, 2, 1, 1, 1, 1, 192, 0, 2, 1, 0, 0, 0xfd, 0xe9],
    );
    for i in 0..n {
        let b = i.to_be_bytes();
        let mut body = vec![b[0], b[1], b[2], b[3], 24, b[1], b[2], b[3], 0, 1, 0, 0, 0, 0, 0, 0, 0, 13];
        body.extend_from_slice(&[0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9]); // 13 bytes
        v.extend(mrt(1000, 13, 2, &body));
    }
    v
}

fn write_temp(dir: &tempfile::TempDir, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, data).expect("write temp file");
    p
}

/// Parse every line with python3's json module and count lines by `type`
/// (`-` for objects without one). `None` (after saying so) without python3.
fn json_types(jsonl: &[u8]) -> Option<BTreeMap<String, u64>> {
    const SCRIPT: &str = "import json,sys,collections\n\
        c=collections.Counter(json.loads(l).get('type','-') for l in sys.stdin.buffer)\n\
        print(' '.join(f'{k}={v}' for k,v in sorted(c.items())))";
    let child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!("SKIPPED: python3 not found; JSON lines not parsed");
        return None;
    };
    let mut stdin = child.stdin.take().expect("stdin");
    let data = jsonl.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().expect("python3");
    feeder.join().expect("feeder").expect("feed python3");
    assert!(out.status.success(), "a line is not JSON");
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    Some(
        text.split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.parse().expect("count")))
            .collect(),
    )
}

#[test]
fn clean_input_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let f = write_temp(&dir, "clean.mrt", &[update(1000, 1, 1), update(1001, 2, 1)].concat());
    let r = run(&["dump"], &[&f]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(r.text(), "BGP4MP|1000|A|10.0.0.1|65001|10.1.0.0/16|65001 65002|IGP|10.0.0.1|0|0||NAG||\nBGP4MP|1001|A|10.0.0.1|65001|10.2.0.0/16|65001 65002|IGP|10.0.0.1|0|0||NAG||\n");
    let r = run(&["stats"], &[&f]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert!(r.text().contains("\nrecords: 2\n  BGP4MP(16)/MESSAGE_AS4(4): 2\n"), "{}", r.text());
}

/// `dump -o FILE` writes exactly what `dump` prints, for both formats and
/// with enough routes for several batches and reused output buffers.
#[test]
fn dump_output_file_equals_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let many: Vec<u8> = (0..200_000u32).flat_map(|i| update(1000 + i, (i % 200) as u8 + 1, 1)).collect();
    let f = write_temp(&dir, "many.mrt", &many);
    for format in ["bgpdump", "jsonl"] {
        let want = run(&["--threads", "2", "dump", "--format", format], &[&f]);
        assert_eq!(want.code, 0);
        assert_eq!(want.lines(), 200_000);
        assert!(many.len() > 3 * mrtsnap::source::DEFAULT_BATCH_SIZE, "{}", many.len());
        let out = dir.path().join(format!("out.{format}"));
        let r = run(&["--threads", "2", "dump", "--format", format, "-o", out.to_str().unwrap()], &[&f]);
        assert_eq!((r.code, r.stdout.len()), (0, 0), "{}", r.stderr);
        assert_eq!(std::fs::read(&out).unwrap(), want.stdout, "{format}");
    }
    let r = run(&["dump", "-o", "/nonexistent-dir/x.txt"], &[&f]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("/nonexistent-dir/x.txt"), "{}", r.stderr);
}

#[test]
fn missing_file_is_fatal() {
    for cmd in ["dump", "stats"] {
        let r = run(&[cmd], &[Path::new("/nonexistent/updates.mrt")]);
        assert_eq!(r.code, 2, "{cmd}: {}", r.stderr);
        assert!(r.stderr.starts_with("mrtsnap: "), "{cmd}: {}", r.stderr);
        assert!(r.stderr.contains("/nonexistent/updates.mrt"), "{cmd}: {}", r.stderr);
        assert!(r.stdout.is_empty());
    }
}

/// A record that frames but does not decode is skipped: exit 1, the error
/// on stderr with the file, the record index and the byte offset, and the
/// records around it still printed.
#[test]
fn damaged_record_exits_one_and_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let first = update(1000, 1, 1);
    let data = [first.clone(), update(1001, 2, 7), update(1002, 3, 1)].concat();
    let f = write_temp(&dir, "damaged.mrt", &data);
    let name = f.display().to_string();
    for args in [&["dump"][..], &["dump", "--format", "jsonl"], &["stats"]] {
        let r = run(args, &[&f]);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        // The address family field: 12 (header) + 10 bytes into the body.
        let at = format!(
            "mrtsnap: {name}: record 1 at byte {:#x}: bad BGP4MP address family: 7\n",
            first.len() + 22
        );
        assert!(r.stderr.contains(&at), "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("1 damaged record(s) or region(s) skipped (bad-value: 1)"),
            "{}",
            r.stderr
        );
    }
    assert_eq!(run(&["dump"], &[&f]).lines(), 2);
    let q = run(&["--quiet", "dump"], &[&f]);
    assert_eq!(q.code, 1);
    assert!(!q.stderr.contains("record 1 at byte"), "{}", q.stderr);
}

/// `--strict` stops at the first error with exit 2; what came before it is
/// still printed.
#[test]
fn strict_stops_at_first_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = [update(1000, 1, 1), update(1001, 2, 7), update(1002, 3, 1)].concat();
    let f = write_temp(&dir, "damaged.mrt", &data);
    let r = run(&["--strict", "dump"], &[&f]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        r.text(),
        "BGP4MP|1000|A|10.0.0.1|65001|10.1.0.0/16|65001 65002|IGP|10.0.0.1|0|0||NAG||\n"
    );
    assert!(r.stderr.contains("record 1 at byte"), "{}", r.stderr);
    let r = run(&["--strict", "stats"], &[&f]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("record 1 at byte"), "{}", r.stderr);
}

/// `mrtsnap dump big | head -1`: the reader going away ends the dump with
/// exit status 0 and nothing on stderr, in both formats.
#[test]
fn broken_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let f = write_temp(&dir, "big.mrt", &rib(200_000));
    for format in ["bgpdump", "jsonl"] {
        let mut child = mrtsnap()
            .args(["dump", "--format", format])
            .arg(&f)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut first = String::new();
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        out.read_line(&mut first).expect("first line");
        drop(out);
        let status = child.wait().expect("wait");
        let mut err = String::new();
        child.stderr.take().expect("stderr").read_to_string(&mut err).expect("stderr");
        assert!(first.ends_with('\n') && first.len() > 20, "{format}: {first}");
        assert_eq!((status.code(), err.as_str()), (Some(0), ""), "{format}");
    }
}

#[test]
fn jsonl_of_hand_made_records_parses() {
    let dir = tempfile::tempdir().unwrap();
    let data = [rib(3), update(1001, 2, 1)].concat();
    let f = write_temp(&dir, "mixed.mrt", &data);
    let r = run(&["dump", "--format", "jsonl"], &[&f]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let first = r.text().lines().nth(1).unwrap_or_default().to_string();
    assert!(first.starts_with(r#"{"type":"rib","record":1,"timestamp":1000,"micros":null,"mrt_type":"TABLE_DUMP_V2","mrt_subtype":"RIB_IPV4_UNICAST","peer_index":0,"peer_ip":"192.0.2.1","peer_asn":65001,"prefix":"0.0.0.0/24","#), "{first}");
    if let Some(types) = json_types(&r.stdout) {
        let want: BTreeMap<String, u64> = [("announce".to_string(), 1), ("peer_table".to_string(), 1), ("rib".to_string(), 3)].into();
        assert_eq!(types, want);
    }
}

/// One MRT file of MANIFEST.tsv.
struct Row {
    /// Size after decompression.
    uncompressed: u64,
    /// `records_by_type`: `TYPE(t)/SUB(s)` → count, leaving out the
    /// ` TRUNCATED` entries (a last record cut short).
    by_type: BTreeMap<String, u64>,
}

/// The MRT files of MANIFEST.tsv by path.
fn manifest() -> BTreeMap<String, Row> {
    let Some(dir) = corpus() else { return BTreeMap::new() };
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    let mut rows = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.get(2) != Some(&"mrt") {
            continue;
        }
        let by_type = f[6]
            .split(',')
            .filter(|kv| !kv.contains("TRUNCATED"))
            .filter_map(|kv| kv.rsplit_once(':'))
            .map(|(k, v)| (k.to_string(), v.parse().expect("count")))
            .collect();
        let uncompressed = f[4].parse().expect("uncompressed_bytes");
        rows.insert(f[0].to_string(), Row { uncompressed, by_type });
    }
    rows
}

/// Lines of JSON lines output by `type`, read from each line's start
/// (`{"type":"..."`) without parsing.
fn line_types(jsonl: &[u8]) -> BTreeMap<String, u64> {
    let mut c = BTreeMap::new();
    for line in jsonl.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let ty = line
            .strip_prefix(b"{\"type\":\"")
            .and_then(|rest| rest.split(|&b| b == b'"').next())
            .map(|t| String::from_utf8_lossy(t).into_owned())
            .unwrap_or_else(|| "-".to_string());
        *c.entry(ty).or_insert(0) += 1;
    }
    c
}

/// The `  TYPE(t)/SUB(s): n` lines of a `stats` report.
fn stats_records(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| l.contains(")/"))
        .filter_map(|l| l.rsplit_once(": "))
        .map(|(k, v)| (k.to_string(), v.parse().expect("count")))
        .collect()
}

/// Corpus: `stats` figures pinned for three files. Record counts equal the
/// MANIFEST's; RIB entries, distinct prefixes, peers and announcement counts
/// equal what the bgpdump reference output gives (counted with
/// `cut`/`sort -u` over `expected/bgpdump-m`).
#[test]
fn stats_figures_pinned() {
    let dir = corpus_or_skip!();
    let cases: [(&str, &[&str]); 3] = [
        (
            "CAIDA+libbgpstream/test-dumps/routeviews.route-views.jinx.ribs.1401487200.bz2",
            &[
                "input: bzip2, 3941646 bytes stored, 32575928 bytes decoded",
                "time: 2014-05-30 22:00:00 .. 2014-05-30 22:00:01 UTC (1401487200 .. 1401487201)",
                "records: 497408",
                "  TABLE_DUMP_V2(13)/PEER_INDEX_TABLE(1): 1",
                "  TABLE_DUMP_V2(13)/RIB_IPV4_UNICAST(2): 497323",
                "  TABLE_DUMP_V2(13)/RIB_IPV6_UNICAST(4): 84",
                "peers: 14 in the peer table, 14 with RIB entries, 0 in BGP4MP/BGP records",
                "RIB entries: 503590 (IPv4 503417, IPv6 173)",
                "RIB prefixes, distinct: 497407 (IPv4 497323, IPv6 84)",
                "announced: 0 (IPv4 0, IPv6 0)",
                "errors: none",
                "warnings: none",
            ],
        ),
        (
            "CAIDA+libbgpstream/test-dumps/ris.rrc06.updates.1401488100.gz",
            &[
                "input: gzip, 25872 bytes stored, 182849 bytes decoded",
                "time: 2014-05-30 22:15:00 .. 2014-05-30 22:19:59 UTC (1401488100 .. 1401488399)",
                "records: 1561",
                "  BGP4MP(16)/MESSAGE_AS4(4): 1557",
                "  BGP4MP(16)/STATE_CHANGE_AS4(5): 4",
                "peers: no peer table, 0 with RIB entries, 6 in BGP4MP/BGP records",
                "announced: 3761 (IPv4 3665, IPv6 96)",
                "withdrawn: 68 (IPv4 68, IPv6 0)",
                "state changes: 4",
                "BGP messages: KEEPALIVE 27, UPDATE 1530",
                "errors: none",
            ],
        ),
        (
            "hadiasghari+pyasn/data/rib6.20151101.0600_firstMB.bz2",
            &[
                "records: 6871",
                "  TABLE_DUMP_V2(13)/PEER_INDEX_TABLE(1): 1",
                "  TABLE_DUMP_V2(13)/RIB_IPV6_UNICAST(4): 6870",
                "peers: 29 in the peer table, 27 with RIB entries, 0 in BGP4MP/BGP records",
                "RIB entries: 149578 (IPv4 0, IPv6 149578)",
                "RIB prefixes, distinct: 6870 (IPv4 0, IPv6 6870)",
                "errors: 2 (0 damaged records or regions skipped, 2 at the end of the input)",
                "  decompress: 1 (first: at byte 0xb92285)",
                "  truncated: 1 (first: record 6871 at byte 0xb91b60)",
            ],
        ),
    ];
    let manifest = manifest();
    for (file, want) in cases {
        let path = dir.join(file);
        let r = run(&["stats"], &[&path]);
        // A cut-short archive is not damage: everything before the cut was read.
        assert_eq!(r.code, 0, "{file}: {}", r.stderr);
        let text = r.text();
        assert!(text.starts_with(&format!("file: {}\n", path.display())), "{text}");
        for line in want {
            assert!(text.lines().any(|l| l == *line), "{file}: no line {line:?} in\n{text}");
        }
        assert_eq!(stats_records(&text), manifest[file].by_type, "{file}");
    }
}

/// Corpus: record counts by type from `stats --json` equal MANIFEST.tsv's
/// for every file but one. `updates.20000325.0345.gz` (torn writes) is the
/// exception: the framing layer resynchronises on every plausible header
/// and keeps 2580 records where the manifest's scan kept 2217; the corpus
/// tests of the framing layer own that difference.
#[test]
fn stats_json_record_counts_match_manifest() {
    let dir = corpus_or_skip!();
    let mut checked = 0;
    for (file, row) in manifest() {
        let want = row.by_type;
        if file.ends_with("updates.20000325.0345.gz") {
            continue;
        }
        let r = run(&["--quiet", "stats", "--json"], &[&dir.join(&file)]);
        assert!(r.code == 0 || r.code == 1, "{file}: {}", r.stderr);
        let text = r.text();
        let by_type = text
            .split_once("\"records_by_type\":{")
            .and_then(|(_, rest)| rest.split_once('}'))
            .map(|(m, _)| m)
            .unwrap_or_default();
        let got: BTreeMap<String, u64> = by_type
            .split(',')
            .filter_map(|kv| kv.rsplit_once(':'))
            .map(|(k, v)| (k.trim_matches('"').to_string(), v.parse().expect("count")))
            .collect();
        assert_eq!(got, want, "{file}");
        if checked == 0 {
            if let Some(types) = json_types(&r.stdout) {
                assert_eq!(types, [("-".to_string(), 1)].into(), "stats --json: one object");
            }
        }
        checked += 1;
    }
    assert!(checked > 40, "{checked}");
}

/// Corpus: damaged inputs. Torn writes (exit 1, each skipped region located
/// on stderr), RIB records without a peer table (exit 1, record index on
/// stderr, yet the routes still come out in JSON lines).
#[test]
fn damaged_corpus_files() {
    let dir = corpus_or_skip!();
    let torn = dir.join("bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc00/2000.03/updates.20000325.0345.gz");
    let r = run(&["dump"], &[&torn]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let name = torn.display();
    assert!(
        r.stderr.contains(&format!(
            "mrtsnap: {name}: at byte 0xbc: 10 bytes of garbage between records skipped\n"
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "mrtsnap: {name}: at byte 0x11ca: 14 bytes of garbage between records skipped\n"
        )),
        "{}",
        r.stderr
    );
    let s = run(&["stats"], &[&torn]);
    assert_eq!(s.code, 1);
    assert!(
        s.text().contains("\n  garbage: 2 (first: at byte 0xbc, at byte 0x11ca)\n"),
        "{}",
        s.text()
    );
    let strict = run(&["--strict", "dump"], &[&torn]);
    assert_eq!(strict.code, 2);
    assert!(strict.lines() < r.lines() / 100, "{} lines before the first error", strict.lines());

    let orphan = dir.join("hadiasghari+pyasn/data/bview.20140112.1600_3samples.bz2");
    let r = run(&["dump", "--format", "jsonl"], &[&orphan]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("record 2 at byte 0x76: RIB record without a PEER_INDEX_TABLE"),
        "{}",
        r.stderr
    );
    if let Some(types) = json_types(&r.stdout) {
        assert_eq!(types, [("rib".to_string(), 3)].into());
    }
}

/// Corpus: the route and state lines of `jsonl` match the `bgpdump`
/// format's lines one for one, except where that format prints nothing: RIB
/// records without a peer table (`bview.20140112.1600_3samples.bz2`: 3
/// routes) and BGP4MP ENTRY records (`openbgpd_rib_table-mp`: 31 routes).
/// Every line of the files up to 4 MB (36 of 45; the large ones only
/// multiply the same record types) is parsed by python3's json module.
/// Unoptimised builds leave the large files out altogether (they take
/// minutes there); `cargo test --release` covers them.
#[test]
fn jsonl_parses_and_matches_bgpdump_counts() {
    let dir = corpus_or_skip!();
    let extra: BTreeMap<&str, u64> = [("bview.20140112.1600_3samples.bz2", 3), ("openbgpd_rib_table-mp", 31)].into();
    let small = 4 << 20;
    let (mut parsed, mut counted) = (0, 0);
    for (file, row) in manifest() {
        if cfg!(debug_assertions) && row.uncompressed > small {
            continue;
        }
        let path = dir.join(&file);
        let j = run(&["--quiet", "dump", "--format", "jsonl"], &[&path]);
        let b = run(&["--quiet", "dump"], &[&path]);
        assert_eq!(j.code, b.code, "{file}");
        let types = line_types(&j.stdout);
        if row.uncompressed <= small {
            if let Some(t) = json_types(&j.stdout) {
                assert_eq!(t, types, "{file}");
                parsed += 1;
            }
        }
        let routes: u64 = ["rib", "announce", "withdraw", "state"]
            .iter()
            .map(|t| types.get(*t).copied().unwrap_or(0))
            .sum();
        let base = file.rsplit('/').next().unwrap_or(&file);
        let want = b.lines() as u64 + extra.get(base).copied().unwrap_or(0);
        assert_eq!(routes, want, "{file}: {types:?}");
        counted += 1;
    }
    assert!(counted >= 36, "{counted}");
    eprintln!("{counted} files' line counts compared, {parsed} files' JSON lines parsed by python3");
}

// Nothing lost, nothing destroyed: outputs, inputs that change or come
// through pipes, and one exit status rule for every command.

/// Whether a directory holds a leftover temporary output.
fn temp_left(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

/// `-o` naming the input (directly, through a symbolic or a hard link, or
/// standard output appended to it) is refused with exit 2 before anything
/// is opened: the input is left byte for byte.
#[test]
fn output_that_is_the_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = rib(50);
    let f = write_temp(&dir, "s.mrt", &data);
    std::os::unix::fs::symlink(&f, dir.path().join("link.mrt")).unwrap();
    std::fs::hard_link(&f, dir.path().join("hard.mrt")).unwrap();
    for out in ["s.mrt", "link.mrt", "hard.mrt"] {
        let o = dir.path().join(out);
        for args in [&["dump", "-o"][..], &["snapshot", "--format", "pairs", "-o"], &["snapshot", "-o"]] {
            let r = mrtsnap().args(args).arg(&o).arg(&f).output().unwrap();
            let err = String::from_utf8_lossy(&r.stderr);
            assert_eq!(r.status.code(), Some(2), "{args:?} {out}: {err}");
            assert!(err.contains("is the input") && err.contains("refusing to overwrite it"), "{err}");
            assert_eq!(std::fs::read(&f).unwrap(), data, "{args:?} {out}");
        }
    }
    // `mrtsnap dump s.mrt >> s.mrt`.
    let append = std::fs::OpenOptions::new().append(true).open(&f).unwrap();
    let r = mrtsnap().arg("dump").arg(&f).stdout(append).output().unwrap();
    assert_eq!(r.status.code(), Some(2), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stderr).contains("standard output is the input"));
    assert_eq!(std::fs::read(&f).unwrap(), data);
    assert!(temp_left(dir.path()).is_empty());
}

/// An output file appears under its name only when complete: a run that
/// fails (a missing second input; a write refused as on a full disk, here
/// by a file size limit) leaves an earlier file of that name as it was and
/// no temporary file behind, and the message blames the output, not the
/// input. Devices are written directly. A successful run replaces the
/// file and keeps its permissions.
#[test]
fn outputs_appear_only_when_complete() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let good = write_temp(&dir, "good.mrt", &rib(20_000));
    let out = dir.path().join("out.txt");
    std::fs::write(&out, "an earlier output\n").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
    let missing = dir.path().join("missing.mrt");
    let r = mrtsnap().args(["dump", "-o"]).arg(&out).arg(&good).arg(&missing).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "an earlier output\n");
    assert!(temp_left(dir.path()).is_empty(), "{:?}", temp_left(dir.path()));

    // A write refused midway (EFBIG under `ulimit -f`, as ENOSPC on a full disk).
    for args in ["dump -o", "snapshot --format pairs -o", "snapshot -o"] {
        let script = format!(
            "ulimit -f 16; trap '' XFSZ; exec '{}' {args} '{}' '{}'",
            env!("CARGO_BIN_EXE_mrtsnap"),
            out.display(),
            good.display()
        );
        let r = Command::new("sh").arg("-c").arg(&script).output().unwrap();
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{args}: {err}");
        assert!(err.contains(&format!("writing {}", out.display())), "{args}: {err}");
        assert!(!err.contains("at byte"), "{args}: {err}");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "an earlier output\n", "{args}");
        assert!(temp_left(dir.path()).is_empty(), "{args}: {:?}", temp_left(dir.path()));
    }

    let r = run(&["dump", "-o", "/dev/full"], &[&good]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("writing /dev/full: No space left on device"), "{}", r.stderr);
    assert_eq!(run(&["dump", "-o", "/dev/null"], &[&good]).code, 0);

    let want = run(&["dump"], &[&good]);
    let r = run(&["dump", "-o", out.to_str().unwrap()], &[&good]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read(&out).unwrap(), want.stdout);
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o640);
    assert!(temp_left(dir.path()).is_empty());
}

/// Several inputs whose outputs would share a name in `-o DIR` are refused
/// with the list, before anything is written.
#[test]
fn snapshot_outputs_that_collide_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["a", "b"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
    }
    let data = rib(10);
    let a = write_temp(&dir, "a/x.mrt", &data);
    let b = write_temp(&dir, "b/x.mrt", &data);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&data).unwrap();
    let c = write_temp(&dir, "b/x.gz", &gz.finish().unwrap());
    let out = dir.path().join("out");
    let r = run(&["snapshot", "--format", "pairs", "-o", out.to_str().unwrap()], &[&a, &b, &c]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("several inputs would write the same output"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("x.pairs.tsv <- {}, {}, {}", a.display(), b.display(), c.display())),
        "{}",
        r.stderr
    );
    assert!(!out.exists());
    // Distinct names are fine.
    let r = run(&["snapshot", "--format", "pairs", "-o", out.to_str().unwrap()], &[&a, &c]);
    assert_eq!(r.code, 2, "x.mrt and x.gz both make x.pairs.tsv: {}", r.stderr);
    let d = write_temp(&dir, "b/y.mrt", &data);
    let r = run(&["snapshot", "--format", "pairs", "-o", out.to_str().unwrap()], &[&a, &d]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read(out.join("x.pairs.tsv")).unwrap(),
        std::fs::read(out.join("y.pairs.tsv")).unwrap()
    );
}

/// A mapped input that shrinks while it is read (another program truncates
/// it) makes the process fault on the missing pages: the SIGBUS handler
/// names the file, removes the temporary output and exits with 2; an
/// earlier output of the same name is untouched. The input is 8 GiB, all
/// of it a hole after a small RIB, so the reader is still far from its end
/// when it is cut.
#[test]
fn mapped_input_that_shrinks_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let head = rib(1000);
    for (args, gz) in [
        (&["dump", "-o"][..], false),
        (&["snapshot", "--format", "pairs", "-o"], false),
        (&["stats", "--json"], false),
        (&["dump", "-o"], true),
    ] {
        let f = dir.path().join("big.mrt");
        let data = if gz {
            // A gzip file is mapped too; its stored blocks are read as they come.
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
            e.write_all(&head).unwrap();
            e.write_all(&vec![0; 64 << 20]).unwrap();
            e.finish().unwrap()
        } else {
            head.clone()
        };
        std::fs::write(&f, &data).unwrap();
        let file = std::fs::OpenOptions::new().write(true).open(&f).unwrap();
        file.set_len(8 << 30).unwrap();
        let out = dir.path().join("out.txt");
        std::fs::write(&out, "earlier\n").unwrap();
        let mut cmd = mrtsnap();
        cmd.args(args);
        if args.last() == Some(&"-o") {
            cmd.arg(&out);
        }
        let child = cmd.arg(&f).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        file.set_len(data.len() as u64 / 2).unwrap();
        let r = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("{}: changed while being read", f.display())),
            "{args:?}: {err}"
        );
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "earlier\n");
        assert!(temp_left(dir.path()).is_empty(), "{args:?}: {:?}", temp_left(dir.path()));
    }
}

/// Pipes, FIFOs and process substitution are read once: the bytes read to
/// recognise the format are not lost (plain input keeps its
/// PEER_INDEX_TABLE, bzip2 its stream header).
#[test]
fn pipes_are_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let plain = rib(3000);
    let f = write_temp(&dir, "rib.mrt", &plain);
    let want = run(&["snapshot", "--format", "pairs", "-o", "-"], &[&f]);
    assert_eq!((want.code, want.lines()), (0, 3000), "{}", want.stderr);
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    bz.write_all(&plain).unwrap();
    let bz = bz.finish().unwrap();
    let through_pipe = |args: &[&str], data: &[u8]| {
        let mut child = mrtsnap()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let data = data.to_vec();
        let w = std::thread::spawn(move || stdin.write_all(&data));
        let out = child.wait_with_output().unwrap();
        w.join().unwrap().unwrap();
        (out.status.code(), out.stdout, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    for data in [&plain, &bz] {
        for input in ["/dev/stdin", "-"] {
            let (code, out, err) = through_pipe(&["snapshot", "--format", "pairs", "-o", "-", input], data);
            assert_eq!((code, err.as_str()), (Some(0), ""), "{input}");
            assert_eq!(out, want.stdout, "{input}");
        }
        let (code, out, err) = through_pipe(&["lookup", "/dev/stdin", "0.0.5.1"], data);
        assert_eq!((code, err.as_str()), (Some(0), ""));
        assert_eq!(String::from_utf8(out).unwrap(), "0.0.5.1\t0.0.5.0/24\t65001\t1\t1\n");
    }
    // A FIFO.
    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let writer = {
        let (fifo, bz) = (fifo.clone(), bz.clone());
        std::thread::spawn(move || std::fs::write(fifo, bz))
    };
    let r = run(&["snapshot", "--format", "pairs", "-o", "-"], &[&fifo]);
    writer.join().unwrap().unwrap();
    assert_eq!((r.code, r.stdout), (0, want.stdout.clone()), "{}", r.stderr);
}

/// The same damage inside decoded records is reported alike by `dump`
/// (both formats), `stats`, `snapshot` and `lookup`: exit 1 and the same
/// error line (record, offset, what), the records around it kept.
#[test]
fn damage_inside_records_is_reported_alike() {
    let dir = tempfile::tempdir().unwrap();
    let good = rib(10);
    // Record 5 (the fifth RIB record): 33 bytes of peer table, 43 per RIB record.
    let body = 33 + 4 * 43 + 12;
    type Case = (&'static str, fn(&mut [u8]), &'static str);
    let cases: [Case; 5] = [
        ("truncated attribute", |b| b[20] = 200, "truncated"),
        ("attribute length past the record", |b| b[17] = 200, "truncated"),
        ("peer index past the table", |b| b[11] = 5, "peer index 5 out of range (1 peers)"),
        ("prefix length 255", |b| b[4] = 255, "invalid prefix length 255"),
        ("AS_PATH segment of 255 ASNs", |b| b[26] = 255, "malformed AS_PATH attribute"),
    ];
    for (what, damage, message) in cases {
        let mut data = good.clone();
        damage(&mut data[body..]);
        let f = write_temp(&dir, "damaged.mrt", &data);
        let name = f.display().to_string();
        let mut lines: Vec<(String, String)> = Vec::new();
        for (args, after) in [
            (&["dump"][..], &[][..]),
            (&["dump", "--format", "jsonl"], &[]),
            (&["stats"], &[]),
            (&["snapshot", "--format", "pairs", "-o", "-"], &[]),
            (&["lookup"], &["0.0.9.1"]),
        ] {
            let r = mrtsnap().args(args).arg(&f).args(after).output().unwrap();
            let err = String::from_utf8_lossy(&r.stderr).into_owned();
            assert_eq!(r.status.code(), Some(1), "{what}: {args:?}: {err}");
            let line = err
                .lines()
                .find(|l| l.starts_with(&format!("mrtsnap: {name}: record 5 at byte ")))
                .unwrap_or_else(|| panic!("{what}: {args:?}: {err}"))
                .to_string();
            assert!(line.contains(message), "{what}: {args:?}: {line}");
            lines.push((args.join(" "), line));
        }
        for (args, line) in &lines {
            assert_eq!(line, &lines[0].1, "{what}: {args} and {}", lines[0].0);
        }
    }
}

/// Empty inputs and inputs that are not MRT: an empty file is a valid,
/// empty updates interval for `dump` and `stats` (exit 0, quiet) and no
/// RIB for `snapshot` and `lookup` (exit 2); a text file or zeros hold no
/// MRT record (exit 2 with a message, for every command).
#[test]
fn empty_and_non_mrt_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write_temp(&dir, "empty.mrt", b"");
    let text = write_temp(&dir, "notes.txt", b"these are not the routes you are looking for\n");
    let zeros = write_temp(&dir, "zeros.mrt", &vec![0; 1 << 20]);
    let r = run(&["dump"], &[&empty]);
    assert_eq!((r.code, r.stderr.as_str(), r.stdout.len()), (0, "", 0));
    let r = run(&["stats"], &[&empty]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    for args in [&["snapshot", "-o", "-", "--format", "pairs"][..], &["lookup", "8.8.8.8"]] {
        let r = mrtsnap().args(&args[..1]).arg(&empty).args(&args[1..]).output().unwrap();
        assert_eq!(r.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&r.stderr).contains("empty input: not a RIB dump"),
            "{args:?}"
        );
    }
    for f in [&text, &zeros] {
        for args in [
            &["dump"][..],
            &["stats"],
            &["snapshot", "-o", "-", "--format", "pairs"],
            &["lookup", "8.8.8.8"],
        ] {
            let r = mrtsnap().args(&args[..1]).arg(f).args(&args[1..]).output().unwrap();
            let err = String::from_utf8_lossy(&r.stderr);
            assert_eq!(r.status.code(), Some(2), "{args:?} {}: {err}", f.display());
            assert!(err.contains("no MRT record found"), "{args:?}: {err}");
            if args[0] != "stats" {
                assert!(r.stdout.is_empty(), "{args:?}");
            }
        }
    }
}

/// `lookup` rejects malformed queries before reading anything; a
/// directory as input is one clear message; `--threads` beyond 4 x the
/// cores is capped with a warning.
#[test]
fn bad_arguments_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let f = write_temp(&dir, "rib.mrt", &rib(10));
    for q in ["8.8.8.8/", "8.8.8.8/33", "::1/129", "banana", "10.0.0.0/x"] {
        let r = run(&["lookup"], &[&f, Path::new(q)]);
        assert_eq!(r.code, 2, "{q}");
        assert!(r.stderr.contains(&format!("bad query {q:?}")), "{q}: {}", r.stderr);
    }
    let r = run(&["lookup"], &[&f, Path::new("0.0.5.0/24")]);
    assert_eq!((r.code, r.text().as_str()), (0, "0.0.5.0/24\t0.0.5.0/24\t65001\t1\t1\n"));
    for cmd in ["dump", "stats", "snapshot"] {
        let r = run(&[cmd], &[dir.path()]);
        assert_eq!(r.code, 2);
        assert_eq!(
            r.stderr,
            format!("mrtsnap: cannot read {}: it is a directory\n", dir.path().display()),
            "{cmd}"
        );
    }
    let r = run(&["--threads", "100000", "stats"], &[&f]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("--threads 100000 is more than 4 x the"), "{}", r.stderr);
}
