//! The replay engine's rules, one hand-made test each (records built with
//! the testkit), and one run over real RouteViews files when present.

use mrtsnap::bgp::as_path::AS_SEQUENCE;
use mrtsnap::bgp::attr::{code, FLAG_TRANSITIVE};
use mrtsnap::mrt::code::{BGP4MP, TABLE_DUMP_V2};
use mrtsnap::mrt::subtype::{MESSAGE_AS4, PEER_INDEX_TABLE, RIB_IPV4_UNICAST, STATE_CHANGE_AS4};
use mrtsnap::replay::{PeerDiff, Replay};
use mrtsnap::testkit::{attr, bgp4mp_as4, mrt, seg, update};
use mrtsnap::{Event, FsmState, Origin, Prefix, RouteKind, Snapshot, Source};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// BGP4MP MESSAGE_AS4_LOCAL and MESSAGE_AS4_ADDPATH (RFC 6396, RFC 8050).
const MESSAGE_AS4_LOCAL: u16 = 7;
const MESSAGE_AS4_ADDPATH: u16 = 9;

const T0: u32 = 1_401_487_200;
const T1: u32 = T0 + 7200;

/// Peer `n`: AS 65000+n at 10.0.0.n.
fn peer(n: u8) -> (u32, [u8; 4]) {
    (65000 + u32::from(n), [10, 0, 0, n])
}

fn addr(n: u8) -> (IpAddr, u32) {
    (IpAddr::from([10, 0, 0, n]), 65000 + u32::from(n))
}

/// Prefix `n` of the tests: 10.0.n.0/24, NLRI-encoded.
fn pfx(n: u8) -> Vec<u8> {
    vec![24, 10, 0, n]
}

fn attrs(origin: u32) -> Vec<u8> {
    [
        attr(FLAG_TRANSITIVE, code::ORIGIN, &[0]),
        attr(FLAG_TRANSITIVE, code::AS_PATH, &seg(AS_SEQUENCE, &[64999, origin], 4)),
        attr(FLAG_TRANSITIVE, code::NEXT_HOP, &[10, 0, 0, 1]),
    ]
    .concat()
}

/// A PEER_INDEX_TABLE of peers `ns` (index i is `ns[i]`).
fn pit(ts: u32, ns: &[u8]) -> Vec<u8> {
    let mut b = vec![10, 0, 0, 254, 0, 0];
    b.extend_from_slice(&(ns.len() as u16).to_be_bytes());
    for &n in ns {
        let (asn, ip) = peer(n);
        b.extend_from_slice(&[2, 10, 0, 0, n]);
        b.extend_from_slice(&ip);
        b.extend_from_slice(&asn.to_be_bytes());
    }
    mrt(ts, TABLE_DUMP_V2, PEER_INDEX_TABLE, &b)
}

/// A RIB_IPV4_UNICAST record of prefix `p`: (peer index, origin) entries,
/// originated a month before.
fn rib(ts: u32, p: u8, entries: &[(u16, u32)]) -> Vec<u8> {
    let mut b = u32::from(p).to_be_bytes().to_vec();
    b.extend(pfx(p));
    b.extend_from_slice(&(entries.len() as u16).to_be_bytes());
    for &(idx, origin) in entries {
        let a = attrs(origin);
        b.extend_from_slice(&idx.to_be_bytes());
        b.extend_from_slice(&(T0 - 30 * 86_400).to_be_bytes());
        b.extend_from_slice(&(a.len() as u16).to_be_bytes());
        b.extend(a);
    }
    mrt(ts, TABLE_DUMP_V2, RIB_IPV4_UNICAST, &b)
}

/// An UPDATE of peer `n` announcing prefixes `ps` with `origin`.
fn announce_as(subtype: u16, ts: u32, n: u8, nlri: &[u8], origin: u32) -> Vec<u8> {
    let body = bgp4mp_as4(peer(n), (65100, [10, 0, 0, 254]), &update(&[], &attrs(origin), nlri));
    mrt(ts, BGP4MP, subtype, &body)
}

fn announce(ts: u32, n: u8, ps: &[u8], origin: u32) -> Vec<u8> {
    let nlri: Vec<u8> = ps.iter().flat_map(|&p| pfx(p)).collect();
    announce_as(MESSAGE_AS4, ts, n, &nlri, origin)
}

