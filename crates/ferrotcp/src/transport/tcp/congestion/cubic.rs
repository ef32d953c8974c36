//! CUBIC (RFC 9438): after a loss the window follows a cubic function of the time since the
//! loss, rising fast far below the window where the loss happened (W_max), flattening near it,
//! and probing beyond it; never slower than Reno would (the Reno-friendly estimate W_est).
//! Slow start uses HyStart++ (RFC 9406). Integer arithmetic throughout (windows in bytes, times
//! in microseconds): the result is the same on every machine.

use super::hystart::HyStart;
use super::{AckEvent, CongestionControl, initial_window};
use crate::time::{Duration, Instant, StoredDuration};

/// β_cubic = 0.7 (§4.6), as a fraction.
const BETA_NUM: u64 = 7;
const BETA_DEN: u64 = 10;
/// α_cubic = 3(1 - β)/(1 + β) = 9/17 (§4.3).
const ALPHA_NUM: u64 = 9;
const ALPHA_DEN: u64 = 17;
/// RFC 3465's limit L = 2·SMSS per ACK for slow starts after the first (HyStart++ has its own).
const ABC_LIMIT: u32 = 2;

/// ⌊∛x⌋.
fn icbrt(x: u128) -> u64 {
    let mut lo: u64 = 0;
    let mut hi: u64 = 1 << 43; // (2^43)^3 > 2^128
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        let m = u128::from(mid);
        if m * m * m <= x {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

#[derive(Clone, Debug)]
pub struct Cubic {
    cwnd: u32,
    ssthresh: u32,
    /// W_max: the window before the last reduction (fast convergence may lower it); `None`
    /// before any loss or after an RTO, when the epoch's own start window stands in (§4.8, §4.10).
    w_max: Option<u32>,
    /// cwnd_prior: the window when ssthresh was last set.
    cwnd_prior: u32,
    /// t_epoch and cwnd_epoch: when and at which window the current avoidance stage began.
    epoch: Option<(Instant, u32)>,
    /// K of the current epoch.
    k: StoredDuration,
    /// W_est (§4.3), and the remainder of its last increment (in 1/(ALPHA_DEN·cwnd) bytes).
    w_est: u32,
    w_est_rem: u64,
    /// α_cubic is 1 once W_est reached cwnd_prior.
    alpha_one: bool,
    /// Remainder of the cubic increment (in 1/cwnd bytes).
    inc_rem: u64,
    hystart: HyStart,
    /// The previous ACK, to leave application-limited time out of the epoch (§4.2).
    last_ack: Option<Instant>,
}

impl Cubic {
    pub fn new(mss: u32) -> Cubic {
        Cubic {
            cwnd: initial_window(mss),
            ssthresh: u32::MAX,
            w_max: None,
            cwnd_prior: 0,
            epoch: None,
            k: StoredDuration::ZERO,
            w_est: 0,
            w_est_rem: 0,
            alpha_one: false,
            inc_rem: 0,
            hystart: HyStart::default(),
            last_ack: None,
        }
    }

    /// W_cubic(t) = C·(t - K)³ + W_max (Figure 1), C = 0.4 segments/s³, in bytes.
    fn w_cubic(&self, t: Duration, w_max: u32, mss: u32) -> u32 {
        let dt = i128::from(t.as_micros().min(1 << 40) as u64)
            - i128::from(self.k.get().as_micros() as u64);
        // 0.4 · dt³ / 10^18 segments = 4 · dt³ · mss / 10^19 bytes.
        let delta = 4 * dt * dt * dt * i128::from(mss) / 10_000_000_000_000_000_000;
        (i128::from(w_max) + delta).clamp(0, i128::from(u32::MAX)) as u32
    }

    /// A new congestion-avoidance stage begins (§4.2): t_epoch, cwnd_epoch, K and W_est.
    fn start_epoch(&mut self, now: Instant, mss: u32) {
        let w_max = *self.w_max.get_or_insert(self.cwnd);
        // K = ∛((W_max - cwnd_epoch) / C) seconds: in µs, ∛(Δ bytes / mss · 2.5 · 10^18).
        let gap = u128::from(w_max.saturating_sub(self.cwnd));
        self.k = Duration::from_micros(icbrt(
            gap * 25 * 100_000_000_000_000_000 / u128::from(mss.max(1)),
        ))
        .into();
        self.epoch = Some((now, self.cwnd));
        self.w_est = self.cwnd;
        self.w_est_rem = 0;
        self.inc_rem = 0;
    }

    fn avoid_congestion(&mut self, ev: &AckEvent) {
        let mss = ev.mss.max(1);
        if self.epoch.is_none() {
            self.start_epoch(ev.now, mss);
        }
        let (t_epoch, _) = self.epoch.unwrap_or((ev.now, self.cwnd));
        let w_max = self.w_max.unwrap_or(self.cwnd);
        let t = ev.now.saturating_since(t_epoch);
        let cwnd = u64::from(self.cwnd.max(1));
        // W_est += α · segments_acked / cwnd (Figure 4), in bytes: α · mss · acked / cwnd.
        let (a_num, a_den) = if self.alpha_one {
            (1, 1)
        } else {
            (ALPHA_NUM, ALPHA_DEN)
        };
        let num = a_num * u64::from(mss) * u64::from(ev.acked) + self.w_est_rem;
        let den = a_den * cwnd;
        self.w_est = self
            .w_est
            .saturating_add(u32::try_from(num / den).unwrap_or(u32::MAX));
        self.w_est_rem = num % den;
        if self.w_est >= self.cwnd_prior {
            self.alpha_one = true;
        }
        if self.w_cubic(t, w_max, mss) < self.w_est {
            // Reno-friendly region (§4.3): never slower than Reno.
            self.cwnd = self.cwnd.max(self.w_est);
            return;
        }
        // Concave and convex regions (§4.4, §4.5): towards W_cubic one RTT ahead, at most 1.5·cwnd.
        let ahead = self.w_cubic(t + ev.srtt, w_max, mss);
        let target = ahead.clamp(self.cwnd, self.cwnd.saturating_add(self.cwnd / 2));
        // cwnd += (target - cwnd) / cwnd per segment acknowledged.
        let num = u64::from(target - self.cwnd) * u64::from(ev.acked) + self.inc_rem;
        self.cwnd = self
            .cwnd
            .saturating_add(u32::try_from(num / cwnd).unwrap_or(u32::MAX));
        self.inc_rem = num % cwnd;
    }
}

impl CongestionControl for Cubic {
    fn cwnd(&self) -> u32 {
        self.cwnd
    }

    fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    fn set_cwnd(&mut self, cwnd: u32) {
        self.cwnd = cwnd;
    }

    fn on_ack(&mut self, ev: &AckEvent) {
        // §5.8: an application-limited flow does not grow its window (nor does one held back
        // by the receiver's window); its epoch does not age either.
        let since_last = self
            .last_ack
            .map_or(Duration::ZERO, |t| ev.now.saturating_since(t));
        self.last_ack = Some(ev.now);
        if !ev.cwnd_limited {
            if let Some((t, w)) = self.epoch {
                self.epoch = Some((t + since_last, w));
            }
            return;
        }
        if self.cwnd < self.ssthresh {
            let growth = if self.hystart.active() {
                self.hystart
                    .on_ack(ev.acked, ev.mss, ev.una, ev.nxt, ev.rtt)
            } else {
                super::hystart::Growth {
                    bytes: ev.acked.min(ABC_LIMIT * ev.mss),
                    exit: false,
                }
            };
            self.cwnd = self.cwnd.saturating_add(growth.bytes);
            if growth.exit {
                // RFC 9406 §4.2 "ssthresh = cwnd"; RFC 9438 §4.10: cwnd_prior = cwnd, and the
                // avoidance stage starts with K = 0 and W_max = cwnd.
                self.ssthresh = self.cwnd;
                self.cwnd_prior = self.cwnd;
                self.w_max = Some(self.cwnd);
                self.epoch = None;
            }
            return;
        }
        self.avoid_congestion(ev);
    }

    fn on_congestion_event(&mut self, flight: u32, mss: u32, _now: Instant) {
        self.hystart.finish();
        // §4.7 fast convergence: a window below the last W_max means less room; yield some.
        let w_max = match self.w_max {
            Some(w) if self.cwnd < w => {
                (u64::from(self.cwnd) * (BETA_DEN + BETA_NUM) / (2 * BETA_DEN)) as u32
            }
            _ => self.cwnd,
        };
        self.w_max = Some(w_max);
        self.cwnd_prior = self.cwnd;
        // §4.6: ssthresh = flight_size · β_cubic, at least 2·SMSS.
        let ssthresh = (u64::from(flight) * BETA_NUM / BETA_DEN) as u32;
        self.ssthresh = ssthresh.max(2 * mss);
        self.epoch = None;
        self.alpha_one = false;
    }

    fn on_rto(&mut self, flight: u32, mss: u32, now: Instant) {
        // §4.8: ssthresh as for any congestion event, cwnd as Reno (one segment); the next
        // avoidance stage starts with K = 0 and W_max its own starting window.
        self.on_congestion_event(flight, mss, now);
        self.w_max = None;
        self.cwnd = mss;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seq::SeqNum;

    const MSS: u32 = 1000;
    const MS: Duration = Duration::from_millis(1);

    fn ack(now: Instant, acked: u32) -> AckEvent {
        AckEvent {
            acked,
            mss: MSS,
            now,
            una: SeqNum(0),
            nxt: SeqNum(0),
            rtt: Some(100 * MS),
            srtt: 100 * MS,
            cwnd_limited: true,
        }
    }

    #[test]
    fn cube_root_is_exact_on_cubes_and_floors_between() {
        assert_eq!(icbrt(0), 0);
        assert_eq!(icbrt(26), 2);
        assert_eq!(icbrt(27), 3);
        assert_eq!(icbrt(1_000_000_000_000), 10_000);
        assert_eq!(icbrt(u128::from(u64::MAX)), 2_642_245);
    }

    #[test]
    fn a_loss_sets_ssthresh_to_beta_times_the_flight_and_w_max_to_the_window() {
        let mut c = Cubic::new(MSS);
        c.cwnd = 100 * MSS;
        c.on_congestion_event(100 * MSS, MSS, Instant::ZERO);
        assert_eq!(c.ssthresh, 70 * MSS);
        assert_eq!(c.w_max, Some(100 * MSS));
        // Fast convergence (§4.7): a second loss below W_max lowers W_max to cwnd·(1+β)/2.
        c.cwnd = 80 * MSS;
        c.on_congestion_event(80 * MSS, MSS, Instant::ZERO);
        assert_eq!(c.w_max, Some(68 * MSS));
        assert_eq!(c.ssthresh, 56 * MSS);
    }

    #[test]
    fn k_is_the_time_to_climb_back_to_w_max() {
        // W_max = 100 segments, cwnd_epoch = 70: K = ∛(30 / 0.4) = ∛75 = 4.2172 s (Figure 2).
        let mut c = Cubic::new(MSS);
        c.cwnd = 100 * MSS;
        c.on_congestion_event(100 * MSS, MSS, Instant::ZERO);
        c.cwnd = c.ssthresh;
        c.start_epoch(Instant::ZERO, MSS);
        assert_eq!(c.k.get().as_millis(), 4217);
        // W_cubic(K) = W_max; W_cubic(0) = cwnd_epoch (within the integer rounding).
        assert_eq!(c.w_cubic(c.k.get(), 100 * MSS, MSS), 100 * MSS);
        let at0 = c.w_cubic(Duration::ZERO, 100 * MSS, MSS);
        assert!((69_999..=70_001).contains(&at0), "{at0}");
        // Figure 1 at t = 1 s: 0.4·(1 - 4.2172)³ + 100 = 86.68 segments.
        let at1 = c.w_cubic(Duration::from_secs(1), 100 * MSS, MSS);
        assert!((86_670..=86_690).contains(&at1), "{at1}");
    }

    #[test]
    fn avoidance_grows_towards_w_max_then_probes_beyond_it() {
        let mut c = Cubic::new(MSS);
        c.cwnd = 100 * MSS;
        c.on_congestion_event(100 * MSS, MSS, Instant::ZERO);
        c.cwnd = c.ssthresh;
        let mut now = Instant::ZERO;
        let mut at_k = 0;
        // One window of ACKs per 100 ms RTT for 8 s.
        for step in 0..80 {
            let acks = c.cwnd / MSS;
            for _ in 0..acks {
                c.on_ack(&ack(now, MSS));
            }
            now += 100 * MS;
            if step == 42 {
                at_k = c.cwnd;
            }
        }
        // Near K the window plateaus at W_max; well after K it is beyond it.
        assert!((97 * MSS..=103 * MSS).contains(&at_k), "{at_k}");
        assert!(c.cwnd > 110 * MSS, "{}", c.cwnd);
    }

    #[test]
    fn the_reno_friendly_estimate_wins_on_a_short_rtt() {
        // With a small W_max and a tiny RTT, W_cubic barely moves while Reno (W_est) grows by
        // α·1 segment per RTT: cwnd follows W_est.
        let mut c = Cubic::new(MSS);
        c.cwnd = 20 * MSS;
        c.on_congestion_event(20 * MSS, MSS, Instant::ZERO);
        c.cwnd = c.ssthresh;
        let mut now = Instant::ZERO;
        let start = c.cwnd;
        for _ in 0..100 {
            for _ in 0..c.cwnd / MSS {
                let mut e = ack(now, MSS);
                e.srtt = MS;
                c.on_ack(&e);
            }
            now += MS;
        }
        // 100 RTTs of Reno at α ≈ 0.53 then 1: well over 50 segments gained.
        assert!(c.cwnd >= start + 50 * MSS, "{} from {}", c.cwnd, start);
        assert!(c.w_est <= c.cwnd);
    }

    #[test]
    fn an_application_limited_flow_does_not_grow() {
        let mut c = Cubic::new(MSS);
        let mut e = ack(Instant::ZERO, MSS);
        e.cwnd_limited = false;
        let before = c.cwnd;
        c.on_ack(&e);
        assert_eq!(c.cwnd, before);
    }

    #[test]
    fn rto_drops_to_one_segment_and_the_next_epoch_starts_at_its_own_window() {
        let mut c = Cubic::new(MSS);
        c.cwnd = 50 * MSS;
        c.on_rto(50 * MSS, MSS, Instant::ZERO);
        assert_eq!((c.cwnd, c.ssthresh, c.w_max), (MSS, 35 * MSS, None));
    }
}
