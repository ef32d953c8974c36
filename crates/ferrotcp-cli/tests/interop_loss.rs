//! Transfers against Linux through ferrotcp's user-space impairments (`--loss 5 --reorder 2`,
//! both directions of ferrotcp's device path), so both stacks' loss recovery runs, in a
//! namespace per test (addresses 192.0.2.0/24).

mod common;

use std::time::{Duration, Instant};

use common::*;

const IMPAIR: [&str; 6] = ["--loss", "5", "--reorder", "2", "--seed", "7"];

/// Data segments sent again (same sequence range) by the host `src` ("192.0.2.1" or
/// "192.0.2.2"), from `tcpdump -nn -S` output.
fn retransmissions(dump: &str, src: &str) -> usize {
    let prefix = format!("IP {src}.");
    let mut seen = std::collections::HashSet::new();
    let mut again = 0;
    for l in dump.lines().filter(|l| l.contains(&prefix)) {
        let Some((_, rest)) = l.split_once(", seq ") else {
            continue;
        };
        let range: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == ':')
            .collect();
        if range.contains(':') && !seen.insert(range) {
            again += 1;
        }
    }
    again
}

#[test]
fn curl_downloads_10_mib_intact_through_5_percent_loss() {
    if !can_run(&["curl", "sha256sum"]) {
        return;
    }
    let data = pattern(31, 10 << 20);
    let s = serve(&[("big.bin", &data)], &IMPAIR);
    let out_path = s.dir.path.join("downloaded.bin");
    let started = Instant::now();
    let out = sh_in(
        &s.ns,
        &format!(
            "curl -sS --max-time 280 -o {} http://{FERRO_IP}/big.bin",
            out_path.display()
        ),
        Duration::from_secs(300),
    );
    assert!(
        out.status.success(),
        "curl after {:?}: {}",
        started.elapsed(),
        String::from_utf8_lossy(&out.stderr)
    );
    let got = std::fs::read(&out_path).expect("downloaded file");
    assert_eq!(got.len(), data.len());
    assert_eq!(sha256(&got), sha256(&data));
    eprintln!("10 MiB at 5% loss in {:?}", started.elapsed());
}

#[test]
fn socat_echo_2_mib_byte_exact_through_5_percent_loss() {
    if !can_run(&["socat", "tcpdump"]) {
        return;
    }
    let data = pattern(32, 10 << 20);
    let cap = TempDir::new("losspcap");
    let pcap = cap.path.join("echo.pcap").to_string_lossy().to_string();
    let mut args = IMPAIR.to_vec();
    args.extend(["--pcap", &pcap]);
    let mut s = serve(&[("in.bin", &data)], &args);
    let started = Instant::now();
    let out = sh_in(
        &s.ns,
        &format!(
            "socat -t 60 -T 280 TCP:{FERRO_IP}:7 - < {} > {}",
            s.dir.path.join("in.bin").display(),
            s.dir.path.join("echo.out").display()
        ),
        Duration::from_secs(300),
    );
    assert!(
        out.status.success(),
        "socat after {:?}: {}",
        started.elapsed(),
        String::from_utf8_lossy(&out.stderr)
    );
    let got = std::fs::read(s.dir.path.join("echo.out")).expect("echo output");
    assert_eq!(got.len(), data.len(), "echo length");
    assert!(got == data, "the echo differs from what was sent");
    eprintln!("10 MiB echo at 5% loss in {:?}", started.elapsed());
    // Both stacks had to recover: each sent some data segments twice. The pcap records Linux's
    // frames before the impairment and ferrotcp's after it (a dropped frame of ferrotcp is
    // never recorded), so ferrotcp's count only includes re-sends of segments that did leave.
    assert!(
        s.proc.interrupt(Duration::from_secs(10)).is_some(),
        "serve did not stop"
    );
    let mut c = std::process::Command::new("tcpdump");
    c.args(["-r", &pcap, "-nn", "-S", "tcp"]);
    let dump = run_bounded(c, Duration::from_secs(30));
    let text = String::from_utf8_lossy(&dump.stdout);
    let (linux, ferro) = (
        retransmissions(&text, LINUX_IP),
        retransmissions(&text, FERRO_IP),
    );
    eprintln!("retransmitted data segments: Linux {linux}, ferrotcp {ferro}");
    assert!(
        linux > 0 && ferro > 0,
        "Linux {linux}, ferrotcp {ferro}: was there any loss?"
    );
    // Linux offers SACK and timestamps in its SYN; ferrotcp's SYN,ACK agrees to both
    // (RFC 2018 §2, RFC 7323 §3.2), and both then stamp every segment and report holes.
    let syn = handshake_line(&text, LINUX_IP, "[S]");
    let syn_ack = handshake_line(&text, FERRO_IP, "[S.]");
    for (who, l) in [("Linux's SYN", syn), ("ferrotcp's SYN,ACK", syn_ack)] {
        assert!(l.contains("sackOK") && l.contains("TS val"), "{who}: {l}");
    }
    let unstamped: Vec<&str> = text
        .lines()
        // RFC 7323 §3.2 leaves a RST free to omit it (ours do).
        .filter(|l| l.contains(&format!("IP {FERRO_IP}.")) && !l.contains("Flags [R"))
        .filter(|l| !l.contains("TS val"))
        .take(3)
        .collect();
    assert!(
        unstamped.is_empty(),
        "every segment from ferrotcp but a RST carries a timestamp: {unstamped:?}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains(&format!("IP {FERRO_IP}.")) && l.contains("sack ")),
        "ferrotcp's ACKs report holes in SACK blocks"
    );
}

/// The first segment from `src` with the tcpdump flags `flags` (`[S]`, `[S.]`).
fn handshake_line<'a>(dump: &'a str, src: &str, flags: &str) -> &'a str {
    let from = format!("IP {src}.");
    dump.lines()
        .find(|l| l.contains(&from) && l.contains(&format!("Flags {flags}")))
        .unwrap_or_else(|| panic!("no {flags} from {src} in the capture"))
}

#[test]
fn get_downloads_10_mib_from_python_through_5_percent_loss() {
    if !can_run(&["python3", "sha256sum", "ss"]) {
        return;
    }
    let link = Link::new("tap");
    let dir = TempDir::new("pyloss");
    let data = pattern(33, 10 << 20);
    std::fs::write(dir.path.join("file.bin"), &data).expect("write");
    let mut py = link.ns.cmd("python3");
    py.args([
        "-m",
        "http.server",
        "8000",
        "--bind",
        LINUX_IP,
        "--directory",
    ])
    .arg(&dir.path);
    let _server = Proc::spawn(py);
    wait_listening(&link.ns, 8000, Duration::from_secs(10));
    let out_path = dir.path.join("got.bin");
    let started = Instant::now();
    let out = sh_in(
        &link.ns,
        &format!(
            "exec {} get http://{LINUX_IP}:8000/file.bin -o {} {} {}",
            ferrotcp_bin(),
            out_path.display(),
            link.link_args(),
            IMPAIR.join(" ")
        ),
        Duration::from_secs(300),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "ferrotcp get after {:?}: {err}",
        started.elapsed()
    );
    let got = std::fs::read(&out_path).expect("downloaded file");
    assert_eq!(got.len(), data.len());
    assert_eq!(sha256(&got), sha256(&data));
    eprintln!("ferrotcp get 10 MiB at 5% loss in {:?}", started.elapsed());
}
