//! Token bucket used to rate-limit ICMP error messages.
//!
//! RFC 1812 §4.3.2.8 and RFC 1122 §3.2.2 ask that the rate of ICMP error
//! messages be limited, so that a flood of bad packets cannot turn the stack
//! into an amplifier or starve the link. Linux uses a global token bucket
//! (`net.ipv4.icmp_msgs_per_sec` = 1000, `net.ipv4.icmp_msgs_burst` = 50); the
//! same defaults are offered here as [`TokenBucket::icmp_default`].
//!
//! Arithmetic is integer-only at microsecond resolution, so the same sequence of
//! `now` values always gives the same decisions (the stack is deterministic).

use crate::time::Instant;

/// Linux default `icmp_msgs_per_sec`.
pub const ICMP_MSGS_PER_SEC: u32 = 1000;
/// Linux default `icmp_msgs_burst`.
pub const ICMP_MSGS_BURST: u32 = 50;

/// Credit units per token: one token accrues `rate_per_sec` units per
/// microsecond, i.e. one token per `1e6 / rate` µs, with no rounding loss.
const UNITS_PER_TOKEN: u64 = 1_000_000;

/// A token bucket: up to `burst` tokens, refilled at `rate_per_sec` tokens per
/// second. It starts full.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    /// Tokens per second.
    rate: u64,
    /// Maximum credit, `burst * UNITS_PER_TOKEN`.
    capacity: u64,
    /// Current credit in units (1 token = `UNITS_PER_TOKEN`).
    credit: u64,
    /// When `credit` was last brought up to date; `None` until first use.
    last: Option<Instant>,
}

impl TokenBucket {
    /// A bucket holding at most `burst` tokens, refilled at `rate_per_sec`.
    ///
    /// `rate_per_sec == 0` never refills (only the initial burst is available);
    /// `burst == 0` never allows anything.
    pub fn new(rate_per_sec: u32, burst: u32) -> Self {
        let capacity = u64::from(burst) * UNITS_PER_TOKEN;
        TokenBucket {
            rate: u64::from(rate_per_sec),
            capacity,
            credit: capacity,
            last: None,
        }
    }

    /// Linux's global ICMP limit: 1000 messages per second, burst 50.
    pub fn icmp_default() -> Self {
        Self::new(ICMP_MSGS_PER_SEC, ICMP_MSGS_BURST)
    }

    /// Adds the credit accrued since the last call. Time going backwards adds
    /// nothing (and does not move `last` back).
    fn refill(&mut self, now: Instant) {
        match self.last {
            None => self.last = Some(now),
            Some(last) if now > last => {
                let elapsed = now.total_micros() - last.total_micros();
                let add = elapsed.saturating_mul(self.rate);
                self.credit = self.credit.saturating_add(add).min(self.capacity);
                self.last = Some(now);
            }
            Some(_) => {}
        }
    }

    /// Takes one token if available. `true` means the caller may send.
    pub fn try_take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.credit >= UNITS_PER_TOKEN {
            self.credit -= UNITS_PER_TOKEN;
            true
        } else {
            false
        }
    }

    /// Whole tokens available at `now` (for tests and statistics).
    pub fn available(&mut self, now: Instant) -> u32 {
        self.refill(now);
        u32::try_from(self.credit / UNITS_PER_TOKEN).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take_all(b: &mut TokenBucket, now: Instant) -> u32 {
        let mut n = 0;
        while b.try_take(now) {
            n += 1;
        }
        n
    }

    #[test]
    fn starts_full_with_burst() {
        let mut b = TokenBucket::new(10, 5);
        assert_eq!(take_all(&mut b, Instant::from_secs(100)), 5);
        assert!(!b.try_take(Instant::from_secs(100)));
    }

    #[test]
    fn refills_at_rate() {
        let mut b = TokenBucket::new(10, 5);
        let t0 = Instant::from_secs(1);
        assert_eq!(take_all(&mut b, t0), 5);
        // One token per 100 ms.
        assert!(!b.try_take(Instant::from_micros(1_099_999)));
        assert!(b.try_take(Instant::from_micros(1_100_000)));
        assert!(!b.try_take(Instant::from_micros(1_100_000)));
        // 350 ms later: 3 tokens (fraction kept).
        assert_eq!(take_all(&mut b, Instant::from_micros(1_450_000)), 3);
        assert_eq!(take_all(&mut b, Instant::from_micros(1_500_000)), 1);
    }

    #[test]
    fn capped_at_burst() {
        let mut b = TokenBucket::new(1000, 50);
        assert_eq!(take_all(&mut b, Instant::ZERO), 50);
        assert_eq!(b.available(Instant::from_secs(3600)), 50);
        assert_eq!(take_all(&mut b, Instant::from_secs(3600)), 50);
    }

    #[test]
    fn icmp_default_is_1000_per_sec_burst_50() {
        let mut b = TokenBucket::icmp_default();
        let t0 = Instant::from_secs(10);
        assert_eq!(take_all(&mut b, t0), 50);
        // 1 ms per token.
        assert!(!b.try_take(t0 + core::time::Duration::from_micros(999)));
        assert!(b.try_take(t0 + core::time::Duration::from_millis(1)));
        // Sustained over one second: exactly 1000 more.
        let mut sent = 0;
        for ms in 2..=1001u64 {
            if b.try_take(t0 + core::time::Duration::from_millis(ms)) {
                sent += 1;
            }
        }
        assert_eq!(sent, 1000);
    }

    #[test]
    fn fractional_rates_accumulate_exactly() {
        // 3 per second: one token every 333 333.33 µs.
        let mut b = TokenBucket::new(3, 1);
        assert!(b.try_take(Instant::ZERO));
        assert!(!b.try_take(Instant::from_micros(333_333)));
        assert!(b.try_take(Instant::from_micros(333_334)));
        // 1285 steps of 7.777 ms = 9.993445 s; 3/s gives 29.98 tokens: 29.
        let mut n = 0;
        let mut t = 333_334u64;
        while t <= 10_333_334 {
            if b.try_take(Instant::from_micros(t)) {
                n += 1;
            }
            t += 7_777;
        }
        assert_eq!(n, 29);
    }

    #[test]
    fn time_going_backwards_is_harmless() {
        let mut b = TokenBucket::new(1, 1);
        assert!(b.try_take(Instant::from_secs(10)));
        assert!(!b.try_take(Instant::from_secs(5)));
        assert!(!b.try_take(Instant::from_micros(10_999_999)));
        assert!(b.try_take(Instant::from_secs(11)));
    }

    #[test]
    fn degenerate_parameters() {
        let mut none = TokenBucket::new(1000, 0);
        assert!(!none.try_take(Instant::from_secs(1000)));
        let mut no_refill = TokenBucket::new(0, 2);
        assert_eq!(take_all(&mut no_refill, Instant::ZERO), 2);
        assert!(!no_refill.try_take(Instant::from_micros(u64::MAX)));
        let mut huge = TokenBucket::new(u32::MAX, u32::MAX);
        assert!(huge.try_take(Instant::ZERO));
        assert!(huge.try_take(Instant::from_micros(u64::MAX)));
        assert_eq!(huge.available(Instant::from_micros(u64::MAX)), u32::MAX - 1);
    }

    #[test]
    fn deterministic() {
        let times: Vec<Instant> = (0..500u64)
            .map(|i| Instant::from_micros(i * i * 37 % 3_000_000))
            .collect();
        let run = || {
            let mut b = TokenBucket::new(100, 10);
            times.iter().map(|&t| b.try_take(t)).collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }
}
