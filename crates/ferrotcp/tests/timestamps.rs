//! Timestamps (RFC 7323) against a scripted peer: negotiation, echoes, PAWS, RTTM, the Eifel
//! undo of a spurious timeout (RFC 3522), and a new SYN in TIME-WAIT (RFC 6191, MAY-2/SHLD-4).

mod common;

use common::*;
use ferrotcp::TcpHandle;
use ferrotcp::time::Duration;
use ferrotcp::trace::{DropReason, TcpState};
use ferrotcp::wire::{TcpFlags, TcpOptions, TcpRepr};

const MS: Duration = Duration::from_millis(1);
const ACK: TcpFlags = TcpFlags::ACK;
/// The peer's TSval at the start.
const T0: u32 = 7_000;

fn with_ts(mut s: TcpRepr, tsval: u32, tsecr: u32) -> TcpRepr {
    s.options.timestamps = Some((tsval, tsecr));
    s
}

fn ts_of(s: &Seg) -> (u32, u32) {
    s.repr.options.timestamps.expect("a timestamp option")
}

/// Passive open with timestamps offered by the peer (and SACK); returns (handle, ISS, the
/// stack's TSval in its SYN,ACK).
fn ts_connection(h: &mut Harness) -> (TcpHandle, u32, u32) {
    let options = TcpOptions {
        mss: Some(1460),
        sack_permitted: true,
        timestamps: Some((T0, 0)),
        ..TcpOptions::default()
    };
    let (c, x, syn_ack) = h.establish_passive_with(options, 20 * MS);
    // RFC 7323 §3.2: the SYN,ACK echoes the SYN's TSval.
    let (tsval, tsecr) = ts_of(&syn_ack);
    assert_eq!(tsecr, T0);
    (c, x, tsval)
}

#[test]
fn timestamps_are_used_only_when_both_syns_carry_them() {
    let mut h = Harness::new();
    let (c, x, _) = ts_connection(&mut h);
    let now = h.now;
    h.stack.tcp_set_nodelay(c, true).expect("nodelay");
    h.stack.tcp_send(now, c, &[1u8; 3000]).expect("send");
    let out = h.output();
    // Every segment carries the option, echoing TS.Recent (T0); its 12 bytes come out of
    // the MSS (1460 - 12 = 1448).
    assert!(out.iter().all(|s| ts_of(s).1 == T0));
    assert_eq!(out[0].payload.len(), 1448);
    assert_eq!(out[0].seq(), x + 1);

    let mut plain = Harness::new();
    let (c, _) = plain.establish_passive();
    let now = plain.now;
    plain.stack.tcp_send(now, c, &[1u8; 100]).expect("send");
    assert!(
        plain
            .output()
            .iter()
            .all(|s| s.repr.options.timestamps.is_none())
    );
}

#[test]
fn the_echo_follows_ts_recent_which_moves_forward_only() {
    let mut h = Harness::new();
    let (_c, x, _) = ts_connection(&mut h);
    // RFC 7323 §4.3: a segment at RCV.NXT with a newer TSval updates TS.Recent.
    h.send(
        with_ts(seg(ACK | TcpFlags::PSH, PEER_ISS + 1, x + 1), T0 + 50, 0),
        b"a",
    );
    h.advance(100 * MS);
    let a = h.expect_one();
    assert_eq!(ts_of(&a).1, T0 + 50);
    // Out of order (beyond Last.ACK.sent): TS.Recent stays.
    h.send(with_ts(seg(ACK, PEER_ISS + 10, x + 1), T0 + 90, 0), b"z");
    let d = h.expect_one();
    assert_eq!(ts_of(&d).1, T0 + 50);
}

#[test]
fn paws_drops_a_segment_with_an_old_timestamp_and_acknowledges() {
    let mut h = Harness::new();
    let (c, x, _) = ts_connection(&mut h);
    h.send(
        with_ts(seg(ACK | TcpFlags::PSH, PEER_ISS + 1, x + 1), T0 + 50, 0),
        b"new",
    );
    h.advance(100 * MS);
    h.output();
    h.drops();
    // RFC 7323 §5.3 R1: an older TSval than TS.Recent: not acceptable; ACK and drop.
    h.send(
        with_ts(seg(ACK | TcpFlags::PSH, PEER_ISS + 4, x + 1), T0 + 10, 0),
        b"old",
    );
    h.expect_one().assert(ACK, x + 1, PEER_ISS + 4);
    assert_eq!(h.drops(), [DropReason::Paws]);
    assert_eq!(
        h.stack.tcp_recv_queue(c),
        Ok(3),
        "the old segment's bytes were not taken"
    );
    // A RST is exempt (R1 "and the RST bit is not set").
    h.send(
        with_ts(seg(TcpFlags::RST, PEER_ISS + 4, 0), T0 + 10, 0),
        &[],
    );
    assert_eq!(h.state(c), TcpState::Closed);
}

