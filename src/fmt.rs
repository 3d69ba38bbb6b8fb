//! Allocation-free formatting of numbers, addresses and JSON strings into
//! byte buffers.
//!
//! The dump and text writers format millions of addresses; `core::fmt`
//! machinery costs several times more than these direct writers (a
//! two-digit table for decimals, a table-free hex writer for IPv6).

/// Lower-case hex digits.
pub(crate) const HEX: &[u8; 16] = b"0123456789abcdef";

/// `10^i`.
const POW10: [u32; 10] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];

/// `"00" "01" .. "99"`.
const DIGITS2: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Number of decimal digits of `v` (1 for 0).
#[inline]
fn decimal_len(v: u32) -> usize {
    let w = v | 1;
    let t = (((32 - w.leading_zeros()) * 1233) >> 12) as usize;
    let below = POW10.get(t).is_some_and(|&p| w < p);
    t + 1 - usize::from(below)
}

/// Append the decimal form of `v`.
///
/// # Performance
/// Decimal formatting was the largest item of the dump profile (`itoa` 21%,
/// plus 18% in the `memmove` its variable-length append calls). Digits are
/// written two at a time from a 200-byte table into a 16-byte block, which
/// is appended whole (a fixed-size copy: one vector store) and truncated to
/// the number's length: 1.1 GiB/s of output on ASN-like numbers against
/// 0.82 for `itoa` from memory (`kernels/write_u32`). An SSE2 conversion of
/// eight digits at once (Muła, Yip) ran at 0.9 GiB/s on the same numbers,
/// most of which have five digits or fewer, and was dropped.
#[inline]
pub fn write_u32(out: &mut Vec<u8>, mut v: u32) {
    let n = decimal_len(v);
    let mut buf = [0u8; 16];
    let mut i = n;
    while v >= 100 {
        let r = (v % 100) as usize * 2;
        v /= 100;
        i = i.saturating_sub(2);
        if let (Some(d), Some(s)) = (buf.get_mut(i..i + 2), DIGITS2.get(r..r + 2)) {
            d.copy_from_slice(s);
        }
    }
    if v >= 10 {
        let r = v as usize * 2;
        if let (Some(d), Some(s)) = (buf.get_mut(0..2), DIGITS2.get(r..r + 2)) {
            d.copy_from_slice(s);
        }
    } else {
        buf[0] = b'0' + v as u8;
    }
    let len = out.len();
    out.extend_from_slice(&buf);
    out.truncate(len + n);
}

/// Append the decimal form of `v`.
#[inline]
pub fn write_u64(out: &mut Vec<u8>, v: u64) {
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(b.format(v).as_bytes());
}

/// Append dotted-quad IPv4.
///
/// # Performance
/// Digits go into a 16-byte block (an address has at most 15 characters)
/// appended whole and then truncated: one store instead of seven small
/// appends.
#[inline]
pub fn write_ipv4(out: &mut Vec<u8>, a: u32) {
    let mut buf = [0u8; 16];
    let mut n = 0usize;
    for (i, b) in a.to_be_bytes().into_iter().enumerate() {
        // `& 15` keeps every index provably in bounds; n never exceeds 15.
        if i > 0 {
            buf[n & 15] = b'.';
            n += 1;
        }
        if b >= 100 {
            buf[n & 15] = b'0' + b / 100;
            n += 1;
        }
        if b >= 10 {
            buf[n & 15] = b'0' + (b / 10) % 10;
            n += 1;
        }
        buf[n & 15] = b'0' + b % 10;
        n += 1;
    }
    let len = out.len();
    out.extend_from_slice(&buf);
    out.truncate(len + n);
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

/// Arbitrary bytes as a JSON string (RFC 8259 §7): quote, backslash and
/// control characters escaped, each invalid UTF-8 sequence replaced by
/// U+FFFD.
pub(crate) fn json_str(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for chunk in s.utf8_chunks() {
        for &b in chunk.valid().as_bytes() {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0..=0x1f => {
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 15)]);
                }
                _ => out.push(b),
            }
        }
        if !chunk.invalid().is_empty() {
            out.extend_from_slice(b"\\ufffd");
        }
    }
    out.push(b'"');
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
