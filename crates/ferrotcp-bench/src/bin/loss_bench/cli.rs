//! Command-line options, and the hidden ones the bench passes to itself when it re-executes
//! inside a namespace as a Linux endpoint.

use std::net::SocketAddrV4;

use clap::{Parser, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    about = "ferrotcp vs the Linux kernel's TCP through random loss on a real path \
                   (network namespaces, a router namespace with an nftables drop rule)"
)]
pub struct Args {
    /// Transfers per direction and loss rate (the median is reported).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=99))]
    pub runs: u32,
    /// Loss rates in percent, comma separated, in steps of 0.1 % (each forwarded TCP packet,
    /// both directions).
    #[arg(long, value_delimiter = ',', default_value = "0,1,5")]
    pub loss: Vec<f64>,
    /// MiB per transfer.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub mib: u64,
    /// Time limit of one transfer, seconds (connection set-up included).
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    /// Congestion control of the Linux senders, set per socket (e.g. cubic, reno; any of
    /// net.ipv4.tcp_available_congestion_control); default: the kernel's default, left alone.
    #[arg(long)]
    pub linux_cc: Option<String>,

    /// Internal: run as a Linux endpoint (the bench re-executes itself in a namespace).
    #[arg(long, value_enum, hide = true)]
    pub role: Option<Role>,
    /// Internal: address to listen on (linux-recv) or connect to (linux-send).
    #[arg(long, hide = true)]
    pub addr: Option<SocketAddrV4>,
    /// Internal: bytes to send or to expect.
    #[arg(long, hide = true)]
    pub bytes: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Role {
    LinuxRecv,
    LinuxSend,
}

impl Args {
    /// Loss rates in per mille (the drop rule's `numgen random mod 1000 < N`).
    pub fn loss_per_mille(&self) -> Result<Vec<u32>, String> {
        self.loss
            .iter()
            .map(|&pct| {
                let n = (pct * 10.0).round();
                if !(0.0..=1000.0).contains(&n) || (n - pct * 10.0).abs() > 1e-6 {
                    Err(format!(
                        "--loss {pct}: expected 0 to 100 in steps of 0.1 (percent)"
                    ))
                } else {
                    Ok(n as u32)
                }
            })
            .collect()
    }
}
