//! Throughput between a user-space TCP on a TAP device and the Linux kernel's TCP, both
//! directions, for ferrotcp and for smoltcp 0.14 under the same settings. Needs root and
//! /dev/net/tun. Each stack (and each run) gets its own TAP device and its own network namespace,
//! which this program makes and deletes (the stack is 192.0.2.2, Linux 192.0.2.1). Each run
//! also times Linux → Linux over a veth pair (two more namespaces of its own) as the
//! reference: what the kernel itself does on this machine, in the same run.
//!
//! `cargo run --release -p ferrotcp-bench --bin tap_throughput -- [--mib N] [--runs N] [--cc C]
//! [--buffers fixed,large]`
//!
//! Two buffer settings, both in one run by default: `fixed` (256 KiB for both stacks, the
//! kind of buffer smoltcp has) and `large` (what Linux's defaults let its own connections
//! grow to, so the comparison with Linux → Linux is like for like; see [`Buffers`]).
//!
//! Output: `# ...` context lines, then
//! `figure NAME ferrotcp=V smoltcp=V ratio=R unit=Gbit/s` (median run of each stack,
//! ratio = ferrotcp / smoltcp; the `large` figures end in `_large`). A failed run prints `# STACK: ...` and its figure shows `FAIL`;
//! the exit status is then 1.

mod ferro;
mod smol;
mod veth;

use std::cell::RefCell;
use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ferrotcp_bench::harness::Congestion;
use ferrotcp_bench::realnet::{self, Netns, Proc};
use ferrotcp_bench::spread::spread;

#[derive(Parser, Debug)]
#[command(
    about = "ferrotcp and smoltcp on a TAP device against the Linux kernel's TCP, both directions \
             (needs root and /dev/net/tun; makes and deletes its own network namespaces)"
)]
struct Args {
    /// MiB per transfer.
    #[arg(long, default_value_t = 512)]
    mib: usize,
    /// Runs per stack, alternating ferrotcp and smoltcp; the median is reported.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=99))]
    runs: u32,
    /// Congestion control of both user-space stacks (Linux keeps its own default).
    #[arg(long, value_enum, default_value_t = Congestion::Cubic)]
    cc: Congestion,
    /// Buffer settings to run, comma separated, each with every stack.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Buffers::Fixed, Buffers::Large])]
    buffers: Vec<Buffers>,
}

/// The send and receive buffers each stack gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Buffers {
    /// 256 KiB send and receive buffers, fixed, for both stacks (smoltcp's kind of buffer:
    /// allocated whole, never grown).
    Fixed,
    /// As large as Linux's defaults let its own connections grow (tcp_wmem and tcp_rmem
    /// maxima, 4 and 6 MiB): ferrotcp with its default buffers (256 KiB, autotuned up to those
    /// sizes, as Linux's are); smoltcp, which cannot grow a buffer, with fixed buffers of
    /// those sizes. The like-for-like setting for the comparison with Linux → Linux.
    Large,
}

/// Linux's default tcp_wmem and tcp_rmem maxima (ferrotcp's default autotuning limits).
pub const LARGE_SEND: usize = 4 << 20;
pub const LARGE_RECV: usize = 6 << 20;

impl Buffers {
    /// The figures' names: Linux → stack, stack → Linux.
    pub fn figures(self) -> [&'static str; 2] {
        match self {
            Buffers::Fixed => ["tap_linux_to_stack", "tap_stack_to_linux"],
            Buffers::Large => ["tap_linux_to_stack_large", "tap_stack_to_linux_large"],
        }
    }

    /// smoltcp's (send, receive) buffer sizes.
    pub fn smoltcp_sizes(self) -> (usize, usize) {
        match self {
            Buffers::Fixed => (CHUNK, CHUNK),
            Buffers::Large => (LARGE_SEND, LARGE_RECV),
        }
    }

    fn describe(self) -> String {
        match self {
            Buffers::Fixed => format!("{CHUNK} B send/recv buffers, fixed, for both stacks"),
            Buffers::Large => format!(
                "ferrotcp's default buffers ({CHUNK} B autotuned up to {LARGE_SEND} B send, \
                 {LARGE_RECV} B recv, as Linux's defaults), smoltcp fixed at those maxima"
            ),
        }
    }

    fn tag(self) -> char {
        match self {
            Buffers::Fixed => 'x',
            Buffers::Large => 'l',
        }
    }
}

/// The user-space stack's address; Linux's is [`LINUX_ADDR`].
pub const STACK_ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
pub const LINUX_ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// Linux → stack (the stack listens).
pub const PORT_IN: u16 = 5001;
/// Stack → Linux (Linux listens).
pub const PORT_OUT: u16 = 5002;
/// Application read/write size, and each stack's send and receive buffer.
pub const CHUNK: usize = 256 * 1024;
/// Limit on one transfer (connection set-up included).
pub const TRANSFER_LIMIT: Duration = Duration::from_secs(120);
/// Limit on connecting to Linux's listener (it may take a moment to start).
pub const CONNECT_LIMIT: Duration = Duration::from_secs(5);
/// How long a finished transfer waits for Linux's `nc` to exit.
pub const EXIT_LIMIT: Duration = Duration::from_secs(10);

