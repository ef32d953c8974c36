//! SEGMENT ARRIVES (RFC 9293 §3.10.7.3 for SYN-SENT, §3.10.7.4 for the other states), step by step.

#[cfg(feature = "teaching")]
use super::ablation::Ablation;
use super::disposition::Disposition;
use super::error::CloseReason;
use super::payload::Payload;
use super::receiver::{Receiver, RecvParams};
use super::sender::Sender;
use super::state::{State, To};
use super::tcb::{Notify, Tcb};
use super::timestamps::{Timestamps, ts_before};
use crate::seq::SeqNum;
use crate::time::{Duration, Instant};
use crate::trace::{DropReason, TcpState, TimerKind};
use crate::wire::tcp::TcpRepr;

/// How far below RCV.NXT a duplicate may lie and still be reported in a D-SACK: beyond a
/// window or so it is no news the sender can use.
const DSACK_HORIZON: u32 = 1 << 24;

/// Linux's tw_snd_nxt + 65535 + 2: how far past the old connection a reopened one starts.
const REOPEN_ISS_GAP: u32 = 65537;

/// The peer's SYN: IRS, RCV.NXT, its options and its (never scaled, RFC 7323 §2.2) window.
/// Builds the receiving half.
pub(super) fn take_peer_syn(
    snd: &mut Sender,
    params: &RecvParams,
    seg: &TcpRepr,
    now: Instant,
) -> Receiver {
    let offset = snd.syn.timestamps;
    let peer_tsval = snd.negotiate(seg);
    // A SYN we sent already offered `syn.window` bytes from RCV.NXT (zero on a passive open).
    let mut rcv = Receiver::new(
        params,
        seg.seq,
        snd.syn.window,
        snd.syn.wscale.unwrap_or(0),
        snd.syn.sack,
        snd.mss,
    );
    if let (Some(offset), Some(tsval)) = (offset, peer_tsval) {
        rcv.ts = Some(Timestamps::new(offset, tsval, now, rcv.nxt));
    }
    rcv.ecn.on = snd.ecn.on;
    snd.wnd = u32::from(seg.window);
    snd.max_wnd = snd.wnd;
    snd.wl1 = seg.seq;
    snd.wl2 = seg.ack;
    rcv
}

/// RFC 6298 §5.7: "If the timer expires awaiting the ACK of a SYN segment and the TCP
/// implementation is using an RTO less than 3 seconds, the RTO MUST be re-initialized to 3
/// seconds when data transmission begins".
fn on_handshake_complete(snd: &mut Sender) {
    if snd.syn.timed_out && snd.rtt.srtt().is_none() {
        snd.rtt.at_least(Duration::from_secs(3));
    }
}

impl Tcb {
    /// A segment for this connection arrived; `ce`: its IP header carried the CE mark
    /// (RFC 3168 §5).
    pub fn on_segment(
        &mut self,
        now: Instant,
        seg: &TcpRepr,
        payload: Payload<'_>,
        ce: bool,
    ) -> Disposition {
        self.shared.stats.segments_received += u64::from(payload.segments());
        let reply = match self.state {
            State::Closed { .. } => Disposition::Drop(DropReason::NoSocket),
            State::SynSent { .. } => self.on_segment_syn_sent(now, seg, payload),
            State::SynReceived { .. }
            | State::Established { .. }
            | State::FinWait1 { .. }
            | State::FinWait2 { .. }
            | State::CloseWait { .. }
            | State::Closing { .. }
            | State::LastAck { .. }
            | State::TimeWait { .. } => self.on_segment_synchronizing(now, seg, payload, ce),
        };
        self.shared.sync_keepalive(self.state.name());
        #[cfg(feature = "teaching")]
        if let (Disposition::None, Some((seq, ack, window))) =
            (reply, self.shared.teaching.final_ack.take())
        {
            return Disposition::Ack { seq, ack, window };
        }
        reply
    }

    /// Puts `state` in place of the current one (reached from `from`) and lets the trace know.
    fn install(&mut self, from: TcpState, state: State) {
        self.state = state;
        let to = self.state.name();
        if from != to {
            self.shared.transitions.push(from, to);
        }
    }

