//! ICMP errors about our own segments (RFC 9293 §3.9.2.2, MUST-54..56; RFC 1191 path MTU;
//! RFC 5927 validation).

use super::error::CloseReason;
use super::tcb::Tcb;
use crate::seq::SeqNum;
use crate::time::Instant;

/// An ICMP error, reduced to what TCP acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IcmpError {
    /// Destination unreachable with this code (0 net, 1 host, 2 protocol, 3 port, 5 source route...).
    Unreachable(u8),
    /// Code 4, "fragmentation needed and DF set", with the next-hop MTU (0 if the router did not say).
    FragmentationNeeded {
        mtu: u16,
    },
    TimeExceeded,
    ParameterProblem,
}

/// What the application should hear of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IcmpOutcome {
    /// Not about a segment in flight (RFC 5927 §4.1): ignored.
    Ignored,
    /// Acted on silently (smaller MSS).
    Handled,
    /// A soft error: the connection goes on; the application is told (SHLD-25).
    Soft,
    /// The connection was aborted.
    Aborted,
}

/// RFC 1191 would go to 68; like Linux (min_pmtu 552) we do not go below 512 bytes of payload.
const MIN_PMTU_MSS: u32 = 512;

impl Tcb {
    pub fn on_icmp_error(
        &mut self,
        now: Instant,
        error: IcmpError,
        quoted_seq: SeqNum,
    ) -> IcmpOutcome {
        let (una, max) = match (self.state.sender(), self.state.sent_all()) {
            (Some(snd), _) => (snd.una, snd.max),
            (None, Some(sent)) => (sent.end, sent.end),
            (None, None) => return IcmpOutcome::Ignored,
        };
        // RFC 5927 §4.1: only believe errors about data we have sent and not yet had acknowledged.
        if !quoted_seq.in_window(una, max) && quoted_seq != una {
            return IcmpOutcome::Ignored;
        }
        let handshaking = !self.state.is_synchronized() && !self.is_closed();
        match error {
            IcmpError::FragmentationNeeded { mtu } => {
                // MUST-54 / RFC 1191: shrink the segment size and resend what did not fit.
                let new_mss = u32::from(mtu).saturating_sub(40).max(MIN_PMTU_MSS);
                let mss = self
                    .state
                    .sender()
                    .map(|s| s.mss)
                    .or(self.state.receiver().map(|r| r.mss))
                    .unwrap_or(0);
                if mtu == 0 || new_mss >= mss {
                    return IcmpOutcome::Ignored;
                }
                if let Some(snd) = self.state.sender_mut() {
                    snd.mss = new_mss;
                    snd.nxt = snd.una;
                }
                if let Some(rcv) = self.state.receiver_mut() {
                    rcv.mss = new_mss;
                }
                IcmpOutcome::Handled
            }
            // SHLD-26 says abort on protocol or port unreachable; like Linux we do so only while
            // the handshake is in progress (later, a forged ICMP would kill a working connection).
            IcmpError::Unreachable(2 | 3) if handshaking => {
                self.abort_with(now, CloseReason::Unreachable);
                IcmpOutcome::Aborted
            }
            // MUST-56: never abort on net/host/source-route unreachable, time exceeded or
            // parameter problem; these are soft errors the application may want to know about.
            IcmpError::Unreachable(_) | IcmpError::TimeExceeded | IcmpError::ParameterProblem => {
                IcmpOutcome::Soft
            }
        }
    }
}
