//! The connection table: connections by 4-tuple (O(1) hash lookup), listeners by port, every
//! connection's next deadline (exactly one entry each, see `deadlines.rs`) and the queue of
//! connections that may have segments to send. Nothing here scans all connections.

use core::cell::Cell;
use core::hash::BuildHasher;
use core::net::SocketAddrV4;
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::Hasher;

use super::TcpConfig;
use super::deadlines::Deadlines;
use super::isn::key_from_seed;
use super::tcb::{Notify, Tcb};
use super::time_wait::{Frozen, TimeWaitTable};
use crate::slab::{Key, Slab};
use crate::time::Instant;

/// A connection, as the application names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TcpHandle(pub(crate) Key);

/// A listening socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerHandle(pub(crate) Key);

/// (local, remote): one connection per pair (RFC 9293 §3.3.2).
pub type FourTuple = (SocketAddrV4, SocketAddrV4);

/// SipHash-1-3 keyed from the stack's seed: deterministic, and not predictable by a peer that
/// does not know the seed (no OS randomness, so the protocol crate stays free of I/O).
#[derive(Clone, Debug)]
pub struct SeededState {
    /// A hasher that has already absorbed the key; cloning it is cheaper than re-keying.
    keyed: DefaultHasher,
}

impl SeededState {
    fn new(key: [u64; 2]) -> Self {
        let mut keyed = DefaultHasher::new();
        keyed.write_u64(key[0]);
        keyed.write_u64(key[1]);
        SeededState { keyed }
    }
}

impl BuildHasher for SeededState {
    type Hasher = DefaultHasher;
    fn build_hasher(&self) -> DefaultHasher {
        self.keyed.clone()
    }
}

#[derive(Debug)]
pub struct Conn {
    pub tcb: Tcb,
    /// Set while a passively opened connection waits to be accepted.
    pub listener: Option<ListenerHandle>,
    /// Already in the ready queue.
    pub ready: bool,
    /// Readable/writable events queued and not yet polled (coalescing).
    pub queued: Notify,
}

#[derive(Debug)]
pub struct Listener {
    pub local: SocketAddrV4,
    pub backlog: usize,
    /// Connections in SYN-RECEIVED (or established, not yet accepted) owned by this listener.
    pub pending: usize,
    pub accept_queue: VecDeque<TcpHandle>,
}

#[derive(Debug)]
pub struct ConnTable {
    pub conns: Slab<Conn>,
    pub by_tuple: HashMap<FourTuple, TcpHandle, SeededState>,
    pub listeners: Slab<Listener>,
    pub by_port: HashMap<u16, ListenerHandle, SeededState>,
    timers: Deadlines,
    ready: VecDeque<TcpHandle>,
    /// The last successful lookup: bulk traffic hits the same connection frame after frame.
    last: Cell<Option<(FourTuple, TcpHandle)>>,
    port_hint: u32,
    /// Connections in TIME-WAIT nobody holds, in small (see `time_wait.rs`).
    pub(crate) time_wait: TimeWaitTable,
}

/// RFC 6335 §6 dynamic ports, the range RFC 6056 recommends.
pub const EPHEMERAL_FIRST: u16 = 49152;
pub const EPHEMERAL_LAST: u16 = 65535;

impl ConnTable {
    pub fn new(seed: u64) -> Self {
        let key = key_from_seed(seed ^ 0x7461_626c_655f_6b65);
        let state = SeededState::new(key);
        ConnTable {
            conns: Slab::default(),
            by_tuple: HashMap::with_hasher(state.clone()),
            listeners: Slab::default(),
            by_port: HashMap::with_hasher(state.clone()),
            time_wait: TimeWaitTable::new(state),
            timers: Deadlines::default(),
            ready: VecDeque::new(),
            last: Cell::new(None),
            port_hint: (key[0] as u32) % u32::from(EPHEMERAL_LAST - EPHEMERAL_FIRST + 1),
        }
    }

