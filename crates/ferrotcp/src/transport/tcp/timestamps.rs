//! TCP timestamps (RFC 7323 §3–5): the TSval clock, TS.Recent and Last.ACK.sent, PAWS, and
//! round-trip measurement from echoed timestamps (RTTM).

use crate::seq::SeqNum;
use crate::time::{Duration, Instant};

/// RFC 7323 §5.5: TS.Recent is trusted for 24 days after it was last updated; a connection idle
/// longer than that could see the peer's 32-bit millisecond clock wrap past half its range.
const TS_RECENT_VALID: Duration = Duration::from_secs(24 * 24 * 3600);

/// Our TSval clock (RFC 7323 §5.4): milliseconds, plus a per-connection offset so the value
/// reveals neither uptime nor other connections' clocks (§7.1, like Linux's tsoffset).
pub(super) fn ts_clock(now: Instant, offset: u32) -> u32 {
    (now.total_millis() as u32).wrapping_add(offset)
}

/// The round trip since we sent the TSval `tsecr` echoes (clock `offset`).
pub(super) fn echo_rtt(tsecr: u32, offset: u32, now: Instant) -> Option<Duration> {
    let elapsed = ts_clock(now, offset).wrapping_sub(tsecr);
    // An echo from the future or from more than a few minutes ago is not ours.
    (elapsed < 600_000).then(|| Duration::from_millis(u64::from(elapsed)))
}

/// `a < b` in the 32-bit wrapping order timestamps live in (§5.2).
pub(super) fn ts_before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// Timestamps in use on a connection (both SYNs carried the option, RFC 7323 §3.2).
#[derive(Clone, Copy, Debug)]
pub(super) struct Timestamps {
    pub offset: u32,
    /// TS.Recent: the peer's timestamp to echo.
    pub recent: u32,
    /// When TS.Recent was last updated (the 24-day rule).
    pub recent_at: Instant,
    /// Last.ACK.sent: the ACK field of the last segment we sent.
    pub last_ack_sent: SeqNum,
}

impl Timestamps {
    pub fn new(offset: u32, peer_tsval: u32, now: Instant, rcv_nxt: SeqNum) -> Timestamps {
        Timestamps {
            offset,
            recent: peer_tsval,
            recent_at: now,
            last_ack_sent: rcv_nxt,
        }
    }

    /// TSval and TSecr for a segment we send now.
    pub fn option(&self, now: Instant) -> (u32, u32) {
        (ts_clock(now, self.offset), self.recent)
    }

    /// RFC 7323 §5.3 R1 (PAWS): "If there is a Timestamps option in the arriving segment,
    /// SEG.TSval < TS.Recent, TS.Recent is valid, and the RST bit is not set, then treat the
    /// arriving segment as not acceptable".
    pub fn paws_rejects(&self, tsval: u32, rst: bool, now: Instant) -> bool {
        let valid = now.saturating_since(self.recent_at) <= TS_RECENT_VALID;
        !rst && valid && ts_before(tsval, self.recent)
    }

    /// RFC 7323 §4.3 (3) / §5.3 R3: "If SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent,
    /// then SEG.TSval is copied to TS.Recent". An invalid (24-day old) TS.Recent is replaced.
    pub fn update_recent(&mut self, tsval: u32, seq: SeqNum, now: Instant) {
        let stale = now.saturating_since(self.recent_at) > TS_RECENT_VALID;
        if (stale || !ts_before(tsval, self.recent)) && seq.le(self.last_ack_sent) {
            self.recent = tsval;
            self.recent_at = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts() -> Timestamps {
        Timestamps::new(1000, 5_000, Instant::from_secs(1), SeqNum(100))
    }

    #[test]
    fn paws_rejects_an_older_tsval_but_not_a_reset_nor_after_24_days() {
        let t = ts();
        let now = Instant::from_secs(2);
        assert!(t.paws_rejects(4_999, false, now));
        assert!(!t.paws_rejects(5_000, false, now));
        assert!(!t.paws_rejects(4_999, true, now), "R1: not for RST");
        // Wrapping order: 2^32 - 1 is before 5 000 + 2^31 ... and just before 0.
        let mut w = t;
        w.recent = 3;
        assert!(!w.paws_rejects(u32::MAX.wrapping_add(10), false, now));
        assert!(w.paws_rejects(u32::MAX, false, now));
        let later = Instant::from_secs(1) + TS_RECENT_VALID + Duration::from_secs(1);
        assert!(
            !t.paws_rejects(1, false, later),
            "TS.Recent invalid after 24 days"
        );
    }

    #[test]
    fn ts_recent_moves_only_forward_and_only_for_segments_up_to_last_ack_sent() {
        let mut t = ts();
        let now = Instant::from_secs(2);
        t.update_recent(6_000, SeqNum(101), now);
        assert_eq!(t.recent, 5_000, "SEG.SEQ beyond Last.ACK.sent");
        t.update_recent(4_000, SeqNum(100), now);
        assert_eq!(t.recent, 5_000, "older TSval");
        t.update_recent(6_000, SeqNum(90), now);
        assert_eq!(t.recent, 6_000);
    }

    #[test]
    fn rtt_from_an_echoed_tsval() {
        let t = ts();
        let sent = Instant::from_millis(10_000);
        let (tsval, _) = t.option(sent);
        assert_eq!(
            echo_rtt(tsval, t.offset, sent + Duration::from_millis(37)),
            Some(Duration::from_millis(37))
        );
        assert_eq!(
            echo_rtt(tsval.wrapping_add(5), t.offset, sent),
            None,
            "from the future"
        );
    }
}
