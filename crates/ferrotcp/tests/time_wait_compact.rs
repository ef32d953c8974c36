//! A connection in TIME-WAIT that the application has let go of is kept as a small entry
//! (Linux's timewait socket). It must answer everything exactly as a connection the
//! application still holds does: each probe below goes to both, and the frames that come
//! back must be the same.

mod common;

use common::*;
use ferrotcp::TcpHandle;
use ferrotcp::time::Duration;
use ferrotcp::trace::TcpState;
use ferrotcp::wire::{TcpFlags, TcpRepr};

/// The peer's timestamp clock at the handshake; probes count up from it.
const PEER_TS: u32 = 50_000;

struct TimeWait {
    h: Harness,
    c: TcpHandle,
    iss: u32,
    our_ts: u32,
}

/// An active close to TIME-WAIT on a connection with timestamps, SACK and window scaling;
/// `release`: the application closes (lets go) instead of only shutting down its side.
fn time_wait(release: bool) -> TimeWait {
    let mut h = Harness::new();
    let (c, iss) = h.connect();
    let mut synack = syn_ack(PEER_ISS, iss.wrapping_add(1));
    synack.options.window_scale = Some(7);
    synack.options.sack_permitted = true;
    synack.options.timestamps = Some((PEER_TS, 0));
    h.send(synack, &[]);
    let ack = h.expect_one();
    let our_ts = ack.repr.options.timestamps.expect("timestamps on").0;
    h.events();
    let now = h.now;
    if release {
        h.stack.tcp_close(now, c).expect("close");
    } else {
        h.stack.tcp_shutdown(now, c).expect("shutdown");
    }
    let fin = h.expect_one();
    assert!(fin.flags().fin(), "{fin}");
    h.advance(Duration::from_millis(10));
    let mut fin_ack = seg(
        TcpFlags::FIN | TcpFlags::ACK,
        PEER_ISS + 1,
        iss.wrapping_add(2),
    );
    fin_ack.options.timestamps = Some((PEER_TS + 10, our_ts));
    h.send(fin_ack, &[]);
    let last = h.expect_one();
    assert_eq!(last.flags(), TcpFlags::ACK, "{last}");
    TimeWait { h, c, iss, our_ts }
}

impl TimeWait {
    fn probe(&mut self, flags: TcpFlags, seq: u32, ack_offset: u32, tsval: u32, data: &[u8]) {
        let mut s: TcpRepr = seg(flags, seq, self.iss.wrapping_add(ack_offset));
        s.options.timestamps = Some((tsval, self.our_ts));
        self.h.send(s, data);
    }
}

/// Both connections, the held one and the released one, after the same steps.
fn both(steps: impl Fn(&mut TimeWait)) -> (TimeWait, TimeWait, Vec<Seg>, Vec<Seg>) {
    let mut held = time_wait(false);
    let mut released = time_wait(true);
    assert_eq!(held.h.state(held.c), TcpState::TimeWait);
    assert_eq!(released.h.stack.tcp_time_wait_count(), 1, "kept small");
    assert_eq!(released.h.stack.tcp_connection_count(), 1);
    steps(&mut held);
    let a = held.h.output();
    steps(&mut released);
    let b = released.h.output();
    (held, released, a, b)
}

/// Runs `steps` on both; both must send the same `answers` segments.
#[track_caller]
fn same_answers(answers: usize, steps: impl Fn(&mut TimeWait)) -> (TimeWait, TimeWait) {
    let (held, released, a, b) = both(steps);
    assert_eq!(a, b, "held: {}\nreleased: {}", show(&a), show(&b));
    assert_eq!(a.len(), answers, "{}", show(&a));
    (held, released)
}

const FIN_ACK: TcpFlags = TcpFlags(TcpFlags::FIN.0 | TcpFlags::ACK.0);

