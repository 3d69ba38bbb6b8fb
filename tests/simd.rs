//! The SIMD kernels (`mrtsnap::simd`): every kernel on every backend this
//! CPU can run, against a naive one-line oracle, on random inputs of every
//! length from 0 to 3 × 16 lanes + 5 and every alignment from 0 to 15
//! elements (the batched attribute pass and the decimal and IPv4 writers,
//! scalar everywhere, against the crate's general parsers and `std`); then
//! the whole pipeline (snapshot and dump, library and CLI) gives identical
//! output with every backend on the corpus sample, generated tables, and the
//! shared corpus's full RIB when it is present.

mod common;

use common::Rng;

use mrtsnap::bgp::{AsPath, Origin, PathSegments, RawAttrs};
use mrtsnap::dump::BgpdumpWriter;
use mrtsnap::pipeline::for_each_record;
use mrtsnap::simd::{self, Backend};
use mrtsnap::snapshot::{Snapshot, SnapshotOptions};
use mrtsnap::synth::{write_rib, RibOptions};
use mrtsnap::Report;
use mrtsnap::Source;
use proptest::prelude::*;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

/// Lengths 0..=3×16+5 (16 = the widest backend's lanes of 32 bits).
const MAX_LEN: usize = 3 * 16 + 5;
/// Element offsets 0..16: every alignment of the data within a 64-byte line.
const OFFSETS: usize = 16;

fn backends() -> Vec<Backend> {
    let b: Vec<Backend> = Backend::available().collect();
    assert!(b.contains(&Backend::Scalar));
    b
}

// ---- naive oracles -------------------------------------------------------

fn naive_all_equal(x: &[u64]) -> bool {
    x.iter().all(|v| Some(v) == x.first())
}

fn naive_increasing(x: &[u32]) -> bool {
    x.windows(2).all(|w| w[0] < w[1])
}

fn naive_count(ids: &[u32], bits: &[u64]) -> usize {
    ids.iter()
        .filter(|&&i| (i as usize) < bits.len() * 64 && bits[i as usize / 64] >> (i % 64) & 1 == 1)
        .count()
}

/// The fast origin rule, through the crate's general parsers.
fn naive_origin(buf: &[u8], s: u32, e: u32) -> Option<u32> {
    let block = buf.get(s as usize..e as usize)?;
    let attrs: Vec<_> = RawAttrs::new(block, 0).collect::<Result<_, _>>().ok()?;
    let paths: Vec<_> = attrs.iter().filter(|a| a.code == 2).collect();
    if paths.len() != 1 || attrs.iter().any(|a| a.code == 17) {
        return None;
    }
    // A treat-as-withdraw attribute (RFC 7606) is left to the exact walk.
    let ctx = mrtsnap::bgp::attr::AttrContext { asn_len: 4, rib_afi: None };
    if mrtsnap::bgp::Attrs::parse(block, 0, ctx).ok()?.withdraw.is_some() {
        return None;
    }
    let segs: Vec<_> = AsPath::parse(paths[0].value, 0, 4).ok()?.segments().collect();
    match segs.as_slice() {
        [seg] if seg.kind() == 2 && !seg.is_empty() => seg.asns().last(),
        _ => None,
    }
}

/// The origin the `bgp` rule gives an entry (attributes parsed by
/// `Attrs::parse`, AS_PATH merged with AS4_PATH, the origin rule of
/// `AsPath::origin`), or `None` where the entry has no route (the block does
/// not frame, or is treat-as-withdraw).
fn bgp_origin(buf: &[u8], s: u32, e: u32) -> Option<Origin> {
    let block = buf.get(s as usize..e as usize)?;
    let ctx = mrtsnap::bgp::attr::AttrContext { asn_len: 4, rib_afi: None };
    let a = mrtsnap::bgp::Attrs::parse(block, 0, ctx).ok()?;
    if a.withdraw.is_some() {
        return None;
    }
    Some(Origin::from(PathSegments::new(a.as_path, a.as4_path).origin()))
}

// ---- generators ----------------------------------------------------------

fn asn(rng: &mut Rng) -> u32 {
    match rng.below(4) {
        0 => rng.below(65536) as u32,
        1 => u32::MAX - rng.below(4) as u32,
        _ => rng.next_u64() as u32,
    }
}