    pub fn lookup(&self, local: SocketAddrV4, remote: SocketAddrV4) -> Option<TcpHandle> {
        if let Some((tuple, h)) = self.last.get()
            && tuple == (local, remote)
        {
            return Some(h);
        }
        let h = self.by_tuple.get(&(local, remote)).copied()?;
        self.last.set(Some(((local, remote), h)));
        Some(h)
    }

    pub fn get(&self, h: TcpHandle) -> Option<&Conn> {
        self.conns.get(h.0)
    }

    pub fn get_mut(&mut self, h: TcpHandle) -> Option<&mut Conn> {
        self.conns.get_mut(h.0)
    }

    pub fn insert(&mut self, tcb: Tcb, listener: Option<ListenerHandle>) -> TcpHandle {
        let tuple = (tcb.local(), tcb.remote());
        let h = TcpHandle(self.conns.insert(Conn {
            tcb,
            listener,
            ready: false,
            queued: Notify::default(),
        }));
        self.by_tuple.insert(tuple, h);
        h
    }

    /// Takes a connection that reached CLOSED out of the 4-tuple map and the timer queue; the
    /// slot stays while the application holds the handle.
    pub fn unlink(&mut self, h: TcpHandle) {
        if let Some(conn) = self.conns.get(h.0) {
            // Only for a live handle: a stale one's slot may hold another connection's entry.
            self.timers.set(h.0, None);
            let tuple = (conn.tcb.local(), conn.tcb.remote());
            if self.by_tuple.get(&tuple) == Some(&h) {
                self.by_tuple.remove(&tuple);
            }
            if self.last.get().is_some_and(|(_, cached)| cached == h) {
                self.last.set(None);
            }
        }
    }

    pub fn free(&mut self, h: TcpHandle) -> Option<Conn> {
        self.unlink(h);
        let conn = self.conns.remove(h.0);
        if self.conns.is_empty() && self.by_tuple.capacity() > 64 {
            // A burst of connections all ended (the slab gives its slots back the same way).
            self.by_tuple = HashMap::with_hasher(self.by_tuple.hasher().clone());
            self.timers = Deadlines::default();
            self.ready = VecDeque::new();
        }
        conn
    }

    pub fn mark_ready(&mut self, h: TcpHandle) {
        if let Some(conn) = self.conns.get_mut(h.0)
            && !conn.ready
        {
            conn.ready = true;
            self.ready.push_back(h);
        }
    }

    /// The first connection that may have something to send; it stays queued until `unready`.
    pub fn peek_ready(&mut self) -> Option<TcpHandle> {
        while let Some(&h) = self.ready.front() {
            if self.conns.get(h.0).is_some_and(|c| c.ready) {
                return Some(h);
            }
            self.ready.pop_front();
        }
        None
    }

    pub fn unready(&mut self, h: TcpHandle) {
        if self.ready.front() == Some(&h) {
            self.ready.pop_front();
        }
        if let Some(conn) = self.conns.get_mut(h.0) {
            conn.ready = false;
        }
    }

    /// Puts the connection's next deadline in the timer queue, or takes it out when no timer
    /// runs. A deadline that only moved later (the RTO restarted by an ACK, every segment of a
    /// bulk transfer) keeps its earlier entry: that entry wakes the connection once, which
    /// finds nothing due and re-queues it at the true deadline. So a segment costs no heap
    /// work, and a connection never has more than one entry.
    #[inline]
    pub fn schedule(&mut self, h: TcpHandle) {
        let Some(conn) = self.conns.get(h.0) else {
            return;
        };
        let want = conn.tcb.poll_timeout();
        match (self.timers.get(h.0), want) {
            (Some(queued), Some(t)) if queued <= t => {}
            _ => self.timers.set(h.0, want),
        }
    }

