//! Segment generation: SYN, data (with Nagle and sender silly-window avoidance), FIN, ACKs,
//! retransmissions and probes. The stack calls `poll_segment` until it returns `None`.

use super::congestion::CongestionControl;
use super::state::State;
use super::tcb::{AckUrgency, Tcb};
use crate::seq::SeqNum;
use crate::time::{Duration, Instant};
use crate::wire::tcp::{SackBlock, TcpFlags, TcpOptions, TcpRepr};

/// One segment to send: header fields, plus which bytes of the send buffer are its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub repr: TcpRepr,
    /// Offset of the payload in the send buffer (see [`Tcb::copy_payload`]).
    pub payload_offset: usize,
    pub payload_len: usize,
}

/// Longest interval between zero-window probes (Linux: TCP_RTO_MAX caps it the same way).
const MAX_PERSIST: Duration = Duration::from_secs(60);

impl Tcb {
    /// Appends `len` payload bytes from `offset` of the send buffer to `frame`.
    pub fn append_payload(&self, offset: usize, len: usize, frame: &mut Vec<u8>) -> usize {
        self.send_buf.append_to(offset, len, frame)
    }

    /// The next segment this connection wants to send, if any.
    pub fn poll_segment(&mut self, now: Instant) -> Option<Outgoing> {
        match self.state {
            State::Closed(_) => None,
            State::SynSent => (self.snd_nxt == self.iss).then(|| self.send_syn(now)),
            // In a simultaneous open the peer's SYN,ACK is unacceptable here (it repeats the SYN
            // we already hold) and draws an ACK, which completes the peer's handshake (Figure 8).
            State::SynReceived { .. } => {
                if self.snd_nxt == self.iss {
                    Some(self.send_syn(now))
                } else {
                    self.pure_ack_if_due()
                }
            }
            State::TimeWait { .. } => self.pure_ack_if_due(),
            // Synchronized while our SYN is still unacknowledged (closed straight from
            // SYN-RECEIVED, or the two-way-handshake ablation): the SYN goes again first.
            State::Established
            | State::CloseWait
            | State::FinWait1
            | State::LastAck
            | State::Closing
                if self.snd_nxt == self.iss =>
            {
                Some(self.send_syn(now))
            }
            State::Established
            | State::FinWait1
            | State::FinWait2
            | State::CloseWait
            | State::Closing
            | State::LastAck => self
                .poll_keepalive()
                .or_else(|| self.poll_retransmit_one(now))
                .or_else(|| self.poll_probe(now))
                .or_else(|| self.poll_data(now))
                .or_else(|| self.pure_ack_if_due()),
        }
    }

    fn header(&mut self, seq: SeqNum, flags: TcpFlags) -> TcpRepr {
        let has_ack = flags.ack();
        let window = if flags.syn() {
            // RFC 7323 §2.2: the window in a SYN is never scaled.
            self.receive_window().min(0xFFFF) as u16
        } else {
            self.advertise_window()
        };
        if has_ack {
            self.ack = AckUrgency::None;
            self.unacked_bytes = 0;
        }
        self.stats.segments_sent += 1;
        TcpRepr {
            src_port: self.local.port(),
            dst_port: self.remote.port(),
            seq,
            ack: if has_ack { self.rcv_nxt } else { SeqNum(0) },
            flags,
            window,
            urgent: 0,
            options: TcpOptions::default(),
        }
    }

    /// Receiver SWS avoidance (RFC 9293 §3.8.6.2.2, MUST-39): move the right edge only by at least
    /// min(buffer/2, MSS); never move it left.
    fn advertise_window(&mut self) -> u16 {
        let potential = self.rcv_nxt + self.receive_window();
        let threshold = (self.recv_buf.capacity() as u32 / 2).min(self.mss).max(1);
        let edge = if potential.gt(self.rcv_adv) && potential - self.rcv_adv >= threshold {
            potential
        } else {
            self.rcv_adv.max(self.rcv_nxt)
        };
        // Scaling rounds down, which may pull the edge left by less than 2^shift (RFC 7323 §2.4
        // allows it); rounding up instead would offer space the buffer does not have.
        let field = ((edge - self.rcv_nxt) >> self.rcv_wscale).min(0xFFFF);
        let advertised = self.rcv_nxt + (field << self.rcv_wscale);
        if advertised.gt(self.rcv_adv) {
            self.rcv_adv = advertised;
        }
        field as u16
    }

