//! ferrotcp behind the [`Harness`] trait: two `Stack`s, frames moved through a [`Link`].

use core::net::SocketAddrV4;

use ferrotcp::trace::TcpState;
use ferrotcp::{Instant, ListenerHandle, Stack, TcpError, TcpHandle};

use crate::ferro_host::app::{self, err};
use crate::ferro_host::{host_turn, stack_config};
use crate::harness::{BenchResult, Harness, Recv, Side, StackSettings};
use crate::link::{CLIENT_IP, CLIENT_MAC, Link, SERVER_IP, SERVER_MAC};

pub struct FerroPair {
    client: Stack,
    server: Stack,
    link: Link,
    listener: Option<ListenerHandle>,
}

fn stack(mac: [u8; 6], ip: core::net::Ipv4Addr, seed: u64, s: &StackSettings) -> Stack {
    Stack::new(stack_config(mac, ip, seed, s))
}

fn t(now: u64) -> Instant {
    Instant::from_micros(now)
}

impl FerroPair {
    fn stack_mut(&mut self, side: Side) -> &mut Stack {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    fn stack(&self, side: Side) -> &Stack {
        match side {
            Side::Client => &self.client,
            Side::Server => &self.server,
        }
    }
}

impl Harness for FerroPair {
    type Conn = TcpHandle;

    fn new(settings: &StackSettings) -> BenchResult<Self> {
        Ok(FerroPair {
            client: stack(CLIENT_MAC, CLIENT_IP, 0xC1, settings),
            server: stack(SERVER_MAC, SERVER_IP, 0x5E, settings),
            link: Link::default(),
            listener: None,
        })
    }

    fn listen(&mut self, port: u16) -> BenchResult<()> {
        let lh = self
            .server
            .tcp_listen(port, 128)
            .map_err(|e| err("listen", e))?;
        self.listener = Some(lh);
        Ok(())
    }

    fn connect(
        &mut self,
        now: u64,
        local_port: u16,
        remote_port: u16,
    ) -> BenchResult<Option<TcpHandle>> {
        let remote = SocketAddrV4::new(SERVER_IP, remote_port);
        match self.client.tcp_connect(t(now), remote, Some(local_port)) {
            Ok(h) => Ok(Some(h)),
            Err(TcpError::AddrInUse) => Ok(None),
            Err(e) => Err(err("connect", e)),
        }
    }

    fn accept(&mut self, _now: u64) -> BenchResult<Option<TcpHandle>> {
        let lh = self.listener.ok_or("ferrotcp accept: not listening")?;
        self.server.tcp_accept(lh).map_err(|e| err("accept", e))
    }

    fn is_established(&self, side: Side, c: TcpHandle) -> bool {
        self.stack(side).tcp_state(c) == Ok(TcpState::Established)
    }

    fn send(&mut self, now: u64, side: Side, c: TcpHandle, data: &[u8]) -> BenchResult<usize> {
        app::send(self.stack_mut(side), t(now), c, data)
    }

    fn recv(&mut self, now: u64, side: Side, c: TcpHandle, buf: &mut [u8]) -> BenchResult<Recv> {
        app::recv(self.stack_mut(side), t(now), c, buf)
    }

    fn shutdown(&mut self, now: u64, side: Side, c: TcpHandle) -> BenchResult<()> {
        self.stack_mut(side)
            .tcp_shutdown(t(now), c)
            .map_err(|e| err("shutdown", e))
    }

    fn release(&mut self, now: u64, side: Side, c: TcpHandle) -> BenchResult<()> {
        self.stack_mut(side)
            .tcp_close(t(now), c)
            .map_err(|e| err("close", e))
    }

    fn is_time_wait(&self, side: Side, c: TcpHandle) -> bool {
        self.stack(side).tcp_state(c) == Ok(TcpState::TimeWait)
    }

    fn server_idle(&mut self) -> bool {
        self.server.tcp_connection_count() == 0
    }

    fn client_connections(&self) -> usize {
        self.client.tcp_connection_count()
    }

    fn step(&mut self, now: u64) -> usize {
        let now = t(now);
        let a = host_turn(
            now,
            &mut self.client,
            &mut self.server,
            &mut self.link.server_to_client,
            &mut self.link.client_to_server,
            |_| {},
        );
        let b = host_turn(
            now,
            &mut self.server,
            &mut self.client,
            &mut self.link.client_to_server,
            &mut self.link.server_to_client,
            |_| {},
        );
        self.link.frames += (a + b) as u64;
        a + b
    }

    fn next_deadline(&mut self, _now: u64) -> Option<u64> {
        let a = self.client.poll_timeout().map(Instant::total_micros);
        let b = self.server.poll_timeout().map(Instant::total_micros);
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn link_idle(&self) -> bool {
        self.link.is_empty()
    }

    fn frames_carried(&self) -> u64 {
        self.link.frames
    }
}
