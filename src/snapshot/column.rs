//! Variable-length list columns: Arrow-style offsets plus one flat values
//! buffer, so millions of short lists cost two allocations, not millions.

/// A column of lists: list `i` is `values[offsets[i]..offsets[i + 1]]`.
///
/// Offsets are `u64` so that a merged snapshot of many collectors can hold
/// more than 2³² list values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ListColumn<T> {
    offsets: Vec<u64>,
    values: Vec<T>,
}

impl<T> Default for ListColumn<T> {
    fn default() -> Self {
        ListColumn {
            offsets: vec![0],
            values: Vec::new(),
        }
    }
}

impl<T: Copy> ListColumn<T> {
    /// An empty column with room for `lists` lists and `values` values.
    pub(crate) fn with_capacity(lists: usize, values: usize) -> Self {
        let mut offsets = Vec::with_capacity(lists + 1);
        offsets.push(0);
        ListColumn {
            offsets,
            values: Vec::with_capacity(values),
        }
    }

    /// Remove every list, keeping the buffers.
    pub(crate) fn clear(&mut self) {
        self.offsets.truncate(1);
        self.values.clear();
    }

    /// Number of lists.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Total number of values over all lists.
    #[inline]
    pub(crate) fn values_len(&self) -> usize {
        self.values.len()
    }

    /// Append one list.
    ///
    /// # Performance
    /// A list of one (a RIB with about one route per prefix) is pushed
    /// as a value: copied as a slice it was a `memcpy` call per row, 98M
    /// of the 5,347M instructions of the snapshot of jinx x10 (callgrind,
    /// one thread).
    #[inline]
    pub(crate) fn push_slice(&mut self, list: &[T]) {
        match list {
            [v] => self.values.push(*v),
            _ => self.values.extend_from_slice(list),
        }
        self.offsets.push(self.values.len() as u64);
    }

    /// Append one list from an iterator.
    #[inline]
    pub(crate) fn push_iter(&mut self, list: impl IntoIterator<Item = T>) {
        self.values.extend(list);
        self.offsets.push(self.values.len() as u64);
    }

    /// List `i` (empty when out of range).
    #[inline]
    pub(crate) fn get(&self, i: usize) -> &[T] {
        let (Some(&s), Some(&e)) = (self.offsets.get(i), self.offsets.get(i + 1)) else {
            return &[];
        };
        self.values.get(s as usize..e as usize).unwrap_or(&[])
    }

    /// Every list, in order.
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = &[T]> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// The flat values buffer, mutable (for in-place remapping).
    pub(crate) fn values_mut(&mut self) -> &mut [T] {
        &mut self.values
    }

    /// Sort every list in place (for lists whose values were renumbered
    /// one to one: they stay distinct, only their order changes).
    pub(crate) fn sort_each(&mut self)
    where
        T: Ord,
    {
        for w in self.offsets.windows(2) {
            if let Some(l) = self.values.get_mut(w[0] as usize..w[1] as usize) {
                if !l.is_sorted() {
                    l.sort_unstable();
                }
            }
        }
    }

    /// Append values to the last list (to a new list when there is none).
    pub(crate) fn extend_last(&mut self, list: impl IntoIterator<Item = T>) {
        if self.len() == 0 {
            self.push_iter(list);
            return;
        }
        self.values.extend(list);
        if let Some(end) = self.offsets.last_mut() {
            *end = self.values.len() as u64;
        }
    }

    /// Sort the last list and drop its repeated values.
    pub(crate) fn normalize_last(&mut self)
    where
        T: Ord,
    {
        let Some(&start) = self.offsets.len().checked_sub(2).and_then(|i| self.offsets.get(i)) else {
            return;
        };
        let start = start as usize;
        let Some(tail) = self.values.get_mut(start..) else { return };
        tail.sort_unstable();
        let mut kept = start;
        for r in start..self.values.len() {
            if kept == start || self.values[r] != self.values[kept - 1] {
                self.values[kept] = self.values[r];
                kept += 1;
            }
        }
        self.values.truncate(kept);
        if let Some(end) = self.offsets.last_mut() {
            *end = kept as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_get_and_rebase() {
        let mut c = ListColumn::<u32>::default();
        c.push_slice(&[1, 2]);
        c.push_slice(&[]);
        c.push_iter([7, 8, 9]);
        assert_eq!(c.len(), 3);
        assert_eq!(c.values_len(), 5);
        assert_eq!(c.get(0), &[1, 2]);
        assert_eq!(c.get(1), &[] as &[u32]);
        assert_eq!(c.get(2), &[7, 8, 9]);
        assert_eq!(c.get(3), &[] as &[u32]);
        c.values_mut()[0] = 5;
        assert_eq!(
            c.iter().map(|l| l.to_vec()).collect::<Vec<_>>(),
            [vec![5, 2], vec![], vec![7, 8, 9]]
        );
        c.extend_last([3, 9, 7]);
        assert_eq!(c.get(2), &[7, 8, 9, 3, 9, 7]);
        c.normalize_last();
        assert_eq!(
            (c.get(2), c.get(0), c.len(), c.values_len()),
            (&[3, 7, 8, 9][..], &[5, 2][..], 3, 6)
        );
        let mut e = ListColumn::<u32>::default();
        e.normalize_last();
        e.extend_last([2, 1, 2]);
        e.normalize_last();
        assert_eq!((e.len(), e.get(0)), (1, &[1, 2][..]));
    }
}
