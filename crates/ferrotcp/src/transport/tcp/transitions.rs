//! The state changes a connection made since the stack last collected them (for the trace and
//! the events). The stack collects them after every call into the connection, so a handful is
//! the most there ever are; they live inline instead of in a per-connection allocation.

use crate::trace::TcpState;

/// More than any one call makes (a SYN,ACK with a FIN moves SYN-SENT → ESTABLISHED →
/// CLOSE-WAIT; an abort adds one more).
const CAPACITY: usize = 4;

#[derive(Clone, Copy, Debug)]
pub(super) struct Transitions {
    changes: [(TcpState, TcpState); CAPACITY],
    len: u8,
}

impl Default for Transitions {
    fn default() -> Self {
        Transitions {
            changes: [(TcpState::Closed, TcpState::Closed); CAPACITY],
            len: 0,
        }
    }
}

impl Transitions {
    /// Records `from → to`. Should a call ever make more changes than fit, the last one is
    /// stretched to end at `to`, so that the record still ends in the state the connection is in.
    pub fn push(&mut self, from: TcpState, to: TcpState) {
        let len = usize::from(self.len);
        if len < CAPACITY {
            self.changes[len] = (from, to);
            self.len += 1;
        } else {
            self.changes[CAPACITY - 1].1 = to;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Moves the recorded changes, oldest first, to the end of `out`.
    pub fn take_into(&mut self, out: &mut Vec<(TcpState, TcpState)>) {
        out.extend_from_slice(&self.changes[..usize::from(self.len)]);
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_come_out_in_order_and_once() {
        let mut t = Transitions::default();
        t.push(TcpState::SynSent, TcpState::Established);
        t.push(TcpState::Established, TcpState::CloseWait);
        let mut out = Vec::new();
        t.take_into(&mut out);
        assert_eq!(
            out,
            [
                (TcpState::SynSent, TcpState::Established),
                (TcpState::Established, TcpState::CloseWait)
            ]
        );
        assert!(t.is_empty());
        t.take_into(&mut out);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn an_overflow_still_ends_in_the_current_state() {
        use TcpState::*;
        let mut t = Transitions::default();
        let path = [SynSent, Established, FinWait1, Closing, TimeWait, Closed];
        for w in path.windows(2) {
            t.push(w[0], w[1]);
        }
        let mut out = Vec::new();
        t.take_into(&mut out);
        assert_eq!(out.len(), CAPACITY);
        assert_eq!(out[0], (SynSent, Established));
        assert_eq!(out.last(), Some(&(Closing, Closed)));
    }
}
