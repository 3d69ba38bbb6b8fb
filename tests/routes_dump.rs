//! The bgpdump writer (`dump/bgpdump.rs`) walks records to prefixes itself:
//! it must print what `bgpdump -m` prints, which differs from the routes
//! `routes::routes_of` gives (an announcement whose attributes are
//! treat-as-withdraw is still an `A` line; a RIB entry naming a peer the
//! table lacks, or a RIB record without a table, prints nothing; multicast
//! RIB records print nothing). This differential test holds the two walks
//! together where they must agree: per record, the prefixes of the `A` and
//! `W` lines are those of the announced and withdrawn routes, in order, on
//! every update file of the shared corpus and on generated updates.

mod common;

use mrtsnap::dump::BgpdumpWriter;
use mrtsnap::pipeline::for_each_record;
use mrtsnap::routes::{routes_of, RouteKind};
use mrtsnap::synth::{write_updates, UpdatesOptions};
use mrtsnap::Report;
use mrtsnap::Source;

/// `(record index, prefix)` of each update route, in order.
type Walked = Vec<(u64, String)>;

/// The update routes of `src` as the bgpdump writer prints them and as
/// `routes_of` gives them.
fn both(src: &Source) -> (Walked, Walked) {
    let (mut lines, mut routes) = (Vec::new(), Vec::new());
    let mut w = BgpdumpWriter::new();
    let mut report = Report::default();
    for batch in src.batches(1 << 20) {
        let _ = for_each_record(&batch, &mut report, false, |raw, rec, peers| {
            let mut text = Vec::new();
            w.write_record(raw, rec, peers, &mut text);
            for line in String::from_utf8_lossy(&text).lines() {
                let f: Vec<&str> = line.split('|').collect();
                // The BGP type of 1999-2000 prints the peer's address in
                // place of a withdrawn prefix's: not comparable.
                if f.first() == Some(&"BGP") {
                    return;
                }
                if matches!(f.get(2), Some(&"A") | Some(&"W")) {
                    lines.push((raw.index, f.get(5).copied().unwrap_or("").to_string()));
                }
            }
            for r in routes_of(raw, rec, peers).filter(|r| r.kind != RouteKind::RibEntry) {
                routes.push((raw.index, r.prefix.to_string()));
            }
        });
    }
    (lines, routes)
}

fn check(name: &str, src: &Source) -> usize {
    let (lines, routes) = both(src);
    if let Some(i) = (0..lines.len().max(routes.len())).find(|&i| lines.get(i) != routes.get(i)) {
        panic!(
            "{name}: at update route {i}: dump {:?}, routes_of {:?}",
            lines.get(i),
            routes.get(i)
        );
    }
    lines.len()
}

#[test]
fn dump_prefixes_match_routes_on_generated_updates() {
    let mut data = Vec::new();
    write_updates(&UpdatesOptions::small(), &mut data).expect("generate");
    assert!(check("generated", &Source::from_bytes("generated", data)) > 1000);
}

#[test]
fn dump_prefixes_match_routes_on_corpus_files() {
    let Some(dir) = common::corpus_dir() else { return };
    let mut total = 0;
    for row in common::manifest(&dir) {
        let data = common::read_corpus_file(&dir, &row.path);
        total += check(&row.path, &Source::from_bytes(&row.path, data));
    }
    assert!(total > 100_000, "{total} update routes");
}
