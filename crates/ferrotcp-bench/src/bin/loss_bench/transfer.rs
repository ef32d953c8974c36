//! One timed transfer of one of the four kinds, with what the path and the endpoints counted.

use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

use ferrotcp_bench::pattern::Pattern;
use ferrotcp_bench::realnet::{self, Netns};

use crate::ferro::{self, FerroHost};
use crate::linux_peer::{LinuxPeer, SenderReport};
use crate::nft::{self, PathCounts};
use crate::topology::{FERRO_ADDR, L_ADDR, L2_ADDR, Topology};

/// Who sends to whom. The Linux → Linux kinds put L2 where ferrotcp is, so each ferrotcp
/// transfer has a Linux twin over the same router, the same rule and the same direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// ferrotcp sends to L.
    FerroToLinux,
    /// L2 sends to L (the twin of `FerroToLinux`).
    LinuxToLinuxSend,
    /// L sends to ferrotcp.
    LinuxToFerro,
    /// L sends to L2 (the twin of `LinuxToFerro`).
    LinuxToLinuxRecv,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::FerroToLinux,
        Kind::LinuxToLinuxSend,
        Kind::LinuxToFerro,
        Kind::LinuxToLinuxRecv,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Kind::FerroToLinux => "ferrotcp->linux",
            Kind::LinuxToLinuxSend => "linux->linux (L2->L)",
            Kind::LinuxToFerro => "linux->ferrotcp",
            Kind::LinuxToLinuxRecv => "linux->linux (L->L2)",
        }
    }
}

/// Everything one transfer needs.
pub struct Ctx<'a> {
    pub topo: &'a Topology,
    pub pattern: &'a Pattern,
    pub bytes: u64,
    pub limit: Duration,
    /// Numbers each transfer's ports and TAP device name, so none is reused.
    pub serial: u32,
    /// Congestion control of the Linux senders (`None`: the namespace's default).
    pub linux_cc: Option<&'a str>,
}

pub struct Measured {
    /// Receiver's time from `accept` to end of stream.
    pub elapsed: Duration,
    pub path: PathCounts,
    /// Endpoint counters and other context, for the per-run line.
    pub notes: String,
}

/// Linux's loss-recovery counters, read in the sending Linux endpoint's namespace.
const LINUX_COUNTERS: [&str; 5] = [
    "TcpOutSegs",
    "TcpRetransSegs",
    "TcpExtTCPTimeouts",
    "TcpExtTCPLossProbes",
    "TcpExtTCPSackRecovery",
];

