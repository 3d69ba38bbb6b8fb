//! Hand-made wire vectors: records built byte by byte from the RFC layouts,
//! decoded field by field, cut at every length, and given impossible
//! lengths. No corpus needed.

mod common;

use mrtsnap::bgp::as_path::{AsPathBuf, AS_SEQUENCE, AS_SET};
use mrtsnap::bgp::attr::AttrContext;
use mrtsnap::bgp::message::MessageContext;
use mrtsnap::bgp::{Attrs, Message, Origin};
use mrtsnap::cursor::Reader;
use mrtsnap::mrt::{Bgp4mpBody, RawRecord, Record, Records};
use mrtsnap::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

// --- Builders: mrtsnap::testkit. ------------------------------------------

use mrtsnap::testkit::{attr, bgp, mrt, seg, update};

fn v6(s: &str) -> [u8; 16] {
    s.parse::<Ipv6Addr>().expect("IPv6").octets()
}

/// The one record of `data`, framed and decoded.
fn decode_one(data: &[u8]) -> (RawRecord<'_>, Record<'_>) {
    let mut it = Records::from_bytes(data);
    let raw = it.next().expect("a record").expect("framed");
    assert!(it.next().is_none(), "exactly one record");
    let rec = Record::decode(&raw).unwrap_or_else(|e| panic!("decodes: {e}"));
    (raw, rec)
}

fn dump_lines(data: &[u8]) -> Vec<String> {
    let w = common::walk(data);
    assert!(w.errors.is_empty(), "{:?}", w.errors);
    String::from_utf8(w.dump).expect("ASCII").lines().map(str::to_string).collect()
}

/// Every cut of a whole record: nothing decoded, one end-of-input error at
/// offset 0 (a truncated header below 12 bytes, a truncated record above).
fn check_record_cuts(rec: &[u8]) {
    for cut in 1..rec.len() {
        let items: Vec<_> = Records::from_bytes(&rec[..cut]).collect();
        assert_eq!(items.len(), 1, "cut {cut}");
        let e = items[0].as_ref().expect_err("truncated");
        assert_eq!(e.offset(), 0, "cut {cut}");
        assert!(e.is_end_of_input(), "cut {cut}: {e}");
        let want = if cut < 12 { "MRT header" } else { "MRT record" };
        assert!(
            matches!(e.kind(), ErrorKind::Truncated { what, .. } if *what == want),
            "cut {cut}: {e}"
        );
    }
    assert!(Records::from_bytes(&rec[..0]).next().is_none());
}

/// Every shortening of a record's body, the length field made to match:
/// an error inside the record (decoding or a lazy layer) unless the body
/// ends at one of `valid` lengths (where what is left is well formed).
fn check_body_cuts(ts: u32, mrt_type: u16, subtype: u16, body: &[u8], valid: &[usize]) {
    for n in 0..body.len() {
        let rec = mrt(ts, mrt_type, subtype, &body[..n]);
        let w = common::walk(&rec);
        for e in &w.errors {
            assert!(e.offset() <= rec.len() as u64, "body cut to {n}: {e} past the end");
        }
        if valid.contains(&n) {
            assert!(w.errors.is_empty(), "body cut to {n}: {:?}", w.errors);
        } else {
            let e = w.errors.first().unwrap_or_else(|| panic!("body cut to {n}: no error"));
            assert!(matches!(e.kind(), ErrorKind::Truncated { .. }), "body cut to {n}: first error {e}");
            assert!(e.offset() >= 12 && e.offset() <= rec.len() as u64, "body cut to {n}: {e}");
        }
    }
}

// --- BGP4MP_ET MESSAGE_AS4: an UPDATE with MP_REACH and MP_UNREACH IPv6. --

const ET_TS: u32 = 1_700_000_000;
const ET_MICROS: u32 = 123_456;

/// Peering (AS4, IPv6), then the message.
fn et_update_body() -> (Vec<u8>, usize) {
    let mut attrs = Vec::new();
    attrs.extend(attr(0x40, 1, &[0])); // ORIGIN IGP
    attrs.extend(attr(0x40, 2, &seg(AS_SEQUENCE, &[4_200_000_001, 65010, 13335], 4)));
    attrs.extend(attr(0x80, 4, &100u32.to_be_bytes())); // MED
    attrs.extend(attr(0x40, 5, &200u32.to_be_bytes())); // LOCAL_PREF
    attrs.extend(attr(0xc0, 8, &[0xfd, 0xe8, 0, 1, 0xff, 0xff, 0xff, 0x02])); // 65000:1 no-advertise
    let mut large = Vec::new();
    for x in [4_200_000_001u32, 1, 2] {
        large.extend_from_slice(&x.to_be_bytes());
    }
    attrs.extend(attr(0xc0, 32, &large));
    // MP_REACH_NLRI: AFI 2, SAFI 1, next hop global + link-local, no SNPA,
    // 2001:db8:10::/48, 2001:db8:0:20::/64, ::/0.
    let mut reach = vec![0, 2, 1, 32];
    reach.extend_from_slice(&v6("2001:db8::1"));
    reach.extend_from_slice(&v6("fe80::1"));
    reach.push(0);
    reach.extend_from_slice(&[48, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x10]);
    reach.extend_from_slice(&[64, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0x20]);
    reach.push(0);
    attrs.extend(attr(0x90, 14, &reach));
    // MP_UNREACH_NLRI: AFI 2, SAFI 1, 2001:db9::/32, 2001:db8::dead/128.
    let mut unreach = vec![0, 2, 1, 32, 0x20, 0x01, 0x0d, 0xb9, 128];
    unreach.extend_from_slice(&v6("2001:db8::dead"));
    attrs.extend(attr(0x90, 15, &unreach));
    let msg = bgp(2, &update(&[], &attrs, &[]));

    let mut body = ET_MICROS.to_be_bytes().to_vec();
    body.extend_from_slice(&4_200_000_001u32.to_be_bytes()); // peer AS
    body.extend_from_slice(&65000u32.to_be_bytes()); // local AS
    body.extend_from_slice(&7u16.to_be_bytes()); // interface index
    body.extend_from_slice(&2u16.to_be_bytes()); // AFI
    body.extend_from_slice(&v6("2001:db8::1"));
    body.extend_from_slice(&v6("2001:db8::2"));
    let msg_at = body.len();
    body.extend(msg);
    (body, msg_at)
}

