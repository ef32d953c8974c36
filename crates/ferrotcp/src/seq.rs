//! TCP sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293 §3.4).

use core::fmt;
use core::ops::{Add, Sub};

/// A TCP sequence number. Ordering is the wrapping comparison of RFC 9293 §3.4, which is only
/// meaningful for numbers less than 2^31 apart; that is why this type does not implement `Ord`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SeqNum(pub u32);

impl SeqNum {
    pub const fn new(raw: u32) -> Self {
        SeqNum(raw)
    }

    pub const fn raw(self) -> u32 {
        self.0
    }

    /// `self < other` modulo 2^32.
    pub fn lt(self, other: SeqNum) -> bool {
        (self.0.wrapping_sub(other.0) as i32) < 0
    }

    /// `self <= other` modulo 2^32.
    pub fn le(self, other: SeqNum) -> bool {
        (self.0.wrapping_sub(other.0) as i32) <= 0
    }

    pub fn gt(self, other: SeqNum) -> bool {
        other.lt(self)
    }

    pub fn ge(self, other: SeqNum) -> bool {
        other.le(self)
    }

    /// Signed distance `self - other`.
    pub fn diff(self, other: SeqNum) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    pub fn max(self, other: SeqNum) -> SeqNum {
        if self.lt(other) { other } else { self }
    }

    pub fn min(self, other: SeqNum) -> SeqNum {
        if self.lt(other) { self } else { other }
    }

    /// `low <= self < high` modulo 2^32.
    pub fn in_window(self, low: SeqNum, high: SeqNum) -> bool {
        low.le(self) && self.lt(high)
    }
}

impl Add<u32> for SeqNum {
    type Output = SeqNum;
    fn add(self, rhs: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(rhs))
    }
}

impl Add<usize> for SeqNum {
    type Output = SeqNum;
    fn add(self, rhs: usize) -> SeqNum {
        // Sequence space wraps; a length is always far below 2^32.
        SeqNum(self.0.wrapping_add(rhs as u32))
    }
}

impl Sub<u32> for SeqNum {
    type Output = SeqNum;
    fn sub(self, rhs: u32) -> SeqNum {
        SeqNum(self.0.wrapping_sub(rhs))
    }
}

impl Sub<SeqNum> for SeqNum {
    /// Unsigned distance; callers use it only where `self >= rhs` is known.
    type Output = u32;
    fn sub(self, rhs: SeqNum) -> u32 {
        self.0.wrapping_sub(rhs.0)
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_wrap_around_2_pow_32() {
        let a = SeqNum(u32::MAX - 10);
        let b = a + 20u32;
        assert!(a.lt(b));
        assert!(b.gt(a));
        assert_eq!(b - a, 20);
        assert_eq!(b.diff(a), 20);
        assert_eq!(a.diff(b), -20);
        assert!(b.in_window(a, a + 21u32));
        assert!(!a.in_window(b, b + 5u32));
    }
}
