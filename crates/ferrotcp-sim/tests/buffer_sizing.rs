//! Buffers that size themselves (Linux's dynamic right-sizing): on a long fat path a default
//! connection is not held to the 256 KiB it starts with, and once idle its buffers give their
//! memory back. Virtual time, so the rates below are exact for the seed, not measurements of
//! this machine.

mod stacks;

use ferrotcp::time::Duration;
use ferrotcp::trace::TcpState;
use ferrotcp::transport::tcp::BufferUse;
use ferrotcp::{TcpConfig, TcpError, TcpHandle};
use ferrotcp_sim::{Impairments, LinkConfig, Pair};
use stacks::*;

/// 500 Mbit/s each way, 20 ms round trip: a bandwidth-delay product of 1.25 MB.
const RATE_BPS: u64 = 500_000_000;
const ONE_WAY: Duration = Duration::from_millis(10);
/// One bandwidth-delay product of full-sized frames may queue at the bottleneck.
const QUEUE_FRAMES: usize = 825;
const FIXED: usize = 256 * 1024;

fn fat_link() -> LinkConfig {
    LinkConfig::symmetric(Impairments {
        delay: ONE_WAY,
        bandwidth_bps: Some(RATE_BPS),
        queue_limit: Some(QUEUE_FRAMES),
        ..Impairments::default()
    })
}

/// Most a window of `bytes` can carry over the path's 20 ms round trip, Mbit/s.
fn window_ceiling_mbps(bytes: usize) -> f64 {
    bytes as f64 * 8.0 / 0.020 / 1e6
}

fn byte(i: usize) -> u8 {
    (i * 7 % 251) as u8
}

/// Sends `len` bytes client → server (stream offsets from `start`), the server reading as it
/// arrives; checks every byte and returns the goodput in virtual time, Mbit/s.
fn transfer(p: &mut Pair, c: TcpHandle, s: TcpHandle, start: usize, len: usize) -> f64 {
    let data: Vec<u8> = (start..start + len).map(byte).collect();
    let began = p.net.now();
    let (mut sent, mut got) = (0, Vec::with_capacity(len));
    let deadline = began + Duration::from_secs(60);
    while got.len() < len {
        assert!(
            p.net.now() < deadline,
            "stuck at {} of {len} bytes",
            got.len()
        );
        let now = p.net.now();
        if sent < len {
            match p.client().tcp_send(now, c, &data[sent..]) {
                Ok(n) => sent += n,
                Err(TcpError::WouldBlock) => {}
                Err(e) => panic!("send: {e:?}"),
            }
        }
        read_all(p.server(), now, s, &mut got);
        if got.len() < len && !p.net.step() {
            panic!("network idle at {} of {len} bytes", got.len());
        }
    }
    assert!(got == data, "data differs from what was sent");
    let secs = (p.net.now() - began).as_micros() as f64 / 1e6;
    len as f64 * 8.0 / secs / 1e6
}

fn buffers(p: &mut Pair, c: TcpHandle, s: TcpHandle) -> (BufferUse, BufferUse) {
    let client = p.client().tcp_buffers(c).expect("client buffers");
    let server = p.server().tcp_buffers(s).expect("server buffers");
    (client, server)
}

#[test]
fn a_default_connection_outgrows_a_fixed_256_kib_window_on_a_long_fat_path() {
    let ceiling = window_ceiling_mbps(FIXED);
    let mut p = Pair::new(7, fat_link(), TcpConfig::default(), false);
    let (c, s) = establish(&mut p);
    let rate = transfer(&mut p, c, s, 0, 32 << 20);
    let (client, server) = buffers(&mut p, c, s);
    assert!(
        rate > 2.0 * ceiling,
        "{rate:.0} Mbit/s: no better than twice a {FIXED} B window ({ceiling:.0} Mbit/s)"
    );
    assert!(server.recv_limit > 1 << 20, "{server:?}");
    assert!(client.send_limit > 1 << 20, "{client:?}");

    // The same path with the buffers held at 256 KiB: the window is the limit.
    let cfg = TcpConfig::default().with_fixed_buffers(FIXED);
    let mut p = Pair::new(7, fat_link(), cfg, false);
    let (c, s) = establish(&mut p);
    let fixed_rate = transfer(&mut p, c, s, 0, 8 << 20);
    assert!(fixed_rate <= ceiling, "{fixed_rate:.0} Mbit/s");
}

