//! BGP4MP and BGP4MP_ET (RFC 6396 §4.4, RFC 8050), and the legacy BGP type
//! of 1999-2000 RIS archives (RFC 6396 §B.2.1).
//!
//! ```text
//! Peer AS (2/4) | Local AS (2/4) | Interface Index (2) | Address Family (2)
//! Peer IP (4/16) | Local IP (4/16) | BGP Message or Old State (2) New State (2)
//! ```

use crate::bgp::message::{Message, MessageContext, UpdateParts, UPDATE};
use crate::bgp::nlri::{read_addr, AFI_IPV4, AFI_IPV6};
use crate::cursor::Reader;
use crate::error::{Error, Result};
use crate::mrt::{set, Record};
use std::net::{IpAddr, Ipv4Addr};

/// The peering a BGP4MP record was captured on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peering {
    /// Peer AS.
    pub peer_as: u32,
    /// Local AS.
    pub local_as: u32,
    /// Interface index.
    pub ifindex: u16,
    /// Address family of the two addresses.
    pub afi: u16,
    /// Peer address.
    pub peer_ip: IpAddr,
    /// Local address (unspecified when the record left it out).
    pub local_ip: IpAddr,
}

impl Peering {
    /// A peering whose addresses the record does not give.
    pub fn unknown(peer_as: u32, local_as: u32) -> Peering {
        Peering {
            peer_as,
            local_as,
            ifindex: 0,
            afi: AFI_IPV4,
            peer_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            local_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        }
    }
}

/// A state of the BGP finite state machine (RFC 4271 §8.2.2), as the
/// STATE_CHANGE records of RFC 6396 §4.4.1 number them, with the two states
/// Quagga's collectors also write (7 `Clearing`, 8 `Deleted`). A code no
/// collector defines is kept as [`FsmState::Other`], so that nothing a
/// record says is lost.
///
/// # Example
/// ```
/// use mrtsnap::mrt::FsmState;
/// let s = FsmState::from_code(6);
/// assert_eq!(s, FsmState::Established);
/// assert_eq!((s.code(), s.to_string()), (6, "Established".to_string()));
/// assert_eq!(FsmState::from_code(8).name(), Some("Deleted"));
/// assert_eq!(FsmState::from_code(42), FsmState::Other(42));
/// assert_eq!(FsmState::Other(42).to_string(), "42");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FsmState {
    /// 1: Idle.
    Idle,
    /// 2: Connect.
    Connect,
    /// 3: Active.
    Active,
    /// 4: OpenSent.
    OpenSent,
    /// 5: OpenConfirm.
    OpenConfirm,
    /// 6: Established.
    Established,
    /// 7: Clearing (Quagga).
    Clearing,
    /// 8: Deleted (Quagga).
    Deleted,
    /// Any other code.
    Other(u16),
}

impl FsmState {
    /// The state a record's 16-bit code names.
    pub fn from_code(code: u16) -> FsmState {
        match code {
            1 => FsmState::Idle,
            2 => FsmState::Connect,
            3 => FsmState::Active,
            4 => FsmState::OpenSent,
            5 => FsmState::OpenConfirm,
            6 => FsmState::Established,
            7 => FsmState::Clearing,
            8 => FsmState::Deleted,
            other => FsmState::Other(other),
        }
    }

    /// The code as the record writes it.
    pub fn code(self) -> u16 {
        match self {
            FsmState::Idle => 1,
            FsmState::Connect => 2,
            FsmState::Active => 3,
            FsmState::OpenSent => 4,
            FsmState::OpenConfirm => 5,
            FsmState::Established => 6,
            FsmState::Clearing => 7,
            FsmState::Deleted => 8,
            FsmState::Other(c) => c,
        }
    }

    /// The state's name, `None` for [`FsmState::Other`].
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            FsmState::Idle => "Idle",
            FsmState::Connect => "Connect",
            FsmState::Active => "Active",
            FsmState::OpenSent => "OpenSent",
            FsmState::OpenConfirm => "OpenConfirm",
            FsmState::Established => "Established",
            FsmState::Clearing => "Clearing",
            FsmState::Deleted => "Deleted",
            FsmState::Other(_) => return None,
        })
    }
}

