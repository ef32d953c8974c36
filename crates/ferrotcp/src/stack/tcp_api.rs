//! The TCP user interface (RFC 9293 §3.9.1): OPEN (active and passive), SEND, RECEIVE, CLOSE,
//! ABORT, STATUS. Misuse returns a typed [`TcpError`].

use core::net::{Ipv4Addr, SocketAddrV4};
use std::collections::VecDeque;

use super::{Event, Stack};
use crate::seq::SeqNum;
use crate::time::Instant;
use crate::trace::TcpState;
use crate::transport::tcp::table::Listener;
use crate::transport::tcp::{
    BufferUse, CloseReason, KeepAlive, ListenerHandle, Tcb, TcbInit, TcpError, TcpHandle, TcpStats,
};

impl Stack {
    /// Passive OPEN on `port` with an accept queue of `backlog` connections.
    pub fn tcp_listen(&mut self, port: u16, backlog: usize) -> Result<ListenerHandle, TcpError> {
        if port == 0 || backlog == 0 {
            return Err(TcpError::InvalidAddress);
        }
        if self.tcp.by_port.contains_key(&port) {
            return Err(TcpError::AddrInUse);
        }
        let local = SocketAddrV4::new(self.config.ipv4, port);
        let key = self.tcp.listeners.insert(Listener {
            local,
            backlog,
            pending: 0,
            accept_queue: VecDeque::new(),
        });
        let lh = ListenerHandle(key);
        self.tcp.by_port.insert(port, lh);
        Ok(lh)
    }

    /// Takes the next established connection from the listener's queue.
    pub fn tcp_accept(&mut self, lh: ListenerHandle) -> Result<Option<TcpHandle>, TcpError> {
        let listener = self
            .tcp
            .listeners
            .get_mut(lh.0)
            .ok_or(TcpError::InvalidHandle)?;
        let Some(h) = listener.accept_queue.pop_front() else {
            return Ok(None);
        };
        listener.pending = listener.pending.saturating_sub(1);
        if let Some(conn) = self.tcp.get_mut(h) {
            conn.listener = None;
            // Data or a FIN may have arrived before the application accepted.
            if conn.tcb.recv_queue() > 0 || conn.tcb.state() == TcpState::CloseWait {
                conn.queued.insert(crate::transport::tcp::Notify::READABLE);
                self.events.push_back(Event::Readable(h));
            }
        }
        Ok(Some(h))
    }

    /// Stops listening; connections not yet accepted are reset.
    pub fn tcp_unlisten(&mut self, now: Instant, lh: ListenerHandle) -> Result<(), TcpError> {
        let listener = self
            .tcp
            .listeners
            .remove(lh.0)
            .ok_or(TcpError::InvalidHandle)?;
        self.tcp.by_port.remove(&listener.local.port());
        // Children still in SYN-RECEIVED are found through the table below; the accept queue is
        // reset here.
        for h in listener.accept_queue {
            self.abort_conn(now, h);
        }
        Ok(())
    }

    /// Active OPEN to `remote`, from `local_port` or an ephemeral port.
    pub fn tcp_connect(
        &mut self,
        now: Instant,
        remote: SocketAddrV4,
        local_port: Option<u16>,
    ) -> Result<TcpHandle, TcpError> {
        let rip = *remote.ip();
        if remote.port() == 0 || rip.is_unspecified() || rip.is_broadcast() || rip.is_multicast() {
            return Err(TcpError::InvalidAddress);
        }
        if rip == self.config.subnet_broadcast() {
            return Err(TcpError::InvalidAddress);
        }
        if self.config.next_hop(rip).is_none() {
            return Err(TcpError::Unreachable);
        }
        let lip: Ipv4Addr = self.config.ipv4;
        let port = match local_port {
            Some(0) | None => self
                .tcp
                .ephemeral_port(lip, remote)
                .ok_or(TcpError::NoEphemeralPorts)?,
            Some(p) => {
                // The 4-tuple must be free, TIME-WAIT included (RFC 9293 §3.6.1).
                if self.tcp.tuple_in_use(SocketAddrV4::new(lip, p), remote)
                    || self.tcp.by_port.contains_key(&p)
                {
                    return Err(TcpError::AddrInUse);
                }
                p
            }
        };
        let local = SocketAddrV4::new(lip, port);
        let tcb = Tcb::new_active(self.tcb_init(now, local, remote));
        let h = self.tcp.insert(tcb, None);
        self.after_tcb(now, h);
        Ok(h)
    }

