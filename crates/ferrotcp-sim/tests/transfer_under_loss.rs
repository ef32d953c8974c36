//! 1 MiB echoed both ways under loss, reordering and duplication, over hundreds of seeds:
//! byte-exact delivery, both connections end CLOSED (the client through TIME-WAIT), nothing
//! leaks. Two senders: the default (CUBIC, SACK, RACK-TLP, timestamps) and NewReno without
//! SACK. A failing seed is printed so it can be replayed with `ferrotcp demo --seed`.

use ferrotcp::CloseReason;
use ferrotcp::time::Duration;
use ferrotcp::trace::TcpState;
use ferrotcp::transport::tcp::congestion::Algorithm;
use ferrotcp::wire::TxOffload;
use ferrotcp_sim::SimEvent;
use ferrotcp_sim::scenario::echo::{EchoOutcome, EchoParams, run_echo};

const MIB: usize = 1024 * 1024;

/// Which sender both hosts run.
#[derive(Clone, Copy, Debug)]
enum Sender {
    /// `TcpConfig::default()`: CUBIC with HyStart++, SACK, RACK-TLP, PRR, timestamps.
    Default,
    /// RFC 5681 / RFC 6582 NewReno, no SACK (duplicate ACKs and the RTO only).
    NewRenoOnly,
}

fn params(seed: u64, loss: f64) -> EchoParams {
    params_for(Sender::Default, seed, loss)
}

fn params_for(sender: Sender, seed: u64, loss: f64) -> EchoParams {
    let mut p = EchoParams::new(MIB, seed);
    if let Sender::NewRenoOnly = sender {
        p.tcp.congestion = Algorithm::NewReno;
        p.tcp.sack = false;
    }
    p.link.loss = loss;
    p.link.reorder = 0.02;
    p.link.reorder_delay = Duration::from_millis(15);
    p.link.duplicate = 0.01;
    p.link.jitter = Duration::from_millis(2);
    // Tracing every tenth run lets us check the states visited without slowing the rest.
    p.trace = seed % 10 == 0;
    p
}

fn check(o: &EchoOutcome, seed: u64, loss: f64) {
    let ctx = format!("seed {seed}, loss {loss}");
    assert_eq!(o.error, None, "{ctx}");
    assert!(
        o.server_received == o.sent,
        "{ctx}: server got {} bytes, not the {} sent",
        o.server_received.len(),
        o.sent.len()
    );
    assert!(
        o.client_received == o.sent,
        "{ctx}: client got {} bytes back, not the {} sent",
        o.client_received.len(),
        o.sent.len()
    );
    assert_eq!(o.client_close, Some(CloseReason::Normal), "{ctx}");
    assert_eq!(o.server_close, Some(CloseReason::Normal), "{ctx}");
    let net = &o.pair.net;
    assert_eq!(
        net.host(o.pair.client).tcp_connection_count(),
        0,
        "{ctx}: client leaked a connection"
    );
    assert_eq!(
        net.host(o.pair.server).tcp_connection_count(),
        0,
        "{ctx}: server leaked a connection"
    );
    if !o.client_states.is_empty() {
        // The side that closes first passes TIME-WAIT, then CLOSED.
        let n = o.client_states.len();
        assert_eq!(
            &o.client_states[n - 2..],
            &[TcpState::TimeWait, TcpState::Closed],
            "{ctx}"
        );
        assert_eq!(o.server_states.last(), Some(&TcpState::Closed), "{ctx}");
        assert!(o.server_states.contains(&TcpState::LastAck), "{ctx}");
    }
    // TIME-WAIT lasts 2·MSL after the echo completed, unless a RST ended it early: a duplicated
    // last ACK reaching the closed server draws a RST, which RFC 9293 §3.10.7.4 (RST in
    // TIME-WAIT: enter CLOSED) and Linux's default both honour.
    if let Some(done) = o.transfer_done_at {
        let rsts = net.host(o.pair.server).stats().tcp_rst_sent;
        assert!(
            o.finished_at - done >= Duration::from_secs(60) || rsts > 0,
            "{ctx}: TIME-WAIT ended early without a reset: done {done}, closed {}",
            o.finished_at
        );
    }
}

