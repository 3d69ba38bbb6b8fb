//! Compressed streams damaged in the middle: a payload cut into gzip
//! members, bzip2 streams, zstd frames or xz streams, bytes of one of them
//! changed, decoded every way; all ways must agree, and every unit that
//! decodes alone must appear in the output. The check is
//! `tests/common/damaged_streams.rs`, shared with `tests/stream_damage.rs`,
//! which replays the inputs of the findings (`regression-*` seeds).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/damaged_streams.rs"]
mod damaged_streams;

fuzz_target!(|input: &[u8]| damaged_streams::check(input));
