//! Software GRO (Linux's `napi_gro_receive` and `tcp_gro_receive`): in a batch of frames
//! received together, consecutive in-order data segments of one connection are handed to TCP
//! as one segment, so the connection's per-segment work (acceptability, the ACK field, the
//! receive path, events) runs once per run of segments. Only what TCP would take as it is may
//! be coalesced: pure ACK-flagged data at RCV.NXT of an established connection with nothing
//! out of order and room for all of it, every piece behind the same header (ACK, window,
//! options, ECN mark), each piece no longer than the first; PSH ends a run (its segment is the
//! last), and anything else for that connection first delivers what is held, so each
//! connection sees its segments in their order. The answers on the wire are the same as one
//! segment at a time (`tests/receive_batch.rs`).

use core::net::SocketAddrV4;

use crate::seq::SeqNum;
use crate::wire::{TcpFlags, TcpRepr};

/// At most this many segments in one run (Linux stops at 17 fragments): enough to share the
/// per-segment work out, small enough that starting a batch costs little.
pub(super) const MAX_PIECES: usize = 16;

/// A run of segments being coalesced, and the slices of their texts.
pub(super) struct Coalescer<'a> {
    pub held: Option<Held>,
    parts: [&'a [u8]; MAX_PIECES],
    count: usize,
}

/// The first segment's header and what the run may still take.
pub(super) struct Held {
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    pub seg: TcpRepr,
    pub ce: bool,
    /// Sequence number the next piece must start at.
    next: SeqNum,
    /// Length of the first piece: no later piece may be longer, and one shorter ends the run.
    piece: usize,
    /// The run ended (a short piece or PSH): the next segment cannot join it.
    ended: bool,
    /// Bytes the receive buffer can still take in order.
    room: usize,
}

impl<'a> Coalescer<'a> {
    pub fn new() -> Self {
        Coalescer {
            held: None,
            parts: [&[]; MAX_PIECES],
            count: 0,
        }
    }

    /// A segment that could start or join a run: data with ACK (and perhaps PSH), nothing else.
    pub fn candidate(seg: &TcpRepr, data: &[u8]) -> bool {
        let flags = seg.flags & !TcpFlags::PSH;
        flags == TcpFlags::ACK && seg.urgent == 0 && !data.is_empty()
    }

    /// Joins `data` to the run if it continues it exactly.
    pub fn try_join(
        &mut self,
        tuple: (SocketAddrV4, SocketAddrV4),
        seg: &TcpRepr,
        data: &'a [u8],
        ce: bool,
    ) -> bool {
        let Some(held) = self.held.as_mut() else {
            return false;
        };
        let joins = !held.ended
            && self.count < MAX_PIECES
            && (held.local, held.remote) == tuple
            && seg.seq == held.next
            && data.len() <= held.piece
            && data.len() <= held.room
            && ce == held.ce
            && seg.ack == held.seg.ack
            && seg.window == held.seg.window
            && seg.options == held.seg.options
            && Self::candidate(seg, data);
        if !joins {
            return false;
        }
        self.parts[self.count] = data;
        self.count += 1;
        held.next = seg.seq + data.len();
        held.room -= data.len();
        if seg.flags.contains(TcpFlags::PSH) {
            held.seg.flags |= TcpFlags::PSH;
            held.ended = true;
        }
        held.ended |= data.len() < held.piece;
        true
    }

    /// Starts a run with `data`, which TCP would take whole (`room` bytes fit in order).
    pub fn hold(&mut self, held: HeldStart, data: &'a [u8]) {
        debug_assert!(self.held.is_none());
        self.parts[0] = data;
        self.count = 1;
        let ended = held.seg.flags.contains(TcpFlags::PSH);
        self.held = Some(Held {
            local: held.local,
            remote: held.remote,
            next: held.seg.seq + data.len(),
            piece: data.len(),
            room: held.room - data.len(),
            seg: held.seg,
            ce: held.ce,
            ended,
        });
    }

    /// Takes the run out: its first header and its texts.
    pub fn take(&mut self) -> Option<(Held, &[&'a [u8]])> {
        let held = self.held.take()?;
        let count = core::mem::take(&mut self.count);
        Some((held, &self.parts[..count]))
    }
}

/// What [`Coalescer::hold`] needs of the first segment.
pub(super) struct HeldStart {
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    pub seg: TcpRepr,
    pub ce: bool,
    pub room: usize,
}
