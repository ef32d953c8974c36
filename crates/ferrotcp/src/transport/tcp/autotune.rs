//! Buffers that size themselves (Linux's dynamic right-sizing): the receive buffer grows with
//! what the application actually consumes per round trip (tcp_rcv_space_adjust), the send
//! buffer with the congestion window (tcp_sndbuf_expand), each up to a configured maximum, so
//! a long fat path is not held to the initial window while an idle connection keeps little.

use crate::time::{Duration, Instant, StoredDuration};

/// Linux's 16·advmss of headroom over twice the bytes read per round trip.
const HEADROOM_SEGMENTS: u64 = 16;

/// The receive side's measurement: bytes the application read per round trip.
#[derive(Clone, Copy, Debug)]
pub(super) struct RecvAutotune {
    /// Largest the buffer may grow (the window-scale shift was chosen for it).
    pub max: usize,
    /// The receiver's RTT estimate (from the handshake, then echoed timestamps).
    pub rtt: Option<StoredDuration>,
    /// When the current measurement began and how much had been read by then.
    since: Option<(Instant, u64)>,
    /// Bytes read in the last full round trip measured (Linux's rcvq_space.space).
    space: u64,
}

impl RecvAutotune {
    pub fn new(max: usize) -> RecvAutotune {
        RecvAutotune {
            max,
            rtt: None,
            since: None,
            space: 0,
        }
    }

    /// A round-trip sample seen by the receiving side; the minimum is kept (queues only add).
    pub fn rtt_sample(&mut self, rtt: Duration) {
        self.rtt = Some(self.rtt.map_or(rtt, |r| r.get().min(rtt)).into());
    }

    /// The application has read `read_total` bytes so far. Returns the buffer size to grow
    /// to, if a round trip has passed and the reading rate asks for more than `current`.
    pub fn on_read(
        &mut self,
        now: Instant,
        read_total: u64,
        current: usize,
        mss: u32,
    ) -> Option<usize> {
        let rtt = self.rtt?.get();
        let Some((start, at)) = self.since else {
            self.since = Some((now, read_total));
            return None;
        };
        if now.saturating_since(start) < rtt {
            return None;
        }
        self.since = Some((now, read_total));
        let copied = read_total - at;
        if copied <= self.space {
            return None;
        }
        // tcp_rcv_space_adjust: twice what was read, plus headroom; if the rate is still
        // growing (slow start doubles it), twice the growth again on top.
        let mut win = 2 * copied + HEADROOM_SEGMENTS * u64::from(mss);
        if let Some(grow) = (win * (copied - self.space)).checked_div(self.space) {
            win += 2 * grow;
        }
        self.space = copied;
        let target = usize::try_from(win).unwrap_or(usize::MAX).min(self.max);
        (target > current).then_some(target)
    }
}

/// tcp_sndbuf_expand: room for twice the congestion window (so a full window can be
/// retransmitted while the next is queued), at most `max`.
pub(super) fn send_buffer_for(cwnd: u32, current: usize, max: usize) -> Option<usize> {
    let want = usize::try_from(u64::from(cwnd) * 2)
        .unwrap_or(usize::MAX)
        .min(max);
    (want > current).then_some(want)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn the_receive_buffer_follows_twice_the_reading_rate_and_its_growth() {
        let mut a = RecvAutotune::new(8 << 20);
        a.rtt_sample(20 * MS);
        let t0 = Instant::from_secs(1);
        assert_eq!(
            a.on_read(t0, 0, 256 << 10, 1000),
            None,
            "the first measurement starts"
        );
        assert_eq!(
            a.on_read(t0 + 10 * MS, 100_000, 256 << 10, 1000),
            None,
            "within a round trip"
        );
        // 200 kB read in the first round trip: 2·200k + 16k = 416 000.
        assert_eq!(
            a.on_read(t0 + 20 * MS, 200_000, 256 << 10, 1000),
            Some(416_000)
        );
        // Doubling to 400 kB: 2·400k + 16k = 816k, plus 2·816k·(400k-200k)/200k.
        assert_eq!(
            a.on_read(t0 + 40 * MS, 600_000, 416_000, 1000),
            Some(816_000 * 3)
        );
        // Capped at the maximum.
        assert_eq!(
            a.on_read(t0 + 60 * MS, 5_600_000, 2_448_000, 1000),
            Some(8 << 20)
        );
    }

    #[test]
    fn a_reader_that_does_not_speed_up_does_not_grow_the_buffer() {
        let mut a = RecvAutotune::new(8 << 20);
        a.rtt_sample(20 * MS);
        let t0 = Instant::from_secs(1);
        a.on_read(t0, 0, 64 << 10, 1000);
        assert_eq!(
            a.on_read(t0 + 20 * MS, 10_000, 64 << 10, 1000),
            None,
            "36k < 64k"
        );
        assert_eq!(a.on_read(t0 + 40 * MS, 20_000, 64 << 10, 1000), None);
    }

    #[test]
    fn the_send_buffer_holds_twice_the_window() {
        assert_eq!(send_buffer_for(300_000, 256 << 10, 4 << 20), Some(600_000));
        assert_eq!(send_buffer_for(100_000, 256 << 10, 4 << 20), None);
        assert_eq!(
            send_buffer_for(3_000_000, 256 << 10, 4 << 20),
            Some(4 << 20)
        );
    }
}
