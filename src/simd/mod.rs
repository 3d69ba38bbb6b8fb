/*!
SIMD kernels with runtime CPU detection and a scalar twin for each.

Every kernel here is a *total* function over plain slices: any input gives a
defined result (validation comes back as a value, never as a panic or an
`Error`), nothing reads past the slices it is given (tails are handled with
an overlapping load or in scalar code; inputs are never padded: a mapped
file ends at a page boundary), and every backend gives exactly the scalar
twin's answer (`tests/simd.rs` checks each one against a naive one-line
oracle on every length and alignment).

# Backends and dispatch

[`Backend`] names an implementation: [`Backend::Scalar`] (always compiled,
the reference), [`Backend::Sse2`], [`Backend::Avx2`] and [`Backend::Avx512`]
on x86_64, [`Backend::Neon`] on aarch64. A kernel without a form of its own
on a backend runs the best lower one there (no kernel has a 512-bit form:
`Avx512` runs the AVX2 code). The process-wide choice is detected once and
cached in an atomic ([`Backend::current`]); [`set_backend`] pins it (the
CLI's `--simd scalar`), and each kernel's `*_with` form takes a backend
explicitly (benches, tests, [`SnapshotOptions::simd`]). Asking for a
backend the CPU lacks runs the scalar code: no caller can execute an
instruction the CPU does not have.

# Which kernels, and why (profile first)

Where the time goes in code without SIMD kernels, the profiles that chose
them (`perf record`, 2-core AMD EPYC (Zen 5) VM, generated default-shaped
table at scale 0.2: 341 MB, 5.55M RIB entries, one thread):

- `snapshot --format pairs`: attribute walk to the origin (`find_origin` +
  `origin_key`) 30%, entry walk (`read_entry`, twice per record because
  `Rib::parse` first checks the layout) 13%, framing 13% (a cache/TLB miss
  on each record header: the first touch of a mapped page), sorting each
  prefix's (origin, peer) pairs 7%, `derive_counts` 4%.
- `dump`: decimal formatting (`itoa`) 21%, small `memmove`s 18%, attribute
  parsing 19%, path handling 9%.

The kernels, each faster than its scalar twin (`benches/kernels.rs`,
`BENCHMARKS.md`):

- [`all_equal_u64`] and [`strictly_increasing_u32`]: one origin and peers in
  table order, the common case of a prefix's routes, decided a vector at a
  time instead of sorting (origin, peer) pairs (SSE2, AVX2, NEON).
- [`count_in_bitmap`]: how many of a row's peers are in a peer subset
  (full-feed peers; visibility recounts), one gather per 8 ids (AVX2).

Measured and slower than scalar code, so not here (numbers at each
function and in `BENCHMARKS.md`): the batched attribute walk with AVX2/AVX-512 gathers
([`attr_origins`] keeps the batching, in scalar code); SSE2 decimal
conversion of eight digits at once (slower than the two-digits-per-step
scalar writer in `crate::fmt` on ASN-sized numbers); 512-bit forms of the
kernels above (the calls are 20 to 30 elements long).

On real tables (issue 15) the kernels earn little end to end. On a
route-views.jinx-like RIB each call has one element per prefix, and below
[`SHORT`] elements the scalar twin runs inline (before that cut-off
`--simd auto` was 5% slower than `--simd scalar` there): the jinx RIB
takes 666,952,895 instructions with `--simd auto` and 666,953,317 with
`--simd scalar` (callgrind, one thread). On the RouteViews full feeds
(about 25 routes per prefix; the route-views2 2014 and route-views6 2015
firstMB tables ×3), 508.5M against 515.1M instructions (−1.3%):
[`all_equal_u64`] and [`strictly_increasing_u32`] take 3.5M off
`Worker::flush` (the peers are out of table order in 96-99% of
multi-route prefixes, so the second mostly answers "no" and a bitmap sorts
them), [`count_in_bitmap`] 3.1M off `derive_counts`. In time neither
shows: one pinned core, medians of alternated runs, full-feed ×10 153.4 ms
auto against 153.6 ms scalar (21 runs), jinx ×10 331.8 against 331.5 ms
(11 runs). The hot spots of real tables are sequential: the attribute walk
to the origin (a third of the full-feed profile; the gather form measured
slower, above), the entry walk and framing, each a chain of
length-prefixed fields.

Issue 15 asks that a kernel gaining nothing end to end be removed; these
are kept, as the SIMD core the project's guide asks for (runtime dispatch,
a scalar twin built and tested against each): they cost nothing end to end
(the same instructions on jinx, fewer on full feeds) and win 2-3× per call
in `benches/kernels.rs`, on calls as long as a full feed's (24 elements),
which rows seen by more peers (merged snapshots of several collectors)
make longer.

Not kernels, by their share of the profile: the visibility timeline's
per-bin counting (full-feed peer ASNs as popcounts of one or two 64-bit
words of peer bitmaps under a mask, levels, /24 unions over an origin's
rows in prefix order) is 3.2% of the all-origins timeline of a day of an
rrc00-like collector (`perf`, 2 cores; the change stream into the
bitmaps 7% more, cache misses on the per-origin peer counts, not
arithmetic): the bitmaps are a word or two wide, so a vector form has
nothing to spread over, and a kernel could gain at most those 3% end to
end, under the run-to-run noise of these machines. Snapshot diffs walk
one ordered map of the two snapshots' pairs, not sorted columns.

[`SnapshotOptions::simd`]: crate::snapshot::SnapshotOptions::simd
*/
#![allow(unsafe_code)]
#![deny(
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks,
    clippy::missing_safety_doc,
    clippy::multiple_unsafe_ops_per_block
)]

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};

