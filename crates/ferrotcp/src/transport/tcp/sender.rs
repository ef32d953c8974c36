//! The sending half of a connection (RFC 9293 §3.3.1 send sequence variables): SND.UNA, SND.NXT,
//! SND.WND and friends, the send buffer, the RTT estimator, the congestion controller and loss
//! recovery. It exists from the active or passive OPEN until our FIN is acknowledged; after that
//! only [`SentAll`] remains.

use super::config::TcpConfig;
use super::congestion::{Algorithm, Controller};
use super::ecn::SendEcn;
use super::recovery::{Detection, Recovery};
use super::ring::Ring;
use super::rtt::RttEstimator;
use super::scoreboard::Scoreboard;
use crate::seq::SeqNum;

/// What our SYN (or SYN,ACK) offers; after the peer's SYN, what was agreed.
#[derive(Clone, Copy, Debug)]
pub(super) struct SynOffer {
    /// MSS we announce (interface MTU - 40).
    pub mss: u16,
    /// Window-scale shift we offer (RFC 7323 §2.2); `None` once the peer's SYN lacked the option.
    pub wscale: Option<u8>,
    /// SACK-permitted (RFC 2018 §2); false once the peer's SYN lacked it.
    pub sack: bool,
    /// The window our SYN or SYN,ACK offered (RFC 7323: unscaled).
    pub window: u32,
    /// Our SYN timed out at least once: RFC 6298 §5.7 sets RTO to 3 s when data begins.
    pub timed_out: bool,
    /// Timestamps offered (RFC 7323 §3.2) with this TSval clock offset; `None` once the peer's
    /// SYN lacked them.
    pub timestamps: Option<u32>,
    /// Use RACK-TLP for loss detection once SACK is agreed.
    pub rack: bool,
    /// Our ECN setting (RFC 3168): whether our SYN asks, whether we agree.
    pub ecn: super::config::Ecn,
}

#[derive(Debug)]
pub(super) struct Sender {
    pub iss: SeqNum,
    pub una: SeqNum,
    pub nxt: SeqNum,
    /// Highest sequence number sent so far (SND.NXT moves back on a retransmission timeout).
    pub max: SeqNum,
    pub wnd: u32,
    pub max_wnd: u32,
    pub wl1: SeqNum,
    pub wl2: SeqNum,
    /// Shift applied to the peer's advertised windows (RFC 7323 §2.3).
    pub wscale: u8,
    /// Sequence number of the first byte in `buf`.
    pub buf_seq: SeqNum,
    pub buf: Ring,
    /// How far `buf` may grow with the congestion window.
    pub max_buffer: usize,
    /// The application shut down its sending side: a FIN follows the queued data.
    pub fin_queued: bool,
    /// Effective send MSS (RFC 9293 §3.7.1, MUST-14..16).
    pub mss: u32,
    /// SND.UP, once the application has sent urgent data.
    pub up: Option<SeqNum>,
    pub syn: SynOffer,
    pub rtt: RttEstimator,
    pub algorithm: Algorithm,
    pub cc: Controller,
    /// Segments sent and not yet acknowledged, with their SACK and loss marks.
    pub board: Scoreboard,
    pub recovery: Recovery,
    /// Retransmissions of the current oldest unacknowledged segment (R1/R2 count).
    pub retries: u32,
    pub persist_backoff: u32,
    /// Window probes sent since the peer last answered (it is gone after R2 of them).
    pub unanswered_probes: u32,
    /// Send a one-byte zero-window probe on the next poll.
    pub probe_pending: bool,
    /// Send a tail loss probe on the next poll.
    pub tlp_pending: bool,
    pub ecn: SendEcn,
    pub nagle: bool,
}

/// What is left of the sending half once our FIN is acknowledged (FIN-WAIT-2, TIME-WAIT):
/// everything up to `end` was sent and acknowledged.
#[derive(Clone, Copy, Debug)]
pub(super) struct SentAll {
    pub end: SeqNum,
    /// Largest window the peer ever offered (RFC 5961 §5.2's bound on old ACKs).
    pub max_wnd: u32,
}

/// Smallest shift that lets `buffer` be advertised in 16 bits (RFC 7323 §2.3: at most 14).
pub(super) fn window_shift_for(buffer: usize) -> u8 {
    let mut shift = 0u8;
    while shift < 14 && (buffer >> shift) > 0xFFFF {
        shift += 1;
    }
    shift
}

