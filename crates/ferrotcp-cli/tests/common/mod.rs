//! Real-peer test plumbing: a network namespace per test, the `ferrotcp` binary and Linux tools
//! run inside it, everything bounded in time and cleaned up by `Drop`.
//!
//! Safety rules (DESIGN.md): every address is in 192.0.2.0/24; every device and address lives in
//! a namespace the test creates and deletes; only processes we started are ended, by PID.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Linux's side of every test link.
pub const LINUX_IP: &str = "192.0.2.1";
/// ferrotcp's side.
pub const FERRO_IP: &str = "192.0.2.2";
pub const FERRO_CIDR: &str = "192.0.2.2/24";

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Why a real-peer test cannot run here, if it cannot.
pub fn missing_capability() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("needs root (network namespaces and TAP devices)".into());
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Some("needs /dev/net/tun".into());
    }
    for tool in ["ip"] {
        if !have(tool) {
            return Some(format!("needs `{tool}` (iproute2)"));
        }
    }
    None
}

pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Returns false (and prints why) when the test must be skipped; under CI=true a missing
/// capability fails the test instead.
pub fn can_run(tools: &[&str]) -> bool {
    let mut missing = missing_capability();
    if missing.is_none() {
        missing = tools
            .iter()
            .find(|t| !have(t))
            .map(|t| format!("needs `{t}`"));
    }
    match missing {
        None => true,
        Some(why) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "real-peer test cannot run under CI=true: {why}"
            );
            eprintln!("skipped: {why}");
            false
        }
    }
}

/// A network namespace, deleted on drop.
pub struct Ns {
    pub name: String,
}

impl Ns {
    pub fn new() -> Ns {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let name = format!("ftcp-{}-{n}", std::process::id());
        run_ok(Command::new("ip").args(["netns", "add", &name]));
        let ns = Ns { name };
        run_ok(Command::new("ip").args(["-n", &ns.name, "link", "set", "lo", "up"]));
        ns
    }

    /// A command to run inside the namespace.
    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Waits for `dev` to appear in the namespace, then gives Linux its address and brings it up.
    pub fn configure_linux_side(&self, dev: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !Command::new("ip")
            .args(["-n", &self.name, "link", "show", dev])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            assert!(
                Instant::now() < deadline,
                "device {dev} did not appear in {}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        run_ok(Command::new("ip").args([
            "-n",
            &self.name,
            "addr",
            "add",
            &format!("{LINUX_IP}/24"),
            "dev",
            dev,
        ]));
        run_ok(Command::new("ip").args(["-n", &self.name, "link", "set", dev, "up"]));
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stderr(Stdio::null())
            .status();
    }
}

/// A unique, short device name (≤ 15 bytes).
pub fn dev_name() -> String {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    format!("ft{}x{n}", std::process::id() % 100_000)
}

/// A child process we started; killed by PID (and reaped) on drop unless it already ended.
pub struct Proc {
    pub child: Child,
    pub stderr_lines: mpsc::Receiver<String>,
}

impl Proc {
    pub fn spawn(mut cmd: Command) -> Proc {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn");
        let (tx, rx) = mpsc::channel();
        if let Some(err) = child.stderr.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    eprintln!("  [child] {line}");
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Proc {
            child,
            stderr_lines: rx,
        }
    }

