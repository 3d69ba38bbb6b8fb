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
        let mut out = Ok(Record::Skipped);
        Record::decode_into(raw, &mut out);
        out
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
        let (h, body, off, index) = (&raw.header, raw.body, raw.body_offset, raw.index);
        match (h.mrt_type, h.subtype) {
            (16 | 17, 0..=11) => Bgp4mp::decode_into(h.subtype, body, off, index, out),
            (13, 2..=6 | 8..=12) => put(out, Rib::parse(h.subtype, body, off), index, Record::rib_mut, Record::Rib),
            (12, 1 | 2) => {
                let td = TableDump::parse(h.subtype, body, raw.body_ext, off);
                put(out, td, index, Record::table_dump_mut, Record::TableDump);
            }
            _ => Record::decode_rare_into(raw, out),
        }
    }

    /// [`Record::decode_into`] of the kinds that come once or a few times
    /// per file (tables, legacy BGP, skipped types): out of line, so that
    /// the walk over the records of a dump keeps its decoders inline.
    #[inline(never)]
    fn decode_rare_into(raw: &RawRecord<'a>, out: &mut Result<Record<'a>>) {
        let (h, body, off, index) = (&raw.header, raw.body, raw.body_offset, raw.index);
        match (h.mrt_type, h.subtype) {
            (13, 1) => set(out, PeerTable::parse(body, off), index, Record::PeerIndexTable),
            (13, 7) => set(out, GeoPeerTable::parse(body, off), index, Record::GeoPeerTable),
            (5, 1 | 3 | 5 | 6 | 7) => set(out, LegacyBgp::parse(h.subtype, body, off), index, Record::LegacyBgp),
            _ => *out = Ok(Record::Skipped),
        }
    }

    /// The RIB view of a RIB record.
    fn rib_mut(&mut self) -> Option<&mut Rib<'a>> {
        match self {
            Record::Rib(r) => Some(r),
            _ => None,
        }
    }

    /// The TABLE_DUMP view of a TABLE_DUMP record.
    fn table_dump_mut(&mut self) -> Option<&mut TableDump<'a>> {
        match self {
            Record::TableDump(t) => Some(t),
            _ => None,
        }
    }
}

/// Store a decoded view in `out` as the record `wrap` makes of it, or its
/// error in record `index`.
///
/// # Performance
/// Built in `out`: returned by value through a `map` / `map_err` chain, the
/// whole enum (544 bytes, the size of a decoded BGP message) moved once
/// more per record: 38M of the 1,325M instructions of `snapshot --threads
/// 1` on the route-views.jinx RIB (callgrind).
#[inline(always)]
pub(super) fn set<'a, T>(out: &mut Result<Record<'a>>, r: Result<T>, index: u64, wrap: impl FnOnce(T) -> Record<'a>) {
    *out = match r {
        Ok(v) => Ok(wrap(v)),
        Err(e) => Err(e.in_record(index)),
    };
}

/// [`set`], writing only the view when `out` holds a record of the same
/// kind (`slot` finds its view).
///
/// # Performance
/// A RIB dump is a run of RIB records decoded over one another: through
/// [`set`] each built the whole enum and copied it, a memcpy per record
/// (37.8M of the 1,014M instructions of the snapshot of the jinx RIB, and
/// 9.9% of the time of two threads on jinx ×10, perf).
#[inline(always)]
fn put<'a, T>(
    out: &mut Result<Record<'a>>,
    r: Result<T>,
    index: u64,
    slot: impl for<'r> FnOnce(&'r mut Record<'a>) -> Option<&'r mut T>,
    wrap: impl FnOnce(T) -> Record<'a>,
) {
    match r {
        Ok(v) => match out.as_mut().ok().and_then(slot) {
            Some(s) => *s = v,
            None => *out = Ok(wrap(v)),
        },
        Err(e) => *out = Err(e.in_record(index)),
    }
}
