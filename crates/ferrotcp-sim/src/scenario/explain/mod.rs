//! `ferrotcp explain`: TCP's design choices, each shown by running the real stack in the
//! simulated network. Every arrow, state and number comes from the run; the narrative only
//! points at what happened (in English or Chinese).
//!
//! Some topics take a teaching-only [`Ablation`] that removes the mechanism they explain, so the
//! failure it prevents can be seen; [`run`] refuses an ablation the topic cannot use.

use core::fmt;
use core::str::FromStr;

use ferrotcp::TcpConfig;
use ferrotcp::transport::tcp::ablation::Ablation;

use crate::ladder::LadderItem;
use crate::ladder_trace::SeqDisplay;
use crate::lang::Lang;
use crate::node::HostId;
use crate::trace::SimRecord;

pub mod close;
pub mod half_close;
pub mod handshake;
pub mod layers;
pub mod simultaneous_close;
pub mod simultaneous_open;
pub mod why_not_four_way;
pub mod why_three_way;
pub mod why_time_wait;
mod world;

pub use world::{Seg, Who};

/// What `ferrotcp explain` can explain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    Layers,
    Handshake,
    Close,
    HalfClose,
    WhyThreeWay,
    WhyNotFourWay,
    WhyTimeWait,
    SimultaneousOpen,
    SimultaneousClose,
}

impl Topic {
    pub const ALL: [Topic; 9] = [
        Topic::Layers,
        Topic::Handshake,
        Topic::Close,
        Topic::HalfClose,
        Topic::WhyThreeWay,
        Topic::WhyNotFourWay,
        Topic::WhyTimeWait,
        Topic::SimultaneousOpen,
        Topic::SimultaneousClose,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Topic::Layers => "layers",
            Topic::Handshake => "handshake",
            Topic::Close => "close",
            Topic::HalfClose => "half-close",
            Topic::WhyThreeWay => "why-three-way",
            Topic::WhyNotFourWay => "why-not-four-way",
            Topic::WhyTimeWait => "why-time-wait",
            Topic::SimultaneousOpen => "simultaneous-open",
            Topic::SimultaneousClose => "simultaneous-close",
        }
    }

    /// One line saying what the topic shows.
    pub fn description(self, lang: Lang) -> &'static str {
        match self {
            Topic::Layers => lang.pick(
                "an HTTP request down the four layers and back up, with ARP and annotated bytes",
                "一个 HTTP 请求自上而下穿过四层再自下而上交付，含 ARP 与逐字节注释",
            ),
            Topic::Handshake => lang.pick(
                "the three-way handshake: seq/ack arithmetic, SYN-SENT, SYN-RECEIVED, ESTABLISHED",
                "三次握手：序列号/确认号的计算，SYN-SENT、SYN-RECEIVED、ESTABLISHED",
            ),
            Topic::Close => lang.pick(
                "the four-way close: FIN-WAIT-1/2, CLOSE-WAIT, LAST-ACK, TIME-WAIT and its 2MSL timer",
                "四次挥手：FIN-WAIT-1/2、CLOSE-WAIT、LAST-ACK，以及 TIME-WAIT 的 2MSL 计时器",
            ),
            Topic::HalfClose => lang.pick(
                "why closing takes four segments: the server keeps sending after the client's FIN",
                "为什么释放连接要四个报文段：客户端发出 FIN 后服务器仍可继续发送（半关闭）",
            ),
            Topic::WhyThreeWay => lang.pick(
                "why three messages: a stale SYN arrives late",
                "为什么要三次握手：一个迟到的旧 SYN",
            ),
            Topic::WhyNotFourWay => lang.pick(
                "why not four: a fourth message says nothing new and costs a round trip",
                "为什么不是四次握手：第四个报文没有新信息，却多花一个往返时间",
            ),
            Topic::WhyTimeWait => lang.pick(
                "why TIME-WAIT: a lost last ACK, and an old duplicate",
                "为什么要 TIME-WAIT 等待 2MSL：最后一个 ACK 丢失，以及旧的重复报文段",
            ),
            Topic::SimultaneousOpen => lang.pick(
                "both sides open at once, the SYNs cross: SYN-SENT → SYN-RECEIVED → ESTABLISHED",
                "双方同时打开，两个 SYN 交错：SYN-SENT → SYN-RECEIVED → ESTABLISHED",
            ),
            Topic::SimultaneousClose => lang.pick(
                "both sides close at once: FIN-WAIT-1 → CLOSING → TIME-WAIT on both",
                "双方同时关闭：两端都经过 FIN-WAIT-1 → CLOSING → TIME-WAIT",
            ),
        }
    }

    /// The ablation this topic can show, if any.
    pub fn ablation(self) -> Option<Ablation> {
        match self {
            Topic::WhyThreeWay => Some(Ablation::TwoWayHandshake),
            Topic::WhyNotFourWay => Some(Ablation::FourWayHandshake),
            Topic::WhyTimeWait => Some(Ablation::NoTimeWait),
            _ => None,
        }
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Topic {
    type Err = String;
    fn from_str(s: &str) -> Result<Topic, String> {
        Topic::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Topic::ALL.iter().map(|t| t.name()).collect();
                format!("unknown topic {s:?}: one of {}", names.join(", "))
            })
    }
}

