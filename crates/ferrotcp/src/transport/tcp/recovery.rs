//! Loss recovery: finding out which segments were lost and steering the window while they are
//! repaired, kept apart from congestion control (which only hears "a loss happened", "an RTO
//! fired" and "this much was acknowledged" outside recovery), as gVisor keeps them.
//!
//! * Detection marks segments lost in the scoreboard: RACK (RFC 8985, the default with SACK),
//!   RFC 6675's DupThresh rule (SACK without RACK), or NewReno's duplicate ACKs (RFC 5681 §3.2,
//!   RFC 6582, RFC 5827 early retransmit) when the peer does not do SACK.
//! * Recovery repairs: lost segments go first (RFC 6675 NextSeg rule 1), as fast as
//!   Proportional Rate Reduction (RFC 6937) lets the window shrink to ssthresh; after an RTO
//!   everything unSACKed is lost and slow start resends it (RFC 8985 §6.3).
//! * Undo: when timestamps (RFC 3522's Eifel test) or D-SACKs (RFC 2883) show that the
//!   retransmissions were spurious, the window reduction is taken back (Linux's undo).

use super::congestion::{AckEvent, CongestionControl, Controller};
use super::rack::{AckContext, Rack};
use super::scoreboard::Scoreboard;
use super::timestamps::ts_before;
use super::tlp::{ProbeOutcome, Tlp};
use crate::seq::SeqNum;
use crate::time::{Duration, Instant};
use crate::wire::tcp::SackBlock;

/// RFC 5681 / RFC 6675 DupThresh.
const DUP_THRESH: u32 = 3;

/// How losses are detected on this connection (chosen when the handshake tells whether SACK
/// is in use).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Detection {
    Rack,
    DupThresh,
    NewReno,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    Open,
    /// Fast recovery until `recover` is acknowledged, the window under PRR.
    Recovery,
    /// After an RTO, until `recover` is acknowledged: slow start resends what was lost.
    Loss,
}

/// RFC 6937 §3 state.
#[derive(Clone, Copy, Debug, Default)]
struct Prr {
    /// prr_delivered: bytes delivered to the receiver since recovery began.
    delivered: u32,
    /// prr_out: bytes sent since recovery began.
    out: u32,
    /// RecoverFS: the flight when recovery began.
    recover_fs: u32,
}

/// What is needed to take a window reduction back.
#[derive(Clone, Debug)]
struct Undo {
    prior: Controller,
    /// TSval of the first retransmission of the episode (the Eifel test compares echoes with it).
    first_retrans_tsval: Option<u32>,
    /// Retransmissions of the episode, and those not (yet) shown spurious by a D-SACK.
    sent: u32,
    retrans: u32,
}

impl Undo {
    /// Remembers the controller as it was before a reduction.
    fn new(cc: &Controller) -> Undo {
        Undo {
            prior: cc.clone(),
            first_retrans_tsval: None,
            sent: 0,
            retrans: 0,
        }
    }
}

/// One ACK, as loss recovery sees it.
#[derive(Clone, Copy, Debug)]
pub(super) struct AckSummary {
    pub now: Instant,
    /// SND.UNA after the ACK, and SND.MAX.
    pub una: SeqNum,
    pub max: SeqNum,
    /// Bytes newly acknowledged cumulatively.
    pub acked: u32,
    /// Bytes newly SACKed.
    pub sacked: u32,
    /// The D-SACK block the ACK carried (RFC 2883), if any.
    pub dsack: Option<SackBlock>,
    /// An RFC 5681 duplicate ACK.
    pub duplicate: bool,
    /// SND.UNA advanced, data was SACKed or the segment carried data.
    pub news: bool,
    /// TSecr and our TSval clock offset, with timestamps in use.
    pub echo: Option<(u32, u32)>,
    pub mss: u32,
    pub srtt: Duration,
    /// This ACK's RTT sample.
    pub rtt: Option<Duration>,
    /// Bytes in flight before this ACK.
    pub prior_pipe: u32,
    /// Our FIN's sequence number (or the end of the queued data).
    pub fin_seq: SeqNum,
}

