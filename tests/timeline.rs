//! Visibility timelines and outages: the engine's counts on a hand-made
//! state, and `mrtsnap timeline` / `mrtsnap outages` on the generated
//! `nk-2014` scenario against the generator's truth (the acceptance
//! scenario at a small scale), with gaps, damage, absent origins and
//! thread counts.

use mrtsnap::bgp::{Origin, Prefix};
use mrtsnap::snapshot::FullFeed;
use mrtsnap::synth::scenario::Nk2014;
use mrtsnap::timeline::{Aggregate, Visibility};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

mod common;
use common::{nk_at as at, utc_seconds as time};

fn p(s: &str) -> Prefix {
    s.parse().expect("prefix")
}

fn peer(i: u8, asn: u32) -> (IpAddr, u32) {
    (IpAddr::from([10, 0, 0, i]), asn)
}

/// Peers A, B, C, D of ASes 1, 2, 3, 3 at one collector; every peer with
/// a prefix is a full feed (fixed rule, 1 prefix): three full-feed peer
/// ASNs.
#[test]
fn counts_on_a_made_state() {
    let mut v = Visibility::new(FullFeed::Fixed { ipv4: 1, ipv6: 1 });
    let c = v.collector("rrc00");
    let (a, b, cc, d) = (peer(1, 1), peer(2, 2), peer(3, 3), peer(4, 3));
    let o100 = Origin::Asn(100);
    let o200 = Origin::Asn(200);
    let set = Origin::set([301, 300]);
    // 10.0.0.0/24: AS100 seen by all four (3 ASNs: 100%).
    for x in [a, b, cc, d] {
        v.route(c, x, p("10.0.0.0/24"), None, Some(&o100));
    }
    // 10.0.0.0/16: AS100 by A (1 of 3 ASNs: 33%), AS200 by B and C (2 of 3: 66%).
    v.route(c, a, p("10.0.0.0/16"), None, Some(&o100));
    v.route(c, b, p("10.0.0.0/16"), None, Some(&o200));
    v.route(c, cc, p("10.0.0.0/16"), None, Some(&o200));
    // An AS_SET /25 by A: one /24 of its own origin.
    v.route(c, a, p("192.168.0.0/25"), None, Some(&set));
    // A /5: counted as a prefix, left out of the space.
    for x in [a, b, cc] {
        v.route(c, x, p("8.0.0.0/5"), None, Some(&o100));
    }
    // ADD-PATH: two paths of D with AS200 for 10.9.0.0/24; one withdrawn.
    v.route(c, d, p("10.9.0.0/24"), None, Some(&o200));
    v.route(c, d, p("10.9.0.0/24"), None, Some(&o200));
    v.route(c, d, p("10.9.0.0/24"), Some(&o200), None);
    // An IPv6 /48 of AS100 by A and B: two /64s... 65,536 of them.
    v.route(c, a, p("2001:db8::/48"), None, Some(&o100));
    v.route(c, b, p("2001:db8::/48"), None, Some(&o100));
    v.compute();
    assert_eq!(v.peer_counts(), (4, [4, 2]));

    // AS100 IPv4: /24 at every threshold; /16 at 1 and 25%; /5 at 1, 25,
    // 50, 75% (3 of 3 ASNs see it, but D does not: ASN 3 through C).
    assert_eq!(
        v.origin(&o100, false).copied(),
        Some(Aggregate {
            prefixes: [3, 3, 2, 2, 2],
            space: [256, 256, 1, 1, 1],
            peers: 4,
            full_feed_peer_asns: 3,
        })
    );
    // AS200 IPv4: /16 at 1, 25, 50% (2 of 3); 10.9.0.0/24 (outside the
    // /16) seen by D alone (ASN 3 of the 1 ASN seeing it: 100%).
    assert_eq!(
        v.origin(&o200, false).copied(),
        Some(Aggregate {
            prefixes: [2, 2, 2, 1, 1],
            space: [257, 257, 257, 1, 1],
            peers: 3,
            full_feed_peer_asns: 2,
        })
    );
    assert_eq!(
        v.origin(&set, false).copied(),
        Some(Aggregate {
            prefixes: [1; 5],
            space: [1; 5],
            peers: 1,
            full_feed_peer_asns: 1,
        })
    );
    // AS_SET members are not origins of their own.
    assert_eq!(v.origin(&Origin::Asn(300), false), None);
    assert_eq!(
        v.origin(&o100, true).copied(),
        Some(Aggregate {
            prefixes: [1; 5],
            space: [65_536; 5],
            peers: 2,
            full_feed_peer_asns: 2,
        })
    );
    let view = v.prefix(&p("10.0.0.0/16")).expect("met");
    assert_eq!((view.peers, view.full_feed_peer_asns), (3, 3));
    assert_eq!(view.origins, vec![(o100.clone(), 1, 1), (o200.clone(), 2, 2)]);

    // A withdraws the /24 and the /16: AS100 keeps the /24 through B, C, D
    // (every ASN that sees it) and the /5; the /16 is AS200's alone (2 of
    // 2 ASNs).
    v.route(c, a, p("10.0.0.0/24"), Some(&o100), None);
    v.route(c, a, p("10.0.0.0/16"), Some(&o100), None);
    v.compute();
    assert_eq!(
        v.origin(&o100, false).copied(),
        Some(Aggregate {
            prefixes: [2; 5],
            space: [1; 5],
            peers: 4,
            full_feed_peer_asns: 3,
        })
    );
    assert_eq!(v.origin(&o200, false).map(|a| (a.prefixes, a.space)), Some(([2; 5], [257; 5])));
    // Every route of AS200 gone: zeros, the origin still listed.
    v.route(c, b, p("10.0.0.0/16"), Some(&o200), None);
    v.route(c, cc, p("10.0.0.0/16"), Some(&o200), None);
    v.route(c, d, p("10.9.0.0/24"), Some(&o200), None);
    v.compute();
    assert_eq!(v.origin(&o200, false).copied(), Some(Aggregate::default()));
    let listed: Vec<String> = v.origins().map(|o| format!("{}/{}", o.origin, o.v6)).collect();
    assert_eq!(listed, ["100/false", "100/true", "200/false", "{300,301}/false"]);
}

