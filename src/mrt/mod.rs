//! MRT records (RFC 6396): framing, headers and the record types.
//!
//! [`Records`] cuts a buffer into [`RawRecord`]s; [`Record::decode`] turns
//! one into a typed view that borrows from the buffer. Nothing here
//! allocates per record, except [`PeerTable`], decoded once per file.

pub mod bgp4mp;
pub mod framing;
pub mod header;
pub mod table_dump;
pub mod table_dump_v2;

pub use bgp4mp::{Bgp4mp, Bgp4mpBody, Entry, FsmState, LegacyBgp, Peering};
pub use framing::{FrameState, Framer, RawRecord, Records};
pub use header::{code, subtype, subtype_name, Header, MrtType, HEADER_LEN};
pub use table_dump::{TableDump, TableDumpEntry};
pub use table_dump_v2::{GeoPeer, GeoPeerTable, PeerEntry, PeerTable, Rib, RibEntries, RibEntry};

use crate::error::Result;

/// A decoded MRT record, borrowing from the input.
#[derive(Clone, Debug)]
pub enum Record<'a> {
    /// TABLE_DUMP_V2 PEER_INDEX_TABLE.
    PeerIndexTable(PeerTable),
    /// TABLE_DUMP_V2 RIB record (any RIB subtype).
    Rib(Rib<'a>),
    /// TABLE_DUMP (v1).
    TableDump(TableDump<'a>),
    /// BGP4MP or BGP4MP_ET.
    Bgp4mp(Bgp4mp<'a>),
    /// Legacy BGP (type 5).
    LegacyBgp(LegacyBgp<'a>),
    /// TABLE_DUMP_V2 GEO_PEER_TABLE (RFC 6397).
    GeoPeerTable(GeoPeerTable),
    /// A type the crate skips (OSPF, IS-IS, unknown types and subtypes).
    Skipped,
}

impl<'a> Record<'a> {
    /// Decode a framed record. Errors carry the record index.
    pub fn decode(raw: &RawRecord<'a>) -> Result<Record<'a>> {
        let h = &raw.header;
        if let (16 | 17, 0..=11) = (h.mrt_type, h.subtype) {
            let mut out = Ok(Record::Skipped);
            Bgp4mp::decode_into(h.subtype, raw.body, raw.body_offset, raw.index, &mut out);
            return out;
        }
        let (body, off) = (raw.body, raw.body_offset);
        // Each record is built in the return value; a `map` / `map_err`
        // chain moved the whole enum (544 bytes, the size of a decoded BGP
        // message) once more per record: 38M of the 1,325M instructions of
        // `snapshot --threads 1` on the route-views.jinx RIB (callgrind).
        let e = match (h.mrt_type, h.subtype) {
            (13, 1) => match PeerTable::parse(body, off) {
                Ok(t) => return Ok(Record::PeerIndexTable(t)),
                Err(e) => e,
            },
            (13, 7) => match GeoPeerTable::parse(body, off) {
                Ok(t) => return Ok(Record::GeoPeerTable(t)),
                Err(e) => e,
            },
            (13, 2..=6 | 8..=12) => match Rib::parse(h.subtype, body, off) {
                Ok(r) => return Ok(Record::Rib(r)),
                Err(e) => e,
            },
            (12, 1 | 2) => match TableDump::parse(h.subtype, body, raw.body_ext, off) {
                Ok(t) => return Ok(Record::TableDump(t)),
                Err(e) => e,
            },
            (5, 1 | 3 | 5 | 6 | 7) => match LegacyBgp::parse(h.subtype, body, off) {
                Ok(m) => return Ok(Record::LegacyBgp(m)),
                Err(e) => e,
            },
            _ => return Ok(Record::Skipped),
        };
        Err(e.in_record(raw.index))
    }

    /// Decode a framed record into `out`, whatever it held: what
    /// `*out = Record::decode(raw)` does, without moving the record.
    ///
    /// # Performance
    /// A decoded BGP message is 544 bytes; returned by value it is copied
    /// into the caller's place once more. Walking the records of a batch
    /// with one `out` reused, `stats --threads 1` on the RIS 2016 updates
    /// file ×4 took 95.6M instructions against 101.8M through
    /// [`Record::decode`], and 75.9 ms against 79.4 ms on the file ×40 (one
    /// pinned core, alternated runs); 108.9 against 113.4 ms on the PCH
    /// 2015 updates file ×10.
    ///
    /// # Example
    /// ```
    /// # let record: Vec<u8> = [
    /// #     &[0x5e, 0x0b, 0xe1, 0x00, 0, 16, 0, 4, 0, 0, 0, 71][..],
    /// #     &[0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
    /// #     &[0xff; 16], &[0, 51, 2, 0, 0, 0, 24],
    /// #     &[0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1],
    /// #     &[24, 192, 0, 2],
    /// # ].concat();
    /// use mrtsnap::mrt::{Record, Records};
    /// let mut out = Ok(Record::Skipped);
    /// for raw in Records::from_bytes(&record) {
    ///     let raw = raw?;
    ///     Record::decode_into(&raw, &mut out);
    ///     assert!(matches!(out, Ok(Record::Bgp4mp(_))));
    /// }
    /// # Ok::<(), mrtsnap::Error>(())
    /// ```
    #[inline]
    pub fn decode_into(raw: &RawRecord<'a>, out: &mut Result<Record<'a>>) {
        let h = &raw.header;
        match (h.mrt_type, h.subtype) {
            (16 | 17, 0..=11) => Bgp4mp::decode_into(h.subtype, raw.body, raw.body_offset, raw.index, out),
            // Written in place as well: through `Record::decode` the RIB
            // record, most of a RIB dump, was copied whole into `out`
            // (8.5M of the 1,039M instructions of a snapshot of the
            // route-views.jinx RIB).
            //
            // Over a record of the same kind only the view is written:
            // `*out = Ok(Record::Rib(r))` built the whole enum (544 bytes)
            // and copied it, a memcpy per record (37.8M of the 1,014M
            // instructions on the jinx RIB, and 9.9% of the time of two
            // threads on jinx x10, perf).
            (13, 2..=6 | 8..=12) => match Rib::parse(h.subtype, raw.body, raw.body_offset) {
                Ok(r) => match out {
                    Ok(Record::Rib(slot)) => *slot = r,
                    _ => *out = Ok(Record::Rib(r)),
                },
                Err(e) => *out = Err(e.in_record(raw.index)),
            },
            (12, 1 | 2) => match TableDump::parse(h.subtype, raw.body, raw.body_ext, raw.body_offset) {
                Ok(t) => match out {
                    Ok(Record::TableDump(slot)) => *slot = t,
                    _ => *out = Ok(Record::TableDump(t)),
                },
                Err(e) => *out = Err(e.in_record(raw.index)),
            },
            _ => *out = Record::decode(raw),
        }
    }
}
