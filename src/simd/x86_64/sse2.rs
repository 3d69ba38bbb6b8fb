//! SSE2 kernels (every x86_64 CPU has SSE2).

use super::super::scalar;
use core::arch::x86_64::*;

/// [`super::super::all_equal_u64`], two lanes at a time.
///
/// # Safety
/// - The CPU must support SSE2.
#[target_feature(enable = "sse2")]
pub(super) unsafe fn all_equal_u64(x: &[u64]) -> bool {
    let Some(&first) = x.first() else { return true };
    if x.len() < 2 {
        return true;
    }
    let f = _mm_set1_epi64x(first as i64);
    let mut acc = _mm_setzero_si128();
    let mut chunks = x.chunks_exact(2);
    for c in &mut chunks {
        // SAFETY: `c` is 2 u64 (16 bytes) of `x`; loadu needs no alignment.
        let v = unsafe { _mm_loadu_si128(c.as_ptr().cast()) };
        acc = _mm_or_si128(acc, _mm_xor_si128(v, f));
    }
    if !chunks.remainder().is_empty() {
        if let Some(t) = x.last_chunk::<2>() {
            // SAFETY: `t` is the last 2 u64 of `x` (overlapping the loop's last load).
            let v = unsafe { _mm_loadu_si128(t.as_ptr().cast()) };
            acc = _mm_or_si128(acc, _mm_xor_si128(v, f));
        }
    }
    _mm_movemask_epi8(_mm_cmpeq_epi8(acc, _mm_setzero_si128())) == 0xffff
}

/// [`super::super::strictly_increasing_u32`]: `x[i] < x[i + 1]` four pairs
/// at a time (unsigned compare as signed after flipping the sign bit).
///
/// # Safety
/// - The CPU must support SSE2.
#[target_feature(enable = "sse2")]
pub(super) unsafe fn strictly_increasing_u32(x: &[u32]) -> bool {
    if x.len() < 5 {
        return scalar::strictly_increasing_u32(x);
    }
    let flip = _mm_set1_epi32(i32::MIN);
    let mut all = _mm_set1_epi32(-1);
    let mut check = |w: &[u32; 5]| {
        // SAFETY: `w` is 5 u32: elements 0..4 are 16 bytes inside it.
        let a = unsafe { _mm_loadu_si128(w.as_ptr().cast()) };
        // SAFETY: elements 1..5 of `w` are 16 bytes inside it.
        let b = unsafe { _mm_loadu_si128(w.as_ptr().wrapping_add(1).cast()) };
        all = _mm_and_si128(all, _mm_cmpgt_epi32(_mm_xor_si128(b, flip), _mm_xor_si128(a, flip)));
    };
    let mut i = 0;
    while let Some(w) = x.get(i..).and_then(|r| r.first_chunk::<5>()) {
        check(w);
        i += 4;
    }
    if i + 1 < x.len() {
        if let Some(w) = x.last_chunk::<5>() {
            check(w);
        }
    }
    _mm_movemask_epi8(all) == 0xffff
}
