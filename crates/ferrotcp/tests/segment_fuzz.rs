//! Random segments against a stack driven into each RFC 9293 state.
//!
//! For every state, the harness first scripts the exchange that reaches it, then injects 1..20
//! random actions: segments with random flags, sequence and acknowledgment numbers near and far
//! from the live values, random windows, options and payload; random bytes as whole frames or
//! as a TCP segment inside valid Ethernet/IPv4 headers; time jumps; and a few application calls.
//! After every action:
//!
//! - nothing panicked, and every frame the stack sent parses with valid checksums (the harness
//!   checks IPv4 and TCP checksums on everything it reads);
//! - no segment carries both SYN and RST;
//! - every ACK number the stack sends is one the peer made possible: for some segment the peer
//!   sent on that port pair, SEG.SEQ + SEG.LEN, or the end of its text without the FIN, or
//!   SEG.SEQ + 1 for a SYN (the stack may ignore text on a SYN). RCV.NXT only ever moves to the
//!   end of received text or a FIN, so this is stronger than "never ACK beyond the highest
//!   byte received";
//! - `tcp_state` is `Ok` until the application gives the handle up, `InvalidHandle` after, and
//!   never leaves CLOSED once there; `Closed` is reported at most once, and only when CLOSED;
//! - `poll_timeout` is never in the past, and `handle_timeout` at the deadline makes progress
//!   (the harness asserts the next deadline is strictly later).

mod common;

use std::collections::{HashMap, HashSet};

use common::*;
use ferrotcp::seq::SeqNum;
use ferrotcp::time::Duration;
use ferrotcp::trace::TcpState;
use ferrotcp::wire::{
    EtherType, EthernetRepr, IpProtocol, Ipv4Repr, SackBlock, TcpFlags, TcpOptions, TcpPacket,
    TcpRepr,
};
use ferrotcp::{Event, TcpError, TcpHandle};
use proptest::prelude::*;
use proptest::sample::select;

const Y: u32 = PEER_ISS;
const FIN_ACK: TcpFlags = TcpFlags(TcpFlags::FIN.0 | TcpFlags::ACK.0);
const SYN_ACK: TcpFlags = TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
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

/// A sequence or acknowledgment number: an offset from the live value, or anything.
#[derive(Clone, Copy, Debug)]
enum Pick {
    Near(i32),
    Far(u32),
}

impl Pick {
    fn resolve(self, base: u32) -> u32 {
        match self {
            Pick::Near(d) => base.wrapping_add_signed(d),
            Pick::Far(v) => v,
        }
    }
}

#[derive(Clone, Debug)]
struct SegSpec {
    flags: u8,
    seq: Pick,
    ack: Pick,
    window: u16,
    options: TcpOptions,
    payload: Vec<u8>,
    src_port: u16,
    dst_port: u16,
}

#[derive(Clone, Copy, Debug)]
enum AppOp {
    Send(usize),
    Recv,
    Shutdown,
    Close,
    Abort,
}

#[derive(Clone, Debug)]
enum Action {
    Segment(SegSpec),
    /// Random bytes as a whole Ethernet frame.
    RawFrame(Vec<u8>),
    /// Random bytes as a TCP segment in valid Ethernet/IPv4 headers, checksum fixed up when the
    /// header is long enough to have one.
    RawTcp(Vec<u8>),
    Advance(Duration),
    App(AppOp),
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        4 => (-3i32..=3).prop_map(Pick::Near),
        3 => (-70_000i32..70_000).prop_map(Pick::Near),
        1 => any::<u32>().prop_map(Pick::Far),
    ]
}

fn flags() -> impl Strategy<Value = u8> {
    let f = |t: TcpFlags| t.0;
    prop_oneof![
        1 => any::<u8>(),
        3 => select(vec![
            0,
            f(TcpFlags::ACK),
            f(TcpFlags::SYN),
            f(SYN_ACK),
            f(FIN_ACK),
            f(TcpFlags::FIN),
            f(TcpFlags::RST),
            f(TcpFlags::RST | TcpFlags::ACK),
            f(TcpFlags::PSH | TcpFlags::ACK),
            f(TcpFlags::SYN | TcpFlags::FIN),
            f(TcpFlags::SYN | TcpFlags::RST),
        ]),
    ]
}

