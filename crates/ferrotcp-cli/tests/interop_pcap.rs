//! `ferrotcp serve --pcap FILE`: a short curl, then Ctrl-C (SIGINT); ferrotcp must stop within
//! a few seconds and leave a capture tcpdump reads, with the handshake and the FINs in it.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn pcap_records_handshake_and_fin_and_sigint_stops_serve() {
    if !can_run(&["curl", "tcpdump"]) {
        return;
    }
    let cap = TempDir::new("pcap");
    let pcap = cap.path.join("serve.pcap");
    let pcap_s = pcap.to_string_lossy().to_string();
    let data = pattern(71, 20_000);
    let mut s = serve(&[("small.bin", &data)], &["--pcap", &pcap_s]);
    let outp = s.dir.path.join("got.bin");
    let out = sh_in(
        &s.ns,
        &format!(
            "curl -sS --max-time 20 -o {} http://{FERRO_IP}/small.bin",
            outp.display()
        ),
        Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&outp).expect("got"), data);
    // Let the close finish (curl's FIN, ferrotcp's FIN and the last ACK) before stopping.
    std::thread::sleep(Duration::from_millis(300));

    let started = Instant::now();
    let status = s.proc.interrupt(Duration::from_secs(8));
    let took = started.elapsed();
    let status = status.unwrap_or_else(|| panic!("ferrotcp still running {took:?} after SIGINT"));
    eprintln!("ferrotcp stopped {took:?} after SIGINT: {status:?}");
    assert!(took < Duration::from_secs(6), "graceful stop took {took:?}");

    let mut c = Command::new("tcpdump");
    c.args(["-r", &pcap_s, "-nn", "tcp"]);
    let dump = run_bounded(c, Duration::from_secs(20));
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(
        dump.status.success(),
        "tcpdump -r: {}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let from_linux = format!("IP {LINUX_IP}.");
    let from_ferro = format!("IP {FERRO_IP}.80 > {LINUX_IP}.");
    let has = |from: &str, flags: &str| {
        text.lines()
            .any(|l| l.contains(from) && l.contains(&format!("Flags [{flags}")))
    };
    assert!(has(&from_linux, "S]"), "no SYN from Linux:\n{text}");
    assert!(has(&from_ferro, "S.]"), "no SYN-ACK from ferrotcp:\n{text}");
    assert!(has(&from_linux, "F"), "no FIN from Linux:\n{text}");
    assert!(has(&from_ferro, "F"), "no FIN from ferrotcp:\n{text}");
    let data_bytes: usize = text
        .lines()
        .filter(|l| l.contains(&from_ferro))
        .filter_map(|l| {
            let (_, rest) = l.rsplit_once("length ")?;
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse::<usize>()
                .ok()
        })
        .sum();
    assert!(
        data_bytes >= data.len(),
        "only {data_bytes} bytes from ferrotcp in the capture"
    );
}
