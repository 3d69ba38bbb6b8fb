//! `replay::Archive`: inputs placed by collector and time whatever order
//! they come in, and the gaps in each collector's updates reported.

use mrtsnap::layout::Kind;
use mrtsnap::replay::{Archive, Gap, Replay};
use mrtsnap::testkit::{attr, bgp4mp_as4, mrt, seg, update};
use mrtsnap::{Snapshot, Source};
use std::path::{Path, PathBuf};

const CAIDA: &str = "/work/shared/corpus/CAIDA+libbgpstream/test-dumps";
const RRC15: &str = "/work/shared/corpus/bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc15/2010.02";

fn present(paths: &[&Path]) -> bool {
    let missing: Vec<_> = paths.iter().filter(|p| !p.exists()).collect();
    if !missing.is_empty() {
        eprintln!("skipped: absent from the shared corpus: {missing:?}");
    }
    missing.is_empty()
}

fn pairs(snap: &Snapshot) -> Vec<(String, String, u32)> {
    snap.pairs().map(|(p, o, n)| (p.to_string(), o.to_string(), n)).collect()
}

fn gap(collector: &str, from: u32, until: u32, after: Option<&Path>, before: Option<&Path>, interval: u32) -> Gap {
    Gap {
        collector: collector.into(),
        from,
        until,
        after: after.map(Path::to_path_buf),
        before: before.map(Path::to_path_buf),
        interval: Some(interval),
    }
}

#[test]
fn jinx_rib_at_22_00_and_updates_at_23_45_have_a_gap_between() {
    let rib = PathBuf::from(format!("{CAIDA}/routeviews.route-views.jinx.ribs.1401487200.bz2"));
    let upd = PathBuf::from(format!("{CAIDA}/routeviews.route-views.jinx.updates.1401493500.bz2"));
    if !present(&[&rib, &upd]) {
        return;
    }
    // Given updates first: placed after the RIB by their names' times.
    let mut archive = Archive::new([&upd, &rib]).unwrap();
    let c = &archive.collectors()[0];
    assert_eq!((archive.collectors().len(), c.name()), (1, "route-views.jinx"));
    assert_eq!(
        c.inputs().iter().map(|i| (i.path.clone(), i.kind, i.time)).collect::<Vec<_>>(),
        [(rib.clone(), Kind::Rib, 1_401_487_200), (upd.clone(), Kind::Updates, 1_401_493_500)]
    );
    let end = 1_401_494_400; // 00:00, where the updates file's 15 minutes end
    let snap = archive.state_at(end).unwrap();
    let c = &archive.collectors()[0];
    // One file's records span 15 minutes: that is the interval.
    assert_eq!(c.interval(), Some(900));
    assert_eq!(
        archive.gaps(),
        [gap("route-views.jinx", 1_401_487_200, 1_401_493_500, Some(&rib), Some(&upd), 900)]
    );
    assert_eq!(archive.gaps()[0].missing_files(), Some(7));
    // The same state as the replay fed by hand.
    let mut r = Replay::new();
    r.apply(&Source::open(&rib).unwrap()).unwrap();
    r.apply(&Source::open(&upd).unwrap()).unwrap();
    assert!(pairs(&snap) == pairs(&r.snapshot().unwrap()));
    // An instant an hour later: the gap runs to it.
    archive.state_at(end + 3600).unwrap();
    assert_eq!(
        archive.gaps(),
        [
            gap("route-views.jinx", 1_401_487_200, 1_401_493_500, Some(&rib), Some(&upd), 900),
            gap("route-views.jinx", end, end + 3601, Some(&upd), None, 900),
        ]
    );
    // Between the RIB and the updates: no gap yet at the RIB's instant.
    archive.state_at(1_401_487_200).unwrap();
    assert_eq!(archive.gaps(), []);
}