impl Sender {
    pub fn new(config: &TcpConfig, iss: SeqNum, our_mss: u16, ts_offset: u32) -> Sender {
        let mss = u32::from(our_mss.clamp(1, 536));
        let algorithm = config.congestion;
        Sender {
            iss,
            una: iss,
            nxt: iss,
            max: iss,
            wnd: 0,
            max_wnd: 0,
            wl1: SeqNum(0),
            wl2: SeqNum(0),
            wscale: 0,
            buf_seq: iss + 1u32,
            buf: Ring::new(config.send_buffer),
            max_buffer: config.max_send_buffer.max(config.send_buffer),
            fin_queued: false,
            mss,
            up: None,
            syn: SynOffer {
                mss: our_mss,
                wscale: config
                    .window_scaling
                    .then(|| window_shift_for(config.max_recv_buffer.max(config.recv_buffer))),
                sack: config.sack,
                window: 0,
                timed_out: false,
                timestamps: config.timestamps.then_some(ts_offset),
                rack: config.rack,
                ecn: config.ecn,
            },
            rtt: RttEstimator::new(config.initial_rto, config.min_rto, config.max_rto),
            algorithm,
            cc: Controller::new(algorithm, mss),
            board: Scoreboard::default(),
            recovery: Recovery::new(iss, Detection::NewReno),
            retries: 0,
            persist_backoff: 0,
            unanswered_probes: 0,
            probe_pending: false,
            tlp_pending: false,
            ecn: SendEcn::default(),
            nagle: config.nagle,
        }
    }

    /// Sequence number of our FIN (meaningful once the application shut down its side).
    pub fn fin_seq(&self) -> SeqNum {
        self.buf_seq + self.buf.len()
    }

    /// Our FIN was sent and acknowledged.
    pub fn fin_acked(&self) -> bool {
        self.fin_queued && self.una == self.fin_seq() + 1u32
    }

    /// Sequence number the next RST from this connection carries.
    pub fn rst_seq(&self) -> SeqNum {
        self.nxt.max(self.max)
    }

    /// Sequence number for a segment without data: the RFC's SND.NXT, which after a timeout is
    /// our SND.MAX (we resend from SND.UNA but the peer may hold everything up to SND.MAX), yet
    /// never past the right edge of the peer's window, or its acceptability test would discard
    /// the ACK and answer with one of its own (Linux's tcp_acceptable_seq does the same).
    pub fn acceptable_seq(&self) -> SeqNum {
        let wnd_end = self.una + self.wnd;
        if self.max.le(wnd_end) {
            self.max
        } else {
            wnd_end.max(self.una)
        }
    }

    /// Room the peer's window leaves for new data at SND.NXT.
    pub fn window_room(&self) -> u32 {
        let edge = self.una + self.wnd;
        if edge.gt(self.nxt) {
            edge - self.nxt
        } else {
            0
        }
    }

    /// Room the congestion window leaves (cwnd - pipe).
    pub fn cwnd_room(&self) -> u32 {
        self.recovery.allowance(&self.cc, &self.board)
    }

    /// The peer's SYN arrived: its MSS (MUST-14/15: 536 if absent), SACK-permitted (RFC 2018
    /// §2: used only if both SYNs carry it), window scale and timestamps (RFC 7323 §2.2,
    /// §3.2: only if both), ECN (RFC 3168 §6.1.1). Returns the peer's TSval when timestamps
    /// are in use.
    pub fn negotiate(&mut self, peer_syn: &crate::wire::tcp::TcpRepr) -> Option<u32> {
        let options = &peer_syn.options;
        // RFC 3168 §6.1.1: an ECN-setup SYN from the peer, or a SYN,ACK answering ours.
        let requested = self.syn.ecn == super::config::Ecn::Request && !self.syn.timed_out;
        let syn_ack = peer_syn.flags.ack();
        self.ecn.on = super::ecn::agreed(self.syn.ecn, requested, peer_syn.flags, syn_ack);
        let peer_mss = u32::from(options.mss.unwrap_or(536));
        self.syn.sack = self.syn.sack && options.sack_permitted;
        match (self.syn.wscale, options.window_scale) {
            (Some(_), Some(shift)) => self.wscale = shift.min(14),
            _ => {
                self.wscale = 0;
                self.syn.wscale = None;
            }
        }
        let peer_tsval = match (self.syn.timestamps, options.timestamps) {
            (Some(_), Some((tsval, _))) => Some(tsval),
            _ => {
                self.syn.timestamps = None;
                None
            }
        };
        // RFC 7323 §3.2 / Linux's mss_cache: the 12 bytes of the timestamp option on every
        // segment come out of the payload.
        let option_bytes = if peer_tsval.is_some() { 12 } else { 0 };
        self.mss = peer_mss
            .min(u32::from(self.syn.mss))
            .saturating_sub(option_bytes)
            .max(1);
        self.cc = Controller::new(self.algorithm, self.mss);
        let detection = match (self.syn.sack, self.syn.rack) {
            (true, true) => Detection::Rack,
            (true, false) => Detection::DupThresh,
            (false, _) => Detection::NewReno,
        };
        self.recovery = Recovery::new(self.iss, detection);
        peer_tsval
    }

    /// What remains once our FIN is acknowledged.
    pub fn sent_all(&self) -> SentAll {
        SentAll {
            end: self.max.max(self.nxt),
            max_wnd: self.max_wnd,
        }
    }
}