/// More peers than one 64-bit word: the bitmaps widen, counts stay.
#[test]
fn many_peers() {
    let mut v = Visibility::new(FullFeed::Fixed { ipv4: 1, ipv6: 1 });
    let c = v.collector("x");
    let o = Origin::Asn(7);
    for i in 0..150u32 {
        let peer = (IpAddr::from([10, 1, (i / 256) as u8, i as u8]), 1000 + i);
        v.route(c, peer, p("10.0.0.0/24"), None, Some(&o));
        if i % 2 == 0 {
            v.route(c, peer, p("10.0.1.0/24"), None, Some(&o));
        }
    }
    v.compute();
    let a = v.origin(&o, false).copied().expect("met");
    // 10.0.1.0/24 is seen by 75 of the 150 full-feed ASNs that see it: all
    // of those seeing it, so 100%.
    assert_eq!((a.prefixes, a.space, a.peers, a.full_feed_peer_asns), ([2; 5], [2; 5], 150, 150));
}

// The command line on the generated scenario.

/// The `nk-2014` scenario at its default (small) scale, generated once.
fn scenario() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("mrtsnap-timeline-nk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Nk2014::new(Nk2014::DEFAULT_SCALE).write(&dir).expect("generate");
        dir
    })
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mrtsnap"))
        .args(args)
        .output()
        .expect("run mrtsnap")
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// (origin, start, end) of an outages CSV.
fn events(csv: &str) -> Vec<(String, u32, Option<u32>)> {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("origin,start,end,duration_s,depth,severity,peers_withdrawn"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 7, "{l}");
            (f[0].to_string(), time(f[1]), (!f[2].is_empty()).then(|| time(f[2])))
        })
        .collect()
}

