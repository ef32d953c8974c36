//! SEGMENT ARRIVES (RFC 9293 §3.10.7.3 for SYN-SENT, §3.10.7.4 for the other states), step by step.

use super::ablation::Ablation;
use super::congestion::CongestionControl;
use super::error::CloseReason;
use super::state::State;
use super::tcb::{AckUrgency, Notify, Tcb};
use crate::seq::SeqNum;
use crate::time::Instant;
use crate::wire::tcp::{TcpOptions, TcpRepr};

/// What the stack must send at once in answer to a segment (everything else goes out on poll).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    None,
    /// `<SEQ=seq><CTL=RST>`, or `<SEQ=seq><ACK=ack><CTL=RST,ACK>` when `ack` is given.
    Rst {
        seq: SeqNum,
        ack: Option<SeqNum>,
    },
    /// `<SEQ=seq><ACK=ack><CTL=ACK>` from a connection that is already gone (the last ACK under
    /// the no-time-wait teaching ablation).
    Ack {
        seq: SeqNum,
        ack: SeqNum,
        window: u16,
    },
}

impl Tcb {
    pub fn on_segment(&mut self, now: Instant, seg: &TcpRepr, payload: &[u8]) -> Reply {
        self.stats.segments_received += 1;
        let reply = self.on_segment_inner(now, seg, payload);
        match (reply, self.final_ack.take()) {
            (Reply::None, Some((seq, ack, window))) => Reply::Ack { seq, ack, window },
            (reply, _) => reply,
        }
    }

    fn on_segment_inner(&mut self, now: Instant, seg: &TcpRepr, payload: &[u8]) -> Reply {
        match self.state {
            State::Closed(_) => Reply::None,
            State::SynSent => self.on_segment_syn_sent(now, seg, payload),
            State::SynReceived { .. }
            | State::Established
            | State::FinWait1
            | State::FinWait2
            | State::CloseWait
            | State::Closing
            | State::LastAck
            | State::TimeWait { .. } => self.on_segment_synchronizing(now, seg, payload),
        }
    }

    /// Options of the peer's SYN: MSS (MUST-14/15: 536 if absent) and window scale (RFC 7323 §2.2).
    pub(super) fn apply_syn_options(&mut self, options: &TcpOptions) {
        let peer_mss = u32::from(options.mss.unwrap_or(536));
        self.mss = peer_mss.min(u32::from(self.our_mss)).max(1);
        self.cc = super::congestion::NewReno::new(self.mss);
        // RFC 2018 §2: SACK is used only if both SYNs carried SACK-permitted.
        self.sack_ok = self.sack_ok && options.sack_permitted;
        match (self.offer_wscale, options.window_scale) {
            (true, Some(shift)) => self.snd_wscale = shift.min(14),
            _ => {
                // RFC 7323 §2.2: scaling is used only if both sides sent the option.
                self.snd_wscale = 0;
                self.rcv_wscale = 0;
                self.offer_wscale = false;
            }
        }
    }

    /// §3.10.7.3 SYN-SENT.
    fn on_segment_syn_sent(&mut self, now: Instant, seg: &TcpRepr, payload: &[u8]) -> Reply {
        let flags = seg.flags;
        // First: check the ACK bit.
        if flags.ack() {
            // "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the RST bit is set)".
            if seg.ack.le(self.iss) || seg.ack.gt(self.snd_max) {
                if flags.rst() {
                    return Reply::None;
                }
                return Reply::Rst {
                    seq: seg.ack,
                    ack: None,
                };
            }
        }
        // Second: check the RST bit.
        if flags.rst() {
            if flags.ack() {
                // Acceptable ACK: "signal to the user 'error: connection reset', ... enter CLOSED".
                self.abort_with(CloseReason::Refused);
            }
            return Reply::None;
        }
        // Fourth: check the SYN bit.
        if !flags.syn() {
            // Fifth: neither SYN nor RST: drop.
            return Reply::None;
        }
        self.take_peer_syn(now, seg);
        if flags.ack() {
            self.process_new_ack(now, seg.ack);
        }
        if self.snd_una.gt(self.iss) {
            // Our SYN is acknowledged: ESTABLISHED, send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
            self.on_handshake_complete();
            self.set_state(State::Established);
            if self.ablations.has(Ablation::FourWayHandshake) {
                self.await_confirm = true;
            } else {
                self.notify(Notify::CONNECTED);
            }
            if self.fin_queued {
                self.set_state(State::FinWait1);
            }
            self.ack = AckUrgency::Now;
            // "Data or controls that were queued for transmission may be included"; text in the
            // SYN continues at the sixth step.
            self.receive_text_and_fin(now, seg, seg.seq + 1u32, payload);
        } else {
            // Simultaneous open: SYN-RECEIVED, send <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
            self.set_state(State::SynReceived { from_listen: false });
            self.snd_nxt = self.iss;
            self.rtx_deadline = None;
        }
        Reply::None
    }

