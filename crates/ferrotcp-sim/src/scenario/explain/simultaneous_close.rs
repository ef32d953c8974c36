//! `simultaneous-close`: both applications close at the same instant; the FINs cross.

use ferrotcp::time::Duration;
use ferrotcp::trace::TcpState;
use ferrotcp::wire::TcpFlags;

use super::world::{Anchor, Diagram, T0, Who, World, dur, path, tr, yn};
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
    w.server()
        .tcp_close(now, s)
        .map_err(|e| format!("close: {e}"))?;
    w.run_for(msl * 2 + Duration::from_secs(1));

    let segs = w.segments();
    let after = &segs[since..];
    let fin_c = after
        .iter()
        .find(|s| s.is(Who::Client, TcpFlags::FIN))
        .ok_or("no client FIN")?;
    let fin_s = after
        .iter()
        .find(|s| s.is(Who::Server, TcpFlags::FIN))
        .ok_or("no server FIN")?;
    let ack_c = after
        .iter()
        .find(|s| s.from == Who::Client && s.k > fin_c.k && !s.flags().fin())
        .ok_or("no client ACK")?;
    let ack_s = after
        .iter()
        .find(|s| s.from == Who::Server && s.k > fin_s.k && !s.flags().fin())
        .ok_or("no server ACK")?;

    let mut d = Diagram::default();
    d.initial(T0, Who::Server, TcpState::Listen);
    d.line(
        Anchor::At(t_close),
        tr!(
            lang,
            "both applications close at {}",
            "双方应用进程在 {} 同时关闭",
            t_close
        ),
    );
    let cross_en = "FIN: crosses the other FIN on the wire";
    let cross_zh = "FIN：与对方的 FIN 在途中交错";
    d.note(fin_c.k, lang.pick(cross_en, cross_zh));
    d.note(fin_s.k, lang.pick(cross_en, cross_zh));
    let closing_en = "a FIN arrives before the ACK of ours: CLOSING; ack = peer's FIN + 1";
    let closing_zh = "自己的 FIN 未被确认就收到对方的 FIN：CLOSING；ack = 对方 FIN + 1";
    d.note(ack_c.k, lang.pick(closing_en, closing_zh));
    d.note(ack_s.k, lang.pick(closing_en, closing_zh));
    let tw = w
        .entered(Who::Client, TcpState::TimeWait, t_close)
        .ok_or("no TIME-WAIT")?;
    d.line(
        Anchor::After(tw),
        tr!(
            lang,
            "... both sides wait 2MSL = {} in TIME-WAIT ...",
            "…… 双方都在 TIME-WAIT 等待 2MSL = {} ……",
            dur(msl * 2)
        ),
    );
    let items = d.build(
        w.pair.net.trace(),
        w.pair.client,
        w.pair.server,
        ctx.display,
    );

    let span = |who: Who, a: TcpState, b: TcpState| match (
        w.entered(who, a, t_close),
        w.entered(who, b, t_close),
    ) {
        (Some(x), Some(y)) => dur(y - x),
        _ => "-".to_string(),
    };
    let both_closing = w.entered(Who::Client, TcpState::Closing, t_close).is_some()
        && w.entered(Who::Server, TcpState::Closing, t_close).is_some();
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
            "both through CLOSING: {}; 4 segments, FINs sent {} apart",
            "双方都经过 CLOSING：{}；共 4 个报文段，两个 FIN 的发送间隔 {}",
            yn(lang, both_closing),
            dur(if fin_c.sent > fin_s.sent {
                fin_c.sent - fin_s.sent
            } else {
                fin_s.sent - fin_c.sent
            })
        ),
        tr!(
            lang,
            "client: FIN-WAIT-1 {}, CLOSING {}, TIME-WAIT {}",
            "客户端：FIN-WAIT-1 {}，CLOSING {}，TIME-WAIT {}",
            span(Who::Client, TcpState::FinWait1, TcpState::Closing),
            span(Who::Client, TcpState::Closing, TcpState::TimeWait),
            span(Who::Client, TcpState::TimeWait, TcpState::Closed)
        ),
        tr!(
            lang,
            "server: FIN-WAIT-1 {}, CLOSING {}, TIME-WAIT {} (both sides pay 2MSL: each closed actively)",
            "服务器：FIN-WAIT-1 {}，CLOSING {}，TIME-WAIT {}（双方都是主动关闭方，都要等待 2MSL）",
            span(Who::Server, TcpState::FinWait1, TcpState::Closing),
            span(Who::Server, TcpState::Closing, TcpState::TimeWait),
            span(Who::Server, TcpState::TimeWait, TcpState::Closed)
        ),
    ];
    Ok(Explained {
        title: tr!(
            lang,
            "Simultaneous close: through CLOSING",
            "同时关闭：经过 CLOSING 状态"
        ),
        items,
        trace: w.pair.net.take_trace(),
        client: w.pair.client,
        server: w.pair.server,
        findings,
        failed_as_expected: None,
    })
}
