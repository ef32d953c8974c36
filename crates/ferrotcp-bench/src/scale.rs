//! `scale_*` and `mem_*` figures: N established, idle connections between one pair of hosts,
//! then ping-pongs on one of them (always the same, so its state stays in cache) and on a
//! random one each time (what a server with N clients sees). A stack whose per-packet work
//! grows with N (a walk over all sockets, stale timers to pop) shows it here; the heap meter
//! gives what each idle connection costs.
//!
//! Both stacks get the same buffers (`--scale-buffer`), MTU and congestion control; smoltcp
//! allocates its buffers when a socket is made, ferrotcp when data first arrives.

use core::net::SocketAddrV4;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use ferrotcp::{Event, ListenerHandle, Stack, TcpError, TcpHandle};
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp::{self, State};
use smoltcp::wire::IpAddress;

use crate::ferro_host::{app::err, host_turn, stack_config};
use crate::harness::{BenchResult, Side, StackSettings};
use crate::link::{CLIENT_IP, CLIENT_MAC, Link, SERVER_IP, SERVER_MAC};
use crate::smol_host::{Host, Pool, congestion_control, new_socket};

const FIRST_SERVER_PORT: u16 = 5001;
const FIRST_CLIENT_PORT: u16 = 1024;
/// Client ports per server port: 1024..=65535.
const PORTS_PER_LISTENER: usize = 64_512;
/// Handshakes in flight at once while opening.
const BATCH: usize = 4096;
const STEP_US: u64 = 10;
/// Driver steps one round trip may take before the run is declared stuck.
const MAX_STEPS: u32 = 10_000;
/// Most wall time one round of ping-pongs may take.
const ROUND_WALL: Duration = Duration::from_secs(1);

/// The (client port, server port) of connection `i`.
fn ports(i: usize) -> (u16, u16) {
    let listener = i / PORTS_PER_LISTENER;
    let client = FIRST_CLIENT_PORT as usize + i % PORTS_PER_LISTENER;
    (client as u16, FIRST_SERVER_PORT + listener as u16)
}

/// Listening ports needed for `n` connections.
fn listeners(n: usize) -> usize {
    n.div_ceil(PORTS_PER_LISTENER)
}

/// What the workload needs from a stack pair holding many connections.
pub trait ScalePair: Sized {
    fn new(s: &StackSettings, n: usize) -> BenchResult<Self>;
    /// Active open of connection `i` (see [`ports`]).
    fn connect(&mut self, now: u64, i: usize) -> BenchResult<()>;
    /// Moves frames both ways once; returns the frames put on the link.
    fn step(&mut self, now: u64) -> BenchResult<usize>;
    /// Connections established at both ends so far.
    fn established(&mut self) -> BenchResult<usize>;
    fn send(&mut self, now: u64, side: Side, i: usize, data: &[u8]) -> BenchResult<usize>;
    fn recv(&mut self, now: u64, side: Side, i: usize, buf: &mut [u8]) -> BenchResult<usize>;
    /// Closes every connection's sending side (and lets go of it) on `side`.
    fn close_all(&mut self, now: u64, side: Side) -> BenchResult<()>;
    /// Whether every client connection is in TIME-WAIT and every server one is gone.
    fn all_in_time_wait(&mut self) -> bool;
    /// Replaces the server host by a fresh one, so that what is left on the heap is the
    /// client's: its TIME-WAIT connections and its fixed costs.
    fn replace_server(&mut self);
}

pub struct ScaleOutcome {
    /// Round trips per second of wall time, one per round.
    pub one: Vec<f64>,
    pub random: Vec<f64>,
    /// Heap bytes per connection per stack (both ends counted, divided by 2N).
    pub heap_per_conn: f64,
    /// Heap bytes per connection once every client connection is in TIME-WAIT, weighed with
    /// the server replaced by a fresh host: the client's TIME-WAITs plus its fixed costs
    /// (and a fresh server's), divided by N.
    pub heap_per_time_wait: f64,
    /// Wall time spent opening the N connections.
    pub open: Duration,
    /// Frames per round trip (data, echo, and any ACKs).
    pub frames_per_round_trip: f64,
}

