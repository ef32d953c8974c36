//! RFC 9293 requirements that the Figure 5 walk does not reach: keep-alive defaults, address
//! validation, TTL, ACK aggregation, both silly-window-syndrome algorithms, R1/R2, urgent data
//! longer than 16 bits, the zero-window allowance and the never-shrinking right edge. Each test
//! cites the requirement id of Appendix B (Table 8) and asserts what goes on the wire.
//!
//! Notation: the stack's ISS is `x` (read from its SYN), the peer's is `Y` (= PEER_ISS).

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};

use common::*;
use ferrotcp::time::Duration;
use ferrotcp::trace::TcpState;
use ferrotcp::transport::tcp::KeepAlive;
use ferrotcp::wire::{EtherType, EthernetRepr, IpProtocol, Ipv4Repr, MacAddr, TcpFlags, TcpRepr};
use ferrotcp::{CloseReason, Event, TcpError, TcpHandle};

const Y: u32 = PEER_ISS;
const SYN: TcpFlags = TcpFlags::SYN;
const ACK: TcpFlags = TcpFlags::ACK;
const RST: TcpFlags = TcpFlags::RST;
const FIN_ACK: TcpFlags = TcpFlags(TcpFlags::FIN.0 | TcpFlags::ACK.0);
const SYN_ACK: TcpFlags = TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0);
/// Effective send MSS in every exchange here: both sides announce 1460.
const MSS: u32 = 1460;
/// 192.0.2.0/24: the subnet-directed broadcast address of the stack's subnet.
const SUBNET_BROADCAST: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 255);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Every raw frame the stack has ready now (no ARP answering, nothing filtered).
fn raw_output(h: &mut Harness) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| h.stack.poll_transmit(h.now))
        .take(1000)
        .collect()
}

/// An Ethernet + IPv4 + TCP frame with every address chosen by the caller (checksums valid for
/// the given IP addresses).
fn frame_with(
    eth_dst: MacAddr,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    repr: &TcpRepr,
    payload: &[u8],
) -> Vec<u8> {
    let eth = EthernetRepr::HEADER_LEN;
    let ip = Ipv4Repr::HEADER_LEN;
    let tcp_len = repr.header_len() + payload.len();
    let mut frame = vec![0u8; eth + ip + tcp_len];
    EthernetRepr {
        src: PEER_MAC,
        dst: eth_dst,
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut frame[..eth]);
    Ipv4Repr {
        src,
        dst,
        protocol: IpProtocol::Tcp,
        payload_len: tcp_len,
        ttl: 64,
        ident: 0,
        dont_fragment: true,
        dscp_ecn: 0,
    }
    .emit(&mut frame[eth..eth + ip]);
    frame[eth + ip + repr.header_len()..].copy_from_slice(payload);
    repr.emit(&mut frame[eth + ip..], src, dst);
    frame
}

/// The IPv4 header and TCP segment of a raw frame from the stack.
fn parse_tcp(frame: &[u8]) -> (Ipv4Repr, TcpRepr, usize) {
    let (_, p) = EthernetRepr::parse(frame).expect("ethernet");
    let (ip, p) = Ipv4Repr::parse(p).expect("ipv4");
    assert_eq!(ip.protocol, IpProtocol::Tcp, "a TCP packet");
    let (tcp, data) = TcpRepr::parse(p, ip.src, ip.dst, true).expect("tcp");
    (ip, tcp, data.len())
}

/// Moves to the next deadline the stack reports and returns what it sent then (timers of the
/// ARP cache may fire too; they send no TCP segment).
#[track_caller]
fn next_timer(h: &mut Harness) -> Vec<Seg> {
    let t = h.stack.poll_timeout().expect("a timer is armed");
    h.advance_to(t);
    h.output()
}

/// Passive open with `recv_buffer`, then the peer fills the whole receive window in MSS-sized
/// segments; the delayed ACK reports the window closed. Returns (handle, x, RCV.NXT).
fn zero_window(
    recv_buffer: usize,
    before_fill: impl FnOnce(&mut Harness, TcpHandle),
) -> (Harness, TcpHandle, u32, u32) {
    let mut h = Harness::with_config(|c| c.tcp.recv_buffer = recv_buffer);
    let (c, x) = h.establish_passive();
    before_fill(&mut h, c);
    let stream = vec![0x5a; recv_buffer];
    let mut seq = Y + 1;
    for chunk in stream.chunks(MSS as usize) {
        h.send(seg(ACK, seq, x + 1), chunk);
        seq += chunk.len() as u32;
    }
    h.advance(Duration::from_millis(200));
    let out = h.output();
    let last = out.last().expect("the data is acknowledged");
    assert_eq!(last.ack(), seq, "everything acknowledged: {}", show(&out));
    assert_eq!(last.repr.window, 0, "the window is closed: {}", show(&out));
    assert_eq!(h.stack.tcp_recv_queue(c), Ok(recv_buffer));
    h.events();
    (h, c, x, seq)
}

// ---------------------------------------------------------------------------------------------
// Keep-alive
// ---------------------------------------------------------------------------------------------

