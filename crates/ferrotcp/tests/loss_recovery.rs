//! Loss repair without waiting for a timeout: fast retransmit on three duplicate ACKs
//! (RFC 5681 §3.2), limited transmit (RFC 3042) and early retransmit (RFC 5827).

mod common;

use common::*;
use ferrotcp::wire::TcpFlags;

const MSS: usize = 1460;

fn data_segments(segs: &[Seg]) -> Vec<u32> {
    segs.iter()
        .filter(|s| !s.payload.is_empty())
        .map(|s| s.seq())
        .collect()
}

#[test]
fn three_duplicate_acks_trigger_a_fast_retransmit() {
    let mut h = Harness::new();
    let (c, x) = h.establish_active();
    let now = h.now;
    h.stack.tcp_set_nodelay(c, true).expect("nodelay");
    h.stack.tcp_send(now, c, &vec![7u8; 6 * MSS]).expect("send");
    let first = data_segments(&h.output());
    assert_eq!(first.len(), 6);
    let una = x.wrapping_add(1);
    for i in 0..3 {
        h.send(seg(TcpFlags::ACK, PEER_ISS + 1, una), &[]);
        let out = data_segments(&h.output());
        if i < 2 {
            assert!(
                out.is_empty(),
                "no retransmission before the third duplicate ACK"
            );
        } else {
            assert_eq!(out, [una], "the first unacknowledged segment, at once");
        }
    }
}

#[test]
fn limited_transmit_sends_new_data_on_the_first_duplicate_acks() {
    let mut h = Harness::new();
    let (c, x) = h.establish_active();
    let now = h.now;
    h.stack.tcp_set_nodelay(c, true).expect("nodelay");
    // More than the initial window (10 segments) is queued.
    h.stack
        .tcp_send(now, c, &vec![7u8; 14 * MSS])
        .expect("send");
    let first = data_segments(&h.output());
    assert_eq!(first.len(), 10, "IW10");
    let una = x.wrapping_add(1);
    h.send(seg(TcpFlags::ACK, PEER_ISS + 1, una), &[]);
    let after_one = data_segments(&h.output());
    assert_eq!(
        after_one,
        [una.wrapping_add(10 * MSS as u32)],
        "one new segment for the first duplicate ACK"
    );
    h.send(seg(TcpFlags::ACK, PEER_ISS + 1, una), &[]);
    let after_two = data_segments(&h.output());
    assert_eq!(
        after_two,
        [una.wrapping_add(11 * MSS as u32)],
        "and one for the second"
    );
}

#[test]
fn early_retransmit_with_few_segments_outstanding() {
    let mut h = Harness::new();
    let (c, x) = h.establish_active();
    let now = h.now;
    h.stack.tcp_set_nodelay(c, true).expect("nodelay");
    // Three segments and nothing more to send: three duplicate ACKs can never come.
    h.stack.tcp_send(now, c, &vec![7u8; 3 * MSS]).expect("send");
    assert_eq!(data_segments(&h.output()).len(), 3);
    let una = x.wrapping_add(1);
    h.send(seg(TcpFlags::ACK, PEER_ISS + 1, una), &[]);
    assert!(data_segments(&h.output()).is_empty());
    h.send(seg(TcpFlags::ACK, PEER_ISS + 1, una), &[]);
    assert_eq!(
        data_segments(&h.output()),
        [una],
        "retransmitted after outstanding - 1 = 2 duplicate ACKs"
    );
}
