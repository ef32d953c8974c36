//! The options every real-link command shares: which device, which address, what to record.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use ferrotcp::StackConfig;
use ferrotcp::wire::MacAddr;
use ferrotcp_io::device::DeviceKind;
use ferrotcp_io::impair::ImpairConfig;
use ferrotcp_io::{Runtime, RuntimeConfig};

#[derive(Args, Debug, Clone)]
pub struct LinkArgs {
    /// Run on this TAP device (Ethernet frames; created if missing, needs root).
    #[arg(long, conflicts_with = "tun", required_unless_present = "tun")]
    pub tap: Option<String>,
    /// Run on this TUN device (raw IP packets).
    #[arg(long)]
    pub tun: Option<String>,
    /// This host's address and prefix, e.g. 192.0.2.2/24.
    #[arg(long, value_parser = parse_cidr)]
    pub ip: (Ipv4Addr, u8),
    /// Default gateway for destinations off the subnet.
    #[arg(long)]
    pub gateway: Option<Ipv4Addr>,
    /// Record every frame, both ways, to a pcap file.
    #[arg(long)]
    pub pcap: Option<PathBuf>,
    /// Print every TCP state change as it happens.
    #[arg(long)]
    pub trace: bool,
    /// Drop this percentage of frames on the device path, both directions (user space).
    #[arg(long, default_value_t = 0.0)]
    pub loss: f64,
    /// Delay every frame on the device path by this many milliseconds, both directions.
    #[arg(long, default_value_t = 0)]
    pub delay: u64,
    /// Reorder this percentage of frames on the device path.
    #[arg(long, default_value_t = 0.0)]
    pub reorder: f64,
    /// Seed for the impairments (and nothing secret: the stack's own seed is random).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u8), String> {
    let (addr, prefix) = s
        .split_once('/')
        .ok_or("expected ADDRESS/PREFIX, e.g. 192.0.2.2/24")?;
    let addr: Ipv4Addr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let prefix: u8 = prefix.parse().map_err(|e| format!("{prefix}: {e}"))?;
    if prefix > 32 {
        return Err(format!("prefix {prefix} is longer than 32"));
    }
    Ok((addr, prefix))
}

/// 8 bytes from the OS: the stack keys its ISNs and hash tables with it (RFC 6528 wants the
/// key secret), and the MAC address's host part.
fn random_u64() -> u64 {
    use std::io::Read;
    let mut b = [0u8; 8];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom")
        && f.read_exact(&mut b).is_ok()
    {
        return u64::from_le_bytes(b);
    }
    // No /dev/urandom: fall back to the standard library's randomly keyed hasher.
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id().into());
    h.finish()
}

impl LinkArgs {
    pub fn start(&self) -> Result<Runtime, String> {
        let (name, kind) = match (&self.tap, &self.tun) {
            (Some(t), _) => (t.clone(), DeviceKind::Tap),
            (None, Some(t)) => (t.clone(), DeviceKind::Tun),
            (None, None) => return Err("give --tap NAME or --tun NAME".into()),
        };
        for (what, v) in [("--loss", self.loss), ("--reorder", self.reorder)] {
            if !(0.0..=100.0).contains(&v) {
                return Err(format!("{what} must be a percentage between 0 and 100"));
            }
        }
        let seed = random_u64();
        let m = seed.to_le_bytes();
        // A locally administered unicast address (the 0x02 bit set, the 0x01 bit clear).
        let mac = MacAddr([0x02, m[1], m[2], m[3], m[4], m[5]]);
        let mut stack = StackConfig::new(mac, self.ip.0, self.ip.1).with_seed(seed);
        stack.gateway = self.gateway;
        let impair =
            (self.loss > 0.0 || self.delay > 0 || self.reorder > 0.0).then(|| ImpairConfig {
                loss: self.loss / 100.0,
                delay: Duration::from_millis(self.delay),
                reorder: self.reorder / 100.0,
                seed: self.seed,
            });
        Runtime::start(RuntimeConfig {
            device: name,
            kind,
            stack,
            pcap: self.pcap.clone(),
            impair,
            trace: self.trace,
        })
        .map_err(|e| e.to_string())
    }
}