/// MUST-28 (§3.8.4): "This interval MUST be configurable (MUST-27) and MUST default to no less
/// than two hours (MUST-28)." With keep-alive on at its defaults, an idle connection sends no
/// probe before 7200 s and one, <SEQ=SND.NXT-1><ACK=RCV.NXT><CTL=ACK>, at 7200 s.
#[test]
fn keepalive_defaults_to_two_hours_of_idle_before_the_first_probe() {
    assert!(KeepAlive::default().idle >= Duration::from_secs(2 * 60 * 60));
    let mut h = Harness::new();
    let (c, x) = h.establish_active();
    h.stack
        .tcp_set_keepalive(h.now, c, Some(KeepAlive::default()))
        .expect("keepalive");
    h.expect_none();
    h.advance(Duration::from_secs(7200) - Duration::from_millis(1));
    h.expect_none();
    h.advance(Duration::from_millis(1));
    let probe = h.expect_one();
    probe.assert(ACK, x, Y + 1);
    assert!(
        probe.payload.len() <= 1,
        "at most one garbage octet: {probe}"
    );
    assert_eq!(h.state(c), TcpState::Established);
}

// ---------------------------------------------------------------------------------------------
// Address validation (§3.9.2.3)
// ---------------------------------------------------------------------------------------------

/// MUST-46 (§3.9.2.3): "A TCP implementation MUST reject as an error a local OPEN call for an
/// invalid remote IP address (e.g., a broadcast or multicast address)." Nothing goes out, no
/// connection is created.
#[test]
fn open_to_broadcast_or_multicast_is_rejected() {
    let mut h = Harness::new();
    for ip in [
        Ipv4Addr::BROADCAST,
        Ipv4Addr::new(224, 0, 0, 1),
        SUBNET_BROADCAST,
    ] {
        let remote = SocketAddrV4::new(ip, PEER_PORT);
        assert_eq!(
            h.stack.tcp_connect(h.now, remote, Some(STACK_PORT)),
            Err(TcpError::InvalidAddress),
            "OPEN to {ip}"
        );
        assert!(raw_output(&mut h).is_empty(), "nothing sent for {ip}");
        assert_eq!(h.stack.tcp_connection_count(), 0);
    }
    assert_eq!(h.events(), []);
}

/// MUST-57, both rows (§3.9.2.3): "A TCP implementation MUST silently discard an incoming SYN
/// segment that is addressed to a broadcast or multicast address (MUST-57). This prevents
/// connection state and replies from being erroneously generated, and implementers should note
/// that this guidance is applicable to all incoming segments, not just SYNs".
/// A SYN to a listener and segments to a closed port, sent to 192.0.2.255 and 255.255.255.255
/// (Ethernet broadcast), draw no reply and create no connection; the same segments sent to the
/// host address do (positive control).
#[test]
fn segments_to_broadcast_addresses_are_silently_discarded() {
    let mut h = Harness::new();
    let lh = h.listen();
    let mut ack_to_closed = seg(ACK, Y, 4242);
    ack_to_closed.dst_port = STACK_PORT + 1;
    let mut syn_to_closed = syn(Y);
    syn_to_closed.dst_port = STACK_PORT + 1;
    for dst in [SUBNET_BROADCAST, Ipv4Addr::BROADCAST] {
        for (what, repr, payload) in [
            ("SYN to the listener", syn(Y), &b""[..]),
            ("SYN to a closed port", syn_to_closed, &b""[..]),
            (
                "ACK with data to a closed port",
                ack_to_closed,
                &b"data"[..],
            ),
        ] {
            h.send_frame(&frame_with(
                MacAddr::BROADCAST,
                PEER_IP,
                dst,
                &repr,
                payload,
            ));
            assert!(
                raw_output(&mut h).is_empty(),
                "{what} addressed to {dst} drew a reply"
            );
            assert_eq!(h.stack.tcp_connection_count(), 0, "{what} to {dst}");
        }
    }
    // A multicast destination, delivered to the stack's own MAC address.
    let group = Ipv4Addr::new(224, 0, 0, 1);
    h.send_frame(&frame_with(STACK_MAC, PEER_IP, group, &syn(Y), &[]));
    assert!(raw_output(&mut h).is_empty(), "SYN to {group} drew a reply");
    assert_eq!(h.stack.tcp_connection_count(), 0);
    assert_eq!(h.stack.tcp_accept(lh), Ok(None));
    assert_eq!(h.events(), []);
    // Positive control: the same segments to the host address.
    h.send(ack_to_closed, b"data");
    h.expect_one().assert(RST, 4242, 0);
    h.send(syn(Y), &[]);
    let s = h.expect_one();
    s.assert(SYN_ACK, s.seq(), Y + 1);
}

