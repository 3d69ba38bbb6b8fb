//! JSON lines: one JSON object per route, with every decoded field.
//!
//! [`write_record`] appends the lines of one record to a byte buffer. It is
//! written by hand with the allocation-free writers of [`crate::fmt`]: no
//! `format!`, no intermediate values, nothing allocated per route; strings
//! that come from the input (view and file names) are escaped, invalid
//! UTF-8 replaced by U+FFFD.
//!
//! # Lines
//!
//! Every line is an object whose `type` says what it is, followed by the
//! record's `record` index, `timestamp`, `micros` (`_ET` records, else
//! `null`), `mrt_type` and `mrt_subtype` (RFC 6396 names). Keys are always
//! present: an absent value is `null`, an absent list `[]`.
//!
//! * `rib`, `announce`, `withdraw`: one per route, as [`crate::routes`]
//!   yields them (one per RIB entry, one per announced or withdrawn
//!   prefix), with `peer_index`, `peer_ip`, `peer_asn`, `prefix`,
//!   `path_id`, `originated`, `as_path` (the bgpdump rendering: `{}` sets,
//!   `()` and `[]` confederations), `as_path_segments` (`[{"type":
//!   "AS_SEQUENCE","asns":[..]},..]`; AS_PATH merged with AS4_PATH per RFC
//!   6793), `origin_as` (a number, an array for a trailing AS_SET in
//!   wire order, or `null`), `origin` (`IGP`, `EGP`, `INCOMPLETE`), `next_hop`,
//!   `local_pref`, `med`, `communities` (`"asn:value"`),
//!   `large_communities` (`"global:local1:local2"`), `extended_communities`
//!   (`{"type","subtype","value"}`, value the 6 remaining bytes in hex),
//!   `ipv6_extended_communities` (hex), `atomic_aggregate`, `aggregator`
//!   (`{"asn","id"}`, AS4_AGGREGATOR substituted), `originator_id`,
//!   `cluster_list`, `only_to_customer`, `aigp` (the metric), and the
//!   counts `unknown_attributes` and `attribute_warnings` (RFC 7606
//!   conditions). Withdrawals carry the attributes of their UPDATE.
//! * `state`: a BGP FSM state change, with `old_state`/`new_state` and
//!   their RFC 6396 names (`Idle` .. `Established`, Quagga's `Clearing` and
//!   `Deleted`).
//! * `peer_table`: a PEER_INDEX_TABLE, with its peers.
//! * `open`, `notification`, `keepalive`, `route_refresh`,
//!   `unknown_message`: the other BGP messages of BGP4MP and legacy BGP
//!   records.
//! * `skipped`: records this crate does not decode (OSPF, IS-IS, unknown
//!   types, GEO_PEER_TABLE, SNAPSHOT, RIB_GENERIC of other families), one
//!   line each so that no record disappears without a trace.
//!
//! So the `rib`, `announce`, `withdraw` and `state` lines correspond one to
//! one to the lines of the `bgpdump` format, except where that format
//! (like `bgpdump -m`) prints nothing: RIB records without a peer table,
//! BGP4MP ENTRY records. UPDATEs without IPv4/IPv6 prefixes (End-of-RIB,
//! other families) give no line. Damage inside a record drops what it
//! touches, as in the bgpdump format, and [`write_record`] returns it, for
//! the caller to count as every command does; an announcement whose
//! attributes are treat-as-withdraw (RFC 7606) is a `withdraw` line.

use crate::bgp::as_path::{AS_CONFED_SEQUENCE, AS_CONFED_SET, AS_SEQUENCE, AS_SET};
use crate::bgp::message::Message;
use crate::bgp::OriginRef;
use crate::error::Error;
use crate::fmt::{json_str, write_ip, write_ipv4, write_u32, write_u64, HEX};
use crate::mrt::{subtype_name, Bgp4mpBody, MrtType, PeerTable, RawRecord, Record};
use crate::routes::{routes_of, Route};
use std::net::IpAddr;

