//! Allocation-free formatting of numbers, addresses and JSON strings into
//! byte buffers, and the proleptic Gregorian calendar of Unix times (UTC).
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
pub fn write_u32(out: &mut Vec<u8>, v: u32) {
    let (buf, n) = u32_block(v);
    let len = out.len();
    out.extend_from_slice(&buf);
    out.truncate(len + n);
}

/// The decimal digits of `v` at the front of a 16-byte block, and their
/// count (see [`write_u32`]).
#[inline]
fn u32_block(mut v: u32) -> ([u8; 16], usize) {
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
    (buf, n)
}

/// Append the decimal form of `v`.
#[inline]
pub fn write_u64(out: &mut Vec<u8>, v: u64) {
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(b.format(v).as_bytes());
}

/// The decimal digits of every byte value, then their count: `b"255\x03"`.
const OCTETS: [[u8; 4]; 256] = {
    let mut t = [[0u8; 4]; 256];
    let mut v = 0;
    while v < 256 {
        let (h, d, u) = ((v / 100) as u8, (v / 10 % 10) as u8, (v % 10) as u8);
        t[v] = if v >= 100 {
            [b'0' + h, b'0' + d, b'0' + u, 3]
        } else if v >= 10 {
            [b'0' + d, b'0' + u, 0, 2]
        } else {
            [b'0' + u, 0, 0, 1]
        };
        v += 1;
    }
    t
};

/// Append dotted-quad IPv4.
///
/// # Performance
/// Each octet's digits come from a 256-entry table, stored four bytes at
/// a time into a 16-byte block (an address has at most 15 characters)
/// appended whole and then truncated. Dividing each octet by 100 and 10
/// made this 20% of `dump --threads 1` on the PCH 2015 updates file
/// (callgrind, with the prefix writes it is inlined into): 499M
/// instructions, 452M with the table (prefixes written in one block with
/// their length, [`write_ipv4_prefix`]).
#[inline]
pub fn write_ipv4(out: &mut Vec<u8>, a: u32) {
    write_ipv4_then(out, a, None);
}

/// Append `a.b.c.d/len`: an IPv4 prefix, in one block.
#[inline]
pub fn write_ipv4_prefix(out: &mut Vec<u8>, a: u32, len: u8) {
    write_ipv4_then(out, a, Some(len));
}

/// Append dotted-quad IPv4, then `/` and `len` if given: at most 19
/// characters, formatted into a 24-byte block appended whole and then
/// truncated.
#[inline(always)]
fn write_ipv4_then(out: &mut Vec<u8>, a: u32, len: Option<u8>) {
    let (buf, n) = ipv4_block(a, len);
    let start = out.len();
    out.extend_from_slice(&buf);
    out.truncate(start + n);
}

/// Dotted-quad IPv4, then `/` and `len` if given, at the front of a
/// 24-byte block, and its length (see [`write_ipv4_then`]).
#[inline(always)]
fn ipv4_block(a: u32, len: Option<u8>) -> ([u8; 24], usize) {
    let mut buf = [0u8; 24];
    let mut n = 0usize;
    // The digits of `v` at `n` (a whole 4-byte entry: one store; the
    // bytes past the digits are overwritten or cut), then `sep` if any.
    let mut put = |n: &mut usize, v: u8, sep: Option<u8>| {
        let e = OCTETS[usize::from(v)];
        // `n` is at most 16 here: the four bytes fit.
        if let Some(d) = buf.get_mut(*n..*n + 4) {
            d.copy_from_slice(&e);
        }
        *n += usize::from(e[3]);
        if let Some(s) = sep {
            if let Some(d) = buf.get_mut(*n) {
                *d = s;
            }
            *n += 1;
        }
    };
    let [b0, b1, b2, b3] = a.to_be_bytes();
    for b in [b0, b1, b2] {
        put(&mut n, b, Some(b'.'));
    }
    match len {
        Some(l) => {
            put(&mut n, b3, Some(b'/'));
            put(&mut n, l, None);
        }
        None => put(&mut n, b3, None),
    }
    (buf, n)
}

