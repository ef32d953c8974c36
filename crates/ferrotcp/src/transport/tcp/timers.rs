//! What happens when a connection timer fires: retransmission (RFC 6298), persist (zero-window
//! probes), delayed ACK, keep-alive, TIME-WAIT and the orphaned FIN-WAIT-2 limit. The deadlines
//! live in the connection's `TimerTable`; the stack keeps one heap entry per connection.

use super::error::CloseReason;
use super::tcb::{Notify, Tcb};
use crate::time::Instant;
use crate::trace::TimerKind;

/// Limits the timers need from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct RetryLimits {
    pub r1: u32,
    pub r2: u32,
    pub syn_retries: u32,
}

impl Tcb {
    /// Earliest instant at which `handle_timeout` has work to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.shared.timers.next()
    }

    /// Runs the timers due at `now`; reports which fired through `fired`.
    pub fn handle_timeout(
        &mut self,
        now: Instant,
        mut limits: RetryLimits,
        fired: &mut impl FnMut(TimerKind),
    ) {
        if let Some(r2) = self.shared.r2_override {
            limits.r2 = r2;
        }
        self.run_timers(now, limits, fired);
        self.shared.sync_keepalive(self.state.name());
    }

    fn run_timers(&mut self, now: Instant, limits: RetryLimits, fired: &mut impl FnMut(TimerKind)) {
        let timers = &mut self.shared.timers;
        if timers.is_due(TimerKind::TimeWait, now) {
            fired(TimerKind::TimeWait);
            self.goto(now, super::state::To::Closed(CloseReason::Normal));
            return;
        }
        if timers.is_due(TimerKind::FinWait2, now) {
            fired(TimerKind::FinWait2);
            self.abort_with(now, CloseReason::TimedOut);
            return;
        }
        if self.shared.timers.is_due(TimerKind::Retransmit, now) {
            fired(TimerKind::Retransmit);
            self.on_retransmit_timeout(now, limits);
            if self.is_closed() {
                return;
            }
        }
        if self.shared.timers.is_due(TimerKind::Reorder, now) {
            fired(TimerKind::Reorder);
            self.shared.timers.stop(TimerKind::Reorder);
            self.on_reorder_timeout(now);
        }
        if self.shared.timers.is_due(TimerKind::LossProbe, now) {
            fired(TimerKind::LossProbe);
            self.shared.timers.stop(TimerKind::LossProbe);
            if let Some(snd) = self.state.sender_mut()
                && snd.una != snd.max
                && !snd.recovery.tlp.in_flight()
            {
                snd.tlp_pending = true;
            }
        }
        if self.shared.timers.is_due(TimerKind::Persist, now) {
            fired(TimerKind::Persist);
            if let Some(snd) = self.state.sender_mut() {
                if snd.unanswered_probes > limits.r2 {
                    // MUST-36 keeps us probing only while the receiver answers.
                    self.abort_with(now, CloseReason::TimedOut);
                    return;
                }
                snd.persist_backoff = snd.persist_backoff.saturating_add(1);
                snd.probe_pending = true;
            }
            self.shared.timers.stop(TimerKind::Persist);
        }
        if self.shared.timers.is_due(TimerKind::DelayedAck, now) {
            fired(TimerKind::DelayedAck);
            self.shared.timers.stop(TimerKind::DelayedAck);
            self.ack_now();
        }
        if self.shared.timers.is_due(TimerKind::Reclaim, now) {
            fired(TimerKind::Reclaim);
            self.on_reclaim_timeout(now);
        }
        if self.shared.timers.is_due(TimerKind::KeepAlive, now)
            && let Some(ka) = self.shared.keepalive.config
        {
            fired(TimerKind::KeepAlive);
            if self.shared.keepalive.probes >= ka.count {
                // RFC 9293 §3.8.4: no answer to `count` probes: the peer is gone (keep-alive
                // tolerates lost ACKs up to then, MUST-29).
                self.abort_with(now, CloseReason::TimedOut);
                return;
            }
            self.shared.keepalive.probes += 1;
            self.shared.keepalive.pending = true;
        }
    }

    /// RFC 6298 §5.4–5.7 and RFC 9293 §3.8.3 (R1/R2, MUST-20..23).
    fn on_retransmit_timeout(&mut self, now: Instant, limits: RetryLimits) {
        self.shared.stats.timeouts += 1;
        let synchronized = self.state.is_synchronized();
        let last_recv = self.shared.last_recv;
        let Some(snd) = self.state.sender_mut() else {
            self.shared.timers.stop(TimerKind::Retransmit);
            return;
        };
        // The peer closed its window under data in flight: our retransmissions are window
        // probes. MUST-36: do not give up while the peer keeps answering (Linux allows the
        // peer to be silent for up to the maximum RTO before timing out).
        if snd.wnd == 0 && synchronized && now - last_recv <= snd.rtt.max_rto() {
            snd.rtt.back_off();
            snd.rtt.cancel_timing();
            snd.probe_pending = true;
            let rto = snd.rtt.rto();
            self.shared.timers.set(TimerKind::Retransmit, now + rto);
            return;
        }
        let limit = if synchronized {
            limits.r2
        } else {
            limits.syn_retries
        };
        if snd.retries >= limit {
            self.abort_with(now, CloseReason::TimedOut);
            return;
        }
        snd.retries += 1;
        if !synchronized {
            snd.syn.timed_out = true;
        }
        // MUST-20/22: R1 is reported for SYNs as for data.
        if snd.retries == limits.r1 {
            self.shared.notify(Notify::STALLED);
        }
        snd.rtt.back_off();
        snd.rtt.cancel_timing();
        if snd.board.is_empty() {
            // Only our SYN (or nothing) is outstanding: send it again.
            snd.nxt = snd.una;
        } else {
            // RFC 8985 §6.3: everything not SACKed is lost; slow start resends it, oldest first.
            let (max, mss) = (snd.max, snd.mss);
            let first = snd.retries == 1;
            snd.recovery
                .on_rto(&mut snd.cc, &mut snd.board, max, mss, now, first);
        }
        snd.tlp_pending = false;
        let rto = snd.rtt.rto();
        self.shared.timers.set(TimerKind::Retransmit, now + rto);
        self.shared.timers.stop(TimerKind::LossProbe);
        self.shared.timers.stop(TimerKind::Reorder);
    }

    /// RACK's reordering timer (RFC 8985 §6.2): segments waited out their window.
    fn on_reorder_timeout(&mut self, now: Instant) {
        let echo = None;
        let Some(snd) = self.state.sender_mut() else {
            return;
        };
        let ctx = super::rack::AckContext {
            now,
            dsack: false,
            una: snd.una,
            nxt: snd.max,
            echo,
        };
        let srtt = snd.rtt.srtt().unwrap_or(snd.rtt.rto());
        let verdict =
            snd.recovery
                .on_reorder_timeout(&mut snd.cc, &mut snd.board, &ctx, snd.mss, srtt);
        if verdict.entered_recovery {
            self.shared.stats.fast_retransmits += 1;
        }
        if let Some(t) = verdict.reorder_timeout {
            self.shared.timers.set(TimerKind::Reorder, now + t);
        }
    }
}
