//! smoltcp behind the [`Harness`] trait: two `Interface`s with their `SocketSet`s and a tiny
//! in-memory Ethernet `Device` each; the driver moves frames between the devices' queues.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, Checksum, ChecksumCapabilities, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp::{self, CongestionControl, RecvError, State};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr};

use crate::harness::{BenchResult, Harness, Recv, Side, StackSettings};
use crate::link::{
    CLIENT_IP, CLIENT_MAC, ETH_HEADER, IP_MTU, POOL_LIMIT, PREFIX_LEN, SERVER_IP, SERVER_MAC,
};

type Pool = Rc<RefCell<Vec<Vec<u8>>>>;

/// One host's network card: frames to receive, frames sent, and spare buffers shared with the
/// other end (as ferrotcp's buffers go back to the sender's pool).
pub struct MemDevice {
    rx: VecDeque<Vec<u8>>,
    tx: VecDeque<Vec<u8>>,
    pool: Pool,
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
        caps.max_transmission_unit = IP_MTU + ETH_HEADER;
        // Default: compute on transmit and verify on receive, for IPv4, TCP, UDP, ICMP.
        caps.checksum = ChecksumCapabilities::default();
        caps
    }
}

struct Host {
    iface: Interface,
    dev: MemDevice,
    sockets: SocketSet<'static>,
}

impl Host {
    fn new(mac: [u8; 6], ip: core::net::Ipv4Addr, seed: u64, pool: &Pool) -> Host {
        let mut dev = MemDevice {
            rx: VecDeque::new(),
            tx: VecDeque::new(),
            pool: Rc::clone(pool),
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

    fn poll(&mut self, now: Instant) -> usize {
        self.iface.poll(now, &mut self.dev, &mut self.sockets);
        self.dev.tx.len()
    }
}

pub struct SmolPair {
    client: Host,
    server: Host,
    settings: StackSettings,
    /// The server's one socket: smoltcp has no accept queue; a listening socket becomes the
    /// connection, and is put back to listening once CLOSED.
    listen_port: u16,
    server_socket: Option<SocketHandle>,
    handed_out: bool,
    /// Client sockets let go of, still in FIN-WAIT/TIME-WAIT; removed once CLOSED (oldest first).
    lingering: VecDeque<(SocketHandle, u16)>,
    ports_in_use: Vec<bool>,
    frames: u64,
}

fn t(now: u64) -> Instant {
    Instant::from_micros(now as i64)
}

fn new_socket(s: &StackSettings) -> tcp::Socket<'static> {
    let rx = tcp::SocketBuffer::new(vec![0; s.buffer]);
    let tx = tcp::SocketBuffer::new(vec![0; s.buffer]);
    let mut sock = tcp::Socket::new(rx, tx);
    // Same behaviour as ferrotcp's defaults: Reno congestion control, Nagle on, delayed ACKs.
    sock.set_congestion_control(CongestionControl::Reno);
    sock.set_nagle_enabled(true);
    sock.set_ack_delay(Some(Duration::from_micros(s.delayed_ack_us)));
    sock
}

/// smoltcp's TIME-WAIT is a fixed 10 s; ferrotcp is configured to match.
pub const SMOLTCP_TIME_WAIT_US: u64 = 10_000_000;

impl SmolPair {
    fn host(&self, side: Side) -> &Host {
        match side {
            Side::Client => &self.client,
            Side::Server => &self.server,
        }
    }

    fn host_mut(&mut self, side: Side) -> &mut Host {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    fn sock(&self, side: Side, h: SocketHandle) -> &tcp::Socket<'static> {
        self.host(side).sockets.get::<tcp::Socket>(h)
    }

    fn sock_mut(&mut self, side: Side, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.host_mut(side).sockets.get_mut::<tcp::Socket>(h)
    }

    /// Frees client sockets whose TIME-WAIT is over.
    fn sweep(&mut self) {
        while let Some(&(h, port)) = self.lingering.front() {
            if self.client.sockets.get::<tcp::Socket>(h).state() != State::Closed {
                break;
            }
            self.client.sockets.remove(h);
            self.ports_in_use[usize::from(port)] = false;
            self.lingering.pop_front();
        }
    }
}

impl Harness for SmolPair {
    type Conn = SocketHandle;

    fn new(settings: &StackSettings) -> BenchResult<Self> {
        if settings.time_wait_us != SMOLTCP_TIME_WAIT_US {
            return Err(format!(
                "smoltcp's TIME-WAIT is fixed at {SMOLTCP_TIME_WAIT_US} µs"
            ));
        }
        let pool: Pool = Rc::new(RefCell::new(Vec::new()));
        let client = Host::new(CLIENT_MAC, CLIENT_IP, 0xC1, &pool);
        let server = Host::new(SERVER_MAC, SERVER_IP, 0x5E, &pool);
        let caps = client.dev.capabilities().checksum;
        if !matches!(caps.ipv4, Checksum::Both) || !matches!(caps.tcp, Checksum::Both) {
            return Err("smoltcp checksums must be computed and verified".into());
        }
        Ok(SmolPair {
            client,
            server,
            settings: *settings,
            listen_port: 0,
            server_socket: None,
            handed_out: false,
            lingering: VecDeque::new(),
            ports_in_use: vec![false; 65536],
            frames: 0,
        })
    }

