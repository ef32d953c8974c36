//! RFC 9293 Figure 5, one test per transition, with the exact segments exchanged; then the
//! event-processing rules around it (§3.10.7): resets for closed ports and LISTEN, the
//! acceptability test, RFC 5961 challenge ACKs, half-close, and the MSS option.
//!
//! Notation: the stack's ISS is `x` (read from its SYN), the peer's is `Y` (= PEER_ISS).

mod common;

use common::*;
use ferrotcp::time::Duration;
use ferrotcp::trace::TcpState;
use ferrotcp::wire::TcpFlags;
use ferrotcp::{CloseReason, Event, TcpError};

const Y: u32 = PEER_ISS;
const SYN: TcpFlags = TcpFlags::SYN;
const ACK: TcpFlags = TcpFlags::ACK;
const RST: TcpFlags = TcpFlags::RST;
const SYN_ACK: TcpFlags = TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0);
const FIN_ACK: TcpFlags = TcpFlags(TcpFlags::FIN.0 | TcpFlags::ACK.0);
const RST_ACK: TcpFlags = TcpFlags(TcpFlags::RST.0 | TcpFlags::ACK.0);
const FIN_ACK_PSH: TcpFlags = TcpFlags(TcpFlags::FIN.0 | TcpFlags::ACK.0 | TcpFlags::PSH.0);
/// 2×MSL with the default MSL of 30 s.
const TWO_MSL: Duration = Duration::from_secs(60);
const ONE_MICRO: Duration = Duration::from_micros(1);

/// ESTABLISHED (active open), then our CLOSE: FIN-WAIT-1 with <SEQ=x+1><ACK=Y+1><CTL=FIN,ACK>
/// in flight.
fn fin_wait_1() -> (Harness, ferrotcp::TcpHandle, u32) {
    let mut h = Harness::new();
    let (c, x) = h.establish_active();
    h.stack.tcp_shutdown(h.now, c).expect("shutdown");
    h.expect_one().assert(FIN_ACK, x + 1, Y + 1);
    assert_eq!(h.state(c), TcpState::FinWait1);
    (h, c, x)
}

/// FIN-WAIT-2: the peer acknowledged our FIN.
fn fin_wait_2() -> (Harness, ferrotcp::TcpHandle, u32) {
    let (mut h, c, x) = fin_wait_1();
    h.send(seg(ACK, Y + 1, x + 2), &[]);
    h.expect_none();
    assert_eq!(h.state(c), TcpState::FinWait2);
    (h, c, x)
}

/// TIME-WAIT through FIN-WAIT-2 (the FIN arrives at `h.now`).
fn time_wait() -> (Harness, ferrotcp::TcpHandle, u32) {
    let (mut h, c, x) = fin_wait_2();
    h.send(seg(FIN_ACK, Y + 1, x + 2), &[]);
    h.expect_one().assert(ACK, x + 2, Y + 2);
    assert_eq!(h.state(c), TcpState::TimeWait);
    h.events();
    (h, c, x)
}

/// CLOSE-WAIT: the peer's FIN was received and acknowledged.
fn close_wait() -> (Harness, ferrotcp::TcpHandle, u32) {
    let mut h = Harness::new();
    let (c, x) = h.establish_active();
    h.send(seg(FIN_ACK, Y + 1, x + 1), &[]);
    h.expect_one().assert(ACK, x + 1, Y + 2);
    assert_eq!(h.state(c), TcpState::CloseWait);
    h.events();
    (h, c, x)
}

/// SYN-RECEIVED through a simultaneous open: our SYN (x), the peer's SYN (Y), our SYN,ACK.
fn simultaneous_syn_received() -> (Harness, ferrotcp::TcpHandle, u32) {
    let mut h = Harness::new();
    let (c, x) = h.connect();
    h.send(syn(Y), &[]);
    h.expect_one().assert(SYN_ACK, x, Y + 1);
    assert_eq!(h.state(c), TcpState::SynReceived);
    (h, c, x)
}

// ---------------------------------------------------------------------------------------------
// Figure 5 transitions
// ---------------------------------------------------------------------------------------------

/// §3.10.1 OPEN, passive: CLOSED -> LISTEN. A SYN to the port is then answered with SYN,ACK
/// instead of the RST a closed port draws.
#[test]
fn closed_to_listen_on_passive_open() {
    let mut h = Harness::new();
    h.send(syn(Y), &[]);
    h.expect_one().assert(RST_ACK, 0, Y + 1);
    h.listen();
    assert_eq!(h.stack.tcp_listener_count(), 1);
    h.send(syn(Y + 7), &[]);
    let s = h.expect_one();
    s.assert(SYN_ACK, s.seq(), Y + 8);
}

/// §3.10.4 CLOSE in LISTEN: "Any outstanding RECEIVEs are returned with 'error: closing'
/// responses. Delete TCB, enter CLOSED state". A SYN now draws a RST (§3.10.7.1).
#[test]
fn listen_to_closed_on_close() {
    let mut h = Harness::new();
    let lh = h.listen();
    h.stack.tcp_unlisten(h.now, lh).expect("unlisten");
    assert_eq!(h.stack.tcp_listener_count(), 0);
    h.send(syn(Y), &[]);
    h.expect_one().assert(RST_ACK, 0, Y + 1);
}

/// §3.10.1 OPEN, active, CLOSED: "A SYN segment of the form <SEQ=ISS><CTL=SYN> is sent. Set
/// SND.UNA to ISS, SND.NXT to ISS+1, enter SYN-SENT state".
#[test]
fn closed_to_syn_sent_on_active_open() {
    let mut h = Harness::new();
    let (c, x) = h.connect();
    assert_eq!(h.state(c), TcpState::SynSent);
    assert_eq!(h.transitions(), [(TcpState::Closed, TcpState::SynSent)]);
    // SND.NXT = ISS+1: a RST for a bogus ACK carries SEG.ACK, and an ACK of x+1 is acceptable.
    h.send(syn_ack(Y, x + 1), &[]);
    h.expect_one().assert(ACK, x + 1, Y + 1);
}

