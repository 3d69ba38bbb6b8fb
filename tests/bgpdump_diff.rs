//! Differential test against the real `bgpdump -m` on generated files: many
//! seeds and shapes (ADD-PATH RIBs, 2-byte AS4_PATH updates, ET records)
//! must print byte-identical lines. Skipped, with a message, when bgpdump is
//! not installed (CI installs it).

use mrtsnap::dump::BgpdumpWriter;
use mrtsnap::pipeline::for_each_record;
use mrtsnap::synth::{write_rib, write_updates, RibOptions, UpdatesOptions};
use mrtsnap::Report;
use mrtsnap::Source;
use std::process::Command;

fn bgpdump() -> Option<&'static str> {
    let ok = Command::new("bgpdump").arg("-T").output().is_ok();
    if !ok {
        eprintln!("skipped: bgpdump is not installed (apt-get install bgpdump)");
    }
    ok.then_some("bgpdump")
}

fn ours(bytes: Vec<u8>) -> Vec<u8> {
    let src = Source::from_bytes("synthetic", bytes);
    let mut out = Vec::new();
    let mut report = Report::default();
    let mut w = BgpdumpWriter::new();
    for batch in src.batches(64 << 10) {
        for_each_record(&batch, &mut report, true, |raw, rec, peers| {
            w.write_record(raw, rec, peers, &mut out);
        })
        .unwrap();
    }
    assert_eq!(report.total_errors(), 0);
    out
}

fn theirs(tool: &str, bytes: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.mrt");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new(tool).arg("-m").arg(&path).output().unwrap();
    assert!(out.status.success());
    out.stdout
}

fn compare(tool: &str, what: &str, bytes: Vec<u8>) {
    let want = theirs(tool, &bytes);
    let got = ours(bytes);
    assert!(!want.is_empty(), "{what}: bgpdump printed nothing");
    if got != want {
        let (g, w) = (String::from_utf8_lossy(&got), String::from_utf8_lossy(&want));
        let (i, (a, b)) = g
            .lines()
            .zip(w.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .unwrap_or((0, ("<len>", "<len>")));
        panic!("{what}: first difference at line {}:\n ours: {a}\n bgpdump: {b}", i + 1);
    }
}

#[test]
fn ribs_match_bgpdump() {
    let Some(tool) = bgpdump() else { return };
    for (seed, add_path) in [(1, false), (2, true), (3, false)] {
        let mut o = RibOptions::small().scale(0.5);
        o.seed = seed;
        o.add_path = add_path;
        let mut bytes = Vec::new();
        let s = write_rib(&o, &mut bytes).unwrap();
        assert!(s.entries > 1000);
        compare(tool, &format!("rib seed {seed} add_path {add_path}"), bytes);
    }
}

#[test]
fn updates_match_bgpdump() {
    let Some(tool) = bgpdump() else { return };
    for (seed, et) in [(1, false), (2, true), (7, false)] {
        let o = UpdatesOptions {
            seed,
            et,
            messages: 3000,
            ..UpdatesOptions::small()
        };
        let mut bytes = Vec::new();
        write_updates(&o, &mut bytes).unwrap();
        compare(tool, &format!("updates seed {seed} et {et}"), bytes);
    }
}