#[test]
fn et_message_as4_mp_reach_unreach_ipv6() {
    let (body, msg_at) = et_update_body();
    let rec = mrt(ET_TS, 17, 4, &body);
    let (raw, decoded) = decode_one(&rec);
    assert_eq!((raw.index, raw.offset, raw.header.timestamp), (0, 0, ET_TS));
    assert_eq!(
        (raw.header.mrt_type, raw.header.subtype, raw.header.length),
        (17, 4, body.len() as u32)
    );
    assert_eq!(raw.micros, Some(ET_MICROS));
    assert_eq!((raw.body_offset, raw.body.len()), (16, body.len() - 4));
    assert!(raw.slack.is_empty());
    let Record::Bgp4mp(m) = decoded else { panic!("BGP4MP") };
    assert_eq!(m.subtype, 4);
    let p = m.peering;
    assert_eq!((p.peer_as, p.local_as, p.ifindex, p.afi), (4_200_000_001, 65000, 7, 2));
    assert_eq!(p.peer_ip, "2001:db8::1".parse::<IpAddr>().unwrap());
    assert_eq!(p.local_ip, "2001:db8::2".parse::<IpAddr>().unwrap());
    let Bgp4mpBody::Message {
        raw: msg,
        message: Message::Update(u),
    } = m.body
    else {
        panic!("UPDATE")
    };
    assert_eq!(msg, &body[msg_at..]);
    assert!(u.withdrawn.is_empty() && u.nlri.is_empty() && !u.add_path);
    let a = &u.attrs;
    assert_eq!(a.origin, Some(0));
    let segs: Vec<(u8, Vec<u32>)> = a
        .as_path
        .expect("AS_PATH")
        .segments()
        .map(|s| (s.kind(), s.asns().collect()))
        .collect();
    assert_eq!(segs, [(AS_SEQUENCE, vec![4_200_000_001, 65010, 13335])]);
    assert_eq!(a.as_path.unwrap().asn_len(), 4);
    assert_eq!((a.med, a.local_pref, a.next_hop), (Some(100), Some(200), None));
    assert_eq!(a.communities().collect::<Vec<_>>(), [(65000, 1), (0xffff, 0xff02)]);
    assert_eq!(a.large_communities().collect::<Vec<_>>(), [(4_200_000_001, 1, 2)]);
    assert_eq!((a.other, a.warnings, a.atomic_aggregate), (0, 0, false));
    let r = a.mp_reach.expect("MP_REACH");
    assert_eq!((r.afi, r.safi, r.next_hop.len(), r.abbreviated), (2, 1, 32, false));
    assert_eq!(r.next_hop_addr(), Some("2001:db8::1".parse().unwrap()));
    let ann: Vec<String> = r.prefixes(false).iter().map(|p| p.expect("prefix").1.to_string()).collect();
    assert_eq!(ann, ["2001:db8:10::/48", "2001:db8:0:20::/64", "::/0"]);
    let un = a.mp_unreach.expect("MP_UNREACH");
    assert_eq!((un.afi, un.safi), (2, 1));
    let wd: Vec<String> = un.prefixes(false).iter().map(|p| p.expect("prefix").1.to_string()).collect();
    assert_eq!(wd, ["2001:db9::/32", "2001:db8::dead/128"]);
    // Absolute offsets: the MP_UNREACH NLRI starts 3 bytes into its value.
    let un_at = rec.len() - 1 - 16 - 1 - 4;
    assert_eq!(un.nlri_offset, un_at as u64);

    let head = "BGP4MP_ET|1700000000.123456";
    let tail = "4200000001 65010 13335|IGP|2001:db8::1|200|100|65000:1 no-advertise|NAG||";
    assert_eq!(
        dump_lines(&rec),
        [
            format!("{head}|W|2001:db8::1|4200000001|2001:db9::/32"),
            format!("{head}|W|2001:db8::1|4200000001|2001:db8::dead/128"),
            format!("{head}|A|2001:db8::1|4200000001|2001:db8:10::/48|{tail}"),
            format!("{head}|A|2001:db8::1|4200000001|2001:db8:0:20::/64|{tail}"),
            format!("{head}|A|2001:db8::1|4200000001|::/0|{tail}"),
        ]
    );
    check_record_cuts(&rec);
    // The BGP message carries its own length: every shorter body fails.
    check_body_cuts(ET_TS, 17, 4, &body, &[]);
}