/// Append the JSON lines of one record to `out`. `peers` is the
/// PEER_INDEX_TABLE in effect (as [`crate::pipeline::for_each_record`]
/// hands it over). See the [module documentation](self) for the lines.
/// Returns the first damage met inside the record (see
/// [`crate::routes::RecordRoutes::error`]).
///
/// # Example
/// ```
/// use mrtsnap::mrt::{Record, Records};
/// let record: Vec<u8> = [
///     // BGP4MP (16) / MESSAGE_AS4 (4), peer AS 65001 at 10.0.0.1.
///     &[0x5e, 0x0b, 0xe1, 0x00, 0, 16, 0, 4, 0, 0, 0, 71][..],
///     &[0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2],
///     // UPDATE: ORIGIN IGP, AS_PATH 65001 65002, NEXT_HOP 10.0.0.1, NLRI 192.0.2.0/24.
///     &[0xff; 16], &[0, 51, 2, 0, 0, 0, 24],
///     &[0x40, 1, 1, 0, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 10, 0, 0, 1],
///     &[24, 192, 0, 2],
/// ]
/// .concat();
/// let raw = Records::from_bytes(&record).next().unwrap()?;
/// let rec = Record::decode(&raw)?;
/// let mut out = Vec::new();
/// mrtsnap::dump::jsonl::write_record(&raw, &rec, None, &mut out);
/// let line = String::from_utf8(out).unwrap();
/// assert!(line.starts_with(r#"{"type":"announce","record":0,"timestamp":1577836800,"micros":null,"#));
/// assert!(line.contains(r#""prefix":"192.0.2.0/24""#));
/// assert!(line.contains(r#""as_path":"65001 65002","as_path_segments":[{"type":"AS_SEQUENCE","asns":[65001,65002]}]"#));
/// assert!(line.ends_with("}\n"));
/// # Ok::<(), mrtsnap::Error>(())
/// ```
pub fn write_record(raw: &RawRecord<'_>, rec: &Record<'_>, peers: Option<&PeerTable>, out: &mut Vec<u8>) -> Option<Error> {
    match rec {
        Record::Rib(rib) if rib.prefix.is_none() => {
            write_skipped(raw, out, b"RIB_GENERIC of another address family");
            None
        }
        Record::Rib(_) | Record::TableDump(_) => write_routes(raw, rec, peers, out),
        Record::PeerIndexTable(t) => {
            write_peer_table(raw, t, out);
            None
        }
        Record::Bgp4mp(m) => {
            let side = Sides {
                peer_ip: m.peering.peer_ip,
                peer_as: m.peering.peer_as,
                local_ip: m.peering.local_ip,
                local_as: m.peering.local_as,
            };
            write_body(raw, rec, &m.body, &side, out)
        }
        Record::LegacyBgp(l) => {
            let side = Sides {
                peer_ip: IpAddr::V4(l.peer_ip),
                peer_as: l.peer_as,
                local_ip: IpAddr::V4(l.local_ip),
                local_as: l.local_as,
            };
            write_body(raw, rec, &l.body, &side, out)
        }
        Record::GeoPeerTable(_) => {
            write_skipped(raw, out, b"GEO_PEER_TABLE is not decoded");
            None
        }
        Record::Skipped => {
            write_skipped(raw, out, b"record type not decoded");
            None
        }
    }
}

/// Both ends of a BGP4MP or legacy BGP record.
struct Sides {
    peer_ip: IpAddr,
    peer_as: u32,
    local_ip: IpAddr,
    local_as: u32,
}

impl Sides {
    fn write(&self, out: &mut Vec<u8>) {
        key(out, b"peer_ip");
        opt_ip(out, Some(self.peer_ip).filter(|a| !a.is_unspecified()));
        key(out, b"peer_asn");
        write_u32(out, self.peer_as);
        key(out, b"local_ip");
        opt_ip(out, Some(self.local_ip).filter(|a| !a.is_unspecified()));
        key(out, b"local_asn");
        write_u32(out, self.local_as);
    }
}

