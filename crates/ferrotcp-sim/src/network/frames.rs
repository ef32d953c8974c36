//! The frame path: draining nodes, putting frames on links, delivering them, recording it all.

use super::{HostId, Network, Node, SimRecord};
use crate::link::{Fate, flip_bit};
use crate::queue::InFlight;
use crate::trace::{LossReason, SimEvent};
use ferrotcp::wire::offload::finish_in_software;
use ferrotcp::wire::{EthernetRepr, Transmit, TxOffload};

impl<N: Node> Network<N> {
    /// Delivers the earliest frame in flight to its host, then collects the host's reaction.
    pub(super) fn deliver_next(&mut self) {
        let Some((_, item)) = self.queue.pop() else {
            return;
        };
        let InFlight {
            from,
            to,
            dir,
            id,
            frame,
        } = item;
        self.dirs[dir].stats.delivered += 1;
        self.record(SimEvent::FrameDelivered { from, to, id });
        let node = &mut self.hosts[to.0].node;
        node.receive(self.now, &frame);
        node.recycle(frame);
        self.flush_host(to.0);
    }

    /// Collects host `h`'s trace and every frame it wants to send.
    pub(super) fn flush_host(&mut self, h: usize) {
        self.drain_host_trace(h);
        let offload = self.hosts[h].offload;
        if offload == TxOffload::NONE {
            while let Some(frame) = self.hosts[h].node.poll_transmit(self.now) {
                self.send(h, frame);
            }
        } else {
            while let Some(t) = self.hosts[h].node.poll_transmit_offload(self.now, offload) {
                self.nic_send(h, t);
            }
        }
        self.drain_host_trace(h);
    }

    /// What the host's interface does with a frame it was left to finish: checksums, and
    /// cutting super-segments at their MSS. Each piece is a frame of its own on the link.
    fn nic_send(&mut self, h: usize, t: Transmit) {
        if t.offload.is_none() {
            self.send(h, t.frame);
            return;
        }
        let mut pieces = Vec::new();
        let cut = finish_in_software(&t.frame, EthernetRepr::HEADER_LEN, &t.offload, |p| {
            pieces.push(p.to_vec());
        });
        if cut.is_err() {
            // A NIC drops what it cannot parse; count it as unroutable.
            self.unroutable += 1;
        }
        self.hosts[h].node.recycle(t.frame);
        for piece in pieces {
            self.send(h, piece);
        }
    }

    fn drain_host_trace(&mut self, h: usize) {
        self.hosts[h].node.drain_trace(&mut self.scratch);
        if self.tracing {
            for record in self.scratch.drain(..) {
                self.trace.push(SimRecord {
                    time: self.now,
                    event: SimEvent::Host {
                        host: HostId(h),
                        record,
                    },
                });
            }
        } else {
            self.scratch.clear();
        }
    }

    /// Puts a frame from host `h` on its link, deciding its fate now.
    fn send(&mut self, h: usize, mut frame: Vec<u8>) {
        let Some(dir) = self.hosts[h].out else {
            self.unroutable += 1;
            self.hosts[h].node.recycle(frame);
            return;
        };
        let id = self.next_id();
        let (from, to) = (self.dirs[dir].from, self.dirs[dir].to);
        if self.tracing {
            let frame = frame.clone();
            self.record(SimEvent::FrameSent {
                from,
                to,
                frame,
                id,
            });
        }
        let fate = self.dirs[dir].admit(self.now, frame.len());
        let (arrival, corrupt_bit, duplicate) = match fate {
            Fate::QueueFull | Fate::Lost => {
                let reason = if fate == Fate::Lost {
                    LossReason::Loss
                } else {
                    LossReason::QueueFull
                };
                self.record(SimEvent::FrameLost {
                    from,
                    to,
                    id,
                    reason,
                });
                self.hosts[h].node.recycle(frame);
                return;
            }
            Fate::Deliver {
                arrival,
                corrupt_bit,
                duplicate,
                reordered: _,
            } => (arrival, corrupt_bit, duplicate),
        };
        if let Some(bit) = corrupt_bit {
            flip_bit(&mut frame, bit);
            self.record(SimEvent::FrameCorrupted { id, bit });
        }
        let copy = duplicate.then(|| (self.next_id(), frame.clone()));
        self.queue.push(
            arrival,
            InFlight {
                from,
                to,
                dir,
                id,
                frame,
            },
        );
        if let Some((copy_id, frame)) = copy {
            self.record(SimEvent::FrameDuplicated { id, copy: copy_id });
            self.queue.push(
                arrival,
                InFlight {
                    from,
                    to,
                    dir,
                    id: copy_id,
                    frame,
                },
            );
        }
    }

    fn next_id(&mut self) -> u64 {
        let id = self.next_frame_id;
        self.next_frame_id += 1;
        id
    }

    fn record(&mut self, event: SimEvent) {
        if self.tracing {
            self.trace.push(SimRecord {
                time: self.now,
                event,
            });
        }
    }
}