    /// Earliest deadline of any connection, frozen ones included.
    pub fn next_deadline(&self) -> Option<Instant> {
        let live = self.timers.first().map(|(t, _)| t);
        match (live, self.time_wait.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Shrinks connection `h` to a TIME-WAIT entry if it is one nobody needs whole any more
    /// (`Tcb::freeze`); its handle is then gone.
    pub fn freeze(&mut self, h: TcpHandle) {
        let Some((frozen, expires)) = self.get(h).and_then(|c| c.tcb.freeze()) else {
            return;
        };
        self.free(h);
        self.time_wait.insert(frozen, expires);
    }

    /// The connection for `tuple` from the TIME-WAIT entries, made whole again (a segment
    /// arrived for it).
    pub fn thaw(
        &mut self,
        tuple: &FourTuple,
        config: &TcpConfig,
        now: Instant,
    ) -> Option<TcpHandle> {
        let (frozen, expires) = self.time_wait.take(tuple)?;
        Some(self.insert_thawed(&frozen, config, now, expires))
    }

    /// Makes whole the TIME-WAIT entries whose wait has ended, so that their timers run as
    /// every connection's do.
    pub fn thaw_due(&mut self, now: Instant, config: &TcpConfig) {
        while let Some((frozen, expires)) = self.time_wait.take_due(now) {
            self.insert_thawed(&frozen, config, now, expires);
        }
    }

    fn insert_thawed(
        &mut self,
        frozen: &Frozen,
        config: &TcpConfig,
        now: Instant,
        expires: Instant,
    ) -> TcpHandle {
        let h = self.insert(frozen.thaw(config, now, expires), None);
        self.schedule(h);
        h
    }

    /// Connections, frozen TIME-WAITs included.
    pub fn len(&self) -> usize {
        self.conns.len() + self.time_wait.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a connection (in TIME-WAIT or not) holds this 4-tuple.
    pub fn tuple_in_use(&self, local: SocketAddrV4, remote: SocketAddrV4) -> bool {
        self.lookup(local, remote).is_some() || self.time_wait.contains(&(local, remote))
    }

    /// Takes out one connection whose deadline is due at `now` (it is put back by `schedule`
    /// once its timers have run).
    pub fn pop_due(&mut self, now: Instant) -> Option<TcpHandle> {
        let key = self.timers.pop_due(now)?;
        // Freed connections leave the queue at once, so the key is live.
        debug_assert!(self.conns.get(key).is_some());
        Some(TcpHandle(key))
    }

    /// Connections with a deadline, frozen TIME-WAITs included (each has one).
    pub fn timer_count(&self) -> usize {
        self.timers.len() + self.time_wait.len()
    }

    /// RFC 6056 §3.3.1-style selection: start from a seeded point, probe sequentially; a port is
    /// free for this remote if no connection (TIME-WAIT included) or listener uses it.
    pub fn ephemeral_port(
        &mut self,
        local_ip: core::net::Ipv4Addr,
        remote: SocketAddrV4,
    ) -> Option<u16> {
        let range = u32::from(EPHEMERAL_LAST - EPHEMERAL_FIRST) + 1;
        for i in 0..range {
            let port = EPHEMERAL_FIRST + ((self.port_hint + i) % range) as u16;
            let local = SocketAddrV4::new(local_ip, port);
            if !self.by_port.contains_key(&port) && !self.tuple_in_use(local, remote) {
                self.port_hint = self.port_hint.wrapping_add(i + 1);
                return Some(port);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 8: memory per idle connection. An idle established connection is its slot plus
    /// the boxed sending half (its rings are freed when quiet); these ceilings keep the diet
    /// from being undone by a field added without thought. The teaching build (ablations)
    /// carries a little more.
    #[test]
    fn a_connection_stays_within_its_budget() {
        let slot = core::mem::size_of::<Conn>();
        let sender = core::mem::size_of::<super::super::sender::Sender>();
        let teaching = if cfg!(feature = "teaching") { 32 } else { 0 };
        assert!(slot <= 592 + teaching, "a connection slot is {slot} bytes");
        assert!(sender <= 528, "the sending half is {sender} bytes");
    }
}
