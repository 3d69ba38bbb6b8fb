//! BGP4MP updates-file generation.

use crate::bgp::{self, as_path};
use crate::mrt;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use super::prefix::PrefixSampler;
use super::rng::{hash2, Rng, SplitMix64, Threshold, Weighted, Xoshiro256};
use super::topology::Topology;
use super::wire::*;
use super::{Compression, SynthError};

/// Largest accepted peer count for [`write_updates`].
pub const MAX_UPDATE_PEERS: usize = 1_000;

/// Options for [`write_updates`]: a synthetic BGP4MP updates file as written
/// by a route collector (all messages are received from peers).
#[derive(Clone, Debug, PartialEq)]
pub struct UpdatesOptions {
    /// Seed; the output is a pure function of the options.
    pub seed: u64,
    /// Number of MRT records to write (updates, keepalives, opens and state
    /// changes together).
    pub messages: usize,
    /// Number of BGP peers (sessions); at least 1 unless `messages` is 0.
    pub peers: usize,
    /// Timestamp (seconds) of the start of the file.
    pub start_time: u32,
    /// Time span covered: record timestamps are non-decreasing and lie in
    /// `start_time .. start_time + duration_secs` (at `start_time` when 0).
    pub duration_secs: u32,
    /// Write BGP4MP_ET (type 17) records with microsecond timestamps instead
    /// of BGP4MP (type 16).
    pub et: bool,
    /// Fraction of UPDATE messages that carry IPv6 routes (via
    /// MP_REACH_NLRI / MP_UNREACH_NLRI).
    pub ipv6_fraction: f64,
    /// Fraction of peers (among those with 2-byte ASNs) whose sessions lack
    /// 4-byte AS support: their records are BGP4MP MESSAGE / STATE_CHANGE
    /// (2-byte AS fields), with as_path::AS_TRANS and AS4_PATH where needed.
    pub as2_peer_fraction: f64,
    /// Fraction of UPDATEs that only withdraw (another 10 % both announce and
    /// withdraw, when room is left).
    pub withdraw_fraction: f64,
    /// Fraction of records that are KEEPALIVEs.
    pub keepalive_fraction: f64,
    /// Per-record probability that an established session resets (a
    /// STATE_CHANGE to Idle followed later by the reconnect sequence with an
    /// OPEN). The first peer always starts with a reconnect sequence.
    pub flap_fraction: f64,
    /// AS number of the collector (local side).
    pub local_asn: u32,
    /// Collector address used for IPv4 sessions.
    pub local_ipv4: Ipv4Addr,
    /// Collector address used for IPv6 sessions.
    pub local_ipv6: Ipv6Addr,
}

impl Default for UpdatesOptions {
    /// 100 000 records from 16 peers over 15 minutes (a typical RouteViews
    /// updates file), classic BGP4MP timestamps.
    fn default() -> Self {
        UpdatesOptions {
            seed: 0x6d72_7473_6e61_7055,
            messages: 100_000,
            peers: 16,
            start_time: 1_700_000_000,
            duration_secs: 900,
            et: false,
            ipv6_fraction: 0.3,
            as2_peer_fraction: 0.15,
            withdraw_fraction: 0.25,
            keepalive_fraction: 0.05,
            flap_fraction: 0.000_5,
            local_asn: 6447,
            local_ipv4: Ipv4Addr::new(128, 223, 51, 102),
            local_ipv6: Ipv6Addr::new(0x2001, 0x468, 0xd01, 0x33, 0, 0, 0x80df, 0x3366),
        }
    }
}

impl UpdatesOptions {
    /// A small file (2000 records, 6 peers, one minute, microsecond
    /// timestamps, more session resets) for samples and tests.
    pub fn small() -> Self {
        UpdatesOptions {
            seed: 0x6d72_7473_6e61_7056,
            messages: 2_000,
            peers: 6,
            duration_secs: 60,
            et: true,
            as2_peer_fraction: 0.34,
            flap_fraction: 0.003,
            ..Self::default()
        }
    }

