//! The echo scenario behind `ferrotcp demo` and the loss tests: the client connects, sends N
//! bytes and shuts down its side; the server echoes everything back and closes when it sees the
//! end of the stream; the client reads the echo to the end and closes. Both connections must end
//! CLOSED (the client through TIME-WAIT).

use ferrotcp::time::{Duration, Instant};
use ferrotcp::trace::{TcpState, TraceEvent};
use ferrotcp::transport::tcp::TcpStats;
use ferrotcp::wire::TxOffload;
use ferrotcp::{CloseReason, Stack, TcpConfig, TcpError, TcpHandle};

use super::pattern::pattern;
use crate::impairments::{Impairments, LinkConfig};
use crate::pair::Pair;
use crate::trace::SimEvent;

pub const ECHO_PORT: u16 = 7;

#[derive(Clone, Debug)]
pub struct EchoParams {
    pub bytes: usize,
    pub seed: u64,
    pub link: Impairments,
    pub tcp: TcpConfig,
    /// Keep the full trace (frames and state changes) for diagrams.
    pub trace: bool,
    /// Give up after this much virtual time.
    pub deadline: Duration,
    /// What both hosts' interfaces finish for them (checksums, segmentation offload).
    pub offload: TxOffload,
    /// Both stacks' software segmentation ([`StackConfig::gso`](ferrotcp::StackConfig::gso)).
    pub gso: bool,
}

impl EchoParams {
    pub fn new(bytes: usize, seed: u64) -> Self {
        EchoParams {
            bytes,
            seed,
            link: Impairments {
                delay: Duration::from_millis(10),
                ..Impairments::default()
            },
            tcp: TcpConfig::default(),
            trace: false,
            deadline: Duration::from_secs(3600),
            offload: TxOffload::NONE,
            gso: true,
        }
    }
}

pub struct EchoOutcome {
    pub pair: Pair,
    pub sent: Vec<u8>,
    /// What the server received from the client.
    pub server_received: Vec<u8>,
    /// What the client received back.
    pub client_received: Vec<u8>,
    pub client_close: Option<CloseReason>,
    pub server_close: Option<CloseReason>,
    pub client_states: Vec<TcpState>,
    pub server_states: Vec<TcpState>,
    pub client_stats: TcpStats,
    pub server_stats: TcpStats,
    /// Virtual time when both sides were CLOSED (or the deadline).
    pub finished_at: Instant,
    /// When the echo was complete at the client (before TIME-WAIT ran out).
    pub transfer_done_at: Option<Instant>,
    pub error: Option<String>,
}

impl EchoOutcome {
    /// Everything arrived intact both ways and both sides closed normally.
    pub fn intact(&self) -> bool {
        self.error.is_none()
            && self.server_received == self.sent
            && self.client_received == self.sent
            && self.client_close == Some(CloseReason::Normal)
            && self.server_close == Some(CloseReason::Normal)
    }
}

struct Client {
    h: TcpHandle,
    sent: usize,
    shut: bool,
    eof: bool,
    closed: Option<CloseReason>,
}

struct Server {
    h: Option<TcpHandle>,
    pending: Vec<u8>,
    eof: bool,
    shut: bool,
    closed: Option<CloseReason>,
}

