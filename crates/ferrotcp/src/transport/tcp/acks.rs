//! What an ACK does to the sending half (RFC 9293 §3.10.7.4 fifth step): SND.UNA moves, SACK
//! blocks (RFC 2018) and D-SACKs (RFC 2883) update the scoreboard, RTT samples feed the RTO
//! (RFC 6298, Karn-safe: only never-retransmitted segments, else an echoed timestamp), loss
//! recovery judges, and the send window follows the peer.

use super::autotune::send_buffer_for;
use super::congestion::CongestionControl;
use super::rack::AckContext;
use super::recovery::{AckSummary, Detection};
use super::sender::Sender;
use super::tcb::{Notify, Shared};
use super::timestamps::echo_rtt;
use super::tlp::Tlp;
use crate::seq::SeqNum;
use crate::time::{Duration, Instant};
use crate::trace::TimerKind;
use crate::wire::tcp::{SackBlock, TcpRepr};

/// Linux's reneging grace: an RTO this soon after the peer dropped SACKed data.
const RENEGING_TIMEOUT_MIN: Duration = Duration::from_millis(10);

/// RFC 2883 §4: the first SACK block is a D-SACK if it lies below the cumulative ACK or
/// inside the second block.
fn dsack_block(blocks: &[SackBlock], ack: SeqNum) -> Option<SackBlock> {
    let first = *blocks.first()?;
    let below = first.left.lt(ack);
    let inside = blocks
        .get(1)
        .is_some_and(|second| second.left.le(first.left) && first.right.le(second.right));
    (below || inside).then_some(first)
}

impl Sender {
    /// SND.UNA < ack <= SND.MAX: bytes (and maybe our SYN or FIN) are acknowledged.
    pub(super) fn process_new_ack(&mut self, shared: &mut Shared, now: Instant, ack: SeqNum) {
        // Data bytes acknowledged leave the send buffer; SYN and FIN occupy no buffer space.
        let data_acked = if ack.gt(self.buf_seq) {
            ((ack - self.buf_seq) as usize).min(self.buf.len())
        } else {
            0
        };
        self.buf.consume(data_acked);
        self.buf_seq = self.buf_seq + data_acked;
        if data_acked > 0 && self.buf.is_empty() {
            shared.reclaim_when_quiet(now);
        }
        self.una = ack;
        if self.nxt.lt(ack) {
            self.nxt = ack;
        }
        // The SYN's round trip (data segments are timed through the scoreboard).
        self.rtt.on_ack(ack, now);
        self.retries = 0;
        self.persist_backoff = 0;
        self.rtt.reset_backoff();
        self.urgent_acked();
        // RFC 6298 §5.2/5.3: stop the timer when all is acknowledged, else restart it.
        if self.una == self.max {
            shared.timers.stop(TimerKind::Retransmit);
            shared.timers.stop(TimerKind::LossProbe);
            shared.timers.stop(TimerKind::Reorder);
        } else {
            shared
                .timers
                .set(TimerKind::Retransmit, now + self.rtt.rto());
        }
        if data_acked > 0 && shared.want_writable {
            shared.want_writable = false;
            shared.notify(Notify::WRITABLE);
        }
    }

