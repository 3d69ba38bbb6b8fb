//! BGP-4 wire structures: messages, path attributes, AS paths and NLRI.

pub mod as_path;
pub mod attr;
pub mod message;
pub mod nlri;

pub use as_path::{AsPath, AsPathBuf, Origin, OriginRef, PathSegment, PathSegments, Segment, Segments};
pub use attr::{Attrs, MpReach, MpUnreach, RawAttr, RawAttrs};
pub use message::{Message, Open, Update};
pub use nlri::{Nlri, Prefix, Prefixes};
