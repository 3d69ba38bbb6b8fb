//! Tests for the synthetic generators, using an independent minimal decoder.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

fn fnv1a(data: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// One MRT record: (timestamp, type, subtype, body).
struct Rec<'a> {
    ts: u32,
    typ: u16,
    sub: u16,
    body: &'a [u8],
}

/// Walks 12-byte MRT headers; panics unless the lengths tile the input.
fn records(data: &[u8]) -> Vec<Rec<'_>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        assert!(pos + 12 <= data.len(), "truncated header at {pos}");
        let len = be32(&data[pos + 8..]) as usize;
        let end = pos + 12 + len;
        assert!(end <= data.len(), "record at {pos} overruns the file");
        out.push(Rec {
            ts: be32(&data[pos..]),
            typ: be16(&data[pos + 4..]),
            sub: be16(&data[pos + 6..]),
            body: &data[pos + 12..end],
        });
        pos = end;
    }
    assert_eq!(pos, data.len());
    out
}

fn gen_rib(opts: &RibOptions) -> (Vec<u8>, RibSummary) {
    let mut buf = Vec::new();
    let s = write_rib(opts, &mut buf).expect("generation");
    assert_eq!(s.bytes as usize, buf.len());
    (buf, s)
}

fn tiny() -> RibOptions {
    RibOptions {
        add_path: false,
        ..RibOptions::small()
    }
    .scale(0.25)
}

#[derive(Debug)]
struct PeerEntry {
    typ: u8,
    bgp_id: u32,
    addr: IpAddr,
    asn: u32,
}

fn decode_peer_table(body: &[u8]) -> (Ipv4Addr, String, Vec<PeerEntry>) {
    let id = Ipv4Addr::from(be32(body));
    let vlen = usize::from(be16(&body[4..]));
    let view = String::from_utf8(body[6..6 + vlen].to_vec()).unwrap();
    let mut p = 6 + vlen;
    let n = usize::from(be16(&body[p..]));
    p += 2;
    let mut peers = Vec::new();
    for _ in 0..n {
        let typ = body[p];
        let bgp_id = be32(&body[p + 1..]);
        p += 5;
        let addr = if typ & 1 == 1 {
            let mut o = [0u8; 16];
            o.copy_from_slice(&body[p..p + 16]);
            p += 16;
            IpAddr::V6(Ipv6Addr::from(o))
        } else {
            let a = Ipv4Addr::from(be32(&body[p..]));
            p += 4;
            IpAddr::V4(a)
        };
        let asn = if typ & 2 == 2 {
            p += 4;
            be32(&body[p - 4..])
        } else {
            p += 2;
            u32::from(be16(&body[p - 2..]))
        };
        peers.push(PeerEntry { typ, bgp_id, addr, asn });
    }
    assert_eq!(p, body.len(), "trailing bytes in PEER_INDEX_TABLE");
    (id, view, peers)
}

/// Parses path attributes; returns (type code, flags, value) triples.
fn attributes(mut a: &[u8]) -> Vec<(u8, u8, &[u8])> {
    let mut out = Vec::new();
    while !a.is_empty() {
        let flags = a[0];
        let typ = a[1];
        let (len, hdr) = if flags & 0x10 != 0 {
            (usize::from(be16(&a[2..])), 4)
        } else {
            (usize::from(a[2]), 3)
        };
        if flags & 0x10 != 0 && typ != 2 {
            assert!(len > 255, "extended-length flag on a short attribute (type {typ})");
        }
        if len > 255 {
            assert_ne!(flags & 0x10, 0, "long attribute without the extended-length flag (type {typ})");
        }
        out.push((typ, flags, &a[hdr..hdr + len]));
        a = &a[hdr + len..];
    }
    out
}

/// Independent implementation of the origin rule over an AS_PATH value.
fn origin_of(v: &[u8], asn_size: usize) -> Origin {
    let mut segs: Vec<(u8, Vec<u32>)> = Vec::new();
    let mut p = 0;
    while p < v.len() {
        let t = v[p];
        let n = usize::from(v[p + 1]);
        p += 2;
        let mut asns = Vec::new();
        for _ in 0..n {
            asns.push(if asn_size == 4 { be32(&v[p..]) } else { u32::from(be16(&v[p..])) });
            p += asn_size;
        }
        assert!((1..=4).contains(&t), "segment type {t}");
        segs.push((t, asns));
    }
    assert_eq!(p, v.len());
    for (t, asns) in segs.iter().rev() {
        match t {
            2 if !asns.is_empty() => return Origin::Asn(*asns.last().unwrap()),
            1 if !asns.is_empty() => {
                let mut s = asns.clone();
                s.sort();
                return Origin::Set(s);
            }
            _ => {}
        }
    }
    Origin::None
}

