//! HyStart++ (RFC 9406): slow start that notices the queue building up. When a round's minimum
//! RTT rises above the last round's by a threshold, growth slows to a quarter (Conservative
//! Slow Start) for a few rounds; if the RTT falls back, slow start resumes, else congestion
//! avoidance begins without the loss slow start would otherwise have caused.

use crate::seq::SeqNum;
use crate::time::{Duration, StoredDuration};

/// RFC 9406 §4.3, the recommended values.
const MIN_RTT_THRESH: Duration = Duration::from_millis(4);
const MAX_RTT_THRESH: Duration = Duration::from_millis(16);
const MIN_RTT_DIVISOR: u32 = 8;
const N_RTT_SAMPLE: u32 = 8;
const CSS_GROWTH_DIVISOR: u32 = 4;
const CSS_ROUNDS: u32 = 5;
/// L for a sender that does not pace: at most 8 SMSS of growth per ACK.
const L: u32 = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    SlowStart,
    /// Conservative Slow Start since the RTT rose to `baseline`; `rounds` completed in it.
    Css {
        baseline: StoredDuration,
        rounds: u32,
    },
    /// Only the initial slow start uses HyStart++ (§4.3); later ones are plain.
    Done,
}

/// What one ACK in slow start grows the window by, and whether slow start is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Growth {
    pub bytes: u32,
    /// Enter congestion avoidance now (ssthresh = cwnd).
    pub exit: bool,
}

#[derive(Clone, Debug)]
pub struct HyStart {
    mode: Mode,
    /// windowEnd: the round ends when this is acknowledged.
    window_end: Option<SeqNum>,
    last_round_min: Option<StoredDuration>,
    current_round_min: Option<StoredDuration>,
    samples: u32,
}

impl Default for HyStart {
    fn default() -> Self {
        HyStart {
            mode: Mode::SlowStart,
            window_end: None,
            last_round_min: None,
            current_round_min: None,
            samples: 0,
        }
    }
}

impl HyStart {
    /// In use (the initial slow start is not over).
    pub fn active(&self) -> bool {
        self.mode != Mode::Done
    }

    /// A loss, an ECN mark or the end of CSS: HyStart++ is done for this connection.
    pub fn finish(&mut self) {
        self.mode = Mode::Done;
    }

    /// One ACK of `acked` new bytes in slow start. `una`/`nxt`: SND.UNA after it and SND.NXT;
    /// `rtt`: this ACK's RTT sample.
    pub fn on_ack(
        &mut self,
        acked: u32,
        mss: u32,
        una: SeqNum,
        nxt: SeqNum,
        rtt: Option<Duration>,
    ) -> Growth {
        let limited = acked.min(L * mss);
        if self.mode == Mode::Done {
            return Growth {
                bytes: limited,
                exit: false,
            };
        }
        // Rounds are measured in sequence numbers: one ends when windowEnd (SND.NXT when it
        // began) is acknowledged, i.e. SND.UNA passes it (Linux: after(ack, end_seq)).
        let end = *self.window_end.get_or_insert(nxt);
        if una.gt(end) {
            self.window_end = Some(nxt);
            self.last_round_min = self.current_round_min;
            self.current_round_min = None;
            self.samples = 0;
            if let Mode::Css { baseline, rounds } = self.mode {
                let rounds = rounds + 1;
                if rounds >= CSS_ROUNDS {
                    self.mode = Mode::Done;
                    return Growth {
                        bytes: limited / CSS_GROWTH_DIVISOR,
                        exit: true,
                    };
                }
                self.mode = Mode::Css { baseline, rounds };
            }
        }
        if let Some(rtt) = rtt {
            let min = self.current_round_min.map_or(rtt, |m| m.get().min(rtt));
            self.current_round_min = Some(min.into());
            self.samples += 1;
        }
        match self.mode {
            Mode::SlowStart => {
                if let (true, Some(current), Some(last)) = (
                    self.samples >= N_RTT_SAMPLE,
                    self.current_round_min.map(StoredDuration::get),
                    self.last_round_min.map(StoredDuration::get),
                ) {
                    let thresh = (last / MIN_RTT_DIVISOR).clamp(MIN_RTT_THRESH, MAX_RTT_THRESH);
                    if current >= last + thresh {
                        self.mode = Mode::Css {
                            baseline: current.into(),
                            rounds: 0,
                        };
                    }
                }
                Growth {
                    bytes: limited,
                    exit: false,
                }
            }
            Mode::Css { baseline, .. } => {
                if self.samples >= N_RTT_SAMPLE
                    && self
                        .current_round_min
                        .is_some_and(|current| current < baseline)
                {
                    // The RTT came back down: the exit was spurious; resume slow start.
                    self.mode = Mode::SlowStart;
                    return Growth {
                        bytes: limited,
                        exit: false,
                    };
                }
                Growth {
                    bytes: limited / CSS_GROWTH_DIVISOR,
                    exit: false,
                }
            }
            Mode::Done => Growth {
                bytes: limited,
                exit: false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);
    const MSS: u32 = 1000;

    /// One round: `acks` ACKs of one MSS each with RTT `rtt`, the flight of the round sent
    /// before it (SND.NXT = its end). Returns the growth of each ACK.
    fn round(h: &mut HyStart, seq: &mut u32, acks: u32, rtt: Duration) -> Vec<Growth> {
        let end = *seq + acks * MSS;
        (0..acks)
            .map(|_| {
                *seq += MSS;
                h.on_ack(MSS, MSS, SeqNum(*seq), SeqNum(end), Some(rtt))
            })
            .collect()
    }

    #[test]
    fn slow_start_grows_by_what_is_acked_up_to_l_segments() {
        let mut h = HyStart::default();
        let g = h.on_ack(20 * MSS, MSS, SeqNum(0), SeqNum(100), None);
        assert_eq!(g.bytes, L * MSS);
    }

    #[test]
    fn a_delay_rise_enters_css_at_a_quarter_and_css_rounds_end_slow_start() {
        let mut h = HyStart::default();
        let mut seq = 0;
        round(&mut h, &mut seq, 10, 20 * MS);
        round(&mut h, &mut seq, 10, 20 * MS);
        // RttThresh = clamp(20/8 = 2.5 ms, 4, 16) = 4 ms: 24 ms or more enters CSS after the
        // eighth sample of the round.
        let g = round(&mut h, &mut seq, 10, 24 * MS);
        assert!(g[..8].iter().all(|g| g.bytes == MSS));
        assert!(g[8..].iter().all(|g| g.bytes == MSS / 4), "{g:?}");
        let mut exits = 0;
        for _ in 0..CSS_ROUNDS {
            exits += round(&mut h, &mut seq, 10, 24 * MS)
                .iter()
                .filter(|g| g.exit)
                .count();
        }
        assert_eq!(exits, 1, "ssthresh = cwnd after CSS_ROUNDS rounds");
        assert!(!h.active());
    }

    #[test]
    fn an_rtt_back_below_the_baseline_resumes_slow_start() {
        let mut h = HyStart::default();
        let mut seq = 0;
        round(&mut h, &mut seq, 10, 20 * MS);
        round(&mut h, &mut seq, 10, 20 * MS);
        round(&mut h, &mut seq, 10, 30 * MS);
        let g = round(&mut h, &mut seq, 10, 21 * MS);
        assert_eq!(g.last().map(|g| g.bytes), Some(MSS), "{g:?}");
        assert!(h.active());
    }
}
