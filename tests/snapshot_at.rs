//! `mrtsnap snapshot --at T FILE...`: RIB dumps and updates files, given in
//! any order, replayed up to an instant.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn mrtsnap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mrtsnap"))
        .args(args)
        .output()
        .expect("run mrtsnap")
}

fn ok(o: Output) -> Vec<u8> {
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

#[test]
fn replayed_state_on_the_jinx_rib_and_its_updates() {
    let Some(dir) = common::corpus_dir() else { return };
    let d = dir.join("CAIDA+libbgpstream/test-dumps");
    let (rib, upd) = (
        d.join("routeviews.route-views.jinx.ribs.1401487200.bz2"),
        d.join("routeviews.route-views.jinx.updates.1401493500.bz2"),
    );
    if !rib.is_file() || !upd.is_file() {
        eprintln!("SKIPPED: the jinx RIB and updates are absent from {}", d.display());
        return;
    }
    let (rib, upd) = (rib.to_str().unwrap(), upd.to_str().unwrap());
    let pairs = |args: &[&str]| ok(mrtsnap(&[&["snapshot", "--format", "pairs", "-o", "-"], args].concat()));

    // At the dump's start the state is the RIB's: the same bytes as its snapshot.
    let plain = pairs(&[rib]);
    assert_eq!(pairs(&["--at", "2014-05-30T22:00:00Z", rib]), plain);
    // Before the dump, nothing is known yet.
    assert!(pairs(&["--at", "1401487199", rib, upd]).is_empty());

    // After the updates: the same state whatever order the files come in,
    // and what the library's replay gives.
    let at = "2014-05-31T00:00:00Z";
    let replayed = pairs(&["--at", at, upd, rib]);
    assert_eq!(pairs(&["--at", at, rib, upd]), replayed);
    // The same bytes on one thread and on several.
    for threads in ["1", "3"] {
        let o = ok(mrtsnap(&[
            "--threads",
            threads,
            "snapshot",
            "--format",
            "pairs",
            "-o",
            "-",
            "--at",
            at,
            upd,
            rib,
        ]));
        assert_eq!(o, replayed, "--threads {threads}");
    }
    assert_ne!(replayed, plain);
    let mut replay = mrtsnap::Replay::new();
    for f in [rib, upd] {
        replay.apply_until(&mrtsnap::Source::open(f).unwrap(), 1_401_494_400).unwrap();
    }
    let mut want = Vec::new();
    replay.snapshot().unwrap().write_pairs(&mut want).unwrap();
    assert_eq!(replayed, want);

    // The difference from the RIB, as `diff` reports it: every line of the
    // diff is a pair whose peer count differs between the two outputs.
    let text = |b: &[u8]| -> std::collections::BTreeMap<(String, String), u32> {
        String::from_utf8(b.to_vec())
            .unwrap()
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                ((f[0].into(), f[1].into()), f[2].parse().unwrap())
            })
            .collect()
    };
    let (before, after) = (text(&plain), text(&replayed));
    let tmp = tempfile::tempdir().unwrap();
    let pq = tmp.path().join("at.parquet");
    ok(mrtsnap(&["snapshot", "--at", at, rib, upd, "-o", pq.to_str().unwrap()]));
    let diff = String::from_utf8(ok(mrtsnap(&["diff", rib, pq.to_str().unwrap()]))).unwrap();
    let rows: Vec<&str> = diff.lines().skip(1).collect();
    let changed = before
        .keys()
        .chain(after.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .count();
    assert_eq!(rows.len(), changed);
    assert!(changed > 0);
    // --every: one file per instant, each the state --at gives.
    let every = tmp.path().join("every");
    ok(mrtsnap(&[
        "snapshot",
        "--every",
        "1h",
        "--from",
        "2014-05-30T22:00:00Z",
        "--until",
        at,
        "--format",
        "pairs",
        "-o",
        every.to_str().unwrap(),
        upd,
        rib,
    ]));
    let mut names: Vec<String> = std::fs::read_dir(&every)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "route-views.jinx.20140530T220000Z.pairs.tsv",
            "route-views.jinx.20140530T230000Z.pairs.tsv",
            "route-views.jinx.20140531T000000Z.pairs.tsv"
        ]
    );
    assert_eq!(std::fs::read(every.join(&names[0])).unwrap(), plain);
    assert_eq!(
        std::fs::read(every.join(&names[1])).unwrap(),
        pairs(&["--at", "2014-05-30T23:00:00Z", rib, upd])
    );
    assert_eq!(std::fs::read(every.join(&names[2])).unwrap(), replayed);
    // Another collector's file given with them is replayed apart: each pair
    // is carried by the peers of both states.
    let rrc06 = d.join("ris.rrc06.updates.1401488100.gz");
    if rrc06.is_file() {
        let r = rrc06.to_str().unwrap();
        let alone = text(&pairs(&["--at", at, r]));
        let both = text(&pairs(&["--at", at, r, upd, rib]));
        let mut sum = after.clone();
        for (k, n) in &alone {
            *sum.entry(k.clone()).or_default() += n;
        }
        assert!(!alone.is_empty());
        assert_eq!(both, sum);
    }
    // `diff --at T1 --at T2` over the files says the same, byte for byte.
    let at_at = ok(mrtsnap(&["diff", "--at", "2014-05-30T22:00:00Z", "--at", at, upd, rib]));
    assert_eq!(String::from_utf8(at_at).unwrap(), diff);
}