#[test]
fn an_echo_older_than_the_retransmission_undoes_a_spurious_timeout() {
    let mut h = Harness::new();
    let (c, x, _) = ts_connection(&mut h);
    let now = h.now;
    h.stack.tcp_set_nodelay(c, true).expect("nodelay");
    h.stack.tcp_send(now, c, &[5u8; 1448]).expect("send");
    let original = h.expect_one();
    let before = h.stack.tcp_stats(c).expect("stats").cwnd;
    // No ACK: a tail loss probe after 2·SRTT + 200 ms (one segment in flight), then the RTO
    // 200 ms later; the window falls to one segment.
    h.advance(Duration::from_millis(500));
    let out = h.output();
    assert!(
        out.iter()
            .any(|s| s.seq() == x + 1 && !s.payload.is_empty())
    );
    let stats = h.stack.tcp_stats(c).expect("stats");
    assert_eq!(stats.timeouts, 1);
    assert!(stats.cwnd < before);
    // The ACK that comes echoes the *original*'s TSval: the original was only delayed
    // (RFC 3522, Eifel): the reduction is taken back.
    let (orig_tsval, _) = ts_of(&original);
    h.send(
        with_ts(seg(ACK, PEER_ISS + 1, x + 1 + 1448), T0 + 1, orig_tsval),
        &[],
    );
    let stats = h.stack.tcp_stats(c).expect("stats");
    assert_eq!(stats.undos, 1);
    assert!(stats.cwnd >= before, "{} < {before}", stats.cwnd);
}

/// The stack closes first on a passive connection and ends in TIME-WAIT, its listener still
/// open; returns (ISS, the stack's SND.NXT at the end).
fn time_wait_with_listener(h: &mut Harness, timestamps: bool) -> (u32, u32) {
    let options = TcpOptions {
        mss: Some(1460),
        timestamps: timestamps.then_some((T0, 0)),
        ..TcpOptions::default()
    };
    let (c, x, _) = h.establish_passive_with(options, 20 * MS);
    let stamp = |s: TcpRepr, v: u32| if timestamps { with_ts(s, v, 0) } else { s };
    let now = h.now;
    h.stack.tcp_close(now, c).expect("close");
    h.expect_one()
        .assert(TcpFlags::FIN | ACK, x + 1, PEER_ISS + 1);
    h.send(
        stamp(seg(TcpFlags::FIN | ACK, PEER_ISS + 1, x + 2), T0 + 5),
        &[],
    );
    h.expect_one().assert(ACK, x + 2, PEER_ISS + 2);
    assert_eq!(h.stack.tcp_connection_count(), 1, "in TIME-WAIT");
    (x, x + 2)
}

#[test]
fn time_wait_takes_a_new_syn_with_a_newer_timestamp() {
    // RFC 6191 §2 (SHLD-4, MAY-2): with timestamps, a SYN whose TSval is newer than TS.Recent
    // cannot be an old duplicate; the listener takes it at once, with an ISS beyond anything
    // the old connection sent (Linux: SND.NXT + 65537).
    let mut h = Harness::new();
    let (_x, snd_nxt) = time_wait_with_listener(&mut h, true);
    h.advance(Duration::from_secs(1));
    let mut s = syn(PEER_ISS + 10);
    s.options.timestamps = Some((T0 + 1000, 0));
    h.send(s, &[]);
    let syn_ack = h.expect_one();
    syn_ack.assert(
        TcpFlags::SYN | ACK,
        snd_nxt.wrapping_add(65537),
        PEER_ISS + 11,
    );
    assert_eq!(
        h.stack.tcp_connection_count(),
        1,
        "the TIME-WAIT one gave way"
    );
}

#[test]
fn time_wait_refuses_a_syn_with_an_old_timestamp() {
    let mut h = Harness::new();
    let (_x, snd_nxt) = time_wait_with_listener(&mut h, true);
    let mut s = syn(PEER_ISS + 10);
    s.options.timestamps = Some((T0 + 1, 0));
    h.send(s, &[]);
    // PAWS: older than TS.Recent (T0 + 5): an old duplicate, acknowledged and dropped.
    h.expect_one().assert(ACK, snd_nxt, PEER_ISS + 2);
}

#[test]
fn time_wait_without_timestamps_takes_a_syn_beyond_rcv_nxt_only() {
    // RFC 9293 MAY-2 / RFC 1122 §4.2.2.13: without timestamps the new SYN's sequence number
    // must lie beyond the old connection's.
    let mut h = Harness::new();
    let (_x, snd_nxt) = time_wait_with_listener(&mut h, false);
    h.send(syn(PEER_ISS + 1), &[]);
    h.expect_one().assert(ACK, snd_nxt, PEER_ISS + 2);
    h.send(syn(PEER_ISS + 100_000), &[]);
    h.expect_one().assert(
        TcpFlags::SYN | ACK,
        snd_nxt.wrapping_add(65537),
        PEER_ISS + 100_001,
    );
}