fn withdraw(ts: u32, n: u8, ps: &[u8]) -> Vec<u8> {
    let w: Vec<u8> = ps.iter().flat_map(|&p| pfx(p)).collect();
    let body = bgp4mp_as4(peer(n), (65100, [10, 0, 0, 254]), &update(&w, &[], &[]));
    mrt(ts, BGP4MP, MESSAGE_AS4, &body)
}

/// A STATE_CHANGE_AS4 record of peer `n`.
fn state(ts: u32, n: u8, old: u16, new: u16) -> Vec<u8> {
    let (asn, ip) = peer(n);
    let mut b = asn.to_be_bytes().to_vec();
    b.extend_from_slice(&65100u32.to_be_bytes());
    b.extend_from_slice(&[0, 0, 0, 1]);
    b.extend_from_slice(&ip);
    b.extend_from_slice(&[10, 0, 0, 254]);
    b.extend_from_slice(&old.to_be_bytes());
    b.extend_from_slice(&new.to_be_bytes());
    mrt(ts, BGP4MP, STATE_CHANGE_AS4, &b)
}

fn src(name: &str, records: &[Vec<u8>]) -> Source {
    Source::from_bytes(name, records.concat())
}

/// (prefix, origin, peers) of a snapshot, as text.
fn pairs(snap: &Snapshot) -> Vec<(String, String, u32)> {
    snap.pairs().map(|(p, o, n)| (p.to_string(), o.to_string(), n)).collect()
}

fn row(p: u8, origin: u32, peers: u32) -> (String, String, u32) {
    (format!("10.0.{p}.0/24"), origin.to_string(), peers)
}

fn replayed(inputs: &[Source]) -> (Replay, Snapshot) {
    let mut r = Replay::new();
    for s in inputs {
        r.apply(s).unwrap();
    }
    let snap = r.snapshot().unwrap();
    (r, snap)
}

#[test]
fn an_announcement_replaces_the_earlier_route_of_its_peer() {
    let (r, snap) = replayed(&[src(
        "updates",
        &[
            announce(T0, 1, &[1, 2], 100),
            announce(T0, 2, &[1], 100),
            announce(T0 + 1, 1, &[1], 200),
        ],
    )]);
    assert_eq!(pairs(&snap), [row(1, 100, 1), row(1, 200, 1), row(2, 100, 1)]);
    assert_eq!((r.report().announcements, r.routes(), snap.peers().len()), (4, 3, 2));
}

#[test]
fn a_withdrawal_removes_and_counts_withdrawals_of_nothing() {
    let (r, snap) = replayed(&[src(
        "updates",
        &[
            announce(T0, 1, &[1, 2], 100),
            withdraw(T0 + 1, 1, &[1]),
            withdraw(T0 + 2, 1, &[1, 3]),
        ],
    )]);
    assert_eq!(pairs(&snap), [row(2, 100, 1)]);
    let rep = r.report();
    assert_eq!((rep.withdrawals, rep.withdrawn_nothing, r.routes()), (3, 2, 1));
}

#[test]
fn leaving_established_drops_the_peers_routes_and_it_comes_back_empty() {
    let (r, snap) = replayed(&[src(
        "updates",
        &[
            announce(T0, 1, &[1, 2], 100),
            announce(T0, 2, &[1], 100),
            state(T0 + 1, 1, 6, 1),
            state(T0 + 2, 1, 1, 6),
            // Quagga's Clearing (7) and Deleted (8) are not Established.
            announce(T0 + 3, 2, &[3], 300),
            state(T0 + 4, 2, 6, 7),
            state(T0 + 5, 2, 7, 8),
        ],
    )]);
    assert_eq!(pairs(&snap), []);
    assert_eq!((r.report().sessions_down, r.routes(), snap.peers().len()), (2, 0, 2));

    let (r, snap) = replayed(&[src(
        "updates",
        &[announce(T0, 1, &[1], 100), announce(T0, 2, &[1], 100), state(T0 + 1, 1, 6, 8)],
    )]);
    assert_eq!(pairs(&snap), [row(1, 100, 1)]);
    assert_eq!(snap.peers()[snap.row(0).unwrap().peer_ids[0] as usize].asn, Some(65002));
    assert_eq!(r.report().sessions_down, 1);
}

#[test]
fn an_update_from_a_peer_marked_down_brings_it_back_up() {
    let (r, snap) = replayed(&[src(
        "updates",
        &[
            announce(T0, 1, &[1, 2], 100),
            state(T0 + 1, 1, 6, 3),
            announce(T0 + 2, 1, &[3], 300),
            announce(T0 + 3, 1, &[4], 400),
        ],
    )]);
    assert_eq!(pairs(&snap), [row(3, 300, 1), row(4, 400, 1)]);
    assert_eq!((r.report().sessions_down, r.report().up_by_update), (1, 1));
}

