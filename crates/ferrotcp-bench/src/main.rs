//! ferrotcp vs smoltcp 0.14, in one binary, under the same settings and the same driver loop.
//!
//! `cargo run --release -p ferrotcp-bench -- [bulk|cycles|all]`
//!
//! Output: `# ...` context lines and one `figure NAME ferrotcp=V smoltcp=V ratio=R unit=U`
//! line per figure (ratio = ferrotcp / smoltcp; higher is better for ferrotcp).

mod ferro_side;
mod report;
mod smol_side;
mod workloads;

// Shared with the other bench programs (src/lib.rs); imported here so that `crate::harness`
// etc. name them in this program's modules.
use ferrotcp_bench::{ferro_host, harness, link, pattern, smol_host};

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::harness::StackSettings;
use crate::pattern::Pattern;
use crate::report::{CyclesSpec, Figure, run_bulk, run_cycles};
use crate::workloads::Common;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Workload {
    All,
    Bulk,
    Cycles,
}

/// Which stacks to run (one alone is for profiling; figures need both).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Stacks {
    Both,
    Ferrotcp,
    Smoltcp,
}

#[derive(Parser, Debug)]
#[command(about = "ferrotcp vs smoltcp over an in-memory Ethernet link")]
struct Args {
    /// Which workload to run.
    #[arg(value_enum, default_value_t = Workload::All)]
    workload: Workload,
    /// bulk: application bytes sent client → server.
    #[arg(long, default_value_t = 256 << 20)]
    bytes: u64,
    /// bulk: bytes per application send/receive call.
    #[arg(long, default_value_t = 64 << 10)]
    chunk: usize,
    /// cycles: connect/echo/close cycles per run.
    #[arg(long, default_value_t = 20_000)]
    cycles: u64,
    /// cycles: bytes sent and echoed per cycle.
    #[arg(long, default_value_t = 1024)]
    msg: usize,
    /// cycles: virtual time between cycles, µs (sets how many TIME-WAITs pile up:
    /// 10 s TIME-WAIT / gap).
    #[arg(long, default_value_t = 1000)]
    cycle_gap_us: u64,
    /// cycles: gap for the second figure, `connect_cycles_sparse` (few TIME-WAITs); 0 skips it.
    #[arg(long, default_value_t = 100_000)]
    sparse_gap_us: u64,
    /// Send and receive buffer per connection, both stacks, bytes.
    #[arg(long, default_value_t = 256 << 10)]
    buffer: usize,
    /// Virtual time per driver iteration, µs.
    #[arg(long, default_value_t = 10)]
    step_us: u64,
    /// Runs per stack and workload; the best is reported.
    #[arg(long, default_value_t = 3)]
    runs: u32,
    /// Wall-clock limit per run, seconds (a run over it is reported as a failure).
    #[arg(long, default_value_t = 120)]
    max_wall_secs: u64,
    /// Run only one stack (for profiling).
    #[arg(long, value_enum, default_value_t = Stacks::Both)]
    only: Stacks,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let common = Common {
        settings: StackSettings {
            buffer: args.buffer,
            delayed_ack_us: 40_000,
            time_wait_us: smol_host::SMOLTCP_TIME_WAIT_US,
        },
        step_us: args.step_us.max(1),
        max_wall: Duration::from_secs(args.max_wall_secs),
    };
    let runs = args.runs.max(1);
    println!(
        "# ferrotcp-bench: two hosts per stack on an in-memory Ethernet link (IP MTU 1500, MSS 1460), \
         checksums computed and verified by both stacks, no loss"
    );
    println!(
        "# both stacks: send/recv buffer {} B, Nagle on, Reno, delayed ACK 40 ms, TIME-WAIT 10 s; \
         virtual clock +{} µs per driver iteration (jumps to the next timer when idle)",
        args.buffer, common.step_us
    );
    println!("# best of {runs} runs per stack (runs alternate ferrotcp, smoltcp)");
    let pattern = Pattern::new(args.chunk.max(args.msg).max(1));
    let mut figures: Vec<Figure> = Vec::new();
    if matches!(args.workload, Workload::All | Workload::Bulk) {
        figures.push(run_bulk(
            &common,
            args.bytes,
            args.chunk.max(1),
            runs,
            args.only,
            &pattern,
        ));
    }
    if matches!(args.workload, Workload::All | Workload::Cycles) {
        let mut variants = vec![("connect_cycles", args.cycle_gap_us)];
        if args.sparse_gap_us > 0 {
            variants.push(("connect_cycles_sparse", args.sparse_gap_us));
        }
        for (name, gap_us) in variants {
            let spec = CyclesSpec {
                name,
                count: args.cycles,
                msg: args.msg,
                gap_us,
            };
            figures.push(run_cycles(&common, &spec, runs, args.only, &pattern));
        }
    }
    let mut ok = args.only == Stacks::Both;
    for f in &figures {
        println!("{}", f.line());
        ok &= f.complete();
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