pub struct ScaleSpec {
    pub conns: usize,
    pub round_trips: u32,
    pub rounds: u32,
    pub msg: usize,
}

pub fn run<P: ScalePair>(
    s: &StackSettings,
    spec: &ScaleSpec,
    heap: &dyn Fn() -> usize,
) -> BenchResult<ScaleOutcome> {
    let n = spec.conns.max(1);
    let before = heap();
    let began = Instant::now();
    let mut pair = P::new(s, n)?;
    let mut now = 1_000_000;
    let mut opened = 0;
    while opened < n {
        // The first connection alone, so that both ARP caches are warm before the crowd (a
        // resolving neighbour's queue is bounded, as it should be).
        let batch = if opened == 0 {
            1
        } else {
            (n - opened).min(BATCH)
        };
        for i in opened..opened + batch {
            pair.connect(now, i)?;
        }
        let mut steps = 0;
        while pair.established()? < opened + batch {
            steps += 1;
            if steps > MAX_STEPS {
                return Err(format!(
                    "scale: handshakes {opened}..{} stuck",
                    opened + batch
                ));
            }
            now += STEP_US;
            pair.step(now)?;
        }
        opened += batch;
    }
    // Let everything settle (final ACKs, any idle-time bookkeeping) before weighing.
    for _ in 0..3 {
        now += 2_000_000;
        pair.step(now)?;
    }
    let open = began.elapsed();
    let heap_per_conn = heap().saturating_sub(before) as f64 / (2 * n) as f64;

    let msg: Vec<u8> = (0..spec.msg).map(|i| i as u8).collect();
    let mut buf = vec![0u8; spec.msg.max(1)];
    let (mut one, mut random) = (Vec::new(), Vec::new());
    // Seeded: both stacks see the same sequence of connections.
    let mut rng = ferrotcp_sim::SimRng::new(0x5CA1E);
    let (mut frames, mut trips) = (0usize, 0u64);
    for _ in 0..spec.rounds.max(1) {
        for random_conn in [false, true] {
            let t = Instant::now();
            let mut done = 0u32;
            // A round ends after its ping-pongs or a second of wall time, whichever is first
            // (smoltcp at 10k connections manages a few hundred a second).
            while done < spec.round_trips.max(1) && t.elapsed() < ROUND_WALL {
                let i = if random_conn {
                    rng.below(n as u64) as usize
                } else {
                    0
                };
                frames += round_trip(&mut pair, &mut now, i, &msg, &mut buf)?;
                trips += 1;
                done += 1;
            }
            let rate = f64::from(done) / t.elapsed().as_secs_f64();
            if random_conn {
                random.push(rate);
            } else {
                one.push(rate);
            }
        }
    }
    // The client closes first (it keeps TIME-WAIT), then the server; weigh what is left.
    pair.close_all(now, Side::Client)?;
    for _ in 0..10 {
        now += STEP_US;
        pair.step(now)?;
    }
    pair.close_all(now, Side::Server)?;
    let mut steps = 0;
    while !pair.all_in_time_wait() {
        steps += 1;
        if steps > MAX_STEPS {
            return Err("scale: the connections did not all reach TIME-WAIT".into());
        }
        now += STEP_US;
        pair.step(now)?;
    }
    pair.replace_server();
    let heap_per_time_wait = heap().saturating_sub(before) as f64 / n as f64;
    Ok(ScaleOutcome {
        one,
        random,
        heap_per_conn,
        heap_per_time_wait,
        open,
        frames_per_round_trip: frames as f64 / trips as f64,
    })
}

