//! ferrotcp: a TCP/IP stack in user space, sans-IO and deterministic.
//!
//! The protocol never does I/O and never reads a clock: frames go in through
//! [`Stack::receive`], come out of [`Stack::poll_transmit`], and time is an argument.
//! Same configuration, same seed, same inputs: the same frames out, bit for bit.

#![deny(unsafe_code)]

pub mod link;
pub mod network;
pub mod seq;
mod slab;
pub mod stack;
pub mod time;
pub mod trace;
pub mod transport;
pub mod wire;

pub use stack::{Event, Medium, Stack, StackConfig, StackStats};
pub use time::{Duration, Instant};
pub use transport::tcp::{CloseReason, ListenerHandle, TcpConfig, TcpError, TcpHandle};
pub use transport::udp::{UdpError, UdpHandle};
