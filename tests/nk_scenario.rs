//! The `nk-2014` scenario (`mrtsnap::synth::scenario::Nk2014`) at a small
//! scale, against the replay: `mrtsnap snapshot --at T --format pairs`
//! over every file of both collectors writes the truth of both together
//! at every instant of the truth; AS131279's prefixes are seen by every
//! full-feed peer right before each outage and right after it and by none
//! inside it, on paths ending `4837 131279`; at every 5-minute bin end of
//! the two days every stable origin keeps its prefixes, but for the brief
//! withdrawals, each at one bin end; and the events are written down as
//! they happened.

use mrtsnap::bgp::{AsPathBuf, Prefix};
use mrtsnap::routes::{for_each_route, RouteKind};
use mrtsnap::synth::archive::{write_archive, ArchiveLayout, ArchiveOptions, ArchiveSummary};
use mrtsnap::synth::scenario::{Nk2014, ScenarioSummary};
use mrtsnap::Source;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::first_difference;

/// The scale of the test (the default one): 1,920 IPv4 and 80 IPv6
/// prefixes.
const SCALE: f64 = 0.002;
/// Full-feed peers of each collector at the start (one more full feed
/// joins each on 23 December between 01:48 and 08:00).
const FULL: usize = 30;

fn utc(t: u32) -> String {
    mrtsnap::fmt::utc_datetime(i64::from(t))
}

/// 2014-12-DD HH:MM:SS UTC.
fn at(day: u32, h: u32, m: u32, s: u32) -> u32 {
    Nk2014::START + (day - 22) * 86_400 + h * 3600 + m * 60 + s
}

/// Every RIB and updates file, shuffled by `seed` (a SplitMix64 walk).
fn inputs(dir: &Path, s: &ScenarioSummary, seed: u64) -> Vec<String> {
    let mut files: Vec<String> = s
        .collectors
        .iter()
        .flat_map(|(_, a)| a.ribs.iter().chain(&a.updates))
        .map(|f| dir.join(&f.path).to_string_lossy().into_owned())
        .collect();
    common::shuffle(&mut files, seed);
    files
}

fn mrtsnap(args: &[String]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_mrtsnap"))
        .args(args)
        .output()
        .expect("run mrtsnap");
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// `snapshot --at T --format pairs` over every file.
fn snapshot_at(dir: &Path, s: &ScenarioSummary, t: u32, seed: u64) -> Vec<u8> {
    let mut args: Vec<String> = ["-q", "snapshot", "--format", "pairs", "-o", "-", "--at"]
        .map(String::from)
        .to_vec();
    args.push(t.to_string());
    args.extend(inputs(dir, s, seed));
    mrtsnap(&args)
}

/// (prefix, origin) → peers of a pairs output.
fn pairs(text: &[u8]) -> BTreeMap<(String, String), u32> {
    String::from_utf8_lossy(text)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 3, "{l:?}");
            ((f[0].to_string(), f[1].to_string()), f[2].parse().expect("peers"))
        })
        .collect()
}

/// Per AS131279 prefix, its rows: origin and peers.
fn nk_rows(p: &BTreeMap<(String, String), u32>) -> BTreeMap<String, Vec<(String, u32)>> {
    let nk: BTreeSet<String> = Nk2014::prefixes().iter().map(Prefix::to_string).collect();
    let mut out: BTreeMap<String, Vec<(String, u32)>> = BTreeMap::new();
    for ((prefix, origin), &n) in p {
        if nk.contains(prefix) {
            out.entry(prefix.clone()).or_default().push((origin.clone(), n));
        }
    }
    out
}

/// The peers of each AS131279 prefix with AS131279: `None` when no peer
/// has any of them, with any origin; they all agree otherwise.
fn nk_peers(p: &BTreeMap<(String, String), u32>) -> Option<u32> {
    let rows = nk_rows(p);
    if rows.is_empty() {
        return None;
    }
    assert_eq!(rows.len(), 4, "{rows:?}");
    let counts: BTreeSet<u32> = rows
        .values()
        .map(|r| {
            assert_eq!(r.len(), 1, "{r:?}");
            assert_eq!(r[0].0, Nk2014::ORIGIN.to_string());
            r[0].1
        })
        .collect();
    assert_eq!(counts.len(), 1, "{rows:?}");
    counts.first().copied()
}

