//! Virtual time: timers fire exactly when asked, deadlines stop the run, ties are FIFO.

mod common;

use common::{TestNode, ms, numbered, pair};
use ferrotcp::time::Instant;
use ferrotcp_sim::{Impairments, LinkConfig, Network, SimEvent};

#[test]
fn timers_fire_at_their_virtual_time() {
    let t1 = Instant::from_micros(1_500_000);
    let t2 = Instant::from_secs(3);
    let node = TestNode {
        scheduled: [(t1, numbered(0, 8)), (t2, numbered(1, 8))].into(),
        ..TestNode::default()
    };
    let mut net = Network::new(0);
    let a = net.add_host(node);
    assert!(net.step());
    assert_eq!(net.now(), t1);
    assert_eq!(net.host(a).fired, vec![t1]);
    assert!(net.step());
    assert_eq!(net.now(), t2);
    assert_eq!(net.host(a).fired, vec![t1, t2]);
    assert!(!net.step(), "nothing left");
    assert_eq!(net.now(), t2);
    // Unlinked host: its frames go nowhere, counted as unroutable.
    assert_eq!(net.stats().unroutable, 2);
}

#[test]
fn round_trip_takes_two_delays() {
    let (mut net, a, _) = pair(
        0,
        TestNode::burst(1, 8),
        TestNode::echo(),
        Impairments::default(),
    );
    net.link(a, a, LinkConfig::default())
        .expect_err("already linked");
    let mut net2 = Network::new(0);
    let a2 = net2.add_host(TestNode::burst(1, 8));
    let b2 = net2.add_host(TestNode::echo());
    net2.link(
        a2,
        b2,
        LinkConfig::symmetric(Impairments::with_delay(ms(10))),
    )
    .expect("valid link");
    net2.run_until(Instant::from_secs(1));
    assert_eq!(net2.host(b2).received[0].0, Instant::from_millis(10));
    assert_eq!(net2.host(a2).received[0].0, Instant::from_millis(20));
    assert_eq!(
        net2.now(),
        Instant::from_millis(20),
        "idle: clock stays at the last event"
    );
    net.run_until(Instant::from_secs(1));
    assert_eq!(net.host(a).received.len(), 1);
}

#[test]
fn run_until_stops_at_the_deadline() {
    let sender = TestNode::paced(5, 8, Instant::from_secs(1), ms(1000));
    let (mut net, _, b) = pair(0, sender, TestNode::sink(), Impairments::default());
    let deadline = Instant::from_micros(2_500_000);
    net.run_until(deadline);
    assert_eq!(net.now(), deadline);
    assert_eq!(net.host(b).received_numbers(), vec![0, 1]);
    net.run_until(Instant::from_secs(3));
    assert_eq!(
        net.now(),
        Instant::from_secs(3),
        "an event exactly at the deadline runs"
    );
    assert_eq!(net.host(b).received_numbers(), vec![0, 1, 2]);
    net.run_until(Instant::from_secs(100));
    assert_eq!(net.now(), Instant::from_secs(5));
    assert_eq!(net.host(b).received.len(), 5);
}

#[test]
fn run_until_does_not_run_frames_past_the_deadline() {
    let imp = Impairments::with_delay(ms(50));
    let (mut net, _, b) = pair(0, TestNode::burst(1, 8), TestNode::sink(), imp);
    net.run_until(Instant::from_millis(49));
    assert_eq!(net.in_flight(), 1);
    assert!(net.host(b).received.is_empty());
    assert_eq!(net.now(), Instant::from_millis(49));
    net.run_until(Instant::from_millis(50));
    assert_eq!(net.host(b).received.len(), 1);
}

#[test]
fn advance_to_lets_idle_time_pass_and_app_frames_leave_then() {
    let imp = Impairments::with_delay(ms(10));
    let (mut net, a, b) = pair(0, TestNode::sink(), TestNode::sink(), imp);
    net.run_until(Instant::from_secs(2));
    assert_eq!(net.now(), Instant::ZERO, "nothing happened");
    net.advance_to(Instant::from_secs(2));
    assert_eq!(net.now(), Instant::from_secs(2));
    // An "application call" through host_mut: the frame enters the link at the current time.
    net.host_mut(a).outbox.push_back(numbered(42, 8));
    assert!(net.step());
    assert_eq!(net.host(b).received[0].0, Instant::from_secs(2) + ms(10));
}

#[test]
fn run_until_pred_stops_when_true_or_out_of_steps() {
    let sender = TestNode::paced(10, 8, Instant::ZERO, ms(1));
    let (mut net, _, b) = pair(0, sender, TestNode::sink(), Impairments::default());
    let got = net.run_until_pred(Instant::from_secs(1), u64::MAX, |n| {
        n.host(b).received.len() == 3
    });
    assert!(got);
    assert_eq!(net.host(b).received.len(), 3);
    assert_eq!(net.now(), Instant::from_millis(2));
    // Already true: runs nothing.
    let steps = net.steps();
    assert!(net.run_until_pred(Instant::from_secs(1), 10, |_| true));
    assert_eq!(net.steps(), steps);
    // Step budget.
    assert!(!net.run_until_pred(Instant::from_secs(1), 2, |_| false));
    assert_eq!(net.steps(), steps + 2);
    // Deadline.
    assert!(!net.run_until_pred(Instant::from_millis(5), u64::MAX, |_| false));
    assert_eq!(net.now(), Instant::from_millis(5));
    // Nothing left.
    assert!(!net.run_until_pred(Instant::from_secs(9), u64::MAX, |_| false));
    assert_eq!(net.host(b).received.len(), 10);
}

#[test]
fn same_instant_arrivals_are_fifo() {
    let (mut net, a, b) = pair(
        0,
        TestNode::burst(100, 8),
        TestNode::sink(),
        Impairments::default(),
    );
    net.run_until(Instant::from_secs(1));
    let rx = &net.host(b).received;
    assert!(rx.iter().all(|(t, _)| *t == Instant::ZERO));
    assert_eq!(net.host(b).received_numbers(), (0..100).collect::<Vec<_>>());
    assert_eq!(
        net.host(b).recycled,
        100,
        "every delivered buffer goes to the receiver"
    );
    assert_eq!(net.host(a).recycled, 0);
}

#[test]
fn frame_arrival_runs_before_a_timer_at_the_same_instant() {
    let imp = Impairments::with_delay(ms(5));
    let receiver = TestNode {
        scheduled: [(Instant::from_millis(5), numbered(9, 8))].into(),
        ..TestNode::default()
    };
    let (mut net, _, b) = pair(0, TestNode::burst(1, 8), receiver, imp);
    assert!(net.step());
    assert_eq!(net.host(b).received.len(), 1);
    assert!(net.host(b).fired.is_empty());
    assert!(net.step());
    assert_eq!(net.host(b).fired, vec![Instant::from_millis(5)]);
    let kinds: Vec<&str> = net
        .trace()
        .iter()
        .map(|r| match r.event {
            SimEvent::FrameSent { .. } => "sent",
            SimEvent::FrameDelivered { .. } => "delivered",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, vec!["sent", "delivered", "sent"]);
}
