//! One deadline slot per kind of connection timer (the shape of quinn-proto's `TimerTable`), so
//! `poll_timeout` is a minimum over one array and no deadline lives loose in a field.

use crate::time::Instant;
use crate::trace::TimerKind;

const KINDS: usize = TimerKind::ALL.len();

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct TimerTable {
    slots: [Option<Instant>; KINDS],
    /// The earliest slot, kept up to date: `next` is asked after every call into a
    /// connection, far more often than a timer changes.
    earliest: Option<Instant>,
}

fn index(kind: TimerKind) -> usize {
    match kind {
        TimerKind::Retransmit => 0,
        TimerKind::DelayedAck => 1,
        TimerKind::Persist => 2,
        TimerKind::KeepAlive => 3,
        TimerKind::TimeWait => 4,
        TimerKind::FinWait2 => 5,
        TimerKind::LossProbe => 6,
        TimerKind::Reorder => 7,
        TimerKind::Reclaim => 8,
    }
}

impl TimerTable {
    pub fn set(&mut self, kind: TimerKind, at: Instant) {
        let old = self.slots[index(kind)].replace(at);
        if self.earliest.is_none_or(|e| at < e) {
            self.earliest = Some(at);
        } else if old == self.earliest {
            self.recompute();
        }
    }

    /// Arms `kind` unless it is already running.
    pub fn set_if_idle(&mut self, kind: TimerKind, at: Instant) {
        if self.slots[index(kind)].is_none() {
            self.set(kind, at);
        }
    }

    pub fn stop(&mut self, kind: TimerKind) {
        let old = self.slots[index(kind)].take();
        if old.is_some() && old == self.earliest {
            self.recompute();
        }
    }

    fn recompute(&mut self) {
        let mut next: Option<Instant> = None;
        for t in self.slots.iter().flatten() {
            if next.is_none_or(|n| *t < n) {
                next = Some(*t);
            }
        }
        self.earliest = next;
    }

    pub fn get(&self, kind: TimerKind) -> Option<Instant> {
        self.slots[index(kind)]
    }

    pub fn is_set(&self, kind: TimerKind) -> bool {
        self.get(kind).is_some()
    }

    /// Whether `kind` is the one timer running.
    pub fn only(&self, kind: TimerKind) -> bool {
        let i = index(kind);
        self.slots[i].is_some()
            && self
                .slots
                .iter()
                .enumerate()
                .all(|(j, s)| j == i || s.is_none())
    }

    /// Whether `kind` is set and due at `now`.
    pub fn is_due(&self, kind: TimerKind, now: Instant) -> bool {
        self.get(kind).is_some_and(|t| t <= now)
    }

    /// Stops every timer.
    pub fn stop_all(&mut self) {
        self.slots = [None; KINDS];
        self.earliest = None;
    }

    /// The earliest deadline of any timer.
    pub fn next(&self) -> Option<Instant> {
        self.earliest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_the_earliest_set_slot() {
        let mut t = TimerTable::default();
        assert_eq!(t.next(), None);
        t.set(TimerKind::Retransmit, Instant::from_millis(300));
        t.set(TimerKind::DelayedAck, Instant::from_millis(40));
        assert_eq!(t.next(), Some(Instant::from_millis(40)));
        t.stop(TimerKind::DelayedAck);
        assert_eq!(t.next(), Some(Instant::from_millis(300)));
        t.set_if_idle(TimerKind::Retransmit, Instant::from_millis(900));
        assert_eq!(
            t.get(TimerKind::Retransmit),
            Some(Instant::from_millis(300))
        );
        assert!(t.is_due(TimerKind::Retransmit, Instant::from_millis(300)));
        assert!(!t.is_due(TimerKind::Persist, Instant::from_millis(300)));
        t.stop_all();
        assert_eq!(t.next(), None);
    }

    #[test]
    fn the_earliest_follows_every_change() {
        let mut t = TimerTable::default();
        t.set(TimerKind::Retransmit, Instant::from_millis(300));
        t.set(TimerKind::Persist, Instant::from_millis(100));
        // Moving the earliest later makes another one the earliest.
        t.set(TimerKind::Persist, Instant::from_millis(500));
        assert_eq!(t.next(), Some(Instant::from_millis(300)));
        t.stop(TimerKind::Retransmit);
        assert_eq!(t.next(), Some(Instant::from_millis(500)));
        t.stop(TimerKind::KeepAlive);
        assert_eq!(t.next(), Some(Instant::from_millis(500)));
        t.stop(TimerKind::Persist);
        assert_eq!(t.next(), None);
    }
}
