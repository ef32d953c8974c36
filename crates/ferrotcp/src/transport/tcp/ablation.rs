//! Teaching-only ablations: each removes one mechanism of RFC 9293 so that `ferrotcp explain`
//! can show what breaks without it. This module, the fields that hold them and every branch
//! that consults them are compiled only with the `teaching` cargo feature, and even then they
//! act only through [`TcpConfig::ablate`](super::TcpConfig); nothing turns them on by default.

/// One mechanism to remove.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ablation {
    /// The server counts a connection as established as soon as it has sent its SYN,ACK,
    /// without waiting for the third message.
    TwoWayHandshake,
    /// A fourth handshake message: the server acknowledges the client's ACK, and the client
    /// sends nothing until it has heard it.
    FourWayHandshake,
    /// The side that closes first skips TIME-WAIT and goes straight to CLOSED.
    NoTimeWait,
}

impl Ablation {
    pub const ALL: [Ablation; 3] = [
        Ablation::TwoWayHandshake,
        Ablation::FourWayHandshake,
        Ablation::NoTimeWait,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Ablation::TwoWayHandshake => "two-way-handshake",
            Ablation::FourWayHandshake => "four-way-handshake",
            Ablation::NoTimeWait => "no-time-wait",
        }
    }
}

/// The set of ablations in force (empty unless the `teaching` feature set one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ablations(u8);

impl Ablations {
    fn bit(a: Ablation) -> u8 {
        match a {
            Ablation::TwoWayHandshake => 1,
            Ablation::FourWayHandshake => 2,
            Ablation::NoTimeWait => 4,
        }
    }

    pub fn has(self, a: Ablation) -> bool {
        self.0 & Self::bit(a) != 0
    }

    pub(super) fn insert(&mut self, a: Ablation) {
        self.0 |= Self::bit(a);
    }
}