/// The same record as an early ET writer framed it, the length leaving out
/// the microsecond field: read the same way once the next header confirms it.
#[test]
fn et_length_without_micros() {
    let (body, _) = et_update_body();
    let mut one = mrt(ET_TS, 17, 4, &body);
    one[8..12].copy_from_slice(&((body.len() - 4) as u32).to_be_bytes());
    let mut two = one.clone();
    two.extend_from_slice(&one);
    let got: Vec<_> = Records::from_bytes(&two).map(|r| r.expect("framed")).collect();
    assert_eq!(got.len(), 2);
    assert_eq!((got[1].offset, got[1].micros), (one.len() as u64, Some(ET_MICROS)));
    assert_eq!(got[0].body, got[1].body);
    assert_eq!(got[0].body.len(), body.len() - 4);
    let w = common::walk(&two);
    assert!(w.errors.is_empty(), "{:?}", w.errors);
    assert_eq!((w.announced, w.withdrawn), (6, 4));
}

// --- AS4_PATH and AS4_AGGREGATOR in a 2-byte BGP4MP MESSAGE. -------------

fn as4_merge_record() -> (Vec<u8>, Vec<u8>) {
    let mut attrs = Vec::new();
    attrs.extend(attr(0x40, 1, &[1])); // ORIGIN EGP
    let mut path = seg(AS_SEQUENCE, &[64512, 23456, 23456], 2);
    path.extend(seg(AS_SET, &[23456, 65001], 2));
    attrs.extend(attr(0x40, 2, &path));
    attrs.extend(attr(0x40, 3, &[192, 0, 2, 1])); // NEXT_HOP
    attrs.extend(attr(0x40, 6, &[])); // ATOMIC_AGGREGATE
    attrs.extend(attr(0xc0, 7, &[0x5b, 0xa0, 192, 0, 2, 9])); // AGGREGATOR 23456 192.0.2.9
    let mut p4 = seg(AS_SEQUENCE, &[4_200_000_001, 4_200_000_002], 4);
    p4.extend(seg(AS_SET, &[4_200_000_003, 65001], 4));
    attrs.extend(attr(0xc0, 17, &p4)); // AS4_PATH
    let mut a4 = 4_200_000_003u32.to_be_bytes().to_vec();
    a4.extend_from_slice(&[192, 0, 2, 9]);
    attrs.extend(attr(0xc0, 18, &a4)); // AS4_AGGREGATOR
                                       // Withdrawn 10.0.0.0/8; NLRI 198.51.100.0/24 and 203.0.0.0/16.
    let msg = bgp(2, &update(&[8, 10], &attrs, &[24, 198, 51, 100, 16, 203, 0]));
    let mut body = vec![0xfc, 0x00, 0xfd, 0xe8, 0, 3, 0, 1, 192, 0, 2, 1, 192, 0, 2, 2];
    body.extend_from_slice(&msg);
    (mrt(1_700_000_001, 16, 1, &body), body)
}

