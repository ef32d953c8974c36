//! RFC 5681 Reno window growth (slow start with appropriate byte counting, then one SMSS per
//! window in congestion avoidance) and its halving on loss. NewReno's fast recovery (RFC 6582)
//! is loss recovery's part, in `recovery.rs`.

use super::{AckEvent, CongestionControl, initial_window};
use crate::time::Instant;

#[derive(Debug, Clone)]
pub struct NewReno {
    cwnd: u32,
    ssthresh: u32,
    /// Bytes acknowledged toward the next congestion-avoidance increment (RFC 5681 §3.1, byte counting).
    acked_in_ca: u32,
}

impl NewReno {
    /// RFC 5681 §3.1 eq. 1 (with RFC 6928's IW10, as Linux uses): initial window.
    pub fn new(mss: u32) -> Self {
        NewReno {
            cwnd: initial_window(mss),
            ssthresh: u32::MAX,
            acked_in_ca: 0,
        }
    }
}

impl CongestionControl for NewReno {
    fn cwnd(&self) -> u32 {
        self.cwnd
    }

    fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    fn set_cwnd(&mut self, cwnd: u32) {
        self.cwnd = cwnd;
    }

    fn on_ack(&mut self, ack: &AckEvent) {
        // RFC 7661 / Linux: a window the sender does not fill must not grow.
        if !ack.cwnd_limited {
            return;
        }
        let (acked, mss) = (ack.acked, ack.mss);
        if self.cwnd < self.ssthresh {
            // Slow start, RFC 5681 §3.1 eq. 2 with L = 1·SMSS (RFC 3465 ABC limit 2·SMSS would also do).
            self.cwnd = self.cwnd.saturating_add(acked.min(mss));
        } else {
            // Congestion avoidance: one SMSS per cwnd of acknowledged bytes.
            self.acked_in_ca = self.acked_in_ca.saturating_add(acked);
            if self.acked_in_ca >= self.cwnd {
                self.acked_in_ca -= self.cwnd;
                self.cwnd = self.cwnd.saturating_add(mss);
            }
        }
    }

    fn on_congestion_event(&mut self, flight: u32, mss: u32, _now: Instant) {
        // RFC 5681 eq. 4: ssthresh = max(FlightSize / 2, 2·SMSS).
        self.ssthresh = (flight / 2).max(2 * mss);
        self.acked_in_ca = 0;
    }

    fn on_rto(&mut self, flight: u32, mss: u32, _now: Instant) {
        // RFC 5681 §3.1: ssthresh per eq. 4, cwnd = loss window = 1 SMSS.
        self.ssthresh = (flight / 2).max(2 * mss);
        self.cwnd = mss;
        self.acked_in_ca = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seq::SeqNum;

    fn ack(acked: u32) -> AckEvent {
        AckEvent {
            acked,
            mss: 1000,
            now: Instant::ZERO,
            una: SeqNum(0),
            nxt: SeqNum(0),
            rtt: None,
            srtt: crate::time::Duration::from_millis(10),
            cwnd_limited: true,
        }
    }

    #[test]
    fn slow_start_then_avoidance() {
        let mut c = NewReno::new(1000);
        assert_eq!(c.cwnd(), 10_000);
        c.on_ack(&ack(1000));
        assert_eq!(c.cwnd(), 11_000);
        c.on_rto(20_000, 1000, Instant::ZERO);
        assert_eq!((c.cwnd(), c.ssthresh()), (1000, 10_000));
        for _ in 0..9 {
            c.on_ack(&ack(1000));
        }
        assert_eq!(c.cwnd(), 10_000);
        // Now in congestion avoidance: +1 MSS per cwnd of acked bytes.
        for _ in 0..10 {
            c.on_ack(&ack(1000));
        }
        assert_eq!(c.cwnd(), 11_000);
    }

    #[test]
    fn a_congestion_event_halves_the_flight_into_ssthresh() {
        let mut c = NewReno::new(1000);
        c.on_congestion_event(10_000, 1000, Instant::ZERO);
        assert_eq!(c.ssthresh(), 5000);
        c.on_congestion_event(3000, 1000, Instant::ZERO);
        assert_eq!(c.ssthresh(), 2000, "never below 2·SMSS");
    }
}