/// The name, or the code of an [`FsmState::Other`].
impl std::fmt::Display for FsmState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.code()),
        }
    }
}

/// What a BGP4MP record holds.
// An UPDATE view is a few hundred bytes of borrowed slices; boxing it would
// allocate per message on the hot path, so the size difference is accepted.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug)]
pub enum Bgp4mpBody<'a> {
    /// STATE_CHANGE / STATE_CHANGE_AS4.
    StateChange {
        /// The state the peer left.
        old: FsmState,
        /// The state the peer entered.
        new: FsmState,
    },
    /// A BGP message (MESSAGE, MESSAGE_AS4, _LOCAL, _ADDPATH variants).
    Message {
        /// The message bytes, header included.
        raw: &'a [u8],
        /// The decoded message.
        message: Message<'a>,
    },
    /// ENTRY (deprecated; OpenBGPD table dumps).
    Entry(Entry<'a>),
    /// SNAPSHOT (deprecated): view and file name.
    Snapshot {
        /// View number.
        view: u16,
        /// File name.
        file: &'a [u8],
    },
}

/// A BGP4MP ENTRY: one route of a table dump.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    /// View number.
    pub view: u16,
    /// Status.
    pub status: u16,
    /// Time of last change.
    pub time_last_change: u32,
    /// AFI of the prefix.
    pub afi: u16,
    /// SAFI of the prefix.
    pub safi: u8,
    /// Next hop bytes.
    pub next_hop: &'a [u8],
    /// The prefix.
    pub prefix: crate::bgp::nlri::Prefix,
    /// Attribute block.
    pub attrs: &'a [u8],
    /// Absolute offset of `attrs`.
    pub attrs_offset: u64,
}

/// A BGP4MP record.
#[derive(Clone, Copy, Debug)]
pub struct Bgp4mp<'a> {
    /// The subtype.
    pub subtype: u16,
    /// The peering.
    pub peering: Peering,
    /// The payload.
    pub body: Bgp4mpBody<'a>,
}

impl Bgp4mp<'_> {
    /// Whether the subtype uses 4-byte ASNs.
    pub fn is_as4(subtype: u16) -> bool {
        matches!(subtype, 4 | 5 | 7 | 9 | 11)
    }

    /// Whether the subtype announces ADD-PATH.
    pub fn is_add_path(subtype: u16) -> bool {
        matches!(subtype, 8..=11)
    }

    /// Whether the subtype is a `_LOCAL` message (sent by the collector).
    pub fn is_local(subtype: u16) -> bool {
        matches!(subtype, 6 | 7 | 10 | 11)
    }

    /// The peering at the start of a BGP4MP body of `subtype` (STATE_CHANGE
    /// or MESSAGE forms), whatever follows it: who a damaged record came
    /// from.
    pub fn peering_of(subtype: u16, body: &[u8]) -> Option<Peering> {
        let mut r = Reader::new(body, 0);
        let short = (subtype == 0 && body.len() == 8) || short_message(subtype, body);
        match subtype {
            0 | 1 if short => Some(Peering::unknown(
                u32::from(r.u16("BGP4MP peer AS").ok()?),
                u32::from(r.u16("BGP4MP local AS").ok()?),
            )),
            0 | 1 | 4..=11 => read_peering(&mut r, Self::is_as4(subtype)).ok(),
            _ => None,
        }
    }
}

/// Whether a body of `subtype` is zebra's shortened MESSAGE of 2000: peer
/// AS and local AS, then the BGP message (its marker where the interface
/// index would be).
#[inline]
fn short_message(subtype: u16, body: &[u8]) -> bool {
    subtype == 1 && body.get(4..20).is_some_and(|m| m.iter().all(|&b| b == 0xff))
}