/// The truth's `origin,start,end` rows.
fn truth_events(name: &str) -> Vec<(String, u32, u32)> {
    std::fs::read_to_string(scenario().join("truth").join(name))
        .expect("truth")
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), time(f[1]), time(f[2]))
        })
        .collect()
}

#[test]
fn nk_outages_found_exactly() {
    let dir = scenario().to_str().expect("path");
    let truth = truth_events("events.csv");
    assert_eq!(truth.len(), 2);
    // 5-minute bins: the two events, each edge in the bin of the truth's.
    let got = ok(&["-q", "outages", "--origin", "131279", "--format", "csv", dir]);
    assert_eq!(
        events(&got),
        vec![
            ("131279".to_string(), at(22, 16, 15), Some(at(23, 1, 45))),
            ("131279".to_string(), at(23, 15, 40), Some(at(23, 16, 10))),
        ]
    );
    for ((_, s, e), (_, ts, te)) in events(&got).iter().zip(&truth) {
        assert!(s / 300 == ts / 300 && e.expect("closed") / 300 == te / 300, "{got}");
    }
    // The lines in full: depth 0, severity 1.0 per minute, every peer gone.
    assert!(
        got.contains("\n131279,2014-12-22T16:15:00Z,2014-12-23T01:45:00Z,34200,0.000,570.0,"),
        "{got}"
    );
    // One-minute bins: each edge within 2 minutes of the truth.
    let fine = events(&ok(&["-q", "outages", "--origin", "AS131279", "--bin", "1m", dir]));
    assert_eq!(fine.len(), 2, "{fine:?}");
    for ((_, s, e), (_, ts, te)) in fine.iter().zip(&truth) {
        assert!(
            s.abs_diff(*ts) <= 120 && e.expect("closed").abs_diff(*te) <= 120,
            "{fine:?} {truth:?}"
        );
    }
}

#[test]
fn nk_no_false_positives_over_all_origins() {
    let dir = scenario().to_str().expect("path");
    let got = events(&ok(&["-q", "outages", "--all-origins", dir]));
    let stable = common::stable_origins(&scenario().join("truth"));
    assert!(stable.len() > 100, "{}", stable.len());
    let false_positives: Vec<_> = got.iter().filter(|e| stable.contains(&e.0)).collect();
    assert_eq!(false_positives, Vec::<&(String, u32, Option<u32>)>::new());
    // AS131279's two events, no other (brief withdrawals last less than a bin).
    let others: Vec<_> = got.iter().filter(|e| e.0 != "131279").collect();
    assert!(others.is_empty(), "{others:?}");
    assert_eq!(got.len(), 2);
}

#[test]
fn nk_timeline_rows() {
    let dir = scenario().to_str().expect("path");
    let csv = ok(&["-q", "timeline", "--origin", "131279", "--bin", "5m", dir]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "time,collectors,origin,family,prefixes_1,slash24_1,prefixes_25,slash24_25,prefixes_50,slash24_50,\
             prefixes_75,slash24_75,prefixes_100,slash24_100,peers,full_feed_peer_asns,uncertain"
        )
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 576);
    for r in &rows {
        let t = time(r[0]);
        assert_eq!(&r[1..4], ["route-views2;rrc00", "131279", "ipv4"]);
        let out = (at(22, 16, 15)..at(23, 1, 45)).contains(&t) || (at(23, 15, 40)..at(23, 16, 10)).contains(&t);
        let want = if out { "0" } else { "4" };
        assert!(r[4..14].iter().all(|c| *c == want), "{r:?}");
        assert_eq!(r[16], "0");
    }
    // Every peer sees it before the first event (30 full feeds per
    // collector); some share an AS.
    assert_eq!((rows[0][14], rows[0][15]), ("60", "54"));
}

