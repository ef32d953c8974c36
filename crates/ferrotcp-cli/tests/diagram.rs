//! `ferrotcp diagram FILE.pcap`: bad input is one clear error line and exit code 1, never a
//! panic; ferrotcp's own captures and a real Linux-to-Linux tcpdump capture are drawn with the
//! handshake, the data and each side's inferred states.
//!
//! The real capture needs root, iproute2, tcpdump, socat and python3 (to parse the SVG as XML):
//! it is skipped elsewhere, and fails under CI=true when any is missing. Its two namespaces use
//! 192.0.2.1/24 and 192.0.2.2/24 only, are deleted on drop, and only the processes the test
//! started are ended, by PID.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::{Ns, Proc, TempDir, dev_name, have, run_bounded, sh_in, wait_listening};
use ferrotcp::seq::SeqNum;
use ferrotcp::wire::{
    EtherType, EthernetRepr, IpProtocol, Ipv4Repr, MacAddr, TcpFlags, TcpOptions, TcpRepr,
};
use ferrotcp_io::pcap::{LinkType, PcapWriter};

const CLIENT: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 43210);
const SERVER: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 2), 80);

/// Runs `ferrotcp diagram ARGS...`, bounded.
fn diagram(args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ferrotcp"));
    c.arg("diagram").args(args);
    run_bounded(c, Duration::from_secs(30))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Asserts a clean failure: exit code 1, no panic, and the one-line error contains `needle`.
fn assert_fails_with(out: &Output, needle: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    // The error is the last line; informational lines may come before it.
    let line = err
        .lines()
        .rfind(|l| l.starts_with("ferrotcp diagram: ") && !l.contains("warning"))
        .unwrap_or_else(|| panic!("no error line in {err:?}"));
    assert!(
        line.contains(needle),
        "error line {line:?} lacks {needle:?}"
    );
}

/// One Ethernet frame holding a TCP segment (checksums filled in).
fn frame(
    from: SocketAddrV4,
    to: SocketAddrV4,
    flags: TcpFlags,
    seq: u32,
    ack: u32,
    payload: &[u8],
    link: LinkType,
) -> Vec<u8> {
    let tcp = TcpRepr {
        src_port: from.port(),
        dst_port: to.port(),
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags,
        window: 64240,
        urgent: 0,
        options: TcpOptions {
            mss: flags.syn().then_some(1460),
            ..TcpOptions::default()
        },
    };
    let ip = Ipv4Repr {
        src: *from.ip(),
        dst: *to.ip(),
        protocol: IpProtocol::Tcp,
        payload_len: tcp.header_len() + payload.len(),
        ttl: 64,
        ident: 0,
        dont_fragment: true,
        dscp_ecn: 0,
    };
    let eth_len = match link {
        LinkType::Ethernet => EthernetRepr::HEADER_LEN,
        LinkType::RawIpv4 => 0,
    };
    let mut buf = vec![0u8; eth_len + ip.buffer_len()];
    if eth_len > 0 {
        EthernetRepr {
            src: MacAddr([2, 0, 0, 0, 0, 1]),
            dst: MacAddr([2, 0, 0, 0, 0, 2]),
            ethertype: EtherType::Ipv4,
        }
        .emit(&mut buf);
    }
    ip.emit(&mut buf[eth_len..]);
    let seg = &mut buf[eth_len + Ipv4Repr::HEADER_LEN..];
    seg[tcp.header_len()..].copy_from_slice(payload);
    tcp.emit(seg, *from.ip(), *to.ip());
    buf
}

/// `(from, to, flags, seq, ack, payload)`.
type Step = (
    SocketAddrV4,
    SocketAddrV4,
    TcpFlags,
    u32,
    u32,
    &'static [u8],
);

/// A whole connection as ferrotcp's pcap writer records it: handshake, 5 bytes, client closes
/// first, 1 ms between segments, plus an ARP-like frame that is not TCP.
fn exchange_capture(link: LinkType) -> Vec<u8> {
    let (c, s) = (CLIENT, SERVER);
    let (syn, ack, fin, psh) = (TcpFlags::SYN, TcpFlags::ACK, TcpFlags::FIN, TcpFlags::PSH);
    let segments: [Step; 9] = [
        (c, s, syn, 1000, 0, b""),
        (s, c, syn | ack, 5000, 1001, b""),
        (c, s, ack, 1001, 5001, b""),
        (c, s, psh | ack, 1001, 5001, b"hello"),
        (s, c, ack, 5001, 1006, b""),
        (c, s, fin | ack, 1006, 5001, b""),
        (s, c, ack, 5001, 1007, b""),
        (s, c, fin | ack, 5001, 1007, b""),
        (c, s, ack, 1007, 5002, b""),
    ];
    let mut w = PcapWriter::new(Vec::new(), link).expect("pcap header");
    let t0 = Duration::from_secs(1_700_000_000);
    if link == LinkType::Ethernet {
        let mut arp = vec![0xffu8; 42];
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        w.write_packet(t0, &arp).expect("write");
    }
    for (i, (from, to, flags, seq, ack, payload)) in segments.into_iter().enumerate() {
        let f = frame(from, to, flags, seq, ack, payload, link);
        w.write_packet(t0 + Duration::from_millis(1 + i as u64), &f)
            .expect("write");
    }
    w.into_inner()
}

/// The states a ladder shows on the left (`left`) or the right lifeline, in order.
fn lifeline_states(ladder: &str, left: bool) -> Vec<String> {
    const STATES: [&str; 11] = [
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
    let mut out = Vec::new();
    for line in ladder.lines() {
        let (Some(first), Some(last)) = (line.find('|'), line.rfind('|')) else {
            continue;
        };
        if first == last
            || !line[first..last]
                .trim_matches(|c| c == '|')
                .trim()
                .is_empty()
        {
            continue; // a segment, note or header line
        }
        let word = if left {
            line[..first].split_whitespace().last()
        } else {
            line[last + 1..].split_whitespace().next()
        };
        if let Some(w) = word.filter(|w| STATES.contains(w)) {
            out.push(w.to_string());
        }
    }
    out
}

/// The number of elements with `class="segment"` in an SVG file, parsed as XML by Python's
/// standard library (which rejects anything not well-formed).
fn svg_segments(svg: &Path) -> usize {
    let script = "import sys, xml.etree.ElementTree as ET\n\
                  root = ET.parse(sys.argv[1]).getroot()\n\
                  print(sum(1 for e in root.iter() if e.get('class') == 'segment'))";
    let mut c = Command::new("python3");
    c.args(["-c", script]).arg(svg);
    let out = run_bounded(c, Duration::from_secs(30));
    assert!(
        out.status.success(),
        "SVG is not well-formed XML: {}",
        text(&out.stderr)
    );
    text(&out.stdout).trim().parse().expect("count")
}

fn write(dir: &TempDir, name: &str, data: &[u8]) -> String {
    let p = dir.path.join(name);
    std::fs::write(&p, data).expect("write test file");
    p.to_string_lossy().into_owned()
}

// ---- (a) malformed input ----

#[test]
fn missing_file_is_one_clear_line() {
    let out = diagram(&["/nonexistent/ferrotcp-diagram-test.pcap"]);
    assert_fails_with(&out, "No such file");
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn malformed_captures_fail_cleanly() {
    let dir = TempDir::new("diagram-bad");
    let good = exchange_capture(LinkType::Ethernet);
    let mut wrong_magic = good.clone();
    wrong_magic[0] ^= 0xff;
    let mut pcapng = good.clone();
    pcapng[..4].copy_from_slice(&[0x0a, 0x0d, 0x0d, 0x0a]);
    let mut linktype = good.clone();
    linktype[20..24].copy_from_slice(&113u32.to_le_bytes()); // Linux cooked capture
    let mut huge = good[..24].to_vec();
    huge.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]);
    let cases: [(&str, Vec<u8>, &str); 8] = [
        ("empty.pcap", Vec::new(), "empty file"),
        (
            "random.pcap",
            common::pattern(7, 4096),
            "not a classic pcap file",
        ),
        (
            "short.pcap",
            good[..17].to_vec(),
            "too short for a pcap file",
        ),
        ("magic.pcap", wrong_magic, "bad magic"),
        ("ng.pcapng", pcapng, "pcapng"),
        ("sll.pcap", linktype, "unsupported pcap link type 113"),
        (
            "nopackets.pcap",
            good[..24].to_vec(),
            "no TCP over IPv4 in 0 packets",
        ),
        ("huge.pcap", huge, "no TCP over IPv4 in 0 packets"),
    ];
    for (name, data, needle) in cases {
        let path = write(&dir, name, &data);
        let out = diagram(&[&path]);
        assert_fails_with(&out, needle);
        assert!(
            text(&out.stdout).is_empty(),
            "{name}: {}",
            text(&out.stdout)
        );
    }
    // A directory is not a capture either.
    let out = diagram(&[&dir.path.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

#[test]
fn truncated_last_record_draws_what_was_read_and_warns() {
    let dir = TempDir::new("diagram-trunc");
    let good = exchange_capture(LinkType::Ethernet);
    // Cut 10 bytes into the last record: the first 8 segments survive.
    let path = write(&dir, "cut.pcap", &good[..good.len() - 40]);
    let out = diagram(&[&path]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("warning") && err.contains("truncated") && err.contains("9 packets"),
        "{err}"
    );
    assert!(err.contains("8 segments"), "{err}");
    assert!(
        text(&out.stdout).contains("<- FIN,ACK"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn every_truncation_and_corruption_is_handled_without_panic() {
    let dir = TempDir::new("diagram-fuzz");
    let good = exchange_capture(LinkType::Ethernet);
    let mut inputs = Vec::new();
    for cut in (0..good.len()).step_by(9) {
        inputs.push(good[..cut].to_vec());
    }
    // Flip bytes inside the records (headers, IP, TCP), one at a time.
    for at in (24..good.len()).step_by(11) {
        let mut bad = good.clone();
        bad[at] ^= 0xa5;
        inputs.push(bad);
    }
    for (i, data) in inputs.iter().enumerate() {
        let path = write(&dir, &format!("{i}.pcap"), data);
        let out = diagram(&[&path]);
        let err = text(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0 | 1)) && !err.contains("panicked"),
            "input {i} ({} bytes): {:?}\n{err}",
            data.len(),
            out.status
        );
    }
}

#[test]
fn stream_beyond_the_last_lists_the_streams() {
    let dir = TempDir::new("diagram-stream");
    let path = write(&dir, "one.pcap", &exchange_capture(LinkType::Ethernet));
    let out = diagram(&[&path, "--stream", "3"]);
    assert_fails_with(&out, "no stream 3");
    let err = text(&out.stderr);
    assert!(err.contains("1 TCP stream (0)"), "{err}");
    assert!(
        err.contains("stream 0: 192.0.2.1:43210 <-> 192.0.2.2:80, 9 segments"),
        "{err}"
    );
    assert!(text(&out.stdout).is_empty());
}

// ---- (b) ferrotcp's own captures ----

#[test]
fn own_capture_shows_handshake_states_and_close() {
    for link in [LinkType::Ethernet, LinkType::RawIpv4] {
        let dir = TempDir::new("diagram-own");
        let path = write(&dir, "own.pcap", &exchange_capture(link));
        let svg = dir.path.join("own.svg");
        let out = diagram(&[&path, "--svg", &svg.to_string_lossy()]);
        let (ladder, err) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(
            err.contains("stream 0: 192.0.2.1:43210 <-> 192.0.2.2:80, 9 segments"),
            "{err}"
        );
        if link == LinkType::Ethernet {
            assert!(err.contains("skipped 1 frame that is not TCP"), "{err}");
        }
        println!("{ladder}");
        // Header: client on the left, server on the right.
        let header = ladder.lines().next().unwrap_or_default();
        assert!(
            header.find("192.0.2.1:43210") < header.find("192.0.2.2:80"),
            "{header}"
        );
        assert!(
            ladder.contains("|-- SYN seq=0 win=64240 len=0 "),
            "{ladder}"
        );
        assert!(ladder.contains("|<- SYN,ACK seq=0 ack=1 "), "{ladder}");
        assert!(
            ladder.contains("-- PSH,ACK seq=1 ack=1 win=64240 len=5"),
            "{ladder}"
        );
        assert!(!ladder.contains("(lost)"), "{ladder}");
        assert_eq!(
            lifeline_states(&ladder, true),
            [
                "CLOSED",
                "SYN-SENT",
                "ESTABLISHED",
                "FIN-WAIT-1",
                "FIN-WAIT-2",
                "TIME-WAIT"
            ]
        );
        assert_eq!(
            lifeline_states(&ladder, false),
            [
                "LISTEN",
                "SYN-RECEIVED",
                "ESTABLISHED",
                "CLOSE-WAIT",
                "LAST-ACK",
                "CLOSED"
            ]
        );
        // Times count from the capture's first frame.
        assert!(ladder.contains("0.001000s"), "{ladder}");
        // --absolute shows the numbers as sent.
        let abs = text(&diagram(&[&path, "--absolute"]).stdout);
        assert!(abs.contains("SYN,ACK seq=5000 ack=1001"), "{abs}");
        // The SVG: one segment element per segment.
        let svg_text = std::fs::read_to_string(&svg).expect("SVG written");
        assert!(svg_text.contains("<svg"), "{svg_text}");
        if have("python3") {
            assert_eq!(svg_segments(&svg), 9);
        }
    }
}

/// The capture ferrotcp's runtime records (`connect --pcap`, on a TAP and on a TUN device) while
/// it sends a few bytes to Linux's socat and closes first: drawn with the handshake and both
/// sides' states. (`connect` rather than `serve`: `serve` stops on SIGINT, and that path can end
/// the process before the runtime has flushed its capture.)
#[test]
fn runtime_capture_of_ferrotcp_connect() {
    if !common::can_run(&["socat"]) {
        return;
    }
    for mode in ["tap", "tun"] {
        let link = common::Link::new(mode);
        let dir = TempDir::new("diagram-connect");
        let pcap = dir.path.join("connect.pcap").to_string_lossy().into_owned();
        let received = dir.path.join("received");
        let mut server = link.ns.cmd("socat");
        server.args([
            "-u",
            "TCP-LISTEN:7000,bind=192.0.2.1,reuseaddr",
            &format!("CREATE:{}", received.display()),
        ]);
        let _server = Proc::spawn(server);
        wait_listening(&link.ns, 7000, Duration::from_secs(10));
        let out = sh_in(
            &link.ns,
            &format!(
                "printf 'hello, ladder' | exec {} connect 192.0.2.1:7000 {} --pcap {pcap}",
                common::ferrotcp_bin(),
                link.link_args(),
            ),
            Duration::from_secs(30),
        );
        assert!(
            out.status.success(),
            "ferrotcp connect: {}",
            text(&out.stderr)
        );
        let out = diagram(&[&pcap]);
        let (ladder, err) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{mode}: {err}");
        println!("{mode}:\n{err}\n{ladder}");
        assert!(
            err.lines()
                .any(|l| l.starts_with("stream 0: 192.0.2.2:")
                    && l.contains(" <-> 192.0.2.1:7000, ")),
            "{mode}: {err}"
        );
        assert!(ladder.contains("|-- SYN seq=0 "), "{ladder}");
        assert!(ladder.contains("|<- SYN,ACK seq=0 ack=1 "), "{ladder}");
        assert!(ladder.contains(" len=13"), "{ladder}");
        assert!(!ladder.contains("(lost)"), "{ladder}");
        let (client, server) = (
            lifeline_states(&ladder, true),
            lifeline_states(&ladder, false),
        );
        // Linux may ACK the FIN with its own FIN: FIN-WAIT-2 is then skipped.
        assert_eq!(
            client[..4],
            ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1"],
            "{ladder}"
        );
        assert_eq!(
            client.last().map(String::as_str),
            Some("TIME-WAIT"),
            "{ladder}"
        );
        assert_eq!(
            server[..4],
            ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT"],
            "{ladder}"
        );
        assert!(server.contains(&"LAST-ACK".to_string()), "{ladder}");
    }
}

// ---- (c) a real Linux-to-Linux capture ----

/// Why the real capture cannot run here, if it cannot; under CI=true that is a failure.
fn real_capture_missing() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    let why = if unsafe { libc::geteuid() } != 0 {
        Some("needs root (network namespaces, veth, tcpdump)".to_string())
    } else {
        ["ip", "tcpdump", "socat", "python3", "ss"]
            .into_iter()
            .find(|t| !have(t))
            .map(|t| format!("needs `{t}`"))
    };
    if let Some(why) = &why {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "real capture test cannot run under CI=true: {why}"
        );
    }
    why
}

fn ip_ok(args: &[&str]) {
    let out = run_bounded(
        {
            let mut c = Command::new("ip");
            c.args(args);
            c
        },
        Duration::from_secs(10),
    );
    assert!(out.status.success(), "ip {args:?}: {}", text(&out.stderr));
}

#[test]
fn real_linux_capture_is_drawn_with_inferred_states() {
    if let Some(why) = real_capture_missing() {
        eprintln!("skipped: {why}");
        return;
    }
    // Declared first, dropped last: the namespaces (and the veth pair in them) outlive the
    // processes using them.
    let client_ns = Ns::new();
    let server_ns = Ns::new();
    let dir = TempDir::new("diagram-real");
    let (veth_c, veth_s) = (dev_name(), dev_name());
    ip_ok(&[
        "-n",
        &client_ns.name,
        "link",
        "add",
        &veth_c,
        "type",
        "veth",
        "peer",
        "name",
        &veth_s,
        "netns",
        &server_ns.name,
    ]);
    for (ns, dev, cidr) in [
        (&client_ns, &veth_c, "192.0.2.1/24"),
        (&server_ns, &veth_s, "192.0.2.2/24"),
    ] {
        ip_ok(&["-n", &ns.name, "addr", "add", cidr, "dev", dev]);
        ip_ok(&["-n", &ns.name, "link", "set", dev, "up"]);
    }

    let pcap = dir.path.join("real.pcap");
    let pcap_s = pcap.to_string_lossy().into_owned();
    let mut tcpdump = client_ns.cmd("tcpdump");
    // --immediate-mode: hand each packet over at once (TPACKET_V3 otherwise holds them in a
    // block for up to a second); -U: write each one to the file at once.
    tcpdump.args(["-i", &veth_c, "-n", "--immediate-mode", "-U", "-w", &pcap_s]);
    let mut tcpdump = Proc::spawn(tcpdump);
    tcpdump.wait_for_line("listening", Duration::from_secs(15));

    let received = dir.path.join("received");
    let mut server = server_ns.cmd("socat");
    server.args([
        "-u",
        "TCP-LISTEN:7000,bind=192.0.2.2,reuseaddr",
        &format!("CREATE:{}", received.to_string_lossy()),
    ]);
    let mut server = Proc::spawn(server);
    wait_listening(&server_ns, 7000, Duration::from_secs(10));

    // The client sends a few bytes and closes first; the server closes on end of file.
    let out = sh_in(
        &client_ns,
        "printf 'hello, ladder' | socat -u - TCP:192.0.2.2:7000",
        Duration::from_secs(20),
    );
    assert!(out.status.success(), "client: {}", text(&out.stderr));
    let status = server.wait_exit(Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "server: {status:?}");
    assert_eq!(
        std::fs::read(&received).expect("server output"),
        b"hello, ladder"
    );
    // The client sent its last ACK once its socket is in TIME-WAIT; then wait (bounded) until
    // the capture file holds it too: the server's side of the ladder ends in CLOSED.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !common::ss_tan(&client_ns).contains("TIME-WAIT") {
        assert!(
            std::time::Instant::now() < deadline,
            "client never reached TIME-WAIT: {}",
            common::ss_tan(&client_ns)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    loop {
        let ladder = text(&diagram(&[&pcap_s]).stdout);
        if lifeline_states(&ladder, false).last().map(String::as_str) == Some("CLOSED") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the capture never showed the final ACK:\n{ladder}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = tcpdump.interrupt(Duration::from_secs(10));
    assert!(status.is_some(), "tcpdump did not stop on SIGINT");

    let svg = dir.path.join("real.svg");
    let out = diagram(&[&pcap_s, "--svg", &svg.to_string_lossy()]);
    let (ladder, err) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{err}");
    println!("{err}\n{ladder}");
    let listing = err
        .lines()
        .find(|l| l.starts_with("stream 0: 192.0.2.1:"))
        .unwrap_or_else(|| panic!("no stream 0 from the client: {err}"));
    assert!(listing.contains(" <-> 192.0.2.2:7000, "), "{listing}");
    let segments: usize = listing
        .rsplit(", ")
        .next()
        .and_then(|s| s.strip_suffix(" segments"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("segment count in {listing:?}"));
    assert!(segments >= 7, "{listing}");

    assert!(ladder.contains("|-- SYN seq=0 "), "{ladder}");
    assert!(ladder.contains("|<- SYN,ACK seq=0 ack=1 "), "{ladder}");
    assert!(ladder.contains(" len=13 "), "the 13 data bytes: {ladder}");
    let client = lifeline_states(&ladder, true);
    let server = lifeline_states(&ladder, false);
    for s in ["SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "TIME-WAIT"] {
        assert!(
            client.contains(&s.to_string()),
            "client {client:?}\n{ladder}"
        );
    }
    for s in [
        "SYN-RECEIVED",
        "ESTABLISHED",
        "CLOSE-WAIT",
        "LAST-ACK",
        "CLOSED",
    ] {
        assert!(
            server.contains(&s.to_string()),
            "server {server:?}\n{ladder}"
        );
    }
    assert_eq!(client.last().map(String::as_str), Some("TIME-WAIT"));
    assert_eq!(server.last().map(String::as_str), Some("CLOSED"));
    assert_eq!(svg_segments(&svg), segments);
}