    /// SYN (active open) or SYN,ACK (passive or simultaneous open), with our options.
    fn send_syn(&mut self, now: Instant) -> Outgoing {
        let mut flags = TcpFlags::SYN;
        if self.state != State::SynSent {
            flags |= TcpFlags::ACK;
        }
        let retransmission = self.snd_max.gt(self.iss);
        let mut repr = self.header(self.iss, flags);
        // Remember the edge this offers so later windows never move it left (SHLD-14).
        self.syn_window = u32::from(repr.window);
        if flags.ack() {
            let edge = self.rcv_nxt + self.syn_window;
            if edge.gt(self.rcv_adv) {
                self.rcv_adv = edge;
            }
        }
        repr.options.mss = Some(self.our_mss);
        repr.options.sack_permitted = self.sack_ok;
        if self.offer_wscale {
            repr.options.window_scale = Some(self.rcv_wscale);
        }
        self.consumed(now, self.iss, 1, retransmission);
        if self
            .ablations
            .has(super::ablation::Ablation::TwoWayHandshake)
            && self.state == (State::SynReceived { from_listen: true })
        {
            // Teaching ablation: the server counts the connection as established once its
            // SYN,ACK is out, without waiting for the third message.
            self.set_state(State::Established);
            self.notify(super::tcb::Notify::CONNECTED);
        }
        Outgoing {
            repr,
            payload_offset: 0,
            payload_len: 0,
        }
    }

    /// Bookkeeping after a segment that occupies sequence space left at `seq`.
    fn consumed(&mut self, now: Instant, seq: SeqNum, seq_len: u32, retransmission: bool) {
        let end = seq + seq_len;
        if self.snd_nxt.lt(end) {
            self.snd_nxt = end;
        }
        if self.snd_max.lt(end) {
            self.snd_max = end;
        }
        if retransmission {
            self.stats.retransmissions += 1;
            // Karn (MUST-18): no RTT sample from a retransmitted segment.
            self.rtt.cancel_timing();
        } else {
            self.rtt.start_timing(end, now);
        }
        if self.rtx_deadline.is_none() {
            self.rtx_deadline = Some(now + self.rtt.rto());
        }
    }

    /// A segment of up to one MSS starting at `seq`, FIN included if it reaches the end.
    fn data_segment(&mut self, now: Instant, seq: SeqNum, max_len: u32, push: bool) -> Outgoing {
        let offset = (seq - self.buf_seq) as usize;
        let avail = self.send_buf.len().saturating_sub(offset);
        let len = avail.min(max_len as usize);
        let mut flags = TcpFlags::ACK;
        let fin = self.fin_queued && offset + len == self.send_buf.len() && self.fin_allowed();
        if fin {
            flags |= TcpFlags::FIN;
        }
        // MUST-61 (PSH on the last segment of a write): we push whenever the queue empties.
        if len > 0 && (push || offset + len == self.send_buf.len()) {
            flags |= TcpFlags::PSH;
        }
        let retransmission = seq.lt(self.snd_max);
        let urgent = self.urgent_for(seq);
        if urgent.is_some() {
            flags |= TcpFlags::URG;
        }
        let mut repr = self.header(seq, flags);
        repr.urgent = urgent.unwrap_or(0);
        let seq_len = len as u32 + u32::from(fin);
        if seq_len > 0 {
            self.consumed(now, seq, seq_len, retransmission);
        }
        if !retransmission {
            self.stats.bytes_sent += len as u64;
        }
        Outgoing {
            repr,
            payload_offset: offset,
            payload_len: len,
        }
    }

    /// Our FIN may go out in the closing states only (the user's CLOSE moved us there).
    fn fin_allowed(&self) -> bool {
        match self.state {
            State::FinWait1 | State::Closing | State::LastAck => true,
            State::SynSent
            | State::SynReceived { .. }
            | State::Established
            | State::FinWait2
            | State::CloseWait
            | State::TimeWait { .. }
            | State::Closed(_) => false,
        }
    }

    /// RFC 5681 §3.2 / RFC 6582: resend the first unacknowledged segment.
    fn poll_retransmit_one(&mut self, now: Instant) -> Option<Outgoing> {
        if !self.rexmit_one {
            return None;
        }
        self.rexmit_one = false;
        if self.snd_una == self.snd_max {
            return None;
        }
        // Never more than the peer's window allows (it may be smaller than a segment).
        let len = self.mss.min(self.snd_wnd.max(1));
        Some(self.data_segment(now, self.snd_una, len, false))
    }

    /// Zero-window probe (RFC 9293 §3.8.6.1, MUST-35..37) or the SWS override timeout: send what
    /// fits, at least one byte, ignoring the window.
    fn poll_probe(&mut self, now: Instant) -> Option<Outgoing> {
        if !self.probe_pending {
            return None;
        }
        self.probe_pending = false;
        let unsent = self.fin_seq() - self.snd_una;
        if unsent == 0 {
            return None;
        }
        // Room counted from SND.UNA: the probe resends from there.
        let room = self.snd_wnd.min(self.cc.cwnd());
        let len = room.max(1).min(self.mss);
        self.unanswered_probes = self.unanswered_probes.saturating_add(1);
        let seg = self.data_segment(now, self.snd_una, len, true);
        // Probes are paced by the persist timer, not the retransmission timer (MUST-36: they do
        // not count against R2).
        if room == 0 {
            self.rtx_deadline = None;
            self.arm_persist(now);
        }
        Some(seg)
    }

    /// Usable window: min(SND.WND, cwnd) minus what is in flight.
    fn send_room(&self) -> u32 {
        let cwnd = self
            .cc
            .cwnd()
            .saturating_add(self.limited_transmit * self.mss);
        let wnd = self.snd_wnd.min(cwnd);
        let edge = self.snd_una + wnd;
        if edge.gt(self.snd_nxt) {
            edge - self.snd_nxt
        } else {
            0
        }
    }

