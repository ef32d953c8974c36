//! Every connection's next deadline, earliest first: an indexed binary min-heap. Each
//! connection has at most one entry, which moves (earlier or later) or goes away the moment
//! its deadline does, so nothing stale is ever popped: a handshake whose SYN-ACK timer stops
//! leaves nothing behind, and a million idle connections cost no wake-ups. Set, move and
//! remove are O(log n); the earliest deadline is O(1).

use crate::slab::Key;
use crate::time::Instant;

/// Marks a slab index with no entry in `pos`.
const ABSENT: u32 = u32::MAX;

#[derive(Debug, Default)]
pub struct Deadlines {
    /// The heap: `heap[i]` is no later than its children `2i+1` and `2i+2`.
    heap: Vec<(Instant, Key)>,
    /// `pos[key.index]`: where that connection's entry is in `heap`, or `ABSENT`.
    pos: Vec<u32>,
}

impl Deadlines {
    /// Sets `key`'s deadline (inserting, moving or, with `None`, removing its entry).
    pub fn set(&mut self, key: Key, at: Option<Instant>) {
        let slot = key.index as usize;
        let current = self.pos.get(slot).copied().unwrap_or(ABSENT);
        match (current, at) {
            (ABSENT, None) => {}
            (ABSENT, Some(t)) => {
                if self.pos.len() <= slot {
                    self.pos.resize(slot + 1, ABSENT);
                }
                self.heap.push((t, key));
                let i = self.heap.len() - 1;
                self.pos[slot] = i as u32;
                self.sift_up(i);
            }
            (i, None) => self.remove_at(i as usize),
            (i, Some(t)) => {
                let i = i as usize;
                let old = self.heap[i].0;
                // A slot reused by another connection takes over the entry.
                self.heap[i] = (t, key);
                if t < old {
                    self.sift_up(i);
                } else if t > old {
                    self.sift_down(i);
                }
            }
        }
    }

    /// `key`'s deadline, if it has one.
    pub fn get(&self, key: Key) -> Option<Instant> {
        let i = *self.pos.get(key.index as usize)?;
        let &(t, held) = self.heap.get(i as usize)?;
        (held == key).then_some(t)
    }

    /// The earliest deadline and whose it is.
    pub fn first(&self) -> Option<(Instant, Key)> {
        self.heap.first().copied()
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Key> {
        let (t, key) = self.first()?;
        if t > now {
            return None;
        }
        self.remove_at(0);
        Some(key)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    fn remove_at(&mut self, i: usize) {
        let last = self.heap.len() - 1;
        self.swap(i, last);
        if let Some((_, key)) = self.heap.pop() {
            self.pos[key.index as usize] = ABSENT;
        }
        if i < self.heap.len() {
            self.sift_down(i);
            self.sift_up(i);
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.pos[self.heap[a].1.index as usize] = a as u32;
        self.pos[self.heap[b].1.index as usize] = b as u32;
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.heap[parent].0 <= self.heap[i].0 {
                break;
            }
            self.swap(i, parent);
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut least = i;
            if l < self.heap.len() && self.heap[l].0 < self.heap[least].0 {
                least = l;
            }
            if r < self.heap.len() && self.heap[r].0 < self.heap[least].0 {
                least = r;
            }
            if least == i {
                break;
            }
            self.swap(i, least);
            i = least;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(index: u32) -> Key {
        Key {
            index,
            generation: 0,
        }
    }

    fn ms(t: u64) -> Instant {
        Instant::from_millis(t)
    }

    fn drain(d: &mut Deadlines) -> Vec<u32> {
        std::iter::from_fn(|| d.pop_due(ms(1 << 40)))
            .map(|k| k.index)
            .collect()
    }

    #[test]
    fn pops_in_deadline_order_and_only_when_due() {
        let mut d = Deadlines::default();
        for (i, t) in [(0, 50), (1, 10), (2, 30), (3, 20), (4, 40)] {
            d.set(key(i), Some(ms(t)));
        }
        assert_eq!(d.first(), Some((ms(10), key(1))));
        assert_eq!(d.pop_due(ms(9)), None);
        assert_eq!(d.pop_due(ms(10)), Some(key(1)));
        assert_eq!(drain(&mut d), [3, 2, 4, 0]);
        assert_eq!(d.len(), 0);
    }

    #[test]
    fn a_moved_deadline_leaves_no_stale_entry() {
        let mut d = Deadlines::default();
        d.set(key(0), Some(ms(100)));
        d.set(key(1), Some(ms(200)));
        // Earlier, then later than the other: one entry each, always.
        d.set(key(0), Some(ms(50)));
        d.set(key(0), Some(ms(300)));
        assert_eq!(d.len(), 2);
        assert_eq!(drain(&mut d), [1, 0]);
    }

    #[test]
    fn a_stopped_timer_is_gone_at_once() {
        let mut d = Deadlines::default();
        for i in 0..100 {
            d.set(key(i), Some(ms(1000 + u64::from(i))));
        }
        for i in (0..100).step_by(2) {
            d.set(key(i), None);
        }
        assert_eq!(d.len(), 50);
        let order = drain(&mut d);
        assert_eq!(order, (1..100).step_by(2).collect::<Vec<_>>());
        // Removing what is absent is nothing.
        d.set(key(7), None);
        assert_eq!(d.len(), 0);
    }

    #[test]
    fn agrees_with_a_sorted_list_under_random_updates() {
        let mut d = Deadlines::default();
        let mut model: Vec<Option<u64>> = vec![None; 64];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let i = (x % 64) as usize;
            let at = (x >> 8) % 5 != 0;
            let t = (x >> 16) % 1000;
            let at = at.then_some(t);
            d.set(key(i as u32), at.map(ms));
            model[i] = at;
            let want = model
                .iter()
                .enumerate()
                .filter_map(|(i, t)| t.map(|t| (t, i)))
                .min();
            let got = d.first().map(|(t, k)| (t.total_millis(), k.index as usize));
            assert_eq!(got.map(|g| g.0), want.map(|w| w.0));
            assert_eq!(d.len(), model.iter().flatten().count());
            assert_eq!(d.get(key(i as u32)), at.map(ms));
        }
    }
}