fn options() -> impl Strategy<Value = TcpOptions> {
    (
        proptest::option::of(any::<u16>()),
        proptest::option::of(0u8..20),
        any::<bool>(),
        proptest::option::of(any::<(u32, u32)>()),
        proptest::collection::vec(any::<(u32, u32)>(), 0..=4),
    )
        .prop_map(|(mss, window_scale, sack_permitted, timestamps, blocks)| {
            let mut o = TcpOptions {
                mss,
                window_scale,
                sack_permitted,
                timestamps,
                ..TcpOptions::default()
            };
            for (slot, (l, r)) in o.sack_blocks.iter_mut().zip(blocks) {
                *slot = Some(SackBlock {
                    left: SeqNum(l),
                    right: SeqNum(r),
                });
            }
            o
        })
}

fn segment() -> impl Strategy<Value = SegSpec> {
    (
        flags(),
        pick(),
        pick(),
        prop_oneof![Just(0u16), Just(65_535u16), any::<u16>()],
        prop_oneof![3 => Just(TcpOptions::default()), 1 => options()],
        prop_oneof![
            2 => Just(Vec::new()),
            1 => proptest::collection::vec(any::<u8>(), 1..100),
        ],
        prop_oneof![9 => Just(PEER_PORT), 1 => any::<u16>()],
        prop_oneof![9 => Just(STACK_PORT), 1 => any::<u16>()],
    )
        .prop_map(
            |(flags, seq, ack, window, options, payload, src_port, dst_port)| SegSpec {
                flags,
                seq,
                ack,
                window,
                options,
                payload,
                src_port,
                dst_port,
            },
        )
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        8 => segment().prop_map(Action::Segment),
        1 => proptest::collection::vec(any::<u8>(), 0..120).prop_map(Action::RawFrame),
        1 => proptest::collection::vec(any::<u8>(), 0..120).prop_map(Action::RawTcp),
        3 => prop_oneof![
            0u64..1_000,
            0u64..2_000_000,
            0u64..200_000_000,
        ]
        .prop_map(|us| Action::Advance(Duration::from_micros(us))),
        1 => prop_oneof![
            (1usize..3000).prop_map(AppOp::Send),
            Just(AppOp::Recv),
            Just(AppOp::Shutdown),
            Just(AppOp::Close),
            Just(AppOp::Abort),
        ]
        .prop_map(Action::App),
    ]
}

struct Fuzz {
    h: Harness,
    /// The connection under test, when the application can name it.
    conn: Option<TcpHandle>,
    /// The application gave the handle up (close or abort).
    released: bool,
    closed_seen: bool,
    closed_events: usize,
    /// Live values the random numbers are drawn around.
    peer_nxt: u32,
    stack_nxt: u32,
    /// (peer port, stack port) -> acknowledgment numbers the peer made possible.
    ends: HashMap<(u16, u16), HashSet<u32>>,
}

impl Fuzz {
    /// Scripts the exchange that reaches `target` (through a passive open when `passive`).
    fn new(target: Target, passive: bool) -> Fuzz {
        let mut h = Harness::new();
        let mut conn = None;
        let mut peer_nxt = Y + 1;
        let mut stack_nxt = 0;
        let mut ends = vec![];
        let expected = match target {
            Target::Listen => {
                h.listen();
                TcpState::Listen
            }
            Target::SynSent => {
                let (c, x) = h.connect();
                conn = Some(c);
                stack_nxt = x.wrapping_add(1);
                TcpState::SynSent
            }
            Target::SynReceived => {
                ends.push(Y + 1);
                if passive {
                    h.listen();
                    stack_nxt = h.syn_to_listener().wrapping_add(1);
                } else {
                    let (c, x) = h.connect();
                    h.send(syn(Y), &[]);
                    h.expect_one();
                    conn = Some(c);
                    stack_nxt = x.wrapping_add(1);
                }
                TcpState::SynReceived
            }
            _ => {
                ends.push(Y + 1);
                let (c, x) = if passive {
                    h.establish_passive()
                } else {
                    h.establish_active()
                };
                conn = Some(c);
                stack_nxt = x.wrapping_add(1);
                let x1 = x.wrapping_add(1);
                let x2 = x.wrapping_add(2);
                let our_fin = |h: &mut Harness| {
                    h.stack.tcp_shutdown(h.now, c).expect("shutdown");
                    h.expect_one();
                };
                let peer_fin = |h: &mut Harness, ack: u32| {
                    h.send(seg(FIN_ACK, Y + 1, ack), &[]);
                    h.expect_one();
                };
                match target {
                    Target::Established => {}
                    Target::FinWait1 => our_fin(&mut h),
                    Target::FinWait2 | Target::TimeWait => {
                        our_fin(&mut h);
                        h.send(seg(TcpFlags::ACK, Y + 1, x2), &[]);
                        h.expect_none();
                        if target == Target::TimeWait {
                            peer_fin(&mut h, x2);
                        }
                    }
                    Target::CloseWait | Target::LastAck => {
                        peer_fin(&mut h, x1);
                        if target == Target::LastAck {
                            our_fin(&mut h);
                        }
                    }
                    Target::Closing => {
                        our_fin(&mut h);
                        peer_fin(&mut h, x1);
                    }
                    Target::Listen | Target::SynSent | Target::SynReceived => unreachable!(),
                }
                if matches!(
                    target,
                    Target::TimeWait | Target::CloseWait | Target::LastAck | Target::Closing
                ) {
                    ends.push(Y + 2);
                    peer_nxt = Y + 2;
                }
                if matches!(
                    target,
                    Target::FinWait1
                        | Target::FinWait2
                        | Target::TimeWait
                        | Target::LastAck
                        | Target::Closing
                ) {
                    stack_nxt = x2;
                }
                match target {
                    Target::Established => TcpState::Established,
                    Target::FinWait1 => TcpState::FinWait1,
                    Target::FinWait2 => TcpState::FinWait2,
                    Target::CloseWait => TcpState::CloseWait,
                    Target::Closing => TcpState::Closing,
                    Target::LastAck => TcpState::LastAck,
                    Target::TimeWait => TcpState::TimeWait,
                    Target::Listen | Target::SynSent | Target::SynReceived => unreachable!(),
                }
            }
        };
        if let Some(c) = conn {
            assert_eq!(h.state(c), expected, "setup for {target:?}");
        }
        h.events();
        Fuzz {
            h,
            conn,
            released: false,
            closed_seen: false,
            closed_events: 0,
            peer_nxt,
            stack_nxt,
            ends: HashMap::from([((PEER_PORT, STACK_PORT), ends.into_iter().collect())]),
        }
    }