#[test]
fn idle_buffers_give_their_memory_back_and_grow_again() {
    let mut p = Pair::new(3, fat_link(), TcpConfig::default(), false);
    let (c, s) = establish(&mut p);
    let len = 16 << 20;
    transfer(&mut p, c, s, 0, len);
    // Everything is acknowledged and read; the memory is still held (a transfer that pauses
    // briefly does not pay for regrowing).
    run_for(&mut p, Duration::from_millis(100));
    let (client, server) = buffers(&mut p, c, s);
    assert!(client.send_allocated > FIXED, "{client:?}");
    assert!(server.recv_allocated > FIXED, "{server:?}");
    assert!(client.in_flight_allocated > 0, "{client:?}");

    // A second of silence: both empty buffers are freed, the connection stays up and the
    // limits autotuning reached are kept.
    run_for(&mut p, Duration::from_secs(1));
    let (client_idle, server_idle) = buffers(&mut p, c, s);
    assert_eq!(client_idle.send_allocated, 0, "{client_idle:?}");
    assert_eq!(client_idle.in_flight_allocated, 0, "{client_idle:?}");
    assert_eq!(server_idle.recv_allocated, 0, "{server_idle:?}");
    assert_eq!(client_idle.send_limit, client.send_limit);
    assert_eq!(server_idle.recv_limit, server.recv_limit);
    assert_eq!(p.client().tcp_state(c), Ok(TcpState::Established));
    assert_eq!(p.server().tcp_state(s), Ok(TcpState::Established));

    // The next transfer grows them again and arrives intact.
    transfer(&mut p, c, s, len, 4 << 20);
    let (client, server) = buffers(&mut p, c, s);
    assert!(client.send_allocated > 0, "{client:?}");
    assert!(server.recv_allocated > 0, "{server:?}");
}

#[test]
fn a_buffer_holding_unread_data_keeps_its_memory() {
    let mut p = Pair::new(5, fat_link(), TcpConfig::default(), false);
    let (c, s) = establish(&mut p);
    let now = p.net.now();
    let data: Vec<u8> = (0..100_000).map(byte).collect();
    assert_eq!(p.client().tcp_send(now, c, &data), Ok(data.len()));
    // The server's application reads nothing for five seconds.
    run_for(&mut p, Duration::from_secs(5));
    let (client, server) = buffers(&mut p, c, s);
    assert_eq!(client.send_allocated, 0, "all acknowledged: {client:?}");
    assert!(server.recv_allocated >= data.len(), "{server:?}");
    let mut got = Vec::new();
    let now = p.net.now();
    read_all(p.server(), now, s, &mut got);
    assert!(got == data);
}

#[test]
fn reassembly_memory_exists_only_while_a_hole_is_open() {
    // Issue 8: a connection that never sees a hole pays nothing for out-of-order bookkeeping,
    // and one that did gets the memory back once the holes close.
    let lossy = LinkConfig::symmetric(Impairments {
        delay: ONE_WAY,
        bandwidth_bps: Some(RATE_BPS),
        queue_limit: Some(QUEUE_FRAMES),
        loss: 0.02,
        ..Impairments::default()
    });
    let mut p = Pair::new(11, lossy, TcpConfig::default(), false);
    let (c, s) = establish(&mut p);
    let (_, fresh) = buffers(&mut p, c, s);
    assert_eq!(fresh.reassembly_allocated, 0, "{fresh:?}");
    let now = p.net.now();
    let mut held_some = false;
    let data: Vec<u8> = (0..4 << 20).map(byte).collect();
    let (mut sent, mut got) = (0, Vec::new());
    let deadline = now + Duration::from_secs(60);
    while got.len() < data.len() {
        assert!(p.net.now() < deadline, "stuck at {} bytes", got.len());
        let now = p.net.now();
        if let Ok(n) = p.client().tcp_send(now, c, &data[sent..]) {
            sent += n;
        }
        p.net.step();
        let now = p.net.now();
        read_all(p.server(), now, s, &mut got);
        held_some |= buffers(&mut p, c, s).1.reassembly_allocated > 0;
    }
    assert!(got == data);
    assert!(held_some, "2% loss opened no hole: the test shows nothing");
    let (_, after) = buffers(&mut p, c, s);
    assert_eq!(after.reassembly_allocated, 0, "{after:?}");
}
