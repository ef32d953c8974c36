//! TAP/TUN devices against the real kernel.
//!
//! Needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN), /dev/net/tun and iproute2. Without them a
//! test prints `skipped: <reason>` and passes, except under `CI=true`, where it fails.
//!
//! Network safety: every device is created by this process and moved at once into a
//! network namespace the test creates (`ftio-<pid>-<n>`) and deletes on drop, also when
//! the test fails; only 192.0.2.0/24 (TEST-NET-1) is used; every wait is bounded.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ferrotcp::wire::icmpv4::msg_type;
use ferrotcp::wire::{
    ArpOperation, ArpRepr, EtherType, EthernetRepr, Icmpv4Repr, IpProtocol, Ipv4Repr, MacAddr,
};
use ferrotcp_io::device::{Device, DeviceError, DeviceKind};

const OUR_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const KERNEL_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const OUR_MAC: MacAddr = MacAddr([0x02, 0x00, 0x00, 0x00, 0x00, 0x02]);
const WAIT: Duration = Duration::from_secs(5);

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn next_n() -> u32 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// `ftap<pid%10000><n>`: at most 4 + 4 + 3 = 11 bytes for n < 1000.
fn dev_name(prefix: &str) -> String {
    format!("{prefix}{}{}", std::process::id() % 10_000, next_n())
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips (prints why) or, under CI=true, fails.
fn skip(reason: &str) {
    assert!(!ci(), "CI=true requires this test to run, but: {reason}");
    println!("skipped: {reason}");
}

/// Runs a command we start, killing it if it outlives `timeout`. Returns its stdout.
fn run(args: &[&str], timeout: Duration) -> Result<String, String> {
    let (prog, rest) = args.split_first().ok_or("empty command")?;
    let mut child = Command::new(prog)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{args:?}: cannot start: {e}"))?;
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{args:?}: timed out after {timeout:?}"));
            }
            Err(e) => return Err(format!("{args:?}: wait failed: {e}")),
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{args:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{args:?}: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn ip(args: &[&str]) -> Result<String, String> {
    let mut v = vec!["ip"];
    v.extend_from_slice(args);
    run(&v, Duration::from_secs(10))
}

/// A network namespace we created; deleted on drop.
struct NetNs {
    name: String,
}

impl NetNs {
    fn new() -> Result<NetNs, String> {
        let name = format!("ftio-{}-{}", std::process::id(), next_n());
        ip(&["netns", "add", &name])?;
        Ok(NetNs { name })
    }

    /// Runs `f` on a thread that has joined this namespace (setns is per thread).
    fn run_inside<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.name);
        let file = std::fs::File::open(&path).expect("namespace file");
        std::thread::scope(|s| {
            s.spawn(|| {
                // SAFETY: `file` is an open namespace descriptor for the whole scope; setns
                // changes only this scoped thread, which ends right after `f`.
                let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(rc, 0, "setns: {}", io::Error::last_os_error());
                f()
            })
            .join()
            .expect("thread inside the namespace panicked")
        })
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        if let Err(e) = ip(&["netns", "del", &self.name]) {
            eprintln!("warning: could not delete namespace {}: {e}", self.name);
        }
    }
}

/// A device inside its own namespace. Fields drop in order: the device goes first.
struct Fixture {
    dev: Device,
    ns: NetNs,
}

impl Fixture {
    /// Creates the namespace, opens the device and moves it in. `None`: skipped.
    fn new(kind: DeviceKind) -> Option<Fixture> {
        let ns = match NetNs::new() {
            Ok(ns) => ns,
            Err(e) => {
                skip(&format!("cannot create a network namespace: {e}"));
                return None;
            }
        };
        let prefix = match kind {
            DeviceKind::Tap => "ftap",
            DeviceKind::Tun => "ftun",
        };
        let dev = match Device::open(&dev_name(prefix), kind) {
            Ok(dev) => dev,
            Err(e @ (DeviceError::PermissionDenied { .. } | DeviceError::NoTunDevice)) => {
                skip(&e.to_string());
                return None;
            }
            Err(e) => panic!("opening a {kind:?} device: {e}"),
        };
        let name = dev.name().to_owned();
        ip(&["link", "set", &name, "netns", &ns.name]).expect("moving the device");
        Some(Fixture { dev, ns })
    }