/// Runs `seeds` echoes; returns the retransmissions of both sides over all of them.
fn sweep(sender: Sender, loss: f64, seeds: u64) -> u64 {
    let mut echoed = 0;
    let mut retransmitted = 0;
    for seed in 0..seeds {
        let o = run_echo(&params_for(sender, seed, loss));
        check(&o, seed, loss);
        echoed += o.client_received.len();
        retransmitted += o.client_stats.retransmissions + o.server_stats.retransmissions;
    }
    assert_eq!(echoed, seeds as usize * MIB);
    if loss > 0.0 {
        // The losses really happened and were repaired.
        assert!(
            retransmitted > seeds,
            "only {retransmitted} retransmissions over {seeds} runs"
        );
    }
    eprintln!(
        "{sender:?}, loss {loss}: {seeds} runs, {echoed} bytes echoed, {retransmitted} retransmissions"
    );
    retransmitted
}

#[test]
fn one_mib_echo_no_loss_200_seeds() {
    // At 0 % loss every retransmission is spurious, drawn by the 2 % reordering (15 ms) and
    // 1 % duplication. Before RACK (duplicate ACKs, limited transmit, early retransmit) the
    // 200 runs made 20.1k; RACK's reordering window, widened by D-SACKs, must cut that at
    // least fivefold.
    let spurious = sweep(Sender::Default, 0.0, 200);
    assert!(
        spurious <= 20_100 / 5,
        "{spurious} spurious retransmissions"
    );
}

#[test]
fn one_mib_echo_1_percent_loss_200_seeds() {
    sweep(Sender::Default, 0.01, 200);
}

#[test]
fn one_mib_echo_5_percent_loss_200_seeds() {
    sweep(Sender::Default, 0.05, 200);
}

#[test]
fn one_mib_echo_20_percent_loss_200_seeds() {
    sweep(Sender::Default, 0.20, 200);
}

#[test]
fn newreno_without_sack_1_5_and_20_percent_loss_200_seeds_each() {
    for loss in [0.01, 0.05, 0.20] {
        sweep(Sender::NewRenoOnly, loss, 200);
    }
}

#[test]
fn corrupted_frames_are_dropped_by_checksums_and_retransmitted() {
    for seed in 0..50 {
        let mut p = params(seed, 0.01);
        p.link.corrupt = 0.05;
        let o = run_echo(&p);
        check(&o, seed, 0.01);
        let dropped = o.pair.net.host(o.pair.client).stats().bad_checksum
            + o.pair.net.host(o.pair.server).stats().bad_checksum
            + o.pair.net.host(o.pair.client).stats().malformed
            + o.pair.net.host(o.pair.server).stats().malformed
            + o.pair.net.host(o.pair.client).stats().not_for_us
            + o.pair.net.host(o.pair.server).stats().not_for_us;
        assert!(
            dropped > 0,
            "seed {seed}: corruption was injected but nothing was dropped"
        );
    }
}

#[test]
fn same_seed_same_run_bit_for_bit() {
    let a = run_echo(&params(10, 0.1));
    let b = run_echo(&params(10, 0.1));
    assert_eq!(a.pair.net.trace(), b.pair.net.trace());
    assert_eq!(a.finished_at, b.finished_at);
}

/// Every frame put on the link, in order, with its sender and the time.
fn wire(o: &EchoOutcome) -> Vec<(ferrotcp::time::Instant, String, Vec<u8>)> {
    o.pair
        .net
        .trace()
        .iter()
        .filter_map(|r| match &r.event {
            SimEvent::FrameSent { from, frame, .. } => {
                Some((r.time, from.to_string(), frame.clone()))
            }
            _ => None,
        })
        .collect()
}

