//! Connection states (RFC 9293 §3.3.2, Figure 5), each holding exactly the data it needs
//! (netstack3's model): SYN-SENT has a sending half and no receive variables yet; once our FIN
//! is acknowledged the sending half is gone and only where it ended remains.
//! LISTEN is not here: a listener is its own object and owns no connection state.
//!
//! The sending half is boxed: at about 830 bytes it is most of a connection, and the states
//! after our FIN is acknowledged (FIN-WAIT-2, TIME-WAIT) drop it, so a connection waiting out
//! TIME-WAIT keeps a 768-byte slot and nothing else (1,592 bytes before).

use super::error::CloseReason;
use super::receiver::{Receiver, RecvParams};
use super::sender::{Sender, SentAll};
use crate::trace::TcpState;

#[derive(Debug)]
pub(super) enum State {
    SynSent {
        snd: Box<Sender>,
        /// How the receiving half will be built when the peer's SYN arrives.
        rcv: RecvParams,
    },
    SynReceived {
        snd: Box<Sender>,
        rcv: Receiver,
        /// MUST-11: a RST sends a passive connection back to LISTEN but aborts an active one.
        from_listen: bool,
    },
    Established {
        snd: Box<Sender>,
        rcv: Receiver,
    },
    /// Our FIN is queued (`snd.fin_queued`) or sent, not yet acknowledged.
    FinWait1 {
        snd: Box<Sender>,
        rcv: Receiver,
    },
    /// Our FIN is acknowledged; the peer may still send.
    FinWait2 {
        rcv: Receiver,
        sent: SentAll,
    },
    /// The peer's FIN is in; we may still send.
    CloseWait {
        snd: Box<Sender>,
        rcv: Receiver,
    },
    Closing {
        snd: Box<Sender>,
        rcv: Receiver,
    },
    LastAck {
        snd: Box<Sender>,
        rcv: Receiver,
    },
    /// 2×MSL (the `TimeWait` timer): absorb old duplicates and re-ACK a retransmitted FIN.
    TimeWait {
        rcv: Receiver,
        sent: SentAll,
    },
    /// Unread bytes (if the peer's SYN ever arrived) stay for the application.
    Closed {
        reason: CloseReason,
        rcv: Option<Receiver>,
    },
}

/// A state to move to; [`State::rebuild`] carries the halves across.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum To {
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
    Closed(CloseReason),
}

impl State {
    pub fn name(&self) -> TcpState {
        match self {
            State::SynSent { .. } => TcpState::SynSent,
            State::SynReceived { .. } => TcpState::SynReceived,
            State::Established { .. } => TcpState::Established,
            State::FinWait1 { .. } => TcpState::FinWait1,
            State::FinWait2 { .. } => TcpState::FinWait2,
            State::CloseWait { .. } => TcpState::CloseWait,
            State::Closing { .. } => TcpState::Closing,
            State::LastAck { .. } => TcpState::LastAck,
            State::TimeWait { .. } => TcpState::TimeWait,
            State::Closed { .. } => TcpState::Closed,
        }
    }

    pub fn sender(&self) -> Option<&Sender> {
        match self {
            State::SynSent { snd, .. }
            | State::SynReceived { snd, .. }
            | State::Established { snd, .. }
            | State::FinWait1 { snd, .. }
            | State::CloseWait { snd, .. }
            | State::Closing { snd, .. }
            | State::LastAck { snd, .. } => Some(snd),
            State::FinWait2 { .. } | State::TimeWait { .. } | State::Closed { .. } => None,
        }
    }

    pub fn sender_mut(&mut self) -> Option<&mut Sender> {
        match self {
            State::SynSent { snd, .. }
            | State::SynReceived { snd, .. }
            | State::Established { snd, .. }
            | State::FinWait1 { snd, .. }
            | State::CloseWait { snd, .. }
            | State::Closing { snd, .. }
            | State::LastAck { snd, .. } => Some(snd),
            State::FinWait2 { .. } | State::TimeWait { .. } | State::Closed { .. } => None,
        }
    }

    pub fn receiver(&self) -> Option<&Receiver> {
        match self {
            State::SynReceived { rcv, .. }
            | State::Established { rcv, .. }
            | State::FinWait1 { rcv, .. }
            | State::FinWait2 { rcv, .. }
            | State::CloseWait { rcv, .. }
            | State::Closing { rcv, .. }
            | State::LastAck { rcv, .. }
            | State::TimeWait { rcv, .. } => Some(rcv),
            State::Closed { rcv, .. } => rcv.as_ref(),
            State::SynSent { .. } => None,
        }
    }

    pub fn receiver_mut(&mut self) -> Option<&mut Receiver> {
        match self {
            State::SynReceived { rcv, .. }
            | State::Established { rcv, .. }
            | State::FinWait1 { rcv, .. }
            | State::FinWait2 { rcv, .. }
            | State::CloseWait { rcv, .. }
            | State::Closing { rcv, .. }
            | State::LastAck { rcv, .. }
            | State::TimeWait { rcv, .. } => Some(rcv),
            State::Closed { rcv, .. } => rcv.as_mut(),
            State::SynSent { .. } => None,
        }
    }

