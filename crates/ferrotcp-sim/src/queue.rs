//! Frames in flight, ordered by arrival time and then by the order they were scheduled.
//!
//! The sequence number is the tie-breaker that makes same-instant arrivals FIFO and the whole run
//! reproducible; the frame bytes never take part in the ordering.

use core::cmp::Ordering;
use std::collections::BinaryHeap;

use ferrotcp::time::Instant;

use crate::node::HostId;

/// A frame on its way to `to`.
#[derive(Debug)]
pub(crate) struct InFlight {
    pub(crate) from: HostId,
    pub(crate) to: HostId,
    /// Index of the link direction carrying it (for its counters).
    pub(crate) dir: usize,
    pub(crate) id: u64,
    pub(crate) frame: Vec<u8>,
}

#[derive(Debug)]
struct Entry {
    time: Instant,
    seq: u64,
    item: InFlight,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    /// Reversed, so the max-heap pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// Min-heap of frames in flight keyed by `(arrival, insertion order)`.
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    heap: BinaryHeap<Entry>,
    next_seq: u64,
}

impl EventQueue {
    pub(crate) fn push(&mut self, time: Instant, item: InFlight) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { time, seq, item });
    }

    pub(crate) fn peek_time(&self) -> Option<Instant> {
        self.heap.peek().map(|e| e.time)
    }

    pub(crate) fn pop(&mut self) -> Option<(Instant, InFlight)> {
        self.heap.pop().map(|e| (e.time, e.item))
    }

    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: u64) -> InFlight {
        InFlight {
            from: HostId(0),
            to: HostId(1),
            dir: 0,
            id,
            frame: Vec::new(),
        }
    }

    #[test]
    fn pops_by_time_then_insertion_order() {
        let mut q = EventQueue::default();
        q.push(Instant::from_micros(5), item(0));
        q.push(Instant::from_micros(3), item(1));
        q.push(Instant::from_micros(5), item(2));
        q.push(Instant::from_micros(3), item(3));
        let order: Vec<u64> = core::iter::from_fn(|| q.pop().map(|(_, i)| i.id)).collect();
        assert_eq!(order, vec![1, 3, 0, 2]);
        assert_eq!(q.len(), 0);
    }
}
