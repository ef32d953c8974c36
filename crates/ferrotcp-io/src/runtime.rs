//! The runtime: one thread owns the stack and the device. It sleeps in poll(2) until the device
//! is readable, an application wakes it, or the next timer is due; then it feeds frames in,
//! runs timers, sends what the stack has to send, and wakes the applications whose sockets
//! changed. Applications call into the stack under a mutex and wake the thread through an
//! eventfd.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::Waker;
use std::thread::JoinHandle;
use std::time::{Duration as StdDuration, Instant as StdInstant, SystemTime, UNIX_EPOCH};

use ferrotcp::time::Instant;
use ferrotcp::wire::offload::finish_in_software;
use ferrotcp::wire::{FrameOffload, Transmit, TxOffload};
use ferrotcp::{Event, ListenerHandle, Stack, StackConfig, TcpHandle, UdpHandle};

use crate::device::{Device, DeviceError, DeviceKind};
use crate::impair::{ImpairConfig, Impairer};
use crate::live_trace::{self, Direction};
use crate::pcap::{LinkType, PcapWriter};

/// What to run the stack on, and how.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    pub device: String,
    pub kind: DeviceKind,
    pub stack: StackConfig,
    /// Record every frame, both ways, to this file.
    pub pcap: Option<std::path::PathBuf>,
    /// Impair the device path in user space (both directions).
    pub impair: Option<ImpairConfig>,
    /// Print every TCP state change as it happens.
    pub trace: bool,
}

#[derive(Debug)]
pub enum RuntimeError {
    Device(DeviceError),
    Io {
        context: &'static str,
        source: io::Error,
    },
}

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuntimeError::Device(e) => write!(f, "{e}"),
            RuntimeError::Io { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for RuntimeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RuntimeError::Device(e) => Some(e),
            RuntimeError::Io { source, .. } => Some(source),
        }
    }
}

impl From<DeviceError> for RuntimeError {
    fn from(e: DeviceError) -> Self {
        RuntimeError::Device(e)
    }
}

/// Who is waiting for what, for async wakeups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum WaitKey {
    Tcp(TcpHandle),
    Listener(ListenerHandle),
    Udp(UdpHandle),
}

/// Everything behind the mutex.
pub(crate) struct Inner {
    pub(crate) stack: Stack,
    origin: StdInstant,
    wakers: HashMap<WaitKey, Vec<Waker>>,
    shutdown: Shutdown,
    stopped: bool,
    /// Echo replies not yet collected by `ping` (bounded).
    echo_replies: std::collections::VecDeque<(std::net::Ipv4Addr, u16, u16)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shutdown {
    Running,
    /// Close connections gracefully, then stop (or at the deadline).
    Graceful(StdInstant),
    /// Reset what is left and stop now.
    Abort,
}

impl Inner {
    /// The stack's clock: microseconds since the runtime started (monotonic).
    pub(crate) fn now(&self) -> Instant {
        Instant::from_micros(self.origin.elapsed().as_micros() as u64)
    }

    /// False once the runtime thread has stopped: blocking calls fail instead of waiting.
    pub(crate) fn running(&self) -> bool {
        !self.stopped
    }

    pub(crate) fn register(&mut self, key: WaitKey, waker: &Waker) {
        let list = self.wakers.entry(key).or_default();
        if !list.iter().any(|w| w.will_wake(waker)) {
            list.push(waker.clone());
        }
    }

    fn wake(&mut self, key: WaitKey) {
        if let Some(list) = self.wakers.remove(&key) {
            for w in list {
                w.wake();
            }
        }
    }

