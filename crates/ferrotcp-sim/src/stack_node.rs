//! The real stack as a simulated host.

use ferrotcp::Stack;
use ferrotcp::time::Instant;
use ferrotcp::trace::TraceRecord;
use ferrotcp::wire::{Transmit, TxOffload};

use crate::node::Node;

impl Node for Stack {
    fn receive(&mut self, now: Instant, frame: &[u8]) {
        Stack::receive(self, now, frame);
    }

    fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        Stack::poll_transmit(self, now)
    }

    fn poll_transmit_offload(&mut self, now: Instant, nic: TxOffload) -> Option<Transmit> {
        Stack::poll_transmit_offload(self, now, nic)
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        Stack::poll_timeout(self)
    }

    fn handle_timeout(&mut self, now: Instant) {
        Stack::handle_timeout(self, now);
    }

    fn recycle(&mut self, buf: Vec<u8>) {
        Stack::recycle(self, buf);
    }

    fn drain_trace(&mut self, out: &mut Vec<TraceRecord>) {
        while let Some(r) = self.poll_trace() {
            out.push(r);
        }
    }
}
