//! The iterators over routes and events: the same routes as the callback
//! walk, early stops, strict mode, parallel decoding, non-MRT inputs, and
//! every state change and route a `bgpdump -m` line is printed for.

mod common;

use mrtsnap::bgp::AsPathBuf;
use mrtsnap::dump::BgpdumpWriter;
use mrtsnap::routes::for_each_route;
use mrtsnap::{ErrorKind, Event, FsmState, OwnedRoute, RouteKind, RouteOptions, Source};
use std::path::Path;

const UPDATES: &str = "corpus/updates.synth.small.mrt.gz";
const RIB: &str = "corpus/rib.synth.small.mrt.bz2";

fn open(p: &str) -> Source {
    Source::open(Path::new(env!("CARGO_MANIFEST_DIR")).join(p)).expect("open")
}

/// One line per route, from the borrowed view.
fn line(r: &mrtsnap::Route<'_>) -> String {
    let mut p = AsPathBuf::new();
    format!(
        "{} {:?} {} {} {:?} {} {:?} {:?}",
        r.record,
        r.kind,
        r.prefix,
        r.peer,
        r.path_id,
        r.as_path(&mut p),
        r.next_hop(),
        r.origin_attr()
    )
}

fn owned_line(r: &OwnedRoute) -> String {
    format!(
        "{} {:?} {} {} {:?} {} {:?} {:?}",
        r.record,
        r.kind,
        r.prefix,
        r.peer,
        r.path_id,
        r.as_path(),
        r.next_hop(),
        r.origin_attr()
    )
}

#[test]
fn routes_iterator_gives_what_the_callback_gives() {
    for file in [UPDATES, RIB] {
        let src = open(file);
        let mut want = Vec::new();
        let report = for_each_route(&src, RouteOptions::default(), |r| want.push(line(r))).expect("walk");
        let mut routes = src.routes();
        let got: Vec<String> = routes.by_ref().map(|r| owned_line(&r.expect("route"))).collect();
        assert_eq!(got.len(), want.len(), "{file}");
        assert_eq!(got, want, "{file}");
        assert_eq!(routes.report().total_records(), report.total_records());
        assert_eq!(routes.report().total_errors(), 0);
        // The borrowed route's own copy is the same route.
        let mut copies = Vec::new();
        for_each_route(&src, RouteOptions::default(), |r| copies.push(owned_line(&r.to_owned()))).expect("walk");
        assert_eq!(copies, want, "{file}");
    }
}

#[test]
fn updates_counts_and_withdrawals_without_attributes() {
    let src = open(UPDATES);
    let (mut announced, mut withdrawn) = (0, 0);
    for r in src.routes() {
        let r = r.expect("route");
        match r.kind {
            RouteKind::Announce => {
                announced += 1;
                assert!(r.attrs().as_path.is_some(), "{r}");
            }
            RouteKind::Withdraw => {
                withdrawn += 1;
                let a = r.attrs();
                assert!(a.raw.is_empty() && a.as_path.is_none() && a.origin.is_none(), "{r}");
                assert_eq!(r.next_hop(), None);
                assert!(!r.to_string().contains(" path "), "{r}");
            }
            RouteKind::RibEntry => panic!("a RIB entry in an updates file: {r}"),
        }
    }
    // The counts `dump --format jsonl` gives (announce and withdraw lines).
    assert_eq!((announced, withdrawn), (4343, 1881));
}

#[test]
fn events_carry_every_state_change_and_peer_table() {
    let src = open(UPDATES);
    let mut states = Vec::new();
    let mut routes = 0;
    for e in src.events() {
        match e.expect("event") {
            Event::StateChange(s) => states.push((s.record, s.peer.to_string(), s.old, s.new)),
            Event::Route(_) => routes += 1,
            Event::PeerTable(_) => panic!("a peer table in an updates file"),
            _ => unreachable!("no other events"),
        }
    }
    use FsmState::*;
    let peer = "195.66.224.2 AS9260".to_string();
    assert_eq!(
        states,
        [
            (2, peer.clone(), Idle, Connect),
            (11, peer.clone(), Connect, Active),
            (12, peer.clone(), Active, OpenSent),
            (17, peer.clone(), OpenSent, OpenConfirm),
            (30, peer, OpenConfirm, Established),
        ]
    );
    assert_eq!(routes, 4343 + 1881);

    let rib = open(RIB);
    let mut tables = rib.events().filter_map(Result::ok).filter_map(|e| match e {
        Event::PeerTable(t) => Some(t),
        _ => None,
    });
    let table = tables.next().expect("a peer table");
    assert!(tables.next().is_none());
    assert!(!table.peers.is_empty());
}