/// Everything decoded from a RIB file.
struct DecodedRib {
    peers: Vec<PeerEntry>,
    truth: Vec<TruthRow>,
    entries: u64,
    /// (prefix, length) per record, in file order.
    prefixes: Vec<(IpAddr, u8)>,
    /// Number of (record, peer) pairs with two entries.
    double_paths: u64,
    path_lengths: Vec<usize>,
    community_counts: Vec<usize>,
    attr_seen: BTreeMap<u8, u64>,
    /// RIB records whose entries come in strictly ascending peer order.
    records_in_peer_order: u64,
}

/// Decodes a RIB written with `opts`, checking it has the forms `opts`
/// asks for (add-path subtypes, AS_PATH header, MP_REACH_NLRI form, entry
/// order).
fn decode_rib(data: &[u8], opts: &RibOptions) -> DecodedRib {
    let add_path = opts.add_path;
    let recs = records(data);
    assert!(!recs.is_empty());
    assert_eq!((recs[0].typ, recs[0].sub), (13, 1), "first record must be the PEER_INDEX_TABLE");
    let (_, _, peers) = decode_peer_table(recs[0].body);
    let mut pairs: BTreeMap<(IpAddr, u8, Origin), BTreeSet<u16>> = BTreeMap::new();
    let mut d = DecodedRib {
        peers,
        truth: Vec::new(),
        entries: 0,
        prefixes: Vec::new(),
        double_paths: 0,
        path_lengths: Vec::new(),
        community_counts: Vec::new(),
        attr_seen: BTreeMap::new(),
        records_in_peer_order: 0,
    };
    let (sub4, sub6) = if add_path { (8, 10) } else { (2, 4) };
    for (i, r) in recs[1..].iter().enumerate() {
        assert_eq!(r.typ, 13);
        assert!(r.sub == sub4 || r.sub == sub6, "subtype {}", r.sub);
        let b = r.body;
        assert_eq!(be32(b) as usize, i, "sequence number");
        let plen = b[4];
        let nb = usize::from(plen).div_ceil(8);
        let mut pos = 5 + nb;
        let prefix = if r.sub == sub4 {
            assert!(plen <= 32);
            let mut o = [0u8; 4];
            o[..nb].copy_from_slice(&b[5..5 + nb]);
            let a = u32::from_be_bytes(o);
            assert_eq!(a & !prefix::mask_v4(plen), 0, "host bits");
            IpAddr::V4(Ipv4Addr::from(a))
        } else {
            assert!(plen <= 128);
            let mut o = [0u8; 16];
            o[..nb].copy_from_slice(&b[5..5 + nb]);
            let a = u128::from_be_bytes(o);
            assert_eq!(a & !prefix::mask_v6(plen), 0, "host bits");
            IpAddr::V6(Ipv6Addr::from(a))
        };
        d.prefixes.push((prefix, plen));
        let count = be16(&b[pos..]);
        pos += 2;
        let mut order: Vec<(u32, u16)> = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let peer = be16(&b[pos..]);
            assert!(usize::from(peer) < d.peers.len());
            let otime = be32(&b[pos + 2..]);
            assert!(otime <= r.ts);
            order.push((otime, peer));
            pos += 6;
            if add_path {
                pos += 4;
            }
            let alen = usize::from(be16(&b[pos..]));
            pos += 2;
            let attrs = attributes(&b[pos..pos + alen]);
            pos += alen;
            d.entries += 1;
            let mut origin = None;
            let mut types = Vec::new();
            for &(t, flags, v) in &attrs {
                types.push(t);
                *d.attr_seen.entry(t).or_default() += 1;
                match t {
                    1 => assert!(v.len() == 1 && v[0] <= 2 && flags & 0xC0 == 0x40),
                    2 => {
                        assert_eq!(flags & 0x10 != 0, opts.extended_as_path || v.len() > 255, "AS_PATH header");
                        let o = origin_of(v, 4);
                        // Count path length of the AS_SEQUENCE parts.
                        let mut p = 0;
                        let mut n = 0;
                        while p < v.len() {
                            let c = usize::from(v[p + 1]);
                            if v[p] == 2 {
                                n += c;
                            }
                            p += 2 + 4 * c;
                        }
                        if n > 0 {
                            d.path_lengths.push(n);
                        }
                        origin = Some(o);
                    }
                    3 => {
                        assert!(prefix.is_ipv4());
                        assert_eq!(v.len(), 4);
                    }
                    4 => assert_eq!(v.len(), 4),
                    6 => assert!(v.is_empty()),
                    7 => assert_eq!(v.len(), 8, "AGGREGATOR must use the 4-byte form"),
                    8 => {
                        assert_eq!(v.len() % 4, 0);
                        d.community_counts.push(v.len() / 4);
                    }
                    14 => {
                        assert!(prefix.is_ipv6());
                        if opts.full_mp_reach {
                            assert_eq!((be16(v), v[2]), (2, 1), "AFI IPv6, SAFI unicast");
                            let nh = usize::from(v[3]);
                            assert!(nh == 16 || nh == 32);
                            assert_eq!(v[4 + nh], 0, "reserved byte");
                            assert_eq!(&v[5 + nh..], &b[4..5 + nb], "the NLRI is the record's prefix");
                        } else {
                            let nh = usize::from(v[0]);
                            assert!(nh == 16 || nh == 32);
                            assert_eq!(v.len(), 1 + nh, "abbreviated MP_REACH_NLRI");
                        }
                    }
                    32 => assert_eq!(v.len() % 12, 0),
                    other => panic!("unexpected attribute {other}"),
                }
            }
            if !types.contains(&8) {
                d.community_counts.push(0);
            }
            assert!(types.windows(2).all(|w| w[0] < w[1]), "attributes in type order: {types:?}");
            assert!(types.contains(&1) && types.contains(&2));
            assert_eq!(types.contains(&3), prefix.is_ipv4());
            assert_eq!(types.contains(&14), prefix.is_ipv6());
            pairs.entry((prefix, plen, origin.unwrap())).or_default().insert(peer);
        }
        assert_eq!(pos, b.len(), "record {i} has trailing bytes");
        match opts.entry_order {
            EntryOrder::PeerIndex => assert!(order.is_sorted_by_key(|e| e.1), "entries in peer order"),
            EntryOrder::NewestFirst => assert!(
                order.is_sorted_by(|a, b| a.0 > b.0 || (a.0 == b.0 && a.1 <= b.1)),
                "entries newest first, then in peer order: {order:?}"
            ),
        }
        let mut peers: Vec<u16> = order.iter().map(|e| e.1).collect();
        peers.sort_unstable();
        let distinct = {
            let mut p = peers.clone();
            p.dedup();
            p.len()
        };
        assert!(add_path || distinct == peers.len(), "duplicate peer without add-path");
        d.double_paths += (peers.len() - distinct) as u64;
        d.records_in_peer_order += u64::from(order.is_sorted_by(|a, b| a.1 < b.1));
    }
    d.truth = pairs
        .into_iter()
        .map(|((prefix, length, origin), peers)| TruthRow {
            prefix,
            length,
            origin,
            peers: peers.len() as u32,
        })
        .collect();
    // In the truth's own order (origins: an AS, a set, none).
    d.truth.sort();
    d
}