    /// Records what a frame the peer sends makes acknowledgeable, then delivers it.
    fn peer_frame(&mut self, frame: &[u8]) {
        if let Some((repr, len)) = parse_peer_tcp(frame) {
            let set = self.ends.entry((repr.src_port, repr.dst_port)).or_default();
            let syn = u32::from(repr.flags.syn());
            // SEG.SEQ+SEG.LEN; the end of the text alone (a FIN can be dropped: trimmed, or
            // superseded by another FIN while out of order); SEG.SEQ+1 for a SYN whose text is
            // not taken.
            set.insert(repr.seq.0.wrapping_add(repr.seq_len(len) as u32));
            set.insert(repr.seq.0.wrapping_add(syn + len as u32));
            if repr.flags.syn() {
                set.insert(repr.seq.0.wrapping_add(1));
            }
        }
        self.h.send_frame(frame);
    }

    fn apply(&mut self, action: &Action) {
        match action {
            Action::Segment(s) => {
                let repr = TcpRepr {
                    src_port: s.src_port,
                    dst_port: s.dst_port,
                    seq: SeqNum(s.seq.resolve(self.peer_nxt)),
                    ack: SeqNum(s.ack.resolve(self.stack_nxt)),
                    flags: TcpFlags(s.flags),
                    window: s.window,
                    urgent: 0,
                    options: s.options,
                };
                self.peer_frame(&tcp_frame(&repr, &s.payload));
            }
            Action::RawFrame(bytes) => self.peer_frame(bytes),
            Action::RawTcp(bytes) => self.peer_frame(&raw_tcp_frame(bytes)),
            Action::Advance(d) => self.h.advance(*d),
            Action::App(op) => self.app(*op),
        }
    }

    fn app(&mut self, op: AppOp) {
        let Some(c) = self.conn else { return };
        let now = self.h.now;
        let stack = &mut self.h.stack;
        // Errors are fine (wrong state, closed); panics and invariant breaks are not.
        match op {
            AppOp::Send(n) => {
                let _ = stack.tcp_send(now, c, &vec![0x42; n]);
            }
            AppOp::Recv => {
                let _ = stack.tcp_recv(now, c, &mut [0u8; 4096]);
            }
            AppOp::Shutdown => {
                let _ = stack.tcp_shutdown(now, c);
            }
            AppOp::Close | AppOp::Abort => {
                let r = if let AppOp::Close = op {
                    stack.tcp_close(now, c)
                } else {
                    stack.tcp_abort(now, c)
                };
                if r.is_ok() {
                    self.released = true;
                } else {
                    assert!(self.released, "close/abort of a live handle failed: {r:?}");
                }
            }
        }
    }