/// RFC 6793 §4.2.3: AS_PATH `64512 23456 23456 {23456,65001}` (4 ASes
/// counted) and AS4_PATH `4200000001 4200000002 {4200000003,65001}` (3)
/// merge into the first 4 - 3 = 1 AS of AS_PATH followed by AS4_PATH; the
/// AS_TRANS aggregator is replaced by AS4_AGGREGATOR.
#[test]
fn as4_path_merge_in_two_byte_message() {
    let (rec, body) = as4_merge_record();
    let (_, decoded) = decode_one(&rec);
    let Record::Bgp4mp(m) = decoded else { panic!("BGP4MP") };
    assert_eq!(m.subtype, 1);
    assert_eq!(
        (m.peering.peer_as, m.peering.local_as, m.peering.ifindex, m.peering.afi),
        (64512, 65000, 3, 1)
    );
    assert_eq!(
        (m.peering.peer_ip, m.peering.local_ip),
        (IpAddr::from([192, 0, 2, 1]), IpAddr::from([192, 0, 2, 2]))
    );
    let Bgp4mpBody::Message {
        message: Message::Update(u),
        ..
    } = m.body
    else {
        panic!("UPDATE")
    };
    let a = &u.attrs;
    let path = a.as_path.expect("AS_PATH");
    let path4 = a.as4_path.expect("AS4_PATH");
    assert_eq!((path.asn_len(), path4.asn_len(), path.count()), (2, 4, 4));
    assert_eq!(a.aggregator, Some((23456, Ipv4Addr::new(192, 0, 2, 9))));
    assert_eq!(a.as4_aggregator, Some((4_200_000_003, Ipv4Addr::new(192, 0, 2, 9))));
    assert_eq!(a.effective_aggregator(), Some((4_200_000_003, Ipv4Addr::new(192, 0, 2, 9))));
    assert!(a.atomic_aggregate);
    assert_eq!((a.origin, a.next_hop), (Some(1), Some(Ipv4Addr::new(192, 0, 2, 1))));
    let mut pb = AsPathBuf::new();
    pb.merge(&path, &path4);
    let segs: Vec<(u8, Vec<u32>)> = pb.segments().map(|(k, a)| (k, a.to_vec())).collect();
    assert_eq!(
        segs,
        [
            (AS_SEQUENCE, vec![64512]),
            (AS_SEQUENCE, vec![4_200_000_001, 4_200_000_002]),
            (AS_SET, vec![4_200_000_003, 65001])
        ]
    );
    assert_eq!(pb.origin(), Origin::Set(vec![65001, 4_200_000_003]));
    let wd: Vec<String> = u.withdrawn.iter().map(|p| p.expect("prefix").1.to_string()).collect();
    let ann: Vec<String> = u.nlri.iter().map(|p| p.expect("prefix").1.to_string()).collect();
    assert_eq!(
        (wd, ann),
        (
            vec!["10.0.0.0/8".to_string()],
            vec!["198.51.100.0/24".to_string(), "203.0.0.0/16".to_string()]
        )
    );
    let tail = "64512 4200000001 4200000002 {4200000003,65001}|EGP|192.0.2.1|0|0||AG|4200000003 192.0.2.9|";
    assert_eq!(
        dump_lines(&rec),
        [
            "BGP4MP|1700000001|W|192.0.2.1|64512|10.0.0.0/8".to_string(),
            format!("BGP4MP|1700000001|A|192.0.2.1|64512|198.51.100.0/24|{tail}"),
            format!("BGP4MP|1700000001|A|192.0.2.1|64512|203.0.0.0/16|{tail}"),
        ]
    );
    check_record_cuts(&rec);
    check_body_cuts(1_700_000_001, 16, 1, &body, &[]);

    // AS4_PATH with more ASes than AS_PATH is ignored (RFC 6793 §4.2.3).
    let long = seg(AS_SEQUENCE, &[1, 2, 3, 4, 5], 4);
    let long = mrtsnap::bgp::AsPath::parse(&long, 0, 4).unwrap();
    pb.merge(&path, &long);
    assert_eq!(
        pb.segments().map(|(k, a)| (k, a.to_vec())).collect::<Vec<_>>()[0],
        (AS_SEQUENCE, vec![64512, 23456, 23456])
    );
}

// --- Legacy BGP (type 5) UPDATE, as 1999-2000 RIS archives hold it. ------

fn legacy_update() -> (Vec<u8>, Vec<usize>) {
    let mut body = vec![0x0d, 0x05, 193, 0, 0, 56, 0x31, 0x6e, 193, 0, 0, 1];
    let mut attrs = Vec::new();
    attrs.extend(attr(0x40, 1, &[0]));
    attrs.extend(attr(0x40, 2, &seg(AS_SEQUENCE, &[3333, 286], 2)));
    attrs.extend(attr(0x40, 3, &[193, 0, 0, 56]));
    attrs.extend(attr(0x80, 4, &[0, 0, 0, 50])); // MED 50
    attrs.extend(attr(0xc0, 8, &[0, 3, 0, 4])); // COMMUNITIES 3:4
                                                // Withdrawn 10.1.2.0/24; NLRI 24.28.160.0/19 and 12.0.0.0/8.
    let upd = update(&[24, 10, 1, 2], &attrs, &[19, 24, 28, 160, 8, 12]);
    body.extend_from_slice(&upd);
    // Valid shorter bodies: no NLRI, or only the first prefix.
    let n = body.len();
    (body, vec![n - 6, n - 2])
}