/// MUST-63 (§3.9.2.3): "An incoming SYN with an invalid source address MUST be ignored either
/// by TCP or by the IP layer (MUST-63)". SYNs from 255.255.255.255, 224.0.0.5 and 0.0.0.0 to a
/// listener draw no SYN,ACK (nor anything else) and create no connection.
#[test]
fn syn_from_broadcast_multicast_or_unspecified_source_is_ignored() {
    let mut h = Harness::new();
    let lh = h.listen();
    for src in [
        Ipv4Addr::BROADCAST,
        Ipv4Addr::new(224, 0, 0, 5),
        Ipv4Addr::UNSPECIFIED,
    ] {
        h.send_frame(&frame_with(STACK_MAC, src, STACK_IP, &syn(Y), &[]));
        assert!(raw_output(&mut h).is_empty(), "SYN from {src} drew a reply");
        assert_eq!(h.stack.tcp_connection_count(), 0, "SYN from {src}");
    }
    assert_eq!(h.stack.tcp_accept(lh), Ok(None));
    assert_eq!(h.events(), []);
    // Positive control: the same SYN from the peer's unicast address is answered.
    h.send(syn(Y), &[]);
    let s = h.expect_one();
    s.assert(SYN_ACK, s.seq(), Y + 1);
}

/// MUST-63 (§3.9.2.3), as above, for the subnet-directed broadcast address as a source: RFC 1122
/// §3.2.1.3 (e): "{ <Network-number>, <Subnet-number>, -1 } Directed broadcast to the specified
/// subnet. It MUST NOT be used as a source address." A SYN from 192.0.2.255 is no more valid than
/// one from 255.255.255.255; answering it sends a SYN,ACK to every host on the link.
#[test]
fn syn_from_subnet_broadcast_source_is_ignored() {
    let mut h = Harness::new();
    let lh = h.listen();
    h.send_frame(&frame_with(
        STACK_MAC,
        SUBNET_BROADCAST,
        STACK_IP,
        &syn(Y),
        &[],
    ));
    let replies: Vec<_> = raw_output(&mut h)
        .iter()
        .map(|f| {
            let (ip, tcp, _) = parse_tcp(f);
            format!("{} -> {} {:?}", ip.src, ip.dst, tcp.flags)
        })
        .collect();
    assert_eq!(
        replies,
        Vec::<String>::new(),
        "SYN from {SUBNET_BROADCAST} drew a reply"
    );
    assert_eq!(h.stack.tcp_connection_count(), 0);
    assert_eq!(h.stack.tcp_accept(lh), Ok(None));
}

// ---------------------------------------------------------------------------------------------
// Options, TTL
// ---------------------------------------------------------------------------------------------

/// MUST-65 (§3.2, MSS option): "This field may be sent in the initial connection request (i.e.,
/// in segments with the SYN control bit set) and MUST NOT be sent in other segments (MUST-65)."
/// The handshake's final ACK, data, a retransmission, pure ACKs, the FIN and the ACK of the
/// peer's FIN carry no MSS option.
#[test]
fn mss_option_only_on_syn_segments() {
    let mut h = Harness::new();
    let (c, x) = h.connect();
    h.send(syn_ack(Y, x + 1), &[]);
    let mut sent = h.output();
    // Data (two full segments and a short one), and its retransmission.
    h.stack.tcp_set_nodelay(c, true).unwrap();
    h.stack.tcp_send(h.now, c, &[1u8; 3000]).unwrap();
    let data = h.output();
    assert_eq!(data.len(), 3, "{}", show(&data));
    sent.extend(data);
    sent.extend(next_timer(&mut h));
    // The peer acknowledges everything and sends data: a pure ACK (after the delayed-ACK timer).
    h.send(seg(ACK, Y + 1, x + 3001), b"hello");
    h.advance(Duration::from_millis(200));
    sent.extend(h.output());
    // Our FIN, then the peer's FIN: the last ACK.
    h.stack.tcp_shutdown(h.now, c).unwrap();
    sent.extend(h.output());
    h.send(seg(FIN_ACK, Y + 6, x + 3002), &[]);
    sent.extend(h.output());
    assert_eq!(h.state(c), TcpState::TimeWait);

    assert!(sent.len() >= 7, "{}", show(&sent));
    assert!(sent.iter().any(|s| s.flags().fin()), "{}", show(&sent));
    assert!(
        sent.iter()
            .any(|s| s.payload.is_empty() && !s.flags().fin())
    );
    for s in &sent {
        assert!(!s.flags().syn(), "no SYN after the handshake: {s}");
        assert_eq!(s.repr.options.mss, None, "MSS option on {s}");
    }
}

/// MUST-49 (§3.9.2): "Time to Live (TTL): The TTL value used to send TCP segments MUST be
/// configurable (MUST-49)." With `StackConfig::ttl = 17` the SYN, the handshake ACK, data and a
/// RST for a closed port all leave with TTL 17.
#[test]
fn configured_ttl_is_used_for_tcp_segments() {
    let mut h = Harness::with_config(|c| c.ttl = 17);
    let remote = SocketAddrV4::new(PEER_IP, PEER_PORT);
    let c = h
        .stack
        .tcp_connect(h.now, remote, Some(STACK_PORT))
        .expect("connect");
    let mut frames = raw_output(&mut h);
    assert_eq!(frames.len(), 1, "the SYN");
    let x = parse_tcp(&frames[0]).1.seq.0;
    h.send(syn_ack(Y, x + 1), &[]);
    frames.extend(raw_output(&mut h));
    h.stack.tcp_set_nodelay(c, true).unwrap();
    h.stack.tcp_send(h.now, c, b"ttl").unwrap();
    frames.extend(raw_output(&mut h));
    let mut stray = seg(ACK, Y, 77);
    stray.dst_port = STACK_PORT + 1;
    h.send(stray, &[]);
    frames.extend(raw_output(&mut h));

    let flags: Vec<TcpFlags> = frames
        .iter()
        .map(|f| parse_tcp(f).1.flags & !TcpFlags::PSH)
        .collect();
    assert_eq!(flags, [SYN, ACK, ACK, RST]);
    for f in &frames {
        let (ip, tcp, _) = parse_tcp(f);
        assert_eq!(ip.ttl, 17, "TTL of {:?}", tcp.flags);
    }
}

