//! ferrotcp on both hosts: `Stack` already is a simulated node (ferrotcp-sim's `stack_node`);
//! here it gets the transfer's application calls.

use core::net::SocketAddrV4;

use ferrotcp::trace::TcpState;
use ferrotcp::{Instant, ListenerHandle, Stack, TcpConfig, TcpHandle};
use ferrotcp_bench::ferro_host::app::{self, err};
use ferrotcp_bench::ferro_host::stack_config;
use ferrotcp_bench::harness::{Recv, StackSettings};
use ferrotcp_bench::link::{CLIENT_IP, CLIENT_MAC, SERVER_IP, SERVER_MAC};
use ferrotcp_sim::{HostId, LinkConfig, Network};

use crate::transfer::BulkHost;

/// Two ferrotcp hosts on `link`, both configured from `settings` and then `edit`.
pub fn network(
    seed: u64,
    link: LinkConfig,
    settings: &StackSettings,
    edit: fn(&mut TcpConfig),
) -> Result<(Network<Stack>, HostId, HostId), String> {
    let mut net = Network::new(seed);
    let mut host = |mac, ip, stack_seed| {
        let mut cfg = stack_config(mac, ip, stack_seed, settings);
        edit(&mut cfg.tcp);
        net.add_host(Stack::new(cfg))
    };
    // The same per-host seeds as ferrotcp-sim's `Pair`.
    let client = host(CLIENT_MAC, CLIENT_IP, seed ^ 0xC1);
    let server = host(SERVER_MAC, SERVER_IP, seed ^ 0x5E);
    net.link(client, server, link)
        .map_err(|e| format!("link: {e}"))?;
    Ok((net, client, server))
}

impl BulkHost for Stack {
    type Listener = ListenerHandle;
    type Conn = TcpHandle;

    fn listen(&mut self, port: u16) -> Result<ListenerHandle, String> {
        self.tcp_listen(port, 1).map_err(|e| err("listen", e))
    }

    fn connect(
        &mut self,
        now: Instant,
        to: SocketAddrV4,
        local_port: u16,
    ) -> Result<TcpHandle, String> {
        self.tcp_connect(now, to, Some(local_port))
            .map_err(|e| err("connect", e))
    }

    fn accept(&mut self, lh: ListenerHandle) -> Result<Option<TcpHandle>, String> {
        self.tcp_accept(lh).map_err(|e| err("accept", e))
    }

    fn is_established(&self, c: TcpHandle) -> bool {
        self.tcp_state(c) == Ok(TcpState::Established)
    }

    fn send(&mut self, now: Instant, c: TcpHandle, data: &[u8]) -> Result<usize, String> {
        app::send(self, now, c, data)
    }

    fn shutdown(&mut self, now: Instant, c: TcpHandle) -> Result<(), String> {
        self.tcp_shutdown(now, c).map_err(|e| err("shutdown", e))
    }

    fn recv(&mut self, now: Instant, c: TcpHandle, buf: &mut [u8]) -> Result<Recv, String> {
        app::recv(self, now, c, buf)
    }

    fn drain_events(&mut self) {
        while self.poll_event().is_some() {}
    }
}
