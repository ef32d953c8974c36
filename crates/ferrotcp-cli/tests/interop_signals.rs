//! Process-level behaviour on a real device: CPU use while idle, Ctrl-C with a closed stderr,
//! how long a client takes to exit after closing first. Namespace per test (192.0.2.0/24).

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

/// CPU time (user + system, all threads) a process has used so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().expect("utime") + f[12].parse::<u64>().expect("stime");
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_millis(ticks * 1000 / hz)
}

/// An idle `ferrotcp serve` (three listeners blocked in accept) should sleep in poll(2).
#[test]
fn idle_serve_sleeps_instead_of_spinning() {
    if !can_run(&[]) {
        return;
    }
    let s = serve(&[], &[]);
    let pid = s.proc.child.id();
    std::thread::sleep(Duration::from_millis(300));
    let before = cpu_time(pid);
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_time(pid) - before;
    assert!(
        used < Duration::from_millis(200),
        "idle ferrotcp serve used {used:?} of CPU in 2 s"
    );
}

/// Ctrl-C must stop `serve` even when nobody reads its standard error any more (a closed
/// pipe, a closed terminal).
#[test]
fn sigint_stops_serve_even_when_stderr_is_closed() {
    if !can_run(&[]) {
        return;
    }
    let ns = Ns::new();
    let dir = TempDir::new("sig");
    let dev = dev_name();
    let mut cmd = ferrotcp_in(&ns);
    cmd.args([
        "serve", "--tap", &dev, "--ip", FERRO_CIDR, "--http", "80", "--root",
    ])
    .arg(&dir.path)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let pid = child.id() as i32;
    // Read (bounded) until "serving", then close our end of its stderr.
    let err = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut r = BufReader::new(err);
        let mut line = String::new();
        while r.read_line(&mut line).is_ok_and(|n| n > 0) {
            if line.contains("serving") {
                return true;
            }
            line.clear();
        }
        false
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while !reader.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = reader.is_finished() && reader.join().unwrap_or(false);
    if !started {
        let _ = child.kill();
        let _ = child.wait();
        panic!("ferrotcp serve did not start");
    }
    // The reader thread has returned: the pipe's read end is closed now.
    // SAFETY: signalling a child we spawned and have not reaped.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let status = wait_timeout(&mut child, Duration::from_secs(8));
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(
        status.is_some(),
        "ferrotcp serve still running 8 s after SIGINT with its stderr closed"
    );
}

/// `ferrotcp connect` that closed first (its FIN, then the peer's) has nothing left to do:
/// it should exit at once, not after the 5 s shutdown grace period.
#[test]
fn connect_exits_promptly_after_closing_first() {
    if !can_run(&["socat"]) {
        return;
    }
    let link = Link::new("tap");
    let mut socat = link.ns.cmd("socat");
    socat.args([
        "-t",
        "5",
        &format!("TCP-LISTEN:7,bind={LINUX_IP},reuseaddr"),
        "EXEC:cat",
    ]);
    let _server = Proc::spawn(socat);
    wait_listening(&link.ns, 7, Duration::from_secs(10));
    let started = Instant::now();
    let out = sh_in(
        &link.ns,
        &format!(
            "echo hello | exec {} connect {LINUX_IP}:7 --trace {}",
            ferrotcp_bin(),
            link.link_args()
        ),
        Duration::from_secs(20),
    );
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");
    assert!(
        err.contains("TIME-WAIT"),
        "ferrotcp did not close first:\n{err}"
    );
    assert!(
        took < Duration::from_secs(2),
        "ferrotcp connect took {took:?} to exit after closing first"
    );
}
