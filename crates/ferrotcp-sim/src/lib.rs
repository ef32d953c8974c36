//! Deterministic simulated network for ferrotcp.
//!
//! Hosts (anything implementing [`Node`]) are joined by point-to-point links with configurable
//! [`Impairments`]. Time is virtual and jumps from event to event, so a minute of simulated
//! traffic takes milliseconds, and a seed replays a run bit for bit.

pub mod capture;
pub mod error;
pub mod impairments;
pub mod ladder;
pub mod ladder_trace;
pub mod lang;
mod link;
pub mod network;
pub mod node;
pub mod pair;
mod queue;
pub mod rng;
pub mod scenario;
pub mod stack_node;
pub mod stats;
pub mod svg;
pub mod trace;

pub use error::LinkError;
pub use impairments::{ImpairmentError, Impairments, LinkConfig};
pub use lang::Lang;
pub use network::Network;
pub use node::{HostId, Node};
pub use pair::Pair;
pub use rng::SimRng;
pub use stats::LinkStats;
pub use trace::{LossReason, SimEvent, SimRecord};
