//! Idle buffers give their memory back. Autotuning may grow a connection's buffers to several
//! MiB; once the peer has been quiet for `QUIET` and a buffer is empty (everything sent was
//! acknowledged, everything received was read), its storage is freed and grows again on
//! demand; so is the sent-segment record, whose capacity follows the largest flight (96 KiB
//! after a 4 MiB one). Linux frees socket memory skb by skb as data is acknowledged or read;
//! our buffer is one ring, which freed on every drain would be reallocated (and regrown by
//! doubling) many times a second in a steady transfer, hence the wait. The limits autotuning
//! reached are kept, as Linux keeps sk_sndbuf and sk_rcvbuf.

use super::tcb::{Shared, Tcb};
use crate::time::{Duration, Instant};
use crate::trace::TimerKind;

/// Peer silence after which empty buffers are freed: far above the ACK clock of any transfer
/// in progress, short enough that an idle server's memory follows its load within a second.
pub(super) const QUIET: Duration = Duration::from_secs(1);

impl Shared {
    /// Arms the reclaim timer for when the peer will have been quiet for `QUIET`.
    pub(super) fn reclaim_when_quiet(&mut self, now: Instant) {
        let due = self.last_recv + QUIET;
        self.timers.set_if_idle(TimerKind::Reclaim, due.max(now));
    }
}

impl Tcb {
    /// A buffer has just become empty: arms the reclaim timer if it holds memory.
    pub(super) fn reclaim_later(&mut self, now: Instant) {
        let holds_memory = self.state.sender().is_some_and(|s| {
            s.buf.is_empty() && (s.buf.allocated() > 0 || s.board.allocated() > 0)
        }) || self
            .state
            .receiver()
            .is_some_and(|r| r.buf.is_empty() && r.buf.allocated() > 0);
        if holds_memory {
            self.shared.reclaim_when_quiet(now);
        }
    }

    /// The reclaim timer fired: frees the empty buffers if the peer stayed quiet, else waits
    /// (while a buffer is still empty) until it has been quiet for `QUIET`.
    pub(super) fn on_reclaim_timeout(&mut self, now: Instant) {
        self.shared.timers.stop(TimerKind::Reclaim);
        if self.shared.last_recv + QUIET > now {
            self.reclaim_later(now);
            return;
        }
        if let Some(snd) = self.state.sender_mut() {
            snd.buf.release();
            snd.board.release();
        }
        if let Some(rcv) = self.state.receiver_mut() {
            rcv.release_if_idle();
        }
    }
}