    /// §3.10.7.4: SYN-RECEIVED and the synchronized states.
    fn on_segment_synchronizing(&mut self, now: Instant, seg: &TcpRepr, payload: &[u8]) -> Reply {
        let flags = seg.flags;
        let seg_len = seg.seq_len(payload.len()) as u32;
        // RCV.WND: what we offered, or more if the buffer has since made room.
        let offered = if self.rcv_adv.gt(self.rcv_nxt) {
            self.rcv_adv - self.rcv_nxt
        } else {
            0
        };
        let rcv_wnd = self.receive_window().max(offered);

        // A retransmitted SYN in SYN-RECEIVED means our SYN,ACK was lost: send it again (as Linux does)
        // rather than the bare ACK the acceptability test below would produce.
        if let State::SynReceived { .. } = self.state
            && flags.syn()
            && !flags.ack()
            && !flags.rst()
            && seg.seq == self.irs
        {
            self.snd_nxt = self.iss;
            return Reply::None;
        }

        // RFC 9293 Figure 8 (simultaneous open), line 6: the peer's SYN,ACK repeats the SYN we
        // hold, which the literal acceptability test would reject; its ACK acknowledges our SYN,
        // so the connection is ESTABLISHED now (Linux makes the same exception).
        if let State::SynReceived { from_listen: false } = self.state
            && flags.syn()
            && flags.ack()
            && !flags.rst()
            && seg.seq == self.irs
            && self.snd_una.lt(seg.ack)
            && seg.ack.le(self.snd_max)
        {
            self.snd_wnd = u32::from(seg.window);
            self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
            self.snd_wl1 = seg.seq;
            self.snd_wl2 = seg.ack;
            self.process_new_ack(now, seg.ack);
            self.on_handshake_complete();
            self.set_state(State::Established);
            self.notify(Notify::CONNECTED);
            if self.fin_queued {
                self.set_state(State::FinWait1);
            }
            // Figure 8 ends here: the peer's own SYN,ACK already crossed ours, so no ACK is
            // needed to complete its handshake.
            return Reply::None;
        }

        // First: check sequence number. "If the RCV.WND is zero, no segments will be acceptable,
        // but special allowance should be made to accept valid ACKs, URGs, and RSTs": a segment
        // starting exactly at RCV.NXT is processed for its control fields, its text dropped.
        let zero_window_allowance = rcv_wnd == 0 && seg.seq == self.rcv_nxt;
        if !zero_window_allowance && !self.acceptable(seg.seq, seg_len, rcv_wnd) {
            // TIME-WAIT: a retransmitted FIN means our last ACK was lost; re-ACK and restart 2·MSL.
            if let State::TimeWait { .. } = self.state
                && flags.fin()
                && !flags.rst()
            {
                self.enter_time_wait(now);
            }
            if !flags.rst() {
                self.ack = AckUrgency::Now;
            }
            return Reply::None;
        }
        self.last_recv = now;
        self.keepalive_probes = 0;
        self.unanswered_probes = 0;

        // Second: check the RST bit (with RFC 5961 §3.2's exact-match rule, adopted by §3.10.7.4).
        if flags.rst() {
            if seg.seq != self.rcv_nxt {
                // In the window but not exact: challenge ACK.
                self.ack = AckUrgency::Now;
                return Reply::None;
            }
            match self.state {
                State::SynReceived { from_listen: true } => {
                    // Back to LISTEN: the listener never saw this connection; it simply goes away.
                    self.abort_with(CloseReason::Reset);
                }
                State::SynReceived { from_listen: false } => self.abort_with(CloseReason::Refused),
                State::Established | State::FinWait1 | State::FinWait2 | State::CloseWait => {
                    self.abort_with(CloseReason::Reset)
                }
                // "CLOSING, LAST-ACK, TIME-WAIT: enter the CLOSED state". In CLOSING and
                // LAST-ACK our FIN was never acknowledged, so like Linux we tell the
                // application it was a reset; in TIME-WAIT everything was already done.
                State::Closing | State::LastAck => {
                    self.set_state(State::Closed(CloseReason::Reset))
                }
                State::TimeWait { .. } => self.set_state(State::Closed(CloseReason::Normal)),
                State::SynSent | State::Closed(_) => {}
            }
            return Reply::None;
        }

        // Fourth: check the SYN bit (RFC 5961 §4.2 via §3.10.7.4): challenge ACK, drop. "If the
        // connection was initiated with a passive OPEN, then return this connection to the
        // LISTEN state and return."
        if flags.syn() {
            if let State::SynReceived { from_listen: true } = self.state {
                self.abort_with(CloseReason::Reset);
                return Reply::None;
            }
            self.ack = AckUrgency::Now;
            return Reply::None;
        }

        // Fifth: check the ACK field.
        if !flags.ack() {
            return Reply::None;
        }
        if let State::SynReceived { .. } = self.state {
            // "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED" else send a reset.
            if !(self.snd_una.lt(seg.ack) && seg.ack.le(self.snd_max)) {
                return Reply::Rst {
                    seq: seg.ack,
                    ack: None,
                };
            }
            self.snd_wnd = u32::from(seg.window) << self.snd_wscale;
            self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
            self.snd_wl1 = seg.seq;
            self.snd_wl2 = seg.ack;
            self.on_handshake_complete();
            self.set_state(State::Established);
            self.notify(Notify::CONNECTED);
            if self.fin_queued {
                self.set_state(State::FinWait1);
            }
            if self.ablations.has(Ablation::FourWayHandshake) {
                // Teaching ablation: a fourth message acknowledging the client's ACK.
                self.ack = AckUrgency::Now;
            }
        } else if self.await_confirm {
            // FourWayHandshake ablation: any segment from the server after the handshake is
            // the confirmation the client waited for.
            self.await_confirm = false;
            self.notify(Notify::CONNECTED);
        }
        if seg.ack.gt(self.snd_max) {
            // Acknowledges something not yet sent: send an ACK and drop (§3.10.7.4).
            self.ack = AckUrgency::Now;
            return Reply::None;
        }
        // RFC 5961 §5.2: too old an ACK is dropped with a challenge ACK.
        if seg.ack.lt(self.snd_una - self.max_snd_wnd.max(1)) {
            self.ack = AckUrgency::Now;
            return Reply::None;
        }
        self.process_ack_field(now, seg, payload.len());
        if self.is_closed() {
            return Reply::None;
        }

        // Sixth: the URG bit (urgent.rs). Seventh and eighth: segment text and FIN.
        self.receive_urgent(seg);
        if zero_window_allowance && seg_len > 0 {
            // The text (and any FIN) lies outside the closed window: acknowledge, do not take it.
            self.ack = AckUrgency::Now;
            return Reply::None;
        }
        if self.receive_text_and_fin(now, seg, seg.seq, payload) {
            return Reply::Rst {
                seq: self.rst_seq(),
                ack: Some(self.rcv_nxt),
            };
        }
        Reply::None
    }

