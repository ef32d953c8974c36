//! `ferrotcp demo`: an echo transfer between two simulated hosts, drawn as a ladder diagram.

use std::process::ExitCode;
use std::time::Instant as WallClock;

use clap::Args;
use ferrotcp::time::{Duration, Instant};
use ferrotcp::trace::TcpState;
use ferrotcp_sim::Lang;
use ferrotcp_sim::ladder::{LadderItem, LadderOptions, LadderState, Side, render};
use ferrotcp_sim::ladder_trace::{SeqDisplay, ladder_items};
use ferrotcp_sim::scenario::echo::{EchoOutcome, EchoParams, run_echo};
use ferrotcp_sim::scenario::pattern::fnv1a64;
use ferrotcp_sim::svg::SvgOptions;

use crate::outputs::{OutputArgs, write_outputs};

/// The SVG diagram draws at least this many segments before summarising the middle (it can be
/// scrolled, unlike a terminal).
const SVG_MIN_SEGMENTS: usize = 500;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Bytes the client sends (the server echoes them back).
    #[arg(long, default_value_t = 64 * 1024)]
    bytes: usize,
    /// Frame loss on the link, in percent, each direction.
    #[arg(long, default_value_t = 0.0, value_parser = percent)]
    loss: f64,
    /// Seed for the link impairments and both stacks.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// MSS both stacks announce (default: MTU 1500 - 40 = 1460).
    #[arg(long, value_parser = clap::value_parser!(u16).range(64..=9000))]
    mss: Option<u16>,
    /// One-way link delay in milliseconds.
    #[arg(long, default_value_t = 10)]
    delay_ms: u64,
    /// Frames reordered, in percent.
    #[arg(long, default_value_t = 0.0, value_parser = percent)]
    reorder: f64,
    /// Frames duplicated, in percent.
    #[arg(long, default_value_t = 0.0, value_parser = percent)]
    duplicate: f64,
    /// Segments drawn before the middle of the ladder is summarised (the SVG draws at least
    /// 500).
    #[arg(long, default_value_t = 40)]
    max_segments: usize,
    /// Show raw sequence numbers instead of numbers relative to each side's ISN.
    #[arg(long)]
    absolute: bool,
    #[command(flatten)]
    out: OutputArgs,
}

fn percent(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=100.0).contains(&v) {
        Ok(v / 100.0)
    } else {
        Err("must be between 0 and 100".into())
    }
}

pub fn run(args: &DemoArgs) -> ExitCode {
    let mut params = EchoParams::new(args.bytes, args.seed);
    params.trace = true;
    params.link.loss = args.loss;
    params.link.reorder = args.reorder;
    params.link.reorder_delay = Duration::from_millis(args.delay_ms.max(1));
    params.link.duplicate = args.duplicate;
    params.link.delay = Duration::from_millis(args.delay_ms);
    if let Some(mss) = args.mss {
        params.tcp.mss = mss;
    }
    let started = WallClock::now();
    let outcome = run_echo(&params);
    let real = started.elapsed();

    let display = if args.absolute {
        SeqDisplay::Absolute
    } else {
        SeqDisplay::Relative
    };
    let mut items = vec![
        LadderItem::State(LadderState {
            time: Instant::ZERO,
            side: Side::Left,
            state: TcpState::Closed,
        }),
        LadderItem::State(LadderState {
            time: Instant::ZERO,
            side: Side::Right,
            state: TcpState::Listen,
        }),
    ];
    items.extend(ladder_items(
        outcome.pair.net.trace(),
        outcome.pair.client,
        outcome.pair.server,
        display,
    ));
    let opts = LadderOptions {
        left_name: "client 192.0.2.1".into(),
        right_name: "server 192.0.2.2:7".into(),
        width: 120,
        max_segments: Some(args.max_segments),
    };
    print!("{}", render(&items, &opts));
    println!();
    print_summary(args, &outcome, &items, real);
    let svg = SvgOptions {
        left_name: opts.left_name.clone(),
        right_name: opts.right_name.clone(),
        title: Some(format!(
            "ferrotcp demo: echo of {} bytes (seed {}, loss {:.1}%, delay {} ms)",
            args.bytes,
            args.seed,
            args.loss * 100.0,
            args.delay_ms
        )),
        max_segments: Some(args.max_segments.max(SVG_MIN_SEGMENTS)),
    };
    if let Err(e) = write_outputs(&args.out, &items, &svg, outcome.pair.net.trace()) {
        eprintln!("ferrotcp demo: {e}");
        return ExitCode::FAILURE;
    }
    let lang = args.out.lang;
    for (what, path) in [
        (lang.pick("SVG diagram", "SVG 时序图"), &args.out.svg),
        (lang.pick("pcap capture", "pcap 抓包文件"), &args.out.pcap),
    ] {
        if let Some(path) = path {
            match lang {
                Lang::En => println!("  wrote {what}: {}", path.display()),
                Lang::Zh => println!("  已写入 {what}：{}", path.display()),
            }
        }
    }
    if outcome.intact() {
        ExitCode::SUCCESS
    } else {
        eprintln!("ferrotcp demo: FAILED: {}", failure(&outcome));
        ExitCode::FAILURE
    }
}