/// What the sender must do after an ACK.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Verdict {
    /// Arm RACK's reordering timer this far ahead.
    pub reorder_timeout: Option<Duration>,
    /// Fast recovery began with this ACK.
    pub entered_recovery: bool,
    /// A window reduction was taken back.
    pub undone: bool,
}

#[derive(Clone, Debug)]
pub(super) struct Recovery {
    pub detection: Detection,
    pub phase: Phase,
    /// RFC 6675 RecoveryPoint / RFC 6582 `recover`.
    recover: SeqNum,
    prr: Prr,
    dup_acks: u32,
    /// NewReno without SACK: bytes that duplicate ACKs say have left the network (Linux's
    /// "reno SACKs"), so that pipe shrinks with each one as it does with real SACKs.
    reno_sacked: u32,
    /// Boxed: a copy of the controller (160 bytes) that only a loss episode needs.
    undo: Option<Box<Undo>>,
    pub rack: Rack,
    pub tlp: Tlp,
    /// Window reductions taken back so far.
    undos: u64,
}

impl Recovery {
    pub fn new(iss: SeqNum, detection: Detection) -> Recovery {
        Recovery {
            detection,
            phase: Phase::Open,
            recover: iss,
            prr: Prr::default(),
            dup_acks: 0,
            reno_sacked: 0,
            undo: None,
            rack: Rack::default(),
            tlp: Tlp::default(),
            undos: 0,
        }
    }

    /// RFC 6675 `pipe`: bytes in the network.
    pub fn pipe(&self, board: &Scoreboard) -> u32 {
        board.pipe().saturating_sub(self.reno_sacked)
    }

    /// Bytes the congestion window lets us send now.
    pub fn allowance(&self, cc: &Controller, board: &Scoreboard) -> u32 {
        cc.cwnd().saturating_sub(self.pipe(board))
    }

    /// A retransmission of `len` bytes went out (its TSval, with timestamps).
    pub fn on_retransmit(&mut self, len: u32, tsval: Option<u32>) {
        if self.phase == Phase::Recovery {
            self.prr.out += len;
        }
        if let Some(undo) = &mut self.undo {
            undo.sent += 1;
            undo.retrans += 1;
            if undo.first_retrans_tsval.is_none() {
                undo.first_retrans_tsval = tsval;
            }
        }
    }

    /// New data of `len` bytes went out.
    pub fn on_send(&mut self, len: u32) {
        if self.phase == Phase::Recovery {
            self.prr.out += len;
        }
    }

    /// Everything one ACK means for loss recovery and the window.
    pub fn on_ack(
        &mut self,
        cc: &mut Controller,
        board: &mut Scoreboard,
        a: &AckSummary,
    ) -> Verdict {
        let mut verdict = Verdict::default();
        let undos = self.undos;
        self.try_undo(cc, board, a);
        if self.tlp.on_ack(a.una, a.dsack, a.news) == ProbeOutcome::RepairedLoss
            && self.phase == Phase::Open
        {
            // RFC 8985 §7.4.2: the probe repaired a loss; respond as to any loss (Linux: a
            // one-shot reduction to ssthresh, with nothing left to repair).
            cc.on_congestion_event(board.out_bytes(), a.mss, a.now);
            cc.set_cwnd(cc.ssthresh());
        }
        let lost_before = board.lost_bytes();
        verdict.reorder_timeout = self.detect(board, a);
        let newly_lost = board.lost_bytes() > lost_before;
        // The ACK that concludes a recovery episode sets cwnd = ssthresh, not PRR.
        let concluded = self.leave_if_recovered(cc, board, a);
        if self.phase == Phase::Open && board.lost_bytes() > 0 {
            self.enter_recovery(cc, board, a);
            verdict.entered_recovery = true;
        }
        match self.phase {
            Phase::Recovery => self.prr_window(cc, board, a, newly_lost),
            Phase::Open | Phase::Loss if concluded => {}
            Phase::Open | Phase::Loss if a.acked > 0 => {
                // RFC 7661 / Linux's tcp_is_cwnd_limited: in slow start the flight must have
                // reached half the window, later all but a segment of it.
                let cwnd = cc.cwnd();
                let cwnd_limited = if cwnd < cc.ssthresh() {
                    cwnd < 2 * a.prior_pipe
                } else {
                    a.prior_pipe + a.mss >= cwnd
                };
                cc.on_ack(&AckEvent {
                    acked: a.acked,
                    mss: a.mss,
                    now: a.now,
                    una: a.una,
                    nxt: a.max,
                    rtt: a.rtt,
                    srtt: a.srtt,
                    cwnd_limited,
                })
            }
            Phase::Open | Phase::Loss => {}
        }
        verdict.undone = self.undos > undos;
        verdict
    }

