//! ARP neighbour cache (RFC 826), with Linux-like timings.
//!
//! Maps IPv4 addresses to Ethernet addresses and tracks resolutions in
//! progress. Packets that wait for a resolution are queued here (bounded per
//! address and in total, so an unresolvable destination cannot exhaust memory;
//! RFC 1122 §2.3.2.2 asks for at least one queued packet per unresolved
//! destination and says the queue SHOULD be small).
//!
//! Each entry is in one of three states, each with exactly one deadline:
//! - resolved: usable until `entry_lifetime` after the last confirmation
//!   (Linux `base_reachable_time` is 30 s randomised; we use a fixed 60 s);
//! - incomplete: a request was sent; re-sent every `retry_interval` until
//!   `max_retries` requests went unanswered (Linux `mcast_solicit` = 3,
//!   `retrans_time` = 1 s; RFC 1122 §2.3.2.1 requires this flood limit);
//! - failed: resolution gave up; lookups fail for `retry_interval` before a new
//!   attempt is allowed (like Linux's FAILED state), which keeps a busy sender
//!   from flooding the link with requests for a dead host.
//!
//! All operations are O(log n): entries live in a `BTreeMap`, deadlines in an
//! ordered set, and insertion age in another ordered set for eviction. Ordered
//! containers (rather than `HashMap`) keep iteration, and so the order of
//! re-sent requests, deterministic without any random hasher state.

use crate::time::{Duration, Instant};
use crate::wire::ethernet::MacAddr;
use core::net::Ipv4Addr;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Tunables for [`ArpCache`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpConfig {
    /// How long a learned mapping stays valid without being refreshed.
    pub entry_lifetime: Duration,
    /// Interval between requests for an unresolved address, and how long a
    /// failed resolution is remembered.
    pub retry_interval: Duration,
    /// Total number of requests sent before giving up (at least 1 is used).
    pub max_retries: u32,
    /// Packets queued per unresolved address.
    pub max_pending_per_ip: usize,
    /// Packets queued over all unresolved addresses.
    pub max_pending_total: usize,
    /// Entries (of any state) kept; the oldest is evicted beyond this (at
    /// least 1 is used).
    pub max_entries: usize,
}

impl Default for ArpConfig {
    fn default() -> Self {
        ArpConfig {
            entry_lifetime: Duration::from_secs(60),
            retry_interval: Duration::from_secs(1),
            max_retries: 3,
            max_pending_per_ip: 16,
            max_pending_total: 256,
            max_entries: 1024,
        }
    }
}

/// Result of [`ArpCache::lookup`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The address is resolved.
    Found(MacAddr),
    /// Resolution just started: the caller must send an ARP request now.
    SendRequest,
    /// Resolution already in progress; a request was sent recently.
    Pending,
    /// Resolution failed recently (retries exhausted); the caller should drop
    /// the packet (and may report host unreachable).
    Failed,
}

/// Outcome of [`ArpCache::handle_timeout`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArpTimeoutResult {
    /// Queued packets discarded since the previous call: those of resolutions
    /// whose retries ran out, plus those of entries evicted to make room.
    pub dropped: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Resolved(MacAddr),
    /// `requests` = requests sent so far for this resolution.
    Incomplete {
        requests: u32,
    },
    Failed,
}

#[derive(Debug)]
struct Entry<P> {
    state: State,
    /// Expiry (resolved), next retry (incomplete) or end of hold-down (failed).
    /// Always mirrored in `ArpCache::timers`.
    deadline: Instant,
    /// Creation or last confirmation; mirrored in `ArpCache::ages`.
    born: Instant,
    /// Packets waiting for this address. Kept across state changes so that
    /// packets queued before `insert` can be taken afterwards.
    queue: VecDeque<P>,
}

/// The neighbour cache. `P` is a queued packet (the stack uses an IPv4 packet
/// buffer).
#[derive(Debug)]
pub struct ArpCache<P> {
    config: ArpConfig,
    entries: BTreeMap<Ipv4Addr, Entry<P>>,
    /// (deadline, ip) for every entry.
    timers: BTreeSet<(Instant, Ipv4Addr)>,
    /// (born, ip) for every entry; the first is the eviction victim.
    ages: BTreeSet<(Instant, Ipv4Addr)>,
    pending_total: usize,
    /// Packets dropped by eviction, reported by the next `handle_timeout`.
    evicted_dropped: usize,
}

