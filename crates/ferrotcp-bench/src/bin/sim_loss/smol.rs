//! smoltcp on both hosts: a [`Host`] (the bench's in-memory `Device`, `Interface` and
//! `SocketSet`) made a simulated [`Node`]. The simulator's virtual clock (µs) is smoltcp's
//! clock; smoltcp's deadlines come back through `poll_timeout`.

use core::net::SocketAddrV4;
use std::cell::RefCell;
use std::rc::Rc;

use ferrotcp::Instant;
use ferrotcp_bench::harness::{Recv, StackSettings};
use ferrotcp_bench::link::{CLIENT_IP, CLIENT_MAC, SERVER_IP, SERVER_MAC};
use ferrotcp_bench::smol_host::{Host, Pool, app, new_socket};
use ferrotcp_sim::{HostId, LinkConfig, Network, Node};
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp::{self, CongestionControl, State};
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::IpAddress;

pub struct SmolNode {
    host: Host,
    settings: StackSettings,
    cc: CongestionControl,
    /// Latest virtual time seen; `poll_timeout` has no `now` but smoltcp's `poll_at` wants one.
    now: SmolInstant,
}

/// Two smoltcp hosts on `link`, sockets set up from `settings` with congestion control `cc`.
pub fn network(
    seed: u64,
    link: LinkConfig,
    settings: &StackSettings,
    cc: CongestionControl,
) -> Result<(Network<SmolNode>, HostId, HostId), String> {
    let pool: Pool = Rc::new(RefCell::new(Vec::new()));
    let mut net = Network::new(seed);
    let mut host = |mac, ip, host_seed| {
        net.add_host(SmolNode {
            host: Host::new(mac, ip, host_seed, &pool, settings.mtu),
            settings: *settings,
            cc,
            now: SmolInstant::from_micros(0),
        })
    };
    let client = host(CLIENT_MAC, CLIENT_IP, seed ^ 0xC1);
    let server = host(SERVER_MAC, SERVER_IP, seed ^ 0x5E);
    net.link(client, server, link)
        .map_err(|e| format!("link: {e}"))?;
    Ok((net, client, server))
}

fn smol_time(now: Instant) -> SmolInstant {
    // Virtual time stays far below i64::MAX µs (the transfers are bounded to minutes).
    SmolInstant::from_micros(i64::try_from(now.total_micros()).unwrap_or(i64::MAX))
}

impl SmolNode {
    fn poll(&mut self, now: Instant) {
        self.now = smol_time(now);
        self.host.poll(self.now);
    }

    fn sock(&self, h: SocketHandle) -> &tcp::Socket<'static> {
        self.host.sockets.get::<tcp::Socket>(h)
    }

    fn sock_mut(&mut self, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.host.sockets.get_mut::<tcp::Socket>(h)
    }
}

impl Node for SmolNode {
    fn receive(&mut self, now: Instant, frame: &[u8]) {
        let mut buf = self.host.dev.buffer();
        buf.clear();
        buf.extend_from_slice(frame);
        self.host.dev.rx.push_back(buf);
        self.poll(now);
    }

    fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        // Application calls only fill socket buffers: smoltcp sends when polled.
        if self.host.dev.tx.is_empty() {
            self.poll(now);
        }
        self.host.dev.tx.pop_front()
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        // "Now" comes back as time zero, which the simulator runs at the current time.
        self.host
            .iface
            .poll_at(self.now, &self.host.sockets)
            .map(|t| Instant::from_micros(u64::try_from(t.total_micros()).unwrap_or(0)))
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.poll(now);
    }

    fn recycle(&mut self, buf: Vec<u8>) {
        self.host.dev.recycle(buf);
    }
}

impl crate::transfer::BulkHost for SmolNode {
    /// smoltcp has no accept queue: the listening socket becomes the connection.
    type Listener = SocketHandle;
    type Conn = SocketHandle;

    fn listen(&mut self, port: u16) -> Result<SocketHandle, String> {
        let mut sock = new_socket(&self.settings, self.cc);
        sock.listen(port)
            .map_err(|e| format!("smoltcp listen: {e:?}"))?;
        Ok(self.host.sockets.add(sock))
    }

    fn connect(
        &mut self,
        now: Instant,
        to: SocketAddrV4,
        local_port: u16,
    ) -> Result<SocketHandle, String> {
        self.now = smol_time(now);
        let mut sock = new_socket(&self.settings, self.cc);
        sock.connect(
            self.host.iface.context(),
            (IpAddress::Ipv4(*to.ip()), to.port()),
            local_port,
        )
        .map_err(|e| format!("smoltcp connect: {e:?}"))?;
        Ok(self.host.sockets.add(sock))
    }

    fn accept(&mut self, l: SocketHandle) -> Result<Option<SocketHandle>, String> {
        Ok(app::accepted(self.sock(l)).then_some(l))
    }

    fn is_established(&self, c: SocketHandle) -> bool {
        self.sock(c).state() == State::Established
    }

    fn send(&mut self, _now: Instant, c: SocketHandle, data: &[u8]) -> Result<usize, String> {
        app::send(self.sock_mut(c), data)
    }

    fn shutdown(&mut self, _now: Instant, c: SocketHandle) -> Result<(), String> {
        // smoltcp's close() only closes the transmit half.
        self.sock_mut(c).close();
        Ok(())
    }

    fn recv(&mut self, _now: Instant, c: SocketHandle, buf: &mut [u8]) -> Result<Recv, String> {
        app::recv(self.sock_mut(c), buf)
    }
}
