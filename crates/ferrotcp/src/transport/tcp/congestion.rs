//! Congestion control (RFC 5681) behind a small trait, so other algorithms (CUBIC) can join.
//! Loss recovery itself (duplicate ACK counting, NewReno's recovery point) lives in the
//! connection; the algorithm only decides how the window grows and shrinks.

/// What a congestion-control algorithm is told, in bytes.
pub trait CongestionControl: core::fmt::Debug {
    fn cwnd(&self) -> u32;
    fn ssthresh(&self) -> u32;
    /// New data was acknowledged outside loss recovery.
    fn on_ack(&mut self, acked: u32, mss: u32);
    /// RFC 5681 §3.2 steps 2–3 / RFC 6582 §3.2 step 2: entering fast recovery.
    fn on_enter_recovery(&mut self, flight: u32, mss: u32);
    /// RFC 5681 §3.2 step 4: each further duplicate ACK inflates the window.
    fn on_dup_ack_in_recovery(&mut self, mss: u32);
    /// RFC 6582 §3.2 step 5: a partial ACK deflates by the amount acknowledged, then adds one MSS.
    fn on_partial_ack(&mut self, acked: u32, mss: u32);
    /// RFC 6582 §3.2 step 5 full ACK: leave recovery.
    fn on_exit_recovery(&mut self, flight: u32, mss: u32);
    /// RFC 5681 §3.1 eq. 4 and the loss window after an RTO.
    fn on_rto(&mut self, flight: u32, mss: u32);
}

/// RFC 5681 Reno window growth with RFC 6582 NewReno fast recovery.
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

/// RFC 6928: IW = min(10·MSS, max(2·MSS, 14600)).
pub fn initial_window(mss: u32) -> u32 {
    (10 * mss).min((2 * mss).max(14600))
}

impl CongestionControl for NewReno {
    fn cwnd(&self) -> u32 {
        self.cwnd
    }

    fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    fn on_ack(&mut self, acked: u32, mss: u32) {
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

    fn on_enter_recovery(&mut self, flight: u32, mss: u32) {
        // RFC 5681 eq. 4: ssthresh = max(FlightSize / 2, 2·SMSS); cwnd = ssthresh + 3·SMSS.
        self.ssthresh = (flight / 2).max(2 * mss);
        self.cwnd = self.ssthresh + 3 * mss;
        self.acked_in_ca = 0;
    }

    fn on_dup_ack_in_recovery(&mut self, mss: u32) {
        self.cwnd = self.cwnd.saturating_add(mss);
    }

    fn on_partial_ack(&mut self, acked: u32, mss: u32) {
        self.cwnd = self.cwnd.saturating_sub(acked).saturating_add(mss).max(mss);
    }

    fn on_exit_recovery(&mut self, flight: u32, mss: u32) {
        // RFC 6582 §3.2 step 5, option (1): cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS).
        self.cwnd = self.ssthresh.min(flight.max(mss) + mss);
    }

    fn on_rto(&mut self, flight: u32, mss: u32) {
        // RFC 5681 §3.1: ssthresh per eq. 4, cwnd = loss window = 1 SMSS.
        self.ssthresh = (flight / 2).max(2 * mss);
        self.cwnd = mss;
        self.acked_in_ca = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_start_then_avoidance() {
        let mut c = NewReno::new(1000);
        assert_eq!(c.cwnd(), 10_000);
        c.on_ack(1000, 1000);
        assert_eq!(c.cwnd(), 11_000);
        c.on_rto(20_000, 1000);
        assert_eq!((c.cwnd(), c.ssthresh()), (1000, 10_000));
        for _ in 0..9 {
            c.on_ack(1000, 1000);
        }
        assert_eq!(c.cwnd(), 10_000);
        // Now in congestion avoidance: +1 MSS per cwnd of acked bytes.
        for _ in 0..10 {
            c.on_ack(1000, 1000);
        }
        assert_eq!(c.cwnd(), 11_000);
    }

    #[test]
    fn fast_recovery_inflates_and_deflates() {
        let mut c = NewReno::new(1000);
        c.on_enter_recovery(10_000, 1000);
        assert_eq!((c.cwnd(), c.ssthresh()), (8000, 5000));
        c.on_dup_ack_in_recovery(1000);
        assert_eq!(c.cwnd(), 9000);
        c.on_partial_ack(3000, 1000);
        assert_eq!(c.cwnd(), 7000);
        c.on_exit_recovery(4000, 1000);
        assert_eq!(c.cwnd(), 5000);
    }
}
