//! SACK as a sender: the scoreboard, RACK-TLP loss detection (RFC 8985), RFC 6675 recovery
//! with PRR (RFC 9937), reneging, D-SACK undo. The peer is scripted; its SYN offers SACK.

mod common;

use common::*;
use ferrotcp::TcpHandle;
use ferrotcp::time::Duration;
use ferrotcp::wire::{SackBlock, TcpFlags, TcpOptions, TcpRepr};

const MSS: u32 = 1460;
const MS: Duration = Duration::from_millis(1);

/// An established connection (the stack accepted) with SACK agreed, Nagle off, and `n` full
/// segments sent; returns (handle, SND.UNA).
fn flight(h: &mut Harness, n: u32) -> (TcpHandle, u32) {
    let options = TcpOptions {
        mss: Some(1460),
        sack_permitted: true,
        ..TcpOptions::default()
    };
    // A 20 ms round trip, so SRTT (and with it the probe timeout) is realistic.
    let (c, x, syn_ack) = h.establish_passive_with(options, 20 * MS);
    assert!(syn_ack.repr.options.sack_permitted);
    h.stack.tcp_set_nodelay(c, true).expect("nodelay");
    let una = x.wrapping_add(1);
    let now = h.now;
    h.stack
        .tcp_send(now, c, &vec![9u8; (n * MSS) as usize])
        .expect("send");
    let sent = data_seqs(&h.output());
    assert_eq!(sent.len(), n as usize);
    (c, una)
}

fn data_seqs(segs: &[Seg]) -> Vec<u32> {
    segs.iter()
        .filter(|s| !s.payload.is_empty())
        .map(|s| s.seq())
        .collect()
}

/// The peer's ACK of `ack` with SACK blocks given as segment index ranges from `una`.
fn sack(una: u32, ack: u32, blocks: &[(u32, u32)]) -> TcpRepr {
    let mut s = seg(TcpFlags::ACK, PEER_ISS + 1, ack);
    for (i, &(a, b)) in blocks.iter().enumerate() {
        s.options.sack_blocks[i] = Some(SackBlock {
            left: ferrotcp::seq::SeqNum(una + a * MSS),
            right: ferrotcp::seq::SeqNum(una + b * MSS),
        });
    }
    s
}

#[test]
fn the_hole_sack_blocks_reveal_is_retransmitted_at_once_and_nothing_else() {
    let mut h = Harness::new();
    let (_c, una) = flight(&mut h, 10);
    h.advance(20 * MS);
    // Segment 0 is lost; segments 1, 2 and 3 arrive and are SACKed one by one.
    h.send(sack(una, una, &[(1, 2)]), &[]);
    h.send(sack(una, una, &[(1, 3)]), &[]);
    assert!(
        data_seqs(&h.output()).is_empty(),
        "RFC 8985 §6.2: within the reordering window nothing is lost yet"
    );
    h.send(sack(una, una, &[(1, 4)]), &[]);
    // Three SACKed segments and no reordering seen: the window is zero and segment 0, sent
    // before the delivered ones more than an RTT ago, is lost.
    assert_eq!(data_seqs(&h.output()), [una]);
    let stats = h.stack.tcp_stats(_c).expect("stats");
    assert_eq!((stats.fast_retransmits, stats.timeouts), (1, 0));
}

#[test]
fn several_holes_are_repaired_in_one_round_trip() {
    let mut h = Harness::new();
    let (_c, una) = flight(&mut h, 10);
    h.advance(20 * MS);
    // Segments 0 and 4 are lost; the rest arrive.
    h.send(sack(una, una, &[(5, 10), (1, 4)]), &[]);
    // RFC 6675 NextSeg rule 1 in order; PRR lets both out (pipe is far below ssthresh).
    assert_eq!(data_seqs(&h.output()), [una, una + 4 * MSS]);
}

