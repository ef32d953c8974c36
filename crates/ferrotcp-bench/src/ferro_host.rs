//! How a ferrotcp host is configured for the benchmarks, from the [`StackSettings`] both
//! stacks share.

use std::collections::VecDeque;

use ferrotcp::wire::MacAddr;
use ferrotcp::{Duration, StackConfig, TcpConfig};

use ferrotcp::transport::tcp::congestion::Algorithm;

use crate::harness::{Congestion, StackSettings};
use crate::link::PREFIX_LEN;

/// A host's configuration: MTU, congestion control, fixed buffers, delayed ACK and TIME-WAIT
/// from `s`, every other setting ferrotcp's default.
pub fn stack_config(
    mac: [u8; 6],
    ip: core::net::Ipv4Addr,
    seed: u64,
    s: &StackSettings,
) -> StackConfig {
    let mut cfg = StackConfig::new(MacAddr(mac), ip, PREFIX_LEN).with_seed(seed);
    cfg.mtu = s.mtu;
    // Fixed buffers: smoltcp's do not grow, so neither do ferrotcp's here.
    cfg.tcp = TcpConfig {
        delayed_ack: Duration::from_micros(s.delayed_ack_us),
        // TIME-WAIT is 2·MSL.
        msl: Duration::from_micros(s.time_wait_us / 2),
        congestion: match s.congestion {
            Congestion::Cubic => Algorithm::Cubic,
            Congestion::Reno => Algorithm::NewReno,
        },
        ..TcpConfig::default()
    }
    .with_fixed_buffers(s.buffer);
    cfg
}

/// One host's turn on the in-memory link: timers, frames in (buffers go back to the sender's
/// pool), events (every one must be drained, or they pile up), frames out. Returns the frames
/// sent.
pub fn host_turn(
    now: ferrotcp::Instant,
    host: &mut ferrotcp::Stack,
    peer: &mut ferrotcp::Stack,
    inbox: &mut VecDeque<Vec<u8>>,
    outbox: &mut VecDeque<Vec<u8>>,
    mut on_event: impl FnMut(ferrotcp::Event),
) -> usize {
    if host.poll_timeout().is_some_and(|d| d <= now) {
        host.handle_timeout(now);
    }
    // One wake-up's frames as one batch (software GRO), as smoltcp's `Interface::poll` takes
    // every frame its device has.
    host.receive_batch(now, inbox.iter().map(Vec::as_slice));
    for frame in inbox.drain(..) {
        peer.recycle(frame);
    }
    while let Some(ev) = host.poll_event() {
        on_event(ev);
    }
    let mut sent = 0;
    while let Some(frame) = host.poll_transmit(now) {
        outbox.push_back(frame);
        sent += 1;
    }
    sent
}

/// The application's calls on a connection, in the bench's terms.
pub mod app {
    use ferrotcp::{Instant, Stack, TcpError, TcpHandle};

    use crate::harness::{BenchResult, Recv};

    pub fn err(what: &str, e: TcpError) -> String {
        format!("ferrotcp {what}: {e:?}")
    }

    /// Queues what fits; 0 if the send buffer is full.
    pub fn send(stack: &mut Stack, now: Instant, c: TcpHandle, data: &[u8]) -> BenchResult<usize> {
        match stack.tcp_send(now, c, data) {
            Ok(n) => Ok(n),
            Err(TcpError::WouldBlock) => Ok(0),
            Err(e) => Err(err("send", e)),
        }
    }

    pub fn recv(
        stack: &mut Stack,
        now: Instant,
        c: TcpHandle,
        buf: &mut [u8],
    ) -> BenchResult<Recv> {
        match stack.tcp_recv(now, c, buf) {
            Ok(0) => Ok(Recv::Eof),
            Ok(n) => Ok(Recv::Data(n)),
            Err(TcpError::WouldBlock) => Ok(Recv::WouldBlock),
            Err(e) => Err(err("recv", e)),
        }
    }
}
