//! `Stack::receive_batch` (software GRO) against `receive`, one frame at a time: two worlds
//! with the same seeds, the same impaired link (loss, duplicates, reordering) and the same
//! applications, one receiver taking each wake-up's frames as a batch. Everything the receiver
//! sends, traces and delivers must be the same, step by step; and batches must really have
//! been coalesced.

use core::net::{Ipv4Addr, SocketAddrV4};

use ferrotcp::time::{Duration, Instant};
use ferrotcp::wire::MacAddr;
use ferrotcp::{Stack, StackConfig, TcpHandle};

const A_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const B_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const PORTS: [u16; 2] = [5001, 5002];

/// SplitMix64: the impairments' dice.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The frames of one step ordered by connection (the TCP port at `port_at`), each
/// connection's in the order sent: the two receivers may interleave connections differently,
/// and the link must then carry the same frames in both worlds.
fn canonical(mut frames: Vec<Vec<u8>>, port_at: usize) -> Vec<Vec<u8>> {
    frames.sort_by_key(|f| f.get(port_at..port_at + 2).map(|p| [p[0], p[1]]));
    frames
}

/// "port seq ack flags len" of an Ethernet/IPv4/TCP frame, for failure messages.
fn describe(f: &[u8]) -> String {
    let be32 = |i: usize| {
        f.get(i..i + 4)
            .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let total = f
        .get(16..18)
        .map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
    let thl = f.get(46).map_or(0, |b| usize::from(b >> 4) * 4);
    let dport = f
        .get(36..38)
        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    format!(
        "->{dport} seq={} ack={} flags={:#04x} len={}",
        be32(38),
        be32(42),
        f.get(47).copied().unwrap_or(0),
        total.saturating_sub(20 + thl)
    )
}

/// Bytes `from..from + len` of stream `salt`.
fn data(salt: u8, from: usize, len: usize) -> Vec<u8> {
    (from..from + len)
        .map(|i| (i as u8).wrapping_mul(31) ^ (i >> 8) as u8 ^ salt)
        .collect()
}

struct World {
    a: Stack,
    b: Stack,
    batch: bool,
    dice: u64,
    to_b: Vec<Vec<u8>>,
    to_a: Vec<Vec<u8>>,
    a_conns: Vec<TcpHandle>,
    b_conns: Vec<TcpHandle>,
    sent: Vec<usize>,
    b_sent: usize,
    got: Vec<Vec<u8>>,
    /// What B put on the link, told and traced in this step, per connection (B's port; 0
    /// for the rest), each in order: connections' work may interleave differently.
    b_log: std::collections::BTreeMap<u16, Vec<String>>,
    /// The frames B took in this step (for failure messages).
    inbox: Vec<String>,
    now: Instant,
}

impl World {
    fn new(seed: u64, batch: bool) -> World {
        let cfg = |mac: u8, ip, s| {
            let mut c = StackConfig::new(MacAddr([2, 0, 0, 0, 0, mac]), ip, 24)
                .with_seed(s)
                .with_trace(true);
            c.tcp.recv_buffer = 48 * 1024;
            c
        };
        let mut w = World {
            a: Stack::new(cfg(1, A_IP, seed ^ 0xA)),
            b: Stack::new(cfg(2, B_IP, seed ^ 0xB)),
            batch,
            dice: seed,
            to_b: Vec::new(),
            to_a: Vec::new(),
            a_conns: Vec::new(),
            b_conns: Vec::new(),
            sent: vec![0; PORTS.len()],
            b_sent: 0,
            got: vec![Vec::new(); PORTS.len()],
            b_log: Default::default(),
            inbox: Vec::new(),
            now: Instant::ZERO,
        };
        let listeners: Vec<_> = PORTS
            .iter()
            .map(|&p| w.b.tcp_listen(p, 8).expect("listen"))
            .collect();
        for &p in &PORTS {
            let c =
                w.a.tcp_connect(w.now, SocketAddrV4::new(B_IP, p), None)
                    .expect("connect");
            w.a_conns.push(c);
        }
        for _ in 0..200 {
            w.step(0.0);
            for &l in &listeners {
                while let Some(s) = w.b.tcp_accept(l).expect("accept") {
                    w.b_conns.push(s);
                }
            }
            if w.b_conns.len() == PORTS.len() {
                return w;
            }
        }
        panic!("handshakes did not finish");
    }

    /// Impairs one direction's frames of this step: loss, duplicates, a swap of neighbours.
    fn impair(&mut self, frames: Vec<Vec<u8>>, loss: f64) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for f in frames {
            let roll = (next(&mut self.dice) % 10_000) as f64 / 10_000.0;
            if roll < loss {
                continue;
            }
            if roll > 1.0 - loss / 2.0 {
                out.push(f.clone());
            }
            out.push(f);
        }
        if out.len() > 2 && (next(&mut self.dice) % 100) < (loss * 300.0) as u64 {
            let i = (next(&mut self.dice) as usize) % (out.len() - 1);
            out.swap(i, i + 1);
        }
        out
    }

    fn log(&mut self, key: u16, line: String) {
        self.b_log.entry(key).or_default().push(line);
    }

    fn step(&mut self, loss: f64) {
        self.now += Duration::from_micros(500);
        let now = self.now;
        // A: timers, what B sent, then as much as it will take of each stream.
        if self.a.poll_timeout().is_some_and(|t| t <= now) {
            self.a.handle_timeout(now);
        }
        for f in core::mem::take(&mut self.to_a) {
            self.a.receive(now, &f);
        }
        for (i, &c) in self.a_conns.iter().enumerate() {
            let chunk = data(i as u8, self.sent[i], 3000 + 700 * i);
            if self.sent[i] < 2_000_000
                && let Ok(n) = self.a.tcp_send(now, c, &chunk)
            {
                self.sent[i] += n;
            }
            let mut sink = [0u8; 4096];
            while let Ok(n) = self.a.tcp_recv(now, c, &mut sink) {
                if n == 0 {
                    break;
                }
            }
        }
        while self.a.poll_event().is_some() {}
        while self.a.poll_trace().is_some() {}
        let mut out = Vec::new();
        while let Some(f) = self.a.poll_transmit(now) {
            out.push(f);
        }
        self.to_b = self.impair(canonical(out, 36), loss);

        // B: timers, A's frames (one by one, or as one batch), reads, a little data back.
        if self.b.poll_timeout().is_some_and(|t| t <= now) {
            self.b.handle_timeout(now);
        }
        let inbox = core::mem::take(&mut self.to_b);
        self.inbox = inbox.iter().map(|f| describe(f)).collect();
        if self.batch {
            self.b.receive_batch(now, inbox.iter().map(Vec::as_slice));
        } else {
            for f in &inbox {
                self.b.receive(now, f);
            }
        }
        for (i, &c) in self.b_conns.iter().enumerate() {
            let mut buf = [0u8; 65536];
            while let Ok(n) = self.b.tcp_recv(now, c, &mut buf) {
                if n == 0 {
                    break;
                }
                self.got[i].extend_from_slice(&buf[..n]);
            }
            // Now and then B writes too, so its segments carry data and its ACKs vary.
            if next(&mut self.dice) % 7 == 0 && self.b_sent < 200_000 {
                self.b_sent += self.b.tcp_send(now, c, &[7u8; 900]).unwrap_or(0);
            }
        }
        while let Some(ev) = self.b.poll_event() {
            let line = format!("{now:?} event {ev:?}");
            let port = self
                .b_conns
                .iter()
                .zip(PORTS)
                .find(|(c, _)| line.contains(&format!("{c:?}")));
            self.log(port.map_or(0, |(_, p)| p), line);
        }
        while let Some(rec) = self.b.poll_trace() {
            let line = format!("trace {rec:?}");
            let port = PORTS.into_iter().find(|p| line.contains(&format!(":{p}")));
            self.log(port.unwrap_or(0), line);
        }
        let mut out = Vec::new();
        while let Some(f) = self.b.poll_transmit(now) {
            // Ethernet, IPv4 without options, then the TCP source port.
            let port = f
                .get(34..36)
                .map_or(0, |p| u16::from_be_bytes([p[0], p[1]]));
            // The IPv4 identification is the host's, counted across connections (and with it
            // the header checksum): not the connection's to answer for.
            let mut seen = f.clone();
            for i in [18, 19, 24, 25] {
                if let Some(b) = seen.get_mut(i) {
                    *b = 0;
                }
            }
            self.log(port, format!("{now:?} frame {} {seen:?}", describe(&f)));
            out.push(f);
        }
        self.to_a = self.impair(canonical(out, 34), loss);
    }
}

