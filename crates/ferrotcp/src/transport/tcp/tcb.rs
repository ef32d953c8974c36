//! The transmission control block (RFC 9293 §3.3.1): one connection's variables and buffers,
//! and the user calls of §3.10.1–3.10.5. Segment arrival is in `input.rs`, segment generation
//! in `output.rs`, timers in `timers.rs`.

use core::net::SocketAddrV4;

use super::assembler::Assembler;
use super::config::TcpConfig;
use super::congestion::{CongestionControl, NewReno};
use super::error::{CloseReason, TcpError};
use super::ring::Ring;
use super::rtt::RttEstimator;
use super::state::State;
use crate::seq::SeqNum;
use crate::time::{Duration, Instant};
use crate::trace::TcpState;

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
    pub fast_retransmits: u64,
    pub dup_acks_received: u64,
    pub srtt_micros: u64,
    pub rto_micros: u64,
    pub cwnd: u32,
}

/// How soon an ACK must go out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AckUrgency {
    None,
    Delayed(Instant),
    Now,
}

#[derive(Debug)]
pub struct Tcb {
    pub(super) state: State,
    pub(super) local: SocketAddrV4,
    pub(super) remote: SocketAddrV4,

    // Send sequence variables, RFC 9293 §3.3.1.
    pub(super) iss: SeqNum,
    pub(super) snd_una: SeqNum,
    pub(super) snd_nxt: SeqNum,
    /// Highest sequence number sent so far (SND.NXT moves back on a retransmission timeout).
    pub(super) snd_max: SeqNum,
    pub(super) snd_wnd: u32,
    pub(super) max_snd_wnd: u32,
    pub(super) snd_wl1: SeqNum,
    pub(super) snd_wl2: SeqNum,
    /// Shift applied to the peer's advertised windows (RFC 7323 §2.3).
    pub(super) snd_wscale: u8,
    /// Sequence number of the first byte in `send_buf`.
    pub(super) buf_seq: SeqNum,
    pub(super) send_buf: Ring,
    /// The application shut down its sending side: a FIN follows the queued data.
    pub(super) fin_queued: bool,
    /// Effective send MSS (RFC 9293 §3.7.1, MUST-14..16).
    pub(super) mss: u32,

    // Receive sequence variables.
    pub(super) irs: SeqNum,
    pub(super) rcv_nxt: SeqNum,
    /// Right edge of the window we last advertised; it never moves left (RFC 9293 §3.8.6.2.2).
    pub(super) rcv_adv: SeqNum,
    pub(super) rcv_wscale: u8,
    pub(super) recv_buf: Ring,
    pub(super) assembler: Assembler,
    /// In-order bytes received so far (stream offset of RCV.NXT, FIN excluded).
    pub(super) rcv_off: u64,
    /// Stream offset of a FIN that arrived ahead of missing data.
    pub(super) pending_fin: Option<u64>,
    pub(super) our_mss: u16,