    /// Checks every option; [`write_updates`] calls this first.
    pub fn validate(&self) -> Result<(), SynthError> {
        if self.peers > MAX_UPDATE_PEERS {
            return Err(SynthError::invalid("peers", format!("at most {MAX_UPDATE_PEERS}")));
        }
        if self.peers == 0 && self.messages > 0 {
            return Err(SynthError::invalid("peers", "at least one peer is needed"));
        }
        for (name, v) in [
            ("ipv6_fraction", self.ipv6_fraction),
            ("as2_peer_fraction", self.as2_peer_fraction),
            ("withdraw_fraction", self.withdraw_fraction),
            ("keepalive_fraction", self.keepalive_fraction),
            ("flap_fraction", self.flap_fraction),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(SynthError::invalid(name, "must be within [0, 1]"));
            }
        }
        if self.start_time.checked_add(self.duration_secs).is_none() {
            return Err(SynthError::invalid("duration_secs", "start_time + duration_secs overflows u32"));
        }
        Ok(())
    }

    /// Generates the updates into a file at `path`, compressed as requested
    /// (see [`super::write_to`]).
    pub fn write_to(&self, path: &Path, compression: Compression) -> Result<UpdatesSummary, SynthError> {
        super::write_to(path, compression, |w| write_updates(self, w))
    }
}

/// What [`write_updates`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdatesSummary {
    /// MRT records written.
    pub records: u64,
    /// Uncompressed bytes written.
    pub bytes: u64,
    /// UPDATE messages (including End-of-RIB markers).
    pub updates: u64,
    /// Prefixes announced over all UPDATEs (IPv4 NLRI and MP_REACH_NLRI).
    pub announced: u64,
    /// Prefixes withdrawn over all UPDATEs (withdrawn routes and MP_UNREACH_NLRI).
    pub withdrawn: u64,
    /// KEEPALIVE messages.
    pub keepalives: u64,
    /// OPEN messages.
    pub opens: u64,
    /// STATE_CHANGE / STATE_CHANGE_AS4 records.
    pub state_changes: u64,
    /// Records using 2-byte AS subtypes (MESSAGE, STATE_CHANGE).
    pub as2_records: u64,
}

#[derive(Clone, Debug)]
struct UPeer {
    asn: u32,
    as2: bool,
    addr: IpAddr,
    bgp_id: u32,
    nh4: [u8; 4],
    nh6: [u8; 32],
    nh6_len: u8,
    med: bool,
    seed: u64,
    /// BGP FSM state (1 Idle .. 6 Established).
    state: u16,
    /// Next position in [`RECONNECT`]; `RECONNECT.len()` when done.
    step: u8,
}

/// Reconnect sequence after a reset; each step is one record.
#[derive(Clone, Copy)]
enum Step {
    State(u16, u16),
    Open,
    Keepalive,
    EndOfRib,
}

const RECONNECT: &[Step] = &[
    Step::State(1, 2),
    Step::State(2, 3),
    Step::State(3, 4),
    Step::Open,
    Step::State(4, 5),
    Step::Keepalive,
    Step::State(5, 6),
    Step::EndOfRib,
];

struct Gen<'a> {
    opts: &'a UpdatesOptions,
    rng: Xoshiro256,
    topo: Topology,
    peers: Vec<UPeer>,
    pool4: Vec<(u64, u32)>,
    pool6: Vec<(u128, u32)>,
    buf: Vec<u8>,
    scratch: Vec<u8>,
    scratch2: Vec<u8>,
    path: AsPath,
    nlri_count: Weighted<u8>,
    comm_count: Weighted<u8>,
    summary: UpdatesSummary,
    last_us: u64,
}