/// Runs one transfer through the loss rule `per_mille` (the rule is re-installed first, so its
/// counters cover exactly this transfer).
pub fn run(kind: Kind, ctx: &Ctx<'_>, per_mille: u32, seed: u64) -> Result<Measured, String> {
    let topo = ctx.topo;
    nft::install(&topo.r, per_mille)?;
    let port = 20_000 + (ctx.serial % 20_000) as u16;
    let deadline = || Instant::now() + ctx.limit + Duration::from_secs(10);
    let (sender_ns, receiver_ns, to) = match kind {
        Kind::FerroToLinux => (None, Some(&topo.l), L_ADDR),
        Kind::LinuxToLinuxSend => (Some(&topo.l2), Some(&topo.l), L_ADDR),
        Kind::LinuxToFerro => (Some(&topo.l), None, FERRO_ADDR),
        Kind::LinuxToLinuxRecv => (Some(&topo.l), Some(&topo.l2), L2_ADDR),
    };
    let to = SocketAddrV4::new(to, port);
    let linux_before = sender_ns.map(|ns| realnet::nstat(ns.name(), &LINUX_COUNTERS));

    let mut notes = Vec::new();

    // ferrotcp's host exists for the ferrotcp kinds only; it lives until the counters are read
    // (its TAP device, and that device's drop counters, disappear with it).
    let host = match kind {
        Kind::FerroToLinux | Kind::LinuxToFerro => {
            let dev = format!("lb{}t{}", std::process::id() % 100_000, ctx.serial);
            notes.push(format!("seed {seed:#x}"));
            Some(FerroHost::start(topo, dev, seed)?)
        }
        _ => None,
    };
    let drops_before = topo.device_drops();

    let elapsed = match (kind, &host) {
        (Kind::FerroToLinux, Some(host)) => {
            let mut rx = LinuxPeer::receiver(&topo.l, to, ctx.bytes, ctx.limit)?;
            let (stats, seen) = host.send(to, ctx.bytes, ctx.pattern, ctx.limit)?;
            notes.push(sender_view(seen));
            notes.push(ferro::describe(&stats));
            rx.received(ctx.bytes, deadline())?
        }
        (Kind::LinuxToFerro, Some(host)) => {
            let (elapsed, _stats, mut tx) =
                host.receive(port, ctx.bytes, ctx.pattern, ctx.limit, || {
                    LinuxPeer::sender(&topo.l, to, ctx.bytes, ctx.limit, ctx.linux_cc)
                })?;
            let report = tx.finished(deadline())?;
            notes.push(sender_view(report.elapsed));
            notes.push(format!("Linux sender cc={}", report.cc));
            elapsed
        }
        (Kind::LinuxToLinuxSend | Kind::LinuxToLinuxRecv, None) => {
            let (tx_ns, rx_ns) = sender_ns.zip(receiver_ns).ok_or("no Linux endpoints")?;
            let (elapsed, report) = linux_to_linux(tx_ns, rx_ns, to, ctx)?;
            notes.push(sender_view(report.elapsed));
            notes.push(format!("Linux sender cc={}", report.cc));
            elapsed
        }
        _ => return Err(format!("{kind:?}: inconsistent set-up")),
    };

    // The same limit for every kind: ferrotcp's watchdog enforces it, the Linux endpoints only
    // stop a little later (their own watchdog), so check here.
    if elapsed > ctx.limit {
        return Err(format!(
            "took {:.3} s, over the time limit of {:?}",
            elapsed.as_secs_f64(),
            ctx.limit
        ));
    }
    let path = PathCounts::read(&topo.r)?;

    let other_drops = topo.device_drops().saturating_sub(drops_before);
    drop(host);
    if let (Some(ns), Some(before)) = (sender_ns, linux_before) {
        let after = realnet::nstat(ns.name(), &LINUX_COUNTERS);
        let deltas: Vec<String> = LINUX_COUNTERS
            .iter()
            .zip(after.iter().zip(&before))
            .map(|(name, (a, b))| format!("{name}={}", a.saturating_sub(*b)))
            .collect();
        notes.push(format!("Linux sender ({ns}): {}", deltas.join(" ")));
    }
    notes.push(format!("device drops {other_drops}"));
    Ok(Measured {
        elapsed,
        path,
        notes: notes.join("; "),
    })
}

/// The sender's own timing, as a cross-check of the receiver's (they differ by about the
/// handshake's last ACK and the receiver's close travelling back).
fn sender_view(d: Duration) -> String {
    format!(
        "sender's view (established -> receiver's close) {:.3} s",
        d.as_secs_f64()
    )
}

/// Linux to Linux: receiver in `rx_ns` listening on `to`, sender in `tx_ns`. Returns the
/// receiver's time and the sender's report.
fn linux_to_linux(
    tx_ns: &Netns,
    rx_ns: &Netns,
    to: SocketAddrV4,
    ctx: &Ctx<'_>,
) -> Result<(Duration, SenderReport), String> {
    let deadline = Instant::now() + ctx.limit + Duration::from_secs(10);
    let mut rx = LinuxPeer::receiver(rx_ns, to, ctx.bytes, ctx.limit)?;
    let mut tx = LinuxPeer::sender(tx_ns, to, ctx.bytes, ctx.limit, ctx.linux_cc)?;
    let elapsed = rx.received(ctx.bytes, deadline)?;
    let report = tx.finished(deadline)?;
    Ok((elapsed, report))
}