    /// Where the sending half ended, in the states that no longer have one.
    pub fn sent_all(&self) -> Option<SentAll> {
        match self {
            State::FinWait2 { sent, .. } | State::TimeWait { sent, .. } => Some(*sent),
            State::SynSent { .. }
            | State::SynReceived { .. }
            | State::Established { .. }
            | State::FinWait1 { .. }
            | State::CloseWait { .. }
            | State::Closing { .. }
            | State::LastAck { .. }
            | State::Closed { .. } => None,
        }
    }

    /// Moves this state's halves into the state `to`. A half the target needs but this state
    /// lacks cannot be conjured; the connection then ends (callers never ask for that).
    pub fn rebuild(self, to: To) -> State {
        let (snd, rcv, sent) = match self {
            State::SynSent { snd, .. } => (Some(snd), None, None),
            State::SynReceived { snd, rcv, .. }
            | State::Established { snd, rcv }
            | State::FinWait1 { snd, rcv }
            | State::CloseWait { snd, rcv }
            | State::Closing { snd, rcv }
            | State::LastAck { snd, rcv } => (Some(snd), Some(rcv), None),
            State::FinWait2 { rcv, sent } | State::TimeWait { rcv, sent } => {
                (None, Some(rcv), Some(sent))
            }
            State::Closed { rcv, .. } => (None, rcv, None),
        };
        let sent = sent.or(snd.as_deref().map(Sender::sent_all));
        match (to, snd, rcv, sent) {
            (To::Established, Some(snd), Some(rcv), _) => State::Established { snd, rcv },
            (To::FinWait1, Some(snd), Some(rcv), _) => State::FinWait1 { snd, rcv },
            (To::CloseWait, Some(snd), Some(rcv), _) => State::CloseWait { snd, rcv },
            (To::Closing, Some(snd), Some(rcv), _) => State::Closing { snd, rcv },
            (To::LastAck, Some(snd), Some(rcv), _) => State::LastAck { snd, rcv },
            (To::FinWait2, _, Some(rcv), Some(sent)) => State::FinWait2 { rcv, sent },
            (To::TimeWait, _, Some(rcv), Some(sent)) => State::TimeWait { rcv, sent },
            (To::Closed(reason), _, rcv, _) => State::Closed { reason, rcv },
            (to, _, rcv, _) => {
                debug_assert!(false, "no way to {to:?} from here");
                State::Closed {
                    reason: CloseReason::Aborted,
                    rcv,
                }
            }
        }
    }

    /// RFC 9293 §3.3.2: the synchronized states, in which a RST or bad ACK is handled per §3.10.7.4.
    pub fn is_synchronized(&self) -> bool {
        match self {
            State::SynSent { .. } | State::SynReceived { .. } | State::Closed { .. } => false,
            State::Established { .. }
            | State::FinWait1 { .. }
            | State::FinWait2 { .. }
            | State::CloseWait { .. }
            | State::Closing { .. }
            | State::LastAck { .. }
            | State::TimeWait { .. } => true,
        }
    }

    /// States in which arriving text is delivered to the receive buffer (§3.10.7.4 seventh step).
    pub fn accepts_data(&self) -> bool {
        match self {
            State::Established { .. } | State::FinWait1 { .. } | State::FinWait2 { .. } => true,
            State::SynSent { .. }
            | State::SynReceived { .. }
            | State::CloseWait { .. }
            | State::Closing { .. }
            | State::LastAck { .. }
            | State::TimeWait { .. }
            | State::Closed { .. } => false,
        }
    }

    /// The application may still queue data for sending.
    pub fn can_send(&self) -> bool {
        match self {
            State::SynSent { .. }
            | State::SynReceived { .. }
            | State::Established { .. }
            | State::CloseWait { .. } => true,
            State::FinWait1 { .. }
            | State::FinWait2 { .. }
            | State::Closing { .. }
            | State::LastAck { .. }
            | State::TimeWait { .. }
            | State::Closed { .. } => false,
        }
    }

    /// The peer's FIN has been received (its side of the stream is finished).
    pub fn peer_finished(&self) -> bool {
        match self {
            State::CloseWait { .. }
            | State::Closing { .. }
            | State::LastAck { .. }
            | State::TimeWait { .. } => true,
            State::SynSent { .. }
            | State::SynReceived { .. }
            | State::Established { .. }
            | State::FinWait1 { .. }
            | State::FinWait2 { .. }
            | State::Closed { .. } => false,
        }
    }

    /// Our FIN may go out (the user's CLOSE moved us to a closing state).
    pub fn fin_allowed(&self) -> bool {
        match self {
            State::FinWait1 { .. } | State::Closing { .. } | State::LastAck { .. } => true,
            State::SynSent { .. }
            | State::SynReceived { .. }
            | State::Established { .. }
            | State::FinWait2 { .. }
            | State::CloseWait { .. }
            | State::TimeWait { .. }
            | State::Closed { .. } => false,
        }
    }

    /// States in which segments carry the urgent pointer (MUST-62).
    pub fn sends_urgent(&self) -> bool {
        match self {
            State::Established { .. }
            | State::CloseWait { .. }
            | State::FinWait1 { .. }
            | State::LastAck { .. }
            | State::Closing { .. } => true,
            State::SynSent { .. }
            | State::SynReceived { .. }
            | State::FinWait2 { .. }
            | State::TimeWait { .. }
            | State::Closed { .. } => false,
        }
    }
}
