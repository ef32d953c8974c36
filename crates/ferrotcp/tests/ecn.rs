//! ECN (RFC 3168 §6.1) against a scripted peer: agreed only on an ECN-setup SYN, ECT(0) on new
//! data only, CE echoed as ECE until CWR, one window reduction per window of ECE.

mod common;

use common::*;
use ferrotcp::transport::tcp::Ecn;
use ferrotcp::wire::{TcpFlags, TcpOptions};
use ferrotcp::{TcpConfig, TcpHandle};

const ACK: TcpFlags = TcpFlags::ACK;
const ECE: TcpFlags = TcpFlags::ECE;
const CWR: TcpFlags = TcpFlags::CWR;
const ECT0: u8 = 0b10;
const CE: u8 = 0b11;

/// Passive open; the peer's SYN carries ECE and CWR when `peer_asks`. Returns (handle, ISS,
/// whether our SYN,ACK agreed).
fn ecn_connection(h: &mut Harness, peer_asks: bool) -> (TcpHandle, u32, bool) {
    let lh = h.listen();
    let mut s = syn(PEER_ISS);
    if peer_asks {
        s.flags |= ECE | CWR;
    }
    h.send(s, &[]);
    let syn_ack = h.expect_one();
    let agreed = syn_ack.flags().ece();
    assert!(!syn_ack.flags().cwr(), "an ECN-setup SYN,ACK has ECE alone");
    let x = syn_ack.seq();
    h.send(seg(ACK, PEER_ISS + 1, x.wrapping_add(1)), &[]);
    let c = h
        .stack
        .tcp_accept(lh)
        .expect("accept")
        .expect("established");
    (c, x, agreed)
}

#[test]
fn ecn_is_agreed_only_when_the_peer_asks() {
    let mut h = Harness::new();
    assert!(
        ecn_connection(&mut h, true).2,
        "Linux's default: accept a request"
    );
    let mut h = Harness::new();
    assert!(!ecn_connection(&mut h, false).2);
    let mut h = Harness::with_config(|c| {
        c.tcp = TcpConfig {
            ecn: Ecn::Off,
            ..TcpConfig::default()
        }
    });
    assert!(!ecn_connection(&mut h, true).2, "switched off");
}

#[test]
fn our_syn_asks_only_when_configured() {
    // By default (`connect` checks it) the SYN is bare; with `Ecn::Request` it is an
    // ECN-setup SYN (§6.1.1).
    let mut h = Harness::new();
    h.connect();
    let mut h = Harness::with_config(|c| {
        c.tcp = TcpConfig {
            ecn: Ecn::Request,
            ..TcpConfig::default()
        }
    });
    let now = h.now;
    h.stack
        .tcp_connect(
            now,
            std::net::SocketAddrV4::new(PEER_IP, PEER_PORT),
            Some(STACK_PORT),
        )
        .expect("connect");
    let s = h.expect_one();
    assert!(s.flags().ece() && s.flags().cwr(), "an ECN-setup SYN: {s}");
}

#[test]
fn new_data_carries_ect_retransmissions_and_acks_do_not() {
    let mut h = Harness::new();
    let (c, x, _) = ecn_connection(&mut h, true);
    let now = h.now;
    h.stack.tcp_set_nodelay(c, true).expect("nodelay");
    h.stack.tcp_send(now, c, &[1u8; 100]).expect("send");
    let data = h.expect_one();
    assert_eq!(data.ecn, ECT0, "§6.1.5: new data is ECN-capable");
    // A retransmission (after the RTO) is not (§6.1.5).
    h.advance(ferrotcp::time::Duration::from_secs(2));
    let again = h.output();
    assert!(
        again
            .iter()
            .any(|s| s.seq() == x + 1 && !s.payload.is_empty())
    );
    assert!(again.iter().all(|s| s.ecn == 0), "{}", show(&again));
}

#[test]
fn a_ce_mark_is_echoed_until_cwr() {
    let mut h = Harness::new();
    let (_c, x, _) = ecn_connection(&mut h, true);
    let ack = x.wrapping_add(1);
    // CE on the peer's data: the next ACKs carry ECE (§6.1.3), at once.
    h.send_frame(&tcp_frame_ecn(&seg(ACK, PEER_ISS + 1, ack), b"marked", CE));
    let a = h.expect_one();
    assert!(a.flags().ece(), "{a}");
    h.send_frame(&tcp_frame_ecn(
        &seg(ACK, PEER_ISS + 7, ack),
        &[2u8; 3000],
        ECT0,
    ));
    assert!(h.output().iter().all(|s| s.flags().ece()), "still echoing");
    // The peer reduced its window and says so with CWR: the echo stops.
    let mut cwr = seg(ACK | CWR, PEER_ISS + 3007, ack);
    cwr.options = TcpOptions::default();
    h.send_frame(&tcp_frame_ecn(&cwr, &[3u8; 3000], ECT0));
    assert!(h.output().iter().all(|s| !s.flags().ece()));
}

#[test]
fn an_ece_halves_the_window_once_per_window_and_the_next_data_says_cwr() {
    let mut h = Harness::new();
    let (c, x, _) = ecn_connection(&mut h, true);
    let now = h.now;
    h.stack.tcp_set_nodelay(c, true).expect("nodelay");
    h.stack
        .tcp_send(now, c, &vec![1u8; 20 * 1460])
        .expect("send");
    let first = h.output();
    let before = h.stack.tcp_stats(c).expect("stats").cwnd;
    let una = x + 1;
    // The peer's ACK of two segments carries ECE.
    h.send(seg(ACK | ECE, PEER_ISS + 1, una + 2 * 1460), &[]);
    let stats = h.stack.tcp_stats(c).expect("stats");
    assert_eq!(stats.ecn_reductions, 1);
    assert!(stats.cwnd < before, "{} !< {before}", stats.cwnd);
    // More ECE within the same window: no second reduction (§6.1.2).
    h.send(seg(ACK | ECE, PEER_ISS + 1, una + 4 * 1460), &[]);
    assert_eq!(h.stack.tcp_stats(c).expect("stats").ecn_reductions, 1);
    // When the window lets new data out again, its first segment carries CWR (§6.1.2), and
    // only that one; no retransmission was needed.
    h.send(seg(ACK, PEER_ISS + 1, una + 8 * 1460), &[]);
    let out = h.output();
    let cwr: Vec<&Seg> = out
        .iter()
        .chain(first.iter())
        .filter(|s| s.flags().cwr())
        .collect();
    assert_eq!(cwr.len(), 1, "{}", show(&out));
    assert!(cwr[0].seq() >= una + 10 * 1460, "on new data: {}", cwr[0]);
    assert_eq!(h.stack.tcp_stats(c).expect("stats").retransmissions, 0);
}
