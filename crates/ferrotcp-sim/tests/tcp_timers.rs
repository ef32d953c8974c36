//! Retransmission, R1/R2, SYN retries, zero-window probing and keep-alive, between two real
//! stacks in virtual time (RFC 9293 §3.8, RFC 6298).

mod stacks;

use ferrotcp::time::Duration;
use ferrotcp::trace::TcpState;
use ferrotcp::transport::tcp::KeepAlive;
use ferrotcp::{CloseReason, Event, TcpConfig, TcpError};
use ferrotcp_sim::Pair;
use stacks::*;

/// Makes both ARP caches learn each other (a refused connection is the quickest exchange).
fn warm_arp(p: &mut Pair) {
    let now = p.net.now();
    let c = p
        .client()
        .tcp_connect(now, Pair::server_addr(9), None)
        .expect("connect");
    run_until(p, 5, "refusal", |p| {
        p.client().tcp_state(c) == Ok(TcpState::Closed)
    });
    let evs = events(p.client());
    assert!(
        evs.contains(&Event::Closed(c, CloseReason::Refused)),
        "{evs:?}"
    );
    p.client().tcp_release(c).expect("release");
}

#[test]
fn connect_to_a_closed_port_is_refused_within_one_round_trip() {
    let mut p = pair(TcpConfig::default());
    let start = p.net.now();
    warm_arp(&mut p);
    // ARP (20 ms) + SYN/RST round trip (20 ms).
    assert!(p.net.now() - start <= Duration::from_millis(45));
}

#[test]
fn syn_is_retransmitted_with_backoff_for_at_least_three_minutes() {
    // RFC 9293 §3.8.3, MUST-23: R2 for a SYN is at least 3 minutes; RFC 6298 §5.5 backoff.
    // ARP entries outlive the test so that every SYN reaches the (cut) wire.
    let mut p = Pair::with_config(7, clean_link(), true, |cfg| {
        cfg.arp.entry_lifetime = Duration::from_secs(3600)
    });
    warm_arp(&mut p);
    cut(&mut p);
    let since = p.net.trace().len();
    let start = p.net.now();
    let c = p
        .client()
        .tcp_connect(start, Pair::server_addr(PORT), None)
        .expect("connect");
    run_until(&mut p, 600, "SYN timeout", |p| {
        p.client().tcp_state(c) == Ok(TcpState::Closed)
    });
    let syns = segments_from(&p, p.client, since);
    assert_eq!(syns.len(), 8, "one SYN and seven retransmissions");
    assert!(
        syns.iter()
            .all(|(_, s)| s.repr.flags.syn() && s.repr.seq == syns[0].1.repr.seq)
    );
    let gaps: Vec<u64> = syns
        .windows(2)
        .map(|w| (w[1].0 - w[0].0).as_secs())
        .collect();
    assert_eq!(gaps, [1, 2, 4, 8, 16, 32, 64]);
    let gave_up = p.net.now() - start;
    assert!(
        gave_up >= Duration::from_secs(180),
        "gave up after {gave_up:?}"
    );
    assert!(events(p.client()).contains(&Event::Closed(c, CloseReason::TimedOut)));
}

#[test]
fn data_retransmission_reports_r1_then_closes_at_r2() {
    // MUST-20..22: tell the application at R1, close the connection at R2; R2 ≥ 100 s.
    let mut p = pair(TcpConfig::default());
    let (c, _s) = establish(&mut p);
    events(p.client());
    cut(&mut p);
    let start = p.net.now();
    p.client().tcp_send(start, c, &[7u8; 1000]).expect("send");
    run_until(&mut p, 3000, "R2 timeout", |p| {
        p.client().tcp_state(c) == Ok(TcpState::Closed)
    });
    let evs = events(p.client());
    let stalled = evs
        .iter()
        .position(|e| *e == Event::Stalled(c))
        .expect("Stalled at R1");
    let closed = evs
        .iter()
        .position(|e| *e == Event::Closed(c, CloseReason::TimedOut))
        .expect("TimedOut at R2");
    assert!(stalled < closed);
    let stats = p.client().tcp_stats(c).expect("stats");
    assert_eq!(stats.retransmissions, 15, "R2 = 15 retransmissions");
    assert!(p.net.now() - start >= Duration::from_secs(100));
    let now = p.net.now();
    assert_eq!(
        p.client().tcp_send(now, c, b"x"),
        Err(TcpError::Closed(CloseReason::TimedOut))
    );
}

