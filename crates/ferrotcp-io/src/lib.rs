//! ferrotcp on real links. The protocol crate stays sans-IO; this crate owns the device, the
//! clock and the thread, and gives applications `std::net`-like (and, with the `tokio` feature,
//! async) sockets.

pub mod device;
pub mod impair;
pub mod live_trace;
pub mod net;
pub mod pcap;
pub mod runtime;
#[cfg(feature = "tokio")]
pub mod tokio_net;
mod vnet;

pub use runtime::{Runtime, RuntimeConfig, RuntimeError, RuntimeReport};