    /// RFC 6298 §5.7: "If the timer expires awaiting the ACK of a SYN segment and the TCP
    /// implementation is using an RTO less than 3 seconds, the RTO MUST be re-initialized to 3
    /// seconds when data transmission begins".
    fn on_handshake_complete(&mut self) {
        if self.syn_timed_out && self.rtt.srtt().is_none() {
            self.rtt.at_least(crate::time::Duration::from_secs(3));
        }
    }

    /// §3.10.7.4 first step: the four acceptability cases.
    fn acceptable(&self, seq: SeqNum, seg_len: u32, rcv_wnd: u32) -> bool {
        let nxt = self.rcv_nxt;
        match (seg_len, rcv_wnd) {
            (0, 0) => seq == nxt,
            (0, _) => seq.in_window(nxt, nxt + rcv_wnd),
            (_, 0) => false,
            (_, _) => {
                seq.in_window(nxt, nxt + rcv_wnd)
                    || (seq + (seg_len - 1)).in_window(nxt, nxt + rcv_wnd)
            }
        }
    }

    /// Fifth step for the synchronized states: SND.UNA, the send window, FIN acknowledgment.
    fn process_ack_field(&mut self, now: Instant, seg: &TcpRepr, payload_len: usize) {
        let ack = seg.ack;
        let window = u32::from(seg.window) << self.snd_wscale;
        if ack.gt(self.snd_una) {
            self.process_new_ack(now, ack);
        } else if ack == self.snd_una
            && payload_len == 0
            && !seg.flags.fin()
            && window == self.snd_wnd
            && self.snd_max.gt(self.snd_una)
        {
            // RFC 5681 §2: a duplicate ACK.
            self.on_duplicate_ack();
        }
        // Window update: "If SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)".
        if self.snd_una.le(ack)
            && (self.snd_wl1.lt(seg.seq) || (self.snd_wl1 == seg.seq && self.snd_wl2.le(ack)))
        {
            let opened = self.snd_wnd == 0 && window > 0;
            self.snd_wnd = window;
            self.max_snd_wnd = self.max_snd_wnd.max(window);
            self.snd_wl1 = seg.seq;
            self.snd_wl2 = ack;
            if opened {
                self.persist_deadline = None;
                self.persist_backoff = 0;
                // A probe byte sent into the closed window was most likely dropped: send again
                // from SND.UNA now that there is room (as BSD does).
                if self.snd_nxt.gt(self.snd_una) {
                    self.snd_nxt = self.snd_una;
                }
            }
        }

        // Our FIN acknowledged: FIN-WAIT-1 → FIN-WAIT-2, CLOSING → TIME-WAIT, LAST-ACK → CLOSED.
        if !(self.fin_queued && self.snd_una == self.fin_seq() + 1u32) {
            return;
        }
        match self.state {
            State::FinWait1 => {
                self.set_state(State::FinWait2);
                self.arm_orphan_timeout(now);
            }
            State::Closing => self.enter_time_wait(now),
            State::LastAck => self.set_state(State::Closed(CloseReason::Normal)),
            State::SynSent
            | State::SynReceived { .. }
            | State::Established
            | State::FinWait2
            | State::CloseWait
            | State::TimeWait { .. }
            | State::Closed(_) => {}
        }
    }

