//! `half-close`: why closing takes four segments. (A) The client sends its request and closes
//! its side; the server keeps sending its reply, then closes. (B) The server has nothing left:
//! its ACK and its FIN leave at the same instant.

use ferrotcp::TcpHandle;
use ferrotcp::time::{Duration, Instant};
use ferrotcp::trace::TcpState;
use ferrotcp::wire::TcpFlags;

use super::world::{Anchor, Diagram, Seg, T0, Who, World, dur, tr, yn};
use super::{Ctx, Explained};

const REQUEST: &[u8] = b"GET /report";
/// The reply, written in two parts after the client's FIN arrived.
const PART1: usize = 2000;
const PART2: usize = 1000;
/// The server's application works this long on the request before answering.
const THINK: Duration = Duration::from_millis(50);

/// What case A measured.
#[derive(Clone, Debug)]
pub struct HalfCloseOutcome {
    /// Reply bytes that reached the client after its own FIN was acknowledged (FIN-WAIT-2).
    pub read_in_fin_wait_2: usize,
    /// Everything the client read.
    pub client_read: Vec<u8>,
    /// The reply the server sent.
    pub reply: Vec<u8>,
    /// Data segments the server sent after the client's FIN arrived.
    pub segments_after_fin: usize,
    /// (A) Time from the client's FIN to the server's FIN.
    pub half_open_for: Duration,
    /// (B) The server's ACK of the FIN and its own FIN: how far apart they left, and whether
    /// they were one segment.
    pub b_ack_fin_gap: Duration,
    pub b_combined: bool,
}

fn reply() -> Vec<u8> {
    (0..PART1 + PART2).map(|i| b'a' + (i % 26) as u8).collect()
}

/// Case A on a fresh connection: returns (client handle, FIN-WAIT-2 bytes, all bytes).
fn case_a(w: &mut World) -> Result<(TcpHandle, usize, Vec<u8>), String> {
    let (c, s) = w.establish(None)?;
    w.send(Who::Client, c, REQUEST)?;
    w.shutdown(Who::Client, c)?;
    let body = reply();
    let mut got_request = Vec::new();
    let mut eof_at: Option<Instant> = None;
    let mut sent = 0;
    let mut server_closed = false;
    let mut client_read = Vec::new();
    let deadline = w.now() + Duration::from_secs(10);
    let ok = w.run_until(deadline, |w| {
        let now = w.now();
        if eof_at.is_none() && w.read(Who::Server, s, &mut got_request) {
            eof_at = Some(now);
            w.wake_at(now + THINK);
            w.wake_at(now + THINK + Duration::from_millis(20));
        }
        if let Some(t) = eof_at {
            if sent == 0 && now >= t + THINK {
                sent = PART1;
                let _ = w.send(Who::Server, s, &body[..PART1]);
            }
            if sent == PART1 && now >= t + THINK + Duration::from_millis(20) {
                sent = PART1 + PART2;
                let _ = w.send(Who::Server, s, &body[PART1..]);
                server_closed = w.server().tcp_close(now, s).is_ok();
            }
        }
        let eof = w.read(Who::Client, c, &mut client_read);
        server_closed && eof
    });
    if !ok || got_request != REQUEST {
        return Err("case A did not finish".into());
    }
    // Reply bytes that arrived after the client's FIN was acknowledged (in FIN-WAIT-2).
    let fw2 = w
        .entered(Who::Client, TcpState::FinWait2, T0)
        .ok_or("the client never reached FIN-WAIT-2")?;
    let in_fw2 = w
        .segments()
        .iter()
        .filter(|s| s.from == Who::Server && s.arrived.is_some_and(|t| t >= fw2))
        .map(|s| s.payload.len())
        .sum();
    Ok((c, in_fw2, client_read))
}

pub(crate) fn explain(ctx: &Ctx) -> Result<Explained, String> {
    let (w, outcome) = scenario(ctx)?;
    render(ctx, w, outcome)
}