    /// §3.10.7.3 SYN-SENT.
    fn on_segment_syn_sent(
        &mut self,
        now: Instant,
        seg: &TcpRepr,
        payload: Payload<'_>,
    ) -> Disposition {
        let State::SynSent { snd, .. } = &self.state else {
            return Disposition::Drop(DropReason::Unacceptable);
        };
        let flags = seg.flags;
        // First: check the ACK bit. "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset
        // (unless the RST bit is set)".
        if flags.ack() && (seg.ack.le(snd.iss) || seg.ack.gt(snd.max)) {
            if flags.rst() {
                return Disposition::Drop(DropReason::Unacceptable);
            }
            return Disposition::Rst {
                seq: seg.ack,
                ack: None,
            };
        }
        // Second: check the RST bit.
        if flags.rst() {
            if flags.ack() {
                // Acceptable ACK: "signal to the user 'error: connection reset', ... enter CLOSED".
                self.abort_with(now, CloseReason::Refused);
                return Disposition::None;
            }
            return Disposition::Drop(DropReason::Unacceptable);
        }
        // Fourth: check the SYN bit. Fifth: neither SYN nor RST: drop.
        if !flags.syn() {
            return Disposition::Drop(DropReason::Unacceptable);
        }
        let placeholder = State::Closed {
            reason: CloseReason::Aborted,
            rcv: None,
        };
        let State::SynSent {
            mut snd,
            rcv: params,
        } = core::mem::replace(&mut self.state, placeholder)
        else {
            return Disposition::Drop(DropReason::Unacceptable);
        };
        let rcv = take_peer_syn(&mut snd, &params, seg, now);
        self.shared.last_recv = now;
        if flags.ack() {
            snd.process_new_ack(&mut self.shared, now, seg.ack);
        }
        if snd.una.gt(snd.iss) {
            // Our SYN is acknowledged: ESTABLISHED, send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
            self.install(TcpState::SynSent, State::Established { snd, rcv });
            let confirm_first = self.four_way_client();
            self.established(now, confirm_first);
            if let Some(rcv) = self.state.receiver_mut() {
                rcv.ack_now(&mut self.shared);
            }
            // "Data or controls that were queued for transmission may be included"; text in the
            // SYN continues at the sixth step.
            return self.receive_text_and_fin(now, seg, seg.seq + 1u32, payload);
        }
        // Simultaneous open: SYN-RECEIVED, send <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
        snd.nxt = snd.iss;
        self.shared.timers.stop(TimerKind::Retransmit);
        self.install(
            TcpState::SynSent,
            State::SynReceived {
                snd,
                rcv,
                from_listen: false,
            },
        );
        Disposition::None
    }

