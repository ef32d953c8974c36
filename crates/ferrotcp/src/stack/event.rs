//! What the stack tells the application.

use crate::transport::tcp::{CloseReason, IcmpError, ListenerHandle, TcpHandle};
use crate::transport::udp::UdpHandle;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A listener has a connection waiting in its accept queue.
    Incoming(ListenerHandle),
    /// An active open completed (ESTABLISHED).
    Connected(TcpHandle),
    /// New data (or the end of the stream) can be read.
    Readable(TcpHandle),
    /// Send-buffer space freed after a send returned `WouldBlock`.
    Writable(TcpHandle),
    /// The peer sent its FIN: no more data will arrive; we may keep sending (half-close).
    PeerClosed(TcpHandle),
    /// The peer sent urgent data (its urgent pointer advanced; MUST-32).
    Urgent(TcpHandle),
    /// Retransmissions reached R1 (MUST-20): the path may be failing.
    Stalled(TcpHandle),
    /// An ICMP error about this connection that does not end it (SHLD-25: the application is
    /// told of destination unreachable codes 0, 1 and 5).
    IcmpError(TcpHandle, IcmpError),
    /// The connection is CLOSED, with the reason (MUST-12).
    Closed(TcpHandle, CloseReason),
    /// An ICMP echo reply (an answer to [`Stack::icmp_echo_request`](crate::Stack::icmp_echo_request)).
    EchoReply {
        from: core::net::Ipv4Addr,
        ident: u16,
        seq_no: u16,
        len: usize,
    },
    /// A datagram arrived at an empty UDP receive queue (read until `WouldBlock`).
    UdpReadable(UdpHandle),
}
