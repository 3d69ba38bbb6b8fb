//! Every MRT file of the shared corpus (`../shared/corpus`), decoded through
//! the same path as `mrtsnap dump`: [`Source::open`], batches, and
//! [`for_each_record`].
//!
//! For each file the test pins
//! * the records by `(type, subtype)` against MANIFEST.tsv's
//!   `records_by_type` (a record MANIFEST marks `TRUNCATED` is the cut last
//!   record, which we report as an end-of-input error instead);
//! * the errors by kind (most files have none);
//! * the decompressed size against MANIFEST's `uncompressed_bytes`;
//! * the bgpdump `-m` output against the reference in
//!   `expected/bgpdump-m/`, line for line, for every file not listed in
//!   KNOWN_DIFFERENCES.tsv.
//!
//! The files of KNOWN_DIFFERENCES.tsv, where bgpdump is wrong, get their own
//! tests below with exact counts and lines checked by hand against the hex.
//! All tests skip (with a message on stderr) when the corpus is absent.

mod common;

use common::{walk, Walk};
use mrtsnap::bgp::{Origin, Prefix};
use mrtsnap::dump::BgpdumpWriter;
use mrtsnap::mrt::Record;
use mrtsnap::pipeline::for_each_record;
use mrtsnap::Report;
use mrtsnap::{ErrorKind, Source};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// Batches small enough that every file of more than 64 KiB is cut into
/// several, so framing state and the peer table cross batch boundaries.
const BATCH: usize = 1 << 16;

/// What decoding one file through the pipeline gave.
struct Decoded {
    report: Report,
    dump: Vec<u8>,
    /// Decompressed bytes seen (sum of the batch sizes).
    bytes: u64,
}

fn decode_file(path: &Path) -> Decoded {
    let src = Source::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut report = Report::default();
    let mut dump = Vec::new();
    let mut writer = BgpdumpWriter::new();
    let mut bytes = 0;
    for batch in src.batches(BATCH) {
        bytes += batch.data.len() as u64;
        for_each_record(&batch, &mut report, false, |raw, rec, peers| {
            writer.write_record(raw, rec, peers, &mut dump);
        })
        .expect("not strict: errors are counted, not returned");
    }
    Decoded { report, dump, bytes }
}

/// Compare our output with a reference, line by line, naming the first
/// difference.
fn assert_same_lines(ours: &[u8], reference: &[u8], what: &str) {
    let (a, b): (Vec<&[u8]>, Vec<&[u8]>) = (ours.split(|&c| c == b'\n').collect(), reference.split(|&c| c == b'\n').collect());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(
            x == y,
            "{what}: first difference at line {}\n  ours: {}\n  ref:  {}",
            i + 1,
            String::from_utf8_lossy(x),
            String::from_utf8_lossy(y)
        );
    }
    assert_eq!(
        a.len(),
        b.len(),
        "{what}: ours has {} lines, the reference {}",
        a.len() - 1,
        b.len() - 1
    );
}

/// How the bgpdump output of a file is checked.
#[derive(Clone, Copy, Debug)]
enum DumpCheck {
    /// Equal to the reference, line for line.
    Reference,
    /// The file is in KNOWN_DIFFERENCES.tsv (bgpdump is wrong); a dedicated
    /// test below checks our output; here only the line count is pinned.
    Known { lines: usize },
}

/// What we expect of one corpus file.
#[derive(Clone, Copy, Debug)]
struct Expect {
    /// Our records by `(type, subtype)` where they differ from MANIFEST
    /// (`None`: exactly MANIFEST's whole records).
    records: Option<&'static [((u16, u16), u64)]>,
    /// Errors by kind name (none for most files).
    errors: &'static [(&'static str, u64)],
    /// For each record MANIFEST marks TRUNCATED: our end-of-input error's
    /// `(offset, needed, available)`.
    truncated: Option<(u64, usize, usize)>,
    dump: DumpCheck,
}

const CLEAN: Expect = Expect {
    records: None,
    errors: &[],
    truncated: None,
    dump: DumpCheck::Reference,
};