/// §3.10.7.2 LISTEN, third: "Set RCV.NXT to SEG.SEQ+1, IRS is set to SEG.SEQ ... a SYN segment
/// sent of the form: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. SND.NXT is set to ISS+1 and SND.UNA to
/// ISS. The connection state should be changed to SYN-RECEIVED."
#[test]
fn listen_to_syn_received_on_syn() {
    let mut h = Harness::new();
    let lh = h.listen();
    h.send(syn(Y), &[]);
    let s = h.expect_one();
    s.assert(SYN_ACK, s.seq(), Y + 1);
    assert!(s.payload.is_empty());
    assert_eq!(h.transitions(), [(TcpState::Listen, TcpState::SynReceived)]);
    // Not established yet: nothing to accept, no event.
    assert_eq!(h.stack.tcp_accept(lh), Ok(None));
    assert_eq!(h.events(), []);
    assert_eq!(h.stack.tcp_connection_count(), 1);
}

/// §3.10.7.3 SYN-SENT, fourth: SYN with an acceptable ACK: "If SND.UNA > ISS (our SYN has been
/// ACKed), change the connection state to ESTABLISHED, form an ACK segment
/// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and send it." The whole three-way handshake (Figure 7).
#[test]
fn syn_sent_to_established_on_syn_ack() {
    let mut h = Harness::new();
    let (c, x) = h.connect(); // SYN seq=x
    h.events();
    h.send(syn_ack(Y, x + 1), &[]); // SYN,ACK seq=Y ack=x+1
    let s = h.expect_one(); // ACK seq=x+1 ack=Y+1
    s.assert(ACK, x + 1, Y + 1);
    assert!(s.payload.is_empty());
    assert_eq!(h.state(c), TcpState::Established);
    assert_eq!(h.events(), [Event::Connected(c)]);
    assert_eq!(
        h.transitions(),
        [
            (TcpState::Closed, TcpState::SynSent),
            (TcpState::SynSent, TcpState::Established)
        ]
    );
}

/// §3.10.7.3 SYN-SENT, fourth: SYN without ACK: "Otherwise, enter SYN-RECEIVED, form a SYN,ACK
/// segment <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it." (Figure 8, simultaneous open.)
#[test]
fn syn_sent_to_syn_received_on_simultaneous_syn() {
    let mut h = Harness::new();
    let (c, x) = h.connect();
    h.send(syn(Y), &[]);
    let s = h.expect_one();
    s.assert(SYN_ACK, x, Y + 1);
    assert_eq!(s.repr.options.mss, Some(1460));
    assert_eq!(h.state(c), TcpState::SynReceived);
    assert_eq!(h.events(), []);
}

/// §3.10.7.4 fifth, SYN-RECEIVED: "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED
/// state and continue processing". Passive side of Figure 7.
#[test]
fn syn_received_to_established_on_ack() {
    let mut h = Harness::new();
    let lh = h.listen();
    let x = h.syn_to_listener();
    h.transitions();
    h.send(seg(ACK, Y + 1, x + 1), &[]);
    h.expect_none();
    assert_eq!(h.events(), [Event::Incoming(lh)]);
    assert_eq!(
        h.transitions(),
        [(TcpState::SynReceived, TcpState::Established)]
    );
    let c = h
        .stack
        .tcp_accept(lh)
        .unwrap()
        .expect("accepted connection");
    assert_eq!(h.state(c), TcpState::Established);
    // The connection is synchronized at x+1 / Y+1: data flows both ways.
    h.send(seg(ACK, Y + 1, x + 1), b"ping");
    h.stack.tcp_set_nodelay(c, true).unwrap();
    h.stack.tcp_send(h.now, c, b"pong").unwrap();
    let s = h.expect_one();
    s.assert(ACK, x + 1, Y + 5);
    assert_eq!(s.payload, b"pong");
}

/// Same transition after a simultaneous open: the active side reports `Connected`.
#[test]
fn syn_received_to_established_on_ack_after_simultaneous_open() {
    let (mut h, c, x) = simultaneous_syn_received();
    h.events();
    h.send(seg(ACK, Y + 1, x + 1), &[]);
    h.expect_none();
    assert_eq!(h.state(c), TcpState::Established);
    assert_eq!(h.events(), [Event::Connected(c)]);
}

/// §3.10.7.4 second, SYN-RECEIVED (MUST-11 via Figure 5 "rcv RST" back to LISTEN): "If this
/// connection was initiated with a passive OPEN (i.e., came from the LISTEN state), then return
/// this connection to LISTEN state and return. The user need not be informed." The listener
/// still accepts new SYNs.
#[test]
fn syn_received_back_to_listen_on_rst() {
    let mut h = Harness::new();
    let lh = h.listen();
    h.syn_to_listener();
    h.send(seg(RST, Y + 1, 0), &[]);
    h.expect_none();
    assert_eq!(h.events(), [], "the user need not be informed");
    assert_eq!(h.stack.tcp_connection_count(), 0);
    assert_eq!(h.stack.tcp_listener_count(), 1);
    assert_eq!(h.stack.tcp_accept(lh), Ok(None));
    // A fresh SYN from the same port gets a fresh SYN,ACK and completes.
    h.send(syn(5_000), &[]);
    let s = h.expect_one();
    s.assert(SYN_ACK, s.seq(), 5_001);
    h.send(seg(ACK, 5_001, s.seq() + 1), &[]);
    h.expect_none();
    assert_eq!(h.events(), [Event::Incoming(lh)]);
    assert!(h.stack.tcp_accept(lh).unwrap().is_some());
}

