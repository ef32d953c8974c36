//! One host: ties Ethernet, ARP, IPv4, ICMP, UDP and TCP together and exposes the sans-IO
//! surface: frames in through [`Stack::receive`], frames out of [`Stack::poll_transmit`],
//! time in through `now` arguments, events out of [`Stack::poll_event`].

mod config;
mod event;
mod gro;
mod input;
mod output;
mod stats;
mod tcp_api;
mod udp_api;

use std::collections::VecDeque;

pub use config::{Medium, StackConfig};
pub use event::Event;
pub use stats::StackStats;

use crate::link::arp_cache::ArpCache;
use crate::network::rate_limit::TokenBucket;
use crate::time::Instant;
use crate::trace::{DropReason, TcpState, TraceEvent, TraceRecord};
use crate::transport::tcp::isn::IsnGenerator;
use crate::transport::tcp::table::ConnTable;
use crate::transport::tcp::{Notify, RetryLimits, TcpHandle};
use crate::transport::udp::UdpSockets;

pub struct Stack {
    config: StackConfig,
    tcp: ConnTable,
    udp: UdpSockets,
    arp: ArpCache<Vec<u8>>,
    isn: IsnGenerator,
    icmp_limiter: TokenBucket,
    /// Frames ready to go (ARP, ICMP, resets, packets released by ARP resolution).
    tx_queue: VecDeque<Vec<u8>>,
    /// Spare frame buffers, so steady-state traffic allocates nothing.
    pool: Vec<Vec<u8>>,
    events: VecDeque<Event>,
    trace: VecDeque<TraceRecord>,
    stats: StackStats,
    ip_ident: u16,
    next_arp_confirm: Instant,
    scratch_transitions: Vec<(TcpState, TcpState)>,
    scratch_ips: Vec<core::net::Ipv4Addr>,
}

/// Upper bound on buffers kept in the pool.
const POOL_LIMIT: usize = 256;

impl Stack {
    pub fn new(config: StackConfig) -> Stack {
        let seed = config.seed;
        Stack {
            tcp: ConnTable::new(seed),
            udp: UdpSockets::new(
                config.udp_queue_datagrams,
                config.udp_queue_bytes,
                seed ^ 0x5544_5000,
            ),
            arp: ArpCache::new(config.arp),
            isn: IsnGenerator::new(seed),
            icmp_limiter: TokenBucket::icmp_default(),
            tx_queue: VecDeque::new(),
            pool: Vec::new(),
            events: VecDeque::new(),
            trace: VecDeque::new(),
            stats: StackStats::default(),
            ip_ident: (seed as u16) ^ 0x5a5a,
            next_arp_confirm: Instant::ZERO,
            scratch_transitions: Vec::with_capacity(8),
            scratch_ips: Vec::new(),
            config,
        }
    }

    pub fn config(&self) -> &StackConfig {
        &self.config
    }

    pub fn stats(&self) -> StackStats {
        self.stats
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        let ev = self.events.pop_front()?;
        let clear = match ev {
            Event::Readable(h) => Some((h, Notify::READABLE)),
            Event::Writable(h) => Some((h, Notify::WRITABLE)),
            _ => None,
        };
        if let Some((h, bit)) = clear
            && let Some(conn) = self.tcp.get_mut(h)
        {
            conn.queued.remove(bit);
        }
        Some(ev)
    }

    /// The next trace record (only kept when `config.trace` is on).
    pub fn poll_trace(&mut self) -> Option<TraceRecord> {
        self.trace.pop_front()
    }

