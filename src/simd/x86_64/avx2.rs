//! AVX2 kernels: four 64-bit or eight 32-bit lanes, a gather for the bitmap
//! lookups. The x86_64 backends `Avx2` and `Avx512` both run these (see
//! `super::super` on why no kernel kept a 512-bit form).

use super::super::scalar;
use core::arch::x86_64::*;

/// [`super::super::all_equal_u64`], four lanes at a time.
///
/// # Safety
/// - The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn all_equal_u64(x: &[u64]) -> bool {
    let Some(&first) = x.first() else { return true };
    if x.len() < 4 {
        return scalar::all_equal_u64(x);
    }
    let f = _mm256_set1_epi64x(first as i64);
    let mut acc = _mm256_setzero_si256();
    let mut chunks = x.chunks_exact(4);
    for c in &mut chunks {
        // SAFETY: `c` is 4 u64 (32 bytes) of `x`; loadu needs no alignment.
        let v = unsafe { _mm256_loadu_si256(c.as_ptr().cast()) };
        acc = _mm256_or_si256(acc, _mm256_xor_si256(v, f));
    }
    if !chunks.remainder().is_empty() {
        if let Some(t) = x.last_chunk::<4>() {
            // SAFETY: `t` is the last 4 u64 of `x` (overlapping the loop's last load).
            let v = unsafe { _mm256_loadu_si256(t.as_ptr().cast()) };
            acc = _mm256_or_si256(acc, _mm256_xor_si256(v, f));
        }
    }
    _mm256_testz_si256(acc, acc) != 0
}

/// [`super::super::strictly_increasing_u32`], eight pairs at a time.
///
/// # Safety
/// - The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn strictly_increasing_u32(x: &[u32]) -> bool {
    if x.len() < 9 {
        return scalar::strictly_increasing_u32(x);
    }
    let flip = _mm256_set1_epi32(i32::MIN);
    let mut all = _mm256_set1_epi32(-1);
    let mut check = |w: &[u32; 9]| {
        // SAFETY: `w` is 9 u32: elements 0..8 are 32 bytes inside it.
        let a = unsafe { _mm256_loadu_si256(w.as_ptr().cast()) };
        // SAFETY: elements 1..9 of `w` are 32 bytes inside it.
        let b = unsafe { _mm256_loadu_si256(w.as_ptr().wrapping_add(1).cast()) };
        all = _mm256_and_si256(all, _mm256_cmpgt_epi32(_mm256_xor_si256(b, flip), _mm256_xor_si256(a, flip)));
    };
    let mut i = 0;
    while let Some(w) = x.get(i..).and_then(|r| r.first_chunk::<9>()) {
        check(w);
        i += 8;
    }
    if i + 1 < x.len() {
        if let Some(w) = x.last_chunk::<9>() {
            check(w);
        }
    }
    _mm256_movemask_epi8(all) == -1
}

/// [`super::super::count_in_bitmap`]: one 32-bit gather per 8 ids.
///
/// # Safety
/// - The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn count_in_bitmap(ids: &[u32], bits: &[u64]) -> usize {
    // The bitmap as little-endian 32-bit words: bit `id` is bit `id % 32`
    // of word `id / 32` (x86_64 is little-endian).
    let words = bits.len().saturating_mul(2);
    if words > (i32::MAX as usize) {
        return scalar::count_in_bitmap(ids, bits);
    }
    let base = bits.as_ptr().cast::<i32>();
    let nwords = _mm256_set1_epi32(words as i32);
    let low5 = _mm256_set1_epi32(31);
    let one = _mm256_set1_epi32(1);
    let zero = _mm256_setzero_si256();
    let mut total = 0usize;
    let mut chunks = ids.chunks_exact(8);
    for c in &mut chunks {
        // SAFETY: `c` is 8 u32 (32 bytes) of `ids`.
        let id = unsafe { _mm256_loadu_si256(c.as_ptr().cast()) };
        let w = _mm256_srli_epi32(id, 5);
        let inside = _mm256_cmpgt_epi32(nwords, w);
        // SAFETY: only lanes with 0 <= w < words are read (w = id >> 5 is
        // below 2^27, never negative): 4 bytes inside `bits`.
        let g = unsafe { _mm256_mask_i32gather_epi32::<4>(zero, base, w, inside) };
        let bit = _mm256_and_si256(_mm256_srlv_epi32(g, _mm256_and_si256(id, low5)), one);
        let set = _mm256_cmpeq_epi32(bit, one);
        total += (_mm256_movemask_ps(_mm256_castsi256_ps(set)) as u32).count_ones() as usize;
    }
    total + scalar::count_in_bitmap(chunks.remainder(), bits)
}