/// Figure 8 (simultaneous open), line 6: in SYN-RECEIVED, the peer's <SEQ=Y><ACK=x+1><CTL=SYN,ACK>
/// moves the connection to ESTABLISHED. (The acceptability test of §3.10.7.4 read literally
/// rejects this segment, SEG.SEQ+SEG.LEN-1 = Y < RCV.NXT; Linux accepts it, see
/// tcp_validate_incoming's simultaneous-open exception.) An ACK <SEQ=x+1><ACK=Y+1> in reply is
/// allowed; a SYN or RST is not.
#[test]
fn syn_received_to_established_on_simultaneous_syn_ack_figure_8() {
    let (mut h, c, x) = simultaneous_syn_received();
    h.events();
    h.send(syn_ack(Y, x + 1), &[]);
    for s in h.output() {
        s.assert(ACK, x + 1, Y + 1);
    }
    assert_eq!(h.state(c), TcpState::Established);
    assert_eq!(h.events(), [Event::Connected(c)]);
}

/// §3.10.7.4 fourth, SYN-RECEIVED: "If the connection was initiated with a passive OPEN, then
/// return this connection to the LISTEN state and return." A new SYN that passes the
/// acceptability test (in the window, not a retransmission of the first) ends the embryonic
/// connection; the listener stays. The peer's ACK of the old SYN,ACK then meets LISTEN, which
/// answers <SEQ=SEG.ACK><CTL=RST> (§3.10.7.2).
#[test]
fn syn_received_passive_in_window_syn_returns_to_listen() {
    let mut h = Harness::new();
    let lh = h.listen();
    let x = h.syn_to_listener();
    h.send(syn(Y + 1 + 10), &[]);
    h.expect_none();
    assert_eq!(h.stack.tcp_connection_count(), 0);
    assert_eq!(h.stack.tcp_listener_count(), 1);
    h.send(seg(ACK, Y + 1, x + 1), &[]);
    h.expect_one().assert(RST, x + 1, 0);
    assert_eq!(h.stack.tcp_accept(lh), Ok(None));
}

/// §3.10.7.4 second, SYN-RECEIVED: "If this connection was initiated with an active OPEN (i.e.,
/// came from SYN-SENT state), then the connection was refused; signal the user 'connection
/// refused'. ... enter the CLOSED state and delete the TCB".
#[test]
fn syn_received_active_open_rst_refuses() {
    let (mut h, c, _x) = simultaneous_syn_received();
    h.events();
    h.send(seg(RST, Y + 1, 0), &[]);
    h.expect_none();
    assert_eq!(h.state(c), TcpState::Closed);
    assert_eq!(h.events(), [Event::Closed(c, CloseReason::Refused)]);
}

/// §3.10.4 CLOSE, SYN-RECEIVED: "If no SENDs have been issued and there is no pending data to
/// send, then form a FIN segment and send it, and enter FIN-WAIT-1 state". Figure 5:
/// SYN-RCVD --CLOSE/snd FIN--> FIN-WAIT-1.
#[test]
fn syn_received_to_fin_wait_1_on_close() {
    let (mut h, c, x) = simultaneous_syn_received();
    h.stack.tcp_shutdown(h.now, c).expect("shutdown");
    assert_eq!(h.state(c), TcpState::FinWait1);
    h.expect_one().assert(FIN_ACK, x + 1, Y + 1);
    // The peer acknowledges SYN and FIN at once.
    h.send(seg(ACK, Y + 1, x + 2), &[]);
    h.expect_none();
    assert_eq!(h.state(c), TcpState::FinWait2);
}

/// §3.10.4 CLOSE, SYN-SENT: "Delete the TCB and return 'error: closing' responses to any
/// queued SENDs, or RECEIVEs." No segment is sent; a late SYN,ACK then finds no connection and
/// draws <SEQ=SEG.ACK><CTL=RST> (§3.10.7.1).
#[test]
fn syn_sent_to_closed_on_close() {
    let mut h = Harness::new();
    let (c, x) = h.connect();
    h.events();
    h.stack.tcp_shutdown(h.now, c).expect("close in SYN-SENT");
    h.expect_none();
    assert_eq!(h.state(c), TcpState::Closed);
    assert_eq!(h.events(), [Event::Closed(c, CloseReason::Aborted)]);
    assert_eq!(
        h.stack.tcp_send(h.now, c, b"x"),
        Err(TcpError::Closed(CloseReason::Aborted))
    );
    h.send(syn_ack(Y, x + 1), &[]);
    h.expect_one().assert(RST, x + 1, 0);
    // With `tcp_close` the handle goes away at once as well.
    let mut h = Harness::new();
    let (c, _x) = h.connect();
    h.stack.tcp_close(h.now, c).expect("close in SYN-SENT");
    h.expect_none();
    assert_eq!(h.stack.tcp_connection_count(), 0);
    assert_eq!(h.stack.tcp_state(c), Err(TcpError::InvalidHandle));
}

/// §3.10.7.3 SYN-SENT, second: "If the ACK was acceptable, then signal to the user 'error:
/// connection reset', drop the segment, enter CLOSED state, delete TCB, and return."
#[test]
fn syn_sent_rst_with_acceptable_ack_refuses_connection() {
    let mut h = Harness::new();
    let (c, x) = h.connect();
    h.events();
    h.send(seg(RST_ACK, 0, x + 1), &[]);
    h.expect_none();
    assert_eq!(h.state(c), TcpState::Closed);
    assert_eq!(h.events(), [Event::Closed(c, CloseReason::Refused)]);
}

