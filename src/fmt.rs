//! Allocation-free formatting of numbers and addresses into byte buffers.
//!
//! The dump and text writers format millions of addresses; `core::fmt`
//! machinery costs several times more than these direct writers (itoa for
//! decimals, a table-free hex writer for IPv6).

/// Append the decimal form of `v`.
#[inline]
pub fn write_u32(out: &mut Vec<u8>, v: u32) {
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(b.format(v).as_bytes());
}

/// Append the decimal form of `v`.
#[inline]
pub fn write_u64(out: &mut Vec<u8>, v: u64) {
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(b.format(v).as_bytes());
}

/// Append dotted-quad IPv4.
#[inline]
pub fn write_ipv4(out: &mut Vec<u8>, a: u32) {
    for (i, byte) in a.to_be_bytes().iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        write_u32(out, u32::from(*byte));
    }
}

/// Append IPv6 text as bgpdump writes it: lower-case hex, the longest run
/// of zero groups compressed to `::` (the first on ties, and unlike RFC 5952
/// even a run of one group), an embedded IPv4 for `::a.b.c.d` and
/// `::ffff:a.b.c.d`.
pub fn write_ipv6(out: &mut Vec<u8>, a: u128) {
    let mut w = [0u16; 8];
    for (i, g) in w.iter_mut().enumerate() {
        *g = (a >> (112 - 16 * i)) as u16;
    }
    // Longest run of zero groups.
    let (mut best, mut best_len, mut cur, mut cur_len) = (usize::MAX, 0usize, 0usize, 0usize);
    for (i, &g) in w.iter().enumerate() {
        if g == 0 {
            if cur_len == 0 {
                cur = i;
            }
            cur_len += 1;
            if cur_len > best_len {
                best = cur;
                best_len = cur_len;
            }
        } else {
            cur_len = 0;
        }
    }
    if best_len == 0 {
        best = usize::MAX;
    }
    if best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)) {
        // Embedded IPv4 (inet_ntop's rule): a leading run of 6 zero groups,
        // or 5 zero groups followed by ffff.
        out.extend_from_slice(if best_len == 6 { b"::" } else { b"::ffff:" });
        write_ipv4(out, a as u32);
        return;
    }
    let mut i = 0;
    while i < 8 {
        if i == best {
            out.extend_from_slice(b"::");
            i += best_len;
            continue;
        }
        if i > 0 && i != best.wrapping_add(best_len) {
            out.push(b':');
        }
        write_hex16(out, w[i]);
        i += 1;
    }
}

#[inline]
fn write_hex16(out: &mut Vec<u8>, v: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut started = false;
    for shift in [12u32, 8, 4, 0] {
        let d = usize::from((v >> shift) & 0xf);
        if d != 0 || started || shift == 0 {
            out.push(HEX[d]);
            started = true;
        }
    }
}

/// Append an address.
pub fn write_ip(out: &mut Vec<u8>, ip: std::net::IpAddr) {
    match ip {
        std::net::IpAddr::V4(a) => write_ipv4(out, a.into()),
        std::net::IpAddr::V6(a) => write_ipv6(out, a.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> String {
        let mut o = Vec::new();
        write_ipv6(&mut o, s.parse::<std::net::Ipv6Addr>().unwrap().into());
        String::from_utf8(o).unwrap()
    }

    #[test]
    fn ipv6_like_inet_ntop() {
        for (i, o) in [
            ("::", "::"),
            ("::1", "::1"),
            ("2001:db8::", "2001:db8::"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
            ("1:0:2:3:4:5:6:7", "1::2:3:4:5:6:7"),
            ("2001:7f8:30:0:2:1:0:8447", "2001:7f8:30::2:1:0:8447"),
            ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
            ("::1.2.3.4", "::1.2.3.4"),
            ("fe80::abcd:1", "fe80::abcd:1"),
            ("1::", "1::"),
        ] {
            assert_eq!(v6(i), o);
        }
        let mut o = Vec::new();
        write_ipv4(&mut o, 0x0a00ff01);
        assert_eq!(o, b"10.0.255.1");
    }
}