fn write_body(raw: &RawRecord<'_>, rec: &Record<'_>, body: &Bgp4mpBody<'_>, side: &Sides, out: &mut Vec<u8>) -> Option<Error> {
    match body {
        Bgp4mpBody::StateChange { old, new } => {
            head(out, b"state", raw);
            side.write(out);
            key(out, b"old_state");
            write_u32(out, u32::from(old.code()));
            key(out, b"new_state");
            write_u32(out, u32::from(new.code()));
            key(out, b"old_state_name");
            opt_name(out, old.name());
            key(out, b"new_state_name");
            opt_name(out, new.name());
            out.extend_from_slice(b"}\n");
            None
        }
        Bgp4mpBody::Message {
            message: Message::Update(_),
            ..
        }
        | Bgp4mpBody::Entry(_) => write_routes(raw, rec, None, out),
        Bgp4mpBody::Message { message, .. } => {
            write_message(raw, message, side, out);
            None
        }
        Bgp4mpBody::Snapshot { .. } => {
            write_skipped(raw, out, b"SNAPSHOT is not decoded");
            None
        }
    }
}

fn write_message(raw: &RawRecord<'_>, m: &Message<'_>, side: &Sides, out: &mut Vec<u8>) {
    let ty: &[u8] = match m {
        Message::Open(_) => b"open",
        Message::Notification { .. } => b"notification",
        Message::Keepalive => b"keepalive",
        Message::RouteRefresh { .. } => b"route_refresh",
        Message::Unknown { .. } | Message::Update(_) => b"unknown_message",
    };
    head(out, ty, raw);
    side.write(out);
    match m {
        Message::Open(o) => {
            key(out, b"version");
            write_u32(out, u32::from(o.version));
            key(out, b"my_as");
            write_u32(out, u32::from(o.my_as));
            key(out, b"hold_time");
            write_u32(out, u32::from(o.hold_time));
            key(out, b"bgp_id");
            quoted_ip(out, IpAddr::V4(o.bgp_id));
            key(out, b"as4");
            opt_u32(out, o.as4());
            key(out, b"capabilities");
            out.push(b'[');
            for (i, (code, _)) in o.capabilities().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_u32(out, u32::from(code));
            }
            out.push(b']');
        }
        Message::Notification { code, subcode, data } => {
            key(out, b"code");
            write_u32(out, u32::from(*code));
            key(out, b"subcode");
            write_u32(out, u32::from(*subcode));
            key(out, b"data");
            hex_str(out, data);
        }
        Message::RouteRefresh { afi, subtype, safi } => {
            key(out, b"afi");
            write_u32(out, u32::from(*afi));
            key(out, b"safi");
            write_u32(out, u32::from(*safi));
            key(out, b"refresh_subtype");
            write_u32(out, u32::from(*subtype));
        }
        Message::Unknown { msg_type, body } => {
            key(out, b"msg_type");
            write_u32(out, u32::from(*msg_type));
            key(out, b"length");
            write_u64(out, body.len() as u64);
        }
        Message::Keepalive | Message::Update(_) => {}
    }
    out.extend_from_slice(b"}\n");
}

fn write_peer_table(raw: &RawRecord<'_>, t: &PeerTable, out: &mut Vec<u8>) {
    head(out, b"peer_table", raw);
    key(out, b"collector_id");
    match t.collector_id {
        Some(id) => quoted_ip(out, IpAddr::V4(id)),
        None => out.extend_from_slice(b"null"),
    }
    key(out, b"view_name");
    json_str(out, t.view_name.as_bytes());
    key(out, b"peers");
    out.push(b'[');
    for (i, p) in t.peers.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"index\":");
        write_u32(out, u32::from(p.index));
        key(out, b"bgp_id");
        quoted_ip(out, IpAddr::V4(p.bgp_id));
        key(out, b"ip");
        quoted_ip(out, p.addr);
        key(out, b"asn");
        write_u32(out, p.asn);
        out.push(b'}');
    }
    out.extend_from_slice(b"]}\n");
}

