//! Out-of-order reassembly bookkeeping (RFC 9293 §3.10.7.4 seventh step, SHLD-31): which byte
//! ranges past RCV.NXT have arrived. Offsets are 64-bit stream offsets, so they never wrap.

/// Memory: nothing until the first out-of-order segment arrives, and nothing again once the
/// last hole closes (issue 8: most connections never see one, and an idle connection should
/// cost only what it needs).
#[derive(Debug)]
pub struct Assembler {
    /// Sorted, disjoint, non-adjacent `[start, end)` ranges.
    ranges: Vec<(u64, u64)>,
    max_ranges: usize,
}

/// Too many holes: the segment cannot be remembered (it is dropped; the peer retransmits it).
#[derive(Debug, PartialEq, Eq)]
pub struct TooManyHoles;

impl Assembler {
    pub fn new(max_ranges: usize) -> Self {
        Assembler {
            ranges: Vec::new(),
            max_ranges,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Records `[start, end)` as received, merging with neighbours.
    pub fn add(&mut self, start: u64, end: u64) -> Result<(), TooManyHoles> {
        if start >= end {
            return Ok(());
        }
        // First range whose end reaches `start` (could merge).
        let first = self.ranges.partition_point(|&(_, e)| e < start);
        // Ranges [first, last) overlap or touch [start, end).
        let last = first + self.ranges[first..].partition_point(|&(s, _)| s <= end);
        if first == last {
            if self.ranges.len() >= self.max_ranges {
                return Err(TooManyHoles);
            }
            if self.ranges.capacity() == 0 {
                // Once, for the whole episode: no reallocation while holes come and go.
                self.ranges.reserve_exact(self.max_ranges);
            }
            self.ranges.insert(first, (start, end));
        } else {
            let merged = (
                start.min(self.ranges[first].0),
                end.max(self.ranges[last - 1].1),
            );
            self.ranges[first] = merged;
            self.ranges.drain(first + 1..last);
        }
        Ok(())
    }

    /// If a range starts at or before `at`, removes it and returns its end: the new in-order edge.
    pub fn pop_contiguous(&mut self, at: u64) -> Option<u64> {
        match self.ranges.first() {
            Some(&(s, e)) if s <= at => {
                self.ranges.remove(0);
                if self.ranges.is_empty() {
                    self.ranges = Vec::new();
                }
                Some(e.max(at))
            }
            _ => None,
        }
    }

    /// Whether `[start, end)` is already held in full (a duplicate, RFC 2883).
    pub fn covers(&self, start: u64, end: u64) -> bool {
        let i = self.ranges.partition_point(|&(_, e)| e < end);
        self.ranges
            .get(i)
            .is_some_and(|&(s, e)| s <= start && end <= e)
    }

    /// Bytes of memory held for the bookkeeping.
    pub fn allocated(&self) -> usize {
        self.ranges.capacity() * core::mem::size_of::<(u64, u64)>()
    }

    /// Ranges held, lowest first (for SACK blocks and tests).
    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_overlapping_and_adjacent_ranges() {
        let mut a = Assembler::new(4);
        a.add(10, 20).unwrap();
        a.add(30, 40).unwrap();
        a.add(20, 30).unwrap();
        assert_eq!(a.ranges(), &[(10, 40)]);
        a.add(5, 12).unwrap();
        a.add(50, 60).unwrap();
        assert_eq!(a.ranges(), &[(5, 40), (50, 60)]);
        assert_eq!(a.pop_contiguous(4), None);
        assert_eq!(a.pop_contiguous(7), Some(40));
        assert_eq!(a.ranges(), &[(50, 60)]);
    }

    #[test]
    fn bounded_number_of_holes() {
        let mut a = Assembler::new(2);
        a.add(10, 11).unwrap();
        a.add(20, 21).unwrap();
        assert_eq!(a.add(30, 31), Err(TooManyHoles));
        // Merging into an existing range is still fine.
        a.add(11, 15).unwrap();
        assert_eq!(a.ranges(), &[(10, 15), (20, 21)]);
    }

    #[test]
    fn holds_memory_only_while_there_is_a_hole() {
        let mut a = Assembler::new(32);
        assert_eq!(
            a.allocated(),
            0,
            "nothing before anything arrives out of order"
        );
        a.add(100, 200).unwrap();
        assert_eq!(a.allocated(), 32 * 16);
        a.add(300, 400).unwrap();
        assert_eq!(a.allocated(), 32 * 16, "one allocation per episode");
        assert_eq!(a.pop_contiguous(100), Some(200));
        assert!(a.allocated() > 0, "a hole is still open");
        assert_eq!(a.pop_contiguous(300), Some(400));
        assert_eq!(a.allocated(), 0, "released when the last hole closes");
    }
}