impl<P> ArpCache<P> {
    /// An empty cache.
    pub fn new(config: ArpConfig) -> Self {
        ArpCache {
            config,
            entries: BTreeMap::new(),
            timers: BTreeSet::new(),
            ages: BTreeSet::new(),
            pending_total: 0,
            evicted_dropped: 0,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &ArpConfig {
        &self.config
    }

    fn max_retries(&self) -> u32 {
        self.config.max_retries.max(1)
    }

    fn max_entries(&self) -> usize {
        self.config.max_entries.max(1)
    }

    /// Moves `ip`'s deadline, keeping `timers` in sync.
    fn reschedule(
        timers: &mut BTreeSet<(Instant, Ipv4Addr)>,
        ip: Ipv4Addr,
        entry: &mut Entry<P>,
        deadline: Instant,
    ) {
        timers.remove(&(entry.deadline, ip));
        timers.insert((deadline, ip));
        entry.deadline = deadline;
    }

    /// Moves `ip`'s age, keeping `ages` in sync.
    fn reage(
        ages: &mut BTreeSet<(Instant, Ipv4Addr)>,
        ip: Ipv4Addr,
        entry: &mut Entry<P>,
        born: Instant,
    ) {
        ages.remove(&(entry.born, ip));
        ages.insert((born, ip));
        entry.born = born;
    }

    /// Removes an entry entirely; returns how many queued packets it dropped.
    fn remove_entry(&mut self, ip: Ipv4Addr) -> usize {
        match self.entries.remove(&ip) {
            Some(entry) => {
                self.timers.remove(&(entry.deadline, ip));
                self.ages.remove(&(entry.born, ip));
                let n = entry.queue.len();
                self.pending_total -= n;
                n
            }
            None => 0,
        }
    }

    /// Adds a new entry, evicting the oldest ones if the cache is full.
    fn add_entry(&mut self, now: Instant, ip: Ipv4Addr, state: State, deadline: Instant) {
        while self.entries.len() >= self.max_entries() {
            let Some(&(_, victim)) = self.ages.first() else {
                break;
            };
            let dropped = self.remove_entry(victim);
            self.evicted_dropped += dropped;
        }
        self.entries.insert(
            ip,
            Entry {
                state,
                deadline,
                born: now,
                queue: VecDeque::new(),
            },
        );
        self.timers.insert((deadline, ip));
        self.ages.insert((now, ip));
    }

    /// Looks up `ip`, starting a resolution if it is unknown or expired.
    ///
    /// Expired resolved entries count as absent (RFC 826 leaves ageing to the
    /// implementation; stale mappings must not be used forever).
    pub fn lookup(&mut self, now: Instant, ip: Ipv4Addr) -> Lookup {
        let retry_at = now + self.config.retry_interval;
        let Some(entry) = self.entries.get_mut(&ip) else {
            self.add_entry(now, ip, State::Incomplete { requests: 1 }, retry_at);
            return Lookup::SendRequest;
        };
        match entry.state {
            State::Resolved(mac) if now < entry.deadline => Lookup::Found(mac),
            State::Incomplete { .. } => Lookup::Pending,
            State::Failed if now < entry.deadline => Lookup::Failed,
            // Expired mapping, or failure hold-down over: resolve afresh.
            State::Resolved(_) | State::Failed => {
                entry.state = State::Incomplete { requests: 1 };
                Self::reschedule(&mut self.timers, ip, entry, retry_at);
                Self::reage(&mut self.ages, ip, entry, now);
                Lookup::SendRequest
            }
        }
    }

    /// Learns or refreshes `ip -> mac` (from an ARP reply, or a request per
    /// RFC 826's merge rule — deciding which packets may update the cache is
    /// the caller's job). Any packets queued for `ip` stay queued until
    /// [`take_pending`](Self::take_pending).
    pub fn insert(&mut self, now: Instant, ip: Ipv4Addr, mac: MacAddr) {
        let expires = now + self.config.entry_lifetime;
        match self.entries.get_mut(&ip) {
            Some(entry) => {
                entry.state = State::Resolved(mac);
                Self::reschedule(&mut self.timers, ip, entry, expires);
                Self::reage(&mut self.ages, ip, entry, now);
            }
            None => self.add_entry(now, ip, State::Resolved(mac), expires),
        }
    }

    /// Reachability confirmed by traffic from `ip` carrying `mac` (RFC 1122 §2.3.2.1 allows upper
    /// layer advice; Linux confirms neighbours the same way): extends a valid mapping only, so a
    /// busy peer is not re-resolved every `entry_lifetime`.
    pub fn confirm(&mut self, now: Instant, ip: Ipv4Addr, mac: MacAddr) {
        if let Some(entry) = self.entries.get_mut(&ip)
            && entry.state == State::Resolved(mac)
            && now < entry.deadline
        {
            let expires = now + self.config.entry_lifetime;
            Self::reschedule(&mut self.timers, ip, entry, expires);
            Self::reage(&mut self.ages, ip, entry, now);
        }
    }

    /// Queues a packet waiting for `ip` to resolve.
    ///
    /// Only accepted while a resolution is in progress (after `lookup`
    /// returned `SendRequest` or `Pending`); otherwise, or when the per-IP or
    /// total bound is reached, the packet is handed back as `Err` and the
    /// caller counts the drop. `_now` is unused and kept for API symmetry.
    pub fn enqueue(&mut self, _now: Instant, ip: Ipv4Addr, packet: P) -> Result<(), P> {
        if self.pending_total >= self.config.max_pending_total {
            return Err(packet);
        }
        match self.entries.get_mut(&ip) {
            Some(entry)
                if matches!(entry.state, State::Incomplete { .. })
                    && entry.queue.len() < self.config.max_pending_per_ip =>
            {
                entry.queue.push_back(packet);
                self.pending_total += 1;
                Ok(())
            }
            _ => Err(packet),
        }
    }

    /// Removes and yields the packets queued for `ip`, oldest first (call
    /// after `insert`; the caller sends them).
    ///
    /// The iterator drains the queue: packets not consumed before it is
    /// dropped are discarded. The queue's buffer stays with the entry for
    /// reuse. Unknown addresses yield nothing.
    pub fn take_pending(&mut self, ip: Ipv4Addr) -> impl Iterator<Item = P> + '_ {
        let queue = self.entries.get_mut(&ip).map(|e| &mut e.queue);
        if let Some(q) = &queue {
            self.pending_total -= q.len();
        }
        queue.into_iter().flat_map(|q| q.drain(..))
    }

    /// Runs due timers: pushes into `resend` the addresses whose request must
    /// be re-sent now (in deadline order, ties by address), fails resolutions
    /// whose `max_retries` requests all went unanswered (dropping their queued
    /// packets), and removes expired entries.
    pub fn handle_timeout(&mut self, now: Instant, resend: &mut Vec<Ipv4Addr>) -> ArpTimeoutResult {
        let mut dropped = core::mem::take(&mut self.evicted_dropped);
        let max_retries = self.max_retries();
        let retry_at = now + self.config.retry_interval;
        while let Some(&(deadline, ip)) = self.timers.first() {
            if deadline > now {
                break;
            }
            let Some(entry) = self.entries.get_mut(&ip) else {
                // Unreachable while the sets stay in sync; heal anyway.
                self.timers.pop_first();
                continue;
            };
            match entry.state {
                State::Incomplete { requests } if requests < max_retries => {
                    entry.state = State::Incomplete {
                        requests: requests + 1,
                    };
                    Self::reschedule(&mut self.timers, ip, entry, retry_at);
                    resend.push(ip);
                }
                State::Incomplete { .. } => {
                    // RFC 1122 §2.3.2.1: give up; queued packets are lost.
                    let n = entry.queue.len();
                    entry.queue.clear();
                    self.pending_total -= n;
                    dropped += n;
                    entry.state = State::Failed;
                    if retry_at > now {
                        Self::reschedule(&mut self.timers, ip, entry, retry_at);
                    } else {
                        // Zero hold-down: forget it at once (avoids looping).
                        dropped += self.remove_entry(ip);
                    }
                }
                State::Resolved(_) | State::Failed => dropped += self.remove_entry(ip),
            }
        }
        ArpTimeoutResult { dropped }
    }

    /// The earliest instant at which [`handle_timeout`](Self::handle_timeout)
    /// has work (a retry, a failure, or an expiry), if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|&(t, _)| t)
    }

