//! Data transfer rules and the application interface, between two real stacks: Nagle,
//! delayed ACKs, half-close, simultaneous open and close, listeners, ephemeral ports, TIME-WAIT
//! and typed errors.

mod stacks;

use core::net::{Ipv4Addr, SocketAddrV4};
use std::collections::HashSet;

use ferrotcp::time::Duration;
use ferrotcp::trace::TcpState;
use ferrotcp::{CloseReason, Event, TcpConfig, TcpError};
use ferrotcp_sim::Pair;
use stacks::*;

fn step_ms(p: &mut Pair, ms: u64) {
    run_for(p, Duration::from_millis(ms));
}

#[test]
fn nagle_holds_small_segments_until_the_ack_and_nodelay_sends_them_at_once() {
    // RFC 9293 §3.7.4, MUST-17: Nagle on by default, switchable off per connection.
    for nodelay in [false, true] {
        let mut p = pair(TcpConfig::default());
        let (c, _s) = establish(&mut p);
        p.client().tcp_set_nodelay(c, nodelay).expect("nodelay");
        let since = p.net.trace().len();
        for _ in 0..5 {
            let now = p.net.now();
            p.client().tcp_send(now, c, &[1u8; 10]).expect("send");
            step_ms(&mut p, 1);
        }
        step_ms(&mut p, 200);
        let sizes: Vec<usize> = segments_from(&p, p.client, since)
            .iter()
            .map(|(_, s)| s.payload_len)
            .filter(|&n| n > 0)
            .collect();
        if nodelay {
            assert_eq!(sizes, [10, 10, 10, 10, 10]);
        } else {
            assert_eq!(
                sizes,
                [10, 40],
                "small writes coalesce while the first is unacknowledged"
            );
        }
    }
}

#[test]
fn a_lone_segment_is_acked_after_the_delayed_ack_timer() {
    // MUST-40: delayed ACK under 0.5 s (ours: 40 ms, like Linux). Like Linux, a connection
    // starts in quick-ACK mode: its first segments (up to 16, or half the window in segments)
    // are acknowledged at once, so slow start is not held back; after that, delayed ACKs.
    let mut p = pair(TcpConfig::default());
    let (c, _s) = establish(&mut p);
    let mut delays = Vec::new();
    for _ in 0..18 {
        let since = p.net.trace().len();
        let now = p.net.now();
        p.client().tcp_send(now, c, b"hello").expect("send");
        // Less than an RTO between writes: no idle restart of quick-ACK mode.
        step_ms(&mut p, 100);
        let data = segments_from(&p, p.client, since);
        let acks = segments_from(&p, p.server, since);
        assert_eq!(acks.len(), 1);
        delays.push(acks[0].0 - data[0].0);
    }
    // 10 ms on the wire, then at once in quick-ACK mode, else after 40 ms of delay.
    let quick = Duration::from_millis(10);
    let delayed = Duration::from_millis(50);
    assert!(delays[..16].iter().all(|&d| d == quick), "{delays:?}");
    assert!(delays[16..].iter().all(|&d| d == delayed), "{delays:?}");
}

#[test]
fn quick_ack_mode_returns_after_an_idle_spell() {
    // Linux's tcp_event_data_recv: data after more than an RTO of silence is ACKed at once.
    let mut p = pair(TcpConfig::default());
    let (c, _s) = establish(&mut p);
    for _ in 0..17 {
        let now = p.net.now();
        p.client().tcp_send(now, c, b"hello").expect("send");
        step_ms(&mut p, 100);
    }
    step_ms(&mut p, 2000);
    let since = p.net.trace().len();
    let now = p.net.now();
    p.client().tcp_send(now, c, b"again").expect("send");
    step_ms(&mut p, 100);
    let data = segments_from(&p, p.client, since);
    let acks = segments_from(&p, p.server, since);
    assert_eq!(acks[0].0 - data[0].0, Duration::from_millis(10));
}

#[test]
fn every_second_full_sized_segment_is_acked_at_once() {
    // SHLD-19 / RFC 5681 §4.2: an ACK for at least every second full-sized segment.
    let mut p = pair(TcpConfig::default());
    let (c, s) = establish(&mut p);
    let since = p.net.trace().len();
    let data = vec![3u8; 200 * 1460];
    let mut sent = 0;
    let mut got = Vec::new();
    run_until(&mut p, 30, "transfer", |p| {
        let now = p.net.now();
        if sent < data.len() {
            sent += p.client().tcp_send(now, c, &data[sent..]).unwrap_or(0);
        }
        read_all(p.server(), now, s, &mut got);
        got.len() == data.len()
    });
    let full = segments_from(&p, p.client, since)
        .iter()
        .filter(|(_, s)| s.payload_len == 1460)
        .count();
    let acks = segments_from(&p, p.server, since).len();
    assert!(acks * 2 >= full, "{acks} ACKs for {full} full segments");
}

