//! `bgpdump -m` compatible one-line-per-route output.
//!
//! Lines are written into a byte buffer with the allocation-free writers of
//! [`crate::fmt`]; no `format!` runs per route. The layout follows what
//! Debian's bgpdump 1.6.2 prints, quirks included (the legacy `BGP` type has
//! no communities field; large communities are not shown; a message's
//! withdrawals come before its announcements).

use crate::bgp::as_path::AsPathBuf;
use crate::bgp::attr::{next_hop_ip, Attrs};
use crate::bgp::message::Message;
use crate::error::{Error, ErrorKind};
use crate::fmt::{write_ip, write_ipv4, write_u32};
use crate::mrt::{Bgp4mp, Bgp4mpBody, LegacyBgp, PeerTable, RawRecord, Record};
use crate::routes::routes_of;
use std::net::IpAddr;

/// Per-thread scratch space for the formatter.
///
/// # Performance
/// On a full RIB most of the time goes into formatting (perf on the jinx RIB:
/// small copies 14%, itoa 12%). The parts of a TABLE_DUMP_V2 line that repeat
/// are therefore formatted once: the `kind|time|B|` lead and the prefix once
/// per record, each peer's `address|AS|` once per peer table.
#[derive(Debug, Default)]
pub struct BgpdumpWriter {
    path: AsPathBuf,
    /// `address|AS|` of every peer of the cached table, concatenated.
    peer_text: Vec<u8>,
    /// End offsets into `peer_text`, one per peer.
    peer_ends: Vec<usize>,
    /// Identity of the table `peer_text` was built from.
    peer_table: usize,
    /// The current record's lead and prefix.
    lead: Vec<u8>,
    /// The first damage met in the current record.
    damage: Option<Error>,
    /// What the lines of the current message share.
    shared: Shared,
}

/// The text every line of one UPDATE shares, formatted on first use:
/// the line head of each kind (`W`, `A`), and the attribute text (AS path
/// to aggregator, newline included) of announcements of each family (the
/// next hop differs between IPv4 and IPv6 prefixes).
#[derive(Debug, Default)]
struct Shared {
    /// Head of `W` lines, then of `A` lines.
    heads: [Vec<u8>; 2],
    /// Attribute text of IPv4, then of IPv6 announcements.
    tails: [Vec<u8>; 2],
    /// Which of `heads` and `tails` are formatted: bits 0-1 heads, 2-3 tails.
    done: u8,
}

impl Shared {
    /// Forget the previous message's text.
    #[inline]
    fn reset(&mut self) {
        self.done = 0;
    }

    /// The head of a line of kind `letter` (`W` or `A`).
    #[inline]
    fn head(&mut self, head: &LineHead<'_>, letter: &[u8]) -> &[u8] {
        let i = usize::from(letter != b"W");
        let h = &mut self.heads[i];
        if self.done & (1 << i) == 0 {
            h.clear();
            head.write(h, letter);
            self.done |= 1 << i;
        }
        h
    }

    /// The attribute text of an announcement of the family `v6` says (see
    /// [`write_attrs`] for the other arguments).
    #[inline]
    fn tail(&mut self, path: &mut AsPathBuf, attrs: &Attrs<'_>, v6: bool, med_sep: bool, asn_len: u8) -> &[u8] {
        let i = usize::from(v6);
        let t = &mut self.tails[i];
        if self.done & (4 << i) == 0 {
            t.clear();
            write_attrs(path, attrs, v6, med_sep, asn_len, t);
            self.done |= 4 << i;
        }
        t
    }
}

/// How the fixed part of each line reads.
struct LineHead<'h> {
    kind: &'h [u8],
    ts: u32,
    micros: Option<u32>,
    peer_ip: IpAddr,
    peer_as: u32,
}

impl LineHead<'_> {
    fn write(&self, out: &mut Vec<u8>, letter: &[u8]) {
        out.extend_from_slice(self.kind);
        out.push(b'|');
        write_u32(out, self.ts);
        if let Some(us) = self.micros {
            out.push(b'.');
            let mut b = itoa::Buffer::new();
            let s = b.format(us);
            for _ in s.len()..6 {
                out.push(b'0');
            }
            out.extend_from_slice(s.as_bytes());
        }
        out.push(b'|');
        out.extend_from_slice(letter);
        out.push(b'|');
        write_ip(out, self.peer_ip);
        out.push(b'|');
        write_u32(out, self.peer_as);
        out.push(b'|');
    }
}