/// updates.20000325.0345.gz (RIS rrc00, March 2000) has two torn writes:
///
/// * at byte 188 (0xbc) a 10-byte header (`38dc3668 0005 0001 0000`: BGP
///   UPDATE, its length cut after two zero bytes), followed at 198 by a
///   whole STATE_CHANGE record;
/// * at byte 4554 (0x11ca) 14 orphan bytes (`cb2d1340 0304cb25 ff7e18d1
///   f7aa`: the tail of an UPDATE, NEXT_HOP and one NLRI prefix), followed at
///   4568 by a whole UPDATE record.
///
/// We report each region as one `garbage` error and keep every record
/// around them: 4 records before byte 188, 198 from 198 to 4554, 2378 from
/// 4568 to the end: 2580 records. MANIFEST's scan (2217 records: UPDATE
/// 2083, STATE_CHANGE 102, KEEPALIVE 32) took the torn header at 188 as a
/// whole UPDATE of length 0x000038dc = 14556 bytes (the two length bytes
/// it lacks borrowed from the next header), which swallowed the 364 real
/// records starting between 198 and 14756 (157 UPDATE, 205 STATE_CHANGE,
/// 2 KEEPALIVE), counted 1 bogus UPDATE, and resynchronised at 14783.
/// 2217 - 1 + 364 = 2580.
const UPDATES_20000325_RECORDS: &[((u16, u16), u64)] = &[((5, 1), 2239), ((5, 3), 307), ((5, 7), 34)];

/// The two garbage regions of updates.20000325.0345.gz: `(offset, bytes skipped)`.
const UPDATES_20000325_GARBAGE: [(u64, u64); 2] = [(188, 10), (4554, 14)];

/// The *_firstMB.bz2 files end in a cut bzip2 stream and a cut last record:
/// one `truncated` error (the record MANIFEST marks TRUNCATED) and one
/// `decompress` error, both end-of-input.
const CUT_STREAM: &[(&str, u64)] = &[("decompress", 1), ("truncated", 1)];

fn expect_for(path: &str) -> Expect {
    match path {
        "bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc00/2000.01/bview.20000111.0032.gz" => Expect {
            dump: DumpCheck::Known {
                lines: BVIEW_20000111_ENTRIES as usize,
            },
            ..CLEAN
        },
        "bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc00/2000.03/updates.20000325.0345.gz" => Expect {
            records: Some(UPDATES_20000325_RECORDS),
            errors: &[("garbage", 2)],
            dump: DumpCheck::Known { lines: 5685 },
            ..CLEAN
        },
        "hadiasghari+pyasn/data/bview.20140112.1600_3samples.bz2" => Expect {
            errors: &[("missing-peer-index-table", 3)],
            // bgpdump -m prints no line for RIB entries without a peer table,
            // and neither does our bgpdump-compatible writer.
            dump: DumpCheck::Known { lines: 0 },
            ..CLEAN
        },
        "t2mune+mrtparse/samples/bird_bgp" | "t2mune+mrtparse/samples/bird6_bgp" => Expect {
            dump: DumpCheck::Known { lines: 26 },
            ..CLEAN
        },
        "hadiasghari+pyasn/data/rib.20080501.0644_firstMB.bz2" => Expect {
            errors: CUT_STREAM,
            truncated: Some((9_876_131, 67, 57)),
            ..CLEAN
        },
        "hadiasghari+pyasn/data/rib.20140523.0600_firstMB.bz2" => Expect {
            errors: CUT_STREAM,
            truncated: Some((15_273_283, 1997, 1267)),
            ..CLEAN
        },
        "hadiasghari+pyasn/data/rib6.20151101.0600_firstMB.bz2" => Expect {
            errors: CUT_STREAM,
            truncated: Some((12_131_168, 1947, 1829)),
            ..CLEAN
        },
        _ => CLEAN,
    }
}