#[test]
fn an_instant_includes_the_records_of_its_second_and_no_later() {
    let s = src(
        "updates",
        &[
            announce(T0, 1, &[1], 100),
            announce(T0 + 10, 1, &[2], 200),
            announce(T0 + 11, 1, &[3], 300),
            withdraw(T0 + 11, 1, &[1]),
        ],
    );
    let mut r = Replay::new();
    r.apply_until(&s, T0 + 10).unwrap();
    assert_eq!(pairs(&r.snapshot().unwrap()), [row(1, 100, 1), row(2, 200, 1)]);
    assert_eq!(r.report().after_until, 2);
    let mut r = Replay::new();
    r.apply_until(&s, T0 + 9).unwrap();
    assert_eq!(pairs(&r.snapshot().unwrap()), [row(1, 100, 1)]);
    assert_eq!(r.report().after_until, 3);
    // A RIB dumped after the instant is left out whole, peers and all.
    r.apply_until(
        &src(
            "rib",
            &[
                pit(T0 + 10, &[1, 2]),
                rib(T0 + 10, 1, &[(0, 100), (1, 100)]),
                rib(T0 + 10, 2, &[(1, 200)]),
            ],
        ),
        T0 + 9,
    )
    .unwrap();
    assert_eq!((r.report().after_until, r.report().bases.len()), (6, 0));
    assert_eq!(r.snapshot().unwrap().peers().len(), 1);
    // A RIB at the instant is a base (peer 1's route of T0 is within its
    // 60 s and stays).
    r.apply_until(&src("rib", &[pit(T0 + 10, &[1, 2]), rib(T0 + 11, 2, &[(1, 200)])]), T0 + 10)
        .unwrap();
    assert_eq!(pairs(&r.snapshot().unwrap()), [row(1, 100, 1), row(2, 200, 1)]);
    let rep = r.report();
    assert_eq!((rep.bases.len(), rep.rib_entries, rep.bases[0].kept_newer), (1, 1, 1));
}

#[test]
fn updates_more_than_60_s_before_the_base_are_not_applied() {
    let base = src(
        "rib",
        &[pit(T0, &[1, 2]), rib(T0, 1, &[(0, 100), (1, 100)]), rib(T0 + 1, 2, &[(0, 200)])],
    );
    let updates = src(
        "updates",
        &[
            announce(T0 - 61, 1, &[3], 300),
            state(T0 - 61, 2, 6, 1),
            withdraw(T0 - 60, 1, &[1]),
            announce(T0 + 5, 2, &[4], 400),
        ],
    );
    let (r, snap) = replayed(&[base, updates]);
    assert_eq!(pairs(&snap), [row(1, 100, 1), row(2, 200, 1), row(4, 400, 1)]);
    let rep = r.report();
    assert_eq!((rep.before_base, rep.withdrawals, rep.withdrawn_nothing), (2, 1, 0));
    assert_eq!(
        (rep.rib_entries, rep.bases.len(), rep.bases[0].dump_start, rep.bases[0].rebase),
        (3, 1, T0, false)
    );
    assert_eq!(r.base(), Some(T0));
}