#[test]
fn zero_window_is_probed_and_never_gives_up_while_the_receiver_answers() {
    // MUST-35..37 (RFC 9293 §3.8.6.1), SHLD-29/30: probe a zero window with backoff; keep the
    // connection open indefinitely while probes are acknowledged.
    // A fixed 16 KiB receive buffer (no autotuning, so no window scale either).
    let cfg = TcpConfig {
        recv_buffer: 16 * 1024,
        max_recv_buffer: 16 * 1024,
        send_buffer: 64 * 1024,
        ..TcpConfig::default()
    };
    let mut p = pair(cfg);
    let (c, s) = establish(&mut p);
    let data: Vec<u8> = (0..48 * 1024).map(|i| (i % 251) as u8).collect();
    let now = p.net.now();
    let queued = p.client().tcp_send(now, c, &data).expect("send");
    assert_eq!(queued, data.len());
    // The server does not read for ten minutes.
    let since = p.net.trace().len();
    run_for(&mut p, Duration::from_secs(600));
    assert_eq!(p.client().tcp_state(c), Ok(TcpState::Established));
    assert_eq!(p.server().tcp_recv_queue(s), Ok(16 * 1024));
    let probes: Vec<_> = segments_from(&p, p.client, since)
        .into_iter()
        .filter(|(_, seg)| seg.payload_len == 1)
        .collect();
    assert!(
        probes.len() >= 5,
        "only {} probes in ten minutes",
        probes.len()
    );
    let gaps: Vec<Duration> = probes.windows(2).map(|w| w[1].0 - w[0].0).collect();
    // Intervals double, then stay at the 60 s cap (give or take the round trip they are timed from).
    let slack = Duration::from_millis(50);
    assert!(
        gaps.windows(2).all(|g| g[1] + slack >= g[0]),
        "probe intervals must not shrink: {gaps:?}"
    );
    assert!(
        gaps[1] >= gaps[0] * 2 - slack,
        "exponential backoff: {gaps:?}"
    );
    assert!(
        gaps.iter().all(|g| *g <= Duration::from_secs(61)),
        "probe interval capped at 60 s: {gaps:?}"
    );
    // The reader comes back: everything arrives.
    let mut got = Vec::new();
    run_until(&mut p, 120, "drain", |p| {
        let now = p.net.now();
        read_all(p.server(), now, s, &mut got);
        got.len() == data.len()
    });
    assert!(got == data);
}

#[test]
fn keepalive_is_off_by_default() {
    // MUST-24/25: keep-alive is off unless the application asks; nothing is sent when idle.
    let mut p = pair(TcpConfig::default());
    let (_c, _s) = establish(&mut p);
    let since = p.net.trace().len();
    run_for(&mut p, Duration::from_secs(3 * 3600));
    assert!(segments_from(&p, p.client, since).is_empty());
    assert!(segments_from(&p, p.server, since).is_empty());
}