    /// SND.UNA < ack <= SND.MAX: bytes (and maybe our SYN or FIN) are acknowledged.
    pub(super) fn process_new_ack(&mut self, now: Instant, ack: SeqNum) {
        let acked = ack - self.snd_una;
        // Data bytes acknowledged leave the send buffer; SYN and FIN occupy no buffer space.
        let data_acked = if ack.gt(self.buf_seq) {
            ((ack - self.buf_seq) as usize).min(self.send_buf.len())
        } else {
            0
        };
        self.send_buf.consume(data_acked);
        self.buf_seq = self.buf_seq + data_acked;
        self.snd_una = ack;
        if self.snd_nxt.lt(ack) {
            self.snd_nxt = ack;
        }
        self.rtt.on_ack(ack, now);
        self.retries = 0;
        self.limited_transmit = 0;
        self.persist_backoff = 0;
        self.rtt.reset_backoff();
        self.dup_acks = 0;
        self.loss_recovery_on_ack(acked);
        self.urgent_acked();
        // RFC 6298 §5.2/5.3: stop the timer when all is acknowledged, else restart it.
        self.rtx_deadline = if self.snd_una == self.snd_max {
            None
        } else {
            Some(now + self.rtt.rto())
        };
        if data_acked > 0 && self.want_writable {
            self.want_writable = false;
            self.notify(Notify::WRITABLE);
        }
    }

    /// NewReno, RFC 6582 §3.2 steps 5 (partial and full ACKs), or RFC 5681 window growth.
    fn loss_recovery_on_ack(&mut self, acked: u32) {
        let flight = self.snd_max - self.snd_una;
        match self.recovery {
            Some(recover) if self.snd_una.ge(recover) => {
                self.cc.on_exit_recovery(flight, self.mss);
                self.recovery = None;
            }
            Some(_) => {
                self.cc.on_partial_ack(acked, self.mss);
                self.rexmit_one = true;
            }
            None => self.cc.on_ack(acked, self.mss),
        }
    }