fn build_peers(opts: &UpdatesOptions, rng: &mut Xoshiro256, topo: &mut Topology) -> Vec<UPeer> {
    let mut peers = Vec::with_capacity(opts.peers);
    let as2 = Threshold::new(opts.as2_peer_fraction);
    let mut used = std::collections::HashSet::new();
    for i in 0..opts.peers {
        let asn = loop {
            let a = if rng.below(2) == 0 {
                topo.transit[rng.below_usize(topo.transit.len())]
            } else {
                let four = rng.below(100) < 30;
                topo.fresh_asn(rng, four)
            };
            if used.insert(a) {
                break a;
            }
        };
        let v6 = rng.below(100) < 35;
        let addr = if v6 {
            let v = (0x2001_07f8u128 << 96) | (u128::from(rng.below(0x1_0000)) << 80) | u128::from(i as u32 + 1);
            IpAddr::V6(Ipv6Addr::from(v))
        } else {
            IpAddr::V4(Ipv4Addr::from(0xC342_E000u32 + 2 + i as u32))
        };
        let nh4 = match addr {
            IpAddr::V4(a) => a.octets(),
            IpAddr::V6(_) => ((0xB900_0000u32 | rng.below(0x00FF_FFFF) as u32) | 1).to_be_bytes(),
        };
        let mut nh6 = [0u8; 32];
        let g = match addr {
            IpAddr::V6(a) => a.octets(),
            IpAddr::V4(_) => ((0x2001_07f8_0004u128 << 80) | u128::from(i as u32 + 1)).to_be_bytes(),
        };
        nh6[..16].copy_from_slice(&g);
        let nh6_len = if rng.below(2) == 0 {
            nh6[16..].copy_from_slice(&((0xfe80u128 << 112) | u128::from(rng.next_u64())).to_be_bytes());
            32
        } else {
            16
        };
        peers.push(UPeer {
            asn,
            as2: asn <= 0xFFFF && rng.chance(as2),
            addr,
            bgp_id: rng.next_u64() as u32 | 0x0100_0000,
            nh4,
            nh6,
            nh6_len,
            med: rng.below(100) < 30,
            seed: rng.next_u64(),
            state: 6,
            step: RECONNECT.len() as u8,
        });
    }
    if let Some(p) = peers.first_mut() {
        p.state = 1;
        p.step = 0;
    }
    peers
}

impl<'a> Gen<'a> {
    fn new(opts: &'a UpdatesOptions) -> Self {
        let mut rng = Xoshiro256::new(opts.seed);
        let pool_n = (opts.messages / 4).clamp(64, 100_000);
        let mut topo = Topology::new(&mut rng, (pool_n / 8).max(16), &[]);
        let peers = build_peers(opts, &mut rng, &mut topo);
        let sampler = PrefixSampler::new();
        let mut keys4 = Vec::with_capacity(pool_n);
        for _ in 0..pool_n {
            let k = sampler.v4(&mut rng, &keys4);
            keys4.push(k);
        }
        let n6 = (pool_n * 3 / 10).max(16);
        let mut keys6 = Vec::with_capacity(n6);
        for _ in 0..n6 {
            let k = sampler.v6(&mut rng, &keys6);
            keys6.push(k);
        }
        let pool4 = keys4.into_iter().map(|k| (k, topo.pick_origin(&mut rng))).collect();
        let pool6 = keys6.into_iter().map(|k| (k, topo.pick_origin(&mut rng))).collect();
        Gen {
            opts,
            rng,
            topo,
            peers,
            pool4,
            pool6,
            buf: Vec::with_capacity(1 << 18),
            scratch: Vec::with_capacity(1024),
            scratch2: Vec::with_capacity(1024),
            path: AsPath::new(),
            nlri_count: Weighted::new(&[(1, 600), (2, 120), (3, 80), (4, 50), (5, 40), (8, 40), (12, 30), (20, 25), (30, 15)]),
            comm_count: Weighted::new(&[
                (0, 350),
                (1, 120),
                (2, 120),
                (3, 110),
                (4, 90),
                (6, 80),
                (9, 60),
                (14, 40),
                (22, 20),
                (30, 10),
            ]),
            summary: UpdatesSummary::default(),
            last_us: 0,
        }
    }

    /// Microsecond timestamp of record `i`; non-decreasing in `i`.
    fn time_us(&mut self, i: usize) -> u64 {
        let start = u64::from(self.opts.start_time) * 1_000_000;
        let total = u128::from(self.opts.duration_secs) * 1_000_000;
        let m = self.opts.messages.max(1) as u128;
        let base = start + (total * i as u128 / m) as u64;
        let bucket = (total / m) as u64;
        let t = (base + self.rng.below(bucket)).max(self.last_us);
        self.last_us = t;
        t
    }

