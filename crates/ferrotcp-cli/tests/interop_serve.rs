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
