//! `UdpSocket`, mirroring `std::net::UdpSocket`.

use std::io;
use std::net::{SocketAddr, SocketAddrV4, ToSocketAddrs};
use std::task::Poll;
use std::time::{Duration, Instant};

use ferrotcp::{UdpError, UdpHandle};

use super::{default_runtime, error, ipv4};
use crate::runtime::Runtime;

pub struct UdpSocket {
    rt: Runtime,
    handle: UdpHandle,
    local: SocketAddrV4,
    read_timeout: Option<Duration>,
}

impl UdpSocket {
    /// Binds on the default runtime (port 0 picks an ephemeral port).
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        Self::bind_on(&default_runtime()?, addr)
    }

    pub fn bind_on(rt: &Runtime, addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let addr = ipv4(addr)?;
        let mut inner = rt.shared.lock();
        let host = inner.stack.config().ipv4;
        if !addr.ip().is_unspecified() && *addr.ip() != host {
            return Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("{} is not this host's address ({host})", addr.ip()),
            ));
        }
        let handle = inner.stack.udp_bind(addr.port()).map_err(error::udp)?;
        let port = inner.stack.udp_local_port(handle).map_err(error::udp)?;
        Ok(UdpSocket {
            rt: rt.clone(),
            handle,
            local: SocketAddrV4::new(host, port),
            read_timeout: None,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::V4(self.local))
    }

    pub fn send_to(&self, buf: &[u8], addr: impl ToSocketAddrs) -> io::Result<usize> {
        let dst = ipv4(addr)?;
        let mut inner = self.rt.shared.lock();
        let now = inner.now();
        inner
            .stack
            .udp_send_to(now, self.handle, dst, buf)
            .map_err(error::udp)?;
        drop(inner);
        self.rt.shared.kick();
        Ok(buf.len())
    }

    /// Waits for a datagram; a longer one is truncated to `buf` (as with `std`).
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let deadline = self.read_timeout.map(|t| Instant::now() + t);
        self.rt
            .shared
            .block_on(deadline, io::ErrorKind::WouldBlock, |inner| {
                match inner.stack.udp_recv_from(self.handle, buf) {
                    Ok((n, from)) => Poll::Ready(Ok((n, SocketAddr::V4(from)))),
                    Err(UdpError::WouldBlock) => Poll::Pending,
                    Err(e) => Poll::Ready(Err(error::udp(e))),
                }
            })
    }

    pub fn set_read_timeout(&mut self, t: Option<Duration>) -> io::Result<()> {
        if t == Some(Duration::ZERO) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "zero timeout"));
        }
        self.read_timeout = t;
        Ok(())
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        let _ = self.rt.shared.lock().stack.udp_close(self.handle);
    }
}
