//! smoltcp behind the [`Harness`] trait: two [`Host`]s (an `Interface` with its `SocketSet` and
//! a tiny in-memory Ethernet `Device` each); the driver moves frames between the devices' queues.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use smoltcp::iface::SocketHandle;
use smoltcp::phy::{Checksum, Device};
use smoltcp::socket::tcp::{self, State};
use smoltcp::time::Instant;
use smoltcp::wire::IpAddress;

use crate::harness::{BenchResult, Harness, Recv, Side, StackSettings};
use crate::link::{CLIENT_IP, CLIENT_MAC, SERVER_IP, SERVER_MAC};
use crate::smol_host::{Host, Pool, SMOLTCP_TIME_WAIT_US, app, congestion_control, new_socket};

/// `REUSE`: client sockets whose TIME-WAIT ended are kept, buffers and all, and connected
/// again, instead of being removed and made anew (which allocates and zeroes both buffers):
/// the `conn_cycles_*_reuse` figures, smoltcp used as its embedded users use it.
pub struct SmolPair<const REUSE: bool = false> {
    client: Host,
    server: Host,
    settings: StackSettings,
    /// The server's one socket: smoltcp has no accept queue; a listening socket becomes the
    /// connection, and is put back to listening once CLOSED.
    listen_port: u16,
    server_socket: Option<SocketHandle>,
    handed_out: bool,
    /// Client sockets let go of, still in FIN-WAIT/TIME-WAIT; removed once CLOSED (oldest first).
    lingering: VecDeque<(SocketHandle, u16)>,
    ports_in_use: Vec<bool>,
    /// Closed client sockets ready to connect again (`REUSE` only).
    spare: Vec<SocketHandle>,
    frames: u64,
}

fn t(now: u64) -> Instant {
    Instant::from_micros(now as i64)
}

impl<const REUSE: bool> SmolPair<REUSE> {
    fn host(&self, side: Side) -> &Host {
        match side {
            Side::Client => &self.client,
            Side::Server => &self.server,
        }
    }

    fn host_mut(&mut self, side: Side) -> &mut Host {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    fn sock(&self, side: Side, h: SocketHandle) -> &tcp::Socket<'static> {
        self.host(side).sockets.get::<tcp::Socket>(h)
    }

    fn sock_mut(&mut self, side: Side, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.host_mut(side).sockets.get_mut::<tcp::Socket>(h)
    }

    /// Frees client sockets whose TIME-WAIT is over.
    fn sweep(&mut self) {
        while let Some(&(h, port)) = self.lingering.front() {
            if self.client.sockets.get::<tcp::Socket>(h).state() != State::Closed {
                break;
            }
            if REUSE {
                self.spare.push(h);
            } else {
                self.client.sockets.remove(h);
            }
            self.ports_in_use[usize::from(port)] = false;
            self.lingering.pop_front();
        }
    }
}

impl<const REUSE: bool> Harness for SmolPair<REUSE> {
    type Conn = SocketHandle;

    fn new(settings: &StackSettings) -> BenchResult<Self> {
        if settings.time_wait_us != SMOLTCP_TIME_WAIT_US {
            return Err(format!(
                "smoltcp's TIME-WAIT is fixed at {SMOLTCP_TIME_WAIT_US} µs"
            ));
        }
        let pool: Pool = Rc::new(RefCell::new(Vec::new()));
        let client = Host::new(CLIENT_MAC, CLIENT_IP, 0xC1, &pool, settings.mtu);
        let server = Host::new(SERVER_MAC, SERVER_IP, 0x5E, &pool, settings.mtu);
        let caps = client.dev.capabilities().checksum;
        if !matches!(caps.ipv4, Checksum::Both) || !matches!(caps.tcp, Checksum::Both) {
            return Err("smoltcp checksums must be computed and verified".into());
        }
        Ok(SmolPair {
            client,
            server,
            settings: *settings,
            listen_port: 0,
            server_socket: None,
            handed_out: false,
            lingering: VecDeque::new(),
            ports_in_use: vec![false; 65536],
            spare: Vec::new(),
            frames: 0,
        })
    }

    fn listen(&mut self, port: u16) -> BenchResult<()> {
        let mut sock = new_socket(&self.settings, congestion_control(self.settings.congestion));
        sock.listen(port)
            .map_err(|e| format!("smoltcp listen: {e:?}"))?;
        self.server_socket = Some(self.server.sockets.add(sock));
        self.listen_port = port;
        Ok(())
    }

