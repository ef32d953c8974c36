//! Link and network layers of one host, driven with hand-made frames: ARP answers and the
//! resolution queue, IPv4 filtering, ICMP echo and errors, UDP sockets and port unreachable,
//! and malformed input dropped and counted.

use core::net::{Ipv4Addr, SocketAddrV4};

use ferrotcp::time::{Duration, Instant};
use ferrotcp::wire::icmpv4::unreachable_code;
use ferrotcp::wire::{
    ArpOperation, ArpRepr, EtherType, EthernetRepr, Icmpv4Repr, IpProtocol, Ipv4Repr, MacAddr,
    UdpRepr,
};
use ferrotcp::{Event, Stack, StackConfig};

const US_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
const US: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const PEER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
const PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

fn stack() -> Stack {
    Stack::new(StackConfig::new(US_MAC, US, 24).with_seed(3))
}

fn drain(s: &mut Stack, now: Instant) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| s.poll_transmit(now))
        .take(10_000)
        .collect()
}

fn eth(dst: MacAddr, ethertype: EtherType, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 14 + payload.len()];
    EthernetRepr {
        src: PEER_MAC,
        dst,
        ethertype,
    }
    .emit(&mut f[..14]);
    f[14..].copy_from_slice(payload);
    f
}

fn arp(op: ArpOperation, target_ip: Ipv4Addr, target_mac: MacAddr) -> Vec<u8> {
    let mut a = [0u8; 28];
    ArpRepr {
        operation: op,
        sender_mac: PEER_MAC,
        sender_ip: PEER,
        target_mac,
        target_ip,
    }
    .emit(&mut a);
    eth(MacAddr::BROADCAST, EtherType::Arp, &a)
}

fn ipv4(dst: Ipv4Addr, protocol: IpProtocol, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 20 + payload.len()];
    Ipv4Repr {
        src: PEER,
        dst,
        protocol,
        payload_len: payload.len(),
        ttl: 64,
        ident: 1,
        dont_fragment: true,
        dscp_ecn: 0,
    }
    .emit(&mut p[..20]);
    p[20..].copy_from_slice(payload);
    eth(US_MAC, EtherType::Ipv4, &p)
}

fn udp(dst_port: u16, data: &[u8]) -> Vec<u8> {
    let mut d = vec![0u8; 8 + data.len()];
    d[8..].copy_from_slice(data);
    UdpRepr {
        src_port: 5353,
        dst_port,
    }
    .emit(&mut d, PEER, US);
    ipv4(US, IpProtocol::Udp, &d)
}

fn parse_ip(frame: &[u8]) -> (EthernetRepr, Ipv4Repr, Vec<u8>) {
    let (e, p) = EthernetRepr::parse(frame).expect("ethernet");
    let (ip, payload) = Ipv4Repr::parse(p).expect("ipv4");
    (e, ip, payload.to_vec())
}

#[test]
fn arp_request_for_our_address_is_answered() {
    // RFC 826: reply with our MAC, addressed to the asker.
    let mut s = stack();
    s.receive(
        Instant::ZERO,
        &arp(ArpOperation::Request, US, MacAddr::ZERO),
    );
    let out = drain(&mut s, Instant::ZERO);
    assert_eq!(out.len(), 1);
    let (e, p) = EthernetRepr::parse(&out[0]).expect("ethernet");
    assert_eq!(
        (e.dst, e.src, e.ethertype),
        (PEER_MAC, US_MAC, EtherType::Arp)
    );
    let a = ArpRepr::parse(p).expect("arp");
    assert_eq!(a.operation, ArpOperation::Reply);
    assert_eq!(
        (a.sender_mac, a.sender_ip, a.target_mac, a.target_ip),
        (US_MAC, US, PEER_MAC, PEER)
    );
    // Someone else's address: no answer, counted.
    s.receive(
        Instant::ZERO,
        &arp(
            ArpOperation::Request,
            Ipv4Addr::new(192, 0, 2, 9),
            MacAddr::ZERO,
        ),
    );
    assert!(drain(&mut s, Instant::ZERO).is_empty());
    assert_eq!(s.stats().not_for_us, 1);
}

#[test]
fn packets_wait_for_arp_resolution_in_a_bounded_queue() {
    let mut s = stack();
    let u = s.udp_bind(4000).expect("bind");
    let dst = SocketAddrV4::new(PEER, 9);
    for i in 0..20u8 {
        s.udp_send_to(Instant::ZERO, u, dst, &[i]).expect("send");
    }
    let out = drain(&mut s, Instant::ZERO);
    assert_eq!(out.len(), 1, "one ARP request, datagrams held back");
    let (e, p) = EthernetRepr::parse(&out[0]).expect("ethernet");
    assert_eq!((e.dst, e.ethertype), (MacAddr::BROADCAST, EtherType::Arp));
    assert_eq!(ArpRepr::parse(p).expect("arp").target_ip, PEER);
    assert_eq!(
        s.stats().arp_queue_full,
        4,
        "16 queued, 4 dropped and counted"
    );
    // The reply releases the queue, in order, addressed to the learned MAC.
    s.receive(
        Instant::from_millis(1),
        &arp(ArpOperation::Reply, US, US_MAC),
    );
    let out = drain(&mut s, Instant::from_millis(1));
    assert_eq!(out.len(), 16);
    for (i, f) in out.iter().enumerate() {
        let (e, ip, payload) = parse_ip(f);
        assert_eq!(
            (e.dst, ip.dst, ip.protocol),
            (PEER_MAC, PEER, IpProtocol::Udp)
        );
        let (_, data) = UdpRepr::parse(&payload, US, PEER).expect("udp");
        assert_eq!(data, [i as u8]);
    }
}

