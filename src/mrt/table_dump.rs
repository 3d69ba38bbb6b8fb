//! Legacy TABLE_DUMP (RFC 6396 §4.2).
//!
//! ```text
//! View Number (2) | Sequence Number (2) | Prefix (4/16) | Prefix Length (1)
//! Status (1) | Originated Time (4) | Peer IP (4/16) | Peer AS (2)
//! Attribute Length (2) | BGP Attributes (variable)
//! ```
//!
//! Early RIS dumps (January 2000) pack many entries into one record: the
//! first entry has view and sequence numbers, the following ones start at
//! the prefix. Their record length is also four bytes short, so the last
//! entry ends in the record's slack (see [`RawRecord::slack`](super::RawRecord)).

use crate::bgp::attr::{AttrContext, Attrs};
use crate::bgp::nlri::{read_addr, Prefix, AFI_IPV6};
use crate::cursor::Reader;
use crate::error::{Error, ErrorKind, Result};
use std::net::IpAddr;

/// One TABLE_DUMP entry.
#[derive(Clone, Copy, Debug)]
pub struct TableDumpEntry<'a> {
    /// View number (from the record's first entry).
    pub view: u16,
    /// Sequence number (from the record's first entry).
    pub sequence: u16,
    /// The prefix.
    pub prefix: Prefix,
    /// Status octet (1 in practice).
    pub status: u8,
    /// Originated time.
    pub originated: u32,
    /// Peer address.
    pub peer_ip: IpAddr,
    /// Peer AS (2 bytes).
    pub peer_as: u32,
    /// Attribute block.
    pub attrs: &'a [u8],
    /// Absolute offset of `attrs`.
    pub attrs_offset: u64,
}

/// How a TABLE_DUMP entry's attributes are read: 2-byte AS_PATH.
const CONTEXT: AttrContext = AttrContext { asn_len: 2, rib_afi: None };

impl<'a> TableDumpEntry<'a> {
    /// Decode the attributes (2-byte AS_PATH).
    pub fn parse_attrs(&self) -> Result<Attrs<'a>> {
        Attrs::parse(self.attrs, self.attrs_offset, CONTEXT)
    }

    /// [`TableDumpEntry::parse_attrs`] into `out` (see [`Attrs::parse_into`]).
    pub fn parse_attrs_into(&self, out: &mut Attrs<'a>) -> Result<()> {
        out.parse_into(self.attrs, self.attrs_offset, CONTEXT)
    }
}

/// A TABLE_DUMP record: one entry, or several in early RIS dumps.
#[derive(Clone, Debug)]
pub struct TableDump<'a> {
    afi: u16,
    view: u16,
    sequence: u16,
    r: Reader<'a>,
    done: bool,
}

impl<'a> TableDump<'a> {
    /// Decode a record of `subtype` (1 = IPv4, 2 = IPv6). `body` is the
    /// declared body, `body_ext` the body followed by the record's slack.
    pub fn parse(subtype: u16, body: &'a [u8], body_ext: &'a [u8], offset: u64) -> Result<TableDump<'a>> {
        let afi = match subtype {
            1 => 1,
            2 => AFI_IPV6,
            s => return Err(Error::bad_value("TABLE_DUMP subtype", u32::from(s), offset)),
        };
        // Use the slack only if the declared body does not end on an entry boundary.
        let data = if body_ext.len() > body.len() && !Self::walk(afi, body, offset) && Self::walk(afi, body_ext, offset) {
            body_ext
        } else {
            body
        };
        let mut r = Reader::new(data, offset);
        let view = r.u16("TABLE_DUMP view")?;
        let sequence = r.u16("TABLE_DUMP sequence")?;
        Ok(TableDump {
            afi,
            view,
            sequence,
            r,
            done: false,
        })
    }

    fn walk(afi: u16, data: &[u8], offset: u64) -> bool {
        let Ok(mut td) = TableDump::parse_inner(afi, data, offset) else {
            return false;
        };
        let mut any = false;
        for e in td.by_ref() {
            if e.is_err() {
                return false;
            }
            any = true;
        }
        any
    }

    fn parse_inner(afi: u16, data: &'a [u8], offset: u64) -> Result<TableDump<'a>> {
        let mut r = Reader::new(data, offset);
        let view = r.u16("TABLE_DUMP view")?;
        let sequence = r.u16("TABLE_DUMP sequence")?;
        Ok(TableDump {
            afi,
            view,
            sequence,
            r,
            done: false,
        })
    }

    /// The AFI of the entries.
    pub fn afi(&self) -> u16 {
        self.afi
    }

    fn read(&mut self) -> Result<TableDumpEntry<'a>> {
        let r = &mut self.r;
        let at = r.offset();
        let addr = read_addr(r, self.afi)?;
        let bits = r.u8("TABLE_DUMP prefix length")?;
        let prefix = Prefix::new(addr, bits).ok_or_else(|| Error::new(ErrorKind::InvalidPrefixLen { afi: self.afi, bits }, at))?;
        let status = r.u8("TABLE_DUMP status")?;
        let originated = r.u32("TABLE_DUMP originated time")?;
        let peer_ip = read_addr(r, self.afi)?;
        let peer_as = u32::from(r.u16("TABLE_DUMP peer AS")?);
        let al = r.u16("TABLE_DUMP attribute length")?;
        let attrs_offset = r.offset();
        let attrs = r.take(usize::from(al), "TABLE_DUMP attributes")?;
        Ok(TableDumpEntry {
            view: self.view,
            sequence: self.sequence,
            prefix,
            status,
            originated,
            peer_ip,
            peer_as,
            attrs,
            attrs_offset,
        })
    }
}

impl<'a> Iterator for TableDump<'a> {
    type Item = Result<TableDumpEntry<'a>>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.r.is_empty() {
            return None;
        }
        let e = self.read();
        self.done = e.is_err();
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(first: bool) -> Vec<u8> {
        let mut v = Vec::new();
        if first {
            v.extend_from_slice(&[0, 0, 0, 5]);
        }
        v.extend_from_slice(&[3, 0, 0, 0, 8, 1, 0x38, 0x79, 0xc8, 0xb4, 204, 152, 166, 29, 0x0d, 0xdd]);
        v.extend_from_slice(&[0, 4, 0x40, 1, 1, 0]);
        v
    }

    /// RFC 6396 §4.2, and the multi-entry form of early RIS dumps.
    #[test]
    fn single_and_packed() {
        let one = entry(true);
        let td: Vec<_> = TableDump::parse(1, &one, &one, 0).unwrap().map(|e| e.unwrap()).collect();
        assert_eq!(td.len(), 1);
        assert_eq!(td[0].prefix.to_string(), "3.0.0.0/8");
        assert_eq!(td[0].peer_ip.to_string(), "204.152.166.29");
        assert_eq!((td[0].peer_as, td[0].sequence, td[0].originated), (3549, 5, 0x3879c8b4));
        let mut packed = entry(true);
        packed.extend(entry(false));
        packed.extend(entry(false));
        // Declared 4 bytes short; the slack completes the last entry.
        let short = &packed[..packed.len() - 4];
        let td: Vec<_> = TableDump::parse(1, short, &packed, 0).unwrap().collect();
        assert_eq!(td.len(), 3);
        assert!(td.iter().all(|e| e.is_ok()));
        for cut in 0..one.len() {
            let all_ok = TableDump::parse(1, &one[..cut], &one[..cut], 0).map(|t| t.count() == 1 && TableDump::walk(1, &one[..cut], 0));
            assert!(!matches!(all_ok, Ok(true)), "cut {cut}");
        }
    }
}
