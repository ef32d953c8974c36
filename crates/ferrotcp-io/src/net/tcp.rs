//! `TcpListener` and `TcpStream`, blocking, mirroring `std::net`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, SocketAddrV4, ToSocketAddrs};
use std::task::Poll;
use std::time::{Duration, Instant};

use ferrotcp::trace::TcpState;
use ferrotcp::{ListenerHandle, TcpError, TcpHandle};

use super::{default_runtime, error, ipv4};
use crate::runtime::Runtime;

/// A listening socket (passive OPEN).
pub struct TcpListener {
    rt: Runtime,
    handle: ListenerHandle,
    local: SocketAddrV4,
}

/// A connection. `try_clone` gives another handle to the same connection; it closes when the
/// last one is dropped.
pub struct TcpStream {
    pub(crate) rt: Runtime,
    pub(crate) handle: TcpHandle,
    owner: std::sync::Arc<Owner>,
    local: SocketAddrV4,
    peer: SocketAddrV4,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    read_shut: bool,
}

/// Backlog of listeners made through `bind` (Linux's default somaxconn is 4096; 128 is the
/// traditional value and plenty for one user-space host).
const BACKLOG: usize = 128;

impl TcpListener {
    /// Listens on the default runtime. The IP part must be the host's address or 0.0.0.0.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        Self::bind_on(&default_runtime()?, addr)
    }

    pub fn bind_on(rt: &Runtime, addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let addr = ipv4(addr)?;
        let mut inner = rt.shared.lock();
        let host = inner.stack.config().ipv4;
        if !addr.ip().is_unspecified() && *addr.ip() != host {
            return Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("{} is not this host's address ({host})", addr.ip()),
            ));
        }
        let handle = inner
            .stack
            .tcp_listen(addr.port(), BACKLOG)
            .map_err(error::tcp)?;
        Ok(TcpListener {
            rt: rt.clone(),
            handle,
            local: SocketAddrV4::new(host, addr.port()),
        })
    }

    /// Waits for the next connection.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let h = self
            .rt
            .shared
            .block_on(None, io::ErrorKind::TimedOut, |inner| {
                match inner.stack.tcp_accept(self.handle) {
                    Ok(Some(h)) => Poll::Ready(Ok(h)),
                    Ok(None) => Poll::Pending,
                    Err(e) => Poll::Ready(Err(error::tcp(e))),
                }
            })?;
        let s = TcpStream::from_handle(&self.rt, h)?;
        let peer = SocketAddr::V4(s.peer);
        Ok((s, peer))
    }

    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::V4(self.local))
    }

    pub(crate) fn handle(&self) -> ListenerHandle {
        self.handle
    }

    pub(crate) fn runtime(&self) -> &Runtime {
        &self.rt
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        let mut inner = self.rt.shared.lock();
        let now = inner.now();
        let _ = inner.stack.tcp_unlisten(now, self.handle);
        drop(inner);
        self.rt.shared.kick();
    }
}

/// Iterator over accepted connections, like `std::net::Incoming`.
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<TcpStream>;
    fn next(&mut self) -> Option<Self::Item> {
        Some(self.listener.accept().map(|(s, _)| s))
    }
}