#[test]
fn unanswered_arp_is_retried_then_queued_packets_dropped() {
    let mut s = stack();
    let u = s.udp_bind(4000).expect("bind");
    s.udp_send_to(Instant::ZERO, u, SocketAddrV4::new(PEER, 9), b"x")
        .expect("send");
    let mut requests = drain(&mut s, Instant::ZERO).len();
    let mut now = Instant::ZERO;
    for _ in 0..20 {
        let Some(t) = s.poll_timeout() else { break };
        now = t;
        s.handle_timeout(now);
        requests += drain(&mut s, now).len();
    }
    assert_eq!(requests, 3, "three requests, one second apart");
    assert_eq!(s.stats().arp_failed_drops, 1);
    assert!(now <= Instant::from_secs(4));
}

#[test]
fn echo_request_is_answered_with_the_same_data() {
    // RFC 1122 §3.2.2.6.
    let mut s = stack();
    s.receive(
        Instant::ZERO,
        &arp(ArpOperation::Request, US, MacAddr::ZERO),
    );
    drain(&mut s, Instant::ZERO);
    let req = Icmpv4Repr::EchoRequest {
        ident: 0x1234,
        seq_no: 7,
        data: b"ferrotcp ping",
    };
    let mut b = vec![0u8; req.buffer_len()];
    req.emit(&mut b);
    s.receive(Instant::ZERO, &ipv4(US, IpProtocol::Icmp, &b));
    let out = drain(&mut s, Instant::ZERO);
    assert_eq!(out.len(), 1);
    let (e, ip, payload) = parse_ip(&out[0]);
    assert_eq!(
        (e.dst, ip.src, ip.dst, ip.protocol),
        (PEER_MAC, US, PEER, IpProtocol::Icmp)
    );
    assert_eq!(
        Icmpv4Repr::parse(&payload).expect("icmp"),
        Icmpv4Repr::EchoReply {
            ident: 0x1234,
            seq_no: 7,
            data: b"ferrotcp ping"
        }
    );
    assert_eq!(s.stats().icmp_echo_replies, 1);
}

#[test]
fn udp_to_a_closed_port_draws_port_unreachable_rate_limited() {
    // RFC 1122 §4.1.3.1 and §3.2.2 (rate limiting).
    let mut s = stack();
    s.receive(
        Instant::ZERO,
        &arp(ArpOperation::Request, US, MacAddr::ZERO),
    );
    drain(&mut s, Instant::ZERO);
    let dgram = udp(9999, b"anyone?");
    s.receive(Instant::ZERO, &dgram);
    let out = drain(&mut s, Instant::ZERO);
    assert_eq!(out.len(), 1);
    let (_, ip, payload) = parse_ip(&out[0]);
    assert_eq!(ip.dst, PEER);
    match Icmpv4Repr::parse(&payload).expect("icmp") {
        Icmpv4Repr::DstUnreachable { code, data } => {
            assert_eq!(code, unreachable_code::PORT);
            assert_eq!(data, &dgram[14..], "quotes the offending datagram");
        }
        other => panic!("expected port unreachable, got {other:?}"),
    }
    // A flood is limited (burst of 50 at the same instant).
    for _ in 0..200 {
        s.receive(Instant::ZERO, &dgram);
    }
    assert_eq!(drain(&mut s, Instant::ZERO).len(), 49);
    assert_eq!(s.stats().icmp_rate_limited, 151);
}

#[test]
fn udp_datagrams_are_delivered_to_the_bound_socket_with_a_bounded_queue() {
    let mut s = stack();
    let u = s.udp_bind(53).expect("bind");
    assert_eq!(s.udp_bind(53), Err(ferrotcp::UdpError::AddrInUse));
    for i in 0..100u8 {
        s.receive(Instant::ZERO, &udp(53, &[i; 3]));
    }
    assert!(matches!(s.poll_event(), Some(Event::UdpReadable(h)) if h == u));
    let mut buf = [0u8; 16];
    let (n, from) = s.udp_recv_from(u, &mut buf).expect("recv");
    assert_eq!(
        (&buf[..n], from),
        (&[0u8; 3][..], SocketAddrV4::new(PEER, 5353))
    );
    let mut got = 1;
    while s.udp_recv_from(u, &mut buf).is_ok() {
        got += 1;
    }
    assert_eq!(got, 64, "queue bound: 64 datagrams");
    assert_eq!(s.stats().udp_queue_full, 36);
}

