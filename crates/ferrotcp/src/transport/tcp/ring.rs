//! A byte ring with a fixed limit. The send buffer holds unacknowledged and unsent bytes; the
//! receive buffer holds in-order unread bytes followed by room for out-of-order data.
//!
//! Storage grows on demand up to the limit (a connection that moves a few bytes never touches
//! 256 KiB of memory) and can be released once empty (an idle connection, TIME-WAIT).

use crate::wire::checksum;

#[derive(Debug)]
pub struct Ring {
    storage: Vec<u8>,
    limit: usize,
    head: usize,
    len: usize,
}

/// First allocation; doubling from here reaches any limit in a few steps.
const INITIAL: usize = 4096;

impl Ring {
    pub fn new(limit: usize) -> Self {
        Ring {
            storage: Vec::new(),
            limit,
            head: 0,
            len: 0,
        }
    }

    /// The most the ring may hold.
    pub fn capacity(&self) -> usize {
        self.limit
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Bytes of memory the ring holds now (grows on demand, given back by `release`).
    pub fn allocated(&self) -> usize {
        self.storage.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn free(&self) -> usize {
        self.limit - self.len
    }

    /// Makes the storage cover logical positions `[0, end)`, keeping every byte (stored and
    /// out-of-order) at its logical position.
    fn reserve(&mut self, end: usize) {
        let have = self.storage.len();
        if end <= have {
            return;
        }
        let size = end.max(have * 2).max(INITIAL).min(self.limit);
        let mut grown = Vec::with_capacity(size);
        grown.extend_from_slice(&self.storage[self.head..]);
        grown.extend_from_slice(&self.storage[..self.head]);
        grown.resize(size, 0);
        self.storage = grown;
        self.head = 0;
    }

    /// Raises the limit (never below what is stored); storage still grows on demand.
    pub fn grow_limit(&mut self, limit: usize) {
        self.limit = self.limit.max(limit);
    }

    /// Gives the memory back while nothing is stored (and no out-of-order bytes are pending).
    pub fn release(&mut self) {
        if self.len == 0 {
            self.storage = Vec::new();
            self.head = 0;
        }
    }

    /// Physical index of logical `offset` from the head.
    fn index(&self, offset: usize) -> usize {
        let cap = self.storage.len();
        let i = self.head + offset;
        if i >= cap { i - cap } else { i }
    }

    /// Appends as much of `data` as fits; returns how much.
    pub fn enqueue(&mut self, data: &[u8]) -> usize {
        let n = self.write_unallocated(0, data);
        self.len += n;
        n
    }

    /// Writes `data` at `offset` bytes past the end of the stored bytes, without making them part
    /// of the ring yet (out-of-order data). Returns how many bytes fit.
    pub fn write_unallocated(&mut self, offset: usize, data: &[u8]) -> usize {
        let room = self.free().saturating_sub(offset);
        let n = data.len().min(room);
        if n == 0 {
            return 0;
        }
        self.reserve(self.len + offset + n);
        let start = self.index(self.len + offset);
        let first = n.min(self.storage.len() - start);
        self.storage[start..start + first].copy_from_slice(&data[..first]);
        self.storage[..n - first].copy_from_slice(&data[first..n]);
        n
    }

    /// Makes `n` bytes previously written with `write_unallocated(0, ..)` part of the ring.
    pub fn commit(&mut self, n: usize) {
        self.len = (self.len + n).min(self.storage.len());
    }

    /// Copies up to `dst.len()` bytes starting at `offset` from the head, without removing them.
    pub fn read_at(&self, offset: usize, dst: &mut [u8]) -> usize {
        let n = dst.len().min(self.len.saturating_sub(offset));
        if n == 0 {
            return 0;
        }
        let start = self.index(offset);
        let first = n.min(self.storage.len() - start);
        dst[..first].copy_from_slice(&self.storage[start..start + first]);
        dst[first..n].copy_from_slice(&self.storage[..n - first]);
        n
    }

    /// Appends `len` bytes starting at `offset` from the head to `out` (at most what is stored).
    pub fn append_to(&self, offset: usize, len: usize, out: &mut Vec<u8>) -> usize {
        let n = len.min(self.len.saturating_sub(offset));
        if n == 0 {
            return 0;
        }
        let start = self.index(offset);
        let first = n.min(self.storage.len() - start);
        out.extend_from_slice(&self.storage[start..start + first]);
        out.extend_from_slice(&self.storage[..n - first]);
        n
    }

    /// [`append_to`](Self::append_to) that also returns the checksum sum of the bytes
    /// appended ([`checksum::sum`](crate::wire::checksum::sum)), read once on their way.
    pub fn append_summed(&self, offset: usize, len: usize, out: &mut Vec<u8>) -> (usize, u64) {
        let n = len.min(self.len.saturating_sub(offset));
        if n == 0 {
            return (0, 0);
        }
        let start = self.index(offset);
        let first = n.min(self.storage.len() - start);
        let head = checksum::copy_and_sum(out, &self.storage[start..start + first]);
        let mut tail = checksum::copy_and_sum(out, &self.storage[..n - first]);
        if first % 2 == 1 {
            tail = checksum::sum_at_odd_offset(tail);
        }
        (n, head + tail)
    }

    /// The stored bytes from the head up to the wrap point: what a borrowed read can see
    /// without a copy (the rest follows once these are consumed).
    pub fn readable(&self) -> &[u8] {
        let end = (self.head + self.len).min(self.storage.len());
        &self.storage[self.head.min(end)..end]
    }

    /// The free room right after the stored bytes, up to the wrap point (growing the storage
    /// first if it is full and the limit allows): where a borrowed write puts its bytes before
    /// `commit`. Send side only: a receive ring keeps out-of-order bytes there.
    pub fn writable(&mut self) -> &mut [u8] {
        if self.free() == 0 {
            return &mut [];
        }
        self.reserve(self.len + 1);
        let cap = self.storage.len();
        let tail = self.head + self.len;
        if tail < cap {
            &mut self.storage[tail..]
        } else {
            let tail = tail - cap;
            &mut self.storage[tail..self.head]
        }
    }

    /// Drops `n` bytes from the head.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.head = self.index(n);
        // The head is not reset when the ring empties: out-of-order bytes may already sit
        // past the end, at positions relative to head + len.
        self.len -= n;
    }

    /// Copies out and removes up to `dst.len()` bytes.
    pub fn dequeue(&mut self, dst: &mut [u8]) -> usize {
        let n = self.read_at(0, dst);
        self.consume(n);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_summed_across_the_wrap_at_any_parity() {
        // A 4 KiB ring whose stored bytes wrap after an odd or even number of bytes.
        for head in [0usize, 1, 2, 3, 4001, 4002] {
            let mut r = Ring::new(INITIAL);
            let filler = vec![0u8; head];
            r.enqueue(&filler);
            r.consume(head);
            let data: Vec<u8> = (0..3000u32).map(|i| (i * 13 + 5) as u8).collect();
            assert_eq!(r.enqueue(&data), data.len());
            for (offset, len) in [(0, 3000), (1, 1460), (7, 2000), (1500, 1500)] {
                let mut plain = vec![9u8; 10];
                r.append_to(offset, len, &mut plain);
                let mut summed = vec![9u8; 10];
                let (n, sum) = r.append_summed(offset, len, &mut summed);
                assert_eq!(summed, plain, "head {head} offset {offset}");
                assert_eq!(n, len);
                let expected = checksum::sum(&data[offset..offset + len]);
                assert_eq!(
                    checksum::fold(sum),
                    checksum::fold(expected),
                    "head {head} offset {offset} len {len}"
                );
            }
        }
    }

    #[test]
    fn wraps_around_and_keeps_order() {
        let mut r = Ring::new(8);
        assert_eq!(r.enqueue(b"abcdef"), 6);
        let mut out = [0u8; 4];
        assert_eq!(r.dequeue(&mut out), 4);
        assert_eq!(&out, b"abcd");
        assert_eq!(r.enqueue(b"ghijklmn"), 6);
        let mut all = [0u8; 8];
        assert_eq!(r.read_at(0, &mut all), 8);
        assert_eq!(&all, b"efghijkl");
        assert_eq!(r.free(), 0);
    }

    #[test]
    fn out_of_order_write_then_commit() {
        let mut r = Ring::new(8);
        assert_eq!(r.write_unallocated(3, b"xyz"), 3);
        assert_eq!(r.write_unallocated(0, b"abc"), 3);
        r.commit(6);
        let mut out = [0u8; 6];
        assert_eq!(r.dequeue(&mut out), 6);
        assert_eq!(&out, b"abcxyz");
        assert_eq!(r.write_unallocated(7, b"toolong"), 1);
    }

    #[test]
    fn grows_on_demand_keeping_wrapped_and_out_of_order_bytes() {
        let mut r = Ring::new(64 * 1024);
        assert_eq!(r.enqueue(&[1u8; 3000]), 3000);
        let mut out = vec![0u8; 2000];
        r.dequeue(&mut out);
        // Wraps inside the first 4 KiB, then an out-of-order write forces growth.
        assert_eq!(r.enqueue(&[2u8; 2500]), 2500);
        assert_eq!(r.write_unallocated(100, &[3u8; 10_000]), 10_000);
        let mut all = vec![0u8; 3500];
        assert_eq!(r.read_at(0, &mut all), 3500);
        assert!(all[..1000].iter().all(|&b| b == 1) && all[1000..].iter().all(|&b| b == 2));
        r.write_unallocated(0, &[4u8; 100]);
        r.commit(10_100);
        let mut rest = vec![0u8; 10_100];
        assert_eq!(r.read_at(3500, &mut rest), 10_100);
        assert!(rest[..100].iter().all(|&b| b == 4) && rest[100..].iter().all(|&b| b == 3));
        assert_eq!(r.free(), 64 * 1024 - 13_600);
    }

    #[test]
    fn release_frees_storage_only_when_empty() {
        let mut r = Ring::new(1 << 20);
        r.enqueue(b"abc");
        r.release();
        assert_eq!(r.len(), 3);
        let mut out = [0u8; 3];
        r.dequeue(&mut out);
        r.release();
        assert_eq!(r.enqueue(b"xyz"), 3);
        r.read_at(0, &mut out);
        assert_eq!(&out, b"xyz");
    }

    #[test]
    fn emptying_keeps_out_of_order_bytes_in_place() {
        let mut r = Ring::new(8);
        r.enqueue(b"ab");
        r.write_unallocated(2, b"zz");
        let mut out = [0u8; 2];
        r.dequeue(&mut out);
        r.write_unallocated(0, b"xy");
        r.commit(4);
        let mut all = [0u8; 4];
        assert_eq!(r.dequeue(&mut all), 4);
        assert_eq!(&all, b"xyzz");
    }

    #[test]
    fn borrowed_reads_and_writes_see_the_same_bytes_as_copies() {
        let mut r = Ring::new(10_000);
        assert!(r.readable().is_empty());
        let room = r.writable();
        assert_eq!(room.len(), INITIAL, "grown to the first allocation");
        room[..5].copy_from_slice(b"hello");
        r.commit(5);
        assert_eq!(r.readable(), b"hello");
        r.consume(2);
        assert_eq!(r.readable(), b"llo");
        // Fill to the wrap point, then the room continues at the start, before the head.
        let n = r.writable().len();
        assert_eq!(n, INITIAL - 5);
        r.writable().fill(7);
        r.commit(n);
        assert_eq!(r.writable().len(), 2, "the two bytes freed at the head");
        r.writable().copy_from_slice(b"ab");
        r.commit(2);
        assert_eq!(r.len(), INITIAL);
        assert_eq!(r.readable().len(), INITIAL - 2, "up to the wrap point");
        let mut all = vec![0u8; INITIAL];
        assert_eq!(r.read_at(0, &mut all), INITIAL);
        assert_eq!(&all[..3], b"llo");
        assert_eq!(&all[INITIAL - 2..], b"ab");
        // Full storage below the limit grows (keeping the bytes in order) before lending room.
        assert!(!r.writable().is_empty());
        let mut again = vec![0u8; INITIAL];
        assert_eq!(r.read_at(0, &mut again), INITIAL);
        assert_eq!(again, all);
    }
}