    /// The ACK field of an acceptable segment in a synchronized state (its bounds checked).
    /// `echo`: the segment's TSecr and our TSval clock offset, when timestamps are in use.
    pub(super) fn on_ack(
        &mut self,
        shared: &mut Shared,
        now: Instant,
        seg: &TcpRepr,
        payload_len: usize,
        echo: Option<(u32, u32)>,
    ) {
        let ack = seg.ack;
        let window = u32::from(seg.window) << self.wscale;
        // Nothing outstanding and nothing new acknowledged (a receiver's ACK of its peer's
        // data, most often): only the window can change.
        if ack == self.una && self.una == self.max && seg.options.sack_blocks[0].is_none() {
            self.update_window(shared, seg, window);
            return;
        }
        let prior_una = self.una;
        let prior_pipe_value = self.recovery.pipe(&self.board);
        let advanced = ack.gt(self.una);
        let mut blocks = [SackBlock::default(); 4];
        let mut n = 0;
        if self.recovery.detection != Detection::NewReno {
            for b in seg.options.sack_blocks.iter().flatten() {
                blocks[n] = *b;
                n += 1;
            }
        }
        let blocks = &blocks[..n];
        let dsack = dsack_block(blocks, ack);
        let ctx = AckContext {
            now,
            dsack: dsack.is_some(),
            una: if advanced { ack } else { self.una },
            nxt: self.max,
            echo,
        };

        // The scoreboard: cumulatively acknowledged segments leave, SACKed ones are marked;
        // RACK sees every newly delivered segment. The oldest never-retransmitted one gives the
        // RTT sample (Linux's seq_rtt; a SACKed one if none was acknowledged).
        // An ACK that also covers retransmitted data may have been sent when the retransmission
        // filled a hole: the original segments it covers were sent long before (Karn's rule as
        // Linux applies it, FLAG_RETRANS_DATA_ACKED); only an echoed timestamp times it then.
        let rack = &mut self.recovery.rack;
        let mut oldest_acked: Option<Instant> = None;
        let mut retransmitted_acked = false;
        let mut oldest_sacked: Option<Instant> = None;
        if advanced {
            self.board.ack(ack, |s| {
                rack.delivered(s, &ctx);
                if s.ever_retransmitted() {
                    retransmitted_acked = true;
                } else {
                    oldest_acked = Some(oldest_acked.map_or(s.sent, |t| t.min(s.sent)));
                }
            });
        }
        let mut sacked = 0;
        let una = ctx.una;
        // RFC 8985 §6.2 step 3 looks at newly delivered segments in ascending order: the
        // blocks come newest first, so sort them (at most four).
        let skip = usize::from(dsack.is_some());
        let mut sorted = [SackBlock::default(); 4];
        let sorted = &mut sorted[..blocks.len() - skip];
        sorted.copy_from_slice(&blocks[skip..]);
        sorted.sort_unstable_by_key(|b| b.left - una);
        for b in sorted.iter() {
            // RFC 2018: only what lies between SND.UNA and SND.MAX means anything.
            let left = b.left.max(una);
            let right = b.right.min(self.max);
            if left.lt(right) {
                sacked += self.board.sack(left, right, |s| {
                    rack.delivered(s, &ctx);
                    if !s.ever_retransmitted() {
                        oldest_sacked = Some(oldest_sacked.map_or(s.sent, |t| t.min(s.sent)));
                    }
                });
            }
        }
        // RTT samples (RFC 6298 with Karn's rule, MUST-18): the oldest newly acknowledged
        // segment that was never retransmitted, else (outside recovery) the oldest newly SACKed
        // one, else the echoed timestamp (RFC 7323 RTTM). None when the ACK also covers
        // retransmitted data: it was sent when a repair filled a hole, and by RFC 7323 §4.3
        // even its TSecr echoes the segment before the hole, so it times the repair, not the
        // path (20 % loss both ways gave 25 s samples and an RTO of minutes).
        let open = self.recovery.phase == super::recovery::Phase::Open;
        let rtt = if retransmitted_acked {
            None
        } else {
            oldest_acked
                .or(if open { oldest_sacked } else { None })
                .map(|t| now.saturating_since(t))
                .or_else(|| {
                    let (tsecr, offset) = echo?;
                    (advanced && tsecr != 0)
                        .then(|| echo_rtt(tsecr, offset, now))
                        .flatten()
                })
        };
        if let Some(rtt) = rtt {
            self.rtt.sample(rtt);
            self.recovery.rack.rtt_sample(rtt, now);
        }

        let acked = if advanced { ack - prior_una } else { 0 };
        let prior_pipe = prior_pipe_value;
        if advanced {
            self.process_new_ack(shared, now, ack);
        }
        // RFC 5681 §2: a duplicate ACK. With the peer's window closed, repeated ACKs answer
        // our window probes; they say nothing about loss.
        let duplicate = !advanced
            && ack == self.una
            && payload_len == 0
            && !seg.flags.fin()
            && window == self.wnd
            && self.max.gt(self.una);
        if duplicate {
            shared.stats.dup_acks_received += 1;
        }
        // Reneging (RFC 2018 §8): the cumulative ACK stopped at data the peer had SACKed, so it
        // dropped it. Forget every SACK and let a prompt timeout resend (as Linux does).
        if self.board.head_sacked() {
            self.board.clear_sacked();
            let srtt = self.rtt.srtt().unwrap_or_default();
            let soon = (srtt / 2).max(RENEGING_TIMEOUT_MIN).min(self.rtt.rto());
            shared.timers.set(TimerKind::Retransmit, now + soon);
        }
        let summary = AckSummary {
            now,
            una: self.una,
            max: self.max,
            acked,
            sacked,
            dsack,
            duplicate: duplicate && self.wnd != 0,
            news: advanced || sacked > 0 || payload_len > 0,
            echo,
            mss: self.mss,
            srtt: self.rtt.srtt().unwrap_or(self.rtt.rto()),
            rtt,
            prior_pipe,
            fin_seq: self.fin_seq(),
        };
        let verdict = self
            .recovery
            .on_ack(&mut self.cc, &mut self.board, &summary);
        if verdict.entered_recovery {
            shared.stats.fast_retransmits += 1;
        }
        if verdict.undone {
            shared.stats.undos += 1;
        }
        // RFC 3168 §6.1.2: an ECE answers a CE mark on our data: reduce the window as for a
        // loss, once per window of data, and say so with CWR.
        if seg.flags.ece()
            && !seg.flags.syn()
            && self.ecn.should_respond(self.una)
            && self.recovery.phase == super::recovery::Phase::Open
        {
            self.cc
                .on_congestion_event(self.board.out_bytes(), self.mss, now);
            self.cc.set_cwnd(self.cc.ssthresh().max(self.mss));
            self.ecn.cwr_pending = true;
            self.ecn.recover = Some(self.max);
            shared.stats.ecn_reductions += 1;
        }
        match verdict.reorder_timeout {
            Some(t) => shared.timers.set(TimerKind::Reorder, now + t),
            None => shared.timers.stop(TimerKind::Reorder),
        }
        if advanced {
            self.arm_loss_probe(shared, now);
            self.expand_buffer(shared);
        }
        self.update_window(shared, seg, window);
    }

