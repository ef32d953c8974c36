//! The network trace: every frame's life and every record the hosts emitted, in event order.
//!
//! Frame ids let a consumer (ladder renderer, pcap writer, test) join a send with its delivery.

use ferrotcp::time::Instant;
use ferrotcp::trace::TraceRecord;

use crate::node::HostId;

/// Why a frame never arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LossReason {
    /// Random loss on the wire.
    Loss,
    /// Tail drop: the serialisation queue was full.
    QueueFull,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimEvent {
    /// A node handed a frame to its link. `id` is unique per frame; duplicates get their own.
    /// `frame` holds the bytes as sent (before any corruption).
    FrameSent {
        from: HostId,
        to: HostId,
        frame: Vec<u8>,
        id: u64,
    },
    /// The frame was handed to the receiving node (recorded at arrival time).
    FrameDelivered { from: HostId, to: HostId, id: u64 },
    /// The frame will never arrive (recorded at send time).
    FrameLost {
        from: HostId,
        to: HostId,
        id: u64,
        reason: LossReason,
    },
    /// One bit of the frame was flipped (recorded at send time; bit 0 = MSB of byte 0).
    FrameCorrupted { id: u64, bit: usize },
    /// The link will deliver frame `id` twice; the second delivery is frame `copy`.
    FrameDuplicated { id: u64, copy: u64 },
    /// A record from `Node::drain_trace`.
    Host { host: HostId, record: TraceRecord },
}

/// A trace entry stamped with the virtual time it was recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimRecord {
    pub time: Instant,
    pub event: SimEvent,
}