#[test]
fn rrc15_files_of_16_00_and_16_10_miss_the_one_of_16_05() {
    let (a, b) = (
        PathBuf::from(format!("{RRC15}/updates.20100227.1600.gz")),
        PathBuf::from(format!("{RRC15}/updates.20100227.1610.gz")),
    );
    if !present(&[&a, &b]) {
        return;
    }
    let t = |h: u32, m: u32| 1_267_228_800 + h * 3600 + m * 60; // 2010-02-27
    let mut archive = Archive::new([&b, &a]).unwrap();
    assert_eq!(archive.collectors()[0].name(), "rrc15");
    archive.state_at(t(16, 4)).unwrap();
    assert_eq!(archive.gaps(), []);
    archive.state_at(t(16, 12)).unwrap();
    // Names ten minutes apart, records five minutes long: the interval is 5 min.
    assert_eq!(archive.collectors()[0].interval(), Some(300));
    let between = gap("rrc15", t(16, 5), t(16, 10), Some(&a), Some(&b), 300);
    assert_eq!(archive.gaps(), std::slice::from_ref(&between));
    assert_eq!(between.missing_files(), Some(1));
    archive.state_at(t(16, 30)).unwrap();
    assert_eq!(
        archive.gaps(),
        [between, gap("rrc15", t(16, 15), t(16, 30) + 1, Some(&b), None, 300)]
    );
}

/// Peer 10.0.0.`n` of AS 65000+`n` announcing 10.0.`p`.0/24 from `origin`.
fn announce(ts: u32, n: u8, p: u8, origin: u32) -> Vec<u8> {
    use mrtsnap::bgp::{as_path::AS_SEQUENCE, attr::code, attr::FLAG_TRANSITIVE};
    let a = [
        attr(FLAG_TRANSITIVE, code::ORIGIN, &[0]),
        attr(FLAG_TRANSITIVE, code::AS_PATH, &seg(AS_SEQUENCE, &[64999, origin], 4)),
        attr(FLAG_TRANSITIVE, code::NEXT_HOP, &[10, 0, 0, 1]),
    ]
    .concat();
    let body = bgp4mp_as4(
        (65000 + u32::from(n), [10, 0, 0, n]),
        (65100, [10, 0, 0, 254]),
        &update(&[], &a, &[24, 10, 0, p]),
    );
    mrt(ts, 16, 4, &body)
}

#[test]
fn collectors_are_kept_apart_and_unknown_names_placed_by_their_first_record() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = 1_419_206_400; // 2014-12-22 00:00
    let write = |rel: &str, records: &[Vec<u8>]| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, records.concat()).unwrap();
        p
    };
    // rrc00: two updates files; the second announces what the first set
    // from another origin. rrc01: the same peer and prefix, its own state.
    let a0 = write("rrc00/2014.12/updates.20141222.0000.gz.raw", &[announce(t0 + 10, 1, 1, 100)]);
    let a1 = write("rrc00/2014.12/updates.20141222.0005", &[announce(t0 + 310, 1, 1, 101)]);
    let b0 = write("rrc01/2014.12/updates.20141222.0000", &[announce(t0 + 20, 1, 1, 200)]);
    // Names that say nothing: placed by their first record, grouped apart.
    let x1 = write("misc/second.mrt", &[announce(t0 + 400, 2, 2, 301)]);
    let x0 = write("misc/first.mrt", &[announce(t0 + 100, 2, 2, 300)]);
    let mut archive = Archive::new([&x1, &a1, &b0, &x0, &a0]).unwrap();
    let names: Vec<&str> = archive.collectors().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["", "rrc00", "rrc01"]);
    assert_eq!(
        archive.collectors()[0].inputs().iter().map(|i| i.path.clone()).collect::<Vec<_>>(),
        [x0, x1]
    );
    let snap = archive.state_at(t0 + 600).unwrap();
    // 10.0.1.0/24: rrc00's peer now says 101, rrc01's says 200; 10.0.2.0/24 from 301.
    assert_eq!(
        pairs(&snap),
        [
            ("10.0.1.0/24".to_string(), "101".to_string(), 1),
            ("10.0.1.0/24".to_string(), "200".to_string(), 1),
            ("10.0.2.0/24".to_string(), "301".to_string(), 1),
        ]
    );
    assert_eq!(snap.peers().len(), 3);
    // An earlier instant after a later one starts over.
    let snap = archive.state_at(t0 + 200).unwrap();
    assert_eq!(
        pairs(&snap),
        [
            ("10.0.1.0/24".to_string(), "100".to_string(), 1),
            ("10.0.1.0/24".to_string(), "200".to_string(), 1),
            ("10.0.2.0/24".to_string(), "300".to_string(), 1),
        ]
    );
}