impl BgpdumpWriter {
    /// A new writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append the lines of one record to `out`. `peers` is the PEER_INDEX_TABLE
    /// in effect. Records bgpdump prints nothing for produce nothing.
    ///
    /// Returns the first damage met inside the record (what
    /// [`crate::routes::RecordRoutes::error`] reports for it): a broken
    /// entry or prefix, whose lines are left out as bgpdump leaves them
    /// out, an unknown peer index, or a treat-as-withdraw attribute (RFC
    /// 7606), whose line is kept as bgpdump prints it.
    pub fn write_record(&mut self, raw: &RawRecord<'_>, rec: &Record<'_>, peers: Option<&PeerTable>, out: &mut Vec<u8>) -> Option<Error> {
        self.damage = None;
        self.write_lines(raw, rec, peers, out);
        self.damage.take().map(|e| e.in_record(raw.index))
    }

    #[cold]
    fn note(&mut self, e: Error) {
        self.damage.get_or_insert(e);
    }

    fn note_attrs(&mut self, attrs: &Attrs<'_>) {
        if attrs.withdraw.is_some() {
            if let Some(e) = attrs.withdraw_error() {
                self.note(e);
            }
        }
    }

    fn write_lines(&mut self, raw: &RawRecord<'_>, rec: &Record<'_>, peers: Option<&PeerTable>, out: &mut Vec<u8>) {
        let ts = raw.header.timestamp;
        match rec {
            Record::PeerIndexTable(_) => self.peer_table = 0,
            Record::Rib(rib) => {
                // bgpdump prints the unicast RIB subtypes (and their ADD-PATH
                // forms) only: nothing for multicast or RIB_GENERIC, whose
                // damage is still looked for.
                if !matches!(raw.header.subtype, 2 | 4 | 8 | 10) {
                    self.note_routes(raw, rec, peers);
                    return;
                }
                let (Some(prefix), Some(peers)) = (rib.prefix, peers) else { return };
                self.cache_peers(peers);
                self.lead.clear();
                self.lead
                    .extend_from_slice(if rib.add_path { b"TABLE_DUMP2_AP|" } else { b"TABLE_DUMP2|" });
                write_u32(&mut self.lead, ts);
                self.lead.extend_from_slice(b"|B|");
                let split = self.lead.len();
                prefix.write_to(&mut self.lead);
                self.lead.push(b'|');
                let mut attrs = Attrs::EMPTY;
                for e in rib.entries() {
                    let e = match e {
                        Ok(e) => e,
                        Err(err) => {
                            self.note(err);
                            break;
                        }
                    };
                    if let Err(err) = e.parse_attrs_into(rib.afi, &mut attrs) {
                        self.note(err);
                        continue;
                    }
                    let i = usize::from(e.peer_index);
                    let (Some(&start), Some(&end)) = (if i == 0 { Some(&0) } else { self.peer_ends.get(i - 1) }, self.peer_ends.get(i))
                    else {
                        let kind = ErrorKind::PeerIndexOutOfRange {
                            index: e.peer_index,
                            peers: u16::try_from(self.peer_ends.len()).unwrap_or(u16::MAX),
                        };
                        let entry_len = if e.path_id.is_some() { 12 } else { 8 };
                        self.note(Error::new(kind, e.attrs_offset.saturating_sub(entry_len)));
                        continue;
                    };
                    self.note_attrs(&attrs);
                    let (lead, pfx) = self.lead.split_at(split);
                    out.extend_from_slice(lead);
                    out.extend_from_slice(self.peer_text.get(start..end).unwrap_or(&[]));
                    out.extend_from_slice(pfx);
                    if let Some(id) = e.path_id {
                        write_u32(out, id);
                        out.push(b'|');
                    }
                    write_attrs(&mut self.path, &attrs, prefix.is_v6(), true, 4, out);
                }
            }
            Record::TableDump(td) => {
                let mut attrs = Attrs::EMPTY;
                for e in td.clone() {
                    let e = match e {
                        Ok(e) => e,
                        Err(err) => {
                            self.note(err);
                            break;
                        }
                    };
                    if let Err(err) = e.parse_attrs_into(&mut attrs) {
                        self.note(err);
                        continue;
                    }
                    self.note_attrs(&attrs);
                    let head = LineHead {
                        kind: b"TABLE_DUMP",
                        ts,
                        micros: None,
                        peer_ip: e.peer_ip,
                        peer_as: e.peer_as,
                    };
                    head.write(out, b"B");
                    e.prefix.write_to(out);
                    out.push(b'|');
                    write_attrs(&mut self.path, &attrs, e.prefix.is_v6(), true, 2, out);
                }
            }
            Record::Bgp4mp(m) => {
                if let Bgp4mpBody::Entry(_) = m.body {
                    // bgpdump prints no line for it; its damage still counts.
                    self.note_routes(raw, rec, peers);
                }
                self.write_bgp4mp(raw, m, out);
            }
            Record::LegacyBgp(l) => self.write_legacy(ts, l, out),
            _ => {}
        }
    }

