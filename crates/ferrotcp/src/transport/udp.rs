//! UDP socket table (RFC 768), sans-IO.
//!
//! The stack parses and checksums UDP headers and builds outgoing ones; this
//! table owns port bindings, demultiplexes incoming datagrams by destination
//! port into bounded per-socket receive queues, and hands them to the user.
//!
//! - Ports are unique per table (one IPv4 address; no `SO_REUSEADDR`).
//! - Port 0 asks for an ephemeral port from the IANA dynamic range
//!   49152..=65535 (RFC 6335 §6), chosen as in RFC 6056 §3.3.1 (Algorithm 1:
//!   random start, sequential probe on collision) using a seeded generator,
//!   so runs are reproducible. A bitmap makes the probe a handful of word
//!   operations.
//! - Receive queues are bounded in datagrams and bytes; datagram buffers are
//!   recycled per socket, so steady-state delivery does not allocate.
//! - Handles carry a generation, so a handle to a closed socket stays invalid
//!   even after its slot is reused.

use core::fmt;
use core::net::SocketAddrV4;
use std::collections::{BTreeMap, VecDeque};

/// First port of the IANA dynamic/private range (RFC 6335 §6).
pub const EPHEMERAL_FIRST: u16 = 49152;
/// Last port of the IANA dynamic/private range.
pub const EPHEMERAL_LAST: u16 = 65535;
const EPHEMERAL_COUNT: usize = (EPHEMERAL_LAST - EPHEMERAL_FIRST) as usize + 1;
const BITMAP_WORDS: usize = EPHEMERAL_COUNT / 64;

/// Largest UDP payload over IPv4 without IP options: 65535 - 20 - 8
/// (RFC 768 length field, RFC 791 total length).
pub const MAX_PAYLOAD: usize = 65_507;

/// Opaque reference to a bound socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UdpHandle {
    slot: u32,
    generation: u32,
}

/// Errors from the socket table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UdpError {
    /// The requested port is already bound.
    AddrInUse,
    /// The handle does not name an open socket (closed, or never valid).
    InvalidHandle,
    /// Every port of the ephemeral range is bound.
    NoEphemeralPorts,
    /// The payload does not fit in one IPv4 UDP datagram.
    PayloadTooLarge,
    /// Nothing to receive.
    WouldBlock,
}

impl fmt::Display for UdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UdpError::AddrInUse => "UDP port already in use",
            UdpError::InvalidHandle => "invalid UDP socket handle",
            UdpError::NoEphemeralPorts => "no free ephemeral UDP port",
            UdpError::PayloadTooLarge => "UDP payload too large",
            UdpError::WouldBlock => "no datagram queued",
        })
    }
}

impl std::error::Error for UdpError {}

/// What [`UdpSockets::deliver`] did with a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliverOutcome {
    /// Queued on this socket.
    Delivered(UdpHandle),
    /// No socket bound to the port: the caller should answer with ICMP port
    /// unreachable (RFC 1122 §4.1.3.1), subject to its rate limit.
    NoSocket,
    /// The socket's receive queue is full; the datagram was dropped (counted).
    QueueFull,
}

/// Counters over the table's lifetime.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UdpStats {
    /// Datagrams queued on a socket.
    pub delivered: u64,
    /// Datagrams for a port with no socket.
    pub no_socket: u64,
    /// Datagrams dropped because the receive queue was full.
    pub queue_full: u64,
}

#[derive(Debug)]
struct Datagram {
    src: SocketAddrV4,
    data: Vec<u8>,
}

#[derive(Debug)]
struct Socket {
    port: u16,
    queue: VecDeque<Datagram>,
    /// Sum of payload lengths in `queue`.
    queued_bytes: usize,
    /// Emptied buffers kept for reuse.
    spare: Vec<Vec<u8>>,
    /// Sum of capacities in `spare` (bounded by the byte limit).
    spare_bytes: usize,
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    socket: Option<Socket>,
}

