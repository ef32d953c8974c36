//! The urgent mechanism (RFC 9293 §3.8.5, MUST-30..33, MUST-62): urgent data travels inline;
//! the pointer tells the receiver where it ends, and the application is told when it advances.
//! (RFC 6093 recommends new applications not use it, but a conforming TCP must carry it.)

use super::error::TcpError;
use super::sender::Sender;
use super::tcb::{Notify, Tcb};
use crate::seq::SeqNum;
use crate::wire::tcp::TcpRepr;

impl Tcb {
    /// Sixth step of §3.10.7.4: "If the URG bit is set, RCV.UP <- max(RCV.UP,SEG.UP), and signal
    /// the user that the remote side has urgent data if the urgent pointer (RCV.UP) is in
    /// advance of the data consumed." MUST-31: the pointer is the octet after the urgent data.
    pub(super) fn receive_urgent(&mut self, seg: &TcpRepr) {
        if !seg.flags.urg() || !self.state.accepts_data() || seg.urgent == 0 {
            return;
        }
        let fin = self.state.peer_finished();
        let Some(rcv) = self.state.receiver_mut() else {
            return;
        };
        let up = seg.seq + u32::from(seg.urgent);
        if rcv.up.is_none_or(|cur| up.gt(cur)) {
            rcv.up = Some(up);
            // MUST-32: tell the application whenever the pointer advances.
            if up.gt(rcv.read_seq(fin)) {
                self.shared.notify(Notify::URGENT);
            }
        }
    }

    /// MUST-33: how much urgent data remains to be read (`None` when there is none).
    pub fn urgent_remaining(&self) -> Option<usize> {
        let rcv = self.state.receiver()?;
        let up = rcv.up?;
        let read = rcv.read_seq(self.state.peer_finished());
        up.gt(read).then(|| (up - read) as usize)
    }

    /// SEND with the URGENT flag (§3.10.2): queues `data` and marks its end as the urgent pointer.
    pub fn send_urgent(&mut self, data: &[u8]) -> Result<usize, TcpError> {
        let n = self.send(data)?;
        if let Some(snd) = self.state.sender_mut() {
            snd.up = Some(snd.buf_seq + snd.buf.len());
        }
        Ok(n)
    }
}

impl Sender {
    /// MUST-62 / §3.8.5: segments sent before the urgent pointer carry URG and the offset to it
    /// (in the states that send it, checked by the caller).
    pub(super) fn urgent_for(&self, seq: SeqNum) -> Option<u16> {
        let up = self.up?;
        if !up.gt(seq) {
            return None;
        }
        // MUST-31: urgent data of any length. A pointer beyond what 16 bits can say is sent as
        // 0xFFFF, pointing as far ahead as possible (Linux does the same; RFC 6093 §4).
        Some(u16::try_from(up - seq).unwrap_or(u16::MAX))
    }

    /// Forget the send urgent pointer once everything up to it is acknowledged.
    pub(super) fn urgent_acked(&mut self) {
        if let Some(up) = self.up
            && self.una.ge(up)
        {
            self.up = None;
        }
    }
}
