//! ICMP errors about our own segments (RFC 9293 §3.9.2.2, MUST-54..56, SHLD-25/26; RFC 1191;
//! RFC 5927 validation).

mod common;

use common::*;
use ferrotcp::trace::TcpState;
use ferrotcp::transport::tcp::IcmpError;
use ferrotcp::wire::{
    EtherType, EthernetRepr, Icmpv4Repr, IpProtocol, Ipv4Repr, TcpFlags, TcpRepr,
};
use ferrotcp::{CloseReason, Event};

/// Raw frames the stack sends now (ARP answered by the harness is not needed here).
fn raw_output(h: &mut Harness) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| h.stack.poll_transmit(h.now))
        .take(1000)
        .collect()
}

/// An ICMP error (type/code/rest-of-header) from the peer quoting `frame`'s IP header + 8 bytes.
fn icmp_about(frame: &[u8], msg_type: u8, code: u8, rest: [u8; 4]) -> Vec<u8> {
    let quoted = &frame[14..14 + 28];
    let mut icmp = vec![msg_type, code, 0, 0];
    icmp.extend_from_slice(&rest);
    icmp.extend_from_slice(quoted);
    let sum = ferrotcp::wire::checksum::checksum(&icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    let mut f = vec![0u8; 14 + 20 + icmp.len()];
    EthernetRepr {
        src: PEER_MAC,
        dst: STACK_MAC,
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut f[..14]);
    Ipv4Repr {
        src: PEER_IP,
        dst: STACK_IP,
        protocol: IpProtocol::Icmp,
        payload_len: icmp.len(),
        ttl: 64,
        ident: 9,
        dont_fragment: false,
        dscp_ecn: 0,
    }
    .emit(&mut f[14..34]);
    f[34..].copy_from_slice(&icmp);
    assert!(Icmpv4Repr::parse(&f[34..]).is_ok());
    f
}

fn tcp_of(frame: &[u8]) -> (TcpRepr, usize) {
    let (_, p) = EthernetRepr::parse(frame).expect("eth");
    let (ip, p) = Ipv4Repr::parse(p).expect("ip");
    let (t, d) = TcpRepr::parse(p, ip.src, ip.dst, true).expect("tcp");
    (t, d.len())
}

#[test]
fn fragmentation_needed_shrinks_the_segments_and_resends() {
    // MUST-54 + RFC 1191: act on "fragmentation needed" for a segment in flight.
    let mut h = Harness::new();
    let (c, iss) = h.establish_active();
    let now = h.now;
    h.stack.tcp_set_nodelay(c, true).expect("nodelay");
    h.stack.tcp_send(now, c, &[5u8; 4000]).expect("send");
    let first = raw_output(&mut h);
    assert_eq!(tcp_of(&first[0]).1, 1460);
    // A router on the path has MTU 1000.
    h.send_frame(&icmp_about(&first[0], 3, 4, [0, 0, 0x03, 0xe8]));
    let again = raw_output(&mut h);
    assert!(!again.is_empty(), "resends at once with the smaller size");
    let (t, len) = tcp_of(&again[0]);
    assert_eq!(t.seq.0, iss.wrapping_add(1), "from SND.UNA");
    assert_eq!(len, 960, "MTU 1000 - 40");
    assert!(again.iter().all(|f| tcp_of(f).1 <= 960));
}

#[test]
fn icmp_about_data_not_in_flight_is_ignored() {
    // RFC 5927 §4.1: the quoted sequence number must lie in SND.UNA..SND.NXT.
    let mut h = Harness::new();
    let (c, _) = h.establish_active();
    let now = h.now;
    h.stack.tcp_send(now, c, &[5u8; 100]).expect("send");
    let sent = raw_output(&mut h);
    let mut forged = sent[0].clone();
    // Change the quoted sequence number to something we never sent.
    forged[14 + 20 + 4] ^= 0x80;
    h.send_frame(&icmp_about(&forged, 3, 4, [0, 0, 0x02, 0x00]));
    assert!(raw_output(&mut h).is_empty());
    assert!(h.events().is_empty());
}

#[test]
fn soft_errors_never_abort_and_reach_the_application() {
    // MUST-56: no abort on Dest Unreach 0, 1, 5, Time Exceeded, Parameter Problem;
    // SHLD-25: inform the application.
    let mut h = Harness::new();
    let (c, _) = h.establish_active();
    let now = h.now;
    h.stack.tcp_send(now, c, &[5u8; 100]).expect("send");
    let sent = raw_output(&mut h);
    h.events();
    for (ty, code, expect) in [
        (3, 0, IcmpError::Unreachable(0)),
        (3, 1, IcmpError::Unreachable(1)),
        (3, 5, IcmpError::Unreachable(5)),
        (11, 0, IcmpError::TimeExceeded),
        (12, 0, IcmpError::ParameterProblem),
        (3, 3, IcmpError::Unreachable(3)),
    ] {
        h.send_frame(&icmp_about(&sent[0], ty, code, [0; 4]));
        assert_eq!(h.events(), [Event::IcmpError(c, expect)]);
        assert_eq!(h.state(c), TcpState::Established);
    }
}

#[test]
fn port_unreachable_during_the_handshake_aborts() {
    // SHLD-26, as Linux applies it: a hard error while connecting ends the attempt.
    let mut h = Harness::new();
    h.seed_arp();
    let remote = std::net::SocketAddrV4::new(PEER_IP, PEER_PORT);
    let c = h
        .stack
        .tcp_connect(h.now, remote, Some(STACK_PORT))
        .expect("connect");
    let syn = raw_output(&mut h);
    assert!(tcp_of(&syn[0]).0.flags.contains(TcpFlags::SYN));
    h.send_frame(&icmp_about(&syn[0], 3, 3, [0; 4]));
    assert_eq!(h.state(c), TcpState::Closed);
    assert!(
        h.events()
            .contains(&Event::Closed(c, CloseReason::Unreachable))
    );
}

#[test]
fn source_quench_is_silently_discarded() {
    // MUST-55.
    let mut h = Harness::new();
    let (c, _) = h.establish_active();
    let now = h.now;
    h.stack.tcp_send(now, c, &[5u8; 100]).expect("send");
    let sent = raw_output(&mut h);
    h.events();
    h.send_frame(&icmp_about(&sent[0], 4, 0, [0; 4]));
    assert!(h.events().is_empty());
    assert!(raw_output(&mut h).is_empty());
}