fn check_file(rel: &str) {
    let dir = corpus_or_skip!();
    let row = common::manifest(&dir)
        .into_iter()
        .find(|r| r.path == rel)
        .unwrap_or_else(|| panic!("{rel} is not an mrt row of MANIFEST.tsv"));
    let expect = expect_for(rel);
    let known = common::known_differences(&dir).iter().any(|k| k == rel);
    assert_eq!(
        known,
        matches!(expect.dump, DumpCheck::Known { .. }),
        "{rel}: KNOWN_DIFFERENCES.tsv and this test disagree"
    );
    let d = decode_file(&dir.join(rel));

    // Records by type and subtype.
    let want: BTreeMap<(u16, u16), u64> = match expect.records {
        Some(ours) => {
            assert_ne!(
                ours.iter().copied().collect::<BTreeMap<_, _>>(),
                row.records,
                "{rel}: pinned as differing"
            );
            ours.iter().copied().collect()
        }
        None => row.records.clone(),
    };
    assert_eq!(d.report.records, want, "{rel}: records by (type, subtype)");

    // Errors by kind.
    let errors: BTreeMap<&str, u64> = d.report.errors.iter().map(|(k, v)| (*k, *v)).collect();
    assert_eq!(
        errors,
        expect.errors.iter().copied().collect(),
        "{rel}: errors by kind: {:?}",
        d.report.first_errors
    );

    // The cut last record, and the cut compressed stream after it.
    let cut: Vec<_> = d
        .report
        .first_errors
        .iter()
        .filter(|e| matches!(e.kind(), ErrorKind::Truncated { what: "MRT record", .. }))
        .collect();
    assert_eq!(
        cut.len() as u64,
        row.truncated.values().sum::<u64>(),
        "{rel}: truncated last records"
    );
    if let Some((offset, need, avail)) = expect.truncated {
        let e = cut[0];
        assert!(e.is_end_of_input());
        assert_eq!(e.offset(), offset, "{rel}: offset of the cut record");
        assert_eq!(
            e.record(),
            Some(d.report.total_records()),
            "{rel}: the cut record comes after every whole one"
        );
        match e.kind() {
            ErrorKind::Truncated { needed, available, .. } => assert_eq!((*needed, *available), (need, avail), "{rel}"),
            k => panic!("{rel}: {k:?}"),
        }
        let dec: Vec<_> = d
            .report
            .first_errors
            .iter()
            .filter(|e| matches!(e.kind(), ErrorKind::Decompress { .. }))
            .collect();
        assert_eq!(dec.len(), 1, "{rel}");
        assert_eq!(
            dec[0].offset(),
            row.uncompressed,
            "{rel}: decompress error at the end of what was decoded"
        );
        assert_eq!(d.report.end_of_input, 2, "{rel}");
        assert_eq!(d.report.skipped(), 0, "{rel}: nothing skipped inside the input");
    } else {
        assert!(row.truncated.is_empty(), "{rel}: MANIFEST has a truncated record: pin it");
    }
    assert_eq!(d.bytes, row.uncompressed, "{rel}: decompressed size");

    // bgpdump -m output.
    let ref_path = dir.join("expected/bgpdump-m").join(format!("{rel}.txt.gz"));
    let lines = d.dump.iter().filter(|&&c| c == b'\n').count();
    match expect.dump {
        DumpCheck::Reference => {
            let reference = common::read_gz_text(&ref_path);
            assert_same_lines(&d.dump, &reference, rel);
        }
        DumpCheck::Known { lines: n } => assert_eq!(lines, n, "{rel}: lines of bgpdump output"),
    }
}

macro_rules! corpus_files {
    ($($name:ident => $path:literal,)*) => {
        /// Every MRT file of the corpus this test knows.
        const ALL: &[&str] = &[$($path),*];
        $(
            #[test]
            fn $name() {
                check_file($path);
            }
        )*
    };
}