    /// Files one stack event where the applications look for it and wakes who waits on it.
    fn deliver(&mut self, ev: Event) {
        let key = match ev {
            Event::EchoReply {
                from,
                ident,
                seq_no,
                ..
            } => {
                if self.echo_replies.len() >= 1024 {
                    self.echo_replies.pop_front();
                }
                self.echo_replies.push_back((from, ident, seq_no));
                return;
            }
            Event::Incoming(l) => WaitKey::Listener(l),
            Event::UdpReadable(u) => WaitKey::Udp(u),
            Event::Connected(h)
            | Event::Readable(h)
            | Event::Writable(h)
            | Event::PeerClosed(h)
            | Event::Urgent(h)
            | Event::Stalled(h)
            | Event::IcmpError(h, _)
            | Event::Closed(h, _) => WaitKey::Tcp(h),
        };
        self.wake(key);
    }

    fn wake_all(&mut self) {
        for (_, list) in self.wakers.drain() {
            for w in list {
                w.wake();
            }
        }
    }
}

pub(crate) struct Shared {
    pub(crate) inner: Mutex<Inner>,
    /// Notified whenever the stack produced events: blocking callers re-check their condition.
    pub(crate) changed: Condvar,
    wake_fd: OwnedFd,
}

impl Shared {
    /// Locks the stack (a poisoned lock means a panic elsewhere; the data is still consistent
    /// enough to shut down, so keep going).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks the runtime thread to run (after an application call changed the stack).
    pub(crate) fn kick(&self) {
        let one: u64 = 1;
        // SAFETY: writing 8 bytes from a valid u64 to an eventfd we own.
        unsafe {
            libc::write(self.wake_fd.as_raw_fd(), (&raw const one).cast(), 8);
        }
    }

    fn drain_kick(&self) {
        let mut v: u64 = 0;
        // SAFETY: reading 8 bytes into a valid u64 from a non-blocking eventfd we own.
        unsafe {
            libc::read(self.wake_fd.as_raw_fd(), (&raw mut v).cast(), 8);
        }
    }
}

/// A running stack. Cloning gives another handle to the same runtime.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) shared: Arc<Shared>,
    thread: Arc<Mutex<Option<JoinHandle<RuntimeReport>>>>,
    receive_offload: bool,
}

/// Figures the runtime thread reports when it stops.
#[derive(Clone, Copy, Debug, Default)]
pub struct RuntimeReport {
    pub frames_in: u64,
    pub frames_out: u64,
    pub device_send_dropped: u64,
    pub impaired_dropped: u64,
    /// Frames longer than the MTU allows: TCP segments the kernel coalesced for us (receive
    /// offload), each one read where there would have been several.
    pub coalesced_frames_in: u64,
    /// Frames refused by the device layer (a malformed virtio-net header).
    pub bad_frames_in: u64,
    /// TCP super-segments written for the kernel to cut (transmit segmentation offload),
    /// each one system call where there would have been several.
    pub super_segments_out: u64,
    /// Frames whose TCP checksum the kernel vouched for (virtio-net `NEEDS_CSUM` or
    /// `DATA_VALID`): the stack did not check it again.
    pub checksum_trusted_in: u64,
}

/// How long a graceful shutdown may take before the rest is reset.
const GRACE: StdDuration = StdDuration::from_secs(5);

