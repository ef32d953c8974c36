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
        label: "ferrotcp-cubic-sack-rack",
        about: "TcpConfig::default() but the buffers: CUBIC with HyStart++, SACK, RACK-TLP, \
                PRR, timestamps",
        kind: Kind::Ferrotcp(|_| {}),
    },
    Variant {
        label: "ferrotcp-newreno-nosack",
        about: "TcpConfig { congestion: NewReno, sack: false, .. }: RFC 5681/6582 NewReno, \
                duplicate ACKs only",
        kind: Kind::Ferrotcp(|c| {
            c.congestion = ferrotcp::transport::tcp::congestion::Algorithm::NewReno;
            c.sack = false;
        }),
    },
    Variant {
        label: "smoltcp-cubic",
        about: "smoltcp 0.14, tcp::CongestionControl::Cubic (feature socket-tcp-cubic)",
        kind: Kind::Smoltcp(CongestionControl::Cubic),
    },
];