/// §3.10.7.3 SYN-SENT, second: "Otherwise (no ACK), drop the segment and return." And first:
/// a RST with an unacceptable ACK is dropped too.
#[test]
fn syn_sent_ignores_rst_without_acceptable_ack() {
    let mut h = Harness::new();
    let (c, x) = h.connect();
    h.events();
    h.send(seg(RST, 0, 0), &[]);
    h.send(seg(RST_ACK, 0, x), &[]); // SEG.ACK =< ISS
    h.send(seg(RST_ACK, 0, x + 2), &[]); // SEG.ACK > SND.NXT
    h.expect_none();
    assert_eq!(h.state(c), TcpState::SynSent);
    assert_eq!(h.events(), []);
    h.send(syn_ack(Y, x + 1), &[]);
    h.expect_one().assert(ACK, x + 1, Y + 1);
}

/// §3.10.7.3 SYN-SENT, first: "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the
/// RST bit is set, if so drop the segment and return) <SEQ=SEG.ACK><CTL=RST> and discard the
/// segment. Return."
#[test]
fn syn_sent_unacceptable_ack_draws_rst() {
    let mut h = Harness::new();
    let (c, x) = h.connect();
    h.send(seg(ACK, Y, x + 5), &[]);
    h.expect_one().assert(RST, x + 5, 0);
    h.send(syn_ack(Y, x), &[]);
    h.expect_one().assert(RST, x, 0);
    assert_eq!(h.state(c), TcpState::SynSent);
}

/// §3.10.4 CLOSE, ESTABLISHED: "Queue this until all preceding SENDs have been segmentized,
/// then form a FIN segment and send it. In any case, enter FIN-WAIT-1 state."
#[test]
fn established_to_fin_wait_1_on_close() {
    let mut h = Harness::new();
    let (c, x) = h.establish_active();
    h.stack.tcp_shutdown(h.now, c).expect("shutdown");
    let s = h.expect_one();
    s.assert(FIN_ACK, x + 1, Y + 1);
    assert!(s.payload.is_empty());
    assert_eq!(h.state(c), TcpState::FinWait1);
    assert_eq!(
        h.transitions(),
        [(TcpState::Established, TcpState::FinWait1)]
    );
    // "Queue this until all preceding SENDs have been segmentized": with data queued, the FIN
    // rides on (or follows) the last data segment.
    let mut h = Harness::new();
    let (c, x) = h.establish_active();
    h.stack.tcp_set_nodelay(c, true).unwrap();
    h.stack.tcp_send(h.now, c, b"hello").unwrap();
    h.stack.tcp_shutdown(h.now, c).unwrap();
    let out = h.output();
    let data: Vec<u8> = out.iter().flat_map(|s| s.payload.clone()).collect();
    assert_eq!(data, b"hello", "{}", show(&out));
    let last = out.last().expect("segments");
    assert!(last.flags().fin(), "{}", show(&out));
    assert_eq!(last.seq() + last.seq_len(), x + 7, "{}", show(&out));
}

/// §3.10.7.4 eighth, ESTABLISHED: "Enter the CLOSE-WAIT state", the FIN is acknowledged
/// ("advance RCV.NXT over the FIN, and send an acknowledgment for the FIN"), and the user is
/// told "connection closing".
#[test]
fn established_to_close_wait_on_fin() {
    let mut h = Harness::new();
    let (c, x) = h.establish_active();
    h.send(seg(FIN_ACK, Y + 1, x + 1), &[]);
    h.expect_one().assert(ACK, x + 1, Y + 2);
    assert_eq!(h.state(c), TcpState::CloseWait);
    let ev = h.events();
    assert!(ev.contains(&Event::PeerClosed(c)), "{ev:?}");
    assert!(ev.contains(&Event::Readable(c)), "{ev:?}");
    assert!(!ev.iter().any(|e| matches!(e, Event::Closed(..))), "{ev:?}");
    let mut buf = [0u8; 8];
    assert_eq!(h.stack.tcp_recv(h.now, c, &mut buf), Ok(0), "end of stream");
}

/// §3.10.4 CLOSE, CLOSE-WAIT: "Queue this request until all preceding SENDs have been
/// segmentized; then send a FIN segment, enter LAST-ACK state."
#[test]
fn close_wait_to_last_ack_on_close() {
    let (mut h, c, x) = close_wait();
    h.stack.tcp_shutdown(h.now, c).expect("shutdown");
    h.expect_one().assert(FIN_ACK, x + 1, Y + 2);
    assert_eq!(h.state(c), TcpState::LastAck);
}

/// §3.10.7.4 fifth, LAST-ACK: "The only thing that can arrive in this state is an
/// acknowledgment of our FIN. If our FIN is now acknowledged, delete the TCB, enter the CLOSED
/// state, and return."
#[test]
fn last_ack_to_closed_on_ack_of_fin() {
    let (mut h, c, x) = close_wait();
    h.stack.tcp_shutdown(h.now, c).unwrap();
    h.expect_one().assert(FIN_ACK, x + 1, Y + 2);
    // An ACK that does not cover the FIN leaves us in LAST-ACK.
    h.send(seg(ACK, Y + 2, x + 1), &[]);
    h.expect_none();
    assert_eq!(h.state(c), TcpState::LastAck);
    h.send(seg(ACK, Y + 2, x + 2), &[]);
    h.expect_none();
    assert_eq!(h.state(c), TcpState::Closed);
    assert_eq!(h.events(), [Event::Closed(c, CloseReason::Normal)]);
    h.stack.tcp_release(c).expect("release a closed connection");
    assert_eq!(h.stack.tcp_connection_count(), 0);
}