fn failure(o: &EchoOutcome) -> String {
    if let Some(e) = &o.error {
        return e.clone();
    }
    if o.server_received != o.sent {
        return format!(
            "server received {} of {} bytes, or different bytes",
            o.server_received.len(),
            o.sent.len()
        );
    }
    if o.client_received != o.sent {
        return format!(
            "client received {} of {} bytes back, or different bytes",
            o.client_received.len(),
            o.sent.len()
        );
    }
    format!(
        "connections ended {:?} / {:?}",
        o.client_close, o.server_close
    )
}

fn states(list: &[TcpState], first: TcpState) -> String {
    let mut out = vec![first.rfc_name()];
    out.extend(list.iter().map(|s| s.rfc_name()));
    out.join(" → ")
}

/// When the phases of the connection happened, from the state changes in `items`.
struct Phases {
    /// The client entered ESTABLISHED: the three-way handshake is complete.
    handshake_done: Option<Instant>,
    /// The first side left ESTABLISHED (FIN-WAIT-1 or CLOSE-WAIT): the close began.
    close_started: Option<Instant>,
    /// The server reached CLOSED: the four segments of the close were exchanged.
    close_done: Option<Instant>,
}

fn phases(items: &[LadderItem]) -> Phases {
    let first = |pred: &dyn Fn(&LadderState) -> bool| {
        items.iter().find_map(|i| match i {
            LadderItem::State(s) if pred(s) => Some(s.time),
            _ => None,
        })
    };
    let handshake_done = first(&|s| s.side == Side::Left && s.state == TcpState::Established);
    let close_started = first(&|s| matches!(s.state, TcpState::FinWait1 | TcpState::CloseWait));
    let close_done = close_started.and_then(|start| {
        first(&|s| s.side == Side::Right && s.state == TcpState::Closed && s.time >= start)
    });
    Phases {
        handshake_done,
        close_started,
        close_done,
    }
}