#[test]
fn rib_is_deterministic() {
    let opts = tiny();
    let (a, sa) = gen_rib(&opts);
    let (b, sb) = gen_rib(&opts);
    assert_eq!(fnv1a(&a), fnv1a(&b));
    assert_eq!(a, b);
    assert_eq!(sa, sb);
    let (c, _) = gen_rib(&RibOptions {
        seed: opts.seed + 1,
        ..opts.clone()
    });
    assert_ne!(fnv1a(&a), fnv1a(&c));
    // Independent of the rayon thread count.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let (d, _) = pool.install(|| gen_rib(&opts));
    assert_eq!(a, d);
}

/// Pins the exact bytes of a small configuration: any change to the
/// generator's output (intended or not) must update this value.
#[test]
fn rib_golden_hash() {
    let (a, s) = gen_rib(&tiny());
    assert_eq!((a.len(), s.entries), (GOLDEN_TINY_LEN, GOLDEN_TINY_ENTRIES));
    assert_eq!(fnv1a(&a), GOLDEN_TINY_FNV, "output of RibOptions::small().scale(0.25) changed");
}

const GOLDEN_TINY_LEN: usize = 331_055;
const GOLDEN_TINY_ENTRIES: u64 = 4_760;
const GOLDEN_TINY_FNV: u64 = 6_299_263_602_993_824_814;

/// Pins the exact bytes of `UpdatesOptions::small()`.
#[test]
fn updates_golden_hash() {
    let mut a = Vec::new();
    write_updates(&UpdatesOptions::small(), &mut a).unwrap();
    assert_eq!(
        (a.len(), fnv1a(&a)),
        (GOLDEN_UPD_LEN, GOLDEN_UPD_FNV),
        "output of UpdatesOptions::small() changed"
    );
}

const GOLDEN_UPD_LEN: usize = 231_947;
const GOLDEN_UPD_FNV: u64 = 1_886_192_459_128_574_071;