/// Client sends `msg` on connection `i`, the server echoes it, the client reads it back.
fn round_trip<P: ScalePair>(
    pair: &mut P,
    now: &mut u64,
    i: usize,
    msg: &[u8],
    buf: &mut [u8],
) -> BenchResult<usize> {
    if pair.send(*now, Side::Client, i, msg)? != msg.len() {
        return Err("scale: the message did not fit the send buffer".into());
    }
    let mut frames = 0;
    for (reader, writer) in [(Side::Server, Some(Side::Server)), (Side::Client, None)] {
        let mut got = 0;
        let mut steps = 0;
        while got < msg.len() {
            steps += 1;
            if steps > MAX_STEPS {
                return Err(format!("scale: round trip on connection {i} stuck"));
            }
            *now += STEP_US;
            frames += pair.step(*now)?;
            got += pair.recv(*now, reader, i, &mut buf[got..])?;
        }
        if buf[..msg.len()] != *msg {
            return Err(format!("scale: connection {i} delivered the wrong bytes"));
        }
        if let Some(side) = writer
            && pair.send(*now, side, i, msg)? != msg.len()
        {
            return Err("scale: the echo did not fit the send buffer".into());
        }
    }
    Ok(frames)
}

/// ferrotcp: one listener per server port, connections paired by their ports.
pub struct FerroScale {
    client: Stack,
    server: Stack,
    link: Link,
    listeners: Vec<ListenerHandle>,
    clients: Vec<TcpHandle>,
    servers: Vec<Option<TcpHandle>>,
    accepted: usize,
    settings: StackSettings,
}

fn ft(now: u64) -> ferrotcp::Instant {
    ferrotcp::Instant::from_micros(now)
}

impl ScalePair for FerroScale {
    fn new(s: &StackSettings, n: usize) -> BenchResult<Self> {
        let mut server = Stack::new(stack_config(SERVER_MAC, SERVER_IP, 0x5E, s));
        let listeners = (0..listeners(n))
            .map(|j| {
                server
                    .tcp_listen(FIRST_SERVER_PORT + j as u16, BATCH)
                    .map_err(|e| err("listen", e))
            })
            .collect::<BenchResult<_>>()?;
        Ok(FerroScale {
            client: Stack::new(stack_config(CLIENT_MAC, CLIENT_IP, 0xC1, s)),
            server,
            link: Link::default(),
            listeners,
            clients: Vec::with_capacity(n),
            servers: vec![None; n],
            accepted: 0,
            settings: *s,
        })
    }

    fn connect(&mut self, now: u64, i: usize) -> BenchResult<()> {
        let (local, remote) = ports(i);
        let h = self
            .client
            .tcp_connect(ft(now), SocketAddrV4::new(SERVER_IP, remote), Some(local))
            .map_err(|e| err("connect", e))?;
        self.clients.push(h);
        Ok(())
    }

    fn step(&mut self, now: u64) -> BenchResult<usize> {
        let now = ft(now);
        let l = &mut self.link;
        let a = host_turn(
            now,
            &mut self.client,
            &mut self.server,
            &mut l.server_to_client,
            &mut l.client_to_server,
            |_| {},
        );
        let b = host_turn(
            now,
            &mut self.server,
            &mut self.client,
            &mut l.client_to_server,
            &mut l.server_to_client,
            |ev| debug_assert!(!matches!(ev, Event::Closed(..)), "{ev:?}"),
        );
        l.frames += (a + b) as u64;
        Ok(a + b)
    }

    fn established(&mut self) -> BenchResult<usize> {
        for &lh in &self.listeners {
            while let Some(h) = self.server.tcp_accept(lh).map_err(|e| err("accept", e))? {
                let peer = self.server.tcp_peer_addr(h).map_err(|e| err("peer", e))?;
                let local = self.server.tcp_local_addr(h).map_err(|e| err("local", e))?;
                let listener = usize::from(local.port() - FIRST_SERVER_PORT);
                let i =
                    listener * PORTS_PER_LISTENER + usize::from(peer.port() - FIRST_CLIENT_PORT);
                let slot = self.servers.get_mut(i).ok_or("ferrotcp: unknown peer")?;
                *slot = Some(h);
                self.accepted += 1;
            }
        }
        Ok(self.accepted)
    }

