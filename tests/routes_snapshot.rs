//! The snapshot's own record-to-origin walk (`snapshot/builder.rs`: entries
//! located in one pass, origins decided by the batched kernel, the exact
//! walk for the rest) is a measured fast path kept apart from the general
//! walk every other reader uses (`routes::routes_of`, then the `bgp` origin
//! rule). This differential test holds them together: the prefix-origin
//! pairs and their peer counts of `Snapshot::build` equal those computed
//! from `routes_of` and `Route::origin_as`, on the RIB files of the shared
//! corpus and on generated RIBs.

mod common;

use mrtsnap::bgp::{Origin, Prefix};
use mrtsnap::mrt::{Bgp4mpBody, Record};
use mrtsnap::pipeline::for_each_record;
use mrtsnap::routes::{routes_of, RouteKind};
use mrtsnap::snapshot::{Snapshot, SnapshotOptions};
use mrtsnap::synth::{write_rib, RibOptions};
use mrtsnap::Report;
use mrtsnap::Source;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

type Pairs = BTreeMap<(Prefix, Origin), u32>;

/// A peer as the snapshot tells peers apart: by address and AS, or by its
/// index when the record names no address.
type PeerKey = (IpAddr, u32, Option<u16>);

/// The pairs of `src` through the general walk: every RIB entry of a
/// unicast RIB record (the snapshot leaves multicast out by default), its
/// origin by the `bgp` rule, distinct peers counted per pair.
fn pairs_from_routes(src: &Source) -> Pairs {
    let mut seen: BTreeMap<(Prefix, Origin), BTreeSet<PeerKey>> = BTreeMap::new();
    let mut report = Report::default();
    for batch in src.batches(1 << 20) {
        let walked = for_each_record(&batch, &mut report, false, |raw, rec, peers| {
            let unicast = match rec {
                Record::Rib(r) => r.safi == 1,
                Record::Bgp4mp(m) => matches!(&m.body, Bgp4mpBody::Entry(e) if e.safi == 1),
                Record::TableDump(_) => true,
                _ => false,
            };
            if !unicast {
                return;
            }
            for r in routes_of(raw, rec, peers).filter(|r| r.kind == RouteKind::RibEntry) {
                // A peer the table lacks is known by its index alone.
                let known = r.peer.index.is_none_or(|i| peers.is_some_and(|t| t.get(i).is_some()));
                let key = (r.peer.addr, r.peer.asn, if known { None } else { r.peer.index });
                seen.entry((r.prefix, Origin::from(r.origin_as()))).or_default().insert(key);
            }
        });
        walked.expect("not strict: damage is counted, not returned");
    }
    seen.into_iter().map(|(k, peers)| (k, peers.len() as u32)).collect()
}

fn pairs_from_snapshot(src: &Source) -> Pairs {
    let snap = Snapshot::build(src, &SnapshotOptions::default()).expect("build");
    snap.pairs().map(|(p, o, n)| ((p, o), n)).collect()
}

fn check(name: &str, src: &Source) {
    let want = pairs_from_routes(src);
    let got = pairs_from_snapshot(src);
    assert!(!want.is_empty(), "{name}: no pairs");
    if got != want {
        let extra: Vec<_> = got.iter().filter(|(k, v)| want.get(k) != Some(v)).take(5).collect();
        let missing: Vec<_> = want.iter().filter(|(k, v)| got.get(k) != Some(v)).take(5).collect();
        panic!("{name}: snapshot and routes_of differ; snapshot only {extra:?}; routes only {missing:?}");
    }
}

#[test]
fn snapshot_pairs_match_routes_on_generated_ribs() {
    let mut cases = vec![("small", RibOptions::small())];
    let mut o = RibOptions::small();
    o.add_path = true;
    o.seed = 5;
    cases.push(("small add-path", o));
    // Many AS_SETs, confederations and empty paths: the exact walk's cases.
    let mut o = RibOptions::small();
    o.seed = 9;
    o.as_set_fraction = 0.2;
    o.confed_fraction = 0.1;
    o.empty_path_fraction = 0.05;
    cases.push(("small odd paths", o));
    // About one entry per record (the snapshot reads a record's only entry
    // in place), with the exact walk's cases, add-path and not.
    for add_path in [false, true] {
        let mut o = RibOptions::jinx_like().scale(0.01);
        o.add_path = add_path;
        o.as_set_fraction = 0.1;
        o.confed_fraction = 0.1;
        o.empty_path_fraction = 0.05;
        cases.push((if add_path { "jinx-like add-path" } else { "jinx-like" }, o));
    }
    for (name, opts) in cases {
        let mut data = Vec::new();
        write_rib(&opts, &mut data).expect("generate");
        check(name, &Source::from_bytes(name, data));
    }
}