impl Runtime {
    /// Opens the device and starts the runtime thread.
    pub fn start(mut config: RuntimeConfig) -> Result<Runtime, RuntimeError> {
        // Offloads hand over one frame for many segments; a user-space impairment models a
        // wire, one frame per segment, so it keeps them off.
        let device = if config.impair.is_none() {
            let dev = Device::open_offloaded(&config.device, config.kind)?;
            if !dev.receive_offload() {
                eprintln!(
                    "ferrotcp-io: {}: the kernel refused receive offloads (TUNSETOFFLOAD); \
                     reading one frame per segment",
                    dev.name()
                );
            }
            dev
        } else {
            Device::open(&config.device, config.kind)?
        };
        let receive_offload = device.receive_offload();
        let tx_offload = if device.transmit_offload() && config.impair.is_none() {
            TxOffload::ALL
        } else {
            TxOffload::NONE
        };
        config.stack.mtu = device.mtu()?;
        config.stack.medium = match config.kind {
            DeviceKind::Tap => ferrotcp::Medium::Ethernet,
            DeviceKind::Tun => ferrotcp::Medium::Ip,
        };
        let pcap = match &config.pcap {
            Some(path) => {
                let file = std::fs::File::create(path).map_err(|source| RuntimeError::Io {
                    context: "creating the pcap file",
                    source,
                })?;
                let link = match config.kind {
                    DeviceKind::Tap => LinkType::Ethernet,
                    DeviceKind::Tun => LinkType::RawIpv4,
                };
                let w = PcapWriter::new(io::BufWriter::new(file), link).map_err(|source| {
                    RuntimeError::Io {
                        context: "writing the pcap header",
                        source,
                    }
                })?;
                Some(w)
            }
            None => None,
        };
        // SAFETY: eventfd has no memory-safety preconditions; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(RuntimeError::Io {
                context: "creating the wake-up eventfd",
                source: io::Error::last_os_error(),
            });
        }
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        let wake_fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let trace = config.trace;
        config.stack.trace = trace;
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                stack: Stack::new(config.stack.clone()),
                origin: StdInstant::now(),
                wakers: HashMap::new(),
                shutdown: Shutdown::Running,
                stopped: false,
                echo_replies: std::collections::VecDeque::new(),
            }),
            changed: Condvar::new(),
            wake_fd,
        });
        let worker = Worker {
            shared: shared.clone(),
            device,
            pcap,
            rx_impair: config.impair.clone().map(|c| Impairer::new(c, 1)),
            tx_impair: config.impair.map(|c| Impairer::new(c, 2)),
            trace,
            medium: config.stack.medium,
            report: RuntimeReport::default(),
            buf: vec![0u8; crate::device::MAX_FRAME],
            max_plain_frame: frame_limit(&config.stack),
            sent: Vec::with_capacity(TX_BATCH),
            records: Vec::new(),
            tx_offload,
        };
        let thread = std::thread::Builder::new()
            .name("ferrotcp-runtime".into())
            .spawn(move || worker.run())
            .map_err(|source| RuntimeError::Io {
                context: "starting the runtime thread",
                source,
            })?;
        Ok(Runtime {
            shared,
            thread: Arc::new(Mutex::new(Some(thread))),
            receive_offload,
        })
    }

    /// Whether the kernel hands this runtime coalesced TCP segments (see
    /// [`Device::open_offloaded`]); off with an impairment, or where the kernel refused.
    pub fn receive_offload(&self) -> bool {
        self.receive_offload
    }

    /// Runs `f` on the stack (for statistics and diagnostics).
    pub fn with_stack<T>(&self, f: impl FnOnce(&mut Stack) -> T) -> T {
        let mut inner = self.shared.lock();
        let out = f(&mut inner.stack);
        drop(inner);
        self.shared.kick();
        out
    }

    /// Sends one ICMP echo request and waits up to `timeout` for its reply; returns the round-trip
    /// time, or `None` if no reply came.
    pub fn ping(
        &self,
        dst: std::net::Ipv4Addr,
        seq_no: u16,
        size: usize,
        timeout: StdDuration,
    ) -> io::Result<Option<StdDuration>> {
        let ident = (std::process::id() & 0xffff) as u16;
        let payload: Vec<u8> = (0..size).map(|i| i as u8).collect();
        let sent = StdInstant::now();
        {
            let mut inner = self.shared.lock();
            let now = inner.now();
            inner
                .stack
                .icmp_echo_request(now, dst, ident, seq_no, &payload);
        }
        self.shared.kick();
        let deadline = sent + timeout;
        let got =
            self.shared
                .block_on(Some(deadline), io::ErrorKind::TimedOut, |inner| match inner
                    .echo_replies
                    .iter()
                    .position(|&(from, i, s)| from == dst && i == ident && s == seq_no)
                {
                    Some(pos) => {
                        inner.echo_replies.remove(pos);
                        std::task::Poll::Ready(Ok(()))
                    }
                    None => std::task::Poll::Pending,
                });
        match got {
            Ok(()) => Ok(Some(sent.elapsed())),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Closes every connection gracefully (FIN), waits up to 5 s for them to finish, resets the
    /// rest, releases the device and stops the thread.
    pub fn shutdown(&self) -> RuntimeReport {
        self.stop(Shutdown::Graceful(StdInstant::now() + GRACE))
    }

    /// Resets every connection and stops at once.
    pub fn abort(&self) -> RuntimeReport {
        self.stop(Shutdown::Abort)
    }

    fn stop(&self, how: Shutdown) -> RuntimeReport {
        {
            let mut inner = self.shared.lock();
            if inner.shutdown == Shutdown::Running || how == Shutdown::Abort {
                inner.shutdown = how;
            }
        }
        self.shared.kick();
        let handle = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        match handle {
            Some(h) => h.join().unwrap_or_default(),
            None => {
                // Another caller is already stopping it: wait until the thread is done, so
                // that returning means stopped for every caller (bounded: grace + margin).
                let deadline = StdInstant::now() + GRACE + StdDuration::from_secs(5);
                let mut inner = self.shared.lock();
                while !inner.stopped && StdInstant::now() < deadline {
                    inner = self
                        .shared
                        .changed
                        .wait_timeout(inner, StdDuration::from_millis(50))
                        .map(|(g, _)| g)
                        .unwrap_or_else(|p| p.into_inner().0);
                }
                RuntimeReport::default()
            }
        }
    }
}

struct Worker {
    shared: Arc<Shared>,
    device: Device,
    pcap: Option<PcapWriter<io::BufWriter<std::fs::File>>>,
    rx_impair: Option<Impairer>,
    tx_impair: Option<Impairer>,
    trace: bool,
    medium: ferrotcp::Medium,
    report: RuntimeReport,
    buf: Vec<u8>,
    /// The longest frame the MTU allows; anything longer was coalesced by the kernel.
    max_plain_frame: usize,
    /// Frames taken from the stack and written (or being written) this round; they go back
    /// to the stack's pool under the next lock, so steady traffic allocates no frames.
    sent: Vec<Transmit>,
    /// What the device finishes for us: checksums and segmentation with a virtio-net
    /// header, unless an impairment needs finished frames (it drops them one by one) or the
    /// kernel refused an offloaded frame once.
    tx_offload: TxOffload,
    /// Trace records waiting to be printed once the lock is released.
    records: Vec<ferrotcp::trace::TraceRecord>,
}

/// Frames read per wake-up before timers and output get their turn.
const RX_BATCH: usize = 256;
/// Frames taken from the stack per lock before they are written.
const TX_BATCH: usize = 64;

impl Worker {
    fn run(mut self) -> RuntimeReport {
        let mut closing_started = false;
        loop {
            let timeout = self.poll_timeout();
            self.wait(timeout);
            self.shared.drain_kick();
            let shared = self.shared.clone();
            let mut inner = shared.lock();
            let now = inner.now();
            match inner.shutdown {
                Shutdown::Running => {}
                Shutdown::Graceful(deadline) => {
                    if !closing_started {
                        closing_started = true;
                        for h in inner.stack.tcp_handles() {
                            let _ = inner.stack.tcp_close(now, h);
                        }
                    }
                    // TIME-WAIT needs nothing from us (and outlives any reasonable wait).
                    if inner.stack.tcp_active_count() == 0 || StdInstant::now() >= deadline {
                        inner.shutdown = Shutdown::Abort;
                    }
                }
                Shutdown::Abort => {
                    for h in inner.stack.tcp_handles() {
                        let _ = inner.stack.tcp_abort(now, h);
                    }
                    drop(inner);
                    self.pump(now);
                    // Everything is on disk before anyone can see the runtime as stopped.
                    if let Some(p) = self.pcap.as_mut() {
                        let _ = p.flush();
                    }
                    let mut inner = shared.lock();
                    inner.stopped = true;
                    inner.wake_all();
                    drop(inner);
                    shared.changed.notify_all();
                    return self.report;
                }
            }
            drop(inner);
            let changed = self.pump(now);
            // Blocked callers re-check only when something may have changed for them.
            if changed {
                shared.changed.notify_all();
            }
        }
    }

    /// One round: frames in, timers, frames out, events to the applications. Returns whether
    /// the applications may have something new to look at.
    ///
    /// The stack's lock is never held across a system call, a pcap write or a log line: each
    /// frame is read unlocked and handed to the stack under a short lock; outgoing frames are
    /// collected under the lock (up to [`TX_BATCH`] at a time) and written unlocked. So an
    /// application thread waits for the stack's work, never for the device.
    fn pump(&mut self, now: Instant) -> bool {
        let wall = StdInstant::now();
        for _ in 0..RX_BATCH {
            let (n, trusted) = match self.device.recv_frame(&mut self.buf) {
                Ok(r) => (r.len, r.checksum_trusted),
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    self.report.bad_frames_in += 1;
                    continue;
                }
                Err(_) => break,
            };
            self.report.frames_in += 1;
            if n > self.max_plain_frame {
                self.report.coalesced_frames_in += 1;
            }
            let frame = &self.buf[..n];
            if self.trace
                && let Some(line) = live_trace::segment_line(now, self.medium, Direction::In, frame)
            {
                eprintln!("{line}");
            }
            if let Some(p) = self.pcap.as_mut() {
                let _ = p.write_packet(unix_now(), frame);
            }
            match self.rx_impair.as_mut() {
                Some(imp) => {
                    if !imp.push(wall, frame.to_vec()) {
                        self.report.impaired_dropped += 1;
                    }
                }
                None if trusted => {
                    self.report.checksum_trusted_in += 1;
                    self.shared
                        .lock()
                        .stack
                        .receive_checksum_verified(now, frame);
                }
                None => self.shared.lock().stack.receive(now, frame),
            }
        }
        let mut changed = false;
        let mut first = true;
        loop {
            let mut inner = self.shared.lock();
            // Frames written last time go back to the stack's pool.
            for t in self.sent.drain(..) {
                inner.stack.recycle(t.frame);
            }
            if first {
                first = false;
                if let Some(imp) = self.rx_impair.as_mut() {
                    while let Some(frame) = imp.pop_due(wall) {
                        inner.stack.receive(now, &frame);
                    }
                }
                if inner.stack.poll_timeout().is_some_and(|t| t <= now) {
                    inner.stack.handle_timeout(now);
                }
            }
            while self.sent.len() < TX_BATCH {
                match inner.stack.poll_transmit_offload(now, self.tx_offload) {
                    Some(t) => self.sent.push(t),
                    None => break,
                }
            }
            while let Some(ev) = inner.stack.poll_event() {
                changed = true;
                inner.deliver(ev);
            }
            while let Some(rec) = inner.stack.poll_trace() {
                if self.trace {
                    self.records.push(rec);
                }
            }
            drop(inner);
            for rec in self.records.drain(..) {
                if let Some(line) = live_trace::state_line(rec.time, &rec.event) {
                    eprintln!("{line}");
                }
            }
            if self.sent.is_empty() {
                break;
            }
            let batch = core::mem::take(&mut self.sent);
            for t in &batch {
                self.transmit(now, wall, t);
            }
            self.sent = batch;
        }
        if let Some(mut imp) = self.tx_impair.take() {
            while let Some(frame) = imp.pop_due(wall) {
                self.send(&frame);
            }
            self.tx_impair = Some(imp);
        }
        changed
    }

    /// One outgoing frame: traced, then impaired or written.
    fn transmit(&mut self, now: Instant, wall: StdInstant, t: &Transmit) {
        let frame = &t.frame[..];
        if self.trace
            && let Some(line) = live_trace::segment_line(now, self.medium, Direction::Out, frame)
        {
            eprintln!("{line}");
        }
        if let Some(imp) = self.tx_impair.as_mut() {
            // Impaired runs take finished frames only (`tx_offload` is NONE).
            if !imp.push(wall, frame.to_vec()) {
                self.report.impaired_dropped += 1;
            }
        } else {
            self.send_offloaded(frame, &t.offload);
        }
    }

    /// Writes a frame, leaving the kernel what `offload` says. The capture shows what goes
    /// on the wire: a super-segment as the pieces the kernel cuts it into.
    fn send_offloaded(&mut self, frame: &[u8], offload: &FrameOffload) {
        if offload.is_none() {
            self.send(frame);
            return;
        }
        let l2 = self.l2_len();
        if let Some(p) = self.pcap.as_mut() {
            let _ = finish_in_software(frame, l2, offload, |piece| {
                let _ = p.write_packet(unix_now(), piece);
            });
        }
        match self.device.send_offloaded(frame, offload) {
            Ok(_) => {
                self.report.frames_out += 1;
                if offload.segmentation.is_some() {
                    self.report.super_segments_out += 1;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
                // The kernel refuses the virtio-net header's offloads: say so once, finish
                // this frame and every later one here.
                eprintln!(
                    "ferrotcp-io: {}: the kernel refused an offloaded frame ({e});                      checksumming and segmenting in user space from now on",
                    self.device.name()
                );
                self.tx_offload = TxOffload::NONE;
                let mut pieces = Vec::new();
                let _ = finish_in_software(frame, self.l2_len(), offload, |p| {
                    pieces.push(p.to_vec());
                });
                for piece in pieces {
                    self.write(&piece);
                }
            }
            // The kernel's queue is full: drop it like a full NIC queue; TCP retransmits.
            Err(_) => self.report.device_send_dropped += 1,
        }
    }

    /// Writes a finished frame, captured first.
    fn send(&mut self, frame: &[u8]) {
        if let Some(p) = self.pcap.as_mut() {
            let _ = p.write_packet(unix_now(), frame);
        }
        self.write(frame);
    }

    fn write(&mut self, frame: &[u8]) {
        match self.device.send(frame) {
            Ok(_) => self.report.frames_out += 1,
            // The kernel's queue is full: drop it like a full NIC queue; TCP retransmits.
            Err(_) => self.report.device_send_dropped += 1,
        }
    }

    /// The link header's length in front of each IPv4 packet.
    fn l2_len(&self) -> usize {
        match self.medium {
            ferrotcp::Medium::Ethernet => ferrotcp::wire::EthernetRepr::HEADER_LEN,
            ferrotcp::Medium::Ip => 0,
        }
    }

    /// How long poll(2) may sleep: until the next stack timer or impaired frame.
    fn poll_timeout(&self) -> Option<StdDuration> {
        let mut inner = self.shared.lock();
        if inner.shutdown != Shutdown::Running {
            return Some(StdDuration::from_millis(10));
        }
        let now = inner.now();
        let mut next = inner.stack.poll_timeout().map(|t| t.saturating_since(now));
        let wall = StdInstant::now();
        for imp in [&self.rx_impair, &self.tx_impair].into_iter().flatten() {
            if let Some(t) = imp.next_due() {
                let d = t.saturating_duration_since(wall);
                next = Some(next.map_or(d, |n: StdDuration| n.min(d)));
            }
        }
        next
    }

    fn wait(&self, timeout: Option<StdDuration>) {
        let mut fds = [
            libc::pollfd {
                fd: self.device.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: self.shared.wake_fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // Round up to whole milliseconds so a timer is never polled too early in a busy loop.
        let ms = timeout.map_or(-1, |d| d.as_micros().div_ceil(1000).min(60_000) as i32);
        // SAFETY: `fds` is a valid array of two pollfd structs for the duration of the call.
        unsafe {
            libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms);
        }
    }
}

/// The longest frame (or packet, for TUN) the stack's MTU allows on the device.
fn frame_limit(stack: &StackConfig) -> usize {
    match stack.medium {
        ferrotcp::Medium::Ethernet => stack.mtu + 14,
        ferrotcp::Medium::Ip => stack.mtu,
    }
}

fn unix_now() -> StdDuration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}
