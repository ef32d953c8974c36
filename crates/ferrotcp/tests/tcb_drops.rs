//! Every segment a connection discards is counted (`StackStats::tcp_dropped`) and traced with
//! its reason, the ACK the RFC asks for still going out.

mod common;

use common::*;
use ferrotcp::trace::DropReason;
use ferrotcp::wire::TcpFlags;

#[test]
fn out_of_window_data_is_dropped_counted_and_acknowledged() {
    let mut h = Harness::new();
    let (_c, x) = h.establish_active();
    // §3.10.7.4 first step: far beyond the window. "an acknowledgment should be sent ... and
    // the unacceptable segment dropped".
    h.send(
        seg(TcpFlags::ACK, PEER_ISS + 1 + 10_000_000, x + 1),
        b"stray",
    );
    h.expect_one().assert(TcpFlags::ACK, x + 1, PEER_ISS + 1);
    assert_eq!(h.drops(), [DropReason::Unacceptable]);
    assert_eq!(h.stack.stats().tcp_dropped, 1);
}

#[test]
fn each_kind_of_discarded_segment_has_its_reason() {
    let mut h = Harness::new();
    let (_c, x) = h.establish_active();
    // An ACK of data never sent: ACK and drop (§3.10.7.4 fifth step).
    h.send(seg(TcpFlags::ACK, PEER_ISS + 1, x + 1000), &[]);
    h.expect_one().assert(TcpFlags::ACK, x + 1, PEER_ISS + 1);
    // No ACK bit: "drop the segment and return".
    h.send(seg(TcpFlags::PSH, PEER_ISS + 1, 0), b"x");
    h.expect_none();
    // A RST in the window but not at RCV.NXT: challenge ACK (RFC 5961 §3.2).
    h.send(seg(TcpFlags::RST, PEER_ISS + 100, 0), &[]);
    h.expect_one().assert(TcpFlags::ACK, x + 1, PEER_ISS + 1);
    // A SYN on a synchronized connection: challenge ACK (RFC 5961 §4.2).
    h.send(syn(PEER_ISS + 5), &[]);
    h.expect_one().assert(TcpFlags::ACK, x + 1, PEER_ISS + 1);
    assert_eq!(
        h.drops(),
        [
            DropReason::BadAck,
            DropReason::NoAck,
            DropReason::Challenged,
            DropReason::Challenged
        ]
    );
    assert_eq!(h.stack.stats().tcp_dropped, 4);
}

#[test]
fn an_acceptable_segment_is_not_counted_as_dropped() {
    let mut h = Harness::new();
    let (_c, x) = h.establish_active();
    h.send(
        seg(TcpFlags::ACK | TcpFlags::PSH, PEER_ISS + 1, x + 1),
        b"hello",
    );
    assert!(h.drops().is_empty());
    assert_eq!(h.stack.stats().tcp_dropped, 0);
}