/// An ablation by its command-line name (`two-way-handshake`, `four-way-handshake`,
/// `no-time-wait`).
pub fn parse_ablation(s: &str) -> Result<Ablation, String> {
    Ablation::ALL
        .into_iter()
        .find(|a| a.name() == s)
        .ok_or_else(|| {
            let names: Vec<&str> = Ablation::ALL.iter().map(|a| a.name()).collect();
            format!("unknown ablation {s:?}: one of {}", names.join(", "))
        })
}

/// One explained run.
#[derive(Clone, Debug)]
pub struct Explained {
    pub title: String,
    /// The ladder, with per-arrow notes and narrative lines.
    pub items: Vec<LadderItem>,
    /// The whole run (frames and state changes), e.g. for a pcap.
    pub trace: Vec<SimRecord>,
    pub client: HostId,
    pub server: HostId,
    /// What happened, with numbers measured from the run.
    pub findings: Vec<String>,
    /// With an ablation: whether the failure it exists to show happened. `None` without one.
    pub failed_as_expected: Option<bool>,
}

/// Runs `topic` (with `ablation`, if the topic takes it), sequence numbers relative to each
/// side's ISN.
pub fn run(topic: Topic, ablation: Option<Ablation>, lang: Lang) -> Result<Explained, String> {
    run_with_display(topic, ablation, lang, SeqDisplay::Relative)
}

/// [`run`] with the choice of raw or relative sequence numbers in the ladder.
pub fn run_with_display(
    topic: Topic,
    ablation: Option<Ablation>,
    lang: Lang,
    display: SeqDisplay,
) -> Result<Explained, String> {
    if let Some(a) = ablation
        && topic.ablation() != Some(a)
    {
        let fits: Vec<String> = Topic::ALL
            .iter()
            .filter(|t| t.ablation() == Some(a))
            .map(|t| t.name().to_string())
            .collect();
        return Err(match lang {
            Lang::En => format!(
                "--ablate {} does not apply to {}; it belongs to {}",
                a.name(),
                topic.name(),
                fits.join(", ")
            ),
            Lang::Zh => format!(
                "--ablate {} 不适用于 {}；它属于 {}",
                a.name(),
                topic.name(),
                fits.join(", ")
            ),
        });
    }
    tcp_config(ablation)?;
    let ctx = Ctx {
        lang,
        display,
        ablation,
    };
    match topic {
        Topic::Layers => layers::explain(&ctx),
        Topic::Handshake => handshake::explain(&ctx),
        Topic::Close => close::explain(&ctx),
        Topic::HalfClose => half_close::explain(&ctx),
        Topic::WhyThreeWay => why_three_way::explain(&ctx),
        Topic::WhyNotFourWay => why_not_four_way::explain(&ctx),
        Topic::WhyTimeWait => why_time_wait::explain(&ctx),
        Topic::SimultaneousOpen => simultaneous_open::explain(&ctx),
        Topic::SimultaneousClose => simultaneous_close::explain(&ctx),
    }
}

/// What every topic is asked for.
pub(crate) struct Ctx {
    pub lang: Lang,
    pub display: SeqDisplay,
    pub ablation: Option<Ablation>,
}

impl Ctx {
    /// The TCP settings: the defaults, minus the ablation if one was asked for.
    pub fn tcp(&self) -> Result<TcpConfig, String> {
        tcp_config(self.ablation)
    }
}

/// The default TCP settings with `ablation` applied, if there is one; a build without the
/// `teaching` feature has no ablations to apply and says so.
pub(crate) fn tcp_config(ablation: Option<Ablation>) -> Result<TcpConfig, String> {
    match ablation {
        #[cfg(feature = "teaching")]
        Some(a) => Ok(TcpConfig::default().ablate(a)),
        #[cfg(not(feature = "teaching"))]
        Some(a) => Err(no_teaching(a)),
        None => Ok(TcpConfig::default()),
    }
}

/// Why `--ablate` fails in a build without the `teaching` feature.
#[cfg(not(feature = "teaching"))]
fn no_teaching(a: Ablation) -> String {
    format!(
        "--ablate {}: this ferrotcp was built without teaching ablations (a stack that serves real links never carries them); rebuild with `cargo run --release --features teaching -- explain ...`",
        a.name()
    )
}
