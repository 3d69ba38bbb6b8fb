//! Record layer: the first four bytes give the MRT type and subtype, the
//! rest is that record's body (after the microsecond field for `_ET`
//! types). The record is framed on its own and decoded, every entry,
//! message, attribute and prefix walked, and written with the bgpdump writer.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((head, body)) = data.split_first_chunk::<4>() else {
        return;
    };
    let [t0, t1, s0, s1] = *head;
    let rec = mrtsnap::testkit::mrt(1_400_000_000, u16::from_be_bytes([t0, t1]), u16::from_be_bytes([s0, s1]), body);
    let w = common::walk(&rec);
    for e in &w.errors {
        assert!(e.offset() <= rec.len() as u64, "error past the end: {e}");
    }
    assert!(w.records.len() <= 1 || !w.errors.is_empty());
    assert!(w.lines() <= rec.len());
});