/// §3.10.7.4 fifth, FIN-WAIT-1: "In addition to the processing for the ESTABLISHED state, if
/// the FIN segment is now acknowledged, then enter FIN-WAIT-2 and continue processing".
#[test]
fn fin_wait_1_to_fin_wait_2_on_ack_of_fin() {
    let (mut h, c, x) = fin_wait_1();
    h.send(seg(ACK, Y + 1, x + 2), &[]);
    h.expect_none();
    assert_eq!(h.state(c), TcpState::FinWait2);
    assert_eq!(
        h.transitions(),
        [
            (TcpState::Established, TcpState::FinWait1),
            (TcpState::FinWait1, TcpState::FinWait2)
        ]
    );
}

/// §3.10.7.4 eighth, FIN-WAIT-1: "If our FIN has been ACKed (perhaps in this segment), then
/// enter TIME-WAIT ...; otherwise, enter the CLOSING state." Simultaneous close (Figure 13).
#[test]
fn fin_wait_1_to_closing_on_fin() {
    let (mut h, c, x) = fin_wait_1();
    h.send(seg(FIN_ACK, Y + 1, x + 1), &[]); // the peer's FIN crosses ours
    h.expect_one().assert(ACK, x + 2, Y + 2);
    assert_eq!(h.state(c), TcpState::Closing);
}

/// §3.10.7.4 eighth, FIN-WAIT-1, with the FIN acknowledged in the same segment: "enter
/// TIME-WAIT, start the time-wait timer, turn off the other timers".
#[test]
fn fin_wait_1_to_time_wait_on_fin_ack() {
    let (mut h, c, x) = fin_wait_1();
    h.send(seg(FIN_ACK, Y + 1, x + 2), &[]);
    h.expect_one().assert(ACK, x + 2, Y + 2);
    assert_eq!(h.state(c), TcpState::TimeWait);
    // "turn off the other timers": the next deadline is the 2 MSL timer itself (or ARP's).
    let next = h.stack.poll_timeout().expect("TIME-WAIT timer");
    assert!(next <= h.now + TWO_MSL);
}

/// §3.10.7.4 eighth, FIN-WAIT-2: "Enter the TIME-WAIT state. Start the time-wait timer, turn
/// off the other timers."
#[test]
fn fin_wait_2_to_time_wait_on_fin() {
    let (mut h, c, x) = fin_wait_2();
    h.send(seg(FIN_ACK, Y + 1, x + 2), &[]);
    h.expect_one().assert(ACK, x + 2, Y + 2);
    assert_eq!(h.state(c), TcpState::TimeWait);
    let ev = h.events();
    assert!(ev.contains(&Event::PeerClosed(c)), "{ev:?}");
}

/// §3.10.7.4 fifth, CLOSING: "In addition to the processing for the ESTABLISHED state, if the
/// ACK acknowledges our FIN, then enter the TIME-WAIT state; otherwise, ignore the segment."
#[test]
fn closing_to_time_wait_on_ack_of_fin() {
    let (mut h, c, x) = fin_wait_1();
    h.send(seg(FIN_ACK, Y + 1, x + 1), &[]);
    h.expect_one().assert(ACK, x + 2, Y + 2);
    assert_eq!(h.state(c), TcpState::Closing);
    h.send(seg(ACK, Y + 2, x + 2), &[]);
    h.expect_none();
    assert_eq!(h.state(c), TcpState::TimeWait);
}

/// §3.10.8 "Time-Wait Timeout: If the time-wait timeout expires on a connection, delete the TCB,
/// enter the CLOSED state, and return." The timeout is exactly 2×MSL after entering TIME-WAIT.
#[test]
fn time_wait_to_closed_after_2msl() {
    let (mut h, c, _x) = time_wait();
    let entered = h.now;
    h.advance_to(entered + (TWO_MSL - ONE_MICRO));
    assert_eq!(h.state(c), TcpState::TimeWait);
    assert_eq!(h.events(), []);
    h.advance_to(entered + TWO_MSL);
    assert_eq!(h.state(c), TcpState::Closed);
    assert_eq!(h.events(), [Event::Closed(c, CloseReason::Normal)]);
    h.expect_none();
}

/// §3.10.7.4 eighth, TIME-WAIT: "Remain in the TIME-WAIT state. Restart the 2 MSL time-wait
/// timeout." (and first step: the retransmitted FIN is acknowledged).
#[test]
fn time_wait_reacks_retransmitted_fin_and_restarts_timer() {
    let (mut h, c, x) = time_wait();
    let entered = h.now;
    h.advance(Duration::from_secs(10));
    h.send(seg(FIN_ACK, Y + 1, x + 2), &[]); // our ACK was lost; the peer retransmits
    h.expect_one().assert(ACK, x + 2, Y + 2);
    let restarted = h.now;
    h.advance_to(entered + TWO_MSL);
    assert_eq!(h.state(c), TcpState::TimeWait, "timer restarted");
    h.advance_to(restarted + (TWO_MSL - ONE_MICRO));
    assert_eq!(h.state(c), TcpState::TimeWait);
    h.advance_to(restarted + TWO_MSL);
    assert_eq!(h.state(c), TcpState::Closed);
    assert_eq!(h.events(), [Event::Closed(c, CloseReason::Normal)]);
}

/// The whole active close with `tcp_close` (the handle is released at once; the connection
/// finishes on its own): ESTABLISHED -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT -> CLOSED.
/// §3.10.7.4 fifth step, TIME-WAIT: "The only thing that can arrive in this state is a
/// retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL timeout." An
/// acceptable segment that is not a duplicate is answered the same way (it used to be dropped
/// in silence).
#[test]
fn time_wait_acks_an_acceptable_segment_and_restarts_the_timer() {
    let (mut h, c, x) = time_wait();
    let entered = h.now;
    h.advance(Duration::from_secs(10));
    h.send(seg(ACK, Y + 2, x + 2), &[]);
    h.expect_one().assert(ACK, x + 2, Y + 2);
    h.advance_to(entered + TWO_MSL);
    assert_eq!(
        h.state(c),
        TcpState::TimeWait,
        "2 MSL counts again from 10 s later"
    );
    h.advance(Duration::from_secs(10));
    assert_eq!(h.state(c), TcpState::Closed);
}

