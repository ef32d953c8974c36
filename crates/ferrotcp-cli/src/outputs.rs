//! Output options shared by the simulation subcommands (`demo`, `explain`, `diagram`): an SVG
//! sequence diagram, a pcap capture and the language of the narrative.
//!
//! The pcap holds every frame a simulated host handed to its link (`SimEvent::FrameSent`),
//! once, stamped with its virtual send time (so the capture starts at 1970-01-01 00:00:00 UTC,
//! time 0 of the simulation), as the sender's bytes before any corruption. That is what a
//! capture on the sender's side of the wire would show: frames the link later loses are
//! included (they were sent), and a frame the link duplicates appears once (it was sent once).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ferrotcp_io::pcap::{LinkType, PcapWriter};
use ferrotcp_sim::ladder::LadderItem;
use ferrotcp_sim::svg::{SvgOptions, render_svg};
use ferrotcp_sim::{SimEvent, SimRecord};

#[derive(clap::Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Also draw the ladder as an SVG sequence diagram.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Also write every frame to a classic pcap file (Wireshark, tshark, tcpdump).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Language of the narrative: en or zh.
    #[arg(long, default_value = "en")]
    pub lang: ferrotcp_sim::Lang,
}

/// Writes the SVG (from `items`) and the pcap (every FrameSent in `trace`, stamped with its
/// virtual time, Ethernet link type) that `args` asks for.
pub fn write_outputs(
    args: &OutputArgs,
    items: &[LadderItem],
    svg: &SvgOptions,
    trace: &[SimRecord],
) -> Result<(), String> {
    if let Some(path) = &args.svg {
        std::fs::write(path, render_svg(items, svg))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    if let Some(path) = &args.pcap {
        write_pcap(path, trace)?;
    }
    Ok(())
}

/// pcap from a simulation trace (used by write_outputs; public for tests): every frame sent,
/// once, at its send time, lost ones included. Returns the number of frames written.
pub fn write_pcap(path: &Path, trace: &[SimRecord]) -> Result<usize, String> {
    let err = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let file = File::create(path).map_err(err)?;
    let mut w = PcapWriter::new(BufWriter::new(file), LinkType::Ethernet).map_err(err)?;
    let mut frames = 0;
    for rec in trace {
        if let SimEvent::FrameSent { frame, .. } = &rec.event {
            w.write_packet(Duration::from_micros(rec.time.total_micros()), frame)
                .map_err(err)?;
            frames += 1;
        }
    }
    w.flush().map_err(err)?;
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrotcp::time::Instant;
    use ferrotcp_io::pcap::PcapReader;
    use ferrotcp_sim::{HostId, LossReason};

    fn sent(ms: u64, id: u64, byte: u8) -> SimRecord {
        SimRecord {
            time: Instant::from_micros(ms * 1000 + 7),
            event: SimEvent::FrameSent {
                from: HostId(0),
                to: HostId(1),
                frame: vec![byte; 60],
                id,
            },
        }
    }

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "ferrotcp-outputs-unit-{}-{name}",
            std::process::id()
        ))
    }

    #[test]
    fn pcap_has_each_sent_frame_once_at_its_send_time() {
        let trace = vec![
            sent(0, 1, 0xaa),
            SimRecord {
                time: Instant::from_millis(10),
                event: SimEvent::FrameDelivered {
                    from: HostId(0),
                    to: HostId(1),
                    id: 1,
                },
            },
            sent(12, 2, 0xbb),
            SimRecord {
                time: Instant::from_millis(12),
                event: SimEvent::FrameLost {
                    from: HostId(0),
                    to: HostId(1),
                    id: 2,
                    reason: LossReason::Loss,
                },
            },
            SimRecord {
                time: Instant::from_millis(13),
                event: SimEvent::FrameDuplicated { id: 1, copy: 3 },
            },
            sent(61_000, 4, 0xcc),
        ];
        let path = temp("a.pcap");
        assert_eq!(write_pcap(&path, &trace), Ok(3));
        let mut r = PcapReader::new(File::open(&path).unwrap()).unwrap();
        assert_eq!(r.link_type(), LinkType::Ethernet);
        let mut got = Vec::new();
        while let Some((ts, data)) = r.next_packet().unwrap() {
            got.push((ts, data[0], data.len()));
        }
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            got,
            vec![
                (Duration::from_micros(7), 0xaa, 60),
                (Duration::from_micros(12_007), 0xbb, 60),
                (Duration::from_micros(61_000_007), 0xcc, 60),
            ]
        );
    }

    #[test]
    fn only_what_is_asked_is_written_and_errors_name_the_file() {
        let svg = temp("b.svg");
        let args = OutputArgs {
            svg: Some(svg.clone()),
            ..OutputArgs::default()
        };
        write_outputs(&args, &[], &SvgOptions::default(), &[sent(0, 1, 1)]).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        std::fs::remove_file(&svg).unwrap();
        assert!(text.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        write_outputs(&OutputArgs::default(), &[], &SvgOptions::default(), &[]).unwrap();

        let bad = Path::new("/nonexistent-dir/x.pcap");
        let err = write_pcap(bad, &[]).unwrap_err();
        assert!(err.contains("/nonexistent-dir/x.pcap"), "{err}");
    }
}
