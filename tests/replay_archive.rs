//! A generated archive (`mrtsnap::synth::archive`, the `small` preset in
//! both layouts) against the replay: at every instant of its truth,
//! `mrtsnap snapshot --at T --format pairs` over all its files, given in
//! shuffled order, writes the truth's bytes; a replay re-based on the
//! second RIB finds nothing to correct; and the files hold every kind of
//! event the replay's rules speak of, as read back by the crate's decoder.

use mrtsnap::dataset::layout::{recognise, Kind, Layout};
use mrtsnap::mrt::{Bgp4mpBody, FsmState, PeerTable, Record};
use mrtsnap::replay::Replay;
use mrtsnap::routes::{for_each_route, RouteKind};
use mrtsnap::synth::archive::{write_archive, ArchiveFile, ArchiveLayout, ArchiveOptions, ArchiveSummary};
use mrtsnap::Source;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::first_difference;

struct Archive {
    dir: tempfile::TempDir,
    opts: ArchiveOptions,
    summary: ArchiveSummary,
}

impl Archive {
    fn new(layout: ArchiveLayout) -> Archive {
        let dir = tempfile::tempdir().expect("temporary folder");
        let opts = ArchiveOptions::small(layout);
        let summary = write_archive(&opts, dir.path()).expect("generate");
        Archive { dir, opts, summary }
    }

    fn path(&self, f: &ArchiveFile) -> PathBuf {
        self.dir.path().join(&f.path)
    }

    fn source(&self, f: &ArchiveFile) -> Source {
        Source::open(self.path(f)).expect("open")
    }

    /// Every RIB and updates file, shuffled by `seed` (a SplitMix64 walk).
    fn shuffled(&self, seed: u64) -> Vec<String> {
        let mut files: Vec<String> = self
            .summary
            .ribs
            .iter()
            .chain(&self.summary.updates)
            .map(|f| self.path(f).to_string_lossy().into_owned())
            .collect();
        common::shuffle(&mut files, seed);
        files
    }
}

fn snapshot_at_is_the_truth(layout: ArchiveLayout) {
    let a = Archive::new(layout);
    let s = &a.summary;
    assert_eq!((s.ribs.len(), s.truths.len()), (2, 7));
    for (i, truth) in s.truths.iter().enumerate() {
        let out = Command::new(env!("CARGO_BIN_EXE_mrtsnap"))
            .args(["-q", "snapshot", "--format", "pairs", "-o", "-", "--at"])
            .arg(truth.time.to_string())
            .args(a.shuffled(i as u64 + 1))
            .output()
            .expect("run mrtsnap");
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let want = std::fs::read(a.path(truth)).expect("truth");
        assert_eq!(want.iter().filter(|&&b| b == b'\n').count() as u64, truth.records);
        assert!(truth.records > 3000, "{}: {} pairs", truth.path.display(), truth.records);
        assert!(
            out.stdout == want,
            "{:?} at {}: {}",
            layout,
            truth.time,
            first_difference(&out.stdout, &want)
        );
    }
    // The instants the generator planned: one at a second of several
    // records, one in a reset session's down time, some after a join.
    let times: Vec<u32> = s.truths.iter().map(|t| t.time).collect();
    for (what, at) in [
        ("burst", &s.burst_instants),
        ("down", &s.down_instants),
        ("joined", &s.joined_instants),
    ] {
        assert!(!at.is_empty() && at.iter().all(|t| times.contains(t)), "{what}: {at:?}");
    }
    let t0 = a.opts.start;
    // The second reset's peer is down over the second RIB's dump too.
    assert_eq!(s.down_instants, [t0 + 3600, t0 + 7200]);
    // The first join comes 10 minutes before the middle instant; the
    // other falls earlier, at random.
    assert_eq!(s.joined_instants, [3600, 5400, 7200, 9000, 10_800].map(|d| t0 + d));
}

#[test]
fn ris_snapshot_at_is_the_truth() {
    snapshot_at_is_the_truth(ArchiveLayout::Ris);
}

#[test]
fn routeviews_snapshot_at_is_the_truth() {
    snapshot_at_is_the_truth(ArchiveLayout::RouteViews);
}