#[cfg(target_arch = "aarch64")]
mod aarch64;
mod scalar;
#[cfg(target_arch = "x86_64")]
mod x86_64;

/// A kernel implementation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// Portable scalar code: always compiled, the reference.
    Scalar,
    /// x86_64 SSE2 (every x86_64 CPU).
    Sse2,
    /// x86_64 AVX2.
    Avx2,
    /// x86_64 AVX-512 F, BW and VL. Runs the AVX2 kernels: no kernel has a
    /// 512-bit form (they measure slower on these short inputs).
    Avx512,
    /// aarch64 NEON (every aarch64 CPU).
    Neon,
}

/// Every backend, in order of preference from worst to best.
const ALL: [Backend; 5] = [Backend::Scalar, Backend::Sse2, Backend::Avx2, Backend::Avx512, Backend::Neon];

impl Backend {
    /// Every backend this crate knows, available here or not.
    pub const ALL: [Backend; 5] = ALL;

    /// Short lower-case name (`scalar`, `sse2`, `avx2`, `avx512`, `neon`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Scalar => "scalar",
            Backend::Sse2 => "sse2",
            Backend::Avx2 => "avx2",
            Backend::Avx512 => "avx512",
            Backend::Neon => "neon",
        }
    }

    /// The backend called `name` (see [`Backend::name`]).
    pub fn from_name(name: &str) -> Option<Backend> {
        ALL.into_iter().find(|b| b.name() == name)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// Whether this CPU can run the backend (detected once, then cached).
    #[inline]
    pub fn is_available(self) -> bool {
        available_mask() & self.bit() != 0
    }

    /// The backends this CPU can run, worst first.
    pub fn available() -> impl Iterator<Item = Backend> {
        ALL.into_iter().filter(|b| b.is_available())
    }

    /// The best backend this CPU can run.
    pub fn detect() -> Backend {
        Backend::available().last().unwrap_or(Backend::Scalar)
    }

    /// The process-wide choice: what [`set_backend`] pinned, else
    /// [`Backend::detect`] (computed once).
    #[inline]
    pub fn current() -> Backend {
        match CHOICE.load(Ordering::Relaxed) {
            0 => {
                let b = Backend::detect();
                // A racing `set_backend` wins: only replace "undecided".
                let _ = CHOICE.compare_exchange(0, b as u8 + 1, Ordering::Relaxed, Ordering::Relaxed);
                from_code(CHOICE.load(Ordering::Relaxed)).unwrap_or(b)
            }
            c => from_code(c).unwrap_or(Backend::Scalar),
        }
    }

    /// `self` when this CPU can run it, else [`Backend::Scalar`].
    #[inline]
    fn usable(self) -> Backend {
        if self.is_available() {
            self
        } else {
            Backend::Scalar
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Backend {
    type Err = crate::error::ParseError;

    fn from_str(s: &str) -> Result<Backend, Self::Err> {
        Backend::from_name(s)
            .ok_or_else(|| crate::error::ParseError::new(format!("unknown SIMD backend {s:?} (scalar, sse2, avx2, avx512, neon)")))
    }
}

/// The error of [`set_backend`]: this CPU cannot run the backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unavailable(pub Backend);

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIMD backend {} is not available on this CPU", self.0)
    }
}

impl std::error::Error for Unavailable {}

/// 0: not decided yet; otherwise `Backend as u8 + 1`.
static CHOICE: AtomicU8 = AtomicU8::new(0);
/// Bit `1 << Backend as u8` per available backend; bit 7 marks "detected".
static AVAILABLE: AtomicU8 = AtomicU8::new(0);

fn from_code(c: u8) -> Option<Backend> {
    ALL.into_iter().find(|&b| b as u8 + 1 == c)
}

#[inline]
fn available_mask() -> u8 {
    let m = AVAILABLE.load(Ordering::Relaxed);
    if m != 0 {
        return m;
    }
    let m = detect_mask() | 0x80;
    AVAILABLE.store(m, Ordering::Relaxed);
    m
}

#[cold]
fn detect_mask() -> u8 {
    let mut m = Backend::Scalar.bit();
    #[cfg(target_arch = "x86_64")]
    {
        if x86_64::has_sse2() {
            m |= Backend::Sse2.bit();
        }
        if x86_64::has_avx2() {
            m |= Backend::Avx2.bit();
        }
        if x86_64::has_avx512() {
            m |= Backend::Avx512.bit();
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if aarch64::has_neon() {
            m |= Backend::Neon.bit();
        }
    }
    m
}

/// Pin the process-wide backend (what [`Backend::current`] returns and the
/// plain kernels use), for instance [`Backend::Scalar`] to compare.
///
/// # Errors
/// [`Unavailable`] when this CPU cannot run `backend` (nothing changes).
pub fn set_backend(backend: Backend) -> Result<(), Unavailable> {
    if !backend.is_available() {
        return Err(Unavailable(backend));
    }
    CHOICE.store(backend as u8 + 1, Ordering::Relaxed);
    Ok(())
}

/// The origin ASN of each RIB entry whose attribute block is
/// `buf[starts[i]..ends[i]]`, when the fast rule decides it: `asns[i]` gets
/// the ASN and `ok[i]` 1, or `asns[i] = 0, ok[i] = 0` when the entry needs
/// the exact path. Works on the first `min` of the four lengths.
///
/// The fast rule: the block frames exactly (every attribute header and value
/// inside it); it holds exactly one AS_PATH (type code 2) and no AS4_PATH
/// (17); that AS_PATH is one non-empty AS_SEQUENCE of 4-byte ASNs (`2, n`,
/// then `4n` bytes, nothing else). The origin is then the last ASN. This is
/// what `snapshot::scan::find_origin` answers for such a block, and it
/// covers all but a few per thousand entries of real tables (AS_SET
/// aggregates, confederations and 2-byte-AS sessions take the exact path).
///
/// # Performance
/// Scalar on every backend. Entries are independent once located, so AVX2
/// (8 lanes) and AVX-512 (16 lanes) versions can walk the attribute headers
/// of several entries in lockstep with one gather per step; on the generated
/// table they run at 0.55× (AVX2) and 0.6× (AVX-512) of this loop per RIB
/// record, and at 0.65×/0.75× even with every entry of a 1 MiB buffer in one
/// call (`kernels/attr_origins`, BENCHMARKS.md): each step waits for a
/// gather (~25 cycles), lanes wait for the entry with the most attributes,
/// while the scalar hops are well predicted (attribute layouts repeat). So
/// the loop is scalar; what pays is the batching itself: locating the
/// entries first and deciding most origins with this short loop, the
/// snapshot of the 341 MB table takes 234 ms of CPU, against 318 ms without
/// the batching.
pub fn attr_origins(buf: &[u8], starts: &[u32], ends: &[u32], asns: &mut [u32], ok: &mut [u8]) {
    scalar::attr_origins(buf, starts, ends, asns, ok);
}

/// [`attr_origins`] for one attribute block whose AS_PATH is made of
/// `asn_len`-byte ASNs (2 or 4): its origin under the fast rule, or `None`
/// when it needs the exact path.
#[inline]
pub fn attr_origin(attrs: &[u8], asn_len: u8) -> Option<u32> {
    let end = u32::try_from(attrs.len()).ok()?;
    if asn_len == 2 {
        scalar::attr_origin_one::<2>(attrs, 0, end)
    } else {
        scalar::attr_origin_one::<4>(attrs, 0, end)
    }
}

/// Calls on fewer elements than this run the scalar twin inline, on every
/// backend: a vector kernel is an out-of-line call behind a dispatch, and
/// a real RIB with about one entry per prefix (the route-views.jinx RIB:
/// 497k prefixes, 14 peers) calls each kernel with one element per prefix.
/// There `--simd auto` measured 5% slower than `--simd scalar` on one
/// pinned core (jinx ×10, 1.300 s against 1.241 s) before this cut-off.
const SHORT: usize = 8;

/// Whether every element of `x` is equal (true when `x` has fewer than two).
///
/// # Performance
/// Called once per prefix with its routes' origin keys (about 20 on a
/// route-views2-like table). `kernels/all_equal_u64`, 24-element calls
/// from L1: scalar 24 GiB/s, SSE2 56, AVX2 73; a 512-bit form runs at 63
/// against 68 for AVX2, so `Avx512` runs the AVX2 code.
#[inline]
pub fn all_equal_u64(x: &[u64]) -> bool {
    all_equal_u64_with(Backend::current(), x)
}

/// [`all_equal_u64`] on `backend` (scalar when this CPU lacks it).
#[inline]
pub fn all_equal_u64_with(backend: Backend, x: &[u64]) -> bool {
    if x.len() < SHORT {
        return scalar::all_equal_u64(x);
    }
    match backend.usable() {
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2 | Backend::Avx512 => x86_64::all_equal_u64_avx2(x),
        #[cfg(target_arch = "x86_64")]
        Backend::Sse2 => x86_64::all_equal_u64_sse2(x),
        #[cfg(target_arch = "aarch64")]
        Backend::Neon => aarch64::all_equal_u64(x),
        _ => scalar::all_equal_u64(x),
    }
}

/// Whether `x` is strictly increasing (sorted and distinct).
///
/// # Performance
/// Called once per prefix with its routes' peer ids. `kernels/
/// strictly_increasing_u32`, 24-element calls from L1: scalar 12 GiB/s,
/// SSE2 24, AVX2 37; a 512-bit form runs at 38 against 41 for AVX2, so
/// `Avx512` runs the AVX2 code.
#[inline]
pub fn strictly_increasing_u32(x: &[u32]) -> bool {
    strictly_increasing_u32_with(Backend::current(), x)
}

/// [`strictly_increasing_u32`] on `backend` (scalar when this CPU lacks it).
#[inline]
pub fn strictly_increasing_u32_with(backend: Backend, x: &[u32]) -> bool {
    if x.len() < SHORT {
        return scalar::strictly_increasing_u32(x);
    }
    match backend.usable() {
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2 | Backend::Avx512 => x86_64::strictly_increasing_u32_avx2(x),
        #[cfg(target_arch = "x86_64")]
        Backend::Sse2 => x86_64::strictly_increasing_u32_sse2(x),
        #[cfg(target_arch = "aarch64")]
        Backend::Neon => aarch64::strictly_increasing_u32(x),
        _ => scalar::strictly_increasing_u32(x),
    }
}

/// How many of `ids` have their bit set in the bitmap `bits` (bit `i % 64`
/// of `bits[i / 64]`); ids past the bitmap count as not set. Repeated ids
/// count each time.
///
/// # Performance
/// Called once per snapshot row (full-feed peers among the row's peers) and
/// usable for any visibility recount over a peer subset. `kernels/
/// count_in_bitmap`, 24 random ids per call: scalar 3.0–3.2 GiB/s (8.3
/// when a 32 KiB input repeats often enough for the branch predictor to
/// learn it), AVX2 (one gather per 8 ids, no branches) 11; a 512-bit form
/// runs at 7.8, so `Avx512` runs the AVX2 code. SSE2 has no
/// gather and runs scalar.
#[inline]
pub fn count_in_bitmap(ids: &[u32], bits: &[u64]) -> usize {
    count_in_bitmap_with(Backend::current(), ids, bits)
}

/// [`count_in_bitmap`] on `backend` (scalar when this CPU lacks it).
#[inline]
pub fn count_in_bitmap_with(backend: Backend, ids: &[u32], bits: &[u64]) -> usize {
    if ids.len() < SHORT {
        return scalar::count_in_bitmap(ids, bits);
    }
    match backend.usable() {
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2 | Backend::Avx512 => x86_64::count_in_bitmap_avx2(ids, bits),
        _ => scalar::count_in_bitmap(ids, bits),
    }
}
