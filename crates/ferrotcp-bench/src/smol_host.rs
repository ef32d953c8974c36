//! A smoltcp host over in-memory frame queues: an `Interface`, its `SocketSet` and a tiny
//! Ethernet `Device` whose receive and transmit queues the driver fills and empties.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use smoltcp::iface::{Config, Interface, SocketSet};
use smoltcp::phy::{self, ChecksumCapabilities, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp::{self, CongestionControl};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr};

use crate::harness::{Congestion, StackSettings};
use crate::link::{ETH_HEADER, POOL_LIMIT, PREFIX_LEN};

/// Spare frame buffers, shared by the hosts of one link (as ferrotcp's buffers go back to the
/// sender's pool).
pub type Pool = Rc<RefCell<Vec<Vec<u8>>>>;

/// smoltcp's TIME-WAIT is a fixed 10 s; ferrotcp is configured to match.
pub const SMOLTCP_TIME_WAIT_US: u64 = 10_000_000;

/// One host's network card: frames to receive, frames sent, and spare buffers.
pub struct MemDevice {
    pub rx: VecDeque<Vec<u8>>,
    pub tx: VecDeque<Vec<u8>>,
    pool: Pool,
    /// IP MTU.
    mtu: usize,
}

pub struct RxToken<'a> {
    buf: Vec<u8>,
    pool: &'a Pool,
}

pub struct TxToken<'a> {
    queue: &'a mut VecDeque<Vec<u8>>,
    pool: &'a Pool,
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let r = f(&self.buf);
        let mut pool = self.pool.borrow_mut();
        if pool.len() < POOL_LIMIT {
            pool.push(self.buf);
        }
        r
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = self.pool.borrow_mut().pop().unwrap_or_default();
        buf.clear();
        buf.resize(len, 0);
        let r = f(&mut buf);
        self.queue.push_back(buf);
        r
    }
}

impl MemDevice {
    /// Takes a buffer from the pool for a received frame (avoids an allocation per frame).
    pub fn buffer(&self) -> Vec<u8> {
        self.pool.borrow_mut().pop().unwrap_or_default()
    }

    /// Gives a frame buffer back to the pool.
    pub fn recycle(&self, buf: Vec<u8>) {
        let mut pool = self.pool.borrow_mut();
        if pool.len() < POOL_LIMIT {
            pool.push(buf);
        }
    }
}

impl Device for MemDevice {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        let buf = self.rx.pop_front()?;
        Some((
            RxToken {
                buf,
                pool: &self.pool,
            },
            TxToken {
                queue: &mut self.tx,
                pool: &self.pool,
            },
        ))
    }

    fn transmit(&mut self, _now: Instant) -> Option<TxToken<'_>> {
        Some(TxToken {
            queue: &mut self.tx,
            pool: &self.pool,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        // smoltcp counts the Ethernet header in the MTU.
        caps.max_transmission_unit = self.mtu + ETH_HEADER;
        // Default: compute on transmit and verify on receive, for IPv4, TCP, UDP, ICMP.
        caps.checksum = ChecksumCapabilities::default();
        caps
    }
}

/// An interface with one IPv4 address, its sockets and its device.
pub struct Host {
    pub iface: Interface,
    pub dev: MemDevice,
    pub sockets: SocketSet<'static>,
}

impl Host {
    pub fn new(mac: [u8; 6], ip: core::net::Ipv4Addr, seed: u64, pool: &Pool, mtu: usize) -> Host {
        let mut dev = MemDevice {
            rx: VecDeque::new(),
            tx: VecDeque::new(),
            pool: Rc::clone(pool),
            mtu,
        };
        let mut config = Config::new(EthernetAddress(mac).into());
        config.random_seed = seed;
        let mut iface = Interface::new(config, &mut dev, Instant::from_micros(0));
        iface.update_ip_addrs(|addrs| {
            // A fresh interface has room for its first address.
            let _ = addrs.push(IpCidr::new(IpAddress::Ipv4(ip), PREFIX_LEN));
        });
        Host {
            iface,
            dev,
            sockets: SocketSet::new(Vec::new()),
        }
    }

    /// Receives every queued frame and transmits what the sockets have; returns the number of
    /// frames waiting in the transmit queue.
    pub fn poll(&mut self, now: Instant) -> usize {
        self.iface.poll(now, &mut self.dev, &mut self.sockets);
        self.dev.tx.len()
    }
}

/// smoltcp's algorithm for `c`.
pub fn congestion_control(c: Congestion) -> CongestionControl {
    match c {
        Congestion::Cubic => CongestionControl::Cubic,
        Congestion::Reno => CongestionControl::Reno,
    }
}

/// A TCP socket with the benchmarks' settings: `s.buffer` bytes of send and of receive buffer,
/// Nagle on and delayed ACKs of `s.delayed_ack_us` (as ferrotcp's defaults), and the given
/// congestion control.
pub fn new_socket(s: &StackSettings, cc: CongestionControl) -> tcp::Socket<'static> {
    let rx = tcp::SocketBuffer::new(vec![0; s.buffer]);
    let tx = tcp::SocketBuffer::new(vec![0; s.buffer]);
    let mut sock = tcp::Socket::new(rx, tx);
    sock.set_congestion_control(cc);
    sock.set_nagle_enabled(true);
    sock.set_ack_delay(Some(Duration::from_micros(s.delayed_ack_us)));
    sock
}

/// The application's calls on a socket, in the bench's terms.
pub mod app {
    use smoltcp::socket::tcp::{self, RecvError, State};

    use crate::harness::{BenchResult, Recv};

    /// Queues what fits; 0 if the send buffer is full.
    pub fn send(sock: &mut tcp::Socket<'_>, data: &[u8]) -> BenchResult<usize> {
        sock.send_slice(data)
            .map_err(|e| format!("smoltcp send: {e:?}"))
    }

    pub fn recv(sock: &mut tcp::Socket<'_>, buf: &mut [u8]) -> BenchResult<Recv> {
        match sock.recv_slice(buf) {
            Ok(0) => Ok(Recv::WouldBlock),
            Ok(n) => Ok(Recv::Data(n)),
            Err(RecvError::Finished) => Ok(Recv::Eof),
            Err(e) => Err(format!("smoltcp recv: {e:?}")),
        }
    }

    /// Whether a listening socket has become a connection the application may use (smoltcp
    /// has no accept queue: the listening socket itself is the connection).
    pub fn accepted(sock: &tcp::Socket<'_>) -> bool {
        !matches!(
            sock.state(),
            State::Closed | State::Listen | State::SynReceived | State::SynSent
        )
    }
}
