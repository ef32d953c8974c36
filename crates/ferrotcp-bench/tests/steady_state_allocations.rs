//! Issue 8: "no allocation per segment in steady state". Two ferrotcp hosts on the benches'
//! in-memory link move a bulk stream; once the buffers have grown and the frame pools filled,
//! the next 16 MiB (about 11,000 segments each way) must not call the allocator at all.
//! This binary holds one test only: the allocation counter is process-wide.

use std::collections::VecDeque;

use core::net::SocketAddrV4;

use ferrotcp::trace::TcpState;
use ferrotcp::{Instant, Stack, TcpHandle};
use ferrotcp_bench::ferro_host::{app, host_turn, stack_config};
use ferrotcp_bench::harness::{Congestion, Recv, StackSettings};
use ferrotcp_bench::heap_meter::HeapMeter;
use ferrotcp_bench::link::{CLIENT_IP, CLIENT_MAC, SERVER_IP, SERVER_MAC};
use ferrotcp_bench::pattern::{Pattern, Verifier};

#[global_allocator]
static HEAP: HeapMeter = HeapMeter::new();

const CHUNK: usize = 16 * 1024;

struct Bulk {
    client: Stack,
    server: Stack,
    to_server: VecDeque<Vec<u8>>,
    to_client: VecDeque<Vec<u8>>,
    c: TcpHandle,
    s: TcpHandle,
    now: u64,
    sent: u64,
    buf: Vec<u8>,
}

impl Bulk {
    fn step(&mut self) {
        self.now += 10;
        let now = Instant::from_micros(self.now);
        host_turn(
            now,
            &mut self.client,
            &mut self.server,
            &mut self.to_client,
            &mut self.to_server,
            |_| {},
        );
        host_turn(
            now,
            &mut self.server,
            &mut self.client,
            &mut self.to_server,
            &mut self.to_client,
            |_| {},
        );
    }

    /// Sends and receives until `bytes` more have arrived, checking every one.
    fn transfer(&mut self, pattern: &Pattern, check: &mut Verifier<'_>, bytes: u64) {
        let until = check.received + bytes;
        for _ in 0..10_000_000 {
            if check.received >= until {
                return;
            }
            let now = Instant::from_micros(self.now);
            self.sent += app::send(
                &mut self.client,
                now,
                self.c,
                pattern.window(self.sent, CHUNK),
            )
            .expect("send") as u64;
            self.step();
            let now = Instant::from_micros(self.now);
            while let Recv::Data(n) =
                app::recv(&mut self.server, now, self.s, &mut self.buf).expect("recv")
            {
                check.feed(&self.buf[..n]);
            }
        }
        panic!("stuck at {} bytes", check.received);
    }
}

#[test]
fn a_steady_bulk_transfer_allocates_nothing_per_segment() {
    let settings = StackSettings {
        mtu: 1500,
        congestion: Congestion::Cubic,
        buffer: 256 * 1024,
        delayed_ack_us: 40_000,
        time_wait_us: 10_000_000,
    };
    let mut client = Stack::new(stack_config(CLIENT_MAC, CLIENT_IP, 1, &settings));
    let mut server = Stack::new(stack_config(SERVER_MAC, SERVER_IP, 2, &settings));
    let l = server.tcp_listen(5001, 8).expect("listen");
    let c = client
        .tcp_connect(
            Instant::from_micros(1_000_000),
            SocketAddrV4::new(SERVER_IP, 5001),
            None,
        )
        .expect("connect");
    let mut b = Bulk {
        client,
        server,
        to_server: VecDeque::new(),
        to_client: VecDeque::new(),
        c,
        s: c,
        now: 1_000_000,
        sent: 0,
        buf: vec![0; CHUNK],
    };
    let mut accepted = None;
    for _ in 0..10_000 {
        b.step();
        accepted = accepted.or(b.server.tcp_accept(l).expect("accept"));
        if accepted.is_some() && b.client.tcp_state(c) == Ok(TcpState::Established) {
            break;
        }
    }
    b.s = accepted.expect("handshake");
    let pattern = Pattern::new(CHUNK);
    let mut check = Verifier::new(&pattern);
    // Warm-up: rings grown to their size, frame pools and queues at their working size.
    b.transfer(&pattern, &mut check, 8 << 20);

    let before = HEAP.allocations();
    b.transfer(&pattern, &mut check, 16 << 20);
    let during = HEAP.allocations() - before;
    assert_eq!(check.first_mismatch, None);
    let segments = b.client.stats().frames_out;
    assert_eq!(
        during, 0,
        "{during} allocations while moving 16 MiB ({segments} frames sent by the client so far)"
    );
}