corpus_files! {
    ris_rrc06_updates_1401488100 => "CAIDA+libbgpstream/test-dumps/ris.rrc06.updates.1401488100.gz",
    jinx_ribs_1401487200 => "CAIDA+libbgpstream/test-dumps/routeviews.route-views.jinx.ribs.1401487200.bz2",
    jinx_updates_1401493500 => "CAIDA+libbgpstream/test-dumps/routeviews.route-views.jinx.updates.1401493500.bz2",
    ris_rrc06_updates_1427846400 => "CAIDA+libbgpstream/test/ris.rrc06.updates.1427846400.gz",
    jinx_updates_1427846400 => "CAIDA+libbgpstream/test/routeviews.route-views.jinx.updates.1427846400.bz2",
    et_header_2015_history => "RIPE-NCC+bgpdump/_history/37dc902c/test_data/updates.et-header.2015.gz",
    bview_20020722_2337 => "RIPE-NCC+bgpdump/test_data/bview.20020722.2337.gz",
    bview_64k_stream_overflow => "RIPE-NCC+bgpdump/test_data/bview.64k_stream_overflow.gz",
    bview_ipv4_unicast_add_path => "RIPE-NCC+bgpdump/test_data/bview.ipv4_unicast_add_path.gz",
    bview_ipv6_unicast_add_path => "RIPE-NCC+bgpdump/test_data/bview.ipv6_unicast_add_path.gz",
    updates_20020722_2238 => "RIPE-NCC+bgpdump/test_data/updates.20020722.2238.gz",
    updates_20070211_0141 => "RIPE-NCC+bgpdump/test_data/updates.20070211.0141.gz",
    updates_20071015_1505 => "RIPE-NCC+bgpdump/test_data/updates.20071015.1505.gz",
    updates_20100722_2015 => "RIPE-NCC+bgpdump/test_data/updates.20100722.2015.gz",
    updates_20160811_1600 => "RIPE-NCC+bgpdump/test_data/updates.20160811.1600.gz",
    updates_et_header_2015 => "RIPE-NCC+bgpdump/test_data/updates.et-header.2015.gz",
    updates_long_withdrawal => "RIPE-NCC+bgpdump/test_data/updates.long_withdrawal.gz",
    updates_nlri_mask_trailing_bits => "RIPE-NCC+bgpdump/test_data/updates.nlri_mask_trailing_bits.gz",
    ris_updates_19990903_1041 => "bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc00/1999.09/updates.19990903.1041.gz",
    ris_updates_19991214_1621 => "bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc00/1999.12/updates.19991214.1621.gz",
    ris_bview_20000111_0032 => "bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc00/2000.01/bview.20000111.0032.gz",
    ris_updates_20000102_2014 => "bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc00/2000.01/updates.20000102.2014.gz",
    ris_updates_20000325_0345 => "bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc00/2000.03/updates.20000325.0345.gz",
    ris_updates_20001104_0124 => "bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc01/2000.11/updates.20001104.0124.gz",
    ris_rrc03_updates_first_796 => "bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc03/2010.02/updates.20100227.1600.first-796-records.gz",
    ris_rrc15_updates_20100227_1600 => "bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc15/2010.02/updates.20100227.1600.gz",
    ris_rrc15_updates_20100227_1610 => "bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc15/2010.02/updates.20100227.1610.gz",
    ryu_rib_20161101_pick => "faucetsdn+ryu/ryu/tests/packet_data/mrt/rib.20161101.0000_pick.bz2",
    ryu_updates_20161101 => "faucetsdn+ryu/ryu/tests/packet_data/mrt/updates.20161101.0000.bz2",
    pyasn_bview_3samples => "hadiasghari+pyasn/data/bview.20140112.1600_3samples.bz2",
    pyasn_rib_20080501_first_mb => "hadiasghari+pyasn/data/rib.20080501.0644_firstMB.bz2",
    pyasn_rib_20140523_first_mb => "hadiasghari+pyasn/data/rib.20140523.0600_firstMB.bz2",
    pyasn_rib6_20151101_first_mb => "hadiasghari+pyasn/data/rib6.20151101.0600_firstMB.bz2",
    mrtparse_bird_mrtdump_bgp => "t2mune+mrtparse/samples/bird-mrtdump_bgp",
    mrtparse_bird_mrtdump_rib => "t2mune+mrtparse/samples/bird-mrtdump_rib",
    mrtparse_bird6_mrtdump_bgp => "t2mune+mrtparse/samples/bird6-mrtdump_bgp",
    mrtparse_bird6_mrtdump_rib => "t2mune+mrtparse/samples/bird6-mrtdump_rib",
    mrtparse_bird6_bgp => "t2mune+mrtparse/samples/bird6_bgp",
    mrtparse_bird_bgp => "t2mune+mrtparse/samples/bird_bgp",
    mrtparse_openbgpd_bgp => "t2mune+mrtparse/samples/openbgpd_bgp",
    mrtparse_openbgpd_rib_table => "t2mune+mrtparse/samples/openbgpd_rib_table",
    mrtparse_openbgpd_rib_table_mp => "t2mune+mrtparse/samples/openbgpd_rib_table-mp",
    mrtparse_openbgpd_rib_table_v2 => "t2mune+mrtparse/samples/openbgpd_rib_table-v2",
    mrtparse_quagga_bgp => "t2mune+mrtparse/samples/quagga_bgp",
    mrtparse_quagga_bgp_large_communities => "t2mune+mrtparse/samples/quagga_bgp_large_communities",
    mrtparse_quagga_rib => "t2mune+mrtparse/samples/quagga_rib",
}

/// The list above is exactly MANIFEST's MRT files: a file added to the
/// corpus must get its expectations here.
#[test]
fn every_manifest_file_is_tested() {
    let dir = corpus_or_skip!();
    let mut manifest: Vec<String> = common::manifest(&dir).into_iter().map(|r| r.path).collect();
    let mut ours: Vec<String> = ALL.iter().map(|s| s.to_string()).collect();
    manifest.sort();
    ours.sort();
    assert_eq!(ours, manifest);
    assert_eq!(ALL.len(), 46);
}

#[test]
fn manifest_cells_parse() {
    let (whole, cut) = common::parse_records_by_type(
        "TABLE_DUMP_V2(13)/PEER_INDEX_TABLE(1):1,TABLE_DUMP_V2(13)/RIB_IPV4_UNICAST(2):9072,TABLE_DUMP_V2(13)/RIB_IPV4_UNICAST(2) TRUNCATED:1",
    );
    assert_eq!(whole, BTreeMap::from([((13, 1), 1), ((13, 2), 9072)]));
    assert_eq!(cut, BTreeMap::from([((13, 2), 1)]));
}

// ---------------------------------------------------------------------------
// Files where bgpdump is wrong (KNOWN_DIFFERENCES.tsv): the right answer.

