//! Half-close and connection close against Linux, both ways, checked with ferrotcp's `--trace`
//! output (its state changes), Linux's `ss -tan` and a pcap, in a namespace per test
//! (addresses 192.0.2.0/24).

mod common;

use std::time::{Duration, Instant};

use common::*;

/// Waits (bounded) until `pred` holds for Linux's `ss -tan`; returns the last output.
fn wait_ss(ns: &Ns, timeout: Duration, pred: impl Fn(&str) -> bool) -> (bool, String) {
    let deadline = Instant::now() + timeout;
    loop {
        let s = ss_tan(ns);
        if pred(&s) {
            return (true, s);
        }
        if Instant::now() >= deadline {
            return (false, s);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// ferrotcp half-closes (end of stdin → FIN) and must still receive the reply that the Linux
/// server produces only after it has seen that FIN: `wc -c` of everything sent. ferrotcp,
/// having closed first, passes FIN-WAIT and TIME-WAIT; Linux, the passive closer, keeps no
/// TIME-WAIT.
#[test]
fn ferrotcp_half_closes_and_reads_a_reply_made_after_its_fin() {
    if !can_run(&["socat", "ss"]) {
        return;
    }
    let link = Link::new("tap");
    let dir = TempDir::new("halfclose");
    let data = pattern(21, 300_000);
    let inp = dir.path.join("in.bin");
    let outp = dir.path.join("out.txt");
    let sink = dir.path.join("sink.bin");
    std::fs::write(&inp, &data).expect("write");
    let mut socat = link.ns.cmd("socat");
    socat.args([
        "-t".to_string(),
        "10".to_string(),
        format!("TCP-LISTEN:7,bind={LINUX_IP},reuseaddr"),
        format!(
            "SYSTEM:cat > {} && wc -c < {}",
            sink.display(),
            sink.display()
        ),
    ]);
    let _server = Proc::spawn(socat);
    wait_listening(&link.ns, 7, Duration::from_secs(10));
    let started = Instant::now();
    let out = sh_in(
        &link.ns,
        &format!(
            "exec {} connect {LINUX_IP}:7 --trace {} < {} > {}",
            ferrotcp_bin(),
            link.link_args(),
            inp.display(),
            outp.display()
        ),
        Duration::from_secs(30),
    );
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "ferrotcp connect: {err}");
    let reply = std::fs::read_to_string(&outp).expect("reply");
    assert_eq!(reply.trim(), data.len().to_string(), "reply; trace:\n{err}");
    assert_eq!(
        std::fs::read(&sink).expect("sink"),
        data,
        "what Linux received"
    );
    let lines: Vec<String> = err.lines().map(str::to_string).collect();
    assert!(
        !transitions_to(&lines, "FIN-WAIT-1").is_empty(),
        "no FIN-WAIT-1:\n{err}"
    );
    assert!(
        !transitions_to(&lines, "TIME-WAIT").is_empty(),
        "the side that closed first (ferrotcp) did not pass TIME-WAIT:\n{err}"
    );
    assert!(
        transitions_to(&lines, "CLOSE-WAIT").is_empty(),
        "ferrotcp closed first, yet went through CLOSE-WAIT:\n{err}"
    );
    let ss = ss_tan(&link.ns);
    assert!(
        !ss.lines()
            .any(|l| l.contains("TIME-WAIT") && l.contains(":7 ")),
        "Linux closed second but holds a TIME-WAIT:\n{ss}"
    );
    eprintln!("ferrotcp connect (closing first) took {took:?} in all");
}

/// Linux sends an HTTP request and half-closes at once (`nc -N`); ferrotcp's server must still
/// send the whole 2 MiB response (in CLOSE-WAIT), then close (LAST-ACK). The pcap shows that
/// most of the body left ferrotcp after Linux's FIN had arrived.
#[test]
fn linux_half_closes_after_a_request_and_still_gets_2_mib() {
    if !can_run(&["nc", "tcpdump"]) {
        return;
    }
    let data = pattern(22, 2 << 20);
    let pcap_dir = TempDir::new("pcap");
    let pcap = pcap_dir.path.join("halfclose.pcap");
    let pcap_s = pcap.to_string_lossy().to_string();
    let mut s = serve(&[("f.bin", &data)], &["--trace", "--pcap", &pcap_s]);
    let outp = s.dir.path.join("resp.bin");
    let out = sh_in(
        &s.ns,
        &format!(
            "printf 'GET /f.bin HTTP/1.1\\r\\nHost: {FERRO_IP}\\r\\n\\r\\n' | nc -N -w 30 {FERRO_IP} 80 > {}",
            outp.display()
        ),
        Duration::from_secs(40),
    );
    assert!(
        out.status.success(),
        "nc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let resp = std::fs::read(&outp).expect("response");
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response head");
    let head = String::from_utf8_lossy(&resp[..split]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let body = &resp[split + 4..];
    assert_eq!(body.len(), data.len(), "body length; head:\n{head}");
    assert!(body == &data[..], "body differs");

    let lines = s.proc.lines_for(Duration::from_millis(500));
    let conn = lines.clone();
    assert!(
        !transitions_to(&conn, "CLOSE-WAIT").is_empty()
            && !transitions_to(&conn, "LAST-ACK").is_empty(),
        "expected ESTABLISHED -> CLOSE-WAIT -> LAST-ACK:\n{}",
        conn.join("\n")
    );
    assert!(
        transitions_to(&conn, "TIME-WAIT").is_empty(),
        "{}",
        conn.join("\n")
    );

    // Stop ferrotcp so that the pcap is flushed, then count body bytes sent after Linux's FIN.
    let status = s.proc.interrupt(Duration::from_secs(10));
    assert!(status.is_some(), "ferrotcp did not stop on SIGINT");
    let dump = run_bounded(
        {
            let mut c = std::process::Command::new("tcpdump");
            c.args(["-r", &pcap_s, "-nn", "-S", "tcp"]);
            c
        },
        Duration::from_secs(20),
    );
    let text = String::from_utf8_lossy(&dump.stdout);
    let linux_fin = format!("{LINUX_IP}.");
    let mut fin_seen = false;
    let mut after_fin: u64 = 0;
    for l in text.lines() {
        if l.contains(&format!("IP {linux_fin}")) && l.contains("Flags [F") {
            fin_seen = true;
        }
        if fin_seen && l.contains(&format!("IP {FERRO_IP}.80 >")) {
            // "... length 1448" or "... length 1448: HTTP" (tcpdump decodes port 80).
            if let Some((_, rest)) = l.rsplit_once("length ") {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                after_fin += digits.parse::<u64>().unwrap_or(0);
            }
        }
    }
    assert!(fin_seen, "no FIN from Linux in the pcap:\n{text}");
    assert!(
        after_fin > 1 << 20,
        "only {after_fin} bytes sent after Linux's FIN: the half-close was not exercised\n{}",
        text.lines().take(40).collect::<Vec<_>>().join("\n")
    );
    eprintln!("{after_fin} bytes sent by ferrotcp in CLOSE-WAIT");
}

/// ferrotcp's HTTP server closes first (`Connection: close`): ferrotcp passes FIN-WAIT-1 and
/// TIME-WAIT, Linux (passive) does not keep a TIME-WAIT.
#[test]
fn ferrotcp_closing_first_passes_time_wait() {
    if !can_run(&["nc", "ss"]) {
        return;
    }
    let data = pattern(23, 10_000);
    let s = serve(&[("small.bin", &data)], &["--trace"]);
    let outp = s.dir.path.join("got.bin");
    // OpenBSD nc without -N never half-closes on its own: it keeps reading until the server
    // closes, so ferrotcp is the first to close whatever the timing (curl would race us: it
    // may close as soon as the body is complete).
    let out = sh_in(
        &s.ns,
        &format!(
            "printf 'GET /small.bin HTTP/1.1\\r\\nHost: {FERRO_IP}\\r\\nConnection: close\\r\\n\\r\\n' \
             | nc -w 20 {FERRO_IP} 80 > {}",
            outp.display()
        ),
        Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "nc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let response = std::fs::read(&outp).expect("response");
    assert!(
        response.ends_with(&data),
        "the response ends with the file's bytes"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut lines = Vec::new();
    while Instant::now() < deadline && transitions_to(&lines, "TIME-WAIT").is_empty() {
        lines.extend(s.proc.lines_for(Duration::from_millis(200)));
    }
    let conn = lines.clone();
    let text = conn.join("\n");
    assert!(!transitions_to(&conn, "FIN-WAIT-1").is_empty(), "{text}");
    assert!(
        !transitions_to(&conn, "TIME-WAIT").is_empty(),
        "ferrotcp closed first but did not pass TIME-WAIT:\n{text}"
    );
    assert!(transitions_to(&conn, "CLOSE-WAIT").is_empty(), "{text}");
    let (ok, ss) = wait_ss(&s.ns, Duration::from_secs(3), |ss| {
        !ss.lines().any(|l| {
            l.contains(&format!("{FERRO_IP}:80"))
                && !l.contains("TIME-WAIT")
                && !l.contains("LISTEN")
        })
    });
    assert!(ok, "Linux's side did not finish closing:\n{ss}");
    assert!(
        !ss.lines()
            .any(|l| l.contains("TIME-WAIT") && l.contains(&format!("{FERRO_IP}:80"))),
        "Linux closed second but holds a TIME-WAIT:\n{ss}"
    );
}

/// curl closes first (keep-alive response, then curl exits): ferrotcp goes ESTABLISHED ->
/// CLOSE-WAIT -> LAST-ACK -> CLOSED and Linux holds the TIME-WAIT (`ss -tan`).
#[test]
fn linux_closing_first_leaves_time_wait_on_linux() {
    if !can_run(&["curl", "ss"]) {
        return;
    }
    let data = pattern(24, 10_000);
    let s = serve(&[("small.bin", &data)], &["--trace"]);
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
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut lines = Vec::new();
    while Instant::now() < deadline && !has_change(&lines, "LAST-ACK", "CLOSED") {
        lines.extend(s.proc.lines_for(Duration::from_millis(200)));
    }
    let conn = lines.clone();
    let text = conn.join("\n");
    for (from, to) in [
        ("ESTABLISHED", "CLOSE-WAIT"),
        ("CLOSE-WAIT", "LAST-ACK"),
        ("LAST-ACK", "CLOSED"),
    ] {
        assert!(has_change(&conn, from, to), "no {from} -> {to}:\n{text}");
    }
    assert!(transitions_to(&conn, "TIME-WAIT").is_empty(), "{text}");
    let (ok, ss) = wait_ss(&s.ns, Duration::from_secs(3), |ss| {
        ss.lines().any(|l| {
            l.starts_with("TIME-WAIT")
                && l.contains(&format!("{FERRO_IP}:80"))
                && l.contains(&format!("{LINUX_IP}:"))
        })
    });
    assert!(ok, "no TIME-WAIT on Linux's side:\n{ss}");
}

/// The same from the client side: python's HTTP/1.0 server closes after the response, so
/// `ferrotcp get` sees CLOSE-WAIT and LAST-ACK, and Linux holds the TIME-WAIT.
#[test]
fn linux_server_closing_first_leaves_ferrotcp_get_in_close_wait_then_last_ack() {
    if !can_run(&["python3", "ss"]) {
        return;
    }
    let link = Link::new("tap");
    let dir = TempDir::new("pyclose");
    let data = pattern(25, 50_000);
    std::fs::write(dir.path.join("f.bin"), &data).expect("write");
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
    let outp = dir.path.join("got.bin");
    let out = sh_in(
        &link.ns,
        &format!(
            "exec {} get http://{LINUX_IP}:8000/f.bin -o {} --trace {}",
            ferrotcp_bin(),
            outp.display(),
            link.link_args()
        ),
        Duration::from_secs(30),
    );
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    assert_eq!(std::fs::read(&outp).expect("got"), data);
    let lines: Vec<String> = err.lines().map(str::to_string).collect();
    for (from, to) in [
        ("ESTABLISHED", "CLOSE-WAIT"),
        ("CLOSE-WAIT", "LAST-ACK"),
        ("LAST-ACK", "CLOSED"),
    ] {
        assert!(has_change(&lines, from, to), "no {from} -> {to}:\n{err}");
    }
    assert!(transitions_to(&lines, "TIME-WAIT").is_empty(), "{err}");
    let (ok, ss) = wait_ss(&link.ns, Duration::from_secs(3), |ss| {
        ss.lines()
            .any(|l| l.starts_with("TIME-WAIT") && l.contains(&format!("{LINUX_IP}:8000")))
    });
    assert!(ok, "no TIME-WAIT on Linux's side:\n{ss}");
}
