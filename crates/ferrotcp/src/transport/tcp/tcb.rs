//! The transmission control block (RFC 9293 §3.3.1): one connection's state (with its sending
//! and receiving halves, `state.rs`), what every state shares, and the user calls of
//! §3.10.1–3.10.5. Segment arrival is in `input.rs`, segment generation in `output.rs`, timers
//! in `timers.rs`.

use core::net::SocketAddrV4;

use super::config::{KeepAlive, TcpConfig};
use super::congestion::CongestionControl;
use super::disposition::Disposition;
use super::error::{CloseReason, TcpError};
use super::receiver::RecvParams;
use super::sender::Sender;
use super::state::{State, To};
use super::timer::TimerTable;
use super::transitions::Transitions;
use crate::seq::SeqNum;
use crate::time::{Instant, StoredDuration};
use crate::trace::{TcpState, TimerKind};
use crate::wire::tcp::TcpRepr;

/// Notifications for the application, collected by the stack after each call into the TCB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Notify(u8);

impl Notify {
    pub const CONNECTED: Notify = Notify(1);
    pub const READABLE: Notify = Notify(2);
    pub const WRITABLE: Notify = Notify(4);
    pub const PEER_CLOSED: Notify = Notify(8);
    pub const CLOSED: Notify = Notify(16);
    /// R1 reached (MUST-20): the path may be broken; the connection keeps trying until R2.
    pub const STALLED: Notify = Notify(32);
    /// The peer's urgent pointer advanced (MUST-32).
    pub const URGENT: Notify = Notify(64);

    pub fn contains(self, other: Notify) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn insert(&mut self, other: Notify) {
        self.0 |= other.0;
    }

    pub fn remove(&mut self, other: Notify) {
        self.0 &= !other.0;
    }
}

/// Counters per connection (bytes count payload only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpStats {
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub segments_sent: u64,
    pub segments_received: u64,
    pub retransmissions: u64,
    pub timeouts: u64,
    /// Fast recoveries entered (a loss found without a timeout).
    pub fast_retransmits: u64,
    pub dup_acks_received: u64,
    /// Tail loss probes sent (RFC 8985 §7).
    pub loss_probes: u64,
    /// Window reductions taken back because the retransmissions proved spurious.
    pub undos: u64,
    /// Window reductions for ECN-Echo (RFC 3168): congestion without a loss.
    pub ecn_reductions: u64,
    /// The RTT estimate, the RTO and the congestion window: the sending half's now, or the
    /// last it had once our FIN was acknowledged. (The buffers: `Stack::tcp_buffers`.)
    pub srtt_micros: u64,
    pub rto_micros: u64,
    pub cwnd: u32,
}

/// A connection's buffers now: the most each may hold (autotuning raises it up to the
/// configured maximum) and the memory each holds (grown on demand, freed when idle).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BufferUse {
    pub send_limit: usize,
    pub send_allocated: usize,
    pub recv_limit: usize,
    pub recv_allocated: usize,
    /// Out-of-order bookkeeping: nothing unless a hole is open.
    pub reassembly_allocated: usize,
    /// The sent-segment record (one entry per segment in flight, for SACK and RACK): it
    /// grows with the flight and is freed with the send buffer when idle.
    pub in_flight_allocated: usize,
}

/// Teaching-only state (see `ablation.rs`).
#[cfg(feature = "teaching")]
#[derive(Debug, Default)]
pub(super) struct Teaching {
    pub ablations: super::ablation::Ablations,
    /// FourWayHandshake ablation: the client waits for the server's extra message.
    pub await_confirm: bool,
    /// NoTimeWait ablation: the last ACK of a connection that closed on the spot.
    pub final_ack: Option<(SeqNum, SeqNum, u16)>,
}

/// RFC 9293 §3.8.4 keep-alive, per connection.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct KeepAliveState {
    pub config: Option<KeepAlive>,
    /// Probes sent without an answer.
    pub probes: u32,
    /// Send a probe on the next poll.
    pub pending: bool,
}