fn rebase_finds_nothing(layout: ArchiveLayout) {
    let a = Archive::new(layout);
    let s = &a.summary;
    let t1 = s.ribs[1].time;
    let mut replay = Replay::new();
    replay.apply(&a.source(&s.ribs[0])).expect("RIB t0");
    for u in s.updates.iter().filter(|u| u.time < t1) {
        replay.apply(&a.source(u)).expect("updates");
    }
    replay.apply(&a.source(&s.ribs[1])).expect("RIB t1");
    let r = replay.report();
    assert_eq!(r.bases.len(), 2);
    let b = &r.bases[1];
    assert_eq!((b.rebase, b.dump_start), (true, t1));
    assert_eq!(b.diffs, []);
    assert_eq!(b.kept_down, []);
    assert_eq!(b.missing_peers, []);
    // The rest of the updates: the state at the end is the last truth.
    for u in s.updates.iter().filter(|u| u.time >= t1) {
        replay.apply(&a.source(u)).expect("updates");
    }
    let mut pairs = Vec::new();
    replay.snapshot().expect("snapshot").write_pairs(&mut pairs).expect("pairs");
    let last = s.truths.last().expect("truth");
    let want = std::fs::read(a.path(last)).expect("truth");
    assert!(pairs == want, "{}", first_difference(&pairs, &want));
    // The replay read what the generator wrote, and nothing else.
    let r = replay.report();
    let c = &s.counts;
    assert_eq!(r.decode.errors, BTreeMap::new());
    assert_eq!(r.decode.warnings, BTreeMap::new());
    assert_eq!(r.announcements, c.announced);
    assert_eq!(r.withdrawals, c.withdrawn);
    assert_eq!(r.withdrawn_nothing, c.withdrawn_nothing);
    assert_eq!(r.sessions_down, c.resets);
    assert_eq!((r.up_by_update, r.before_base, r.after_until, r.local_ignored), (0, 0, 0, 0));
    let mut entries = 0u64;
    for f in &s.ribs {
        for_each_route(&a.source(f), Default::default(), |_| entries += 1).expect("routes");
    }
    assert_eq!(r.rib_entries, entries);
}

#[test]
fn ris_rebase_finds_nothing() {
    rebase_finds_nothing(ArchiveLayout::Ris);
}

#[test]
fn routeviews_rebase_finds_nothing() {
    rebase_finds_nothing(ArchiveLayout::RouteViews);
}

/// Per record of a file: (timestamp, MRT type, subtype, peer, state change).
type Rec = (u32, u16, u16, Option<(IpAddr, u32)>, Option<(FsmState, FsmState)>);

fn records(src: &Source) -> (Vec<Rec>, Vec<PeerTable>) {
    let (mut out, mut tables) = (Vec::new(), Vec::new());
    for batch in src.batches(1 << 20) {
        for raw in batch.records() {
            let raw = raw.expect("framing");
            let h = raw.header;
            let (mut peer, mut state) = (None, None);
            match Record::decode(&raw).expect("record") {
                Record::PeerIndexTable(t) => tables.push(t),
                Record::Bgp4mp(m) => {
                    peer = Some((m.peering.peer_ip, m.peering.peer_as));
                    if let Bgp4mpBody::StateChange { old, new } = m.body {
                        state = Some((old, new));
                    }
                }
                _ => {}
            }
            out.push((h.timestamp, h.mrt_type, h.subtype, peer, state));
        }
    }
    (out, tables)
}

