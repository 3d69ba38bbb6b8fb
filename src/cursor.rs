//! `Reader`: the one bounds-checked cursor through which all variable-length
//! wire data is read.
//!
//! A reader knows the absolute offset of its first byte, so errors raised by
//! nested parsers carry the position in the whole input without any offset
//! arithmetic at the call site. No method panics; every short read returns
//! [`ErrorKind::Truncated`](crate::ErrorKind::Truncated).

use crate::error::{Error, Result};

/// A cursor over untrusted bytes.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    /// Absolute offset of `buf[0]` in the input.
    base: u64,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, whose first byte is at absolute offset `base`.
    #[inline]
    pub fn new(buf: &'a [u8], base: u64) -> Reader<'a> {
        Reader { buf, base }
    }

    /// Absolute offset of the next unread byte.
    #[inline]
    pub fn offset(&self) -> u64 {
        self.base
    }

    /// Bytes left.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Whether every byte has been read.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The unread bytes, without consuming them.
    #[inline]
    pub fn peek_rest(&self) -> &'a [u8] {
        self.buf
    }

    #[inline]
    fn advance(&mut self, n: usize) {
        self.base = self.base.wrapping_add(n as u64);
    }

    /// Consume `n` bytes.
    #[inline]
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        match self.buf.split_at_checked(n) {
            Some((head, tail)) => {
                self.buf = tail;
                self.advance(n);
                Ok(head)
            }
            None => Err(Error::truncated(what, n, self.buf.len(), self.base)),
        }
    }

    /// Consume a fixed-size array.
    #[inline]
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<&'a [u8; N]> {
        match self.buf.split_first_chunk::<N>() {
            Some((head, tail)) => {
                self.buf = tail;
                self.advance(N);
                Ok(head)
            }
            None => Err(Error::truncated(what, N, self.buf.len(), self.base)),
        }
    }

    /// Consume `n` bytes as a child reader that keeps absolute offsets.
    #[inline]
    pub fn sub(&mut self, n: usize, what: &'static str) -> Result<Reader<'a>> {
        let base = self.base;
        self.take(n, what).map(|b| Reader::new(b, base))
    }

    /// Consume everything that is left.
    #[inline]
    pub fn rest(&mut self) -> &'a [u8] {
        let r = self.buf;
        self.advance(r.len());
        self.buf = &[];
        r
    }

    /// Read one byte.
    #[inline]
    pub fn u8(&mut self, what: &'static str) -> Result<u8> {
        self.array::<1>(what).map(|a| a[0])
    }

    /// Read a big-endian `u16`.
    #[inline]
    pub fn u16(&mut self, what: &'static str) -> Result<u16> {
        self.array::<2>(what).map(|a| u16::from_be_bytes(*a))
    }

    /// Read a big-endian `u32`.
    #[inline]
    pub fn u32(&mut self, what: &'static str) -> Result<u32> {
        self.array::<4>(what).map(|a| u32::from_be_bytes(*a))
    }

    /// Read a big-endian `u64`.
    #[inline]
    pub fn u64(&mut self, what: &'static str) -> Result<u64> {
        self.array::<8>(what).map(|a| u64::from_be_bytes(*a))
    }

    /// Read a zerocopy wire struct by reference.
    #[inline]
    pub fn wire<T>(&mut self, what: &'static str) -> Result<&'a T>
    where
        T: zerocopy::FromBytes + zerocopy::KnownLayout + zerocopy::Immutable + zerocopy::Unaligned,
    {
        let b = self.take(core::mem::size_of::<T>(), what)?;
        // The slice has exactly size_of::<T>() bytes and T is unaligned, so this cannot fail.
        T::ref_from_bytes(b).map_err(|_| Error::truncated(what, core::mem::size_of::<T>(), b.len(), self.base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn reads_and_tracks_offsets() {
        let mut r = Reader::new(&[1, 0, 2, 0, 0, 0, 3, 9], 100);
        assert_eq!(r.u8("a").unwrap(), 1);
        assert_eq!(r.u16("b").unwrap(), 2);
        assert_eq!(r.offset(), 103);
        let mut s = r.sub(4, "c").unwrap();
        assert_eq!(s.offset(), 103);
        assert_eq!(s.u32("d").unwrap(), 3);
        assert_eq!(r.offset(), 107);
        let e = r.u16("short").unwrap_err();
        assert_eq!(e.offset(), 107);
        match e.kind() {
            ErrorKind::Truncated { what, needed, available } => {
                assert_eq!((*what, *needed, *available), ("short", 2, 1));
            }
            k => panic!("unexpected {k:?}"),
        }
        assert_eq!(r.rest(), &[9]);
        assert!(r.is_empty());
    }
}