    fn connect(
        &mut self,
        _now: u64,
        local_port: u16,
        remote_port: u16,
    ) -> BenchResult<Option<SocketHandle>> {
        self.sweep();
        if self.ports_in_use[usize::from(local_port)] {
            return Ok(None);
        }
        let remote = (IpAddress::Ipv4(SERVER_IP), remote_port);
        if let Some(h) = self.spare.pop() {
            let cx = self.client.iface.context();
            self.client
                .sockets
                .get_mut::<tcp::Socket>(h)
                .connect(cx, remote, local_port)
                .map_err(|e| format!("smoltcp connect (reused socket): {e:?}"))?;
            self.ports_in_use[usize::from(local_port)] = true;
            return Ok(Some(h));
        }
        let mut sock = new_socket(&self.settings, congestion_control(self.settings.congestion));
        sock.connect(self.client.iface.context(), remote, local_port)
            .map_err(|e| format!("smoltcp connect: {e:?}"))?;
        self.ports_in_use[usize::from(local_port)] = true;
        Ok(Some(self.client.sockets.add(sock)))
    }

    fn accept(&mut self, _now: u64) -> BenchResult<Option<SocketHandle>> {
        let h = self.server_socket.ok_or("smoltcp accept: not listening")?;
        if self.handed_out {
            return Ok(None);
        }
        if !app::accepted(self.sock(Side::Server, h)) {
            return Ok(None);
        }
        self.handed_out = true;
        Ok(Some(h))
    }

    fn is_established(&self, side: Side, c: SocketHandle) -> bool {
        self.sock(side, c).state() == State::Established
    }

    fn send(&mut self, _now: u64, side: Side, c: SocketHandle, data: &[u8]) -> BenchResult<usize> {
        app::send(self.sock_mut(side, c), data)
    }

    fn recv(
        &mut self,
        _now: u64,
        side: Side,
        c: SocketHandle,
        buf: &mut [u8],
    ) -> BenchResult<Recv> {
        app::recv(self.sock_mut(side, c), buf)
    }

    fn shutdown(&mut self, _now: u64, side: Side, c: SocketHandle) -> BenchResult<()> {
        // smoltcp's close() only closes the transmit half.
        self.sock_mut(side, c).close();
        Ok(())
    }

    fn release(&mut self, _now: u64, side: Side, c: SocketHandle) -> BenchResult<()> {
        self.sock_mut(side, c).close();
        match side {
            Side::Client => {
                let port = self
                    .sock(side, c)
                    .local_endpoint()
                    .map(|e| e.port)
                    .ok_or("smoltcp release: socket has no local endpoint")?;
                self.lingering.push_back((c, port));
            }
            Side::Server => self.handed_out = false,
        }
        Ok(())
    }

    fn is_time_wait(&self, side: Side, c: SocketHandle) -> bool {
        self.sock(side, c).state() == State::TimeWait
    }

    fn server_idle(&mut self) -> bool {
        let Some(h) = self.server_socket else {
            return true;
        };
        if self.handed_out {
            return false;
        }
        let port = self.listen_port;
        let sock = self.sock_mut(Side::Server, h);
        match sock.state() {
            State::Listen => true,
            State::Closed => sock.listen(port).is_ok(),
            _ => false,
        }
    }

    fn client_connections(&self) -> usize {
        self.client.sockets.iter().count()
    }

    fn step(&mut self, now: u64) -> usize {
        let now = t(now);
        let a = self.client.poll(now);
        self.server.dev.rx.append(&mut self.client.dev.tx);
        let b = self.server.poll(now);
        self.client.dev.rx.append(&mut self.server.dev.tx);
        self.frames += (a + b) as u64;
        a + b
    }

    fn next_deadline(&mut self, now: u64) -> Option<u64> {
        let now = t(now);
        let a = self.client.iface.poll_at(now, &self.client.sockets);
        let b = self.server.iface.poll_at(now, &self.server.sockets);
        let d = match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        d.map(|i| i.total_micros().max(0) as u64)
    }

    fn link_idle(&self) -> bool {
        self.client.dev.rx.is_empty()
            && self.client.dev.tx.is_empty()
            && self.server.dev.rx.is_empty()
            && self.server.dev.tx.is_empty()
    }

    fn frames_carried(&self) -> u64 {
        self.frames
    }
}