fn every_kind_of_event(layout: ArchiveLayout) {
    let a = Archive::new(layout);
    let (s, o) = (&a.summary, &a.opts);
    let c = &s.counts;
    // What the generator says it wrote.
    assert_eq!(
        (s.ribs.len(), s.updates.len(), s.truths.len()),
        (2, (3 * 3600 / o.updates_interval) as usize, 7)
    );
    assert_eq!((c.resets, c.joins, c.transfers), (4, 2, 6));
    assert_eq!(s.rib_peers, [6, 8]);
    assert_eq!(c.opens, c.resets + c.joins);
    assert_eq!(c.state_changes, 5 * c.opens + c.resets);
    for (what, n) in [
        ("new routes", c.new_routes),
        ("path changes", c.path_changes),
        ("origin changes", c.origin_changes),
        ("withdrawals of nothing", c.withdrawn_nothing),
        ("flaps", c.flaps),
        ("flaps within a second", c.flaps_same_second),
        ("ADD-PATH announcements", c.add_path_announced),
        ("second path ids", c.second_paths),
        ("IPv6 announcements", c.ipv6_announced),
        ("AS_SET announcements", c.as_set_announced),
        ("keepalives", c.keepalives),
        ("records in the second before them", c.same_second),
    ] {
        assert!(n > 0, "no {what}");
    }
    assert!(c.max_per_second >= 3);
    assert_eq!(c.announced, c.new_routes + c.path_changes + c.origin_changes);

    // Names: what the dataset layer reads from them.
    let want_layout = match layout {
        ArchiveLayout::Ris => Layout::Ris,
        ArchiveLayout::RouteViews => Layout::RouteViews,
    };
    for (files, kind) in [(&s.ribs, Kind::Rib), (&s.updates, Kind::Updates)] {
        for f in files {
            let n = recognise(&a.path(f).to_string_lossy());
            assert_eq!(
                (n.collector.as_deref(), n.kind, n.time, n.layout),
                (Some(o.collector.as_str()), kind, Some(i64::from(f.time)), want_layout),
                "{}",
                f.path.display()
            );
        }
    }
    for t in &s.truths {
        let stamp = mrtsnap::fmt::utc_datetime(i64::from(t.time)).replace([':', '-'], "");
        assert_eq!(t.path, Path::new("truth").join(format!("{}.{stamp}.pairs.tsv", o.collector)));
    }

    // RIBs: dump start at the name's time, peer tables, ADD-PATH entries.
    let mut tables = Vec::new();
    for f in &s.ribs {
        let (recs, t) = records(&a.source(f));
        assert_eq!(recs.len() as u64, f.records);
        assert!(recs.iter().all(|r| r.0 == f.time && r.1 == 13));
        assert!(
            recs.iter().any(|r| r.2 == 8) && recs.iter().any(|r| r.2 == 10),
            "ADD-PATH RIB records"
        );
        tables.extend(t);
    }
    let peers = |t: &PeerTable| -> BTreeSet<(IpAddr, u32)> { t.peers.iter().map(|p| (p.addr, p.asn)).collect() };
    let (first, second) = (peers(&tables[0]), peers(&tables[1]));
    assert_eq!((first.len(), second.len()), (6, 8));
    let joined: Vec<(IpAddr, u32)> = second.difference(&first).copied().collect();
    assert_eq!(joined.len(), 2);
    let mut paths: BTreeMap<(IpAddr, String), BTreeSet<u32>> = BTreeMap::new();
    for_each_route(&a.source(&s.ribs[0]), Default::default(), |r| {
        if let Some(id) = r.path_id {
            paths.entry((r.peer.addr, r.prefix.to_string())).or_default().insert(id);
        }
    })
    .expect("routes");
    assert!(paths.values().any(|ids| ids.len() == 2), "two path ids for one prefix");

    // Updates: in their file's time span, in time order; several records
    // in one second at the burst instants; resets and joins as planned.
    let mut all: Vec<Rec> = Vec::new();
    for f in &s.updates {
        let (recs, _) = records(&a.source(f));
        assert_eq!(recs.len() as u64, f.records);
        assert!(recs.iter().all(|r| r.0 >= f.time && r.0 < f.time + o.updates_interval && r.1 == 16));
        assert!(recs.windows(2).all(|w| w[0].0 <= w[1].0));
        all.extend(recs);
    }
    assert!(all.iter().any(|r| r.2 == 9), "MESSAGE_AS4_ADDPATH records");
    for &t in &s.burst_instants {
        assert!(all.iter().filter(|r| r.0 == t).count() >= 2, "burst at {t}");
    }
    let changes: Vec<(u32, (IpAddr, u32), FsmState, FsmState)> = all.iter().filter_map(|r| Some((r.0, r.3?, r.4?.0, r.4?.1))).collect();
    let drops: Vec<_> = changes.iter().filter(|c| c.2 == FsmState::Established).collect();
    assert_eq!(drops.len() as u64, c.resets);
    assert!(drops.iter().all(|d| d.3 == FsmState::Idle));
    // At each down instant, a peer dropped before it is Established again
    // only after it.
    for &t in &s.down_instants {
        assert!(
            drops.iter().any(|d| d.0 <= t
                && changes.iter().any(|u| u.1 == d.1 && u.0 > t && u.3 == FsmState::Established)
                && !changes
                    .iter()
                    .any(|u| u.1 == d.1 && u.0 > d.0 && u.0 <= t && u.3 == FsmState::Established)),
            "down at {t}"
        );
    }
    // The joiners of the second RIB: no record before their session came
    // up, minus the 2 seconds of the way up.
    let mut ups = Vec::new();
    for j in &joined {
        let up = changes
            .iter()
            .find(|c| c.1 == *j && c.3 == FsmState::Established)
            .expect("joined")
            .0;
        assert!(up < s.ribs[1].time - 60);
        assert!(all.iter().filter(|r| r.3 == Some(*j)).all(|r| r.0 >= up - 2));
        ups.push(up);
    }
    assert!(ups.iter().any(|&up| up <= s.joined_instants[0]));
    // No state change in the minute before a RIB's dump start.
    for f in &s.ribs {
        assert!(!changes.iter().any(|c| c.0 < f.time && c.0 + 62 >= f.time));
    }
    // IPv6 announcements read back as such.
    let mut v6 = 0;
    for f in &s.updates {
        for_each_route(&a.source(f), Default::default(), |r| {
            v6 += u64::from(r.kind == RouteKind::Announce && r.prefix.is_v6());
        })
        .expect("routes");
    }
    assert_eq!(v6, c.ipv6_announced);
}

