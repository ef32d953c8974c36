//! `ferrotcp demo --svg FILE --pcap FILE --lang zh`: the diagram is well-formed SVG with one
//! element per TCP segment, the capture is read back by an independent reader (tcpdump) and by
//! ferrotcp's own, and the summary speaks Chinese when asked.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ferrotcp_io::pcap::{LinkType, PcapReader};
use ferrotcp_sim::ladder_trace::tcp_in_frame;

/// A fresh directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "ferrotcp-outputs-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn demo(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_ferrotcp"))
        .arg("demo")
        .args(args)
        .output()
        .expect("run ferrotcp");
    assert!(
        out.status.success(),
        "ferrotcp demo {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

/// Every frame in the capture (timestamp in microseconds, bytes), checking its link type.
fn read_pcap(path: &Path) -> Vec<(u128, Vec<u8>)> {
    let file = std::fs::File::open(path).expect("open pcap");
    let mut r = PcapReader::new(std::io::BufReader::new(file)).expect("pcap header");
    assert_eq!(r.link_type(), LinkType::Ethernet);
    let mut frames = Vec::new();
    while let Some((ts, data)) = r.next_packet().expect("pcap record") {
        frames.push((ts.as_micros(), data));
    }
    frames
}

/// The `class="segment"` elements of an SVG document, after checking it is well-formed SVG.
fn svg_segments(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).expect("read svg");
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("SVG is not XML: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    doc.descendants()
        .filter(|n| n.attribute("class") == Some("segment"))
        .map(|n| {
            (
                n.attribute("data-from").unwrap_or("").to_string(),
                n.attribute("data-fate").unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The number in `link: N frames sent` of the demo's summary.
fn frames_sent(stdout: &str) -> usize {
    let line = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("link: "))
        .expect("link line in the summary");
    line.split(' ')
        .next()
        .unwrap()
        .parse()
        .expect("frame count")
}

/// `tcpdump -r FILE -nn` output, or `None` (skipped) where tcpdump is missing outside CI.
fn tcpdump(path: &Path) -> Option<String> {
    let out = match Command::new("tcpdump")
        .arg("-r")
        .arg(path)
        .arg("-nn")
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "tcpdump is required under CI (.ci/run installs it): {e}"
            );
            eprintln!("skipped: tcpdump not available ({e})");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "tcpdump -r: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn demo_writes_svg_and_pcap_that_agree() {
    let dir = TempDir::new("clean");
    let (svg, pcap) = (dir.file("demo.svg"), dir.file("demo.pcap"));
    let out = demo(&[
        "--bytes",
        "20000",
        "--svg",
        svg.to_str().unwrap(),
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);

    // The capture: every frame the link carried, in time order, TCP ones among them.
    let frames = read_pcap(&pcap);
    assert_eq!(frames.len(), frames_sent(&stdout), "{stdout}");
    assert!(frames.windows(2).all(|w| w[0].0 <= w[1].0));
    let tcp: Vec<_> = frames.iter().filter_map(|(_, f)| tcp_in_frame(f)).collect();
    assert!(tcp.len() > 20, "only {} TCP segments", tcp.len());
    let data: usize = tcp.iter().map(|s| s.payload_len).sum();
    assert_eq!(data, 2 * 20_000, "both directions' payload");

    // The diagram: one segment element per TCP segment, none lost.
    let segs = svg_segments(&svg);
    assert_eq!(segs.len(), tcp.len());
    assert!(segs.iter().all(|(_, fate)| fate == "delivered"));

    // An independent reader.
    let Some(dump) = tcpdump(&pcap) else { return };
    let lines: Vec<&str> = dump.lines().collect();
    assert_eq!(lines.len(), frames.len(), "{dump}");
    let count = |pat: &str| lines.iter().filter(|l| l.contains(pat)).count();
    assert_eq!(count("Flags [S],"), 1, "one SYN:\n{dump}");
    assert_eq!(count("Flags [S.],"), 1, "one SYN-ACK:\n{dump}");
    let fins = lines
        .iter()
        .filter(|l| l.contains("Flags [F") || l.contains("Flags [PF") || l.contains("Flags [FP"))
        .count();
    assert_eq!(fins, 2, "a FIN each way:\n{dump}");
    assert!(dump.contains("192.0.2.1."), "{dump}");
    assert!(dump.contains("> 192.0.2.2.7:"), "{dump}");
}

#[test]
fn lost_frames_are_in_the_capture_and_crossed_out_in_the_diagram() {
    let dir = TempDir::new("lossy");
    let (svg, pcap) = (dir.file("lossy.svg"), dir.file("lossy.pcap"));
    let out = demo(&[
        "--bytes",
        "6000",
        "--loss",
        "15",
        "--seed",
        "3",
        "--svg",
        svg.to_str().unwrap(),
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let frames = read_pcap(&pcap);
    assert_eq!(frames.len(), frames_sent(&stdout), "{stdout}");
    let tcp = frames
        .iter()
        .filter(|(_, f)| tcp_in_frame(f).is_some())
        .count();
    let segs = svg_segments(&svg);
    assert_eq!(segs.len(), tcp);
    let lost = segs.iter().filter(|(_, fate)| fate == "lost").count();
    assert!(lost > 0, "seed 3 at 15% loses segments: {stdout}");
    // `link: N frames sent, M lost, ...`: every lost segment is one of the link's lost frames.
    let link_lost: usize = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("link: "))
        .and_then(|l| l.split(", ").nth(1)?.strip_suffix(" lost")?.parse().ok())
        .expect("lost count in the summary");
    assert!(
        lost <= link_lost,
        "{lost} lost segments, {link_lost} lost frames"
    );
}

#[test]
fn lang_zh_translates_the_summary() {
    let zh =
        String::from_utf8_lossy(&demo(&["--bytes", "3000", "--lang", "zh"]).stdout).into_owned();
    for term in [
        "三次握手",
        "四次挥手",
        "重传",
        "状态",
        "字节",
        "摘要",
        "结果：成功",
    ] {
        assert!(zh.contains(term), "no {term:?} in:\n{zh}");
    }
    let en = String::from_utf8_lossy(&demo(&["--bytes", "3000"]).stdout).into_owned();
    assert!(en.contains("three-way handshake"), "{en}");
    assert!(!en.contains("三次握手"), "{en}");

    let bad = Command::new(env!("CARGO_BIN_EXE_ferrotcp"))
        .args(["demo", "--lang", "fr"])
        .output()
        .expect("run ferrotcp");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("use en or zh"));
}

#[test]
fn unwritable_output_is_an_error() {
    let dir = TempDir::new("bad");
    let svg = dir.file("no/such/dir/x.svg");
    let out = Command::new(env!("CARGO_BIN_EXE_ferrotcp"))
        .args(["demo", "--bytes", "1000", "--svg", svg.to_str().unwrap()])
        .output()
        .expect("run ferrotcp");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot write"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
