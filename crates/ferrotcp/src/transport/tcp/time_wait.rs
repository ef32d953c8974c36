//! TIME-WAIT in small. A connection the application has let go of, waiting out 2·MSL with
//! nothing owed (its last ACK sent, no buffered bytes), needs only what §3.10.7.4 asks of
//! TIME-WAIT: where both sequence spaces ended, the window it last offered, TS.Recent for PAWS,
//! and when the wait ends. It is kept as a [`Frozen`] entry of 72 bytes instead of the
//! full connection (768 bytes and its table entries), as Linux keeps an `inet_timewait_sock`
//! instead of the socket.
//!
//! There is still one implementation of TIME-WAIT's rules: a segment for a frozen 4-tuple, or
//! the end of its wait, thaws it back into a full connection in TIME-WAIT that behaves as the
//! original would (`tests` check it segment by segment), and it is frozen again once it has
//! answered.

use core::net::SocketAddrV4;
use std::collections::HashMap;

use super::TcpConfig;
use super::deadlines::Deadlines;
use super::ecn::RecvEcn;
use super::receiver::{Receiver, RecvParams};
use super::sender::SentAll;
use super::state::State;
use super::table::{FourTuple, SeededState};
use super::tcb::{Tcb, TcbInit};
use super::timestamps::Timestamps;
use crate::seq::SeqNum;
use crate::slab::{Key, Slab};
use crate::time::Instant;
use crate::trace::TimerKind;

/// A connection in TIME-WAIT, reduced to what TIME-WAIT reads.
#[derive(Clone, Debug)]
pub(crate) struct Frozen {
    local: SocketAddrV4,
    remote: SocketAddrV4,
    /// RCV.NXT (the peer's FIN counted) and the right edge of the window we offered.
    nxt: SeqNum,
    adv: SeqNum,
    /// The receive buffer's limit and the MSS, which the window we advertise depends on.
    buffer: u32,
    mss: u32,
    wscale: u8,
    sack: bool,
    ecn: RecvEcn,
    ts: Option<Timestamps>,
    sent: SentAll,
}

impl Tcb {
    /// This connection reduced to a [`Frozen`] entry, if it is in TIME-WAIT with nothing left
    /// that only a full connection can hold: the application has let go, no ACK or event is
    /// owed, no bytes are buffered and no timer but TIME-WAIT's runs. With it, when the wait
    /// ends.
    pub(crate) fn freeze(&self) -> Option<(Frozen, Instant)> {
        let State::TimeWait { rcv, sent } = &self.state else {
            return None;
        };
        let shared = &self.shared;
        let timers = &shared.timers;
        let expires = timers.get(TimerKind::TimeWait)?;
        let quiet = !shared.owned
            && shared.notify.is_empty()
            && shared.transitions.is_empty()
            && timers.only(TimerKind::TimeWait);
        #[cfg(feature = "teaching")]
        let quiet = quiet && !shared.teaching.await_confirm && shared.teaching.final_ack.is_none();
        let idle = !rcv.ack_now
            && rcv.extra_acks == 0
            && rcv.dsack.is_none()
            && rcv.pending_fin.is_none()
            && rcv.buf.is_empty()
            && rcv.buf.allocated() == 0
            && rcv.assembler.is_empty()
            && rcv.assembler.allocated() == 0;
        if !(quiet && idle) {
            return None;
        }
        let frozen = Frozen {
            local: shared.local,
            remote: shared.remote,
            nxt: rcv.nxt,
            adv: rcv.adv,
            buffer: u32::try_from(rcv.buf.capacity()).ok()?,
            mss: rcv.mss,
            wscale: rcv.wscale,
            sack: rcv.sack,
            ecn: rcv.ecn,
            ts: rcv.ts,
            sent: *sent,
        };
        Some((frozen, expires))
    }
}

impl Frozen {
    pub(crate) fn tuple(&self) -> FourTuple {
        (self.local, self.remote)
    }

