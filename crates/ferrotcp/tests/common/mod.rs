//! A raw-peer harness: one `Stack` under test (192.0.2.2, 02:00:00:00:00:02) and a remote peer
//! (192.0.2.1, 02:00:00:00:00:01) played by hand. The test crafts every TCP segment the peer
//! sends and reads back every segment the stack emits. Time is virtual and moves only when the
//! test says so.

#![allow(dead_code)] // Each test crate uses a different part of the harness.

use std::net::{Ipv4Addr, SocketAddrV4};

use ferrotcp::seq::SeqNum;
use ferrotcp::time::{Duration, Instant};
use ferrotcp::trace::{TcpState, TraceEvent};
use ferrotcp::wire::{
    ArpOperation, ArpRepr, EtherType, EthernetRepr, IpProtocol, Ipv4Repr, MacAddr, TcpFlags,
    TcpOptions, TcpRepr,
};
use ferrotcp::{Event, ListenerHandle, Stack, StackConfig, TcpHandle};

pub const STACK_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
pub const PEER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
pub const STACK_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
pub const PEER_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// The stack's port, whether it listens or connects.
pub const STACK_PORT: u16 = 80;
/// The peer's port, whether it connects or listens.
pub const PEER_PORT: u16 = 50_000;
/// The peer's initial sequence number in the scripted exchanges.
pub const PEER_ISS: u32 = 1_000;
/// Window the peer advertises unless a test says otherwise.
pub const PEER_WINDOW: u16 = 65_535;
/// Largest number of timer firings `advance` runs before declaring a livelock.
const MAX_TIMER_STEPS: usize = 100_000;
/// Largest number of frames one drain accepts before declaring a livelock.
const MAX_FRAMES_PER_DRAIN: usize = 100_000;

/// A segment the stack sent, parsed back (checksums verified).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seg {
    pub repr: TcpRepr,
    pub payload: Vec<u8>,
    /// The ECN field of its IP header (RFC 3168 §5).
    pub ecn: u8,
}

impl Seg {
    pub fn flags(&self) -> TcpFlags {
        self.repr.flags
    }

    pub fn seq(&self) -> u32 {
        self.repr.seq.0
    }

    pub fn ack(&self) -> u32 {
        self.repr.ack.0
    }

    /// SEG.LEN: payload plus one for SYN and one for FIN.
    pub fn seq_len(&self) -> u32 {
        self.repr.seq_len(self.payload.len()) as u32
    }

    /// Asserts the control bits are exactly `flags` (PSH aside: it is the stack's choice),
    /// and SEG.SEQ, SEG.ACK (only checked when ACK is set).
    #[track_caller]
    pub fn assert(&self, flags: TcpFlags, seq: u32, ack: u32) {
        let got = self.repr.flags & !TcpFlags::PSH;
        assert_eq!(got, flags, "flags of {self}");
        assert_eq!(self.seq(), seq, "SEQ of {self}");
        if flags.ack() {
            assert_eq!(self.ack(), ack, "ACK of {self}");
        }
    }
}

impl std::fmt::Display for Seg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "<SEQ={}><ACK={}><CTL={}><WND={}><LEN={}>",
            self.repr.seq.0,
            self.repr.ack.0,
            self.repr.flags,
            self.repr.window,
            self.payload.len()
        )
    }
}

/// A segment from the peer to the stack's port with no options and a full window.
pub fn seg(flags: TcpFlags, seq: u32, ack: u32) -> TcpRepr {
    TcpRepr {
        src_port: PEER_PORT,
        dst_port: STACK_PORT,
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags,
        window: PEER_WINDOW,
        urgent: 0,
        options: TcpOptions::default(),
    }
}

/// The peer's SYN: MSS 1460, no window scaling.
pub fn syn(seq: u32) -> TcpRepr {
    let mut s = seg(TcpFlags::SYN, seq, 0);
    s.options.mss = Some(1460);
    s
}

/// The peer's SYN,ACK: MSS 1460, no window scaling.
pub fn syn_ack(seq: u32, ack: u32) -> TcpRepr {
    let mut s = seg(TcpFlags::SYN | TcpFlags::ACK, seq, ack);
    s.options.mss = Some(1460);
    s
}

/// Ethernet + IPv4 + TCP frame from the peer, checksums filled in by the wire `emit` functions.
pub fn tcp_frame(repr: &TcpRepr, payload: &[u8]) -> Vec<u8> {
    tcp_frame_ecn(repr, payload, 0)
}