// ---------------------------------------------------------------------------------------------
// ACK generation
// ---------------------------------------------------------------------------------------------

/// MUST-59 (§3.10.7.4): "In general, the processing of received segments MUST be implemented to
/// aggregate ACK segments whenever possible (MUST-58). For example, if the TCP endpoint is
/// processing a series of queued segments, it MUST process them all before sending any ACK
/// segments (MUST-59)." Segments fed to `receive` before the stack is polled draw one cumulative
/// ACK, for two full-sized segments and again for a batch of four.
#[test]
fn queued_segments_draw_one_cumulative_ack() {
    let mut h = Harness::new();
    let (c, x) = h.establish_active();
    let block = [7u8; MSS as usize];
    h.send(seg(ACK, Y + 1, x + 1), &block);
    h.send(seg(ACK, Y + 1 + MSS, x + 1), &block);
    let a = h.expect_one();
    a.assert(ACK, x + 1, Y + 1 + 2 * MSS);
    // A batch of four.
    let base = Y + 1 + 2 * MSS;
    for i in 0..4 {
        h.send(seg(ACK, base + i * MSS, x + 1), &block);
    }
    h.expect_one().assert(ACK, x + 1, base + 4 * MSS);
    assert_eq!(h.stack.tcp_recv_queue(c), Ok(6 * MSS as usize));
}

// ---------------------------------------------------------------------------------------------
// Silly window syndrome
// ---------------------------------------------------------------------------------------------

/// MUST-38 (§3.8.6.2.1): "A TCP implementation MUST include a SWS avoidance algorithm in the
/// sender (MUST-38)." With U = SND.UNA + SND.WND - SND.NXT and D the data queued but not sent,
/// send only "(1) if a maximum-sized segment can be sent, i.e., if: min(D,U) >= Eff.snd.MSS;
/// (2) or if the data is pushed and all queued data can be sent now, i.e., if: [SND.NXT =
/// SND.UNA and] PUSHed and D <= U [...]; (3) or if at least a fraction Fs of the maximum window
/// can be sent, i.e., if: [SND.NXT = SND.UNA and] min(D,U) >= Fs * Max(SND.WND); (4) or if the
/// data is PUSHed and the override timeout occurs." (Fs recommended 1/2.)
///
/// The peer offered 65535; with ten segments in flight it acknowledges nine and leaves a usable
/// window of 100 bytes while 15 400 bytes wait: none of (1)-(3) holds, so nothing is sent.
/// Once all is acknowledged and the window reopens, full-sized segments go out.
#[test]
fn sender_sws_avoidance_holds_a_tiny_segment_while_data_is_in_flight() {
    let mut h = Harness::new();
    let (c, x) = h.establish_active();
    h.stack.tcp_send(h.now, c, &[3u8; 30_000]).unwrap();
    let flight = h.output();
    // Initial window: ten full segments (RFC 6928), all of them MSS-sized.
    assert_eq!(flight.len(), 10, "{}", show(&flight));
    assert!(flight.iter().all(|s| s.payload.len() == MSS as usize));
    let nxt = x + 1 + 10 * MSS;
    // Nine acknowledged; one segment still in flight; window = in flight + 100.
    let una = x + 1 + 9 * MSS;
    let mut shrink = seg(ACK, Y + 1, una);
    shrink.window = (nxt - una + 100) as u16;
    h.send(shrink, &[]);
    let out = h.output();
    assert!(
        out.iter().all(|s| s.payload.is_empty()),
        "min(D,U) = 100 < MSS with data in flight: no data may be sent, got {}",
        show(&out)
    );
    // Everything acknowledged, the window reopens: full-sized segments.
    h.send(seg(ACK, Y + 1, nxt), &[]);
    let out = h.output();
    assert!(!out.is_empty(), "data resumes");
    for (i, s) in out.iter().enumerate() {
        assert_eq!(s.seq(), nxt + i as u32 * MSS, "{}", show(&out));
        assert_eq!(
            s.payload.len(),
            MSS as usize,
            "full segments: {}",
            show(&out)
        );
    }
}