    /// The full connection again, in TIME-WAIT, unowned, its wait ending at `expires`. What
    /// TIME-WAIT never reads starts afresh (statistics, the initial receive sequence number,
    /// the reading side's bookkeeping); the 2·MSL of a restart comes from `config`, as every
    /// connection's does.
    pub(crate) fn thaw(&self, config: &TcpConfig, now: Instant, expires: Instant) -> Tcb {
        let params = RecvParams {
            buffer: self.buffer as usize,
            max_buffer: self.buffer as usize,
            max_ooo_ranges: config.max_ooo_ranges,
            delayed_ack: config.delayed_ack,
        };
        let irs = self.nxt - 1u32;
        let mut rcv = Receiver::new(&params, irs, 0, self.wscale, self.sack, self.mss);
        rcv.nxt = self.nxt;
        rcv.adv = self.adv;
        rcv.ecn = self.ecn;
        rcv.ts = self.ts;
        let init = TcbInit {
            config,
            local: self.local,
            remote: self.remote,
            iss: self.sent.end,
            our_mss: 0,
            ts_offset: 0,
            now,
        };
        let state = State::TimeWait {
            rcv,
            sent: self.sent,
        };
        let mut tcb = Tcb::with_state(&init, state);
        tcb.shared.owned = false;
        tcb.shared.timers.set(TimerKind::TimeWait, expires);
        tcb
    }
}

/// The frozen TIME-WAIT connections of a stack, by 4-tuple, with their deadlines.
#[derive(Debug)]
pub(crate) struct TimeWaitTable {
    entries: Slab<Frozen>,
    by_tuple: HashMap<FourTuple, Key, SeededState>,
    deadlines: Deadlines,
}

impl TimeWaitTable {
    pub fn new(hasher: SeededState) -> Self {
        TimeWaitTable {
            entries: Slab::default(),
            by_tuple: HashMap::with_hasher(hasher),
            deadlines: Deadlines::default(),
        }
    }

    pub fn insert(&mut self, frozen: Frozen, expires: Instant) {
        let tuple = frozen.tuple();
        let key = self.entries.insert(frozen);
        self.deadlines.set(key, Some(expires));
        if let Some(old) = self.by_tuple.insert(tuple, key) {
            // Cannot happen (a 4-tuple is frozen only from the connection table, which held it
            // alone); never leave an entry unreachable.
            self.deadlines.set(old, None);
            self.entries.remove(old);
        }
    }

    pub fn contains(&self, tuple: &FourTuple) -> bool {
        self.by_tuple.contains_key(tuple)
    }

    /// Takes out the entry for `tuple`, with when its wait ends.
    pub fn take(&mut self, tuple: &FourTuple) -> Option<(Frozen, Instant)> {
        let key = self.by_tuple.remove(tuple)?;
        let expires = self.deadlines.get(key)?;
        self.deadlines.set(key, None);
        let frozen = self.entries.remove(key)?;
        self.shrink_if_empty();
        Some((frozen, expires))
    }

    /// Takes out one entry whose wait has ended by `now`, with when it ended.
    pub fn take_due(&mut self, now: Instant) -> Option<(Frozen, Instant)> {
        let (expires, _) = self.deadlines.first()?;
        let key = self.deadlines.pop_due(now)?;
        let frozen = self.entries.remove(key)?;
        self.by_tuple.remove(&frozen.tuple());
        self.shrink_if_empty();
        Some((frozen, expires))
    }

    /// After a burst of TIME-WAITs has ended, their map and heap give their memory back (the
    /// slab does so by itself).
    fn shrink_if_empty(&mut self) {
        if self.entries.is_empty() && self.by_tuple.capacity() > 64 {
            self.by_tuple = HashMap::with_hasher(self.by_tuple.hasher().clone());
            self.deadlines = Deadlines::default();
        }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|(t, _)| t)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_stays_a_fraction_of_a_connection() {
        // Issue 8's budget is 256 bytes per TIME-WAIT, tables included; the entry is most of it.
        let entry = core::mem::size_of::<Frozen>();
        assert!(entry <= 80, "a frozen TIME-WAIT is {entry} bytes");
        assert!(entry * 8 < core::mem::size_of::<Tcb>());
    }
}