#[test]
fn a_batched_receiver_answers_exactly_as_one_taking_frames_one_by_one() {
    let mut coalesced = 0;
    for seed in 0..12u64 {
        let loss = [0.0, 0.01, 0.05][seed as usize % 3];
        let mut one = World::new(seed, false);
        let mut batched = World::new(seed, true);
        for step in 0..6_000 {
            one.step(loss);
            batched.step(loss);
            if one.b_log != batched.b_log {
                let keys: Vec<_> = one.b_log.keys().chain(batched.b_log.keys()).collect();
                for k in keys {
                    let (x, y) = (one.b_log.get(k), batched.b_log.get(k));
                    let (x, y) = (
                        x.cloned().unwrap_or_default(),
                        y.cloned().unwrap_or_default(),
                    );
                    if x != y {
                        let i = (0..x.len().min(y.len())).find(|&i| x[i] != y[i]);
                        let i = i.unwrap_or(x.len().min(y.len()));
                        panic!(
                            "seed {seed} loss {loss} step {step} port {k}: receivers differ at record {i}:\n  one by one: {:?}\n  batched:    {:?}\n  inbox: {:#?}\n  all one by one: {:#?}\n  all batched: {:#?}",
                            x.get(i),
                            y.get(i),
                            batched.inbox,
                            x.iter()
                                .map(|l| l.split(" [").next().unwrap_or(""))
                                .collect::<Vec<_>>(),
                            y.iter()
                                .map(|l| l.split(" [").next().unwrap_or(""))
                                .collect::<Vec<_>>(),
                        );
                    }
                }
            }
            one.b_log.clear();
            batched.b_log.clear();
        }
        for i in 0..PORTS.len() {
            let got = &batched.got[i];
            assert!(got.len() > 100_000, "seed {seed}: only {} bytes", got.len());
            assert!(
                *got == data(i as u8, 0, got.len()),
                "seed {seed}: stream {i} corrupted"
            );
            assert_eq!(one.got[i], batched.got[i]);
        }
        let (a, b) = (one.b.stats(), batched.b.stats());
        assert_eq!(a.tcp_segments_in, b.tcp_segments_in, "seed {seed}");
        let segs = |w: &World| {
            w.b_conns
                .iter()
                .map(|&c| w.b.tcp_stats(c).expect("stats").segments_received)
                .sum::<u64>()
        };
        assert_eq!(segs(&one), segs(&batched), "seed {seed}: segments counted");
        assert_eq!(one.b.stats().tcp_segments_coalesced, 0);
        coalesced += batched.b.stats().tcp_segments_coalesced;
    }
    assert!(coalesced > 10_000, "{coalesced} segments coalesced");
}
