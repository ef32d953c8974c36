//! Loss recovery: deciding from duplicate ACKs that a segment was lost, retransmitting it, and
//! steering the window while the loss is repaired. Today this is RFC 5681 §3.2 fast
//! retransmit with RFC 6582 NewReno fast recovery, RFC 3042 limited transmit and RFC 5827
//! early retransmit. The congestion controller only hears "a loss" (`on_congestion_event`)
//! and "new data acknowledged" outside recovery.

use super::congestion::{AckEvent, CongestionControl};
use crate::seq::SeqNum;
use crate::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Open,
    /// RFC 6582: repairing losses until everything sent before recovery began is acknowledged.
    FastRecovery,
}

#[derive(Clone, Debug)]
pub(super) struct Recovery {
    phase: Phase,
    /// RFC 6582 `recover`: the highest sequence number sent when recovery (or an RTO) began.
    recover: SeqNum,
    dup_acks: u32,
    /// RFC 3042: segments beyond cwnd allowed by the first duplicate ACKs.
    limited_transmit: u32,
    /// Send one segment at SND.UNA on the next poll (fast retransmit, partial ACK).
    retransmit_pending: bool,
}

/// What a duplicate ACK is judged against.
#[derive(Clone, Copy, Debug)]
pub(super) struct Outstanding {
    pub una: SeqNum,
    pub max: SeqNum,
    /// Sequence number of our FIN, or of the end of the queued data.
    pub fin_seq: SeqNum,
    pub mss: u32,
    pub now: Instant,
}

impl Recovery {
    pub fn new(iss: SeqNum) -> Recovery {
        Recovery {
            phase: Phase::Open,
            recover: iss,
            dup_acks: 0,
            limited_transmit: 0,
            retransmit_pending: false,
        }
    }

    /// New data acknowledged: RFC 6582 §3.2 step 5 (partial and full ACKs) in recovery,
    /// window growth otherwise. `flight` is what remains outstanding after the ACK.
    pub fn on_ack(&mut self, cc: &mut impl CongestionControl, ev: &AckEvent, flight: u32) {
        self.dup_acks = 0;
        self.limited_transmit = 0;
        let mss = ev.mss;
        match self.phase {
            Phase::FastRecovery if ev.una.ge(self.recover) => {
                // Full ACK, option (1): cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS).
                cc.set_cwnd(cc.ssthresh().min(flight.max(mss) + mss));
                self.phase = Phase::Open;
            }
            Phase::FastRecovery => {
                // Partial ACK: deflate by the amount acknowledged, add back one SMSS, and
                // retransmit the next hole.
                let cwnd = cc.cwnd().saturating_sub(ev.acked).saturating_add(mss);
                cc.set_cwnd(cwnd.max(mss));
                self.retransmit_pending = true;
            }
            Phase::Open => cc.on_ack(ev),
        }
    }

    /// RFC 5681 §3.2 / RFC 6582 §3.2 steps 1–4 for one duplicate ACK. Returns true when it
    /// starts a fast retransmit.
    pub fn on_duplicate_ack(&mut self, cc: &mut impl CongestionControl, o: Outstanding) -> bool {
        self.dup_acks += 1;
        let mss = o.mss;
        if self.phase == Phase::FastRecovery {
            // RFC 5681 §3.2 step 4: each further duplicate ACK inflates the window.
            cc.set_cwnd(cc.cwnd().saturating_add(mss));
            return false;
        }
        // RFC 5827 early retransmit: with two or three segments outstanding and nothing new to
        // send, three duplicate ACKs can never come; lower the threshold to outstanding - 1.
        let outstanding = (o.max - o.una).div_ceil(mss.max(1));
        let nothing_new = o.max == o.fin_seq || o.max == o.fin_seq + 1u32;
        let threshold = if (2..4).contains(&outstanding) && nothing_new {
            // RFC 5827 §3.1: not with a single segment outstanding (no duplicate ACK can say
            // anything about it).
            outstanding - 1
        } else {
            3
        };
        // RFC 3042 limited transmit: the first two duplicate ACKs each let one new segment out.
        if self.dup_acks < threshold {
            self.limited_transmit = self.dup_acks.min(2);
        }
        // RFC 6582 §3.2 step 2: enter fast recovery only if the ACK covers more than `recover`.
        if self.dup_acks == threshold && (o.una - 1u32).ge(self.recover) {
            self.limited_transmit = 0;
            let flight = o.max - o.una;
            self.recover = o.max;
            self.phase = Phase::FastRecovery;
            // RFC 5681 §3.2 steps 2–3: ssthresh from the flight, cwnd = ssthresh + 3·SMSS.
            cc.on_congestion_event(flight, mss, o.now);
            cc.set_cwnd(cc.ssthresh() + 3 * mss);
            self.retransmit_pending = true;
            return true;
        }
        false
    }

    /// The retransmission timer expired: recovery is over (RFC 6582 §4: after an RTO,
    /// `recover` is the highest sequence number sent).
    pub fn on_rto(&mut self, max: SeqNum) {
        self.phase = Phase::Open;
        self.recover = max;
        self.dup_acks = 0;
        self.retransmit_pending = false;
    }

    /// Room beyond cwnd that limited transmit grants.
    pub fn extra_room(&self, mss: u32) -> u32 {
        self.limited_transmit * mss
    }

    /// Whether a retransmission at SND.UNA is due (and clears the request).
    pub fn take_retransmit(&mut self) -> bool {
        core::mem::take(&mut self.retransmit_pending)
    }
}