    /// A new connection's starting point: ISN per RFC 6528, our MSS, the TCP settings.
    pub(super) fn tcb_init(
        &self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
    ) -> TcbInit<'_> {
        TcbInit {
            config: &self.config.tcp,
            local,
            remote,
            iss: SeqNum(self.isn.isn(now, local, remote)),
            our_mss: self.config.our_mss(),
            ts_offset: self.isn.ts_offset(local, remote),
            now,
        }
    }

    fn conn_mut(&mut self, h: TcpHandle) -> Result<&mut Tcb, TcpError> {
        match self.tcp.get_mut(h) {
            Some(conn) if conn.tcb.is_owned() && conn.listener.is_none() => Ok(&mut conn.tcb),
            _ => Err(TcpError::InvalidHandle),
        }
    }

    fn conn(&self, h: TcpHandle) -> Result<&Tcb, TcpError> {
        match self.tcp.get(h) {
            Some(conn) if conn.tcb.is_owned() && conn.listener.is_none() => Ok(&conn.tcb),
            _ => Err(TcpError::InvalidHandle),
        }
    }

    /// SEND: queues as much of `data` as fits; `WouldBlock` if none does.
    pub fn tcp_send(&mut self, now: Instant, h: TcpHandle, data: &[u8]) -> Result<usize, TcpError> {
        let n = self.conn_mut(h)?.send(data)?;
        self.after_tcb(now, h);
        Ok(n)
    }

    /// RECEIVE: `Ok(0)` at end of stream (the peer closed and all was read).
    pub fn tcp_recv(
        &mut self,
        now: Instant,
        h: TcpHandle,
        buf: &mut [u8],
    ) -> Result<usize, TcpError> {
        let result = self.conn_mut(h)?.recv(now, buf);
        self.after_tcb(now, h);
        result
    }

    /// SEND without a staging buffer: `fill` writes straight into the connection's send
    /// buffer (the free room up to its wrap point; call again for more) and returns how many
    /// bytes it wrote. Errors as [`Stack::tcp_send`]; `WouldBlock` if there is no room or
    /// `fill` wrote nothing.
    pub fn tcp_send_with(
        &mut self,
        now: Instant,
        h: TcpHandle,
        fill: impl FnOnce(&mut [u8]) -> usize,
    ) -> Result<usize, TcpError> {
        let n = self.conn_mut(h)?.send_with(fill)?;
        self.after_tcb(now, h);
        Ok(n)
    }

    /// RECEIVE without a copy: `consume` borrows the unread bytes (up to the receive buffer's
    /// wrap point; call again for more) and returns how many it used, which are removed and
    /// reopen the window. `Ok(0)` at end of stream; `WouldBlock` when nothing is there yet or
    /// `consume` took none of it.
    pub fn tcp_recv_with(
        &mut self,
        now: Instant,
        h: TcpHandle,
        consume: impl FnOnce(&[u8]) -> usize,
    ) -> Result<usize, TcpError> {
        let result = self.conn_mut(h)?.recv_with(now, consume);
        self.after_tcb(now, h);
        result
    }

    /// SEND with the urgent flag (RFC 9293 §3.8.5): the end of `data` becomes the urgent pointer.
    pub fn tcp_send_urgent(
        &mut self,
        now: Instant,
        h: TcpHandle,
        data: &[u8],
    ) -> Result<usize, TcpError> {
        let n = self.conn_mut(h)?.send_urgent(data)?;
        self.after_tcb(now, h);
        Ok(n)
    }

    /// Urgent bytes still unread (MUST-33), `None` when there are none.
    pub fn tcp_urgent_remaining(&self, h: TcpHandle) -> Result<Option<usize>, TcpError> {
        Ok(self.conn(h)?.urgent_remaining())
    }

    /// Half-close: our FIN follows the queued data; we can still receive.
    pub fn tcp_shutdown(&mut self, now: Instant, h: TcpHandle) -> Result<(), TcpError> {
        self.conn_mut(h)?.shutdown(now)?;
        self.after_tcb(now, h);
        Ok(())
    }

    /// CLOSE and let go of the handle. The connection finishes on its own (FIN exchange,
    /// TIME-WAIT); with unread data it is reset instead (RFC 2525 §2.17, as Linux does).
    pub fn tcp_close(&mut self, now: Instant, h: TcpHandle) -> Result<(), TcpError> {
        let tcb = match self.tcp.get_mut(h) {
            Some(conn) if conn.tcb.is_owned() && conn.listener.is_none() => &mut conn.tcb,
            _ => return Err(TcpError::InvalidHandle),
        };
        let (local, remote) = (tcb.local(), tcb.remote());
        let reply = tcb.close(now)?;
        self.send_reply(now, local, remote, reply);
        self.after_tcb(now, h);
        Ok(())
    }

    /// ABORT: RST to the peer (in synchronized states), the handle is released at once.
    pub fn tcp_abort(&mut self, now: Instant, h: TcpHandle) -> Result<(), TcpError> {
        self.conn(h)?;
        self.abort_conn(now, h);
        Ok(())
    }

    /// Aborts a connection (RST where the RFC asks for one) and frees it.
    pub(super) fn abort_conn(&mut self, now: Instant, h: TcpHandle) {
        let Some(conn) = self.tcp.get_mut(h) else {
            return;
        };
        let (local, remote) = (conn.tcb.local(), conn.tcb.remote());
        let reply = conn.tcb.abort(now);
        let _ = conn.tcb.close(now);
        conn.listener = None;
        self.send_reply(now, local, remote, reply);
        self.after_tcb(now, h);
        self.tcp.free(h);
    }

    /// Forget a connection that is already CLOSED (after its `Closed` event).
    pub fn tcp_release(&mut self, h: TcpHandle) -> Result<(), TcpError> {
        let tcb = self.conn(h)?;
        if !tcb.is_closed() {
            return Err(TcpError::InvalidHandle);
        }
        self.tcp.free(h);
        Ok(())
    }

    pub fn tcp_state(&self, h: TcpHandle) -> Result<TcpState, TcpError> {
        Ok(self.conn(h)?.state())
    }

    /// Why the connection ended, once it is CLOSED (MUST-12).
    pub fn tcp_close_reason(&self, h: TcpHandle) -> Result<Option<CloseReason>, TcpError> {
        Ok(self.conn(h)?.close_reason())
    }

    pub fn tcp_stats(&self, h: TcpHandle) -> Result<TcpStats, TcpError> {
        Ok(self.conn(h)?.stats())
    }

    /// The connection's send and receive buffers now: how far each may grow (autotuning
    /// raises the limits) and the memory each holds (grown on demand, freed when idle).
    pub fn tcp_buffers(&self, h: TcpHandle) -> Result<BufferUse, TcpError> {
        Ok(self.conn(h)?.buffers())
    }

    pub fn tcp_local_addr(&self, h: TcpHandle) -> Result<SocketAddrV4, TcpError> {
        Ok(self.conn(h)?.local())
    }

    pub fn tcp_peer_addr(&self, h: TcpHandle) -> Result<SocketAddrV4, TcpError> {
        Ok(self.conn(h)?.remote())
    }

    /// Bytes that `tcp_send` would accept now.
    pub fn tcp_send_capacity(&self, h: TcpHandle) -> Result<usize, TcpError> {
        Ok(self.conn(h)?.send_capacity())
    }

    /// Bytes queued for sending and not yet acknowledged.
    pub fn tcp_send_queue(&self, h: TcpHandle) -> Result<usize, TcpError> {
        Ok(self.conn(h)?.send_queue())
    }

    pub fn tcp_recv_queue(&self, h: TcpHandle) -> Result<usize, TcpError> {
        Ok(self.conn(h)?.recv_queue())
    }

    /// R2 for this connection: retransmissions of one segment before the connection is closed
    /// with `TimedOut` (MUST-21; the stack default is `TcpConfig::r2`).
    pub fn tcp_set_r2(&mut self, h: TcpHandle, r2: u32) -> Result<(), TcpError> {
        self.conn_mut(h)?.set_r2(r2);
        Ok(())
    }

    /// TCP_NODELAY: `true` turns Nagle's algorithm off (MUST-17).
    pub fn tcp_set_nodelay(&mut self, h: TcpHandle, nodelay: bool) -> Result<(), TcpError> {
        self.conn_mut(h)?.set_nagle(!nodelay);
        Ok(())
    }

    /// Keep-alive for this connection (off by default, MUST-24).
    pub fn tcp_set_keepalive(
        &mut self,
        now: Instant,
        h: TcpHandle,
        keepalive: Option<KeepAlive>,
    ) -> Result<(), TcpError> {
        self.conn_mut(h)?.set_keepalive(keepalive, now);
        self.after_tcb(now, h);
        Ok(())
    }
}
