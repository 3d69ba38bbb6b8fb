//! The "start here" examples of mrtsnap's crate documentation, as a program
//! of a crate that depends on mrtsnap with `default-features = false`. Run
//! from the repository root (the examples read `corpus/`).

use mrtsnap::{Event, FsmState, Result, RouteKind, Snapshot, SnapshotOptions, Source};
use rayon::prelude::*;

fn updates() -> Result<()> {
    let src = Source::open("corpus/updates.synth.small.mrt.gz")?;
    let (mut announced, mut withdrawn, mut up) = (0, 0, Vec::new());
    let mut events = src.events();
    for event in &mut events {
        match event? {
            Event::Route(r) if r.kind == RouteKind::Announce => announced += 1,
            Event::Route(r) if r.kind == RouteKind::Withdraw => withdrawn += 1,
            Event::StateChange(s) if s.new == FsmState::Established => up.push(s.peer.to_string()),
            _ => {}
        }
    }
    assert_eq!((announced, withdrawn), (4343, 1881));
    assert_eq!(up, ["195.66.224.2 AS9260"]);
    assert_eq!(events.report().total_errors(), 0);
    let first = src.routes().next().expect("a route")?;
    assert_eq!(first.prefix.to_string(), "61.190.0.0/20");
    assert_eq!(first.as_path().to_string(), "29152 6461 4702");
    assert_eq!(first.origin_as().to_string(), "4702");
    println!("updates: {announced} announced, {withdrawn} withdrawn; first: {first}");
    Ok(())
}

fn snapshot() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let src = Source::open("corpus/rib.synth.small.mrt.bz2")?;
    let snap = Snapshot::build(&src, &SnapshotOptions::default())?;
    assert_eq!(snap.len(), 3871);
    let rows: Vec<_> = snap.lookup("97.55.64.0/18".parse()?).map(|r| (r.origin.to_string(), r.peers())).collect();
    assert_eq!(rows, [("53757".to_string(), 4)]);
    let covering: Vec<String> = snap.covering("97.55.100.1".parse()?).iter().map(|r| r.prefix.to_string()).collect();
    assert_eq!(covering, ["97.55.64.0/18", "97.55.96.0/20"]);
    let best: Vec<String> = snap.longest_match("97.55.100.1".parse()?).map(|r| r.origin.to_string()).collect();
    assert_eq!(best, ["353012"]);
    println!("snapshot: {} rows; 97.55.100.1 -> {covering:?}, origin {best:?}", snap.len());
    Ok(())
}

fn many_files() -> Result<()> {
    let files = ["corpus/rib.synth.small.mrt.bz2", "corpus/updates.synth.small.mrt.gz"];
    let routes: Vec<usize> = files
        .par_iter()
        .map(|f| Source::open(f)?.routes().try_fold(0, |n, r| r.map(|_| n + 1)))
        .collect::<Result<_>>()?;
    assert_eq!(routes[1], 4343 + 1881);
    let (counts, _) = Source::open(files[1])?.par_map_events(Default::default(), |events| events.len())?;
    assert_eq!(counts.iter().sum::<usize>(), 4343 + 1881 + 5);
    println!("many files: {routes:?} routes");
    Ok(())
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    updates()?;
    snapshot()?;
    many_files()?;
    Ok(())
}
