//! Throughput between ferrotcp on a TAP device and the Linux kernel's TCP, both directions.
//! Needs root and /dev/net/tun; everything happens in a network namespace this program makes
//! and deletes (ferrotcp 192.0.2.2, Linux 192.0.2.1).
//!
//! `cargo run --release -p ferrotcp-bench --bin tap_throughput [-- MIB]`

use std::io::{Read, Write};
use std::net::Shutdown;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ferrotcp::StackConfig;
use ferrotcp::wire::MacAddr;
use ferrotcp_io::device::DeviceKind;
use ferrotcp_io::net::{TcpListener, TcpStream};
use ferrotcp_io::{Runtime, RuntimeConfig};

struct Ns(String);

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(512);
    let bytes = mib << 20;
    let ns = Ns(format!("ftbench-{}", std::process::id()));
    let dev = format!("ftb{}", std::process::id() % 100_000);
    ip(&["netns", "add", &ns.0])?;
    let stack = StackConfig::new(MacAddr([2, 0, 0, 0, 0, 0x99]), "192.0.2.2".parse()?, 24)
        .with_seed(std::process::id().into());
    let rt = Runtime::start(RuntimeConfig {
        device: dev.clone(),
        kind: DeviceKind::Tap,
        stack,
        pcap: None,
        impair: None,
        trace: false,
    })?;
    ip(&["link", "set", &dev, "netns", &ns.0])?;
    ip(&["-n", &ns.0, "addr", "add", "192.0.2.1/24", "dev", &dev])?;
    ip(&["-n", &ns.0, "link", "set", &dev, "up"])?;
    println!(
        "# ferrotcp on TAP {dev} <-> Linux {} in netns {}; {mib} MiB each way; MTU 1500",
        uname(),
        ns.0
    );

    // Linux → ferrotcp: the kernel sends, ferrotcp reads and discards.
    let listener = TcpListener::bind_on(&rt, "0.0.0.0:5001")?;
    let sender = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.0,
            "sh",
            "-c",
            &format!("head -c {bytes} /dev/zero | nc -N -w 30 192.0.2.2 5001"),
        ])
        .stdout(Stdio::null())
        .spawn()?;
    let (mut s, _) = listener.accept()?;
    let start = Instant::now();
    let mut buf = vec![0u8; 256 * 1024];
    let mut got = 0usize;
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    let rx = start.elapsed();
    drop(s);
    let mut sender = sender;
    let _ = sender.wait();
    assert_eq!(got, bytes, "ferrotcp received {got} of {bytes} bytes");
    report("tap_linux_to_ferrotcp", bytes, rx);

    // ferrotcp → Linux: ferrotcp sends, the kernel discards; done when Linux has read it all
    // and closed (so every byte was acknowledged).
    let mut receiver = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.0,
            "sh",
            "-c",
            "nc -l -s 192.0.2.1 -p 5002 -w 30 > /dev/null",
        ])
        .spawn()?;
    let mut s = None;
    for _ in 0..200 {
        match TcpStream::connect_on(&rt, "192.0.2.1:5002") {
            Ok(c) => {
                s = Some(c);
                break;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let mut s = s.ok_or("Linux nc never listened")?;
    let chunk = vec![0u8; 256 * 1024];
    let start = Instant::now();
    let mut sent = 0;
    while sent < bytes {
        let n = (bytes - sent).min(chunk.len());
        s.write_all(&chunk[..n])?;
        sent += n;
    }
    s.shutdown(Shutdown::Write)?;
    let mut rest = Vec::new();
    s.read_to_end(&mut rest)?;
    let tx = start.elapsed();
    let _ = receiver.wait();
    report("tap_ferrotcp_to_linux", bytes, tx);
    drop(s);
    drop(listener);
    rt.shutdown();
    Ok(())
}

fn report(name: &str, bytes: usize, d: Duration) {
    let gbit = bytes as f64 * 8.0 / d.as_secs_f64() / 1e9;
    println!("# {name}: {bytes} bytes in {:.3} s", d.as_secs_f64());
    println!("figure {name} ferrotcp={gbit:.2} smoltcp=n/a ratio=n/a unit=Gbit/s");
}

fn uname() -> String {
    Command::new("uname")
        .arg("-r")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