#[test]
fn bad_instants_and_inputs_are_refused() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/rib.synth.small.mrt.bz2");
    let s = sample.to_str().unwrap();
    for at in ["yesterday", "2014-13-01", "99999999999"] {
        let o = mrtsnap(&["snapshot", "--at", at, s, "-o", "-", "--format", "pairs"]);
        assert_eq!(o.status.code(), Some(2), "{at}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("--at"), "{at}");
    }
    let o = mrtsnap(&["snapshot", "--at", "2030-01-01", "--merge", s, s]);
    assert_eq!(o.status.code(), Some(2));
    for args in [
        &["snapshot", "--every", "0m", "--from", "2014-01-01", "--until", "2014-01-02", s][..],
        &["snapshot", "--every", "1h", "--from", "2014-01-02", "--until", "2014-01-01", s],
        &["snapshot", "--every", "1h", s],
        &[
            "snapshot",
            "--every",
            "1h",
            "--from",
            "2014-01-01",
            "--until",
            "2014-01-02",
            "-o",
            "-",
            s,
        ],
    ] {
        assert_eq!(mrtsnap(args).status.code(), Some(2), "{args:?}");
    }
    // diff: two states, or two instants.
    for args in [&["diff", s][..], &["diff", s, s, s], &["diff", "--at", "2030-01-01", s]] {
        let o = mrtsnap(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(!o.stderr.is_empty());
    }
}

#[test]
fn gaps_are_warned_about_and_damage_sets_the_exit_status() {
    let Some(dir) = common::corpus_dir() else { return };
    let d = dir.join("bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc15/2010.02");
    let (a, b) = (d.join("updates.20100227.1600.gz"), d.join("updates.20100227.1610.gz"));
    if !a.is_file() || !b.is_file() {
        eprintln!("SKIPPED: the rrc15 updates are absent from {}", d.display());
        return;
    }
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let o = mrtsnap(&["snapshot", "--format", "pairs", "-o", "-", "--at", "2010-02-27T16:12:00Z", b, a]);
    let err = String::from_utf8_lossy(&o.stderr);
    // A gap is a warning: exit status 0.
    assert_eq!(o.status.code(), Some(0), "{err}");
    let want = format!(
        "mrtsnap: warning: rrc15: gap: no updates from 2010-02-27T16:05:00Z until 2010-02-27T16:10:00Z between {a} and {b}; 1 updates file(s) of 5 min missing\n"
    );
    assert!(err.contains(&want), "{err}");
    assert_eq!(err.matches("gap:").count(), 1, "{err}");
    // The same file with a flipped byte in a record: exit status 1, the
    // damaged record and the peers it leaves uncertain named.
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("updates.20100227.1600");
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(std::fs::File::open(a).unwrap()), &mut bytes).unwrap();
    // The length of the first BGP message, past its record: a record that
    // does not decode.
    let marker = bytes.windows(16).position(|w| w == [0xff; 16]).unwrap();
    bytes[marker + 16..marker + 18].copy_from_slice(&[0x0f, 0xff]);
    std::fs::write(&plain, &bytes).unwrap();
    let o = mrtsnap(&[
        "snapshot",
        "--format",
        "pairs",
        "-o",
        "/dev/null",
        "--at",
        "2010-02-27T16:04:00Z",
        plain.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("mrtsnap: {}: damaged record 0 at byte", plain.display())),
        "{err}"
    );
    assert!(err.contains("mrtsnap: warning: replay: the state of peer "), "{err}");
    assert!(err.contains(" is uncertain from 2010-02-27T16:00:"), "{err}");
}
