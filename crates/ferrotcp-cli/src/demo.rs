//! `ferrotcp demo`: an echo transfer between two simulated hosts, drawn as a ladder diagram.

use std::process::ExitCode;
use std::time::Instant as WallClock;

use clap::Args;
use ferrotcp::time::{Duration, Instant};
use ferrotcp::trace::TcpState;
use ferrotcp_sim::ladder::{LadderItem, LadderOptions, LadderState, Side, render};
use ferrotcp_sim::ladder_trace::{SeqDisplay, ladder_items};
use ferrotcp_sim::scenario::echo::{EchoOutcome, EchoParams, run_echo};
use ferrotcp_sim::scenario::pattern::fnv1a64;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Bytes the client sends (the server echoes them back).
    #[arg(long, default_value_t = 64 * 1024)]
    bytes: usize,
    /// Frame loss on the link, in percent, each direction.
    #[arg(long, default_value_t = 0.0, value_parser = percent)]
    loss: f64,
    /// Seed for the link impairments and both stacks.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// MSS both stacks announce (default: MTU 1500 - 40 = 1460).
    #[arg(long, value_parser = clap::value_parser!(u16).range(64..=9000))]
    mss: Option<u16>,
    /// One-way link delay in milliseconds.
    #[arg(long, default_value_t = 10)]
    delay_ms: u64,
    /// Frames reordered, in percent.
    #[arg(long, default_value_t = 0.0, value_parser = percent)]
    reorder: f64,
    /// Frames duplicated, in percent.
    #[arg(long, default_value_t = 0.0, value_parser = percent)]
    duplicate: f64,
    /// Segments drawn before the middle of the ladder is summarised.
    #[arg(long, default_value_t = 40)]
    max_segments: usize,
    /// Show raw sequence numbers instead of numbers relative to each side's ISN.
    #[arg(long)]
    absolute: bool,
}

fn percent(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=100.0).contains(&v) {
        Ok(v / 100.0)
    } else {
        Err("must be between 0 and 100".into())
    }
}

pub fn run(args: &DemoArgs) -> ExitCode {
    let mut params = EchoParams::new(args.bytes, args.seed);
    params.trace = true;
    params.link.loss = args.loss;
    params.link.reorder = args.reorder;
    params.link.reorder_delay = Duration::from_millis(args.delay_ms.max(1));
    params.link.duplicate = args.duplicate;
    params.link.delay = Duration::from_millis(args.delay_ms);
    if let Some(mss) = args.mss {
        params.tcp.mss = mss;
    }
    let started = WallClock::now();
    let outcome = run_echo(&params);
    let real = started.elapsed();

    let display = if args.absolute {
        SeqDisplay::Absolute
    } else {
        SeqDisplay::Relative
    };
    let mut items = vec![
        LadderItem::State(LadderState {
            time: Instant::ZERO,
            side: Side::Left,
            state: TcpState::Closed,
        }),
        LadderItem::State(LadderState {
            time: Instant::ZERO,
            side: Side::Right,
            state: TcpState::Listen,
        }),
    ];
    items.extend(ladder_items(
        outcome.pair.net.trace(),
        outcome.pair.client,
        outcome.pair.server,
        display,
    ));
    let opts = LadderOptions {
        left_name: "client 192.0.2.1".into(),
        right_name: "server 192.0.2.2:7".into(),
        width: 120,
        max_segments: Some(args.max_segments),
    };
    print!("{}", render(&items, &opts));
    println!();
    print_summary(args, &outcome, real);
    if outcome.intact() {
        ExitCode::SUCCESS
    } else {
        eprintln!("ferrotcp demo: FAILED: {}", failure(&outcome));
        ExitCode::FAILURE
    }
}

fn failure(o: &EchoOutcome) -> String {
    if let Some(e) = &o.error {
        return e.clone();
    }
    if o.server_received != o.sent {
        return format!(
            "server received {} of {} bytes, or different bytes",
            o.server_received.len(),
            o.sent.len()
        );
    }
    if o.client_received != o.sent {
        return format!(
            "client received {} of {} bytes back, or different bytes",
            o.client_received.len(),
            o.sent.len()
        );
    }
    format!(
        "connections ended {:?} / {:?}",
        o.client_close, o.server_close
    )
}

fn states(list: &[TcpState], first: TcpState) -> String {
    let mut out = vec![first.rfc_name()];
    out.extend(list.iter().map(|s| s.rfc_name()));
    out.join(" → ")
}

fn print_summary(args: &DemoArgs, o: &EchoOutcome, real: std::time::Duration) {
    let ok = |b: bool| if b { "intact" } else { "MISMATCH" };
    let sent_hash = fnv1a64(&o.sent);
    println!(
        "summary (seed {}, loss {:.1}%, mss {})",
        args.seed,
        args.loss * 100.0,
        args.mss.map_or("1460".to_string(), |m| m.to_string())
    );
    println!(
        "  client → server: {} of {} bytes, fnv1a64 {:016x} vs sent {:016x}: {}",
        o.server_received.len(),
        o.sent.len(),
        fnv1a64(&o.server_received),
        sent_hash,
        ok(o.server_received == o.sent)
    );
    println!(
        "  server → client: {} of {} bytes, fnv1a64 {:016x} vs sent {:016x}: {}",
        o.client_received.len(),
        o.sent.len(),
        fnv1a64(&o.client_received),
        sent_hash,
        ok(o.client_received == o.sent)
    );
    for (name, st) in [("client", &o.client_stats), ("server", &o.server_stats)] {
        println!(
            "  {name}: {} segments sent, {} retransmitted ({} timeouts, {} fast retransmits), srtt {:.1} ms, rto {:.0} ms",
            st.segments_sent,
            st.retransmissions,
            st.timeouts,
            st.fast_retransmits,
            st.srtt_micros as f64 / 1000.0,
            st.rto_micros as f64 / 1000.0
        );
    }
    println!(
        "  client states: {}",
        states(&o.client_states, TcpState::Closed)
    );
    println!(
        "  server states: {}",
        states(&o.server_states, TcpState::Listen)
    );
    let link = o.pair.net.stats();
    println!(
        "  link: {} frames sent, {} lost, {} duplicated, {} reordered",
        link.sent, link.lost, link.duplicated, link.reordered
    );
    let done = o
        .transfer_done_at
        .map_or("never".to_string(), |t| t.to_string());
    println!(
        "  time: echo complete at {done} (virtual), both CLOSED at {} after TIME-WAIT; real {:.1} ms",
        o.finished_at,
        real.as_secs_f64() * 1000.0
    );
    println!(
        "  result: {}",
        if o.intact() {
            "OK: every byte arrived intact both ways; both sides CLOSED"
        } else {
            "FAILED"
        }
    );
}