/// An AS_PATH value: mostly one AS_SEQUENCE of 4-byte ASNs, sometimes
/// something the fast rule must refuse.
fn as_path(rng: &mut Rng) -> Vec<u8> {
    let seg = |rng: &mut Rng, kind: u8, n: usize| {
        let mut v = vec![kind, n as u8];
        for _ in 0..n {
            v.extend_from_slice(&asn(rng).to_be_bytes());
        }
        v
    };
    match rng.below(10) {
        0 => [seg(rng, 2, 2), seg(rng, 1, 2)].concat(),
        1 => [seg(rng, 3, 1), seg(rng, 2, 3)].concat(),
        2 => seg(rng, 2, 0),
        3 => {
            let mut v = seg(rng, 2, 3);
            v.truncate(v.len() - 1 - rng.below(3));
            v
        }
        4 => {
            let (kind, n) = (rng.below(6) as u8, 1 + rng.below(3));
            seg(rng, kind, n)
        }
        5 => {
            let n = 64 + rng.below(192);
            seg(rng, 2, n)
        }
        _ => {
            let n = 1 + rng.below(9);
            seg(rng, 2, n)
        }
    }
}

/// One entry's attribute block: attributes of assorted codes, usually one
/// AS_PATH (sometimes none or two), sometimes an AS4_PATH, 1- and 2-byte
/// lengths, sometimes damaged.
fn block(rng: &mut Rng) -> Vec<u8> {
    let mut codes: Vec<u8> = (0..rng.below(7))
        .map(|_| [1u8, 3, 4, 5, 6, 7, 8, 14, 32, 255][rng.below(10)])
        .collect();
    let paths = match rng.below(10) {
        0 => 0,
        1 => 2,
        _ => 1,
    };
    for _ in 0..paths {
        let at = rng.below(codes.len() + 1);
        codes.insert(at, 2);
    }
    if rng.chance(10) {
        let at = rng.below(codes.len() + 1);
        codes.insert(at, 17);
    }
    let mut b = Vec::new();
    for code in codes {
        let value = match code {
            2 | 17 => as_path(rng),
            _ => (0..[0, 1, 4, 4, 8, 12, 300][rng.below(7)]).map(|_| rng.next_u64() as u8).collect(),
        };
        let ext = value.len() > 255 || rng.chance(6);
        let flags = 0x40 | if ext { 0x10 } else { 0 } | if rng.chance(4) { 0x80 } else { 0 };
        b.extend_from_slice(&[flags, code]);
        if ext {
            b.extend_from_slice(&(value.len() as u16).to_be_bytes());
        } else {
            b.push(value.len() as u8);
        }
        b.extend_from_slice(&value);
    }
    match rng.below(12) {
        0 if !b.is_empty() => {
            let at = rng.below(b.len());
            b.truncate(at);
        }
        1 if !b.is_empty() => {
            let at = rng.below(b.len());
            b[at] = rng.next_u64() as u8;
        }
        2 => b.push(rng.next_u64() as u8),
        _ => {}
    }
    b
}

/// `n` entries' blocks laid out in one buffer (with `pad` leading bytes and
/// random gaps), and their bounds; a few bounds are invalid on purpose.
fn entries(rng: &mut Rng, n: usize, pad: usize) -> (Vec<u8>, Vec<u32>, Vec<u32>) {
    let mut buf: Vec<u8> = (0..pad).map(|_| rng.next_u64() as u8).collect();
    let (mut starts, mut ends) = (Vec::new(), Vec::new());
    for _ in 0..n {
        for _ in 0..rng.below(3) {
            buf.push(rng.next_u64() as u8);
        }
        let b = block(rng);
        let s = buf.len() as u32;
        buf.extend_from_slice(&b);
        let e = buf.len() as u32;
        match rng.below(40) {
            0 => {
                starts.push(e + 1);
                ends.push(e);
            }
            1 => {
                starts.push(s);
                ends.push(u32::MAX - rng.below(3) as u32);
            }
            2 => {
                starts.push(u32::MAX);
                ends.push(u32::MAX);
            }
            _ => {
                starts.push(s);
                ends.push(e);
            }
        }
    }
    // Often the last block ends the buffer exactly, so that its last header
    // lies within 4 bytes of the end (the gather's scalar tail).
    if rng.chance(3) {
        let cut = buf.len().min(
            ends.iter()
                .copied()
                .filter(|&e| e != u32::MAX && (e as usize) <= buf.len())
                .max()
                .unwrap_or(0) as usize,
        );
        buf.truncate(cut);
    }
    (buf, starts, ends)
}

