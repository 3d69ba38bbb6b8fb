//! `mrtsnap diff` and `Snapshot::diff`: the pairs that appeared, vanished or
//! changed peer count, checked against a computation of their own over the
//! `pairs` outputs of the two inputs.

use mrtsnap::bgp::Origin;
use mrtsnap::snapshot::{Change, PeerInfo, Snapshot};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mrtsnap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mrtsnap"))
        .args(args)
        .output()
        .expect("run mrtsnap")
}

fn synth(dir: &Path, seed: &str) -> PathBuf {
    let p = dir.join(format!("rib{seed}.mrt"));
    let o = mrtsnap(&["synth", "rib", "--preset", "small", "--seed", seed, "-o", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    p
}

fn pairs(p: &Path) -> BTreeMap<(String, String), u32> {
    let o = mrtsnap(&["snapshot", "--format", "pairs", "-o", "-", p.to_str().unwrap()]);
    assert!(o.status.success());
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            ((f[0].to_string(), f[1].to_string()), f[2].parse().unwrap())
        })
        .collect()
}

/// The diff lines computed from the two inputs' pairs.
fn expected(a: &Path, b: &Path) -> BTreeSet<String> {
    let (a, b) = (pairs(a), pairs(b));
    let keys: BTreeSet<_> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let (x, y) = (a.get(k).copied().unwrap_or(0), b.get(k).copied().unwrap_or(0));
            let change = match (x, y) {
                (0, _) => "appeared",
                (_, 0) => "vanished",
                _ if x != y => "changed",
                _ => return None,
            };
            Some(format!("{change}\t{}\t{}\t{x}\t{y}", k.0, k.1))
        })
        .collect()
}

#[test]
fn cli_diff_of_two_ribs_is_the_difference_of_their_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (synth(dir.path(), "1"), synth(dir.path(), "2"));
    let (sa, sb) = (a.to_str().unwrap(), b.to_str().unwrap());
    let o = mrtsnap(&["diff", sa, sb]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("change\tprefix\torigin\tpeers_before\tpeers_after"));
    let got: Vec<String> = lines.map(String::from).collect();
    let want = expected(&a, &b);
    assert!(!want.is_empty());
    assert_eq!(got.len(), want.len());
    assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), want);
    assert!(String::from_utf8_lossy(&o.stderr).contains(&format!("{} appeared", want.iter().filter(|l| l.starts_with("appeared")).count())));

    // --exit-code: 1 when they differ, 0 when they do not.
    assert_eq!(mrtsnap(&["diff", "--exit-code", sa, sb]).status.code(), Some(1));
    let same = mrtsnap(&["diff", "--exit-code", sa, sa]);
    assert_eq!(same.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(same.stdout).unwrap(),
        "change\tprefix\torigin\tpeers_before\tpeers_after\n"
    );

    // A Parquet snapshot and its RIB are the same state.
    let pq = dir.path().join("a.parquet");
    assert!(mrtsnap(&["snapshot", sa, "-o", pq.to_str().unwrap()]).status.success());
    assert_eq!(mrtsnap(&["diff", "--exit-code", pq.to_str().unwrap(), sa]).status.code(), Some(0));

    // jsonl: the same rows.
    let j = mrtsnap(&["diff", "--format", "jsonl", sa, sb]);
    let jl = String::from_utf8(j.stdout).unwrap();
    assert_eq!(jl.lines().count(), want.len());
    let first = got[0].split('\t').collect::<Vec<_>>();
    assert_eq!(
        jl.lines().next().unwrap(),
        format!(
            "{{\"change\":\"{}\",\"prefix\":\"{}\",\"origin\":\"{}\",\"peers_before\":{},\"peers_after\":{}}}",
            first[0], first[1], first[2], first[3], first[4]
        )
    );

    // Parquet: the same rows, read back.
    let out = dir.path().join("d.parquet");
    assert!(mrtsnap(&["diff", "--format", "parquet", "-o", out.to_str().unwrap(), sa, sb])
        .status
        .success());
    let file = std::fs::File::open(&out).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let s = |i: usize| batch.column(i).as_any().downcast_ref::<arrow_array::StringArray>().unwrap().clone();
        let u = |i: usize| batch.column(i).as_any().downcast_ref::<arrow_array::UInt32Array>().unwrap().clone();
        let (c, p, o, x, y) = (s(0), s(1), s(2), u(3), u(4));
        for k in 0..batch.num_rows() {
            rows.push(format!(
                "{}\t{}\t{}\t{}\t{}",
                c.value(k),
                p.value(k),
                o.value(k),
                x.value(k),
                y.value(k)
            ));
        }
    }
    assert_eq!(rows, got);

    // The output is never an input: refused, the input left as it was.
    let bytes = std::fs::read(&a).unwrap();
    let o = mrtsnap(&["diff", sa, sb, "-o", sa]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read(&a).unwrap(), bytes);
}

#[test]
fn changed_counts_and_set_origins() {
    let peer = |asn| PeerInfo {
        source: 0,
        index: None,
        bgp_id: None,
        addr: None,
        asn: Some(asn),
        ipv4_prefixes: 0,
        ipv6_prefixes: 0,
        full_feed_ipv4: true,
        full_feed_ipv6: true,
    };
    let peers = || vec![peer(1), peer(2), peer(3)];
    let nk: mrtsnap::Prefix = "175.45.176.0/22".parse().unwrap();
    let v6: mrtsnap::Prefix = "2001:db8::/32".parse().unwrap();
    let before = Snapshot::from_rows(
        peers(),
        [
            (nk, Origin::Asn(131279), vec![0, 1, 2]),
            (v6, Origin::set([65002, 65001]), vec![0]),
            (v6, Origin::Asn(65003), vec![1]),
        ],
    )
    .unwrap();
    let after = Snapshot::from_rows(
        peers(),
        [
            (nk, Origin::Asn(131279), vec![2]),
            (v6, Origin::set([65001, 65002]), vec![0]),
            (v6, Origin::None, vec![2]),
        ],
    )
    .unwrap();
    let d = before.diff(&after);
    let rows: Vec<(Change, String, String, u32, u32)> = d
        .rows()
        .iter()
        .map(|r| (r.change, r.prefix.to_string(), r.origin.to_string(), r.peers_before, r.peers_after))
        .collect();
    assert_eq!(
        rows,
        [
            (Change::Changed, "175.45.176.0/22".into(), "131279".into(), 3, 1),
            (Change::Appeared, "2001:db8::/32".into(), "-".into(), 0, 1),
            (Change::Vanished, "2001:db8::/32".into(), "65003".into(), 1, 0),
        ]
    );
    assert_eq!(d.counts(), (1, 1, 1));
    assert!(before.diff(&before).is_empty());
}