#[test]
fn a_later_rib_rebases_except_for_updates_in_its_last_60_s() {
    let rib0 = src(
        "rib0",
        &[
            pit(T0, &[1, 2]),
            rib(T0, 1, &[(0, 100), (1, 100)]),
            rib(T0, 2, &[(0, 100)]),
            rib(T0, 3, &[(0, 100)]),
        ],
    );
    let updates = src(
        "updates",
        &[
            announce(T0 + 100, 1, &[4], 300),
            announce(T1 - 61, 1, &[2], 200),
            withdraw(T1 - 60, 1, &[3]),
            announce(T1 - 30, 1, &[5], 500),
        ],
    );
    let rib1 = src(
        "rib1",
        &[
            pit(T1, &[1, 2]),
            rib(T1, 1, &[(0, 100)]),
            rib(T1, 2, &[(0, 100)]),
            rib(T1, 3, &[(0, 100)]),
            rib(T1 + 1, 6, &[(0, 600)]),
        ],
    );
    let (r, snap) = replayed(&[rib0, updates, rib1]);
    // Peer 1: 2 comes back to the RIB's origin (its update is older than
    // the window), 3 stays withdrawn and 5 stays (both in the window), 4
    // goes (the RIB lacks it), 6 comes from the RIB; peer 2's 1 goes.
    assert_eq!(pairs(&snap), [row(1, 100, 1), row(2, 100, 1), row(5, 500, 1), row(6, 600, 1)]);
    let rep = r.report();
    assert_eq!(rep.bases.len(), 2);
    let b = &rep.bases[1];
    assert_eq!((b.file.as_str(), b.dump_start, b.rebase, b.kept_newer), ("rib1", T1, true, 2));
    let diff = |n, only_replay, only_rib, other_origin| {
        let (addr, asn) = addr(n);
        PeerDiff {
            addr,
            asn,
            only_replay,
            only_rib,
            other_origin,
        }
    };
    // Peer 1 before: 1:100 2:200 4:300 5:500; the RIB: 1, 2, 3:100 6:600.
    assert_eq!(b.diffs, [diff(1, 2, 2, 1), diff(2, 1, 0, 0)]);
    assert_eq!((b.missing_peers.len(), b.kept_down.len()), (0, 0));
    // One input each; a peer names the input it was first seen in.
    let files: Vec<_> = snap
        .sources()
        .iter()
        .map(|s| (s.file.as_str(), s.dump_time, s.stats.rib_entries))
        .collect();
    assert_eq!(
        files,
        [("rib0", Some(T0), 4), ("updates", Some(T0 + 100), 0), ("rib1", Some(T1), 4)]
    );
    assert_eq!(snap.peers().iter().map(|p| p.source).collect::<Vec<_>>(), [0, 0]);
    assert_eq!(snap.sources()[0].collector_id, Some([10, 0, 0, 254].into()));
}

#[test]
fn a_session_drop_in_the_last_60_s_keeps_the_dumps_routes_of_the_peer_out() {
    let rib0 = src("rib0", &[pit(T0, &[1, 2]), rib(T0, 1, &[(0, 100), (1, 100)])]);
    let updates = src("updates", &[state(T1 - 10, 2, 6, 1)]);
    let rib1 = src("rib1", &[pit(T1, &[1, 2]), rib(T1, 1, &[(0, 100), (1, 100)])]);
    let (r, snap) = replayed(&[rib0, updates, rib1]);
    assert_eq!(pairs(&snap), [row(1, 100, 1)]);
    let b = &r.report().bases[1];
    assert_eq!(b.kept_down, [addr(2)]);
    assert_eq!(b.diffs.len(), 1);
    assert_eq!(b.diffs[0].only_rib, 1);
}

#[test]
fn add_path_routes_are_kept_per_path_id() {
    let nlri = |items: &[(u32, u8)]| -> Vec<u8> {
        items
            .iter()
            .flat_map(|&(id, p)| [id.to_be_bytes().to_vec(), pfx(p)].concat())
            .collect()
    };
    let withdraw_path = |ts: u32, items: &[(u32, u8)]| {
        let body = bgp4mp_as4(peer(1), (65100, [10, 0, 0, 254]), &update(&nlri(items), &[], &[]));
        mrt(ts, BGP4MP, MESSAGE_AS4_ADDPATH, &body)
    };
    let (r, snap) = replayed(&[src(
        "updates",
        &[
            announce_as(MESSAGE_AS4_ADDPATH, T0, 1, &nlri(&[(1, 1), (3, 1)]), 100),
            announce_as(MESSAGE_AS4_ADDPATH, T0, 1, &nlri(&[(2, 1)]), 200),
            announce_as(MESSAGE_AS4_ADDPATH, T0 + 1, 1, &nlri(&[(4, 1)]), 400),
            withdraw_path(T0 + 2, &[(2, 1), (9, 1)]),
        ],
    )]);
    // Two paths of one peer with one origin count once.
    assert_eq!(pairs(&snap), [row(1, 100, 1), row(1, 400, 1)]);
    assert_eq!((r.routes(), r.report().withdrawn_nothing), (3, 1));
}

#[test]
fn local_messages_do_not_change_the_state() {
    let (r, snap) = replayed(&[src(
        "updates",
        &[announce_as(MESSAGE_AS4_LOCAL, T0, 1, &pfx(1), 100), announce(T0, 2, &[2], 200)],
    )]);
    assert_eq!(pairs(&snap), [row(2, 200, 1)]);
    assert_eq!((r.report().local_ignored, r.report().announcements, snap.peers().len()), (1, 1, 1));
}