fn walk_corpus(rel: &str) -> Option<Walk> {
    let dir = common::corpus_dir()?;
    Some(walk(&common::read_corpus_file(&dir, rel)))
}

fn lines(w: &Walk) -> Vec<&str> {
    std::str::from_utf8(&w.dump).expect("ASCII output").lines().collect()
}

/// BIRD wrote ADD-PATH NLRI (a path identifier before each prefix) in
/// BGP4MP MESSAGE_AS4 records. Record 7 (byte 390) holds, after 83 bytes of
/// attributes, the NLRI `00000002 18ac1100 00000002 18ac1101 00000002
/// 18ac1102`: path id 2 for 172.17.0.0/24, 172.17.1.0/24, 172.17.2.0/24;
/// AS_PATH `0206 fa56ea00 x3 0000fc00 x3` (4200000000 x3, 64512 x3), NEXT_HOP
/// c0a8000a, MED 0000000a, LOCAL_PREF 00000064, COMMUNITIES fde80064
/// fde800c8 fde8012c. Record 8 announces the same prefixes with path id 1.
#[test]
fn known_bird_bgp_add_path_in_plain_subtype() {
    let Some(w) = walk_corpus("t2mune+mrtparse/samples/bird_bgp") else {
        return;
    };
    assert_eq!(w.errors.len(), 0);
    assert_eq!((w.announced, w.withdrawn), (14, 0));
    let l = lines(&w);
    assert_eq!(l.len(), 26);
    assert_eq!(l.iter().filter(|l| l.contains("|STATE|")).count(), 12);
    assert_eq!(
        l[5],
        "BGP4MP|1486805565|A|192.168.0.10|65000|172.17.0.0/24|4200000000 4200000000 4200000000 64512 64512 64512|IGP|192.168.0.10|100|10|65000:100 65000:200 65000:300|NAG||"
    );
    assert_eq!(
        l[10],
        "BGP4MP|1486805565|A|192.168.0.10|65000|172.17.2.0/24|4294967194 4294967194 4294967194 65534 65534 65534|IGP|192.168.0.10|100|20|65000:400 65000:500 65000:600|NAG||"
    );
    assert_eq!(
        l[11],
        "BGP4MP|1486805565|A|192.168.0.10|65000|192.168.16.0/24||IGP|192.168.0.10|100|0||NAG||"
    );
    let prefixes: HashSet<&str> = l
        .iter()
        .filter(|l| l.contains("|A|"))
        .map(|l| l.split('|').nth(5).unwrap_or_default())
        .collect();
    assert_eq!(
        prefixes,
        HashSet::from(["172.17.0.0/24", "172.17.1.0/24", "172.17.2.0/24", "192.168.16.0/24"])
    );

    // The path identifiers themselves, through the library.
    let dir = corpus_or_skip!();
    let data = common::read_corpus_file(&dir, "t2mune+mrtparse/samples/bird_bgp");
    let raw = mrtsnap::mrt::Records::from_bytes(&data).nth(7).expect("record 7").expect("framed");
    assert_eq!((raw.offset, raw.header.subtype), (390, 4));
    let Ok(Record::Bgp4mp(m)) = Record::decode(&raw) else {
        panic!("record 7")
    };
    let mrtsnap::mrt::Bgp4mpBody::Message {
        message: mrtsnap::bgp::Message::Update(u),
        ..
    } = m.body
    else {
        panic!("record 7 is an UPDATE")
    };
    assert!(u.add_path, "ADD-PATH detected");
    let nlri: Vec<(Option<u32>, String)> = u
        .nlri
        .iter()
        .map(|p| p.map(|(id, p)| (id, p.to_string())).expect("prefix"))
        .collect();
    assert_eq!(
        nlri,
        [
            (Some(2), "172.17.0.0/24".to_string()),
            (Some(2), "172.17.1.0/24".to_string()),
            (Some(2), "172.17.2.0/24".to_string())
        ]
    );
}

/// The IPv6 twin: the prefixes are in MP_REACH_NLRI, with path identifiers.
#[test]
fn known_bird6_bgp_add_path_in_plain_subtype() {
    let Some(w) = walk_corpus("t2mune+mrtparse/samples/bird6_bgp") else {
        return;
    };
    assert_eq!(w.errors.len(), 0);
    assert_eq!((w.announced, w.withdrawn), (14, 0));
    let l = lines(&w);
    assert_eq!(l.len(), 26);
    assert_eq!(
        l[5],
        "BGP4MP|1486805565|A|fd02::10|65000|fd01:1::/64|4200000000 4200000000 4200000000 64512 64512 64512|IGP|fd02::10|100|10|65000:100 65000:200 65000:300|NAG||"
    );
    assert_eq!(l[11], "BGP4MP|1486805565|A|fd02::10|65000|fd02:17::/64||IGP|fd02::10|100|0||NAG||");
    let prefixes: HashSet<&str> = l
        .iter()
        .filter(|l| l.contains("|A|"))
        .map(|l| l.split('|').nth(5).unwrap_or_default())
        .collect();
    assert_eq!(
        prefixes,
        HashSet::from(["fd01:1::/64", "fd01:1:1::/64", "fd01:1:2::/64", "fd02:17::/64"])
    );
}

