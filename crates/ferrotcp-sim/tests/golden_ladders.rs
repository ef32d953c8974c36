//! Golden ladder diagrams of the canonical exchanges: a diff here is a behaviour change
//! (accept a deliberate one with `cargo insta review` or INSTA_UPDATE=always).

use ferrotcp::time::Duration;
use ferrotcp_sim::ladder::{LadderOptions, render};
use ferrotcp_sim::ladder_trace::{SeqDisplay, ladder_items};
use ferrotcp_sim::scenario::echo::{EchoParams, run_echo};

fn ladder(bytes: usize, loss: f64, seed: u64) -> String {
    let mut p = EchoParams::new(bytes, seed);
    p.trace = true;
    p.link.loss = loss;
    p.link.delay = Duration::from_millis(10);
    let o = run_echo(&p);
    assert!(o.intact());
    let items = ladder_items(
        o.pair.net.trace(),
        o.pair.client,
        o.pair.server,
        SeqDisplay::Relative,
    );
    render(
        &items,
        &LadderOptions {
            width: 110,
            max_segments: Some(40),
            ..LadderOptions::default()
        },
    )
}

#[test]
fn handshake_small_echo_and_close() {
    insta::assert_snapshot!(ladder(4000, 0.0, 1));
}

#[test]
fn echo_with_loss_recovers() {
    insta::assert_snapshot!(ladder(30_000, 0.1, 3));
}
