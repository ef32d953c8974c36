//! Goodput against random loss on a simulated path, ferrotcp vs smoltcp 0.14, both on
//! ferrotcp-sim's deterministic `Network` (virtual time, one seed replays a run exactly).
//!
//! `cargo run --release -p ferrotcp-bench --bin sim_loss -- [--mib N] [--seeds N] [--svg FILE]`
//!
//! Output: `# ...` context lines, a table per loss rate, then
//! `figure sim_goodput_<loss %> <variant>=<median Mbit/s> ... unit=Mbit/s`. A transfer that does
//! not finish (time or event limit, error, wrong data) is `FAIL`, and the exit status is 1.

mod ferro;
mod path;
mod report;
mod smol;
mod summary;
mod svg;
mod transfer;
mod variants;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant as WallInstant;

use clap::Parser;
use ferrotcp::Duration;
use ferrotcp_bench::harness::{Congestion, StackSettings};
use ferrotcp_bench::pattern::Pattern;
use ferrotcp_bench::smol_host::SMOLTCP_TIME_WAIT_US;

use crate::summary::Cell;
use crate::transfer::{CHUNK, Done, Limits};
use crate::variants::{Kind, VARIANTS, Variant};

/// Payload of a full-sized segment (IP MTU 1500).
const MSS: u64 = 1460;
/// Delayed-ACK timeout of both stacks (ferrotcp's default; smoltcp's default of 10 ms raised).
const DELAYED_ACK_US: u64 = 40_000;
/// Events allowed per full-sized segment of data before a transfer is declared stuck (a normal
/// transfer needs about 3: the segment, its share of ACKs, a timer now and then).
const STEPS_PER_SEGMENT: u64 = 200;

