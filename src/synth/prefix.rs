//! Realistic prefix samplers and unique sorted prefix-set generation.
//!
//! Prefixes are packed into sortable integer keys: IPv4 as
//! `(address << 8) | length` in a `u64`, IPv6 as `address | length` in a
//! `u128` (lengths never exceed 64, so the low byte of a masked address is
//! always free). Ascending key order is ascending (address, length) order.

use super::rng::{Rng, Threshold, Weighted, Xoshiro256};
use super::SynthError;

/// IPv4 prefix-length mix, loosely modelled on a 2024 full table:
/// about half /24, then /22, /23, /20, /21, /19, /16, ... down to /8, plus a
/// few longer-than-/24 routes that real collectors do see.
pub(crate) const V4_LEN_WEIGHTS: &[(u8, u32)] = &[
    (24, 52_000),
    (22, 13_000),
    (23, 11_000),
    (20, 6_000),
    (21, 5_500),
    (19, 3_500),
    (16, 2_800),
    (18, 2_000),
    (17, 1_500),
    (15, 500),
    (14, 400),
    (13, 250),
    (12, 200),
    (11, 60),
    (10, 25),
    (9, 10),
    (8, 4),
    (25, 60),
    (26, 40),
    (27, 30),
    (28, 30),
    (29, 40),
    (30, 40),
    (32, 60),
];

/// IPv6 prefix-length mix: mostly /48, then /32, /44, /40, /46, /36, /29 ...
pub(crate) const V6_LEN_WEIGHTS: &[(u8, u32)] = &[
    (48, 4_800),
    (32, 1_300),
    (44, 700),
    (40, 550),
    (46, 350),
    (36, 300),
    (29, 300),
    (47, 250),
    (45, 150),
    (42, 150),
    (43, 80),
    (33, 80),
    (41, 60),
    (34, 60),
    (38, 60),
    (35, 40),
    (30, 40),
    (28, 40),
    (56, 40),
    (39, 30),
    (64, 30),
    (37, 20),
    (31, 20),
    (24, 20),
    (52, 10),
    (20, 5),
    (19, 3),
];

/// IPv4 ranges that never appear as (or inside) generated prefixes.
const V4_BOGONS: &[(u32, u8)] = &[
    (0x0000_0000, 8),  // 0/8
    (0x0A00_0000, 8),  // 10/8
    (0x6440_0000, 10), // 100.64/10
    (0x7F00_0000, 8),  // 127/8
    (0xA9FE_0000, 16), // 169.254/16
    (0xAC10_0000, 12), // 172.16/12
    (0xC000_0200, 24), // 192.0.2/24
    (0xC0A8_0000, 16), // 192.168/16
    (0xC612_0000, 15), // 198.18/15
    (0xE000_0000, 3),  // 224/3
];

/// High 16 bits of IPv6 allocations per region, with weights; region blocks
/// other than 2001 get 4 random bits added (e.g. 2a00..2a0f).
const V6_REGIONS: &[(u16, u32)] = &[(0x2001, 10), (0x2400, 25), (0x2600, 25), (0x2800, 8), (0x2a00, 30), (0x2c00, 2)];

/// Probability that a sample is placed inside an earlier, shorter sample
/// (models more-specifics and allocation clustering).
const CLUSTER_P: f64 = 0.3;

/// Network mask for an IPv4 prefix length.
#[inline]
pub(crate) fn mask_v4(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    }
}

/// Network mask for an IPv6 prefix length.
#[inline]
pub(crate) fn mask_v6(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    }
}

fn overlaps_v4(a: u32, alen: u8, b: u32, blen: u8) -> bool {
    let m = mask_v4(alen.min(blen));
    a & m == b & m
}

fn is_bogon_v4(addr: u32, len: u8) -> bool {
    V4_BOGONS.iter().any(|&(b, bl)| overlaps_v4(addr, len, b, bl))
}

/// Samples single IPv4/IPv6 prefixes with realistic lengths and addresses.
pub(crate) struct PrefixSampler {
    v4_lens: Weighted<u8>,
    v6_lens: Weighted<u8>,
    v6_regions: Weighted<u16>,
    cluster: Threshold,
}