    fn name(&self) -> &str {
        self.dev.name()
    }

    fn ip(&self, args: &[&str]) -> String {
        let mut v = vec!["-n", self.ns.name.as_str()];
        v.extend_from_slice(args);
        ip(&v).expect("ip command in the test namespace")
    }

    /// Address 192.0.2.1/24 on the device, link up.
    fn configure(&self) {
        self.ip(&["addr", "add", "192.0.2.1/24", "dev", self.name()]);
        self.ip(&["link", "set", self.name(), "up"]);
    }

    /// The `<...>` flags of `ip link show`.
    fn link_flags(&self) -> Vec<String> {
        let out = self.ip(&["-o", "link", "show", "dev", self.name()]);
        let start = out.find('<').map_or(0, |i| i + 1);
        let end = out[start..].find('>').map_or(start, |i| start + i);
        out[start..end].split(',').map(str::to_owned).collect()
    }

    /// Calls `f` on every frame received until it returns `Some` or the deadline passes;
    /// `resend` runs before the first wait and then every 500 ms.
    fn exchange<T>(
        &self,
        mut resend: impl FnMut(&Device),
        mut f: impl FnMut(&[u8]) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + WAIT;
        let mut next_send = Instant::now();
        let mut buf = vec![0u8; 65_536];
        for _ in 0..10_000 {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            if now >= next_send {
                resend(&self.dev);
                next_send = now + Duration::from_millis(500);
            }
            let wait = deadline.min(next_send).saturating_duration_since(now);
            if !poll_readable(&self.dev, wait) {
                continue;
            }
            for _ in 0..1_000 {
                match self.dev.recv(&mut buf) {
                    Ok(n) => {
                        if let Some(v) = f(&buf[..n]) {
                            return Some(v);
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("recv: {e}"),
                }
            }
        }
        None
    }
}

fn poll_readable(dev: &Device, timeout: Duration) -> bool {
    let mut pfd = libc::pollfd {
        fd: dev.as_fd().as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = libc::c_int::try_from(timeout.as_millis().max(1)).unwrap_or(libc::c_int::MAX);
    // SAFETY: `pfd` is one valid pollfd and the count is 1.
    let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
    rc > 0 && pfd.revents & libc::POLLIN != 0
}

fn device_mac(fx: &Fixture) -> MacAddr {
    let out = fx.ip(&["-o", "link", "show", "dev", fx.name()]);
    let text = out
        .split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .expect("link/ether in ip link output");
    let bytes: Vec<u8> = text
        .split(':')
        .map(|h| u8::from_str_radix(h, 16).expect("hex MAC byte"))
        .collect();
    MacAddr::from_bytes(&bytes).expect("6-byte MAC")
}

#[test]
fn tap_exchanges_arp_with_the_kernel() {
    let Some(fx) = Fixture::new(DeviceKind::Tap) else {
        return;
    };
    assert_eq!(fx.dev.kind(), DeviceKind::Tap);
    let mut buf = [0u8; 2048];
    let e = fx.dev.recv(&mut buf).expect_err("nothing to read yet");
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    fx.configure();
    let kernel_mac = device_mac(&fx);

    let mut frame = [0u8; 60]; // minimum Ethernet frame, zero padded
    EthernetRepr {
        src: OUR_MAC,
        dst: MacAddr::BROADCAST,
        ethertype: EtherType::Arp,
    }
    .emit(&mut frame);
    ArpRepr {
        operation: ArpOperation::Request,
        sender_mac: OUR_MAC,
        sender_ip: OUR_IP,
        target_mac: MacAddr::ZERO,
        target_ip: KERNEL_IP,
    }
    .emit(&mut frame[EthernetRepr::HEADER_LEN..]);

    let reply = fx.exchange(
        |dev| assert_eq!(dev.send(&frame).expect("send ARP request"), frame.len()),
        |rx| {
            let (eth, payload) = EthernetRepr::parse(rx).ok()?;
            if eth.ethertype != EtherType::Arp {
                return None; // e.g. IPv6 router solicitations
            }
            let arp = ArpRepr::parse(payload).expect("kernel ARP parses");
            (arp.operation == ArpOperation::Reply).then_some((eth, arp))
        },
    );
    let (eth, arp) = reply.expect("an ARP reply within 5 s");
    assert_eq!(eth.dst, OUR_MAC);
    assert_eq!(eth.src, kernel_mac);
    assert_eq!(arp.sender_ip, KERNEL_IP);
    assert_eq!(arp.sender_mac, kernel_mac);
    assert_eq!(arp.target_ip, OUR_IP);
    assert_eq!(arp.target_mac, OUR_MAC);
}

#[test]
fn tun_exchanges_icmp_echo_with_the_kernel() {
    let Some(fx) = Fixture::new(DeviceKind::Tun) else {
        return;
    };
    assert_eq!(fx.dev.kind(), DeviceKind::Tun);
    fx.configure();

    let payload = b"ferrotcp-io tun test";
    let echo = Icmpv4Repr::EchoRequest {
        ident: 0x4654,
        seq_no: 7,
        data: payload,
    };
    let ip_repr = Ipv4Repr {
        src: OUR_IP,
        dst: KERNEL_IP,
        protocol: IpProtocol::Icmp,
        payload_len: echo.buffer_len(),
        ttl: 64,
        ident: 1,
        dont_fragment: true,
        dscp_ecn: 0,
    };
    let mut packet = vec![0u8; ip_repr.buffer_len()];
    ip_repr.emit(&mut packet);
    echo.emit(&mut packet[Ipv4Repr::HEADER_LEN..]);

    let reply = fx.exchange(
        |dev| assert_eq!(dev.send(&packet).expect("send echo request"), packet.len()),
        |rx| {
            let (hdr, body) = Ipv4Repr::parse(rx).ok()?; // IPv6 etc. do not parse
            if hdr.protocol != IpProtocol::Icmp || body.first() != Some(&msg_type::ECHO_REPLY) {
                return None;
            }
            let icmp = Icmpv4Repr::parse(body).expect("kernel ICMP parses");
            Some((hdr, format!("{icmp:?}")))
        },
    );
    let (hdr, icmp) = reply.expect("an echo reply within 5 s");
    assert_eq!(hdr.src, KERNEL_IP);
    assert_eq!(hdr.dst, OUR_IP);
    let expected = Icmpv4Repr::EchoReply {
        ident: 0x4654,
        seq_no: 7,
        data: payload,
    };
    assert_eq!(icmp, format!("{expected:?}"));
}

#[test]
fn mtu_follows_the_kernel_inside_the_namespace() {
    let Some(fx) = Fixture::new(DeviceKind::Tap) else {
        return;
    };
    assert_eq!(fx.dev.mtu().expect("mtu"), 1500);
    fx.ip(&["link", "set", fx.name(), "mtu", "1400"]);
    assert_eq!(fx.dev.mtu().expect("mtu"), 1400);
}

#[test]
fn tun_mtu_defaults_to_1500() {
    let Some(fx) = Fixture::new(DeviceKind::Tun) else {
        return;
    };
    assert_eq!(fx.dev.mtu().expect("mtu"), 1500);
}

#[test]
fn set_up_brings_the_link_up_inside_the_namespace() {
    let Some(fx) = Fixture::new(DeviceKind::Tap) else {
        return;
    };
    assert!(!fx.link_flags().iter().any(|f| f == "UP"));
    fx.dev.set_up().expect("set_up");
    let flags = fx.link_flags();
    assert!(flags.iter().any(|f| f == "UP"), "flags: {flags:?}");
    // Idempotent.
    fx.dev.set_up().expect("set_up again");
}

#[test]
fn invalid_names_are_rejected_before_the_kernel_sees_them() {
    for name in ["", "abcdefghijklmnop", "a/b", "a b", "tab\t", ".."] {
        for kind in [DeviceKind::Tap, DeviceKind::Tun] {
            match Device::open(name, kind) {
                Err(DeviceError::InvalidName { name: n }) => assert_eq!(n, name),
                other => panic!("{name:?}: expected InvalidName, got {other:?}"),
            }
        }
    }
    let msg = DeviceError::InvalidName { name: "a/b".into() }.to_string();
    assert!(msg.contains("a/b") && msg.contains("15"), "{msg}");
}

#[test]
fn opening_a_tap_with_the_name_of_our_tun_is_name_in_use() {
    let Some(fx) = Fixture::new(DeviceKind::Tun) else {
        return;
    };
    let name = fx.name().to_owned();
    // Same namespace as the TUN: open from a thread inside it.
    let tap = fx.ns.run_inside(|| Device::open(&name, DeviceKind::Tap));
    match tap {
        Err(e @ DeviceError::NameInUse { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(&name), "{msg}");
            assert!(msg.contains("ip link delete"), "{msg}");
        }
        other => panic!("expected NameInUse, got {other:?}"),
    }
    // A second TUN on the same (non-multiqueue, attached) device is busy too.
    let tun = fx.ns.run_inside(|| Device::open(&name, DeviceKind::Tun));
    assert!(
        matches!(tun, Err(DeviceError::NameInUse { .. })),
        "expected NameInUse, got {tun:?}"
    );
}

#[test]
fn template_names_report_the_kernel_choice() {
    let Some(fx) = Fixture::new(DeviceKind::Tap) else {
        return;
    };
    // Inside our private namespace, so the chosen name cannot collide with anything else.
    let dev = fx
        .ns
        .run_inside(|| Device::open("ftt%d", DeviceKind::Tap))
        .expect("template open");
    assert_eq!(dev.name(), "ftt0");
    assert_eq!(dev.mtu().expect("mtu"), 1500);
    drop(dev);
}

#[test]
fn error_messages_say_what_to_do() {
    let perm = DeviceError::PermissionDenied {
        name: "tap7".into(),
    }
    .to_string();
    assert!(perm.contains("tap7") && perm.contains("CAP_NET_ADMIN") && perm.contains("root"));
    assert!(
        DeviceError::NoTunDevice
            .to_string()
            .contains("modprobe tun")
    );
    let io = DeviceError::Io {
        context: "reading the device MTU",
        source: io::Error::from_raw_os_error(libc::ENODEV),
    };
    assert!(io.to_string().starts_with("reading the device MTU: "));
    assert!(std::error::Error::source(&io).is_some());
}

#[test]
fn device_is_send_sync_and_exposes_its_fd() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Device>();
    let Some(fx) = Fixture::new(DeviceKind::Tun) else {
        return;
    };
    let raw = fx.dev.as_raw_fd();
    assert_eq!(fx.dev.as_fd().as_raw_fd(), raw);
    // SAFETY: F_GETFL on a descriptor we own is harmless.
    let fl = unsafe { libc::fcntl(raw, libc::F_GETFL) };
    assert!(fl & libc::O_NONBLOCK != 0, "non-blocking");
    // SAFETY: as above.
    let fdfl = unsafe { libc::fcntl(raw, libc::F_GETFD) };
    assert!(fdfl & libc::FD_CLOEXEC != 0, "close-on-exec");
}
