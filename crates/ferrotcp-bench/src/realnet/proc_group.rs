//! A process started inside a namespace, in its own process group, killed on drop.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A command run inside a namespace (`ip netns exec NS ...`) as the leader of its own process
/// group; the whole group is killed on drop if it is still running, so nothing it started
/// outlives the bench. Optionally its standard output is collected line by line.
pub struct Proc {
    child: Child,
    lines: Option<mpsc::Receiver<String>>,
}

impl Proc {
    /// `sh -c CMD` inside `ns`, output discarded.
    pub fn shell(ns: &str, cmd: &str) -> Result<Proc, String> {
        Self::spawn(ns, "sh", &["-c", cmd], false)
    }

    /// `PROGRAM ARGS...` inside `ns`; its standard output is readable with [`Proc::next_line`].
    pub fn exec_captured(ns: &str, program: &str, args: &[&str]) -> Result<Proc, String> {
        Self::spawn(ns, program, args, true)
    }

    fn spawn(ns: &str, program: &str, args: &[&str], capture: bool) -> Result<Proc, String> {
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns, program])
            .args(args)
            .stdin(Stdio::null())
            .stdout(if capture {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .process_group(0)
            .spawn()
            .map_err(|e| format!("spawning `{program} {args:?}` in {ns}: {e}"))?;
        // A reader thread, so that waiting for a line can have a deadline. It ends when the
        // pipe closes (the process group is gone).
        let lines = child.stdout.take().map(|out| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            rx
        });
        Ok(Proc { child, lines })
    }

    /// The next line of captured output, waiting until `deadline`; `None` on timeout, at end
    /// of output, or if output is not captured.
    pub fn next_line(&mut self, deadline: Instant) -> Option<String> {
        let rx = self.lines.as_ref()?;
        rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .ok()
    }

    /// Exit status if the command has finished.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits at most `limit` for the command to finish.
    pub fn wait_for(&mut self, limit: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + limit;
        loop {
            if let Some(st) = self.exited() {
                return Some(st);
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.exited().is_none() {
            // The group id is the leader's pid (`process_group(0)`): only what we started.
            let group = format!("-{}", self.child.id());
            let _ = Command::new("kill")
                .args(["-TERM", "--", &group])
                .stderr(Stdio::null())
                .status();
            let _ = self.child.wait();
        }
    }
}