    fn listen(&mut self, port: u16) -> BenchResult<()> {
        let mut sock = new_socket(&self.settings);
        sock.listen(port)
            .map_err(|e| format!("smoltcp listen: {e:?}"))?;
        self.server_socket = Some(self.server.sockets.add(sock));
        self.listen_port = port;
        Ok(())
    }

    fn connect(
        &mut self,
        _now: u64,
        local_port: u16,
        remote_port: u16,
    ) -> BenchResult<Option<SocketHandle>> {
        self.sweep();
        if self.ports_in_use[usize::from(local_port)] {
            return Ok(None);
        }
        let mut sock = new_socket(&self.settings);
        sock.connect(
            self.client.iface.context(),
            (IpAddress::Ipv4(SERVER_IP), remote_port),
            local_port,
        )
        .map_err(|e| format!("smoltcp connect: {e:?}"))?;
        self.ports_in_use[usize::from(local_port)] = true;
        Ok(Some(self.client.sockets.add(sock)))
    }

    fn accept(&mut self, _now: u64) -> BenchResult<Option<SocketHandle>> {
        let h = self.server_socket.ok_or("smoltcp accept: not listening")?;
        if self.handed_out {
            return Ok(None);
        }
        match self.sock(Side::Server, h).state() {
            State::Closed | State::Listen | State::SynReceived | State::SynSent => Ok(None),
            _ => {
                self.handed_out = true;
                Ok(Some(h))
            }
        }
    }

    fn is_established(&self, side: Side, c: SocketHandle) -> bool {
        self.sock(side, c).state() == State::Established
    }

    fn send(&mut self, _now: u64, side: Side, c: SocketHandle, data: &[u8]) -> BenchResult<usize> {
        self.sock_mut(side, c)
            .send_slice(data)
            .map_err(|e| format!("smoltcp send: {e:?}"))
    }

    fn recv(
        &mut self,
        _now: u64,
        side: Side,
        c: SocketHandle,
        buf: &mut [u8],
    ) -> BenchResult<Recv> {
        match self.sock_mut(side, c).recv_slice(buf) {
            Ok(0) => Ok(Recv::WouldBlock),
            Ok(n) => Ok(Recv::Data(n)),
            Err(RecvError::Finished) => Ok(Recv::Eof),
            Err(e) => Err(format!("smoltcp recv: {e:?}")),
        }
    }

    fn shutdown(&mut self, _now: u64, side: Side, c: SocketHandle) -> BenchResult<()> {
        // smoltcp's close() only closes the transmit half.
        self.sock_mut(side, c).close();
        Ok(())
    }

    fn release(&mut self, _now: u64, side: Side, c: SocketHandle) -> BenchResult<()> {
        self.sock_mut(side, c).close();
        match side {
            Side::Client => {
                let port = self
                    .sock(side, c)
                    .local_endpoint()
                    .map(|e| e.port)
                    .ok_or("smoltcp release: socket has no local endpoint")?;
                self.lingering.push_back((c, port));
            }
            Side::Server => self.handed_out = false,
        }
        Ok(())
    }

    fn is_time_wait(&self, side: Side, c: SocketHandle) -> bool {
        self.sock(side, c).state() == State::TimeWait
    }

    fn server_idle(&mut self) -> bool {
        let Some(h) = self.server_socket else {
            return true;
        };
        if self.handed_out {
            return false;
        }
        let port = self.listen_port;
        let sock = self.sock_mut(Side::Server, h);
        match sock.state() {
            State::Listen => true,
            State::Closed => sock.listen(port).is_ok(),
            _ => false,
        }
    }

    fn client_connections(&self) -> usize {
        self.client.sockets.iter().count()
    }

    fn step(&mut self, now: u64) -> usize {
        let now = t(now);
        let a = self.client.poll(now);
        self.server.dev.rx.append(&mut self.client.dev.tx);
        let b = self.server.poll(now);
        self.client.dev.rx.append(&mut self.server.dev.tx);
        self.frames += (a + b) as u64;
        a + b
    }

    fn next_deadline(&mut self, now: u64) -> Option<u64> {
        let now = t(now);
        let a = self.client.iface.poll_at(now, &self.client.sockets);
        let b = self.server.iface.poll_at(now, &self.server.sockets);
        let d = match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        d.map(|i| i.total_micros().max(0) as u64)
    }

    fn link_idle(&self) -> bool {
        self.client.dev.rx.is_empty()
            && self.client.dev.tx.is_empty()
            && self.server.dev.rx.is_empty()
            && self.server.dev.tx.is_empty()
    }

    fn frames_carried(&self) -> u64 {
        self.frames
    }
}
