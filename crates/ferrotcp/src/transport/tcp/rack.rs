//! RACK (RFC 8985 §6): time-based loss detection. A segment is lost when a segment sent after
//! it has been delivered (acknowledged or SACKed) and more than an RTT plus a reordering window
//! has passed since it was sent. The window starts at zero, opens to a quarter of the minimum
//! RTT once reordering is seen, and widens with every round that brings D-SACKs.

use super::scoreboard::{Scoreboard, Segment};
use super::timestamps::{ts_before, ts_clock};
use crate::seq::SeqNum;
use crate::time::{Duration, Instant, StoredDuration};

/// RFC 8985 §6.2: the reordering window is reset after this many recoveries without D-SACK.
const REO_WND_PERSIST: u32 = 16;
/// Linux's tcp_min_rtt_wlen: the minimum RTT is the minimum over the last 300 s.
const MIN_RTT_WINDOW: Duration = Duration::from_secs(300);
/// RFC 8985 §6.2 step 4's DupThresh.
const DUP_THRESH: u32 = 3;

/// RACK_sent_after (RFC 8985 §6.2): t1/seq1 was sent after t2/seq2 (later end wins a tie).
fn sent_after(t1: Instant, seq1: SeqNum, t2: Instant, seq2: SeqNum) -> bool {
    t1 > t2 || (t1 == t2 && seq1.gt(seq2))
}

/// A minimum with an expiry, like Linux's windowed min filter (reduced to one sample).
#[derive(Clone, Copy, Debug, Default)]
struct WindowedMin {
    value: Option<(StoredDuration, Instant)>,
}

impl WindowedMin {
    fn update(&mut self, rtt: Duration, now: Instant) {
        match self.value {
            Some((min, at)) if rtt > min.get() && now.saturating_since(at) <= MIN_RTT_WINDOW => {}
            _ => self.value = Some((rtt.into(), now)),
        }
    }

    fn get(&self) -> Option<Duration> {
        self.value.map(|(min, _)| min.get())
    }
}

#[derive(Clone, Debug)]
pub(super) struct Rack {
    /// RACK.xmit_ts and RACK.end_seq: the most recently sent segment known delivered.
    xmit: Option<(Instant, SeqNum)>,
    /// RACK.rtt: the RTT of that segment.
    rtt: StoredDuration,
    min_rtt: WindowedMin,
    /// RACK.fack: the highest sequence number delivered.
    fack: Option<SeqNum>,
    /// RACK.reordering_seen.
    pub reordering_seen: bool,
    /// RACK.dsack_round: D-SACKs within one round widen the window only once.
    dsack_round: Option<SeqNum>,
    reo_wnd_mult: u32,
    reo_wnd_persist: u32,
}

/// What one ACK told RACK.
pub(super) struct AckContext {
    pub now: Instant,
    /// The ACK carried a D-SACK block.
    pub dsack: bool,
    pub una: SeqNum,
    pub nxt: SeqNum,
    /// The ACK's TSecr and our TSval clock offset, when timestamps are in use (RFC 8985 §6.2
    /// step 2 uses them to tell the delivery of an original from its retransmission).
    pub echo: Option<(u32, u32)>,
}

impl Default for Rack {
    fn default() -> Rack {
        Rack {
            xmit: None,
            rtt: StoredDuration::ZERO,
            min_rtt: WindowedMin::default(),
            fack: None,
            reordering_seen: false,
            dsack_round: None,
            reo_wnd_mult: 1,
            reo_wnd_persist: 0,
        }
    }
}

impl Rack {
    pub fn min_rtt(&self) -> Option<Duration> {
        self.min_rtt.get()
    }

    /// An RTT sample from elsewhere (timestamps, Karn-safe timing) feeds the minimum too.
    pub fn rtt_sample(&mut self, rtt: Duration, now: Instant) {
        self.min_rtt.update(rtt, now);
    }

