//! `std::net`-like sockets over a ferrotcp [`Runtime`](crate::runtime::Runtime): the same names,
//! the same blocking behaviour, the same `io::ErrorKind`s.
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use ferrotcp::{StackConfig, wire::MacAddr};
//! use ferrotcp_io::{Runtime, RuntimeConfig, device::DeviceKind, net::TcpStream};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let stack = StackConfig::new(MacAddr([2, 0, 0, 0, 0, 1]), "192.0.2.2".parse()?, 24).with_seed(42);
//! let rt = Runtime::start(RuntimeConfig {
//!     device: "ftap0".into(), kind: DeviceKind::Tap, stack, pcap: None, impair: None, trace: false,
//! })?;
//! rt.set_default();
//! // From here on it reads like std::net.
//! let mut s = TcpStream::connect("192.0.2.1:7")?;
//! s.write_all(b"hello")?;
//! s.shutdown(std::net::Shutdown::Write)?;
//! let mut reply = String::new();
//! s.read_to_string(&mut reply)?;
//! # Ok(()) }
//! ```

pub(crate) mod error;
pub(crate) mod tcp;
mod udp;
mod wait;

pub use tcp::{Incoming, TcpListener, TcpStream};
pub use udp::UdpSocket;

use std::io;
use std::net::{SocketAddr, SocketAddrV4, ToSocketAddrs};
use std::sync::RwLock;

use crate::runtime::Runtime;

static DEFAULT: RwLock<Option<Runtime>> = RwLock::new(None);

impl Runtime {
    /// Makes this runtime the one `TcpListener::bind`, `TcpStream::connect` and
    /// `UdpSocket::bind` use.
    pub fn set_default(&self) {
        let mut d = DEFAULT.write().unwrap_or_else(|p| p.into_inner());
        *d = Some(self.clone());
    }
}

pub(crate) fn default_runtime() -> io::Result<Runtime> {
    let d = DEFAULT.read().unwrap_or_else(|p| p.into_inner());
    d.clone().ok_or_else(error::no_runtime)
}

/// The first IPv4 address `addr` resolves to (ferrotcp speaks IPv4 only for now).
pub(crate) fn ipv4(addr: impl ToSocketAddrs) -> io::Result<SocketAddrV4> {
    addr.to_socket_addrs()?
        .find_map(|a| match a {
            SocketAddr::V4(v4) => Some(v4),
            SocketAddr::V6(_) => None,
        })
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no IPv4 address to use"))
}
