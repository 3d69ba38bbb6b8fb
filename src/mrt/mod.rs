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
        let (body, off) = (raw.body, raw.body_offset);
        let r = match (h.mrt_type, h.subtype) {
            (13, 1) => PeerTable::parse(body, off).map(Record::PeerIndexTable),
            (13, 7) => GeoPeerTable::parse(body, off).map(Record::GeoPeerTable),
            (13, 2..=6 | 8..=12) => Rib::parse(h.subtype, body, off).map(Record::Rib),
            (12, 1 | 2) => TableDump::parse(h.subtype, body, raw.body_ext, off).map(Record::TableDump),
            (16 | 17, 0..=11) => Bgp4mp::parse(h.subtype, body, off).map(Record::Bgp4mp),
            (5, 1 | 3 | 5 | 6 | 7) => LegacyBgp::parse(h.subtype, body, off).map(Record::LegacyBgp),
            _ => Ok(Record::Skipped),
        };
        r.map_err(|e| e.in_record(raw.index))
    }
}