    // Timers and recovery.
    pub(super) rtt: RttEstimator,
    pub(super) cc: NewReno,
    pub(super) rtx_deadline: Option<Instant>,
    pub(super) persist_deadline: Option<Instant>,
    pub(super) ack: AckUrgency,
    /// Retransmissions of the current oldest unacknowledged segment (R1/R2 count).
    pub(super) retries: u32,
    pub(super) keepalive_probes: u32,
    pub(super) persist_backoff: u32,
    /// Window probes sent since the peer last answered (it is gone after R2 of them).
    pub(super) unanswered_probes: u32,
    pub(super) dup_acks: u32,
    /// RFC 3042: segments beyond cwnd allowed by the first duplicate ACKs.
    pub(super) limited_transmit: u32,
    /// NewReno (RFC 6582): `Some(recover)` while in fast recovery.
    pub(super) recovery: Option<SeqNum>,
    pub(super) recover: SeqNum,
    /// Send one segment at SND.UNA on the next poll (fast retransmit, partial ACK).
    pub(super) rexmit_one: bool,
    /// Send a one-byte zero-window probe on the next poll.
    pub(super) probe_pending: bool,
    pub(super) keepalive_pending: bool,
    /// In-order bytes received since our last ACK (an ACK for every second full segment, SHLD-19).
    pub(super) unacked_bytes: u32,
    /// Duplicate ACKs owed beyond the one `ack` stands for.
    pub(super) extra_acks: u8,
    /// Teaching-only ablations (see `ablation.rs`); empty in normal use.
    pub(super) ablations: super::ablation::Ablations,
    /// FourWayHandshake ablation: the client waits for the server's extra message.
    pub(super) await_confirm: bool,
    /// NoTimeWait ablation: the last ACK of a connection that closed on the spot.
    pub(super) final_ack: Option<(SeqNum, SeqNum, u16)>,
    /// MUST-21: the application's own R2 for this connection.
    pub(super) r2_override: Option<u32>,
    /// RCV.UP and SND.UP: the urgent pointers, once there have been any.
    pub(super) rcv_up: Option<SeqNum>,
    pub(super) snd_up: Option<SeqNum>,
    /// Our SYN timed out at least once: RFC 6298 §5.7 sets RTO to 3 s when data begins.
    pub(super) syn_timed_out: bool,
    /// The window our SYN or SYN,ACK offered (RFC 7323: unscaled).
    pub(super) syn_window: u32,
    /// Orphaned FIN-WAIT-2 (the application let go and the peer never sends its FIN): give up
    /// at this time, like Linux's tcp_fin_timeout.
    pub(super) fin_wait2_deadline: Option<Instant>,

    pub(super) nagle: bool,
    pub(super) notify: Notify,
    pub(super) want_writable: bool,
    /// The application still holds its handle (false after `close`).
    pub(super) owned: bool,
    pub(super) stats: TcpStats,
    pub(super) transitions: Vec<(TcpState, TcpState)>,
    pub(super) last_recv: Instant,
    pub(super) keepalive: Option<super::config::KeepAlive>,
    pub(super) delayed_ack: Duration,
    pub(super) time_wait: Duration,
    /// Whether our SYN carries a window-scale option.
    pub(super) offer_wscale: bool,
    /// Whether our SYN offers SACK; after the handshake, whether both sides did (RFC 2018 §2).
    pub(super) sack_ok: bool,
    /// Start of the out-of-order range that arrived last (RFC 2018 §4: it is reported first).
    pub(super) last_ooo: Option<u64>,
}

/// Smallest shift that lets `buffer` be advertised in 16 bits (RFC 7323 §2.3: at most 14).
pub(super) fn window_shift_for(buffer: usize) -> u8 {
    let mut shift = 0u8;
    while shift < 14 && (buffer >> shift) > 0xFFFF {
        shift += 1;
    }
    shift
}

/// The parameters a new connection starts from.
pub struct TcbInit<'a> {
    pub config: &'a TcpConfig,
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    pub iss: SeqNum,
    /// MSS we announce (interface MTU - 40).
    pub our_mss: u16,
    pub now: Instant,
}

impl Tcb {
    /// A connection in SYN-SENT (active OPEN, RFC 9293 §3.10.1): the SYN goes out on the next poll.
    pub fn new_active(init: TcbInit<'_>) -> Tcb {
        let mut tcb = Tcb::new(init, State::SynSent);
        tcb.transitions.push((TcpState::Closed, TcpState::SynSent));
        tcb
    }

    /// A connection created by a SYN arriving at a listener (§3.10.7.2 third step).
    pub fn new_passive(init: TcbInit<'_>) -> Tcb {
        let mut tcb = Tcb::new(init, State::SynReceived { from_listen: true });
        tcb.transitions
            .push((TcpState::Listen, TcpState::SynReceived));
        tcb
    }

