//! Async sockets for tokio (feature `tokio`): `TcpListener::accept().await`,
//! `TcpStream::connect(..).await`, and `AsyncRead`/`AsyncWrite` (so `tokio::io::copy` and
//! `copy_bidirectional` work; `shutdown()` is a half-close). The runtime thread wakes the tasks.

use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::task::{Context, Poll};

use ferrotcp::trace::TcpState;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::net::{self, error};
use crate::runtime::{Runtime, WaitKey};

pub struct TcpListener {
    inner: net::TcpListener,
}

pub struct TcpStream {
    inner: net::TcpStream,
}

impl TcpListener {
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        Ok(TcpListener {
            inner: net::TcpListener::bind(addr)?,
        })
    }

    pub async fn bind_on(rt: &Runtime, addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        Ok(TcpListener {
            inner: net::TcpListener::bind_on(rt, addr)?,
        })
    }

    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let rt = self.inner.runtime();
        let mut guard = rt.shared.lock();
        match guard.stack.tcp_accept(self.inner.handle()) {
            Ok(Some(h)) => {
                drop(guard);
                let s = net::TcpStream::from_handle(rt, h)?;
                let peer = s.peer_addr()?;
                Poll::Ready(Ok((TcpStream { inner: s }, peer)))
            }
            Ok(None) => {
                guard.register(WaitKey::Listener(self.inner.handle()), cx.waker());
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(error::tcp(e))),
        }
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl TcpStream {
    /// Active OPEN on the default runtime; resolves once ESTABLISHED (or refused, timed out...).
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        Self::connect_on(&net::default_runtime()?, addr).await
    }

    pub async fn connect_on(rt: &Runtime, addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let addr = net::ipv4(addr)?;
        let h = {
            let mut g = rt.shared.lock();
            let now = g.now();
            g.stack.tcp_connect(now, addr, None).map_err(error::tcp)?
        };
        rt.shared.kick();
        let done = poll_fn(|cx| {
            let mut g = rt.shared.lock();
            match g.stack.tcp_state(h) {
                Ok(TcpState::SynSent | TcpState::SynReceived) => {
                    g.register(WaitKey::Tcp(h), cx.waker());
                    Poll::Pending
                }
                Ok(TcpState::Closed) => {
                    let reason = g.stack.tcp_close_reason(h).ok().flatten();
                    Poll::Ready(Err(error::closed(
                        reason.unwrap_or(ferrotcp::CloseReason::Refused),
                    )))
                }
                Ok(_) => Poll::Ready(Ok(())),
                Err(e) => Poll::Ready(Err(error::tcp(e))),
            }
        })
        .await;
        match done {
            Ok(()) => Ok(TcpStream {
                inner: net::TcpStream::from_handle(rt, h)?,
            }),
            Err(e) => {
                let mut g = rt.shared.lock();
                let now = g.now();
                let _ = g.stack.tcp_abort(now, h);
                let _ = g.stack.tcp_release(h);
                Err(e)
            }
        }
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_nodelay(nodelay)
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let rt = this.inner.rt.clone();
        let mut g = rt.shared.lock();
        match net::tcp::recv_step(&mut g, this.inner.handle, buf.initialize_unfilled()) {
            Poll::Ready(Ok(n)) => {
                drop(g);
                rt.shared.kick();
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                // Registered under the same lock the runtime wakes under: no wake-up is lost.
                g.register(WaitKey::Tcp(this.inner.handle), cx.waker());
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let rt = this.inner.rt.clone();
        let mut g = rt.shared.lock();
        match net::tcp::send_step(&mut g, this.inner.handle, data) {
            Poll::Ready(r) => {
                drop(g);
                rt.shared.kick();
                Poll::Ready(r)
            }
            Poll::Pending => {
                g.register(WaitKey::Tcp(this.inner.handle), cx.waker());
                Poll::Pending
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Half-close: our FIN goes after the queued data; reading goes on.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        Poll::Ready(this.inner.shutdown(std::net::Shutdown::Write))
    }
}

impl TcpStream {
    /// Waits until the stream has data to read, or its end (or an error) is known.
    pub async fn readable(&self) {
        poll_fn(|cx| {
            let h = self.inner.handle;
            let mut g = self.inner.rt.shared.lock();
            let has_data = g.stack.tcp_recv_queue(h).map_or(true, |n| n > 0);
            let ended = g.stack.tcp_state(h).map_or(true, |s| {
                matches!(
                    s,
                    TcpState::CloseWait
                        | TcpState::Closing
                        | TcpState::LastAck
                        | TcpState::TimeWait
                        | TcpState::Closed
                )
            });
            if has_data || ended {
                Poll::Ready(())
            } else {
                // Registered under the lock the runtime wakes under: no wake-up is lost.
                g.register(WaitKey::Tcp(h), cx.waker());
                Poll::Pending
            }
        })
        .await
    }
}