pub type Outcome = Result<Duration, String>;

/// A fresh network namespace and the name of the TAP device that goes into it.
/// The namespace is deleted on drop (after the stack has closed its device, which removes it).
pub struct Net {
    pub ns: Netns,
    pub dev: String,
    counters: RefCell<Vec<u64>>,
}

/// Linux's TCP counters and the TAP device's transmit drops (frames Linux could not queue to
/// the stack), printed after each transfer (deltas), to show losses and retransmissions.
const COUNTERS: [&str; 6] = [
    "TcpInSegs",
    "TcpOutSegs",
    "TcpRetransSegs",
    "TcpExtTCPOFOQueue",
    "TcpExtTCPDSACKOldSent",
    "dev_tx_dropped",
];

impl Net {
    fn create(tag: char, buffers: Buffers, run: u32) -> Result<Net, String> {
        let pid = std::process::id();
        let b = buffers.tag();
        Ok(Net {
            ns: Netns::create(format!("tapbench-{pid}-{tag}{b}{run}"))?,
            // At most 3 + 5 + 2 + 2 = 12 characters (IFNAMSIZ allows 15).
            dev: format!("{tag}tb{}{b}{run}", pid % 100_000),
            counters: RefCell::new(vec![0; COUNTERS.len()]),
        })
    }

    /// Moves the (already created) TAP device into the namespace and gives Linux's end its
    /// address.
    pub fn attach(&self) -> Result<(), String> {
        realnet::ip(&["link", "set", &self.dev, "netns", self.ns.name()])?;
        self.ns
            .ip(&["addr", "add", "192.0.2.1/24", "dev", &self.dev])?;
        self.ns.ip(&["link", "set", &self.dev, "up"])
    }

    /// Prints how much Linux's TCP counters in the namespace grew since the last call.
    pub fn print_counters(&self, stack: &str, what: &str) {
        let mut now = realnet::nstat(self.ns.name(), &COUNTERS[..COUNTERS.len() - 1]);
        now.push(realnet::dev_stat(self.ns.name(), &self.dev, "tx_dropped"));
        let mut last = self.counters.borrow_mut();
        let mut line = format!("# {what} {stack}: Linux counters");
        for (i, name) in COUNTERS.iter().enumerate() {
            line += &format!(" {name}={}", now[i].saturating_sub(last[i]));
            last[i] = now[i];
        }
        println!("{line}");
    }

    /// Linux sends `bytes` to the stack's port [`PORT_IN`].
    pub fn linux_sender(&self, bytes: usize) -> Result<Proc, String> {
        linux_sender(&self.ns, bytes)
    }

    /// Linux listens on [`PORT_OUT`] and discards what it reads.
    pub fn linux_receiver(&self) -> Result<Proc, String> {
        Proc::shell(
            self.ns.name(),
            &format!("nc -l -s 192.0.2.1 -p {PORT_OUT} -w 30 > /dev/null"),
        )
    }
}

/// Linux's sender: writes `bytes` zeros to 192.0.2.2:[`PORT_IN`] in 1 MiB `sendall` calls,
/// half-closes and waits for the peer to close. (`head | nc` was the bottleneck: about 4
/// Gbit/s through its pipe and small reads, where a veth carries 14.)
pub fn linux_sender(ns: &Netns, bytes: usize) -> Result<Proc, String> {
    let script = format!(
        "import socket\n\
         s = socket.create_connection(('192.0.2.2', {PORT_IN}), timeout=30)\n\
         b = memoryview(bytes(1 << 20))\n\
         n = {bytes}\n\
         while n > 0:\n    k = min(n, len(b))\n    s.sendall(b[:k])\n    n -= k\n\
         s.shutdown(socket.SHUT_WR)\n\
         s.recv(1)\n"
    );
    Proc::exec_captured(ns.name(), "python3", &["-c", &script])
}

fn gbit(bytes: usize, d: Duration) -> f64 {
    bytes as f64 * 8.0 / d.as_secs_f64() / 1e9
}

/// Median Gbit/s over the runs, or `None` if any run failed.
fn median(runs: &[Option<f64>]) -> Option<f64> {
    let ok: Option<Vec<f64>> = runs.iter().copied().collect();
    spread(&ok?).map(|s| s.median)
}

fn fmt(v: Option<f64>) -> String {
    v.map_or("FAIL".into(), |v| format!("{v:.2}"))
}