#[test]
fn nk_2014_replays_to_its_truth_and_events() {
    let tmp = tempfile::tempdir().expect("temporary folder");
    let dir = tmp.path();
    let clock = std::time::Instant::now();
    let s = Nk2014::new(SCALE).write(dir).expect("generate");
    eprintln!("generated in {:.1} s", clock.elapsed().as_secs_f64());
    let clock = std::time::Instant::now();
    assert_eq!(
        s.collectors.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
        ["route-views2", "rrc00"]
    );
    let rv = &s.collectors[0].1;
    let ris = &s.collectors[1].1;
    assert_eq!((rv.ribs.len(), rv.updates.len()), (24, 192));
    assert_eq!((ris.ribs.len(), ris.updates.len()), (6, 576));
    assert!(rv.ribs[1].path.starts_with("bgpdata/2014.12/RIBS"), "{:?}", rv.ribs[1].path);
    assert!(ris.updates[1].path.starts_with("rrc00/2014.12"), "{:?}", ris.updates[1].path);
    assert_eq!(s.truths.len(), 19);

    // The replay of both collectors is the truth at every instant.
    let mut outputs = BTreeMap::new();
    for (i, truth) in s.truths.iter().enumerate() {
        let got = snapshot_at(dir, &s, truth.time, i as u64 + 1);
        let want = std::fs::read(dir.join(&truth.path)).expect("truth");
        assert_eq!(want.iter().filter(|&&b| b == b'\n').count() as u64, truth.records);
        assert!(got == want, "{}: {}", utc(truth.time), first_difference(&got, &want));
        outputs.insert(truth.time, pairs(&got));
    }
    eprintln!("{} instants replayed in {:.1} s", s.truths.len(), clock.elapsed().as_secs_f64());

    // AS131279: every full feed of both collectors before each outage and
    // after it, none inside it. Mid-spread, some. The two joiners (full
    // feeds) are up by 23 December 08:00.
    let full = FULL as u32 * 2;
    let expect = [
        (at(22, 16, 0, 0), Some(full)),
        (at(22, 16, 14, 59), Some(full)),
        (at(22, 16, 15, 45), Some(33)),
        (at(22, 16, 17, 0), None),
        (at(22, 20, 35, 0), None),
        (at(23, 0, 0, 0), None),
        (at(23, 1, 45, 0), None),
        (at(23, 1, 46, 45), Some(25)),
        (at(23, 1, 48, 0), Some(full)),
        (at(23, 8, 0, 0), Some(full + 2)),
        (at(23, 15, 40, 59), Some(full + 2)),
        (at(23, 15, 43, 0), None),
        (at(23, 16, 0, 0), None),
        (at(23, 16, 11, 0), None),
        (at(23, 16, 14, 0), Some(full + 2)),
        (at(24, 0, 0, 0), Some(full + 2)),
    ];
    for (t, want) in expect {
        let p = outputs.get(&t).unwrap_or_else(|| panic!("no truth at {}", utc(t)));
        assert_eq!(nk_peers(p), want, "AS131279's peers at {}", utc(t));
    }
    for (name, a) in &s.collectors {
        let nk: Vec<_> = a.outages.iter().filter(|o| o.asn == Nk2014::ORIGIN).collect();
        assert_eq!(nk.len(), 2, "{name}");
        for (o, e) in nk.iter().zip(Nk2014::events()) {
            assert_eq!(o.prefixes, Nk2014::prefixes());
            // Spread over 90 s from the start and from the end.
            assert!(o.withdrawn.0 >= e.start && o.withdrawn.1 <= e.start + 90 && o.withdrawn.1 > o.withdrawn.0 + 60);
            assert!(o.announced.0 >= e.end && o.announced.1 <= e.end + 90 && o.announced.1 > o.announced.0 + 60);
            // Every full feed up then withdraws its four routes, and
            // announces them again.
            assert_eq!(o.routes_withdrawn, o.routes_announced, "{name}");
        }
        assert_eq!(nk[0].routes_withdrawn, 4 * FULL as u64, "{name}");
        assert_eq!(nk[1].routes_withdrawn, 4 * (FULL as u64 + 1), "{name}");
    }
    paths_end_in_4837(dir, &s);
    events_written(dir, &s);
    every_bin(dir, &s);
}

