//! Records per second for each record kind on one thread: TABLE_DUMP_V2 RIB
//! records (IPv4, IPv6) walked down to every entry's origin, and BGP4MP
//! updates walked down to every prefix. Inputs come from the generator; each
//! benchmark checks its answer once before timing.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mrtsnap::bgp::{Message, OriginRef};
use mrtsnap::mrt::{Bgp4mpBody, Record, Records};
use mrtsnap::synth::{write_rib, write_updates, RibOptions, UpdatesOptions};
use std::hint::black_box;

/// Split a RIB file into its IPv4 and IPv6 RIB records (each run keeping the
/// peer table first), so each family can be timed alone.
fn rib_by_family() -> (Vec<u8>, Vec<u8>) {
    let mut o = RibOptions::default().scale(0.05);
    o.seed = 42;
    let mut all = Vec::new();
    write_rib(&o, &mut all).unwrap();
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    let mut pos = 0usize;
    for r in Records::from_bytes(&all) {
        let r = r.unwrap();
        let end = (r.body_offset as usize) + r.body.len();
        let bytes = &all[pos..end];
        pos = end;
        match r.header.subtype {
            1 => {
                v4.extend_from_slice(bytes);
                v6.extend_from_slice(bytes);
            }
            2 => v4.extend_from_slice(bytes),
            _ => v6.extend_from_slice(bytes),
        }
    }
    (v4, v6)
}

/// Decode every RIB entry's AS_PATH origin; returns (records, entries, origin sum).
fn walk_rib(buf: &[u8]) -> (u64, u64, u64) {
    let (mut records, mut entries, mut sum) = (0u64, 0u64, 0u64);
    for r in Records::from_bytes(buf) {
        let Ok(r) = r else { continue };
        records += 1;
        if let Ok(Record::Rib(rib)) = Record::decode(&r) {
            for e in rib.entries().flatten() {
                entries += 1;
                if let Ok(a) = e.parse_attrs(rib.afi) {
                    if let Some(OriginRef::Asn(o)) = a.as_path.map(|p| p.origin()) {
                        sum = sum.wrapping_add(u64::from(o));
                    }
                }
            }
        }
    }
    (records, entries, sum)
}

/// Decode every update down to its prefixes; returns (records, prefixes).
fn walk_updates(buf: &[u8]) -> (u64, u64) {
    let (mut records, mut prefixes) = (0u64, 0u64);
    for r in Records::from_bytes(buf) {
        let Ok(r) = r else { continue };
        records += 1;
        if let Ok(Record::Bgp4mp(m)) = Record::decode(&r) {
            if let Bgp4mpBody::Message {
                message: Message::Update(u),
                ..
            } = m.body
            {
                prefixes += u.nlri.iter().count() as u64 + u.withdrawn.iter().count() as u64;
                if let Some(mp) = u.attrs.mp_reach {
                    prefixes += mp.prefixes(false).iter().count() as u64;
                }
                if let Some(mp) = u.attrs.mp_unreach {
                    prefixes += mp.prefixes(false).iter().count() as u64;
                }
            }
        }
    }
    (records, prefixes)
}

fn decode(c: &mut Criterion) {
    let (v4, v6) = rib_by_family();
    let mut updates = Vec::new();
    write_updates(&UpdatesOptions::default(), &mut updates).unwrap();

    let mut g = c.benchmark_group("decode");
    for (name, buf) in [("rib_ipv4", &v4), ("rib_ipv6", &v6)] {
        let (records, entries, _) = walk_rib(buf);
        // Check the answer once: every record framed, and entries decoded.
        assert!(records > 1000 && entries > records, "{name}: {records} records, {entries} entries");
        g.throughput(Throughput::Elements(records));
        g.bench_with_input(BenchmarkId::new(name, "records"), buf, |b, buf| b.iter(|| walk_rib(black_box(buf))));
        g.throughput(Throughput::Bytes(buf.len() as u64));
        g.bench_with_input(BenchmarkId::new(name, "bytes"), buf, |b, buf| b.iter(|| walk_rib(black_box(buf))));
    }
    let (records, prefixes) = walk_updates(&updates);
    assert_eq!(records, UpdatesOptions::default().messages as u64);
    assert!(prefixes > records);
    g.throughput(Throughput::Elements(records));
    g.bench_function(BenchmarkId::new("bgp4mp_update", "records"), |b| {
        b.iter(|| walk_updates(black_box(&updates)))
    });
    g.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
