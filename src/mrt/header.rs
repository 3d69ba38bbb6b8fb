//! The MRT common header and the extended-timestamp header (RFC 6396 §2, §3).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                           Timestamp                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |             Type              |            Subtype            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                             Length                            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      Message... (variable)
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! `_ET` types insert a 4-byte microsecond field after the header; RFC 6396
//! counts it in `Length`.

use zerocopy::network_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

/// The 12-byte MRT common header as it sits on the wire.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct RawHeader {
    /// Seconds since the Unix epoch.
    pub timestamp: U32,
    /// MRT type.
    pub mrt_type: U16,
    /// MRT subtype.
    pub subtype: U16,
    /// Length of the message, excluding the common header.
    pub length: U32,
}

const _: () = assert!(core::mem::size_of::<RawHeader>() == HEADER_LEN);

/// Size of the common header.
pub const HEADER_LEN: usize = 12;

/// MRT type codes (RFC 6396 §4), the values [`MrtType`] names.
pub mod code {
    /// BGP (RFC 6396 §4.1, deprecated; zebra dumps of 1999–2001).
    pub const BGP: u16 = 5;
    /// TABLE_DUMP (RFC 6396 §4.2).
    pub const TABLE_DUMP: u16 = 12;
    /// TABLE_DUMP_V2 (RFC 6396 §4.3).
    pub const TABLE_DUMP_V2: u16 = 13;
    /// BGP4MP (RFC 6396 §4.4).
    pub const BGP4MP: u16 = 16;
    /// BGP4MP_ET (RFC 6396 §4.4, microsecond timestamps).
    pub const BGP4MP_ET: u16 = 17;
}

/// MRT subtype codes of TABLE_DUMP_V2 and BGP4MP (RFC 6396 §4.3, §4.4,
/// RFC 8050), the values [`subtype_name`] names.
pub mod subtype {
    /// TABLE_DUMP_V2 PEER_INDEX_TABLE.
    pub const PEER_INDEX_TABLE: u16 = 1;
    /// TABLE_DUMP_V2 RIB_IPV4_UNICAST.
    pub const RIB_IPV4_UNICAST: u16 = 2;
    /// TABLE_DUMP_V2 RIB_IPV6_UNICAST.
    pub const RIB_IPV6_UNICAST: u16 = 4;
    /// TABLE_DUMP_V2 RIB_IPV4_UNICAST_ADDPATH (RFC 8050).
    pub const RIB_IPV4_UNICAST_ADDPATH: u16 = 8;
    /// TABLE_DUMP_V2 RIB_IPV6_UNICAST_ADDPATH (RFC 8050).
    pub const RIB_IPV6_UNICAST_ADDPATH: u16 = 10;
    /// BGP4MP STATE_CHANGE (2-byte AS numbers).
    pub const STATE_CHANGE: u16 = 0;
    /// BGP4MP MESSAGE (2-byte AS numbers).
    pub const MESSAGE: u16 = 1;
    /// BGP4MP MESSAGE_AS4.
    pub const MESSAGE_AS4: u16 = 4;
    /// BGP4MP STATE_CHANGE_AS4.
    pub const STATE_CHANGE_AS4: u16 = 5;
}

/// A decoded MRT common header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Seconds since the Unix epoch.
    pub timestamp: u32,
    /// MRT type code (see [`MrtType`]).
    pub mrt_type: u16,
    /// MRT subtype code.
    pub subtype: u16,
    /// Declared length of the message, excluding the common header.
    pub length: u32,
}

impl Header {
    /// Decode the header at the start of `buf`, if 12 bytes are there.
    #[inline]
    pub fn parse(buf: &[u8]) -> Option<Header> {
        let (raw, _) = RawHeader::ref_from_prefix(buf).ok()?;
        Some(Header {
            timestamp: raw.timestamp.get(),
            mrt_type: raw.mrt_type.get(),
            subtype: raw.subtype.get(),
            length: raw.length.get(),
        })
    }

    /// The record's type.
    #[inline]
    pub fn kind(&self) -> MrtType {
        MrtType::from(self.mrt_type)
    }

    /// Whether the record is a TABLE_DUMP_V2 PEER_INDEX_TABLE.
    #[inline]
    pub fn is_peer_index_table(&self) -> bool {
        self.mrt_type == u16::from(MrtType::TableDumpV2) && self.subtype == subtype::PEER_INDEX_TABLE
    }

    /// Whether the type carries the extended-timestamp microsecond field.
    #[inline]
    pub fn is_et(&self) -> bool {
        matches!(self.mrt_type, 17 | 33 | 49)
    }
}

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident : $repr:ty { $($(#[$vm:meta])* $var:ident = $val:expr,)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vm])* $var,)*
            /// A code this crate does not know.
            Unknown($repr),
        }
        impl From<$repr> for $name {
            #[inline]
            fn from(v: $repr) -> Self {
                match v { $($val => $name::$var,)* other => $name::Unknown(other) }
            }
        }
        impl From<$name> for $repr {
            #[inline]
            fn from(v: $name) -> $repr {
                match v { $($name::$var => $val,)* $name::Unknown(other) => other }
            }
        }
    };
}

code_enum! {
    /// MRT record types (RFC 6396 §4 and the historic types of §B).
    MrtType: u16 {
        /// Legacy BGP (type 5), used by RIS in 1999-2000.
        Bgp = 5,
        /// OSPFv2.
        Ospf2 = 11,
        /// TABLE_DUMP (v1).
        TableDump = 12,
        /// TABLE_DUMP_V2.
        TableDumpV2 = 13,
        /// BGP4MP.
        Bgp4mp = 16,
        /// BGP4MP with extended timestamp.
        Bgp4mpEt = 17,
        /// IS-IS.
        Isis = 32,
        /// IS-IS with extended timestamp.
        IsisEt = 33,
        /// OSPFv3.
        Ospf3 = 48,
        /// OSPFv3 with extended timestamp.
        Ospf3Et = 49,
    }
}