/// What every state shares: the connection's identity, its timers and its bookkeeping toward
/// the application.
#[derive(Debug)]
pub(super) struct Shared {
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    pub timers: TimerTable,
    pub stats: TcpStats,
    pub notify: Notify,
    pub transitions: Transitions,
    /// The application still holds its handle (false after `close`).
    pub owned: bool,
    /// The application met a full send buffer: tell it when room appears.
    pub want_writable: bool,
    pub keepalive: KeepAliveState,
    /// When the peer last sent an acceptable segment.
    pub last_recv: Instant,
    pub time_wait: StoredDuration,
    /// MUST-21: the application's own R2 for this connection.
    pub r2_override: Option<u32>,
    #[cfg(feature = "teaching")]
    pub teaching: Teaching,
}

impl Shared {
    pub fn notify(&mut self, n: Notify) {
        self.notify.insert(n);
    }

    /// Keep-alive probes run only while the connection is idle and synchronized (RFC 9293
    /// §3.8.4), `idle` after the last segment, then every `interval`.
    pub fn sync_keepalive(&mut self, state: TcpState) {
        let due = match (self.keepalive.config, state) {
            (Some(ka), TcpState::Established | TcpState::CloseWait | TcpState::FinWait2) => {
                Some(self.last_recv + ka.idle + ka.interval * self.keepalive.probes)
            }
            _ => None,
        };
        match due {
            Some(t) => self.timers.set(TimerKind::KeepAlive, t),
            None => self.timers.stop(TimerKind::KeepAlive),
        }
    }

    /// The peer answered: it is alive, and its window probes and keep-alives are answered.
    pub fn heard_from_peer(&mut self, now: Instant) {
        self.last_recv = now;
        self.keepalive.probes = 0;
    }

    /// Keeps the sending half's figures once it is gone.
    fn remember_sender(&mut self, snd: &Sender) {
        self.stats.srtt_micros = snd.rtt.srtt().map_or(0, |d| d.as_micros() as u64);
        self.stats.rto_micros = snd.rtt.rto().as_micros() as u64;
        self.stats.cwnd = snd.cc.cwnd();
    }
}

#[derive(Debug)]
pub struct Tcb {
    pub(super) state: State,
    pub(super) shared: Shared,
}

/// The parameters a new connection starts from.
pub struct TcbInit<'a> {
    pub config: &'a TcpConfig,
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    pub iss: SeqNum,
    /// MSS we announce (interface MTU - 40).
    pub our_mss: u16,
    /// Offset of this connection's TSval clock (RFC 7323 §7.1: not the raw uptime).
    pub ts_offset: u32,
    pub now: Instant,
}

impl Tcb {
    /// A connection in SYN-SENT (active OPEN, RFC 9293 §3.10.1): the SYN goes out on the next poll.
    pub fn new_active(init: TcbInit<'_>) -> Tcb {
        let config = init.config;
        let snd = Sender::new(config, init.iss, init.our_mss, init.ts_offset);
        let rcv = recv_params(config);
        let mut tcb = Tcb::with_state(
            &init,
            State::SynSent {
                snd: Box::new(snd),
                rcv,
            },
        );
        tcb.shared
            .transitions
            .push(TcpState::Closed, TcpState::SynSent);
        tcb
    }

    pub(super) fn with_state(init: &TcbInit<'_>, state: State) -> Tcb {
        let config = init.config;
        Tcb {
            state,
            shared: Shared {
                local: init.local,
                remote: init.remote,
                timers: TimerTable::default(),
                stats: TcpStats::default(),
                notify: Notify::default(),
                transitions: Transitions::default(),
                owned: true,
                want_writable: false,
                keepalive: KeepAliveState {
                    config: config.keepalive,
                    probes: 0,
                    pending: false,
                },
                last_recv: init.now,
                time_wait: config.time_wait().into(),
                r2_override: None,
                #[cfg(feature = "teaching")]
                teaching: Teaching {
                    ablations: config.ablations(),
                    ..Teaching::default()
                },
            },
        }
    }

    pub fn state(&self) -> TcpState {
        self.state.name()
    }

    pub fn local(&self) -> SocketAddrV4 {
        self.shared.local
    }