/// The UDP socket table.
#[derive(Debug)]
pub struct UdpSockets {
    slots: Vec<Slot>,
    free_slots: Vec<u32>,
    /// Bound port -> slot index. Ordered map: O(log n), no random hasher.
    ports: BTreeMap<u16, u32>,
    /// Bit i set = port `EPHEMERAL_FIRST + i` bound.
    ephemeral_used: [u64; BITMAP_WORDS],
    ephemeral_bound: usize,
    rng: u64,
    limit_datagrams: usize,
    limit_bytes: usize,
    stats: UdpStats,
}

/// SplitMix64: small, fast, seedable; good enough to spread port choices.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn ephemeral_index(port: u16) -> Option<usize> {
    port.checked_sub(EPHEMERAL_FIRST).map(usize::from)
}

impl UdpSockets {
    /// An empty table. Each socket queues at most `recv_queue_limit_datagrams`
    /// datagrams and `recv_queue_limit_bytes` payload bytes; `ephemeral_seed`
    /// seeds ephemeral port selection (use a random seed in production,
    /// RFC 6056 §3.2, so ports are hard to guess off-path).
    pub fn new(
        recv_queue_limit_datagrams: usize,
        recv_queue_limit_bytes: usize,
        ephemeral_seed: u64,
    ) -> Self {
        UdpSockets {
            slots: Vec::new(),
            free_slots: Vec::new(),
            ports: BTreeMap::new(),
            ephemeral_used: [0; BITMAP_WORDS],
            ephemeral_bound: 0,
            rng: ephemeral_seed,
            limit_datagrams: recv_queue_limit_datagrams,
            limit_bytes: recv_queue_limit_bytes,
            stats: UdpStats::default(),
        }
    }

    fn socket(&self, h: UdpHandle) -> Result<&Socket, UdpError> {
        self.slots
            .get(h.slot as usize)
            .filter(|s| s.generation == h.generation)
            .and_then(|s| s.socket.as_ref())
            .ok_or(UdpError::InvalidHandle)
    }

    fn socket_mut(&mut self, h: UdpHandle) -> Result<&mut Socket, UdpError> {
        self.slots
            .get_mut(h.slot as usize)
            .filter(|s| s.generation == h.generation)
            .and_then(|s| s.socket.as_mut())
            .ok_or(UdpError::InvalidHandle)
    }

    fn mark_ephemeral(&mut self, port: u16, used: bool) {
        if let Some(i) = ephemeral_index(port) {
            let (w, b) = (i / 64, i % 64);
            let was = self.ephemeral_used[w] & (1 << b) != 0;
            if used && !was {
                self.ephemeral_used[w] |= 1 << b;
                self.ephemeral_bound += 1;
            } else if !used && was {
                self.ephemeral_used[w] &= !(1 << b);
                self.ephemeral_bound -= 1;
            }
        }
    }

    /// RFC 6056 §3.3.1: random starting point, then the next free port
    /// (wrapping). Expected O(1) while the range is sparsely used; at worst
    /// one pass over 256 bitmap words.
    fn pick_ephemeral(&mut self) -> Option<u16> {
        if self.ephemeral_bound >= EPHEMERAL_COUNT {
            return None;
        }
        // EPHEMERAL_COUNT is a power of two, so masking is unbiased.
        let start = (splitmix64(&mut self.rng) as usize) & (EPHEMERAL_COUNT - 1);
        let (first_word, bit) = (start / 64, start % 64);
        for i in 0..=BITMAP_WORDS {
            let w = (first_word + i) % BITMAP_WORDS;
            let mask = if i == 0 {
                !0u64 << bit
            } else if i == BITMAP_WORDS {
                // Back at the first word: the bits below the start.
                (1u64 << bit) - 1
            } else {
                !0u64
            };
            let free = !self.ephemeral_used[w] & mask;
            if free != 0 {
                let idx = w * 64 + free.trailing_zeros() as usize;
                return u16::try_from(idx)
                    .ok()
                    .and_then(|i| EPHEMERAL_FIRST.checked_add(i));
            }
        }
        None
    }

