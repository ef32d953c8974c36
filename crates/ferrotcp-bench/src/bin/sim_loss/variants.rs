//! What is compared: a table, one line per variant. A ferrotcp variant is an edit of the
//! benchmark's `TcpConfig` (buffers, delayed ACK already set), so a new switch in the core is
//! one more line here.

use ferrotcp::TcpConfig;
use smoltcp::socket::tcp::CongestionControl;

/// Which stack runs a variant, and how it is set up.
#[derive(Clone, Copy)]
pub enum Kind {
    /// ferrotcp on both hosts, with this edit applied to both hosts' `TcpConfig`.
    Ferrotcp(fn(&mut TcpConfig)),
    /// smoltcp 0.14 on both hosts, with this congestion control on both sockets.
    Smoltcp(CongestionControl),
}

pub struct Variant {
    /// Name in tables, `figure` lines and the plot legend.
    pub label: &'static str,
    /// What it is, for the header.
    pub about: &'static str,
    pub kind: Kind,
}

pub const VARIANTS: &[Variant] = &[
    Variant {
        label: "ferrotcp-default",
        about: "TcpConfig::default() but the buffers (NewReno; SACK offered and SACK blocks sent \
                by the receiver, but ferrotcp's sender does not act on SACK blocks yet)",
        kind: Kind::Ferrotcp(|_| {}),
    },
    Variant {
        label: "ferrotcp-newreno-nosack",
        about: "the same with TcpConfig { sack: false, .. } (no SACK option at all)",
        kind: Kind::Ferrotcp(|c| c.sack = false),
    },
    Variant {
        label: "smoltcp-cubic",
        about: "smoltcp 0.14, tcp::CongestionControl::Cubic (feature socket-tcp-cubic)",
        kind: Kind::Smoltcp(CongestionControl::Cubic),
    },
];
