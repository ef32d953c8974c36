//! TCP (RFC 9293): sequence arithmetic lives in `crate::seq`; here are the connection state
//! machine, its buffers, RTT estimation, congestion control, timers and the connection table.

pub mod ablation;
mod assembler;
pub mod config;
pub mod congestion;
pub mod error;
pub mod icmp;
mod input;
pub mod isn;
mod output;
mod ring;
pub mod rtt;
pub mod state;
pub mod table;
mod tcb;
mod timers;
mod urgent;

pub use config::{KeepAlive, TcpConfig};
pub use error::{CloseReason, TcpError};
pub use icmp::{IcmpError, IcmpOutcome};
pub use input::Reply;
pub use output::Outgoing;
pub use table::{ListenerHandle, TcpHandle};
pub use tcb::{Notify, Tcb, TcbInit, TcpStats};
pub use timers::RetryLimits;