    fn send(&mut self, now: u64, side: Side, i: usize, data: &[u8]) -> BenchResult<usize> {
        let (stack, h) = self.end(side, i)?;
        crate::ferro_host::app::send(stack, ft(now), h, data)
    }

    fn recv(&mut self, now: u64, side: Side, i: usize, buf: &mut [u8]) -> BenchResult<usize> {
        let (stack, h) = self.end(side, i)?;
        match stack.tcp_recv(ft(now), h, buf) {
            Ok(n) => Ok(n),
            Err(TcpError::WouldBlock) => Ok(0),
            Err(e) => Err(err("recv", e)),
        }
    }

    fn close_all(&mut self, now: u64, side: Side) -> BenchResult<()> {
        self.closes(now, side)
    }

    fn all_in_time_wait(&mut self) -> bool {
        self.server.tcp_connection_count() == 0 && self.client.tcp_active_count() == 0
    }

    fn replace_server(&mut self) {
        self.listeners.clear();
        self.server = Stack::new(stack_config(SERVER_MAC, SERVER_IP, 0x5E, &self.settings));
    }
}

impl FerroScale {
    fn closes(&mut self, now: u64, side: Side) -> BenchResult<()> {
        let (stack, handles): (&mut Stack, Vec<TcpHandle>) = match side {
            Side::Client => (&mut self.client, self.clients.drain(..).collect()),
            Side::Server => (&mut self.server, self.servers.drain(..).flatten().collect()),
        };
        for h in handles {
            stack.tcp_close(ft(now), h).map_err(|e| err("close", e))?;
        }
        Ok(())
    }

    fn end(&mut self, side: Side, i: usize) -> BenchResult<(&mut Stack, TcpHandle)> {
        match side {
            Side::Client => Ok((&mut self.client, self.clients[i])),
            Side::Server => Ok((
                &mut self.server,
                self.servers[i].ok_or("ferrotcp: not accepted")?,
            )),
        }
    }
}

/// smoltcp: one server socket per connection (it has no accept queue; every socket listens on
/// its connection's port and the first free one takes each SYN).
pub struct SmolScale {
    client: Host,
    server: Host,
    clients: Vec<SocketHandle>,
    /// Server sockets not yet paired with their client.
    waiting: VecDeque<SocketHandle>,
    servers: Vec<Option<SocketHandle>>,
    paired: usize,
    settings: StackSettings,
}

fn st(now: u64) -> smoltcp::time::Instant {
    smoltcp::time::Instant::from_micros(now as i64)
}

impl ScalePair for SmolScale {
    fn new(s: &StackSettings, n: usize) -> BenchResult<Self> {
        let pool: Pool = Default::default();
        let client = Host::new(CLIENT_MAC, CLIENT_IP, 0xC1, &pool, s.mtu);
        let mut server = Host::new(SERVER_MAC, SERVER_IP, 0x5E, &pool, s.mtu);
        let mut waiting = VecDeque::with_capacity(n);
        for i in 0..n {
            let mut sock = new_socket(s, congestion_control(s.congestion));
            sock.listen(ports(i).1)
                .map_err(|e| format!("smoltcp listen: {e:?}"))?;
            waiting.push_back(server.sockets.add(sock));
        }
        Ok(SmolScale {
            client,
            server,
            clients: Vec::with_capacity(n),
            waiting,
            servers: vec![None; n],
            paired: 0,
            settings: *s,
        })
    }

    fn connect(&mut self, _now: u64, i: usize) -> BenchResult<()> {
        let (local, remote) = ports(i);
        let mut sock = new_socket(&self.settings, congestion_control(self.settings.congestion));
        sock.connect(
            self.client.iface.context(),
            (IpAddress::Ipv4(SERVER_IP), remote),
            local,
        )
        .map_err(|e| format!("smoltcp connect: {e:?}"))?;
        self.clients.push(self.client.sockets.add(sock));
        Ok(())
    }

