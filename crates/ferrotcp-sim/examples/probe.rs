use ferrotcp_sim::scenario::echo::{EchoParams, run_echo};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bytes: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let loss: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    let seeds: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    for seed in 0..seeds {
        let mut p = EchoParams::new(bytes, seed);
        p.link.loss = loss;
        let t = std::time::Instant::now();
        let o = run_echo(&p);
        println!(
            "seed {seed} intact={} err={:?} close={:?}/{:?} done={:?} fin={} rtx c={} s={} real={:?} rx={}/{}",
            o.intact(),
            o.error,
            o.client_close,
            o.server_close,
            o.transfer_done_at,
            o.finished_at,
            o.client_stats.retransmissions,
            o.server_stats.retransmissions,
            t.elapsed(),
            o.server_received.len(),
            o.client_received.len()
        );
        println!(
            "  diff server {:?} client {:?}",
            first_diff(&o.sent, &o.server_received),
            first_diff(&o.sent, &o.client_received)
        );
    }
}

#[allow(dead_code)]
fn first_diff(a: &[u8], b: &[u8]) -> Option<usize> {
    a.iter().zip(b).position(|(x, y)| x != y)
}