    fn new(init: TcbInit<'_>, state: State) -> Tcb {
        let config = init.config;
        let rcv_wscale = if config.window_scaling {
            window_shift_for(config.recv_buffer)
        } else {
            0
        };
        let mss = u32::from(init.our_mss.clamp(1, 536));
        Tcb {
            state,
            local: init.local,
            remote: init.remote,
            iss: init.iss,
            snd_una: init.iss,
            snd_nxt: init.iss,
            snd_max: init.iss,
            snd_wnd: 0,
            max_snd_wnd: 0,
            snd_wl1: SeqNum(0),
            snd_wl2: SeqNum(0),
            snd_wscale: 0,
            buf_seq: init.iss + 1u32,
            send_buf: Ring::new(config.send_buffer),
            fin_queued: false,
            mss,
            irs: SeqNum(0),
            rcv_nxt: SeqNum(0),
            rcv_adv: SeqNum(0),
            rcv_wscale,
            recv_buf: Ring::new(config.recv_buffer),
            assembler: Assembler::new(config.max_ooo_ranges),
            rcv_off: 0,
            pending_fin: None,
            our_mss: init.our_mss,
            rtt: RttEstimator::new(config.initial_rto, config.min_rto, config.max_rto),
            cc: NewReno::new(mss),
            rtx_deadline: None,
            persist_deadline: None,
            ack: AckUrgency::None,
            retries: 0,
            keepalive_probes: 0,
            persist_backoff: 0,
            unanswered_probes: 0,
            dup_acks: 0,
            limited_transmit: 0,
            recovery: None,
            recover: init.iss,
            rexmit_one: false,
            probe_pending: false,
            keepalive_pending: false,
            unacked_bytes: 0,
            extra_acks: 0,
            r2_override: None,
            ablations: config.ablations(),
            await_confirm: false,
            final_ack: None,
            rcv_up: None,
            snd_up: None,
            syn_timed_out: false,
            syn_window: 0,
            fin_wait2_deadline: None,
            nagle: config.nagle,
            notify: Notify::default(),
            want_writable: false,
            owned: true,
            stats: TcpStats::default(),
            transitions: Vec::with_capacity(4),
            last_recv: init.now,
            keepalive: config.keepalive,
            delayed_ack: config.delayed_ack,
            time_wait: config.time_wait(),
            offer_wscale: config.window_scaling,
            sack_ok: config.sack,
            last_ooo: None,
        }
    }

    pub fn state(&self) -> TcpState {
        self.state.name()
    }

    pub fn local(&self) -> SocketAddrV4 {
        self.local
    }

    pub fn remote(&self) -> SocketAddrV4 {
        self.remote
    }

    pub fn is_owned(&self) -> bool {
        self.owned
    }

