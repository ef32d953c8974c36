//! Frames put on a link by the scenario rather than by a node: a delayed copy of a frame (a stale
//! SYN that lingered in the network, an old duplicate from a previous connection).

use ferrotcp::time::Instant;

use super::{HostId, Network, Node, SimRecord};
use crate::queue::InFlight;
use crate::trace::SimEvent;

impl<N: Node> Network<N> {
    /// Puts `frame` on the link leaving `from` now, to arrive at the other end at `deliver_at`
    /// (or now, if that is earlier). The frame bypasses the link's impairments and serialisation
    /// queue: it is the scenario saying "this copy was held up somewhere". It is traced like any
    /// frame (`FrameSent` now, `FrameDelivered` on arrival) and counted as sent. Returns the new
    /// frame's id, or `None` if `from` is not linked.
    pub fn inject_frame(
        &mut self,
        from: HostId,
        frame: Vec<u8>,
        deliver_at: Instant,
    ) -> Option<u64> {
        let dir = self.hosts.get(from.0)?.out?;
        let to = self.dirs[dir].to;
        let id = self.next_frame_id;
        self.next_frame_id += 1;
        self.dirs[dir].stats.sent += 1;
        if self.tracing {
            self.trace.push(SimRecord {
                time: self.now,
                event: SimEvent::FrameSent {
                    from,
                    to,
                    frame: frame.clone(),
                    id,
                },
            });
        }
        self.queue.push(
            deliver_at.max(self.now),
            InFlight {
                from,
                to,
                dir,
                id,
                frame,
            },
        );
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use ferrotcp::time::Instant;

    use crate::impairments::LinkConfig;
    use crate::network::Network;
    use crate::node::Node;
    use crate::trace::SimEvent;

    /// Remembers what it received and when; sends nothing.
    #[derive(Default)]
    struct Sink {
        got: Vec<(Instant, Vec<u8>)>,
    }

    impl Node for Sink {
        fn receive(&mut self, now: Instant, frame: &[u8]) {
            self.got.push((now, frame.to_vec()));
        }
        fn poll_transmit(&mut self, _now: Instant) -> Option<Vec<u8>> {
            None
        }
        fn poll_timeout(&mut self) -> Option<Instant> {
            None
        }
        fn handle_timeout(&mut self, _now: Instant) {}
    }

    #[test]
    fn an_injected_frame_arrives_at_its_time_and_is_traced() {
        let mut net = Network::new(1);
        let a = net.add_host(Sink::default());
        let b = net.add_host(Sink::default());
        net.link(a, b, LinkConfig::default()).expect("link");
        net.advance_to(Instant::from_millis(5));
        let late = Instant::from_secs(3);
        let id = net.inject_frame(a, vec![1, 2, 3], late).expect("linked");
        // A frame due in the past arrives now.
        let now_id = net.inject_frame(b, vec![9], Instant::ZERO).expect("linked");
        net.run_until(Instant::from_secs(10));
        assert_eq!(net.host(b).got, [(late, vec![1, 2, 3])]);
        assert_eq!(net.host(a).got, [(Instant::from_millis(5), vec![9])]);
        let sent: Vec<(Instant, u64)> = net
            .trace()
            .iter()
            .filter_map(|r| match &r.event {
                SimEvent::FrameSent { id, .. } => Some((r.time, *id)),
                _ => None,
            })
            .collect();
        assert_eq!(
            sent,
            [
                (Instant::from_millis(5), id),
                (Instant::from_millis(5), now_id)
            ]
        );
        assert!(net.trace().iter().any(|r| r.time == late
            && matches!(r.event, SimEvent::FrameDelivered { id: d, .. } if d == id)));
        assert_eq!(net.direction_stats(a).map(|s| s.sent), Some(1));
    }

    #[test]
    fn an_unlinked_host_cannot_inject() {
        let mut net: Network<Sink> = Network::new(1);
        let a = net.add_host(Sink::default());
        assert_eq!(net.inject_frame(a, vec![0], Instant::ZERO), None);
    }
}
