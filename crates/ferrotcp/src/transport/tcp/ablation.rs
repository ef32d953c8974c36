//! Teaching-only ablations: each removes one mechanism of RFC 9293 so that `ferrotcp explain`
//! can show what breaks without it. Only their names exist in every build (so a tool can say
//! which one it was asked for); the set a connection carries, the fields that hold it and
//! every branch that consults it are compiled only with the `teaching` cargo feature, and act
//! only through `TcpConfig::ablate`. A build without the feature cannot break TCP this way.

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

/// The set of ablations in force (empty unless `TcpConfig::ablate` added one).
#[cfg(feature = "teaching")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ablations(u8);

#[cfg(feature = "teaching")]
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