    /// Opens an MRT BGP4MP record for peer `pi`; returns the header offset.
    fn bgp4mp_start(&mut self, t_us: u64, pi: usize, subtype_as4: u16, subtype_as2: u16) -> usize {
        let p = &self.peers[pi];
        let typ = if self.opts.et { mrt::code::BGP4MP_ET } else { mrt::code::BGP4MP };
        let subtype = if p.as2 { subtype_as2 } else { subtype_as4 };
        let secs = (t_us / 1_000_000) as u32;
        let hdr = start_mrt(&mut self.buf, secs, typ, subtype);
        if self.opts.et {
            put_u32(&mut self.buf, (t_us % 1_000_000) as u32);
        }
        if p.as2 {
            put_u16(&mut self.buf, p.asn as u16);
            let local = if self.opts.local_asn > 0xFFFF {
                as_path::AS_TRANS
            } else {
                self.opts.local_asn
            };
            put_u16(&mut self.buf, local as u16);
            self.summary.as2_records += 1;
        } else {
            put_u32(&mut self.buf, p.asn);
            put_u32(&mut self.buf, self.opts.local_asn);
        }
        put_u16(&mut self.buf, 0); // interface index
        match p.addr {
            IpAddr::V4(a) => {
                put_u16(&mut self.buf, 1);
                self.buf.extend_from_slice(&a.octets());
                self.buf.extend_from_slice(&self.opts.local_ipv4.octets());
            }
            IpAddr::V6(a) => {
                put_u16(&mut self.buf, 2);
                self.buf.extend_from_slice(&a.octets());
                self.buf.extend_from_slice(&self.opts.local_ipv6.octets());
            }
        }
        self.summary.records += 1;
        hdr
    }

    fn state_change(&mut self, t: u64, pi: usize, old: u16, new: u16) {
        let hdr = self.bgp4mp_start(t, pi, mrt::subtype::STATE_CHANGE_AS4, mrt::subtype::STATE_CHANGE);
        put_u16(&mut self.buf, old);
        put_u16(&mut self.buf, new);
        finish_mrt(&mut self.buf, hdr);
        self.peers[pi].state = new;
        self.summary.state_changes += 1;
    }

    fn keepalive(&mut self, t: u64, pi: usize) {
        let hdr = self.bgp4mp_start(t, pi, mrt::subtype::MESSAGE_AS4, mrt::subtype::MESSAGE);
        let m = msg_start(&mut self.buf, bgp::message::KEEPALIVE);
        msg_finish(&mut self.buf, m);
        finish_mrt(&mut self.buf, hdr);
        self.summary.keepalives += 1;
    }

    fn open(&mut self, t: u64, pi: usize) {
        let hdr = self.bgp4mp_start(t, pi, mrt::subtype::MESSAGE_AS4, mrt::subtype::MESSAGE);
        let p = &self.peers[pi];
        let (asn, as2, bgp_id) = (p.asn, p.as2, p.bgp_id);
        let hold = if self.rng.below(2) == 0 { 180 } else { 90 };
        put_open(&mut self.buf, asn, hold, bgp_id, !as2, false);
        finish_mrt(&mut self.buf, hdr);
        self.summary.opens += 1;
    }

    fn end_of_rib(&mut self, t: u64, pi: usize) {
        let hdr = self.bgp4mp_start(t, pi, mrt::subtype::MESSAGE_AS4, mrt::subtype::MESSAGE);
        let m = msg_start(&mut self.buf, bgp::message::UPDATE);
        put_u16(&mut self.buf, 0);
        put_u16(&mut self.buf, 0);
        msg_finish(&mut self.buf, m);
        finish_mrt(&mut self.buf, hdr);
        self.summary.updates += 1;
    }

