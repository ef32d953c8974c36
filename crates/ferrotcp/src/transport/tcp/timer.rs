//! One deadline slot per kind of connection timer (the shape of quinn-proto's `TimerTable`), so
//! `poll_timeout` is a minimum over one array and no deadline lives loose in a field.

use crate::time::Instant;
use crate::trace::TimerKind;

const KINDS: usize = TimerKind::ALL.len();

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct TimerTable {
    slots: [Option<Instant>; KINDS],
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
    }
}

impl TimerTable {
    pub fn set(&mut self, kind: TimerKind, at: Instant) {
        self.slots[index(kind)] = Some(at);
    }

    /// Arms `kind` unless it is already running.
    pub fn set_if_idle(&mut self, kind: TimerKind, at: Instant) {
        let slot = &mut self.slots[index(kind)];
        if slot.is_none() {
            *slot = Some(at);
        }
    }

    pub fn stop(&mut self, kind: TimerKind) {
        self.slots[index(kind)] = None;
    }

    pub fn get(&self, kind: TimerKind) -> Option<Instant> {
        self.slots[index(kind)]
    }

    pub fn is_set(&self, kind: TimerKind) -> bool {
        self.get(kind).is_some()
    }

    /// Whether `kind` is set and due at `now`.
    pub fn is_due(&self, kind: TimerKind, now: Instant) -> bool {
        self.get(kind).is_some_and(|t| t <= now)
    }

    /// Stops every timer.
    pub fn stop_all(&mut self) {
        self.slots = [None; KINDS];
    }

    /// The earliest deadline of any timer.
    pub fn next(&self) -> Option<Instant> {
        self.slots.iter().flatten().min().copied()
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
}