/// Legacy BGP UPDATE: peer AS and address, local AS and address, then the
/// UPDATE without its BGP header. bgpdump's quirks for this type: the
/// withdrawn prefix is printed with the peer's address, and there is no
/// `|` between MED and communities.
#[test]
fn legacy_bgp_update() {
    let (body, valid) = legacy_update();
    let rec = mrt(936_348_099, 5, 1, &body);
    let (raw, decoded) = decode_one(&rec);
    assert_eq!((raw.header.mrt_type, raw.header.subtype, raw.micros), (5, 1, None));
    let Record::LegacyBgp(l) = decoded else { panic!("legacy BGP") };
    assert_eq!((l.subtype, l.peer_as, l.local_as), (1, 3333, 12654));
    assert_eq!((l.peer_ip, l.local_ip), (Ipv4Addr::new(193, 0, 0, 56), Ipv4Addr::new(193, 0, 0, 1)));
    let Bgp4mpBody::Message {
        raw: m,
        message: Message::Update(u),
    } = l.body
    else {
        panic!("UPDATE")
    };
    assert_eq!(m, &body[12..]);
    let a = &u.attrs;
    assert_eq!((a.origin, a.med, a.local_pref), (Some(0), Some(50), None));
    assert_eq!(
        a.as_path
            .expect("AS_PATH")
            .segments()
            .flat_map(|s| s.asns().collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        [3333, 286]
    );
    assert_eq!(a.communities().collect::<Vec<_>>(), [(3, 4)]);
    let wd: Vec<String> = u.withdrawn.iter().map(|p| p.expect("prefix").1.to_string()).collect();
    let ann: Vec<String> = u.nlri.iter().map(|p| p.expect("prefix").1.to_string()).collect();
    assert_eq!(wd, ["10.1.2.0/24"]);
    assert_eq!(ann, ["24.28.160.0/19", "12.0.0.0/8"]);
    assert_eq!(
        dump_lines(&rec),
        [
            "BGP|936348099|W|193.0.0.56|3333|193.0.0.56/24",
            "BGP|936348099|A|193.0.0.56|3333|24.28.160.0/19|3333 286|IGP|193.0.0.56|0|503:4|NAG||",
            "BGP|936348099|A|193.0.0.56|3333|12.0.0.0/8|3333 286|IGP|193.0.0.56|0|503:4|NAG||",
        ]
    );
    check_record_cuts(&rec);
    check_body_cuts(936_348_099, 5, 1, &body, &valid);

    // STATE_CHANGE: peer AS and address, old and new state.
    let st = mrt(936_348_099, 5, 3, &[0x0d, 0x05, 193, 0, 0, 56, 0, 1, 0, 2]);
    assert_eq!(dump_lines(&st), ["BGP|936348099|STATE|193.0.0.56|3333|1|2"]);
    check_body_cuts(936_348_099, 5, 3, &st[12..], &[]);
}

// --- TABLE_DUMP_V2 RIB_GENERIC and the PEER_INDEX_TABLE. -----------------

fn peer_table() -> Vec<u8> {
    let mut b = vec![10, 0, 0, 1, 0, 4, b'v', b'i', b'e', b'w', 0, 2];
    // Peer 0: IPv4, 2-byte AS.
    b.extend_from_slice(&[0, 192, 0, 2, 1, 192, 0, 2, 1, 0xfd, 0xe8]);
    // Peer 1: IPv6, 4-byte AS.
    b.extend_from_slice(&[3, 192, 0, 2, 2]);
    b.extend_from_slice(&v6("2001:db8::2"));
    b.extend_from_slice(&4_200_000_002u32.to_be_bytes());
    b
}

fn rib_generic_body() -> Vec<u8> {
    let mut attrs = Vec::new();
    attrs.extend(attr(0x40, 1, &[0]));
    attrs.extend(attr(0x50, 2, &seg(AS_SEQUENCE, &[4_200_000_002, 13335], 4)));
    let mut nh = vec![16];
    nh.extend_from_slice(&v6("2001:db8::ffff"));
    attrs.extend(attr(0x80, 14, &nh)); // abbreviated MP_REACH_NLRI
    let mut b = 9u32.to_be_bytes().to_vec(); // sequence
    b.extend_from_slice(&[0, 2, 1]); // AFI 2, SAFI 1
    b.extend_from_slice(&[32, 0x20, 0x01, 0x0d, 0xb8]); // 2001:db8::/32
    b.extend_from_slice(&[0, 1]); // one entry
    b.extend_from_slice(&[0, 1]); // peer index 1
    b.extend_from_slice(&0x5f5e_1000u32.to_be_bytes());
    b.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    b.extend_from_slice(&attrs);
    b
}

#[test]
fn peer_index_table_and_rib_generic() {
    let table = mrt(1_600_000_000, 13, 1, &peer_table());
    let (_, decoded) = decode_one(&table);
    let Record::PeerIndexTable(t) = decoded else { panic!("peer table") };
    assert_eq!(
        (t.collector_id, t.view_name.as_str(), t.peers.len()),
        (Some(Ipv4Addr::new(10, 0, 0, 1)), "view", 2)
    );
    assert_eq!(
        (t.peers[0].addr, t.peers[0].asn, t.peers[0].bgp_id),
        (IpAddr::from([192, 0, 2, 1]), 65000, Ipv4Addr::new(192, 0, 2, 1))
    );
    assert_eq!(
        (t.peers[1].addr, t.peers[1].asn, t.peers[1].index),
        ("2001:db8::2".parse().unwrap(), 4_200_000_002, 1)
    );
    check_body_cuts(1_600_000_000, 13, 1, &peer_table(), &[]);

    let body = rib_generic_body();
    let rec = mrt(1_600_000_000, 13, 6, &body);
    let (_, decoded) = decode_one(&rec);
    let Record::Rib(rib) = decoded else { panic!("RIB") };
    assert_eq!(
        (rib.sequence, rib.afi, rib.safi, rib.entry_count, rib.add_path),
        (9, 2, 1, 1, false)
    );
    assert_eq!(rib.prefix.map(|p| p.to_string()).as_deref(), Some("2001:db8::/32"));
    let e: Vec<_> = rib.entries().map(|e| e.expect("entry")).collect();
    assert_eq!((e.len(), e[0].peer_index, e[0].originated, e[0].path_id), (1, 1, 0x5f5e_1000, None));
    let a = e[0].parse_attrs(rib.afi).expect("attributes");
    let r = a.mp_reach.expect("MP_REACH");
    assert!(r.abbreviated);
    assert_eq!((r.afi, r.next_hop_addr()), (2, Some("2001:db8::ffff".parse().unwrap())));
    assert_eq!(Origin::from(a.as_path.expect("AS_PATH").origin()), Origin::Asn(13335));
    // Every shorter body fails: the entry count promises one entry.
    check_body_cuts(1_600_000_000, 13, 6, &body, &[]);

    // Another family (AFI 1, SAFI 128: VPN) is kept raw, never an error.
    let vpn = [
        0, 0, 0, 1, 0, 1, 128, 0x68, 0, 1, 1, 0, 0, 0xfd, 0xf2, 0, 0, 0, 0x0f, 192, 168, 64, 1, 0, 0,
    ];
    let rec = mrt(1_600_000_000, 13, 6, &vpn);
    let (_, decoded) = decode_one(&rec);
    let Record::Rib(rib) = decoded else { panic!("RIB") };
    assert_eq!((rib.afi, rib.safi, rib.prefix, rib.entry_count), (1, 128, None, 0));
    assert_eq!(rib.nlri, &vpn[7..]);
    assert_eq!(rib.entries().count(), 0);
}

// --- Impossible lengths. --------------------------------------------------

fn msg_ctx(asn_len: u8) -> MessageContext {
    MessageContext { asn_len, add_path: false }
}

#[test]
fn bgp_length_below_header() {
    let mut m = bgp(4, &[]);
    m[16..18].copy_from_slice(&18u16.to_be_bytes());
    let e = Message::read(&mut Reader::new(&m, 500), msg_ctx(4)).expect_err("length 18");
    assert!(
        matches!(
            e.kind(),
            ErrorKind::BadLength {
                what: "BGP message length",
                declared: 18,
                limit: 19
            }
        ),
        "{e}"
    );
    assert_eq!(e.offset(), 516);
}

#[test]
fn bgp_length_past_the_record() {
    let mut m = bgp(2, &update(&[], &[], &[24, 192, 0, 2]));
    m[16..18].copy_from_slice(&4000u16.to_be_bytes());
    let e = Message::read(&mut Reader::new(&m, 0), msg_ctx(4)).expect_err("length 4000");
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Truncated {
                what: "BGP message",
                needed: 3981,
                available: 8
            }
        ),
        "{e}"
    );
    assert_eq!(e.offset(), 19);
}