/// In the RIBs of 22 December 16:00, each full feed has the four
/// prefixes, on a path ending `4837 131279`, and nobody else has them.
fn paths_end_in_4837(dir: &Path, s: &ScenarioSummary) {
    let nk = Nk2014::prefixes();
    for (name, a) in &s.collectors {
        let rib = a.ribs.iter().find(|r| r.time == at(22, 16, 0, 0)).expect("RIB at 16:00");
        let src = Source::open(dir.join(&rib.path)).expect("open");
        let mut buf = AsPathBuf::new();
        let mut peers: BTreeMap<Prefix, BTreeSet<mrtsnap::routes::Peer>> = BTreeMap::new();
        for_each_route(&src, Default::default(), |r| {
            if !nk.contains(&r.prefix) {
                return;
            }
            assert_eq!(r.kind, RouteKind::RibEntry);
            let path: Vec<u32> = r.as_path(&mut buf).segments().flat_map(|(_, a)| a.iter().copied()).collect();
            assert!(path.ends_with(&[Nk2014::UPSTREAM, Nk2014::ORIGIN]), "{name}: {path:?}");
            assert!(path.len() >= 3, "{name}: {path:?}");
            peers.entry(r.prefix).or_default().insert(r.peer);
        })
        .expect("routes");
        assert_eq!(peers.keys().copied().collect::<Vec<_>>(), nk, "{name}");
        assert!(peers.values().all(|p| p.len() == FULL), "{name}: {peers:?}");
    }
}

/// `truth/events.csv`, `truth/brief.csv` and `truth/stable.csv`.
fn events_written(dir: &Path, s: &ScenarioSummary) {
    let read = |f: &str| std::fs::read_to_string(dir.join("truth").join(f)).expect("truth file");
    assert_eq!(
        read("events.csv"),
        "origin,start,end\n\
         131279,2014-12-22T16:15:00Z,2014-12-23T01:46:00Z\n\
         131279,2014-12-23T15:41:00Z,2014-12-23T16:12:00Z\n"
    );
    let brief = read("brief.csv");
    let rows: Vec<&str> = brief.lines().collect();
    assert_eq!(rows[0], "origin,start,end");
    assert_eq!(rows.len(), 1 + Nk2014::brief().len());
    for ((row, b), o) in rows[1..].iter().zip(Nk2014::brief()).zip(&s.brief) {
        assert_eq!(*row, format!("{},{},{}", o.0, utc(b.start), utc(b.end)));
        assert!(b.end - b.start + b.spread < 300);
    }
    let brief_origins: BTreeSet<u32> = s.brief.iter().map(|b| b.0).collect();
    assert_eq!(brief_origins.len(), s.brief.len(), "one origin each");
    let stable = read("stable.csv");
    let stable: BTreeMap<u32, u32> = stable
        .lines()
        .skip(1)
        .map(|l| {
            let (a, n) = l.split_once(',').expect("origin,prefixes");
            (a.parse().expect("origin"), n.parse().expect("prefixes"))
        })
        .collect();
    assert_eq!(stable.iter().map(|(&a, &n)| (a, n)).collect::<Vec<_>>(), s.stable);
    assert!(!stable.contains_key(&Nk2014::ORIGIN));
    assert!(brief_origins.iter().all(|o| stable.get(o).is_some_and(|&n| (1..=8).contains(&n))));
    // Most of the table's origins are kept.
    assert!(stable.len() > 100, "{}", stable.len());
}

/// `snapshot --every 5m` over the two days: every stable origin has at
/// least its prefixes at every bin end, but for each brief withdrawal's
/// origin at the one bin end inside it, where it has none; AS131279 is
/// gone at exactly the bin ends inside its outages.
fn every_bin(dir: &Path, s: &ScenarioSummary) {
    let clock = std::time::Instant::now();
    let out = tempfile::tempdir().expect("temporary folder");
    let mut args: Vec<String> = ["-q", "snapshot", "--format", "pairs", "--every", "5m", "--from"]
        .map(String::from)
        .to_vec();
    args.extend([utc(Nk2014::START), "--until".into(), utc(Nk2014::END), "-o".into()]);
    args.push(out.path().to_string_lossy().into_owned());
    args.extend(inputs(dir, s, 99));
    mrtsnap(&args);
    let mut files: Vec<PathBuf> = std::fs::read_dir(out.path())
        .expect("outputs")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 577);
    let nk_out: Vec<(u32, u32)> = Nk2014::events().iter().map(|e| (e.start + e.spread, e.end)).collect();
    let (mut nk_gone, mut brief_gone) = (0, BTreeMap::new());
    for (i, f) in files.iter().enumerate() {
        let t = Nk2014::START + 300 * i as u32;
        assert!(f.to_string_lossy().contains(&mrtsnap::fmt::utc_stamp(i64::from(t))), "{f:?}");
        let text = std::fs::read(f).expect("output");
        let mut per_origin: BTreeMap<u32, u32> = BTreeMap::new();
        for ((_, origin), _) in pairs(&text) {
            if let Ok(a) = origin.parse::<u32>() {
                *per_origin.entry(a).or_default() += 1;
            }
        }
        for &(origin, n) in &s.stable {
            let inside = s.brief.iter().any(|&(o, a, b)| o == origin && a <= t && t < b);
            let seen = per_origin.get(&origin).copied().unwrap_or(0);
            if inside {
                assert_eq!(seen, 0, "AS{origin} at {}", utc(t));
                *brief_gone.entry(origin).or_insert(0) += 1;
            } else {
                assert!(seen >= n, "AS{origin} at {}: {seen} prefixes, {n} kept", utc(t));
            }
        }
        let gone = !per_origin.contains_key(&Nk2014::ORIGIN);
        assert_eq!(gone, nk_out.iter().any(|&(a, b)| a <= t && t < b), "AS131279 at {}", utc(t));
        nk_gone += u32::from(gone);
    }
    // 16:20 to 01:45, then 15:45 to 16:10.
    assert_eq!(nk_gone, 114 + 6);
    assert_eq!(brief_gone.len(), s.brief.len());
    assert!(brief_gone.values().all(|&n| n == 1), "{brief_gone:?}");
    eprintln!("577 bin ends replayed and checked in {:.1} s", clock.elapsed().as_secs_f64());
}

