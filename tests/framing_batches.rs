//! Framing decisions must not depend on where batches are cut or on whether
//! the input is mapped or decompressed: the same records, errors and slack
//! for every batch size and form, on inputs with damage between records.

use mrtsnap::mrt::{Record, TableDump};
use mrtsnap::Source;
use std::io::Write;

/// Early-RIS-style TABLE_DUMP records: several entries per record, the
/// declared length 4 bytes short (the tail of the last entry follows it).
fn packed_table_dump(records: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for r in 0..records {
        let mut body = vec![0, 0, (r >> 8) as u8, r as u8];
        for e in 0..(3 + r % 5) {
            body.extend_from_slice(&[10, (r % 250) as u8, e as u8, 0, 24, 1]);
            body.extend_from_slice(&(947_550_744u32).to_be_bytes());
            body.extend_from_slice(&[192, 0, 2, 1, 0x0d, 0xdd, 0, 4, 0x40, 1, 1, 0]);
        }
        let declared = body.len() as u32 - 4;
        out.extend_from_slice(&(947_550_744u32 + r).to_be_bytes());
        out.extend_from_slice(&[0, 12, 0, 1]);
        out.extend_from_slice(&declared.to_be_bytes());
        out.extend_from_slice(&body);
    }
    out
}

/// Per record: (record index, offset, entries decoded, slack length).
type Framed = Vec<(u64, u64, usize, usize)>;

/// The records framed, and the offsets of the errors.
fn walk(src: &Source, batch: usize) -> (Framed, Vec<u64>) {
    let (mut recs, mut errs) = (Vec::new(), Vec::new());
    for b in src.batches(batch) {
        for r in b.records() {
            match r {
                Ok(raw) => {
                    let n = match Record::decode(&raw) {
                        Ok(Record::TableDump(td)) => TableDump::count(td),
                        _ => 0,
                    };
                    recs.push((raw.index, raw.offset, n, raw.slack.len()));
                }
                Err(e) => errs.push(e.offset()),
            }
        }
        if let Some(e) = b.error {
            errs.push(e.offset());
        }
    }
    (recs, errs)
}

#[test]
fn slack_and_garbage_survive_any_batch_cut() {
    let mut data = packed_table_dump(200);
    // A torn write between records: 10 bytes of a header, then the rest.
    let torn = data[..10].to_vec();
    data.extend_from_slice(&torn);
    let mut rest = packed_table_dump(400);
    // Renumber the second half's timestamps to follow the first's.
    data.extend(rest.drain(packed_table_dump(200).len()..));
    let want = walk(&Source::from_bytes("m", data.clone()), 1 << 30);
    assert_eq!(want.0.len(), 400, "{:?}", want.1);
    // Every record complete with its 4 bytes of slack, except the one the torn
    // write follows: its slack is lost in the garbage region.
    assert!(
        want.0.iter().filter(|r| r.0 != 199).all(|r| r.2 >= 3 && r.3 == 4),
        "{:?}",
        &want.0[195..205]
    );
    assert_eq!(want.1.len(), 1, "one garbage region: {:?}", want.1);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&data).unwrap();
    let gz = gz.finish().unwrap();
    for batch in [1024, 1500, 5000, 1 << 16] {
        assert_eq!(walk(&Source::from_bytes("m", data.clone()), batch), want, "mapped, batch {batch}");
        assert_eq!(walk(&Source::from_bytes("gz", gz.clone()), batch), want, "gzip, batch {batch}");
    }
}