/// RFC 8654 extended messages: an UPDATE of 5219 bytes decodes whole.
#[test]
fn extended_message_over_4096_bytes() {
    let mut nlri = Vec::new();
    for i in 0..1300u32 {
        nlri.push(24);
        nlri.extend_from_slice(&(0x0a00_0000 | (i << 8)).to_be_bytes()[..3]);
    }
    let attrs = [attr(0x40, 1, &[0]), attr(0x40, 2, &[]), attr(0x40, 3, &[10, 0, 0, 1])].concat();
    let m = bgp(2, &update(&[], &attrs, &nlri));
    assert!(m.len() > 4096);
    let mut r = Reader::new(&m, 0);
    let Message::Update(u) = Message::read(&mut r, msg_ctx(4)).expect("extended message") else {
        panic!()
    };
    assert!(r.is_empty());
    let p: Vec<_> = u.nlri.iter().map(|p| p.expect("prefix").1).collect();
    assert_eq!(p.len(), 1300);
    assert_eq!(p[1299].to_string(), "10.5.19.0/24");
}

#[test]
fn withdrawn_length_past_the_message() {
    let mut body = update(&[8, 10], &[], &[]);
    body[0..2].copy_from_slice(&300u16.to_be_bytes());
    let e = Message::parse_body(2, &mut Reader::new(&body, 40), msg_ctx(2)).expect_err("withdrawn 300");
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Truncated {
                what: "withdrawn routes",
                needed: 300,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.offset(), 42);
}

#[test]
fn attribute_lengths() {
    let ctx = AttrContext { asn_len: 4, rib_afi: None };
    // An attribute running past its block breaks the block: an error at its value.
    let block = [attr(0x40, 1, &[0]), vec![0x40, 2, 200, 2, 1]].concat();
    let e = Attrs::parse(&block, 1000, ctx).expect_err("AS_PATH past the block");
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Truncated {
                what: "path attribute",
                needed: 200,
                available: 2
            }
        ),
        "{e}"
    );
    assert_eq!(e.offset(), 1007);
    // Extended length past the block.
    let e = Attrs::parse(&[0x50, 8, 0xff, 0xff, 0, 0], 0, ctx).expect_err("ext length");
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Truncated {
                needed: 65535,
                available: 2,
                ..
            }
        ),
        "{e}"
    );

    // Malformed known attributes inside a sound block are dropped with a
    // warning (RFC 7606), never an error.
    let mut reach = vec![0, 2, 1, 200];
    reach.extend_from_slice(&v6("2001:db8::1"));
    let block = [
        attr(0x90, 14, &reach),       // next hop length 200 of 16
        attr(0x40, 2, &[2, 9, 0, 1]), // 9 ASNs in 2 bytes, either width
        attr(0x40, 3, &[10, 0, 0]),   // NEXT_HOP of 3 bytes
        attr(0xc0, 8, &[0, 1, 0]),    // COMMUNITIES of 3 bytes
        attr(0x40, 1, &[0]),          // a sound ORIGIN
        attr(0xc0, 32, &[0; 13]),     // LARGE_COMMUNITY of 13 bytes
    ]
    .concat();
    let a = Attrs::parse(&block, 0, ctx).expect("sound block");
    assert_eq!((a.warnings, a.origin), (5, Some(0)));
    assert!(a.mp_reach.is_none() && a.as_path.is_none() && a.next_hop.is_none());
    assert!(a.communities.is_none() && a.large_communities.is_none());
    assert_eq!(a.raw_attrs().count(), 6);
}