    pub fn remote(&self) -> SocketAddrV4 {
        self.shared.remote
    }

    pub fn is_owned(&self) -> bool {
        self.shared.owned
    }

    pub fn close_reason(&self) -> Option<CloseReason> {
        if let State::Closed { reason, .. } = self.state {
            Some(reason)
        } else {
            None
        }
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed { .. })
    }

    pub fn stats(&self) -> TcpStats {
        let mut s = self.shared.stats;
        if let Some(snd) = self.state.sender() {
            s.srtt_micros = snd.rtt.srtt().map_or(0, |d| d.as_micros() as u64);
            s.rto_micros = snd.rtt.rto().as_micros() as u64;
            s.cwnd = snd.cc.cwnd();
        }
        s
    }

    /// The buffers' limits and the memory they hold now.
    pub fn buffers(&self) -> BufferUse {
        let mut b = BufferUse::default();
        if let Some(snd) = self.state.sender() {
            b.send_limit = snd.buf.capacity();
            b.send_allocated = snd.buf.allocated();
            b.in_flight_allocated = snd.board.allocated();
        }
        if let Some(rcv) = self.state.receiver() {
            b.recv_limit = rcv.buf.capacity();
            b.recv_allocated = rcv.buf.allocated();
            b.reassembly_allocated = rcv.assembler.allocated();
        }
        b
    }

    /// Notifications or state changes are waiting to be collected.
    pub fn has_news(&self) -> bool {
        !self.shared.notify.is_empty() || !self.shared.transitions.is_empty()
    }

    pub fn take_notify(&mut self) -> Notify {
        core::mem::take(&mut self.shared.notify)
    }

    pub fn take_transitions(&mut self, out: &mut Vec<(TcpState, TcpState)>) {
        self.shared.transitions.take_into(out);
    }

    /// Every state change goes through here: it carries the halves into the new state, stops
    /// the timers that no longer apply, and lets the trace see the change.
    pub(super) fn goto(&mut self, now: Instant, to: To) {
        let from = self.state.name();
        if matches!(to, To::FinWait2 | To::TimeWait | To::Closed(_))
            && let Some(snd) = self.state.sender()
        {
            self.shared.remember_sender(snd);
        }
        let old = core::mem::replace(
            &mut self.state,
            State::Closed {
                reason: CloseReason::Aborted,
                rcv: None,
            },
        );
        self.state = old.rebuild(to);
        let next = self.state.name();
        if from != next {
            self.shared.transitions.push(from, next);
        }
        let timers = &mut self.shared.timers;
        match to {
            To::FinWait2 => {
                timers.stop(TimerKind::Retransmit);
                timers.stop(TimerKind::Persist);
            }
            To::TimeWait => {
                timers.stop(TimerKind::Retransmit);
                timers.stop(TimerKind::Persist);
                timers.stop(TimerKind::FinWait2);
                timers.stop(TimerKind::Reclaim);
                timers.set(TimerKind::TimeWait, now + self.shared.time_wait.get());
            }
            To::Closed(_) => {
                timers.stop_all();
                self.shared.notify(Notify::CLOSED);
            }
            To::Established | To::FinWait1 | To::CloseWait | To::Closing | To::LastAck => {}
        }
        // Nothing more will be sent; unread data (if any) stays for the application.
        match &mut self.state {
            State::TimeWait { rcv, .. } => rcv.release_if_idle(),
            State::Closed { rcv: Some(rcv), .. } => {
                rcv.ack_now = false;
                rcv.release_if_idle();
            }
            State::SynSent { .. }
            | State::SynReceived { .. }
            | State::Established { .. }
            | State::FinWait1 { .. }
            | State::FinWait2 { .. }
            | State::CloseWait { .. }
            | State::Closing { .. }
            | State::LastAck { .. }
            | State::Closed { rcv: None, .. } => {}
        }
        self.shared.sync_keepalive(next);
    }

    /// Aborts with `reason`; the caller sends a RST when the RFC asks for one.
    pub(super) fn abort_with(&mut self, now: Instant, reason: CloseReason) {
        self.goto(now, To::Closed(reason));
    }

    /// The RST that tells the peer this connection is gone: `<SEQ=SND.NXT><ACK=RCV.NXT>`.
    pub(super) fn rst(&self) -> Disposition {
        let seq = self
            .state
            .sender()
            .map(Sender::rst_seq)
            .or(self.state.sent_all().map(|s| s.end))
            .unwrap_or_default();
        let ack = self.state.receiver().map(|r| r.nxt);
        Disposition::Rst { seq, ack }
    }

    // ---- user calls, RFC 9293 §3.10 ----

    /// SEND (§3.10.2). Returns how many bytes were queued.
    pub fn send(&mut self, data: &[u8]) -> Result<usize, TcpError> {
        let snd = self.sending_half()?;
        if data.is_empty() {
            return Ok(0);
        }
        // Both sides of the wrap point in one call (a borrowed write sees only the first).
        let n = snd.buf.enqueue(data);
        if n == 0 {
            self.shared.want_writable = true;
            return Err(TcpError::WouldBlock);
        }
        Ok(n)
    }

    /// SEND without a staging copy: `fill` writes into the free room of the send buffer (up to
    /// its wrap point) and returns how many bytes it wrote; those are queued.
    pub fn send_with(&mut self, fill: impl FnOnce(&mut [u8]) -> usize) -> Result<usize, TcpError> {
        let snd = self.sending_half()?;
        let room = snd.buf.writable();
        let n = if room.is_empty() {
            0
        } else {
            fill(&mut *room).min(room.len())
        };
        snd.buf.commit(n);
        if n == 0 {
            self.shared.want_writable = true;
            return Err(TcpError::WouldBlock);
        }
        Ok(n)
    }

    /// The sending half, if the application may still queue data.
    fn sending_half(&mut self) -> Result<&mut Sender, TcpError> {
        if let State::Closed { reason, .. } = self.state {
            return Err(TcpError::Closed(reason));
        }
        let can_send = self.state.can_send();
        match self.state.sender_mut() {
            Some(snd) if can_send && !snd.fin_queued => Ok(snd),
            _ => Err(TcpError::Closing),
        }
    }

    /// Bytes the application can still queue.
    pub fn send_capacity(&self) -> usize {
        self.state.sender().map_or(0, |s| s.buf.free())
    }

    /// Bytes queued but not yet acknowledged.
    pub fn send_queue(&self) -> usize {
        self.state.sender().map_or(0, |s| s.buf.len())
    }

    /// RECEIVE (§3.10.3). `Ok(0)` means the peer closed its side and everything was read.
    pub fn recv(&mut self, now: Instant, buf: &mut [u8]) -> Result<usize, TcpError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = self
            .state
            .receiver_mut()
            .map_or(0, |rcv| rcv.buf.dequeue(buf));
        self.after_read(now, n)
    }

    /// RECEIVE without a copy: `consume` sees the unread bytes (up to the ring's wrap point)
    /// and returns how many it took; those are removed. `Ok(0)` as for [`Tcb::recv`].
    pub fn recv_with(
        &mut self,
        now: Instant,
        consume: impl FnOnce(&[u8]) -> usize,
    ) -> Result<usize, TcpError> {
        let n = match self.state.receiver_mut() {
            Some(rcv) if !rcv.buf.is_empty() => {
                let bytes = rcv.buf.readable();
                let n = consume(bytes).min(bytes.len());
                rcv.buf.consume(n);
                n
            }
            _ => 0,
        };
        if n == 0 && self.recv_queue() > 0 {
            // The caller took nothing from data that is there: not the end of the stream.
            return Err(TcpError::WouldBlock);
        }
        self.after_read(now, n)
    }

    /// After the application took `n` bytes: window update, idle bookkeeping; with nothing
    /// taken, the answer for an empty buffer (end of stream, an error, or wait).
    fn after_read(&mut self, now: Instant, n: usize) -> Result<usize, TcpError> {
        let window_may_open = self.state.is_synchronized() && !self.state.peer_finished();
        if n > 0
            && let Some(rcv) = self.state.receiver_mut()
        {
            rcv.app_read(n, now);
            if window_may_open {
                rcv.after_app_read(&mut self.shared);
            }
            if rcv.buf.is_empty() {
                self.reclaim_later(now);
            }
            return Ok(n);
        }
        match self.state {
            State::Closed {
                reason: CloseReason::Normal,
                ..
            } => Ok(0),
            State::Closed { reason, .. } => Err(TcpError::Closed(reason)),
            // The peer's FIN is in and everything before it was read: end of stream.
            State::CloseWait { .. }
            | State::Closing { .. }
            | State::LastAck { .. }
            | State::TimeWait { .. } => Ok(0),
            State::SynSent { .. }
            | State::SynReceived { .. }
            | State::Established { .. }
            | State::FinWait1 { .. }
            | State::FinWait2 { .. } => Err(TcpError::WouldBlock),
        }
    }

    /// How many bytes of in-order text behind the header `seg` this connection would take as
    /// they are, every check passed: ESTABLISHED and held by the application, SEG.SEQ =
    /// RCV.NXT with nothing out of order, an acceptable ACK field, a timestamp PAWS lets
    /// through, and none of our own data in flight (then each segment's ACK field counts for
    /// loss recovery on its own). What software GRO may coalesce behind that header; 0 if
    /// anything is off.
    pub fn coalescing_room(&self, seg: &TcpRepr, now: Instant) -> usize {
        let State::Established { snd, rcv } = &self.state else {
            return 0;
        };
        let in_order = rcv.nxt == seg.seq && rcv.assembler.is_empty();
        let ack_ok = !seg.ack.gt(snd.max) && !seg.ack.lt(snd.una - snd.max_wnd.max(1));
        let ts_ok = match (rcv.ts, seg.options.timestamps) {
            (Some(ts), Some((tsval, _))) => !ts.paws_rejects(tsval, false, now),
            (None, _) => true,
            (Some(_), None) => false,
        };
        let idle_sender = snd.una == snd.max;
        if self.shared.owned && in_order && ack_ok && ts_ok && idle_sender {
            rcv.receive_window() as usize
        } else {
            0
        }
    }

    pub fn recv_queue(&self) -> usize {
        self.state.receiver().map_or(0, |r| r.buf.len())
    }

    /// CLOSE (§3.10.4) for the sending side: a FIN follows the queued data. Reading continues.
    pub fn shutdown(&mut self, now: Instant) -> Result<(), TcpError> {
        let to = match &mut self.state {
            State::Closed { reason, .. } => return Err(TcpError::Closed(*reason)),
            // "SYN-SENT STATE: Delete the TCB and return 'error: closing'" to queued sends.
            State::SynSent { .. } => To::Closed(CloseReason::Aborted),
            // "If no SENDs have been issued and there is no pending data to send, then form a FIN
            // segment and send it, and enter FIN-WAIT-1 state; otherwise, queue for processing
            // after entering ESTABLISHED state."
            State::SynReceived { snd, .. } => {
                snd.fin_queued = true;
                if !snd.buf.is_empty() {
                    return Ok(());
                }
                To::FinWait1
            }
            State::Established { snd, .. } => {
                snd.fin_queued = true;
                To::FinWait1
            }
            State::CloseWait { snd, .. } => {
                snd.fin_queued = true;
                To::LastAck
            }
            // Already closing: a second CLOSE changes nothing.
            State::FinWait1 { .. }
            | State::FinWait2 { .. }
            | State::Closing { .. }
            | State::LastAck { .. }
            | State::TimeWait { .. } => return Ok(()),
        };
        self.goto(now, to);
        Ok(())
    }

    /// The application lets go of the connection. Like Linux (RFC 2525 §2.17), unread data turns
    /// the close into an abort (and a RST).
    pub fn close(&mut self, now: Instant) -> Result<Disposition, TcpError> {
        self.shared.owned = false;
        if self.is_closed() {
            return Ok(Disposition::None);
        }
        if self.recv_queue() > 0 {
            return Ok(self.abort(now));
        }
        self.shutdown(now)?;
        self.arm_orphan_timeout(now);
        Ok(Disposition::None)
    }

    /// Nobody will read or close this connection any more: if it sits in FIN-WAIT-2 waiting for a
    /// FIN that may never come, give up after the TIME-WAIT interval (Linux: tcp_fin_timeout).
    pub(super) fn arm_orphan_timeout(&mut self, now: Instant) {
        if !self.shared.owned && matches!(self.state, State::FinWait2 { .. }) {
            let at = now + self.shared.time_wait.get();
            self.shared.timers.set_if_idle(TimerKind::FinWait2, at);
        }
    }

    /// ABORT (§3.10.5): a RST in the synchronized states and SYN-RECEIVED.
    pub fn abort(&mut self, now: Instant) -> Disposition {
        // §3.10.5: RST in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1/2 and CLOSE-WAIT; "CLOSING
        // STATE, LAST-ACK STATE, TIME-WAIT STATE: Respond with 'ok' and delete the TCB".
        let reply = match self.state {
            State::SynSent { .. }
            | State::Closed { .. }
            | State::Closing { .. }
            | State::LastAck { .. }
            | State::TimeWait { .. } => Disposition::None,
            State::SynReceived { .. }
            | State::Established { .. }
            | State::FinWait1 { .. }
            | State::FinWait2 { .. }
            | State::CloseWait { .. } => self.rst(),
        };
        if !self.is_closed() {
            self.abort_with(now, CloseReason::Aborted);
        }
        reply
    }

    /// MUST-21: the application sets R2 (retransmissions before giving up) for this connection.
    pub fn set_r2(&mut self, r2: u32) {
        self.shared.r2_override = Some(r2);
    }

    /// MUST-17: Nagle's algorithm may be turned off per connection.
    pub fn set_nagle(&mut self, on: bool) {
        if let Some(snd) = self.state.sender_mut() {
            snd.nagle = on;
        }
    }

    /// A new incarnation takes this TIME-WAIT connection's place (RFC 6191).
    pub fn end_time_wait(&mut self, now: Instant) {
        if let State::TimeWait { .. } = self.state {
            self.goto(now, To::Closed(CloseReason::Normal));
        }
    }

    /// A SYN that could have reopened this TIME-WAIT connection found no listener: it is
    /// answered like any SYN in a synchronized state, with an ACK.
    pub fn refuse_reopen(&mut self) {
        self.ack_now();
    }

    pub fn set_keepalive(&mut self, keepalive: Option<KeepAlive>, now: Instant) {
        self.shared.keepalive.config = keepalive;
        self.shared.heard_from_peer(now);
        self.shared.sync_keepalive(self.state.name());
    }
}