    /// Binds `port`, or a free ephemeral port if `port` is 0.
    pub fn bind(&mut self, port: u16) -> Result<UdpHandle, UdpError> {
        let port = if port == 0 {
            self.pick_ephemeral().ok_or(UdpError::NoEphemeralPorts)?
        } else if self.ports.contains_key(&port) {
            return Err(UdpError::AddrInUse);
        } else {
            port
        };
        let socket = Socket {
            port,
            queue: VecDeque::new(),
            queued_bytes: 0,
            spare: Vec::new(),
            spare_bytes: 0,
        };
        let slot = match self.free_slots.pop() {
            Some(slot) => slot,
            None => {
                // At most one slot per port, so this fits in u32.
                self.slots.push(Slot {
                    generation: 0,
                    socket: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let Some(entry) = self.slots.get_mut(slot as usize) else {
            return Err(UdpError::InvalidHandle);
        };
        entry.socket = Some(socket);
        let handle = UdpHandle {
            slot,
            generation: entry.generation,
        };
        self.ports.insert(port, slot);
        self.mark_ephemeral(port, true);
        Ok(handle)
    }

    /// Closes the socket, discarding queued datagrams and freeing its port.
    pub fn close(&mut self, h: UdpHandle) -> Result<(), UdpError> {
        self.socket(h)?;
        let Some(entry) = self.slots.get_mut(h.slot as usize) else {
            return Err(UdpError::InvalidHandle);
        };
        let Some(socket) = entry.socket.take() else {
            return Err(UdpError::InvalidHandle);
        };
        entry.generation = entry.generation.wrapping_add(1);
        self.free_slots.push(h.slot);
        self.ports.remove(&socket.port);
        self.mark_ephemeral(socket.port, false);
        Ok(())
    }

    /// The port the socket is bound to.
    pub fn local_port(&self, h: UdpHandle) -> Result<u16, UdpError> {
        self.socket(h).map(|s| s.port)
    }

    /// The socket bound to `port`, if any.
    pub fn handle_for_port(&self, port: u16) -> Option<UdpHandle> {
        let slot = *self.ports.get(&port)?;
        self.slots.get(slot as usize).map(|s| UdpHandle {
            slot,
            generation: s.generation,
        })
    }

    /// Number of open sockets.
    pub fn len(&self) -> usize {
        self.ports.len()
    }

    /// Whether no socket is open.
    pub fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }

    /// Checks that `h` may send; returns the source port for the header the
    /// stack builds.
    pub fn check_send(&self, h: UdpHandle) -> Result<u16, UdpError> {
        self.local_port(h)
    }

    /// As [`check_send`](Self::check_send), also rejecting payloads that do not
    /// fit in one IPv4 UDP datagram ([`MAX_PAYLOAD`]).
    pub fn check_send_len(&self, h: UdpHandle, payload_len: usize) -> Result<u16, UdpError> {
        let port = self.local_port(h)?;
        if payload_len > MAX_PAYLOAD {
            return Err(UdpError::PayloadTooLarge);
        }
        Ok(port)
    }

    /// Demultiplexes an incoming datagram by destination port (RFC 768) and
    /// queues a copy of `payload` on the bound socket.
    pub fn deliver(&mut self, src: SocketAddrV4, dst_port: u16, payload: &[u8]) -> DeliverOutcome {
        let (limit_datagrams, limit_bytes) = (self.limit_datagrams, self.limit_bytes);
        let Some(&slot) = self.ports.get(&dst_port) else {
            self.stats.no_socket += 1;
            return DeliverOutcome::NoSocket;
        };
        let Some(entry) = self.slots.get_mut(slot as usize) else {
            self.stats.no_socket += 1;
            return DeliverOutcome::NoSocket;
        };
        let generation = entry.generation;
        let Some(socket) = entry.socket.as_mut() else {
            self.stats.no_socket += 1;
            return DeliverOutcome::NoSocket;
        };
        let fits = socket.queue.len() < limit_datagrams
            && socket
                .queued_bytes
                .checked_add(payload.len())
                .is_some_and(|b| b <= limit_bytes);
        if !fits {
            self.stats.queue_full += 1;
            return DeliverOutcome::QueueFull;
        }
        let mut data = match socket.spare.pop() {
            Some(buf) => {
                socket.spare_bytes -= buf.capacity();
                buf
            }
            None => Vec::new(),
        };
        data.clear();
        data.extend_from_slice(payload);
        socket.queued_bytes += payload.len();
        socket.queue.push_back(Datagram { src, data });
        self.stats.delivered += 1;
        DeliverOutcome::Delivered(UdpHandle { slot, generation })
    }

    /// Copies the next datagram into `buf` and returns the number of bytes
    /// copied and the sender.
    ///
    /// As with POSIX `recvfrom` without `MSG_TRUNC`, a datagram longer than
    /// `buf` is truncated and the rest discarded; use
    /// [`peek_len`](Self::peek_len) to size the buffer first.
    /// `Err(WouldBlock)` if nothing is queued.
    pub fn recv_from(
        &mut self,
        h: UdpHandle,
        buf: &mut [u8],
    ) -> Result<(usize, SocketAddrV4), UdpError> {
        let (limit_datagrams, limit_bytes) = (self.limit_datagrams, self.limit_bytes);
        let socket = self.socket_mut(h)?;
        let Datagram { src, mut data } = socket.queue.pop_front().ok_or(UdpError::WouldBlock)?;
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        socket.queued_bytes -= data.len();
        // Keep the buffer for the next delivery, bounded so that idle sockets
        // do not hoard memory beyond their queue limits.
        let cap = data.capacity();
        if socket.spare.len() < limit_datagrams
            && socket
                .spare_bytes
                .checked_add(cap)
                .is_some_and(|b| b <= limit_bytes)
        {
            data.clear();
            socket.spare_bytes += cap;
            socket.spare.push(data);
        }
        Ok((n, src))
    }

    /// Length of the next queued datagram. `Err(WouldBlock)` if none.
    pub fn peek_len(&self, h: UdpHandle) -> Result<usize, UdpError> {
        self.socket(h)?
            .queue
            .front()
            .map(|d| d.data.len())
            .ok_or(UdpError::WouldBlock)
    }

    /// Number of datagrams queued on the socket.
    pub fn queued(&self, h: UdpHandle) -> Result<usize, UdpError> {
        self.socket(h).map(|s| s.queue.len())
    }

    /// Payload bytes queued on the socket.
    pub fn queued_bytes(&self, h: UdpHandle) -> Result<usize, UdpError> {
        self.socket(h).map(|s| s.queued_bytes)
    }

    /// Lifetime counters.
    pub fn stats(&self) -> UdpStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    fn peer(port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), port)
    }

    fn table() -> UdpSockets {
        UdpSockets::new(4, 1000, 1)
    }

    #[test]
    fn bind_specific_and_conflict() {
        let mut t = table();
        let h = t.bind(53).unwrap();
        assert_eq!(t.local_port(h), Ok(53));
        assert_eq!(t.check_send(h), Ok(53));
        assert_eq!(t.bind(53), Err(UdpError::AddrInUse));
        assert_eq!(t.handle_for_port(53), Some(h));
        assert_eq!(t.len(), 1);
        t.close(h).unwrap();
        assert!(t.is_empty());
        assert_eq!(t.handle_for_port(53), None);
        let h2 = t.bind(53).unwrap();
        assert_ne!(h, h2);
    }

    #[test]
    fn stale_handles_are_rejected() {
        let mut t = table();
        let h = t.bind(1000).unwrap();
        t.close(h).unwrap();
        assert_eq!(t.close(h), Err(UdpError::InvalidHandle));
        assert_eq!(t.local_port(h), Err(UdpError::InvalidHandle));
        // Slot reused by a new socket: the old handle still does not work.
        let h2 = t.bind(2000).unwrap();
        assert_eq!(t.local_port(h), Err(UdpError::InvalidHandle));
        assert_eq!(t.queued(h), Err(UdpError::InvalidHandle));
        assert_eq!(t.recv_from(h, &mut [0; 4]), Err(UdpError::InvalidHandle));
        assert_eq!(t.local_port(h2), Ok(2000));
        // A handle from another table's far slot.
        let bogus = UdpHandle {
            slot: 999,
            generation: 0,
        };
        assert_eq!(t.check_send(bogus), Err(UdpError::InvalidHandle));
    }

    #[test]
    fn ephemeral_ports_in_range_distinct_and_seeded() {
        let ports = |seed| {
            let mut t = UdpSockets::new(4, 1000, seed);
            (0..100)
                .map(|_| {
                    let h = t.bind(0).unwrap();
                    t.local_port(h).unwrap()
                })
                .collect::<Vec<_>>()
        };
        let a = ports(7);
        assert!(a.iter().all(|&p| p >= EPHEMERAL_FIRST));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), a.len());
        assert_eq!(a, ports(7));
        assert_ne!(a, ports(8));
    }

    #[test]
    fn ephemeral_avoids_explicitly_bound_ports() {
        let mut t = table();
        // Bind everything but one port explicitly.
        for p in EPHEMERAL_FIRST..=EPHEMERAL_LAST {
            if p != 60000 {
                t.bind(p).unwrap();
            }
        }
        let h = t.bind(0).unwrap();
        assert_eq!(t.local_port(h), Ok(60000));
        assert_eq!(t.bind(0), Err(UdpError::NoEphemeralPorts));
        // Non-ephemeral ports are still available.
        assert!(t.bind(8080).is_ok());
    }

    #[test]
    fn ephemeral_exhaustion_and_reuse() {
        let mut t = table();
        let mut handles = Vec::new();
        for _ in 0..EPHEMERAL_COUNT {
            handles.push(t.bind(0).unwrap());
        }
        assert_eq!(t.bind(0), Err(UdpError::NoEphemeralPorts));
        let victim = handles[1234];
        let port = t.local_port(victim).unwrap();
        t.close(victim).unwrap();
        let h = t.bind(0).unwrap();
        assert_eq!(t.local_port(h), Ok(port));
        // Explicit bind of a taken ephemeral port conflicts.
        assert_eq!(t.bind(port), Err(UdpError::AddrInUse));
    }

    #[test]
    fn deliver_and_receive() {
        let mut t = table();
        let h = t.bind(7).unwrap();
        assert_eq!(t.deliver(peer(1), 8, b"x"), DeliverOutcome::NoSocket);
        assert_eq!(
            t.deliver(peer(1), 7, b"hello"),
            DeliverOutcome::Delivered(h)
        );
        assert_eq!(t.deliver(peer(2), 7, b""), DeliverOutcome::Delivered(h));
        assert_eq!(t.queued(h), Ok(2));
        assert_eq!(t.queued_bytes(h), Ok(5));
        assert_eq!(t.peek_len(h), Ok(5));
        let mut buf = [0u8; 16];
        assert_eq!(t.recv_from(h, &mut buf), Ok((5, peer(1))));
        assert_eq!(&buf[..5], b"hello");
        assert_eq!(t.recv_from(h, &mut buf), Ok((0, peer(2))));
        assert_eq!(t.recv_from(h, &mut buf), Err(UdpError::WouldBlock));
        assert_eq!(t.peek_len(h), Err(UdpError::WouldBlock));
        assert_eq!(
            t.stats(),
            UdpStats {
                delivered: 2,
                no_socket: 1,
                queue_full: 0
            }
        );
    }

    #[test]
    fn truncation_discards_rest() {
        let mut t = table();
        let h = t.bind(7).unwrap();
        t.deliver(peer(1), 7, b"abcdef");
        t.deliver(peer(1), 7, b"gh");
        let mut buf = [0u8; 3];
        assert_eq!(t.recv_from(h, &mut buf), Ok((3, peer(1))));
        assert_eq!(&buf, b"abc");
        assert_eq!(t.recv_from(h, &mut buf), Ok((2, peer(1))));
        assert_eq!(&buf[..2], b"gh");
        assert_eq!(t.queued_bytes(h), Ok(0));
    }

    #[test]
    fn queue_bounds() {
        let mut t = UdpSockets::new(3, 10, 0);
        let h = t.bind(9).unwrap();
        // Byte bound.
        assert_eq!(t.deliver(peer(1), 9, &[0; 11]), DeliverOutcome::QueueFull);
        assert_eq!(t.deliver(peer(1), 9, &[0; 6]), DeliverOutcome::Delivered(h));
        assert_eq!(t.deliver(peer(1), 9, &[0; 5]), DeliverOutcome::QueueFull);
        assert_eq!(t.deliver(peer(1), 9, &[0; 4]), DeliverOutcome::Delivered(h));
        // Count bound.
        assert_eq!(t.deliver(peer(1), 9, &[]), DeliverOutcome::Delivered(h));
        assert_eq!(t.deliver(peer(1), 9, &[]), DeliverOutcome::QueueFull);
        assert_eq!(t.stats().queue_full, 3);
        let mut buf = [0u8; 16];
        t.recv_from(h, &mut buf).unwrap();
        assert_eq!(t.deliver(peer(1), 9, &[1; 6]), DeliverOutcome::Delivered(h));
    }

    #[test]
    fn buffers_are_recycled() {
        let mut t = UdpSockets::new(8, 64 * 1024, 0);
        let h = t.bind(9).unwrap();
        let mut buf = [0u8; 2000];
        t.deliver(peer(1), 9, &[1; 1500]);
        let first_ptr = t.slots[0].socket.as_ref().unwrap().queue[0].data.as_ptr();
        t.recv_from(h, &mut buf).unwrap();
        for round in 0..100u8 {
            t.deliver(peer(1), 9, &[round; 1400]);
            let sock = t.slots[0].socket.as_ref().unwrap();
            assert_eq!(sock.queue[0].data.as_ptr(), first_ptr);
            assert_eq!(t.recv_from(h, &mut buf), Ok((1400, peer(1))));
            assert!(buf[..1400].iter().all(|&b| b == round));
        }
    }

    #[test]
    fn spare_buffers_are_bounded() {
        let mut t = UdpSockets::new(8, 100, 0);
        let h = t.bind(9).unwrap();
        for _ in 0..8 {
            t.deliver(peer(1), 9, &[0; 12]);
        }
        let mut buf = [0u8; 16];
        while t.recv_from(h, &mut buf).is_ok() {}
        let sock = t.slots[0].socket.as_ref().unwrap();
        assert!(sock.spare_bytes <= 100);
        assert_eq!(
            sock.spare_bytes,
            sock.spare.iter().map(Vec::capacity).sum::<usize>()
        );
    }

    #[test]
    fn close_discards_queue_and_frees_port() {
        let mut t = table();
        let h = t.bind(0).unwrap();
        let port = t.local_port(h).unwrap();
        t.deliver(peer(1), port, b"data");
        t.close(h).unwrap();
        assert_eq!(t.deliver(peer(1), port, b"data"), DeliverOutcome::NoSocket);
        let h2 = t.bind(port).unwrap();
        assert_eq!(t.queued(h2), Ok(0));
    }

    #[test]
    fn send_checks() {
        let mut t = table();
        let h = t.bind(4000).unwrap();
        assert_eq!(t.check_send_len(h, MAX_PAYLOAD), Ok(4000));
        assert_eq!(
            t.check_send_len(h, MAX_PAYLOAD + 1),
            Err(UdpError::PayloadTooLarge)
        );
        t.close(h).unwrap();
        assert_eq!(t.check_send_len(h, 1), Err(UdpError::InvalidHandle));
    }

    #[test]
    fn errors_display() {
        let e: Box<dyn std::error::Error> = Box::new(UdpError::AddrInUse);
        assert_eq!(e.to_string(), "UDP port already in use");
        assert_eq!(UdpError::WouldBlock.to_string(), "no datagram queued");
    }
}