#[test]
fn a_peer_missing_from_a_later_table_keeps_its_state_and_is_flagged() {
    let rib0 = src(
        "rib0",
        &[pit(T0, &[1, 2]), rib(T0, 1, &[(0, 100), (1, 100)]), rib(T0, 2, &[(1, 200)])],
    );
    let rib1 = src("rib1", &[pit(T1, &[1]), rib(T1, 1, &[(0, 100)])]);
    let (r, snap) = replayed(&[rib0, rib1]);
    assert_eq!(pairs(&snap), [row(1, 100, 2), row(2, 200, 1)]);
    let b = &r.report().bases[1];
    assert_eq!((b.missing_peers.as_slice(), b.diffs.len()), ([addr(2)].as_slice(), 0));
}

#[test]
fn jinx_rib_with_its_updates() {
    let dir = "/work/shared/corpus/CAIDA+libbgpstream/test-dumps";
    let (rib_path, upd_path) = (
        format!("{dir}/routeviews.route-views.jinx.ribs.1401487200.bz2"),
        format!("{dir}/routeviews.route-views.jinx.updates.1401493500.bz2"),
    );
    if !std::path::Path::new(&rib_path).exists() || !std::path::Path::new(&upd_path).exists() {
        eprintln!("skipped: {dir} lacks the jinx RIB or updates file");
        return;
    }
    let (rib_src, upd_src) = (Source::open(&rib_path).unwrap(), Source::open(&upd_path).unwrap());
    let from_rib = Snapshot::build(&rib_src, &Default::default()).unwrap();
    let mut r = Replay::new();
    r.apply(&rib_src).unwrap();
    // The base alone gives the RIB's own pairs, peers (with their counts
    // and full-feed flags) and input metadata.
    let at_base = r.snapshot().unwrap();
    assert!(pairs(&at_base) == pairs(&from_rib));
    let peer = |p: &mrtsnap::snapshot::PeerInfo| {
        (
            p.addr,
            p.asn,
            p.bgp_id,
            p.ipv4_prefixes,
            p.ipv6_prefixes,
            p.full_feed_ipv4,
            p.full_feed_ipv6,
        )
    };
    assert_eq!(
        at_base.peers().iter().map(peer).collect::<Vec<_>>(),
        from_rib.peers().iter().map(peer).collect::<Vec<_>>()
    );
    let (a, b) = (&at_base.sources()[0], &from_rib.sources()[0]);
    assert_eq!(
        (&a.file, &a.collector, a.collector_id, &a.view_name, a.dump_time),
        (&b.file, &b.collector, b.collector_id, &b.view_name, b.dump_time)
    );
    assert_eq!(
        (a.stats.records, a.stats.rib_records, a.stats.rib_entries),
        (b.stats.records, b.stats.rib_records, b.stats.rib_entries)
    );
    let base_routes = r.routes();
    r.apply(&upd_src).unwrap();
    let snap = r.snapshot().unwrap();
    let rep = r.report();
    assert!(pairs(&snap) != pairs(&from_rib));
    assert_eq!(rep.decode.total_errors(), 0);
    assert_eq!((rep.before_base, rep.after_until, rep.local_ignored, rep.bases.len()), (0, 0, 0, 1));

    let m = model(Some(&rib_src), &upd_src);
    assert_eq!(m.base_routes, base_routes);
    assert_eq!(
        (rep.announcements, rep.withdrawals, rep.withdrawn_nothing, rep.sessions_down),
        m.counts
    );
    assert_eq!(r.routes(), m.routes);
    assert!(pairs(&snap) == m.pairs);
    eprintln!(
        "jinx: {base_routes} routes at the base, {} after (announced, withdrawn, of nothing, sessions down) {:?}; {} pairs",
        r.routes(),
        m.counts,
        snap.len()
    );
}

#[test]
fn real_updates_from_empty_state() {
    for path in [
        "/work/shared/corpus/CAIDA+libbgpstream/test-dumps/ris.rrc06.updates.1401488100.gz",
        // 40 state changes, all between Connect and Active: none drops routes.
        "/work/shared/corpus/RIPE-NCC+bgpdump/test_data/updates.20100722.2015.gz",
    ] {
        if !std::path::Path::new(path).exists() {
            eprintln!("skipped: {path} is absent");
            continue;
        }
        let upd = Source::open(path).unwrap();
        let (r, snap) = replayed(std::slice::from_ref(&upd));
        let rep = r.report();
        assert_eq!((rep.decode.total_errors(), rep.local_ignored, rep.bases.len()), (0, 0, 0));
        let m = model(None, &upd);
        assert_eq!(
            (rep.announcements, rep.withdrawals, rep.withdrawn_nothing, rep.sessions_down),
            m.counts
        );
        assert_eq!(r.routes(), m.routes);
        assert!(pairs(&snap) == m.pairs);
        assert!(!snap.is_empty());
        eprintln!(
            "{path}: {} routes after (announced, withdrawn, of nothing, sessions down) {:?}; {} pairs, {} peers",
            r.routes(),
            m.counts,
            snap.len(),
            snap.peers().len()
        );
    }
}

