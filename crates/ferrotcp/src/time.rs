//! Time as the stack sees it: a point on a monotonic clock that the caller supplies.
//!
//! The protocol crate never reads a clock; every entry point takes `now: Instant`.
//! The simulator feeds virtual time, the device runtime feeds a real monotonic clock.

use core::fmt;
use core::num::NonZeroU64;
use core::ops::{Add, AddAssign, Sub};
pub use core::time::Duration;

/// Microseconds since an arbitrary epoch chosen by the driver (at most `u64::MAX - 1`: later
/// times saturate there).
///
/// Stored as micros + 1 in a `NonZeroU64`, so that `Option<Instant>` (a timer slot, a "last
/// seen" mark) takes 8 bytes instead of 16: a connection holds about twenty of them.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(NonZeroU64);

impl Instant {
    pub const ZERO: Instant = Instant(NonZeroU64::MIN);

    pub const fn from_micros(micros: u64) -> Self {
        Instant(match NonZeroU64::new(micros.saturating_add(1)) {
            Some(v) => v,
            None => NonZeroU64::MAX,
        })
    }

    pub const fn from_millis(millis: u64) -> Self {
        Instant::from_micros(millis.saturating_mul(1000))
    }

    pub const fn from_secs(secs: u64) -> Self {
        Instant::from_micros(secs.saturating_mul(1_000_000))
    }

    pub const fn total_micros(self) -> u64 {
        self.0.get() - 1
    }

    pub const fn total_millis(self) -> u64 {
        self.total_micros() / 1000
    }

    /// Time elapsed since `earlier`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.0.get().saturating_sub(earlier.0.get()))
    }
}

impl Default for Instant {
    fn default() -> Self {
        Instant::ZERO
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Instant")
            .field(&self.total_micros())
            .finish()
    }
}

/// A [`Duration`] as a connection stores it: nanoseconds + 1 in a `NonZeroU64`, 8 bytes (and
/// 8 as an `Option`) where `Duration` takes 16. Exact up to 584 years, which no duration a
/// connection keeps comes near (longer ones saturate there); arithmetic stays on `Duration`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct StoredDuration(NonZeroU64);

impl StoredDuration {
    pub const ZERO: StoredDuration = StoredDuration(NonZeroU64::MIN);

    pub fn new(d: Duration) -> StoredDuration {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        StoredDuration(NonZeroU64::new(nanos.saturating_add(1)).unwrap_or(NonZeroU64::MAX))
    }

    pub fn get(self) -> Duration {
        Duration::from_nanos(self.0.get() - 1)
    }
}

impl From<Duration> for StoredDuration {
    fn from(d: Duration) -> StoredDuration {
        StoredDuration::new(d)
    }
}

impl fmt::Debug for StoredDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

fn micros_of(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        // Stored values are micros + 1: adding to the stored value directly saturates at the
        // same place, and a sum of a nonzero value is never zero.
        let sum = self.0.get().saturating_add(micros_of(rhs));
        Instant(NonZeroU64::new(sum).unwrap_or(NonZeroU64::MAX))
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_since(rhs)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let micros = self.total_micros();
        write!(f, "{}.{:06}s", micros / 1_000_000, micros % 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_optional_instant_costs_no_more_than_an_instant() {
        assert_eq!(core::mem::size_of::<Option<Instant>>(), 8);
    }

    #[test]
    fn arithmetic_and_order_are_those_of_the_microseconds() {
        let t = Instant::from_millis(1500);
        assert_eq!(t.total_micros(), 1_500_000);
        assert_eq!(Instant::ZERO.total_micros(), 0);
        assert_eq!(Instant::default(), Instant::ZERO);
        assert_eq!((t + Duration::from_micros(7)).total_micros(), 1_500_007);
        assert_eq!(t - Instant::ZERO, Duration::from_millis(1500));
        assert_eq!(Instant::ZERO - t, Duration::ZERO);
        assert!(Instant::ZERO < t && t < t + Duration::from_nanos(1000));
        assert_eq!(t.to_string(), "1.500000s");
        assert_eq!(format!("{t:?}"), "Instant(1500000)");
    }

    #[test]
    fn a_stored_duration_is_exact_and_small() {
        assert_eq!(core::mem::size_of::<Option<StoredDuration>>(), 8);
        for d in [
            Duration::ZERO,
            Duration::from_nanos(1),
            Duration::from_micros(62_500),
            Duration::from_nanos(112_499_999),
            Duration::from_secs(120),
            Duration::from_secs(7200),
        ] {
            assert_eq!(StoredDuration::new(d).get(), d);
        }
        assert_eq!(StoredDuration::ZERO.get(), Duration::ZERO);
        let most = Duration::from_nanos(u64::MAX - 1);
        assert_eq!(StoredDuration::new(Duration::MAX).get(), most);
        assert!(StoredDuration::new(Duration::from_millis(1)) < Duration::from_millis(2).into());
    }

    #[test]
    fn the_far_future_saturates_in_one_place() {
        let end = Instant::from_micros(u64::MAX);
        assert_eq!(end.total_micros(), u64::MAX - 1);
        assert_eq!(Instant::ZERO + Duration::MAX, end);
        assert_eq!(end + Duration::from_secs(1), end);
        assert_eq!(Instant::from_secs(u64::MAX), end);
        assert_eq!(Instant::from_micros(u64::MAX - 1), end);
        assert!(Instant::from_micros(u64::MAX - 2) < end);
    }
}
