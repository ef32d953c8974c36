//! Segment generation: SYN, retransmissions of lost segments (RFC 6675 NextSeg rule 1), tail
//! loss probes, zero-window probes, new data (with Nagle and sender silly-window avoidance),
//! FIN and ACKs. The stack calls `poll_segment` until it returns `None`.

use super::congestion::CongestionControl;
use super::receiver::Receiver;
use super::sender::Sender;
use super::state::State;
use super::tcb::{Shared, Tcb};
use super::timestamps::ts_clock;
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
    /// Send with ECT(0) in the IP header (RFC 3168: new data of an ECN connection).
    pub ect: bool,
    /// A super-segment for a device that segments (`payload_len` above this, the MSS): it
    /// leaves as pieces of this many payload bytes. 0 for an ordinary segment.
    pub segment_size: u32,
}

impl Outgoing {
    fn control(repr: TcpRepr) -> Outgoing {
        Outgoing {
            repr,
            payload_offset: 0,
            payload_len: 0,
            ect: false,
            segment_size: 0,
        }
    }
}

/// Longest interval between zero-window probes (Linux: TCP_RTO_MAX caps it the same way).
const MAX_PERSIST: Duration = Duration::from_secs(60);

/// A header from this connection: ports, SEQ, and (with ACK) RCV.NXT and our window, and the
/// timestamp option when timestamps are in use. Any segment with ACK set answers whatever ACK
/// was owed.
#[inline]
fn header(
    shared: &mut Shared,
    rcv: Option<&mut Receiver>,
    syn_window: u32,
    seq: SeqNum,
    flags: TcpFlags,
    now: Instant,
) -> TcpRepr {
    let mut options = TcpOptions::default();
    let mut flags = flags;
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
                // RFC 3168 §6.1.3: ECE on every ACK until the peer's CWR.
                if rcv.ecn.echo && !flags.syn() {
                    flags |= TcpFlags::ECE;
                }
            }
            if let Some(ts) = &mut rcv.ts {
                options.timestamps = Some(ts.option(now));
                if flags.ack() {
                    ts.last_ack_sent = ack;
                }
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
        options,
    }
}

impl Tcb {
    /// Appends `len` payload bytes from `offset` of the send buffer to `frame`.
    pub fn append_payload(&self, offset: usize, len: usize, frame: &mut Vec<u8>) -> usize {
        self.state
            .sender()
            .map_or(0, |snd| snd.buf.append_to(offset, len, frame))
    }

    /// [`append_payload`](Self::append_payload), also returning the payload's checksum sum
    /// (summed on the way, see `checksum::copy_and_sum`).
    pub fn append_payload_summed(
        &self,
        offset: usize,
        len: usize,
        frame: &mut Vec<u8>,
    ) -> (usize, u64) {
        self.state
            .sender()
            .map_or((0, 0), |snd| snd.buf.append_summed(offset, len, frame))
    }

    /// Counts segments that left as pieces of a super-segment beyond the first (its header
    /// was counted once, when it was made).
    pub fn count_segments_sent(&mut self, extra: u64) {
        self.shared.stats.segments_sent += extra;
    }

    /// The next segment this connection wants to send, if any. `burst` is the most payload
    /// one segment may carry when the device cuts segments itself (segmentation offload);
    /// 0 (or anything below the MSS) for one MSS at most.
    pub fn poll_segment(&mut self, now: Instant, burst: u32) -> Option<Outgoing> {
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
                    pure_ack_if_due(shared, rcv, snd.acceptable_seq(), now)
                }
            }
            State::TimeWait { rcv, sent } => pure_ack_if_due(shared, rcv, sent.end, now),
            State::FinWait2 { rcv, sent } => poll_keepalive(shared, rcv, sent.end, now)
                .or_else(|| pure_ack_if_due(shared, rcv, sent.end, now)),
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
                    burst,
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
        // RFC 3168 §6.1.1: an ECN-setup SYN,ACK has ECE alone.
        if snd.ecn.on {
            flags |= TcpFlags::ECE;
        }
    } else if snd.syn.ecn == super::config::Ecn::Request && !snd.syn.timed_out {
        // An ECN-setup SYN: ECE and CWR. After a timeout the SYN goes without them, in case
        // a middlebox drops ECN-setup SYNs (§6.1.1.1).
        flags |= TcpFlags::ECE | TcpFlags::CWR;
    }
    let retransmission = snd.max.gt(snd.iss);
    let mut rcv = rcv;
    let mut repr = header(shared, rcv.as_deref_mut(), syn_window, snd.iss, flags, now);
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
    // RFC 7323 §3.2: our SYN offers timestamps (TSecr 0); a SYN,ACK carries them only if the
    // peer's SYN did (the header already added them then).
    if !with_ack && let Some(offset) = snd.syn.timestamps {
        repr.options.timestamps = Some((ts_clock(now, offset), 0));
    }
    consumed(shared, snd, now, snd.iss, 1, retransmission);
    if !retransmission {
        // The SYN is timed on its own (data is timed through the scoreboard).
        snd.rtt.start_timing(snd.iss + 1u32, now);
    }
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
    }
    let rto = snd.rtt.rto();
    shared.timers.set_if_idle(TimerKind::Retransmit, now + rto);
}