    fn step(&mut self, now: u64) -> BenchResult<usize> {
        let now = st(now);
        let a = self.client.poll(now);
        self.server.dev.rx.append(&mut self.client.dev.tx);
        let b = self.server.poll(now);
        self.client.dev.rx.append(&mut self.server.dev.tx);
        Ok(a + b)
    }

    fn established(&mut self) -> BenchResult<usize> {
        // Sockets take SYNs in the order they were added, so the waiting ones are checked in
        // that order and the scan stops at the first one still listening.
        while let Some(&h) = self.waiting.front() {
            let sock = self.server.sockets.get::<tcp::Socket>(h);
            if sock.state() != State::Established {
                break;
            }
            let (Some(peer), Some(local)) = (sock.remote_endpoint(), sock.local_endpoint()) else {
                return Err("smoltcp: an established socket without endpoints".into());
            };
            let listener = usize::from(local.port - FIRST_SERVER_PORT);
            let i = listener * PORTS_PER_LISTENER + usize::from(peer.port - FIRST_CLIENT_PORT);
            let slot = self.servers.get_mut(i).ok_or("smoltcp: unknown peer")?;
            *slot = Some(h);
            self.waiting.pop_front();
            self.paired += 1;
        }
        Ok(self.paired)
    }

    fn send(&mut self, _now: u64, side: Side, i: usize, data: &[u8]) -> BenchResult<usize> {
        let sock = self.end(side, i)?;
        sock.send_slice(data)
            .map_err(|e| format!("smoltcp send: {e:?}"))
    }

    fn recv(&mut self, _now: u64, side: Side, i: usize, buf: &mut [u8]) -> BenchResult<usize> {
        let sock = self.end(side, i)?;
        if !sock.can_recv() {
            return Ok(0);
        }
        sock.recv_slice(buf)
            .map_err(|e| format!("smoltcp recv: {e:?}"))
    }

    fn close_all(&mut self, _now: u64, side: Side) -> BenchResult<()> {
        let (host, handles): (&mut Host, Vec<SocketHandle>) = match side {
            Side::Client => (&mut self.client, self.clients.clone()),
            Side::Server => (
                &mut self.server,
                self.servers.iter().flatten().copied().collect(),
            ),
        };
        for h in handles {
            host.sockets.get_mut::<tcp::Socket>(h).close();
        }
        Ok(())
    }

    fn all_in_time_wait(&mut self) -> bool {
        // smoltcp keeps every socket (and its buffers) until the application removes it: a
        // server socket that reached CLOSED is what an application would remove now.
        let server_done = self
            .servers
            .iter()
            .flatten()
            .all(|&h| self.server.sockets.get::<tcp::Socket>(h).state() == State::Closed);
        let client_waiting = self
            .clients
            .iter()
            .all(|&h| self.client.sockets.get::<tcp::Socket>(h).state() == State::TimeWait);
        if server_done && client_waiting {
            for h in self.servers.iter_mut().filter_map(Option::take) {
                self.server.sockets.remove(h);
            }
            for h in self.waiting.drain(..) {
                self.server.sockets.remove(h);
            }
        }
        server_done && client_waiting
    }

    fn replace_server(&mut self) {
        self.servers = Vec::new();
        self.waiting = VecDeque::new();
        let pool: Pool = Default::default();
        self.server = Host::new(SERVER_MAC, SERVER_IP, 0x5E, &pool, self.settings.mtu);
    }
}

impl SmolScale {
    fn end(&mut self, side: Side, i: usize) -> BenchResult<&mut tcp::Socket<'static>> {
        let (host, h) = match side {
            Side::Client => (&mut self.client, self.clients[i]),
            Side::Server => (
                &mut self.server,
                self.servers[i].ok_or("smoltcp: not accepted")?,
            ),
        };
        Ok(host.sockets.get_mut::<tcp::Socket>(h))
    }
}