/// A short line of text built in a fixed block and appended to a buffer
/// in one copy: an IPv4 prefix and two numbers with separators fit (at
/// most 43 bytes of text; each piece is copied as a whole block, the
/// widest 24 bytes, so a piece starting at byte 40 still fits).
///
/// # Performance
/// The pairs text of the route-views.jinx RIB appended each piece to the
/// output vector (a capacity check and a copy per piece) through a row
/// view of every column: 325 instructions a row, 22% of the snapshot
/// (callgrind, one thread); built here, see `Snapshot::write_pairs`.
pub(crate) struct Line {
    buf: [u8; 64],
    n: usize,
}

impl Line {
    /// An empty line.
    #[inline]
    pub(crate) fn new() -> Line {
        Line { buf: [0; 64], n: 0 }
    }

    #[inline(always)]
    fn put<const N: usize>(&mut self, (block, k): ([u8; N], usize)) {
        debug_assert!(self.n + N <= self.buf.len(), "a line holds what its callers put");
        if let Some(d) = self.buf.get_mut(self.n..self.n + N) {
            d.copy_from_slice(&block);
            self.n += k;
        }
    }

    /// Append `a.b.c.d/len`.
    #[inline]
    pub(crate) fn ipv4_prefix(&mut self, a: u32, len: u8) {
        self.put(ipv4_block(a, Some(len)));
    }

    /// Append the decimal form of `v`.
    #[inline]
    pub(crate) fn u32(&mut self, v: u32) {
        self.put(u32_block(v));
    }

    /// Append one byte.
    #[inline]
    pub(crate) fn byte(&mut self, b: u8) {
        if let Some(d) = self.buf.get_mut(self.n) {
            *d = b;
            self.n += 1;
        }
    }

    /// Append the line to `out`.
    #[inline]
    pub(crate) fn finish(self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&self.buf);
        out.truncate(start + self.n);
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

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// `YYYY-MM-DD` of a Unix time (UTC).
///
/// ```
/// assert_eq!(mrtsnap::fmt::utc_date(1_419_206_400), "2014-12-22");
/// ```
pub fn utc_date(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix time.
///
/// ```
/// assert_eq!(mrtsnap::fmt::utc_datetime(1_009_872_000), "2002-01-01T08:00:00Z");
/// ```
pub fn utc_datetime(t: i64) -> String {
    let s = t.rem_euclid(86_400);
    format!("{}T{:02}:{:02}:{:02}Z", utc_date(t), s / 3600, s / 60 % 60, s % 60)
}

/// `YYYYMMDDTHHMMSSZ` of a Unix time: an instant in file names (the
/// snapshots of `snapshot --at/--every` and `batch --every`).
///
/// ```
/// assert_eq!(mrtsnap::fmt::utc_stamp(1_401_490_800), "20140530T230000Z");
/// ```
pub fn utc_stamp(t: i64) -> String {
    utc_datetime(t).replace([':', '-'], "")
}

/// A duration given on the command line (`--every`): a number with a unit
/// `s`, `m`, `h` or `d` (`15m`, `2h`, `1d`), or bare seconds; more than 0.
///
/// ```
/// use mrtsnap::fmt::parse_duration;
/// assert_eq!(parse_duration("15m"), Ok(900));
/// assert_eq!(parse_duration("2h"), Ok(7200));
/// assert_eq!(parse_duration("3600"), Ok(3600));
/// assert!(parse_duration("0s").is_err() && parse_duration("5x").is_err() && parse_duration("").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<i64, crate::error::ParseError> {
    let bad = || crate::error::ParseError::new(format!("{s:?}: expected a duration such as 300s, 15m, 2h or 1d"));
    let (n, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c),
        _ => (s, 's'),
    };
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let v: i64 = n.parse().map_err(|_| bad())?;
    v.checked_mul(mult).filter(|&d| d > 0).ok_or_else(bad)
}

/// A duration as [`parse_duration`] reads it, in its largest whole unit:
/// `1d`, `2h`, `5m`, `90s`.
///
/// ```
/// use mrtsnap::fmt::{duration, parse_duration};
/// assert_eq!((duration(300), duration(86_400), duration(5400), duration(90)), ("5m".into(), "1d".into(), "90m".into(), "90s".into()));
/// assert_eq!(parse_duration(&duration(7200)), Ok(7200));
/// ```
pub fn duration(secs: u64) -> String {
    for (unit, n) in [('d', 86_400), ('h', 3600), ('m', 60)] {
        if secs >= n && secs.is_multiple_of(n) {
            return format!("{}{unit}", secs / n);
        }
    }
    format!("{secs}s")
}

