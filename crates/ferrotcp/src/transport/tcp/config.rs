//! Per-stack TCP settings. Defaults follow the RFCs, and Linux where the RFCs leave a choice.

use crate::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpConfig {
    /// MSS we announce; 0 means "derive from the MTU" (MTU - 40).
    pub mss: u16,
    /// Send buffer per connection at the start, bytes.
    pub send_buffer: usize,
    /// How far the send buffer grows with the congestion window (twice cwnd, as Linux's
    /// tcp_wmem[2]); equal to `send_buffer` keeps it fixed.
    pub max_send_buffer: usize,
    /// Receive buffer per connection at the start, bytes.
    pub recv_buffer: usize,
    /// How far the receive buffer (the most we ever advertise) grows with the rate the
    /// application reads at (Linux's tcp_rmem[2]); the window scale we offer is chosen for it.
    /// Equal to `recv_buffer` keeps it fixed.
    pub max_recv_buffer: usize,
    /// RFC 6298 §2.1: RTO before any RTT sample.
    pub initial_rto: Duration,
    /// RFC 6298 §2.4 recommends 1 s; Linux uses 200 ms, which is what real peers expect today.
    pub min_rto: Duration,
    /// RFC 6298 §2.5 allows an upper bound of at least 60 s; Linux uses 120 s.
    pub max_rto: Duration,
    /// Maximum segment lifetime; TIME-WAIT lasts 2×MSL. Linux's TIME-WAIT is 60 s, so MSL = 30 s.
    pub msl: Duration,
    /// RFC 9293 §3.8.3 R1 (MUST-20): retransmissions after which the application is told.
    pub r1: u32,
    /// RFC 9293 §3.8.3 R2: retransmissions after which the connection is closed (Linux tcp_retries2 = 15).
    pub r2: u32,
    /// R2 for SYN segments. MUST-23: at least 3 minutes; 7 retries with 1 s initial RTO give 255 s
    /// (Linux's 6 would give only 127 s, so the RFC wins here).
    pub syn_retries: u32,
    /// MUST-17: Nagle on by default; the application may turn it off per connection.
    pub nagle: bool,
    /// MUST-40: delayed ACKs under 0.5 s. Linux's minimum delayed-ACK timeout is 40 ms.
    pub delayed_ack: Duration,
    /// Keep-alive (MUST-24..29): off by default.
    pub keepalive: Option<KeepAlive>,
    /// Announce and honour window scaling (RFC 7323 §2).
    pub window_scaling: bool,
    /// Offer SACK (RFC 2018) and report out-of-order data in SACK blocks as a receiver, so a
    /// peer that uses them (Linux does) repairs losses without waiting for timeouts.
    pub sack: bool,
    /// Offer timestamps (RFC 7323 §3): RTT measurement on every ACK, PAWS, spurious
    /// retransmission detection. On by default, as in Linux.
    pub timestamps: bool,
    /// With SACK, detect losses with RACK-TLP (RFC 8985: time-based marking and tail loss
    /// probes); otherwise RFC 6675's three-duplicate rule. On by default, as in Linux.
    pub rack: bool,
    /// Explicit Congestion Notification (RFC 3168): whether our SYN asks for it and whether we
    /// agree when the peer's does. Linux's default (`tcp_ecn = 2`) accepts but does not ask.
    pub ecn: Ecn,
    /// Largest number of out-of-order ranges held for reassembly.
    pub max_ooo_ranges: usize,
    /// The congestion-control algorithm of every new connection.
    pub congestion: super::congestion::Algorithm,
    /// Teaching-only ablations: empty unless [`TcpConfig::ablate`] was called.
    #[cfg(feature = "teaching")]
    pub ablations: super::ablation::Ablations,
}

/// When a connection uses ECN (RFC 3168 §6.1.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Ecn {
    /// Never: no ECN-setup SYN, and a peer's is answered without ECE.
    Off,
    /// When the peer's SYN asks for it (Linux's default).
    #[default]
    Accept,
    /// Ask in our SYNs too.
    Request,
}

/// RFC 9293 §3.8.4 / RFC 1122 §4.2.3.6 keep-alive timing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeepAlive {
    /// Idle time before the first probe; MUST-28: default no less than two hours.
    pub idle: Duration,
    pub interval: Duration,
    pub count: u32,
}

impl Default for KeepAlive {
    fn default() -> Self {
        KeepAlive {
            idle: Duration::from_secs(7200),
            interval: Duration::from_secs(75),
            count: 9,
        }
    }
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            mss: 0,
            send_buffer: 256 * 1024,
            max_send_buffer: 4 << 20,
            recv_buffer: 256 * 1024,
            max_recv_buffer: 6 << 20,
            initial_rto: Duration::from_secs(1),
            min_rto: Duration::from_millis(200),
            max_rto: Duration::from_secs(120),
            msl: Duration::from_secs(30),
            r1: 3,
            r2: 15,
            syn_retries: 7,
            nagle: true,
            delayed_ack: Duration::from_millis(40),
            keepalive: None,
            window_scaling: true,
            sack: true,
            timestamps: true,
            rack: true,
            ecn: Ecn::Accept,
            max_ooo_ranges: 32,
            congestion: super::congestion::Algorithm::NewReno,
            #[cfg(feature = "teaching")]
            ablations: super::ablation::Ablations::default(),
        }
    }
}

impl TcpConfig {
    /// Breaks TCP on purpose, for teaching (`ferrotcp explain --ablate ...`). Never use this
    /// for real traffic.
    #[cfg(feature = "teaching")]
    pub fn ablate(mut self, ablation: super::ablation::Ablation) -> Self {
        self.ablations.insert(ablation);
        self
    }

    #[cfg(feature = "teaching")]
    pub fn ablations(&self) -> super::ablation::Ablations {
        self.ablations
    }

    /// Both buffers fixed at `bytes` (no autotuning).
    pub fn with_fixed_buffers(mut self, bytes: usize) -> Self {
        self.send_buffer = bytes;
        self.max_send_buffer = bytes;
        self.recv_buffer = bytes;
        self.max_recv_buffer = bytes;
        self
    }

    pub fn time_wait(&self) -> Duration {
        self.msl * 2
    }
}
