//! Segment generation: SYN, data (with Nagle and sender silly-window avoidance), FIN, ACKs,
//! retransmissions and probes. The stack calls `poll_segment` until it returns `None`.

use super::congestion::CongestionControl;
use super::receiver::Receiver;
use super::sender::Sender;
use super::state::State;
use super::tcb::{Shared, Tcb};
use crate::seq::SeqNum;
use crate::time::{Duration, Instant};
use crate::trace::TimerKind;
use crate::wire::tcp::{TcpFlags, TcpOptions, TcpRepr};

/// One segment to send: header fields, plus which bytes of the send buffer are its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub repr: TcpRepr,
    /// Offset of the payload in the send buffer (see [`Tcb::append_payload`]).
    pub payload_offset: usize,
    pub payload_len: usize,
}

impl Outgoing {
    fn control(repr: TcpRepr) -> Outgoing {
        Outgoing {
            repr,
            payload_offset: 0,
            payload_len: 0,
        }
    }
}

/// Longest interval between zero-window probes (Linux: TCP_RTO_MAX caps it the same way).
const MAX_PERSIST: Duration = Duration::from_secs(60);

/// A header from this connection: ports, SEQ, and (with ACK) RCV.NXT and our window. Any
/// segment with ACK set answers whatever ACK was owed.
fn header(
    shared: &mut Shared,
    rcv: Option<&mut Receiver>,
    syn_window: u32,
    seq: SeqNum,
    flags: TcpFlags,
) -> TcpRepr {
    let (ack, window) = match rcv {
        Some(rcv) => {
            let window = if flags.syn() {
                // RFC 7323 §2.2: the window in a SYN is never scaled.
                rcv.receive_window().min(0xFFFF) as u16
            } else {
                rcv.advertise_window()
            };
            let ack = rcv.nxt;
            if flags.ack() {
                rcv.acked(shared);
            }
            (ack, window)
        }
        None => (SeqNum(0), syn_window.min(0xFFFF) as u16),
    };
    shared.stats.segments_sent += 1;
    TcpRepr {
        src_port: shared.local.port(),
        dst_port: shared.remote.port(),
        seq,
        ack: if flags.ack() { ack } else { SeqNum(0) },
        flags,
        window,
        urgent: 0,
        options: TcpOptions::default(),
    }
}

impl Tcb {
    /// Appends `len` payload bytes from `offset` of the send buffer to `frame`.
    pub fn append_payload(&self, offset: usize, len: usize, frame: &mut Vec<u8>) -> usize {
        self.state
            .sender()
            .map_or(0, |snd| snd.buf.append_to(offset, len, frame))
    }

    /// The next segment this connection wants to send, if any.
    pub fn poll_segment(&mut self, now: Instant) -> Option<Outgoing> {
        let fin_allowed = self.state.fin_allowed();
        let sends_urgent = self.state.sends_urgent();
        let shared = &mut self.shared;
        let out = match &mut self.state {
            State::Closed { .. } => None,
            State::SynSent { snd, rcv } => {
                let window = rcv.syn_window();
                (snd.nxt == snd.iss).then(|| send_syn(shared, snd, None, window, now))
            }
            // In a simultaneous open the peer's SYN,ACK is unacceptable here (it repeats the SYN
            // we already hold) and draws an ACK, which completes the peer's handshake (Figure 8).
            State::SynReceived { snd, rcv, .. } => {
                if snd.nxt == snd.iss {
                    Some(send_syn(shared, snd, Some(rcv), 0, now))
                } else {
                    pure_ack_if_due(shared, rcv, snd.acceptable_seq())
                }
            }
            State::TimeWait { rcv, sent } => pure_ack_if_due(shared, rcv, sent.end),
            State::FinWait2 { rcv, sent } => poll_keepalive(shared, rcv, sent.end)
                .or_else(|| pure_ack_if_due(shared, rcv, sent.end)),
            // Synchronized while our SYN is still unacknowledged (closed straight from
            // SYN-RECEIVED, or the two-way-handshake ablation): the SYN goes again first.
            State::Established { snd, rcv }
            | State::CloseWait { snd, rcv }
            | State::FinWait1 { snd, rcv }
            | State::LastAck { snd, rcv }
            | State::Closing { snd, rcv }
                if snd.nxt == snd.iss =>
            {
                Some(send_syn(shared, snd, Some(rcv), 0, now))
            }
            State::Established { snd, rcv }
            | State::FinWait1 { snd, rcv }
            | State::CloseWait { snd, rcv }
            | State::Closing { snd, rcv }
            | State::LastAck { snd, rcv } => {
                let mut seg = Segmenter {
                    shared,
                    snd,
                    rcv,
                    fin_allowed,
                    sends_urgent,
                    now,
                };
                seg.poll()
            }
        };
        self.two_way_server_established(now);
        out
    }