    /// RACK's reordering timer fired (RFC 8985 §6.2 RACK_detect_loss_and_arm_timer).
    pub fn on_reorder_timeout(
        &mut self,
        cc: &mut Controller,
        board: &mut Scoreboard,
        ctx: &AckContext,
        mss: u32,
        srtt: Duration,
    ) -> Verdict {
        let recovering = self.phase != Phase::Open;
        let mut verdict = Verdict {
            reorder_timeout: self.rack.detect_loss(board, ctx, recovering, mss, srtt),
            ..Verdict::default()
        };
        if self.phase == Phase::Open && board.lost_bytes() > 0 {
            let a = AckSummary {
                now: ctx.now,
                una: ctx.una,
                max: ctx.nxt,
                acked: 0,
                sacked: 0,
                dsack: None,
                duplicate: false,
                news: false,
                echo: None,
                mss,
                srtt,
                rtt: None,
                prior_pipe: self.pipe(board),
                fin_seq: ctx.nxt,
            };
            self.enter_recovery(cc, board, &a);
            // Nothing was delivered: PRR forces the first retransmission.
            cc.set_cwnd(self.pipe(board) + mss);
            verdict.entered_recovery = true;
        }
        verdict
    }

    /// Marks what this ACK shows lost; returns the reordering timeout RACK wants.
    fn detect(&mut self, board: &mut Scoreboard, a: &AckSummary) -> Option<Duration> {
        match self.detection {
            Detection::Rack => {
                let ctx = AckContext {
                    now: a.now,
                    dsack: a.dsack.is_some(),
                    una: a.una,
                    nxt: a.max,
                    echo: a.echo,
                };
                let recovering = self.phase != Phase::Open;
                self.rack
                    .detect_loss(board, &ctx, recovering, a.mss, a.srtt)
            }
            Detection::DupThresh => {
                // RFC 6675 IsLost: more than (DupThresh - 1)·SMSS bytes SACKed above it.
                let mut above = board.sacked_bytes();
                let mut i = 0;
                while let Some(seg) = board.get(i).copied() {
                    if seg.sacked() {
                        above -= seg.len();
                    } else if above > (DUP_THRESH - 1) * a.mss {
                        if !seg.lost() {
                            board.mark_lost(i);
                        }
                    } else {
                        break;
                    }
                    i += 1;
                }
                None
            }
            Detection::NewReno => {
                self.newreno_detect(board, a);
                None
            }
        }
    }

