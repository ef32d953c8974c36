//! The simulated path: 100 Mbit/s each way, 10 ms one-way delay each way (20 ms RTT), a
//! bottleneck queue of one bandwidth-delay product with tail drop, and random loss.

use ferrotcp::Duration;
use ferrotcp_sim::{Impairments, LinkConfig};

/// Serialisation rate of each direction.
pub const RATE_BPS: u64 = 100_000_000;
/// Propagation delay of each direction.
pub const ONE_WAY_US: u64 = 10_000;
/// Bandwidth-delay product, bytes: 100 Mbit/s × 20 ms = 250 000 B.
pub const BDP_BYTES: u64 = RATE_BPS / 8 * (2 * ONE_WAY_US) / 1_000_000;
/// A full-sized Ethernet frame (IP MTU 1500 + 14 B header; the simulator counts no preamble).
pub const FRAME_BYTES: u64 = 1514;
/// Frames that may wait behind the one being serialised: one BDP of full-sized frames (165).
pub const QUEUE_FRAMES: usize = (BDP_BYTES / FRAME_BYTES) as usize;

/// One direction of the path with random loss `loss` (a probability).
pub fn direction(loss: f64) -> Impairments {
    Impairments {
        loss,
        delay: Duration::from_micros(ONE_WAY_US),
        bandwidth_bps: Some(RATE_BPS),
        queue_limit: Some(QUEUE_FRAMES),
        ..Impairments::default()
    }
}

/// Both directions alike: the data direction and the ACK direction lose frames at the same
/// rate (an ACK lost matters far less than a data segment, but it is the realistic case).
pub fn link(loss: f64) -> LinkConfig {
    LinkConfig::symmetric(direction(loss))
}

/// Most goodput the path can carry: one 1460-byte payload per full-sized frame slot (the
/// simulator rounds each frame's serialisation up to whole microseconds: 122 µs here).
pub fn payload_ceiling_mbps() -> f64 {
    let slot_us = (FRAME_BYTES * 8 * 1_000_000).div_ceil(RATE_BPS);
    1460.0 * 8.0 / slot_us as f64
}