#[test]
fn prefix_lengths() {
    // IPv6 /129 in MP_UNREACH: an error at the length byte when iterated.
    let mut unreach = vec![0, 2, 1, 32, 0x20, 0x01, 0x0d, 0xb8, 129];
    unreach.extend_from_slice(&[0; 17]);
    let block = attr(0x90, 15, &unreach);
    let a = Attrs::parse(&block, 100, AttrContext { asn_len: 4, rib_afi: None }).expect("block");
    let items: Vec<_> = a.mp_unreach.expect("MP_UNREACH").prefixes(false).iter().collect();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().expect("first prefix").1.to_string(), "2001:db8::/32");
    let e = items[1].as_ref().expect_err("/129");
    assert!(matches!(e.kind(), ErrorKind::InvalidPrefixLen { afi: 2, bits: 129 }), "{e}");
    assert_eq!(e.offset(), 100 + 4 + 8);
    // IPv4 /33 in NLRI (too short to be read as ADD-PATH either, which the
    // detection of mislabelled ADD-PATH would otherwise try), and a prefix
    // whose bytes are missing.
    let body = update(&[], &[], &[33, 1, 2, 3, 4]);
    let Message::Update(u) = Message::parse_body(2, &mut Reader::new(&body, 0), msg_ctx(4)).expect("UPDATE") else {
        panic!()
    };
    let e = u.nlri.iter().next().expect("an item").expect_err("/33");
    assert!(matches!(e.kind(), ErrorKind::InvalidPrefixLen { afi: 1, bits: 33 }), "{e}");
    assert_eq!(e.offset(), 4);
    let body = update(&[], &[], &[24, 10, 0]);
    let Message::Update(u) = Message::parse_body(2, &mut Reader::new(&body, 0), msg_ctx(4)).expect("UPDATE") else {
        panic!()
    };
    let e = u.nlri.iter().next().expect("an item").expect_err("short prefix");
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Truncated {
                what: "NLRI prefix",
                needed: 3,
                available: 2
            }
        ),
        "{e}"
    );
    assert_eq!(e.offset(), 5);
    // Host bits past the length are masked off.
    let body = update(&[], &[], &[20, 10, 1, 0xff]);
    let Message::Update(u) = Message::parse_body(2, &mut Reader::new(&body, 0), msg_ctx(4)).expect("UPDATE") else {
        panic!()
    };
    assert_eq!(
        u.nlri.iter().next().expect("an item").expect("prefix").1.to_string(),
        "10.1.240.0/20"
    );
}

/// An MRT length no record of the type can have: the header is not taken,
/// and the bytes are reported as garbage.
#[test]
fn mrt_length_impossible() {
    let (body, _) = et_update_body();
    let mut rec = mrt(ET_TS, 17, 4, &body);
    rec[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
    let items: Vec<_> = Records::from_bytes(&rec).collect();
    assert_eq!(items.len(), 1);
    let e = items[0].as_ref().expect_err("garbage");
    assert!(
        matches!(e.kind(), ErrorKind::Garbage { skipped } if *skipped == rec.len() as u64),
        "{e}"
    );
    assert_eq!(e.offset(), 0);
    assert!(!e.is_end_of_input());

    // A BGP4MP length of 2 followed by a sound record: the short record
    // fails to decode at its body, the next one is read.
    let mut two = mrt(ET_TS, 16, 4, &[0, 1]);
    let (as4, _) = as4_merge_record();
    two.extend_from_slice(&as4);
    let w = common::walk(&two);
    assert_eq!(w.records.len(), 2);
    assert_eq!(w.errors.len(), 1);
    assert!(
        matches!(
            w.errors[0].kind(),
            ErrorKind::Truncated {
                what: "BGP4MP peer AS",
                ..
            }
        ),
        "{}",
        w.errors[0]
    );
    assert_eq!((w.errors[0].offset(), w.errors[0].record()), (12, Some(0)));
    assert_eq!((w.announced, w.withdrawn), (2, 1));
}

/// Counts that promise more than the record holds.
#[test]
fn counts_past_the_record() {
    // A RIB record announcing 65535 entries and holding one.
    let mut body = rib_generic_body();
    body[12..14].copy_from_slice(&u16::MAX.to_be_bytes());
    let rec = mrt(1_600_000_000, 13, 6, &body);
    let (_, decoded) = decode_one(&rec);
    let Record::Rib(rib) = decoded else { panic!("RIB") };
    let items: Vec<_> = rib.entries().collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    let e = items[1].as_ref().expect_err("second entry");
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Truncated {
                what: "RIB entry peer index",
                needed: 2,
                available: 0
            }
        ),
        "{e}"
    );
    assert_eq!(e.offset(), rec.len() as u64);
    // A peer table announcing 65535 peers and holding none.
    let rec = mrt(1_600_000_000, 13, 1, &[10, 0, 0, 1, 0, 0, 0xff, 0xff]);
    let raw = Records::from_bytes(&rec).next().expect("record").expect("framed");
    let e = Record::decode(&raw).expect_err("no peers");
    assert!(matches!(e.kind(), ErrorKind::Truncated { what: "peer entry", .. }), "{e}");
    assert_eq!((e.offset(), e.record()), (20, Some(0)));
    // A TABLE_DUMP entry whose attribute length runs past the record.
    let mut td = vec![
        0, 0, 0, 5, 3, 0, 0, 0, 8, 1, 0x38, 0x79, 0xc8, 0xb4, 204, 152, 166, 29, 0x0d, 0xdd, 0, 9,
    ];
    td.extend_from_slice(&attr(0x40, 1, &[0]));
    let rec = mrt(947_550_744, 12, 1, &td);
    let w = common::walk(&rec);
    assert_eq!(w.errors.len(), 1);
    assert!(
        matches!(
            w.errors[0].kind(),
            ErrorKind::Truncated {
                what: "TABLE_DUMP attributes",
                needed: 9,
                available: 4
            }
        ),
        "{}",
        w.errors[0]
    );
    assert_eq!(w.errors[0].offset(), 12 + 22);
}