    /// Look for damage in a record bgpdump prints no line for.
    #[cold]
    fn note_routes(&mut self, raw: &RawRecord<'_>, rec: &Record<'_>, peers: Option<&PeerTable>) {
        let mut routes = routes_of(raw, rec, peers);
        routes.by_ref().for_each(drop);
        if let Some(e) = routes.take_error() {
            self.note(e);
        }
    }

    /// Format `address|AS|` for every peer of `peers`, unless already done.
    fn cache_peers(&mut self, peers: &PeerTable) {
        let id = peers as *const PeerTable as usize;
        if self.peer_table == id {
            return;
        }
        self.peer_table = id;
        self.peer_text.clear();
        self.peer_ends.clear();
        for p in &peers.peers {
            write_ip(&mut self.peer_text, p.addr);
            self.peer_text.push(b'|');
            write_u32(&mut self.peer_text, p.asn);
            self.peer_text.push(b'|');
            self.peer_ends.push(self.peer_text.len());
        }
    }

    fn write_bgp4mp(&mut self, raw: &RawRecord<'_>, m: &Bgp4mp<'_>, out: &mut Vec<u8>) {
        let et = raw.header.mrt_type == 17;
        let add_path = Bgp4mp::is_add_path(m.subtype);
        let local = Bgp4mp::is_local(m.subtype);
        let kind: &[u8] = match (et, add_path, local) {
            (false, false, false) => b"BGP4MP",
            (true, false, false) => b"BGP4MP_ET",
            (false, true, false) => b"BGP4MP_AP",
            (true, true, false) => b"BGP4MP_ET_AP",
            (false, false, true) => b"BGP4MP_LOCAL",
            (true, false, true) => b"BGP4MP_ET_LOCAL",
            (false, true, true) => b"BGP4MP_AP_LOCAL",
            (true, true, true) => b"BGP4MP_ET_AP_LOCAL",
        };
        let head = LineHead {
            kind,
            ts: raw.header.timestamp,
            micros: if et { raw.micros } else { None },
            peer_ip: m.peering.peer_ip,
            peer_as: m.peering.peer_as,
        };
        self.write_body(&head, &m.body, add_path, false, out);
    }

    /// A STATE line, or the lines of an UPDATE; nothing for other messages.
    fn write_body(&mut self, head: &LineHead<'_>, body: &Bgp4mpBody<'_>, add_path: bool, legacy: bool, out: &mut Vec<u8>) {
        match body {
            Bgp4mpBody::StateChange { old, new } => {
                head.write(out, b"STATE");
                write_u32(out, u32::from(old.code()));
                out.push(b'|');
                write_u32(out, u32::from(new.code()));
                out.push(b'\n');
            }
            Bgp4mpBody::Message {
                message: Message::Update(u),
                ..
            } => self.write_update(head, u, add_path, legacy, out),
            _ => {}
        }
    }

    fn write_legacy(&mut self, ts: u32, l: &LegacyBgp<'_>, out: &mut Vec<u8>) {
        let head = LineHead {
            kind: b"BGP",
            ts,
            micros: None,
            peer_ip: IpAddr::V4(l.peer_ip),
            peer_as: l.peer_as,
        };
        self.write_body(&head, &l.body, false, true, out);
    }

    /// `legacy`: the BGP type of 1999-2000, for which bgpdump leaves out the
    /// `|` between MED and communities and writes the peer address in place of each
    /// withdrawn prefix's address (keeping its length).
    ///
    /// # Performance
    /// Every line of a message shares its head (`BGP4MP|time|A|peer|AS|`)
    /// and every announcement of one family its attribute text: both are
    /// formatted once per message ([`Shared`]) and copied per line. The RIS
    /// 2016 updates file ×4 (69,624 records, 165k lines) took 593M
    /// instructions to dump (callgrind, `--threads 1`), 249M of them
    /// formatting attributes once per line; 414M with the text shared.
    fn write_update(&mut self, head: &LineHead<'_>, u: &crate::bgp::Update<'_>, add_path_kind: bool, legacy: bool, out: &mut Vec<u8>) {
        let attrs = &u.attrs;
        let asn_len = u.attrs.as_path.map_or(2, |p| p.asn_len());
        self.note_attrs(attrs);
        self.shared.reset();
        let mp_unreach = attrs.mp_unreach.filter(|m| m.is_ip()).map(|m| m.prefixes(add_path_kind));
        for block in [Some(u.withdrawn), mp_unreach].into_iter().flatten() {
            for p in block.iter() {
                match p {
                    Ok((id, p)) => {
                        out.extend_from_slice(self.shared.head(head, b"W"));
                        if legacy {
                            write_ip(out, head.peer_ip);
                            out.push(b'/');
                            write_u32(out, u32::from(p.len()));
                        } else {
                            p.write_to(out);
                        }
                        if add_path_kind {
                            out.push(b'|');
                            write_u32(out, id.unwrap_or(0));
                        }
                        out.push(b'\n');
                    }
                    Err(e) => {
                        self.note(e);
                        break;
                    }
                }
            }
        }
        let mp_reach = attrs.mp_reach.filter(|m| m.is_ip()).map(|m| m.prefixes(add_path_kind));
        for block in [Some(u.nlri), mp_reach].into_iter().flatten() {
            for p in block.iter() {
                match p {
                    Ok((id, p)) => {
                        out.extend_from_slice(self.shared.head(head, b"A"));
                        p.write_to(out);
                        out.push(b'|');
                        if add_path_kind {
                            write_u32(out, id.unwrap_or(0));
                            out.push(b'|');
                        }
                        out.extend_from_slice(self.shared.tail(&mut self.path, attrs, p.is_v6(), !legacy, asn_len));
                    }
                    Err(e) => {
                        self.note(e);
                        break;
                    }
                }
            }
        }
    }
}