    /// §3.10.7.4: SYN-RECEIVED and the synchronized states.
    fn on_segment_synchronizing(
        &mut self,
        now: Instant,
        seg: &TcpRepr,
        payload: Payload<'_>,
        ce: bool,
    ) -> Disposition {
        let flags = seg.flags;
        let seg_len = seg.seq_len(payload.len()) as u32;
        let Some(rcv) = self.state.receiver() else {
            return Disposition::Drop(DropReason::NoSocket);
        };
        // RCV.WND: what we offered, or more if the buffer has since made room.
        let room = rcv.receive_window();
        let rcv_wnd = room.max(rcv.offered());
        let (rcv_nxt, irs) = (rcv.nxt, rcv.irs);
        // First: check sequence number. "If the RCV.WND is zero, no segments will be acceptable,
        // but special allowance should be made to accept valid ACKs, URGs, and RSTs". With no
        // room left that the window field can say (RFC 7323 §2.4: scaling rounds less than one
        // unit away), a segment is processed for its control fields and its text dropped if it
        // starts at RCV.NXT, or (without text) anywhere up to what we offered plus that unit:
        // Linux's sender puts SND.NXT there on its ACKs when bytes it sent into the rounded-away
        // room were dropped (tcp_acceptable_seq); refusing those ACKs wedged connections whose
        // reader waited on its own sending side.
        let closed = room == 0;
        let unit = (1u32 << rcv.wscale) - 1;
        let pure_ack_edge = rcv_nxt + rcv_wnd + unit;
        let zero_window_allowance = closed
            && (seg.seq == rcv_nxt
                || (seg_len == 0 && seg.seq.in_window(rcv_nxt, pure_ack_edge + 1u32)));
        let acceptable = zero_window_allowance || rcv.acceptable(seg.seq, seg_len, rcv_wnd);
        let ts = rcv.ts;
        let seg_ts = seg.options.timestamps;
        // The ACK's echo of our clock, for RTT and spurious-retransmission tests.
        let echo = ts.and_then(|t| seg_ts.map(|(_, tsecr)| (tsecr, t.offset)));

        if let State::SynReceived {
            snd, from_listen, ..
        } = &mut self.state
            && flags.syn()
            && !flags.rst()
            && seg.seq == irs
        {
            if !flags.ack() {
                // A retransmitted SYN means our SYN,ACK was lost: send it again (as Linux does)
                // rather than the bare ACK the acceptability test would produce.
                snd.nxt = snd.iss;
                return Disposition::None;
            }
            // RFC 9293 Figure 8 (simultaneous open), line 6: the peer's SYN,ACK repeats the SYN
            // we hold, which the literal acceptability test would reject; its ACK acknowledges
            // our SYN, so the connection is ESTABLISHED now (Linux makes the same exception).
            if !*from_listen && snd.una.lt(seg.ack) && seg.ack.le(snd.max) {
                snd.wnd = u32::from(seg.window);
                snd.max_wnd = snd.max_wnd.max(snd.wnd);
                snd.wl1 = seg.seq;
                snd.wl2 = seg.ack;
                snd.process_new_ack(&mut self.shared, now, seg.ack);
                self.goto(now, To::Established);
                self.established(now, false);
                // Figure 8 ends here: the peer's own SYN,ACK already crossed ours, so no ACK is
                // needed to complete its handshake.
                return Disposition::None;
            }
        }

        // RFC 7323 §5.3 R1 (PAWS): a segment with an older timestamp than TS.Recent is an old
        // duplicate: acknowledge and drop it.
        if let (Some(ts), Some((tsval, _))) = (ts, seg_ts)
            && ts.paws_rejects(tsval, flags.rst(), now)
        {
            self.ack_now();
            return Disposition::Drop(DropReason::Paws);
        }
        // RFC 6191 (RFC 9293 MAY-2): a SYN in TIME-WAIT may start a new incarnation at once when
        // it cannot be an old duplicate: its timestamp is newer than TS.Recent, or its
        // sequence number lies beyond RCV.NXT (Linux's rule). The new connection's ISS is
        // beyond anything this one sent.
        if let State::TimeWait { sent, .. } = &self.state
            && flags.syn()
            && !flags.ack()
            && !flags.rst()
        {
            let newer_ts =
                matches!((ts, seg_ts), (Some(t), Some((tsval, _))) if ts_before(t.recent, tsval));
            if newer_ts || seg.seq.gt(rcv_nxt) {
                return Disposition::Reopen {
                    iss: sent.end + REOPEN_ISS_GAP,
                };
            }
        }

        if !acceptable {
            // TIME-WAIT: a retransmitted FIN means our last ACK was lost; re-ACK and restart 2·MSL.
            if let State::TimeWait { .. } = self.state
                && flags.fin()
                && !flags.rst()
            {
                self.enter_time_wait(now);
            }
            if !flags.rst() {
                self.ack_now();
            }
            // RFC 2883 §4: data wholly below RCV.NXT came twice; the ACK says so (D-SACK).
            let end = seg.seq + payload.len();
            if !payload.is_empty()
                && end.le(rcv_nxt)
                && rcv_nxt - seg.seq <= DSACK_HORIZON
                && let Some(rcv) = self.state.receiver_mut()
            {
                rcv.dsack = Some((seg.seq, end));
            }
            return Disposition::Drop(DropReason::Unacceptable);
        }
        self.shared.heard_from_peer(now);
        if let Some(snd) = self.state.sender_mut() {
            snd.unanswered_probes = 0;
        }
        // RFC 3168 §6.1.3: a CE mark is echoed (ECE) until the sender answers with CWR.
        if let Some(rcv) = self.state.receiver_mut()
            && rcv.ecn.on_segment(flags, ce, !payload.is_empty())
        {
            self.ack_now();
        }
        // RFC 7323 §4.3 / §5.3 R3: remember the timestamp to echo.
        if let Some((tsval, _)) = seg_ts
            && let Some(ts) = self.state.receiver_mut().and_then(|r| r.ts.as_mut())
        {
            ts.update_recent(tsval, seg.seq, now);
        }
        // Data echoing one of our timestamps times the round trip for the receive buffer's
        // autotuning (Linux's tcp_rcv_rtt_measure_ts).
        if !payload.is_empty()
            && let Some((tsecr, offset)) = echo
            && tsecr != 0
            && let Some(rtt) = super::timestamps::echo_rtt(tsecr, offset, now)
            && !rtt.is_zero()
            && let Some(tune) = self.state.receiver_mut().and_then(|r| r.autotune.as_mut())
        {
            // Millisecond timestamps say nothing below a millisecond: the handshake's
            // microsecond sample stands then.
            tune.rtt_sample(rtt);
        }

        // Second: check the RST bit (with RFC 5961 §3.2's exact-match rule, adopted by §3.10.7.4).
        if flags.rst() {
            if seg.seq != rcv_nxt {
                // In the window but not exact: challenge ACK.
                self.ack_now();
                return Disposition::Drop(DropReason::Challenged);
            }
            let reason = match self.state {
                // Back to LISTEN: the listener never saw this connection; it simply goes away.
                State::SynReceived {
                    from_listen: true, ..
                } => CloseReason::Reset,
                State::SynReceived {
                    from_listen: false, ..
                } => CloseReason::Refused,
                State::Established { .. }
                | State::FinWait1 { .. }
                | State::FinWait2 { .. }
                | State::CloseWait { .. } => CloseReason::Reset,
                // "CLOSING, LAST-ACK, TIME-WAIT: enter the CLOSED state". In CLOSING and
                // LAST-ACK our FIN was never acknowledged, so like Linux we tell the
                // application it was a reset; in TIME-WAIT everything was already done.
                State::Closing { .. } | State::LastAck { .. } => CloseReason::Reset,
                State::TimeWait { .. } => CloseReason::Normal,
                State::SynSent { .. } | State::Closed { .. } => return Disposition::None,
            };
            self.abort_with(now, reason);
            return Disposition::None;
        }

        // Fourth: check the SYN bit (RFC 5961 §4.2 via §3.10.7.4): challenge ACK, drop. "If the
        // connection was initiated with a passive OPEN, then return this connection to the
        // LISTEN state and return."
        if flags.syn() {
            if let State::SynReceived {
                from_listen: true, ..
            } = self.state
            {
                self.abort_with(now, CloseReason::Reset);
                return Disposition::None;
            }
            self.ack_now();
            return Disposition::Drop(DropReason::Challenged);
        }

        // Fifth: check the ACK field.
        if !flags.ack() {
            return Disposition::Drop(DropReason::NoAck);
        }
        if let State::SynReceived { snd, .. } = &mut self.state {
            // "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED" else send a reset.
            if !(snd.una.lt(seg.ack) && seg.ack.le(snd.max)) {
                return Disposition::Rst {
                    seq: seg.ack,
                    ack: None,
                };
            }
            snd.wnd = u32::from(seg.window) << snd.wscale;
            snd.max_wnd = snd.max_wnd.max(snd.wnd);
            snd.wl1 = seg.seq;
            snd.wl2 = seg.ack;
            self.goto(now, To::Established);
            self.established(now, false);
            self.four_way_server_confirms();
        } else {
            self.confirm_four_way();
        }
        let (una, max, max_wnd) = match (self.state.sender(), self.state.sent_all()) {
            (Some(snd), _) => (snd.una, snd.max, snd.max_wnd),
            (None, Some(sent)) => (sent.end, sent.end, sent.max_wnd),
            (None, None) => return Disposition::Drop(DropReason::NoSocket),
        };
        if seg.ack.gt(max) {
            // Acknowledges something not yet sent: send an ACK and drop (§3.10.7.4).
            self.ack_now();
            return Disposition::Drop(DropReason::BadAck);
        }
        // RFC 5961 §5.2: too old an ACK is dropped with a challenge ACK.
        if seg.ack.lt(una - max_wnd.max(1)) {
            self.ack_now();
            return Disposition::Drop(DropReason::BadAck);
        }
        // RFC 9293 §3.10.7.4 fifth step, TIME-WAIT: "The only thing that can arrive in this
        // state is a retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL
        // timeout." (Whatever it is: it is acceptable and new, and the peer wants an answer.)
        if let State::TimeWait { .. } = self.state {
            self.ack_now();
            self.enter_time_wait(now);
            return Disposition::None;
        }
        if let Some(snd) = self.state.sender_mut() {
            // Coalesced segments update the window as their last one would have (SND.WL1).
            let last = TcpRepr {
                seq: seg.seq + payload.last_offset(),
                ..*seg
            };
            snd.on_ack(&mut self.shared, now, &last, payload.len(), echo);
            // Our FIN acknowledged: FIN-WAIT-1 → FIN-WAIT-2, CLOSING → TIME-WAIT,
            // LAST-ACK → CLOSED.
            if snd.fin_acked() {
                match self.state {
                    State::FinWait1 { .. } => {
                        self.goto(now, To::FinWait2);
                        self.arm_orphan_timeout(now);
                    }
                    State::Closing { .. } => self.enter_time_wait(now),
                    State::LastAck { .. } => self.goto(now, To::Closed(CloseReason::Normal)),
                    State::SynSent { .. }
                    | State::SynReceived { .. }
                    | State::Established { .. }
                    | State::FinWait2 { .. }
                    | State::CloseWait { .. }
                    | State::TimeWait { .. }
                    | State::Closed { .. } => {}
                }
            }
        }
        if self.is_closed() {
            return Disposition::None;
        }

        // Sixth: the URG bit (urgent.rs). Seventh and eighth: segment text and FIN.
        self.receive_urgent(seg);
        if zero_window_allowance && seg_len > 0 {
            // The text (and any FIN) lies outside the closed window: acknowledge, do not take it.
            self.ack_now();
            return Disposition::None;
        }
        self.receive_text_and_fin(now, seg, seg.seq, payload)
    }