    fn arm_persist(&mut self, now: Instant) {
        let base = self.rtt.rto();
        let interval = base
            .saturating_mul(1u32 << self.persist_backoff.min(10))
            .min(MAX_PERSIST);
        self.persist_deadline = Some(now + interval);
    }

    /// New data (and FIN). Nagle (RFC 9293 §3.7.4) and sender SWS avoidance (§3.8.6.2.1, MUST-38).
    fn poll_data(&mut self, now: Instant) -> Option<Outgoing> {
        if self.await_confirm {
            return None;
        }
        let data_end = self.fin_seq();
        if self.snd_nxt.lt(data_end) {
            let avail = data_end - self.snd_nxt;
            let room = self.send_room();
            let len = avail.min(room).min(self.mss);
            let in_flight = self.snd_max.gt(self.snd_una);
            let retransmission = self.snd_nxt.lt(self.snd_max);
            let send = len > 0
                && (len == self.mss
                    || retransmission
                    || (len == avail && (!self.nagle || !in_flight || self.fin_queued))
                    || (!in_flight && self.max_snd_wnd > 0 && len >= self.max_snd_wnd / 2));
            if send {
                return Some(self.data_segment(now, self.snd_nxt, len, false));
            }
            // Blocked by the window with nothing in flight: the persist timer will probe.
            if !in_flight && self.persist_deadline.is_none() {
                self.arm_persist(now);
            }
            self.ensure_timer(now);
            return None;
        }
        if self.fin_queued && self.snd_nxt == data_end && self.fin_allowed() {
            return Some(self.data_segment(now, data_end, 0, false));
        }
        None
    }

    /// Sequence number for a segment without data: the RFC's SND.NXT, which after a timeout is
    /// our SND.MAX (we resend from SND.UNA but the peer may hold everything up to SND.MAX), yet
    /// never past the right edge of the peer's window, or its acceptability test would discard
    /// the ACK and answer with one of its own (Linux's tcp_acceptable_seq does the same).
    pub(super) fn acceptable_seq(&self) -> SeqNum {
        let wnd_end = self.snd_una + self.snd_wnd;
        if self.snd_max.le(wnd_end) {
            self.snd_max
        } else {
            wnd_end.max(self.snd_una)
        }
    }

    /// Invariant: anything unacknowledged has a retransmission or persist timer behind it.
    fn ensure_timer(&mut self, now: Instant) {
        if self.snd_una != self.snd_max
            && self.rtx_deadline.is_none()
            && self.persist_deadline.is_none()
        {
            self.rtx_deadline = Some(now + self.rtt.rto());
        }
    }

    fn pure_ack_if_due(&mut self) -> Option<Outgoing> {
        if self.ack != AckUrgency::Now {
            return None;
        }
        if self.extra_acks > 0 {
            // RFC 5681 §4.2: one duplicate ACK per out-of-order segment, even when several
            // arrived before we could send.
            self.extra_acks -= 1;
            let seq = self.acceptable_seq();
            let mut repr = self.header(seq, TcpFlags::ACK);
            self.add_sack_blocks(&mut repr);
            self.ack = AckUrgency::Now;
            return Some(Outgoing {
                repr,
                payload_offset: 0,
                payload_len: 0,
            });
        }
        let seq = self.acceptable_seq();
        let mut repr = self.header(seq, TcpFlags::ACK);
        self.add_sack_blocks(&mut repr);
        Some(Outgoing {
            repr,
            payload_offset: 0,
            payload_len: 0,
        })
    }

    /// RFC 2018 §4: report out-of-order data held, the block with the most recent arrival first,
    /// then the others from the highest down. Only on segments without data, so the options
    /// never eat into the MSS.
    fn add_sack_blocks(&self, repr: &mut TcpRepr) {
        if !self.sack_ok || self.assembler.is_empty() {
            return;
        }
        let base = self.irs + 1u32;
        let to_seq = |off: u64| base + (off as u32);
        let ranges = self.assembler.ranges();
        let latest = self
            .last_ooo
            .and_then(|s| ranges.iter().position(|&(a, b)| a <= s && s < b));
        let order = latest
            .into_iter()
            .chain((0..ranges.len()).rev().filter(|&i| Some(i) != latest));
        for (n, i) in order.take(3).enumerate() {
            let (a, b) = ranges[i];
            repr.options.sack_blocks[n] = Some(SackBlock {
                left: to_seq(a),
                right: to_seq(b),
            });
        }
    }

    /// Keep-alive probe (RFC 9293 §3.8.4): SEG.SEQ = SND.NXT - 1, no data (SHLD-12; Linux does the same).
    fn poll_keepalive(&mut self) -> Option<Outgoing> {
        if !self.keepalive_pending {
            return None;
        }
        self.keepalive_pending = false;
        let seq = self.snd_una - 1u32;
        let repr = self.header(seq, TcpFlags::ACK);
        Some(Outgoing {
            repr,
            payload_offset: 0,
            payload_len: 0,
        })
    }
}
