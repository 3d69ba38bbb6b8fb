//! Framing across jumps in time: a chain of headers that parse and chain by
//! their lengths is trusted whatever its timestamps. Files of different
//! years concatenated, and a generated file whose clock steps back and
//! forth, frame every record of every part, exactly as each part alone,
//! with no error, whole or cut into batches by every cutter.

mod common;

use common::{batch_frame_steps, frame_steps, walk, FrameStep};
use mrtsnap::mrt::Records;
use mrtsnap::synth::{write_updates, UpdatesOptions};
use std::collections::BTreeMap;

/// `parts` concatenated: the framing steps must be those of each part
/// alone, offsets and indexes shifted, with no error; the same for batches
/// of `batch` bytes by every cutter. Returns the records by type.
fn check_concatenation(parts: &[&[u8]], batch: usize) -> BTreeMap<(u16, u16), u64> {
    let data = parts.concat();
    let mut want: Vec<FrameStep> = Vec::new();
    let mut by_type = BTreeMap::new();
    let (mut base, mut index) = (0u64, 0u64);
    for (i, part) in parts.iter().enumerate() {
        let w = walk(part);
        assert_eq!(w.frame_errors, 0, "part {i} alone: {:?}", w.errors.first());
        for (k, n) in w.by_type {
            *by_type.entry(k).or_insert(0) += n;
        }
        for step in frame_steps(Records::from_bytes(part)) {
            let (idx, off, end, kind) = step.expect("no framing error in a part alone");
            want.push(Ok((idx + index, off + base, end + base, kind)));
        }
        base += part.len() as u64;
        index = want.len() as u64;
    }
    let whole = frame_steps(Records::from_bytes(&data));
    assert_eq!(whole.len(), want.len(), "records of the parts framed");
    assert!(whole == want, "concatenation frames differently from its parts");
    let w = walk(&data);
    assert_eq!((w.frame_errors, &w.by_type), (0, &by_type));
    for (how, steps) in batch_frame_steps(&data, batch, true) {
        assert!(steps == whole, "{how} batches frame differently from the whole input");
    }
    by_type
}

/// Generated BGP4MP/BGP4MP_ET updates of `messages` records from `start`.
fn updates(start: u32, messages: usize, seed: u64, et: bool) -> (Vec<u8>, u64) {
    let opts = UpdatesOptions {
        seed,
        messages,
        start_time: start,
        duration_secs: 60,
        et,
        ..UpdatesOptions::small()
    };
    let mut out = Vec::new();
    let summary = write_updates(&opts, &mut out).expect("generate");
    assert_eq!(summary.records, messages as u64);
    (out, summary.records)
}

/// A collector's clock steps back 40 days, forward three years, back to
/// where it was, and one record in the middle is stamped 1970; the file
/// ends two records after a step (fewer than a chain). Every record is
/// framed and decoded, none reported as garbage.
#[test]
fn generated_clock_steps_back_and_forth() {
    let t = 1_700_000_000u32;
    let segments = [
        updates(t, 1500, 1, true),
        updates(t - 40 * 86_400, 700, 2, false),
        updates(t + 3 * 365 * 86_400, 900, 3, true),
        updates(t + 120, 300, 4, true),
        updates(12_345, 1, 5, false),
        updates(t + 200, 400, 6, false),
        updates(t - 400 * 86_400, 2, 7, true),
    ];
    let parts: Vec<&[u8]> = segments.iter().map(|(d, _)| d.as_slice()).collect();
    let by_type = check_concatenation(&parts, 1024);
    let want: u64 = segments.iter().map(|(_, n)| n).sum();
    assert_eq!(want, 3803);
    assert_eq!(by_type.values().sum::<u64>(), want);
    // Both record types were in play across the steps.
    assert!(
        by_type.keys().any(|k| k.0 == 16) && by_type.keys().any(|k| k.0 == 17),
        "{by_type:?}"
    );
}

/// RIPE RIS updates files of 2007, 2010 and 2016, concatenated in both
/// orders: all records of both files (bgpdump and every other reader decode
/// them all; framing used to skip the second file as garbage).
#[test]
fn corpus_files_of_different_years_concatenated() {
    let dir = corpus_or_skip!();
    let file = |name: &str| common::read_corpus_file(&dir, &format!("RIPE-NCC+bgpdump/test_data/{name}"));
    let y2007 = file("updates.20070211.0141.gz");
    let y2010 = file("updates.20100722.2015.gz");
    let y2016 = file("updates.20160811.1600.gz");
    let total = |m: &BTreeMap<(u16, u16), u64>| m.values().sum::<u64>();
    assert_eq!(total(&check_concatenation(&[&y2007, &y2016], 1 << 16)), 23_394 + 17_406);
    assert_eq!(total(&check_concatenation(&[&y2016, &y2007], 1 << 16)), 17_406 + 23_394);
    assert_eq!(total(&check_concatenation(&[&y2007, &y2010], 1 << 16)), 23_394 + 2_193);
    assert_eq!(total(&check_concatenation(&[&y2010, &y2007], 1 << 16)), 2_193 + 23_394);
    assert_eq!(y2016.len(), 2_433_383);
}
