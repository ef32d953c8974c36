//! `ferrotcp explain`: TCP's design choices shown by running the stack in the simulator. Without
//! a topic it lists them; with one it prints the ladder with its narrative, then what the run
//! measured.

use std::process::ExitCode;

use clap::Args;
use ferrotcp::transport::tcp::ablation::Ablation;
use ferrotcp_sim::Lang;
use ferrotcp_sim::ladder::{LadderOptions, render};
use ferrotcp_sim::ladder_trace::SeqDisplay;
use ferrotcp_sim::scenario::explain::{Topic, parse_ablation, run_with_display};
use ferrotcp_sim::svg::SvgOptions;

use crate::outputs::{OutputArgs, write_outputs};

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The topic (omit to list them): layers, handshake, close, half-close, why-three-way,
    /// why-not-four-way, why-time-wait, simultaneous-open, simultaneous-close.
    #[arg(value_parser = parse_topic)]
    topic: Option<Topic>,
    /// TEACHING ONLY: remove one TCP mechanism to see what breaks (two-way-handshake for
    /// why-three-way, four-way-handshake for why-not-four-way, no-time-wait for why-time-wait).
    /// The stack never does this outside the simulator.
    #[arg(long, value_name = "NAME", value_parser = parse_ablation)]
    ablate: Option<Ablation>,
    /// Show raw sequence numbers instead of numbers relative to each side's ISN.
    #[arg(long)]
    absolute: bool,
    #[command(flatten)]
    out: OutputArgs,
}

fn parse_topic(s: &str) -> Result<Topic, String> {
    s.parse()
}

/// Width of the ladder up to the right lifeline; the notes run on after it.
const WIDTH: usize = 130;

pub fn run(args: &ExplainArgs) -> ExitCode {
    let lang = args.out.lang;
    let Some(topic) = args.topic else {
        list(lang);
        return ExitCode::SUCCESS;
    };
    let display = if args.absolute {
        SeqDisplay::Absolute
    } else {
        SeqDisplay::Relative
    };
    let e = match run_with_display(topic, args.ablate, lang, display) {
        Ok(e) => e,
        Err(err) => {
            eprintln!("ferrotcp explain: {err}");
            return ExitCode::from(2);
        }
    };
    let (left, right) = (
        lang.pick("client 192.0.2.1", "客户端 192.0.2.1"),
        lang.pick("server 192.0.2.2", "服务器 192.0.2.2"),
    );
    println!("{}", e.title);
    if let Some(a) = args.ablate {
        println!(
            "{}",
            match lang {
                Lang::En => format!(
                    "(--ablate {}: a teaching-only ablation; real TCP never does this)",
                    a.name()
                ),
                Lang::Zh => format!(
                    "（--ablate {}：仅用于教学的消融，真实 TCP 不会这样做）",
                    a.name()
                ),
            }
        );
    }
    println!();
    let opts = LadderOptions {
        left_name: left.to_string(),
        right_name: right.to_string(),
        width: WIDTH,
        max_segments: None,
    };
    print!("{}", render(&e.items, &opts));
    println!();
    println!("{}", lang.pick("findings:", "观察结果："));
    for f in &e.findings {
        if f.is_empty() {
            println!();
        } else {
            println!("  {f}");
        }
    }
    if let Some(failed) = e.failed_as_expected {
        println!();
        println!(
            "{}",
            match (failed, lang) {
                (true, Lang::En) =>
                    "result: without the mechanism, the failure it prevents happened",
                (true, Lang::Zh) => "结论：去掉该机制后，它所防止的故障确实发生了",
                (false, Lang::En) => "result: UNEXPECTED: the failure did not happen",
                (false, Lang::Zh) => "结论：意外：故障没有发生",
            }
        );
    }
    let svg = SvgOptions {
        left_name: left.to_string(),
        right_name: right.to_string(),
        title: Some(e.title.clone()),
        max_segments: None,
    };
    if let Err(err) = write_outputs(&args.out, &e.items, &svg, &e.trace) {
        eprintln!("ferrotcp explain: {err}");
        return ExitCode::FAILURE;
    }
    for (what, path) in [
        (lang.pick("SVG diagram", "SVG 时序图"), &args.out.svg),
        (lang.pick("pcap capture", "pcap 抓包文件"), &args.out.pcap),
    ] {
        if let Some(path) = path {
            match lang {
                Lang::En => println!("wrote {what}: {}", path.display()),
                Lang::Zh => println!("已写入{what}：{}", path.display()),
            }
        }
    }
    match e.failed_as_expected {
        Some(false) => ExitCode::FAILURE,
        _ => ExitCode::SUCCESS,
    }
}

fn list(lang: Lang) {
    println!(
        "{}",
        lang.pick(
            "ferrotcp explain TOPIC [--ablate NAME] [--lang zh] [--absolute] [--svg FILE] [--pcap FILE]",
            "ferrotcp explain 主题 [--ablate 名称] [--lang zh] [--absolute] [--svg 文件] [--pcap 文件]",
        )
    );
    println!();
    let w = Topic::ALL.iter().map(|t| t.name().len()).max().unwrap_or(0);
    for t in Topic::ALL {
        let abl = t
            .ablation()
            .map(|a| format!(" [--ablate {}]", a.name()))
            .unwrap_or_default();
        println!("  {:<w$}  {}{abl}", t.name(), t.description(lang));
    }
}