fn print_summary(
    args: &DemoArgs,
    o: &EchoOutcome,
    items: &[LadderItem],
    real: std::time::Duration,
) {
    let lang = args.out.lang;
    let zh = lang == Lang::Zh;
    let ok = |b: bool| match (b, zh) {
        (true, false) => "intact",
        (false, false) => "MISMATCH",
        (true, true) => "完好",
        (false, true) => "不一致",
    };
    let sent_hash = fnv1a64(&o.sent);
    let mss = args.mss.map_or("1460".to_string(), |m| m.to_string());
    if zh {
        println!(
            "摘要（随机种子 {}，丢包率 {:.1}%，MSS {mss}）",
            args.seed,
            args.loss * 100.0
        );
    } else {
        println!(
            "summary (seed {}, loss {:.1}%, mss {mss})",
            args.seed,
            args.loss * 100.0
        );
    }
    let directions = [
        ("client → server", "客户端 → 服务器", &o.server_received),
        ("server → client", "服务器 → 客户端", &o.client_received),
    ];
    for (en, zh_name, got) in directions {
        if zh {
            println!(
                "  {zh_name}：收到 {} / {} 字节，fnv1a64 {:016x}，发送端为 {:016x}：{}",
                got.len(),
                o.sent.len(),
                fnv1a64(got),
                sent_hash,
                ok(*got == o.sent)
            );
        } else {
            println!(
                "  {en}: {} of {} bytes, fnv1a64 {:016x} vs sent {:016x}: {}",
                got.len(),
                o.sent.len(),
                fnv1a64(got),
                sent_hash,
                ok(*got == o.sent)
            );
        }
    }
    let hosts = [
        ("client", "客户端", &o.client_stats),
        ("server", "服务器", &o.server_stats),
    ];
    for (name, zh_name, st) in hosts {
        let (srtt, rto) = (
            st.srtt_micros as f64 / 1000.0,
            st.rto_micros as f64 / 1000.0,
        );
        if zh {
            println!(
                "  {zh_name}：发送 {} 个报文段，重传 {} 个（超时重传 {} 次，快速重传 {} 次），平滑往返时间 SRTT {srtt:.1} ms，重传超时 RTO {rto:.0} ms",
                st.segments_sent, st.retransmissions, st.timeouts, st.fast_retransmits,
            );
        } else {
            println!(
                "  {name}: {} segments sent, {} retransmitted ({} timeouts, {} fast retransmits), srtt {srtt:.1} ms, rto {rto:.0} ms",
                st.segments_sent, st.retransmissions, st.timeouts, st.fast_retransmits,
            );
        }
    }
    let p = phases(items);
    let when = |t: Option<Instant>| {
        t.map_or_else(
            || lang.pick("never", "未发生").to_string(),
            |t| t.to_string(),
        )
    };
    if zh {
        println!(
            "  阶段：三次握手完成于 {}；四次挥手从 {} 到 {}（服务器进入 CLOSED），客户端随后在 TIME-WAIT 中等待 2MSL",
            when(p.handshake_done),
            when(p.close_started),
            when(p.close_done)
        );
    } else {
        println!(
            "  phases: three-way handshake done at {}; four-way close from {} to {} (server CLOSED), then the client waits 2MSL in TIME-WAIT",
            when(p.handshake_done),
            when(p.close_started),
            when(p.close_done)
        );
    }
    let (client_states, server_states) = (
        states(&o.client_states, TcpState::Closed),
        states(&o.server_states, TcpState::Listen),
    );
    if zh {
        println!("  客户端状态：{client_states}");
        println!("  服务器状态：{server_states}");
    } else {
        println!("  client states: {client_states}");
        println!("  server states: {server_states}");
    }
    let link = o.pair.net.stats();
    if zh {
        println!(
            "  链路：发送 {} 帧，丢失 {} 帧，重复 {} 帧，乱序 {} 帧",
            link.sent, link.lost, link.duplicated, link.reordered
        );
    } else {
        println!(
            "  link: {} frames sent, {} lost, {} duplicated, {} reordered",
            link.sent, link.lost, link.duplicated, link.reordered
        );
    }
    let done = when(o.transfer_done_at);
    let real_ms = real.as_secs_f64() * 1000.0;
    if zh {
        println!(
            "  时间：回显完成于 {done}（虚拟时间），TIME-WAIT 结束后双方于 {} 进入 CLOSED；实际耗时 {real_ms:.1} ms",
            o.finished_at
        );
    } else {
        println!(
            "  time: echo complete at {done} (virtual), both CLOSED at {} after TIME-WAIT; real {real_ms:.1} ms",
            o.finished_at
        );
    }
    let result = match (o.intact(), zh) {
        (true, false) => "OK: every byte arrived intact both ways; both sides CLOSED",
        (false, false) => "FAILED",
        (true, true) => "成功：所有字节双向完好到达；双方均已进入 CLOSED",
        (false, true) => "失败",
    };
    if zh {
        println!("  结果：{result}");
    } else {
        println!("  result: {result}");
    }
}