/// [`tcp_frame`] with the IP header's ECN field set to `ecn` (CE = 0b11).
pub fn tcp_frame_ecn(repr: &TcpRepr, payload: &[u8], ecn: u8) -> Vec<u8> {
    let eth = EthernetRepr::HEADER_LEN;
    let ip = Ipv4Repr::HEADER_LEN;
    let tcp_len = repr.header_len() + payload.len();
    let mut frame = vec![0u8; eth + ip + tcp_len];
    EthernetRepr {
        src: PEER_MAC,
        dst: STACK_MAC,
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut frame[..eth]);
    Ipv4Repr {
        src: PEER_IP,
        dst: STACK_IP,
        protocol: IpProtocol::Tcp,
        payload_len: tcp_len,
        ttl: 64,
        ident: 0,
        dont_fragment: true,
        dscp_ecn: ecn,
    }
    .emit(&mut frame[eth..eth + ip]);
    let hdr = eth + ip + repr.header_len();
    frame[hdr..].copy_from_slice(payload);
    repr.emit(&mut frame[eth + ip..], PEER_IP, STACK_IP);
    frame
}

/// An ARP packet from the peer to the stack (padded to the 60-byte Ethernet minimum).
pub fn arp_frame(operation: ArpOperation) -> Vec<u8> {
    let eth = EthernetRepr::HEADER_LEN;
    let mut frame = vec![0u8; 60];
    let dst = match operation {
        ArpOperation::Request => MacAddr::BROADCAST,
        ArpOperation::Reply | ArpOperation::Unknown(_) => STACK_MAC,
    };
    EthernetRepr {
        src: PEER_MAC,
        dst,
        ethertype: EtherType::Arp,
    }
    .emit(&mut frame[..eth]);
    ArpRepr {
        operation,
        sender_mac: PEER_MAC,
        sender_ip: PEER_IP,
        target_mac: match operation {
            ArpOperation::Request => MacAddr::ZERO,
            ArpOperation::Reply | ArpOperation::Unknown(_) => STACK_MAC,
        },
        target_ip: STACK_IP,
    }
    .emit(&mut frame[eth..eth + ArpRepr::LEN]);
    frame
}

/// What a frame from the stack turned out to be.
enum Parsed {
    Tcp(Seg),
    /// An ARP request for the peer's address: the harness answers it.
    ArpForPeer,
    /// Anything else (ARP replies, ICMP): ignored.
    Other,
}

/// Parses a frame the stack sent. Panics (test failure) on anything malformed or misaddressed:
/// the stack must only ever emit well-formed frames with valid checksums.
fn parse_frame(frame: &[u8]) -> Parsed {
    let (eth, payload) = EthernetRepr::parse(frame).expect("stack emitted a malformed frame");
    assert_eq!(eth.src, STACK_MAC, "source MAC of an emitted frame");
    match eth.ethertype {
        EtherType::Arp => {
            let arp = ArpRepr::parse(payload).expect("stack emitted a malformed ARP packet");
            if arp.operation == ArpOperation::Request && arp.target_ip == PEER_IP {
                Parsed::ArpForPeer
            } else {
                Parsed::Other
            }
        }
        EtherType::Ipv4 => {
            let (ip, payload) =
                Ipv4Repr::parse(payload).expect("stack emitted a bad IPv4 packet (or checksum)");
            assert_eq!(ip.src, STACK_IP, "source IP of an emitted packet");
            if ip.protocol != IpProtocol::Tcp {
                return Parsed::Other;
            }
            assert_eq!(eth.dst, PEER_MAC, "destination MAC of an emitted segment");
            assert_eq!(ip.dst, PEER_IP, "destination IP of an emitted segment");
            let (repr, data) = TcpRepr::parse(payload, ip.src, ip.dst, true)
                .expect("stack emitted a bad TCP segment (or checksum)");
            Parsed::Tcp(Seg {
                repr,
                payload: data.to_vec(),
                ecn: ip.dscp_ecn & 0b11,
            })
        }
        EtherType::Ipv6 | EtherType::Unknown(_) => panic!("stack emitted a non-IPv4 frame"),
    }
}

pub struct Harness {
    pub stack: Stack,
    /// Virtual time; moves only through `advance`/`advance_to`.
    pub now: Instant,
    /// Segments emitted while timers ran, not yet handed to the test.
    pending: Vec<Seg>,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// A stack with default settings (trace on), its ARP cache seeded with the peer.
    pub fn new() -> Self {
        Self::with_config(|_| {})
    }