#[test]
fn a_retransmitted_fin_is_acknowledged_and_the_wait_restarts_for_both() {
    let (mut held, mut released) = same_answers(1, |tw| {
        tw.h.advance(Duration::from_secs(20));
        tw.probe(FIN_ACK, PEER_ISS + 1, 2, PEER_TS + 20, &[]);
    });
    // Re-frozen once its ACK is out.
    assert_eq!(released.h.stack.tcp_time_wait_count(), 1);
    // 2·MSL (60 s) from the restart, not from the first FIN.
    for tw in [&mut held, &mut released] {
        tw.h.advance(Duration::from_secs(59));
    }
    assert_eq!(held.h.state(held.c), TcpState::TimeWait);
    assert_eq!(released.h.stack.tcp_connection_count(), 1);
    for tw in [&mut held, &mut released] {
        tw.h.advance(Duration::from_secs(2));
    }
    assert_eq!(held.h.state(held.c), TcpState::Closed);
    assert_eq!(released.h.stack.tcp_connection_count(), 0);
    assert_eq!(released.h.stack.tcp_time_wait_count(), 0);
    assert_eq!(
        released.h.stack.tcp_timer_count(),
        0,
        "nothing left to wake"
    );
}

#[test]
fn the_wait_ends_after_two_msl_for_both() {
    let (held, released) = same_answers(0, |tw| tw.h.advance(Duration::from_secs(61)));
    assert_eq!(held.h.state(held.c), TcpState::Closed);
    assert_eq!(released.h.stack.tcp_connection_count(), 0);
    let transitions = {
        let mut r = released;
        r.h.transitions()
    };
    assert!(
        transitions.contains(&(TcpState::TimeWait, TcpState::Closed)),
        "the trace still shows the end of TIME-WAIT: {transitions:?}"
    );
}

#[test]
fn old_duplicate_data_is_acknowledged_with_a_dsack() {
    same_answers(1, |tw| {
        tw.probe(TcpFlags::ACK, PEER_ISS - 99, 2, PEER_TS + 11, &[7u8; 100]);
    });
}

#[test]
fn an_old_timestamp_is_refused_by_paws_and_acknowledged() {
    same_answers(1, |tw| {
        tw.probe(TcpFlags::ACK, PEER_ISS + 2, 2, PEER_TS - 1000, &[]);
    });
}

#[test]
fn an_in_window_rst_that_misses_rcv_nxt_draws_a_challenge_ack() {
    same_answers(1, |tw| {
        tw.probe(TcpFlags::RST, PEER_ISS + 100, 2, PEER_TS + 12, &[]);
    });
}

#[test]
fn an_exact_rst_ends_it_without_an_answer() {
    let (held, released) = same_answers(0, |tw| {
        tw.probe(TcpFlags::RST, PEER_ISS + 2, 2, PEER_TS + 12, &[]);
    });
    assert_eq!(held.h.state(held.c), TcpState::Closed);
    assert_eq!(released.h.stack.tcp_connection_count(), 0);
}

#[test]
fn an_ack_for_data_never_sent_is_answered_with_an_ack() {
    same_answers(1, |tw| {
        tw.probe(TcpFlags::ACK, PEER_ISS + 2, 5_000, PEER_TS + 13, &[]);
    });
}

#[test]
fn a_new_syn_without_a_listener_is_answered_like_the_held_connection_answers_it() {
    same_answers(1, |tw| {
        tw.probe(TcpFlags::SYN, PEER_ISS + 1_000_000, 0, PEER_TS + 14, &[]);
    });
}

#[test]
fn a_new_syn_with_a_listener_reopens_the_pair_for_both() {
    let (held, released) = same_answers(1, |tw| {
        tw.h.listen();
        tw.probe(TcpFlags::SYN, PEER_ISS + 1_000_000, 0, PEER_TS + 14, &[]);
    });
    // The SYN,ACK went out from a new connection in SYN-RECEIVED in both.
    assert_eq!(held.h.stack.tcp_time_wait_count(), 0);
    assert_eq!(released.h.stack.tcp_time_wait_count(), 0);
}

#[test]
fn the_pair_stays_taken_while_frozen() {
    let mut tw = time_wait(true);
    let remote = std::net::SocketAddrV4::new(PEER_IP, PEER_PORT);
    let now = tw.h.now;
    let again = tw.h.stack.tcp_connect(now, remote, Some(STACK_PORT));
    assert!(
        again.is_err(),
        "RFC 9293 §3.6.1: the 4-tuple is in TIME-WAIT"
    );
}