/// Read the peering at the start of a BGP4MP body.
///
/// # Performance
/// The fixed-size fields are read from one bounds check when the body
/// holds them all and the family is known; the reader's field-by-field
/// path, which names the field an error is in, runs only where that fails.
/// The field-by-field reads cost 150 instructions a record, 10.5M on the
/// RIS 2016 updates file ×4 (callgrind); 5.0M this way.
#[inline(always)]
fn read_peering(r: &mut Reader<'_>, as4: bool) -> Result<Peering> {
    let b = r.peek_rest();
    let fast = if as4 {
        b.split_first_chunk::<12>().map(|(&[a, b, c, d, e, f, g, h, i, j, k, l], rest)| {
            let (peer, local) = (u32::from_be_bytes([a, b, c, d]), u32::from_be_bytes([e, f, g, h]));
            (peer, local, u16::from_be_bytes([i, j]), u16::from_be_bytes([k, l]), rest, 12)
        })
    } else {
        b.split_first_chunk::<8>().map(|(&[a, b, c, d, e, f, g, h], rest)| {
            let (peer, local) = (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]));
            (
                u32::from(peer),
                u32::from(local),
                u16::from_be_bytes([e, f]),
                u16::from_be_bytes([g, h]),
                rest,
                8,
            )
        })
    };
    if let Some((peer_as, local_as, ifindex, afi, rest, n)) = fast {
        let addrs = match afi {
            AFI_IPV4 => rest
                .first_chunk::<8>()
                .map(|&[a, b, c, d, e, f, g, h]| (IpAddr::from([a, b, c, d]), IpAddr::from([e, f, g, h]), 8)),
            AFI_IPV6 => rest
                .split_first_chunk::<16>()
                .and_then(|(p, tail)| Some((IpAddr::from(*p), IpAddr::from(*tail.first_chunk::<16>()?), 32))),
            _ => None,
        };
        if let Some((peer_ip, local_ip, m)) = addrs {
            r.take(n + m, "BGP4MP peering")?;
            return Ok(Peering {
                peer_as,
                local_as,
                ifindex,
                afi,
                peer_ip,
                local_ip,
            });
        }
    }
    read_peering_fields(r, as4)
}

/// [`read_peering`] field by field: the error names the field.
#[cold]
fn read_peering_fields(r: &mut Reader<'_>, as4: bool) -> Result<Peering> {
    let (peer_as, local_as) = if as4 {
        (r.u32("BGP4MP peer AS")?, r.u32("BGP4MP local AS")?)
    } else {
        (u32::from(r.u16("BGP4MP peer AS")?), u32::from(r.u16("BGP4MP local AS")?))
    };
    let ifindex = r.u16("BGP4MP interface index")?;
    let at = r.offset();
    let afi = r.u16("BGP4MP address family")?;
    if !matches!(afi, 1 | 2) {
        return Err(Error::bad_value("BGP4MP address family", u32::from(afi), at));
    }
    let peer_ip = read_addr(r, afi)?;
    let local_ip = read_addr(r, afi)?;
    Ok(Peering {
        peer_as,
        local_as,
        ifindex,
        afi,
        peer_ip,
        local_ip,
    })
}