fn recv_params(config: &TcpConfig) -> RecvParams {
    RecvParams {
        buffer: config.recv_buffer,
        max_buffer: config.max_recv_buffer.max(config.recv_buffer),
        max_ooo_ranges: config.max_ooo_ranges,
        delayed_ack: config.delayed_ack,
    }
}

impl Tcb {
    /// A connection created by a SYN arriving at a listener (§3.10.7.2 third step). "Set RCV.NXT
    /// to SEG.SEQ+1, IRS is set to SEG.SEQ ... ISS should be selected and a SYN segment sent of
    /// the form <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>". Text on the SYN is not queued (Linux does
    /// the same without TCP Fast Open); the peer sends it again after the handshake.
    pub fn new_passive(init: TcbInit<'_>, syn: &crate::wire::tcp::TcpRepr) -> Tcb {
        let config = init.config;
        let mut snd = Sender::new(config, init.iss, init.our_mss, init.ts_offset);
        let rcv = super::input::take_peer_syn(&mut snd, &recv_params(config), syn, init.now);
        let mut tcb = Tcb::with_state(
            &init,
            State::SynReceived {
                snd: Box::new(snd),
                rcv,
                from_listen: true,
            },
        );
        tcb.shared.stats.segments_received += 1;
        tcb.shared
            .transitions
            .push(TcpState::Listen, TcpState::SynReceived);
        tcb
    }
}
