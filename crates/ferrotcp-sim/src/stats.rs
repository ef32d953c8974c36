//! Frame counters, per link direction and summed over the network.

use core::ops::AddAssign;

/// What happened to frames. A duplicate counts once in `duplicated` and, when it arrives, once in
/// `delivered`, so `delivered` can exceed `sent`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Frames handed to a link by a node.
    pub sent: u64,
    /// Frames handed to the receiving node (duplicates included).
    pub delivered: u64,
    /// Frames dropped by random loss.
    pub lost: u64,
    /// Frames tail-dropped because the serialisation queue was full.
    pub queue_dropped: u64,
    /// Extra copies created.
    pub duplicated: u64,
    /// Frames held back by `reorder_delay`.
    pub reordered: u64,
    /// Frames with one bit flipped.
    pub corrupted: u64,
    /// Frames sent by a host that has no link (dropped, never traced as sent).
    pub unroutable: u64,
}

impl AddAssign for LinkStats {
    fn add_assign(&mut self, rhs: LinkStats) {
        self.sent += rhs.sent;
        self.delivered += rhs.delivered;
        self.lost += rhs.lost;
        self.queue_dropped += rhs.queue_dropped;
        self.duplicated += rhs.duplicated;
        self.reordered += rhs.reordered;
        self.corrupted += rhs.corrupted;
        self.unroutable += rhs.unroutable;
    }
}
