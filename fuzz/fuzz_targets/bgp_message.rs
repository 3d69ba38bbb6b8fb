//! BGP message layer: the first byte selects the context (bit 0: 4-byte
//! ASNs, bit 1: ADD-PATH announced, bit 2: a headerless body of the type in
//! the second byte, as legacy BGP records store it); the rest is a message
//! read with `bgp::Message::read` (or `parse_body`) and walked whole.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mrtsnap::bgp::message::MessageContext;
use mrtsnap::bgp::Message;
use mrtsnap::cursor::Reader;

#[path = "../../tests/common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let ctx = MessageContext {
        asn_len: if sel & 1 != 0 { 4 } else { 2 },
        add_path: sel & 2 != 0,
    };
    let base = 1000;
    let end = base + rest.len() as u64;
    let mut r = Reader::new(rest, base);
    let m = if sel & 4 != 0 {
        let Some((&t, body)) = rest.split_first() else { return };
        r = Reader::new(body, base + 1);
        Message::parse_body(t, &mut r, ctx)
    } else {
        Message::read(&mut r, ctx)
    };
    assert!(r.offset() <= end);
    match m {
        Ok(m) => {
            let mut errors = Vec::new();
            common::walk_message(&m, &mut errors);
            for e in &errors {
                assert!(e.offset() >= base && e.offset() <= end, "error outside the message: {e}");
            }
        }
        Err(e) => assert!(e.offset() >= base && e.offset() <= end, "error outside the message: {e}"),
    }
});
