//! One host's configuration.

use core::net::Ipv4Addr;

use crate::link::arp_cache::ArpConfig;
use crate::transport::tcp::TcpConfig;
use crate::wire::MacAddr;

/// What the link carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Medium {
    /// Ethernet II frames (TAP devices, the simulator): ARP resolves next hops.
    Ethernet,
    /// Bare IPv4 packets (TUN devices): no link header, no ARP.
    Ip,
}

#[derive(Clone, Debug)]
pub struct StackConfig {
    pub medium: Medium,
    pub mac: MacAddr,
    pub ipv4: Ipv4Addr,
    pub prefix_len: u8,
    pub gateway: Option<Ipv4Addr>,
    /// IP MTU of the link (1500 on Ethernet).
    pub mtu: usize,
    /// Every random choice (ISN key, ephemeral ports, hash keys) derives from this seed.
    pub seed: u64,
    pub tcp: TcpConfig,
    pub arp: ArpConfig,
    /// UDP receive queue bound per socket.
    pub udp_queue_datagrams: usize,
    pub udp_queue_bytes: usize,
    /// Keep trace records (state changes, timers, drops) for `poll_trace`.
    pub trace: bool,
    /// Default time-to-live of packets we send (Linux: 64).
    pub ttl: u8,
    /// Generic segmentation offload in software (Linux's GSO, on by default there too): new
    /// data is decided in bursts of whole MSS segments of up to 64 KiB, as for a device that
    /// cuts segments itself, and the stack cuts each burst into MSS-sized frames as it
    /// hands them over. The connection's per-segment work (sender state, scoreboard, timers)
    /// is then done once per burst; the frames on the link are the same as with it off.
    pub gso: bool,
}

impl StackConfig {
    pub fn new(mac: MacAddr, ipv4: Ipv4Addr, prefix_len: u8) -> Self {
        StackConfig {
            medium: Medium::Ethernet,
            mac,
            ipv4,
            prefix_len,
            gateway: None,
            mtu: 1500,
            seed: 0,
            tcp: TcpConfig::default(),
            arp: ArpConfig::default(),
            udp_queue_datagrams: 64,
            udp_queue_bytes: 256 * 1024,
            trace: false,
            ttl: 64,
            gso: true,
        }
    }

    pub fn with_gateway(mut self, gateway: Ipv4Addr) -> Self {
        self.gateway = Some(gateway);
        self
    }

    pub fn with_medium(mut self, medium: Medium) -> Self {
        self.medium = medium;
        self
    }

    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    pub fn with_trace(mut self, on: bool) -> Self {
        self.trace = on;
        self
    }

    /// MSS we announce: MTU minus the IPv4 and TCP headers (RFC 9293 §3.7.1), unless configured.
    pub fn our_mss(&self) -> u16 {
        let from_mtu = self.mtu.saturating_sub(40).clamp(1, usize::from(u16::MAX)) as u16;
        // MUST-67: never more than the MTU allows, whatever is configured.
        if self.tcp.mss != 0 {
            self.tcp.mss.min(from_mtu)
        } else {
            from_mtu
        }
    }

    pub fn netmask(&self) -> u32 {
        match self.prefix_len {
            0 => 0,
            p if p >= 32 => u32::MAX,
            p => u32::MAX << (32 - p),
        }
    }

    pub fn on_link(&self, addr: Ipv4Addr) -> bool {
        let mask = self.netmask();
        u32::from(addr) & mask == u32::from(self.ipv4) & mask
    }

    pub fn subnet_broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.ipv4) | !self.netmask())
    }

    /// Next hop for `dst`: on-link directly, else via the gateway (None: no route).
    pub fn next_hop(&self, dst: Ipv4Addr) -> Option<Ipv4Addr> {
        if self.on_link(dst) || dst.is_broadcast() {
            Some(dst)
        } else {
            self.gateway
        }
    }
}
