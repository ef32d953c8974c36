use ferrotcp_sim::ladder::{LadderOptions, render};
use ferrotcp_sim::ladder_trace::{SeqDisplay, ladder_items};
use ferrotcp_sim::scenario::echo::{EchoParams, run_echo};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bytes: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let loss: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    let seed: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut p = EchoParams::new(bytes, seed);
    p.link.loss = loss;
    p.trace = true;
    p.link.reorder = 0.02;
    p.link.reorder_delay = ferrotcp::time::Duration::from_millis(15);
    p.link.duplicate = 0.01;
    p.link.jitter = ferrotcp::time::Duration::from_millis(2);
    p.link.corrupt = std::env::var("CORRUPT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let o = run_echo(&p);
    let items = ladder_items(
        o.pair.net.trace(),
        o.pair.client,
        o.pair.server,
        SeqDisplay::Relative,
    );
    print!(
        "{}",
        render(
            &items,
            &LadderOptions {
                width: 130,
                ..LadderOptions::default()
            }
        )
    );
}