    fn update(&mut self, t: u64, pi: usize) {
        let opts = self.opts;
        let v6 = self.rng.unit() < opts.ipv6_fraction;
        let k = self.rng.unit();
        let (announce, withdraw) = if k < opts.withdraw_fraction {
            (false, true)
        } else if k < opts.withdraw_fraction + 0.1 {
            (true, true)
        } else {
            (true, false)
        };
        let n_ann = if announce {
            usize::from(self.nlri_count.sample(&mut self.rng))
        } else {
            0
        };
        let n_wd = if withdraw {
            usize::from(self.nlri_count.sample(&mut self.rng))
        } else {
            0
        };

        // Encode NLRI / withdrawn lists into scratch buffers.
        self.scratch.clear(); // announced
        self.scratch2.clear(); // withdrawn
        let mut origin = 0u32;
        for j in 0..n_ann {
            if v6 {
                let (key, o) = self.pool6[self.rng.below_usize(self.pool6.len())];
                put_prefix_v6(&mut self.scratch, key & !0xFF, (key & 0xFF) as u8);
                if j == 0 {
                    origin = o;
                }
            } else {
                let (key, o) = self.pool4[self.rng.below_usize(self.pool4.len())];
                put_prefix_v4(&mut self.scratch, (key >> 8) as u32, (key & 0xFF) as u8);
                if j == 0 {
                    origin = o;
                }
            }
        }
        for _ in 0..n_wd {
            if v6 {
                let (key, _) = self.pool6[self.rng.below_usize(self.pool6.len())];
                put_prefix_v6(&mut self.scratch2, key & !0xFF, (key & 0xFF) as u8);
            } else {
                let (key, _) = self.pool4[self.rng.below_usize(self.pool4.len())];
                put_prefix_v4(&mut self.scratch2, (key >> 8) as u32, (key & 0xFF) as u8);
            }
        }

        let hdr = self.bgp4mp_start(t, pi, mrt::subtype::MESSAGE_AS4, mrt::subtype::MESSAGE);
        let m = msg_start(&mut self.buf, bgp::message::UPDATE);
        let p = self.peers[pi].clone();
        // Withdrawn routes (IPv4 only).
        if v6 {
            put_u16(&mut self.buf, 0);
        } else {
            put_u16(&mut self.buf, self.scratch2.len() as u16);
            self.buf.extend_from_slice(&self.scratch2);
        }
        let alen_pos = self.buf.len();
        put_u16(&mut self.buf, 0);
        let astart = self.buf.len();
        if announce {
            let variant = self.rng.below(3);
            let prepend = if self.rng.below(10) == 0 { self.rng.range(1, 5) as u8 } else { 0 };
            self.topo.route(&mut self.path, p.asn, p.seed, origin, variant, prepend);
            if self.rng.below(500) == 0 {
                self.path.begin(as_path::AS_SET);
                for _ in 0..self.rng.range(2, 3) {
                    let o = self.topo.pick_origin(&mut self.rng) as usize;
                    self.path.push_unique(self.topo.origins[o]);
                }
            }
            if !p.as2 && self.rng.below(1000) == 0 {
                self.path.begin(as_path::AS_CONFED_SEQUENCE);
                self.path.push(64_512 + self.rng.below(1000) as u32);
            }
            let origin_asn = self.topo.origins[origin as usize];
            attr_origin(&mut self.buf, if self.rng.below(10) == 0 { 2 } else { 0 });
            attr_as_path(&mut self.buf, &self.path, !p.as2);
            if !v6 {
                attr_next_hop(&mut self.buf, p.nh4);
            }
            if p.med {
                let med = self.rng.below(2000) as u32;
                attr_med(&mut self.buf, med);
            }
            let aggregator = self.rng.below(50) == 0;
            if aggregator {
                if self.rng.below(2) == 0 {
                    attr_atomic_aggregate(&mut self.buf);
                }
                attr_aggregator(&mut self.buf, origin_asn, [192, 0, 2, 1], !p.as2);
            }
            let n_comm = usize::from(self.comm_count.sample(&mut self.rng));
            if n_comm > 0 {
                let mut comms = [0u32; 32];
                let mut r = SplitMix64::new(hash2(p.seed, self.rng.next_u64()));
                for c in comms[..n_comm].iter_mut() {
                    let hi = if p.asn <= 0xFFFF { p.asn } else { 65_000 + p.asn % 500 };
                    *c = (hi << 16) | (1 + r.below(9_999) as u32);
                }
                attr_communities(&mut self.buf, &comms[..n_comm]);
            }
            if v6 {
                let nh = p.nh6;
                attr_mp_reach(&mut self.buf, 2, 1, &nh[..usize::from(p.nh6_len)], &self.scratch);
            }
            if v6 && withdraw {
                attr_mp_unreach(&mut self.buf, 2, 1, &self.scratch2);
            }
            if p.as2 && self.path.has_4byte() {
                attr_as4_path(&mut self.buf, &self.path);
            }
            if p.as2 && aggregator && origin_asn > 0xFFFF {
                attr_as4_aggregator(&mut self.buf, origin_asn, [192, 0, 2, 1]);
            }
            if self.rng.below(25) == 0 {
                let g = p.asn;
                attr_large_communities(&mut self.buf, &[[g, 1, self.rng.below(1000) as u32]]);
            }
        } else if v6 {
            attr_mp_unreach(&mut self.buf, 2, 1, &self.scratch2);
        }
        let alen = self.buf.len() - astart;
        patch_u16(&mut self.buf, alen_pos, alen as u16);
        if !v6 {
            self.buf.extend_from_slice(&self.scratch);
        }
        msg_finish(&mut self.buf, m);
        finish_mrt(&mut self.buf, hdr);
        self.summary.updates += 1;
        self.summary.announced += n_ann as u64;
        self.summary.withdrawn += n_wd as u64;
    }