    /// RFC 5681 §3.2 / RFC 6582 without SACK: duplicate ACKs mark the first segment lost,
    /// partial ACKs in recovery the next one.
    fn newreno_detect(&mut self, board: &mut Scoreboard, a: &AckSummary) {
        if a.acked > 0 {
            self.dup_acks = 0;
            self.reno_sacked = self.reno_sacked.saturating_sub(a.acked);
            if self.phase == Phase::Recovery && a.una.lt(self.recover) {
                // RFC 6582 §3.2 step 5, partial ACK: retransmit the first unacknowledged segment.
                board.mark_lost(0);
            }
            return;
        }
        if !a.duplicate {
            return;
        }
        self.dup_acks += 1;
        // Each duplicate ACK stands for a segment that left the network (never all of them:
        // the first is the one missing).
        let head = board.get(0).map_or(0, |s| s.len());
        let cap = board.out_bytes().saturating_sub(head);
        self.reno_sacked = (self.reno_sacked + a.mss).min(cap);
        if self.phase != Phase::Open {
            return;
        }
        // RFC 5827 early retransmit: with two or three segments outstanding and nothing new to
        // send, three duplicate ACKs can never come; lower the threshold to outstanding - 1
        // (§3.1: not with a single segment outstanding).
        let outstanding = board.out_bytes().div_ceil(a.mss.max(1));
        let nothing_new = a.max == a.fin_seq || a.max == a.fin_seq + 1u32;
        let threshold = if (2..4).contains(&outstanding) && nothing_new {
            outstanding - 1
        } else {
            DUP_THRESH
        };
        // RFC 6582 §3.2 step 2: only if the ACK covers more than `recover`.
        if self.dup_acks == threshold && (a.una - 1u32).ge(self.recover) {
            board.mark_lost(0);
        }
    }

    /// RFC 6675 §5 / RFC 6937: the first loss of a window starts fast recovery.
    fn enter_recovery(&mut self, cc: &mut Controller, board: &Scoreboard, a: &AckSummary) {
        self.undo = Some(Box::new(Undo::new(cc)));
        self.recover = a.max;
        self.phase = Phase::Recovery;
        self.tlp.reset();
        cc.on_congestion_event(board.out_bytes(), a.mss, a.now);
        // RFC 9937 §6.1: what may be delivered during the episode: the flight, less what was
        // SACKed before it, plus what this ACK delivered.
        let before = board.sacked_bytes().saturating_sub(a.sacked);
        let recover_fs = board.out_bytes().saturating_sub(before) + a.acked;
        self.prr = Prr {
            delivered: 0,
            out: 0,
            recover_fs: recover_fs.max(1),
        };
    }

    /// RFC 9937 §6.2 (PRR): on every ACK in recovery, let out what keeps the flight shrinking
    /// in proportion to what was delivered while above ssthresh, and catch up towards it (by
    /// at most one SMSS more than delivered, on ACKs that show progress) once below.
    fn prr_window(
        &mut self,
        cc: &mut Controller,
        board: &Scoreboard,
        a: &AckSummary,
        newly_lost: bool,
    ) {
        let reno = if a.duplicate && self.detection == Detection::NewReno {
            a.mss
        } else {
            0
        };
        let delivered = a.acked + a.sacked + reno;
        if delivered == 0 {
            return;
        }
        self.prr.delivered = self.prr.delivered.saturating_add(delivered);
        let inflight = self.pipe(board);
        let ssthresh = cc.ssthresh();
        let mut sndcnt = if inflight > ssthresh {
            // ceil(prr_delivered · ssthresh / RecoverFS) - prr_out.
            let out = (u64::from(self.prr.delivered) * u64::from(ssthresh))
                .div_ceil(u64::from(self.prr.recover_fs));
            u32::try_from(out)
                .unwrap_or(u32::MAX)
                .saturating_sub(self.prr.out)
        } else {
            // PRR-CRB, plus one SMSS (PRR-SSRB) on a SafeACK: SND.UNA advanced and no new loss.
            let mut n = self
                .prr
                .delivered
                .saturating_sub(self.prr.out)
                .max(delivered);
            if a.acked > 0 && !newly_lost {
                n += a.mss;
            }
            (ssthresh - inflight).min(n)
        };
        // Force a fast retransmit upon entering recovery.
        if self.prr.out == 0 && sndcnt == 0 {
            sndcnt = a.mss;
        }
        cc.set_cwnd(inflight + sndcnt);
    }

