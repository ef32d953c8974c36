//! One direction of a link: decides each frame's fate and arrival time the moment it is sent.
//!
//! Deciding everything up front (rather than simulating a queue step by step) keeps the event
//! queue to one entry per delivered frame and makes the timing exact arithmetic.

use std::collections::VecDeque;

use ferrotcp::time::{Duration, Instant};

use crate::impairments::Impairments;
use crate::node::HostId;
use crate::rng::SimRng;
use crate::stats::LinkStats;

/// What the link will do with a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Tail-dropped: the serialisation queue was full.
    QueueFull,
    /// Dropped on the wire by random loss.
    Lost,
    /// Will arrive at `arrival`.
    Deliver {
        arrival: Instant,
        /// Bit index (0 = most significant bit of byte 0) to flip, if corrupted.
        corrupt_bit: Option<usize>,
        /// Deliver a second copy right behind this one.
        duplicate: bool,
        /// Held back by `reorder_delay`.
        reordered: bool,
    },
}

/// Time to clock `len` bytes onto a wire of `bps`, rounded up to whole microseconds.
pub(crate) fn serialisation_time(len: usize, bps: u64) -> Duration {
    if bps == 0 {
        return Duration::ZERO;
    }
    let bits = (len as u128) * 8 * 1_000_000;
    let bps = u128::from(bps);
    let micros = bits.div_ceil(bps);
    Duration::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
}

/// State of one direction of a link.
#[derive(Debug)]
pub(crate) struct Direction {
    pub(crate) from: HostId,
    pub(crate) to: HostId,
    impairments: Impairments,
    rng: SimRng,
    /// When the wire finishes serialising everything accepted so far.
    busy_until: Instant,
    /// Start-of-serialisation times of accepted frames not yet on the wire (ascending).
    waiting: VecDeque<Instant>,
    /// Latest arrival among frames not held back for reordering: in-order frames never arrive
    /// before it, which is what keeps jitter from reordering.
    fifo_floor: Instant,
    pub(crate) stats: LinkStats,
}

impl Direction {
    pub(crate) fn new(from: HostId, to: HostId, impairments: Impairments, rng: SimRng) -> Self {
        Direction {
            from,
            to,
            impairments,
            rng,
            busy_until: Instant::ZERO,
            waiting: VecDeque::new(),
            fifo_floor: Instant::ZERO,
            stats: LinkStats::default(),
        }
    }

    pub(crate) fn set_impairments(&mut self, impairments: Impairments) {
        self.impairments = impairments;
    }

    /// Decides the fate of a `len`-byte frame sent at `now`, updating counters. Random draws
    /// happen in a fixed order (loss, corruption, jitter, reorder, duplicate) for replayability.
    pub(crate) fn admit(&mut self, now: Instant, len: usize) -> Fate {
        self.stats.sent += 1;
        while self.waiting.front().is_some_and(|&start| start <= now) {
            self.waiting.pop_front();
        }
        if let Some(limit) = self.impairments.queue_limit {
            if self.busy_until > now && self.waiting.len() >= limit {
                self.stats.queue_dropped += 1;
                return Fate::QueueFull;
            }
        }
        let start = self.busy_until.max(now);
        if start > now {
            self.waiting.push_back(start);
        }
        let tx = self
            .impairments
            .bandwidth_bps
            .map_or(Duration::ZERO, |bps| serialisation_time(len, bps));
        let finish = start + tx;
        self.busy_until = finish;

        let imp = &self.impairments;
        if self.rng.chance(imp.loss) {
            self.stats.lost += 1;
            return Fate::Lost;
        }
        let corrupt_bit = if len > 0 && self.rng.chance(imp.corrupt) {
            self.stats.corrupted += 1;
            let bits = (len as u64).saturating_mul(8);
            Some(usize::try_from(self.rng.below(bits)).unwrap_or(0))
        } else {
            None
        };
        let mut arrival = finish + imp.delay + self.rng.duration_up_to(imp.jitter);
        let reordered = self.rng.chance(imp.reorder);
        if reordered {
            self.stats.reordered += 1;
            arrival += imp.reorder_delay;
        } else {
            arrival = arrival.max(self.fifo_floor);
            self.fifo_floor = arrival;
        }
        let duplicate = self.rng.chance(imp.duplicate);
        if duplicate {
            self.stats.duplicated += 1;
        }
        Fate::Deliver {
            arrival,
            corrupt_bit,
            duplicate,
            reordered,
        }
    }
}

/// Flips bit `bit` of `frame` (bit 0 is the most significant bit of byte 0).
pub(crate) fn flip_bit(frame: &mut [u8], bit: usize) {
    if let Some(byte) = frame.get_mut(bit / 8) {
        *byte ^= 0x80 >> (bit % 8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(imp: Impairments) -> Direction {
        Direction::new(HostId(0), HostId(1), imp, SimRng::new(1))
    }

    #[test]
    fn serialisation_rounds_up_to_whole_micros() {
        assert_eq!(
            serialisation_time(1250, 10_000_000),
            Duration::from_micros(1000)
        );
        assert_eq!(serialisation_time(1, 3_000_000), Duration::from_micros(3));
        assert_eq!(serialisation_time(0, 1), Duration::ZERO);
    }

    #[test]
    fn perfect_link_delivers_at_send_time_plus_delay() {
        let mut d = dir(Impairments::with_delay(Duration::from_millis(5)));
        let t = Instant::from_millis(1);
        assert_eq!(
            d.admit(t, 100),
            Fate::Deliver {
                arrival: Instant::from_millis(6),
                corrupt_bit: None,
                duplicate: false,
                reordered: false
            }
        );
    }

    #[test]
    fn queue_counts_only_frames_not_yet_on_the_wire() {
        let mut d = dir(Impairments {
            bandwidth_bps: Some(8_000_000), // 1 byte per microsecond
            queue_limit: Some(1),
            ..Impairments::default()
        });
        let t0 = Instant::ZERO;
        assert!(matches!(d.admit(t0, 100), Fate::Deliver { .. })); // on the wire
        assert!(matches!(d.admit(t0, 100), Fate::Deliver { .. })); // waiting
        assert_eq!(d.admit(t0, 100), Fate::QueueFull);
        // At t=100us the second frame starts serialising, freeing the queue slot.
        assert!(matches!(
            d.admit(Instant::from_micros(100), 100),
            Fate::Deliver { .. }
        ));
        assert_eq!(d.stats.queue_dropped, 1);
        assert_eq!(d.stats.sent, 4);
    }

    #[test]
    fn flip_bit_flips_exactly_that_bit() {
        let mut f = [0u8; 2];
        flip_bit(&mut f, 0);
        assert_eq!(f, [0x80, 0]);
        flip_bit(&mut f, 15);
        assert_eq!(f, [0x80, 0x01]);
        flip_bit(&mut f, 16); // out of range: no-op
        assert_eq!(f, [0x80, 0x01]);
    }
}
