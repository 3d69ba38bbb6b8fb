//! Decode statistics: records by type, errors and warnings by kind, with the
//! first few errors kept for reporting.

use crate::error::Error;
use std::collections::BTreeMap;

/// How many errors of each kind are kept whole (the rest are only counted).
pub const KEEP_ERRORS: usize = 8;

/// Counters gathered while decoding; partial reports from parallel workers
/// are merged in input order, so the kept errors are the first ones.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Records framed, by `(type, subtype)`.
    pub records: BTreeMap<(u16, u16), u64>,
    /// Errors by kind name.
    pub errors: BTreeMap<&'static str, u64>,
    /// Warnings (RFC 7606 conditions, recovered quirks) by name.
    pub warnings: BTreeMap<&'static str, u64>,
    /// The first errors of each kind, in input order.
    pub first_errors: Vec<Error>,
    /// Errors that only say the input ends early (see
    /// [`Error::is_end_of_input`]); also counted in `errors`.
    pub end_of_input: u64,
}

impl Report {
    /// Count one framed record.
    #[inline]
    pub fn record(&mut self, mrt_type: u16, subtype: u16) {
        self.count_records(mrt_type, subtype, 1);
    }

    /// Count `n` framed records of one type and subtype.
    #[inline]
    pub fn count_records(&mut self, mrt_type: u16, subtype: u16, n: u64) {
        *self.records.entry((mrt_type, subtype)).or_insert(0) += n;
    }

    /// Count an error, keeping it if it is among the first of its kind.
    pub fn error(&mut self, e: Error) {
        if e.is_end_of_input() {
            self.end_of_input += 1;
        }
        let name = e.kind().name();
        let n = self.errors.entry(name).or_insert(0);
        *n += 1;
        if *n as usize <= KEEP_ERRORS {
            self.first_errors.push(e);
        }
    }

    /// Count a warning.
    #[inline]
    pub fn warn(&mut self, name: &'static str, n: u64) {
        if n > 0 {
            *self.warnings.entry(name).or_insert(0) += n;
        }
    }

    /// Total records.
    pub fn total_records(&self) -> u64 {
        self.records.values().sum()
    }

    /// Total errors.
    pub fn total_errors(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Records skipped because of damage inside the input (errors other
    /// than the input ending early).
    pub fn skipped(&self) -> u64 {
        self.total_errors() - self.end_of_input
    }

    /// The error for an input in which nothing was an MRT record: not an
    /// empty one (an empty updates interval is valid), but one whose every
    /// byte was damage ([`ErrorKind::NotMrt`](crate::ErrorKind::NotMrt)).
    ///
    /// # Example
    /// ```
    /// use mrtsnap::{ErrorKind, Source};
    /// let src = Source::from_bytes("notes.txt", &b"this is not an MRT file, just text\n"[..]);
    /// let mut routes = src.routes();
    /// let err = routes.next().unwrap().unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::NotMrt));
    /// assert!(routes.report().not_mrt().is_some());
    /// assert!(Source::from_bytes("empty", Vec::new()).routes().next().is_none());
    /// ```
    pub fn not_mrt(&self) -> Option<crate::Error> {
        (self.total_records() == 0 && self.total_errors() > 0).then(|| crate::Error::new(crate::ErrorKind::NotMrt, 0))
    }

    /// Merge a report of later input into this one.
    pub fn merge(&mut self, other: Report) {
        self.end_of_input += other.end_of_input;
        for (k, v) in other.records {
            *self.records.entry(k).or_insert(0) += v;
        }
        for (k, v) in other.warnings {
            *self.warnings.entry(k).or_insert(0) += v;
        }
        for e in other.first_errors {
            let kept = self.first_errors.iter().filter(|x| x.kind().name() == e.kind().name()).count();
            if kept < KEEP_ERRORS {
                self.first_errors.push(e);
            }
        }
        for (k, v) in other.errors {
            *self.errors.entry(k).or_insert(0) += v;
        }
    }
}
