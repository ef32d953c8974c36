//! SACK as a receiver (RFC 2018): offered only when the peer offers it, and duplicate ACKs then
//! report the out-of-order data held, the block with the most recent arrival first.

mod common;

use common::*;
use ferrotcp::wire::{SackBlock, TcpFlags};

const Y: u32 = PEER_ISS;

/// Passive open where the peer's SYN carries SACK-permitted; returns the stack's ISS.
fn sack_connection(h: &mut Harness, peer_offers: bool) -> u32 {
    let lh = h.listen();
    let mut s = syn(Y);
    s.options.sack_permitted = peer_offers;
    h.send(s, &[]);
    let syn_ack = h.expect_one();
    assert_eq!(
        syn_ack.repr.options.sack_permitted, peer_offers,
        "RFC 2018 §2: offered only in reply to an offer"
    );
    let x = syn_ack.seq();
    h.send(seg(TcpFlags::ACK, Y + 1, x.wrapping_add(1)), &[]);
    h.expect_none();
    h.stack
        .tcp_accept(lh)
        .expect("accept")
        .expect("established");
    x
}

fn blocks(s: &Seg) -> Vec<(u32, u32)> {
    s.repr
        .options
        .sack_blocks
        .iter()
        .flatten()
        .map(|b: &SackBlock| (b.left.0, b.right.0))
        .collect()
}

#[test]
fn duplicate_acks_report_out_of_order_data_most_recent_first() {
    let mut h = Harness::new();
    let x = sack_connection(&mut h, true);
    let ack = x.wrapping_add(1);
    // Bytes 1..=100 arrive; 101..=200 are lost; 201..=300 and then 401..=500 arrive.
    h.send(seg(TcpFlags::ACK, Y + 1, ack), &[1u8; 100]);
    h.advance(ferrotcp::time::Duration::from_millis(100));
    h.output();
    h.send(seg(TcpFlags::ACK, Y + 201, ack), &[3u8; 100]);
    let d1 = h.expect_one();
    d1.assert(TcpFlags::ACK, ack, Y + 101);
    assert_eq!(blocks(&d1), [(Y + 201, Y + 301)]);
    h.send(seg(TcpFlags::ACK, Y + 401, ack), &[5u8; 100]);
    let d2 = h.expect_one();
    d2.assert(TcpFlags::ACK, ack, Y + 101);
    assert_eq!(
        blocks(&d2),
        [(Y + 401, Y + 501), (Y + 201, Y + 301)],
        "the newest block first"
    );
    // The hole is filled: the cumulative ACK moves and the first block is gone.
    h.send(seg(TcpFlags::ACK, Y + 101, ack), &[2u8; 100]);
    let a = h.expect_one();
    a.assert(TcpFlags::ACK, ack, Y + 301);
    assert_eq!(blocks(&a), [(Y + 401, Y + 501)]);
}

#[test]
fn no_sack_blocks_unless_both_sides_offered() {
    let mut h = Harness::new();
    let x = sack_connection(&mut h, false);
    let ack = x.wrapping_add(1);
    h.send(seg(TcpFlags::ACK, Y + 201, ack), &[3u8; 100]);
    let d = h.expect_one();
    assert!(blocks(&d).is_empty());
}

#[test]
fn a_duplicate_segment_is_reported_in_a_dsack_block() {
    // RFC 2883 §4: the first SACK block of the ACK reports the duplicate bytes, below the
    // cumulative ACK or inside the out-of-order data already held.
    let mut h = Harness::new();
    let x = sack_connection(&mut h, true);
    let ack = x.wrapping_add(1);
    h.send(seg(TcpFlags::ACK, Y + 1, ack), &[1u8; 100]);
    h.advance(ferrotcp::time::Duration::from_millis(100));
    h.output();
    h.send(seg(TcpFlags::ACK, Y + 1, ack), &[1u8; 100]);
    let d = h.expect_one();
    d.assert(TcpFlags::ACK, ack, Y + 101);
    assert_eq!(blocks(&d), [(Y + 1, Y + 101)]);
    h.send(seg(TcpFlags::ACK, Y + 201, ack), &[3u8; 100]);
    assert_eq!(blocks(&h.expect_one()), [(Y + 201, Y + 301)]);
    h.send(seg(TcpFlags::ACK, Y + 201, ack), &[3u8; 100]);
    assert_eq!(
        blocks(&h.expect_one()),
        [(Y + 201, Y + 301), (Y + 201, Y + 301)],
        "the D-SACK first, then the block it lies in"
    );
}