/// What a plain model makes of a RIB's routes then an updates file's
/// events: a map per (peer, prefix, path id), in file order.
struct Model {
    base_routes: usize,
    routes: usize,
    /// Announcements, withdrawals, withdrawals of nothing, sessions down.
    counts: (u64, u64, u64, u64),
    pairs: Vec<(String, String, u32)>,
}

fn model(rib: Option<&Source>, updates: &Source) -> Model {
    type Key = (IpAddr, u32, Prefix, Option<u32>);
    let mut model: BTreeMap<Key, Origin> = BTreeMap::new();
    for route in rib.into_iter().flat_map(Source::routes) {
        let route = route.unwrap();
        model.insert((route.peer.addr, route.peer.asn, route.prefix, route.path_id), route.origin_as());
    }
    let base_routes = model.len();
    let (mut announced, mut withdrawn, mut nothing, mut down) = (0, 0, 0, 0);
    for event in updates.events() {
        match event.unwrap() {
            Event::Route(route) => {
                let key = (route.peer.addr, route.peer.asn, route.prefix, route.path_id);
                if route.kind == RouteKind::Announce {
                    announced += 1;
                    model.insert(key, route.origin_as());
                } else {
                    withdrawn += 1;
                    nothing += u64::from(model.remove(&key).is_none());
                }
            }
            Event::StateChange(s) if (s.old == FsmState::Established) != (s.new == FsmState::Established) => {
                down += u64::from(s.old == FsmState::Established);
                model.retain(|k, _| (k.0, k.1) != (s.peer.addr, s.peer.asn));
            }
            _ => {}
        }
    }
    let routes = model.len();
    let mut rows: BTreeMap<(Prefix, Origin), BTreeSet<(IpAddr, u32)>> = BTreeMap::new();
    for ((addr, asn, prefix, _), origin) in model {
        rows.entry((prefix, origin)).or_default().insert((addr, asn));
    }
    let pairs = rows
        .into_iter()
        .map(|((p, o), peers)| (p.to_string(), o.to_string(), peers.len() as u32))
        .collect();
    Model {
        base_routes,
        routes,
        counts: (announced, withdrawn, nothing, down),
        pairs,
    }
}

#[test]
fn multicast_rib_entries_are_left_out_as_in_a_rib_snapshot() {
    let mut multicast = rib(T0, 2, &[(0, 200)]);
    multicast[7] = 3; // RIB_IPV4_MULTICAST
    let s = src("rib", &[pit(T0, &[1]), rib(T0, 1, &[(0, 100)]), multicast]);
    let (r, snap) = replayed(std::slice::from_ref(&s));
    assert_eq!(pairs(&snap), [row(1, 100, 1)]);
    assert!(pairs(&snap) == pairs(&Snapshot::build(&s, &Default::default()).unwrap()));
    let rep = r.report();
    assert_eq!((rep.rib_entries, rep.decode.warnings.get("rib-multicast-skipped")), (1, Some(&1)));
}

/// An UPDATE of peer `n` announcing prefix `p` in MP_REACH_NLRI of SAFI
/// `safi` (IPv4), with `origin`.
fn announce_mp(ts: u32, n: u8, p: u8, safi: u8, origin: u32) -> Vec<u8> {
    let mut mp = vec![0, 1, safi, 4, 10, 0, 0, 1, 0];
    mp.extend(pfx(p));
    let mut a = attrs(origin);
    a.extend(attr(0x80, 14, &mp));
    let body = bgp4mp_as4(peer(n), (65100, [10, 0, 0, 254]), &update(&[], &a, &[]));
    mrt(ts, BGP4MP, MESSAGE_AS4, &body)
}

#[test]
fn multicast_updates_are_left_out_as_multicast_ribs_are() {
    let s = src(
        "updates",
        &[
            announce_mp(T0, 1, 1, 2, 100),
            announce_mp(T0, 1, 2, 1, 200),
            announce(T0, 1, &[3], 300),
        ],
    );
    let (r, snap) = replayed(std::slice::from_ref(&s));
    assert_eq!(pairs(&snap), [row(2, 200, 1), row(3, 300, 1)]);
    let rep = r.report();
    assert_eq!(
        (rep.announcements, rep.decode.warnings.get("update-multicast-skipped")),
        (2, Some(&1))
    );
}

