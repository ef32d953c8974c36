//! A slab with generation-checked handles: O(1) insert, lookup and removal, and a stale handle
//! (to a freed and reused slot) is detected instead of silently naming another object.

#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

#[derive(Debug)]
pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
    /// Generation of new slots: above every generation a slot given back had, so no key
    /// from before a shrink names a slot made after it.
    floor: u32,
}

/// A slab that empties gives its memory back once it has grown past this many slots (a
/// burst of connections that all ended; below this, keeping the slots avoids churn).
const SHRINK_SLOTS: usize = 64;

/// Index plus generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub index: u32,
    pub generation: u32,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            floor: 0,
        }
    }
}

impl<T> Slab<T> {
    pub fn insert(&mut self, value: T) -> Key {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.value = Some(value);
            return Key {
                index,
                generation: slot.generation,
            };
        }
        let index = self.slots.len() as u32;
        self.slots.push(Slot {
            generation: self.floor,
            value: Some(value),
        });
        Key {
            index,
            generation: self.floor,
        }
    }

    pub fn get(&self, key: Key) -> Option<&T> {
        let slot = self.slots.get(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        slot.value.as_ref()
    }

    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        slot.value.as_mut()
    }

    pub fn remove(&mut self, key: Key) -> Option<T> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(key.index);
        self.len -= 1;
        if self.len == 0 && self.slots.len() > SHRINK_SLOTS {
            self.give_back();
        }
        Some(value)
    }

    /// Frees the memory of an empty slab (one pass, after as many removals as slots).
    fn give_back(&mut self) {
        let highest = self.slots.iter().map(|s| s.generation).max().unwrap_or(0);
        self.floor = self.floor.max(highest).wrapping_add(1);
        self.slots = Vec::new();
        self.free = Vec::new();
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Live entries in index order (diagnostics and shutdown only; never on the hot path).
    pub fn iter(&self) -> impl Iterator<Item = (Key, &T)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            s.value.as_ref().map(|v| {
                (
                    Key {
                        index: i as u32,
                        generation: s.generation,
                    },
                    v,
                )
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_keys_do_not_alias_reused_slots() {
        let mut s = Slab::default();
        let a = s.insert("a");
        assert_eq!(s.remove(a), Some("a"));
        let b = s.insert("b");
        assert_eq!(a.index, b.index);
        assert_eq!(s.get(a), None);
        assert_eq!(s.get(b), Some(&"b"));
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn an_emptied_slab_gives_its_memory_back_and_old_keys_stay_dead() {
        let mut s = Slab::default();
        let keys: Vec<Key> = (0..1000).map(|i| s.insert(i)).collect();
        for &k in &keys {
            s.remove(k);
        }
        assert_eq!(s.slots.capacity(), 0);
        assert_eq!(s.free.capacity(), 0);
        let fresh = s.insert(7);
        assert_eq!(fresh.index, 0);
        for &k in &keys {
            assert_eq!(s.get(k), None, "{k:?} names a slot made after the shrink");
        }
        assert_eq!(s.get(fresh), Some(&7));
    }
}