    fn run<W: Write>(&mut self, out: &mut W) -> Result<(), SynthError> {
        let flap = Threshold::new(self.opts.flap_fraction);
        let keepalive = Threshold::new(self.opts.keepalive_fraction);
        let advance = Threshold::new(0.25);
        for i in 0..self.opts.messages {
            let t = self.time_us(i);
            let pending = self.peers.iter().position(|p| usize::from(p.step) < RECONNECT.len());
            let n_up = self.peers.iter().filter(|p| p.state == 6).count();
            let flap_now = n_up > 0 && self.rng.chance(flap);
            if flap_now {
                let nth = self.rng.below_usize(n_up);
                let pi = self
                    .peers
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.state == 6)
                    .nth(nth)
                    .map_or(0, |x| x.0);
                self.state_change(t, pi, 6, 1);
                self.peers[pi].step = 0;
            } else if let Some(pi) = pending.filter(|_| n_up == 0 || self.rng.chance(advance)) {
                let step = RECONNECT[usize::from(self.peers[pi].step) % RECONNECT.len()];
                self.peers[pi].step += 1;
                match step {
                    Step::State(a, b) => self.state_change(t, pi, a, b),
                    Step::Open => self.open(t, pi),
                    Step::Keepalive => self.keepalive(t, pi),
                    Step::EndOfRib => self.end_of_rib(t, pi),
                }
            } else {
                // An established peer, skewed towards low indices (noisy peers).
                let u = self.rng.unit();
                let nth = ((u * u * n_up as f64) as usize).min(n_up.saturating_sub(1));
                let pi = self
                    .peers
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.state == 6)
                    .nth(nth)
                    .map_or(0, |x| x.0);
                if self.rng.chance(keepalive) {
                    self.keepalive(t, pi);
                } else {
                    self.update(t, pi);
                }
            }
            if self.buf.len() >= 1 << 18 {
                out.write_all(&self.buf)?;
                self.summary.bytes += self.buf.len() as u64;
                self.buf.clear();
            }
        }
        out.write_all(&self.buf)?;
        self.summary.bytes += self.buf.len() as u64;
        self.buf.clear();
        out.flush()?;
        Ok(())
    }
}

/// Writes a synthetic BGP4MP updates file (RFC 6396 §4.4) to `out`.
///
/// Records (all received from peers): UPDATEs in BGP4MP MESSAGE_AS4
/// (subtype 4), or MESSAGE (subtype 1, 2-byte AS_PATH with as_path::AS_TRANS plus
/// AS4_PATH / AS4_AGGREGATOR when needed) for 2-byte sessions; IPv4 routes
/// use the classic withdrawn-routes / NLRI fields, IPv6 routes use full
/// MP_REACH_NLRI (AFI 2, SAFI 1, 16- or 32-byte next hop) and
/// MP_UNREACH_NLRI. KEEPALIVEs, session resets as STATE_CHANGE_AS4
/// (subtype 5; STATE_CHANGE, subtype 0, for 2-byte sessions) walking states
/// 6→1, 1→2, 2→3, 3→4, OPEN, 4→5, KEEPALIVE, 5→6 and an End-of-RIB (empty
/// UPDATE). Timestamps are non-decreasing. Output is buffered internally in
/// 256 KiB blocks.
pub fn write_updates<W: Write>(opts: &UpdatesOptions, mut out: W) -> Result<UpdatesSummary, SynthError> {
    opts.validate()?;
    if opts.messages == 0 {
        out.flush()?;
        return Ok(UpdatesSummary::default());
    }
    let mut g = Gen::new(opts);
    g.run(&mut out)?;
    Ok(g.summary)
}