/// MUST-39 (§3.8.6.2.2): "A TCP implementation MUST include a SWS avoidance algorithm in the
/// receiver (MUST-39)." "[K]eep RCV.NXT+RCV.WND fixed until the reduction satisfies:
/// RCV.BUFF - RCV.USER - RCV.WND >= min( Fr * RCV.BUFF, Eff.snd.MSS )" (Fr = 1/2).
///
/// Buffer 16384, filled by the peer (window 0). Reading 100, then 1000 more (1100 < min(8192,
/// 1460)) sends no window update, and an ACK the stack must send anyway still offers 0; reading
/// 360 more (1460) sends the update, offering exactly 1460.
#[test]
fn receiver_sws_avoidance_waits_for_an_mss_of_room() {
    let (mut h, c, x, rcv_nxt) = zero_window(16_384, |_, _| {});
    let mut buf = [0u8; 2000];
    assert_eq!(h.stack.tcp_recv(h.now, c, &mut buf[..100]), Ok(100));
    h.advance(Duration::from_secs(1));
    h.expect_none();
    assert_eq!(h.stack.tcp_recv(h.now, c, &mut buf[..1000]), Ok(1000));
    h.advance(Duration::from_secs(1));
    h.expect_none();
    // An old duplicate forces an ACK (§3.10.7.4 first step): its window is still 0.
    h.send(seg(ACK, Y + 1, x + 1), &[0x5a; 10]);
    let a = h.expect_one();
    a.assert(ACK, x + 1, rcv_nxt);
    assert_eq!(a.repr.window, 0, "right edge kept fixed: {a}");
    // 1460 read: the window may move by Eff.snd.MSS now.
    assert_eq!(h.stack.tcp_recv(h.now, c, &mut buf[..360]), Ok(360));
    let u = h.expect_one();
    u.assert(ACK, x + 1, rcv_nxt);
    assert_eq!(u.repr.window, 1460, "window update: {u}");
}

// ---------------------------------------------------------------------------------------------
// Zero window allowance
// ---------------------------------------------------------------------------------------------

/// MUST-66 (§3.4): "Note that when the receive window is zero no segments should be acceptable
/// except ACK segments. [...] A TCP receiver MUST process the RST and URG fields of all incoming
/// segments, even when the receive window is zero (MUST-66)." A RST at RCV.NXT resets a
/// connection whose receive window is full.
#[test]
fn rst_at_rcv_nxt_resets_a_connection_with_a_zero_window() {
    let (mut h, c, _x, rcv_nxt) = zero_window(2000, |_, _| {});
    h.send(seg(RST, rcv_nxt, 0), &[]);
    h.expect_none();
    assert_eq!(h.state(c), TcpState::Closed);
    assert_eq!(h.events(), [Event::Closed(c, CloseReason::Reset)]);
}

/// MUST-66 (§3.4), the ACK half: "it is possible for a TCP implementation to maintain a zero
/// receive window while transmitting data and receiving ACKs." With our window closed and data
/// in flight, a 1-octet window probe at RCV.NXT carrying a new SEG.ACK advances SND.UNA (its
/// octet is not taken, and it draws an ACK still offering 0), and a pure ACK at RCV.NXT
/// acknowledges the rest: nothing is left to retransmit.
#[test]
fn ack_at_rcv_nxt_is_processed_with_a_zero_window() {
    let (mut h, c, x, rcv_nxt) = zero_window(2000, |h, c| {
        h.stack.tcp_send(h.now, c, &[9u8; 100]).unwrap();
        let d = h.expect_one();
        assert_eq!(d.payload.len(), 100);
    });
    assert_eq!(h.stack.tcp_send_queue(c), Ok(100));
    h.send(seg(ACK, rcv_nxt, x + 51), &[0xee]);
    let a = h.expect_one();
    a.assert(ACK, x + 101, rcv_nxt);
    assert_eq!(a.repr.window, 0);
    assert_eq!(h.stack.tcp_send_queue(c), Ok(50), "SEG.ACK processed");
    assert_eq!(
        h.stack.tcp_recv_queue(c),
        Ok(2000),
        "the probe octet is not taken"
    );
    h.send(seg(ACK, rcv_nxt, x + 101), &[]);
    h.expect_none();
    assert_eq!(h.stack.tcp_send_queue(c), Ok(0), "SEG.ACK processed");
    h.advance(Duration::from_secs(10));
    h.expect_none();
    assert_eq!(h.state(c), TcpState::Established);
}

/// MUST-66 (§3.4), the URG half: an urgent segment at RCV.NXT is processed for its URG field
/// even though its text does not fit the closed window: the application is told (MUST-32).
#[test]
fn urg_at_rcv_nxt_is_processed_with_a_zero_window() {
    let (mut h, c, x, rcv_nxt) = zero_window(2000, |_, _| {});
    let mut urg = seg(ACK | TcpFlags::URG, rcv_nxt, x + 1);
    urg.urgent = 1;
    h.send(urg, b"!");
    let a = h.expect_one();
    a.assert(ACK, x + 1, rcv_nxt);
    assert_eq!(a.repr.window, 0);
    assert_eq!(h.events(), [Event::Urgent(c)]);
    assert!(h.stack.tcp_urgent_remaining(c).unwrap().is_some());
}

// ---------------------------------------------------------------------------------------------
// RST with data
// ---------------------------------------------------------------------------------------------