#[test]
fn prefix_rows_and_absent_origins() {
    let dir = scenario().to_str().expect("path");
    let csv = ok(&[
        "-q",
        "timeline",
        "--prefix",
        "175.45.176.0/22",
        "--from",
        "2014-12-22T16:10:00Z",
        "--until",
        "2014-12-22T16:20:00Z",
        dir,
    ]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "time,collectors,prefix,origin,peers,full_feed_peer_asns,prefix_peers,prefix_full_feed_peer_asns,uncertain"
    );
    // Two bins, the four /24s: seen by 60 peers with AS131279, then by none.
    assert_eq!(lines.len(), 1 + 8, "{csv}");
    assert_eq!(
        lines[1],
        "2014-12-22T16:10:00Z,route-views2;rrc00,175.45.176.0/24,131279,60,54,60,54,0"
    );
    assert_eq!(lines[5], "2014-12-22T16:15:00Z,route-views2;rrc00,175.45.176.0/24,,0,0,0,0,0");
    // An origin that does not occur: the header alone, a message, exit 0.
    let out = run(&["timeline", "--origin", "64512", dir]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("AS64512: no route with this origin"));
    let out = run(&["outages", "--origin", "64512", dir]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "origin,start,end,duration_s,depth,severity,peers_withdrawn\n"
    );
}

#[test]
fn same_bytes_on_one_and_two_threads() {
    let dir = scenario().to_str().expect("path");
    let one = ok(&[
        "-q",
        "--threads",
        "1",
        "timeline",
        "--all-origins",
        "--format",
        "csv",
        "--family",
        "both",
        dir,
    ]);
    let two = ok(&[
        "-q",
        "--threads",
        "2",
        "timeline",
        "--all-origins",
        "--format",
        "csv",
        "--family",
        "both",
        dir,
    ]);
    assert!(one == two, "{}", common::first_difference(one.as_bytes(), two.as_bytes()));
    // Every origin at every bin: 576 rows per (origin, family).
    let origins: BTreeSet<(&str, &str)> = one
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[2], f[3])
        })
        .collect();
    assert_eq!(one.lines().count() - 1, origins.len() * 576);
}

