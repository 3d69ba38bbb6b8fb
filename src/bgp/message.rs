//! BGP messages (RFC 4271 §4, RFC 8654 extended messages).
//!
//! ```text
//! +-----------------------------------------------+
//! |                 Marker (16)                   |
//! +-----------------------+-----------+-----------+
//! |      Length (2)       | Type (1)  |
//! +-----------------------+-----------+
//! ```

use super::attr::{AttrContext, Attrs};
use super::nlri::{Nlri, AFI_IPV4};
use crate::cursor::Reader;
use crate::error::{Error, Result};
use std::net::Ipv4Addr;
use zerocopy::network_endian::U16;
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

/// The 19-byte BGP message header.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct RawBgpHeader {
    /// All ones.
    pub marker: [u8; 16],
    /// Total message length including this header.
    pub length: U16,
    /// Message type.
    pub msg_type: u8,
}

/// Size of the BGP header.
pub const BGP_HEADER_LEN: usize = 19;
const _: () = assert!(core::mem::size_of::<RawBgpHeader>() == BGP_HEADER_LEN);

/// Message type: OPEN.
pub const OPEN: u8 = 1;
/// Message type: UPDATE.
pub const UPDATE: u8 = 2;
/// Message type: NOTIFICATION.
pub const NOTIFICATION: u8 = 3;
/// Message type: KEEPALIVE.
pub const KEEPALIVE: u8 = 4;
/// Message type: ROUTE-REFRESH.
pub const ROUTE_REFRESH: u8 = 5;

