//! Teaching-only ablations (feature `teaching`): each removes one mechanism and the stack then
//! behaves the way `ferrotcp explain` says it does.
#![cfg(feature = "teaching")]

mod common;

use common::*;
use ferrotcp::trace::TcpState;
use ferrotcp::transport::tcp::ablation::Ablation;
use ferrotcp::wire::TcpFlags;
use ferrotcp::{CloseReason, Event, TcpConfig};

fn ablated(a: Ablation) -> Harness {
    Harness::with_config(|c| c.tcp = TcpConfig::default().ablate(a))
}

#[test]
fn default_config_has_no_ablation() {
    for a in Ablation::ALL {
        assert!(!TcpConfig::default().ablations().has(a), "{}", a.name());
    }
}

#[test]
fn two_way_handshake_hands_the_application_a_connection_before_the_third_message() {
    let mut h = ablated(Ablation::TwoWayHandshake);
    let lh = h.listen();
    let x = h.syn_to_listener();
    // No ACK from the peer yet, and still the application can accept it.
    let c = h
        .stack
        .tcp_accept(lh)
        .expect("accept")
        .expect("counted as established");
    assert_eq!(h.state(c), TcpState::Established);
    // The peer never opened it: its RST (SEQ = our SEG.ACK) resets what the application holds.
    h.send(seg(TcpFlags::RST, PEER_ISS + 1, 0), &[]);
    assert!(h.events().contains(&Event::Closed(c, CloseReason::Reset)));
    let _ = x;
}

#[test]
fn four_way_handshake_adds_a_message_and_delays_the_client() {
    let mut h = ablated(Ablation::FourWayHandshake);
    let (c, iss) = h.connect();
    let now = h.now;
    h.stack.tcp_send(now, c, b"early").expect("queued");
    h.send(syn_ack(PEER_ISS, iss.wrapping_add(1)), &[]);
    let out = h.output();
    assert_eq!(out.len(), 1, "the third message only, no data yet");
    out[0].assert(TcpFlags::ACK, iss.wrapping_add(1), PEER_ISS + 1);
    assert!(
        h.events().is_empty(),
        "not connected until the fourth message"
    );
    // The fourth message: the server acknowledges the ACK — the same numbers again.
    h.send(seg(TcpFlags::ACK, PEER_ISS + 1, iss.wrapping_add(1)), &[]);
    assert_eq!(h.events(), [Event::Connected(c)]);
    let data = h.expect_one();
    assert_eq!(data.payload, b"early");
}

#[test]
fn no_time_wait_closes_at_once_after_the_last_ack() {
    let mut h = ablated(Ablation::NoTimeWait);
    let (c, iss) = h.establish_active();
    let now = h.now;
    h.stack.tcp_shutdown(now, c).expect("close");
    h.expect_one().assert(
        TcpFlags::FIN | TcpFlags::ACK,
        iss.wrapping_add(1),
        PEER_ISS + 1,
    );
    h.send(
        seg(
            TcpFlags::FIN | TcpFlags::ACK,
            PEER_ISS + 1,
            iss.wrapping_add(2),
        ),
        &[],
    );
    h.expect_one()
        .assert(TcpFlags::ACK, iss.wrapping_add(2), PEER_ISS + 2);
    assert_eq!(h.state(c), TcpState::Closed, "no TIME-WAIT");
    // The peer's retransmitted FIN now meets a closed port: RST.
    h.send(
        seg(
            TcpFlags::FIN | TcpFlags::ACK,
            PEER_ISS + 1,
            iss.wrapping_add(2),
        ),
        &[],
    );
    assert!(h.output().iter().any(|s| s.flags().rst()));
}