    /// Leaves fast recovery or RTO recovery once `recover` is acknowledged.
    fn leave_if_recovered(
        &mut self,
        cc: &mut Controller,
        board: &mut Scoreboard,
        a: &AckSummary,
    ) -> bool {
        if self.phase == Phase::Open || a.una.lt(self.recover) {
            return false;
        }
        let was_recovery = self.phase == Phase::Recovery;
        if self.phase == Phase::Recovery {
            // RFC 6937: "cwnd = ssthresh" when recovery ends.
            cc.set_cwnd(cc.ssthresh().max(a.mss));
        }
        self.phase = Phase::Open;
        self.dup_acks = 0;
        self.reno_sacked = 0;
        self.rack.recovery_ended();
        // D-SACKs for every retransmission: none was needed.
        if self
            .undo
            .as_ref()
            .is_some_and(|u| u.sent > 0 && u.retrans == 0)
        {
            self.apply_undo(cc, board);
        }
        was_recovery
    }

    /// RFC 3522 (Eifel) with timestamps, RFC 2883 §4 with D-SACKs: the retransmissions were
    /// not needed, take the reduction back.
    fn try_undo(&mut self, cc: &mut Controller, board: &mut Scoreboard, a: &AckSummary) {
        let Some(undo) = &mut self.undo else {
            return;
        };
        if a.dsack.is_some() {
            undo.retrans = undo.retrans.saturating_sub(1);
        }
        // The first ACK that acknowledges retransmitted data echoes a TSval older than the
        // retransmission: the original arrived.
        let eifel = self.phase != Phase::Open
            && a.acked > 0
            && matches!(
                (a.echo, undo.first_retrans_tsval),
                (Some((tsecr, _)), Some(first)) if tsecr != 0 && ts_before(tsecr, first)
            );
        // Late D-SACKs after recovery ended showed every retransmission spurious.
        let dsacked_all =
            self.phase == Phase::Open && a.dsack.is_some() && undo.sent > 0 && undo.retrans == 0;
        if eifel || dsacked_all {
            self.apply_undo(cc, board);
        }
    }

    fn apply_undo(&mut self, cc: &mut Controller, board: &mut Scoreboard) {
        let Some(undo) = self.undo.take() else {
            return;
        };
        self.undos += 1;
        let cwnd = cc.cwnd().max(undo.prior.cwnd());
        *cc = undo.prior;
        cc.set_cwnd(cwnd);
        board.clear_lost();
        self.phase = Phase::Open;
        self.dup_acks = 0;
        self.reno_sacked = 0;
    }