    /// When `handle_timeout` should next be called.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        match (self.tcp.next_deadline(), self.arp.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let limits = RetryLimits {
            r1: self.config.tcp.r1,
            r2: self.config.tcp.r2,
            syn_retries: self.config.tcp.syn_retries,
        };
        // TIME-WAITs kept small whose wait ends now become whole, so they end as others do.
        self.tcp.thaw_due(now, &self.config.tcp);
        while let Some(h) = self.tcp.pop_due(now) {
            let tracing = self.config.trace;
            let trace = &mut self.trace;
            if let Some(conn) = self.tcp.get_mut(h) {
                let (local, remote) = (conn.tcb.local(), conn.tcb.remote());
                conn.tcb.handle_timeout(now, limits, &mut |kind| {
                    if tracing {
                        trace.push_back(TraceRecord {
                            time: now,
                            event: TraceEvent::TcpTimer {
                                local,
                                remote,
                                kind,
                            },
                        });
                    }
                });
            }
            self.after_tcb(now, h);
        }
        let mut resend = core::mem::take(&mut self.scratch_ips);
        let result = self.arp.handle_timeout(now, &mut resend);
        self.stats.arp_failed_drops += result.dropped as u64;
        for ip in resend.drain(..) {
            self.send_arp_request(ip);
        }
        self.scratch_ips = resend;
    }

    /// Hands a frame buffer back for reuse (optional; saves an allocation per frame).
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.pool.len() < POOL_LIMIT {
            buf.clear();
            self.pool.push(buf);
        }
    }

    fn alloc_frame(&mut self, len: usize) -> Vec<u8> {
        let mut buf = self.pool.pop().unwrap_or_default();
        buf.clear();
        buf.resize(len, 0);
        buf
    }

    fn trace_event(&mut self, now: Instant, event: TraceEvent) {
        if self.config.trace {
            self.trace.push_back(TraceRecord { time: now, event });
        }
    }

    fn drop_input(&mut self, now: Instant, reason: DropReason) {
        match reason {
            DropReason::Malformed => self.stats.malformed += 1,
            DropReason::BadChecksum => self.stats.bad_checksum += 1,
            DropReason::NotForUs => self.stats.not_for_us += 1,
            DropReason::UnknownProtocol => self.stats.unknown_protocol += 1,
            DropReason::Fragmented => self.stats.fragments_dropped += 1,
            DropReason::NoSocket => self.stats.tcp_no_socket += 1,
            DropReason::Unacceptable
            | DropReason::BadAck
            | DropReason::NoAck
            | DropReason::Paws
            | DropReason::Challenged => self.stats.tcp_dropped += 1,
            DropReason::QueueFull => self.stats.udp_queue_full += 1,
        }
        self.trace_event(now, TraceEvent::Dropped { reason });
    }

    /// After any call into a TCB: trace its state changes, turn its notifications into events,
    /// release it if it is finished, and (re)schedule its output and timers.
    fn after_tcb(&mut self, now: Instant, h: TcpHandle) {
        let mut transitions = core::mem::take(&mut self.scratch_transitions);
        let Some(conn) = self.tcp.get_mut(h) else {
            self.scratch_transitions = transitions;
            return;
        };
        conn.tcb.take_transitions(&mut transitions);
        let notify = conn.tcb.take_notify();
        let (local, remote) = (conn.tcb.local(), conn.tcb.remote());
        let listener = conn.listener;
        let closed = conn.tcb.close_reason();
        let owned = conn.tcb.is_owned();
        for (from, to) in transitions.drain(..) {
            self.trace_event(
                now,
                TraceEvent::TcpState {
                    local,
                    remote,
                    from,
                    to,
                },
            );
        }
        self.scratch_transitions = transitions;

        if let Some(lh) = listener {
            // Not yet accepted: the application has not seen this connection.
            if closed.is_none() && self.tcp.listeners.get(lh.0).is_none() {
                // Its listener was closed meanwhile: nobody will accept it.
                return self.reset_orphan(now, h);
            }
            if closed.is_some() {
                self.tcp.free(h);
                if let Some(l) = self.tcp.listeners.get_mut(lh.0) {
                    l.pending = l.pending.saturating_sub(1);
                    l.accept_queue.retain(|&c| c != h);
                }
                return;
            }
            if notify.contains(Notify::CONNECTED)
                && let Some(l) = self.tcp.listeners.get_mut(lh.0)
            {
                l.accept_queue.push_back(h);
                self.events.push_back(Event::Incoming(lh));
            }
        } else {
            self.queue_events(h, notify);
        }

        match closed {
            Some(reason) => {
                if owned {
                    if notify.contains(Notify::CLOSED) {
                        self.events.push_back(Event::Closed(h, reason));
                    }
                    self.tcp.unlink(h);
                } else {
                    self.tcp.free(h);
                }
            }
            None => {
                self.tcp.mark_ready(h);
                self.tcp.schedule(h);
                self.tcp.freeze(h);
            }
        }
    }

    /// A connection whose listener went away before it was accepted: reset and forget it.
    fn reset_orphan(&mut self, now: Instant, h: TcpHandle) {
        self.abort_conn(now, h);
    }

    fn queue_events(&mut self, h: TcpHandle, notify: Notify) {
        if notify.is_empty() {
            return;
        }
        let Some(conn) = self.tcp.get_mut(h) else {
            return;
        };
        let owned = conn.tcb.is_owned();
        let mut readable = false;
        let mut writable = false;
        if notify.contains(Notify::READABLE) && !conn.queued.contains(Notify::READABLE) && owned {
            conn.queued.insert(Notify::READABLE);
            readable = true;
        }
        if notify.contains(Notify::WRITABLE) && !conn.queued.contains(Notify::WRITABLE) && owned {
            conn.queued.insert(Notify::WRITABLE);
            writable = true;
        }
        if notify.contains(Notify::CONNECTED) {
            self.events.push_back(Event::Connected(h));
        }
        if readable {
            self.events.push_back(Event::Readable(h));
        }
        if writable {
            self.events.push_back(Event::Writable(h));
        }
        if notify.contains(Notify::PEER_CLOSED) && owned {
            self.events.push_back(Event::PeerClosed(h));
        }
        if notify.contains(Notify::URGENT) && owned {
            self.events.push_back(Event::Urgent(h));
        }
        if notify.contains(Notify::STALLED) && owned {
            self.events.push_back(Event::Stalled(h));
        }
    }

    /// Every connection the application still holds, for shutting a host down (not for the hot
    /// path: it walks the table).
    pub fn tcp_handles(&self) -> Vec<TcpHandle> {
        self.tcp
            .conns
            .iter()
            .filter(|(_, c)| c.tcb.is_owned() && c.listener.is_none())
            .map(|(k, _)| TcpHandle(k))
            .collect()
    }

    /// Connections not yet CLOSED nor in TIME-WAIT (for a graceful shutdown; walks the table).
    pub fn tcp_active_count(&self) -> usize {
        self.tcp
            .conns
            .iter()
            .filter(|(_, c)| !matches!(c.tcb.state(), TcpState::TimeWait | TcpState::Closed))
            .count()
    }

    /// Connections, TIME-WAITs included (for leak checks and diagnostics).
    pub fn tcp_connection_count(&self) -> usize {
        self.tcp.len()
    }

    /// Connections in TIME-WAIT that nobody holds, kept small (a subset of
    /// [`tcp_connection_count`](Self::tcp_connection_count)).
    pub fn tcp_time_wait_count(&self) -> usize {
        self.tcp.time_wait.len()
    }

    pub fn tcp_listener_count(&self) -> usize {
        self.tcp.listeners.len()
    }

    /// Connections with a pending deadline: at most one each, none for a connection whose timers
    /// are all stopped (so finished handshakes and idle peers cost no wake-ups).
    pub fn tcp_timer_count(&self) -> usize {
        self.tcp.timer_count()
    }
}
