//! Blocking on the runtime: try an operation under the lock; if it would block, sleep on the
//! condition variable the runtime signals after every round, and try again.

use std::io;
use std::task::Poll;
use std::time::{Duration, Instant};

use crate::runtime::{Inner, Shared};

/// Longest sleep between checks, so a stopped runtime is noticed even without a signal.
const RECHECK: Duration = Duration::from_millis(200);

impl Shared {
    /// Runs `attempt` until it is ready or `deadline` passes (then `WouldBlock`, as `std::net`
    /// does for read and write timeouts on Unix... and `TimedOut` when `timed_out` says so).
    pub(crate) fn block_on<T>(
        &self,
        deadline: Option<Instant>,
        timed_out: io::ErrorKind,
        mut attempt: impl FnMut(&mut Inner) -> Poll<io::Result<T>>,
    ) -> io::Result<T> {
        let mut inner = self.lock();
        let mut first = true;
        loop {
            if let Poll::Ready(r) = attempt(&mut inner) {
                drop(inner);
                self.kick();
                return r;
            }
            if !inner.running() {
                return Err(super::error::stopped());
            }
            // The first attempt may have queued something (a window update): let the runtime
            // run once. Kicking on every retry would keep both threads awake for nothing.
            if first {
                self.kick();
                first = false;
            }
            let wait = match deadline {
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Err(io::Error::new(timed_out, "operation timed out"));
                    }
                    (d - now).min(RECHECK)
                }
                None => RECHECK,
            };
            inner = self
                .changed
                .wait_timeout(inner, wait)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}
