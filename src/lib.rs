//! # mrtsnap
//!
//! Fast, zero-copy reading of MRT archives of BGP routing data (RFC 6396:
//! RouteViews `rib.*` / `updates.*`, RIPE RIS `bview.*` / `updates.*`, plain
//! or gzip, bzip2, xz, zstd) into routes, events and columnar prefix-origin
//! snapshots.
//!
//! # Start here
//!
//! Open an input with [`Source::open`], then either iterate over what it
//! says ([`Source::routes`], [`Source::events`]) or build a [`Snapshot`] of
//! a RIB dump. Damage in the input is skipped and counted in a [`Report`]
//! (the byte offset and record index of each error), never a panic;
//! [`RouteOptions::strict`] and [`SnapshotOptions::strict`] stop at the first
//! instead. An input that holds no MRT record at all is an [`Error`] of kind
//! [`ErrorKind::NotMrt`].
//!
//! ## The routes and state changes of an updates file
//!
//! ```
//! use mrtsnap::{Event, FsmState, RouteKind, Source};
//!
//! let src = Source::open("corpus/updates.synth.small.mrt.gz")?;
//! let (mut announced, mut withdrawn, mut up) = (0, 0, Vec::new());
//! let mut events = src.events();
//! for event in &mut events {
//!     match event? {
//!         Event::Route(r) if r.kind == RouteKind::Announce => announced += 1,
//!         Event::Route(r) if r.kind == RouteKind::Withdraw => withdrawn += 1,
//!         Event::StateChange(s) if s.new == FsmState::Established => up.push(s.peer.to_string()),
//!         _ => {}
//!     }
//! }
//! assert_eq!((announced, withdrawn), (4343, 1881));
//! assert_eq!(up, ["195.66.224.2 AS9260"]);
//! assert_eq!(events.report().total_errors(), 0);
//!
//! // Routes are owned: keep them, stop early, print them.
//! let first = src.routes().next().unwrap()?;
//! assert_eq!(first.prefix.to_string(), "61.190.0.0/20");
//! assert_eq!(first.as_path().to_string(), "29152 6461 4702");
//! assert_eq!(first.origin_as().to_string(), "4702");
//! # Ok::<(), mrtsnap::Error>(())
//! ```
//!
//! ## A RIB snapshot, lookup and longest match
//!
//! ```
//! use mrtsnap::{Snapshot, SnapshotOptions, Source};
//!
//! let src = Source::open("corpus/rib.synth.small.mrt.bz2")?;
//! let snap = Snapshot::build(&src, &SnapshotOptions::default())?;
//! assert_eq!(snap.len(), 3871);
//! // The rows of one prefix (one per origin AS), with their peer counts.
//! let rows: Vec<_> = snap.lookup("97.55.64.0/18".parse()?).map(|r| (r.origin.to_string(), r.peers())).collect();
//! assert_eq!(rows, [("53757".to_string(), 4)]);
//! // Every prefix covering an address, shortest first; the longest alone.
//! let covering: Vec<String> = snap.covering("97.55.100.1".parse()?).iter().map(|r| r.prefix.to_string()).collect();
//! assert_eq!(covering, ["97.55.64.0/18", "97.55.96.0/20"]);
//! let best: Vec<String> = snap.longest_match("97.55.100.1".parse()?).map(|r| r.origin.to_string()).collect();
//! assert_eq!(best, ["353012"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Parquet out and back
//!
//! With the `parquet` feature (on by default):
//!
//! ```
//! # #[cfg(feature = "parquet")] {
//! use mrtsnap::{Snapshot, SnapshotOptions, Source};
//!
//! let snap = Snapshot::build(&Source::open("corpus/rib.synth.small.mrt.bz2")?, &SnapshotOptions::default())?;
//! let mut file = Vec::new(); // or a std::fs::File
//! snap.write_parquet(&mut file)?;
//! let back = Snapshot::from_parquet_bytes(file)?;
//! assert_eq!(back.len(), snap.len());
//! assert!(back.pairs().eq(snap.pairs()));
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Many files in parallel
//!
//! Each file's decoding is parallel already; across files, rayon's
//! `par_iter` spreads them over the same pool (iterators and snapshots
//! called from pool threads keep the pool's other jobs running while they
//! wait). Within one file, [`Source::par_map_events`] spreads its batches.
//!
//! ```
//! use rayon::prelude::*;
//! use mrtsnap::{Source, Result};
//!
//! let files = ["corpus/rib.synth.small.mrt.bz2", "corpus/updates.synth.small.mrt.gz"];
//! let routes: Vec<usize> = files
//!     .par_iter()
//!     .map(|f| Source::open(f)?.routes().try_fold(0, |n, r| r.map(|_| n + 1)))
//!     .collect::<Result<_>>()?;
//! assert_eq!(routes[1], 4343 + 1881);
//! # Ok::<(), mrtsnap::Error>(())
//! ```
//!
//! # Layers
//!
//! [`Source`] (a mapped file, bytes in memory, or a decompressor) cuts the
//! input into [`Batch`]es of whole records; [`mrt`] frames and decodes
//! records into typed views that borrow from the batch; [`bgp`] decodes
//! messages, attributes, AS paths and prefixes; [`routes`] turns records of
//! every kind into [`Route`]s; [`snapshot`] builds the prefix-origin table;
//! [`replay`] applies updates onto RIB dumps, peer by peer, for the table
//! at any instant ([`Replay`]); [`dump`] writes `bgpdump -m` lines or JSON lines. `unsafe` is confined to
//! the memory map ([`Source::open_mmap`]) and the SIMD kernels, each with a
//! scalar twin.
//!
//! # Features
//!
//! * `parquet` (default): [`Snapshot::write_parquet`] and
//!   [`Snapshot::read_parquet`], through arrow-rs.
//! * `cli` (default): the `mrtsnap` command line, with the dataset runner
//!   (`dataset`, behind `mrtsnap batch`), the generator of synthetic files (`synth`)
//!   and the charts (`plot`).
//! * `plot` (in `cli`): `mrtsnap::plot`, timelines of visibility with outage
//!   spans shaded, as SVG or PNG (plotters; the PNG font embedded).
//!
//! A library built with `default-features = false` depends on no command-line,
//! Parquet, hashing or plotting crate.
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod bgp;
pub mod dump;
pub mod layout;
pub mod mrt;
#[cfg(feature = "plot")]
pub mod plot;
pub mod replay;
pub mod routes;
pub mod snapshot;
pub mod timeline;