    /// The connection just became ESTABLISHED: tell the application (unless it must wait for
    /// a teaching ablation's confirmation), and move on to FIN-WAIT-1 if a CLOSE was queued.
    fn established(&mut self, now: Instant, confirm_first: bool) {
        let Some(snd) = self.state.sender_mut() else {
            return;
        };
        on_handshake_complete(snd);
        let fin_queued = snd.fin_queued;
        let srtt = snd.rtt.srtt();
        if let (Some(srtt), Some(tune)) = (
            srtt,
            self.state.receiver_mut().and_then(|r| r.autotune.as_mut()),
        ) {
            tune.rtt_sample(srtt);
        }
        if confirm_first {
            self.set_await_confirm();
        } else {
            self.shared.notify(Notify::CONNECTED);
        }
        if fin_queued {
            self.goto(now, To::FinWait1);
        }
    }

    /// An ACK is owed at once.
    pub(super) fn ack_now(&mut self) {
        if let Some(rcv) = self.state.receiver_mut() {
            rcv.ack_now(&mut self.shared);
        }
    }

    /// Seventh (text) and eighth (FIN) steps. `data_seq` is the sequence number of `payload[0]`.
    fn receive_text_and_fin(
        &mut self,
        now: Instant,
        seg: &TcpRepr,
        data_seq: SeqNum,
        payload: Payload<'_>,
    ) -> Disposition {
        let mut fin = seg.flags.fin();
        let accepts_data = self.state.accepts_data();
        let peer_finished = self.state.peer_finished();
        if !payload.is_empty() && accepts_data && !self.shared.owned {
            // Data for a connection the application has closed: nobody will read it (Linux
            // answers with a reset; RFC 9293 §3.10.7.4 leaves it to the implementation).
            let rst = self.rst();
            self.abort_with(now, CloseReason::Aborted);
            return rst;
        }
        // Linux's quick-ACK restart: in-order data after more than an RTO of silence.
        let idle_after = self
            .state
            .sender()
            .map_or(Duration::from_secs(1), |snd| snd.rtt.rto());
        let Some(rcv) = self.state.receiver_mut() else {
            return Disposition::None;
        };
        if !payload.is_empty() && accepts_data {
            fin = rcv
                .accept_text(&mut self.shared, now, data_seq, payload, fin, idle_after)
                .fin;
        } else if !payload.is_empty() {
            // CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: "should not occur since a FIN has been
            // received"; ignore the text.
            fin = false;
        }
        if peer_finished {
            return Disposition::None;
        }
        if fin && let Some(off) = rcv.fin_offset(data_seq + payload.len()) {
            rcv.pending_fin = Some(off);
        }
        if rcv.pending_fin == Some(rcv.off) {
            rcv.pending_fin = None;
            rcv.take_fin(&mut self.shared);
            self.process_fin(now);
        }
        Disposition::None
    }

