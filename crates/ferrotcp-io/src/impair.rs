//! User-space link impairments (loss, delay, reordering) on the device path, for kernels
//! without netem. Deterministic: the fate of the n-th frame pushed into an [`Impairer`]
//! depends only on the seed, the stream and n.
//!
//! Model, per frame entering at `now`:
//! 1. with probability `loss` it is dropped;
//! 2. otherwise it is due at `now + delay`;
//! 3. and with probability `reorder` it is held back an extra `delay + 2 ms` (so due at
//!    `now + 2 * delay + 2 ms`): frames entering during that window overtake it.
//!
//! Frames come out in order of due time, ties in the order they entered, so without
//! reordering (and with a non-decreasing `now`) delivery is FIFO.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

/// Extra hold-back of a reordered frame on top of `delay` (see the module docs).
pub const REORDER_EXTRA: Duration = Duration::from_millis(2);

/// What to do to the frames of one direction.
#[derive(Clone, Debug, Default)]
pub struct ImpairConfig {
    /// Probability (0..=1) that a frame is dropped. Values outside are clamped; NaN is 0.
    pub loss: f64,
    /// Fixed one-way delay added to every frame.
    pub delay: Duration,
    /// Probability (0..=1) that a frame is held back `delay + 2 ms` more than the others.
    pub reorder: f64,
    /// Seed of the pseudo-random decisions.
    pub seed: u64,
}

/// Counters of an [`Impairer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImpairStats {
    /// Frames accepted for delivery (pushed and not dropped).
    pub passed: u64,
    /// Frames dropped.
    pub dropped: u64,
    /// Accepted frames that were held back for reordering.
    pub reordered: u64,
}

/// Impairs one direction of a link. Use one per direction, with different `stream`s.
#[derive(Debug)]
pub struct Impairer {
    config: ImpairConfig,
    rng: Xoshiro256StarStar,
    queue: BinaryHeap<Reverse<Queued>>,
    next_seq: u64,
    stats: ImpairStats,
}

impl Impairer {
    /// An impairer whose decisions come from `config.seed` and `stream`: the same seed with
    /// different streams gives independent sequences (one per direction).
    pub fn new(config: ImpairConfig, stream: u64) -> Self {
        Impairer {
            rng: Xoshiro256StarStar::new(config.seed, stream),
            config,
            queue: BinaryHeap::new(),
            next_seq: 0,
            stats: ImpairStats::default(),
        }
    }

    /// A frame enters at `now`; it is dropped (returns false) or queued for delivery.
    pub fn push(&mut self, now: Instant, frame: Vec<u8>) -> bool {
        // Always draw both numbers so that each frame's fate depends only on its index.
        let lose = self.rng.next_f64() < probability(self.config.loss);
        let hold = self.rng.next_f64() < probability(self.config.reorder);
        if lose {
            self.stats.dropped += 1;
            return false;
        }
        let mut due = now + self.config.delay;
        if hold {
            due += self.config.delay + REORDER_EXTRA;
            self.stats.reordered += 1;
        }
        self.stats.passed += 1;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push(Reverse(Queued { due, seq, frame }));
        true
    }

    /// The next frame due at `now` (frames come out in delivery order); call until `None`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.queue.peek()?.0.due > now {
            return None;
        }
        self.queue.pop().map(|Reverse(q)| q.frame)
    }

    /// When the next queued frame is due (for the runtime's poll timeout).
    pub fn next_due(&self) -> Option<Instant> {
        self.queue.peek().map(|Reverse(q)| q.due)
    }

    /// Frames passed, dropped and reordered so far.
    pub fn stats(&self) -> ImpairStats {
        self.stats
    }
}

fn probability(p: f64) -> f64 {
    if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) }
}

#[derive(Debug)]
struct Queued {
    due: Instant,
    seq: u64,
    frame: Vec<u8>,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Queued {}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Queued {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): seeds the main generator.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// xoshiro256** (Blackman, Vigna 2018).
#[derive(Clone, Debug)]
struct Xoshiro256StarStar {
    s: [u64; 4],
}

impl Xoshiro256StarStar {
    fn new(seed: u64, stream: u64) -> Self {
        // Mix seed and stream separately so that neighbouring (seed, stream) pairs do not
        // yield shifted copies of one SplitMix sequence.
        let mut a = seed;
        let mut b = stream ^ 0x6a09_e667_f3bc_c909;
        let mut state = splitmix64(&mut a) ^ splitmix64(&mut b).rotate_left(29);
        let s = [
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
        ];
        // SplitMix64 outputs are a bijection of distinct states, so never all zero.
        Xoshiro256StarStar { s }
    }

    fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1) with 53 bits of precision.
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // First outputs for seed 0 (reference implementation).
        let mut s = 0u64;
        assert_eq!(splitmix64(&mut s), 0xe220_a839_7b1d_cdaf);
        assert_eq!(splitmix64(&mut s), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn xoshiro_reference_values() {
        // xoshiro256** from state [1, 2, 3, 4] (reference implementation).
        let mut g = Xoshiro256StarStar { s: [1, 2, 3, 4] };
        let out: Vec<u64> = (0..3).map(|_| g.next_u64()).collect();
        assert_eq!(out, [11520, 0, 1509978240]);
    }

    #[test]
    fn floats_are_in_unit_interval() {
        let mut g = Xoshiro256StarStar::new(7, 0);
        for _ in 0..10_000 {
            let x = g.next_f64();
            assert!((0.0..1.0).contains(&x));
        }
    }

    #[test]
    fn probabilities_are_sanitised() {
        assert_eq!(probability(f64::NAN), 0.0);
        assert_eq!(probability(-1.0), 0.0);
        assert_eq!(probability(2.0), 1.0);
        assert_eq!(probability(0.25), 0.25);
    }
}
