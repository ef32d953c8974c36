//! Connection timers: retransmission (RFC 6298), persist (zero-window probes), delayed ACK,
//! keep-alive and TIME-WAIT. The stack keeps one heap entry per connection; `poll_timeout` is the
//! earliest deadline, `handle_timeout` runs whatever is due.

use super::congestion::CongestionControl;
use super::error::CloseReason;
use super::state::State;
use super::tcb::{AckUrgency, Notify, Tcb};
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
        let mut next: Option<Instant> = None;
        let mut consider = |t: Option<Instant>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        consider(self.rtx_deadline);
        consider(self.persist_deadline);
        if let AckUrgency::Delayed(t) = self.ack {
            consider(Some(t));
        }
        consider(self.keepalive_due());
        if let State::TimeWait { until } = self.state {
            consider(Some(until));
        }
        if self.state == State::FinWait2 {
            consider(self.fin_wait2_deadline);
        }
        next
    }

    /// Keep-alive probes only while the connection is idle and synchronized (RFC 9293 §3.8.4).
    fn keepalive_due(&self) -> Option<Instant> {
        let ka = self.keepalive?;
        match self.state {
            State::Established | State::CloseWait | State::FinWait2 => {
                Some(self.last_recv + ka.idle + ka.interval * self.keepalive_probes)
            }
            State::SynSent
            | State::SynReceived { .. }
            | State::FinWait1
            | State::Closing
            | State::LastAck
            | State::TimeWait { .. }
            | State::Closed(_) => None,
        }
    }

    /// Runs the timers due at `now`; reports which fired through `fired`.
    pub fn handle_timeout(
        &mut self,
        now: Instant,
        mut limits: RetryLimits,
        fired: &mut impl FnMut(TimerKind),
    ) {
        if let Some(r2) = self.r2_override {
            limits.r2 = r2;
        }
        if let State::TimeWait { until } = self.state
            && until <= now
        {
            fired(TimerKind::TimeWait);
            self.set_state(State::Closed(CloseReason::Normal));
            return;
        }
        if self.state == State::FinWait2
            && let Some(t) = self.fin_wait2_deadline
            && t <= now
        {
            fired(TimerKind::TimeWait);
            self.abort_with(CloseReason::TimedOut);
            return;
        }
        if let Some(t) = self.rtx_deadline
            && t <= now
        {
            fired(TimerKind::Retransmit);
            self.on_retransmit_timeout(now, limits);
            if self.is_closed() {
                return;
            }
        }
        if let Some(t) = self.persist_deadline
            && t <= now
        {
            fired(TimerKind::Persist);
            if self.unanswered_probes > limits.r2 {
                // MUST-36 keeps us probing only while the receiver answers.
                self.abort_with(CloseReason::TimedOut);
                return;
            }
            self.persist_deadline = None;
            self.persist_backoff = self.persist_backoff.saturating_add(1);
            self.probe_pending = true;
        }
        if let AckUrgency::Delayed(t) = self.ack
            && t <= now
        {
            fired(TimerKind::DelayedAck);
            self.ack = AckUrgency::Now;
        }
        if let (Some(t), Some(ka)) = (self.keepalive_due(), self.keepalive)
            && t <= now
        {
            fired(TimerKind::KeepAlive);
            if self.keepalive_probes >= ka.count {
                // RFC 9293 §3.8.4: no answer to `count` probes: the peer is gone (keep-alive tolerates lost ACKs up to then, MUST-29).
                self.abort_with(CloseReason::TimedOut);
                return;
            }
            self.keepalive_probes += 1;
            self.keepalive_pending = true;
        }
    }

    /// RFC 6298 §5.4–5.7 and RFC 9293 §3.8.3 (R1/R2, MUST-20..23).
    fn on_retransmit_timeout(&mut self, now: Instant, limits: RetryLimits) {
        self.stats.timeouts += 1;
        // The peer closed its window under data in flight: our retransmissions are window
        // probes. MUST-36: do not give up while the peer keeps answering (Linux allows the
        // peer to be silent for up to the maximum RTO before timing out).
        if self.snd_wnd == 0
            && self.state.is_synchronized()
            && now - self.last_recv <= self.rtt.max_rto()
        {
            self.rtt.back_off();
            self.rtt.cancel_timing();
            self.probe_pending = true;
            self.rtx_deadline = Some(now + self.rtt.rto());
            return;
        }
        let limit = if self.state.is_synchronized() {
            limits.r2
        } else {
            limits.syn_retries
        };
        if self.retries >= limit {
            self.abort_with(CloseReason::TimedOut);
            return;
        }
        self.retries += 1;
        if !self.state.is_synchronized() {
            self.syn_timed_out = true;
        }
        // MUST-20/22: R1 is reported for SYNs as for data.
        if self.retries == limits.r1 {
            self.notify(Notify::STALLED);
        }
        self.rtt.back_off();
        self.rtt.cancel_timing();
        let flight = self.snd_max - self.snd_una;
        if self.state.is_synchronized() {
            self.cc.on_rto(flight, self.mss);
        }
        // RFC 6582 §4 (after an RTO, `recover` is the highest sequence number sent).
        self.recovery = None;
        self.recover = self.snd_max;
        self.dup_acks = 0;
        self.rexmit_one = false;
        // Go back: resend from the oldest unacknowledged octet (SYN, data or FIN).
        self.snd_nxt = self.snd_una;
        self.rtx_deadline = Some(now + self.rtt.rto());
    }
}