/// A BGP message, borrowed from the input.
// An UPDATE view is a few hundred bytes of borrowed slices; boxing it would
// allocate per message on the hot path, so the size difference is accepted.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug)]
pub enum Message<'a> {
    /// OPEN.
    Open(Open<'a>),
    /// UPDATE.
    Update(Update<'a>),
    /// NOTIFICATION.
    Notification {
        /// Error code.
        code: u8,
        /// Error subcode.
        subcode: u8,
        /// Data.
        data: &'a [u8],
    },
    /// KEEPALIVE.
    Keepalive,
    /// ROUTE-REFRESH.
    RouteRefresh {
        /// AFI.
        afi: u16,
        /// Subtype (RFC 7313).
        subtype: u8,
        /// SAFI.
        safi: u8,
    },
    /// A message type this crate does not know.
    Unknown {
        /// Type code.
        msg_type: u8,
        /// Body.
        body: &'a [u8],
    },
}

/// How a message's contents are encoded (from the MRT record around it).
#[derive(Clone, Copy, Debug)]
pub struct MessageContext {
    /// 2- or 4-byte ASNs in AS_PATH and AGGREGATOR.
    pub asn_len: u8,
    /// ADD-PATH path identifiers announced by the MRT subtype.
    pub add_path: bool,
}

impl<'a> Message<'a> {
    /// Decode one message (header included) from `r`, consuming exactly its
    /// length. Messages longer than 4096 bytes (RFC 8654) are accepted.
    #[inline(always)]
    pub fn read(r: &mut Reader<'a>, ctx: MessageContext) -> Result<Message<'a>> {
        let (msg_type, mut body) = Message::header(r)?;
        Message::parse_body(msg_type, &mut body, ctx)
    }

    /// Read a message's header from `r` and consume the message: its type
    /// and a reader over its body.
    #[inline(always)]
    pub(crate) fn header(r: &mut Reader<'a>) -> Result<(u8, Reader<'a>)> {
        let at = r.offset();
        let h: &RawBgpHeader = r.wire("BGP header")?;
        let len = usize::from(h.length.get());
        if len < BGP_HEADER_LEN {
            return Err(Error::bad_length("BGP message length", len as u32, BGP_HEADER_LEN as u32, at + 16));
        }
        Ok((h.msg_type, r.sub(len - BGP_HEADER_LEN, "BGP message")?))
    }

    /// Decode a message body of type `msg_type` (the legacy BGP MRT type
    /// stores bodies without the BGP header).
    #[inline(always)]
    pub fn parse_body(msg_type: u8, body: &mut Reader<'a>, ctx: MessageContext) -> Result<Message<'a>> {
        Ok(match msg_type {
            OPEN => Message::Open(Open::parse(body)?),
            UPDATE => Message::Update(Update::parse(body, ctx)?),
            NOTIFICATION => Message::Notification {
                code: body.u8("NOTIFICATION code")?,
                subcode: body.u8("NOTIFICATION subcode")?,
                data: body.rest(),
            },
            KEEPALIVE => Message::Keepalive,
            ROUTE_REFRESH => Message::RouteRefresh {
                afi: body.u16("ROUTE-REFRESH AFI")?,
                subtype: body.u8("ROUTE-REFRESH subtype")?,
                safi: body.u8("ROUTE-REFRESH SAFI")?,
            },
            t => Message::Unknown {
                msg_type: t,
                body: body.rest(),
            },
        })
    }
}

/// An UPDATE message (RFC 4271 §4.3).
#[derive(Clone, Copy, Debug)]
pub struct Update<'a> {
    /// Classic withdrawn routes (IPv4).
    pub withdrawn: Nlri<'a>,
    /// Path attributes.
    pub attrs: Attrs<'a>,
    /// Classic NLRI (IPv4).
    pub nlri: Nlri<'a>,
    /// Whether ADD-PATH is in use (announced, or detected).
    pub add_path: bool,
}

impl<'a> Update<'a> {
    /// Decode an UPDATE body.
    #[inline(always)]
    pub fn parse(r: &mut Reader<'a>, ctx: MessageContext) -> Result<Update<'a>> {
        let parts = UpdateParts::split(r, ctx)?;
        let mut u = parts.update();
        parts.read_attrs(&mut u)?;
        Ok(u)
    }
}

/// An UPDATE body cut into its fields, its attributes not yet decoded: what
/// a caller building the UPDATE inside a larger value needs to decode the
/// attributes in place ([`UpdateParts::read_attrs`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct UpdateParts<'a> {
    withdrawn: Nlri<'a>,
    nlri: Nlri<'a>,
    add_path: bool,
    attrs: &'a [u8],
    attrs_offset: u64,
    ctx: AttrContext,
}

impl<'a> UpdateParts<'a> {
    /// Cut an UPDATE body, consuming it.
    #[inline(always)]
    pub(crate) fn split(r: &mut Reader<'a>, ctx: MessageContext) -> Result<UpdateParts<'a>> {
        let wl = r.u16("withdrawn routes length")?;
        let wo = r.offset();
        let w = r.take(usize::from(wl), "withdrawn routes")?;
        let al = r.u16("path attribute length")?;
        let attrs_offset = r.offset();
        let attrs = r.take(usize::from(al), "path attributes")?;
        let no = r.offset();
        let n = r.rest();
        let withdrawn = Nlri::detect(w, wo, AFI_IPV4, ctx.add_path);
        let nlri = Nlri::detect(n, no, AFI_IPV4, ctx.add_path);
        Ok(UpdateParts {
            withdrawn,
            nlri,
            add_path: ctx.add_path || withdrawn.is_add_path() || nlri.is_add_path(),
            attrs,
            attrs_offset,
            ctx: AttrContext {
                asn_len: ctx.asn_len,
                rib_afi: None,
            },
        })
    }

    /// The UPDATE, its attributes [`Attrs::EMPTY`].
    #[inline(always)]
    pub(crate) fn update(&self) -> Update<'a> {
        Update {
            withdrawn: self.withdrawn,
            attrs: Attrs::blank(self.attrs, self.attrs_offset, self.ctx),
            nlri: self.nlri,
            add_path: self.add_path,
        }
    }

    /// Decode the attributes into `u`, an [`UpdateParts::update`].
    ///
    /// # Errors
    /// Those of [`Attrs::parse`].
    #[inline(always)]
    pub(crate) fn read_attrs(&self, u: &mut Update<'a>) -> Result<()> {
        u.attrs.read(self.attrs, self.attrs_offset, self.ctx)
    }
}

/// An OPEN message (RFC 4271 §4.2, RFC 5492 capabilities).
#[derive(Clone, Copy, Debug)]
pub struct Open<'a> {
    /// Version (4).
    pub version: u8,
    /// My Autonomous System (2-byte field; AS_TRANS for 4-byte speakers).
    pub my_as: u16,
    /// Hold time.
    pub hold_time: u16,
    /// BGP identifier.
    pub bgp_id: Ipv4Addr,
    /// Optional parameters, raw.
    pub params: &'a [u8],
}

impl<'a> Open<'a> {
    fn parse(r: &mut Reader<'a>) -> Result<Open<'a>> {
        let version = r.u8("OPEN version")?;
        let my_as = r.u16("OPEN my AS")?;
        let hold_time = r.u16("OPEN hold time")?;
        let bgp_id = Ipv4Addr::from(*r.array::<4>("OPEN BGP identifier")?);
        let pl = r.u8("OPEN optional parameters length")?;
        let params = r.take(usize::from(pl), "OPEN optional parameters")?;
        Ok(Open {
            version,
            my_as,
            hold_time,
            bgp_id,
            params,
        })
    }

    /// Capabilities as `(code, value)`, from capability parameters (type 2).
    pub fn capabilities(&self) -> impl Iterator<Item = (u8, &'a [u8])> + 'a {
        let mut params = self.params;
        let mut caps: &'a [u8] = &[];
        std::iter::from_fn(move || loop {
            if let [code, len, rest @ ..] = caps {
                let (v, tail) = rest.split_at_checked(usize::from(*len))?;
                caps = tail;
                return Some((*code, v));
            }
            let [ptype, plen, rest @ ..] = params else { return None };
            let (v, tail) = rest.split_at_checked(usize::from(*plen))?;
            params = tail;
            if *ptype == 2 {
                caps = v;
            }
        })
    }

    /// The 4-byte ASN capability (RFC 6793), if present.
    pub fn as4(&self) -> Option<u32> {
        self.capabilities()
            .find(|(c, v)| *c == 65 && v.len() == 4)
            .and_then(|(_, v)| Some(u32::from_be_bytes(v.try_into().ok()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_and_open() {
        let mut m = vec![0xff; 16];
        let body = [0, 0, 0, 4, 0x40, 1, 1, 0, 24, 192, 0, 2];
        m.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
        m.push(UPDATE);
        m.extend_from_slice(&body);
        let ctx = MessageContext {
            asn_len: 4,
            add_path: false,
        };
        let mut r = Reader::new(&m, 0);
        let Message::Update(u) = Message::read(&mut r, ctx).unwrap() else {
            panic!()
        };
        assert!(r.is_empty());
        assert_eq!(u.attrs.origin, Some(0));
        let p: Vec<_> = u.nlri.iter().map(|p| p.unwrap().1.to_string()).collect();
        assert_eq!(p, ["192.0.2.0/24"]);
        for cut in 0..m.len() {
            assert!(Message::read(&mut Reader::new(&m[..cut], 0), ctx).is_err());
        }
        let open = [4, 0xfd, 0xe8, 0, 180, 10, 0, 0, 1, 8, 2, 6, 65, 4, 0, 1, 0x11, 0x70];
        let Message::Open(o) = Message::parse_body(OPEN, &mut Reader::new(&open, 0), ctx).unwrap() else {
            panic!()
        };
        assert_eq!((o.my_as, o.hold_time, o.as4()), (65000, 180, Some(70000)));
    }
}
