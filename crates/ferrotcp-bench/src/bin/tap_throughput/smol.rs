//! smoltcp's side: `phy::TunTapInterface` on the TAP device, driven like smoltcp's
//! examples/benchmark.rs: `Interface::poll`, the application's reads or writes, then
//! `phy::wait(fd, poll_delay)` (sleeps until a frame arrives or a timer is due), all on one
//! thread, clock from `smoltcp::time::Instant::now()`.
//!
//! Settings made to match ferrotcp's: 256 KiB send and receive buffers (`Buffers::Fixed`), or
//! 4 MiB send and 6 MiB receive (`Buffers::Large`, the most ferrotcp's grow to; window scaling
//! follows from the receive buffer size), the congestion control asked for, Nagle on (smoltcp's default), delayed ACK 40 ms
//! (smoltcp's default is 10 ms). The device keeps smoltcp's default capabilities: checksums
//! computed and verified, `max_transmission_unit` = IP MTU + 14 (Ethernet header).

use std::os::unix::io::{AsRawFd, RawFd};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, Device, Medium, TunTapInterface};
use smoltcp::socket::tcp::{self, CongestionControl, State};
use smoltcp::time::{Duration as SmolDuration, Instant as SmolInstant};
use smoltcp::wire::{EthernetAddress, IpCidr};

use ferrotcp_bench::harness::Congestion;
use ferrotcp_bench::smol_host::congestion_control;

use crate::{
    Buffers, CHUNK, CONNECT_LIMIT, EXIT_LIMIT, LINUX_ADDR, Net, Outcome, PORT_IN, PORT_OUT,
};
use crate::{STACK_ADDR, TRANSFER_LIMIT};

/// Longest single `phy::wait`, so that the time limits are checked even when smoltcp has no
/// timer pending.
const MAX_WAIT: SmolDuration = SmolDuration::from_millis(50);

/// Both directions, Linux → smoltcp first. A panic inside smoltcp (its TAP device panics on
/// unexpected I/O errors) is turned into a failure.
pub fn run(net: &Net, bytes: usize, cc: Congestion, buffers: Buffers) -> [Outcome; 2] {
    let cc = congestion_control(cc);
    let figures = buffers.figures();
    let sizes = buffers.smoltcp_sizes();
    let r = catch_unwind(AssertUnwindSafe(|| -> Result<[Outcome; 2], String> {
        let mut host = Host::new(net)?;
        let t = Transfer { bytes, cc, sizes };
        let rx = linux_to_smoltcp(&mut host, net, t);
        net.print_counters("smoltcp", figures[0]);
        let tx = smoltcp_to_linux(&mut host, net, t);
        net.print_counters("smoltcp", figures[1]);
        Ok([rx, tx])
    }));
    let e = match r {
        Ok(Ok(outcomes)) => return outcomes,
        Ok(Err(e)) => e,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            format!("panicked: {msg}")
        }
    };
    [Err(e.clone()), Err(e)]
}

/// One transfer's settings: bytes to move, congestion control, (send, receive) buffer sizes.
#[derive(Clone, Copy)]
struct Transfer {
    bytes: usize,
    cc: CongestionControl,
    sizes: (usize, usize),
}

struct Host {
    iface: Interface,
    dev: TunTapInterface,
    fd: RawFd,
    sockets: SocketSet<'static>,
}

impl Host {
    fn new(net: &Net) -> Result<Host, String> {
        let mut dev = TunTapInterface::new(&net.dev, Medium::Ethernet)
            .map_err(|e| format!("TunTapInterface::new({}): {e}", net.dev))?;
        let mtu = dev.capabilities().max_transmission_unit;
        if mtu != 1514 {
            return Err(format!("max_transmission_unit {mtu}, expected 1514"));
        }
        net.attach()?;
        let mut config = Config::new(EthernetAddress([2, 0, 0, 0, 0, 0x98]).into());
        config.random_seed =
            u64::from(std::process::id()) ^ SmolInstant::now().total_micros().unsigned_abs();
        let mut iface = Interface::new(config, &mut dev, SmolInstant::now());
        iface.update_ip_addrs(|addrs| {
            addrs
                .push(IpCidr::new(STACK_ADDR.into(), 24))
                .expect("one address fits");
        });
        let fd = dev.as_raw_fd();
        Ok(Host {
            iface,
            dev,
            fd,
            sockets: SocketSet::new(vec![]),
        })
    }

    fn poll(&mut self) {
        self.iface
            .poll(SmolInstant::now(), &mut self.dev, &mut self.sockets);
    }

    /// Sleeps until a frame arrives or smoltcp's next timer (at most [`MAX_WAIT`]).
    fn wait(&mut self) -> Result<(), String> {
        let delay = self
            .iface
            .poll_delay(SmolInstant::now(), &self.sockets)
            .map_or(MAX_WAIT, |d| d.min(MAX_WAIT));
        phy::wait(self.fd, Some(delay)).map_err(|e| format!("phy::wait: {e}"))
    }

    fn sock(&mut self, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(h)
    }

    /// Keeps the stack running until Linux's `nc` has exited (at most [`EXIT_LIMIT`]).
    fn until_exited(&mut self, linux: &mut crate::Proc) {
        let end = Instant::now() + EXIT_LIMIT;
        while linux.exited().is_none() && Instant::now() < end {
            self.poll();
            if self.wait().is_err() {
                break;
            }
        }
    }
}