    /// RFC 8985 §6.2 steps 2 and 3 for one newly acknowledged or SACKed segment.
    pub fn delivered(&mut self, seg: &Segment, ctx: &AckContext) {
        let rtt = ctx.now.saturating_since(seg.sent);
        // Step 3: reordering is a never-retransmitted segment delivered below the highest
        // delivered sequence number.
        match self.fack {
            Some(fack) if !seg.end.gt(fack) => {
                if seg.end.lt(fack) && !seg.ever_retransmitted() {
                    self.reordering_seen = true;
                }
            }
            _ => self.fack = Some(seg.end),
        }
        // Step 2: "If Segment.retransmitted is TRUE: if ACK.ts_option.echo_reply <
        // Segment.xmit_ts: continue; if rtt < RACK.min_RTT: continue" (the delivery may be
        // of the original transmission).
        if seg.ever_retransmitted() {
            if ctx
                .echo
                .is_some_and(|(tsecr, offset)| ts_before(tsecr, ts_clock(seg.sent, offset)))
            {
                return;
            }
            if self.min_rtt().is_some_and(|min| rtt < min) {
                return;
            }
        } else {
            self.min_rtt.update(rtt, ctx.now);
        }
        self.rtt = rtt.into();
        let newer = match self.xmit {
            Some((t, end)) => sent_after(seg.sent, seg.end, t, end),
            None => true,
        };
        if newer {
            self.xmit = Some((seg.sent, seg.end));
        }
    }

    /// RFC 8985 §6.2 step 4: RACK_update_reo_wnd. `recovering`: in fast or RTO recovery;
    /// `sacked_segments`: how many segments the scoreboard holds SACKed.
    fn reo_wnd(
        &mut self,
        ctx: &AckContext,
        recovering: bool,
        sacked_segments: u32,
        srtt: Duration,
    ) -> Duration {
        if self.dsack_round.is_some_and(|round| ctx.una.ge(round)) {
            self.dsack_round = None;
        }
        if self.dsack_round.is_none() && ctx.dsack {
            self.dsack_round = Some(ctx.nxt);
            self.reo_wnd_mult += 1;
            self.reo_wnd_persist = REO_WND_PERSIST;
        }
        // A D-SACK says a segment arrived twice: most often a retransmission raced an original
        // that was only late. Its delivery cannot count as reordering under step 3 (the segment
        // was retransmitted), so without this the widened window would never apply: with
        // three segments SACKed and no reordering seen, the window is zero.
        if ctx.dsack {
            self.reordering_seen = true;
        }
        if !self.reordering_seen && (recovering || sacked_segments >= DUP_THRESH) {
            return Duration::ZERO;
        }
        let Some(min_rtt) = self.min_rtt() else {
            return Duration::ZERO;
        };
        (min_rtt / 4 * self.reo_wnd_mult).min(srtt)
    }

    /// A recovery episode ended (RFC 8985 §6.2 step 4): without D-SACKs for a while, the
    /// reordering window shrinks back.
    pub fn recovery_ended(&mut self) {
        self.reo_wnd_persist = self.reo_wnd_persist.saturating_sub(1);
        if self.reo_wnd_persist == 0 {
            self.reo_wnd_mult = 1;
        }
    }

