//! The simulated network: hosts, links and a virtual clock that jumps from event to event.
//!
//! An event is a frame arriving or a node timer expiring. Before each event every node is drained
//! of frames it wants to send, so frames produced by application calls made through `host_mut`
//! enter the links at the current virtual time.

mod frames;
mod inject;

use ferrotcp::time::Instant;
use ferrotcp::trace::TraceRecord;
use ferrotcp::wire::TxOffload;

use crate::error::LinkError;
use crate::impairments::Impairments;
use crate::impairments::LinkConfig;
use crate::link::Direction;
use crate::node::{HostId, Node};
use crate::queue::EventQueue;
use crate::rng::SimRng;
use crate::stats::LinkStats;
use crate::trace::SimRecord;

/// Stream number of the scenario RNG handed out by [`Network::rng`]; link directions use 0, 1, ...
const SCENARIO_STREAM: u64 = u64::MAX;

struct HostSlot<N> {
    node: N,
    /// Index into `Network::dirs` of this host's outgoing direction, once linked.
    out: Option<usize>,
    /// What the host's network interface finishes for it (checksums, segmentation).
    offload: TxOffload,
}

/// The next thing to happen.
#[derive(Clone, Copy)]
enum Next {
    Frame,
    Timer(usize),
}

/// Result of trying to run one event.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stepped {
    Ran,
    /// Nothing is scheduled at all.
    Idle,
    /// The next event lies beyond the deadline.
    Beyond,
}

/// A deterministic network of `N`s joined by point-to-point links.
pub struct Network<N: Node> {
    now: Instant,
    seed: u64,
    rng: SimRng,
    hosts: Vec<HostSlot<N>>,
    dirs: Vec<Direction>,
    queue: EventQueue,
    next_frame_id: u64,
    steps: u64,
    unroutable: u64,
    tracing: bool,
    trace: Vec<SimRecord>,
    /// Reused buffer for `Node::drain_trace`, so draining does not allocate per call.
    scratch: Vec<TraceRecord>,
}

impl<N: Node> Network<N> {
    /// An empty network at time zero. Every random choice derives from `seed`.
    pub fn new(seed: u64) -> Self {
        Network {
            now: Instant::ZERO,
            seed,
            rng: SimRng::derive(seed, SCENARIO_STREAM),
            hosts: Vec::new(),
            dirs: Vec::new(),
            queue: EventQueue::default(),
            next_frame_id: 0,
            steps: 0,
            unroutable: 0,
            tracing: true,
            trace: Vec::new(),
            scratch: Vec::new(),
        }
    }

    pub fn add_host(&mut self, node: N) -> HostId {
        self.hosts.push(HostSlot {
            node,
            out: None,
            offload: TxOffload::NONE,
        });
        HostId(self.hosts.len() - 1)
    }

    /// Gives host `h` an Ethernet interface that computes TCP checksums and cuts TCP
    /// super-segments (as a NIC with checksum offload and TSO does, or Linux's GSO below a
    /// TAP device): the host hands over what [`Node::poll_transmit_offload`] returns, and the
    /// link carries the finished pieces, each with its own fate. Unknown hosts are ignored.
    pub fn set_offload(&mut self, h: HostId, offload: TxOffload) {
        if let Some(slot) = self.hosts.get_mut(h.0) {
            slot.offload = offload;
        }
    }

    /// Joins `a` and `b` with a point-to-point link. Each host has one interface, so one link.
    pub fn link(&mut self, a: HostId, b: HostId, config: LinkConfig) -> Result<(), LinkError> {
        for h in [a, b] {
            match self.hosts.get(h.0) {
                None => return Err(LinkError::UnknownHost(h)),
                Some(slot) if slot.out.is_some() => return Err(LinkError::AlreadyLinked(h)),
                Some(_) => {}
            }
        }
        if a == b {
            return Err(LinkError::SelfLink(a));
        }
        config.validate()?;
        let ab = self.dirs.len();
        let stream = |i: usize| SimRng::derive(self.seed, i as u64);
        let forward = Direction::new(a, b, config.a_to_b, stream(ab));
        let backward = Direction::new(b, a, config.b_to_a, stream(ab + 1));
        self.dirs.push(forward);
        self.dirs.push(backward);
        self.hosts[a.0].out = Some(ab);
        self.hosts[b.0].out = Some(ab + 1);
        Ok(())
    }

