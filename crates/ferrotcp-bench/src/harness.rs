//! What a workload needs from a stack pair, so that both stacks run under the very same driver
//! loop (`workloads.rs`). Time is virtual, in microseconds, owned by the workload.

/// Which host an operation is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// Outcome of a receive call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recv {
    Data(usize),
    WouldBlock,
    Eof,
}

/// Congestion control, the same algorithm in both stacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Congestion {
    /// ferrotcp: CUBIC with HyStart++ (its default); smoltcp: its CUBIC.
    Cubic,
    /// ferrotcp: NewReno (RFC 5681/6582); smoltcp: its Reno.
    Reno,
}

/// Settings applied identically to both stacks.
#[derive(Clone, Copy, Debug)]
pub struct StackSettings {
    /// IP MTU of the link (Ethernet frames are 14 bytes longer); the MSS follows from it.
    pub mtu: usize,
    pub congestion: Congestion,
    /// Send and receive buffer per connection, bytes.
    pub buffer: usize,
    /// Delayed-ACK timeout, microseconds.
    pub delayed_ack_us: u64,
    /// TIME-WAIT duration, microseconds.
    pub time_wait_us: u64,
}

pub type BenchResult<T> = Result<T, String>;

/// A client stack and a server stack joined by an in-memory link.
pub trait Harness: Sized {
    type Conn: Copy + core::fmt::Debug;

    fn new(settings: &StackSettings) -> BenchResult<Self>;

    /// Passive open on the server.
    fn listen(&mut self, port: u16) -> BenchResult<()>;

    /// Active open from the client, from `local_port`; `Ok(None)` if that port is still in use.
    fn connect(
        &mut self,
        now: u64,
        local_port: u16,
        remote_port: u16,
    ) -> BenchResult<Option<Self::Conn>>;

    /// The server's next established connection, if any.
    fn accept(&mut self, now: u64) -> BenchResult<Option<Self::Conn>>;

    fn is_established(&self, side: Side, c: Self::Conn) -> bool;

    /// Queues what fits; 0 if the send buffer is full.
    fn send(&mut self, now: u64, side: Side, c: Self::Conn, data: &[u8]) -> BenchResult<usize>;

    fn recv(&mut self, now: u64, side: Side, c: Self::Conn, buf: &mut [u8]) -> BenchResult<Recv>;

    /// Half-close: FIN after the queued data; receiving goes on.
    fn shutdown(&mut self, now: u64, side: Side, c: Self::Conn) -> BenchResult<()>;

    /// Close and let go of the connection; it finishes on its own (FIN exchange, TIME-WAIT).
    fn release(&mut self, now: u64, side: Side, c: Self::Conn) -> BenchResult<()>;

    fn is_time_wait(&self, side: Side, c: Self::Conn) -> bool;

    /// No server-side connection is left (the last one reached CLOSED), ready for the next.
    fn server_idle(&mut self) -> bool;

    /// Client-side connections still held by the stack (TIME-WAIT ones included).
    fn client_connections(&self) -> usize;

    /// Runs due timers, delivers queued frames and collects new ones, client then server.
    /// Returns the number of frames put on the link.
    fn step(&mut self, now: u64) -> usize;

    /// Earliest timer of either stack (virtual microseconds).
    fn next_deadline(&mut self, now: u64) -> Option<u64>;

    fn link_idle(&self) -> bool;

    fn frames_carried(&self) -> u64;
}
