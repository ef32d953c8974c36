//! The retransmission queue as a SACK scoreboard (RFC 6675 §3, Linux's skb flags): one entry
//! per segment sent and not yet cumulatively acknowledged, with when it last left, whether the
//! peer SACKed it, whether loss detection declared it lost, and whether a retransmission of it
//! is in flight. The bytes themselves stay in the send buffer; entries only describe them.
//!
//! `pipe` (RFC 6675 §4, Linux's tcp_packets_in_flight in bytes) is kept as counters, updated
//! with every flag change, so no ACK walks the whole queue to compute it.

use std::collections::VecDeque;

use crate::seq::SeqNum;
use crate::time::Instant;

const SACKED: u8 = 1;
/// Declared lost by loss detection (RACK, DupThresh, NewReno, RTO).
const LOST: u8 = 2;
/// A retransmission of this segment is in flight.
const RETRANS: u8 = 4;
/// Retransmitted at least once (Karn: no RTT sample from it; RACK checks its timing).
const EVER_RETRANS: u8 = 8;
/// The segment carries our FIN (its last sequence number).
const FIN: u8 = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Segment {
    pub start: SeqNum,
    /// One past the last sequence number (the FIN counts).
    pub end: SeqNum,
    /// When it (or its latest retransmission) was sent.
    pub sent: Instant,
    flags: u8,
}

impl Segment {
    pub fn len(&self) -> u32 {
        self.end - self.start
    }

    /// Payload bytes (the FIN takes a sequence number but no byte).
    pub fn data_len(&self) -> u32 {
        self.len() - u32::from(self.fin())
    }

    pub fn sacked(&self) -> bool {
        self.flags & SACKED != 0
    }

    pub fn lost(&self) -> bool {
        self.flags & LOST != 0
    }

    pub fn retrans_in_flight(&self) -> bool {
        self.flags & RETRANS != 0
    }

    pub fn ever_retransmitted(&self) -> bool {
        self.flags & EVER_RETRANS != 0
    }

    pub fn fin(&self) -> bool {
        self.flags & FIN != 0
    }
}

#[derive(Debug, Default)]
pub(super) struct Scoreboard {
    segs: VecDeque<Segment>,
    /// Bytes described by `segs` (SND.MAX - SND.UNA once anything was sent).
    out: u32,
    sacked: u32,
    /// Lost and not SACKed.
    lost: u32,
    /// Retransmissions in flight (not SACKed).
    retrans: u32,
}

