use ferrotcp::time::Duration;
use ferrotcp_sim::scenario::echo::{EchoParams, run_echo};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(18);
    let mut p = EchoParams::new(1 << 20, seed);
    p.link.loss = 0.01;
    p.link.reorder = 0.02;
    p.link.reorder_delay = Duration::from_millis(15);
    p.link.duplicate = 0.01;
    p.link.jitter = Duration::from_millis(2);
    p.link.corrupt = 0.05;
    let o = run_echo(&p);
    println!(
        "err={:?} close={:?}/{:?} done={:?} fin={} rx={}/{} cstats={:?} sstats={:?}",
        o.error,
        o.client_close,
        o.server_close,
        o.transfer_done_at,
        o.finished_at,
        o.server_received.len(),
        o.client_received.len(),
        o.client_stats,
        o.server_stats
    );
    println!(
        "{:?}\n{:?}",
        o.pair.net.host(o.pair.client).stats(),
        o.pair.net.host(o.pair.server).stats()
    );
}
