//! Building networks, errors, tracing and stats bookkeeping.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};

use common::{TestNode, ms, numbered, pair};
use ferrotcp::time::Instant;
use ferrotcp::trace::{TcpState, TraceEvent, TraceRecord};
use ferrotcp_sim::{
    HostId, ImpairmentError, Impairments, LinkConfig, LinkError, Network, SimEvent, SimRecord,
};

#[test]
fn link_rejects_bad_requests() {
    let mut net: Network<TestNode> = Network::new(0);
    let a = net.add_host(TestNode::sink());
    let b = net.add_host(TestNode::sink());
    let c = net.add_host(TestNode::sink());
    assert_eq!(
        net.link(a, HostId(7), LinkConfig::default()),
        Err(LinkError::UnknownHost(HostId(7)))
    );
    assert_eq!(
        net.link(a, a, LinkConfig::default()),
        Err(LinkError::SelfLink(a))
    );
    let bad = LinkConfig::symmetric(Impairments {
        duplicate: -0.1,
        ..Impairments::default()
    });
    assert!(matches!(
        net.link(a, b, bad),
        Err(LinkError::Impairment(ImpairmentError::BadProbability {
            field: "duplicate",
            ..
        }))
    ));
    assert_eq!(net.link(a, b, LinkConfig::default()), Ok(()));
    assert_eq!(
        net.link(c, a, LinkConfig::default()),
        Err(LinkError::AlreadyLinked(a))
    );
    assert_eq!(net.peer(a), Some(b));
    assert_eq!(net.peer(b), Some(a));
    assert_eq!(net.peer(c), None);
    assert!(net.get_host(HostId(3)).is_none());
    assert!(net.get_host_mut(c).is_some());
    assert_eq!(net.host_count(), 3);
    assert!(!LinkError::AlreadyLinked(a).to_string().is_empty());
}

#[test]
fn directions_are_configured_independently() {
    let mut net = Network::new(0);
    let a = net.add_host(TestNode::burst(1, 8));
    let b = net.add_host(TestNode::burst(1, 8));
    let cfg = LinkConfig {
        a_to_b: Impairments::with_delay(ms(3)),
        b_to_a: Impairments::with_delay(ms(7)),
    };
    net.link(a, b, cfg).expect("valid link");
    net.run_until(Instant::from_secs(1));
    assert_eq!(net.host(b).received[0].0, Instant::from_millis(3));
    assert_eq!(net.host(a).received[0].0, Instant::from_millis(7));
    assert_eq!(net.direction_stats(a).map(|s| s.delivered), Some(1));
    assert_eq!(net.direction_stats(b).map(|s| s.delivered), Some(1));
    assert_eq!(net.stats().delivered, 2);
}

fn state_record(time: Instant) -> TraceRecord {
    let addr = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 80);
    TraceRecord {
        time,
        event: TraceEvent::TcpState {
            local: addr,
            remote: addr,
            from: TcpState::Closed,
            to: TcpState::Listen,
        },
    }
}

#[test]
fn trace_records_frames_and_host_records_in_order() {
    let (mut net, a, b) = pair(
        0,
        TestNode::sink(),
        TestNode::sink(),
        Impairments::with_delay(ms(1)),
    );
    net.host_mut(a)
        .pending_trace
        .push(state_record(Instant::ZERO));
    net.host_mut(a).outbox.push_back(numbered(1, 8));
    net.run_until(Instant::from_secs(1));
    let expected = vec![
        SimRecord {
            time: Instant::ZERO,
            event: SimEvent::Host {
                host: a,
                record: state_record(Instant::ZERO),
            },
        },
        SimRecord {
            time: Instant::ZERO,
            event: SimEvent::FrameSent {
                from: a,
                to: b,
                frame: numbered(1, 8),
                id: 0,
            },
        },
        SimRecord {
            time: Instant::from_millis(1),
            event: SimEvent::FrameDelivered {
                from: a,
                to: b,
                id: 0,
            },
        },
    ];
    assert_eq!(net.trace(), expected.as_slice());
}

#[test]
fn tracing_off_keeps_no_records_but_counts_and_drains() {
    let (mut net, a, b) = pair(
        0,
        TestNode::burst(50, 8),
        TestNode::sink(),
        Impairments::default(),
    );
    net.set_tracing(false);
    net.host_mut(a)
        .pending_trace
        .push(state_record(Instant::ZERO));
    net.run_until(Instant::from_secs(1));
    assert!(net.trace().is_empty());
    assert!(
        net.host(a).pending_trace.is_empty(),
        "node traces are still drained"
    );
    assert_eq!(net.stats().delivered, 50);
    assert_eq!(net.host(b).received.len(), 50);
    net.set_tracing(true);
    net.host_mut(a).outbox.push_back(numbered(1, 8));
    net.run_until(Instant::from_secs(2));
    assert_eq!(net.trace().len(), 2);
    assert_eq!(net.take_trace().len(), 2);
    assert!(net.trace().is_empty());
}

#[test]
fn empty_network_has_nothing_to_do() {
    let mut net: Network<TestNode> = Network::new(0);
    assert!(!net.step());
    net.run_until(Instant::from_secs(1));
    assert_eq!(net.now(), Instant::ZERO);
    assert_eq!(net.seed(), 0);
    assert_eq!(net.stats(), Default::default());
}