impl Scoreboard {
    pub fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }

    pub fn len(&self) -> usize {
        self.segs.len()
    }

    /// Bytes of memory held for the record (its capacity follows the largest flight so far).
    pub fn allocated(&self) -> usize {
        self.segs.capacity() * core::mem::size_of::<Segment>()
    }

    /// Gives the memory back while nothing is in flight (an idle connection).
    pub fn release(&mut self) {
        if self.segs.is_empty() {
            self.segs = VecDeque::new();
        }
    }

    #[cfg(test)]
    pub fn segments(&self) -> &VecDeque<Segment> {
        &self.segs
    }

    pub fn get(&self, i: usize) -> Option<&Segment> {
        self.segs.get(i)
    }

    /// RFC 6675 `pipe`: bytes believed to be in the network.
    pub fn pipe(&self) -> u32 {
        self.out - self.sacked - self.lost + self.retrans
    }

    pub fn out_bytes(&self) -> u32 {
        self.out
    }

    pub fn sacked_bytes(&self) -> u32 {
        self.sacked
    }

    pub fn lost_bytes(&self) -> u32 {
        self.lost
    }

    /// A new segment `[start, end)` left at `now`.
    pub fn push(&mut self, start: SeqNum, end: SeqNum, fin: bool, now: Instant) {
        let seg = Segment {
            start,
            end,
            sent: now,
            flags: if fin { FIN } else { 0 },
        };
        self.out += seg.len();
        self.segs.push_back(seg);
    }

    fn set(&mut self, i: usize, flag: u8) {
        let Some(seg) = self.segs.get_mut(i) else {
            return;
        };
        if seg.flags & flag != 0 {
            return;
        }
        let len = seg.len();
        let sacked = seg.sacked();
        seg.flags |= flag;
        match flag {
            SACKED => {
                self.sacked += len;
                if seg.flags & LOST != 0 {
                    self.lost -= len;
                }
                if seg.flags & RETRANS != 0 {
                    self.retrans -= len;
                }
            }
            LOST if !sacked => self.lost += len,
            RETRANS if !sacked => self.retrans += len,
            _ => {}
        }
    }

    fn clear_flag(&mut self, i: usize, flag: u8) {
        let Some(seg) = self.segs.get_mut(i) else {
            return;
        };
        if seg.flags & flag == 0 {
            return;
        }
        let len = seg.len();
        let sacked = seg.sacked();
        seg.flags &= !flag;
        match flag {
            SACKED => {
                self.sacked -= len;
                if seg.flags & LOST != 0 {
                    self.lost += len;
                }
                if seg.flags & RETRANS != 0 {
                    self.retrans += len;
                }
            }
            LOST if !sacked => self.lost -= len,
            RETRANS if !sacked => self.retrans -= len,
            _ => {}
        }
    }

    /// Splits entry `i` so that it ends at `at` (start < at < end); the new entry after it
    /// keeps the same flags and send time, and the FIN.
    pub fn split(&mut self, i: usize, at: SeqNum) {
        let Some(seg) = self.segs.get(i).copied() else {
            return;
        };
        if !(seg.start.lt(at) && at.lt(seg.end)) {
            return;
        }
        let head = Segment {
            end: at,
            flags: seg.flags & !FIN,
            ..seg
        };
        let tail = Segment { start: at, ..seg };
        self.segs[i] = head;
        self.segs.insert(i + 1, tail);
    }

    /// The cumulative ACK moved to `una`: entries below it leave (each one `visit`ed first,
    /// unless it had been SACKed already, since that delivery was counted then). Returns the
    /// bytes newly delivered.
    pub fn ack(&mut self, una: SeqNum, mut visit: impl FnMut(&Segment)) -> u32 {
        let mut delivered = 0;
        while let Some(first) = self.segs.front().copied() {
            if first.start.ge(una) {
                break;
            }
            if first.end.gt(una) {
                // Acknowledged up to the middle (the peer's MSS or ours changed): the
                // acknowledged part leaves, the rest stays as its own entry.
                self.split(0, una);
                continue;
            }
            if !first.sacked() {
                visit(&first);
                delivered += first.len();
            }
            self.clear_flag(0, SACKED);
            self.clear_flag(0, LOST);
            self.clear_flag(0, RETRANS);
            self.out -= first.len();
            self.segs.pop_front();
        }
        delivered
    }

    /// The peer holds `[left, right)` (a SACK block, RFC 2018): entries wholly inside it are
    /// marked SACKed (split first where the block ends inside one), each one `visit`ed.
    /// Returns the bytes newly SACKed.
    pub fn sack(&mut self, left: SeqNum, right: SeqNum, mut visit: impl FnMut(&Segment)) -> u32 {
        if !left.lt(right) {
            return 0;
        }
        let mut newly = 0;
        // The first entry reaching past `left`.
        let mut i = self.segs.partition_point(|s| s.end.le(left));
        if let Some(seg) = self.segs.get(i)
            && seg.start.lt(left)
        {
            self.split(i, left);
            i += 1;
        }
        while let Some(seg) = self.segs.get(i).copied() {
            if seg.start.ge(right) {
                break;
            }
            if seg.end.gt(right) {
                self.split(i, right);
                continue;
            }
            if !seg.sacked() {
                visit(&seg);
                newly += seg.len();
                self.set(i, SACKED);
            }
            i += 1;
        }
        newly
    }

    pub fn mark_lost(&mut self, i: usize) {
        if self.segs.get(i).is_some_and(|s| !s.sacked()) {
            // A retransmission declared lost is no longer in flight.
            self.clear_flag(i, RETRANS);
            self.set(i, LOST);
        }
    }

    /// RTO (RFC 8985 §6.3 / Linux's tcp_timeout_mark_lost): everything not SACKed is lost.
    pub fn mark_all_lost(&mut self) {
        for i in 0..self.segs.len() {
            self.mark_lost(i);
        }
    }

    /// Lost marks that turned out to be wrong (a spurious retransmission was undone): every
    /// segment counts as in flight once again.
    pub fn clear_lost(&mut self) {
        for i in 0..self.segs.len() {
            self.clear_flag(i, RETRANS);
            self.clear_flag(i, LOST);
        }
    }

    /// The peer dropped data it had SACKed (reneging, RFC 2018 §8): forget every SACK mark.
    pub fn clear_sacked(&mut self) {
        for i in 0..self.segs.len() {
            self.clear_flag(i, SACKED);
        }
    }

    /// RFC 6675 NextSeg rule 1: the first lost segment without a retransmission in flight.
    pub fn next_lost(&self) -> Option<usize> {
        // The common case on every poll: nothing is lost, and no walk is needed.
        if self.lost == 0 {
            return None;
        }
        self.segs
            .iter()
            .position(|s| s.lost() && !s.sacked() && !s.retrans_in_flight())
    }

    /// Entry `i` was retransmitted whole at `now` (the caller first split it to what fits).
    pub fn retransmitted(&mut self, i: usize, now: Instant) {
        if let Some(seg) = self.segs.get_mut(i) {
            seg.sent = now;
            seg.flags |= EVER_RETRANS;
        }
        self.set(i, RETRANS);
    }

    /// Makes entry `i` at most `len` long (splitting off the rest).
    pub fn limit(&mut self, i: usize, len: u32) {
        if let Some(seg) = self.segs.get(i).copied()
            && seg.len() > len
            && len > 0
        {
            self.split(i, seg.start + len);
        }
    }

    /// Whether the oldest unacknowledged segment is SACKed: the cumulative ACK stopped at data
    /// the peer said it holds, so it no longer holds it (reneging; Linux's FLAG_SACK_RENEGING).
    pub fn head_sacked(&self) -> bool {
        self.segs.front().is_some_and(Segment::sacked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(n: u32) -> Scoreboard {
        let mut b = Scoreboard::default();
        for i in 0..n {
            b.push(
                SeqNum(i * 100),
                SeqNum((i + 1) * 100),
                false,
                Instant::from_millis(i.into()),
            );
        }
        b
    }

    #[test]
    fn pipe_counts_what_is_in_the_network() {
        let mut b = board(10);
        assert_eq!(b.pipe(), 1000);
        // RFC 6675 §4: SACKed and lost segments are not in the network; a retransmission is.
        assert_eq!(b.sack(SeqNum(300), SeqNum(500), |_| {}), 200);
        assert_eq!(b.pipe(), 800);
        b.mark_lost(0);
        b.mark_lost(1);
        assert_eq!((b.pipe(), b.lost_bytes()), (600, 200));
        assert_eq!(b.next_lost(), Some(0));
        b.retransmitted(0, Instant::from_millis(50));
        assert_eq!(b.pipe(), 700);
        assert_eq!(b.next_lost(), Some(1));
        // The retransmission itself was lost: out of the network again, eligible again.
        b.mark_lost(0);
        assert_eq!((b.pipe(), b.next_lost()), (600, Some(0)));
    }

    #[test]
    fn sack_blocks_in_any_order_and_overlap_count_once() {
        let mut b = board(10);
        let mut seen = Vec::new();
        assert_eq!(
            b.sack(SeqNum(700), SeqNum(900), |s| seen.push(s.start.0)),
            200
        );
        assert_eq!(
            b.sack(SeqNum(200), SeqNum(400), |s| seen.push(s.start.0)),
            200
        );
        // Overlapping an earlier block: only the new part counts.
        assert_eq!(
            b.sack(SeqNum(300), SeqNum(800), |s| seen.push(s.start.0)),
            300
        );
        assert_eq!(seen, [700, 800, 200, 300, 400, 500, 600]);
        assert_eq!(b.sacked_bytes(), 700);
        assert_eq!(b.sack(SeqNum(200), SeqNum(900), |_| {}), 0);
    }

    #[test]
    fn a_block_ending_inside_a_segment_splits_it() {
        let mut b = board(3);
        assert_eq!(b.sack(SeqNum(150), SeqNum(250), |_| {}), 100);
        let s: Vec<(u32, u32, bool)> = b
            .segments()
            .iter()
            .map(|s| (s.start.0, s.end.0, s.sacked()))
            .collect();
        assert_eq!(
            s,
            [
                (0, 100, false),
                (100, 150, false),
                (150, 200, true),
                (200, 250, true),
                (250, 300, false)
            ]
        );
        assert_eq!(b.out_bytes(), 300);
    }

    #[test]
    fn cumulative_ack_removes_and_trims_and_reports_new_deliveries() {
        let mut b = board(4);
        b.sack(SeqNum(100), SeqNum(200), |_| {});
        let mut seen = Vec::new();
        // Entry 1 was SACKed already: its delivery was counted then.
        assert_eq!(b.ack(SeqNum(250), |s| seen.push(s.start.0)), 100 + 50);
        assert_eq!(seen, [0, 200]);
        assert_eq!(b.segments().front().map(|s| s.start.0), Some(250));
        assert_eq!((b.out_bytes(), b.sacked_bytes(), b.pipe()), (150, 0, 150));
    }

    #[test]
    fn rto_marks_everything_not_sacked_lost_and_reneging_clears_sacks() {
        let mut b = board(4);
        b.sack(SeqNum(200), SeqNum(300), |_| {});
        b.mark_all_lost();
        assert_eq!((b.lost_bytes(), b.pipe()), (300, 0));
        b.clear_sacked();
        assert_eq!((b.sacked_bytes(), b.lost_bytes(), b.pipe()), (0, 300, 100));
        b.clear_lost();
        assert_eq!(b.pipe(), 400);
    }

    #[test]
    fn fin_stays_with_the_last_piece() {
        let mut b = Scoreboard::default();
        b.push(SeqNum(0), SeqNum(301), true, Instant::ZERO);
        b.limit(0, 100);
        let s = b.segments();
        assert!(!s[0].fin() && s[1].fin());
        assert_eq!((s[0].data_len(), s[1].data_len()), (100, 200));
    }
}