impl<'a> Bgp4mp<'a> {
    /// Decode a BGP4MP(_ET) body of `subtype` into `out` as a [`Record`],
    /// errors in record `index`: what [`Record::decode_into`] does for it.
    ///
    /// # Performance
    /// An UPDATE is built once, in `out`, and its attributes are decoded
    /// there: through [`Bgp4mp::parse`] the 544-byte record was moved five
    /// times on its way out (memcpy 31M of the 259M instructions of `stats
    /// --threads 1` on the PCH 2015 updates file, callgrind); built in a
    /// result returned, 236M, two copies left; built in `out`, none.
    #[inline(always)]
    pub(crate) fn decode_into(subtype: u16, body: &'a [u8], offset: u64, index: u64, out: &mut Result<Record<'a>>) {
        if !matches!(subtype, 1 | 4 | 6..=11) || short_message(subtype, body) {
            return set(out, Bgp4mp::parse(subtype, body, offset), index, Record::Bgp4mp);
        }
        let mut r = Reader::new(body, offset);
        let as4 = Self::is_as4(subtype);
        let peering = match read_peering(&mut r, as4) {
            Ok(p) => p,
            Err(e) => return *out = Err(e.in_record(index)),
        };
        let ctx = MessageContext {
            asn_len: if as4 { 4 } else { 2 },
            add_path: Self::is_add_path(subtype),
        };
        let raw = r.peek_rest();
        let (msg_type, mut m) = match Message::header(&mut r) {
            Ok(h) => h,
            Err(e) => return *out = Err(e.in_record(index)),
        };
        if msg_type != UPDATE {
            let wrap = |message| {
                Record::Bgp4mp(Bgp4mp {
                    subtype,
                    peering,
                    body: Bgp4mpBody::Message { raw, message },
                })
            };
            return set(out, Message::parse_body(msg_type, &mut m, ctx), index, wrap);
        }
        let parts = match UpdateParts::split(&mut m, ctx) {
            Ok(p) => p,
            Err(e) => return *out = Err(e.in_record(index)),
        };
        *out = Ok(Record::Bgp4mp(Bgp4mp {
            subtype,
            peering,
            body: Bgp4mpBody::Message {
                raw,
                message: Message::Update(parts.update()),
            },
        }));
        if let Ok(Record::Bgp4mp(Bgp4mp {
            body: Bgp4mpBody::Message {
                message: Message::Update(u),
                ..
            },
            ..
        })) = out
        {
            if let Err(e) = parts.read_attrs(u) {
                *out = Err(e.in_record(index));
            }
        }
    }