    /// TwoWayHandshake ablation: the server counts the connection as established once its
    /// SYN,ACK is out, without waiting for the third message.
    fn two_way_server_established(&mut self, now: Instant) {
        #[cfg(feature = "teaching")]
        if self
            .shared
            .teaching
            .ablations
            .has(super::ablation::Ablation::TwoWayHandshake)
            && let State::SynReceived {
                snd,
                from_listen: true,
                ..
            } = &self.state
            && snd.max.gt(snd.iss)
        {
            self.goto(now, super::state::To::Established);
            self.shared.notify(super::tcb::Notify::CONNECTED);
        }
        #[cfg(not(feature = "teaching"))]
        let _ = now;
    }
}

/// SYN (active open) or SYN,ACK (passive or simultaneous open), with our options.
fn send_syn(
    shared: &mut Shared,
    snd: &mut Sender,
    rcv: Option<&mut Receiver>,
    syn_window: u32,
    now: Instant,
) -> Outgoing {
    let with_ack = rcv.is_some();
    let mut flags = TcpFlags::SYN;
    if with_ack {
        flags |= TcpFlags::ACK;
    }
    let retransmission = snd.max.gt(snd.iss);
    let mut rcv = rcv;
    let mut repr = header(shared, rcv.as_deref_mut(), syn_window, snd.iss, flags);
    // Remember the edge this offers so later windows never move it left (SHLD-14).
    snd.syn.window = u32::from(repr.window);
    if let Some(rcv) = rcv {
        let edge = rcv.nxt + snd.syn.window;
        if edge.gt(rcv.adv) {
            rcv.adv = edge;
        }
    }
    repr.options.mss = Some(snd.syn.mss);
    repr.options.sack_permitted = snd.syn.sack;
    repr.options.window_scale = snd.syn.wscale;
    consumed(shared, snd, now, snd.iss, 1, retransmission);
    Outgoing::control(repr)
}

/// Bookkeeping after a segment that occupies sequence space left at `seq`.
fn consumed(
    shared: &mut Shared,
    snd: &mut Sender,
    now: Instant,
    seq: SeqNum,
    seq_len: u32,
    retransmission: bool,
) {
    let end = seq + seq_len;
    if snd.nxt.lt(end) {
        snd.nxt = end;
    }
    if snd.max.lt(end) {
        snd.max = end;
    }
    if retransmission {
        shared.stats.retransmissions += 1;
        // Karn (MUST-18): no RTT sample from a retransmitted segment.
        snd.rtt.cancel_timing();
    } else {
        snd.rtt.start_timing(end, now);
    }
    let rto = snd.rtt.rto();
    shared.timers.set_if_idle(TimerKind::Retransmit, now + rto);
}

/// A segment without data, answering whatever ACK is owed.
fn pure_ack_if_due(shared: &mut Shared, rcv: &mut Receiver, seq: SeqNum) -> Option<Outgoing> {
    if !rcv.ack_now {
        return None;
    }
    // RFC 5681 §4.2: one duplicate ACK per out-of-order segment, even when several arrived
    // before we could send.
    let again = rcv.extra_acks > 0;
    if again {
        rcv.extra_acks -= 1;
    }
    let mut repr = header(shared, Some(rcv), 0, seq, TcpFlags::ACK);
    rcv.add_sack_blocks(&mut repr);
    if again {
        rcv.ack_now(shared);
    }
    Some(Outgoing::control(repr))
}

/// Keep-alive probe (RFC 9293 §3.8.4): SEG.SEQ = SND.NXT - 1, no data (SHLD-12; Linux does the
/// same). `una` is SND.UNA.
fn poll_keepalive(shared: &mut Shared, rcv: &mut Receiver, una: SeqNum) -> Option<Outgoing> {
    if !shared.keepalive.pending {
        return None;
    }
    shared.keepalive.pending = false;
    let repr = header(shared, Some(rcv), 0, una - 1u32, TcpFlags::ACK);
    Some(Outgoing::control(repr))
}

/// Cuts segments from the send buffer in a synchronized state with both halves.
struct Segmenter<'a> {
    shared: &'a mut Shared,
    snd: &'a mut Sender,
    rcv: &'a mut Receiver,
    fin_allowed: bool,
    sends_urgent: bool,
    now: Instant,
}

