//! Errors the TCP API returns, and why a connection ended.

use core::fmt;

/// Why a connection ended; RFC 9293 MUST-12 asks that the application be told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// Both sides closed; the exchange ended as the RFC describes.
    Normal,
    /// The peer answered our SYN with RST: nobody listens there.
    Refused,
    /// The peer reset an established connection.
    Reset,
    /// Retransmissions reached R2 (or keep-alive probes went unanswered).
    TimedOut,
    /// This side aborted (`tcp_abort`, or close with unread data).
    Aborted,
    /// ICMP said the destination protocol or port is unreachable during the handshake.
    Unreachable,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CloseReason::Normal => "closed",
            CloseReason::Refused => "connection refused",
            CloseReason::Reset => "connection reset by peer",
            CloseReason::TimedOut => "connection timed out",
            CloseReason::Aborted => "connection aborted locally",
            CloseReason::Unreachable => "destination unreachable",
        })
    }
}

/// API misuse and connection errors, typed so callers can match on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpError {
    /// The handle does not name a live connection or listener.
    InvalidHandle,
    /// The local address (or the 4-tuple) is already in use, including by a connection in TIME-WAIT.
    AddrInUse,
    /// No free ephemeral port for this destination.
    NoEphemeralPorts,
    /// The destination cannot be reached from this host (no route).
    Unreachable,
    /// Port 0 or an address that cannot be used here.
    InvalidAddress,
    /// Nothing can be done right now; try again after the next event.
    WouldBlock,
    /// The sending side was already shut down ("connection closing", RFC 9293 §3.10.2).
    Closing,
    /// The connection is not (yet, or any more) in a state that allows this call.
    NotConnected,
    /// The connection ended for this reason.
    Closed(CloseReason),
}

impl fmt::Display for TcpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpError::InvalidHandle => f.write_str("invalid TCP handle"),
            TcpError::AddrInUse => f.write_str("address in use"),
            TcpError::NoEphemeralPorts => f.write_str("no free ephemeral port"),
            TcpError::Unreachable => f.write_str("destination unreachable"),
            TcpError::InvalidAddress => f.write_str("invalid address"),
            TcpError::WouldBlock => f.write_str("operation would block"),
            TcpError::Closing => f.write_str("connection closing: sending side already shut down"),
            TcpError::NotConnected => f.write_str("not connected"),
            TcpError::Closed(reason) => write!(f, "{reason}"),
        }
    }
}

impl std::error::Error for TcpError {}