#[test]
fn half_close_lets_the_server_keep_sending_after_the_clients_fin() {
    // RFC 9293 §3.6: after a FIN arrives the application may keep sending in CLOSE-WAIT.
    let mut p = pair(TcpConfig::default());
    let (c, s) = establish(&mut p);
    let now = p.net.now();
    p.client().tcp_shutdown(now, c).expect("shutdown");
    let mut eof = false;
    run_until(&mut p, 5, "server sees EOF", |p| {
        let now = p.net.now();
        eof = read_all(p.server(), now, s, &mut Vec::new());
        eof
    });
    step_ms(&mut p, 15);
    assert_eq!(p.server().tcp_state(s), Ok(TcpState::CloseWait));
    assert_eq!(p.client().tcp_state(c), Ok(TcpState::FinWait2));
    let reply: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
    let mut sent = 0;
    let mut got = Vec::new();
    let mut client_eof = false;
    run_until(&mut p, 60, "reply and close", |p| {
        let now = p.net.now();
        if sent < reply.len() {
            sent += p.server().tcp_send(now, s, &reply[sent..]).unwrap_or(0);
            if sent == reply.len() {
                p.server().tcp_shutdown(now, s).expect("server shutdown");
            }
        }
        client_eof = read_all(p.client(), now, c, &mut got);
        client_eof
    });
    assert!(
        got == reply,
        "the reply arrived whole after the client's FIN"
    );
    run_until(&mut p, 5, "server closed", |p| {
        p.server().tcp_state(s) == Ok(TcpState::Closed)
    });
    assert_eq!(p.client().tcp_state(c), Ok(TcpState::TimeWait));
}

#[test]
fn simultaneous_close_passes_through_closing() {
    // RFC 9293 Figure 13: FIN-WAIT-1 → CLOSING → TIME-WAIT on both sides.
    let mut p = pair(TcpConfig::default());
    let (c, s) = establish(&mut p);
    let now = p.net.now();
    p.client().tcp_shutdown(now, c).expect("client close");
    p.server().tcp_shutdown(now, s).expect("server close");
    step_ms(&mut p, 15);
    assert_eq!(p.client().tcp_state(c), Ok(TcpState::Closing));
    assert_eq!(p.server().tcp_state(s), Ok(TcpState::Closing));
    step_ms(&mut p, 20);
    assert_eq!(p.client().tcp_state(c), Ok(TcpState::TimeWait));
    assert_eq!(p.server().tcp_state(s), Ok(TcpState::TimeWait));
    run_for(&mut p, Duration::from_secs(60));
    assert_eq!(p.client().tcp_state(c), Ok(TcpState::Closed));
    assert_eq!(p.server().tcp_state(s), Ok(TcpState::Closed));
    assert!(events(p.client()).contains(&Event::Closed(c, CloseReason::Normal)));
}