// ---- kernel properties -----------------------------------------------------

fn check_all_equal(seed: u64) {
    let mut rng = Rng(seed);
    for len in 0..=MAX_LEN {
        for off in 0..OFFSETS {
            let v = rng.next_u64();
            let mut x: Vec<u64> = vec![v; off + len];
            if len > 0 && !rng.chance(3) {
                let at = off + rng.below(len);
                x[at] ^= 1 << rng.below(64);
            }
            let x = &x[off..];
            for b in backends() {
                assert_eq!(simd::all_equal_u64_with(b, x), naive_all_equal(x), "{b} len {len} off {off}");
            }
        }
    }
}

fn check_increasing(seed: u64) {
    let mut rng = Rng(seed);
    for len in 0..=MAX_LEN {
        for off in 0..OFFSETS {
            // Strictly increasing values around 2^31, where a signed compare goes wrong.
            let mut v = (1u32 << 31).wrapping_sub(rng.below(40) as u32);
            let mut x: Vec<u32> = (0..off + len)
                .map(|_| {
                    v = v.wrapping_add(1 + rng.below(3) as u32 * (rng.below(2) as u32 * 1000));
                    v
                })
                .collect();
            if len > 1 && !rng.chance(3) {
                let at = off + 1 + rng.below(len - 1);
                x[at] = if rng.chance(2) {
                    x[at - 1]
                } else {
                    x[at - 1].wrapping_sub(1 + rng.below(5) as u32)
                };
            }
            let x = &x[off..];
            for b in backends() {
                assert_eq!(
                    simd::strictly_increasing_u32_with(b, x),
                    naive_increasing(x),
                    "{b} len {len} off {off} {x:?}"
                );
            }
        }
    }
}

fn check_count(seed: u64) {
    let mut rng = Rng(seed);
    for len in 0..=MAX_LEN {
        for off in 0..OFFSETS {
            let bits: Vec<u64> = (0..rng.below(4)).map(|_| rng.next_u64() & rng.next_u64()).collect();
            let span = bits.len() * 64 + 70;
            let ids: Vec<u32> = (0..off + len)
                .map(|_| {
                    if rng.chance(20) {
                        u32::MAX - rng.below(40) as u32
                    } else {
                        rng.below(span) as u32
                    }
                })
                .collect();
            let ids = &ids[off..];
            for b in backends() {
                assert_eq!(
                    simd::count_in_bitmap_with(b, ids, &bits),
                    naive_count(ids, &bits),
                    "{b} len {len} off {off}"
                );
            }
        }
    }
}

fn check_origins(seed: u64) {
    let mut rng = Rng(seed);
    let (mut decided, mut refused) = (0, 0);
    for n in 0..=MAX_LEN {
        let pad = rng.below(OFFSETS * 4);
        let (buf, starts, ends) = entries(&mut rng, n, pad);
        let want: Vec<Option<u32>> = starts.iter().zip(&ends).map(|(&s, &e)| naive_origin(&buf, s, e)).collect();
        decided += want.iter().filter(|w| w.is_some()).count();
        // Where the fast rule decides, it gives the `bgp` rule's origin.
        for ((&s, &e), w) in starts.iter().zip(&ends).zip(&want) {
            if let Some(a) = w {
                assert_eq!(bgp_origin(&buf, s, e), Some(Origin::Asn(*a)), "entry {s}..{e}");
            }
        }
        refused += want.iter().filter(|w| w.is_none()).count();
        for off in [0, 1 + rng.below(OFFSETS - 1)] {
            let k = n.saturating_sub(off);
            let (s, e) = (&starts[n - k..], &ends[n - k..]);
            let (mut asns, mut ok) = (vec![7u32; k], vec![9u8; k]);
            simd::attr_origins(&buf, s, e, &mut asns, &mut ok);
            let got: Vec<Option<u32>> = asns.iter().zip(&ok).map(|(&a, &o)| (o == 1).then_some(a)).collect();
            assert_eq!(&got[..], &want[n - k..], "n {n} off {off}");
            assert!(ok.iter().all(|&o| o <= 1) && asns.iter().zip(&ok).all(|(&a, &o)| o == 1 || a == 0));
        }
    }
    // The generator exercises both outcomes.
    assert!(decided > 100 && refused > 100, "{decided} decided, {refused} refused");
}

