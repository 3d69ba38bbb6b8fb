//! Small deterministic pseudo-random number generators.
//!
//! Everything the generator emits is derived from these generators and from
//! integer / IEEE-754 basic arithmetic only (no `ln`, `exp`, `pow`, which may
//! differ between libm implementations), so the output for a given seed is
//! byte-stable across platforms and releases.

/// The 64-bit golden ratio increment used by SplitMix64.
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// 2^64 as an exactly representable `f64`.
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// The SplitMix64 output finalizer (a strong 64-bit bijective mixer).
#[inline]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hashes two words into one; used to derive independent per-item seeds.
#[inline]
pub(crate) fn hash2(a: u64, b: u64) -> u64 {
    mix64(a ^ mix64(b.wrapping_add(GOLDEN)).rotate_left(17))
}

/// Common helpers over a source of uniformly distributed `u64`s.
pub(crate) trait Rng {
    /// The next uniformly distributed 64-bit word.
    fn next_u64(&mut self) -> u64;

    /// Uniform integer in `0..n` (returns 0 when `n == 0`).
    ///
    /// Uses Lemire's multiply-shift reduction without rejection; the bias is
    /// below 2^-40 for every range used here and it keeps the stream length
    /// fixed, which keeps output stable.
    #[inline]
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform `usize` in `0..n` (returns 0 when `n == 0`).
    #[inline]
    fn below_usize(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Uniform integer in `lo..=hi` (`lo <= hi` required; returns `lo` otherwise).
    #[inline]
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below(hi - lo + 1)
        }
    }

    /// Uniform `f64` in `[0, 1)` with 53 bits of precision.
    #[inline]
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// True with the probability encoded in `t`.
    #[inline]
    fn chance(&mut self, t: Threshold) -> bool {
        t.hit(self.next_u64())
    }
}

/// SplitMix64: tiny, fast, used for per-record / per-entry streams.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// Creates a generator from a seed.
    #[inline]
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
}

impl Rng for SplitMix64 {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix64(self.0)
    }
}

/// xoshiro256**: long-period generator used for global sequential streams.
#[derive(Clone, Debug)]
pub(crate) struct Xoshiro256 {
    s: [u64; 4],
}

impl Xoshiro256 {
    /// Seeds the state from SplitMix64 as recommended by the authors.
    pub(crate) fn new(seed: u64) -> Self {
        let mut sm = SplitMix64::new(seed);
        let mut s = [0u64; 4];
        for w in &mut s {
            *w = sm.next_u64();
        }
        if s == [0; 4] {
            s[0] = GOLDEN;
        }
        Xoshiro256 { s }
    }
}

impl Rng for Xoshiro256 {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }
}

/// A probability pre-converted to a 64-bit comparison threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Threshold(u64);

impl Threshold {
    /// Converts a probability (clamped to `[0, 1]`; NaN counts as 0).
    pub(crate) fn new(p: f64) -> Self {
        if p.is_nan() || p <= 0.0 {
            Threshold(0)
        } else if p >= 1.0 {
            Threshold(u64::MAX)
        } else {
            Threshold((p * TWO_POW_64) as u64)
        }
    }

    /// True when the uniformly distributed word `x` falls under the threshold.
    #[inline]
    pub(crate) fn hit(self, x: u64) -> bool {
        x < self.0 || self.0 == u64::MAX
    }
}

/// A discrete distribution over a small set of values given integer weights.
#[derive(Clone, Debug)]
pub(crate) struct Weighted<T: Copy> {
    cum: Vec<u64>,
    values: Vec<T>,
}

impl<T: Copy> Weighted<T> {
    /// Builds the table; zero weights are allowed (never sampled).
    pub(crate) fn new(pairs: &[(T, u32)]) -> Self {
        let mut cum = Vec::with_capacity(pairs.len());
        let mut values = Vec::with_capacity(pairs.len());
        let mut total = 0u64;
        for &(v, w) in pairs {
            total += u64::from(w);
            cum.push(total);
            values.push(v);
        }
        Weighted { cum, values }
    }

    /// Samples a value using the word `x` (uniform over `u64`).
    #[inline]
    pub(crate) fn pick(&self, x: u64) -> T {
        let total = self.cum.last().copied().unwrap_or(0);
        let r = ((u128::from(x) * u128::from(total)) >> 64) as u64;
        for (i, &c) in self.cum.iter().enumerate() {
            if r < c {
                return self.values[i];
            }
        }
        // Only reachable for an all-zero table.
        self.values[self.values.len().saturating_sub(1)]
    }

    /// Samples a value from a generator.
    #[inline]
    pub(crate) fn sample<R: Rng>(&self, rng: &mut R) -> T {
        self.pick(rng.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // Reference output of SplitMix64 seeded with 0 (Vigna's reference code).
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn below_and_threshold_bounds() {
        let mut r = Xoshiro256::new(42);
        for n in [1u64, 2, 3, 7, 1000] {
            for _ in 0..1000 {
                assert!(r.below(n) < n);
            }
        }
        assert_eq!(r.below(0), 0);
        assert!(!Threshold::new(0.0).hit(0));
        assert!(Threshold::new(1.0).hit(u64::MAX));
        assert!(!Threshold::new(f64::NAN).hit(0));
        let t = Threshold::new(0.25);
        let hits = (0..100_000).filter(|_| r.chance(t)).count();
        assert!((23_000..27_000).contains(&hits), "{hits}");
    }

    #[test]
    fn weighted_respects_weights() {
        let w = Weighted::new(&[(1u8, 1), (2u8, 0), (3u8, 3)]);
        let mut r = SplitMix64::new(7);
        let mut c = [0usize; 4];
        for _ in 0..40_000 {
            c[w.sample(&mut r) as usize] += 1;
        }
        assert_eq!(c[2], 0);
        assert!((9_000..11_000).contains(&c[1]), "{c:?}");
    }
}