    pub fn with_config(tweak: impl FnOnce(&mut StackConfig)) -> Self {
        let mut config = StackConfig::new(STACK_MAC, STACK_IP, 24)
            .with_seed(0x5eed)
            .with_trace(true);
        tweak(&mut config);
        let mut h = Harness {
            stack: Stack::new(config),
            now: Instant::from_secs(1),
            pending: Vec::new(),
        };
        h.seed_arp();
        h
    }

    /// The peer asks for the stack's MAC: the stack learns the peer's (RFC 826) and answers;
    /// the answer is dropped.
    pub fn seed_arp(&mut self) {
        self.stack
            .receive(self.now, &arp_frame(ArpOperation::Request));
        let segs = self.drain();
        assert!(segs.is_empty(), "TCP segments while seeding ARP: {segs:?}");
    }

    /// Feeds one raw frame.
    pub fn send_frame(&mut self, frame: &[u8]) {
        self.stack.receive(self.now, frame);
    }

    /// The peer sends `repr` with `payload`.
    pub fn send(&mut self, repr: TcpRepr, payload: &[u8]) {
        let frame = tcp_frame(&repr, payload);
        self.stack.receive(self.now, &frame);
    }

    /// Pulls every frame the stack has ready at `now`, answering its ARP requests for the peer.
    fn drain(&mut self) -> Vec<Seg> {
        let mut out = Vec::new();
        for _ in 0..MAX_FRAMES_PER_DRAIN {
            let Some(frame) = self.stack.poll_transmit(self.now) else {
                return out;
            };
            match parse_frame(&frame) {
                Parsed::Tcp(s) => out.push(s),
                Parsed::ArpForPeer => self
                    .stack
                    .receive(self.now, &arp_frame(ArpOperation::Reply)),
                Parsed::Other => {}
            }
        }
        panic!("stack emitted more than {MAX_FRAMES_PER_DRAIN} frames in one drain");
    }

    /// Every TCP segment the stack has sent since the last call, in order.
    pub fn output(&mut self) -> Vec<Seg> {
        let mut out = core::mem::take(&mut self.pending);
        out.extend(self.drain());
        out
    }

    /// Exactly one segment was sent; returns it.
    #[track_caller]
    pub fn expect_one(&mut self) -> Seg {
        let mut out = self.output();
        assert_eq!(out.len(), 1, "expected one segment, got {}", show(&out));
        out.remove(0)
    }

    /// Nothing was sent.
    #[track_caller]
    pub fn expect_none(&mut self) {
        let out = self.output();
        assert!(out.is_empty(), "expected no segment, got {}", show(&out));
    }