    /// The retransmission timer expired: everything not SACKed is lost (RFC 8985 §6.3) and
    /// slow start begins again. `first`: the first expiry for this data (RFC 5681 §3.1 lowers
    /// ssthresh only then).
    pub fn on_rto(
        &mut self,
        cc: &mut Controller,
        board: &mut Scoreboard,
        max: SeqNum,
        mss: u32,
        now: Instant,
        first: bool,
    ) {
        if self.phase == Phase::Open || self.undo.is_none() {
            self.undo = Some(Box::new(Undo::new(cc)));
        }
        if first {
            cc.on_rto(board.out_bytes(), mss, now);
        } else {
            cc.set_cwnd(mss);
        }
        board.mark_all_lost();
        self.phase = Phase::Loss;
        self.recover = max;
        self.dup_acks = 0;
        self.reno_sacked = 0;
        self.tlp.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::tcp::congestion::Algorithm;

    const MSS: u32 = 1000;

    fn board(n: u32) -> Scoreboard {
        let mut b = Scoreboard::default();
        for i in 0..n {
            b.push(SeqNum(i * MSS), SeqNum((i + 1) * MSS), false, Instant::ZERO);
        }
        b
    }

    fn summary(acked: u32, sacked: u32) -> AckSummary {
        AckSummary {
            now: Instant::from_millis(30),
            una: SeqNum(0),
            max: SeqNum(10 * MSS),
            acked,
            sacked,
            dsack: None,
            duplicate: false,
            news: true,
            echo: None,
            mss: MSS,
            srtt: Duration::from_millis(20),
            rtt: None,
            prior_pipe: 10 * MSS,
            fin_seq: SeqNum(10 * MSS),
        }
    }

    #[test]
    fn prr_sends_in_proportion_above_ssthresh_and_catches_up_below_it() {
        // RFC 9937 §6: 10 segments out, segment 0 lost, 1..3 SACKed by the first ACK.
        let mut r = Recovery::new(SeqNum(0), Detection::Rack);
        let mut cc = Controller::new(Algorithm::NewReno, MSS);
        let mut b = board(10);
        b.sack(SeqNum(MSS), SeqNum(4 * MSS), |_| {});
        b.mark_lost(0);
        let a = summary(0, 3 * MSS);
        r.enter_recovery(&mut cc, &b, &a);
        // NewReno: ssthresh = FlightSize / 2; RecoverFS = 10 000 - 0 SACKed before + 0.
        assert_eq!((cc.ssthresh(), r.prr.recover_fs), (5 * MSS, 10 * MSS));
        r.prr_window(&mut cc, &b, &a, true);
        // pipe = 10 - 3 SACKed - 1 lost = 6 segments > ssthresh: SndCnt =
        // ceil(3000 · 5000 / 10000) - 0 = 1500.
        assert_eq!(cc.cwnd(), 6 * MSS + 1500);
        r.on_retransmit(MSS, None);
        b.retransmitted(0, Instant::from_millis(30));
        // The next ACK SACKs one more: ceil(4000 · 5000 / 10000) - 1000 = 1000.
        b.sack(SeqNum(4 * MSS), SeqNum(5 * MSS), |_| {});
        r.prr_window(&mut cc, &b, &summary(0, MSS), false);
        let pipe = 10 * MSS - 4 * MSS - MSS + MSS;
        assert_eq!(cc.cwnd(), pipe + 1000);
        // Far below ssthresh after more deliveries: PRR-SSRB, at most DeliveredData + one SMSS
        // beyond what was delivered, on an ACK that advanced SND.UNA without new loss.
        b.sack(SeqNum(5 * MSS), SeqNum(10 * MSS), |_| {});
        let mut a = summary(MSS, 5 * MSS);
        a.una = SeqNum(MSS);
        b.ack(SeqNum(MSS), |_| {});
        r.prr_window(&mut cc, &b, &a, false);
        let pipe = r.pipe(&b);
        assert_eq!(pipe, 0);
        // prr_delivered = 10 000, prr_out = 1000: min(5000 - 0, max(9000, 6000) + 1000).
        assert_eq!(cc.cwnd(), 5 * MSS);
    }

    #[test]
    fn prr_opens_room_on_the_first_ack_and_changes_nothing_without_deliveries() {
        let mut r = Recovery::new(SeqNum(0), Detection::Rack);
        let mut cc = Controller::new(Algorithm::NewReno, MSS);
        let mut b = board(10);
        b.sack(SeqNum(9 * MSS), SeqNum(10 * MSS), |_| {});
        b.mark_lost(0);
        let a = summary(0, MSS);
        r.enter_recovery(&mut cc, &b, &a);
        r.prr_window(&mut cc, &b, &a, true);
        // ceil(1000 · 5000 / 10000) = 500 bytes of room: the retransmission goes out (a
        // segment is sent whenever there is room).
        assert_eq!(cc.cwnd(), r.pipe(&b) + 500);
        let mut none = summary(0, 0);
        none.news = false;
        let before = cc.cwnd();
        r.prr_window(&mut cc, &b, &none, false);
        assert_eq!(cc.cwnd(), before, "nothing delivered: nothing changes");
    }
}