/// The one parser of times given on the command line (`--at`, `--from`,
/// `--until`): RFC 3339 (`2014-12-22T16:20:00Z`, also with an offset such as
/// `+09:00`, lower-case `t`/`z`, fractional seconds dropped, or a space for
/// `T`), `YYYY-MM-DDTHH:MM` (UTC), a date `YYYY-MM-DD`, or Unix seconds (bare
/// or `@SECONDS`). A bare date means the start of that day (UTC), or its
/// last second with `end_of_day` (what `--until DATE` means).
///
/// ```
/// use mrtsnap::fmt::parse_time;
/// assert_eq!(parse_time("2014-12-22", false), Ok(1_419_206_400));
/// assert_eq!(parse_time("2014-12-22", true), Ok(1_419_206_400 + 86_399));
/// assert_eq!(parse_time("2014-12-22T16:20:00Z", false), Ok(1_419_265_200));
/// assert_eq!(parse_time("2014-12-23T01:20:00.250+09:00", false), Ok(1_419_265_200));
/// assert_eq!(parse_time("2014-12-22T12:30Z", false), Ok(1_419_206_400 + 45_000));
/// assert_eq!(parse_time("1419265200", false), Ok(1_419_265_200));
/// assert_eq!(parse_time("@1419206400", true), Ok(1_419_206_400));
/// assert!(parse_time("22/12/2014", false).is_err());
/// ```
pub fn parse_time(s: &str, end_of_day: bool) -> Result<i64, crate::error::ParseError> {
    let bad = || {
        crate::error::ParseError::new(format!(
            "{s:?}: expected RFC 3339 (2014-12-22T16:20:00Z), YYYY-MM-DD[THH:MM[:SS]] (UTC) or Unix seconds (@SECONDS)"
        ))
    };
    let secs = s.strip_prefix('@').unwrap_or(s);
    if !secs.is_empty() && secs.bytes().all(|b| b.is_ascii_digit()) {
        return secs.parse().map_err(|_| bad());
    }
    let (date, time) = match s.split_once(['T', 't', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let d: Vec<&str> = date.split('-').collect();
    let [y, m, dd] = d.as_slice() else { return Err(bad()) };
    let num = |x: &str| x.parse::<i64>().ok().filter(|_| x.bytes().all(|b| b.is_ascii_digit()));
    let (Some(y), Some(m), Some(dd)) = (num(y), num(m), num(dd)) else {
        return Err(bad());
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&dd) || !(1970..=9999).contains(&y) {
        return Err(bad());
    }
    let day = days_from_civil(y, m, dd) * 86_400;
    let Some(time) = time else {
        return Ok(if end_of_day { day + 86_399 } else { day });
    };
    // The zone: Z, or an offset east (+) or west (-) of UTC.
    let (clock, offset) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else if let Some(k) = time.rfind(['+', '-']) {
        let (c, z) = time.split_at(k);
        let (sign, hm) = z.split_at(1);
        let (Some((oh, om)), true) = (hm.split_once(':'), hm.len() == 5) else {
            return Err(bad());
        };
        let (Some(oh), Some(om)) = (num(oh), num(om)) else {
            return Err(bad());
        };
        if oh > 23 || om > 59 {
            return Err(bad());
        }
        (c, if sign == "+" { oh * 3600 + om * 60 } else { -(oh * 3600 + om * 60) })
    } else {
        (time, 0)
    };
    let clock = clock.split_once('.').map_or(clock, |(c, frac)| {
        if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
            ""
        } else {
            c
        }
    });
    let parts: Vec<i64> = clock.split(':').map(|x| num(x).ok_or_else(bad)).collect::<Result<_, _>>()?;
    let (h, mi, sec) = match parts.as_slice() {
        [h, m] => (*h, *m, 0),
        [h, m, s] => (*h, *m, *s),
        _ => return Err(bad()),
    };
    if h > 23 || mi > 59 || sec > 60 {
        return Err(bad());
    }
    Ok(day + h * 3600 + mi * 60 + sec - offset)
}

/// Arbitrary bytes as a JSON string (RFC 8259 §7), handed to `put` piece by
/// piece: quote, backslash and control characters escaped (`\n`, `\r`,
/// `\t`, else `\u00xx`), each invalid UTF-8 sequence replaced by U+FFFD
/// (`\ufffd`), everything else as it is. The one JSON string writer of the
/// crate; [`json_str`] and [`json_string`] are its two sinks.
fn json_escaped(s: &[u8], mut put: impl FnMut(&str)) {
    put("\"");
    for chunk in s.utf8_chunks() {
        let valid = chunk.valid();
        let mut from = 0;
        for (i, b) in valid.bytes().enumerate() {
            let mut u = *b"\\u00xx";
            let esc = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..=0x1f => {
                    u[4] = HEX[usize::from(b >> 4)];
                    u[5] = HEX[usize::from(b & 15)];
                    std::str::from_utf8(&u).unwrap_or("\\ufffd")
                }
                _ => continue,
            };
            // An ASCII byte: both cuts fall on character boundaries.
            put(valid.get(from..i).unwrap_or(""));
            put(esc);
            from = i + 1;
        }
        put(valid.get(from..).unwrap_or(""));
        if !chunk.invalid().is_empty() {
            put("\\ufffd");
        }
    }
    put("\"");
}