impl PrefixSampler {
    /// Creates a sampler.
    pub(crate) fn new() -> Self {
        PrefixSampler {
            v4_lens: Weighted::new(V4_LEN_WEIGHTS),
            v6_lens: Weighted::new(V6_LEN_WEIGHTS),
            v6_regions: Weighted::new(V6_REGIONS),
            cluster: Threshold::new(CLUSTER_P),
        }
    }

    /// One IPv4 prefix key; `parents` are earlier keys that may be subdivided.
    pub(crate) fn v4<R: Rng>(&self, rng: &mut R, parents: &[u64]) -> u64 {
        loop {
            let len = self.v4_lens.sample(rng);
            let random = rng.next_u64() as u32;
            let mut addr = ((rng.range(1, 223) as u32) << 24) | (random & 0x00FF_FFFF);
            if !parents.is_empty() && rng.chance(self.cluster) {
                let p = parents[rng.below_usize(parents.len())];
                let plen = (p & 0xFF) as u8;
                if plen < len {
                    let pm = mask_v4(plen);
                    addr = ((p >> 8) as u32 & pm) | (random & !pm);
                }
            }
            addr &= mask_v4(len);
            if !is_bogon_v4(addr, len) {
                return (u64::from(addr) << 8) | u64::from(len);
            }
        }
    }

    /// One IPv6 prefix key; `parents` are earlier keys that may be subdivided.
    pub(crate) fn v6<R: Rng>(&self, rng: &mut R, parents: &[u128]) -> u128 {
        let len = self.v6_lens.sample(rng);
        let region = self.v6_regions.sample(rng);
        let high = if region == 0x2001 {
            0x2001u16
        } else {
            region | (rng.below(16) as u16)
        };
        let random = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
        let mut addr = (u128::from(high) << 112) | (random & ((1u128 << 112) - 1));
        if !parents.is_empty() && rng.chance(self.cluster) {
            let p = parents[rng.below_usize(parents.len())];
            let plen = (p & 0xFF) as u8;
            if plen < len {
                let pm = mask_v6(plen);
                addr = (p & pm) | (random & !pm);
            }
        }
        (addr & mask_v6(len)) | u128::from(len)
    }
}

/// Maximum number of top-up rounds before giving up on uniqueness.
const MAX_ROUNDS: usize = 256;

/// Generates `n` unique sorted IPv4 prefix keys.
pub(crate) fn unique_v4(rng: &mut Xoshiro256, n: usize) -> Result<Vec<u64>, SynthError> {
    let sampler = PrefixSampler::new();
    let mut keys: Vec<u64> = Vec::with_capacity(n + n / 16 + 16);
    for _ in 0..MAX_ROUNDS {
        if keys.len() >= n {
            return Ok(keys);
        }
        let deficit = n - keys.len();
        for _ in 0..deficit {
            let k = sampler.v4(rng, &keys);
            keys.push(k);
        }
        keys.sort_unstable();
        keys.dedup();
    }
    if keys.len() >= n {
        return Ok(keys);
    }
    Err(SynthError::invalid(
        "ipv4_prefixes",
        "could not generate that many unique IPv4 prefixes",
    ))
}

/// Generates `n` unique sorted IPv6 prefix keys.
pub(crate) fn unique_v6(rng: &mut Xoshiro256, n: usize) -> Result<Vec<u128>, SynthError> {
    let sampler = PrefixSampler::new();
    let mut keys: Vec<u128> = Vec::with_capacity(n + n / 16 + 16);
    for _ in 0..MAX_ROUNDS {
        if keys.len() >= n {
            return Ok(keys);
        }
        let deficit = n - keys.len();
        for _ in 0..deficit {
            let k = sampler.v6(rng, &keys);
            keys.push(k);
        }
        keys.sort_unstable();
        keys.dedup();
    }
    if keys.len() >= n {
        return Ok(keys);
    }
    Err(SynthError::invalid(
        "ipv6_prefixes",
        "could not generate that many unique IPv6 prefixes",
    ))
}