#[test]
fn keepalive_probes_keep_a_live_peer_and_drop_a_dead_one() {
    // MUST-26..29 (RFC 9293 §3.8.4): probes after the idle time; no data in them; the
    // connection closes when `count` probes go unanswered.
    let mut p = pair(TcpConfig::default());
    let (c, _s) = establish(&mut p);
    let ka = KeepAlive {
        idle: Duration::from_secs(10),
        interval: Duration::from_secs(2),
        count: 3,
    };
    let now = p.net.now();
    p.client()
        .tcp_set_keepalive(now, c, Some(ka))
        .expect("keepalive");
    let since = p.net.trace().len();
    run_for(&mut p, Duration::from_secs(35));
    let probes = segments_from(&p, p.client, since);
    assert!(
        probes.len() >= 3,
        "one probe per idle period: {}",
        probes.len()
    );
    assert!(probes.iter().all(|(_, s)| s.payload_len == 0));
    assert_eq!(p.client().tcp_state(c), Ok(TcpState::Established));
    cut(&mut p);
    let cut_at = p.net.now();
    run_until(&mut p, 60, "keep-alive timeout", |p| {
        p.client().tcp_state(c) == Ok(TcpState::Closed)
    });
    assert!(events(p.client()).contains(&Event::Closed(c, CloseReason::TimedOut)));
    // idle (10 s) + 3 unanswered probes 2 s apart, counted from the last thing received.
    assert!(p.net.now() - cut_at <= Duration::from_secs(10 + 3 * 2 + 2));
}

#[test]
fn finished_handshakes_and_idle_connections_leave_no_timers_behind() {
    // Issue 8: a timer that stops must leave nothing to pop later, so that N idle connections
    // cost no wake-ups; a connection that sends again gets its timer back.
    const N: usize = 200;
    let mut p = pair(TcpConfig::default());
    let l = p.server().tcp_listen(PORT, N).expect("listen");
    let now = p.net.now();
    let clients: Vec<_> = (0..N)
        .map(|_| {
            p.client()
                .tcp_connect(now, Pair::server_addr(PORT), None)
                .expect("connect")
        })
        .collect();
    let mut servers = Vec::new();
    run_until(&mut p, 10, "all handshakes", |p| {
        while let Some(s) = p.server().tcp_accept(l).expect("accept") {
            servers.push(s);
        }
        servers.len() == N
            && clients
                .iter()
                .all(|&c| p.client().tcp_state(c) == Ok(TcpState::Established))
    });
    // The SYN and SYN,ACK timers stopped when their ACKs came: nothing is left to pop.
    assert_eq!(p.client().tcp_timer_count(), 0);
    assert_eq!(p.server().tcp_timer_count(), 0);
    run_for(&mut p, Duration::from_secs(3));
    assert_eq!(p.client().tcp_timer_count(), 0);
    assert_eq!(p.server().tcp_timer_count(), 0);

    let now = p.net.now();
    p.client().tcp_send(now, clients[0], b"ping").expect("send");
    // Sent (the link delays it 10 ms each way), not yet acknowledged.
    run_for(&mut p, Duration::from_millis(5));
    assert_eq!(
        p.client().tcp_timer_count(),
        1,
        "retransmission timer armed"
    );
    run_for(&mut p, Duration::from_secs(3));
    assert_eq!(p.client().tcp_timer_count(), 0, "acknowledged, then quiet");

    // Closed and gone: TIME-WAIT's timer is the last one, and it goes with the connection.
    let now = p.net.now();
    for &c in &clients {
        p.client().tcp_close(now, c).expect("close");
    }
    // After the FINs have arrived, so that the client (not both, as in a simultaneous
    // close) keeps TIME-WAIT.
    run_for(&mut p, Duration::from_secs(1));
    let now = p.net.now();
    let mut got = Vec::new();
    for &s in &servers {
        read_all(p.server(), now, s, &mut got); // unread data would turn the close into a RST
        p.server().tcp_close(now, s).expect("close");
    }
    assert_eq!(got, b"ping");
    run_for(&mut p, Duration::from_secs(5));
    assert_eq!(p.server().tcp_timer_count(), 0, "server side closed last");
    assert_eq!(p.client().tcp_timer_count(), N, "one TIME-WAIT timer each");
    run_for(&mut p, Duration::from_secs(240));
    assert_eq!(p.client().tcp_timer_count(), 0);
}
