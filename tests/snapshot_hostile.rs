//! Snapshots of hostile but decodable inputs: a malformed AS_PATH (RFC 7606
//! treat-as-withdraw) and a malformed AS4_PATH (RFC 6793 attribute
//! discard).

use mrtsnap::snapshot::{Snapshot, SnapshotOptions};
use mrtsnap::Source;

/// The example RIB with the AS_PATH of 198.51.100.0/24 from peer 1
/// (`65002 64502`) claiming 255 ASNs in its one segment, nothing behind
/// the 8 bytes of the two it has.
fn rib_with_malformed_as_path() -> Vec<u8> {
    let mut rib = mrtsnap::snapshot::example_rib();
    let path = [0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xea, 0, 0, 0xfb, 0xf6];
    let at = rib.windows(path.len()).position(|w| w == path).expect("the path");
    assert_eq!(at, 279);
    rib[at + 4] = 255;
    rib
}

fn build(data: Vec<u8>) -> Snapshot {
    Snapshot::build(&Source::from_bytes("rib", data), &SnapshotOptions::default()).expect("build")
}

fn pairs(s: &Snapshot) -> String {
    let mut v = Vec::new();
    s.write_pairs(&mut v).expect("write pairs");
    String::from_utf8(v).expect("utf8")
}

const EXAMPLE_PAIRS: &str = "192.0.0.0/16\t64500\t1\n192.0.2.0/24\t64500\t2\n192.0.2.0/24\t{64510,64511}\t1\n\
    198.51.100.0/24\t64501\t1\n198.51.100.0/24\t64502\t1\n2001:db8::/32\t64503\t1\n";

/// The route is withdrawn: no pair, an error of kind `malformed-attribute` at
/// the attribute, every other route kept.
#[test]
fn malformed_as_path_withdraws_the_route() {
    assert_eq!(pairs(&build(mrtsnap::snapshot::example_rib())), EXAMPLE_PAIRS);
    let snap = build(rib_with_malformed_as_path());
    assert_eq!(pairs(&snap), EXAMPLE_PAIRS.replace("198.51.100.0/24\t64502\t1\n", ""));
    let r = snap.report();
    assert_eq!(
        r.errors.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
        [("malformed-attribute", 1)]
    );
    let e = &r.first_errors[0];
    assert_eq!((e.offset(), e.record()), (279, Some(3)));
    assert_eq!(
        e.to_string(),
        "record 3 at byte 0x117: malformed AS_PATH attribute: route treated as withdrawn (RFC 7606)"
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    // Strict: the first error stops the build.
    let strict = SnapshotOptions {
        strict: true,
        ..Default::default()
    };
    let e = Snapshot::build(&Source::from_bytes("rib", rib_with_malformed_as_path()), &strict).expect_err("strict");
    assert_eq!(e.kind().name(), "malformed-attribute");
}

/// The command line exits 1 and names the record and offset; the pairs
/// lack the withdrawn route.
#[test]
fn cli_exits_one_on_a_withdrawn_route() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("rib.mrt");
    std::fs::write(&input, rib_with_malformed_as_path()).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mrtsnap"))
        .args(["snapshot", "--format", "pairs", "-o", "-"])
        .arg(&input)
        .output()
        .expect("run mrtsnap");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        EXAMPLE_PAIRS.replace("198.51.100.0/24\t64502\t1\n", "")
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("record 3 at byte 0x117: malformed AS_PATH attribute: route treated as withdrawn (RFC 7606)"),
        "{err}"
    );
}