    /// Waits (bounded) for a line on stderr containing `needle`; returns it.
    pub fn wait_for_line(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("no line containing {needle:?} within {timeout:?}"),
            }
        }
    }

    /// Ends the process with SIGINT (our Ctrl-C path) and waits, bounded.
    pub fn interrupt(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let pid = self.child.id() as i32;
        // SAFETY: sending a signal to a PID we spawned and have not reaped.
        unsafe {
            libc::kill(pid, libc::SIGINT);
        }
        wait_timeout(&mut self.child, timeout)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs a command to completion within `timeout` (killed otherwise); returns its output.
pub fn run_bounded(mut cmd: Command, timeout: Duration) -> Output {
    use std::os::unix::process::CommandExt;
    // Its own process group, so that a timeout ends the whole script, not just `sh`.
    cmd.process_group(0);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let o = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let e = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = match wait_timeout(&mut child, timeout) {
        Some(s) => s,
        None => {
            // SAFETY: signalling the process group we created for this child.
            unsafe {
                libc::kill(-(child.id() as i32), libc::SIGKILL);
            }
            let _ = child.wait();
            panic!("command timed out after {timeout:?}: {cmd:?}");
        }
    };
    Output {
        status,
        stdout: o.join().unwrap_or_default(),
        stderr: e.join().unwrap_or_default(),
    }
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `ferrotcp` binary under test.
pub fn ferrotcp_in(ns: &Ns) -> Command {
    ns.cmd(env!("CARGO_BIN_EXE_ferrotcp"))
}

/// SHA-256 of a byte string (via the system's sha256sum: no extra crate for tests).
pub fn sha256(data: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = data.to_vec();
    let w = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().expect("sha256sum output");
    let _ = w.join();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// `len` pseudo-random bytes (SplitMix64), so transfers cannot pass by accident.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut x = seed;
    while out.len() < len {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let take = (len - out.len()).min(8);
        out.extend_from_slice(&z.to_le_bytes()[..take]);
    }
    out
}

/// A directory removed on drop.
pub struct TempDir {
    pub path: std::path::PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("ferrotcp-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// `ferrotcp serve` on a fresh TAP in a fresh namespace, Linux configured on the other side.
pub struct Served {
    pub proc: Proc,
    pub dir: TempDir,
    pub dev: String,
    // Dropped last: the namespace outlives the process using it.
    pub ns: Ns,
}

/// Starts `ferrotcp serve --tap DEV --ip 192.0.2.2/24 --echo 7 --discard 9 --http 80 --root DIR`
/// plus `extra` options, with `files` written into DIR first.
pub fn serve(files: &[(&str, &[u8])], extra: &[&str]) -> Served {
    serve_on("--tap", files, extra)
}

/// `serve` on a device of the kind `device_flag` names (`--tap` or `--tun`).
fn serve_on(device_flag: &str, files: &[(&str, &[u8])], extra: &[&str]) -> Served {
    let ns = Ns::new();
    let dir = TempDir::new("www");
    for (name, data) in files {
        std::fs::write(dir.path.join(name), data).expect("write served file");
    }
    let dev = dev_name();
    let root = dir.path.to_string_lossy().to_string();
    let mut cmd = ferrotcp_in(&ns);
    cmd.args([
        "serve",
        device_flag,
        &dev,
        "--ip",
        FERRO_CIDR,
        "--echo",
        "7",
        "--discard",
        "9",
        "--http",
        "80",
        "--root",
        &root,
    ]);
    cmd.args(extra);
    let proc = Proc::spawn(cmd);
    ns.configure_linux_side(&dev, Duration::from_secs(10));
    proc.wait_for_line("serving", Duration::from_secs(10));
    Served { proc, dir, dev, ns }
}

/// Runs `sh -c script` inside the namespace, bounded.
pub fn sh_in(ns: &Ns, script: &str, timeout: Duration) -> Output {
    let mut c = ns.cmd("sh");
    c.args(["-c", script]);
    run_bounded(c, timeout)
}

// ---- Helpers for ferrotcp as a client, Linux servers, TUN, traces (appended). ----

/// Path of the `ferrotcp` binary under test, for shell scripts run inside a namespace.
pub fn ferrotcp_bin() -> &'static str {
    env!("CARGO_BIN_EXE_ferrotcp")
}

/// A namespace with a persistent device (`ip tuntap add DEV mode tap|tun`) whose Linux side is
/// already configured (192.0.2.1/24, up) before ferrotcp runs: `ferrotcp get/connect` then
/// attach to the existing device by name (TUNSETIFF on a persistent device with the same
/// flags, `IFF_NO_PI` being `ip tuntap`'s default), so Linux servers can bind 192.0.2.1 first
/// and ferrotcp's first SYN finds Linux ready. The device goes with the namespace.
pub struct Link {
    pub dev: String,
    /// "tap" or "tun".
    pub mode: &'static str,
    pub ns: Ns,
}

impl Link {
    pub fn new(mode: &'static str) -> Link {
        let ns = Ns::new();
        let dev = dev_name();
        run_ok(
            Command::new("ip").args(["-n", &ns.name, "tuntap", "add", "dev", &dev, "mode", mode]),
        );
        run_ok(Command::new("ip").args([
            "-n",
            &ns.name,
            "addr",
            "add",
            &format!("{LINUX_IP}/24"),
            "dev",
            &dev,
        ]));
        run_ok(Command::new("ip").args(["-n", &ns.name, "link", "set", &dev, "up"]));
        Link { dev, mode, ns }
    }

    /// `--tap DEV --ip 192.0.2.2/24` (or `--tun`), for a ferrotcp command line on this link.
    pub fn link_args(&self) -> String {
        format!("--{} {} --ip {FERRO_CIDR}", self.mode, self.dev)
    }
}

/// Waits (bounded) until something in `ns` listens on TCP `port`.
pub fn wait_listening(ns: &Ns, port: u16, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let out = ns
            .cmd("ss")
            .args(["-Hltn", &format!("sport = :{port}")])
            .output()
            .expect("ss");
        if !String::from_utf8_lossy(&out.stdout).trim().is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "nothing listens on port {port} in {} after {timeout:?}",
            ns.name
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `ss -tan` inside the namespace (Linux's view of its TCP connections).
pub fn ss_tan(ns: &Ns) -> String {
    let out = ns.cmd("ss").args(["-Htan"]).output().expect("ss");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Proc {
    /// Every stderr line that arrives within `timeout` (or until the process closes stderr).
    pub fn lines_for(&self, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let mut v = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) => v.push(line),
                Err(_) => return v,
            }
        }
    }

    /// Waits (bounded) for the process to end; its exit status, or None on timeout.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        wait_timeout(&mut self.child, timeout)
    }
}

/// Like [`serve`] but on a TUN device (`--tun`): raw IP, no Ethernet, no ARP.
pub fn serve_tun(files: &[(&str, &[u8])], extra: &[&str]) -> Served {
    serve_on("--tun", files, extra)
}

/// RFC 793 state names as `--trace` prints them.
pub const TCP_STATES: [&str; 11] = [
    "CLOSED",
    "LISTEN",
    "SYN-SENT",
    "SYN-RECEIVED",
    "ESTABLISHED",
    "FIN-WAIT-1",
    "FIN-WAIT-2",
    "CLOSE-WAIT",
    "CLOSING",
    "LAST-ACK",
    "TIME-WAIT",
];

/// The state change `(from, to)` a `--trace` line records, if it records one. Accepts both
/// `TIME local <-> remote: FROM -> TO` and `TIME PORT [FROM -> TO] remote ...`; segment lines
/// (`|-- SYN ... -->`) are not state changes.
pub fn state_change(line: &str) -> Option<(&'static str, &'static str)> {
    for from in TCP_STATES {
        for to in TCP_STATES {
            let pat = format!("{from} -> {to}");
            if let Some(at) = line.find(&pat) {
                let before_ok = at == 0
                    || !line.as_bytes()[at - 1].is_ascii_alphanumeric()
                        && line.as_bytes()[at - 1] != b'-';
                let end = at + pat.len();
                let after_ok = end == line.len()
                    || !(line.as_bytes()[end].is_ascii_alphanumeric()
                        || line.as_bytes()[end] == b'-');
                if before_ok && after_ok {
                    return Some((from, to));
                }
            }
        }
    }
    None
}

/// Trace lines (`--trace`) that record a change into state `to` (e.g. "TIME-WAIT").
pub fn transitions_to<'a>(lines: &'a [String], to: &str) -> Vec<&'a String> {
    lines
        .iter()
        .filter(|l| state_change(l).is_some_and(|(_, t)| t == to))
        .collect()
}

/// Whether the trace records the change `from -> to`.
pub fn has_change(lines: &[String], from: &str, to: &str) -> bool {
    lines
        .iter()
        .any(|l| state_change(l).is_some_and(|(f, t)| f == from && t == to))
}