/// SHLD-2 (§3.5.3): "A TCP implementation SHOULD allow a received RST segment to include data
/// (SHLD-2). It has been suggested that a RST segment could contain diagnostic text that
/// explains the cause of the RST." A RST with text at RCV.NXT resets the connection; the text is
/// not delivered as stream data.
#[test]
fn rst_carrying_data_resets_and_the_data_is_not_delivered() {
    let mut h = Harness::new();
    let (c, _x) = h.establish_active();
    h.send(seg(RST, Y + 1, 0), b"diagnostic: go away");
    h.expect_none();
    assert_eq!(h.state(c), TcpState::Closed);
    assert_eq!(h.events(), [Event::Closed(c, CloseReason::Reset)]);
    assert_eq!(h.stack.tcp_recv_queue(c), Ok(0));
    let mut buf = [0u8; 64];
    assert_eq!(
        h.stack.tcp_recv(h.now, c, &mut buf),
        Err(TcpError::Closed(CloseReason::Reset))
    );
}

// ---------------------------------------------------------------------------------------------
// R1 and R2 (§3.8.3)
// ---------------------------------------------------------------------------------------------

/// Follows the timers with the peer silent until `retransmissions` copies of the segment at
/// `seq` went out; returns, per retransmission, the events raised with it.
#[track_caller]
fn retransmissions_and_events(
    h: &mut Harness,
    seq: u32,
    retransmissions: usize,
) -> Vec<Vec<Event>> {
    let mut per_rtx = Vec::new();
    for _ in 0..1000 {
        if per_rtx.len() == retransmissions {
            return per_rtx;
        }
        let out = next_timer(h);
        let events = h.events();
        let rtx: Vec<_> = out.iter().filter(|s| s.seq() == seq).collect();
        assert!(
            rtx.len() <= 1,
            "one retransmission per timeout: {}",
            show(&out)
        );
        if rtx.is_empty() {
            assert!(
                !events.iter().any(|e| matches!(e, Event::Stalled(_))),
                "Stalled without a retransmission: {events:?}"
            );
        } else {
            per_rtx.push(events);
        }
    }
    panic!("only {} retransmissions", per_rtx.len());
}

/// SHLD-10 (§3.8.3): "The value of R1 SHOULD correspond to at least 3 retransmissions, at the
/// current RTO (SHLD-10)", with SHLD-9: "TCP implementations SHOULD inform the application of
/// the delivery problem [...] when R1 is reached and before R2". With the default R1 = 3,
/// `Event::Stalled` comes with the third retransmission, not before, and only once.
#[test]
fn stalled_is_raised_at_the_third_retransmission() {
    let mut h = Harness::new();
    assert_eq!(h.stack.config().tcp.r1, 3);
    let (c, x) = h.establish_active();
    h.stack.tcp_send(h.now, c, b"are you there?").unwrap();
    h.expect_one().assert(ACK, x + 1, Y + 1);
    let events = retransmissions_and_events(&mut h, x + 1, 5);
    assert_eq!(events[0], []);
    assert_eq!(events[1], []);
    assert_eq!(events[2], [Event::Stalled(c)]);
    assert_eq!(events[3], []);
    assert_eq!(events[4], []);
    assert_eq!(h.state(c), TcpState::Established);
}

/// MUST-21 (§3.8.3): "An application MUST (MUST-21) be able to set the value for R2 for a
/// particular connection", R2 being the count at which "(c) [...] close the connection".
/// With `tcp_set_r2(c, 2)` and a silent peer, the data is retransmitted exactly twice; the
/// third timeout closes the connection with `TimedOut`.
#[test]
fn per_connection_r2_closes_after_that_many_retransmissions() {
    let mut h = Harness::new();
    let (c, x) = h.establish_active();
    h.stack.tcp_set_r2(c, 2).unwrap();
    h.stack.tcp_send(h.now, c, b"hello?").unwrap();
    h.expect_one().assert(ACK, x + 1, Y + 1);
    let mut rtx = 0;
    let mut closed = false;
    for _ in 0..100 {
        let out = next_timer(&mut h);
        let events = h.events();
        rtx += out.iter().filter(|s| s.seq() == x + 1).count();
        if events.contains(&Event::Closed(c, CloseReason::TimedOut)) {
            assert!(
                out.is_empty(),
                "nothing sent at the closing timeout: {}",
                show(&out)
            );
            closed = true;
            break;
        }
        assert_eq!(
            h.state(c),
            TcpState::Established,
            "after {rtx} retransmissions"
        );
    }
    assert!(closed, "connection never timed out");
    assert_eq!(rtx, 2, "retransmissions before the close");
    assert_eq!(h.state(c), TcpState::Closed);
    h.advance(Duration::from_secs(600));
    h.expect_none();
}

/// MUST-22 (§3.8.3): "SYN retransmissions MUST be handled in the general way just described for
/// data retransmissions, including notification of the application layer." An active open to a
/// silent peer raises `Stalled` with the R1-th (third) SYN retransmission, and keeps
/// retransmitting the SYN afterwards.
#[test]
fn r1_is_reported_for_syn_retransmissions_too() {
    let mut h = Harness::new();
    let (c, x) = h.connect();
    h.events();
    let events = retransmissions_and_events(&mut h, x, 5);
    assert_eq!(events[0], []);
    assert_eq!(events[1], []);
    assert_eq!(events[2], [Event::Stalled(c)]);
    assert_eq!(events[3], [], "the attempt continues");
    assert_eq!(events[4], []);
    assert_eq!(h.state(c), TcpState::SynSent);
}

// ---------------------------------------------------------------------------------------------
// Urgent data longer than 16 bits
// ---------------------------------------------------------------------------------------------