#[test]
fn active_close_with_tcp_close_runs_through_time_wait() {
    let mut h = Harness::new();
    let (c, x) = h.establish_active();
    h.stack.tcp_close(h.now, c).expect("close");
    h.expect_one().assert(FIN_ACK, x + 1, Y + 1);
    assert_eq!(h.stack.tcp_state(c), Err(TcpError::InvalidHandle));
    h.send(seg(ACK, Y + 1, x + 2), &[]);
    h.send(seg(FIN_ACK, Y + 1, x + 2), &[]);
    h.expect_one().assert(ACK, x + 2, Y + 2);
    assert_eq!(
        h.stack.tcp_connection_count(),
        1,
        "TIME-WAIT holds the 4-tuple"
    );
    h.advance(TWO_MSL);
    assert_eq!(h.stack.tcp_connection_count(), 0);
    assert_eq!(
        h.transitions(),
        [
            (TcpState::Established, TcpState::FinWait1),
            (TcpState::FinWait1, TcpState::FinWait2),
            (TcpState::FinWait2, TcpState::TimeWait),
            (TcpState::TimeWait, TcpState::Closed),
        ]
    );
    assert_eq!(h.events(), [], "the handle was given up");
}

// ---------------------------------------------------------------------------------------------
// Resets (§3.10.7.1, §3.10.7.2)
// ---------------------------------------------------------------------------------------------

/// §3.10.7.1 CLOSED: "If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>".
#[test]
fn closed_port_rst_for_segment_with_ack() {
    let mut h = Harness::new();
    h.send(seg(ACK, 5, 777), &[0xAA; 10]);
    let s = h.expect_one();
    s.assert(RST, 777, 0);
    assert_eq!(s.flags(), RST, "no ACK bit");
    assert!(s.payload.is_empty());
    assert_eq!((s.repr.src_port, s.repr.dst_port), (STACK_PORT, PEER_PORT));
}

/// §3.10.7.1 CLOSED: "If the ACK bit is off, sequence number zero is used,
/// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>".
#[test]
fn closed_port_rst_ack_for_segment_without_ack() {
    let mut h = Harness::new();
    h.send(syn(Y), &[]);
    h.expect_one().assert(RST_ACK, 0, Y + 1);
    // SEG.LEN counts the data and the FIN.
    h.send(seg(TcpFlags::FIN, 9_000, 0), &[1; 10]);
    h.expect_one().assert(RST_ACK, 0, 9_011);
    // A bare segment without any control bit: SEG.LEN = 0.
    h.send(seg(TcpFlags::empty(), 4_000, 0), &[]);
    h.expect_one().assert(RST_ACK, 0, 4_000);
}

/// §3.10.7.1 CLOSED: "An incoming segment containing a RST is discarded."
#[test]
fn closed_port_discards_rst() {
    let mut h = Harness::new();
    h.send(seg(RST, 5, 0), &[]);
    h.send(seg(RST_ACK, 5, 9), &[]);
    h.expect_none();
}

/// §3.10.7.2 LISTEN, second: "Any acknowledgment is bad if it arrives on a connection still in
/// the LISTEN state. An acceptable reset segment should be formed for any arriving ACK-bearing
/// segment. The RST should be formatted as follows: <SEQ=SEG.ACK><CTL=RST>".
#[test]
fn listen_rsts_an_ack() {
    let mut h = Harness::new();
    h.listen();
    h.send(seg(ACK, 5, 777), &[]);
    let s = h.expect_one();
    s.assert(RST, 777, 0);
    assert_eq!(s.flags(), RST);
    // A SYN,ACK is ACK-bearing too.
    h.send(syn_ack(5, 4_242), &[]);
    h.expect_one().assert(RST, 4_242, 0);
    assert_eq!(h.stack.tcp_connection_count(), 0);
}

/// §3.10.7.2 LISTEN, first: "An incoming RST segment could not be valid ... should be ignored";
/// fourth: "Any other control or text-bearing segment (not containing SYN) ... drop it".
#[test]
fn listen_ignores_rst_and_segments_without_syn() {
    let mut h = Harness::new();
    h.listen();
    h.send(seg(RST, 5, 0), &[]);
    h.send(seg(TcpFlags::empty(), 5, 0), b"data");
    h.send(seg(TcpFlags::FIN, 5, 0), &[]);
    h.expect_none();
    assert_eq!(h.stack.tcp_connection_count(), 0);
}

/// §3.10.7.4 fifth, SYN-RECEIVED: "If the segment acknowledgment is not acceptable, form a
/// reset segment <SEQ=SEG.ACK><CTL=RST> and send it." The connection stays half-open.
#[test]
fn syn_received_bad_ack_draws_rst() {
    let mut h = Harness::new();
    let lh = h.listen();
    let x = h.syn_to_listener();
    h.send(seg(ACK, Y + 1, x + 50), &[]);
    h.expect_one().assert(RST, x + 50, 0);
    h.send(seg(ACK, Y + 1, x), &[]); // SEG.ACK = SND.UNA: not acceptable either
    h.expect_one().assert(RST, x, 0);
    assert_eq!(h.stack.tcp_accept(lh), Ok(None));
    h.send(seg(ACK, Y + 1, x + 1), &[]);
    h.expect_none();
    assert!(h.stack.tcp_accept(lh).unwrap().is_some());
}

// ---------------------------------------------------------------------------------------------
// Acceptability (§3.10.7.4 first) and RFC 5961
// ---------------------------------------------------------------------------------------------