#[test]
fn simultaneous_open_passes_through_syn_received() {
    // RFC 9293 Figure 7: both sides SYN-SENT → SYN-RECEIVED → ESTABLISHED.
    let mut p = pair(TcpConfig::default());
    // Learn MACs first so that both SYNs cross on the wire.
    let now = p.net.now();
    let warm = p
        .client()
        .tcp_connect(now, Pair::server_addr(9), None)
        .expect("connect");
    run_until(&mut p, 5, "refused", |p| {
        p.client().tcp_state(warm) == Ok(TcpState::Closed)
    });
    let since = p.net.trace().len();
    let now = p.net.now();
    let c = p
        .client()
        .tcp_connect(now, Pair::server_addr(5000), Some(6000))
        .expect("client open");
    let s = p
        .server()
        .tcp_connect(now, Pair::client_addr(6000), Some(5000))
        .expect("server open");
    run_until(&mut p, 5, "both established", |p| {
        p.client().tcp_state(c) == Ok(TcpState::Established)
            && p.server().tcp_state(s) == Ok(TcpState::Established)
    });
    let states: Vec<TcpState> = p.net.trace()[since..]
        .iter()
        .filter_map(|r| match &r.event {
            ferrotcp_sim::SimEvent::Host { host, record } if *host == p.client => {
                match record.event {
                    ferrotcp::trace::TraceEvent::TcpState { to, .. } => Some(to),
                    _ => None,
                }
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        [
            TcpState::SynSent,
            TcpState::SynReceived,
            TcpState::Established
        ]
    );
    // Data flows both ways afterwards.
    let now = p.net.now();
    p.client().tcp_send(now, c, b"ping").expect("send");
    p.server().tcp_send(now, s, b"pong").expect("send");
    let (mut a, mut b) = (Vec::new(), Vec::new());
    run_until(&mut p, 5, "exchange", |p| {
        let now = p.net.now();
        read_all(p.server(), now, s, &mut a);
        read_all(p.client(), now, c, &mut b);
        a == b"ping" && b == b"pong"
    });
}

#[test]
fn listener_backlog_bounds_connections_waiting_to_be_accepted() {
    let mut p = pair(TcpConfig::default());
    let l = p.server().tcp_listen(PORT, 2).expect("listen");
    let now = p.net.now();
    let conns: Vec<_> = (0..4)
        .map(|_| {
            p.client()
                .tcp_connect(now, Pair::server_addr(PORT), None)
                .expect("connect")
        })
        .collect();
    step_ms(&mut p, 500);
    let established = conns
        .iter()
        .filter(|&&c| p.net.host(p.client).tcp_state(c) == Ok(TcpState::Established))
        .count();
    assert_eq!(
        established, 2,
        "backlog 2: two handshakes complete, two SYNs dropped"
    );
    assert!(p.server().stats().tcp_listen_overflow >= 2);
    let a = p.server().tcp_accept(l).expect("accept").expect("first");
    let b = p.server().tcp_accept(l).expect("accept").expect("second");
    assert_ne!(a, b);
    assert_eq!(p.server().tcp_accept(l), Ok(None));
    // Room again: the dropped SYNs are retransmitted (after 1 s) and accepted.
    step_ms(&mut p, 1500);
    assert!(
        conns
            .iter()
            .all(|&c| p.net.host(p.client).tcp_state(c) == Ok(TcpState::Established))
    );
}

#[test]
fn several_listeners_and_ephemeral_ports_without_collisions() {
    let mut p = pair(TcpConfig::default());
    let l80 = p.server().tcp_listen(80, 512).expect("listen 80");
    let l81 = p.server().tcp_listen(81, 512).expect("listen 81");
    let now = p.net.now();
    let mut ports = HashSet::new();
    let mut conns = Vec::new();
    for i in 0..600 {
        let port = if i % 2 == 0 { 80 } else { 81 };
        let c = p
            .client()
            .tcp_connect(now, Pair::server_addr(port), None)
            .expect("connect");
        let local = p.client().tcp_local_addr(c).expect("addr");
        assert!((49152..=65535).contains(&local.port()));
        assert!(
            ports.insert(local.port()),
            "ephemeral port {} reused",
            local.port()
        );
        conns.push(c);
    }
    step_ms(&mut p, 2000);
    let mut accepted = 0;
    while p.server().tcp_accept(l80).expect("accept").is_some() {
        accepted += 1;
    }
    while p.server().tcp_accept(l81).expect("accept").is_some() {
        accepted += 1;
    }
    assert_eq!(accepted, 600);
}

#[test]
fn time_wait_keeps_the_four_tuple_for_two_msl() {
    // RFC 9293 §3.6.1: the 4-tuple cannot be reused while in TIME-WAIT.
    let mut p = pair(TcpConfig::default());
    let l = p.server().tcp_listen(PORT, 4).expect("listen");
    let now = p.net.now();
    let c = p
        .client()
        .tcp_connect(now, Pair::server_addr(PORT), Some(40000))
        .expect("connect");
    let mut s = None;
    run_until(&mut p, 5, "accept", |p| {
        s = s.or(p.server().tcp_accept(l).expect("accept"));
        s.is_some()
    });
    let s = s.expect("accepted");
    let now = p.net.now();
    p.client().tcp_close(now, c).expect("client close");
    step_ms(&mut p, 100);
    let now = p.net.now();
    p.server().tcp_close(now, s).expect("server close");
    step_ms(&mut p, 100);
    assert_eq!(
        p.client().tcp_connection_count(),
        1,
        "the connection lingers in TIME-WAIT"
    );
    let now = p.net.now();
    assert_eq!(
        p.client()
            .tcp_connect(now, Pair::server_addr(PORT), Some(40000)),
        Err(TcpError::AddrInUse)
    );
    run_for(&mut p, Duration::from_secs(60));
    assert_eq!(p.client().tcp_connection_count(), 0);
    let now = p.net.now();
    assert!(
        p.client()
            .tcp_connect(now, Pair::server_addr(PORT), Some(40000))
            .is_ok()
    );
}

#[test]
fn misuse_returns_typed_errors() {
    let mut p = pair(TcpConfig::default());
    assert_eq!(p.server().tcp_listen(0, 4), Err(TcpError::InvalidAddress));
    p.server().tcp_listen(PORT, 4).expect("listen");
    assert_eq!(p.server().tcp_listen(PORT, 4), Err(TcpError::AddrInUse));
    let now = p.net.now();
    let zero = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80);
    assert_eq!(
        p.client().tcp_connect(now, zero, None),
        Err(TcpError::InvalidAddress)
    );
    let off_link = SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 1), 80);
    assert_eq!(
        p.client().tcp_connect(now, off_link, None),
        Err(TcpError::Unreachable),
        "no gateway configured"
    );
    let (c, _s) = {
        // A second listener port for this part.
        let l = p.server().tcp_listen(81, 4).expect("listen");
        let c = p
            .client()
            .tcp_connect(now, Pair::server_addr(81), None)
            .expect("connect");
        let mut s = None;
        run_until(&mut p, 5, "accept", |p| {
            s = s.or(p.server().tcp_accept(l).expect("accept"));
            s.is_some()
        });
        (c, s)
    };
    let now = p.net.now();
    let mut buf = [0u8; 8];
    assert_eq!(
        p.client().tcp_recv(now, c, &mut buf),
        Err(TcpError::WouldBlock)
    );
    p.client().tcp_shutdown(now, c).expect("shutdown");
    assert_eq!(
        p.client().tcp_send(now, c, b"late"),
        Err(TcpError::Closing),
        "send after close"
    );
    p.client().tcp_abort(now, c).expect("abort");
    assert_eq!(
        p.client().tcp_send(now, c, b"x"),
        Err(TcpError::InvalidHandle)
    );
    assert_eq!(p.client().tcp_state(c), Err(TcpError::InvalidHandle));
}