    /// Number of entries (resolved, incomplete and failed).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Packets queued over all addresses.
    pub fn pending_total(&self) -> usize {
        self.pending_total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
    const MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);

    fn secs(s: u64) -> Instant {
        Instant::from_secs(s)
    }

    fn cache() -> ArpCache<u32> {
        ArpCache::new(ArpConfig::default())
    }

    fn ip(n: u32) -> Ipv4Addr {
        Ipv4Addr::from(0x0a00_0000 + n)
    }

    #[test]
    fn unknown_then_pending_then_found() {
        let mut c = cache();
        assert!(c.is_empty());
        assert_eq!(c.lookup(secs(10), IP), Lookup::SendRequest);
        assert_eq!(c.lookup(secs(10), IP), Lookup::Pending);
        assert_eq!(c.poll_timeout(), Some(secs(11)));
        c.insert(secs(10), IP, MAC);
        assert_eq!(c.lookup(secs(10), IP), Lookup::Found(MAC));
        assert_eq!(c.len(), 1);
        assert_eq!(c.poll_timeout(), Some(secs(70)));
    }

    #[test]
    fn queued_packets_come_out_in_order() {
        let mut c = cache();
        assert_eq!(c.lookup(secs(1), IP), Lookup::SendRequest);
        for p in 0..5 {
            assert_eq!(c.enqueue(secs(1), IP, p), Ok(()));
        }
        assert_eq!(c.pending_total(), 5);
        c.insert(secs(1), IP, MAC);
        assert_eq!(c.take_pending(IP).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
        assert_eq!(c.pending_total(), 0);
        assert_eq!(c.take_pending(IP).count(), 0);
        assert_eq!(c.take_pending(ip(99)).count(), 0);
    }

    #[test]
    fn partially_consumed_take_discards_rest() {
        let mut c = cache();
        c.lookup(secs(1), IP);
        for p in 0..4 {
            c.enqueue(secs(1), IP, p).unwrap();
        }
        c.insert(secs(1), IP, MAC);
        assert_eq!(c.take_pending(IP).next(), Some(0));
        assert_eq!(c.pending_total(), 0);
        assert_eq!(c.take_pending(IP).count(), 0);
    }

    #[test]
    fn retries_then_failure_then_new_attempt() {
        let mut c = cache();
        let mut resend = Vec::new();
        assert_eq!(c.lookup(secs(0), IP), Lookup::SendRequest);
        c.enqueue(secs(0), IP, 7).unwrap();
        c.enqueue(secs(0), IP, 8).unwrap();

        // Not due yet.
        assert_eq!(
            c.handle_timeout(Instant::from_micros(999_999), &mut resend)
                .dropped,
            0
        );
        assert!(resend.is_empty());

        // Requests 2 and 3.
        assert_eq!(c.handle_timeout(secs(1), &mut resend).dropped, 0);
        assert_eq!(resend, vec![IP]);
        resend.clear();
        assert_eq!(c.handle_timeout(secs(2), &mut resend).dropped, 0);
        assert_eq!(resend, vec![IP]);
        resend.clear();
        assert_eq!(c.lookup(secs(2), IP), Lookup::Pending);

        // Third request unanswered: fail, drop the queue.
        assert_eq!(c.handle_timeout(secs(3), &mut resend).dropped, 2);
        assert!(resend.is_empty());
        assert_eq!(c.pending_total(), 0);
        assert_eq!(c.lookup(secs(3), IP), Lookup::Failed);
        assert_eq!(c.enqueue(secs(3), IP, 9), Err(9));
        assert_eq!(c.poll_timeout(), Some(secs(4)));

        // Hold-down over: the entry is forgotten and a new attempt allowed.
        assert_eq!(c.handle_timeout(secs(4), &mut resend).dropped, 0);
        assert!(c.is_empty());
        assert_eq!(c.lookup(secs(4), IP), Lookup::SendRequest);
    }

    #[test]
    fn failed_hold_down_ends_even_without_timer_run() {
        let mut c = cache();
        let mut resend = Vec::new();
        c.lookup(secs(0), IP);
        c.handle_timeout(secs(1), &mut resend);
        c.handle_timeout(secs(2), &mut resend);
        c.handle_timeout(secs(3), &mut resend);
        assert_eq!(c.lookup(secs(3), IP), Lookup::Failed);
        assert_eq!(c.lookup(secs(4), IP), Lookup::SendRequest);
        assert_eq!(c.poll_timeout(), Some(secs(5)));
    }

    #[test]
    fn insert_during_failed_resolves() {
        let mut c = cache();
        let mut resend = Vec::new();
        c.lookup(secs(0), IP);
        for t in 1..=3 {
            c.handle_timeout(secs(t), &mut resend);
        }
        assert_eq!(c.lookup(secs(3), IP), Lookup::Failed);
        c.insert(secs(3), IP, MAC);
        assert_eq!(c.lookup(secs(3), IP), Lookup::Found(MAC));
    }

    #[test]
    fn late_timer_call_does_not_burst() {
        // A handle_timeout long overdue sends one request, not a backlog.
        let mut c = cache();
        let mut resend = Vec::new();
        c.lookup(secs(0), IP);
        c.handle_timeout(secs(100), &mut resend);
        assert_eq!(resend, vec![IP]);
        assert_eq!(c.poll_timeout(), Some(secs(101)));
    }

    #[test]
    fn entries_expire() {
        let mut c = cache();
        let mut resend = Vec::new();
        c.insert(secs(0), IP, MAC);
        assert_eq!(
            c.lookup(Instant::from_micros(59_999_999), IP),
            Lookup::Found(MAC)
        );
        // Expired but not yet cleaned: counts as absent.
        assert_eq!(c.lookup(secs(60), IP), Lookup::SendRequest);
        c.insert(secs(60), IP, MAC);
        assert_eq!(c.poll_timeout(), Some(secs(120)));
        c.handle_timeout(secs(120), &mut resend);
        assert!(resend.is_empty());
        assert!(c.is_empty());
        assert_eq!(c.poll_timeout(), None);
    }

    #[test]
    fn refresh_extends_lifetime() {
        let mut c = cache();
        let mut resend = Vec::new();
        c.insert(secs(0), IP, MAC);
        c.insert(secs(50), IP, MacAddr([2, 0, 0, 0, 0, 3]));
        c.handle_timeout(secs(60), &mut resend);
        assert_eq!(
            c.lookup(secs(100), IP),
            Lookup::Found(MacAddr([2, 0, 0, 0, 0, 3]))
        );
        assert_eq!(c.poll_timeout(), Some(secs(110)));
    }

    #[test]
    fn enqueue_bounds() {
        let mut c = ArpCache::new(ArpConfig {
            max_pending_per_ip: 2,
            max_pending_total: 3,
            ..ArpConfig::default()
        });
        // No resolution in progress: refused.
        assert_eq!(c.enqueue(secs(0), ip(1), 0), Err(0));
        c.lookup(secs(0), ip(1));
        c.lookup(secs(0), ip(2));
        assert_eq!(c.enqueue(secs(0), ip(1), 1), Ok(()));
        assert_eq!(c.enqueue(secs(0), ip(1), 2), Ok(()));
        assert_eq!(c.enqueue(secs(0), ip(1), 3), Err(3));
        assert_eq!(c.enqueue(secs(0), ip(2), 4), Ok(()));
        assert_eq!(c.enqueue(secs(0), ip(2), 5), Err(5));
        assert_eq!(c.pending_total(), 3);
        // Resolved: send directly, do not queue.
        c.insert(secs(0), ip(1), MAC);
        assert_eq!(c.take_pending(ip(1)).count(), 2);
        assert_eq!(c.enqueue(secs(0), ip(1), 6), Err(6));
        assert_eq!(c.enqueue(secs(0), ip(2), 7), Ok(()));
    }

    #[test]
    fn eviction_of_oldest_counts_dropped_packets() {
        let mut c = ArpCache::new(ArpConfig {
            max_entries: 3,
            ..ArpConfig::default()
        });
        let mut resend = Vec::new();
        c.lookup(secs(0), ip(1));
        c.enqueue(secs(0), ip(1), 10).unwrap();
        c.enqueue(secs(0), ip(1), 11).unwrap();
        c.insert(Instant::from_millis(100), ip(2), MAC);
        c.insert(Instant::from_millis(200), ip(3), MAC);
        assert_eq!(c.len(), 3);
        // Refreshing ip(2) makes ip(1) and then ip(3) the oldest.
        c.insert(Instant::from_millis(300), ip(2), MAC);
        c.insert(Instant::from_millis(400), ip(4), MAC);
        assert_eq!(c.len(), 3);
        assert_eq!(c.pending_total(), 0);
        assert_eq!(
            c.lookup(Instant::from_millis(400), ip(2)),
            Lookup::Found(MAC)
        );
        assert_eq!(
            c.lookup(Instant::from_millis(400), ip(3)),
            Lookup::Found(MAC)
        );
        // ip(1) evicted; looking it up again evicts ip(3).
        assert_eq!(
            c.lookup(Instant::from_millis(500), ip(1)),
            Lookup::SendRequest
        );
        assert_eq!(c.len(), 3);
        assert_eq!(
            c.lookup(Instant::from_millis(500), ip(3)),
            Lookup::SendRequest
        );
        // The two packets lost to eviction are reported once.
        assert_eq!(
            c.handle_timeout(Instant::from_millis(500), &mut resend)
                .dropped,
            2
        );
        assert_eq!(
            c.handle_timeout(Instant::from_millis(500), &mut resend)
                .dropped,
            0
        );
    }

    #[test]
    fn resend_order_is_deterministic() {
        let mut c = cache();
        let mut resend = Vec::new();
        for n in [5, 3, 9, 1] {
            assert_eq!(c.lookup(secs(0), ip(n)), Lookup::SendRequest);
        }
        c.lookup(Instant::from_millis(500), ip(0));
        c.handle_timeout(secs(1), &mut resend);
        assert_eq!(resend, vec![ip(1), ip(3), ip(5), ip(9)]);
        assert_eq!(c.poll_timeout(), Some(Instant::from_millis(1500)));
    }

    #[test]
    fn degenerate_config_is_safe() {
        let mut c: ArpCache<u8> = ArpCache::new(ArpConfig {
            entry_lifetime: Duration::ZERO,
            retry_interval: Duration::ZERO,
            max_retries: 0,
            max_pending_per_ip: 0,
            max_pending_total: 0,
            max_entries: 0,
        });
        let mut resend = Vec::new();
        assert_eq!(c.lookup(secs(1), IP), Lookup::SendRequest);
        assert_eq!(c.enqueue(secs(1), IP, 1), Err(1));
        let r = c.handle_timeout(secs(1), &mut resend);
        assert_eq!(r.dropped, 0);
        assert!(c.is_empty());
        c.insert(secs(2), IP, MAC);
        assert_eq!(c.len(), 1);
        c.insert(secs(2), ip(7), MAC);
        assert_eq!(c.len(), 1);
        // Zero lifetime: expired immediately.
        assert_eq!(c.lookup(secs(2), ip(7)), Lookup::SendRequest);
    }

    #[test]
    fn many_entries_stay_consistent() {
        let mut c = ArpCache::new(ArpConfig {
            max_entries: 64,
            ..ArpConfig::default()
        });
        let mut resend = Vec::new();
        let mut dropped = 0;
        let mut queued = 0;
        for i in 0..1000u32 {
            let now = Instant::from_millis(u64::from(i) * 37);
            let addr = ip(i % 97);
            match c.lookup(now, addr) {
                Lookup::SendRequest | Lookup::Pending => {
                    if c.enqueue(now, addr, i).is_ok() {
                        queued += 1;
                    }
                }
                Lookup::Found(_) | Lookup::Failed => {}
            }
            if i % 3 == 0 {
                c.insert(now, addr, MAC);
                queued -= c.take_pending(addr).count();
            }
            dropped += c.handle_timeout(now, &mut resend).dropped;
            assert!(c.len() <= 64);
            assert_eq!(c.timers.len(), c.len());
            assert_eq!(c.ages.len(), c.len());
            let sum: usize = c.entries.values().map(|e| e.queue.len()).sum();
            assert_eq!(sum, c.pending_total());
        }
        assert_eq!(queued, dropped + c.pending_total());
    }
}