/// §3.10.7.4 first: "If a segment's contents straddle the boundary between old and new, only
/// the new parts are processed. ... If an incoming segment is not acceptable, an
/// acknowledgment should be sent in reply: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>".
#[test]
fn unacceptable_segments_draw_an_ack() {
    let mut h = Harness::new();
    let (c, x) = h.establish_active();
    // RCV.WND is at most 65535 here (the peer sent no window scale): beyond the right edge.
    h.send(seg(ACK, Y + 1 + 70_000, x + 1), &[7; 10]);
    h.expect_one().assert(ACK, x + 1, Y + 1);
    // Wholly old data (a duplicate of bytes before RCV.NXT).
    h.send(seg(ACK, Y + 1 - 20, x + 1), &[7; 10]);
    h.expect_one().assert(ACK, x + 1, Y + 1);
    // A zero-length segment outside the window.
    h.send(seg(ACK, Y + 1 + 70_000, x + 1), &[]);
    h.expect_one().assert(ACK, x + 1, Y + 1);
    let mut buf = [0u8; 16];
    assert_eq!(
        h.stack.tcp_recv(h.now, c, &mut buf),
        Err(TcpError::WouldBlock)
    );
    assert_eq!(h.state(c), TcpState::Established);
    // A segment straddling RCV.NXT: only the new part is taken.
    h.send(seg(ACK, Y + 1 - 3, x + 1), b"oldnew");
    h.advance(Duration::from_millis(500)); // delayed ACK
    h.expect_one().assert(ACK, x + 1, Y + 4);
    assert_eq!(h.stack.tcp_recv(h.now, c, &mut buf), Ok(3));
    assert_eq!(&buf[..3], b"new");
}

/// §3.10.7.4 first: "(unless the RST bit is set, if so drop the segment and return)". RFC 5961
/// §3.2: "If the RST bit is set and the sequence number is outside the current receive window,
/// silently drop the segment."
#[test]
fn out_of_window_rst_is_dropped_silently() {
    let mut h = Harness::new();
    let (c, _x) = h.establish_active();
    h.send(seg(RST, Y + 1 + 70_000, 0), &[]);
    h.send(seg(RST, Y, 0), &[]);
    h.expect_none();
    assert_eq!(h.state(c), TcpState::Established);
    assert_eq!(h.events(), []);
}

/// §3.10.7.4 second (RFC 5961 §3.2): "If the RST bit is set and the sequence number does not
/// exactly match the next expected sequence value, yet is within the current receive window,
/// TCP endpoints MUST send an acknowledgment (challenge ACK): <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>".
#[test]
fn in_window_inexact_rst_draws_challenge_ack() {
    let mut h = Harness::new();
    let (c, x) = h.establish_active();
    h.send(seg(RST, Y + 1 + 100, 0), &[]);
    h.expect_one().assert(ACK, x + 1, Y + 1);
    assert_eq!(h.state(c), TcpState::Established);
    assert_eq!(h.events(), []);
}

/// §3.10.7.4 second: "If the RST bit is set and the sequence number exactly matches the next
/// expected sequence number (RCV.NXT), then TCP endpoints MUST reset the connection": in
/// ESTABLISHED "... users should also receive an unsolicited general 'connection reset' signal.
/// Enter the CLOSED state".
#[test]
fn exact_rst_resets_established_connection() {
    let mut h = Harness::new();
    let (c, _x) = h.establish_active();
    h.send(seg(RST, Y + 1, 0), &[]);
    h.expect_none();
    assert_eq!(h.state(c), TcpState::Closed);
    assert_eq!(h.events(), [Event::Closed(c, CloseReason::Reset)]);
    let mut buf = [0u8; 4];
    assert_eq!(
        h.stack.tcp_recv(h.now, c, &mut buf),
        Err(TcpError::Closed(CloseReason::Reset))
    );
}

/// §3.10.7.4 fourth (RFC 5961 §4.2): "If the SYN bit is set, irrespective of the sequence
/// number, TCP endpoints MUST send a 'challenge ACK' to the remote peer:
/// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. After sending the acknowledgment, TCP implementations
/// MUST drop the unacceptable segment and stop processing further."
#[test]
fn syn_in_established_draws_challenge_ack() {
    let mut h = Harness::new();
    let (c, x) = h.establish_active();
    h.send(syn(Y + 1 + 10), &[]); // in the window
    h.expect_one().assert(ACK, x + 1, Y + 1);
    h.send(syn(Y + 1 + 1_000_000), &[]); // far outside it
    h.expect_one().assert(ACK, x + 1, Y + 1);
    assert_eq!(h.state(c), TcpState::Established);
    assert_eq!(h.events(), []);
}

/// §3.10.7.4 fifth: "If the ACK acknowledges something not yet sent (SEG.ACK > SND.NXT), then
/// send an ACK, drop the segment, and return."
#[test]
fn ack_of_unsent_data_draws_ack_and_drops() {
    let mut h = Harness::new();
    let (c, x) = h.establish_active();
    h.send(seg(ACK, Y + 1, x + 1_000), b"dropped");
    h.expect_one().assert(ACK, x + 1, Y + 1);
    let mut buf = [0u8; 16];
    assert_eq!(
        h.stack.tcp_recv(h.now, c, &mut buf),
        Err(TcpError::WouldBlock)
    );
}

/// §3.10.7.4 fifth: "if the ACK bit is off, drop the segment and return". Text without ACK is
/// not delivered and draws nothing.
#[test]
fn segment_without_ack_bit_is_dropped() {
    let mut h = Harness::new();
    let (c, _x) = h.establish_active();
    h.send(seg(TcpFlags::PSH, Y + 1, 0), b"no ack");
    h.advance(Duration::from_millis(500));
    h.expect_none();
    let mut buf = [0u8; 16];
    assert_eq!(
        h.stack.tcp_recv(h.now, c, &mut buf),
        Err(TcpError::WouldBlock)
    );
    assert_eq!(h.events(), []);
}

