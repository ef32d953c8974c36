//! Trace events: every TCP state change, timer and dropped input, stamped with the time the stack
//! was given. Frames themselves are recorded by the driver (simulator, device runtime), which owns
//! the bytes; together they are enough to draw a ladder diagram or write a pcap.

use core::fmt;
use core::net::SocketAddrV4;

use crate::time::Instant;

/// The eleven connection states of RFC 9293 §3.3.2 (Figure 5), without their data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpState {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl TcpState {
    pub const ALL: [TcpState; 11] = [
        TcpState::Closed,
        TcpState::Listen,
        TcpState::SynSent,
        TcpState::SynReceived,
        TcpState::Established,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::CloseWait,
        TcpState::Closing,
        TcpState::LastAck,
        TcpState::TimeWait,
    ];

    /// The RFC's spelling: `SYN-SENT`, `TIME-WAIT`, ...
    pub fn rfc_name(self) -> &'static str {
        match self {
            TcpState::Closed => "CLOSED",
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynReceived => "SYN-RECEIVED",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST-ACK",
            TcpState::TimeWait => "TIME-WAIT",
        }
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.rfc_name())
    }
}

/// Which timer fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    Retransmit,
    DelayedAck,
    Persist,
    KeepAlive,
    TimeWait,
    /// An orphaned FIN-WAIT-2 connection gave up waiting for the peer's FIN.
    FinWait2,
    /// RFC 8985 §7: a tail loss probe is due.
    LossProbe,
    /// RFC 8985 §6.2: RACK's reordering window ran out for a segment.
    Reorder,
    /// The connection has been quiet long enough for its empty buffers to give their memory
    /// back (no segment goes out).
    Reclaim,
}

impl TimerKind {
    pub const ALL: [TimerKind; 9] = [
        TimerKind::Retransmit,
        TimerKind::DelayedAck,
        TimerKind::Persist,
        TimerKind::KeepAlive,
        TimerKind::TimeWait,
        TimerKind::FinWait2,
        TimerKind::LossProbe,
        TimerKind::Reorder,
        TimerKind::Reclaim,
    ];
}

/// Why an input was dropped (each also bumps a counter in the stack's stats).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    Malformed,
    BadChecksum,
    NotForUs,
    UnknownProtocol,
    Fragmented,
    NoSocket,
    /// TCP: outside the receive window (RFC 9293 §3.10.7.4 first step), or a segment SYN-SENT
    /// cannot use (neither SYN nor an acceptable RST).
    Unacceptable,
    /// TCP: an ACK for data never sent, or older than the window allows (RFC 5961 §5.2).
    BadAck,
    /// TCP: no ACK bit in a synchronized state (§3.10.7.4 fifth step).
    NoAck,
    /// TCP: an old timestamp (RFC 7323 §5 PAWS).
    Paws,
    /// TCP: a RST or SYN inside the window but not exact, answered by a challenge ACK
    /// (RFC 5961 §3.2, §4.2).
    Challenged,
    QueueFull,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceEvent {
    /// A connection moved from one state to another.
    TcpState {
        local: SocketAddrV4,
        remote: SocketAddrV4,
        from: TcpState,
        to: TcpState,
    },
    /// A TCP timer fired for this connection.
    TcpTimer {
        local: SocketAddrV4,
        remote: SocketAddrV4,
        kind: TimerKind,
    },
    /// An incoming frame or segment was dropped.
    Dropped { reason: DropReason },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceRecord {
    pub time: Instant,
    pub event: TraceEvent,
}