/// AS path, origin, next hop, local pref, MED, communities, AG, aggregator.
/// `asn_len` is the ASN size of the record's context, which is how
/// bgpdump reads AGGREGATOR whatever its length.
fn write_attrs(path: &mut AsPathBuf, attrs: &Attrs<'_>, v6: bool, med_sep: bool, asn_len: u8, out: &mut Vec<u8>) {
    // A path with no AS4_PATH to merge is written from the wire (loaded
    // into `path` first, the dump of the route-views.jinx RIB took 1,128M
    // instructions; 1,095M from the wire, same bytes).
    match (attrs.as_path, attrs.as4_path) {
        (Some(p), Some(p4)) => {
            path.merge(&p, &p4);
            path.write_to(out);
        }
        (Some(p), None) => p.write_to(out),
        (None, _) => {}
    }
    out.push(b'|');
    out.extend_from_slice(match attrs.origin {
        Some(0) => b"IGP",
        Some(1) => b"EGP",
        // bgpdump's default when ORIGIN is missing.
        _ => b"INCOMPLETE",
    });
    out.push(b'|');
    let nh = if v6 {
        attrs.mp_reach.and_then(|m| next_hop_ip(m.next_hop))
    } else {
        attrs
            .next_hop
            .map(IpAddr::V4)
            .or_else(|| attrs.mp_reach.and_then(|m| next_hop_ip(m.next_hop)))
    };
    match nh {
        Some(nh) => write_ip(out, nh),
        // bgpdump's default when no next hop is given.
        None => out.extend_from_slice(b"255.255.255.255"),
    }
    out.push(b'|');
    write_u32(out, attrs.local_pref.unwrap_or(0));
    out.push(b'|');
    write_u32(out, attrs.med.unwrap_or(0));
    if med_sep {
        out.push(b'|');
    }
    {
        let mut first = true;
        for (a, v) in attrs.communities() {
            if !first {
                out.push(b' ');
            }
            first = false;
            match (a, v) {
                (0xffff, 0xff01) => out.extend_from_slice(b"no-export"),
                (0xffff, 0xff02) => out.extend_from_slice(b"no-advertise"),
                (0xffff, 0xff03) => out.extend_from_slice(b"no-export-subconfed"),
                _ => {
                    write_u32(out, u32::from(a));
                    out.push(b':');
                    write_u32(out, u32::from(v));
                }
            }
        }
        out.push(b'|');
    }
    out.extend_from_slice(if attrs.atomic_aggregate { b"AG" } else { b"NAG" });
    out.push(b'|');
    if let Some((asn, id)) = bgpdump_aggregator(attrs, asn_len) {
        write_u32(out, asn);
        out.push(b' ');
        write_ipv4(out, id);
    }
    out.extend_from_slice(b"|\n");
}

/// AGGREGATOR as bgpdump reads it: an ASN of the context's size, then four
/// bytes of router id, whatever the attribute's length; AS4_AGGREGATOR
/// replaces an AS_TRANS aggregator.
fn bgpdump_aggregator(attrs: &Attrs<'_>, asn_len: u8) -> Option<(u32, u32)> {
    let raw = attrs.aggregator_raw?;
    let n = usize::from(asn_len);
    let asn = match raw.get(..n)? {
        [a, b] => u32::from(u16::from_be_bytes([*a, *b])),
        [a, b, c, d] => u32::from_be_bytes([*a, *b, *c, *d]),
        _ => return None,
    };
    let id = u32::from_be_bytes(raw.get(n..n + 4)?.try_into().ok()?);
    match attrs.as4_aggregator {
        Some((a4, id4)) if asn == 23456 => Some((a4, id4.into())),
        _ => Some((asn, id)),
    }
}