    pub fn now(&self) -> Instant {
        self.now
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A random stream for scenario code, independent of the links' streams.
    pub fn rng(&mut self) -> &mut SimRng {
        &mut self.rng
    }

    pub fn host_count(&self) -> usize {
        self.hosts.len()
    }

    /// # Panics
    /// If `id` was not returned by this network's `add_host`; see [`Network::get_host`].
    pub fn host(&self, id: HostId) -> &N {
        &self.hosts[id.0].node
    }

    /// # Panics
    /// If `id` was not returned by this network's `add_host`; see [`Network::get_host_mut`].
    pub fn host_mut(&mut self, id: HostId) -> &mut N {
        &mut self.hosts[id.0].node
    }

    pub fn get_host(&self, id: HostId) -> Option<&N> {
        self.hosts.get(id.0).map(|s| &s.node)
    }

    pub fn get_host_mut(&mut self, id: HostId) -> Option<&mut N> {
        self.hosts.get_mut(id.0).map(|s| &mut s.node)
    }

    /// The host at the other end of `id`'s link.
    pub fn peer(&self, id: HostId) -> Option<HostId> {
        let out = self.hosts.get(id.0)?.out?;
        Some(self.dirs[out].to)
    }

    /// Events run so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Frames currently on their way (duplicates included).
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    pub fn trace(&self) -> &[SimRecord] {
        &self.trace
    }

    /// Hands over the trace recorded so far and starts a new one.
    pub fn take_trace(&mut self) -> Vec<SimRecord> {
        core::mem::take(&mut self.trace)
    }

    /// When off, nothing is recorded (node traces are still drained and discarded), so long
    /// bulk runs keep constant memory.
    pub fn set_tracing(&mut self, on: bool) {
        self.tracing = on;
    }

    /// Counters summed over every link direction.
    pub fn stats(&self) -> LinkStats {
        let mut total = LinkStats {
            unroutable: self.unroutable,
            ..LinkStats::default()
        };
        for d in &self.dirs {
            total += d.stats;
        }
        total
    }

    /// Changes the impairments of the direction leaving `from` from now on (a cable cut, a
    /// congested hop); frames already in flight keep their fate.
    pub fn set_impairments(
        &mut self,
        from: HostId,
        impairments: Impairments,
    ) -> Result<(), LinkError> {
        impairments.validate().map_err(LinkError::Impairment)?;
        let out = self
            .hosts
            .get(from.0)
            .ok_or(LinkError::UnknownHost(from))?
            .out;
        let out = out.ok_or(LinkError::UnknownHost(from))?;
        self.dirs[out].set_impairments(impairments);
        Ok(())
    }

    /// Counters of the direction leaving `from`, if it is linked.
    pub fn direction_stats(&self, from: HostId) -> Option<LinkStats> {
        let out = self.hosts.get(from.0)?.out?;
        Some(self.dirs[out].stats)
    }

    /// Runs the earliest pending event. Returns false when nothing is left to do.
    pub fn step(&mut self) -> bool {
        self.step_within(None) == Stepped::Ran
    }

    /// Steps until `deadline` or until nothing is left. Afterwards `now` is `deadline` if events
    /// remain beyond it, otherwise the time of the last event run (never earlier than before).
    pub fn run_until(&mut self, deadline: Instant) {
        loop {
            match self.step_within(Some(deadline)) {
                Stepped::Ran => {}
                Stepped::Idle => return,
                Stepped::Beyond => {
                    self.now = self.now.max(deadline);
                    return;
                }
            }
        }
    }

    /// Like `run_until`, but the clock always ends at `deadline` (idle time passes too), which
    /// is what a scenario wants before an application call "at time t".
    pub fn advance_to(&mut self, deadline: Instant) {
        self.run_until(deadline);
        self.now = self.now.max(deadline);
    }

    /// Steps until `pred` holds, the next event lies beyond `deadline`, nothing is left, or
    /// `max_steps` events ran. Returns whether `pred` held at the end. `pred` is checked before
    /// the first step, so an already-true predicate runs nothing.
    pub fn run_until_pred(
        &mut self,
        deadline: Instant,
        max_steps: u64,
        mut pred: impl FnMut(&mut Self) -> bool,
    ) -> bool {
        let mut ran = 0u64;
        loop {
            if pred(self) {
                return true;
            }
            if ran >= max_steps {
                return false;
            }
            match self.step_within(Some(deadline)) {
                Stepped::Ran => ran += 1,
                Stepped::Idle => return pred(self),
                Stepped::Beyond => {
                    self.now = self.now.max(deadline);
                    return pred(self);
                }
            }
        }
    }

    /// Drains pending transmissions, then runs the earliest event if it is not past `deadline`.
    fn step_within(&mut self, deadline: Option<Instant>) -> Stepped {
        for h in 0..self.hosts.len() {
            self.flush_host(h);
        }
        let Some((at, next)) = self.next_event() else {
            return Stepped::Idle;
        };
        // A timer already in the past fires now; the clock never runs backwards.
        let at = at.max(self.now);
        if deadline.is_some_and(|d| at > d) {
            return Stepped::Beyond;
        }
        self.now = at;
        self.steps += 1;
        match next {
            Next::Frame => self.deliver_next(),
            Next::Timer(h) => {
                self.hosts[h].node.handle_timeout(self.now);
                self.flush_host(h);
            }
        }
        Stepped::Ran
    }

    /// The earliest frame arrival or node timer. Ties: frames before timers (an arrival at the
    /// instant a timer expires may make it moot), timers by host order.
    fn next_event(&mut self) -> Option<(Instant, Next)> {
        let mut timer: Option<(Instant, usize)> = None;
        for (i, slot) in self.hosts.iter_mut().enumerate() {
            if let Some(t) = slot.node.poll_timeout() {
                if timer.is_none_or(|(best, _)| t < best) {
                    timer = Some((t, i));
                }
            }
        }
        match (self.queue.peek_time(), timer) {
            (None, None) => None,
            (Some(f), None) => Some((f, Next::Frame)),
            (None, Some((t, h))) => Some((t, Next::Timer(h))),
            (Some(f), Some((t, h))) => {
                if f <= t {
                    Some((f, Next::Frame))
                } else {
                    Some((t, Next::Timer(h)))
                }
            }
        }
    }
}