fn write_skipped(raw: &RawRecord<'_>, out: &mut Vec<u8>, reason: &[u8]) {
    head(out, b"skipped", raw);
    key(out, b"mrt_type_code");
    write_u32(out, u32::from(raw.header.mrt_type));
    key(out, b"mrt_subtype_code");
    write_u32(out, u32::from(raw.header.subtype));
    key(out, b"length");
    write_u32(out, raw.header.length);
    key(out, b"reason");
    json_str(out, reason);
    out.extend_from_slice(b"}\n");
}

fn write_routes(raw: &RawRecord<'_>, rec: &Record<'_>, peers: Option<&PeerTable>, out: &mut Vec<u8>) -> Option<Error> {
    let mut routes = routes_of(raw, rec, peers);
    for r in routes.by_ref() {
        // null where the record does not tell: a TABLE_DUMP_V2 entry whose
        // peer the table lacks, a BGP4MP record without the peer's address.
        let known = match r.peer.index {
            Some(i) => peers.and_then(|t| t.get(i)).is_some(),
            None => !r.peer.addr.is_unspecified(),
        };
        write_route(raw, &r, known, out);
    }
    routes.take_error()
}

/// The common start of every line.
fn head(out: &mut Vec<u8>, ty: &[u8], raw: &RawRecord<'_>) {
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(ty);
    out.extend_from_slice(b"\",\"record\":");
    write_u64(out, raw.index);
    key(out, b"timestamp");
    write_u32(out, raw.header.timestamp);
    key(out, b"micros");
    opt_u32(out, raw.micros);
    key(out, b"mrt_type");
    out.push(b'"');
    out.extend_from_slice(MrtType::from(raw.header.mrt_type).name().as_bytes());
    out.extend_from_slice(b"\",\"mrt_subtype\":\"");
    out.extend_from_slice(subtype_name(raw.header.mrt_type, raw.header.subtype).as_bytes());
    out.push(b'"');
}