// --- The end of the input inside the next header. ------------------------

/// A whole record followed by the first 1 to 11 bytes of the next header:
/// the record is intact and the torn header is reported, as an end of
/// input, at its offset (not taken as slack of the record before).
#[test]
fn torn_final_header() {
    let (first, _) = as4_merge_record();
    let (second, _) = as4_merge_record();
    for n in 1..12 {
        let mut data = first.clone();
        data.extend_from_slice(&second[..n]);
        let items: Vec<_> = Records::from_bytes(&data).collect();
        assert_eq!(items.len(), 2, "{n} bytes of the next header");
        let r = items[0].as_ref().expect("the first record");
        assert_eq!((r.body.len(), r.slack.len()), (first.len() - 12, 0), "{n} bytes of the next header");
        let e = items[1].as_ref().expect_err("torn header");
        assert!(matches!(e.kind(), ErrorKind::Truncated { what: "MRT header", .. }), "{n}: {e}");
        assert_eq!((e.offset(), e.record()), (first.len() as u64, Some(1)));
        assert!(e.is_end_of_input());
    }
    // Four stray bytes that cannot start a header (the early RIS slack)
    // stay the record's slack.
    let mut data = first.clone();
    data.extend_from_slice(&[0xc3, 0xd3, 0xde, 0x0b]);
    let items: Vec<_> = Records::from_bytes(&data).collect();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().expect("record").slack, &[0xc3, 0xd3, 0xde, 0x0b]);
}
/// `bgpdump -m` (Debian 1.6.2, checked on these very records) prints
/// nothing for RIB_IPV4_MULTICAST (and the other multicast subtypes) or
/// RIB_GENERIC records: a drop-in must print nothing either, while still
/// decoding them. The same entry as RIB_IPV4_UNICAST prints one line.
#[test]
fn bgpdump_skips_multicast_and_generic_ribs() {
    let attrs = [
        attr(0x40, 1, &[0]),
        attr(0x50, 2, &seg(AS_SEQUENCE, &[65000], 4)),
        attr(0x40, 3, &[10, 0, 0, 1]),
    ]
    .concat();
    let mut rib = 1u32.to_be_bytes().to_vec();
    rib.extend_from_slice(&[24, 192, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
    rib.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    rib.extend_from_slice(&attrs);
    let table = mrt(1_600_000_000, 13, 1, &peer_table());
    let with_table = |subtype: u16, body: &[u8]| [table.clone(), mrt(1_600_000_000, 13, subtype, body)].concat();
    assert_eq!(
        dump_lines(&with_table(2, &rib)),
        ["TABLE_DUMP2|1600000000|B|192.0.2.1|65000|192.0.2.0/24|65000|IGP|10.0.0.1|0|0||NAG||"]
    );
    let w = common::walk(&with_table(3, &rib));
    assert_eq!((w.entries, w.errors.len()), (1, 0), "RIB_IPV4_MULTICAST decodes");
    assert_eq!(
        String::from_utf8_lossy(&w.dump),
        "",
        "bgpdump prints nothing for RIB_IPV4_MULTICAST"
    );
    let w = common::walk(&with_table(6, &rib_generic_body()));
    assert_eq!((w.entries, w.errors.len()), (1, 0), "RIB_GENERIC decodes");
    assert_eq!(String::from_utf8_lossy(&w.dump), "", "bgpdump prints nothing for RIB_GENERIC");
}
