//! Turns a simulation trace (frames and state changes) into ladder items for one TCP connection
//! between two hosts: the frames are parsed with the stack's own wire formats.

use std::collections::HashMap;

use ferrotcp::trace::TraceEvent;
use ferrotcp::wire::{EtherType, EthernetRepr, IpProtocol, Ipv4Repr, TcpRepr};

use crate::ladder::{LadderItem, LadderSegment, LadderState, Side};
use crate::node::HostId;
use crate::trace::{SimEvent, SimRecord};

/// A TCP segment seen in a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenSegment {
    pub repr: TcpRepr,
    pub payload_len: usize,
}

/// Parses an Ethernet frame down to its TCP segment (checksums are not verified: a corrupted frame
/// is still drawn as what was sent).
pub fn tcp_in_frame(frame: &[u8]) -> Option<SeenSegment> {
    let (eth, payload) = EthernetRepr::parse(frame).ok()?;
    if eth.ethertype != EtherType::Ipv4 {
        return None;
    }
    let (ip, payload) = Ipv4Repr::parse(payload).ok()?;
    if ip.protocol != IpProtocol::Tcp {
        return None;
    }
    let (repr, data) = TcpRepr::parse(payload, ip.src, ip.dst, false).ok()?;
    Some(SeenSegment {
        repr,
        payload_len: data.len(),
    })
}

/// Sequence numbers as sent, or relative to each side's initial sequence number (as Wireshark
/// shows them: the SYN is 0, the first data byte 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqDisplay {
    Absolute,
    Relative,
}

/// Ladder items for the exchange between `left` and `right`: every TCP segment either sends, and
/// every state change either reports.
pub fn ladder_items(
    trace: &[SimRecord],
    left: HostId,
    right: HostId,
    display: SeqDisplay,
) -> Vec<LadderItem> {
    // Initial sequence numbers per (sender, source port, destination port): several connections
    // between the same hosts each count from their own SYN.
    let mut isn: HashMap<(Side, u16, u16), u32> = HashMap::new();
    let other = |s: Side| match s {
        Side::Left => Side::Right,
        Side::Right => Side::Left,
    };
    let side = |h: HostId| {
        if h == left {
            Some(Side::Left)
        } else if h == right {
            Some(Side::Right)
        } else {
            None
        }
    };
    let mut items = Vec::new();
    let mut by_frame: HashMap<u64, usize> = HashMap::new();
    for rec in trace {
        match &rec.event {
            SimEvent::FrameSent {
                from, frame, id, ..
            } => {
                let (Some(from), Some(seg)) = (side(*from), tcp_in_frame(frame)) else {
                    continue;
                };
                let flags = seg.repr.flags;
                let (sp, dp) = (seg.repr.src_port, seg.repr.dst_port);
                if flags.syn() {
                    isn.insert((from, sp, dp), seg.repr.seq.raw());
                }
                let me = isn.get(&(from, sp, dp)).copied();
                let peer = isn.get(&(other(from), dp, sp)).copied();
                let rel = |v: u32, base: Option<u32>| match (display, base) {
                    (SeqDisplay::Relative, Some(b)) => v.wrapping_sub(b),
                    _ => v,
                };
                by_frame.insert(*id, items.len());
                items.push(LadderItem::Segment(LadderSegment {
                    sent: rec.time,
                    arrived: None,
                    from,
                    flags: flags.to_string(),
                    seq: rel(seg.repr.seq.raw(), me),
                    ack: flags.ack().then_some(rel(seg.repr.ack.raw(), peer)),
                    len: seg.payload_len,
                    window: seg.repr.window,
                    note: None,
                }));
            }
            SimEvent::FrameDuplicated { id, copy } => {
                if let Some(&i) = by_frame.get(id)
                    && let LadderItem::Segment(s) = &items[i]
                {
                    let mut dup = s.clone();
                    dup.note = Some("duplicate".to_string());
                    by_frame.insert(*copy, items.len());
                    items.push(LadderItem::Segment(dup));
                }
            }
            SimEvent::FrameDelivered { id, .. } => {
                if let Some(&i) = by_frame.get(id)
                    && let LadderItem::Segment(s) = &mut items[i]
                    && s.arrived.is_none()
                {
                    s.arrived = Some(rec.time);
                }
            }
            SimEvent::FrameCorrupted { id, .. } => {
                if let Some(&i) = by_frame.get(id)
                    && let LadderItem::Segment(s) = &mut items[i]
                {
                    s.note = Some("corrupted".to_string());
                }
            }
            SimEvent::FrameLost { .. } => {}
            SimEvent::Host { host, record } => {
                if let (Some(side), TraceEvent::TcpState { to, .. }) = (side(*host), &record.event)
                {
                    items.push(LadderItem::State(LadderState {
                        time: record.time,
                        side,
                        state: *to,
                    }));
                }
            }
        }
    }
    items
}
