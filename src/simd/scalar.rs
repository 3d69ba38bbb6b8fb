//! The scalar twins: portable, always compiled, the reference every other
//! backend must match. No `unsafe` here.

/// The origin of one entry under the fast rule (see [`super::attr_origins`]),
/// its AS_PATH made of `W`-byte ASNs.
#[inline]
pub(super) fn attr_origin_one<const W: usize>(buf: &[u8], start: u32, end: u32) -> Option<u32> {
    let mut rest = buf.get(start as usize..end as usize)?;
    let mut as_path: Option<&[u8]> = None;
    let mut count = 0u32;
    while let [flags, code, tail @ ..] = rest {
        let (len, tail) = match (flags & 0x10 != 0, tail) {
            (true, [a, b, t @ ..]) => (usize::from(u16::from_be_bytes([*a, *b])), t),
            (false, [a, t @ ..]) => (usize::from(*a), t),
            _ => return None,
        };
        let (value, tail) = tail.split_at_checked(len)?;
        match code {
            2 => {
                count += 1;
                as_path = Some(value);
            }
            17 => return None,
            // A treat-as-withdraw attribute of the wrong length: the exact
            // walk reports it. (Costs 1.2% of the instructions of a
            // one-thread snapshot of the jinx RIB: 1,312M -> 1,328M, callgrind.)
            &c if crate::bgp::attr::withdraws_by_length(c, len) => return None,
            _ => {}
        }
        rest = tail;
    }
    if !rest.is_empty() || count != 1 {
        return None;
    }
    match as_path? {
        [2, n, asns @ ..] if !asns.is_empty() && asns.len() == W * usize::from(*n) => {
            asns.last_chunk::<W>().map(|b| b.iter().fold(0u32, |a, &x| a << 8 | u32::from(x)))
        }
        _ => None,
    }
}

pub(super) fn attr_origins(buf: &[u8], starts: &[u32], ends: &[u32], asns: &mut [u32], ok: &mut [u8]) {
    for (((&s, &e), a), k) in starts.iter().zip(ends).zip(asns.iter_mut()).zip(ok.iter_mut()) {
        let o = attr_origin_one::<4>(buf, s, e);
        *a = o.unwrap_or(0);
        *k = u8::from(o.is_some());
    }
}

#[inline]
pub(super) fn all_equal_u64(x: &[u64]) -> bool {
    match x.split_first() {
        Some((first, rest)) => rest.iter().all(|v| v == first),
        None => true,
    }
}

#[inline]
pub(super) fn strictly_increasing_u32(x: &[u32]) -> bool {
    x.windows(2).all(|w| w[0] < w[1])
}

#[inline]
pub(super) fn in_bitmap(id: u32, bits: &[u64]) -> bool {
    bits.get((id >> 6) as usize).is_some_and(|w| (w >> (id & 63)) & 1 != 0)
}

#[inline]
pub(super) fn count_in_bitmap(ids: &[u32], bits: &[u64]) -> usize {
    ids.iter().filter(|&&id| in_bitmap(id, bits)).count()
}
