//! `ferrotcp diagram`: the ladder diagram of one TCP connection in a pcap capture, ferrotcp's
//! own or one taken with tcpdump between any two hosts, with each side's state inferred from
//! the segments it sends and receives.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use ferrotcp_io::pcap::{LinkType, PcapError, PcapReader};
use ferrotcp_sim::capture::{CapturedFrame, LinkKind, Stream, scan, stream_ladder};
use ferrotcp_sim::ladder::{LadderOptions, render};
use ferrotcp_sim::svg::{SvgOptions, render_svg};

#[derive(Args, Debug)]
pub struct DiagramArgs {
    /// Classic pcap capture (Ethernet or raw IP), e.g. from `tcpdump -w` or `ferrotcp serve --pcap`.
    pub file: PathBuf,
    /// Also write the diagram as an SVG image to this file.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Which TCP connection to draw, numbered in order of first appearance (as listed on
    /// standard error; Wireshark's tcp.stream).
    #[arg(long, default_value_t = 0)]
    pub stream: usize,
    /// Show sequence numbers as sent instead of relative to each side's SYN.
    #[arg(long)]
    pub absolute: bool,
}

const NAME: &str = "ferrotcp diagram";

pub fn run(args: &DiagramArgs) -> ExitCode {
    match diagram(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("{NAME}: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn diagram(args: &DiagramArgs) -> Result<(), String> {
    let path = &args.file;
    let (frames, link) = read_capture(path)?;
    let found = scan(&frames, link);
    let mut skipped = Vec::new();
    if found.other_frames > 0 {
        let n = found.other_frames;
        let verb = if n == 1 { "is" } else { "are" };
        skipped.push(format!(
            "{n} frame{} that {verb} not TCP over IPv4",
            plural(n)
        ));
    }
    if found.malformed_frames > 0 {
        let n = found.malformed_frames;
        skipped.push(format!("{n} malformed frame{}", plural(n)));
    }
    if !skipped.is_empty() {
        eprintln!("{NAME}: skipped {}", skipped.join(" and "));
    }
    if found.streams.is_empty() {
        return Err(format!(
            "{}: no TCP over IPv4 in {} packet{}",
            path.display(),
            frames.len(),
            plural(frames.len())
        ));
    }
    for s in &found.streams {
        eprintln!("{}", describe(s));
    }
    let Some(stream) = found.streams.get(args.stream) else {
        let n = found.streams.len();
        return Err(format!(
            "there is no stream {} in {}: it has {n} TCP stream{} (0{}), listed above",
            args.stream,
            path.display(),
            plural(n),
            if n > 1 {
                format!(" to {}", n - 1)
            } else {
                String::new()
            },
        ));
    };
    let items = stream_ladder(stream, !args.absolute);
    let opts = LadderOptions {
        left_name: stream.client.to_string(),
        right_name: stream.server.to_string(),
        ..LadderOptions::default()
    };
    print!("{}", render(&items, &opts));
    if let Some(out) = &args.svg {
        let svg = render_svg(
            &items,
            &SvgOptions {
                left_name: opts.left_name.clone(),
                right_name: opts.right_name.clone(),
                title: Some(format!(
                    "{} stream {}: {} <-> {}",
                    file_name(path),
                    stream.index,
                    stream.client,
                    stream.server
                )),
                ..SvgOptions::default()
            },
        );
        std::fs::write(out, svg).map_err(|e| format!("writing SVG to {}: {e}", out.display()))?;
        eprintln!("{NAME}: wrote {}", out.display());
    }
    Ok(())
}

/// Every packet of the capture, and what they start with. A capture cut short inside a record
/// (a tcpdump killed mid-write) keeps the packets before it, with a warning.
fn read_capture(path: &Path) -> Result<(Vec<CapturedFrame>, LinkKind), String> {
    let shown = path.display();
    let file = File::open(path).map_err(|e| format!("{shown}: {e}"))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(format!("{shown}: is a directory, not a pcap file"));
    }
    if file.metadata().is_ok_and(|m| m.len() == 0) {
        return Err(format!("{shown}: empty file, not a pcap capture"));
    }
    let mut reader = PcapReader::new(BufReader::new(file)).map_err(|e| match e {
        PcapError::Truncated { .. } => {
            format!("{shown}: too short for a pcap file (it ends inside the 24-byte header)")
        }
        e => format!("{shown}: {e}"),
    })?;
    let link = match reader.link_type() {
        LinkType::Ethernet => LinkKind::Ethernet,
        LinkType::RawIpv4 => LinkKind::RawIp,
    };
    let mut frames = Vec::new();
    loop {
        match reader.next_packet() {
            Ok(Some((time, data))) => frames.push(CapturedFrame { time, data }),
            Ok(None) => break,
            Err(e @ (PcapError::Truncated { .. } | PcapError::TooLarge { .. })) => {
                eprintln!(
                    "{NAME}: warning: {shown}: {e}; drawing the {} packet{} before it",
                    frames.len(),
                    plural(frames.len())
                );
                break;
            }
            Err(e) => return Err(format!("{shown}: {e}")),
        }
    }
    Ok((frames, link))
}

/// `stream 0: 192.0.2.1:43210 <-> 192.0.2.2:80, 12 segments`.
fn describe(s: &Stream) -> String {
    let n = s.segments.len();
    format!(
        "stream {}: {} <-> {}, {n} segment{}",
        s.index,
        s.client,
        s.server,
        plural(n)
    )
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