    /// RFC 5681 §3.2 / RFC 6582 §3.2 steps 1–4.
    fn on_duplicate_ack(&mut self) {
        self.stats.dup_acks_received += 1;
        // With the peer's window closed, repeated ACKs answer our window probes; they say
        // nothing about loss, and a retransmission would not fit anyway.
        if self.snd_wnd == 0 {
            return;
        }
        self.dup_acks += 1;
        if self.recovery.is_some() {
            self.cc.on_dup_ack_in_recovery(self.mss);
            return;
        }
        // RFC 5827 early retransmit: with two or three segments outstanding and nothing new to
        // send, three duplicate ACKs can never come; lower the threshold to outstanding - 1.
        let outstanding = (self.snd_max - self.snd_una).div_ceil(self.mss.max(1));
        let nothing_new = self.snd_max == self.fin_seq() || self.snd_max == self.fin_seq() + 1u32;
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
        if self.dup_acks == threshold && (self.snd_una - 1u32).ge(self.recover) {
            self.limited_transmit = 0;
            let flight = self.snd_max - self.snd_una;
            self.recover = self.snd_max;
            self.recovery = Some(self.snd_max);
            self.cc.on_enter_recovery(flight, self.mss);
            self.rexmit_one = true;
            self.stats.fast_retransmits += 1;
        }
    }

    /// Sequence number of our FIN (meaningful once the application shut down its side).
    pub(super) fn fin_seq(&self) -> SeqNum {
        self.buf_seq + self.send_buf.len()
    }

    /// Seventh (text) and eighth (FIN) steps. `data_seq` is the sequence number of `payload[0]`.
    /// Returns true if the connection was aborted and a RST must be sent.
    fn receive_text_and_fin(
        &mut self,
        now: Instant,
        seg: &TcpRepr,
        data_seq: SeqNum,
        payload: &[u8],
    ) -> bool {
        let mut fin = seg.flags.fin();
        if !payload.is_empty() && self.state.accepts_data() {
            if !self.owned {
                // Data for a connection the application has closed: nobody will read it (Linux
                // answers with a reset; RFC 9293 §3.10.7.4 leaves it to the implementation).
                self.abort_with(CloseReason::Aborted);
                return true;
            }
            fin = self.accept_text(now, data_seq, payload, fin);
        } else if !payload.is_empty() {
            // CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: "should not occur since a FIN has been
            // received"; ignore the text.
            fin = false;
        }
        let fin_off = if fin {
            let end = data_seq + payload.len();
            // Only a FIN at or after RCV.NXT is new.
            if end.lt(self.rcv_nxt) {
                None
            } else {
                Some(self.rcv_off + u64::from(end - self.rcv_nxt))
            }
        } else {
            None
        };
        if let Some(off) = fin_off
            && !self.state.peer_finished()
        {
            self.pending_fin = Some(off);
        }
        if let Some(off) = self.pending_fin
            && off == self.rcv_off
            && !self.state.peer_finished()
        {
            self.pending_fin = None;
            self.process_fin(now);
        }
        false
    }

    /// Places text in the receive buffer; returns whether the FIN bit still applies (it does not if
    /// the segment was cut at the right edge of the window).
    fn accept_text(&mut self, now: Instant, data_seq: SeqNum, payload: &[u8], fin: bool) -> bool {
        // Trim what was already received (left of RCV.NXT) and what lies beyond the window.
        let skip = if data_seq.lt(self.rcv_nxt) {
            (self.rcv_nxt - data_seq) as usize
        } else {
            0
        };
        if skip >= payload.len() {
            self.ack = AckUrgency::Now;
            return fin && skip == payload.len();
        }
        let start_seq = data_seq + skip;
        let offset = (start_seq - self.rcv_nxt) as usize;
        let data = &payload[skip..];
        let written = self.recv_buf.write_unallocated(offset, data);
        let fin = fin && written == data.len();
        if written == 0 {
            self.ack = AckUrgency::Now;
            return false;
        }
        if offset == 0 {
            let had_holes = !self.assembler.is_empty();
            self.recv_buf.commit(written);
            self.advance_rcv(written as u64);
            while let Some(end) = self.assembler.pop_contiguous(self.rcv_off) {
                let n = end - self.rcv_off;
                self.recv_buf.commit(n as usize);
                self.advance_rcv(n);
            }
            self.notify(Notify::READABLE);
            self.unacked_bytes = self.unacked_bytes.saturating_add(written as u32);
            // RFC 5681 §4.2: ACK at once when a hole is filled; else at least every second
            // full-sized segment (SHLD-19), otherwise delayed (MUST-40).
            if had_holes || self.unacked_bytes >= 2 * self.mss {
                self.ack = AckUrgency::Now;
            } else if self.ack == AckUrgency::None {
                self.ack = AckUrgency::Delayed(now + self.delayed_ack);
            }
        } else {
            let start = self.rcv_off + offset as u64;
            self.last_ooo = Some(start);
            if self.assembler.add(start, start + written as u64).is_err() {
                // Too many holes: drop; the peer retransmits.
                self.ack = AckUrgency::Now;
                return false;
            }
            // RFC 5681 §4.2: an out-of-order segment draws an immediate (duplicate) ACK, one per
            // segment (they tell the sender how many segments left the network).
            if self.ack == AckUrgency::Now {
                self.extra_acks = self.extra_acks.saturating_add(1).min(8);
            }
            self.ack = AckUrgency::Now;
        }
        fin
    }