    /// Linux's tcp_sndbuf_expand: room for twice the window; an application that met a full
    /// buffer hears of the new room.
    fn expand_buffer(&mut self, shared: &mut Shared) {
        if let Some(size) = send_buffer_for(self.cc.cwnd(), self.buf.capacity(), self.max_buffer) {
            self.buf.grow_limit(size);
            if shared.want_writable {
                shared.want_writable = false;
                shared.notify(Notify::WRITABLE);
            }
        }
    }

    /// RFC 8985 §7.2: with data in flight, no probe out and not in recovery, a probe follows
    /// about two round trips after the last transmission or acknowledgment.
    pub(super) fn arm_loss_probe(&self, shared: &mut Shared, now: Instant) {
        // RFC 8985 §7.2: not in recovery, and not while segments are SACKed (RACK will find
        // those losses); not into a closed window either (the persist timer probes that).
        let can_probe = self.recovery.detection == Detection::Rack
            && self.wnd > 0
            && self.recovery.phase == super::recovery::Phase::Open
            && !self.recovery.tlp.in_flight()
            && self.board.sacked_bytes() == 0
            && self.una != self.max;
        if !can_probe {
            shared.timers.stop(TimerKind::LossProbe);
            return;
        }
        let one_segment = self.board.len() == 1;
        let pto = Tlp::pto(self.rtt.srtt(), one_segment, self.rtt.rto());
        shared.timers.set(TimerKind::LossProbe, now + pto);
    }

    /// Window update: "If SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)".
    fn update_window(&mut self, shared: &mut Shared, seg: &TcpRepr, window: u32) {
        let ack = seg.ack;
        if !(self.una.le(ack)
            && (self.wl1.lt(seg.seq) || (self.wl1 == seg.seq && self.wl2.le(ack))))
        {
            return;
        }
        let opened = self.wnd == 0 && window > 0;
        self.wnd = window;
        self.max_wnd = self.max_wnd.max(window);
        self.wl1 = seg.seq;
        self.wl2 = ack;
        if opened {
            shared.timers.stop(TimerKind::Persist);
            self.persist_backoff = 0;
            // Probe bytes sent into the closed window were most likely dropped: send again
            // from SND.UNA now that there is room (as BSD does).
            self.board.mark_all_lost();
        }
    }
}