fn write_route(raw: &RawRecord<'_>, r: &Route<'_>, known: bool, out: &mut Vec<u8>) {
    let a = &r.attrs;
    head(out, r.kind.name().as_bytes(), raw);
    key(out, b"peer_index");
    opt_u32(out, r.peer.index.map(u32::from));
    key(out, b"peer_ip");
    opt_ip(out, Some(r.peer.addr).filter(|_| known));
    key(out, b"peer_asn");
    opt_u32(out, Some(r.peer.asn).filter(|_| known || r.peer.index.is_none()));
    key(out, b"prefix");
    out.push(b'"');
    r.prefix.write_to(out);
    out.push(b'"');
    key(out, b"path_id");
    opt_u32(out, r.path_id);
    key(out, b"originated");
    opt_u32(out, r.originated);

    key(out, b"as_path");
    out.push(b'"');
    crate::bgp::as_path::write_path(out, r.as_path_segments().map(|s| (s.kind(), s.asns())));
    out.push(b'"');
    key(out, b"as_path_segments");
    out.push(b'[');
    for (i, s) in r.as_path_segments().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(match s.kind() {
            AS_SET => b"AS_SET",
            AS_SEQUENCE => b"AS_SEQUENCE",
            AS_CONFED_SEQUENCE => b"AS_CONFED_SEQUENCE",
            AS_CONFED_SET => b"AS_CONFED_SET",
            _ => b"UNKNOWN",
        });
        out.extend_from_slice(b"\",\"asns\":");
        u32_list(out, s.asns());
        out.push(b'}');
    }
    out.push(b']');
    key(out, b"origin_as");
    match r.origin_as() {
        OriginRef::None => out.extend_from_slice(b"null"),
        OriginRef::Asn(a) => write_u32(out, a),
        OriginRef::Set(s) => u32_list(out, s.asns()),
    }
    key(out, b"origin");
    opt_name(
        out,
        a.origin.map(|o| match o {
            0 => "IGP",
            1 => "EGP",
            2 => "INCOMPLETE",
            _ => "UNKNOWN",
        }),
    );
    key(out, b"next_hop");
    opt_ip(out, r.next_hop());
    key(out, b"local_pref");
    opt_u32(out, a.local_pref);
    key(out, b"med");
    opt_u32(out, a.med);

    key(out, b"communities");
    out.push(b'[');
    for (i, (asn, v)) in a.communities().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        write_u32(out, u32::from(asn));
        out.push(b':');
        write_u32(out, u32::from(v));
        out.push(b'"');
    }
    out.push(b']');
    key(out, b"large_communities");
    out.push(b'[');
    for (i, (g, l1, l2)) in a.large_communities().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        write_u32(out, g);
        out.push(b':');
        write_u32(out, l1);
        out.push(b':');
        write_u32(out, l2);
        out.push(b'"');
    }
    out.push(b']');
    key(out, b"extended_communities");
    out.push(b'[');
    for (i, c) in a.ext_communities().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"type\":");
        write_u32(out, u32::from(c[0]));
        out.extend_from_slice(b",\"subtype\":");
        write_u32(out, u32::from(c[1]));
        out.extend_from_slice(b",\"value\":");
        hex_str(out, c.get(2..).unwrap_or(&[]));
        out.push(b'}');
    }
    out.push(b']');
    key(out, b"ipv6_extended_communities");
    out.push(b'[');
    for (i, c) in a.ipv6_ext_communities.unwrap_or(&[]).chunks_exact(20).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        hex_str(out, c);
    }
    out.push(b']');
    key(out, b"atomic_aggregate");
    out.extend_from_slice(if a.atomic_aggregate { b"true" } else { b"false" });
    key(out, b"aggregator");
    match a.effective_aggregator() {
        Some((asn, id)) => {
            out.extend_from_slice(b"{\"asn\":");
            write_u32(out, asn);
            out.extend_from_slice(b",\"id\":\"");
            write_ipv4(out, id.into());
            out.extend_from_slice(b"\"}");
        }
        None => out.extend_from_slice(b"null"),
    }
    key(out, b"originator_id");
    opt_ip(out, a.originator_id.map(IpAddr::V4));
    key(out, b"cluster_list");
    out.push(b'[');
    for (i, id) in a.cluster_list().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        quoted_ip(out, IpAddr::V4(id));
    }
    out.push(b']');
    key(out, b"only_to_customer");
    opt_u32(out, a.only_to_customer);
    key(out, b"aigp");
    match a.aigp.and_then(aigp_metric) {
        Some(m) => write_u64(out, m),
        None => out.extend_from_slice(b"null"),
    }
    key(out, b"unknown_attributes");
    write_u32(out, u32::from(a.other));
    key(out, b"attribute_warnings");
    write_u32(out, u32::from(a.warnings));
    out.extend_from_slice(b"}\n");
}

/// The AIGP metric: the first TLV of type 1 (RFC 7311 §3), 8 bytes.
fn aigp_metric(v: &[u8]) -> Option<u64> {
    let mut rest = v;
    while let [t, l0, l1, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*l0, *l1]));
        let value = tail.get(..len.checked_sub(3)?)?;
        if *t == 1 {
            return Some(u64::from_be_bytes(value.try_into().ok()?));
        }
        rest = tail.get(len - 3..)?;
    }
    None
}

#[inline]
fn key(out: &mut Vec<u8>, k: &[u8]) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(k);
    out.extend_from_slice(b"\":");
}

