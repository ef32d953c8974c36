//! The interface between the simulator and whatever runs on a host.

use ferrotcp::time::Instant;
use ferrotcp::trace::TraceRecord;
use ferrotcp::wire::{FrameOffload, Transmit, TxOffload};

/// Index of a host in its [`Network`](crate::Network), as returned by `add_host`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostId(pub usize);

impl core::fmt::Display for HostId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "host{}", self.0)
    }
}

/// A host on the simulated network: sans-IO, driven entirely by the simulator's virtual clock.
pub trait Node {
    /// A frame arrived from the link.
    fn receive(&mut self, now: Instant, frame: &[u8]);
    /// The next frame the node wants to send, if any. Called repeatedly until `None`.
    fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>>;
    /// The next frame for a network interface that finishes what `nic` offers (see
    /// [`Network::set_offload`](crate::Network::set_offload)). Default: `poll_transmit`,
    /// every frame finished.
    fn poll_transmit_offload(&mut self, now: Instant, nic: TxOffload) -> Option<Transmit> {
        let _ = nic;
        self.poll_transmit(now).map(|frame| Transmit {
            frame,
            offload: FrameOffload::default(),
        })
    }
    /// When the node next needs `handle_timeout` (`None` = no timer). A time in the past fires
    /// at the current time; `handle_timeout` must move it on, or the clock cannot advance.
    fn poll_timeout(&mut self) -> Option<Instant>;
    /// Called once virtual time has reached `poll_timeout()`.
    fn handle_timeout(&mut self, now: Instant);
    /// Give a frame buffer back for reuse (lets a node avoid allocating per frame). Default: drop it.
    fn recycle(&mut self, _buf: Vec<u8>) {}
    /// Trace records produced since the last call; appended to the network trace. Default: none.
    fn drain_trace(&mut self, _out: &mut Vec<TraceRecord>) {}
}