    pub fn close_reason(&self) -> Option<CloseReason> {
        match self.state {
            State::Closed(reason) => Some(reason),
            _ => None,
        }
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed(_))
    }

    pub fn stats(&self) -> TcpStats {
        let mut s = self.stats;
        s.srtt_micros = self.rtt.srtt().map_or(0, |d| d.as_micros() as u64);
        s.rto_micros = self.rtt.rto().as_micros() as u64;
        s.cwnd = self.cc.cwnd();
        s
    }

    /// Notifications or state changes are waiting to be collected.
    pub fn has_news(&self) -> bool {
        !self.notify.is_empty() || !self.transitions.is_empty()
    }

    pub fn take_notify(&mut self) -> Notify {
        core::mem::take(&mut self.notify)
    }

    pub fn take_transitions(&mut self, out: &mut Vec<(TcpState, TcpState)>) {
        out.append(&mut self.transitions);
    }

    pub(super) fn notify(&mut self, n: Notify) {
        self.notify.insert(n);
    }

    /// Every state change goes through here so the trace sees all of them.
    pub(super) fn set_state(&mut self, next: State) {
        let (from, to) = (self.state.name(), next.name());
        self.state = next;
        if from != to {
            self.transitions.push((from, to));
        }
        if let State::TimeWait { .. } | State::Closed(_) = next {
            // Nothing more will be sent; unread data (if any) stays for the application.
            self.send_buf.release();
            if self.assembler.is_empty() {
                self.recv_buf.release();
            }
        }
        if let State::Closed(_) = next {
            self.rtx_deadline = None;
            self.persist_deadline = None;
            self.ack = AckUrgency::None;
            self.notify(Notify::CLOSED);
        }
    }

    /// Aborts with `reason`; the caller sends a RST when the RFC asks for one.
    pub(super) fn abort_with(&mut self, reason: CloseReason) {
        self.send_buf.consume(self.send_buf.len());
        self.set_state(State::Closed(reason));
    }

    // ---- user calls, RFC 9293 §3.10 ----

    /// SEND (§3.10.2). Returns how many bytes were queued.
    pub fn send(&mut self, data: &[u8]) -> Result<usize, TcpError> {
        if let State::Closed(reason) = self.state {
            return Err(TcpError::Closed(reason));
        }
        if self.fin_queued || !self.state.can_send() {
            return Err(TcpError::Closing);
        }
        if data.is_empty() {
            return Ok(0);
        }
        let n = self.send_buf.enqueue(data);
        if n == 0 {
            self.want_writable = true;
            return Err(TcpError::WouldBlock);
        }
        Ok(n)
    }

    /// Bytes the application can still queue.
    pub fn send_capacity(&self) -> usize {
        self.send_buf.free()
    }

    /// Bytes queued but not yet acknowledged.
    pub fn send_queue(&self) -> usize {
        self.send_buf.len()
    }

    /// RECEIVE (§3.10.3). `Ok(0)` means the peer closed its side and everything was read.
    pub fn recv(&mut self, buf: &mut [u8]) -> Result<usize, TcpError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = self.recv_buf.dequeue(buf);
        if n > 0 {
            self.after_app_read();
            return Ok(n);
        }
        match self.state {
            State::Closed(CloseReason::Normal) => Ok(0),
            State::Closed(reason) => Err(TcpError::Closed(reason)),
            // The peer's FIN is in and everything before it was read: end of stream.
            State::CloseWait | State::Closing | State::LastAck | State::TimeWait { .. } => Ok(0),
            State::SynSent
            | State::SynReceived { .. }
            | State::Established
            | State::FinWait1
            | State::FinWait2 => Err(TcpError::WouldBlock),
        }
    }

    pub fn recv_queue(&self) -> usize {
        self.recv_buf.len()
    }

    /// Receiver silly-window avoidance (RFC 9293 §3.8.6.2.2, MUST-39): after the application reads,
    /// send a window update only once the window can move right by min(buffer/2, MSS).
    fn after_app_read(&mut self) {
        if !self.state.is_synchronized() || self.state.peer_finished() {
            return;
        }
        let potential = self.rcv_nxt + self.receive_window();
        let grow = potential - self.rcv_adv;
        let advertised = self.rcv_adv - self.rcv_nxt;
        let threshold = (self.recv_buf.capacity() as u32 / 2).min(self.mss);
        // Tell the peer at once when the window was (nearly) closed; else wait for a big step.
        if potential.gt(self.rcv_adv)
            && (grow >= 2 * self.mss.max(1) || (advertised < self.mss && grow >= threshold))
        {
            self.ack = AckUrgency::Now;
        }
    }

    /// RCV.WND: free room in the receive buffer (out-of-order bytes sit inside it), capped to what
    /// the window field can express.
    pub(super) fn receive_window(&self) -> u32 {
        let max = 0xFFFFu32 << self.rcv_wscale;
        (self.recv_buf.free() as u32).min(max)
    }

    /// CLOSE (§3.10.4) for the sending side: a FIN follows the queued data. Reading continues.
    pub fn shutdown(&mut self) -> Result<(), TcpError> {
        match self.state {
            State::Closed(reason) => return Err(TcpError::Closed(reason)),
            // "SYN-SENT STATE: Delete the TCB and return 'error: closing'" to queued sends.
            State::SynSent => {
                self.abort_with(CloseReason::Aborted);
                return Ok(());
            }
            // "If no SENDs have been issued and there is no pending data to send, then form a FIN
            // segment and send it, and enter FIN-WAIT-1 state; otherwise, queue for processing
            // after entering ESTABLISHED state."
            State::SynReceived { .. } => {
                self.fin_queued = true;
                if self.send_buf.is_empty() {
                    self.set_state(State::FinWait1);
                }
            }
            State::Established => {
                self.fin_queued = true;
                self.set_state(State::FinWait1);
            }
            State::CloseWait => {
                self.fin_queued = true;
                self.set_state(State::LastAck);
            }
            // Already closing: a second CLOSE changes nothing.
            State::FinWait1
            | State::FinWait2
            | State::Closing
            | State::LastAck
            | State::TimeWait { .. } => {}
        }
        Ok(())
    }

    /// The application lets go of the connection. Like Linux (RFC 2525 §2.17), unread data turns the
    /// close into an abort; returns true if a RST must be sent.
    pub fn close(&mut self, now: Instant) -> Result<bool, TcpError> {
        self.owned = false;
        if self.is_closed() {
            return Ok(false);
        }
        if !self.recv_buf.is_empty() {
            return Ok(self.abort());
        }
        self.shutdown()?;
        self.arm_orphan_timeout(now);
        Ok(false)
    }

    /// Nobody will read or close this connection any more: if it sits in FIN-WAIT-2 waiting for a
    /// FIN that may never come, give up after the TIME-WAIT interval (Linux: tcp_fin_timeout).
    pub(super) fn arm_orphan_timeout(&mut self, now: Instant) {
        if !self.owned && self.state == State::FinWait2 && self.fin_wait2_deadline.is_none() {
            self.fin_wait2_deadline = Some(now + self.time_wait);
        }
    }

    /// ABORT (§3.10.5): returns true if a RST must be sent (synchronized states and SYN-RECEIVED).
    pub fn abort(&mut self) -> bool {
        // §3.10.5: RST in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1/2 and CLOSE-WAIT; "CLOSING
        // STATE, LAST-ACK STATE, TIME-WAIT STATE: Respond with 'ok' and delete the TCB".
        let send_rst = match self.state {
            State::SynSent
            | State::Closed(_)
            | State::Closing
            | State::LastAck
            | State::TimeWait { .. } => false,
            State::SynReceived { .. }
            | State::Established
            | State::FinWait1
            | State::FinWait2
            | State::CloseWait => true,
        };
        if !self.is_closed() {
            self.abort_with(CloseReason::Aborted);
        }
        send_rst
    }

    /// MUST-21: the application sets R2 (retransmissions before giving up) for this connection.
    pub fn set_r2(&mut self, r2: u32) {
        self.r2_override = Some(r2);
    }

    /// MUST-17: Nagle's algorithm may be turned off per connection.
    pub fn set_nagle(&mut self, on: bool) {
        self.nagle = on;
    }

    pub fn set_keepalive(&mut self, keepalive: Option<super::config::KeepAlive>, now: Instant) {
        self.keepalive = keepalive;
        self.keepalive_probes = 0;
        self.last_recv = now;
    }

    /// Sequence number the next RST from this connection carries.
    pub fn rst_seq(&self) -> SeqNum {
        self.snd_nxt.max(self.snd_max)
    }

    pub fn rcv_nxt(&self) -> SeqNum {
        self.rcv_nxt
    }

    pub fn iss(&self) -> SeqNum {
        self.iss
    }

    pub fn irs(&self) -> SeqNum {
        self.irs
    }

    pub fn snd_una(&self) -> SeqNum {
        self.snd_una
    }

    pub fn snd_nxt(&self) -> SeqNum {
        self.snd_nxt
    }
}