/// Every STATE and route line `bgpdump -m` prints for a corpus file has its
/// event: the counts agree with the dump writer's lines.
#[test]
fn events_match_the_dump_lines_on_the_corpus() {
    let Some(dir) = common::corpus_dir() else { return };
    for rel in [
        "RIPE-NCC+bgpdump/test_data/updates.20070211.0141.gz",
        "RIPE-NCC+bgpdump/test_data/updates.20160811.1600.gz",
        "CAIDA+libbgpstream/test/ris.rrc06.updates.1427846400.gz",
    ] {
        let path = dir.join(rel);
        if !path.is_file() {
            eprintln!("SKIPPED: {} absent", path.display());
            continue;
        }
        let src = Source::open(&path).expect("open");
        let mut dump = Vec::new();
        let mut w = BgpdumpWriter::default();
        for batch in src.batches(1 << 20) {
            mrtsnap::pipeline::for_each_record(&batch, &mut Default::default(), false, |raw, rec, peers| {
                let _ = w.write_record(raw, rec, peers, &mut dump);
            })
            .expect("walk");
        }
        let text = String::from_utf8(dump).expect("utf-8");
        let count = |kind: &str| text.lines().filter(|l| l.split('|').nth(2) == Some(kind)).count();
        let (mut states, mut announced, mut withdrawn) = (0, 0, 0);
        for e in src.events() {
            match e.expect("event") {
                Event::StateChange(_) => states += 1,
                Event::Route(r) if r.kind == RouteKind::Announce => announced += 1,
                Event::Route(r) if r.kind == RouteKind::Withdraw => withdrawn += 1,
                _ => {}
            }
        }
        assert_eq!((states, announced, withdrawn), (count("STATE"), count("A"), count("W")), "{rel}");
    }
}

#[test]
fn iterators_stop_early_and_read_again() {
    let src = open(RIB);
    let first: Vec<OwnedRoute> = src.routes().take(3).collect::<Result<_, _>>().expect("routes");
    assert_eq!(first.len(), 3);
    // Dropping a half-read iterator stops its decompressing thread; the
    // source reads again from its start.
    let again: Vec<OwnedRoute> = src.routes().take(3).collect::<Result<_, _>>().expect("routes");
    assert_eq!(
        first.iter().map(owned_line).collect::<Vec<_>>(),
        again.iter().map(owned_line).collect::<Vec<_>>()
    );
    let n = src.routes().count();
    assert!(n > 1000, "{n}");
    // Owned routes outlive the iterator and cross threads.
    let kept = std::thread::spawn(move || first.into_iter().map(|r| r.prefix).collect::<Vec<_>>())
        .join()
        .unwrap();
    assert_eq!(kept.len(), 3);
}

#[test]
fn parallel_form_gives_the_sequential_counts() {
    for file in [UPDATES, RIB] {
        let src = open(file);
        let want = src.routes().count();
        for threads in [1, 2, 4] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let (counts, report) = pool
                .install(|| {
                    src.par_map_events(
                        RouteOptions {
                            batch_size: 1 << 16,
                            ..Default::default()
                        },
                        |events| events.iter().filter(|e| matches!(e, Event::Route(_))).count(),
                    )
                })
                .expect("parallel");
            assert_eq!(counts.iter().sum::<usize>(), want, "{file} {threads} threads");
            assert_eq!(report.total_errors(), 0);
        }
    }
}

#[test]
fn non_mrt_input_is_an_error_and_empty_input_is_empty() {
    for bytes in [b"these are not the routes you are looking for\n".to_vec(), vec![0; 1 << 16]] {
        let src = Source::from_bytes("notes.txt", bytes);
        let items: Vec<_> = src.routes().collect();
        assert_eq!(items.len(), 1);
        let e = items[0].as_ref().expect_err("not MRT");
        assert!(matches!(e.kind(), ErrorKind::NotMrt), "{e}");
        let e = src.par_map_events(RouteOptions::default(), |_| ()).expect_err("not MRT");
        assert!(matches!(e.kind(), ErrorKind::NotMrt), "{e}");
    }
    let empty = Source::from_bytes("empty", Vec::new());
    assert_eq!(empty.routes().count(), 0);
    assert_eq!(empty.events().count(), 0);
}

#[test]
fn strict_mode_yields_the_first_damage_and_ends() {
    let mut data = Vec::new();
    open(RIB).batches(1 << 20).for_each(|b| data.extend_from_slice(&b.data));
    // Damage one record past the peer table: a length that runs far past
    // the end of its record.
    let cut = data.len() / 2;
    let mut damaged = data[..cut].to_vec();
    damaged.extend_from_slice(&[0xde; 7]);
    damaged.extend_from_slice(&data[cut..]);
    let src = Source::from_bytes("damaged.mrt", damaged);
    let lenient: Vec<_> = src.routes().collect();
    assert!(lenient.iter().all(Result::is_ok));
    let mut routes = mrtsnap::Routes::new(
        &src,
        RouteOptions {
            strict: true,
            ..Default::default()
        },
    );
    let mut n = 0;
    let err = loop {
        match routes.next().expect("an error before the end") {
            Ok(_) => n += 1,
            Err(e) => break e,
        }
    };
    assert!(routes.next().is_none());
    assert!(n < lenient.len(), "{n}");
    assert!(err.offset() >= cut as u64 - 4096 && err.offset() <= cut as u64 + 4096, "{err}");
}

/// Iterating inside a rayon job (many files in parallel) must not starve the
/// decompressors, which use the same pool: a pool of one thread included.
#[test]
fn files_in_parallel_do_not_starve_their_decompressors() {
    use rayon::prelude::*;
    let files = [RIB, UPDATES, RIB, RIB];
    let want: Vec<usize> = files.iter().map(|f| open(f).routes().count()).collect();
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let got: Vec<usize> = pool.install(|| files.par_iter().map(|f| open(f).routes().count()).collect());
        assert_eq!(got, want, "{threads} threads");
    }
}