/// Runs both cases; the trace stays in the world.
fn scenario(ctx: &Ctx) -> Result<(World, HalfCloseOutcome), String> {
    let mut w = World::new(ctx.tcp()?, true);
    let (_c, in_fw2, client_read) = case_a(&mut w)?;
    // Case B, one second later, on a new connection.
    w.advance_to(T0 + Duration::from_secs(1));
    let (l, c2) = w.listen_and_connect(None)?;
    let s2 = w.accept(l)?;
    w.wait_state(
        Who::Client,
        c2,
        TcpState::Established,
        Duration::from_secs(5),
    )?;
    w.send(Who::Client, c2, REQUEST)?;
    w.shutdown(Who::Client, c2)?;
    let deadline = w.now() + Duration::from_secs(5);
    let mut closed = false;
    w.run_until(deadline, |w| {
        if w.read(Who::Server, s2, &mut Vec::new()) {
            let now = w.now();
            closed = w.server().tcp_close(now, s2).is_ok();
        }
        closed
    });
    w.run_for(ctx.tcp()?.time_wait() + Duration::from_secs(1));

    let segs = w.segments();
    let b_start = segs
        .iter()
        .rposition(|s| s.from == Who::Client && s.flags() == TcpFlags::SYN)
        .ok_or("no second SYN")?;
    let a = &segs[..b_start];
    let b = &segs[b_start..];
    let fin_a = fin_of(a, Who::Client)?;
    let sfin_a = fin_of(a, Who::Server)?;
    let fin_b = fin_of(b, Who::Client)?;
    let sfin_b = fin_of(b, Who::Server)?;
    let ack_b = b
        .iter()
        .find(|s| s.from == Who::Server && s.k > fin_b.k && !s.flags().fin())
        .ok_or("no ACK of the FIN in case B")?;
    let outcome = HalfCloseOutcome {
        read_in_fin_wait_2: in_fw2,
        client_read,
        reply: reply(),
        segments_after_fin: a
            .iter()
            .filter(|s| s.from == Who::Server && s.k > fin_a.k && !s.payload.is_empty())
            .count(),
        half_open_for: sfin_a.sent - fin_a.sent,
        b_ack_fin_gap: sfin_b.sent - ack_b.sent,
        b_combined: sfin_b.k < ack_b.k,
    };
    Ok((w, outcome))
}

fn fin_of(segs: &[Seg], who: Who) -> Result<Seg, String> {
    segs.iter()
        .find(|s| s.is(who, TcpFlags::FIN))
        .cloned()
        .ok_or_else(|| format!("no FIN from the {who:?}"))
}

/// The measured outcome, for tests.
pub fn outcome(lang: crate::lang::Lang) -> Result<HalfCloseOutcome, String> {
    let ctx = Ctx {
        lang,
        display: crate::ladder_trace::SeqDisplay::Relative,
        ablation: None,
    };
    scenario(&ctx).map(|(_, o)| o)
}