#[test]
fn rib_framing_and_peer_table() {
    let opts = tiny();
    let (data, s) = gen_rib(&opts);
    let recs = records(&data);
    assert_eq!(recs.len() as u64, s.records);
    assert_eq!(recs.len(), 1 + opts.ipv4_prefixes + opts.ipv6_prefixes);
    assert!(recs.iter().all(|r| r.ts == opts.timestamp));
    let (id, view, peers) = decode_peer_table(recs[0].body);
    assert_eq!(id, opts.collector_bgp_id);
    assert_eq!(view, opts.view_name);
    assert_eq!(peers.len(), opts.full_peers + opts.partial_peers);
    assert_eq!(peers.len(), s.peers);
    for p in &peers {
        assert_eq!(p.typ & !3, 0);
        assert_eq!(p.typ & 1 == 1, p.addr.is_ipv6());
        if p.asn > 0xFFFF {
            assert_eq!(p.typ & 2, 2, "4-byte ASN needs the AS4 bit");
        }
        assert!(p.asn != 0 && p.asn != 23456);
        assert_ne!(p.bgp_id, 0);
    }
    assert!(peers.iter().any(|p| p.addr.is_ipv4()) && peers.iter().any(|p| p.addr.is_ipv6()));
    assert!(peers.iter().any(|p| p.typ & 2 == 0) && peers.iter().any(|p| p.asn > 0xFFFF));
    let addrs: BTreeSet<IpAddr> = peers.iter().map(|p| p.addr).collect();
    assert_eq!(addrs.len(), peers.len());
}

