//! Framing layer: arbitrary bytes as a whole MRT input.
//!
//! [`mrtsnap::mrt::Records`] frames the bytes; every record is decoded and
//! walked (RIB and TABLE_DUMP entries with their attributes, BGP messages,
//! prefixes) and written with the bgpdump writer. Uncompressed inputs are
//! also cut into 1 KiB batches by [`mrtsnap::Source`] and decoded through the
//! pipeline, which must frame exactly the same records; and the batches of
//! the in-order and the speculative cutter, walked alone, must give the very
//! same framing steps (records with their offsets, errors) as the whole
//! input (set `MRTSNAP_FUZZ_NO_BATCH_CHECK=1` to leave these comparisons out
//! and fuzz for robustness only).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mrtsnap::mrt::Records;
use mrtsnap::pipeline::for_each_record;
use mrtsnap::Report;
use mrtsnap::{Compression, Source};
use std::sync::OnceLock;

#[path = "../../tests/common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let w = common::walk(data);
    let len = data.len() as u64;
    for e in &w.errors {
        assert!(e.offset() <= len, "error past the end: {e}");
    }
    let mut prev = 0;
    for r in &w.records {
        assert!(r.offset >= prev && r.end > r.offset && r.end <= len, "{r:?}");
        prev = r.end;
    }
    assert!(w.lines() <= data.len());
    static BATCH_CHECK: OnceLock<bool> = OnceLock::new();
    let batch_check = *BATCH_CHECK.get_or_init(|| std::env::var_os("MRTSNAP_FUZZ_NO_BATCH_CHECK").is_none());
    if batch_check && Compression::detect(data) == Compression::None {
        let src = Source::from_bytes("fuzz", data.to_vec());
        let mut report = Report::default();
        for batch in src.batches(1024) {
            for_each_record(&batch, &mut report, false, |_, _, _| {}).expect("not strict");
        }
        assert_eq!(report.records, w.by_type, "batches and whole-input framing disagree");
        let whole = common::frame_steps(Records::from_bytes(data));
        for (how, steps) in common::batch_frame_steps(data, 1024, false) {
            assert_eq!(steps, whole, "{how} batches and whole-input framing disagree");
        }
    }
});
