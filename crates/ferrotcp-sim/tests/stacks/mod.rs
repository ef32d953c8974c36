//! Helpers for tests that run two real stacks over the simulated link.
#![allow(dead_code)] // each test binary uses a different subset

use ferrotcp::time::{Duration, Instant};
use ferrotcp::trace::TcpState;
use ferrotcp::{Event, Stack, TcpConfig, TcpHandle};
use ferrotcp_sim::ladder_trace::{SeenSegment, tcp_in_frame};
use ferrotcp_sim::{HostId, Impairments, LinkConfig, Pair, SimEvent};

pub const PORT: u16 = 80;

/// 10 ms each way, no impairments.
pub fn clean_link() -> LinkConfig {
    LinkConfig::symmetric(Impairments {
        delay: Duration::from_millis(10),
        ..Impairments::default()
    })
}

pub fn pair(tcp: TcpConfig) -> Pair {
    Pair::new(7, clean_link(), tcp, true)
}

/// Runs the network until `pred` holds (at most `secs` of virtual time); panics otherwise.
pub fn run_until(p: &mut Pair, secs: u64, what: &str, mut pred: impl FnMut(&mut Pair) -> bool) {
    let deadline = p.net.now() + Duration::from_secs(secs);
    while !pred(p) {
        assert!(p.net.now() < deadline, "timed out waiting for: {what}");
        if !p.net.step() {
            assert!(pred(p), "network went idle before: {what}");
            return;
        }
    }
}

/// Runs for `d` of virtual time.
pub fn run_for(p: &mut Pair, d: Duration) {
    let t = p.net.now() + d;
    p.net.run_until(t);
    p.net.advance_to(t);
}

/// Client connects to the server's listener; returns (client handle, server handle) once both
/// are ESTABLISHED.
pub fn establish(p: &mut Pair) -> (TcpHandle, TcpHandle) {
    let l = p.server().tcp_listen(PORT, 16).expect("listen");
    let now = p.net.now();
    let c = p
        .client()
        .tcp_connect(now, Pair::server_addr(PORT), None)
        .expect("connect");
    let mut s = None;
    run_until(p, 10, "handshake", |p| {
        if s.is_none() {
            s = p.server().tcp_accept(l).expect("accept");
        }
        s.is_some() && p.client().tcp_state(c) == Ok(TcpState::Established)
    });
    (c, s.expect("accepted"))
}

/// All events queued at a host.
pub fn events(stack: &mut Stack) -> Vec<Event> {
    std::iter::from_fn(|| stack.poll_event()).collect()
}

/// TCP segments `from` put on the link since trace index `since`, with their send times.
pub fn segments_from(p: &Pair, from: HostId, since: usize) -> Vec<(Instant, SeenSegment)> {
    p.net.trace()[since..]
        .iter()
        .filter_map(|r| match &r.event {
            SimEvent::FrameSent { from: f, frame, .. } if *f == from => {
                tcp_in_frame(frame).map(|s| (r.time, s))
            }
            _ => None,
        })
        .collect()
}

/// Cuts the link both ways (everything sent from now on is lost).
pub fn cut(p: &mut Pair) {
    let dead = Impairments {
        loss: 1.0,
        delay: Duration::from_millis(10),
        ..Impairments::default()
    };
    let (c, s) = (p.client, p.server);
    p.net
        .set_impairments(c, dead.clone())
        .expect("client linked");
    p.net.set_impairments(s, dead).expect("server linked");
}

/// Reads everything available; returns (bytes, saw end of stream).
pub fn read_all(stack: &mut Stack, now: Instant, h: TcpHandle, out: &mut Vec<u8>) -> bool {
    let mut buf = [0u8; 8192];
    loop {
        match stack.tcp_recv(now, h, &mut buf) {
            Ok(0) => return true,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => return false,
        }
    }
}
