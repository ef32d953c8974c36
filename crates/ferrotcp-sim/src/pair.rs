//! The two-host setup most scenarios use: a client and a server on one link, addresses from the
//! documentation range 192.0.2.0/24 (RFC 5737).

use core::net::{Ipv4Addr, SocketAddrV4};

use ferrotcp::wire::MacAddr;
use ferrotcp::{Stack, StackConfig, TcpConfig};

use crate::impairments::LinkConfig;
use crate::network::Network;
use crate::node::HostId;

pub const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
pub const SERVER_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
pub const CLIENT_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
pub const SERVER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);

/// A client and a server stack joined by one link.
pub struct Pair {
    pub net: Network<Stack>,
    pub client: HostId,
    pub server: HostId,
}

impl Pair {
    /// `seed` drives the link impairments and each stack's own randomness.
    pub fn new(seed: u64, link: LinkConfig, tcp: TcpConfig, trace: bool) -> Pair {
        Pair::with_config(seed, link, trace, |cfg| cfg.tcp = tcp.clone())
    }

    /// Like [`Pair::new`], with `adjust` applied to both hosts' configurations.
    pub fn with_config(
        seed: u64,
        link: LinkConfig,
        trace: bool,
        adjust: impl Fn(&mut StackConfig),
    ) -> Pair {
        let mut net = Network::new(seed);
        net.set_tracing(trace);
        let mut client_cfg = StackConfig::new(CLIENT_MAC, CLIENT_IP, 24)
            .with_seed(seed ^ 0xC1)
            .with_trace(trace);
        adjust(&mut client_cfg);
        let mut server_cfg = StackConfig::new(SERVER_MAC, SERVER_IP, 24)
            .with_seed(seed ^ 0x5E)
            .with_trace(trace);
        adjust(&mut server_cfg);
        let client = net.add_host(Stack::new(client_cfg));
        let server = net.add_host(Stack::new(server_cfg));
        // Both ids are fresh and distinct, so linking cannot fail.
        if let Err(e) = net.link(client, server, link) {
            unreachable!("linking two fresh hosts failed: {e}");
        }
        Pair {
            net,
            client,
            server,
        }
    }

    pub fn server_addr(port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(SERVER_IP, port)
    }

    pub fn client_addr(port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(CLIENT_IP, port)
    }

    pub fn client(&mut self) -> &mut Stack {
        self.net.host_mut(self.client)
    }

    pub fn server(&mut self) -> &mut Stack {
        self.net.host_mut(self.server)
    }
}