// ---------------------------------------------------------------------------------------------
// Half-close and MSS
// ---------------------------------------------------------------------------------------------

/// §3.10.2 SEND, CLOSE-WAIT: "Segmentize any text to be sent and queue for output." The peer's
/// FIN closes only its direction (§3.6): the stack keeps sending until it closes too.
#[test]
fn half_close_stack_keeps_sending_in_close_wait() {
    let (mut h, c, x) = close_wait();
    assert_eq!(h.stack.tcp_send(h.now, c, b"hello"), Ok(5));
    let s = h.expect_one();
    s.assert(ACK, x + 1, Y + 2);
    assert_eq!(s.payload, b"hello");
    h.send(seg(ACK, Y + 2, x + 6), &[]);
    h.expect_none();
    assert_eq!(h.stack.tcp_send(h.now, c, b" world"), Ok(6));
    let s = h.expect_one();
    s.assert(ACK, x + 6, Y + 2);
    assert_eq!(s.payload, b" world");
    h.stack.tcp_shutdown(h.now, c).unwrap();
    let s = h.expect_one();
    assert!(s.flags() == FIN_ACK || s.flags() == FIN_ACK_PSH, "{s}");
    assert_eq!(s.seq(), x + 12);
    assert_eq!(h.state(c), TcpState::LastAck);
}

/// Our own half-close: in FIN-WAIT-2 "if the retransmission queue is empty, the user's CLOSE
/// can be acknowledged" but text keeps arriving (§3.10.7.4 seventh, FIN-WAIT-2).
#[test]
fn fin_wait_2_keeps_receiving() {
    let (mut h, c, x) = fin_wait_2();
    h.send(seg(ACK, Y + 1, x + 2), b"still here");
    h.advance(Duration::from_millis(500));
    h.expect_one().assert(ACK, x + 2, Y + 11);
    let mut buf = [0u8; 32];
    assert_eq!(h.stack.tcp_recv(h.now, c, &mut buf), Ok(10));
    assert_eq!(&buf[..10], b"still here");
}

/// §3.7.1 (MUST-14): "TCP implementations MUST include the MSS option in SYN segments" with the
/// value derived from the MTU: 1500 - 20 - 20 = 1460. Both the SYN and the SYN,ACK.
#[test]
fn syn_carries_mss_option_1460() {
    let mut h = Harness::new();
    let remote = std::net::SocketAddrV4::new(PEER_IP, PEER_PORT);
    h.stack
        .tcp_connect(h.now, remote, Some(STACK_PORT))
        .unwrap();
    let s = h.expect_one();
    assert_eq!(s.flags(), SYN);
    assert_eq!(s.repr.options.mss, Some(1460));

    let mut h = Harness::new();
    h.listen();
    h.send(seg(SYN, Y, 0), &[]); // the peer's SYN has no MSS option
    let s = h.expect_one();
    assert_eq!(s.flags() & !TcpFlags::PSH, SYN_ACK);
    assert_eq!(s.repr.options.mss, Some(1460));
}

/// RFC 7323 §2.2: "A TCP MAY send the Window Scale option in a <SYN,ACK> segment only if it
/// received a Window Scale option in the initial <SYN> segment."
#[test]
fn syn_ack_carries_window_scale_only_if_offered() {
    let mut h = Harness::new();
    h.listen();
    h.send(syn(Y), &[]);
    assert_eq!(h.expect_one().repr.options.window_scale, None);

    let mut h = Harness::new();
    h.listen();
    let mut s = syn(Y);
    s.options.window_scale = Some(7);
    h.send(s, &[]);
    assert!(h.expect_one().repr.options.window_scale.is_some());
}

/// Checks that 2000 bytes go out in segments of at most 536 bytes, the first three full.
fn assert_segments_of_536(h: &mut Harness, c: ferrotcp::TcpHandle, x: u32, ack: u32) {
    h.stack.tcp_set_nodelay(c, true).unwrap();
    assert_eq!(h.stack.tcp_send(h.now, c, &[0x5A; 2000]), Ok(2000));
    let out = h.output();
    let lens: Vec<usize> = out.iter().map(|s| s.payload.len()).collect();
    assert!(lens.iter().all(|&l| l <= 536), "{}", show(&out));
    assert_eq!(lens.iter().sum::<usize>(), 2000, "{}", show(&out));
    assert_eq!(lens[..3], [536, 536, 536], "{}", show(&out));
    let mut seq = x + 1;
    for s in &out {
        s.assert(ACK, seq, ack);
        seq += s.payload.len() as u32;
    }
}

/// §3.7.1 (MUST-15): "If an MSS Option is not received at connection setup, TCP
/// implementations MUST assume a default send MSS of 536 (576 - 40) for IPv4". Passive side.
#[test]
fn default_mss_536_when_peer_sends_none_passive() {
    let mut h = Harness::new();
    let lh = h.listen();
    h.send(seg(SYN, Y, 0), &[]);
    let x = h.expect_one().seq();
    h.send(seg(ACK, Y + 1, x + 1), &[]);
    let c = h.stack.tcp_accept(lh).unwrap().expect("accepted");
    assert_segments_of_536(&mut h, c, x, Y + 1);
}

/// MUST-15, active side: the SYN,ACK carries no MSS option.
#[test]
fn default_mss_536_when_peer_sends_none_active() {
    let mut h = Harness::new();
    let (c, x) = h.connect();
    h.send(seg(SYN_ACK, Y, x + 1), &[]);
    h.expect_one().assert(ACK, x + 1, Y + 1);
    assert_segments_of_536(&mut h, c, x, Y + 1);
}