/// A copy of the scenario without some files, or with one damaged.
fn copy_scenario(name: &str, skip: impl Fn(&Path) -> bool) -> PathBuf {
    let to = std::env::temp_dir().join(format!("mrtsnap-timeline-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&to);
    fn walk(from: &Path, to: &Path, skip: &dyn Fn(&Path) -> bool) {
        std::fs::create_dir_all(to).expect("mkdir");
        for e in std::fs::read_dir(from).expect("read dir") {
            let path = e.expect("entry").path();
            let dest = to.join(path.file_name().expect("name"));
            if path.is_dir() {
                walk(&path, &dest, skip);
            } else if !skip(&path) {
                std::fs::copy(&path, &dest).expect("copy");
            }
        }
    }
    walk(scenario(), &to, &skip);
    to
}

#[test]
fn gaps_are_null_bins_never_outages() {
    // rrc00's updates from 16:00 to 16:55 on 22 December are missing.
    let gone = |p: &Path| {
        let n = p.to_string_lossy();
        n.contains("rrc00") && n.contains("updates.20141222.16")
    };
    let dir = copy_scenario("gap", gone);
    let d = dir.to_str().expect("path");
    let out = run(&["timeline", "--origin", "131279", d]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("rrc00: gap: no updates from 2014-12-22T16:00:00Z until 2014-12-22T17:00:00Z"),
        "{stderr}"
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    for l in csv.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        let t = time(f[0]);
        // The bins of the gap are null; after it rrc00's state keeps the
        // routes withdrawn in the missing files (uncertain) until its RIB
        // dump of 23 December 00:00 re-bases it.
        let null = (at(22, 16, 0)..at(22, 17, 0)).contains(&t);
        assert_eq!(f[4..16].iter().all(|c| c.is_empty()), null, "{l}");
        assert_eq!(f[4..16].iter().any(|c| c.is_empty()), null, "{l}");
        let uncertain = (at(22, 16, 0)..at(23, 0, 0)).contains(&t);
        assert_eq!(f[16], if uncertain { "1" } else { "0" }, "{l}");
    }
    // The first outage is never opened by the gap: rrc00's stale half of
    // the peers keeps AS131279 at 50% until the re-base, where it is found.
    let got = events(&ok(&["-q", "outages", "--origin", "131279", d]));
    assert_eq!(
        got,
        vec![
            ("131279".to_string(), at(23, 0, 0), Some(at(23, 1, 45))),
            ("131279".to_string(), at(23, 15, 40), Some(at(23, 16, 10))),
        ]
    );
    // A gap alone opens nothing: over every origin, AS131279's alone.
    let all = events(&ok(&["-q", "outages", "--all-origins", d]));
    assert!(all.iter().all(|e| e.0 == "131279"), "{all:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damaged_bins_flagged() {
    let dir = copy_scenario("damage", |_| false);
    // Damage an UPDATE in the middle of rrc00's updates file of 10:00: its
    // BGP length set to 65,535 (BGP4MP_MESSAGE_AS4 over IPv4: 20 bytes of
    // peering, then the 16-byte marker, then the length).
    let victim = dir.join("rrc00/2014.12/updates.20141222.1000.gz");
    let mut plain = common::read_gz_text(&victim);
    let at_record = {
        let records: Vec<_> = mrtsnap::mrt::Records::from_bytes(&plain).map(|r| r.expect("framed")).collect();
        let r = records
            .iter()
            .skip(records.len() / 2)
            .find(|r| r.header.mrt_type == 16 && r.header.subtype == 4 && r.body.get(10..12) == Some(&[0, 1]))
            .expect("an IPv4 BGP4MP_MESSAGE_AS4");
        r.body_offset as usize
    };
    plain[at_record + 36..at_record + 38].fill(0xff);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &plain).expect("gzip");
    std::fs::write(&victim, enc.finish().expect("gzip")).expect("write");
    let d = dir.to_str().expect("path");
    let out = run(&["-q", "timeline", "--origin", "131279", d]);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "damage: exit 1");
    // Uncertain from the damaged bin until rrc00's RIB dump of 16:00.
    let flagged: Vec<u32> = csv.lines().skip(1).filter(|l| l.ends_with(",1")).map(|l| time(&l[..20])).collect();
    let want: Vec<u32> = (at(22, 10, 0)..at(22, 16, 0)).step_by(300).collect();
    assert_eq!(flagged, want, "{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plot_of_the_blackout() {
    use mrtsnap::plot::{Chart, Layout, Series, BACKGROUND, SHADE};
    let dir = scenario().to_str().expect("path");
    let out = std::env::temp_dir().join(format!("mrtsnap-timeline-nk-{}.png", std::process::id()));
    let o = out.to_str().expect("path");
    ok(&[
        "-q",
        "timeline",
        "--origin",
        "131279",
        "--bin",
        "5m",
        "--plot",
        o,
        "-o",
        "/dev/null",
        dir,
    ]);
    let png = std::fs::read(&out).expect("png written");
    let _ = std::fs::remove_file(&out);
    let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().expect("png");
    let mut rgb = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut rgb).expect("frame");
    assert_eq!((info.width, info.height), mrtsnap::plot::DEFAULT_SIZE);
    // The same axes as a chart of 4 /24s over the two days.
    let span = Series {
        label: String::new(),
        points: vec![(Nk2014::START, Some(4.0)), (Nk2014::END - 300, Some(4.0))],
    };
    let chart = Chart {
        series: vec![span],
        ..Chart::default()
    };
    let l = Layout::new(&chart, info.width, info.height).expect("layout");
    let pixel = |t: u32, y: i32| {
        let i = (y as usize * info.width as usize + l.x(t) as usize) * 3;
        (rgb[i], rgb[i + 1], rgb[i + 2])
    };
    // Mid-height: shaded at 20:00 on the 22nd (inside the first outage),
    // background at 08:00 on the 22nd.
    let y = (l.top + l.bottom) / 2;
    assert_eq!(pixel(at(22, 20, 0), y), SHADE);
    assert_eq!(pixel(at(22, 8, 0), y), BACKGROUND);
}