    /// RFC 8985 §6.2 step 5: RACK_detect_loss. Marks lost every segment sent before the
    /// last delivered one whose time is up; returns how long until the next one would be (the
    /// reordering timer), if any is waiting.
    pub fn detect_loss(
        &mut self,
        board: &mut Scoreboard,
        ctx: &AckContext,
        recovering: bool,
        mss: u32,
        srtt: Duration,
    ) -> Option<Duration> {
        let (rack_ts, rack_end) = self.xmit?;
        let sacked_segments = board.sacked_bytes() / mss.max(1);
        let reo_wnd = self.reo_wnd(ctx, recovering, sacked_segments, srtt);
        let mut timeout = None;
        let mut i = 0;
        while let Some(seg) = board.get(i).copied() {
            i += 1;
            if seg.sacked() || (seg.lost() && !seg.retrans_in_flight()) {
                continue;
            }
            if !sent_after(rack_ts, rack_end, seg.sent, seg.end) {
                if seg.ever_retransmitted() {
                    continue;
                }
                // Never-retransmitted segments went out in sequence order: none after this
                // one was sent before the last delivery either.
                break;
            }
            let deadline = seg.sent + self.rtt.get() + reo_wnd;
            if deadline <= ctx.now {
                board.mark_lost(i - 1);
            } else {
                let remaining = deadline.saturating_since(ctx.now);
                timeout = Some(timeout.map_or(remaining, |t: Duration| t.max(remaining)));
            }
        }
        timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn board(n: u32, gap: Duration) -> Scoreboard {
        let mut b = Scoreboard::default();
        for i in 0..n {
            b.push(
                SeqNum(i * 100),
                SeqNum((i + 1) * 100),
                false,
                Instant::ZERO + gap * i,
            );
        }
        b
    }

    fn ctx(now: Instant) -> AckContext {
        AckContext {
            now,
            dsack: false,
            una: SeqNum(0),
            nxt: SeqNum(1000),
            echo: None,
        }
    }

    /// SACKs `[left, right)` and lets RACK see the newly delivered segments.
    fn sack(rack: &mut Rack, b: &mut Scoreboard, left: u32, right: u32, c: &AckContext) {
        let mut seen = Vec::new();
        b.sack(SeqNum(left), SeqNum(right), |s| seen.push(*s));
        for s in &seen {
            rack.delivered(s, c);
        }
    }

    #[test]
    fn a_segment_sent_before_a_delivered_one_is_lost_after_rtt_plus_window() {
        // Ten segments 1 ms apart; RTT 20 ms; the first is lost, the second SACKed at 21 ms.
        let mut b = board(10, MS);
        let mut r = Rack::default();
        let c = ctx(Instant::ZERO + 21 * MS);
        sack(&mut r, &mut b, 100, 200, &c);
        // No reordering seen yet and not recovering, one SACKed segment: the window is a
        // quarter of the minimum RTT (20 ms), 5 ms: segment 0 (sent at 0) is due at 25 ms.
        let t = r.detect_loss(&mut b, &c, false, 100, 20 * MS);
        assert_eq!(b.lost_bytes(), 0);
        assert_eq!(
            t,
            Some(4 * MS),
            "reordering timer for what is left of the window"
        );
        let later = ctx(Instant::ZERO + 25 * MS);
        assert_eq!(r.detect_loss(&mut b, &later, false, 100, 20 * MS), None);
        assert_eq!(b.lost_bytes(), 100);
        assert!(b.get(0).is_some_and(Segment::lost));
    }

    #[test]
    fn with_three_segments_sacked_and_no_reordering_seen_the_window_is_zero() {
        let mut b = board(10, MS);
        let mut r = Rack::default();
        let c = ctx(Instant::ZERO + 23 * MS);
        sack(&mut r, &mut b, 100, 400, &c);
        r.detect_loss(&mut b, &c, false, 100, 20 * MS);
        // RFC 8985 §6.2 step 4: DupThresh SACKed segments and no reordering: window 0.
        assert_eq!(b.lost_bytes(), 100);
    }

    #[test]
    fn reordering_opens_the_window_and_dsack_rounds_widen_it() {
        let mut b = board(10, MS);
        let mut r = Rack::default();
        let c = ctx(Instant::ZERO + 25 * MS);
        sack(&mut r, &mut b, 300, 400, &c);
        // Segment 1 arrives after segment 3: reordering.
        sack(&mut r, &mut b, 100, 200, &c);
        assert!(r.reordering_seen);
        let quarter = r.min_rtt().unwrap_or_default() / 4;
        assert_eq!(
            quarter,
            Duration::from_micros(5500),
            "min RTT 22 ms (segment 3)"
        );
        assert_eq!(r.reo_wnd(&ctx(c.now), true, 2, 100 * MS), quarter);
        let mut d = ctx(Instant::ZERO + 25 * MS);
        d.dsack = true;
        assert_eq!(r.reo_wnd(&d, true, 2, 100 * MS), quarter * 2);
        // A second D-SACK in the same round does not widen it again.
        assert_eq!(r.reo_wnd(&d, true, 2, 100 * MS), quarter * 2);
        // Capped by SRTT.
        assert_eq!(r.reo_wnd(&d, true, 2, 7 * MS), 7 * MS);
        for _ in 0..REO_WND_PERSIST {
            r.recovery_ended();
        }
        assert_eq!(r.reo_wnd(&ctx(d.now), true, 2, 100 * MS), quarter);
    }

    #[test]
    fn a_retransmission_delivered_too_fast_does_not_move_rack_forward() {
        let mut b = board(3, MS);
        let mut r = Rack::default();
        let c = ctx(Instant::ZERO + 20 * MS);
        sack(&mut r, &mut b, 200, 300, &c);
        b.mark_lost(0);
        b.retransmitted(0, Instant::ZERO + 20 * MS);
        // The ACK of segment 0 comes 1 ms after its retransmission: faster than any RTT, so it
        // acknowledges the original, which says nothing about when the retransmission went.
        let c2 = ctx(Instant::ZERO + 21 * MS);
        let mut seen = Vec::new();
        b.ack(SeqNum(100), |s| seen.push(*s));
        for s in &seen {
            r.delivered(s, &c2);
        }
        assert_eq!(r.xmit.map(|x| x.1), Some(SeqNum(300)));
    }
}