    /// Moves time forward by `d`, firing every timer due on the way at its own instant.
    pub fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        self.advance_to(target);
    }

    pub fn advance_to(&mut self, target: Instant) {
        for _ in 0..MAX_TIMER_STEPS {
            match self.stack.poll_timeout() {
                Some(t) if t <= target => {
                    self.now = self.now.max(t);
                    self.stack.handle_timeout(self.now);
                    let segs = self.drain();
                    self.pending.extend(segs);
                    // Progress: whatever was due at `now` has been dealt with.
                    if let Some(next) = self.stack.poll_timeout() {
                        assert!(
                            next > self.now,
                            "handle_timeout({}) left a deadline due at {next}",
                            self.now
                        );
                    }
                }
                _ => {
                    self.now = self.now.max(target);
                    return;
                }
            }
        }
        panic!("more than {MAX_TIMER_STEPS} timer firings before {target}");
    }

    /// Every application event queued so far.
    pub fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.stack.poll_event()).collect()
    }

    /// Why every input traced as dropped since the last call was dropped (trace consumed).
    pub fn drops(&mut self) -> Vec<ferrotcp::trace::DropReason> {
        std::iter::from_fn(|| self.stack.poll_trace())
            .filter_map(|r| match r.event {
                TraceEvent::Dropped { reason } => Some(reason),
                _ => None,
            })
            .collect()
    }

    /// Every state change traced so far, as (from, to).
    pub fn transitions(&mut self) -> Vec<(TcpState, TcpState)> {
        std::iter::from_fn(|| self.stack.poll_trace())
            .filter_map(|r| match r.event {
                TraceEvent::TcpState { from, to, .. } => Some((from, to)),
                TraceEvent::TcpTimer { .. } | TraceEvent::Dropped { .. } => None,
            })
            .collect()
    }

    #[track_caller]
    pub fn state(&self, h: TcpHandle) -> TcpState {
        self.stack.tcp_state(h).expect("tcp_state on a live handle")
    }

    // ---- scripted openings ----

    /// Active OPEN from STACK_PORT to the peer; returns the handle and the stack's ISS.
    #[track_caller]
    pub fn connect(&mut self) -> (TcpHandle, u32) {
        let remote = SocketAddrV4::new(PEER_IP, PEER_PORT);
        let h = self
            .stack
            .tcp_connect(self.now, remote, Some(STACK_PORT))
            .expect("tcp_connect");
        let s = self.expect_one();
        assert_eq!(
            s.flags(),
            TcpFlags::SYN,
            "active open sends a bare SYN: {s}"
        );
        (h, check_iss(s.seq()))
    }

    /// Active open completed by the peer's SYN,ACK (seq PEER_ISS); returns (handle, stack ISS).
    /// Events and trace are consumed.
    #[track_caller]
    pub fn establish_active(&mut self) -> (TcpHandle, u32) {
        let (h, iss) = self.connect();
        self.send(syn_ack(PEER_ISS, iss.wrapping_add(1)), &[]);
        self.expect_one()
            .assert(TcpFlags::ACK, iss.wrapping_add(1), PEER_ISS + 1);
        assert_eq!(self.state(h), TcpState::Established);
        self.events();
        self.transitions();
        (h, iss)
    }

    /// Passive OPEN on STACK_PORT.
    #[track_caller]
    pub fn listen(&mut self) -> ListenerHandle {
        self.stack.tcp_listen(STACK_PORT, 8).expect("tcp_listen")
    }

    /// The peer's SYN (seq PEER_ISS) reaches the listener; returns the stack's ISS.
    #[track_caller]
    pub fn syn_to_listener(&mut self) -> u32 {
        self.send(syn(PEER_ISS), &[]);
        let s = self.expect_one();
        assert_eq!(s.flags() & !TcpFlags::PSH, TcpFlags::SYN | TcpFlags::ACK);
        assert_eq!(s.ack(), PEER_ISS + 1);
        check_iss(s.seq())
    }

    /// Passive open, three-way handshake, accept; returns (handle, stack ISS).
    #[track_caller]
    pub fn establish_passive(&mut self) -> (TcpHandle, u32) {
        let options = TcpOptions {
            mss: Some(1460),
            ..TcpOptions::default()
        };
        let (h, iss, _) = self.establish_passive_with(options, Duration::ZERO);
        (h, iss)
    }

    /// Passive open where the peer's SYN carries `options` (SACK-permitted, timestamps...) and
    /// its ACK comes `rtt` after the SYN,ACK; returns (handle, stack ISS, the stack's SYN,ACK).
    #[track_caller]
    pub fn establish_passive_with(
        &mut self,
        options: TcpOptions,
        rtt: Duration,
    ) -> (TcpHandle, u32, Seg) {
        let lh = self.listen();
        let mut s = syn(PEER_ISS);
        s.options = options;
        self.send(s, &[]);
        let syn_ack = self.expect_one();
        assert_eq!(
            syn_ack.flags() & !TcpFlags::PSH,
            TcpFlags::SYN | TcpFlags::ACK
        );
        assert_eq!(syn_ack.ack(), PEER_ISS + 1);
        let iss = check_iss(syn_ack.seq());
        self.advance(rtt);
        self.send(seg(TcpFlags::ACK, PEER_ISS + 1, iss.wrapping_add(1)), &[]);
        self.expect_none();
        let h = self
            .stack
            .tcp_accept(lh)
            .expect("tcp_accept")
            .expect("an established connection in the accept queue");
        assert_eq!(self.state(h), TcpState::Established);
        self.events();
        self.transitions();
        (h, iss, syn_ack)
    }
}

/// Scripted tests do plain `u32` arithmetic on the stack's ISS (`x + 1`); keep it far from the
/// wrap so a change in ISN generation cannot turn into an overflow panic far from its cause.
#[track_caller]
fn check_iss(iss: u32) -> u32 {
    assert!(
        iss < u32::MAX - 10_000_000,
        "ISS {iss} too close to 2^32 for the scripted tests: change the harness seed"
    );
    iss
}

/// Segments on one line each, for assertion messages.
pub fn show(segs: &[Seg]) -> String {
    if segs.is_empty() {
        return "nothing".to_string();
    }
    segs.iter()
        .map(|s| format!("\n  {s}"))
        .collect::<Vec<_>>()
        .join("")
}
