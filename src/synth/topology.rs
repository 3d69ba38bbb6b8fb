//! A tiny synthetic AS-level topology: tier-1s, transits and origin ASes, with
//! one upstream chain per origin, and an AS-path builder on top of it.

use crate::bgp::as_path;
use std::collections::HashSet;

use super::rng::{hash2, Rng, SplitMix64, Threshold, Weighted, Xoshiro256};
use super::wire::AsPath;

/// Well-known large transit networks used as the tier-1 layer.
const TIER1: &[u32] = &[
    174, 209, 701, 1239, 1299, 2828, 2914, 3257, 3320, 3356, 3491, 5511, 6453, 6461, 6762, 6830, 6939, 7018, 12956,
];

/// Upstream chain below the tier-1 of one origin AS.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Chain {
    /// The tier-1 at the top of the chain.
    pub(crate) tier1: u32,
    /// Transit hops from the tier-1 side down to the origin's direct upstream.
    pub(crate) ups: [u32; 3],
    /// Number of used entries of `ups`.
    pub(crate) n_ups: u8,
}

/// The AS universe.
pub(crate) struct Topology {
    /// Tier-1 ASNs.
    pub(crate) tier1: Vec<u32>,
    /// Transit ASNs.
    pub(crate) transit: Vec<u32>,
    /// Origin ASNs (popular ones first: sampling is skewed towards index 0),
    /// then the pinned ones ([`Topology::pin`]).
    pub(crate) origins: Vec<u32>,
    /// Origins [`Topology::pick_origin`] draws from: `0..pickable`; the
    /// pinned ones follow.
    pub(crate) pickable: usize,
    /// Upstream chain per origin index.
    pub(crate) chains: Vec<Chain>,
    /// Seed for path-variant hashing.
    seed: u64,
    /// How routes reach their origin ([`Topology::set_route_mix`]).
    mix: Mix,
    /// Every ASN handed out so far (peers get fresh ones from here too).
    used: HashSet<u32>,
}

/// Shares of the route shapes [`Topology::push_route`] writes; the rest
/// of the routes go from the peer through the origin's tier-1 and its
/// upstream chain.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RouteMix {
    /// Through the tier-1 with an extra transit hop between the peer and it.
    pub(crate) transit_hop: f64,
    /// Straight to the origin's upstream chain, skipping the tier-1 (routes
    /// of origins with no upstream go through the tier-1 instead).
    pub(crate) skip_tier1: f64,
    /// Straight to the origin: the peer is its upstream (`peer origin`).
    pub(crate) direct: f64,
}

impl RouteMix {
    /// The mix every generator used before it could be chosen: 30 % with
    /// a transit hop, 20 % skipping the tier-1, none direct.
    pub(crate) const DEFAULT: RouteMix = RouteMix {
        transit_hop: 0.30,
        skip_tier1: 0.20,
        direct: 0.0,
    };
}

/// [`RouteMix`] as cumulative thresholds on one draw, in the order plain,
/// transit hop, skip, direct.
#[derive(Clone, Copy, Debug)]
struct Mix {
    plain: Threshold,
    transit_hop: Threshold,
    skip_tier1: Threshold,
}

impl Mix {
    fn new(m: RouteMix) -> Self {
        let skip_end = 1.0 - m.direct;
        let hop_end = skip_end - m.skip_tier1;
        Mix {
            plain: Threshold::new(hop_end - m.transit_hop),
            transit_hop: Threshold::new(hop_end),
            skip_tier1: Threshold::new(skip_end),
        }
    }
}

/// Draws a public ASN: 2-byte in 1..=64495 (not as_path::AS_TRANS) or 4-byte in the
/// assigned 131072..=401308 block.
pub(crate) fn random_public_asn<R: Rng>(rng: &mut R, four_byte: bool) -> u32 {
    if four_byte {
        rng.range(131_072, 401_308) as u32
    } else {
        loop {
            let a = rng.range(1, 64_495) as u32;
            if a != 23_456 {
                return a;
            }
        }
    }
}

