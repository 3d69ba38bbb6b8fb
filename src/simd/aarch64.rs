//! aarch64 NEON kernels (NEON is part of the aarch64 baseline). Only the
//! kernels that need no gathers have a NEON form; the others run scalar.

use super::scalar;
use core::arch::aarch64::*;

pub(super) fn has_neon() -> bool {
    cfg!(target_feature = "neon") || std::arch::is_aarch64_feature_detected!("neon")
}

pub(super) fn all_equal_u64(x: &[u64]) -> bool {
    // SAFETY: reached only when `Backend::Neon.is_available()` (NEON).
    unsafe { all_equal_u64_neon(x) }
}

pub(super) fn strictly_increasing_u32(x: &[u32]) -> bool {
    // SAFETY: reached only when `Backend::Neon.is_available()` (NEON).
    unsafe { strictly_increasing_u32_neon(x) }
}

/// [`super::all_equal_u64`], two lanes at a time.
///
/// # Safety
/// - The CPU must support NEON.
#[target_feature(enable = "neon")]
unsafe fn all_equal_u64_neon(x: &[u64]) -> bool {
    let Some(&first) = x.first() else { return true };
    if x.len() < 2 {
        return true;
    }
    let f = vdupq_n_u64(first);
    let mut acc = vdupq_n_u64(0);
    let mut chunks = x.chunks_exact(2);
    for c in &mut chunks {
        // SAFETY: `c` is 2 u64 of `x`.
        let v = unsafe { vld1q_u64(c.as_ptr()) };
        acc = vorrq_u64(acc, veorq_u64(v, f));
    }
    if !chunks.remainder().is_empty() {
        if let Some(t) = x.last_chunk::<2>() {
            // SAFETY: `t` is the last 2 u64 of `x`.
            let v = unsafe { vld1q_u64(t.as_ptr()) };
            acc = vorrq_u64(acc, veorq_u64(v, f));
        }
    }
    vmaxvq_u32(vreinterpretq_u32_u64(acc)) == 0
}

/// [`super::strictly_increasing_u32`], four pairs at a time.
///
/// # Safety
/// - The CPU must support NEON.
#[target_feature(enable = "neon")]
unsafe fn strictly_increasing_u32_neon(x: &[u32]) -> bool {
    if x.len() < 5 {
        return scalar::strictly_increasing_u32(x);
    }
    let mut all = vdupq_n_u32(u32::MAX);
    let mut check = |w: &[u32; 5]| {
        // SAFETY: `w` is 5 u32: elements 0..4 are inside it.
        let a = unsafe { vld1q_u32(w.as_ptr()) };
        // SAFETY: elements 1..5 of `w` are inside it.
        let b = unsafe { vld1q_u32(w.as_ptr().wrapping_add(1)) };
        all = vandq_u32(all, vcltq_u32(a, b));
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
    vminvq_u32(all) == u32::MAX
}
