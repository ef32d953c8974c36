//! Small fake nodes for exercising the link model without a TCP stack.
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::VecDeque;

use ferrotcp::time::{Duration, Instant};
use ferrotcp::trace::TraceRecord;
use ferrotcp_sim::{HostId, Impairments, LinkConfig, Network, Node};

/// A frame whose first four bytes carry its number, padded to `len` (at least 4).
pub fn numbered(n: u32, len: usize) -> Vec<u8> {
    let mut f = vec![0xA5; len.max(4)];
    f[..4].copy_from_slice(&n.to_be_bytes());
    f
}

pub fn number_of(frame: &[u8]) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&frame[..4]);
    u32::from_be_bytes(b)
}

/// Sends what is in `outbox`, sends `scheduled` frames when their time comes (a timer),
/// optionally echoes what it receives, and records everything that happens to it.
#[derive(Default)]
pub struct TestNode {
    pub outbox: VecDeque<Vec<u8>>,
    /// Frames to queue for sending at a given time, ascending.
    pub scheduled: VecDeque<(Instant, Vec<u8>)>,
    pub echo: bool,
    pub received: Vec<(Instant, Vec<u8>)>,
    /// Times `handle_timeout` was called.
    pub fired: Vec<Instant>,
    pub recycled: usize,
    /// Records handed out on the next `drain_trace`.
    pub pending_trace: Vec<TraceRecord>,
}

impl TestNode {
    pub fn sink() -> Self {
        TestNode::default()
    }

    pub fn echo() -> Self {
        TestNode {
            echo: true,
            ..TestNode::default()
        }
    }

    /// `n` numbered frames of `len` bytes, all ready to go at once.
    pub fn burst(n: u32, len: usize) -> Self {
        TestNode {
            outbox: (0..n).map(|i| numbered(i, len)).collect(),
            ..TestNode::default()
        }
    }

    /// `n` numbered frames, frame `i` sent at `start + i * interval`.
    pub fn paced(n: u32, len: usize, start: Instant, interval: Duration) -> Self {
        TestNode {
            scheduled: (0..n)
                .map(|i| (start + interval * i, numbered(i, len)))
                .collect(),
            ..TestNode::default()
        }
    }

    pub fn received_numbers(&self) -> Vec<u32> {
        self.received.iter().map(|(_, f)| number_of(f)).collect()
    }
}

impl Node for TestNode {
    fn receive(&mut self, now: Instant, frame: &[u8]) {
        self.received.push((now, frame.to_vec()));
        if self.echo {
            self.outbox.push_back(frame.to_vec());
        }
    }

    fn poll_transmit(&mut self, _now: Instant) -> Option<Vec<u8>> {
        self.outbox.pop_front()
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.scheduled.front().map(|(t, _)| *t)
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.fired.push(now);
        while self.scheduled.front().is_some_and(|(t, _)| *t <= now) {
            if let Some((_, f)) = self.scheduled.pop_front() {
                self.outbox.push_back(f);
            }
        }
    }

    fn recycle(&mut self, _buf: Vec<u8>) {
        self.recycled += 1;
    }

    fn drain_trace(&mut self, out: &mut Vec<TraceRecord>) {
        out.append(&mut self.pending_trace);
    }
}

/// Two hosts, `a` sending to `b`, linked with `a_to_b` one way and a perfect wire back.
pub fn pair(
    seed: u64,
    a: TestNode,
    b: TestNode,
    a_to_b: Impairments,
) -> (Network<TestNode>, HostId, HostId) {
    let mut net = Network::new(seed);
    let ha = net.add_host(a);
    let hb = net.add_host(b);
    let cfg = LinkConfig {
        a_to_b,
        b_to_a: Impairments::default(),
    };
    net.link(ha, hb, cfg).expect("valid link");
    (net, ha, hb)
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}
