//! A fixed-capacity byte ring, allocated once. The send buffer holds unacknowledged and unsent
//! bytes; the receive buffer holds in-order unread bytes followed by room for out-of-order data.

#[derive(Debug)]
pub struct Ring {
    storage: Box<[u8]>,
    head: usize,
    len: usize,
}

impl Ring {
    pub fn new(capacity: usize) -> Self {
        Ring {
            storage: vec![0; capacity].into_boxed_slice(),
            head: 0,
            len: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.storage.len()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn free(&self) -> usize {
        self.capacity() - self.len
    }

    /// Physical index of logical `offset` from the head.
    fn index(&self, offset: usize) -> usize {
        let cap = self.capacity();
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
        let start = self.index(self.len + offset);
        let first = n.min(self.capacity() - start);
        self.storage[start..start + first].copy_from_slice(&data[..first]);
        self.storage[..n - first].copy_from_slice(&data[first..n]);
        n
    }

    /// Makes `n` bytes previously written with `write_unallocated(0, ..)` part of the ring.
    pub fn commit(&mut self, n: usize) {
        self.len = (self.len + n).min(self.capacity());
    }

    /// Copies up to `dst.len()` bytes starting at `offset` from the head, without removing them.
    pub fn read_at(&self, offset: usize, dst: &mut [u8]) -> usize {
        let n = dst.len().min(self.len.saturating_sub(offset));
        if n == 0 {
            return 0;
        }
        let start = self.index(offset);
        let first = n.min(self.capacity() - start);
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
        let first = n.min(self.capacity() - start);
        out.extend_from_slice(&self.storage[start..start + first]);
        out.extend_from_slice(&self.storage[..n - first]);
        n
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
}