/// Every record of `records`, fed to increasing instants, gives the
/// states that replaying from the start up to each instant gives.
#[test]
fn fed_to_increasing_instants_equals_replayed_from_the_start_for_each() {
    let base = src(
        "rib",
        &[pit(T0, &[1, 2]), rib(T0, 1, &[(0, 100), (1, 100)]), rib(T0, 2, &[(0, 200)])],
    );
    let updates = src(
        "updates",
        &[
            announce(T0 + 10, 1, &[3], 300),
            withdraw(T0 + 10, 2, &[1]),
            state(T0 + 20, 1, 6, 1),
            announce(T0 + 30, 2, &[2], 201),
            state(T0 + 40, 1, 1, 6),
            announce(T0 + 41, 1, &[1, 2], 101),
            // The clock steps back: applied with its instant, as from the start.
            announce(T0 + 35, 2, &[4], 400),
        ],
    );
    let later = src("updates2", &[announce(T0 + 100, 2, &[5], 500), withdraw(T0 + 120, 1, &[2])]);
    let instants = [T0, T0 + 9, T0 + 10, T0 + 25, T0 + 35, T0 + 40, T0 + 41, T0 + 100, T0 + 200];
    let mut fed = Replay::new();
    let mut fed_inputs = 0;
    for &t in &instants {
        fed.advance(t);
        // `later` is fed at T0+9 already: all its records are held.
        for s in [&base, &updates, &later].into_iter().skip(fed_inputs) {
            if t < T0 + 9 && fed_inputs == 2 {
                break;
            }
            assert!(!fed.feed(s, t).unwrap().later);
            fed_inputs += 1;
        }
        let mut scratch = Replay::new();
        for s in [&base, &updates, &later] {
            scratch.apply_until(s, t).unwrap();
        }
        assert_eq!(
            pairs(&fed.snapshot().unwrap()),
            pairs(&scratch.snapshot().unwrap()),
            "at T0+{}",
            t - T0
        );
        assert_eq!(fed.routes(), scratch.routes());
        let (a, b) = (fed.report(), scratch.report());
        assert_eq!(
            (a.announcements, a.withdrawals, a.withdrawn_nothing, a.sessions_down),
            (b.announcements, b.withdrawals, b.withdrawn_nothing, b.sessions_down),
            "at T0+{}",
            t - T0
        );
    }
    assert_eq!(fed.report().after_until, 0);
}

#[test]
fn a_rib_fed_before_its_start_waits_whole() {
    let base = src("rib", &[pit(T1, &[1]), rib(T1, 1, &[(0, 100)])]);
    let mut r = Replay::new();
    let a = r.feed(&base, T1 - 1).unwrap();
    assert!(a.later && a.rib);
    assert_eq!(
        (r.routes(), r.report().bases.len(), r.snapshot().unwrap().sources().len()),
        (0, 0, 0)
    );
    assert!(!r.feed(&base, T1).unwrap().later);
    assert_eq!((r.routes(), r.report().bases.len()), (1, 1));
}

#[test]
fn changes_are_streamed_with_their_cause() {
    use mrtsnap::replay::Cause::*;
    let base = src("rib", &[pit(T0, &[1, 2]), rib(T0, 1, &[(0, 100), (1, 100)])]);
    let updates = src(
        "updates",
        &[
            announce(T0 + 1, 1, &[1], 100), // same origin: no change
            announce(T0 + 2, 1, &[1], 101), // origin changes
            announce(T0 + 3, 2, &[2], 200), // new route
            withdraw(T0 + 4, 2, &[1]),
            withdraw(T0 + 5, 2, &[1]), // nothing to withdraw: no change
            state(T0 + 6, 2, 6, 1),
        ],
    );
    // The re-base at T1 sets peer 1 back to origin 100 and gives peer 2 a route.
    let rebase = src("rib2", &[pit(T1, &[1, 2]), rib(T1, 1, &[(0, 100)]), rib(T1, 3, &[(1, 300)])]);
    let mut r = Replay::new();
    r.record_changes(true);
    r.apply(&base).unwrap();
    assert_eq!(r.drain_changes().count(), 0, "the first base is the initial state");
    r.apply(&updates).unwrap();
    r.apply(&rebase).unwrap();
    type Row = (u32, u8, String, Option<String>, Option<String>, mrtsnap::replay::Cause);
    let got: Vec<Row> = r
        .drain_changes()
        .map(|c| {
            let IpAddr::V4(a) = c.peer_addr else { panic!("IPv4 peers") };
            let o = |o: Option<Origin>| o.map(|o| o.to_string());
            (c.time - T0, a.octets()[3], c.prefix.to_string(), o(c.old), o(c.new), c.cause)
        })
        .collect();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        got,
        [
            (2, 1, "10.0.1.0/24".into(), s("100"), s("101"), Announce),
            (3, 2, "10.0.2.0/24".into(), None, s("200"), Announce),
            (4, 2, "10.0.1.0/24".into(), s("100"), None, Withdraw),
            (6, 2, "10.0.2.0/24".into(), s("200"), None, SessionDown),
            (7200, 1, "10.0.1.0/24".into(), s("101"), s("100"), Rebase),
            (7200, 2, "10.0.3.0/24".into(), None, s("300"), Rebase),
        ]
    );
    assert_eq!(r.drain_changes().count(), 0);
}