#[inline]
fn opt_u32(out: &mut Vec<u8>, v: Option<u32>) {
    match v {
        Some(v) => write_u32(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

#[inline]
fn quoted_ip(out: &mut Vec<u8>, ip: IpAddr) {
    out.push(b'"');
    write_ip(out, ip);
    out.push(b'"');
}

#[inline]
fn opt_ip(out: &mut Vec<u8>, ip: Option<IpAddr>) {
    match ip {
        Some(ip) => quoted_ip(out, ip),
        None => out.extend_from_slice(b"null"),
    }
}

/// A name known to need no escaping, or `null`.
fn opt_name(out: &mut Vec<u8>, name: Option<&str>) {
    match name {
        Some(n) => {
            out.push(b'"');
            out.extend_from_slice(n.as_bytes());
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
}

fn u32_list(out: &mut Vec<u8>, it: impl Iterator<Item = u32>) {
    out.push(b'[');
    for (i, v) in it.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_u32(out, v);
    }
    out.push(b']');
}

/// Bytes as a quoted lower-case hex string.
fn hex_str(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b'"');
    for &x in b {
        out.push(HEX[usize::from(x >> 4)]);
        out.push(HEX[usize::from(x & 15)]);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mrt::Records;
    use crate::testkit::mrt;

    /// A strict JSON validator (RFC 8259), enough to check the writer's
    /// output without a JSON dependency. Returns the rest after one value.
    fn value(s: &[u8]) -> Option<&[u8]> {
        let s = ws(s);
        match s.first()? {
            b'{' => {
                let mut s = ws(&s[1..]);
                if let Some(rest) = s.strip_prefix(b"}") {
                    return Some(rest);
                }
                loop {
                    s = ws(string(ws(s))?);
                    s = value(s.strip_prefix(b":")?)?;
                    s = ws(s);
                    match s.first()? {
                        b',' => s = &s[1..],
                        b'}' => return Some(&s[1..]),
                        _ => return None,
                    }
                }
            }
            b'[' => {
                let mut s = ws(&s[1..]);
                if let Some(rest) = s.strip_prefix(b"]") {
                    return Some(rest);
                }
                loop {
                    s = ws(value(s)?);
                    match s.first()? {
                        b',' => s = &s[1..],
                        b']' => return Some(&s[1..]),
                        _ => return None,
                    }
                }
            }
            b'"' => string(s),
            b't' => s.strip_prefix(b"true"),
            b'f' => s.strip_prefix(b"false"),
            b'n' => s.strip_prefix(b"null"),
            _ => {
                let s = s.strip_prefix(b"-").unwrap_or(s);
                let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
                if n == 0 || (n > 1 && s[0] == b'0') {
                    return None;
                }
                Some(&s[n..])
            }
        }
    }

    fn ws(s: &[u8]) -> &[u8] {
        let n = s.iter().take_while(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r')).count();
        &s[n..]
    }

    fn string(s: &[u8]) -> Option<&[u8]> {
        let mut s = s.strip_prefix(b"\"")?;
        loop {
            match *s.first()? {
                b'"' => return Some(&s[1..]),
                b'\\' => {
                    s = match *s.get(1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => &s[2..],
                        b'u' if s.get(2..6)?.iter().all(u8::is_ascii_hexdigit) => &s[6..],
                        _ => return None,
                    }
                }
                0..=0x1f => return None,
                _ => s = &s[1..],
            }
        }
    }

    fn assert_json_lines(out: &[u8]) -> usize {
        let text = std::str::from_utf8(out).expect("valid UTF-8");
        let mut n = 0;
        for line in text.lines() {
            let rest = value(line.as_bytes()).unwrap_or_else(|| panic!("not JSON: {line}"));
            assert!(ws(rest).is_empty(), "trailing bytes: {line}");
            n += 1;
        }
        n
    }

    fn dump(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut peers = None;
        for raw in Records::from_bytes(data) {
            let raw = raw.unwrap();
            let rec = Record::decode(&raw).unwrap();
            if let Record::PeerIndexTable(t) = &rec {
                peers = Some(t.clone());
            }
            write_record(&raw, &rec, peers.as_ref(), &mut out);
        }
        out
    }

    #[test]
    fn escapes_arbitrary_bytes() {
        let mut out = Vec::new();
        json_str(&mut out, b"a\"b\\c\n\x01\xff\xfe z\xc3\xa9");
        assert_eq!(out, b"\"a\\\"b\\\\c\\n\\u0001\\ufffd\\ufffd z\xc3\xa9\"");
        assert_json_lines(&out);
    }

    /// A peer table whose view name holds a quote, a control byte and
    /// invalid UTF-8; a RIB entry with every attribute the writer knows; a
    /// state change; an OSPF record. Every line parses.
    #[test]
    fn every_line_is_json() {
        let mut pit = vec![10, 0, 0, 1, 0, 5, b'v', b'"', 1, 0xff, b'x', 0, 1];
        pit.extend_from_slice(&[2, 1, 1, 1, 1, 192, 0, 2, 1, 0, 1, 0x11, 0x70]);
        let attrs: Vec<u8> = [
            &[0x40, 1, 1, 2][..],
            &[0x40, 2, 16, 2, 1, 0, 0, 0, 1, 1, 2, 0, 0, 0, 3, 0, 0, 0, 2],
            &[0x40, 3, 4, 10, 0, 0, 1],
            &[0x80, 4, 4, 0, 0, 0, 5],
            &[0x40, 5, 4, 0, 0, 0, 100],
            &[0x40, 6, 0],
            &[0xc0, 7, 8, 0, 0, 0xfd, 0xe8, 10, 0, 0, 9],
            &[0xc0, 8, 4, 0xff, 0xff, 0xff, 1],
            &[0x80, 9, 4, 1, 2, 3, 4],
            &[0x80, 10, 4, 5, 6, 7, 8],
            &[0xc0, 16, 8, 0, 2, 0xfd, 0xe8, 0, 0, 0, 100],
            &[0xc0, 32, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3],
            &[0xc0, 35, 4, 0, 0, 0, 7],
            &[0x80, 26, 11, 1, 0, 11, 0, 0, 0, 0, 0, 0, 0, 42],
            &[0xc0, 99, 1, 0],
        ]
        .concat();
        let mut rib = vec![0, 0, 0, 0, 24, 192, 0, 2, 0, 1, 0, 0, 0, 0, 0, 9];
        rib.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        rib.extend_from_slice(&attrs);
        let state = [0, 1, 0, 2, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2, 0, 1, 0, 2];
        let mut data = mrt(1000, 13, 1, &pit);
        data.extend(mrt(1000, 13, 2, &rib));
        data.extend(mrt(1001, 16, 0, &state));
        data.extend(mrt(1002, 11, 0, &[1, 2, 3, 4]));
        let out = dump(&data);
        assert_eq!(assert_json_lines(&out), 4);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // The view name was made lossy UTF-8 when decoded; the control byte is escaped here.
        assert!(lines[0].contains("\"view_name\":\"v\\\"\\u0001\u{fffd}x\""), "{}", lines[0]);
        assert!(lines[0].contains(r#""peers":[{"index":0,"bgp_id":"1.1.1.1","ip":"192.0.2.1","asn":70000}]"#));
        for want in [
            r#""type":"rib","record":1,"#,
            r#""peer_index":0,"peer_ip":"192.0.2.1","peer_asn":70000,"prefix":"192.0.2.0/24","path_id":null,"originated":9"#,
            r#""as_path":"1 {3,2}","as_path_segments":[{"type":"AS_SEQUENCE","asns":[1]},{"type":"AS_SET","asns":[3,2]}]"#,
            r#""origin_as":[3,2],"origin":"INCOMPLETE","next_hop":"10.0.0.1","local_pref":100,"med":5"#,
            r#""communities":["65535:65281"],"large_communities":["1:2:3"]"#,
            r#""extended_communities":[{"type":0,"subtype":2,"value":"fde800000064"}],"ipv6_extended_communities":[]"#,
            r#""atomic_aggregate":true,"aggregator":{"asn":65000,"id":"10.0.0.9"},"originator_id":"1.2.3.4","cluster_list":["5.6.7.8"]"#,
            r#""only_to_customer":7,"aigp":42,"unknown_attributes":1,"attribute_warnings":0}"#,
        ] {
            assert!(lines[1].contains(want), "{want}\n{}", lines[1]);
        }
        assert!(lines[2]
            .starts_with(r#"{"type":"state","record":2,"timestamp":1001,"micros":null,"mrt_type":"BGP4MP","mrt_subtype":"STATE_CHANGE","#));
        assert!(lines[2].ends_with(r#""old_state":1,"new_state":2,"old_state_name":"Idle","new_state_name":"Connect"}"#));
        assert!(lines[3].contains(r#""type":"skipped""#) && lines[3].contains(r#""mrt_type":"OSPFv2""#));
    }

    /// Mutated records never make the route walk or the writer panic, and
    /// whatever they write is JSON.
    #[test]
    fn mutations_give_json_or_nothing() {
        use proptest::prelude::*;
        let mut pit = vec![10, 0, 0, 1, 0, 1, b'v', 0, 2];
        pit.extend_from_slice(&[2, 1, 1, 1, 1, 192, 0, 2, 1, 0, 1, 0x11, 0x70]);
        pit.extend_from_slice(&[1, 2, 2, 2, 2, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 7]);
        let attrs: Vec<u8> = [
            &[0x40, 1, 1, 0][..],
            &[0x40, 2, 10, 2, 2, 0, 0, 0, 1, 0, 0, 0, 2],
            &[0x80, 14, 17, 16, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            &[0xc0, 8, 4, 0, 1, 0, 2],
        ]
        .concat();
        let mut rib = vec![0, 0, 0, 0, 32, 0x20, 1, 0xd, 0xb8, 0, 2];
        for peer in [0u8, 1] {
            rib.extend_from_slice(&[0, peer, 0, 0, 0, 9]);
            rib.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
            rib.extend_from_slice(&attrs);
        }
        let uattrs = [&[0x40, 1, 1, 0][..], &[0x40, 2, 6, 2, 2, 0, 1, 0, 2], &[0x40, 3, 4, 10, 0, 0, 1]].concat();
        let mut msg = vec![0xff; 16];
        msg.extend_from_slice(&((19 + 2 + 2 + 2 + uattrs.len() + 4) as u16).to_be_bytes());
        msg.extend_from_slice(&[2, 0, 2, 8, 10, 0, uattrs.len() as u8]);
        msg.extend_from_slice(&uattrs);
        msg.extend_from_slice(&[24, 192, 0, 2]);
        let mut bgp4mp = vec![0, 1, 0, 2, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2];
        bgp4mp.extend(msg);
        let mut data = mrt(1000, 13, 1, &pit);
        data.extend(mrt(1000, 13, 4, &rib));
        data.extend(mrt(1001, 16, 1, &bgp4mp));
        data.extend(mrt(1002, 17, 1, &[&[0, 0, 0, 5][..], &bgp4mp].concat()));
        data.extend(mrt(
            1003,
            12,
            1,
            &[
                &[0, 0, 0, 1, 10, 0, 0, 0, 8, 1, 0, 0, 0, 0, 10, 0, 0, 1, 0, 1, 0, 4][..],
                &[0x40, 1, 1, 0],
            ]
            .concat(),
        ));
        let clean = dump(&data);
        assert_eq!(assert_json_lines(&clean), 1 + 2 + 2 + 2 + 1);
        let n = data.len();
        proptest!(ProptestConfig::with_cases(2000), |(edits in proptest::collection::vec((0..n, any::<u8>()), 1..6))| {
            let mut d = data.clone();
            for (i, b) in edits {
                d[i] = b;
            }
            let mut out = Vec::new();
            let mut peers = None;
            for raw in Records::from_bytes(&d) {
                let Ok(raw) = raw else { continue };
                let Ok(rec) = Record::decode(&raw) else { continue };
                if let Record::PeerIndexTable(t) = &rec {
                    peers = Some(t.clone());
                }
                write_record(&raw, &rec, peers.as_ref(), &mut out);
                for r in routes_of(&raw, &rec, peers.as_ref()) {
                    let _ = (r.next_hop(), r.origin_as(), r.as_path_segments().count());
                }
            }
            assert_json_lines(&out);
            let _ = crate::stats::FileStats::collect(&crate::Source::from_bytes("m", d), false).unwrap();
        });
    }

    #[test]
    fn aigp_tlvs() {
        assert_eq!(aigp_metric(&[1, 0, 11, 0, 0, 0, 0, 0, 0, 1, 0]), Some(256));
        assert_eq!(aigp_metric(&[9, 0, 4, 0, 1, 0, 11, 0, 0, 0, 0, 0, 0, 0, 3]), Some(3));
        assert_eq!(aigp_metric(&[1, 0, 2]), None);
        assert_eq!(aigp_metric(&[1, 0, 11, 0]), None);
        assert_eq!(aigp_metric(&[]), None);
    }
}
