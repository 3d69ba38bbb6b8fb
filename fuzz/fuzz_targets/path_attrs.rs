//! Path attribute layer: the first byte selects the context (bit 0: 4-byte
//! ASNs; bits 1-2: none, or a TABLE_DUMP_V2 RIB entry of AFI 1 or 2, where
//! MP_REACH_NLRI is abbreviated); the rest is an attribute block parsed with
//! `bgp::Attrs::parse` and walked: every raw attribute, AS path segment,
//! community, MP reach/unreach prefix, the AS4 merge and origin.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mrtsnap::bgp::attr::AttrContext;
use mrtsnap::bgp::{AsPath, Attrs};

#[path = "../../tests/common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, block)) = data.split_first() else { return };
    let ctx = AttrContext {
        asn_len: if sel & 1 != 0 { 4 } else { 2 },
        rib_afi: match (sel >> 1) & 3 {
            1 => Some(1),
            2 => Some(2),
            _ => None,
        },
    };
    let base = 77;
    let end = base + block.len() as u64;
    match Attrs::parse(block, base, ctx) {
        Ok(a) => {
            let mut errors = Vec::new();
            common::walk_attrs(&a, sel & 8 != 0, &mut errors);
            for e in &errors {
                assert!(e.offset() >= base && e.offset() <= end, "error outside the block: {e}");
            }
            // Every raw value, parsed as an AS path of either width.
            for attr in a.raw_attrs().flatten() {
                for asn_len in [2, 4] {
                    if let Ok(p) = AsPath::parse(attr.value, attr.offset, asn_len) {
                        let n: usize = p.segments().map(|s| s.asns().count()).sum();
                        assert!(n * usize::from(asn_len) <= attr.value.len());
                        let _ = p.origin();
                    }
                }
            }
        }
        Err(e) => assert!(e.offset() >= base && e.offset() <= end, "error outside the block: {e}"),
    }
});
