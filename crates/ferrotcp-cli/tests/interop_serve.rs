//! Linux → ferrotcp: the kernel's ping, curl, socat and nc against `ferrotcp serve` on a TAP
//! device, inside a network namespace each test makes and deletes (addresses 192.0.2.0/24).

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn ping_is_answered() {
    if !can_run(&["ping"]) {
        return;
    }
    let s = serve(&[], &[]);
    let out = sh_in(
        &s.ns,
        &format!("ping -c 3 -i 0.2 -W 2 {FERRO_IP}"),
        Duration::from_secs(20),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "ping failed: {text}");
    assert!(text.contains("3 received"), "{text}");
}

#[test]
fn curl_downloads_10_mib_intact() {
    if !can_run(&["curl", "sha256sum"]) {
        return;
    }
    let data = pattern(1, 10 << 20);
    let s = serve(&[("big.bin", &data)], &[]);
    let out_path = s.dir.path.join("downloaded.bin");
    let out = sh_in(
        &s.ns,
        &format!(
            "curl -sS --max-time 60 -o {} http://{FERRO_IP}/big.bin",
            out_path.display()
        ),
        Duration::from_secs(90),
    );
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = std::fs::read(&out_path).expect("downloaded file");
    assert_eq!(got.len(), data.len());
    assert_eq!(sha256(&got), sha256(&data));
}

#[test]
fn echo_round_trips_10_mib_through_socat_and_nc() {
    if !can_run(&["socat", "nc"]) {
        return;
    }
    let data = pattern(2, 10 << 20);
    let s = serve(&[("in.bin", &data)], &[]);
    let inp = s.dir.path.join("in.bin");
    for (tool, script) in [
        (
            "socat",
            format!(
                "socat -t 30 -T 60 TCP:{FERRO_IP}:7 - < {} > {}",
                inp.display(),
                s.dir.path.join("socat.out").display()
            ),
        ),
        (
            "nc",
            format!(
                "nc -N -w 60 {FERRO_IP} 7 < {} > {}",
                inp.display(),
                s.dir.path.join("nc.out").display()
            ),
        ),
    ] {
        let out = sh_in(&s.ns, &script, Duration::from_secs(90));
        assert!(
            out.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = std::fs::read(s.dir.path.join(format!("{tool}.out"))).expect("echo output");
        assert_eq!(got.len(), data.len(), "{tool}: length");
        assert!(got == data, "{tool}: the echo differs from what was sent");
    }
}

#[test]
fn discard_counts_100_mib() {
    if !can_run(&["nc"]) {
        return;
    }
    let s = serve(&[], &[]);
    let out = sh_in(
        &s.ns,
        &format!("head -c 104857600 /dev/zero | nc -N -w 60 {FERRO_IP} 9"),
        Duration::from_secs(120),
    );
    assert!(
        out.status.success(),
        "nc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = s.proc.wait_for_line("discard:", Duration::from_secs(10));
    assert!(line.contains("discard: 104857600 bytes"), "{line}");
}

#[test]
fn a_closed_port_is_refused_at_once() {
    if !can_run(&["curl"]) {
        return;
    }
    let s = serve(&[], &[]);
    let started = Instant::now();
    let out = sh_in(
        &s.ns,
        &format!("curl -sS --max-time 10 http://{FERRO_IP}:1/"),
        Duration::from_secs(20),
    );
    // curl's exit code 7: failed to connect (connection refused).
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused") || err.contains("Couldn't connect"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "refused only after {:?}",
        started.elapsed()
    );
}

#[test]
fn linux_asking_for_ecn_gets_it_and_ferrotcp_marks_its_data_ect() {
    // RFC 3168 §6.1.1: Linux set to ask (`tcp_ecn = 1`) sends an ECN-setup SYN; ferrotcp's
    // default agrees (ECE alone on the SYN,ACK) and sends its data with ECT(0) (§6.1.5).
    if !can_run(&["curl", "tcpdump", "sysctl"]) {
        return;
    }
    let data = pattern(5, 200_000);
    let cap = TempDir::new("ecnpcap");
    let pcap = cap.path.join("ecn.pcap").to_string_lossy().to_string();
    let mut s = serve(&[("f.bin", &data)], &["--pcap", &pcap]);
    let out = sh_in(
        &s.ns,
        &format!(
            "sysctl -qw net.ipv4.tcp_ecn=1 && curl -sS --max-time 30 -o /dev/null http://{FERRO_IP}/f.bin"
        ),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        s.proc.interrupt(Duration::from_secs(10)).is_some(),
        "serve did not stop"
    );
    let mut c = std::process::Command::new("tcpdump");
    c.args(["-r", &pcap, "-nn", "-v", "tcp"]);
    let dump = run_bounded(c, Duration::from_secs(30));
    let text = String::from_utf8_lossy(&dump.stdout);
    // tcpdump -v puts the IP header on one line and the TCP one on the next.
    let lines: Vec<&str> = text.lines().collect();
    let tcp_line = |i: usize| lines.get(i + 1).copied().unwrap_or_default();
    let syn = (0..lines.len()).find(|&i| {
        tcp_line(i).contains(&format!("{LINUX_IP}.")) && tcp_line(i).contains("Flags [SEW]")
    });
    assert!(syn.is_some(), "Linux's ECN-setup SYN:\n{text}");
    let syn_ack = (0..lines.len()).find(|&i| {
        tcp_line(i).contains(&format!("{FERRO_IP}.80 >")) && tcp_line(i).contains("Flags [S.E]")
    });
    assert!(syn_ack.is_some(), "ferrotcp's ECN-setup SYN,ACK:\n{text}");
    let ect_data = (0..lines.len()).any(|i| {
        lines[i].contains("ECT(0)")
            && tcp_line(i).contains(&format!("{FERRO_IP}.80 >"))
            && !tcp_line(i).contains("length 0")
    });
    assert!(ect_data, "ferrotcp's data with ECT(0):\n{text}");
}