impl Topology {
    /// Builds a topology with `n_origins` origin ASes; no AS drawn is one
    /// of `reserved` (ASes pinned later).
    pub(crate) fn new(rng: &mut Xoshiro256, n_origins: usize, reserved: &[u32]) -> Self {
        let mut used: HashSet<u32> = TIER1.iter().chain(reserved).copied().collect();
        let n_origins = n_origins.max(1);
        let n_transit = (n_origins / 8).clamp(32, 8_000);
        let fresh = |rng: &mut Xoshiro256, used: &mut HashSet<u32>, p4: u64| loop {
            let four = rng.below(100) < p4;
            let a = random_public_asn(rng, four);
            if used.insert(a) {
                return a;
            }
        };
        let transit: Vec<u32> = (0..n_transit).map(|_| fresh(rng, &mut used, 25)).collect();
        let origins: Vec<u32> = (0..n_origins).map(|_| fresh(rng, &mut used, 45)).collect();
        let n_ups = Weighted::new(&[(0u8, 15), (1, 45), (2, 30), (3, 10)]);
        let chains = (0..n_origins)
            .map(|_| {
                let tier1 = TIER1[rng.below_usize(TIER1.len())];
                let mut ups = [0u32; 3];
                let n = n_ups.sample(rng);
                let mut k = 0u8;
                for _ in 0..n {
                    let a = transit[rng.below_usize(transit.len())];
                    if !ups[..usize::from(k)].contains(&a) {
                        ups[usize::from(k)] = a;
                        k += 1;
                    }
                }
                Chain { tier1, ups, n_ups: k }
            })
            .collect();
        let seed = rng.next_u64();
        Topology {
            tier1: TIER1.to_vec(),
            transit,
            pickable: origins.len(),
            origins,
            chains,
            seed,
            mix: Mix::new(RouteMix::DEFAULT),
            used,
        }
    }

    /// Sets the shares of the route shapes (the shares must lie in
    /// `[0, 1]` and sum to at most 1; see [`RouteMix`]).
    pub(crate) fn set_route_mix(&mut self, mix: RouteMix) {
        self.mix = Mix::new(mix);
    }

    /// A fresh ASN not used anywhere in the topology.
    pub(crate) fn fresh_asn<R: Rng>(&mut self, rng: &mut R, four_byte: bool) -> u32 {
        loop {
            let a = random_public_asn(rng, four_byte);
            if self.used.insert(a) {
                return a;
            }
        }
    }

    /// Adds origin `asn` behind `upstream`, which a tier-1 (picked by
    /// `h`) reaches: its paths end `… upstream asn`. Never drawn by
    /// [`Topology::pick_origin`]. Returns its origin index.
    pub(crate) fn pin(&mut self, asn: u32, upstream: u32, h: u64) -> u32 {
        self.used.insert(asn);
        self.used.insert(upstream);
        self.origins.push(asn);
        self.chains.push(Chain {
            tier1: TIER1[(h % TIER1.len() as u64) as usize],
            ups: [upstream, 0, 0],
            n_ups: 1,
        });
        (self.origins.len() - 1) as u32
    }

    /// Marks an ASN as used (so later fresh ones differ).
    pub(crate) fn reserve(&mut self, asn: u32) {
        self.used.insert(asn);
    }

    /// Picks an origin index with a heavy-tailed popularity skew
    /// (`P(index < k) = (k / n)^(1/3)`).
    #[inline]
    pub(crate) fn pick_origin<R: Rng>(&self, rng: &mut R) -> u32 {
        let u = rng.unit();
        let idx = (u * u * u * self.pickable as f64) as usize;
        idx.min(self.pickable - 1) as u32
    }

    /// Writes the AS_SEQUENCE part of a route from `peer_asn` to the origin
    /// with index `origin`, into `path` (which must have an open AS_SEQUENCE
    /// segment). `variant` selects among route alternatives (different
    /// add-path paths use different variants). The origin itself is not
    /// pushed.
    pub(crate) fn push_route(&self, path: &mut AsPath, peer_asn: u32, peer_seed: u64, origin: u32, variant: u64) {
        let chain = &self.chains[origin as usize];
        path.push(peer_asn);
        let h = hash2(hash2(self.seed ^ peer_seed, u64::from(origin)), variant);
        let mut r = SplitMix64::new(h);
        let kind = r.next_u64();
        let n_ups = usize::from(chain.n_ups);
        if self.mix.skip_tier1.hit(kind) && !self.mix.transit_hop.hit(kind) && n_ups > 0 {
            // Peer reaches the origin's upstreams directly, skipping the tier-1.
            let skip = r.below_usize(n_ups);
            for &u in &chain.ups[skip..n_ups] {
                path.push_unique(u);
            }
        } else if !self.mix.skip_tier1.hit(kind) {
            // The peer is the origin's upstream: nothing between them.
        } else {
            if !self.mix.plain.hit(kind) {
                // Extra transit hop between the peer and the tier-1.
                let mid = self.transit[r.below_usize(self.transit.len())];
                path.push_unique(mid);
            }
            path.push_unique(chain.tier1);
            for &u in &chain.ups[..n_ups] {
                path.push_unique(u);
            }
        }
    }

    /// Convenience: clears `path`, then builds a complete AS_SEQUENCE route
    /// ending in `origin_asn` repeated `1 + prepend` times.
    pub(crate) fn route(&self, path: &mut AsPath, peer_asn: u32, peer_seed: u64, origin: u32, variant: u64, prepend: u8) {
        path.clear();
        path.begin(as_path::AS_SEQUENCE);
        self.push_route(path, peer_asn, peer_seed, origin, variant);
        let origin_asn = self.origins[origin as usize];
        for _ in 0..=prepend {
            path.push(origin_asn);
        }
    }
}
