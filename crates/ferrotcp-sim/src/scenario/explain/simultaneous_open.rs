//! `simultaneous-open`: each side connects to the other at the same instant; the SYNs cross.

use ferrotcp::time::Duration;
use ferrotcp::trace::TcpState;
use ferrotcp::wire::TcpFlags;

use super::world::{Anchor, Diagram, T0, Who, World, dur, path, tr};
use super::{Ctx, Explained};
use crate::pair::Pair;

const CLIENT_PORT: u16 = 40000;
const SERVER_PORT: u16 = 5000;

pub(crate) fn explain(ctx: &Ctx) -> Result<Explained, String> {
    let lang = ctx.lang;
    let mut w = World::new(ctx.tcp()?, true);
    let now = w.now();
    let c = w
        .client()
        .tcp_connect(now, Pair::server_addr(SERVER_PORT), Some(CLIENT_PORT))
        .map_err(|e| format!("connect: {e}"))?;
    let s = w
        .server()
        .tcp_connect(now, Pair::client_addr(CLIENT_PORT), Some(SERVER_PORT))
        .map_err(|e| format!("connect: {e}"))?;
    w.wait_state(
        Who::Client,
        c,
        TcpState::Established,
        Duration::from_secs(5),
    )?;
    w.wait_state(
        Who::Server,
        s,
        TcpState::Established,
        Duration::from_secs(5),
    )?;
    w.run_for(Duration::from_millis(100));

    let segs = w.segments();
    let syn_c = segs
        .iter()
        .find(|s| s.from == Who::Client && s.flags() == TcpFlags::SYN)
        .ok_or("no client SYN")?;
    let syn_s = segs
        .iter()
        .find(|s| s.from == Who::Server && s.flags() == TcpFlags::SYN)
        .ok_or("no server SYN")?;
    let sa_c = segs
        .iter()
        .find(|s| s.is(Who::Client, TcpFlags::SYN | TcpFlags::ACK))
        .ok_or("no client SYN,ACK")?;
    let sa_s = segs
        .iter()
        .find(|s| s.is(Who::Server, TcpFlags::SYN | TcpFlags::ACK))
        .ok_or("no server SYN,ACK")?;

    let mut d = Diagram::default();
    d.line(
        Anchor::Start,
        tr!(
            lang,
            "no listener: each side connect()s to the other ({CLIENT_PORT} ⇄ {SERVER_PORT})",
            "没有监听方：双方各自向对方发起 connect()（{CLIENT_PORT} ⇄ {SERVER_PORT}）"
        ),
    );
    d.note(
        syn_c.k,
        tr!(
            lang,
            "SYN seq = x: crosses the other SYN",
            "SYN seq = x：与对方的 SYN 交错"
        ),
    );
    d.note(
        syn_s.k,
        tr!(
            lang,
            "SYN seq = y: crosses the other SYN",
            "SYN seq = y：与对方的 SYN 交错"
        ),
    );
    d.note(
        sa_c.k,
        tr!(
            lang,
            "a SYN in SYN-SENT: SYN-RECEIVED; resend SYN seq = x with ack = y+1",
            "在 SYN-SENT 收到 SYN：进入 SYN-RECEIVED；重发 SYN seq = x 并带 ack = y+1"
        ),
    );
    d.note(
        sa_s.k,
        tr!(
            lang,
            "same on this side: SYN seq = y, ack = x+1",
            "这一侧同样：SYN seq = y，ack = x+1"
        ),
    );
    for a in segs
        .iter()
        .filter(|s| s.k > sa_c.k.max(sa_s.k) && s.flags() == TcpFlags::ACK)
    {
        d.note(
            a.k,
            tr!(
                lang,
                "ACK of the peer's SYN,ACK, whose SYN repeats one already received",
                "确认对方的 SYN,ACK（其中的 SYN 是已收到的重复）"
            ),
        );
    }
    let items = d.build(
        w.pair.net.trace(),
        w.pair.client,
        w.pair.server,
        ctx.display,
    );

    let est_c = w
        .entered(Who::Client, TcpState::Established, T0)
        .ok_or("no ESTABLISHED")?;
    let est_s = w
        .entered(Who::Server, TcpState::Established, T0)
        .ok_or("no ESTABLISHED")?;
    let findings = vec![
        tr!(lang, "client: {}", "客户端：{}", path(&w.states(Who::Client))),
        tr!(lang, "server: {}", "服务器：{}", path(&w.states(Who::Server))),
        tr!(
            lang,
            "{} segments: 2 SYNs and 2 SYN,ACKs (ack {} = x+1, ack {} = y+1: each acknowledges the other's SYN), then {} bare ACKs",
            "共 {} 个报文段：2 个 SYN、2 个 SYN,ACK（ack {} = x+1，ack {} = y+1：各自确认对方的 SYN），之后 {} 个纯 ACK",
            segs.len(),
            sa_s.ack(),
            sa_c.ack(),
            segs.iter().filter(|s| s.flags() == TcpFlags::ACK).count()
        ),
        lang.pick(
            "RFC 9293 Figure 7 stops after the SYN,ACKs; this stack also acknowledges each SYN,ACK (a repeated SYN draws an ACK)",
            "RFC 9293 图 7 在两个 SYN,ACK 之后就结束了；本协议栈还会确认每个 SYN,ACK（重复的 SYN 会引发一个 ACK）",
        )
        .to_string(),
        tr!(
            lang,
            "both ESTABLISHED {} and {} after the SYNs left (1 RTT each way)",
            "双方分别在 SYN 发出后 {} 和 {} 进入 ESTABLISHED（各 1 个 RTT）",
            dur(est_c - syn_c.sent),
            dur(est_s - syn_s.sent)
        ),
    ];
    Ok(Explained {
        title: tr!(
            lang,
            "Simultaneous open: through SYN-RECEIVED",
            "同时打开：经过 SYN-RECEIVED 状态"
        ),
        items,
        trace: w.pair.net.take_trace(),
        client: w.pair.client,
        server: w.pair.server,
        findings,
        failed_as_expected: None,
    })
}