/// Three RIB_IPV4_UNICAST records and no PEER_INDEX_TABLE. From the hex:
/// record 0 (byte 0): sequence 0, `18 010000` 1.0.0.0/24, one entry, peer
/// index 6, AS_PATH `0202 00006240 00003b41` (25152 15169), NEXT_HOP
/// 202.249.2.189; record 1 (byte 0x37): sequence 125878, 84.205.86.0/24,
/// peer index 0, empty AS_PATH, MED 0, AGGREGATOR `0000fd80 0affffff`
/// (64896 10.255.255.255); record 2 (byte 0x76): sequence 5, `17 010014`
/// 1.0.20.0/23, peer index 6, AS_PATH 25152 2516 2519.
#[test]
fn known_rib_without_peer_index_table() {
    let dir = corpus_or_skip!();
    let rel = "hadiasghari+pyasn/data/bview.20140112.1600_3samples.bz2";
    let data = common::read_corpus_file(&dir, rel);
    assert_eq!(data.len(), 177);
    let w = walk(&data);
    assert_eq!(w.rib_without_peers, 3);
    assert_eq!(w.entries, 3);
    assert_eq!(w.errors.len(), 0, "the records themselves decode");
    let mut routes = Vec::new();
    for raw in mrtsnap::mrt::Records::from_bytes(&data) {
        let raw = raw.expect("framed");
        let Ok(Record::Rib(rib)) = Record::decode(&raw) else {
            panic!("RIB record")
        };
        for e in rib.entries() {
            let e = e.expect("entry");
            let a = e.parse_attrs(rib.afi).expect("attributes");
            let path: Vec<u32> = a
                .as_path
                .expect("AS_PATH")
                .segments()
                .flat_map(|s| s.asns().collect::<Vec<_>>())
                .collect();
            let origin = Origin::from(a.as_path.expect("AS_PATH").origin());
            routes.push((
                raw.offset,
                rib.sequence,
                rib.prefix.expect("prefix").to_string(),
                e.peer_index,
                path,
                origin,
                a.next_hop,
            ));
        }
    }
    use std::net::Ipv4Addr;
    assert_eq!(
        routes,
        [
            (
                0,
                0,
                "1.0.0.0/24".to_string(),
                6,
                vec![25152, 15169],
                Origin::Asn(15169),
                Some(Ipv4Addr::new(202, 249, 2, 189))
            ),
            (
                0x37,
                125_878,
                "84.205.86.0/24".to_string(),
                0,
                vec![],
                Origin::None,
                Some(Ipv4Addr::new(202, 249, 2, 143))
            ),
            (
                0x76,
                5,
                "1.0.20.0/23".to_string(),
                6,
                vec![25152, 2516, 2519],
                Origin::Asn(2519),
                Some(Ipv4Addr::new(202, 249, 2, 110))
            ),
        ]
    );
    // Through the pipeline: each RIB record reports the missing table, and
    // nothing is skipped.
    let d = decode_file(&dir.join(rel));
    assert_eq!(d.report.errors.get("missing-peer-index-table"), Some(&3));
    let offsets: Vec<(u64, Option<u64>)> = d.report.first_errors.iter().map(|e| (e.offset(), e.record())).collect();
    assert_eq!(offsets, [(0, Some(0)), (0x37, Some(1)), (0x76, Some(2))]);
    assert!(d
        .report
        .first_errors
        .iter()
        .all(|e| matches!(e.kind(), ErrorKind::MissingPeerIndexTable)));
}