pub fn run_echo(params: &EchoParams) -> EchoOutcome {
    let mut pair = Pair::with_config(
        params.seed,
        LinkConfig::symmetric(params.link.clone()),
        params.trace,
        |cfg| {
            cfg.tcp = params.tcp.clone();
            cfg.gso = params.gso;
        },
    );
    pair.net.set_offload(pair.client, params.offload);
    pair.net.set_offload(pair.server, params.offload);
    let data = pattern(params.seed, params.bytes);
    let mut server_received = Vec::with_capacity(params.bytes);
    let mut client_received = Vec::with_capacity(params.bytes);
    let mut error = None;
    let mut transfer_done_at = None;

    let listener = match pair.server().tcp_listen(ECHO_PORT, 16) {
        Ok(l) => l,
        Err(e) => return failed(pair, data, format!("listen: {e}")),
    };
    let h = match pair
        .client()
        .tcp_connect(Instant::ZERO, Pair::server_addr(ECHO_PORT), None)
    {
        Ok(h) => h,
        Err(e) => return failed(pair, data, format!("connect: {e}")),
    };
    let mut client = Client {
        h,
        sent: 0,
        shut: false,
        eof: false,
        closed: None,
    };
    let mut server = Server {
        h: None,
        pending: Vec::new(),
        eof: false,
        shut: false,
        closed: None,
    };
    let mut buf = vec![0u8; 64 * 1024];
    let mut client_stats = TcpStats::default();
    let mut server_stats = TcpStats::default();
    let deadline = Instant::ZERO + params.deadline;
    let (ch, sh) = (pair.client, pair.server);

    let done = pair.net.run_until_pred(deadline, u64::MAX, |net| {
        let now = net.now();
        // Client side.
        let c: &mut Stack = net.host_mut(ch);
        drain_closed(c, Some(client.h), &mut client.closed, &mut client_stats);
        if client.closed.is_none() {
            while client.sent < data.len() {
                match c.tcp_send(now, client.h, &data[client.sent..]) {
                    Ok(n) => client.sent += n,
                    Err(TcpError::WouldBlock) => break,
                    Err(e) => {
                        error.get_or_insert(format!("client send: {e}"));
                        break;
                    }
                }
            }
            if client.sent == data.len()
                && !client.shut
                && c.tcp_state(client.h)
                    .is_ok_and(|s| s == TcpState::Established)
            {
                client.shut = c.tcp_shutdown(now, client.h).is_ok();
            }
            while !client.eof {
                match c.tcp_recv(now, client.h, &mut buf) {
                    Ok(0) => {
                        client.eof = true;
                        transfer_done_at = Some(now);
                    }
                    Ok(n) => client_received.extend_from_slice(&buf[..n]),
                    Err(TcpError::WouldBlock) => break,
                    Err(e) => {
                        error.get_or_insert(format!("client recv: {e}"));
                        break;
                    }
                }
            }
        }
        // Server side.
        let s: &mut Stack = net.host_mut(sh);
        if server.h.is_none() {
            server.h = s.tcp_accept(listener).ok().flatten();
        }
        drain_closed(s, server.h, &mut server.closed, &mut server_stats);
        if let (Some(h), None) = (server.h, server.closed) {
            loop {
                if !server.pending.is_empty() {
                    match s.tcp_send(now, h, &server.pending) {
                        Ok(n) => {
                            server.pending.drain(..n);
                        }
                        Err(TcpError::WouldBlock) => break,
                        Err(e) => {
                            error.get_or_insert(format!("server send: {e}"));
                            break;
                        }
                    }
                    if !server.pending.is_empty() {
                        break;
                    }
                }
                if server.eof {
                    break;
                }
                match s.tcp_recv(now, h, &mut buf) {
                    Ok(0) => server.eof = true,
                    Ok(n) => {
                        server_received.extend_from_slice(&buf[..n]);
                        server.pending.extend_from_slice(&buf[..n]);
                    }
                    Err(TcpError::WouldBlock) => break,
                    Err(e) => {
                        error.get_or_insert(format!("server recv: {e}"));
                        break;
                    }
                }
            }
            if server.eof && server.pending.is_empty() && !server.shut {
                server.shut = true;
                if let Err(e) = s.tcp_shutdown(now, h) {
                    error.get_or_insert(format!("server shutdown: {e}"));
                }
            }
        }
        let both_gone =
            net.host(ch).tcp_connection_count() == 0 && net.host(sh).tcp_connection_count() == 0;
        error.is_some() || (client.closed.is_some() && server.closed.is_some() && both_gone)
    });
    if !done && error.is_none() {
        error = Some(format!(
            "not finished by {:?} of virtual time",
            params.deadline
        ));
    }
    let finished_at = pair.net.now();
    let (client_states, server_states) = states_visited(&pair);
    EchoOutcome {
        pair,
        sent: data,
        server_received,
        client_received,
        client_close: client.closed,
        server_close: server.closed,
        client_states,
        server_states,
        client_stats,
        server_stats,
        finished_at,
        transfer_done_at,
        error,
    }
}

/// Takes the application's events; on `Closed`, keeps the reason and the connection's final
/// statistics, then releases the handle.
fn drain_closed(
    stack: &mut Stack,
    h: Option<TcpHandle>,
    closed: &mut Option<CloseReason>,
    stats: &mut TcpStats,
) {
    while let Some(ev) = stack.poll_event() {
        if let ferrotcp::Event::Closed(ch, reason) = ev
            && Some(ch) == h
        {
            *closed = Some(reason);
            if let Ok(s) = stack.tcp_stats(ch) {
                *stats = s;
            }
            let _ = stack.tcp_release(ch);
        }
    }
}

fn failed(pair: Pair, sent: Vec<u8>, error: String) -> EchoOutcome {
    let finished_at = pair.net.now();
    EchoOutcome {
        pair,
        sent,
        server_received: Vec::new(),
        client_received: Vec::new(),
        client_close: None,
        server_close: None,
        client_states: Vec::new(),
        server_states: Vec::new(),
        client_stats: Default::default(),
        server_stats: Default::default(),
        finished_at,
        transfer_done_at: None,
        error: Some(error),
    }
}

/// States each side entered, in order (from the trace; empty when tracing was off).
fn states_visited(pair: &Pair) -> (Vec<TcpState>, Vec<TcpState>) {
    let mut client = Vec::new();
    let mut server = Vec::new();
    for rec in pair.net.trace() {
        if let SimEvent::Host { host, record } = &rec.event
            && let TraceEvent::TcpState { to, .. } = record.event
        {
            if *host == pair.client {
                client.push(to);
            } else if *host == pair.server {
                server.push(to);
            }
        }
    }
    (client, server)
}