#[test]
fn damaged_records_leave_their_peers_uncertain_until_a_rib_lists_them() {
    // Peer 2's UPDATE declares a withdrawn-routes length past its end.
    let mut bad = withdraw(T0 + 10, 2, &[1]);
    let at = bad.len() - 2 - 4 - 2; // the withdrawn length, before the prefix (4 bytes) and the attributes length
    bad[at..at + 2].copy_from_slice(&200u16.to_be_bytes());
    let updates = src("updates", &[announce(T0 + 5, 1, &[1], 100), bad, announce(T0 + 20, 1, &[2], 100)]);
    let mut r = Replay::new();
    r.apply(&src("rib", &[pit(T0, &[1, 2]), rib(T0, 1, &[(0, 100), (1, 100)])]))
        .unwrap();
    r.apply(&updates).unwrap();
    let rep = r.report();
    assert_eq!((rep.damaged_records, rep.damaged.len(), rep.announcements), (1, 1, 2));
    let d = &rep.damaged[0];
    assert_eq!(
        (d.file.as_str(), d.record, d.time, d.peer),
        ("updates", Some(1), T0 + 10, Some(addr(2)))
    );
    assert_eq!(r.uncertain(), [(Some(addr(2)), T0 + 10)]);
    // Bytes that frame as no record: every peer is uncertain.
    let garbage = [announce(T0 + 30, 1, &[3], 100), vec![0xff; 40], announce(T0 + 40, 1, &[4], 100)];
    r.apply(&src("updates2", &garbage)).unwrap();
    assert_eq!(r.uncertain(), [(None, T0 + 30), (Some(addr(2)), T0 + 10)]);
    assert!(r.report().damaged[1].peer.is_none());
    // A RIB listing peer 1 only: peer 2 keeps both uncertainties' earliest.
    r.apply(&src("rib2", &[pit(T1, &[1]), rib(T1, 1, &[(0, 100)])])).unwrap();
    assert_eq!(r.uncertain(), [(Some(addr(2)), T0 + 10)]);
    r.apply(&src("rib3", &[pit(T1 + 7200, &[1, 2]), rib(T1 + 7200, 1, &[(0, 100)])]))
        .unwrap();
    assert_eq!(r.uncertain(), []);
}

#[test]
fn updates_given_before_the_first_base_are_undone_before_its_window_for_every_peer() {
    let updates = src(
        "updates",
        &[
            state(T0 - 100, 2, 6, 1),
            announce(T0 - 61, 1, &[3], 300),
            // Peer 3 is not in the RIB's table: its early route goes too,
            // its route inside the window stays.
            announce(T0 - 61, 3, &[5], 500),
            announce(T0 - 30, 3, &[6], 600),
        ],
    );
    let base = src(
        "rib",
        &[pit(T0, &[1, 2]), rib(T0, 1, &[(0, 100), (1, 100)]), rib(T0, 2, &[(1, 200)])],
    );
    let (r, snap) = replayed(&[updates, base]);
    assert_eq!(pairs(&snap), [row(1, 100, 2), row(2, 200, 1), row(6, 600, 1)]);
    let rep = r.report();
    assert_eq!((rep.before_base, rep.announcements, rep.sessions_down), (2, 3, 1));
    assert!(rep.bases[0].missing_peers.is_empty() && rep.bases[0].kept_down.is_empty());
}
