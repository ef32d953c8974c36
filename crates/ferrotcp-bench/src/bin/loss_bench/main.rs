//! Loss benchmark on a real path: ferrotcp vs the Linux kernel's TCP, through the same random
//! loss. Needs root, `ip` and `nft` (and `/dev/net/tun`).
//!
//! `cargo run --release -p ferrotcp-bench --bin loss_bench [-- --runs N --loss 0,1,5 --mib N]`
//!
//! Three network namespaces made and deleted by the bench (see `topology.rs`): a router R in
//! the middle, a Linux endpoint L on one side, ferrotcp (on a TAP device) and a second Linux
//! endpoint L2 on the other. One nftables rule in R's forward hook drops each forwarded TCP
//! packet, either direction, with the given probability. Per loss rate and run, four
//! transfers of the same size: ferrotcp → L and its twin L2 → L, L → ferrotcp and its twin
//! L → L2. Each is timed by its receiver, from `accept` to end of stream after all bytes were
//! read and checked against the sender's pseudo-random pattern.
//!
//! Output: `# ...` context lines, then per loss rate
//! `figure loss_send_<P>pct ferrotcp=<median s> linux=<median s> ratio=<ferrotcp/linux> unit=s`
//! (ferrotcp → L vs L2 → L) and `figure loss_recv_<P>pct ...` (L → ferrotcp vs L → L2).
//! Exit status 1 if any transfer failed (its figure shows `FAIL`).

mod bench;
mod child;
mod cli;
mod congestion;
mod ferro;
mod linux_peer;
mod nft;
mod stats;
mod topology;
mod transfer;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use ferrotcp::transport::tcp::TcpConfig;
use ferrotcp_bench::realnet;

use crate::bench::{Level, Settings};
use crate::cli::Args;
use crate::topology::Topology;

/// Application read and write size, for every endpoint.
pub const CHUNK: usize = 64 * 1024;

/// A per-mille loss rate as percent, for names and lines ("1", "0.5").
pub fn pct(per_mille: u32) -> String {
    if per_mille % 10 == 0 {
        (per_mille / 10).to_string()
    } else {
        format!("{}.{}", per_mille / 10, per_mille % 10)
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let limit = Duration::from_secs(args.timeout);
    if let Some(role) = args.role {
        return match (args.addr, args.bytes) {
            (Some(addr), Some(bytes)) => {
                child::run(role, addr, bytes, limit, args.linux_cc.as_deref())
            }
            _ => {
                eprintln!("loss_bench: --role needs --addr and --bytes");
                ExitCode::FAILURE
            }
        };
    }
    match orchestrate(&args, limit) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("loss_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The whole bench; `Ok(false)` if any transfer failed.
fn orchestrate(args: &Args, limit: Duration) -> Result<bool, String> {
    let levels = args.loss_per_mille()?;
    realnet::check_privileges(&["ip", "nft", "nstat"], true)?;
    let started = Instant::now();
    let bytes = args.mib << 20;
    let topo = Topology::create()?;
    print_header(args, &topo, bytes);
    let set = Settings {
        runs: args.runs,
        bytes,
        limit,
        linux_cc: args.linux_cc.as_deref(),
    };
    let mut serial = 0;
    let results: Vec<Level> = levels
        .iter()
        .map(|&pm| bench::run_level(&topo, pm, &set, &mut serial))
        .collect();
    drop(topo);
    println!("# load average after: {}", realnet::loadavg());
    println!("# total wall time {:.0} s", started.elapsed().as_secs_f64());
    let mut ok = true;
    for level in &results {
        let p = pct(level.per_mille).replace('.', "p");
        for (name, ferro, linux) in [("send", 0, 1), ("recv", 2, 3)] {
            let f = level.runs[ferro].figure();
            let l = level.runs[linux].figure();
            ok &= f.is_some() && l.is_some();
            let ratio = match (f, l) {
                (Some(f), Some(l)) if l > 0.0 => format!("{:.2}", f / l),
                _ => "NA".into(),
            };
            let fmt = |v: Option<f64>| v.map_or("FAIL".into(), |v| format!("{v:.3}"));
            println!(
                "figure loss_{name}_{p}pct ferrotcp={} linux={} ratio={ratio} unit=s",
                fmt(f),
                fmt(l)
            );
        }
    }
    Ok(ok)
}

fn print_header(args: &Args, topo: &Topology, bytes: u64) {
    let tcp = TcpConfig::default();
    println!(
        "# loss_bench: Linux {} ; {bytes} B per transfer, {} run(s) per kind and loss rate, time limit {} s per transfer",
        realnet::uname(),
        args.runs,
        args.timeout
    );
    println!(
        "# path: L 192.0.2.1/24 -- veth -- R (router) -- TAP -- ferrotcp 198.51.100.2/25 (gateway 198.51.100.1), and R -- veth -- L2 198.51.100.130/25; namespaces {}, {}, {}",
        topo.r, topo.l, topo.l2
    );
    println!(
        "# loss: one nftables rule in R's forward hook (every forwarded TCP packet, data and ACKs, both directions); veths limited to 1 segment per packet (gso_max_segs 1) so one drop is one segment"
    );
    println!(
        "# timing (all kinds alike): at the receiver, from accept() returning to end of stream, after all bytes were read in {} B calls and compared with the sender's pseudo-random pattern",
        CHUNK
    );
    println!(
        "# kinds: ferrotcp->linux vs its twin L2->L (figure loss_send), linux->ferrotcp vs its twin L->L2 (figure loss_recv); Linux endpoints are this binary re-executed in L/L2 with std::net"
    );
    println!(
        "# ferrotcp: default StackConfig/TcpConfig, IP MTU 1500 (TAP), send/recv buffer {}/{} B, initial RTO {:?}, min RTO {:?}, delayed ACK {:?}, Nagle {}, SACK {}, window scaling {}; seed fixed per run",
        tcp.send_buffer,
        tcp.recv_buffer,
        tcp.initial_rto,
        tcp.min_rto,
        tcp.delayed_ack,
        tcp.nagle,
        tcp.sack,
        tcp.window_scaling
    );
    println!("# Linux sysctls: {}", topo.linux_settings());
    match &args.linux_cc {
        Some(cc) => {
            println!("# Linux senders' congestion control set per socket: {cc} (--linux-cc)")
        }
        None => println!("# Linux senders' congestion control: the namespace default (above)"),
    }
    println!("# load average before: {}", realnet::loadavg());
}