    /// Decode a BGP4MP(_ET) body of `subtype`.
    pub fn parse(subtype: u16, body: &'a [u8], offset: u64) -> Result<Bgp4mp<'a>> {
        let mut r = Reader::new(body, offset);
        let as4 = Self::is_as4(subtype);
        match subtype {
            // Zebra of 2000 wrote shortened records: peer AS and local AS,
            // then the states or the message, with no interface index,
            // family or addresses.
            0 if body.len() == 8 => {
                let peer_as = u32::from(r.u16("BGP4MP peer AS")?);
                let local_as = u32::from(r.u16("BGP4MP local AS")?);
                let old = FsmState::from_code(r.u16("BGP4MP old state")?);
                let new = FsmState::from_code(r.u16("BGP4MP new state")?);
                Ok(Bgp4mp {
                    subtype,
                    peering: Peering::unknown(peer_as, local_as),
                    body: Bgp4mpBody::StateChange { old, new },
                })
            }
            1 if short_message(subtype, body) => {
                let peer_as = u32::from(r.u16("BGP4MP peer AS")?);
                let local_as = u32::from(r.u16("BGP4MP local AS")?);
                let ctx = MessageContext {
                    asn_len: 2,
                    add_path: false,
                };
                let raw = r.peek_rest();
                let message = Message::read(&mut r, ctx)?;
                Ok(Bgp4mp {
                    subtype,
                    peering: Peering::unknown(peer_as, local_as),
                    body: Bgp4mpBody::Message { raw, message },
                })
            }
            0 | 5 => {
                let peering = read_peering(&mut r, as4)?;
                let old = FsmState::from_code(r.u16("BGP4MP old state")?);
                let new = FsmState::from_code(r.u16("BGP4MP new state")?);
                Ok(Bgp4mp {
                    subtype,
                    peering,
                    body: Bgp4mpBody::StateChange { old, new },
                })
            }
            1 | 4 | 6..=11 => {
                let peering = read_peering(&mut r, as4)?;
                let ctx = MessageContext {
                    asn_len: if as4 { 4 } else { 2 },
                    add_path: Self::is_add_path(subtype),
                };
                let raw = r.peek_rest();
                let message = Message::read(&mut r, ctx)?;
                Ok(Bgp4mp {
                    subtype,
                    peering,
                    body: Bgp4mpBody::Message { raw, message },
                })
            }
            2 => {
                let peering = read_peering(&mut r, false)?;
                let view = r.u16("ENTRY view")?;
                let status = r.u16("ENTRY status")?;
                let time_last_change = r.u32("ENTRY time last change")?;
                let afi = r.u16("ENTRY AFI")?;
                let safi = r.u8("ENTRY SAFI")?;
                let nhl = r.u8("ENTRY next hop length")?;
                let next_hop = r.take(usize::from(nhl), "ENTRY next hop")?;
                let prefix = crate::bgp::nlri::read_prefix(&mut r, afi)?;
                let al = r.u16("ENTRY attribute length")?;
                let attrs_offset = r.offset();
                let attrs = r.take(usize::from(al), "ENTRY attributes")?;
                Ok(Bgp4mp {
                    subtype,
                    peering,
                    body: Bgp4mpBody::Entry(Entry {
                        view,
                        status,
                        time_last_change,
                        afi,
                        safi,
                        next_hop,
                        prefix,
                        attrs,
                        attrs_offset,
                    }),
                })
            }
            3 => {
                let view = r.u16("SNAPSHOT view")?;
                let file = r.rest();
                let file = file.split(|&b| b == 0).next().unwrap_or(&[]);
                Ok(Bgp4mp {
                    subtype,
                    peering: Peering::unknown(0, 0),
                    body: Bgp4mpBody::Snapshot { view, file },
                })
            }
            s => Err(Error::bad_value("BGP4MP subtype", u32::from(s), offset)),
        }
    }
}

/// A record of the legacy BGP type (5).
#[derive(Clone, Copy, Debug)]
pub struct LegacyBgp<'a> {
    /// Subtype (1 UPDATE, 3 STATE_CHANGE, 5 OPEN, 6 NOTIFY, 7 KEEPALIVE, ...).
    pub subtype: u16,
    /// Peer AS.
    pub peer_as: u32,
    /// Peer address.
    pub peer_ip: Ipv4Addr,
    /// Local AS (absent for STATE_CHANGE).
    pub local_as: u32,
    /// Local address.
    pub local_ip: Ipv4Addr,
    /// The payload.
    pub body: Bgp4mpBody<'a>,
}

impl<'a> LegacyBgp<'a> {
    /// Decode a legacy BGP body.
    pub fn parse(subtype: u16, body: &'a [u8], offset: u64) -> Result<LegacyBgp<'a>> {
        let mut r = Reader::new(body, offset);
        let peer_as = u32::from(r.u16("BGP peer AS")?);
        let peer_ip = Ipv4Addr::from(*r.array::<4>("BGP peer IP")?);
        if subtype == 3 {
            let old = FsmState::from_code(r.u16("BGP old state")?);
            let new = FsmState::from_code(r.u16("BGP new state")?);
            return Ok(LegacyBgp {
                subtype,
                peer_as,
                peer_ip,
                local_as: 0,
                local_ip: Ipv4Addr::UNSPECIFIED,
                body: Bgp4mpBody::StateChange { old, new },
            });
        }
        let local_as = u32::from(r.u16("BGP local AS")?);
        let local_ip = Ipv4Addr::from(*r.array::<4>("BGP local IP")?);
        let ctx = MessageContext {
            asn_len: 2,
            add_path: false,
        };
        let raw = r.peek_rest();
        let msg_type = match subtype {
            1 => 2,
            5 => 1,
            6 => 3,
            7 => 4,
            s => return Err(Error::bad_value("BGP subtype", u32::from(s), offset)),
        };
        // The message follows without its 19-byte BGP header.
        let message = Message::parse_body(msg_type, &mut r, ctx)?;
        Ok(LegacyBgp {
            subtype,
            peer_as,
            peer_ip,
            local_as,
            local_ip,
            body: Bgp4mpBody::Message { raw, message },
        })
    }
}
