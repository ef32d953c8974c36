//! Each impairment does what it says, and nothing else.

mod common;

use common::{TestNode, ms, pair, us};
use ferrotcp::time::Instant;
use ferrotcp_sim::{Impairments, LossReason, SimEvent};

#[test]
fn loss_rate_is_roughly_as_configured() {
    let imp = Impairments {
        loss: 0.1,
        ..Impairments::default()
    };
    let (mut net, _, b) = pair(99, TestNode::burst(10_000, 64), TestNode::sink(), imp);
    net.set_tracing(false);
    net.run_until(Instant::from_secs(1));
    let s = net.stats();
    assert_eq!(s.sent, 10_000);
    assert_eq!(s.lost + s.delivered, 10_000);
    // Expected 1000 lost, sd = 30: +-200 is far outside chance, well inside a broken model.
    assert!((800..=1200).contains(&s.lost), "lost {}", s.lost);
    assert_eq!(net.host(b).received.len() as u64, s.delivered);
}

#[test]
fn no_loss_on_a_perfect_link() {
    let (mut net, _, b) = pair(
        1,
        TestNode::burst(1000, 64),
        TestNode::sink(),
        Impairments::default(),
    );
    net.run_until(Instant::from_secs(1));
    assert_eq!(
        net.host(b).received_numbers(),
        (0..1000).collect::<Vec<_>>()
    );
    let s = net.stats();
    assert_eq!(
        (s.lost, s.duplicated, s.reordered, s.corrupted),
        (0, 0, 0, 0)
    );
}

#[test]
fn jitter_without_reorder_keeps_fifo() {
    let imp = Impairments {
        delay: ms(5),
        jitter: ms(10),
        ..Impairments::default()
    };
    // Frames 100us apart with up to 10ms jitter: unconstrained, they would overtake constantly.
    let sender = TestNode::paced(2000, 64, Instant::ZERO, us(100));
    let (mut net, _, b) = pair(7, sender, TestNode::sink(), imp);
    net.run_until(Instant::from_secs(5));
    let rx = &net.host(b).received;
    assert_eq!(
        net.host(b).received_numbers(),
        (0..2000).collect::<Vec<_>>()
    );
    assert!(rx.windows(2).all(|w| w[0].0 <= w[1].0));
    // Jitter did something: not every frame took exactly the base delay.
    let base = rx
        .iter()
        .enumerate()
        .filter(|(i, (t, _))| *t == Instant::ZERO + us(100) * *i as u32 + ms(5));
    assert!(base.count() < 2000);
    assert!(
        rx.iter()
            .enumerate()
            .all(|(i, (t, _))| *t >= Instant::ZERO + us(100) * i as u32 + ms(5))
    );
}

#[test]
fn reorder_actually_reorders() {
    let imp = Impairments {
        delay: ms(1),
        reorder: 0.2,
        reorder_delay: ms(5),
        ..Impairments::default()
    };
    let sender = TestNode::paced(1000, 64, Instant::ZERO, ms(1));
    let (mut net, _, b) = pair(3, sender, TestNode::sink(), imp);
    net.run_until(Instant::from_secs(5));
    let nums = net.host(b).received_numbers();
    assert_eq!(nums.len(), 1000, "reordering loses nothing");
    let inversions = nums.windows(2).filter(|w| w[0] > w[1]).count();
    assert!(inversions > 50, "inversions {inversions}");
    let mut sorted = nums.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
    let reordered = net.stats().reordered;
    assert!((100..=300).contains(&reordered), "reordered {reordered}");
}

#[test]
fn duplication_delivers_extra_copies_with_their_own_ids() {
    let imp = Impairments {
        duplicate: 0.3,
        ..Impairments::default()
    };
    let (mut net, _, b) = pair(11, TestNode::burst(1000, 64), TestNode::sink(), imp);
    net.run_until(Instant::from_secs(1));
    let s = net.stats();
    assert!(
        (200..=400).contains(&s.duplicated),
        "duplicated {}",
        s.duplicated
    );
    assert_eq!(s.delivered, s.sent + s.duplicated);
    let nums = net.host(b).received_numbers();
    assert_eq!(nums.len() as u64, s.delivered);
    // Each copy arrives right behind its original.
    let doubles = nums.windows(2).filter(|w| w[0] == w[1]).count() as u64;
    assert_eq!(doubles, s.duplicated);
    let mut delivered_ids = Vec::new();
    let mut copies = Vec::new();
    for r in net.trace() {
        match &r.event {
            SimEvent::FrameDelivered { id, .. } => delivered_ids.push(*id),
            SimEvent::FrameDuplicated { id, copy } => {
                assert_ne!(id, copy);
                copies.push(*copy);
            }
            _ => {}
        }
    }
    assert!(copies.iter().all(|c| delivered_ids.contains(c)));
    let mut unique = delivered_ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        delivered_ids.len(),
        "every delivery has its own id"
    );
}