/// `1000000` → `1m`, `10000` → `10k`: the N in a figure's name.
fn count_name(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}m", n / 1_000_000),
        n if n >= 1000 && n % 1000 == 0 => format!("{}k", n / 1000),
        n => n.to_string(),
    }
}

/// The figures for one N: ping-pong on one connection, on a random one, heap per connection.
/// smoltcp is run only up to `smoltcp_max` connections.
pub fn figures(
    s: &StackSettings,
    spec: &ScaleSpec,
    smoltcp_max: usize,
    only: crate::Stacks,
    heap: &dyn Fn() -> usize,
) -> Vec<crate::report::Figure> {
    use crate::Stacks;
    use crate::report::{Figure, summarize};
    let n = spec.conns.max(1);
    let tag = count_name(n);
    println!(
        "# scale_{tag}: {n} established idle connections, then {} rounds of {} ping-pongs \
         (or 1 s each; {} B each way) on connection 0 and on a random connection",
        spec.rounds, spec.round_trips, spec.msg
    );
    let run_one = |stack: &str, ferro: bool| -> Option<ScaleOutcome> {
        let r = if ferro {
            run::<FerroScale>(s, spec, heap)
        } else {
            run::<SmolScale>(s, spec, heap)
        };
        match r {
            Ok(o) => {
                println!(
                    "# scale_{tag} {stack}: opened in {:.2} s wall, {:.0} B heap per \
                     connection per stack, {:.1} frames per round trip, {:.0} B heap per \
                     connection once all are in TIME-WAIT",
                    o.open.as_secs_f64(),
                    o.heap_per_conn,
                    o.frames_per_round_trip,
                    o.heap_per_time_wait
                );
                Some(o)
            }
            Err(e) => {
                println!("# scale_{tag} {stack} FAILED: {e}");
                None
            }
        }
    };
    let skipped = (n > smoltcp_max)
        .then_some("smoltcp walks every socket for each frame: opening N connections costs O(N^2)");
    if let Some(why) = skipped {
        println!("# scale_{tag} smoltcp not run above --scale-smoltcp-max {smoltcp_max}: {why}");
    }
    let f = (only != Stacks::Smoltcp)
        .then(|| run_one("ferrotcp", true))
        .flatten();
    let m = (only != Stacks::Ferrotcp && skipped.is_none())
        .then(|| run_one("smoltcp", false))
        .flatten();
    let unit = "round-trips/s";
    let mut out = Vec::new();
    for (name, pick) in [
        (
            "one",
            (|o: &ScaleOutcome| o.one.clone()) as fn(&ScaleOutcome) -> Vec<f64>,
        ),
        ("random", |o: &ScaleOutcome| o.random.clone()),
    ] {
        let figure = format!("scale_pingpong_{name}_{tag}");
        let fv = f
            .as_ref()
            .and_then(|o| summarize(&figure, "ferrotcp", &pick(o), unit));
        let mv = m
            .as_ref()
            .and_then(|o| summarize(&figure, "smoltcp", &pick(o), unit));
        let mut fig = Figure::new(figure, unit, fv, mv);
        fig.smoltcp_skipped = skipped;
        out.push(fig);
    }
    for (name, heap) in [
        (
            "idle",
            (|o: &ScaleOutcome| o.heap_per_conn) as fn(&ScaleOutcome) -> f64,
        ),
        ("time_wait", |o: &ScaleOutcome| o.heap_per_time_wait),
    ] {
        let mut mem = Figure::new(
            format!("mem_{name}_conn_{tag}"),
            "B/conn",
            f.as_ref().map(heap),
            m.as_ref().map(heap),
        );
        mem.lower_is_better = true;
        mem.smoltcp_skipped = skipped;
        out.push(mem);
    }
    out
}