#[derive(Parser, Debug)]
#[command(
    about = "Goodput against loss on a simulated 100 Mbit/s, 20 ms path: ferrotcp vs smoltcp"
)]
struct Args {
    /// Application bytes per transfer, MiB.
    #[arg(long, default_value_t = 20)]
    mib: u64,
    /// Seeds per point (1..=N); the table gives median and min–max.
    #[arg(long, default_value_t = 5)]
    seeds: u64,
    /// Random loss rates to run, percent, applied to both directions.
    #[arg(long, value_delimiter = ',', default_values_t = [0.0, 0.1, 1.0, 5.0])]
    loss: Vec<f64>,
    /// Send and receive buffer per connection, both stacks, KiB.
    #[arg(long, default_value_t = 1024)]
    buffer_kib: usize,
    /// Virtual-time limit per transfer, seconds (smoltcp needs about 700 s for 20 MiB at 5 %
    /// loss; the limit only bounds the run, wall-clock cost is tiny).
    #[arg(long, default_value_t = 1800)]
    max_virtual_secs: u64,
    /// Write the plot (SVG) to this file.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Run only the variants whose label contains this.
    #[arg(long)]
    only: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(bad) = args.loss.iter().find(|l| !(0.0..=100.0).contains(*l)) {
        eprintln!("--loss {bad}: not a percentage in 0..=100");
        return ExitCode::FAILURE;
    }
    let bytes = args.mib.saturating_mul(1 << 20);
    if bytes == 0 || args.seeds == 0 || args.buffer_kib == 0 {
        eprintln!("--mib, --seeds and --buffer-kib must be at least 1");
        return ExitCode::FAILURE;
    }
    let variants: Vec<&Variant> = VARIANTS
        .iter()
        .filter(|v| {
            args.only
                .as_ref()
                .is_none_or(|o| v.label.contains(o.as_str()))
        })
        .collect();
    if variants.is_empty() {
        eprintln!("--only: no variant matches");
        return ExitCode::FAILURE;
    }
    let settings = StackSettings {
        mtu: 1500,
        // Each variant sets its own algorithm (variants.rs); this is ferrotcp's default.
        congestion: Congestion::Cubic,
        buffer: args.buffer_kib << 10,
        delayed_ack_us: DELAYED_ACK_US,
        // No connection reaches TIME-WAIT's end here; any value both stacks accept.
        time_wait_us: SMOLTCP_TIME_WAIT_US,
    };
    let segments = bytes.div_ceil(MSS);
    let limits = Limits {
        virtual_time: Duration::from_secs(args.max_virtual_secs),
        steps: STEPS_PER_SEGMENT * segments + 100_000,
    };
    header(&args, &settings, &variants, bytes, &limits);
    let pattern = Pattern::new(CHUNK);
    let started = WallInstant::now();
    let mut grid: Vec<Vec<Cell>> = Vec::new();
    let mut figures = Vec::new();
    let mut ok = true;
    for &loss in &args.loss {
        let cells: Vec<Cell> = variants
            .iter()
            .map(|v| Cell {
                runs: (1..=args.seeds)
                    .map(|seed| {
                        (
                            seed,
                            run_one(v, loss, seed, &settings, bytes, &pattern, limits),
                        )
                    })
                    .collect(),
            })
            .collect();
        report::table(loss, &variants, &cells, bytes, segments);
        ok &= cells.iter().all(|c| c.failures().next().is_none());
        figures.push(report::figure(loss, &variants, &cells, bytes));
        grid.push(cells);
    }
    println!();
    for f in &figures {
        println!("{f}");
    }
    println!(
        "# wall-clock time: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if let Some(file) = &args.svg {
        if let Err(e) = write_svg(file, &args, &variants, &grid, bytes) {
            eprintln!("{}: {e}", file.display());
            ok = false;
        } else {
            println!("# plot written to {}", file.display());
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn header(args: &Args, s: &StackSettings, variants: &[&Variant], bytes: u64, limits: &Limits) {
    println!(
        "# sim_loss: one bulk transfer client -> server per run on ferrotcp-sim's Network \
         (virtual time; deterministic per seed)"
    );
    println!(
        "# path: {} Mbit/s and {} ms one-way delay in each direction (RTT {} ms), BDP {} B; \
         queue of {} frames (BDP / {} B) behind the wire in each direction, tail drop; \
         payload ceiling {:.2} Mbit/s",
        path::RATE_BPS / 1_000_000,
        path::ONE_WAY_US / 1000,
        2 * path::ONE_WAY_US / 1000,
        path::BDP_BYTES,
        path::QUEUE_FRAMES,
        path::FRAME_BYTES,
        path::payload_ceiling_mbps()
    );
    println!(
        "# loss: random, independent per frame, the SAME rate on the data direction (client -> \
         server) and on the ACK direction (server -> client), from the first frame on (ARP and \
         handshake included); rates (%): {:?}",
        args.loss
    );
    println!(
        "# transfer: {bytes} B ({} MiB) written in {} KiB calls, every byte checked at the \
         receiver; goodput = bytes x 8 / virtual time from connect to the receiver reading end \
         of stream",
        args.mib,
        CHUNK >> 10
    );
    println!(
        "# both stacks: send and receive buffer {} B each (> BDP + queue, so the buffers do not \
         cap the rate), IP MTU 1500 / MSS 1460, window scaling, Nagle on, delayed ACK {} ms \
         (both ACK at least every second segment); RTO floor: ferrotcp 200 ms, smoltcp 1 s \
         (fixed in smoltcp)",
        s.buffer,
        s.delayed_ack_us / 1000
    );
    println!(
        "# seeds 1..={} per point (seed drives the link's loss and both hosts' randomness); \
         table: median and min-max over seeds; limits per transfer: {} s virtual, {} events",
        args.seeds,
        limits.virtual_time.as_secs(),
        limits.steps
    );
    for v in variants {
        println!("# variant {}: {}", v.label, v.about);
    }
    println!(
        "# columns: data frm / lost / tail-drop = frames the sender put on the data direction, \
         lost at random, dropped at the full queue (medians); sent/needed = data frm / {} \
         full-sized segments; ack frm = frames the receiver sent (median)",
        bytes.div_ceil(MSS)
    );
}

/// One transfer; a panic inside a stack is a failure of that run, not of the program.
fn run_one(
    v: &Variant,
    loss_pct: f64,
    seed: u64,
    settings: &StackSettings,
    bytes: u64,
    pattern: &Pattern,
    limits: Limits,
) -> Result<Done, String> {
    let link = path::link(loss_pct / 100.0);
    let run = || match v.kind {
        Kind::Ferrotcp(edit) => {
            let (net, c, s) = ferro::network(seed, link, settings, edit)?;
            transfer::run(net, c, s, bytes, pattern, limits)
        }
        Kind::Smoltcp(cc) => {
            let (net, c, s) = smol::network(seed, link, settings, cc)?;
            transfer::run(net, c, s, bytes, pattern, limits)
        }
    };
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(format!("panicked: {msg}"))
    })
}

fn write_svg(
    file: &std::path::Path,
    args: &Args,
    variants: &[&Variant],
    grid: &[Vec<Cell>],
    bytes: u64,
) -> std::io::Result<()> {
    let series: Vec<svg::Series<'_>> = variants
        .iter()
        .enumerate()
        .map(|(j, v)| svg::Series {
            label: v.label,
            points: grid.iter().map(|cells| cells[j].figure(bytes)).collect(),
        })
        .collect();
    let subtitle = format!(
        "{} Mbit/s, {} ms RTT, {}-frame tail-drop queue, same loss both directions; \
         {} MiB per transfer, {} seeds, {} KiB buffers",
        path::RATE_BPS / 1_000_000,
        2 * path::ONE_WAY_US / 1000,
        path::QUEUE_FRAMES,
        args.mib,
        args.seeds,
        args.buffer_kib
    );
    let doc = svg::render(&svg::Plot {
        title: "Goodput against random loss (ferrotcp-sim, virtual time)",
        subtitle: &subtitle,
        losses: &args.loss,
        series: &series,
        ceiling: path::payload_ceiling_mbps(),
    });
    std::fs::write(file, doc)
}