    fn check(&mut self) {
        for s in self.h.output() {
            let f = s.flags();
            assert!(!(f.syn() && f.rst()), "SYN and RST together: {s}");
            if f.ack() {
                let key = (s.repr.dst_port, s.repr.src_port);
                let ok = self.ends.get(&key).is_some_and(|e| e.contains(&s.ack()));
                assert!(
                    ok,
                    "ACK {} was never made possible by the peer on {key:?} (possible: {:?}): {s}",
                    s.ack(),
                    self.ends.get(&key)
                );
            }
        }
        if let Some(t) = self.h.stack.poll_timeout() {
            assert!(
                t >= self.h.now,
                "deadline {t} in the past at {}",
                self.h.now
            );
        }
        let Some(c) = self.conn else {
            self.h.events();
            return;
        };
        for ev in self.h.events() {
            if let Event::Closed(ec, _) = ev {
                assert_eq!(ec, c);
                self.closed_events += 1;
                assert_eq!(self.closed_events, 1, "Closed reported twice");
                assert_eq!(self.h.stack.tcp_state(c), Ok(TcpState::Closed));
            }
        }
        match self.h.stack.tcp_state(c) {
            Ok(state) => {
                assert!(!self.released, "handle still valid after close/abort");
                assert!(TcpState::ALL.contains(&state));
                assert!(
                    !self.closed_seen || state == TcpState::Closed,
                    "left CLOSED for {state}"
                );
                self.closed_seen |= state == TcpState::Closed;
            }
            Err(TcpError::InvalidHandle) => {
                assert!(self.released, "handle invalid without close/abort");
            }
            Err(e) => panic!("tcp_state: {e:?}"),
        }
    }
}

/// The TCP segment in a frame the peer sends, if the stack would take it as one.
fn parse_peer_tcp(frame: &[u8]) -> Option<(TcpRepr, usize)> {
    let (eth, payload) = EthernetRepr::parse(frame).ok()?;
    if eth.ethertype != EtherType::Ipv4 {
        return None;
    }
    let (ip, payload) = Ipv4Repr::parse(payload).ok()?;
    if ip.protocol != IpProtocol::Tcp {
        return None;
    }
    let (repr, data) = TcpRepr::parse(payload, ip.src, ip.dst, true).ok()?;
    Some((repr, data.len()))
}

/// `bytes` as the TCP part of a frame from the peer.
fn raw_tcp_frame(bytes: &[u8]) -> Vec<u8> {
    let eth = EthernetRepr::HEADER_LEN;
    let ip = Ipv4Repr::HEADER_LEN;
    let mut frame = vec![0u8; eth + ip + bytes.len()];
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
        payload_len: bytes.len(),
        ttl: 64,
        ident: 1,
        dont_fragment: false,
        dscp_ecn: 0,
    }
    .emit(&mut frame[eth..eth + ip]);
    frame[eth + ip..].copy_from_slice(bytes);
    if let Ok(mut p) = TcpPacket::new_checked(&mut frame[eth + ip..]) {
        p.fill_checksum(PEER_IP, STACK_IP);
    }
    frame
}

fn run(target: Target, passive: bool, actions: &[Action]) {
    let mut f = Fuzz::new(target, passive);
    f.check();
    for a in actions {
        f.apply(a);
        f.check();
    }
    // Let every timer run out: the connection must settle (bounded by the harness).
    f.h.advance(Duration::from_secs(3_600));
    f.check();
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn actions() -> impl Strategy<Value = Vec<Action>> {
    proptest::collection::vec(action(), 1..20)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_listen(a in actions()) {
        run(Target::Listen, true, &a);
    }

    #[test]
    fn fuzz_syn_sent(a in actions()) {
        run(Target::SynSent, false, &a);
    }

    #[test]
    fn fuzz_syn_received(passive in any::<bool>(), a in actions()) {
        run(Target::SynReceived, passive, &a);
    }

    #[test]
    fn fuzz_established(passive in any::<bool>(), a in actions()) {
        run(Target::Established, passive, &a);
    }

    #[test]
    fn fuzz_fin_wait_1(passive in any::<bool>(), a in actions()) {
        run(Target::FinWait1, passive, &a);
    }

    #[test]
    fn fuzz_fin_wait_2(passive in any::<bool>(), a in actions()) {
        run(Target::FinWait2, passive, &a);
    }

    #[test]
    fn fuzz_close_wait(passive in any::<bool>(), a in actions()) {
        run(Target::CloseWait, passive, &a);
    }

    #[test]
    fn fuzz_closing(passive in any::<bool>(), a in actions()) {
        run(Target::Closing, passive, &a);
    }

    #[test]
    fn fuzz_last_ack(passive in any::<bool>(), a in actions()) {
        run(Target::LastAck, passive, &a);
    }

    #[test]
    fn fuzz_time_wait(passive in any::<bool>(), a in actions()) {
        run(Target::TimeWait, passive, &a);
    }
}