mod error;
mod events;
mod naming;
mod report;
mod sched;

// Not part of the API: the command line, the benches, the tests and the fuzz
// targets reach the crate's internals here. They change without notice.
#[doc(hidden)]
pub mod cursor;
#[doc(hidden)]
#[cfg(feature = "dataset")]
pub mod dataset;
#[doc(hidden)]
pub mod decompress;
#[doc(hidden)]
pub mod fmt;
#[doc(hidden)]
pub mod pipeline;
#[doc(hidden)]
pub mod simd;
#[doc(hidden)]
pub mod source;
#[doc(hidden)]
pub mod stats;
#[doc(hidden)]
#[cfg(feature = "synth")]
pub mod synth;
#[doc(hidden)]
pub mod testkit;

pub use bgp::{AsPathBuf, Origin, Prefix};
pub use decompress::Compression;
pub use error::{Error, ErrorKind, ParseError, Result};
pub use events::{Event, Events, OwnedRoute, Routes, StateChange};
pub use mrt::{FsmState, Record};
pub use replay::{Replay, ReplayReport};
pub use report::Report;
pub use routes::{Peer, Route, RouteKind, RouteOptions};
pub use snapshot::{Snapshot, SnapshotOptions};
pub use source::{Batch, Batches, Source, DEFAULT_BATCH_SIZE};

// The README's examples are compiled and run with the doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