fn check_write_u32(seed: u64) {
    let mut rng = Rng(seed);
    let mut values: Vec<u32> = vec![0, u32::MAX];
    for p in 0..10 {
        let t = 10u32.pow(p);
        values.extend([t - 1, t, t.saturating_add(1)]);
    }
    values.extend((0..200).map(|_| (rng.next_u64() as u32) >> rng.below(32)));
    let mut out = b"x".to_vec();
    let mut want = String::from("x");
    for &v in &values {
        mrtsnap::fmt::write_u32(&mut out, v);
        out.push(b'|');
        want.push_str(&format!("{v}|"));
    }
    assert_eq!(String::from_utf8(out).unwrap(), want);
    let mut out = Vec::new();
    let a = rng.next_u64() as u32;
    mrtsnap::fmt::write_ipv4(&mut out, a);
    assert_eq!(String::from_utf8(out).unwrap(), std::net::Ipv4Addr::from(a).to_string());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn all_equal_u64_matches_oracle(seed in any::<u64>()) {
        check_all_equal(seed);
    }

    #[test]
    fn strictly_increasing_u32_matches_oracle(seed in any::<u64>()) {
        check_increasing(seed);
    }

    #[test]
    fn count_in_bitmap_matches_oracle(seed in any::<u64>()) {
        check_count(seed);
    }

    #[test]
    fn attr_origins_matches_oracle(seed in any::<u64>()) {
        check_origins(seed);
    }

    #[test]
    fn write_u32_and_ipv4_match_std(seed in any::<u64>()) {
        check_write_u32(seed);
    }
}

/// Tests that pin the process-wide backend take turns.
static GLOBAL: Mutex<()> = Mutex::new(());

#[test]
fn backend_choice() {
    let _g = GLOBAL.lock().unwrap_or_else(|e| e.into_inner());
    for b in Backend::ALL {
        assert_eq!(Backend::from_name(b.name()), Some(b));
        assert_eq!(simd::set_backend(b).is_ok(), b.is_available(), "{b}");
    }
    assert!(Backend::detect().is_available());
    simd::set_backend(Backend::detect()).unwrap();
    assert_eq!(Backend::current(), Backend::detect());
    // An unavailable backend runs the scalar code rather than faulting.
    for b in Backend::ALL.into_iter().filter(|b| !b.is_available()) {
        assert!(simd::set_backend(b).is_err());
        assert!(simd::all_equal_u64_with(b, &[1, 1, 1, 1, 1, 1, 1, 1, 1]));
    }
    #[cfg(target_arch = "x86_64")]
    assert!(Backend::Sse2.is_available());
}

#[test]
fn write_u32_every_digit_count() {
    for d in 1..=10u32 {
        let lo = if d == 1 { 0 } else { 10u32.pow(d - 1) };
        for v in [lo, lo + 1, lo.wrapping_mul(3) / 2, (10u64.pow(d).min(1 << 32) - 1) as u32] {
            let mut out = Vec::new();
            mrtsnap::fmt::write_u32(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes(), "{v}");
        }
    }
}

// ---- the whole pipeline ----------------------------------------------------

/// A snapshot built from the calling (non-pool) thread with `backend`.
fn snapshot(src: &Source, backend: Backend, batch_size: usize) -> Snapshot {
    Snapshot::build(
        src,
        &SnapshotOptions {
            simd: Some(backend),
            batch_size,
            ..Default::default()
        },
    )
    .expect("build")
}

fn generated(opts: &RibOptions) -> Source {
    let mut data = Vec::new();
    write_rib(opts, &mut data).expect("generate");
    Source::from_bytes("generated", data)
}

