//! Connection states (RFC 9293 §3.3.2, Figure 5), each carrying exactly the data it needs.
//! LISTEN is not here: a listener is its own object and owns no connection state.

use super::error::CloseReason;
use crate::time::Instant;
use crate::trace::TcpState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    SynSent,
    /// MUST-11: remember whether we came from LISTEN (passive) or SYN-SENT (simultaneous open),
    /// because a RST sends a passive connection back to LISTEN but aborts an active one.
    SynReceived {
        from_listen: bool,
    },
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    /// 2×MSL timer: the connection lingers to absorb old duplicates and re-ACK a lost last FIN.
    TimeWait {
        until: Instant,
    },
    Closed(CloseReason),
}

impl State {
    pub fn name(self) -> TcpState {
        match self {
            State::SynSent => TcpState::SynSent,
            State::SynReceived { .. } => TcpState::SynReceived,
            State::Established => TcpState::Established,
            State::FinWait1 => TcpState::FinWait1,
            State::FinWait2 => TcpState::FinWait2,
            State::CloseWait => TcpState::CloseWait,
            State::Closing => TcpState::Closing,
            State::LastAck => TcpState::LastAck,
            State::TimeWait { .. } => TcpState::TimeWait,
            State::Closed(_) => TcpState::Closed,
        }
    }

    /// RFC 9293 §3.3.2: the synchronized states, in which a RST or bad ACK is handled per §3.10.7.4.
    pub fn is_synchronized(self) -> bool {
        match self {
            State::SynSent | State::SynReceived { .. } | State::Closed(_) => false,
            State::Established
            | State::FinWait1
            | State::FinWait2
            | State::CloseWait
            | State::Closing
            | State::LastAck
            | State::TimeWait { .. } => true,
        }
    }

    /// States in which arriving text is delivered to the receive buffer (§3.10.7.4 seventh step).
    pub fn accepts_data(self) -> bool {
        match self {
            State::Established | State::FinWait1 | State::FinWait2 => true,
            State::SynSent
            | State::SynReceived { .. }
            | State::CloseWait
            | State::Closing
            | State::LastAck
            | State::TimeWait { .. }
            | State::Closed(_) => false,
        }
    }

    /// The application may still queue data for sending.
    pub fn can_send(self) -> bool {
        match self {
            State::SynSent | State::SynReceived { .. } | State::Established | State::CloseWait => {
                true
            }
            State::FinWait1
            | State::FinWait2
            | State::Closing
            | State::LastAck
            | State::TimeWait { .. }
            | State::Closed(_) => false,
        }
    }

    /// The peer's FIN has been received (its side of the stream is finished).
    pub fn peer_finished(self) -> bool {
        match self {
            State::CloseWait | State::Closing | State::LastAck | State::TimeWait { .. } => true,
            State::SynSent
            | State::SynReceived { .. }
            | State::Established
            | State::FinWait1
            | State::FinWait2
            | State::Closed(_) => false,
        }
    }
}