impl MrtType {
    /// The name RFC 6396 gives the type.
    pub fn name(self) -> &'static str {
        match self {
            MrtType::Bgp => "BGP",
            MrtType::Ospf2 => "OSPFv2",
            MrtType::TableDump => "TABLE_DUMP",
            MrtType::TableDumpV2 => "TABLE_DUMP_V2",
            MrtType::Bgp4mp => "BGP4MP",
            MrtType::Bgp4mpEt => "BGP4MP_ET",
            MrtType::Isis => "ISIS",
            MrtType::IsisEt => "ISIS_ET",
            MrtType::Ospf3 => "OSPFv3",
            MrtType::Ospf3Et => "OSPFv3_ET",
            MrtType::Unknown(_) => "UNKNOWN",
        }
    }
}

/// The name of a subtype of `mrt_type`, as RFC 6396 and its updates give it.
pub fn subtype_name(mrt_type: u16, subtype: u16) -> &'static str {
    match (mrt_type, subtype) {
        (5, 0) => "NULL",
        (5, 1) => "UPDATE",
        (5, 2) => "PREF_UPDATE",
        (5, 3) => "STATE_CHANGE",
        (5, 4) => "SYNC",
        (5, 5) => "OPEN",
        (5, 6) => "NOTIFY",
        (5, 7) => "KEEPALIVE",
        (12, 1) => "AFI_IPv4",
        (12, 2) => "AFI_IPv6",
        (13, 1) => "PEER_INDEX_TABLE",
        (13, 2) => "RIB_IPV4_UNICAST",
        (13, 3) => "RIB_IPV4_MULTICAST",
        (13, 4) => "RIB_IPV6_UNICAST",
        (13, 5) => "RIB_IPV6_MULTICAST",
        (13, 6) => "RIB_GENERIC",
        (13, 7) => "GEO_PEER_TABLE",
        (13, 8) => "RIB_IPV4_UNICAST_ADDPATH",
        (13, 9) => "RIB_IPV4_MULTICAST_ADDPATH",
        (13, 10) => "RIB_IPV6_UNICAST_ADDPATH",
        (13, 11) => "RIB_IPV6_MULTICAST_ADDPATH",
        (13, 12) => "RIB_GENERIC_ADDPATH",
        (16 | 17, 0) => "STATE_CHANGE",
        (16 | 17, 1) => "MESSAGE",
        (16 | 17, 2) => "ENTRY",
        (16 | 17, 3) => "SNAPSHOT",
        (16 | 17, 4) => "MESSAGE_AS4",
        (16 | 17, 5) => "STATE_CHANGE_AS4",
        (16 | 17, 6) => "MESSAGE_LOCAL",
        (16 | 17, 7) => "MESSAGE_AS4_LOCAL",
        (16 | 17, 8) => "MESSAGE_ADDPATH",
        (16 | 17, 9) => "MESSAGE_AS4_ADDPATH",
        (16 | 17, 10) => "MESSAGE_LOCAL_ADDPATH",
        (16 | 17, 11) => "MESSAGE_AS4_LOCAL_ADDPATH",
        _ => "UNKNOWN",
    }
}

/// Whether a record of this type and subtype carries RIB entries: a
/// TABLE_DUMP_V2 RIB subtype (every family, ADD-PATH and RIB_GENERIC
/// included), TABLE_DUMP, or BGP4MP / BGP4MP_ET ENTRY (subtype 2).
#[inline]
pub fn is_rib(mrt_type: u16, subtype: u16) -> bool {
    matches!(
        (mrt_type, subtype),
        (code::TABLE_DUMP_V2, 2..=6 | 8..=12) | (code::TABLE_DUMP, _) | (code::BGP4MP | code::BGP4MP_ET, 2)
    )
}

/// Whether `(mrt_type, subtype)` is a pair this crate knows how to decode or
/// deliberately skip. Used by the framing layer to judge whether a header is
/// plausible.
#[inline]
pub fn is_known(mrt_type: u16, subtype: u16) -> bool {
    match mrt_type {
        5 => subtype <= 7,
        11 | 32 | 33 | 48 | 49 => true,
        12 => matches!(subtype, 1 | 2),
        13 => (1..=12).contains(&subtype),
        16 | 17 => subtype <= 11,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6396 §2: timestamp, type, subtype, length, all network order.
    #[test]
    fn test_deconstruct() {
        let b = [0x53, 0x88, 0xfe, 0x20, 0, 13, 0, 2, 0, 0, 1, 2, 0xff];
        let h = Header::parse(&b).unwrap();
        assert_eq!(h.timestamp, 0x5388fe20);
        assert_eq!(h.kind(), MrtType::TableDumpV2);
        assert_eq!(h.subtype, 2);
        assert_eq!(h.length, 258);
        assert!(!h.is_et());
        for n in 0..HEADER_LEN {
            assert!(Header::parse(&b[..n]).is_none());
        }
        assert_eq!(MrtType::from(99), MrtType::Unknown(99));
        assert_eq!(u16::from(MrtType::Bgp4mpEt), 17);
        assert_eq!(subtype_name(13, 8), "RIB_IPV4_UNICAST_ADDPATH");
    }
}