fn same_snapshots(name: &str, src: &Source, all: bool) {
    let reference = snapshot(src, Backend::Scalar, 1 << 20);
    assert!(!reference.is_empty(), "{name}");
    let list: Vec<Backend> = if all { backends() } else { vec![Backend::detect()] };
    for b in list {
        assert!(snapshot(src, b, 1 << 20) == reference, "{name}: {b} differs from scalar");
    }
    // Small batches: prefixes straddle batches, chunks merge out of order.
    assert!(snapshot(src, Backend::detect(), 64 << 10) == reference, "{name}: small batches");
}

#[test]
fn snapshots_identical_across_backends() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/rib.synth.small.mrt.bz2");
    let src = Source::from_bytes("sample", std::fs::read(&sample).expect("corpus sample"));
    same_snapshots("corpus sample", &src, true);
    let mut o = RibOptions::default().scale(0.003);
    o.seed = 11;
    same_snapshots("generated", &generated(&o), true);
    let mut o = RibOptions::small();
    o.add_path = true;
    same_snapshots("generated add-path", &generated(&o), true);
}

#[test]
fn snapshots_identical_on_real_ribs() {
    let Some(dir) = common::corpus_dir() else { return };
    for rel in [
        "CAIDA+libbgpstream/test-dumps/routeviews.route-views.jinx.ribs.1401487200.bz2",
        "hadiasghari+pyasn/data/rib.20140523.0600_firstMB.bz2",
        "hadiasghari+pyasn/data/rib6.20151101.0600_firstMB.bz2",
        "RIPE-NCC+bgpdump/test_data/bview.ipv4_unicast_add_path.gz",
        "hadiasghari+pyasn/data/rib.20080501.0644_firstMB.bz2",
    ] {
        let p = dir.join(rel);
        if !p.is_file() {
            eprintln!("SKIPPED: {} not in the corpus", p.display());
            continue;
        }
        let src = Source::from_bytes(rel, std::fs::read(&p).expect("read"));
        same_snapshots(rel, &src, false);
    }
}

/// `bgpdump -m` text of `src` under the process-wide backend `b`.
fn dump(src: &Source, b: Backend) -> Vec<u8> {
    simd::set_backend(b).expect("available");
    let mut text = Vec::new();
    let mut w = BgpdumpWriter::new();
    for batch in src.batches(1 << 20) {
        let mut rep = Report::default();
        let _ = for_each_record(&batch, &mut rep, false, |raw, rec, peers| {
            w.write_record(raw, rec, peers, &mut text);
        });
    }
    text
}

#[test]
fn dumps_identical_across_backends() {
    let _g = GLOBAL.lock().unwrap_or_else(|e| e.into_inner());
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/rib.synth.small.mrt.bz2");
    let mut sources = vec![Source::from_bytes("sample", std::fs::read(&sample).expect("corpus sample"))];
    let mut o = RibOptions::default().scale(0.001);
    o.seed = 5;
    sources.push(generated(&o));
    if let Some(dir) = common::corpus_dir() {
        let p = dir.join("hadiasghari+pyasn/data/rib6.20151101.0600_firstMB.bz2");
        if p.is_file() {
            sources.push(Source::from_bytes("rib6", std::fs::read(&p).expect("read")));
        }
    }
    for src in &sources {
        let reference = dump(src, Backend::Scalar);
        assert!(reference.len() > 1000);
        for b in backends() {
            assert!(dump(src, b) == reference, "{}: dump with {b} differs from scalar", src.name());
        }
    }
    simd::set_backend(Backend::detect()).expect("available");
}

#[test]
fn cli_simd_flag_gives_identical_output() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/rib.synth.small.mrt.bz2");
    let run = |simd: &str, args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_mrtsnap"))
            .args(["--simd", simd])
            .args(args)
            .arg(&sample)
            .output()
            .expect("run mrtsnap");
        assert!(
            out.status.success(),
            "--simd {simd} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    for args in [&["dump"][..], &["snapshot", "--format", "pairs", "-o", "-"][..]] {
        let scalar = run("scalar", args);
        assert!(!scalar.is_empty());
        assert_eq!(run("auto", args), scalar, "{args:?}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_mrtsnap"))
        .args(["--simd", if cfg!(target_arch = "x86_64") { "neon" } else { "avx2" }, "stats"])
        .arg(&sample)
        .output()
        .expect("run mrtsnap");
    assert_eq!(out.status.code(), Some(2), "an unavailable backend is refused");
}