    /// Eighth step: the peer's FIN is in order (RCV.NXT already counts it).
    fn process_fin(&mut self, now: Instant) {
        match &self.state {
            State::SynReceived { .. } | State::Established { .. } => self.goto(now, To::CloseWait),
            State::FinWait1 { snd, .. } => {
                if snd.fin_acked() {
                    self.enter_time_wait(now);
                } else {
                    self.goto(now, To::Closing);
                }
            }
            State::FinWait2 { .. } | State::TimeWait { .. } => self.enter_time_wait(now),
            State::CloseWait { .. }
            | State::Closing { .. }
            | State::LastAck { .. }
            | State::SynSent { .. }
            | State::Closed { .. } => {}
        }
    }

    /// Enter (or restart) TIME-WAIT for 2·MSL; every other timer stops.
    pub(super) fn enter_time_wait(&mut self, now: Instant) {
        #[cfg(feature = "teaching")]
        if self.shared.teaching.ablations.has(Ablation::NoTimeWait) {
            // Teaching ablation: no TIME-WAIT at all; the last ACK still goes out.
            let seq = self.state.sender().map(Sender::acceptable_seq);
            let seq = seq.or(self.state.sent_all().map(|s| s.end));
            if let (Some(seq), Some(rcv)) = (seq, self.state.receiver()) {
                self.shared.teaching.final_ack = Some((seq, rcv.nxt, rcv.current_window_field()));
            }
            self.goto(now, To::Closed(CloseReason::Normal));
            return;
        }
        self.goto(now, To::TimeWait);
    }