#[test]
fn snapshot_pairs_match_routes_on_corpus_ribs() {
    let Some(dir) = common::corpus_dir() else { return };
    let expected = dir.join("expected/pfx-origin");
    let mut n = 0;
    for row in common::manifest(&dir) {
        if !expected.join(format!("{}.tsv.gz", row.path)).is_file() {
            continue;
        }
        let data = common::read_corpus_file(&dir, &row.path);
        check(&row.path, &Source::from_bytes(&row.path, data));
        n += 1;
    }
    assert!(n >= 10, "only {n} corpus RIBs");
}

/// The record at the front of `data`: its header and body.
fn split_record(data: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let len = u32::from_be_bytes(data.get(8..12)?.try_into().ok()?) as usize;
    let end = 12 + len;
    Some((data.get(..12)?, data.get(12..end)?, data.get(end..)?))
}

/// A TABLE_DUMP_V2 RIB record (no ADD-PATH) cut to its first entry, when
/// it has more than one, given to a peer of the `peers` in the table that
/// the record does not name (so that the cut record adds a route).
fn first_entry_only(header: &[u8], body: &[u8], peers: u16) -> Option<Vec<u8>> {
    let bits = usize::from(*body.get(4)?);
    let at = 5 + bits.div_ceil(8);
    let count = u16::from_be_bytes(body.get(at..at + 2)?.try_into().ok()?);
    if count < 2 {
        return None;
    }
    let mut named = Vec::new();
    let mut e = at + 2;
    for _ in 0..count {
        named.push(u16::from_be_bytes(body.get(e..e + 2)?.try_into().ok()?));
        e += 8 + usize::from(u16::from_be_bytes(body.get(e + 6..e + 8)?.try_into().ok()?));
    }
    let other = (0..peers).find(|i| !named.contains(i))?;
    let attr_len = usize::from(u16::from_be_bytes(body.get(at + 8..at + 10)?.try_into().ok()?));
    let mut cut = body.get(..at + 10 + attr_len)?.to_vec();
    cut[at..at + 2].copy_from_slice(&1u16.to_be_bytes());
    cut[at + 2..at + 4].copy_from_slice(&other.to_be_bytes());
    let mut out = header.to_vec();
    out[8..12].copy_from_slice(&(cut.len() as u32).to_be_bytes());
    out.extend(cut);
    Some(out)
}

/// The number of peers of a PEER_INDEX_TABLE body.
fn table_peers(body: &[u8]) -> Option<u16> {
    let name = usize::from(u16::from_be_bytes(body.get(4..6)?.try_into().ok()?));
    Some(u16::from_be_bytes(body.get(6 + name..8 + name)?.try_into().ok()?))
}

/// A prefix in several records in a row (records repeated; a record of
/// many entries next to one of its first entry alone, in both orders):
/// the snapshot joins them as the general walk does, whether a record's
/// only entry or the routes collected per prefix come first.
#[test]
fn snapshot_pairs_match_routes_with_a_prefix_in_consecutive_records() {
    for (name, opts) in [("small", RibOptions::small()), ("jinx-like", RibOptions::jinx_like().scale(0.01))] {
        let mut data = Vec::new();
        write_rib(&opts, &mut data).expect("generate");
        let mut out = Vec::new();
        let (mut rest, mut k, mut cut, mut peers) = (&data[..], 0usize, 0usize, 0u16);
        while let Some((header, body, tail)) = split_record(rest) {
            let record = &rest[..12 + body.len()];
            if header[4..8] == [0, 13, 0, 1] {
                peers = table_peers(body).expect("peer table");
            }
            let rib = header[4..8] == [0, 13, 0, 2] || header[4..8] == [0, 13, 0, 4];
            match (rib, first_entry_only(header, body, peers)) {
                (true, Some(one)) if k % 2 == 0 => {
                    out.extend_from_slice(record);
                    out.extend(one);
                    cut += 1;
                }
                (true, Some(one)) => {
                    out.extend(one);
                    out.extend_from_slice(record);
                    cut += 1;
                }
                (true, None) => {
                    out.extend_from_slice(record);
                    out.extend_from_slice(record);
                }
                (false, _) => out.extend_from_slice(record),
            }
            k += 1;
            rest = tail;
        }
        assert!(rest.is_empty(), "{name}: generated records frame exactly");
        if name == "small" {
            assert!(cut > 100, "{name}: only {cut} records of many entries");
        }
        check(name, &Source::from_bytes(name, out));
    }
}