/// MUST-31 (§3.8.5): "A TCP implementation MUST support a sequence of urgent data of any length
/// (MUST-31)", with MUST-62: "The urgent pointer MUST point to the sequence number of the octet
/// following the urgent data". 70 000 urgent octets: segments more than 65 535 octets before the
/// pointer carry URG with the farthest offset the field can say (0xFFFF, as Linux does, RFC 6093
/// §4); every later one carries the exact offset to the pointer.
#[test]
fn urgent_data_longer_than_16_bits_keeps_urg_and_points_as_far_as_possible() {
    const LEN: u32 = 70_000;
    let mut h = Harness::with_config(|c| c.tcp.send_buffer = 128 * 1024);
    let (c, x) = h.establish_active();
    assert_eq!(
        h.stack.tcp_send_urgent(h.now, c, &[0x21; LEN as usize]),
        Ok(LEN as usize)
    );
    let start = x + 1;
    let mut seen = Vec::new();
    for _ in 0..200 {
        let out = h.output();
        if out.is_empty() {
            break;
        }
        let mut top = start;
        for s in out.iter().filter(|s| !s.payload.is_empty()) {
            let off = s.seq() - start;
            let want = (LEN - off).min(0xFFFF) as u16;
            assert!(s.flags().urg(), "URG at offset {off}: {s}");
            assert_eq!(s.repr.urgent, want, "urgent pointer at offset {off}: {s}");
            seen.push((off, s.repr.urgent));
            top = top.max(s.seq() + s.payload.len() as u32);
        }
        h.send(seg(ACK, Y + 1, top), &[]);
    }
    assert_eq!(
        h.stack.tcp_send_queue(c),
        Ok(0),
        "all sent and acknowledged"
    );
    assert_eq!(seen[0], (0, 0xFFFF), "the first segment");
    assert!(
        seen.iter()
            .any(|&(off, up)| up < 0xFFFF && u32::from(up) == LEN - off),
        "a segment within 65535 octets of the pointer carries the exact offset"
    );
    assert_eq!(seen.last().map(|&(off, up)| off + u32::from(up)), Some(LEN));
}

// ---------------------------------------------------------------------------------------------
// Window shrinking (§3.8.6)
// ---------------------------------------------------------------------------------------------

/// A transfer into a `recv_buffer`-octet buffer where the application reads slowly and the peer
/// keeps the offered window full (probing it with one octet when it is closed). The peer's SYN
/// offers window scaling when `peer_wscale` is given. Checks every segment the stack sends
/// against the farthest right edge advertised so far: SEG.ACK + (SEG.WND << shift) may fall
/// short of it only by the rounding of the scaled field (less than 2^shift, RFC 7323 §2.4).
fn right_edge_transfer(recv_buffer: usize, peer_wscale: Option<u8>) {
    let mut h = Harness::with_config(|c| c.tcp.recv_buffer = recv_buffer);
    let lh = h.listen();
    let mut s = syn(Y);
    s.options.window_scale = peer_wscale;
    h.send(s, &[]);
    let sa = h.expect_one();
    let shift = sa.repr.options.window_scale.unwrap_or(0);
    assert_eq!(
        sa.repr.options.window_scale.is_some(),
        peer_wscale.is_some(),
        "scaling only if both sides offer it: {sa}"
    );
    let x = sa.seq();
    // The window of a SYN,ACK is never scaled (RFC 7323 §2.2).
    let mut max_edge = sa.ack() + u32::from(sa.repr.window);
    let mut edge = max_edge;
    h.send(seg(ACK, Y + 1, x + 1), &[]);
    h.expect_none();
    let c = h.stack.tcp_accept(lh).unwrap().expect("accepted");

    let stream: Vec<u8> = (0..4_000_000u32).map(|i| (i % 251) as u8).collect();
    let end = Y + 1 + stream.len() as u32;
    let sizes = [1460usize, 700, 1, 333, 1460, 1000];
    let reads = [100usize, 1500, 7, 900, 0, 2500, 50];
    // How much the peer sends per round at most: sometimes all it may, sometimes a little.
    let budgets = [1000, usize::MAX, 3000, 1, usize::MAX, 500, 20_000, 2];
    let slack = (1u32 << shift) - 1;
    // The peer's next sequence number: it goes back to our ACK each round.
    let mut nxt = Y + 1;
    let mut read = Vec::new();
    let mut checked = 0;
    for round in 0..600 {
        // The peer fills the offered window, or probes it with one octet when it is closed.
        let mut seq = nxt;
        let budget = budgets[round % budgets.len()].min((end - seq) as usize) as u32;
        let limit = if edge.wrapping_sub(seq) as i32 > budget as i32 {
            seq + budget
        } else {
            edge.min(end)
        };
        if limit == seq && seq < end {
            let off = (seq - (Y + 1)) as usize;
            h.send(seg(ACK, seq, x + 1), &stream[off..off + 1]);
        }
        while limit.wrapping_sub(seq) as i32 > 0 {
            let off = (seq - (Y + 1)) as usize;
            let n = sizes[(round + off) % sizes.len()].min((limit - seq) as usize);
            h.send(seg(ACK, seq, x + 1), &stream[off..off + n]);
            seq += n as u32;
        }
        // The application reads a little.
        let mut buf = vec![0u8; reads[round % reads.len()]];
        if let Ok(n) = h.stack.tcp_recv(h.now, c, &mut buf) {
            read.extend_from_slice(&buf[..n]);
        }
        h.advance(Duration::from_millis(50));
        for s in h.output() {
            let right = s.ack() + (u32::from(s.repr.window) << shift);
            assert!(
                (right + slack).wrapping_sub(max_edge) as i32 >= 0,
                "round {round}: right edge moved left from {max_edge} to {right} \
                 (shift {shift}): {s}"
            );
            if right.wrapping_sub(max_edge) as i32 > 0 {
                max_edge = right;
            }
            edge = right;
            nxt = s.ack();
            checked += 1;
        }
    }
    assert!(checked > 300, "only {checked} segments checked");
    assert!(read.len() > 50_000, "transfer progressed: {}", read.len());
    assert_eq!(read[..], stream[..read.len()], "the stream arrives intact");
}