    /// FourWayHandshake ablation, client side: after its ACK it waits for the server's extra
    /// message before telling the application it is connected.
    fn four_way_client(&self) -> bool {
        #[cfg(feature = "teaching")]
        {
            self.shared
                .teaching
                .ablations
                .has(Ablation::FourWayHandshake)
        }
        #[cfg(not(feature = "teaching"))]
        {
            false
        }
    }

    #[cfg(feature = "teaching")]
    fn set_await_confirm(&mut self) {
        self.shared.teaching.await_confirm = true;
    }

    #[cfg(not(feature = "teaching"))]
    fn set_await_confirm(&mut self) {}

    /// FourWayHandshake ablation, server side: a fourth message acknowledging the client's ACK.
    fn four_way_server_confirms(&mut self) {
        #[cfg(feature = "teaching")]
        if self
            .shared
            .teaching
            .ablations
            .has(Ablation::FourWayHandshake)
        {
            self.ack_now();
        }
    }

    /// FourWayHandshake ablation, client side: any segment from the server after the
    /// handshake is the confirmation the client waited for.
    fn confirm_four_way(&mut self) {
        #[cfg(feature = "teaching")]
        if self.shared.teaching.await_confirm {
            self.shared.teaching.await_confirm = false;
            self.shared.notify(Notify::CONNECTED);
        }
    }
}