/// A frame on the wire as `time host seq ack flags len`, for a failure message.
fn describe((time, host, frame): &(ferrotcp::time::Instant, String, Vec<u8>)) -> String {
    use ferrotcp::wire::{Ipv4Repr, TcpRepr};
    let unspecified = core::net::Ipv4Addr::UNSPECIFIED;
    let tcp = Ipv4Repr::parse(frame.get(14..).unwrap_or_default())
        .and_then(|(_, seg)| TcpRepr::parse(seg, unspecified, unspecified, false));
    match tcp {
        Ok((t, data)) => format!(
            "{time} {host} seq={} ack={} {:?} len={}",
            t.seq.0,
            t.ack.0,
            t.flags,
            data.len()
        ),
        Err(e) => format!("{time} {host} {} bytes, not TCP: {e}", frame.len()),
    }
}

#[test]
fn segmentation_offload_changes_nothing_on_the_wire_even_under_loss() {
    // Hosts whose interfaces checksum and cut super-segments (as a NIC with TSO, or a TAP
    // device with a virtio-net header) hand over up to 64 KiB at a time, and hosts that cut
    // them in software (GSO, the default); what the link carries must be the very frames the
    // same hosts send deciding one MSS at a time: the same bytes, at the same instants, so
    // every loss, SACK and retransmission decision is the same too.
    for sender in [Sender::Default, Sender::NewRenoOnly] {
        for seed in 0..40 {
            let loss = [0.0, 0.01, 0.05, 0.20][seed as usize % 4];
            let mut p = params_for(sender, seed, loss);
            p.trace = true;
            p.gso = false;
            let plain = run_echo(&p);
            p.gso = true;
            let software = run_echo(&p);
            check(&software, seed, loss);
            p.offload = TxOffload::ALL;
            let offloaded = run_echo(&p);
            check(&offloaded, seed, loss);
            let (a, b) = (wire(&plain), wire(&software));
            if let Some(i) = (0..a.len().min(b.len())).find(|&i| a[i] != b[i]) {
                panic!(
                    "{sender:?} seed {seed} loss {loss}: software GSO: frame {i} differs: {} vs {}",
                    describe(&a[i]),
                    describe(&b[i])
                );
            }
            assert_eq!(a.len(), b.len(), "{sender:?} seed {seed}: GSO frame count");
            assert_eq!(plain.finished_at, software.finished_at);
            let frames_out = |o: &EchoOutcome| o.pair.net.host(o.pair.client).stats().frames_out;
            assert_eq!(
                frames_out(&plain),
                frames_out(&software),
                "seed {seed}: frames"
            );
            let supers = offloaded
                .pair
                .net
                .host(offloaded.pair.client)
                .stats()
                .super_segments_out
                + offloaded
                    .pair
                    .net
                    .host(offloaded.pair.server)
                    .stats()
                    .super_segments_out;
            assert!(
                supers > 10,
                "{sender:?} seed {seed}: {supers} super-segments"
            );
            let frames = plain.pair.net.host(plain.pair.client).stats().frames_out;
            let handed = offloaded
                .pair
                .net
                .host(offloaded.pair.client)
                .stats()
                .frames_out;
            assert!(
                handed < frames,
                "{sender:?} seed {seed}: {handed} frames handed over, {frames} without offload"
            );
            let (a, b) = (wire(&plain), wire(&offloaded));
            if let Some(i) = (0..a.len().min(b.len())).find(|&i| a[i] != b[i]) {
                panic!(
                    "{sender:?} seed {seed} loss {loss}: frame {i} differs: {} vs {}",
                    describe(&a[i]),
                    describe(&b[i])
                );
            }
            assert_eq!(
                a.len(),
                b.len(),
                "{sender:?} seed {seed} loss {loss}: frame count"
            );
            assert_eq!(plain.finished_at, offloaded.finished_at);
        }
    }
}
