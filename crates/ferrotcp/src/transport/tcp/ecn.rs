//! Explicit Congestion Notification for TCP (RFC 3168 §6.1): agreed in the handshake; then new
//! data leaves with ECT(0), a router's CE mark comes back as ECE on our peer's ACKs until we
//! answer with CWR, and each such window costs one congestion response, as a loss would.

use super::config::Ecn;
use crate::seq::SeqNum;
use crate::wire::tcp::TcpFlags;

/// The IPv4 ECN field (RFC 3168 §5): ECT(0) and CE.
pub const ECT0: u8 = 0b10;
pub const CE: u8 = 0b11;

/// The sending half's ECN state.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SendEcn {
    /// Both sides agreed to ECN.
    pub on: bool,
    /// The next new data segment carries CWR (we reduced the window for an ECE).
    pub cwr_pending: bool,
    /// No further response to ECE until SND.UNA passes this (once per window, §6.1.2).
    pub recover: Option<SeqNum>,
}

impl SendEcn {
    /// §6.1.2: whether this ECE calls for a (new) window reduction.
    pub fn should_respond(&self, una: SeqNum) -> bool {
        self.on && self.recover.is_none_or(|r| una.gt(r))
    }
}

/// The receiving half's ECN state.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RecvEcn {
    pub on: bool,
    /// §6.1.3: a CE mark arrived; every ACK carries ECE until a segment with CWR does.
    pub echo: bool,
}

impl RecvEcn {
    /// One acceptable segment arrived with these flags, CE-marked or not.
    pub fn on_segment(&mut self, flags: TcpFlags, ce: bool, has_data: bool) -> bool {
        if !self.on {
            return false;
        }
        if flags.cwr() {
            self.echo = false;
        }
        if ce && has_data && !self.echo {
            self.echo = true;
            // A new mark: tell the sender at once (Linux quick-ACKs it too).
            return true;
        }
        false
    }
}

/// §6.1.1: the flags of an ECN-setup SYN (ECE and CWR) and SYN,ACK (ECE alone).
pub(crate) fn setup_syn(flags: TcpFlags) -> bool {
    flags.ece() && flags.cwr()
}

pub(crate) fn setup_syn_ack(flags: TcpFlags) -> bool {
    flags.ece() && !flags.cwr()
}

/// Whether our side agrees to ECN given the peer's SYN (passive) or SYN,ACK (active, after
/// our request).
pub(crate) fn agreed(
    config: Ecn,
    requested: bool,
    peer_flags: TcpFlags,
    peer_is_syn_ack: bool,
) -> bool {
    match (config, peer_is_syn_ack) {
        (Ecn::Off, _) => false,
        (_, true) => requested && setup_syn_ack(peer_flags),
        (Ecn::Accept | Ecn::Request, false) => setup_syn(peer_flags),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_section_6_1_1() {
        let syn = TcpFlags::SYN | TcpFlags::ECE | TcpFlags::CWR;
        let syn_ack = TcpFlags::SYN | TcpFlags::ACK | TcpFlags::ECE;
        assert!(agreed(Ecn::Accept, false, syn, false));
        assert!(!agreed(Ecn::Off, false, syn, false));
        assert!(!agreed(
            Ecn::Accept,
            false,
            TcpFlags::SYN | TcpFlags::ECE,
            false
        ));
        assert!(agreed(Ecn::Request, true, syn_ack, true));
        // A SYN,ACK with both flags is not an ECN-setup SYN,ACK (a reflector).
        assert!(!agreed(Ecn::Request, true, syn, true));
        assert!(
            !agreed(Ecn::Request, false, syn_ack, true),
            "we did not ask"
        );
    }

    #[test]
    fn the_receiver_echoes_until_cwr() {
        let mut r = RecvEcn {
            on: true,
            echo: false,
        };
        assert!(
            r.on_segment(TcpFlags::ACK, true, true),
            "a new mark: ACK at once"
        );
        assert!(r.echo);
        assert!(!r.on_segment(TcpFlags::ACK, false, true));
        assert!(r.echo, "still echoing");
        r.on_segment(TcpFlags::ACK | TcpFlags::CWR, false, true);
        assert!(!r.echo);
    }
}
