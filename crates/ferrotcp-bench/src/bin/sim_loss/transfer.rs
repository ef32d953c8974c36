//! One bulk transfer over the simulated path, written once for both stacks: the client
//! connects at time zero, writes `bytes` of the pattern and half-closes; the server reads and
//! checks everything; the run ends when the server reads the end of the stream.

use core::net::SocketAddrV4;

use ferrotcp::{Duration, Instant};
use ferrotcp_bench::harness::Recv;
use ferrotcp_bench::link::SERVER_IP;
use ferrotcp_bench::pattern::{Pattern, Verifier};
use ferrotcp_sim::{HostId, LinkStats, Network, Node};

pub const SERVER_PORT: u16 = 5001;
pub const CLIENT_PORT: u16 = 49152;
/// Bytes per application send and receive call.
pub const CHUNK: usize = 64 << 10;

/// What the transfer needs from a host besides being a simulated [`Node`].
pub trait BulkHost: Node {
    type Listener: Copy;
    type Conn: Copy;
    fn listen(&mut self, port: u16) -> Result<Self::Listener, String>;
    fn connect(
        &mut self,
        now: Instant,
        to: SocketAddrV4,
        local_port: u16,
    ) -> Result<Self::Conn, String>;
    /// The server's connection once it is established, if it is.
    fn accept(&mut self, l: Self::Listener) -> Result<Option<Self::Conn>, String>;
    fn is_established(&self, c: Self::Conn) -> bool;
    /// Queues what fits; 0 if the send buffer is full.
    fn send(&mut self, now: Instant, c: Self::Conn, data: &[u8]) -> Result<usize, String>;
    /// FIN after the queued data.
    fn shutdown(&mut self, now: Instant, c: Self::Conn) -> Result<(), String>;
    fn recv(&mut self, now: Instant, c: Self::Conn, buf: &mut [u8]) -> Result<Recv, String>;
    /// Application events the stack queues, taken and ignored (the loop polls instead).
    fn drain_events(&mut self) {}
}

/// Bounds on one transfer.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub virtual_time: Duration,
    pub steps: u64,
}

/// A finished transfer.
#[derive(Clone, Copy, Debug)]
pub struct Done {
    /// Virtual time from connect to end of stream at the receiver.
    pub elapsed: Duration,
    /// Counters of the data direction (client → server) and of the ACK direction.
    pub data_dir: LinkStats,
    pub ack_dir: LinkStats,
}

impl Done {
    pub fn goodput_mbps(&self, bytes: u64) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            bytes as f64 * 8.0 / secs / 1e6
        } else {
            f64::INFINITY
        }
    }
}

/// Application state of both ends.
struct Apps<C> {
    client: C,
    server: Option<C>,
    sent: u64,
    shut: bool,
    eof_at: Option<Instant>,
    error: Option<String>,
}

/// Runs the transfer on `net`, whose hosts `client` and `server` are linked and idle.
pub fn run<N: BulkHost>(
    mut net: Network<N>,
    client: HostId,
    server: HostId,
    bytes: u64,
    pattern: &Pattern,
    limits: Limits,
) -> Result<Done, String> {
    net.set_tracing(false);
    let listener = net.host_mut(server).listen(SERVER_PORT)?;
    let start = net.now();
    let c = net.host_mut(client).connect(
        start,
        SocketAddrV4::new(SERVER_IP, SERVER_PORT),
        CLIENT_PORT,
    )?;
    let mut apps = Apps {
        client: c,
        server: None,
        sent: 0,
        shut: false,
        eof_at: None,
        error: None,
    };
    let mut verifier = Verifier::new(pattern);
    let mut buf = vec![0u8; CHUNK];
    let deadline = start + limits.virtual_time;
    let finished = net.run_until_pred(deadline, limits.steps, |net| {
        let now = net.now();
        if let Err(e) = client_turn(net.host_mut(client), now, &mut apps, bytes, pattern) {
            apps.error = Some(e);
        }
        let s = net.host_mut(server);
        if let Err(e) = server_turn(s, now, listener, &mut apps, &mut verifier, &mut buf) {
            apps.error = Some(e);
        }
        apps.error.is_some() || apps.eof_at.is_some()
    });
    if let Some(e) = apps.error {
        return Err(e);
    }
    let (Some(eof_at), true) = (apps.eof_at, finished) else {
        return Err(format!(
            "not finished: {} of {bytes} bytes received after {:.1} s virtual and {} events",
            verifier.received,
            net.now().saturating_since(start).as_secs_f64(),
            net.steps()
        ));
    };
    if let Some(at) = verifier.first_mismatch {
        return Err(format!("received data differs from sent at byte {at}"));
    }
    if verifier.received != bytes {
        return Err(format!(
            "end of stream after {} of {bytes} bytes",
            verifier.received
        ));
    }
    Ok(Done {
        elapsed: eof_at.saturating_since(start),
        data_dir: net.direction_stats(client).unwrap_or_default(),
        ack_dir: net.direction_stats(server).unwrap_or_default(),
    })
}

/// Writes what the send buffer takes, then half-closes once everything is queued.
fn client_turn<N: BulkHost>(
    host: &mut N,
    now: Instant,
    apps: &mut Apps<N::Conn>,
    bytes: u64,
    pattern: &Pattern,
) -> Result<(), String> {
    host.drain_events();
    if apps.shut || !host.is_established(apps.client) {
        return Ok(());
    }
    while apps.sent < bytes {
        let n = usize::try_from(bytes - apps.sent).map_or(CHUNK, |left| left.min(CHUNK));
        let k = host.send(now, apps.client, pattern.window(apps.sent, n))?;
        if k == 0 {
            return Ok(());
        }
        apps.sent += k as u64;
    }
    host.shutdown(now, apps.client)?;
    apps.shut = true;
    Ok(())
}

/// Reads everything there is, checking it against the pattern.
fn server_turn<N: BulkHost>(
    host: &mut N,
    now: Instant,
    listener: N::Listener,
    apps: &mut Apps<N::Conn>,
    verifier: &mut Verifier<'_>,
    buf: &mut [u8],
) -> Result<(), String> {
    host.drain_events();
    if apps.server.is_none() {
        apps.server = host.accept(listener)?;
    }
    let Some(s) = apps.server else {
        return Ok(());
    };
    while apps.eof_at.is_none() {
        match host.recv(now, s, buf)? {
            Recv::Data(n) => verifier.feed(&buf[..n]),
            Recv::WouldBlock => break,
            Recv::Eof => apps.eof_at = Some(now),
        }
    }
    Ok(())
}