#[test]
fn a_reneging_peer_is_survived_without_waiting_for_the_rto() {
    let mut h = Harness::new();
    let (c, una) = flight(&mut h, 6);
    h.advance(20 * MS);
    h.send(sack(una, una, &[(1, 5)]), &[]);
    assert_eq!(data_seqs(&h.output()), [una]);
    h.advance(20 * MS);
    // The retransmission arrives, but the peer dropped what it had SACKed (RFC 2018 §8): the
    // cumulative ACK stops at segment 1, which the scoreboard holds as SACKed. The SACK marks
    // are forgotten; the reneged segments are resent within a few milliseconds (RACK finds
    // them sent before the last delivery, else a timeout of max(SRTT/2, 10 ms) as in
    // Linux), not after the 200 ms RTO.
    h.send(seg(TcpFlags::ACK, PEER_ISS + 1, una + MSS), &[]);
    h.advance(25 * MS);
    let again = data_seqs(&h.output());
    assert_eq!(again.first(), Some(&(una + MSS)), "{again:?}");
    // Once acknowledged, nothing is outstanding and nothing more is sent.
    h.send(seg(TcpFlags::ACK, PEER_ISS + 1, una + 6 * MSS), &[]);
    h.advance(Duration::from_secs(1));
    assert!(data_seqs(&h.output()).is_empty());
    assert_eq!(h.stack.tcp_send_queue(c), Ok(0));
}

#[test]
fn a_dsack_for_the_retransmission_undoes_the_window_reduction() {
    let mut h = Harness::new();
    let (c, una) = flight(&mut h, 10);
    let before = h.stack.tcp_stats(c).expect("stats").cwnd;
    h.advance(20 * MS);
    h.send(sack(una, una, &[(1, 4)]), &[]);
    assert_eq!(data_seqs(&h.output()), [una]);
    assert!(h.stack.tcp_stats(c).expect("stats").cwnd < before);
    // Segment 0 was only late: everything is acknowledged, and the first block reports the
    // retransmitted bytes again, below the cumulative ACK: a D-SACK (RFC 2883 §4).
    let mut ack = seg(TcpFlags::ACK, PEER_ISS + 1, una + 10 * MSS);
    ack.options.sack_blocks[0] = Some(SackBlock {
        left: ferrotcp::seq::SeqNum(una),
        right: ferrotcp::seq::SeqNum(una + MSS),
    });
    h.send(ack, &[]);
    let stats = h.stack.tcp_stats(c).expect("stats");
    assert_eq!(stats.undos, 1);
    assert!(stats.cwnd >= before, "{} < {before}", stats.cwnd);
}

#[test]
fn a_tail_loss_probe_goes_out_long_before_the_rto() {
    let mut h = Harness::new();
    let (c, una) = flight(&mut h, 3);
    // Nothing comes back. RFC 8985 §7: with no new data, the last segment is sent again after
    // PTO = 2·SRTT (+ 2 ms, Linux's slack) = 42 ms; the RTO would wait 200 ms or more.
    h.advance(41 * MS);
    assert!(data_seqs(&h.output()).is_empty());
    h.advance(2 * MS);
    assert_eq!(data_seqs(&h.output()), [una + 2 * MSS]);
    assert_eq!(h.stack.tcp_stats(c).expect("stats").loss_probes, 1);
    // Its SACK shows segments 0 and 1 are missing: RACK repairs them without a timeout.
    h.advance(MS);
    h.send(sack(una, una, &[(2, 3)]), &[]);
    h.advance(MS);
    h.output();
    h.send(sack(una, una + 3 * MSS, &[]), &[]);
    assert_eq!(h.stack.tcp_stats(c).expect("stats").timeouts, 0);
}

#[test]
fn sack_blocks_outside_the_window_are_ignored() {
    let mut h = Harness::new();
    let (c, una) = flight(&mut h, 4);
    h.advance(20 * MS);
    // Blocks above SND.MAX or below SND.UNA say nothing (RFC 2018 §3).
    let mut s = seg(TcpFlags::ACK, PEER_ISS + 1, una);
    s.options.sack_blocks[0] = Some(SackBlock {
        left: ferrotcp::seq::SeqNum(una + 10 * MSS),
        right: ferrotcp::seq::SeqNum(una + 20 * MSS),
    });
    h.send(s, &[]);
    assert!(data_seqs(&h.output()).is_empty());
    assert_eq!(h.stack.tcp_stats(c).expect("stats").fast_retransmits, 0);
}
