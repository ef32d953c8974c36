//! The parent's handle on a Linux endpoint (see `child.rs`): spawns it inside a namespace and
//! reads its one-line report, with deadlines.

use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

use ferrotcp_bench::realnet::{Netns, Proc};

use crate::cli::Role;

/// What a Linux sender reports once done.
pub struct SenderReport {
    /// Its congestion control.
    pub cc: String,
    /// From the established connection to the receiver's close.
    pub elapsed: Duration,
}

pub struct LinuxPeer {
    proc: Proc,
    what: String,
}

impl LinuxPeer {
    /// A receiver listening on `addr` inside `ns`; returns once it listens.
    pub fn receiver(
        ns: &Netns,
        addr: SocketAddrV4,
        bytes: u64,
        limit: Duration,
    ) -> Result<LinuxPeer, String> {
        let mut peer = Self::spawn(ns, Role::LinuxRecv, addr, bytes, limit, None)?;
        match peer.line(Instant::now() + Duration::from_secs(10))? {
            l if l == "ready" => Ok(peer),
            l => Err(format!("{}: expected `ready`, got `{l}`", peer.what)),
        }
    }

    /// A sender inside `ns` that connects to `addr` and sends `bytes`, with congestion
    /// control `cc` (default: the namespace's).
    pub fn sender(
        ns: &Netns,
        addr: SocketAddrV4,
        bytes: u64,
        limit: Duration,
        cc: Option<&str>,
    ) -> Result<LinuxPeer, String> {
        Self::spawn(ns, Role::LinuxSend, addr, bytes, limit, cc)
    }

    fn spawn(
        ns: &Netns,
        role: Role,
        addr: SocketAddrV4,
        bytes: u64,
        limit: Duration,
        cc: Option<&str>,
    ) -> Result<LinuxPeer, String> {
        let exe = std::env::current_exe().map_err(|e| format!("finding our own binary: {e}"))?;
        let exe = exe.to_string_lossy();
        let role_name = match role {
            Role::LinuxRecv => "linux-recv",
            Role::LinuxSend => "linux-send",
        };
        let addr_s = addr.to_string();
        let bytes_s = bytes.to_string();
        let limit_s = limit.as_secs().to_string();
        let mut args = vec![
            "--role",
            role_name,
            "--addr",
            &addr_s,
            "--bytes",
            &bytes_s,
            "--timeout",
            &limit_s,
        ];
        if let Some(cc) = cc {
            args.extend(["--linux-cc", cc]);
        }
        let proc = Proc::exec_captured(ns.name(), &exe, &args)?;
        Ok(LinuxPeer {
            proc,
            what: format!("Linux {role_name} in {ns} ({addr})"),
        })
    }

    fn line(&mut self, deadline: Instant) -> Result<String, String> {
        match self.proc.next_line(deadline) {
            Some(l) => match l.strip_prefix("error ") {
                Some(e) => Err(format!("{}: {e}", self.what)),
                None => Ok(l),
            },
            None if Instant::now() >= deadline => Err(format!("{}: no report in time", self.what)),
            None => Err(format!("{}: exited without a report", self.what)),
        }
    }

    /// The receiver's measurement: elapsed time from `accept` to end of stream, after checking
    /// that it got exactly `bytes` bytes of the pattern.
    pub fn received(&mut self, bytes: u64, deadline: Instant) -> Result<Duration, String> {
        let l = self.line(deadline)?;
        let num = |name: &str| field(&l, name).and_then(|v| v.parse::<u64>().ok());
        match (l.starts_with("done "), num("bytes"), num("elapsed_ns")) {
            (true, Some(got), Some(ns)) if got == bytes => Ok(Duration::from_nanos(ns)),
            (true, Some(got), Some(_)) => Err(format!("{}: got {got} of {bytes} bytes", self.what)),
            _ => Err(format!("{}: unexpected report `{l}`", self.what)),
        }
    }

    /// Waits for the sender's report that it sent everything and saw the receiver close.
    pub fn finished(&mut self, deadline: Instant) -> Result<SenderReport, String> {
        let l = self.line(deadline)?;
        let cc = field(&l, "cc");
        let ns = field(&l, "elapsed_ns").and_then(|v| v.parse().ok());
        match (l.starts_with("sent "), cc, ns) {
            (true, Some(cc), Some(ns)) => {
                // Let it exit on its own (it has nothing left to do), bounded.
                let _ = self.proc.wait_for(Duration::from_secs(2));
                Ok(SenderReport {
                    cc: cc.to_string(),
                    elapsed: Duration::from_nanos(ns),
                })
            }
            _ => Err(format!("{}: unexpected report `{l}`", self.what)),
        }
    }
}

/// The value of `name=value` in a report line.
fn field<'l>(line: &'l str, name: &str) -> Option<&'l str> {
    line.split_whitespace()
        .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
}