impl TcpStream {
    /// Active OPEN on the default runtime; blocks until ESTABLISHED or the attempt fails
    /// (`ConnectionRefused`, `TimedOut`, ...).
    pub fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        Self::connect_on(&default_runtime()?, addr)
    }

    pub fn connect_on(rt: &Runtime, addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        Self::connect_timeout_on(rt, addr, None)
    }

    pub fn connect_timeout_on(
        rt: &Runtime,
        addr: impl ToSocketAddrs,
        timeout: Option<Duration>,
    ) -> io::Result<TcpStream> {
        let addr = ipv4(addr)?;
        let h = {
            let mut inner = rt.shared.lock();
            let now = inner.now();
            inner
                .stack
                .tcp_connect(now, addr, None)
                .map_err(error::tcp)?
        };
        rt.shared.kick();
        let deadline = timeout.map(|t| Instant::now() + t);
        let result = rt
            .shared
            .block_on(deadline, io::ErrorKind::TimedOut, |inner| {
                match inner.stack.tcp_state(h) {
                    Ok(TcpState::SynSent | TcpState::SynReceived) => Poll::Pending,
                    Ok(TcpState::Closed) => {
                        let reason = inner.stack.tcp_close_reason(h).ok().flatten();
                        Poll::Ready(Err(error::closed(
                            reason.unwrap_or(ferrotcp::CloseReason::Refused),
                        )))
                    }
                    Ok(_) => Poll::Ready(Ok(())),
                    Err(e) => Poll::Ready(Err(error::tcp(e))),
                }
            });
        match result {
            Ok(()) => TcpStream::from_handle(rt, h),
            Err(e) => {
                let mut inner = rt.shared.lock();
                let now = inner.now();
                let _ = inner.stack.tcp_abort(now, h);
                let _ = inner.stack.tcp_release(h);
                Err(e)
            }
        }
    }

    pub(crate) fn from_handle(rt: &Runtime, handle: TcpHandle) -> io::Result<TcpStream> {
        let inner = rt.shared.lock();
        let local = inner.stack.tcp_local_addr(handle).map_err(error::tcp)?;
        let peer = inner.stack.tcp_peer_addr(handle).map_err(error::tcp)?;
        drop(inner);
        let owner = std::sync::Arc::new(Owner {
            rt: rt.clone(),
            handle,
        });
        Ok(TcpStream {
            rt: rt.clone(),
            handle,
            owner,
            local,
            peer,
            read_timeout: None,
            write_timeout: None,
            read_shut: false,
        })
    }

    /// Another handle to the same connection (like `std::net::TcpStream::try_clone`).
    pub fn try_clone(&self) -> io::Result<TcpStream> {
        Ok(TcpStream {
            rt: self.rt.clone(),
            handle: self.handle,
            owner: self.owner.clone(),
            local: self.local,
            peer: self.peer,
            read_timeout: self.read_timeout,
            write_timeout: self.write_timeout,
            read_shut: self.read_shut,
        })
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::V4(self.peer))
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::V4(self.local))
    }

    /// `Write` half-closes (our FIN), `Read` makes further reads return end of stream.
    pub fn shutdown(&mut self, how: Shutdown) -> io::Result<()> {
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            self.read_shut = true;
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            let mut inner = self.rt.shared.lock();
            let now = inner.now();
            inner
                .stack
                .tcp_shutdown(now, self.handle)
                .map_err(error::tcp)?;
            drop(inner);
            self.rt.shared.kick();
        }
        Ok(())
    }

    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.rt
            .shared
            .lock()
            .stack
            .tcp_set_nodelay(self.handle, nodelay)
            .map_err(error::tcp)
    }

    pub fn set_read_timeout(&mut self, t: Option<Duration>) -> io::Result<()> {
        if t == Some(Duration::ZERO) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "zero timeout"));
        }
        self.read_timeout = t;
        Ok(())
    }

    pub fn set_write_timeout(&mut self, t: Option<Duration>) -> io::Result<()> {
        if t == Some(Duration::ZERO) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "zero timeout"));
        }
        self.write_timeout = t;
        Ok(())
    }

    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.read_timeout)
    }

    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.write_timeout)
    }

    /// The connection's counters (bytes, segments, retransmissions, RTT).
    pub fn stats(&self) -> io::Result<ferrotcp::transport::tcp::TcpStats> {
        self.rt
            .shared
            .lock()
            .stack
            .tcp_stats(self.handle)
            .map_err(error::tcp)
    }

    /// The RFC 9293 state the connection is in.
    pub fn state(&self) -> io::Result<TcpState> {
        self.rt
            .shared
            .lock()
            .stack
            .tcp_state(self.handle)
            .map_err(error::tcp)
    }
}

pub(crate) fn recv_step(
    inner: &mut crate::runtime::Inner,
    h: TcpHandle,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    let now = inner.now();
    match inner.stack.tcp_recv(now, h, buf) {
        Ok(n) => Poll::Ready(Ok(n)),
        Err(TcpError::WouldBlock) => Poll::Pending,
        Err(TcpError::Closed(ferrotcp::CloseReason::Normal)) => Poll::Ready(Ok(0)),
        Err(e) => Poll::Ready(Err(error::tcp(e))),
    }
}

pub(crate) fn send_step(
    inner: &mut crate::runtime::Inner,
    h: TcpHandle,
    data: &[u8],
) -> Poll<io::Result<usize>> {
    let now = inner.now();
    match inner.stack.tcp_send(now, h, data) {
        Ok(n) => Poll::Ready(Ok(n)),
        Err(TcpError::WouldBlock) => Poll::Pending,
        Err(e) => Poll::Ready(Err(error::tcp(e))),
    }
}

impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read_shut || buf.is_empty() {
            return Ok(0);
        }
        let deadline = self.read_timeout.map(|t| Instant::now() + t);
        let h = self.handle;
        self.rt
            .shared
            .block_on(deadline, io::ErrorKind::WouldBlock, |inner| {
                recv_step(inner, h, buf)
            })
    }
}

impl Write for TcpStream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        let deadline = self.write_timeout.map(|t| Instant::now() + t);
        let h = self.handle;
        self.rt
            .shared
            .block_on(deadline, io::ErrorKind::WouldBlock, |inner| {
                send_step(inner, h, data)
            })
    }

    /// Like `std::net::TcpStream`, nothing is buffered above the stack: flushing is immediate.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Closes the connection when the last `TcpStream` handle goes.
struct Owner {
    rt: Runtime,
    handle: TcpHandle,
}

impl Drop for Owner {
    /// Like closing a socket: FIN after the queued data (RST if unread data is dropped), and the
    /// connection finishes on its own (TIME-WAIT included).
    fn drop(&mut self) {
        let mut inner = self.rt.shared.lock();
        let now = inner.now();
        let _ = inner.stack.tcp_close(now, self.handle);
        drop(inner);
        self.rt.shared.kick();
    }
}