fn render(ctx: &Ctx, mut w: World, o: HalfCloseOutcome) -> Result<Explained, String> {
    let lang = ctx.lang;
    let segs = w.segments();
    let b_start = segs
        .iter()
        .rposition(|s| s.from == Who::Client && s.flags() == TcpFlags::SYN)
        .ok_or("no second SYN")?;
    let (a, b) = segs.split_at(b_start);
    let fin_a = fin_of(a, Who::Client)?;
    let sfin_a = fin_of(a, Who::Server)?;
    let fin_b = fin_of(b, Who::Client)?;
    let sfin_b = fin_of(b, Who::Server)?;

    let mut d = Diagram::default();
    d.initial(T0, Who::Server, TcpState::Listen);
    d.line(
        Anchor::Start,
        tr!(
            lang,
            "(A) the server still has a reply to send after the client's FIN",
            "(A) 客户端发出 FIN 后，服务器还有回复要发送"
        ),
    );
    d.note(
        fin_a.k,
        tr!(
            lang,
            "request + FIN: the client will send nothing more (half-close)",
            "请求 + FIN：客户端不再发送数据（半关闭）"
        ),
    );
    if let Some(ack) = a
        .iter()
        .find(|s| s.from == Who::Server && s.k > fin_a.k && !s.flags().fin())
    {
        d.note(
            ack.k,
            tr!(
                lang,
                "segment 2: ACK of the FIN; the server may keep sending (CLOSE-WAIT)",
                "第 2 个报文段：确认 FIN；服务器仍可继续发送（CLOSE-WAIT）"
            ),
        );
    }
    for s in a.iter().filter(|s| {
        s.from == Who::Server && s.k > fin_a.k && s.k < sfin_a.k && !s.payload.is_empty()
    }) {
        d.note(
            s.k,
            tr!(
                lang,
                "reply data after the client's FIN; the client still receives (FIN-WAIT-2)",
                "客户端 FIN 之后的回复数据；客户端仍在接收（FIN-WAIT-2）"
            ),
        );
    }
    d.note(
        sfin_a.k,
        tr!(
            lang,
            "segment 3: the server's own FIN, once its reply is out",
            "第 3 个报文段：回复发完后，服务器才发出自己的 FIN"
        ),
    );
    let fin_end = sfin_a.seq().wrapping_add(sfin_a.seq_len());
    if let Some(last) = a
        .iter()
        .find(|s| s.from == Who::Client && s.k > sfin_a.k && s.ack() == fin_end)
    {
        d.note(
            last.k,
            tr!(
                lang,
                "segment 4: ACK of the server's FIN",
                "第 4 个报文段：确认服务器的 FIN"
            ),
        );
    }
    d.line(
        Anchor::At(b[0].sent),
        tr!(
            lang,
            "(B) the server has nothing left to send",
            "(B) 服务器已没有数据要发送"
        ),
    );
    d.note(fin_b.k, tr!(lang, "request + FIN", "请求 + FIN"));
    if let Some(ack) = b
        .iter()
        .find(|s| s.from == Who::Server && s.k > fin_b.k && !s.flags().fin())
    {
        d.note(
            ack.k,
            tr!(
                lang,
                "ACK of the FIN, sent as the FIN arrived",
                "FIN 一到就发出的确认"
            ),
        );
    }
    d.note(
        sfin_b.k,
        tr!(
            lang,
            "FIN at the same instant, with the same ack: they could be one segment",
            "同一时刻发出的 FIN，确认号也相同：二者本可合并为一个报文段"
        ),
    );
    let items = super::world::compact(
        d.build(
            w.pair.net.trace(),
            w.pair.client,
            w.pair.server,
            ctx.display,
        ),
        4,
    );

    let findings = vec![
        tr!(
            lang,
            "(A) after the client's FIN the server sent {} bytes in {} segments; the connection was half-open for {} (FIN to FIN)",
            "(A) 客户端发出 FIN 后，服务器又发送了 {} 字节、{} 个报文段；连接半关闭持续 {}（两个 FIN 之间）",
            o.reply.len(),
            o.segments_after_fin,
            dur(o.half_open_for)
        ),
        tr!(
            lang,
            "(A) {} of the {} reply bytes reached the client in FIN-WAIT-2, after its FIN was acknowledged; all read intact: {}",
            "(A) 回复的 {}/{} 字节是在客户端的 FIN 被确认之后（FIN-WAIT-2）到达的；全部完好读出：{}",
            o.read_in_fin_wait_2,
            o.reply.len(),
            yn(lang, o.client_read == o.reply)
        ),
        tr!(
            lang,
            "(A) so the server's ACK (segment 2) and FIN (segment 3) were {} apart: they cannot be merged, hence four segments",
            "(A) 因此服务器的 ACK（第 2 个）和 FIN（第 3 个）相隔 {}，无法合并，所以需要四个报文段",
            dur(o.half_open_for)
        ),
        tr!(
            lang,
            "(B) the server's ACK and FIN left {} apart, as {} (this stack acknowledges a FIN at once, before the application has read it)",
            "(B) 服务器的 ACK 与 FIN 相隔 {} 发出，{}（本协议栈收到 FIN 立即确认，不等应用进程读取）",
            dur(o.b_ack_fin_gap),
            if o.b_combined {
                lang.pick("one segment", "合并为一个报文段")
            } else {
                lang.pick("two segments", "分成两个报文段")
            }
        ),
        lang.pick(
            "(B) the FIN,ACK repeats the ACK's ack number, so a stack that delays that ACK sends FIN and ACK together: a three-segment close",
            "(B) FIN,ACK 携带与前一个 ACK 相同的确认号；若协议栈推迟该确认，FIN 与 ACK 可合并发送，即三次挥手",
        )
        .to_string(),
    ];
    let _ = sfin_b;
    Ok(Explained {
        title: tr!(
            lang,
            "Half-close: why closing takes four segments",
            "半关闭：为什么要四次挥手"
        ),
        items,
        trace: w.pair.net.take_trace(),
        client: w.pair.client,
        server: w.pair.server,
        findings,
        failed_as_expected: None,
    })
}
