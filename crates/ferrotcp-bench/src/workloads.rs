//! The two workloads, written once against [`Harness`] so both stacks run the same loop.
//!
//! Virtual time starts at 1 s and advances `step_us` per driver iteration; when an iteration
//! moves nothing and the applications are waiting, it jumps to the earliest timer instead.
//! There is never any sleeping: wall-clock time is pure CPU work.

use std::time::{Duration, Instant};

use crate::harness::{BenchResult, Harness, Recv, Side, StackSettings};
use crate::pattern::{Pattern, Verifier};

pub const SERVER_PORT: u16 = 5001;
const EPHEMERAL_FIRST: u16 = 49152;
const EPHEMERAL_LAST: u16 = 65535;
const START_US: u64 = 1_000_000;
/// Idle iterations with no timer to jump to before the run is declared stuck.
const MAX_IDLE: u32 = 10_000;

#[derive(Clone, Copy, Debug)]
pub struct Common {
    pub settings: StackSettings,
    /// Virtual time per driver iteration, microseconds.
    pub step_us: u64,
    /// Wall-clock bound on one run.
    pub max_wall: Duration,
}

/// Virtual clock plus the loop guards every workload needs.
struct Driver {
    now: u64,
    step_us: u64,
    started: Instant,
    max_wall: Duration,
    iterations: u64,
    idle: u32,
    /// Jumps to a timer: waits that cost no wall time here but real time on a real link.
    timer_waits: u64,
    waited_us: u64,
}

impl Driver {
    fn new(c: &Common) -> Driver {
        Driver {
            now: START_US,
            step_us: c.step_us,
            started: Instant::now(),
            max_wall: c.max_wall,
            iterations: 0,
            idle: 0,
            timer_waits: 0,
            waited_us: 0,
        }
    }

    /// Advances virtual time and runs one link step; errors out if the run is stuck.
    fn tick<H: Harness>(&mut self, h: &mut H, what: &str) -> BenchResult<usize> {
        self.iterations += 1;
        if self.iterations % 4096 == 0 && self.started.elapsed() > self.max_wall {
            return Err(format!(
                "{what}: no completion after {:?} wall ({} iterations, virtual {} µs)",
                self.max_wall, self.iterations, self.now
            ));
        }
        self.now += self.step_us;
        Ok(h.step(self.now))
    }

    /// Called after an iteration in which neither the link nor the applications progressed.
    fn idle<H: Harness>(&mut self, h: &mut H, what: &str) -> BenchResult<()> {
        match h.next_deadline(self.now) {
            Some(d) if d > self.now + self.step_us => {
                // Land exactly on the deadline at the next tick.
                self.timer_waits += 1;
                self.waited_us += d - self.step_us - self.now;
                self.now = d - self.step_us;
                self.idle = 0;
            }
            Some(_) => self.idle = 0,
            None => {
                self.idle += 1;
                if self.idle > MAX_IDLE {
                    return Err(format!(
                        "{what}: stuck: nothing to send and no timer pending (virtual {} µs)",
                        self.now
                    ));
                }
            }
        }
        Ok(())
    }
}

pub struct BulkOutcome {
    pub elapsed: Duration,
    pub bytes: u64,
    pub iterations: u64,
    pub frames: u64,
    pub virtual_us: u64,
    pub timer_waits: u64,
    pub waited_us: u64,
}

