//! Deterministic shards: `--shard K/N` keeps the inputs whose relative path
//! hashes to K.
//!
//! The hash is 64-bit FNV-1a of the relative path's text (UTF-8, bytes that
//! are not as `\xHH`: [`super::discover::path_text`]; see
//! [`super::discover`]; `/` separators on every platform), passed through
//! the SplitMix64 finalizer so that paths differing only in their last
//! characters spread evenly, then taken modulo N: shard K (1-based) holds
//! the inputs with `hash % N == K - 1`. It depends on nothing but the path
//! (no per-process random keys, no machine, no thread count), so N machines
//! running shards 1..=N of the same command split the inputs exactly, and
//! the union of their outputs is the single-machine run. Selection
//! (`--daily` included) is decided on all inputs before sharding, so it does
//! not depend on N either.

use std::fmt;
use std::str::FromStr;

/// One shard of N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, 1..=`count`.
    pub index: u64,
    /// The number of shards.
    pub count: u64,
}

/// 64-bit FNV-1a.
///
/// ```
/// assert_eq!(mrtsnap::dataset::shard::fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
/// assert_eq!(mrtsnap::dataset::shard::fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
/// ```
pub fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The SplitMix64 finalizer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The stable hash of a relative path that shards are cut by.
pub fn path_hash(rel: &str) -> u64 {
    mix(fnv1a64(rel.as_bytes()))
}

impl Shard {
    /// Whether the input at relative path `rel` belongs to this shard.
    ///
    /// ```
    /// use mrtsnap::dataset::shard::Shard;
    /// let shards: Vec<Shard> = (1..=3).map(|k| format!("{k}/3").parse().unwrap()).collect();
    /// for p in ["rrc00/2014.12/bview.20141222.0000.gz", "route-views2/bgpdata/2014.12/RIBS/rib.20141222.0000.bz2"] {
    ///     assert_eq!(shards.iter().filter(|s| s.contains(p)).count(), 1);
    /// }
    /// ```
    pub fn contains(&self, rel: &str) -> bool {
        self.count <= 1 || path_hash(rel) % self.count == self.index - 1
    }

    /// A name for files of this shard: `shard-K-of-N`.
    pub fn tag(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;
    /// `K/N` with 1 ≤ K ≤ N.
    fn from_str(s: &str) -> Result<Shard, String> {
        let (k, n) = s.split_once('/').ok_or_else(|| format!("shard {s:?}: expected K/N, e.g. 2/8"))?;
        let k: u64 = k.trim().parse().map_err(|_| format!("shard {s:?}: K is not a number"))?;
        let n: u64 = n.trim().parse().map_err(|_| format!("shard {s:?}: N is not a number"))?;
        if n == 0 || k == 0 || k > n {
            return Err(format!("shard {s:?}: need 1 <= K <= N (shards are numbered from 1)"));
        }
        Ok(Shard { index: k, count: n })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_is_exact_and_even() {
        let shards: Vec<Shard> = (1..=7).map(|k| Shard { index: k, count: 7 }).collect();
        let mut counts = [0usize; 7];
        for i in 0..7000 {
            let p = format!("rrc{:02}/2014.12/bview.201412{:02}.{:04}.gz", i % 25, i % 28 + 1, i);
            let owners: Vec<usize> = (0..7).filter(|&j| shards[j].contains(&p)).collect();
            assert_eq!(owners.len(), 1);
            counts[owners[0]] += 1;
        }
        assert!(counts.iter().all(|&c| (850..1150).contains(&c)), "{counts:?}");
        // Pinned (computed independently in Python): a change of hash would
        // reshuffle the inputs of running jobs.
        assert_eq!(path_hash("rrc00/2014.12/bview.20141222.0000.gz"), 0xf7f4_8197_c2b4_1751);
        assert_eq!(
            path_hash("route-views2/bgpdata/2014.12/RIBS/rib.20141222.0000.bz2"),
            0x76a4_6fa7_207c_916a
        );
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
        assert!("0/3".parse::<Shard>().is_err() && "4/3".parse::<Shard>().is_err() && "x".parse::<Shard>().is_err());
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
    }
}