#[test]
fn ipv4_not_for_us_and_malformed_frames_are_dropped_and_counted() {
    let mut s = stack();
    // Another host's unicast address.
    let mut other = udp(53, b"x");
    other[14 + 16..14 + 20].copy_from_slice(&[192, 0, 2, 77]);
    let sum = {
        other[14 + 10] = 0;
        other[14 + 11] = 0;
        ferrotcp::wire::checksum::checksum(&other[14..34])
    };
    other[14 + 10..14 + 12].copy_from_slice(&sum.to_be_bytes());
    s.receive(Instant::ZERO, &other);
    assert_eq!(s.stats().not_for_us, 1);
    // Truncated, bad checksum, garbage: counted, never a panic, nothing sent.
    let good = udp(53, b"hello");
    s.receive(Instant::ZERO, &good[..20]);
    let mut bad = good.clone();
    bad[14 + 12] ^= 0xff;
    s.receive(Instant::ZERO, &bad);
    s.receive(Instant::ZERO, &[0xffu8; 3]);
    let st = s.stats();
    assert_eq!(st.malformed, 2);
    assert_eq!(st.bad_checksum, 1);
    assert!(
        drain(&mut s, Instant::ZERO + Duration::from_millis(1))
            .iter()
            .all(|f| { EthernetRepr::parse(f).is_ok_and(|(e, _)| e.ethertype == EtherType::Arp) })
    );
}

#[test]
fn ping_reply_goes_through_the_gateway_for_off_link_hosts() {
    let far = Ipv4Addr::new(198, 51, 100, 7);
    let gw = Ipv4Addr::new(192, 0, 2, 254);
    let mut s = Stack::new(StackConfig::new(US_MAC, US, 24).with_gateway(gw));
    let u = s.udp_bind(0).expect("ephemeral");
    assert!(s.udp_local_port(u).expect("port") >= 49152);
    s.udp_send_to(Instant::ZERO, u, SocketAddrV4::new(far, 7), b"x")
        .expect("send");
    let out = drain(&mut s, Instant::ZERO);
    let a = ArpRepr::parse(&out[0][14..]).expect("arp");
    assert_eq!(
        a.target_ip, gw,
        "the next hop is resolved, not the destination"
    );
}

#[test]
fn raw_ip_medium_needs_no_link_header_and_no_arp() {
    // A TUN link carries bare IPv4 packets.
    let mut s = Stack::new(StackConfig::new(US_MAC, US, 24).with_medium(ferrotcp::Medium::Ip));
    let req = Icmpv4Repr::EchoRequest {
        ident: 1,
        seq_no: 2,
        data: b"tun",
    };
    let mut b = vec![0u8; req.buffer_len()];
    req.emit(&mut b);
    let frame = ipv4(US, IpProtocol::Icmp, &b);
    s.receive(Instant::ZERO, &frame[14..]);
    let out = drain(&mut s, Instant::ZERO);
    assert_eq!(out.len(), 1, "the reply goes out at once, without ARP");
    let (ip, payload) = Ipv4Repr::parse(&out[0]).expect("a bare IPv4 packet");
    assert_eq!((ip.src, ip.dst), (US, PEER));
    assert_eq!(
        Icmpv4Repr::parse(payload).expect("icmp"),
        Icmpv4Repr::EchoReply {
            ident: 1,
            seq_no: 2,
            data: b"tun"
        }
    );
}

#[test]
fn echo_request_goes_out_and_the_reply_becomes_an_event() {
    let mut s = stack();
    s.receive(
        Instant::ZERO,
        &arp(ArpOperation::Request, US, MacAddr::ZERO),
    );
    drain(&mut s, Instant::ZERO);
    s.icmp_echo_request(Instant::ZERO, PEER, 77, 1, b"abc");
    let out = drain(&mut s, Instant::ZERO);
    let (_, ip, payload) = parse_ip(&out[0]);
    assert_eq!(ip.dst, PEER);
    assert_eq!(
        Icmpv4Repr::parse(&payload).expect("icmp"),
        Icmpv4Repr::EchoRequest {
            ident: 77,
            seq_no: 1,
            data: b"abc"
        }
    );
    let reply = Icmpv4Repr::EchoReply {
        ident: 77,
        seq_no: 1,
        data: b"abc",
    };
    let mut b = vec![0u8; reply.buffer_len()];
    reply.emit(&mut b);
    s.receive(Instant::ZERO, &ipv4(US, IpProtocol::Icmp, &b));
    assert_eq!(
        s.poll_event(),
        Some(Event::EchoReply {
            from: PEER,
            ident: 77,
            seq_no: 1,
            len: 3
        })
    );
}