#[test]
fn rib_truth_matches_decoded_file() {
    let opts = RibOptions::small();
    let (data, s) = gen_rib(&opts);
    let d = decode_rib(&data, &opts);
    assert_eq!(d.entries, s.entries);
    assert_eq!(d.truth, s.truth, "truth differs from what the file contains");
    assert!(s.truth.is_sorted());
    // Prefixes: unique and ascending within each family, IPv4 first.
    assert!(d.prefixes.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(d.prefixes.iter().filter(|p| p.0.is_ipv4()).count(), opts.ipv4_prefixes);
    // Every prefix has at least one truth row; MOAS, sets and None occur.
    let per_prefix: BTreeMap<(IpAddr, u8), usize> = s.truth.iter().fold(BTreeMap::new(), |mut m, t| {
        *m.entry((t.prefix, t.length)).or_default() += 1;
        m
    });
    assert_eq!(per_prefix.len(), opts.ipv4_prefixes + opts.ipv6_prefixes);
    let multi = per_prefix.values().filter(|&&n| n > 1).count();
    assert!(multi > 0, "expected some MOAS prefixes");
    assert!(s.truth.iter().any(|t| matches!(t.origin, Origin::Set(_))));
    assert!(s.truth.iter().any(|t| t.origin == Origin::None));
    // Peer counts: full peers carry ~99 %, so the average is high.
    let total: u64 = s.truth.iter().map(|t| u64::from(t.peers)).sum();
    assert!(total >= s.entries * 99 / 100 && total <= s.entries);
    // Realism of the paths and communities.
    let mean_len = d.path_lengths.iter().sum::<usize>() as f64 / d.path_lengths.len() as f64;
    assert!((3.8..=5.5).contains(&mean_len), "mean AS_SEQUENCE length {mean_len}");
    let zero = d.community_counts.iter().filter(|&&c| c == 0).count() as f64 / d.community_counts.len() as f64;
    let mean_comm = d.community_counts.iter().sum::<usize>() as f64 / d.community_counts.len() as f64;
    let max_comm = d.community_counts.iter().copied().max().unwrap_or(0);
    assert!((0.15..0.7).contains(&zero), "zero-community share {zero}");
    assert!((2.0..6.0).contains(&mean_comm), "mean communities {mean_comm}");
    assert!(max_comm >= 20);
    for t in [4u8, 6, 7, 32] {
        assert!(d.attr_seen.get(&t).copied().unwrap_or(0) > 0, "attribute {t} never generated");
    }
    // rib_truth agrees and the text form is well-formed.
    assert_eq!(rib_truth(&opts).unwrap(), s.truth);
    let mut text = Vec::new();
    write_truth(&s.truth, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert_eq!(text.lines().count(), s.truth.len());
    assert!(text.lines().all(|l| l.split('\t').count() == 3));
    assert!(text.contains("\t-\t1\n") || text.contains("\t-\t"));
    assert!(text.lines().any(|l| l.split('\t').nth(1).unwrap().starts_with('{')));
}

#[test]
fn add_path_rib() {
    let opts = RibOptions {
        add_path: true,
        ..RibOptions::small()
    };
    let (data, s) = gen_rib(&opts);
    let d = decode_rib(&data, &opts);
    assert_eq!(d.truth, s.truth);
    assert!(d.double_paths > 0, "some peers should send two paths");
    let plain = gen_rib(&RibOptions::small()).1;
    assert!(s.entries > plain.entries);
}

#[test]
fn prefix_length_histogram() {
    let opts = RibOptions {
        ipv4_prefixes: 60_000,
        ipv6_prefixes: 20_000,
        full_peers: 1,
        partial_peers: 0,
        ..RibOptions::default()
    };
    let (data, _) = gen_rib(&opts);
    let d = decode_rib(&data, &opts);
    let mut h4 = [0usize; 33];
    let mut h6 = [0usize; 129];
    for &(p, l) in &d.prefixes {
        if p.is_ipv4() {
            h4[usize::from(l)] += 1;
        } else {
            h6[usize::from(l)] += 1;
        }
    }
    let f4 = |l: usize| h4[l] as f64 / 60_000.0;
    assert!((0.45..0.60).contains(&f4(24)), "/24 share {}", f4(24));
    assert!(f4(22) > f4(23) && f4(23) > f4(20) && f4(20) > f4(21) && f4(21) > f4(19) && f4(19) > f4(16));
    assert!(h4[8..16].iter().sum::<usize>() > 0);
    assert_eq!(h4[..8].iter().sum::<usize>(), 0);
    let f6 = |l: usize| h6[l] as f64 / 20_000.0;
    assert!((0.40..0.58).contains(&f6(48)), "/48 share {}", f6(48));
    assert!(f6(32) > f6(44) && f6(44) > f6(40) && f6(40) > f6(36));
    assert!(h6[..19].iter().sum::<usize>() == 0 && h6[65..].iter().sum::<usize>() == 0);
}

#[test]
fn rib_scale_and_empty() {
    let s = RibOptions::default().scale(0.001);
    assert_eq!((s.ipv4_prefixes, s.ipv6_prefixes), (1000, 230));
    assert_eq!(RibOptions::default().scale(f64::NAN).ipv4_prefixes, 0);
    assert_eq!(RibOptions::default().scale(-1.0).ipv6_prefixes, 0);
    let (data, s) = gen_rib(&RibOptions::small().scale(0.0));
    assert_eq!(records(&data).len(), 1);
    assert!(s.truth.is_empty());
    // Partial-only peers still cover every prefix.
    let o = RibOptions {
        full_peers: 0,
        partial_peers: 2,
        partial_fraction: 0.0..=0.0,
        ..tiny()
    };
    let (data, s) = gen_rib(&o);
    let d = decode_rib(&data, &o);
    assert_eq!(d.prefixes.len(), o.ipv4_prefixes + o.ipv6_prefixes);
    assert_eq!(d.truth, s.truth);
}

#[test]
fn invalid_options_are_errors() {
    let bad = [
        RibOptions {
            full_peers: 0,
            partial_peers: 0,
            ..tiny()
        },
        RibOptions {
            partial_fraction: 0.6..=0.2,
            ..tiny()
        },
        RibOptions {
            partial_fraction: f64::NAN..=0.5,
            ..tiny()
        },
        RibOptions {
            moas_fraction: 1.5,
            ..tiny()
        },
        RibOptions {
            full_coverage: f64::NAN,
            ..tiny()
        },
        RibOptions {
            full_peers: MAX_PEERS,
            partial_peers: 1,
            ..tiny()
        },
        RibOptions {
            full_peers: usize::MAX,
            partial_peers: usize::MAX,
            ..tiny()
        },
        RibOptions {
            ipv4_prefixes: MAX_PREFIXES_PER_FAMILY + 1,
            ..tiny()
        },
        RibOptions {
            view_name: "x".repeat(70_000),
            ..tiny()
        },
        RibOptions { med_peers: 1.5, ..tiny() },
        RibOptions {
            transit_hop_fraction: 0.5,
            skip_tier1_fraction: 0.4,
            direct_fraction: 0.2,
            ..tiny()
        },
        RibOptions {
            communities: vec![(0, 0), (3, 0)],
            ..tiny()
        },
        RibOptions {
            communities: vec![(1, 5), (MAX_COMMUNITIES + 1, 1)],
            ..tiny()
        },
        RibOptions {
            shared_asn_peers: -0.1,
            ..tiny()
        },
    ];
    for o in bad {
        let e = write_rib(&o, std::io::sink()).unwrap_err();
        assert!(matches!(e, SynthError::InvalidOption { .. }));
        assert!(!e.to_string().is_empty());
    }
    let bad_u = [
        UpdatesOptions {
            peers: 0,
            ..UpdatesOptions::small()
        },
        UpdatesOptions {
            peers: MAX_UPDATE_PEERS + 1,
            ..UpdatesOptions::small()
        },
        UpdatesOptions {
            ipv6_fraction: -0.1,
            ..UpdatesOptions::small()
        },
        UpdatesOptions {
            flap_fraction: f64::INFINITY,
            ..UpdatesOptions::small()
        },
        UpdatesOptions {
            start_time: u32::MAX,
            duration_secs: 10,
            ..UpdatesOptions::small()
        },
    ];
    for o in bad_u {
        assert!(matches!(write_updates(&o, std::io::sink()), Err(SynthError::InvalidOption { .. })));
    }
    // Writer errors surface as SynthError::Io.
    struct Failing;
    impl std::io::Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    assert!(matches!(write_rib(&tiny(), Failing), Err(SynthError::Io(_))));
    assert!(matches!(write_updates(&UpdatesOptions::small(), Failing), Err(SynthError::Io(_))));
}

#[test]
fn truth_text_format() {
    let rows = vec![
        TruthRow {
            prefix: "2001:db8::".parse().unwrap(),
            length: 32,
            origin: Origin::None,
            peers: 1,
        },
        TruthRow {
            prefix: "10.0.0.0".parse().unwrap(),
            length: 8,
            origin: Origin::Set(vec![1, 65536]),
            peers: 2,
        },
        TruthRow {
            prefix: "10.0.0.0".parse().unwrap(),
            length: 8,
            origin: Origin::Asn(64496),
            peers: 3,
        },
    ];
    let mut out = Vec::new();
    write_truth(&rows, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "10.0.0.0/8\t64496\t3\n10.0.0.0/8\t{1,65536}\t2\n2001:db8::/32\t-\t1\n"
    );
}

/// Decoded view of one updates file.
#[derive(Default, Debug)]
struct UpdStats {
    records: u64,
    updates: u64,
    announced: u64,
    withdrawn: u64,
    keepalives: u64,
    opens: u64,
    state_changes: u64,
    as2_records: u64,
    as4_path_seen: u64,
    as_trans_seen: u64,
    v6_updates: u64,
    eor: u64,
    states: BTreeSet<(u16, u16)>,
}

fn count_nlri(mut b: &[u8], v6: bool) -> u64 {
    let mut n = 0;
    while !b.is_empty() {
        let l = b[0];
        assert!(l <= if v6 { 128 } else { 32 });
        b = &b[1 + usize::from(l).div_ceil(8)..];
        n += 1;
    }
    n
}

fn decode_updates(data: &[u8], et: bool) -> UpdStats {
    let mut s = UpdStats::default();
    let mut last = (0u32, 0u32);
    for r in records(data) {
        s.records += 1;
        assert_eq!(r.typ, if et { 17 } else { 16 });
        let mut b = r.body;
        let usec = if et {
            let u = be32(b);
            b = &b[4..];
            u
        } else {
            0
        };
        assert!(usec < 1_000_000);
        assert!((r.ts, usec) >= last, "timestamps must not decrease");
        last = (r.ts, usec);
        let as4 = match r.sub {
            4 | 5 => true,
            0 | 1 => {
                s.as2_records += 1;
                false
            }
            other => panic!("subtype {other}"),
        };
        let asz = if as4 { 4 } else { 2 };
        let afi = be16(&b[2 * asz + 2..]);
        let ipl = match afi {
            1 => 4,
            2 => 16,
            _ => panic!("afi {afi}"),
        };
        let msg = &b[2 * asz + 4 + 2 * ipl..];
        if r.sub == 0 || r.sub == 5 {
            assert_eq!(msg.len(), 4);
            let (o, n) = (be16(msg), be16(&msg[2..]));
            assert!((1..=6).contains(&o) && (1..=6).contains(&n));
            s.states.insert((o, n));
            s.state_changes += 1;
            continue;
        }
        assert_eq!(&msg[..16], &[0xFF; 16]);
        assert_eq!(usize::from(be16(&msg[16..])), msg.len());
        assert!(msg.len() <= 4096);
        let body = &msg[19..];
        match msg[18] {
            1 => {
                s.opens += 1;
                assert_eq!(body[0], 4);
                assert_eq!(usize::from(body[9]) + 10, body.len());
            }
            4 => {
                s.keepalives += 1;
                assert!(body.is_empty());
            }
            2 => {
                s.updates += 1;
                let wl = usize::from(be16(body));
                s.withdrawn += count_nlri(&body[2..2 + wl], false);
                let al = usize::from(be16(&body[2 + wl..]));
                let attrs = attributes(&body[4 + wl..4 + wl + al]);
                let nlri = &body[4 + wl + al..];
                s.announced += count_nlri(nlri, false);
                if wl == 0 && al == 0 && nlri.is_empty() {
                    s.eor += 1;
                }
                let mut has_trans = false;
                for &(t, _, v) in &attrs {
                    match t {
                        2 => {
                            let _ = origin_of(v, asz);
                            if !as4 {
                                let mut p = 0;
                                while p < v.len() {
                                    let c = usize::from(v[p + 1]);
                                    for k in 0..c {
                                        if be16(&v[p + 2 + 2 * k..]) == 23456 {
                                            has_trans = true;
                                        }
                                    }
                                    p += 2 + 2 * c;
                                }
                            }
                        }
                        3 => assert!(!nlri.is_empty()),
                        7 => assert_eq!(v.len(), if as4 { 8 } else { 6 }),
                        14 => {
                            assert_eq!((be16(v), v[2]), (2, 1));
                            let nh = usize::from(v[3]);
                            assert!(nh == 16 || nh == 32);
                            assert_eq!(v[4 + nh], 0, "reserved byte");
                            s.announced += count_nlri(&v[5 + nh..], true);
                            s.v6_updates += 1;
                        }
                        15 => {
                            assert_eq!((be16(v), v[2]), (2, 1));
                            s.withdrawn += count_nlri(&v[3..], true);
                        }
                        17 => {
                            assert!(!as4);
                            let _ = origin_of(v, 4);
                            s.as4_path_seen += 1;
                        }
                        _ => {}
                    }
                }
                if has_trans {
                    s.as_trans_seen += 1;
                    assert!(attrs.iter().any(|a| a.0 == 17), "as_path::AS_TRANS without AS4_PATH");
                }
            }
            t => panic!("message type {t}"),
        }
    }
    s
}

#[test]
fn updates_framing_and_content() {
    for et in [false, true] {
        let opts = UpdatesOptions {
            et,
            messages: 20_000,
            flap_fraction: 0.002,
            ..UpdatesOptions::small()
        };
        let mut buf = Vec::new();
        let sum = write_updates(&opts, &mut buf).unwrap();
        assert_eq!(sum.bytes as usize, buf.len());
        let s = decode_updates(&buf, et);
        assert_eq!(s.records, opts.messages as u64);
        assert_eq!(
            (
                s.updates,
                s.announced,
                s.withdrawn,
                s.keepalives,
                s.opens,
                s.state_changes,
                s.as2_records
            ),
            (
                sum.updates,
                sum.announced,
                sum.withdrawn,
                sum.keepalives,
                sum.opens,
                sum.state_changes,
                sum.as2_records
            )
        );
        assert!(s.updates > 0 && s.keepalives > 0 && s.opens > 0 && s.eor > 0 && s.v6_updates > 0);
        assert!(s.as2_records > 0 && s.as4_path_seen > 0 && s.as_trans_seen > 0);
        let want: BTreeSet<(u16, u16)> = [(6, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6)].into_iter().collect();
        assert_eq!(s.states, want);
        let first = records(&buf)[0].ts;
        let last = records(&buf).last().unwrap().ts;
        assert!(first >= opts.start_time && last < opts.start_time + opts.duration_secs);
    }
}

#[test]
fn updates_deterministic() {
    let opts = UpdatesOptions::small();
    let mut a = Vec::new();
    let mut b = Vec::new();
    write_updates(&opts, &mut a).unwrap();
    write_updates(&opts, &mut b).unwrap();
    assert_eq!(fnv1a(&a), fnv1a(&b));
    let mut c = Vec::new();
    write_updates(&UpdatesOptions { seed: 1, ..opts.clone() }, &mut c).unwrap();
    assert_ne!(a, c);
    let mut e = Vec::new();
    assert_eq!(write_updates(&UpdatesOptions { messages: 0, ..opts }, &mut e).unwrap().records, 0);
    assert!(e.is_empty());
}

fn decompress(data: &[u8], c: Compression) -> Vec<u8> {
    let mut out = Vec::new();
    match c {
        Compression::None => out.extend_from_slice(data),
        Compression::Gzip => {
            flate2::read::GzDecoder::new(data).read_to_end(&mut out).unwrap();
        }
        Compression::Bzip2 => {
            bzip2::read::BzDecoder::new(data).read_to_end(&mut out).unwrap();
        }
        Compression::Zstd => {
            zstd::stream::read::Decoder::new(data).unwrap().read_to_end(&mut out).unwrap();
        }
        Compression::Xz => {
            liblzma::read::XzDecoder::new(data).read_to_end(&mut out).unwrap();
        }
    }
    out
}

#[test]
fn compression_round_trip() {
    let opts = tiny();
    let (plain, _) = gen_rib(&opts);
    for c in [
        Compression::None,
        Compression::Gzip,
        Compression::Bzip2,
        Compression::Zstd,
        Compression::Xz,
    ] {
        let mut z = Vec::new();
        let s = write_compressed(&mut z, c, |w| write_rib(&opts, w)).unwrap();
        assert_eq!(s.bytes as usize, plain.len());
        assert_eq!(decompress(&z, c), plain, "{c:?}");
        if c != Compression::None {
            assert!(z.len() < plain.len());
        }
        let name = format!("x.mrt.{}", c.extension());
        assert_eq!(Compression::from_path(name.as_ref()), c);
    }
    // write_to on a real file.
    let dir = std::env::temp_dir().join(format!("mrtsnap-synth-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rib.mrt.zst");
    let s = opts.write_to(&path, Compression::from_path(&path)).unwrap();
    let z = std::fs::read(&path).unwrap();
    assert_eq!(decompress(&z, Compression::Zstd), plain);
    assert_eq!(s.bytes as usize, plain.len());
    let upath = dir.join("upd.mrt.gz");
    UpdatesOptions::small().write_to(&upath, Compression::Gzip).unwrap();
    let u = decompress(&std::fs::read(&upath).unwrap(), Compression::Gzip);
    assert_eq!(records(&u).len(), UpdatesOptions::small().messages);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Entry-count estimate of the presets at full size (from a 1 % sample).
#[test]
fn preset_entry_counts() {
    for (opts, lo, hi) in [
        (RibOptions::route_views2_like(), 28.5e6, 31.0e6),
        (RibOptions::route_views6_like(), 4.7e6, 5.3e6),
        (RibOptions::jinx_like(), 0.50e6, 0.51e6),
        (RibOptions::rrc00_like(), 50.0e6, 56.0e6),
        (RibOptions::default(), 25.0e6, 30.0e6),
    ] {
        let f = 0.01;
        let s = write_rib(&opts.clone().scale(f), std::io::sink()).unwrap();
        let est = s.entries as f64 / f;
        assert!((lo..hi).contains(&est), "estimated {est} entries for {opts:?}");
    }
}

/// What one calibrated preset must look like at a small scale.
struct Calibrated {
    opts: RibOptions,
    /// (records, entries, bytes, FNV-1a of the bytes), pinned.
    pinned: (u64, u64, u64, u64),
    /// RIB entries per prefix of the real file.
    entries_per_prefix: f64,
    /// Share of the real file's entries with MULTI_EXIT_DISC.
    med: f64,
    /// Mean COMMUNITIES per entry of the real file.
    communities: f64,
    /// Peers of the real file's peer table, and distinct ASes among them.
    peers: (usize, usize),
}

/// The presets calibrated on real RIBs (`benches/calibrate.sh` compares
/// their decode cost): exact output at a small scale, and the shape of the
/// real file each stands for (its figures from the corpus file, see the
/// presets' docs) within a few percent.
#[test]
fn calibrated_presets() {
    let cases = [
        Calibrated {
            opts: RibOptions::jinx_like().scale(0.02),
            pinned: (9949, 10_150, 655_938, 6_046_475_980_757_050_881),
            entries_per_prefix: 1.0124,
            med: 0.0,
            communities: 0.033,
            peers: (14, 8),
        },
        Calibrated {
            opts: RibOptions::route_views2_like().scale(0.001),
            pinned: (1001, 29_850, 1_671_578, 3_868_666_810_176_505_935),
            entries_per_prefix: 29.76,
            med: 0.384,
            communities: 2.11,
            peers: (47, 41),
        },
        Calibrated {
            opts: RibOptions::route_views6_like().scale(0.005),
            pinned: (1151, 25_001, 2_076_289, 2_877_819_390_888_801_381),
            entries_per_prefix: 21.77,
            med: 0.385,
            communities: 1.81,
            peers: (29, 23),
        },
    ];
    for c in &cases {
        let o = &c.opts;
        let (data, s) = gen_rib(o);
        assert_eq!(gen_rib(o).0, data, "deterministic");
        let got = (s.records, s.entries, s.bytes, fnv1a(&data));
        assert_eq!(got, c.pinned, "output of {o:?} changed");
        let d = decode_rib(&data, o);
        assert_eq!(d.truth, s.truth);
        let prefixes = (o.ipv4_prefixes + o.ipv6_prefixes) as f64;
        let n = d.entries as f64;
        let per_prefix = n / prefixes;
        assert!(
            (per_prefix / c.entries_per_prefix - 1.0).abs() < 0.03,
            "{per_prefix} entries per prefix"
        );
        let med = d.attr_seen.get(&4).copied().unwrap_or(0) as f64 / n;
        assert!((med - c.med).abs() < 0.15, "MED on {med} of the entries");
        let comm = d.community_counts.iter().sum::<usize>() as f64 / n;
        assert!(
            (comm - c.communities).abs() < 0.1 + 0.2 * c.communities,
            "{comm} communities per entry"
        );
        assert_eq!(d.attr_seen.get(&32), None, "no large communities before 2016");
        let asns: BTreeSet<u32> = d.peers.iter().map(|p| p.asn).collect();
        assert_eq!(d.peers.len(), c.peers.0);
        assert!(asns.len().abs_diff(c.peers.1) <= 3, "{} distinct peer ASes", asns.len());
        // Real collectors list a prefix's routes newest first, not by peer.
        let multi = (s.records - 1 - d.records_in_peer_order) as f64;
        assert!(multi >= 0.005 * prefixes, "{multi} records out of peer order");
    }
}
