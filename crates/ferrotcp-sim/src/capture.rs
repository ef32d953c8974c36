//! TCP connections found in a packet capture, and their ladder diagrams.
//!
//! Works on any capture, not only the simulator's: frames are decoded leniently (checksums are
//! not verified, since captures taken on a host with checksum offload carry unfinished ones, and
//! packets cut short by the snapshot length still count with their real payload length), split
//! into connections keyed by their unordered 4-tuple and numbered in order of first appearance,
//! like Wireshark's `tcp.stream`. [`stream_ladder`] then infers each side's RFC 9293 state (Figure
//! 5) from what it sends and receives.
//!
//! A capture is taken at one point, so each segment has one timestamp: a segment is drawn as
//! sent and received at the time it was captured. When that order misleads, because the two
//! sides' segments crossed on the wire (simultaneous open or close), the receiving side's state
//! change is moved after its own segment: a SYN or FIN whose ACK does not cover the peer's SYN or
//! FIN proves the peer's had not arrived yet.
//!
//! Pure logic, no I/O: the caller reads the capture file.

use core::net::{Ipv4Addr, SocketAddrV4};
use std::collections::HashMap;
use std::time::Duration;

use ferrotcp::seq::SeqNum;
use ferrotcp::time::Instant;
use ferrotcp::trace::TcpState;
use ferrotcp::wire::{TcpFlags, TcpOptions, TcpPacket, TcpRepr};

use crate::ladder::{LadderItem, LadderSegment, LadderState, Side};

/// One record of a capture file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapturedFrame {
    /// As recorded (usually since the Unix epoch).
    pub time: Duration,
    /// The captured bytes (possibly cut short by the snapshot length).
    pub data: Vec<u8>,
}

/// What each captured frame starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// Ethernet II (pcap link type 1), optionally with 802.1Q/802.1ad VLAN tags.
    Ethernet,
    /// A bare IP packet (link types 101 and 228).
    RawIp,
}

/// One TCP connection: every segment either side sent, in capture order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stream {
    /// 0 for the first connection seen in the capture, then 1, 2, ...
    pub index: usize,
    /// The side that sent the first SYN (without ACK); failing that, the side that received
    /// the first SYN,ACK; failing that, the sender of the first segment.
    pub client: SocketAddrV4,
    pub server: SocketAddrV4,
    /// `(time since the capture's first frame, sender, TCP header, payload length)`. The
    /// payload length is the real one (from the IP header), even when the capture holds less.
    pub segments: Vec<(Duration, SocketAddrV4, TcpRepr, usize)>,
}

/// Everything [`scan`] found in a capture.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    pub streams: Vec<Stream>,
    /// Frames holding an unfragmented TCP segment over IPv4.
    pub tcp_frames: usize,
    /// Well-formed frames carrying something else: ARP, IPv6, UDP, ICMP, IPv4 fragments...
    pub other_frames: usize,
    /// Frames too short or malformed to decode (skipped).
    pub malformed_frames: usize,
}

/// The TCP connections in `frames`, numbered in order of first appearance (see [`scan`]).
pub fn tcp_streams(frames: &[CapturedFrame], link: LinkKind) -> Vec<Stream> {
    scan(frames, link).streams
}

/// Decodes every frame, groups the TCP segments into connections and counts what was skipped.
///
/// Connections are keyed by their unordered 4-tuple, except that a new SYN (with a different
/// initial sequence number) on a 4-tuple whose connection has already ended (reset, or FINs
/// both ways) starts a new connection, as when a client reuses a port. Times are made relative
/// to the capture's first frame.
pub fn scan(frames: &[CapturedFrame], link: LinkKind) -> Scan {
    let start = frames.first().map_or(Duration::ZERO, |f| f.time);
    let mut out = Scan::default();
    let mut by_key: HashMap<(SocketAddrV4, SocketAddrV4), usize> = HashMap::new();
    let mut tracks: Vec<Track> = Vec::new();
    for frame in frames {
        let (src, dst, repr, payload_len) = match decode(&frame.data, link) {
            Decoded::Tcp {
                src,
                dst,
                repr,
                payload_len,
            } => (src, dst, repr, payload_len),
            Decoded::Other => {
                out.other_frames += 1;
                continue;
            }
            Decoded::Malformed => {
                out.malformed_frames += 1;
                continue;
            }
        };
        out.tcp_frames += 1;
        let key = if src <= dst { (src, dst) } else { (dst, src) };
        let bare_syn = repr.flags.syn() && !repr.flags.ack();
        let index = match by_key.get(&key) {
            Some(&i) if !(bare_syn && tracks[i].reused_by(src, repr.seq)) => i,
            _ => {
                let i = out.streams.len();
                out.streams.push(Stream {
                    index: i,
                    client: src,
                    server: dst,
                    segments: Vec::new(),
                });
                tracks.push(Track::default());
                by_key.insert(key, i);
                i
            }
        };
        tracks[index].see(src, &repr);
        out.streams[index].segments.push((
            frame.time.saturating_sub(start),
            src,
            repr,
            payload_len,
        ));
    }
    for s in &mut out.streams {
        let (a, b) = (s.client, s.server);
        let client = s
            .segments
            .iter()
            .find_map(|(_, from, r, _)| {
                if r.flags.syn() && !r.flags.ack() {
                    Some(*from)
                } else if r.flags.syn() {
                    Some(if *from == a { b } else { a })
                } else {
                    None
                }
            })
            .unwrap_or(a);
        s.client = client;
        s.server = if client == a { b } else { a };
    }
    out
}

