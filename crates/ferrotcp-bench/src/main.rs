//! ferrotcp vs smoltcp 0.14, in one binary, under the same settings and the same driver loop.
//!
//! `cargo run --release -p ferrotcp-bench -- [bulk|cycles|all]`
//!
//! Output: `# ...` context lines and one `figure NAME ferrotcp=V smoltcp=V ratio=R unit=U`
//! line per figure (ratio = ferrotcp / smoltcp; higher is better for ferrotcp).

mod checksum_speed;
mod ferro_side;
mod report;
mod scale;
mod smol_side;
mod workloads;

// Shared with the other bench programs (src/lib.rs); imported here so that `crate::harness`
// etc. name them in this program's modules.
use ferrotcp_bench::heap_meter::HeapMeter;
use ferrotcp_bench::{ferro_host, harness, link, pattern, smol_host, spread};

/// Live heap bytes, for the `mem_*` figures.
#[global_allocator]
static HEAP: HeapMeter = HeapMeter::new();

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::harness::{Congestion, StackSettings};
use crate::pattern::Pattern;
use crate::report::{BulkSpec, CyclesSpec, Figure, run_bulk, run_cycles};
use crate::workloads::Common;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Workload {
    All,
    Bulk,
    Cycles,
    /// The checksum alone (`bulk_csum_*` figures).
    Checksum,
    /// N idle connections: ping-pong cost and memory (`scale_*`, `mem_*` figures).
    Scale,
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
    /// bulk: IP MTUs of the link, comma separated (one figure per MTU and buffer size).
    #[arg(long, value_delimiter = ',', default_values_t = [1500, 65535])]
    mtu: Vec<usize>,
    /// bulk: send and receive buffer per connection, both stacks, bytes, comma separated.
    #[arg(long, value_delimiter = ',', default_values_t = [64 << 10, 1 << 20])]
    buffer: Vec<usize>,
    /// Congestion control of both stacks.
    #[arg(long, value_enum, default_value_t = Congestion::Cubic)]
    cc: Congestion,
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
    /// cycles: gap for the second figure, `conn_cycles_sparse` (few TIME-WAITs); 0 skips it.
    #[arg(long, default_value_t = 100_000)]
    sparse_gap_us: u64,
    /// cycles: send and receive buffer per connection, both stacks, bytes (IP MTU 1500).
    #[arg(long, default_value_t = 256 << 10)]
    cycle_buffer: usize,
    /// cycles: buffer per connection, both stacks, for the `_reuse` variants, bytes.
    #[arg(long, default_value_t = 4096)]
    reuse_buffer: usize,
    /// Virtual time per driver iteration, µs.
    #[arg(long, default_value_t = 10)]
    step_us: u64,
    /// Runs per stack and figure, alternating between the stacks; the median is reported.
    #[arg(long, default_value_t = 5)]
    runs: u32,
    /// Wall-clock limit per run, seconds (a run over it is reported as a failure).
    #[arg(long, default_value_t = 120)]
    max_wall_secs: u64,
    /// scale: numbers of established idle connections, comma separated (1M takes about
    /// 4 GB of memory and 20 s to open).
    #[arg(long, value_delimiter = ',', default_values_t = [1, 10_000, 100_000, 1_000_000])]
    scale_conns: Vec<usize>,
    /// scale: the most connections smoltcp is run with (it walks every socket per frame).
    #[arg(long, default_value_t = 10_000)]
    scale_smoltcp_max: usize,
    /// scale: ping-pongs per round; each figure is the median of `--runs` rounds.
    #[arg(long, default_value_t = 20_000)]
    scale_round_trips: u32,
    /// scale: send and receive buffer per connection, both stacks, bytes.
    #[arg(long, default_value_t = 4096)]
    scale_buffer: usize,
    /// Run only one stack (for profiling).
    #[arg(long, value_enum, default_value_t = Stacks::Both)]
    only: Stacks,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.mtu.iter().any(|&m| !(576..=65535).contains(&m)) {
        eprintln!("--mtu: each IP MTU must be 576..=65535");
        return ExitCode::FAILURE;
    }
    if args.buffer.contains(&0)
        || args.cycle_buffer == 0
        || args.reuse_buffer < args.msg.max(1)
        || args.scale_buffer < 64
    {
        eprintln!(
            "--buffer and --cycle-buffer must be at least 1 byte, --reuse-buffer at least --msg, --scale-buffer at least 64"
        );
        return ExitCode::FAILURE;
    }
    let common = |mtu: usize, buffer: usize| Common {
        settings: StackSettings {
            mtu,
            congestion: args.cc,
            buffer,
            delayed_ack_us: 40_000,
            time_wait_us: smol_host::SMOLTCP_TIME_WAIT_US,
        },
        step_us: args.step_us.max(1),
        max_wall: Duration::from_secs(args.max_wall_secs),
    };
    let runs = args.runs.max(1);
    println!(
        "# ferrotcp-bench: two hosts per stack on an in-memory Ethernet link, checksums \
         computed and verified by both stacks, no loss"
    );
    println!(
        "# both stacks: {:?} congestion control, Nagle on, delayed ACK 40 ms, TIME-WAIT 10 s, \
         fixed buffers; virtual clock +{} µs per driver iteration (jumps to the next timer \
         when idle: each jump is a timer wait, free in wall time, real time on a real link)",
        args.cc, args.step_us
    );
    println!(
        "# median of {runs} runs per stack (runs alternate ferrotcp, smoltcp), min-max beside it"
    );
    let pattern = Pattern::new(args.chunk.max(args.msg).max(1));
    let mut figures: Vec<Figure> = Vec::new();
    if matches!(args.workload, Workload::All | Workload::Bulk) {
        for &mtu in &args.mtu {
            for &buffer in &args.buffer {
                let spec = BulkSpec {
                    bytes: args.bytes,
                    chunk: args.chunk.max(1),
                };
                figures.push(run_bulk(
                    &common(mtu, buffer),
                    &spec,
                    runs,
                    args.only,
                    &pattern,
                ));
            }
        }
    }
    if matches!(args.workload, Workload::All | Workload::Checksum) {
        figures.extend(checksum_speed::run(runs));
    }
    if matches!(args.workload, Workload::All | Workload::Cycles) {
        // (name, gap, buffer, smoltcp reuses sockets). The `_reuse` variants are smoltcp as
        // its embedded users run it: sockets kept and reconnected, buffers the size ferrotcp
        // actually allocates for a 1 KiB echo (its rings start at 4 KiB).
        let mut variants = vec![
            ("conn_cycles", args.cycle_gap_us, args.cycle_buffer, false),
            (
                "conn_cycles_reuse",
                args.cycle_gap_us,
                args.reuse_buffer,
                true,
            ),
        ];
        if args.sparse_gap_us > 0 {
            variants.push((
                "conn_cycles_sparse",
                args.sparse_gap_us,
                args.cycle_buffer,
                false,
            ));
            variants.push((
                "conn_cycles_sparse_reuse",
                args.sparse_gap_us,
                args.reuse_buffer,
                true,
            ));
        }
        for (name, gap_us, buffer, reuse) in variants {
            let spec = CyclesSpec {
                name,
                count: args.cycles,
                msg: args.msg,
                gap_us,
                smoltcp_reuses_sockets: reuse,
            };
            let c = common(1500, buffer);
            figures.push(run_cycles(&c, &spec, runs, args.only, &pattern));
        }
    }
    if matches!(args.workload, Workload::All | Workload::Scale) {
        for &conns in &args.scale_conns {
            let spec = scale::ScaleSpec {
                conns,
                round_trips: args.scale_round_trips,
                rounds: runs,
                msg: 64,
            };
            let c = common(1500, args.scale_buffer);
            figures.extend(scale::figures(
                &c.settings,
                &spec,
                args.scale_smoltcp_max,
                args.only,
                &|| HEAP.live_bytes(),
            ));
        }
    }
    let mut ok = args.only == Stacks::Both;
    for f in &figures {
        println!("{}", f.line_for(args.only));
        ok &= f.complete();
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