/// SHLD-14 (§3.8.6): "A TCP receiver SHOULD NOT shrink the window, i.e., move the right window
/// edge to the left (SHLD-14)." Without window scaling (the harness's SYN offers none) every
/// segment's SEG.ACK + SEG.WND is at or right of every earlier one, exactly.
#[test]
fn advertised_right_edge_never_moves_left() {
    right_edge_transfer(8000, None);
}

/// SHLD-14 (§3.8.6) with window scaling (RFC 7323 §2.4 lets the scaled field round the edge down
/// by less than 2^shift): a 100 000-octet buffer, shift 1.
#[test]
fn advertised_right_edge_never_moves_left_with_window_scaling() {
    right_edge_transfer(100_000, Some(7));
}

/// SHLD-15 (§3.8.6): "a sending TCP peer MUST be robust against window shrinking, which may
/// cause the "usable window" [...] to become negative (MUST-34). If this happens, the sender
/// SHOULD NOT send new data (SHLD-15)". The peer acknowledges one of ten segments in flight and
/// shrinks its window to 1000 octets (right edge left of SND.NXT): no new data is sent.
#[test]
fn no_new_data_when_the_peer_shrinks_its_window() {
    let mut h = Harness::new();
    let (c, x) = h.establish_active();
    h.stack.tcp_send(h.now, c, &[4u8; 30_000]).unwrap();
    let flight = h.output();
    assert_eq!(flight.len(), 10, "{}", show(&flight));
    let nxt = x + 1 + 10 * MSS;
    let mut shrink = seg(ACK, Y + 1, x + 1 + MSS);
    shrink.window = 1000;
    h.send(shrink, &[]);
    let out = h.output();
    assert!(
        out.iter().all(|s| s.seq() + s.payload.len() as u32 <= nxt),
        "new data sent into a shrunken window: {}",
        show(&out)
    );
}

/// §3.10.7.4 first step: "If the RCV.WND is zero, no segments will be acceptable, but special
/// allowance should be made to accept valid ACKs". With window scaling the last few bytes of
/// room cannot be advertised (RFC 7323 §2.4); a peer that sent into them and had them dropped
/// puts its SND.NXT on later ACKs, a little beyond our edge (Linux's tcp_acceptable_seq). Those
/// ACKs must still acknowledge our data: refusing them wedged an echo whose reader waited on
/// its own send buffer.
#[test]
fn a_closed_window_still_takes_acks_just_beyond_its_edge() {
    let mut h = Harness::with_config(|c| {
        c.tcp = ferrotcp::TcpConfig::default().with_fixed_buffers(256 * 1024)
    });
    let options = ferrotcp::wire::TcpOptions {
        mss: Some(1460),
        window_scale: Some(7),
        ..ferrotcp::wire::TcpOptions::default()
    };
    let (c, x, syn_ack) = h.establish_passive_with(options, Duration::ZERO);
    assert_eq!(syn_ack.repr.options.window_scale, Some(3));
    // The peer fills all but 4 bytes of the 256 KiB buffer: the window field says 0.
    let mut seq = Y + 1;
    let fill = 256 * 1024 - 4;
    while seq < Y + 1 + fill {
        let n = (Y + 1 + fill - seq).min(1460);
        h.send(seg(ACK, seq, x + 1), &vec![1u8; n as usize]);
        seq += n;
    }
    let last = h.output().pop().expect("an ACK");
    assert_eq!(last.repr.window, 0);
    // Our application sends; the peer acknowledges with SEQ = RCV.NXT + 4 (it sent 4 bytes
    // into the rounded-away room, which we dropped).
    let now = h.now;
    h.stack.tcp_send(now, c, b"reply").expect("send");
    h.output();
    h.send(seg(ACK, seq + 4, x + 6), &[]);
    assert_eq!(h.stack.tcp_send_queue(c), Ok(0), "the ACK was taken");
    // Beyond one unit of scale it is still unacceptable.
    let now = h.now;
    h.stack.tcp_send(now, c, b"more").expect("send");
    h.output();
    h.send(seg(ACK, seq + 100, x + 10), &[]);
    assert_eq!(h.stack.tcp_send_queue(c), Ok(4));
}