/// A socket with `(send, receive)` buffers of `sizes` bytes.
fn new_socket(cc: CongestionControl, sizes: (usize, usize)) -> tcp::Socket<'static> {
    let mut s = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; sizes.1]),
        tcp::SocketBuffer::new(vec![0; sizes.0]),
    );
    s.set_congestion_control(cc);
    s.set_nagle_enabled(true);
    s.set_ack_delay(Some(SmolDuration::from_millis(40)));
    s
}

/// The kernel sends, smoltcp reads (256 KiB `recv_slice`) and discards. Timed from the
/// established connection to end of stream.
fn linux_to_smoltcp(host: &mut Host, net: &Net, t: Transfer) -> Outcome {
    let Transfer { bytes, cc, sizes } = t;
    let h = host.sockets.add(new_socket(cc, sizes));
    let r = (|| {
        host.sock(h)
            .listen(PORT_IN)
            .map_err(|e| format!("listen: {e:?}"))?;
        let mut sender = net.linux_sender(bytes)?;
        let limit = Instant::now() + TRANSFER_LIMIT;
        let mut buf = vec![0u8; CHUNK];
        let mut got = 0usize;
        let mut start = None;
        loop {
            host.poll();
            let s = host.sock(h);
            if start.is_none() && !matches!(s.state(), State::Listen | State::SynReceived) {
                start = Some(Instant::now());
            }
            while s.can_recv() {
                match s.recv_slice(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) => return Err(format!("recv after {got} bytes: {e:?}")),
                }
            }
            if start.is_some() && !s.may_recv() {
                break; // end of stream (or reset: checked below)
            }
            if Instant::now() >= limit {
                return Err(format!(
                    "stalled: {got} of {bytes} bytes after {TRANSFER_LIMIT:?} (state {})",
                    s.state()
                ));
            }
            host.wait()?;
        }
        let elapsed = start.map(|t| t.elapsed()).unwrap_or_default();
        if got != bytes {
            return Err(format!(
                "received {got} of {bytes} bytes (state {})",
                host.sock(h).state()
            ));
        }
        host.sock(h).close();
        host.until_exited(&mut sender);
        Ok(elapsed)
    })();
    release(host, h);
    r
}

/// smoltcp sends (256 KiB `send_slice`), the kernel discards; done when Linux has read it all
/// and closed: smoltcp is then in TIME-WAIT, so its FIN and every byte were acknowledged.
/// Timed from the established connection to that point.
fn smoltcp_to_linux(host: &mut Host, net: &Net, t: Transfer) -> Outcome {
    let Transfer { bytes, cc, sizes } = t;
    let h = host.sockets.add(new_socket(cc, sizes));
    let r = (|| {
        let mut receiver = net.linux_receiver()?;
        connect(host, h)?;
        let limit = Instant::now() + TRANSFER_LIMIT;
        let chunk = vec![0u8; CHUNK];
        let start = Instant::now();
        let mut sent = 0usize;
        let mut closed = false;
        loop {
            host.poll();
            let s = host.sock(h);
            while sent < bytes && s.can_send() {
                let n = (bytes - sent).min(CHUNK);
                match s.send_slice(&chunk[..n]) {
                    Ok(0) => break,
                    Ok(k) => sent += k,
                    Err(e) => return Err(format!("send after {sent} bytes: {e:?}")),
                }
            }
            if sent == bytes && !closed {
                s.close();
                closed = true;
            }
            match s.state() {
                State::TimeWait => break,
                State::Closed => return Err(format!("connection reset after {sent} bytes queued")),
                _ => {}
            }
            if Instant::now() >= limit {
                return Err(format!(
                    "stalled: {sent} of {bytes} bytes queued, {} unacknowledged, after {TRANSFER_LIMIT:?} (state {})",
                    s.send_queue(),
                    s.state()
                ));
            }
            host.wait()?;
        }
        let elapsed = start.elapsed();
        host.until_exited(&mut receiver);
        Ok(elapsed)
    })();
    release(host, h);
    r
}

/// Resets the connection unless it is already over (TIME-WAIT, CLOSED), and drops the socket.
fn release(host: &mut Host, h: SocketHandle) {
    let s = host.sock(h);
    if !matches!(s.state(), State::TimeWait | State::Closed) {
        s.abort();
        host.poll();
    }
    host.sockets.remove(h);
}

/// Connects to Linux's listener, retrying (with a new local port) while it is not listening yet.
fn connect(host: &mut Host, h: SocketHandle) -> Result<(), String> {
    let limit = Instant::now() + CONNECT_LIMIT;
    let mut port = 49152u16;
    loop {
        let cx = host.iface.context();
        host.sockets
            .get_mut::<tcp::Socket>(h)
            .connect(cx, (LINUX_ADDR, PORT_OUT), port)
            .map_err(|e| format!("connect: {e:?}"))?;
        port += 1;
        loop {
            host.poll();
            match host.sock(h).state() {
                State::Established => return Ok(()),
                State::Closed => break, // refused: Linux's nc is not listening yet
                _ => {}
            }
            if Instant::now() >= limit {
                return Err(format!("connect: no connection after {CONNECT_LIMIT:?}"));
            }
            host.wait()?;
        }
        if Instant::now() >= limit {
            return Err(format!("connect: refused for {CONNECT_LIMIT:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