/// (variant index, figure index, name) of every figure, in the order they are printed.
fn each_figure(variants: &[Buffers]) -> Vec<(usize, usize, &'static str)> {
    let mut all = Vec::new();
    for (vi, b) in variants.iter().enumerate() {
        for (fi, name) in b.figures().into_iter().enumerate() {
            all.push((vi, fi, name));
        }
    }
    all
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(e) = realnet::check_privileges(&["ip", "nstat", "python3"], true) {
        eprintln!("tap_throughput: {e}");
        return ExitCode::FAILURE;
    }
    let (mib, runs, cc) = (args.mib, args.runs, args.cc);
    let mut variants = args.buffers.clone();
    variants.dedup();
    let bytes = mib << 20;
    println!(
        "# tap_throughput: each stack on its own TAP device (IP MTU 1500) <-> Linux {} TCP in its own netns; {mib} MiB each way",
        realnet::uname()
    );
    println!(
        "# both stacks: {CHUNK} B application reads/writes, Nagle on, {cc:?}, delayed ACK 40 ms, checksums computed and verified"
    );
    for b in &variants {
        let [rx, tx] = b.figures();
        println!("# {rx}, {tx}: {}", b.describe());
    }
    println!(
        "# Linux -> stack: a Python sender, {bytes} zeros in 1 MiB sendall calls to 192.0.2.2:{PORT_IN}; stack -> Linux: `nc -l -s 192.0.2.1 -p {PORT_OUT} -w 30 > /dev/null` (done when Linux has closed)"
    );
    println!("# {runs} run(s) per stack, alternating ferrotcp, smoltcp; median reported");
    println!("# load average before: {}", realnet::loadavg());

    // results[variant][stack][figure][run]
    let mut results = vec![vec![vec![Vec::new(); 2]; 2]; variants.len()];
    let mut reference = Vec::new();
    let mut failed = false;
    for run in 1..=runs {
        match veth::run(run, bytes) {
            Ok(d) => {
                let g = gbit(bytes, d);
                println!(
                    "# linux_to_linux_veth run {run}: {bytes} bytes in {:.3} s = {g:.2} Gbit/s",
                    d.as_secs_f64()
                );
                reference.push(Some(g));
            }
            Err(e) => {
                println!("# linux_to_linux_veth run {run}: {e}");
                reference.push(None);
                failed = true;
            }
        }
        for (vi, &buffers) in variants.iter().enumerate() {
            let figures = buffers.figures();
            for (si, stack) in ["ferrotcp", "smoltcp"].into_iter().enumerate() {
                let outcomes = match Net::create(stack.as_bytes()[0] as char, buffers, run) {
                    Ok(net) => {
                        println!(
                            "# {stack} run {run} ({buffers:?} buffers): TAP {}, netns {}",
                            net.dev, net.ns
                        );
                        if si == 0 {
                            ferro::run(&net, bytes, cc, buffers)
                        } else {
                            smol::run(&net, bytes, cc, buffers)
                        }
                    }
                    Err(e) => [Err(e.clone()), Err(e)],
                };
                for (fi, outcome) in outcomes.into_iter().enumerate() {
                    let name = figures[fi];
                    match outcome {
                        Ok(d) => {
                            let g = gbit(bytes, d);
                            println!(
                                "# {name} {stack} run {run}: {bytes} bytes in {:.3} s = {g:.2} Gbit/s",
                                d.as_secs_f64()
                            );
                            results[vi][si][fi].push(Some(g));
                        }
                        Err(e) => {
                            println!("# {stack}: {name} run {run}: {e}");
                            results[vi][si][fi].push(None);
                            failed = true;
                        }
                    }
                }
            }
        }
    }
    for (vi, fi, name) in each_figure(&variants) {
        for (si, stack) in ["ferrotcp", "smoltcp"].into_iter().enumerate() {
            let ok: Vec<f64> = results[vi][si][fi].iter().flatten().copied().collect();
            if let Some(v) = spread(&ok) {
                println!(
                    "# {name} {stack}: median {:.2} Gbit/s (min {:.2} - max {:.2}, {} runs)",
                    v.median, v.min, v.max, v.count
                );
            }
        }
    }
    let ok: Vec<f64> = reference.iter().flatten().copied().collect();
    let linux = spread(&ok);
    if let Some(v) = linux {
        println!(
            "# linux_to_linux_veth (reference): median {:.2} Gbit/s (min {:.2} - max {:.2}, {} runs)",
            v.median, v.min, v.max, v.count
        );
    }
    println!("# load average after: {}", realnet::loadavg());
    if let Some(linux) = linux {
        for (vi, fi, name) in each_figure(&variants) {
            let of = |si: usize| {
                median(&results[vi][si][fi])
                    .map_or("FAIL".into(), |g| format!("{:.2}", g / linux.median))
            };
            println!(
                "# {name} against Linux -> Linux over veth ({:.2} Gbit/s): ferrotcp {}x, smoltcp {}x",
                linux.median,
                of(0),
                of(1)
            );
        }
    }
    for (vi, fi, name) in each_figure(&variants) {
        let f = median(&results[vi][0][fi]);
        let s = median(&results[vi][1][fi]);
        let ratio = match (f, s) {
            (Some(f), Some(s)) if s > 0.0 => format!("{:.2}", f / s),
            _ => "NA".into(),
        };
        println!(
            "figure {name} ferrotcp={} smoltcp={} ratio={ratio} unit=Gbit/s",
            fmt(f),
            fmt(s)
        );
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
