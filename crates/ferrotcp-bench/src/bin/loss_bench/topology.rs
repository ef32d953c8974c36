//! The path: three namespaces made (and deleted) by the bench.
//!
//! ```text
//!  L  192.0.2.1/24  ── veth ──  192.0.2.254/24     R (router)    198.51.100.1/25   ── TAP ── ferrotcp 198.51.100.2
//!                                                               198.51.100.129/25 ── veth ── L2 198.51.100.130/25
//! ```
//!
//! Every transfer crosses R's forward hook, where the nftables loss rule sits: ferrotcp ↔ L,
//! and L2 ↔ L (Linux in ferrotcp's place, for the baseline). A drop there is a loss in the
//! network for both ends; a drop in a sending host's own output hook would not be (Linux sees
//! the local error and resends at once).

use std::net::Ipv4Addr;

use ferrotcp_bench::realnet::{self, Netns};

/// The Linux endpoint every transfer talks to.
pub const L_ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const R_TO_L: &str = "192.0.2.254/24";
/// ferrotcp's address on the TAP device, and its gateway (R's end of the TAP).
pub const FERRO_ADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
pub const FERRO_PREFIX: u8 = 25;
pub const FERRO_GATEWAY: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const R_TO_TAP: &str = "198.51.100.1/25";
/// The second Linux endpoint, in ferrotcp's place for the Linux → Linux baseline.
pub const L2_ADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 130);
const R_TO_L2: &str = "198.51.100.129/25";

/// Device names inside the namespaces (each namespace has its own name space for devices).
const VETH_R_L: &str = "r-l";
const VETH_R_L2: &str = "r-l2";
const VETH_HOST: &str = "veth-r";

/// The three namespaces; dropping this deletes them and the veths inside them.
pub struct Topology {
    pub r: Netns,
    pub l: Netns,
    pub l2: Netns,
}

impl Topology {
    pub fn create() -> Result<Topology, String> {
        let pid = std::process::id();
        // Each guard exists as soon as its namespace does, so an error below deletes what was
        // made so far.
        let topo = Topology {
            r: Netns::create(format!("lossbench-{pid}-r"))?,
            l: Netns::create(format!("lossbench-{pid}-l"))?,
            l2: Netns::create(format!("lossbench-{pid}-l2"))?,
        };
        for ns in [&topo.r, &topo.l, &topo.l2] {
            ns.ip(&["link", "set", "lo", "up"])?;
            // No IPv6 chatter (router solicitations, MLD) on any link.
            ns.sysctl_set("net.ipv6.conf.all.disable_ipv6", "1")?;
            ns.sysctl_set("net.ipv6.conf.default.disable_ipv6", "1")?;
        }
        let r = &topo.r;
        r.sysctl_set("net.ipv4.ip_forward", "1")?;
        r.sysctl_set("net.ipv4.conf.all.rp_filter", "0")?;
        r.sysctl_set("net.ipv4.conf.default.rp_filter", "0")?;
        topo.link(&topo.l, VETH_R_L, R_TO_L, "192.0.2.1/24", "192.0.2.254")?;
        topo.link(
            &topo.l2,
            VETH_R_L2,
            R_TO_L2,
            "198.51.100.130/25",
            "198.51.100.129",
        )?;
        Ok(topo)
    }

    /// A veth pair between R and `host`, addresses on both ends, `host`'s default route via R.
    fn link(
        &self,
        host: &Netns,
        r_dev: &str,
        r_addr: &str,
        host_addr: &str,
        gateway: &str,
    ) -> Result<(), String> {
        let r = &self.r;
        r.ip(&[
            "link",
            "add",
            r_dev,
            "type",
            "veth",
            "peer",
            "name",
            VETH_HOST,
            "netns",
            host.name(),
        ])?;
        // One segment per packet: without this Linux's TCP hands veth 64 KB GSO packets,
        // which R forwards (and the loss rule drops) whole, i.e. bursts of ~45 segments
        // instead of independent per-segment losses. There is no ethtool here; a GSO limit
        // of one segment does the same (checked by the rule counting packets over 1500 B).
        r.ip(&["link", "set", r_dev, "gso_max_segs", "1"])?;
        host.ip(&["link", "set", VETH_HOST, "gso_max_segs", "1"])?;
        // Receive processing of each veth on one CPU (RPS): a veth hands packets to the
        // backlog of whichever CPU is sending, and with two CPUs sending (the application, and
        // the softirq that processes ACKs) the packets of one flow were processed out of order
        // on the far side (Linux counted retransmissions and SACK recoveries at 0 % loss).
        pin_rx(r, r_dev)?;
        pin_rx(host, VETH_HOST)?;
        r.ip(&["addr", "add", r_addr, "dev", r_dev])?;
        host.ip(&["addr", "add", host_addr, "dev", VETH_HOST])?;
        r.ip(&["link", "set", r_dev, "up"])?;
        host.ip(&["link", "set", VETH_HOST, "up"])?;
        host.ip(&["route", "add", "default", "via", gateway])
    }

    /// Moves ferrotcp's TAP device (created by its runtime in our namespace) into R and gives
    /// R's end its address. The device disappears when the runtime closes it.
    pub fn attach_tap(&self, dev: &str) -> Result<(), String> {
        realnet::ip(&["link", "set", dev, "netns", self.r.name()])?;
        self.r.ip(&["addr", "add", R_TO_TAP, "dev", dev])?;
        self.r
            .sysctl_set(&format!("net.ipv4.conf.{dev}.rp_filter"), "0")?;
        self.r.ip(&["link", "set", dev, "up"])
    }

    /// Frames dropped by devices (queues full etc.) in all three namespaces, summed: losses
    /// that are not the loss rule's.
    pub fn device_drops(&self) -> u64 {
        [&self.r, &self.l, &self.l2]
            .iter()
            .map(|ns| {
                ns.output(
                    "sh",
                    &[
                        "-c",
                        "cat /sys/class/net/*/statistics/rx_dropped /sys/class/net/*/statistics/tx_dropped",
                    ],
                )
                .map(|s| s.split_whitespace().filter_map(|v| v.parse::<u64>().ok()).sum())
                .unwrap_or(0)
            })
            .sum()
    }

    /// `sysctl` values of the Linux endpoints that shape their TCP (printed in the header).
    pub fn linux_settings(&self) -> String {
        let keys = [
            "net.ipv4.tcp_congestion_control",
            "net.ipv4.tcp_sack",
            "net.ipv4.tcp_timestamps",
            "net.ipv4.tcp_recovery",
            "net.ipv4.tcp_early_retrans",
            "net.ipv4.tcp_ecn",
        ];
        let mut out = Vec::new();
        for ns in [&self.l, &self.l2] {
            let vals: Vec<String> = keys
                .iter()
                .map(|k| {
                    let v = ns.sysctl_get(k).unwrap_or_else(|_| "?".into());
                    format!("{}={v}", k.trim_start_matches("net.ipv4."))
                })
                .collect();
            out.push(format!("{}: {}", ns.name(), vals.join(" ")));
        }
        out.join("; ")
    }
}

/// Steers all of `dev`'s receive queues to CPU 0 (`rps_cpus` = 1), so packets are processed in
/// the order they were sent.
fn pin_rx(ns: &Netns, dev: &str) -> Result<(), String> {
    let script =
        format!("for q in /sys/class/net/{dev}/queues/rx-*; do echo 1 > $q/rps_cpus; done");
    ns.output("sh", &["-c", &script]).map(drop)
}