/// One connection; the client sends `bytes` from the pattern, then FIN; the server reads
/// everything into a buffer, checks it, and the run ends at its end of stream.
pub fn bulk<H: Harness>(
    c: &Common,
    bytes: u64,
    chunk: usize,
    pattern: &Pattern,
) -> BenchResult<BulkOutcome> {
    let mut h = H::new(&c.settings)?;
    h.listen(SERVER_PORT)?;
    let mut rbuf = vec![0u8; chunk];
    let mut verifier = Verifier::new(pattern);
    let mut d = Driver::new(c);
    let client = h
        .connect(d.now, EPHEMERAL_FIRST, SERVER_PORT)?
        .ok_or("bulk: first port already in use")?;
    let mut server = None;
    let mut sent: u64 = 0;
    let mut shut = false;
    loop {
        let moved = d.tick(&mut h, "bulk")?;
        let mut progress = moved > 0;
        let now = d.now;
        if server.is_none() {
            server = h.accept(now)?;
        }
        if !shut && h.is_established(Side::Client, client) {
            while sent < bytes {
                let n = ((bytes - sent) as usize).min(chunk);
                let k = h.send(now, Side::Client, client, pattern.window(sent, n))?;
                if k == 0 {
                    break;
                }
                sent += k as u64;
                progress = true;
            }
            if sent == bytes {
                h.shutdown(now, Side::Client, client)?;
                shut = true;
            }
        }
        let mut eof = false;
        if let Some(s) = server {
            loop {
                match h.recv(now, Side::Server, s, &mut rbuf)? {
                    Recv::Data(n) => {
                        verifier.feed(&rbuf[..n]);
                        progress = true;
                    }
                    Recv::WouldBlock => break,
                    Recv::Eof => {
                        eof = true;
                        break;
                    }
                }
            }
        }
        if eof {
            break;
        }
        if !progress {
            d.idle(&mut h, "bulk")?;
        }
    }
    let elapsed = d.started.elapsed();
    if let Some(at) = verifier.first_mismatch {
        return Err(format!(
            "bulk: received data differs from sent at byte {at}"
        ));
    }
    if verifier.received != bytes {
        return Err(format!(
            "bulk: end of stream after {} of {bytes} bytes",
            verifier.received
        ));
    }
    Ok(BulkOutcome {
        elapsed,
        bytes,
        iterations: d.iterations,
        frames: h.frames_carried(),
        virtual_us: d.now - START_US,
        timer_waits: d.timer_waits,
        waited_us: d.waited_us,
    })
}

