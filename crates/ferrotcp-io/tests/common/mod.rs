//! A ferrotcp runtime on a TAP device whose kernel side lives in a private network namespace
//! (192.0.2.1/24 for Linux, 192.0.2.2/24 for ferrotcp). Everything is removed on drop.
#![allow(dead_code)]

use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ferrotcp::StackConfig;
use ferrotcp::wire::MacAddr;
use ferrotcp_io::device::DeviceKind;
use ferrotcp_io::{Runtime, RuntimeConfig};

static N: AtomicU32 = AtomicU32::new(0);

/// False (with a `skipped:` line) when root or /dev/net/tun is missing; under CI=true that is
/// a failure instead.
pub fn can_run() -> bool {
    // SAFETY: geteuid has no preconditions.
    let why = if unsafe { libc::geteuid() } != 0 {
        Some("needs root")
    } else if !std::path::Path::new("/dev/net/tun").exists() {
        Some("needs /dev/net/tun")
    } else if let Some(tool) = PEERS.iter().find(|t| !on_path(t)) {
        // A missing peer would leave the test waiting for a connection that never comes.
        eprintln!("{tool} is not installed (.ci/run installs the interop tools)");
        Some("needs the Linux peer programs")
    } else {
        None
    };
    match why {
        None => true,
        Some(w) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "cannot run under CI=true: {w}"
            );
            eprintln!("skipped: {w}");
            false
        }
    }
}

/// The Linux programs these tests run as peers.
const PEERS: [&str; 3] = ["ip", "nc", "socat"];

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}

pub struct Net {
    pub rt: Runtime,
    pub ns: String,
}

impl Net {
    pub fn start() -> Net {
        let n = N.fetch_add(1, Ordering::SeqCst);
        let ns = format!("ftio-api-{}-{n}", std::process::id());
        let dev = format!("fa{}x{n}", std::process::id() % 100_000);
        ip(&["netns", "add", &ns]);
        let mac = MacAddr([0x02, 0, 0, 0, 0x42, n as u8]);
        let stack = StackConfig::new(mac, "192.0.2.2".parse().expect("ip"), 24)
            .with_seed(0x5eed ^ u64::from(n));
        let rt = Runtime::start(RuntimeConfig {
            device: dev.clone(),
            kind: DeviceKind::Tap,
            stack,
            pcap: None,
            impair: None,
            trace: false,
        })
        .expect("runtime on a TAP device");
        // The runtime keeps its descriptor; the kernel side moves into the namespace.
        ip(&["link", "set", &dev, "netns", &ns]);
        ip(&["-n", &ns, "addr", "add", "192.0.2.1/24", "dev", &dev]);
        ip(&["-n", &ns, "link", "set", &dev, "up"]);
        ip(&["-n", &ns, "link", "set", "lo", "up"]);
        Net { rt, ns }
    }

    /// `sh -c script` inside the namespace, killed after `timeout`.
    pub fn sh(&self, script: &str, timeout: Duration) -> Output {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.ns, "sh", "-c", script])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                return child.wait_with_output().expect("output");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("timed out: {script}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        self.rt.abort();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