#[test]
fn corruption_flips_exactly_one_bit() {
    let imp = Impairments {
        corrupt: 1.0,
        ..Impairments::default()
    };
    let (mut net, _, b) = pair(13, TestNode::burst(500, 40), TestNode::sink(), imp);
    net.run_until(Instant::from_secs(1));
    let rx = &net.host(b).received;
    assert_eq!(rx.len(), 500);
    let mut positions = std::collections::BTreeSet::new();
    for (i, (_, got)) in rx.iter().enumerate() {
        let sent = common::numbered(i as u32, 40);
        assert_eq!(got.len(), sent.len());
        let flipped: u32 = got
            .iter()
            .zip(&sent)
            .map(|(x, y)| (x ^ y).count_ones())
            .sum();
        assert_eq!(flipped, 1, "frame {i}");
        let pos = got.iter().zip(&sent).position(|(x, y)| x != y);
        positions.insert(pos);
    }
    assert!(
        positions.len() > 20,
        "bit positions are spread over the frame"
    );
    assert_eq!(net.stats().corrupted, 500);
}

#[test]
fn partial_corruption_matches_trace_and_stats() {
    let imp = Impairments {
        corrupt: 0.25,
        ..Impairments::default()
    };
    let (mut net, _, b) = pair(17, TestNode::burst(1000, 40), TestNode::sink(), imp);
    net.run_until(Instant::from_secs(1));
    let damaged = net
        .host(b)
        .received
        .iter()
        .enumerate()
        .filter(|(i, (_, f))| *f != common::numbered(*i as u32, 40))
        .count() as u64;
    let traced = net
        .trace()
        .iter()
        .filter(|r| matches!(r.event, SimEvent::FrameCorrupted { .. }))
        .count() as u64;
    assert_eq!(damaged, net.stats().corrupted);
    assert_eq!(traced, damaged);
    assert!((150..=350).contains(&damaged), "damaged {damaged}");
}

#[test]
fn bandwidth_serialises_frames_back_to_back() {
    // 1250 bytes at 10 Mbit/s = exactly 1 ms on the wire.
    let imp = Impairments {
        delay: ms(5),
        bandwidth_bps: Some(10_000_000),
        ..Impairments::default()
    };
    let (mut net, _, b) = pair(1, TestNode::burst(5, 1250), TestNode::sink(), imp);
    net.run_until(Instant::from_secs(1));
    let times: Vec<u64> = net
        .host(b)
        .received
        .iter()
        .map(|(t, _)| t.total_micros())
        .collect();
    assert_eq!(times, vec![6_000, 7_000, 8_000, 9_000, 10_000]);
}

#[test]
fn idle_wire_does_not_delay_a_later_frame() {
    let imp = Impairments {
        bandwidth_bps: Some(8_000_000), // 1 byte per microsecond
        ..Impairments::default()
    };
    let sender = TestNode::paced(3, 100, Instant::ZERO, ms(1));
    let (mut net, _, b) = pair(1, sender, TestNode::sink(), imp);
    net.run_until(Instant::from_secs(1));
    let times: Vec<u64> = net
        .host(b)
        .received
        .iter()
        .map(|(t, _)| t.total_micros())
        .collect();
    assert_eq!(times, vec![100, 1_100, 2_100]);
}

#[test]
fn queue_limit_tail_drops() {
    let imp = Impairments {
        bandwidth_bps: Some(10_000_000),
        queue_limit: Some(3),
        ..Impairments::default()
    };
    let (mut net, a, b) = pair(1, TestNode::burst(10, 1250), TestNode::sink(), imp);
    net.run_until(Instant::from_secs(1));
    // One on the wire plus three waiting; the other six are tail-dropped.
    assert_eq!(net.host(b).received_numbers(), vec![0, 1, 2, 3]);
    let s = net.stats();
    assert_eq!(
        (s.sent, s.delivered, s.queue_dropped, s.lost),
        (10, 4, 6, 0)
    );
    assert_eq!(net.direction_stats(a), Some(s));
    let dropped: Vec<u64> = net
        .trace()
        .iter()
        .filter_map(|r| match r.event {
            SimEvent::FrameLost {
                id,
                reason: LossReason::QueueFull,
                ..
            } => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(dropped, vec![4, 5, 6, 7, 8, 9]);
}

#[test]
fn random_loss_is_traced_and_buffers_return_to_the_sender() {
    let imp = Impairments {
        loss: 1.0,
        ..Impairments::default()
    };
    let (mut net, a, b) = pair(1, TestNode::burst(3, 10), TestNode::sink(), imp);
    net.run_until(Instant::from_secs(1));
    assert!(net.host(b).received.is_empty());
    assert_eq!(net.host(a).recycled, 3);
    let lost = net
        .trace()
        .iter()
        .filter(|r| {
            matches!(
                r.event,
                SimEvent::FrameLost {
                    reason: LossReason::Loss,
                    ..
                }
            )
        })
        .count();
    assert_eq!(lost, 3);
}