/// The torn writes of updates.20000325.0345.gz: the two regions at their
/// offsets (see [`UPDATES_20000325_RECORDS`]) and every other record kept.
#[test]
fn known_torn_writes_updates_20000325() {
    let dir = corpus_or_skip!();
    let data = common::read_corpus_file(
        &dir,
        "bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc00/2000.03/updates.20000325.0345.gz",
    );
    assert_eq!(data.len(), 151_804);
    let w = walk(&data);
    let garbage: Vec<(u64, u64)> = w
        .errors
        .iter()
        .map(|e| match e.kind() {
            ErrorKind::Garbage { skipped } => (e.offset(), *skipped),
            k => panic!("unexpected {k:?} at {}", e.offset()),
        })
        .collect();
    assert_eq!(garbage, UPDATES_20000325_GARBAGE);
    assert_eq!(w.by_type, UPDATES_20000325_RECORDS.iter().copied().collect());
    assert_eq!(w.records.len(), 2580);
    // The records tile the input exactly, except for the two regions.
    let mut at = 0;
    let mut gaps = Vec::new();
    for r in &w.records {
        if r.offset != at {
            gaps.push((at, r.offset - at));
        }
        at = r.end;
    }
    assert_eq!(at, data.len() as u64);
    assert_eq!(gaps, UPDATES_20000325_GARBAGE);
    let before = |off: u64| w.records.iter().filter(|r| r.offset < off).count();
    assert_eq!(
        (before(188), before(4554) - before(188), w.records.len() - before(4554)),
        (4, 198, 2378)
    );
    assert!(w.records.iter().all(|r| r.errors == 0), "every kept record decodes");
    let l = lines(&w);
    assert_eq!(l.len(), 5685);
    // 38dc3671 0005 0003 0000000a | 0b62 81fa00e8 0003 0002: the record at 198.
    assert_eq!(l[4], "BGP|953955953|STATE|129.250.0.232|2914|3|2");
    // 38dc3681 0005 0001 0000003b | 1200 cb25ff7e 316e c1000001 | 0000 0027
    // 40010100 400210 0207 1200 04c5 165f 02bd 1086 2c14 2a91 400304 cb25ff7e
    // c00706 2a91 c8db8401 | 16 c8db84: the record at 4568.
    let r4568 = w.records.iter().position(|r| r.offset == 4568).expect("record at 4568");
    assert_eq!(w.records[r4568].units, 1);
    assert!(l.contains(
        &"BGP|953955969|A|203.37.255.126|4608|200.219.132.0/22|4608 1221 5727 701 4230 11284 10897|IGP|203.37.255.126|0|0|NAG|10897 200.219.132.1|"
    ));
    // bgpdump's first 4 lines (before it loses framing at 188) are ours too.
    let reference = common::read_gz_text(
        &dir.join("expected/bgpdump-m/bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc00/2000.03/updates.20000325.0345.gz.txt.gz"),
    );
    let reference = String::from_utf8(reference).expect("ASCII");
    assert_eq!(l[..4], reference.lines().take(4).collect::<Vec<_>>()[..]);
}

/// bview.20000111.0032.gz: MANIFEST's 2490 TABLE_DUMP records are ours too,
/// but each packs many entries; we decode every one of them.
const BVIEW_20000111_ENTRIES: u64 = 452_018;
/// Distinct prefix-origin pairs of those entries (bgpkit-parser 0.23 finds
/// the same number, KNOWN_DIFFERENCES.tsv says).
const BVIEW_20000111_PAIRS: usize = 83_069;
/// Distinct prefixes of those entries.
const BVIEW_20000111_PREFIXES: usize = 82_377;
/// Each record declares 4 bytes fewer than its last entry needs; those 4
/// bytes (the last bytes of that entry's NEXT_HOP) follow the declared end,
/// before the next header, and the record's decoder takes them as slack.
const BVIEW_20000111_SLACK: u64 = 4 * 2490;