#[test]
fn ris_every_kind_of_event() {
    every_kind_of_event(ArchiveLayout::Ris);
}

#[test]
fn routeviews_every_kind_of_event() {
    every_kind_of_event(ArchiveLayout::RouteViews);
}

#[test]
fn the_archive_is_a_function_of_its_options() {
    let opts = ArchiveOptions::small(ArchiveLayout::Ris);
    let (x, y) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (sx, sy) = (write_archive(&opts, x.path()).unwrap(), write_archive(&opts, y.path()).unwrap());
    assert_eq!(sx, sy);
    for f in sx.ribs.iter().chain(&sx.updates).chain(&sx.truths) {
        let (a, b) = (
            std::fs::read(x.path().join(&f.path)).unwrap(),
            std::fs::read(y.path().join(&f.path)).unwrap(),
        );
        assert!(a == b, "{} differs", f.path.display());
    }
    let other = ArchiveOptions { seed: 7, ..opts };
    let z = tempfile::tempdir().unwrap();
    let sz = write_archive(&other, z.path()).unwrap();
    assert_ne!(sz.counts, sx.counts);
}

#[test]
fn options_out_of_range_are_refused() {
    let ok = ArchiveOptions::small(ArchiveLayout::RouteViews);
    assert!(ok.validate().is_ok());
    let bad = [
        ArchiveOptions {
            start: ok.start + 60,
            ..ok.clone()
        },
        ArchiveOptions {
            duration: 1000,
            ..ok.clone()
        },
        ArchiveOptions {
            truth_every: 0,
            ..ok.clone()
        },
        ArchiveOptions {
            collector: "rrc00".into(),
            ..ok.clone()
        },
        ArchiveOptions {
            collector: "route views".into(),
            ..ok.clone()
        },
        // RouteViews named its files in Pacific time before 2003-02-03.
        ArchiveOptions {
            start: 1_009_843_200,
            ..ok.clone()
        },
        ArchiveOptions {
            add_path_peers: 7,
            ..ok.clone()
        },
        ArchiveOptions {
            full_peers: 0,
            partial_peers: 0,
            ..ok.clone()
        },
        ArchiveOptions {
            ipv4_prefixes: 0,
            ipv6_prefixes: 0,
            ..ok.clone()
        },
        ArchiveOptions {
            layout: ArchiveLayout::Ris,
            ..ok.clone()
        },
    ];
    for b in bad {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_archive(&b, dir.path()).is_err(), "{b:?}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing written for {b:?}");
    }
    // Another RouteViews collector gets its own folder; RIS names its own.
    let linx = ArchiveOptions {
        collector: "route-views.linx".into(),
        ..ok.clone()
    };
    assert_eq!(
        linx.rib_path(ok.start),
        Path::new("route-views.linx/bgpdata/2014.12/RIBS/rib.20141201.0000.bz2")
    );
    assert_eq!(
        ok.updates_path(ok.start + 900),
        Path::new("bgpdata/2014.12/UPDATES/updates.20141201.0015.bz2")
    );
    let ris = ArchiveOptions::small(ArchiveLayout::Ris);
    assert_eq!(ris.rib_path(ris.start), Path::new("rrc00/2014.12/bview.20141201.0000.gz"));
    assert_eq!(
        ris.updates_path(ris.start + 300),
        Path::new("rrc00/2014.12/updates.20141201.0005.gz")
    );
}
