//! `close`: the four-way close and TIME-WAIT's 2MSL timer.

use ferrotcp::time::Duration;
use ferrotcp::trace::TcpState;
use ferrotcp::wire::TcpFlags;

use super::world::{Anchor, Diagram, T0, Who, World, dur, path, tr};
use super::{Ctx, Explained};

pub(crate) fn explain(ctx: &Ctx) -> Result<Explained, String> {
    let lang = ctx.lang;
    let msl = ctx.tcp()?.msl;
    let mut w = World::new(ctx.tcp()?, true);
    let (c, s) = w.establish(None)?;
    let since = w.segments().len();
    let t_close = T0 + Duration::from_millis(100);
    w.advance_to(t_close);
    let now = w.now();
    w.client()
        .tcp_close(now, c)
        .map_err(|e| format!("close: {e}"))?;
    // The server's application closes as soon as it reads the end of the stream.
    let deadline = now + Duration::from_secs(5);
    let mut closed = false;
    w.run_until(deadline, |w| {
        if w.read(Who::Server, s, &mut Vec::new()) {
            let now = w.now();
            closed = w.server().tcp_close(now, s).is_ok();
        }
        closed
    });
    if !closed {
        return Err("the server never saw the end of the stream".into());
    }
    w.run_for(msl * 2 + Duration::from_secs(1));

    let segs = w.segments();
    let after = &segs[since..];
    let fin1 = after
        .iter()
        .find(|s| s.is(Who::Client, TcpFlags::FIN))
        .ok_or("no client FIN")?;
    let ack1 = after
        .iter()
        .find(|s| s.from == Who::Server && s.k > fin1.k && !s.flags().fin())
        .ok_or("no ACK of the client's FIN")?;
    let fin2 = after
        .iter()
        .find(|s| s.is(Who::Server, TcpFlags::FIN))
        .ok_or("no server FIN")?;
    let ack2 = after
        .iter()
        .find(|s| s.from == Who::Client && s.k > fin2.k)
        .ok_or("no last ACK")?;

    let mut d = Diagram::default();
    d.initial(T0, Who::Server, TcpState::Listen);
    d.line(
        Anchor::At(t_close),
        tr!(
            lang,
            "u = client's next seq, v = server's next seq",
            "u = 客户端的下一个序列号, v = 服务器的下一个序列号"
        ),
    );
    d.note(
        fin1.k,
        tr!(
            lang,
            "FIN, seq = u: the client is done sending",
            "FIN，seq = u：客户端不再发送数据"
        ),
    );
    d.note(
        ack1.k,
        tr!(
            lang,
            "ack = u+1: the FIN consumes one sequence number",
            "确认号 ack = u+1：FIN 消耗一个序列号"
        ),
    );
    d.note(
        fin2.k,
        tr!(
            lang,
            "FIN, seq = v: the server's application closed too",
            "FIN，seq = v：服务器的应用进程也关闭了"
        ),
    );
    d.note(
        ack2.k,
        tr!(
            lang,
            "ack = v+1; the client waits 2MSL in TIME-WAIT",
            "ack = v+1；客户端进入 TIME-WAIT 等待 2MSL"
        ),
    );
    let tw_start = w
        .entered(Who::Client, TcpState::TimeWait, T0)
        .ok_or("client never in TIME-WAIT")?;
    let tw_end = w
        .states(Who::Client)
        .into_iter()
        .find(|&(t, st)| st == TcpState::Closed && t >= tw_start)
        .map(|(t, _)| t)
        .ok_or("TIME-WAIT never ended")?;
    d.line(
        Anchor::After(tw_start),
        tr!(
            lang,
            "... TIME-WAIT: 2MSL = 2 × {} = {} ...",
            "…… TIME-WAIT 等待 2MSL = 2 × {} = {} ……",
            dur(msl),
            dur(msl * 2)
        ),
    );
    let items = d.build(
        w.pair.net.trace(),
        w.pair.client,
        w.pair.server,
        ctx.display,
    );

    let entered = |who: Who, st: TcpState| w.entered(who, st, t_close);
    let span = |who: Who, a: TcpState, b: TcpState| match (entered(who, a), entered(who, b)) {
        (Some(x), Some(y)) => dur(y - x),
        _ => "-".to_string(),
    };
    let s_closed = entered(Who::Server, TcpState::Closed).ok_or("server never CLOSED")?;
    let findings = vec![
        tr!(
            lang,
            "client: {}",
            "客户端：{}",
            path(&w.states(Who::Client))
        ),
        tr!(
            lang,
            "server: LISTEN → {}",
            "服务器：LISTEN → {}",
            path(&w.states(Who::Server))
        ),
        tr!(
            lang,
            "4 segments: FIN seq {} / ACK ack {} (= u+1) / FIN seq {} / ACK ack {} (= v+1)",
            "4 个报文段：FIN seq {} / ACK ack {}（= u+1）/ FIN seq {} / ACK ack {}（= v+1）",
            fin1.seq(),
            ack1.ack(),
            fin2.seq(),
            ack2.ack()
        ),
        tr!(
            lang,
            "client FIN-WAIT-1 lasted {}, FIN-WAIT-2 {}; server CLOSE-WAIT {} (its application closed at once), LAST-ACK {}",
            "客户端 FIN-WAIT-1 持续 {}，FIN-WAIT-2 持续 {}；服务器 CLOSE-WAIT 持续 {}（应用进程立即关闭），LAST-ACK 持续 {}",
            span(Who::Client, TcpState::FinWait1, TcpState::FinWait2),
            span(Who::Client, TcpState::FinWait2, TcpState::TimeWait),
            span(Who::Server, TcpState::CloseWait, TcpState::LastAck),
            span(Who::Server, TcpState::LastAck, TcpState::Closed)
        ),
        tr!(
            lang,
            "server CLOSED at {}, {} after the client's FIN",
            "服务器在 {} 进入 CLOSED，距客户端发出 FIN {}",
            s_closed,
            dur(s_closed - fin1.sent)
        ),
        tr!(
            lang,
            "client TIME-WAIT from {} to {}: {} = 2MSL (MSL = {})",
            "客户端 TIME-WAIT 从 {} 到 {}：{} = 2MSL（MSL = {}）",
            tw_start,
            tw_end,
            dur(tw_end - tw_start),
            dur(msl)
        ),
    ];
    Ok(Explained {
        title: tr!(
            lang,
            "The four-way close and TIME-WAIT",
            "四次挥手与 TIME-WAIT"
        ),
        items,
        trace: w.pair.net.take_trace(),
        client: w.pair.client,
        server: w.pair.server,
        findings,
        failed_as_expected: None,
    })
}