#[test]
fn nk_2014_options_out_of_range_are_refused() {
    for scale in [0.0, 0.0009, 1.5, f64::NAN] {
        let tmp = tempfile::tempdir().expect("temporary folder");
        assert!(Nk2014::new(scale).write(tmp.path()).is_err(), "{scale}");
        assert_eq!(std::fs::read_dir(tmp.path()).expect("dir").count(), 0, "nothing written at {scale}");
    }
    let [rv, _] = Nk2014::new(SCALE).collectors().expect("options");
    assert!(rv.validate().is_ok());
    let mut bad = Vec::new();
    // An outage of an origin that is not pinned.
    let mut o = rv.clone();
    o.outages[0].asn = Some(4837);
    bad.push(o);
    // Two outages of AS131279 that overlap.
    let mut o = rv.clone();
    o.outages[1].start = o.outages[0].end;
    bad.push(o);
    // Ending after the archive.
    let mut o = rv.clone();
    o.outages[1].end = Nk2014::END;
    bad.push(o);
    // A prefix pinned twice.
    let mut o = rv.clone();
    let p = o.pinned[0].prefixes[0];
    o.pinned[0].prefixes.push(p);
    bad.push(o);
    // A truth instant after the end.
    let mut o = rv.clone();
    o.truth_at.push(Nk2014::END + 1);
    bad.push(o);
    for b in bad {
        assert!(b.validate().is_err(), "{:?} {:?}", b.outages, b.pinned);
    }
}

/// With few peers and much churn, `keep_visible` keeps every guarded
/// (prefix, usual origin) pair in the truth at every 5-minute instant;
/// the same archive without it loses some.
#[test]
fn keep_visible_keeps_every_guarded_pair() {
    let opts = ArchiveOptions {
        full_peers: 2,
        partial_peers: 2,
        joining_peers: 0,
        add_path_peers: 1,
        messages_per_file: 1500,
        resets: 6,
        truth_every: 300,
        keep_visible: true,
        ..ArchiveOptions::small(ArchiveLayout::Ris)
    };
    let missing = |keep: bool, guarded: &[(Prefix, u32)]| -> (ArchiveSummary, usize) {
        let tmp = tempfile::tempdir().expect("temporary folder");
        let o = ArchiveOptions {
            keep_visible: keep,
            ..opts.clone()
        };
        let s = write_archive(&o, tmp.path()).expect("generate");
        assert_eq!(s.truths.len(), 37);
        let mut missing = 0;
        for t in &s.truths {
            let text = std::fs::read(tmp.path().join(&t.path)).expect("truth");
            let p = pairs(&text);
            missing += guarded
                .iter()
                .filter(|(q, a)| !p.contains_key(&(q.to_string(), a.to_string())))
                .count();
        }
        (s, missing)
    };
    let (kept, none) = missing(true, &[]);
    assert!(kept.guarded.len() > 3000, "{}", kept.guarded.len());
    let (_, zero) = missing(true, &kept.guarded);
    assert_eq!((none, zero), (0, 0));
    assert!(kept.counts.kept_visible > 100, "{:?}", kept.counts);
    let (free, lost) = missing(false, &kept.guarded);
    assert!(free.guarded.is_empty());
    assert!(lost > 100, "{lost}");
    // Four peers, each the last to have some prefix: no session is reset.
    assert_eq!((kept.counts.resets, free.counts.resets), (0, 6));
}
