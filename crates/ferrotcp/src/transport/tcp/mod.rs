//! TCP (RFC 9293): sequence arithmetic lives in `crate::seq`; here are the connection state
//! machine with its sending and receiving halves, buffers, RTT estimation, loss recovery,
//! congestion control, timers and the connection table.

pub mod ablation;
mod acks;
mod assembler;
mod autotune;
pub mod config;
pub mod congestion;
mod deadlines;
mod disposition;
pub mod ecn;
pub mod error;
pub mod icmp;
mod input;
pub mod isn;
mod output;
mod payload;
mod rack;
mod receiver;
mod reclaim;
mod recovery;
mod ring;
pub mod rtt;
mod scoreboard;
mod sender;
mod state;
pub mod table;
mod tcb;
mod time_wait;
mod timer;
mod timers;
mod timestamps;
mod tlp;
mod transitions;
mod urgent;

pub use config::{Ecn, KeepAlive, TcpConfig};
pub use disposition::Disposition;
pub use error::{CloseReason, TcpError};
pub use icmp::{IcmpError, IcmpOutcome};
pub use output::Outgoing;
pub use payload::Payload;
pub use table::{ListenerHandle, TcpHandle};
pub use tcb::{BufferUse, Notify, Tcb, TcbInit, TcpStats};
pub use timers::RetryLimits;
