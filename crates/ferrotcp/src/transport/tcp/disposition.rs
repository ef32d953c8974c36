//! What the stack must do at once after a call into a connection: the one answer every entry
//! point of the TCB returns, so "send a reset" is a value, never a `bool` plus fields read
//! afterwards. Everything else (ACKs, data, retransmissions) goes out on `poll_segment`.

use crate::seq::SeqNum;
use crate::trace::DropReason;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Nothing beyond what the connection will send on its own.
    None,
    /// `<SEQ=seq><CTL=RST>`, or `<SEQ=seq><ACK=ack><CTL=RST,ACK>` when `ack` is given.
    Rst { seq: SeqNum, ack: Option<SeqNum> },
    /// `<SEQ=seq><ACK=ack><CTL=ACK>` from a connection that is already gone (the last ACK under
    /// the no-time-wait teaching ablation).
    #[cfg(feature = "teaching")]
    Ack {
        seq: SeqNum,
        ack: SeqNum,
        window: u16,
    },
    /// A SYN for this TIME-WAIT connection that may open a new incarnation (RFC 6191): if a
    /// listener takes it, this connection goes and the new one starts with this ISS;
    /// otherwise the connection answers with an ACK, as to any SYN.
    Reopen { iss: SeqNum },
    /// The segment was discarded (any ACK it calls for is queued on the connection); the stack
    /// counts it.
    Drop(DropReason),
}
