//! # mrtsnap
//!
//! A zero-copy reader for MRT archives of BGP routing data (RFC 6396) and
//! columnar prefix-origin snapshots built from them.
//!
//! Data flows: [`Source`] (mapped file or decompressor) → batches of whole
//! records → [`mrt::Records`] (framing) → [`mrt::Record`] (typed views
//! borrowing from the batch) → [`bgp`] (messages, attributes, prefixes).
//!
//! Guarantees: no input makes the crate panic, hang or allocate beyond what
//! the input justifies; errors carry the byte offset and the record index.
//! `unsafe` is confined to [`source`] (the memory map) and [`simd`] (the
//! SIMD kernels, each with a scalar twin; `--simd scalar` or
//! [`simd::set_backend`] pins the portable code).
#![deny(missing_docs)]
#![deny(unsafe_code)]

#[cfg(feature = "batch")]
pub mod batch;
pub mod bgp;
pub mod cursor;
pub mod decompress;
pub mod dump;
pub mod error;
pub mod fmt;
pub mod mrt;
mod naming;
pub mod pipeline;
pub mod report;
pub mod routes;
pub mod simd;
pub mod snapshot;
pub mod source;
pub mod stats;
#[cfg(feature = "synth")]
pub mod synth;

pub use bgp::Prefix;
pub use decompress::Compression;
pub use error::{Error, ErrorKind, Result};
pub use source::{Batch, Source};