/// Append arbitrary bytes as a JSON string (see [`json_escaped`]).
pub(crate) fn json_str(out: &mut Vec<u8>, s: &[u8]) {
    json_escaped(s, |p| out.extend_from_slice(p.as_bytes()));
}

/// Append a string as a JSON string, quotes included: control
/// characters, quotes and backslashes escaped, invalid UTF-8 as U+FFFD.
pub fn json_string(out: &mut String, s: &str) {
    json_escaped(s.as_bytes(), |p| out.push_str(p));
}

/// Append a CSV field: in double quotes (inner ones doubled) when it holds
/// a comma, a quote or a line break.
pub fn csv_field(out: &mut String, f: &str) {
    if f.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&f.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_that_do_not_parse() {
        for bad in [
            "",
            "@",
            "@-5",
            "2014-12-22T24:00",
            "2014-12-22T16:20:00+5:00",
            "2014-12-22T16:20:00.Z",
            "2014-13-01",
            "1969-12-31",
            "2014-12-22T16",
            "2014-12-22T16:20:00+05:00:00",
            "twenty",
        ] {
            assert!(parse_time(bad, false).is_err(), "{bad}");
        }
        let t = 1_419_265_200;
        assert_eq!(parse_time("2014-12-22t16:20:00z", false), Ok(t));
        assert_eq!(parse_time("2014-12-22 16:20:00", false), Ok(t));
        assert_eq!(parse_time("2014-12-22T11:20:00-05:00", false), Ok(t));
        assert_eq!(parse_time("2014-12-22T16:20:00.999999Z", false), Ok(t));
        assert_eq!(parse_time("2014-12-22T16:20Z", true), Ok(t));
    }

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

    /// Every octet value in every position, around others of every width,
    /// is written as `Ipv4Addr` displays it.
    #[test]
    fn ipv4_like_display() {
        let mut o = b"x".to_vec();
        for v in 0..=255u32 {
            for other in [0u32, 7, 42, 255] {
                for pos in 0..4 {
                    let mut a = other * 0x0101_0101;
                    a = (a & !(0xff << (8 * pos))) | (v << (8 * pos));
                    o.truncate(1);
                    write_ipv4(&mut o, a);
                    assert_eq!(&o[1..], std::net::Ipv4Addr::from(a).to_string().as_bytes());
                    let l = (v % 33) as u8;
                    o.truncate(1);
                    write_ipv4_prefix(&mut o, a, l);
                    assert_eq!(&o[1..], format!("{}/{l}", std::net::Ipv4Addr::from(a)).as_bytes());
                }
            }
        }
    }

    /// Both sinks write the same bytes; quote, backslash and controls
    /// escaped, invalid UTF-8 replaced.
    #[test]
    fn json_strings() {
        let mut out = Vec::new();
        json_str(&mut out, b"a\"b\\c\n\x01\xff\xfe z\xc3\xa9\x1f\r\t");
        assert_eq!(out, b"\"a\\\"b\\\\c\\n\\u0001\\ufffd\\ufffd z\xc3\xa9\\u001f\\r\\t\"");
        let mut s = String::new();
        json_string(&mut s, "v\"\u{1}é");
        assert_eq!(s, "\"v\\\"\\u0001é\"");
        let mut b = Vec::new();
        json_str(&mut b, "v\"\u{1}é".as_bytes());
        assert_eq!(b, s.as_bytes());
    }
}