pub struct CyclesOutcome {
    pub elapsed: Duration,
    pub cycles: u64,
    pub iterations: u64,
    pub frames: u64,
    pub virtual_us: u64,
    pub timer_waits: u64,
    /// Client-side connections still held at the end (TIME-WAIT).
    pub lingering: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ClientPhase {
    Connecting,
    AwaitEcho,
    AwaitFin,
    Done,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ServerPhase {
    Accepting,
    Reading,
    AwaitFin,
    Done,
}

/// Sequential cycles: connect, send `msg` bytes, read them echoed, client closes first, server
/// closes on end of stream. A cycle ends when the server's connection is CLOSED, the client's
/// is in TIME-WAIT (and let go of) and the link is empty. Virtual time jumps `gap_us` between
/// cycles so TIME-WAITs expire as they would at that connection rate.
pub fn cycles<H: Harness>(
    c: &Common,
    count: u64,
    msg: usize,
    gap_us: u64,
    pattern: &Pattern,
) -> BenchResult<CyclesOutcome> {
    let mut h = H::new(&c.settings)?;
    h.listen(SERVER_PORT)?;
    let payload = pattern.window(0, msg);
    if payload.len() != msg {
        return Err("cycles: message longer than the pattern window".into());
    }
    let mut cbuf = vec![0u8; msg];
    let mut sbuf = vec![0u8; msg];
    let mut d = Driver::new(c);
    let mut port = EPHEMERAL_FIRST;
    for cycle in 0..count {
        let what = format!("cycles: cycle {cycle}");
        let mut tries = 0u32;
        let client = loop {
            let p = port;
            port = if port == EPHEMERAL_LAST {
                EPHEMERAL_FIRST
            } else {
                port + 1
            };
            if let Some(conn) = h.connect(d.now, p, SERVER_PORT)? {
                break conn;
            }
            tries += 1;
            if tries > u32::from(EPHEMERAL_LAST - EPHEMERAL_FIRST) {
                return Err(format!("{what}: every ephemeral port is in use"));
            }
        };
        let mut cphase = ClientPhase::Connecting;
        let mut sphase = ServerPhase::Accepting;
        let mut server = None;
        let (mut cgot, mut sgot) = (0usize, 0usize);
        let mut cycle_iters = 0u32;
        loop {
            cycle_iters += 1;
            if cycle_iters > 1_000_000 {
                return Err(format!(
                    "{what}: no completion in 10^6 iterations (client {cphase:?}, server {sphase:?})"
                ));
            }
            let moved = d.tick(&mut h, &what)?;
            let mut progress = moved > 0;
            let now = d.now;

            // Client application.
            if cphase == ClientPhase::Connecting && h.is_established(Side::Client, client) {
                let n = h.send(now, Side::Client, client, payload)?;
                if n != msg {
                    return Err(format!("{what}: client send took {n} of {msg} bytes"));
                }
                cphase = ClientPhase::AwaitEcho;
                progress = true;
            }
            if cphase == ClientPhase::AwaitEcho {
                match h.recv(now, Side::Client, client, &mut cbuf[cgot..])? {
                    Recv::Data(n) => {
                        cgot += n;
                        progress = true;
                        if cgot == msg {
                            if cbuf != payload {
                                return Err(format!("{what}: echo differs from what was sent"));
                            }
                            h.shutdown(now, Side::Client, client)?;
                            cphase = ClientPhase::AwaitFin;
                        }
                    }
                    Recv::WouldBlock => {}
                    Recv::Eof => return Err(format!("{what}: client saw EOF before the echo")),
                }
            }
            if cphase == ClientPhase::AwaitFin {
                let mut one = [0u8; 1];
                match h.recv(now, Side::Client, client, &mut one)? {
                    Recv::Eof => {
                        if !h.is_time_wait(Side::Client, client) {
                            return Err(format!("{what}: client not in TIME-WAIT after both FINs"));
                        }
                        h.release(now, Side::Client, client)?;
                        cphase = ClientPhase::Done;
                        progress = true;
                    }
                    Recv::WouldBlock => {}
                    Recv::Data(_) => return Err(format!("{what}: client got data after the echo")),
                }
            }

            // Server application.
            if sphase == ServerPhase::Accepting
                && let Some(s) = h.accept(now)?
            {
                server = Some(s);
                sphase = ServerPhase::Reading;
                progress = true;
            }
            if let Some(s) = server {
                if sphase == ServerPhase::Reading {
                    match h.recv(now, Side::Server, s, &mut sbuf[sgot..])? {
                        Recv::Data(n) => {
                            sgot += n;
                            progress = true;
                            if sgot == msg {
                                let k = h.send(now, Side::Server, s, &sbuf)?;
                                if k != msg {
                                    return Err(format!("{what}: server echo took {k} of {msg}"));
                                }
                                sphase = ServerPhase::AwaitFin;
                            }
                        }
                        Recv::WouldBlock => {}
                        Recv::Eof => return Err(format!("{what}: server saw EOF before the data")),
                    }
                }
                if sphase == ServerPhase::AwaitFin {
                    let mut one = [0u8; 1];
                    match h.recv(now, Side::Server, s, &mut one)? {
                        Recv::Eof => {
                            h.release(now, Side::Server, s)?;
                            server = None;
                            sphase = ServerPhase::Done;
                            progress = true;
                        }
                        Recv::WouldBlock => {}
                        Recv::Data(_) => {
                            return Err(format!("{what}: server got more data than sent"));
                        }
                    }
                }
            }

            if cphase == ClientPhase::Done
                && sphase == ServerPhase::Done
                && moved == 0
                && h.link_idle()
                && h.server_idle()
            {
                break;
            }
            if !progress {
                d.idle(&mut h, &what)?;
            }
        }
        d.now += gap_us;
    }
    let elapsed = d.started.elapsed();
    Ok(CyclesOutcome {
        elapsed,
        cycles: count,
        iterations: d.iterations,
        frames: h.frames_carried(),
        virtual_us: d.now - START_US,
        timer_waits: d.timer_waits,
        lingering: h.client_connections(),
    })
}