/// What [`scan`] remembers of a connection to tell when its 4-tuple is reused.
#[derive(Default)]
struct Track {
    /// Initial sequence numbers of the bare SYNs seen, by sender.
    syns: Vec<(SocketAddrV4, SeqNum)>,
    fins_from: Vec<SocketAddrV4>,
    reset: bool,
}

impl Track {
    fn see(&mut self, from: SocketAddrV4, r: &TcpRepr) {
        if r.flags.syn() && !r.flags.ack() && !self.syns.contains(&(from, r.seq)) {
            self.syns.push((from, r.seq));
        }
        if r.flags.fin() && !self.fins_from.contains(&from) {
            self.fins_from.push(from);
        }
        self.reset |= r.flags.rst();
    }

    /// Whether a bare SYN from `from` with `seq` opens a new connection on this 4-tuple.
    fn reused_by(&self, from: SocketAddrV4, seq: SeqNum) -> bool {
        let ended = self.reset || self.fins_from.len() >= 2;
        ended && !self.syns.contains(&(from, seq))
    }
}

enum Decoded {
    Tcp {
        src: SocketAddrV4,
        dst: SocketAddrV4,
        repr: TcpRepr,
        payload_len: usize,
    },
    Other,
    Malformed,
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_VLAN: [u16; 3] = [0x8100, 0x88a8, 0x9100];
const ETH_HEADER_LEN: usize = 14;
const IPV4_MIN_HEADER: usize = 20;
const PROTO_TCP: u8 = 6;

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn decode(data: &[u8], link: LinkKind) -> Decoded {
    match link {
        LinkKind::Ethernet => {
            if data.len() < ETH_HEADER_LEN {
                return Decoded::Malformed;
            }
            let mut ethertype = be16(data, 12);
            let mut at = ETH_HEADER_LEN;
            // Skip VLAN tags (each 4 bytes: TCI, then the next EtherType).
            while ETHERTYPE_VLAN.contains(&ethertype) {
                if data.len() < at + 4 {
                    return Decoded::Malformed;
                }
                ethertype = be16(data, at + 2);
                at += 4;
            }
            if ethertype != ETHERTYPE_IPV4 {
                return Decoded::Other;
            }
            decode_ipv4(&data[at..])
        }
        LinkKind::RawIp => match data.first().map(|b| b >> 4) {
            Some(4) => decode_ipv4(data),
            Some(6) => Decoded::Other,
            _ => Decoded::Malformed,
        },
    }
}

/// An IPv4 packet, leniently: no checksum check, and a packet cut short by the snapshot length
/// still yields its TCP header (if captured) and its real payload length.
fn decode_ipv4(p: &[u8]) -> Decoded {
    if p.len() < IPV4_MIN_HEADER || p[0] >> 4 != 4 {
        return Decoded::Malformed;
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    // A total length of 0 is what Linux records for TSO super-packets: use what was captured.
    let total = match usize::from(be16(p, 2)) {
        0 => p.len(),
        t => t,
    };
    if ihl < IPV4_MIN_HEADER || total < ihl || p.len() < ihl {
        return Decoded::Malformed;
    }
    let frag = be16(p, 6);
    let more_fragments = frag & 0x2000 != 0;
    if more_fragments || frag & 0x1fff != 0 || p[9] != PROTO_TCP {
        return Decoded::Other;
    }
    let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
    let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
    // Bytes past the total length are link padding.
    let seg = &p[ihl..total.min(p.len())];
    let Ok(tcp) = TcpPacket::new_checked(seg) else {
        return Decoded::Malformed;
    };
    let Some(payload_len) = (total - ihl).checked_sub(tcp.header_len()) else {
        return Decoded::Malformed;
    };
    let repr = TcpRepr {
        src_port: tcp.src_port(),
        dst_port: tcp.dst_port(),
        seq: tcp.seq_number(),
        ack: tcp.ack_number(),
        flags: tcp.flags(),
        window: tcp.window_len(),
        urgent: tcp.urgent_at(),
        // Options are not needed for the diagram: a malformed option area does not hide
        // the segment.
        options: TcpOptions::parse(tcp.options()).unwrap_or_default(),
    };
    Decoded::Tcp {
        src: SocketAddrV4::new(src, repr.src_port),
        dst: SocketAddrV4::new(dst, repr.dst_port),
        repr,
        payload_len,
    }
}

/// What one side is inferred to know.
#[derive(Clone, Debug)]
struct End {
    state: TcpState,
    /// Its own SYN's sequence number.
    isn: Option<SeqNum>,
    /// The sequence number just after its own FIN.
    fin_end: Option<SeqNum>,
    fin_acked: bool,
    peer_fin: bool,
}

impl End {
    fn new(state: TcpState) -> End {
        End {
            state,
            isn: None,
            fin_end: None,
            fin_acked: false,
            peer_fin: false,
        }
    }

    /// Moves to `to` (recording the change) unless already there.
    fn go(&mut self, to: TcpState, changes: &mut Vec<TcpState>) {
        if self.state != to {
            self.state = to;
            changes.push(to);
        }
    }

    /// The side sends `seg`: the state changes this implies, in order.
    fn send(&mut self, seg: &Seg) -> Vec<TcpState> {
        use TcpState::*;
        let mut ch = Vec::new();
        let f = seg.flags;
        if f.rst() {
            self.go(Closed, &mut ch);
            return ch;
        }
        if f.syn() {
            self.isn = Some(seg.seq);
            match (self.state, f.ack()) {
                (Closed | Listen, false) => self.go(SynSent, &mut ch),
                // A SYN,ACK answers a SYN (perhaps one the capture missed).
                (Closed | Listen | SynSent, true) => self.go(SynReceived, &mut ch),
                _ => {}
            }
        } else if f.ack() && self.state == SynSent {
            // Only a SYN,ACK received lets a SYN-SENT side send a plain ACK.
            self.go(Established, &mut ch);
        } else if seg.len > 0 && self.state == SynReceived {
            // Data is only sent once established (the ACK that got it there was not captured).
            self.go(Established, &mut ch);
        }
        if f.fin() && self.fin_end.is_none() {
            self.fin_end = Some(seg.seq + (seg.seq_len() as u32));
            match self.state {
                Established | SynReceived => self.go(FinWait1, &mut ch),
                CloseWait => self.go(LastAck, &mut ch),
                _ => {}
            }
        }
        ch
    }

    /// The side receives `seg` from its peer: the state changes this implies, in order.
    fn receive(&mut self, seg: &Seg) -> Vec<TcpState> {
        use TcpState::*;
        let mut ch = Vec::new();
        let f = seg.flags;
        if f.rst() {
            // RFC 9293 §3.10.7.2: LISTEN ignores a reset.
            if self.state != Listen {
                self.go(Closed, &mut ch);
            }
            return ch;
        }
        if f.syn() {
            match (self.state, f.ack()) {
                (Listen, false) => self.go(SynReceived, &mut ch),
                // Simultaneous open: our SYN and theirs crossed.
                (SynSent, false) => self.go(SynReceived, &mut ch),
                _ => {}
            }
        }
        let mut newly_acked_fin = false;
        if f.ack() {
            if self.state == SynReceived && self.isn.is_some_and(|isn| seg.ack.gt(isn)) {
                self.go(Established, &mut ch);
            }
            if !self.fin_acked && self.fin_end.is_some_and(|end| seg.ack.ge(end)) {
                self.fin_acked = true;
                newly_acked_fin = true;
            }
        }
        if f.fin() && !self.peer_fin {
            self.peer_fin = true;
            match self.state {
                Established => self.go(CloseWait, &mut ch),
                // RFC 9293 §3.10.7.4: if our FIN has been ACKed (perhaps in this segment),
                // TIME-WAIT, otherwise CLOSING.
                FinWait1 if self.fin_acked => self.go(TimeWait, &mut ch),
                FinWait1 => self.go(Closing, &mut ch),
                FinWait2 => self.go(TimeWait, &mut ch),
                _ => {}
            }
        } else if newly_acked_fin {
            match self.state {
                FinWait1 => self.go(FinWait2, &mut ch),
                Closing => self.go(TimeWait, &mut ch),
                LastAck => self.go(Closed, &mut ch),
                _ => {}
            }
        }
        ch
    }
}

/// The parts of a segment the state inference looks at.
#[derive(Clone, Copy, Debug)]
struct Seg {
    flags: TcpFlags,
    seq: SeqNum,
    ack: SeqNum,
    len: usize,
}

impl Seg {
    fn seq_len(&self) -> usize {
        self.len + usize::from(self.flags.syn()) + usize::from(self.flags.fin())
    }
}

/// A receipt of a SYN or FIN drawn at its capture time, undone if the receiver's next SYN or
/// FIN shows it had not arrived yet.
struct Pending {
    before: End,
    /// Indices of the state items the receipt produced.
    items: Vec<usize>,
    seg: Seg,
    /// The ACK that proves the receipt: the sequence number after the SYN or FIN.
    proof: SeqNum,
}

fn side_index(side: Side) -> usize {
    match side {
        Side::Left => 0,
        Side::Right => 1,
    }
}

const SIDES: [Side; 2] = [Side::Left, Side::Right];

/// The ladder of `stream`: the client on the left, the server on the right, each segment drawn
/// at its capture time (as both sent and received then), and each side's inferred state
/// changes. With `relative`, sequence numbers count from each side's SYN (as Wireshark shows
/// them); a side whose SYN was not captured keeps absolute numbers.
///
/// A segment that takes sequence space without going past what its side already sent is noted
/// as a retransmission.
///
/// Initial states: a capture that starts with the client's SYN starts the client in CLOSED and
/// the server in LISTEN (CLOSED if it too sends a SYN: simultaneous open); one that starts with
/// the SYN,ACK starts the client in SYN-SENT; any other starts both in ESTABLISHED, with a note.
pub fn stream_ladder(stream: &Stream, relative: bool) -> Vec<LadderItem> {
    let Some((t0, first_from, first, _)) = stream.segments.first() else {
        return Vec::new();
    };
    let at = |d: &Duration| Instant::from_micros(u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    let side_of = |a: &SocketAddrV4| {
        if *a == stream.client {
            Side::Left
        } else {
            Side::Right
        }
    };
    let mut items: Vec<Option<LadderItem>> = Vec::new();
    let (mut ends, note) = initial_states(stream, side_of(first_from), first.flags);
    for (side, end) in SIDES.iter().zip(&ends) {
        items.push(Some(LadderItem::State(LadderState {
            time: at(t0),
            side: *side,
            state: end.state,
        })));
    }
    if let Some(note) = note {
        items.push(Some(LadderItem::Note(note.to_string())));
    }
    let mut pending: [Option<Pending>; 2] = [None, None];
    let mut display_isn: [Option<u32>; 2] = [None, None];
    // The highest sequence number each side has sent up to (exclusive), to spot retransmissions.
    let mut sent_up_to: [Option<SeqNum>; 2] = [None, None];
    for (time, from, repr, len) in &stream.segments {
        let t = at(time);
        let side = side_of(from);
        let (s, r) = (side_index(side), 1 - side_index(side));
        let seg = Seg {
            flags: repr.flags,
            seq: repr.seq,
            ack: repr.ack,
            len: *len,
        };
        // Did the sender really receive the peer's last SYN or FIN before sending this?
        let mut replay = None;
        if let Some(p) = &pending[s] {
            if seg.flags.ack() && seg.ack.ge(p.proof) {
                pending[s] = None;
            } else if (seg.flags.syn() || seg.flags.fin()) && !seg.flags.rst() {
                // No: this segment was sent first. Undo the receipt; redo it after.
                if let Some(p) = pending[s].take() {
                    for i in p.items {
                        items[i] = None;
                    }
                    ends[s] = p.before;
                    replay = Some(p.seg);
                }
            }
        }
        for state in ends[s].send(&seg) {
            items.push(Some(state_item(t, side, state)));
        }
        if repr.flags.syn() {
            display_isn[s] = Some(repr.seq.raw());
        }
        // A segment that takes sequence space but carries nothing beyond what its side already
        // sent is a retransmission (or a duplicate); keep-alive probes (one old byte) included.
        let end = seg.seq + (seg.seq_len() as u32);
        let note = match sent_up_to[s] {
            Some(high) if seg.seq_len() > 0 && !seg.flags.rst() && end.le(high) => {
                Some("retransmission".to_string())
            }
            _ => None,
        };
        if seg.seq_len() > 0 && sent_up_to[s].is_none_or(|high| end.gt(high)) {
            sent_up_to[s] = Some(end);
        }
        let rel = |v: u32, base: Option<u32>| match (relative, base) {
            (true, Some(b)) => v.wrapping_sub(b),
            _ => v,
        };
        items.push(Some(LadderItem::Segment(LadderSegment {
            sent: t,
            // One capture point, one timestamp: drawn as arrived when captured.
            arrived: Some(t),
            from: side,
            flags: repr.flags.to_string(),
            seq: rel(repr.seq.raw(), display_isn[s]),
            ack: repr
                .flags
                .ack()
                .then(|| rel(repr.ack.raw(), display_isn[r])),
            len: *len,
            window: repr.window,
            note,
        })));
        if let Some(earlier) = replay {
            for state in ends[s].receive(&earlier) {
                items.push(Some(state_item(t, side, state)));
            }
        }
        let before = ends[r].clone();
        let mut produced = Vec::new();
        for state in ends[r].receive(&seg) {
            produced.push(items.len());
            items.push(Some(state_item(t, SIDES[r], state)));
        }
        if seg.flags.syn() || seg.flags.fin() {
            pending[r] = Some(Pending {
                before,
                items: produced,
                seg,
                proof: seg.seq + (seg.seq_len() as u32),
            });
        }
    }
    items.into_iter().flatten().collect()
}

fn state_item(time: Instant, side: Side, state: TcpState) -> LadderItem {
    LadderItem::State(LadderState { time, side, state })
}

/// Both sides' states before the first captured segment, and a note if they are guessed.
fn initial_states(
    stream: &Stream,
    first_side: Side,
    first: TcpFlags,
) -> ([End; 2], Option<&'static str>) {
    use TcpState::*;
    if first.syn() && !first.ack() {
        // The server opens actively too (simultaneous open) if it sends a bare SYN before
        // anything that acknowledges.
        let server_opens = stream
            .segments
            .iter()
            .filter(|(_, from, _, _)| *from == stream.server)
            .find(|(_, _, r, _)| r.flags.ack() || r.flags.syn())
            .is_some_and(|(_, _, r, _)| r.flags.syn() && !r.flags.ack());
        // A server whose first word is a reset had no listener.
        let refuses = stream
            .segments
            .iter()
            .find(|(_, from, _, _)| *from == stream.server)
            .is_some_and(|(_, _, r, _)| r.flags.rst());
        let server = if server_opens || refuses {
            Closed
        } else {
            Listen
        };
        ([End::new(Closed), End::new(server)], None)
    } else if first.syn() && !first.rst() && first_side == Side::Right {
        (
            [End::new(SynSent), End::new(Listen)],
            Some("capture starts after the client's SYN"),
        )
    } else {
        (
            [End::new(Established), End::new(Established)],
            Some("capture starts mid-connection: states before it assumed ESTABLISHED"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ladder::{LadderOptions, render};
    use ferrotcp::wire::{EtherType, EthernetRepr, IpProtocol, Ipv4Repr, MacAddr};

    const C: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 43210);
    const S: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 2), 80);
    const F: TcpFlags = TcpFlags::FIN;
    const SYN: TcpFlags = TcpFlags::SYN;
    const RST: TcpFlags = TcpFlags::RST;
    const ACK: TcpFlags = TcpFlags::ACK;
    const PSH: TcpFlags = TcpFlags::PSH;

    /// An IPv4 packet holding one TCP segment.
    fn ip_packet(
        from: SocketAddrV4,
        to: SocketAddrV4,
        flags: TcpFlags,
        seq: u32,
        ack: u32,
        payload: &[u8],
    ) -> Vec<u8> {
        let repr = TcpRepr {
            src_port: from.port(),
            dst_port: to.port(),
            seq: SeqNum(seq),
            ack: SeqNum(ack),
            flags,
            window: 64240,
            urgent: 0,
            options: TcpOptions {
                mss: flags.syn().then_some(1460),
                ..TcpOptions::default()
            },
        };
        let tcp_len = repr.header_len() + payload.len();
        let ip = Ipv4Repr {
            src: *from.ip(),
            dst: *to.ip(),
            protocol: IpProtocol::Tcp,
            payload_len: tcp_len,
            ttl: 64,
            ident: 1,
            dont_fragment: true,
            dscp_ecn: 0,
        };
        let mut buf = vec![0u8; ip.buffer_len()];
        ip.emit(&mut buf);
        let seg = &mut buf[Ipv4Repr::HEADER_LEN..];
        seg[repr.header_len()..].copy_from_slice(payload);
        repr.emit(seg, *from.ip(), *to.ip());
        buf
    }

    fn eth(ip: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; EthernetRepr::HEADER_LEN];
        EthernetRepr {
            src: MacAddr([2, 0, 0, 0, 0, 1]),
            dst: MacAddr([2, 0, 0, 0, 0, 2]),
            ethertype: EtherType::Ipv4,
        }
        .emit(&mut f);
        f.extend_from_slice(ip);
        f
    }

    /// Builds a capture one segment at a time, 1 ms apart, starting at an epoch-like time.
    struct Cap {
        frames: Vec<CapturedFrame>,
        link: LinkKind,
    }

    impl Cap {
        fn new(link: LinkKind) -> Cap {
            Cap {
                frames: Vec::new(),
                link,
            }
        }

        fn raw(&mut self, data: Vec<u8>) -> &mut Self {
            let time = Duration::from_secs(1_700_000_000)
                + Duration::from_millis(self.frames.len() as u64);
            self.frames.push(CapturedFrame { time, data });
            self
        }

        fn seg(
            &mut self,
            from: SocketAddrV4,
            to: SocketAddrV4,
            flags: TcpFlags,
            seq: u32,
            ack: u32,
            len: usize,
        ) -> &mut Self {
            let ip = ip_packet(from, to, flags, seq, ack, &vec![b'x'; len]);
            let data = match self.link {
                LinkKind::Ethernet => eth(&ip),
                LinkKind::RawIp => ip,
            };
            self.raw(data)
        }

        /// Client 1000 / server 5000 handshake.
        fn handshake(&mut self) -> &mut Self {
            self.seg(C, S, SYN, 1000, 0, 0)
                .seg(S, C, SYN | ACK, 5000, 1001, 0)
                .seg(C, S, ACK, 1001, 5001, 0)
        }

        fn ladder(&self) -> Vec<LadderItem> {
            let streams = tcp_streams(&self.frames, self.link);
            assert_eq!(streams.len(), 1, "{streams:?}");
            stream_ladder(&streams[0], true)
        }
    }

    /// `(side, state)` in ladder order.
    fn states(items: &[LadderItem]) -> Vec<(Side, TcpState)> {
        items
            .iter()
            .filter_map(|i| match i {
                LadderItem::State(s) => Some((s.side, s.state)),
                _ => None,
            })
            .collect()
    }

    fn side_states(items: &[LadderItem], side: Side) -> Vec<TcpState> {
        states(items)
            .into_iter()
            .filter(|(s, _)| *s == side)
            .map(|(_, st)| st)
            .collect()
    }

    fn segments(items: &[LadderItem]) -> Vec<&LadderSegment> {
        items
            .iter()
            .filter_map(|i| match i {
                LadderItem::Segment(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    use TcpState::*;

    #[test]
    fn handshake_data_and_close() {
        let mut cap = Cap::new(LinkKind::Ethernet);
        cap.handshake()
            .seg(C, S, PSH | ACK, 1001, 5001, 5)
            .seg(S, C, ACK, 5001, 1006, 0)
            .seg(C, S, F | ACK, 1006, 5001, 0)
            .seg(S, C, ACK, 5001, 1007, 0)
            .seg(S, C, F | ACK, 5001, 1007, 0)
            .seg(C, S, ACK, 1007, 5002, 0);
        let items = cap.ladder();
        assert_eq!(
            side_states(&items, Side::Left),
            [Closed, SynSent, Established, FinWait1, FinWait2, TimeWait]
        );
        assert_eq!(
            side_states(&items, Side::Right),
            [Listen, SynReceived, Established, CloseWait, LastAck, Closed]
        );
        let segs = segments(&items);
        assert_eq!(segs.len(), 9);
        // Relative numbers: the SYN is 0, the first data byte 1.
        assert_eq!(
            (segs[0].flags.as_str(), segs[0].seq, segs[0].ack),
            ("SYN", 0, None)
        );
        assert_eq!(
            (segs[1].flags.as_str(), segs[1].seq, segs[1].ack),
            ("SYN,ACK", 0, Some(1))
        );
        assert_eq!((segs[3].seq, segs[3].len), (1, 5));
        assert_eq!(segs[4].ack, Some(6));
        // One capture point: arrival = capture time, never "lost"; times from the first frame.
        assert!(segs.iter().all(|s| s.arrived == Some(s.sent)));
        assert_eq!(segs[0].sent, Instant::ZERO);
        assert_eq!(segs[2].sent, Instant::from_millis(2));
        // The sender's change comes before its segment, the receiver's after.
        let text = render(&items, &LadderOptions::default());
        let line = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap();
        assert!(line("SYN-SENT") < line("-- SYN seq=0"), "{text}");
        assert!(line("-- SYN seq=0") < line("SYN-RECEIVED"), "{text}");
        assert!(line("FIN-WAIT-1") < line("-- FIN,ACK"), "{text}");
        assert!(line("TIME-WAIT") > line("<- FIN,ACK"), "{text}");
    }

    #[test]
    fn absolute_numbers_on_request() {
        let mut cap = Cap::new(LinkKind::RawIp);
        cap.handshake();
        let streams = tcp_streams(&cap.frames, LinkKind::RawIp);
        let items = stream_ladder(&streams[0], false);
        let segs = segments(&items);
        assert_eq!((segs[1].seq, segs[1].ack), (5000, Some(1001)));
    }

    #[test]
    fn combined_fin_ack_goes_straight_to_time_wait() {
        let mut cap = Cap::new(LinkKind::Ethernet);
        cap.handshake()
            .seg(C, S, F | ACK, 1001, 5001, 0)
            .seg(S, C, F | ACK, 5001, 1002, 0)
            .seg(C, S, ACK, 1002, 5002, 0);
        let items = cap.ladder();
        assert_eq!(
            side_states(&items, Side::Left),
            [Closed, SynSent, Established, FinWait1, TimeWait]
        );
        assert_eq!(
            side_states(&items, Side::Right),
            [Listen, SynReceived, Established, CloseWait, LastAck, Closed]
        );
    }

    #[test]
    fn reset_closes_both_sides() {
        let mut cap = Cap::new(LinkKind::Ethernet);
        cap.handshake()
            .seg(S, C, RST | ACK, 5001, 1001, 0)
            // Segments after the reset change nothing.
            .seg(C, S, PSH | ACK, 1001, 5001, 3)
            .seg(S, C, RST, 5001, 0, 0);
        let items = cap.ladder();
        assert_eq!(
            side_states(&items, Side::Left),
            [Closed, SynSent, Established, Closed]
        );
        assert_eq!(
            side_states(&items, Side::Right),
            [Listen, SynReceived, Established, Closed]
        );
    }

    #[test]
    fn refused_connection() {
        let mut cap = Cap::new(LinkKind::Ethernet);
        cap.seg(C, S, SYN, 1000, 0, 0)
            .seg(S, C, RST | ACK, 0, 1001, 0);
        let items = cap.ladder();
        assert_eq!(side_states(&items, Side::Left), [Closed, SynSent, Closed]);
        assert_eq!(side_states(&items, Side::Right), [Closed]);
    }

    #[test]
    fn simultaneous_close() {
        let mut cap = Cap::new(LinkKind::Ethernet);
        cap.handshake()
            // Both FINs were sent before either arrived: neither acknowledges the other.
            .seg(C, S, F | ACK, 1001, 5001, 0)
            .seg(S, C, F | ACK, 5001, 1001, 0)
            .seg(C, S, ACK, 1002, 5002, 0)
            .seg(S, C, ACK, 5002, 1002, 0);
        let items = cap.ladder();
        assert_eq!(
            side_states(&items, Side::Left),
            [Closed, SynSent, Established, FinWait1, Closing, TimeWait]
        );
        assert_eq!(
            side_states(&items, Side::Right),
            [
                Listen,
                SynReceived,
                Established,
                FinWait1,
                Closing,
                TimeWait
            ]
        );
        // The server's CLOSING comes after its own FIN.
        let text = render(&items, &LadderOptions::default());
        assert!(!text.contains("CLOSE-WAIT"), "{text}");
        let fin = text.lines().position(|l| l.contains("<- FIN,ACK")).unwrap();
        let closing: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains("CLOSING"))
            .map(|(i, _)| i)
            .collect();
        assert!(closing.iter().all(|&i| i > fin), "{text}");
    }

    #[test]
    fn simultaneous_open() {
        let mut cap = Cap::new(LinkKind::Ethernet);
        cap.seg(C, S, SYN, 1000, 0, 0)
            .seg(S, C, SYN, 5000, 0, 0)
            .seg(C, S, SYN | ACK, 1000, 5001, 0)
            .seg(S, C, SYN | ACK, 5000, 1001, 0);
        let items = cap.ladder();
        assert_eq!(
            side_states(&items, Side::Left),
            [Closed, SynSent, SynReceived, Established]
        );
        assert_eq!(
            side_states(&items, Side::Right),
            [Closed, SynSent, SynReceived, Established]
        );
    }

    #[test]
    fn mid_connection_start() {
        let mut cap = Cap::new(LinkKind::Ethernet);
        // The server speaks first; the client is still the side that did not send first.
        cap.seg(S, C, PSH | ACK, 7000, 3000, 100)
            .seg(C, S, ACK, 3000, 7100, 0)
            .seg(S, C, F | ACK, 7100, 3000, 0)
            .seg(C, S, F | ACK, 3000, 7101, 0)
            .seg(S, C, ACK, 7101, 3001, 0);
        let streams = tcp_streams(&cap.frames, LinkKind::Ethernet);
        assert_eq!(
            streams[0].client, S,
            "no SYN: the first sender is the client"
        );
        let items = stream_ladder(&streams[0], true);
        assert!(
            items
                .iter()
                .any(|i| matches!(i, LadderItem::Note(n) if n.contains("mid-connection")))
        );
        assert_eq!(
            side_states(&items, Side::Left),
            [Established, FinWait1, TimeWait]
        );
        assert_eq!(
            side_states(&items, Side::Right),
            [Established, CloseWait, LastAck, Closed]
        );
        // No SYN seen: absolute numbers even in relative mode.
        assert_eq!(segments(&items)[0].seq, 7000);
    }

    #[test]
    fn capture_starting_at_the_syn_ack() {
        let mut cap = Cap::new(LinkKind::Ethernet);
        cap.seg(S, C, SYN | ACK, 5000, 1001, 0)
            .seg(C, S, ACK, 1001, 5001, 0);
        let streams = tcp_streams(&cap.frames, LinkKind::Ethernet);
        assert_eq!((streams[0].client, streams[0].server), (C, S));
        let items = stream_ladder(&streams[0], true);
        assert_eq!(side_states(&items, Side::Left), [SynSent, Established]);
        assert_eq!(
            side_states(&items, Side::Right),
            [Listen, SynReceived, Established]
        );
    }

    #[test]
    fn garbage_frames_are_skipped_and_counted() {
        let mut cap = Cap::new(LinkKind::Ethernet);
        cap.raw(vec![])
            .raw(vec![0xff; 5])
            // ARP
            .raw({
                let mut f = eth(&[0u8; 28]);
                f[12..14].copy_from_slice(&[0x08, 0x06]);
                f
            })
            // IPv4 with a header length of 2 words.
            .raw(eth(&[0x42; 40]))
            .seg(C, S, SYN, 1000, 0, 0)
            // TCP data offset past the end.
            .raw({
                let mut ip = ip_packet(C, S, ACK, 1, 1, &[]);
                ip[Ipv4Repr::HEADER_LEN + 12] = 0xf0;
                eth(&ip)
            })
            // UDP
            .raw({
                let mut ip = ip_packet(C, S, ACK, 1, 1, &[]);
                ip[9] = 17;
                eth(&ip)
            })
            .seg(S, C, SYN | ACK, 5000, 1001, 0);
        let scan = scan(&cap.frames, LinkKind::Ethernet);
        assert_eq!(scan.tcp_frames, 2);
        assert_eq!(scan.other_frames, 2);
        assert_eq!(scan.malformed_frames, 4);
        assert_eq!(scan.streams.len(), 1);
        // The time base is the capture's first frame, garbage or not.
        assert_eq!(scan.streams[0].segments[0].0, Duration::from_millis(4));
    }

    #[test]
    fn snaplen_cut_segments_keep_their_length() {
        let mut cap = Cap::new(LinkKind::Ethernet);
        let full = eth(&ip_packet(C, S, ACK | PSH, 1, 1, &[7u8; 1000]));
        cap.raw(full[..14 + 20 + 20 + 10].to_vec());
        let streams = tcp_streams(&cap.frames, LinkKind::Ethernet);
        assert_eq!(streams[0].segments[0].3, 1000);
    }

    #[test]
    fn streams_are_numbered_in_order_of_appearance() {
        let c2 = SocketAddrV4::new(*C.ip(), 43211);
        let mut cap = Cap::new(LinkKind::RawIp);
        cap.seg(C, S, SYN, 1000, 0, 0)
            .seg(c2, S, SYN, 9000, 0, 0)
            .seg(S, C, SYN | ACK, 5000, 1001, 0)
            .seg(S, c2, SYN | ACK, 6000, 9001, 0)
            .seg(C, S, RST, 1001, 0, 0)
            // The client reuses its port: a new connection, stream 2.
            .seg(C, S, SYN, 2000, 0, 0);
        let streams = tcp_streams(&cap.frames, LinkKind::RawIp);
        let summary: Vec<_> = streams
            .iter()
            .map(|s| (s.index, s.client, s.server, s.segments.len()))
            .collect();
        assert_eq!(summary, [(0, C, S, 3), (1, c2, S, 2), (2, C, S, 1)]);
    }

    #[test]
    fn retransmitted_fin_and_syn_change_nothing() {
        let mut cap = Cap::new(LinkKind::Ethernet);
        cap.seg(C, S, SYN, 1000, 0, 0)
            .seg(C, S, SYN, 1000, 0, 0)
            .seg(S, C, SYN | ACK, 5000, 1001, 0)
            .seg(S, C, SYN | ACK, 5000, 1001, 0)
            .seg(C, S, ACK, 1001, 5001, 0)
            .seg(C, S, F | ACK, 1001, 5001, 0)
            .seg(C, S, F | ACK, 1001, 5001, 0)
            .seg(S, C, ACK, 5001, 1002, 0);
        let items = cap.ladder();
        assert_eq!(
            side_states(&items, Side::Left),
            [Closed, SynSent, Established, FinWait1, FinWait2]
        );
        assert_eq!(
            side_states(&items, Side::Right),
            [Listen, SynReceived, Established, CloseWait]
        );
        let notes: Vec<Option<&str>> = segments(&items).iter().map(|s| s.note.as_deref()).collect();
        let r = Some("retransmission");
        assert_eq!(notes, [None, r, None, r, None, None, r, None]);
    }

    #[test]
    fn empty_capture_has_no_streams() {
        assert!(tcp_streams(&[], LinkKind::Ethernet).is_empty());
        let s = Stream {
            index: 0,
            client: C,
            server: S,
            segments: Vec::new(),
        };
        assert!(stream_ladder(&s, true).is_empty());
    }
}