    fn advance_rcv(&mut self, n: u64) {
        self.rcv_off += n;
        self.rcv_nxt = self.rcv_nxt + (n as u32);
        self.stats.bytes_received += n;
        if self.rcv_adv.lt(self.rcv_nxt) {
            self.rcv_adv = self.rcv_nxt;
        }
    }

    /// Eighth step: the peer's FIN is in order.
    fn process_fin(&mut self, now: Instant) {
        self.rcv_nxt = self.rcv_nxt + 1u32;
        if self.rcv_adv.lt(self.rcv_nxt) {
            self.rcv_adv = self.rcv_nxt;
        }
        self.ack = AckUrgency::Now;
        self.notify(Notify::PEER_CLOSED);
        self.notify(Notify::READABLE);
        match self.state {
            State::SynReceived { .. } | State::Established => self.set_state(State::CloseWait),
            State::FinWait1 => {
                let fin_acked = self.fin_queued && self.snd_una == self.fin_seq() + 1u32;
                if fin_acked {
                    self.enter_time_wait(now);
                } else {
                    self.set_state(State::Closing);
                }
            }
            State::FinWait2 => self.enter_time_wait(now),
            State::TimeWait { .. } => self.enter_time_wait(now),
            State::CloseWait
            | State::Closing
            | State::LastAck
            | State::SynSent
            | State::Closed(_) => {}
        }
    }

    /// Enter (or restart) TIME-WAIT for 2·MSL; every other timer stops.
    pub(super) fn enter_time_wait(&mut self, now: Instant) {
        if self.ablations.has(Ablation::NoTimeWait) {
            // Teaching ablation: no TIME-WAIT at all; the last ACK still goes out.
            let window = ((self.rcv_adv - self.rcv_nxt) >> self.rcv_wscale).min(0xFFFF) as u16;
            self.final_ack = Some((self.acceptable_seq(), self.rcv_nxt, window));
            self.set_state(State::Closed(CloseReason::Normal));
            return;
        }
        self.rtx_deadline = None;
        self.persist_deadline = None;
        self.set_state(State::TimeWait {
            until: now + self.time_wait,
        });
    }
}

impl Tcb {
    /// §3.10.7.2 LISTEN, third step: a SYN creates this connection. "Set RCV.NXT to SEG.SEQ+1, IRS
    /// is set to SEG.SEQ ... ISS should be selected and a SYN segment sent of the form
    /// <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>". Text on the SYN is not queued (Linux does the same
    /// without TCP Fast Open); the peer sends it again after the handshake.
    pub fn on_listen_syn(&mut self, now: Instant, seg: &TcpRepr) {
        self.stats.segments_received += 1;
        self.take_peer_syn(now, seg);
    }

    /// The peer's SYN: IRS, RCV.NXT, its options and its (never scaled, RFC 7323 §2.2) window.
    fn take_peer_syn(&mut self, now: Instant, seg: &TcpRepr) {
        self.irs = seg.seq;
        self.rcv_nxt = seg.seq + 1u32;
        // A SYN we sent already offered `syn_window` bytes from here (zero on a passive open).
        self.rcv_adv = self.rcv_nxt + self.syn_window;
        self.last_recv = now;
        self.apply_syn_options(&seg.options);
        self.snd_wnd = u32::from(seg.window);
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = seg.seq;
        self.snd_wl2 = seg.ack;
    }
}
