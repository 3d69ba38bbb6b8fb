//! x86_64 backends: detection and the safe entry points the dispatcher
//! calls. Each entry point is reached only for a backend whose features
//! [`super::Backend::is_available`] confirmed at run time.

mod avx2;
mod sse2;

pub(super) fn has_sse2() -> bool {
    cfg!(target_feature = "sse2") || std::arch::is_x86_feature_detected!("sse2")
}

pub(super) fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

/// AVX-512 F, BW and VL, and AVX2 (every such CPU has it; the `Avx512`
/// backend runs the AVX2 kernels).
pub(super) fn has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bw")
        && std::arch::is_x86_feature_detected!("avx512vl")
        && has_avx2()
}

pub(super) fn all_equal_u64_sse2(x: &[u64]) -> bool {
    // SAFETY: reached only when `Backend::Sse2.is_available()` or better (SSE2).
    unsafe { sse2::all_equal_u64(x) }
}

pub(super) fn all_equal_u64_avx2(x: &[u64]) -> bool {
    // SAFETY: reached only when `Backend::Avx2` or `Backend::Avx512` is
    // available; both imply AVX2 (see `has_avx512`).
    unsafe { avx2::all_equal_u64(x) }
}

pub(super) fn strictly_increasing_u32_sse2(x: &[u32]) -> bool {
    // SAFETY: reached only when `Backend::Sse2.is_available()` or better (SSE2).
    unsafe { sse2::strictly_increasing_u32(x) }
}

pub(super) fn strictly_increasing_u32_avx2(x: &[u32]) -> bool {
    // SAFETY: reached only when `Backend::Avx2` or `Backend::Avx512` is
    // available; both imply AVX2.
    unsafe { avx2::strictly_increasing_u32(x) }
}

pub(super) fn count_in_bitmap_avx2(ids: &[u32], bits: &[u64]) -> usize {
    // SAFETY: reached only when `Backend::Avx2` or `Backend::Avx512` is
    // available; both imply AVX2.
    unsafe { avx2::count_in_bitmap(ids, bits) }
}