/// A segment without data, answering whatever ACK is owed.
fn pure_ack_if_due(
    shared: &mut Shared,
    rcv: &mut Receiver,
    seq: SeqNum,
    now: Instant,
) -> Option<Outgoing> {
    if !rcv.ack_now {
        return None;
    }
    // RFC 5681 §4.2: one duplicate ACK per out-of-order segment, even when several arrived
    // before we could send.
    let again = rcv.extra_acks > 0;
    if again {
        rcv.extra_acks -= 1;
    }
    let mut repr = header(shared, Some(rcv), 0, seq, TcpFlags::ACK, now);
    rcv.add_sack_blocks(&mut repr);
    if again {
        rcv.ack_now(shared);
    }
    Some(Outgoing::control(repr))
}

/// Keep-alive probe (RFC 9293 §3.8.4): SEG.SEQ = SND.NXT - 1, no data (SHLD-12; Linux does the
/// same). `una` is SND.UNA.
fn poll_keepalive(
    shared: &mut Shared,
    rcv: &mut Receiver,
    una: SeqNum,
    now: Instant,
) -> Option<Outgoing> {
    if !shared.keepalive.pending {
        return None;
    }
    shared.keepalive.pending = false;
    let repr = header(shared, Some(rcv), 0, una - 1u32, TcpFlags::ACK, now);
    Some(Outgoing::control(repr))
}

/// Cuts segments from the send buffer in a synchronized state with both halves.
struct Segmenter<'a> {
    shared: &'a mut Shared,
    snd: &'a mut Sender,
    rcv: &'a mut Receiver,
    fin_allowed: bool,
    sends_urgent: bool,
    /// Most payload for one new-data segment with segmentation offload (see `poll_segment`).
    burst: u32,
    now: Instant,
}