impl Segmenter<'_> {
    fn poll(&mut self) -> Option<Outgoing> {
        let una = self.snd.una;
        poll_keepalive(self.shared, self.rcv, una)
            .or_else(|| self.poll_retransmit_one())
            .or_else(|| self.poll_probe())
            .or_else(|| self.poll_data())
            .or_else(|| {
                let seq = self.snd.acceptable_seq();
                pure_ack_if_due(self.shared, self.rcv, seq)
            })
    }

    /// A segment of up to `max_len` bytes starting at `seq`, FIN included if it reaches the end.
    fn data_segment(&mut self, seq: SeqNum, max_len: u32, push: bool) -> Outgoing {
        let snd = &mut *self.snd;
        let offset = (seq - snd.buf_seq) as usize;
        let avail = snd.buf.len().saturating_sub(offset);
        let len = avail.min(max_len as usize);
        let mut flags = TcpFlags::ACK;
        let fin = snd.fin_queued && offset + len == snd.buf.len() && self.fin_allowed;
        if fin {
            flags |= TcpFlags::FIN;
        }
        // MUST-61 (PSH on the last segment of a write): we push whenever the queue empties.
        if len > 0 && (push || offset + len == snd.buf.len()) {
            flags |= TcpFlags::PSH;
        }
        let retransmission = seq.lt(snd.max);
        let urgent = if self.sends_urgent {
            snd.urgent_for(seq)
        } else {
            None
        };
        if urgent.is_some() {
            flags |= TcpFlags::URG;
        }
        let mut repr = header(self.shared, Some(self.rcv), 0, seq, flags);
        repr.urgent = urgent.unwrap_or(0);
        let seq_len = len as u32 + u32::from(fin);
        if seq_len > 0 {
            consumed(self.shared, snd, self.now, seq, seq_len, retransmission);
        }
        if !retransmission {
            self.shared.stats.bytes_sent += len as u64;
        }
        Outgoing {
            repr,
            payload_offset: offset,
            payload_len: len,
        }
    }

    /// RFC 5681 §3.2 / RFC 6582: resend the first unacknowledged segment.
    fn poll_retransmit_one(&mut self) -> Option<Outgoing> {
        if !self.snd.recovery.take_retransmit() || self.snd.una == self.snd.max {
            return None;
        }
        // Never more than the peer's window allows (it may be smaller than a segment).
        let len = self.snd.mss.min(self.snd.wnd.max(1));
        Some(self.data_segment(self.snd.una, len, false))
    }

    /// Zero-window probe (RFC 9293 §3.8.6.1, MUST-35..37) or the SWS override timeout: send
    /// what fits, at least one byte, ignoring the window.
    fn poll_probe(&mut self) -> Option<Outgoing> {
        if !core::mem::take(&mut self.snd.probe_pending) {
            return None;
        }
        let unsent = self.snd.fin_seq() - self.snd.una;
        if unsent == 0 {
            return None;
        }
        // Room counted from SND.UNA: the probe resends from there.
        let room = self.snd.wnd.min(self.snd.cc.cwnd());
        let len = room.max(1).min(self.snd.mss);
        self.snd.unanswered_probes = self.snd.unanswered_probes.saturating_add(1);
        let seg = self.data_segment(self.snd.una, len, true);
        // Probes are paced by the persist timer, not the retransmission timer (MUST-36: they do
        // not count against R2).
        if room == 0 {
            self.shared.timers.stop(TimerKind::Retransmit);
            arm_persist(self.shared, self.snd, self.now);
        }
        Some(seg)
    }

    /// New data (and FIN). Nagle (RFC 9293 §3.7.4) and sender SWS avoidance (§3.8.6.2.1, MUST-38).
    fn poll_data(&mut self) -> Option<Outgoing> {
        if self.awaiting_confirmation() {
            return None;
        }
        let snd = &*self.snd;
        let data_end = snd.fin_seq();
        if snd.nxt.lt(data_end) {
            let avail = data_end - snd.nxt;
            let room = snd.send_room();
            let len = avail.min(room).min(snd.mss);
            let in_flight = snd.max.gt(snd.una);
            let retransmission = snd.nxt.lt(snd.max);
            let send = len > 0
                && (len == snd.mss
                    || retransmission
                    || (len == avail && (!snd.nagle || !in_flight || snd.fin_queued))
                    || (!in_flight && snd.max_wnd > 0 && len >= snd.max_wnd / 2));
            if send {
                let nxt = snd.nxt;
                return Some(self.data_segment(nxt, len, false));
            }
            // Blocked by the window with nothing in flight: the persist timer will probe.
            if !in_flight && !self.shared.timers.is_set(TimerKind::Persist) {
                arm_persist(self.shared, self.snd, self.now);
            }
            self.ensure_timer();
            return None;
        }
        if snd.fin_queued && snd.nxt == data_end && self.fin_allowed {
            return Some(self.data_segment(data_end, 0, false));
        }
        None
    }

    /// Invariant: anything unacknowledged has a retransmission or persist timer behind it.
    fn ensure_timer(&mut self) {
        let timers = &mut self.shared.timers;
        if self.snd.una != self.snd.max
            && !timers.is_set(TimerKind::Retransmit)
            && !timers.is_set(TimerKind::Persist)
        {
            timers.set(TimerKind::Retransmit, self.now + self.snd.rtt.rto());
        }
    }

    /// FourWayHandshake ablation: the client sends nothing until the server confirmed.
    fn awaiting_confirmation(&self) -> bool {
        #[cfg(feature = "teaching")]
        {
            self.shared.teaching.await_confirm
        }
        #[cfg(not(feature = "teaching"))]
        {
            false
        }
    }
}

/// Arms the persist timer: RTO, doubled per unanswered probe, at most a minute.
pub(super) fn arm_persist(shared: &mut Shared, snd: &Sender, now: Instant) {
    let interval = snd
        .rtt
        .rto()
        .saturating_mul(1u32 << snd.persist_backoff.min(10))
        .min(MAX_PERSIST);
    shared.timers.set(TimerKind::Persist, now + interval);
}