/// The early RIS TABLE_DUMP file: every record packs many entries (the
/// first one, 7720 bytes declared, starts with view and sequence `0000
/// 0000`, then entries without them) and under-declares its length by the 4 bytes that end
/// its last entry. Every entry of every record is decoded: 452,018 entries
/// in 2490 records, 4 slack bytes after each, 83,069 distinct
/// prefix-origin pairs (what bgpkit-parser 0.23 finds).
#[test]
fn known_packed_table_dump_bview_20000111() {
    let dir = corpus_or_skip!();
    let rel = "bgpkit+bgpkit-parser/tests/fixtures/ripe/rrc00/2000.01/bview.20000111.0032.gz";
    let data = common::read_corpus_file(&dir, rel);
    assert_eq!(data.len(), 19_514_824);
    let mut records = 0u64;
    let mut entries = 0u64;
    let mut slack = 0u64;
    let mut pairs: HashSet<(Prefix, Origin)> = HashSet::new();
    let mut prefixes: HashSet<Prefix> = HashSet::new();
    let mut first = Vec::new();
    for raw in mrtsnap::mrt::Records::from_bytes(&data) {
        let raw = raw.expect("no framing error");
        records += 1;
        slack += raw.slack.len() as u64;
        assert_eq!(raw.slack.len(), 4, "record {} at {}", raw.index, raw.offset);
        let Ok(Record::TableDump(td)) = Record::decode(&raw) else {
            panic!("record {}", raw.index)
        };
        for e in td {
            let e = e.unwrap_or_else(|err| panic!("record {}: {err}", raw.index));
            let a = e.parse_attrs().unwrap_or_else(|err| panic!("record {}: {err}", raw.index));
            let origin = a.as_path.map_or(Origin::None, |p| Origin::from(p.origin()));
            if first.len() < 3 {
                first.push((e.prefix.to_string(), e.peer_ip.to_string(), e.peer_as, origin.to_string()));
            }
            entries += 1;
            prefixes.insert(e.prefix);
            pairs.insert((e.prefix, origin));
        }
    }
    assert_eq!((records, entries, slack), (2490, BVIEW_20000111_ENTRIES, BVIEW_20000111_SLACK));
    assert_eq!(pairs.len(), BVIEW_20000111_PAIRS);
    assert_eq!(prefixes.len(), BVIEW_20000111_PREFIXES);
    // 03000000 08 01 3879c8b4 cc98a61d 0ddd 0016 | 400101 00 400208 0203 0ddd 02bd 0050 400304 cc98a61d;
    // 03000000 08 01 3879c8d9 cefb0055 0ddd 0016 | ...; 03000000 08 01 387560cd c1000038 0d05 0018 |
    // 400101 00 40020a 0204 0d05 011e 02bd 0050 ...
    let row = |p: &str, ip: &str, asn: u32| (p.to_string(), ip.to_string(), asn, "80".to_string());
    assert_eq!(
        first,
        [
            row("3.0.0.0/8", "204.152.166.29", 3549),
            row("3.0.0.0/8", "206.251.0.85", 3549),
            row("3.0.0.0/8", "193.0.0.56", 3333)
        ]
    );
    let w = walk(&data);
    assert_eq!(w.errors.len(), 0);
    assert_eq!(w.entries, BVIEW_20000111_ENTRIES);
    let l = lines(&w);
    assert_eq!(l.len() as u64, BVIEW_20000111_ENTRIES);
    assert_eq!(
        l[0],
        "TABLE_DUMP|947550744|B|204.152.166.29|3549|3.0.0.0/8|3549 701 80|IGP|204.152.166.29|0|0||NAG||"
    );
    assert_eq!(
        l[2],
        "TABLE_DUMP|947550744|B|193.0.0.56|3333|3.0.0.0/8|3333 286 701 80|IGP|193.0.0.56|0|0||NAG||"
    );
}

/// The older bgpdump test file whose BGP4MP_ET lengths leave out the 4-byte
/// microsecond field (record 0: `5615afe4 0011 0004 000001d4 | 00067d7c`,
/// 468 declared bytes after the 16-byte header, next header at 484). All 14
/// records are read whole, as the test_expect file bgpdump's authors
/// committed beside it says (the corpus reference, compared line for line
/// by `check_file`); bgpdump 1.6.2 reads 4 bytes short, prints the first 79
/// of record 0's 80 prefixes and loses framing. The 80th is the last 5
/// bytes of record 0: `20 d9750ff6`, 217.117.15.246/32.
#[test]
fn et_length_without_micros_history_file() {
    let dir = corpus_or_skip!();
    let data = common::read_corpus_file(&dir, "RIPE-NCC+bgpdump/_history/37dc902c/test_data/updates.et-header.2015.gz");
    assert_eq!(data.len(), 2381);
    let raws: Vec<_> = mrtsnap::mrt::Records::from_bytes(&data).map(|r| r.expect("framed")).collect();
    assert_eq!(raws.len(), 14);
    for r in &raws {
        assert_eq!(
            r.body.len() as u32,
            r.header.length,
            "record {}: the whole declared length is message",
            r.index
        );
        assert!(r.slack.is_empty());
    }
    assert_eq!(
        (raws[0].micros, raws[1].offset, raws[13].micros),
        (Some(425_340), 484, Some(427_029))
    );
    assert!(raws[0].body.ends_with(&[0x20, 217, 117, 15, 246]));
    let w = walk(&data);
    assert!(w.errors.is_empty(), "{:?}", w.errors);
    let l = lines(&w);
    assert_eq!(l.len(), 159);
    assert_eq!(
        l[79],
        "BGP4MP_ET|1444261860.425340|A|206.220.231.55|3856|217.117.15.246/32|36932 16284|INCOMPLETE|196.216.148.39|100|0|3856:54200|NAG||"
    );
    assert_eq!(
        l[80],
        "BGP4MP_ET|1444261860.425869|A|206.220.231.55|3856|41.73.233.0/24|36932 16284|IGP|196.216.148.39|100|0|3856:54200|NAG||"
    );
}