impl Segmenter<'_> {
    fn poll(&mut self) -> Option<Outgoing> {
        let una = self.snd.una;
        poll_keepalive(self.shared, self.rcv, una, self.now)
            .or_else(|| self.poll_loss_probe())
            .or_else(|| self.poll_retransmit())
            .or_else(|| self.poll_probe())
            .or_else(|| self.poll_data())
            .or_else(|| {
                let seq = self.snd.acceptable_seq();
                pure_ack_if_due(self.shared, self.rcv, seq, self.now)
            })
    }

    /// TSval of a segment sent now, when timestamps are in use.
    fn tsval(&self) -> Option<u32> {
        self.rcv.ts.map(|ts| ts_clock(self.now, ts.offset))
    }

    /// The segment `[seq, seq + len)` of the send buffer, with FIN if `fin`.
    fn segment(&mut self, seq: SeqNum, len: u32, fin: bool, push: bool) -> Outgoing {
        let snd = &mut *self.snd;
        let offset = (seq - snd.buf_seq) as usize;
        let len = (len as usize).min(snd.buf.len().saturating_sub(offset));
        let mut flags = TcpFlags::ACK;
        if fin {
            flags |= TcpFlags::FIN;
        }
        // MUST-61 (PSH on the last segment of a write): we push whenever the queue empties.
        if len > 0 && (push || offset + len == snd.buf.len()) {
            flags |= TcpFlags::PSH;
        }
        let retransmission = seq.lt(snd.max);
        // RFC 3168 §6.1.5/§6.1.6: ECT on new data only (not on retransmissions, probes or pure
        // ACKs), and CWR on the first new data after a reduction for ECE.
        let ect = snd.ecn.on && !retransmission && len > 0;
        if ect && core::mem::take(&mut snd.ecn.cwr_pending) {
            flags |= TcpFlags::CWR;
        }
        let urgent = if self.sends_urgent {
            snd.urgent_for(seq)
        } else {
            None
        };
        if urgent.is_some() {
            flags |= TcpFlags::URG;
        }
        let mut repr = header(self.shared, Some(self.rcv), 0, seq, flags, self.now);
        repr.urgent = urgent.unwrap_or(0);
        let seq_len = len as u32 + u32::from(fin);
        if seq_len > 0 {
            consumed(self.shared, snd, self.now, seq, seq_len, retransmission);
        }
        if !retransmission {
            self.shared.stats.bytes_sent += len as u64;
        }
        let segment_size = if len as u32 > snd.mss { snd.mss } else { 0 };
        Outgoing {
            repr,
            payload_offset: offset,
            payload_len: len,
            ect,
            segment_size,
        }
    }

    /// New data at SND.NXT (with our FIN if it reaches the end), entered in the scoreboard.
    fn new_segment(&mut self, len: u32, push: bool) -> Outgoing {
        let seq = self.snd.nxt;
        let unsent = self.snd.fin_seq() - seq;
        let len = len.min(unsent);
        let fin = self.snd.fin_queued && len == unsent && self.fin_allowed;
        let out = self.segment(seq, len, fin, push);
        let end = seq + (len + u32::from(fin));
        if end.gt(seq) {
            // A super-segment enters the scoreboard as the MSS-sized segments the device cuts
            // it into, so SACK, loss marking and retransmission work per wire segment.
            let mss = self.snd.mss.max(1);
            let before = self.snd.board.len();
            let mut at = seq;
            while (end - at) > mss + u32::from(fin) {
                self.snd.board.push(at, at + mss, false, self.now);
                at = at + mss;
            }
            self.snd.board.push(at, end, fin, self.now);
            self.snd.recovery.on_send(len);
            // RFC 8985 §7.2 restarts the probe timer after new data; segments of one burst
            // leave at the same instant, so arming it for the first is enough (every ACK that
            // acknowledges new data restarts it anyway), and again once a second segment is
            // out, which ends the one-segment allowance for a delayed ACK.
            let second = before < 2 && self.snd.board.len() >= 2;
            if !self.shared.timers.is_set(TimerKind::LossProbe) || second {
                self.snd.arm_loss_probe(self.shared, self.now);
            }
        }
        out
    }

    /// Retransmits scoreboard entry `i`, cut to at most `cap` payload bytes.
    fn retransmit(&mut self, i: usize, cap: u32) -> Option<Outgoing> {
        let seg = *self.snd.board.get(i)?;
        let cap = cap.max(1);
        // A FIN-bearing entry that fits keeps its FIN; a longer one is cut first.
        let seq_cap = if seg.fin() && seg.data_len() <= cap {
            cap + 1
        } else {
            cap
        };
        self.snd.board.limit(i, seq_cap);
        let seg = *self.snd.board.get(i)?;
        let out = self.segment(seg.start, seg.data_len(), seg.fin(), false);
        self.snd.board.retransmitted(i, self.now);
        let tsval = self.tsval();
        self.snd.recovery.on_retransmit(seg.len(), tsval);
        Some(out)
    }

    /// RFC 6675 NextSeg rule 1: the first lost segment, as the congestion window allows
    /// (after an RTO, slow start; in fast recovery, PRR).
    fn poll_retransmit(&mut self) -> Option<Outgoing> {
        let i = self.snd.board.next_lost()?;
        let seg = *self.snd.board.get(i)?;
        if self.snd.cwnd_room() == 0 {
            return None;
        }
        // Never beyond the peer's window, except the oldest segment (Linux does the same).
        let wnd_end = self.snd.una + self.snd.wnd;
        if seg.start != self.snd.una && !seg.start.lt(wnd_end) {
            return None;
        }
        let in_window = if seg.start.lt(wnd_end) {
            wnd_end - seg.start
        } else {
            1
        };
        let cap = self.snd.mss.min(in_window);
        self.retransmit(i, cap)
    }

    /// RFC 8985 §7.3: the tail loss probe: new data if the window allows (cwnd aside), else the
    /// last segment again.
    fn poll_loss_probe(&mut self) -> Option<Outgoing> {
        if !core::mem::take(&mut self.snd.tlp_pending) || self.snd.una == self.snd.max {
            return None;
        }
        let unsent = self.snd.fin_seq() - self.snd.nxt;
        let room = self.snd.window_room();
        let out = if unsent > 0 && room > 0 {
            let len = unsent.min(room).min(self.snd.mss);
            let out = self.new_segment(len, true);
            self.snd.recovery.tlp.sent(self.snd.max, false);
            out
        } else {
            let last = self.snd.board.len().checked_sub(1)?;
            let seg = *self.snd.board.get(last)?;
            // Only the last MSS of it: the probe is about the tail.
            if seg.data_len() > self.snd.mss {
                self.snd
                    .board
                    .split(last, seg.end - (self.snd.mss + u32::from(seg.fin())));
            }
            let last = self.snd.board.len().checked_sub(1)?;
            let out = self.retransmit(last, self.snd.mss)?;
            self.snd.recovery.tlp.sent(self.snd.max, true);
            out
        };
        self.shared.stats.loss_probes += 1;
        let rto = self.snd.rtt.rto();
        self.shared
            .timers
            .set(TimerKind::Retransmit, self.now + rto);
        Some(out)
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
        let room = self.snd.wnd.min(self.snd.cc.cwnd());
        let len = room.max(1).min(self.snd.mss);
        self.snd.unanswered_probes = self.snd.unanswered_probes.saturating_add(1);
        // Room counted from SND.UNA: the probe resends from there, or is new data when nothing
        // is in flight.
        let seg = if self.snd.board.is_empty() {
            self.new_segment(len, true)
        } else {
            self.retransmit(0, len)?
        };
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
            let room = snd.window_room().min(snd.cwnd_room());
            let len = avail.min(room).min(self.burst_limit());
            let in_flight = snd.max.gt(snd.una);
            let send = len > 0
                && (len >= snd.mss
                    || (len == avail && (!snd.nagle || !in_flight || snd.fin_queued))
                    || (!in_flight && snd.max_wnd > 0 && len >= snd.max_wnd / 2));
            if send {
                let len = self.whole_segments(len, avail);
                return Some(self.new_segment(len, false));
            }
            // Blocked by the window with nothing in flight: the persist timer will probe.
            if !in_flight && !self.shared.timers.is_set(TimerKind::Persist) {
                arm_persist(self.shared, self.snd, self.now);
            }
            self.ensure_timer();
            return None;
        }
        if snd.fin_queued && snd.nxt == data_end && self.fin_allowed {
            return Some(self.new_segment(0, false));
        }
        None
    }

    /// Most payload for the next new-data segment: one MSS, or with segmentation offload as
    /// many whole MSS as `burst` holds. Urgent data goes one MSS at a time (Linux turns TSO
    /// off in urgent mode too: a device copies the urgent pointer into every piece).
    fn burst_limit(&self) -> u32 {
        let mss = self.snd.mss;
        if self.burst <= mss || (self.sends_urgent && self.snd.up.is_some()) {
            return mss;
        }
        self.burst / mss * mss
    }

    /// A super-segment's last piece shorter than the MSS is sent only where it would be
    /// sent on its own after the pieces before it (in flight by then): at the end of the
    /// data with Nagle off or a FIN to follow. Otherwise the segment stops at a whole MSS,
    /// so offload changes how segments are handed over, never what goes on the wire.
    fn whole_segments(&self, len: u32, avail: u32) -> u32 {
        let mss = self.snd.mss;
        let tail = len % mss;
        if len <= mss || tail == 0 {
            return len;
        }
        let tail_allowed = len == avail && (!self.snd.nagle || self.snd.fin_queued);
        if tail_allowed { len } else { len - tail }
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