#[test]
fn abort_resets_the_peer_and_tells_it_why() {
    // RFC 9293 §3.10.5 ABORT and MUST-12: the peer's application learns of the reset.
    let mut p = pair(TcpConfig::default());
    let (c, s) = establish(&mut p);
    events(p.server());
    let now = p.net.now();
    p.client().tcp_abort(now, c).expect("abort");
    step_ms(&mut p, 50);
    assert!(events(p.server()).contains(&Event::Closed(s, CloseReason::Reset)));
    let now = p.net.now();
    let mut buf = [0u8; 4];
    assert_eq!(
        p.server().tcp_recv(now, s, &mut buf),
        Err(TcpError::Closed(CloseReason::Reset))
    );
}

#[test]
fn closing_with_unread_data_resets_like_linux() {
    // RFC 2525 §2.17: data the application never read is lost, so the peer is told with a RST.
    let mut p = pair(TcpConfig::default());
    let (c, s) = establish(&mut p);
    let now = p.net.now();
    p.client().tcp_send(now, c, b"unread").expect("send");
    step_ms(&mut p, 100);
    let now = p.net.now();
    p.server().tcp_close(now, s).expect("close");
    step_ms(&mut p, 50);
    assert!(events(p.client()).contains(&Event::Closed(c, CloseReason::Reset)));
}

#[test]
fn urgent_data_is_signalled_and_its_extent_reported() {
    // MUST-30..33, MUST-62: URG and the pointer on the wire; the receiver is told and can ask how
    // much urgent data is still unread.
    let mut p = pair(TcpConfig::default());
    let (c, s) = establish(&mut p);
    events(p.server());
    let since = p.net.trace().len();
    let now = p.net.now();
    p.client().tcp_send(now, c, b"abc").expect("send");
    p.client()
        .tcp_send_urgent(now, c, b"XYZ")
        .expect("send urgent");
    step_ms(&mut p, 100);
    let segs = segments_from(&p, p.client, since);
    let data = segs
        .iter()
        .find(|(_, s)| s.payload_len > 0)
        .expect("data segment");
    assert!(data.1.repr.flags.urg());
    assert_eq!(
        data.1.repr.urgent, 6,
        "pointer to the octet after the urgent data"
    );
    assert!(events(p.server()).contains(&Event::Urgent(s)));
    assert_eq!(p.server().tcp_urgent_remaining(s), Ok(Some(6)));
    let now = p.net.now();
    let mut buf = [0u8; 4];
    assert_eq!(p.server().tcp_recv(now, s, &mut buf), Ok(4));
    assert_eq!(p.server().tcp_urgent_remaining(s), Ok(Some(2)));
    assert_eq!(p.server().tcp_recv(now, s, &mut buf), Ok(2));
    assert_eq!(p.server().tcp_urgent_remaining(s), Ok(None));
}

#[test]
fn steady_traffic_keeps_arp_entries_fresh() {
    // A neighbour that keeps talking is not re-resolved every entry lifetime (60 s).
    let mut p = pair(TcpConfig::default());
    let (c, s) = establish(&mut p);
    for _ in 0..200 {
        let now = p.net.now();
        p.client().tcp_send(now, c, b"tick").expect("send");
        step_ms(&mut p, 1000);
        let now = p.net.now();
        read_all(p.server(), now, s, &mut Vec::new());
    }
    assert_eq!(p.client().stats().arp_requests_sent, 1);
    assert_eq!(
        p.server().stats().arp_requests_sent,
        0,
        "the server learned the client from its request"
    );
}
