//! A time limit on a ferrotcp-io transfer.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use ferrotcp_io::Runtime;

/// Aborts the runtime (so every blocked call on it returns an error) unless dropped within
/// `limit`: blocking std-like calls then cannot hang the bench.
pub struct Watchdog {
    disarm: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    pub fn arm(rt: &Runtime, limit: Duration) -> Watchdog {
        let (disarm, rx) = mpsc::channel::<()>();
        let rt = rt.clone();
        let thread = std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
                eprintln!("# ferrotcp: transfer over {limit:?}, aborting the runtime");
                rt.abort();
            }
        });
        Watchdog {
            disarm: Some(disarm),
            thread: Some(thread),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.disarm.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
