//! Tail loss probes (RFC 8985 §7): when the last segments of a flight are lost no duplicate ACK
//! can ever come, and without a probe only the retransmission timeout (200 ms or more) would
//! repair them. About two round trips after the last transmission, one segment goes out
//! again (new data if there is any, else the last segment), so that its ACK or SACK lets RACK
//! find the loss.

use crate::seq::SeqNum;
use crate::time::Duration;
use crate::wire::tcp::SackBlock;

/// RFC 8985 §7.2 TLP.max_ack_delay: what a receiver may add before ACKing a lone segment
/// (WCDelAckT, the worst-case delayed-ACK timer).
const MAX_ACK_DELAY: Duration = Duration::from_millis(200);
/// Without an RTT sample yet, RFC 8985 §7.2: "PTO = 1 second".
const INITIAL_PTO: Duration = Duration::from_secs(1);
/// Linux's TCP_TIMEOUT_MIN added to 2·SRTT: slack for timers and ACK processing, so a path
/// measured at a few microseconds does not probe before its ACKs could return.
const PTO_SLACK: Duration = Duration::from_millis(2);

/// What an ACK says about the probe in flight (RFC 8985 §7.4, Linux's tcp_process_tlp_ack).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ProbeOutcome {
    /// No probe in flight, or the ACK is not about it yet.
    Pending,
    /// The probe (or what it repeated) arrived and nothing was lost.
    NoLoss,
    /// The probe repaired a loss: congestion control must respond.
    RepairedLoss,
}

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Tlp {
    /// TLP.end_seq: SND.NXT when the probe went out.
    end_seq: Option<SeqNum>,
    /// TLP.is_retrans: the probe repeated the last segment (no new data was available).
    is_retrans: bool,
}

impl Tlp {
    /// RFC 8985 §7.2: PTO = 2·SRTT, plus the peer's worst-case ACK delay when one segment is
    /// in flight (its ACK may be delayed), never later than the RTO.
    pub fn pto(srtt: Option<Duration>, one_segment: bool, rto: Duration) -> Duration {
        let pto = match srtt {
            Some(srtt) if one_segment => srtt * 2 + MAX_ACK_DELAY,
            Some(srtt) => srtt * 2 + PTO_SLACK,
            None => INITIAL_PTO,
        };
        pto.min(rto)
    }

    /// At most one probe in flight (RFC 8985 §7.3).
    pub fn in_flight(&self) -> bool {
        self.end_seq.is_some()
    }

    /// A probe went out; `nxt` is SND.NXT after it.
    pub fn sent(&mut self, nxt: SeqNum, is_retrans: bool) {
        self.end_seq = Some(nxt);
        self.is_retrans = is_retrans;
    }

    /// The RTO fired or recovery started: the probe no longer matters.
    pub fn reset(&mut self) {
        self.end_seq = None;
    }

    /// RFC 8985 §7.4.2 for one ACK. `dsack`: the ACK's D-SACK block, if any; `news`: the ACK
    /// advanced SND.UNA, SACKed data or carried data (it is not a pure duplicate).
    pub fn on_ack(&mut self, ack: SeqNum, dsack: Option<SackBlock>, news: bool) -> ProbeOutcome {
        let Some(end) = self.end_seq else {
            return ProbeOutcome::Pending;
        };
        // The D-SACK reports the probe's bytes arriving twice.
        let dsack_of_probe = dsack.is_some_and(|d| d.left.lt(end) && end.le(d.right));
        if ack.lt(end) {
            return ProbeOutcome::Pending;
        }
        if !self.is_retrans || dsack_of_probe {
            // New data was probed (its loss, if any, is RACK's to find), or the D-SACK says
            // both the original and the probe arrived.
            self.end_seq = None;
            return ProbeOutcome::NoLoss;
        }
        if ack.gt(end) {
            // The ACK goes past the probe: the original was lost and the probe repaired it.
            self.end_seq = None;
            return ProbeOutcome::RepairedLoss;
        }
        if !news {
            // A pure duplicate ACK at the probe's end: the original and the probe both
            // arrived.
            self.end_seq = None;
            return ProbeOutcome::NoLoss;
        }
        ProbeOutcome::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn pto_is_two_srtt_plus_the_ack_delay_for_a_single_segment_capped_by_rto() {
        assert_eq!(Tlp::pto(Some(10 * MS), false, 200 * MS), 22 * MS);
        assert_eq!(Tlp::pto(Some(10 * MS), true, 1000 * MS), 220 * MS);
        assert_eq!(Tlp::pto(Some(10 * MS), true, 200 * MS), 200 * MS);
        assert_eq!(Tlp::pto(None, false, 3000 * MS), 1000 * MS);
    }

    #[test]
    fn a_retransmitted_probe_acked_beyond_its_end_repaired_a_loss() {
        let mut t = Tlp::default();
        t.sent(SeqNum(1000), true);
        assert_eq!(t.on_ack(SeqNum(900), None, true), ProbeOutcome::Pending);
        assert_eq!(t.on_ack(SeqNum(1000), None, true), ProbeOutcome::Pending);
        assert_eq!(
            t.on_ack(SeqNum(1100), None, true),
            ProbeOutcome::RepairedLoss
        );
        assert!(!t.in_flight());
    }

    #[test]
    fn a_dsack_or_a_pure_duplicate_says_nothing_was_lost() {
        let mut t = Tlp::default();
        t.sent(SeqNum(1000), true);
        let dsack = SackBlock {
            left: SeqNum(900),
            right: SeqNum(1000),
        };
        assert_eq!(
            t.on_ack(SeqNum(1000), Some(dsack), true),
            ProbeOutcome::NoLoss
        );
        t.sent(SeqNum(1000), true);
        assert_eq!(t.on_ack(SeqNum(1000), None, false), ProbeOutcome::NoLoss);
        t.sent(SeqNum(1000), false);
        assert_eq!(t.on_ack(SeqNum(1200), None, true), ProbeOutcome::NoLoss);
    }
}
