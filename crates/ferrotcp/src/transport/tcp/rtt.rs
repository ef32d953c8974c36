//! Retransmission timer per RFC 6298, with Karn's algorithm (RFC 9293 §3.8.1, MUST-18):
//! only segments that were never retransmitted give RTT samples.

use crate::seq::SeqNum;
use crate::time::{Duration, Instant, StoredDuration};

/// Clock granularity G of RFC 6298 §2 (our clock is in microseconds; Linux uses 1 ms jiffies).
const GRANULARITY: Duration = Duration::from_millis(1);

/// Durations are kept in 8 bytes each ([`StoredDuration`], exact); the arithmetic is
/// `Duration`'s, as RFC 6298 writes it.
#[derive(Debug, Clone)]
pub struct RttEstimator {
    srtt: Option<StoredDuration>,
    rttvar: StoredDuration,
    rto: StoredDuration,
    min_rto: StoredDuration,
    max_rto: StoredDuration,
    /// Exponent of the current backoff (RFC 6298 §5.5).
    backoff: u32,
    /// One timed segment at a time: (sequence number that acknowledges it, send time).
    timing: Option<(SeqNum, Instant)>,
}

impl RttEstimator {
    pub fn new(initial: Duration, min_rto: Duration, max_rto: Duration) -> Self {
        RttEstimator {
            srtt: None,
            rttvar: StoredDuration::ZERO,
            rto: initial.clamp(min_rto, max_rto).into(),
            min_rto: min_rto.into(),
            max_rto: max_rto.into(),
            backoff: 0,
            timing: None,
        }
    }

    pub fn srtt(&self) -> Option<Duration> {
        self.srtt.map(StoredDuration::get)
    }

    pub fn max_rto(&self) -> Duration {
        self.max_rto.get()
    }

    pub fn rttvar(&self) -> Duration {
        self.rttvar.get()
    }

    /// The current RTO including backoff.
    pub fn rto(&self) -> Duration {
        let backed = self.rto.get().saturating_mul(1u32 << self.backoff.min(16));
        backed.min(self.max_rto.get())
    }

    /// Starts timing a segment whose acknowledgment will be `ack_seq`, unless one is timed already.
    pub fn start_timing(&mut self, ack_seq: SeqNum, now: Instant) {
        if self.timing.is_none() {
            self.timing = Some((ack_seq, now));
        }
    }

    /// Karn: a retransmission invalidates the sample in progress.
    pub fn cancel_timing(&mut self) {
        self.timing = None;
    }

    /// An ACK for `ack` arrived at `now`: take a sample if it covers the timed segment.
    pub fn on_ack(&mut self, ack: SeqNum, now: Instant) {
        if let Some((seq, sent)) = self.timing
            && ack.ge(seq)
        {
            self.timing = None;
            self.sample(now - sent);
        }
    }

    /// RFC 6298 §2.2–2.3.
    pub fn sample(&mut self, r: Duration) {
        let (srtt, rttvar) = match self.srtt() {
            None => (r, r / 2),
            Some(srtt) => {
                let delta = srtt.abs_diff(r);
                ((srtt * 7 + r) / 8, (self.rttvar() * 3 + delta) / 4)
            }
        };
        self.srtt = Some(srtt.into());
        self.rttvar = rttvar.into();
        let rto = srtt + GRANULARITY.max(rttvar * 4);
        self.rto = rto.clamp(self.min_rto.get(), self.max_rto()).into();
        // RFC 6298 §5.7 note: a fresh sample ends the backoff.
        self.backoff = 0;
    }

    /// Raises the base RTO to at least `floor` (RFC 6298 §5.7).
    pub fn at_least(&mut self, floor: Duration) {
        self.rto = self.rto.get().max(floor).min(self.max_rto()).into();
    }

    /// RFC 6298 §5.5: double the RTO.
    pub fn back_off(&mut self) {
        if self.rto() < self.max_rto() {
            self.backoff += 1;
        }
    }

    pub fn reset_backoff(&mut self) {
        self.backoff = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est() -> RttEstimator {
        RttEstimator::new(
            Duration::from_secs(1),
            Duration::from_millis(200),
            Duration::from_secs(60),
        )
    }

    #[test]
    fn first_sample_sets_srtt_and_rttvar() {
        // RFC 6298 §2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4·RTTVAR).
        let mut e = est();
        e.sample(Duration::from_millis(100));
        assert_eq!(e.srtt(), Some(Duration::from_millis(100)));
        assert_eq!(e.rttvar(), Duration::from_millis(50));
        assert_eq!(e.rto(), Duration::from_millis(300));
    }

    #[test]
    fn later_samples_smooth() {
        let mut e = est();
        e.sample(Duration::from_millis(100));
        e.sample(Duration::from_millis(200));
        // RTTVAR = 3/4·50 + 1/4·100 = 62.5; SRTT = 7/8·100 + 1/8·200 = 112.5
        assert_eq!(e.rttvar(), Duration::from_micros(62_500));
        assert_eq!(e.srtt(), Some(Duration::from_micros(112_500)));
        assert_eq!(e.rto(), Duration::from_micros(362_500));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let mut e = est();
        e.back_off();
        assert_eq!(e.rto(), Duration::from_secs(2));
        for _ in 0..20 {
            e.back_off();
        }
        assert_eq!(e.rto(), Duration::from_secs(60));
    }

    #[test]
    fn karn_retransmission_cancels_the_sample() {
        let mut e = est();
        e.start_timing(SeqNum(100), Instant::ZERO);
        e.cancel_timing();
        e.on_ack(SeqNum(100), Instant::from_millis(50));
        assert_eq!(e.srtt(), None);
    }

    #[test]
    fn min_rto_applies() {
        let mut e = est();
        e.sample(Duration::from_millis(1));
        assert_eq!(e.rto(), Duration::from_millis(200));
    }
}
