//! Visibility timelines.
pub mod outage;
