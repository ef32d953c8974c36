//! `why-three-way`: the client's first SYN lingers in the network; the client retransmits it,
//! connects, exchanges data and closes; long after, the stale SYN reaches the server (RFC 9293
//! Figure 8's old duplicate SYN). With the third message the server's SYN,ACK meets a RST and the
//! half-open attempt is dropped. With `--ablate two-way-handshake` the server counts the
//! connection as established once its SYN,ACK is out, and its application accepts a connection
//! nobody opened.

use ferrotcp::time::{Duration, Instant};
use ferrotcp::trace::TcpState;
use ferrotcp::transport::tcp::ablation::Ablation;
use ferrotcp::wire::TcpFlags;
use ferrotcp::{CloseReason, TcpHandle};

use super::world::{Anchor, Diagram, T0, Who, World, dur, reason_text, tr, yn};
use super::{Ctx, Explained, tcp_config};
use crate::impairments::Impairments;
use crate::pair::Pair;
use crate::trace::SimEvent;

const CLIENT_PORT: u16 = 40000;
/// How long the first SYN lingers: past the client's TIME-WAIT, so the client has no trace of
/// that connection left when it arrives.
const LINGER: Duration = Duration::from_secs(65);
const REQUEST: &[u8] = b"GET / HTTP/1.1\r\n\r\n";

/// What the run measured.
#[derive(Clone, Debug)]
pub struct ThreeWayOutcome {
    /// When the stale SYN reached the server.
    pub stale_arrived: Instant,
    /// The server's application accepted a connection after the stale SYN arrived.
    pub accepted_stale: Option<Instant>,
    /// How the server's application was told that connection ended, and when.
    pub stale_closed: Option<(Instant, CloseReason)>,
    /// The client answered the server's SYN,ACK with a RST.
    pub client_rst: bool,
    /// Connections in the server's table right after the stale SYN's SYN,ACK left, and at the end.
    pub server_conns_during: usize,
    pub server_conns_after: usize,
    /// The real connection's request arrived intact.
    pub real_request_ok: bool,
}

impl ThreeWayOutcome {
    /// How long the server's application held the connection nobody opened.
    pub fn held_for(&self) -> Option<Duration> {
        match (self.accepted_stale, self.stale_closed) {
            (Some(a), Some((c, _))) => Some(c - a),
            _ => None,
        }
    }
}

pub fn outcome(two_way: bool) -> Result<ThreeWayOutcome, String> {
    scenario(two_way.then_some(Ablation::TwoWayHandshake)).map(|(_, o, _)| o)
}

fn scenario(ablation: Option<Ablation>) -> Result<(World, ThreeWayOutcome, u64), String> {
    let mut w = World::new(tcp_config(ablation)?, true);
    let client = w.pair.client;
    let l = w
        .server()
        .tcp_listen(super::world::PORT, 16)
        .map_err(|e| format!("listen: {e}"))?;
    w.listener = Some(l);
    let link = |loss: f64| Impairments {
        delay: super::world::DELAY,
        loss,
        ..Impairments::default()
    };
    // The first SYN leaves now; the link "loses" it, and a copy arrives LINGER later.
    w.pair
        .net
        .set_impairments(client, link(1.0))
        .map_err(|e| e.to_string())?;
    let now = w.now();
    let c = w
        .client()
        .tcp_connect(
            now,
            Pair::server_addr(super::world::PORT),
            Some(CLIENT_PORT),
        )
        .map_err(|e| format!("connect: {e}"))?;
    w.flush();
    w.pair
        .net
        .set_impairments(client, link(0.0))
        .map_err(|e| e.to_string())?;
    let (lost_id, syn) = w
        .pair
        .net
        .trace()
        .iter()
        .find_map(|r| match &r.event {
            SimEvent::FrameSent {
                from, frame, id, ..
            } if *from == client => Some((*id, frame.clone())),
            _ => None,
        })
        .ok_or("the first SYN was not sent")?;
    let stale_at = now + LINGER;
    w.pair
        .net
        .inject_frame(client, syn, stale_at)
        .ok_or("client not linked")?;

    // The real connection (the retransmitted SYN gets through), one request, then close.
    let s = w.accept(l)?;
    w.wait_state(
        Who::Client,
        c,
        TcpState::Established,
        Duration::from_secs(5),
    )?;
    w.send(Who::Client, c, REQUEST)?;
    w.shutdown(Who::Client, c)?;
    let mut got = Vec::new();
    let mut shut = false;
    let deadline = w.now() + Duration::from_secs(5);
    w.run_until(deadline, |w| {
        if !shut && w.read(Who::Server, s, &mut got) {
            shut = w.shutdown(Who::Server, s).is_ok();
        }
        shut && w.closed(Who::Server, s).is_some()
    });
    w.run_until(Instant::from_micros(stale_at.total_micros() - 1000), |_| {
        false
    });
    for (who, h) in [(Who::Client, c), (Who::Server, s)] {
        if w.closed(who, h).is_some() {
            let _ = w.stack(who).tcp_release(h);
        }
    }

    // The server's application keeps accepting; whatever it accepts, it waits for a request.
    let mut stale: Option<(TcpHandle, Instant)> = None;
    let mut during = 0;
    let deadline = stale_at + Duration::from_secs(300);
    w.run_until(deadline, |w| {
        if stale.is_none()
            && let Ok(Some(h)) = w.server().tcp_accept(l)
        {
            stale = Some((h, w.now()));
        }
        during = during.max(w.server().tcp_connection_count());
        if let Some((h, _)) = stale {
            if w.closed(Who::Server, h).is_some() {
                // The application lets go of the handle once told it is closed.
                let _ = w.server().tcp_release(h);
            } else {
                let _ = w.read(Who::Server, h, &mut Vec::new());
            }
        }
        false
    });
    let segs = w.segments();
    let stale_synack = segs
        .iter()
        .find(|x| x.from == Who::Server && x.flags().syn() && x.sent >= stale_at);
    let client_rst = stale_synack.is_some_and(|sa| {
        segs.iter()
            .any(|x| x.from == Who::Client && x.k > sa.k && x.flags().rst())
    });
    let o = ThreeWayOutcome {
        stale_arrived: stale_at,
        accepted_stale: stale.map(|(_, t)| t),
        stale_closed: stale.and_then(|(h, _)| w.closed(Who::Server, h)),
        client_rst,
        server_conns_during: during,
        server_conns_after: w.server().tcp_connection_count(),
        real_request_ok: got == REQUEST,
    };
    Ok((w, o, lost_id))
}

pub(crate) fn explain(ctx: &Ctx) -> Result<Explained, String> {
    let lang = ctx.lang;
    let ablated = ctx.ablation.is_some();
    let (mut w, o, lost_id) = scenario(ctx.ablation)?;
    // The "lost" original is the frame whose copy lingers: draw it once, as the late copy.
    let mut trace = w.pair.net.take_trace();
    trace.retain(|r| match &r.event {
        SimEvent::FrameSent { id, .. } | SimEvent::FrameLost { id, .. } => *id != lost_id,
        _ => true,
    });
    let segs = super::world::segments(&trace, w.pair.client, w.pair.server);
    let mut d = Diagram::default();
    d.initial(T0, Who::Server, TcpState::Listen);
    let first = segs
        .iter()
        .find(|x| x.flags() == TcpFlags::SYN)
        .ok_or("no SYN")?;
    d.note(
        first.k,
        tr!(
            lang,
            "SYN seq = x: held up in the network for {}",
            "SYN seq = x：在网络中滞留了 {}",
            dur(LINGER)
        ),
    );
    if let Some(rtx) = segs.iter().filter(|x| x.flags() == TcpFlags::SYN).nth(1) {
        d.note(
            rtx.k,
            tr!(
                lang,
                "no answer: the client retransmits its SYN",
                "没有回应：客户端重传 SYN"
            ),
        );
    }
    d.line(
        Anchor::At(o.stale_arrived),
        tr!(
            lang,
            "... the client's connection is long gone; now the stale SYN arrives ...",
            "…… 客户端的连接早已释放；此时那个迟到的旧 SYN 才到达 ……"
        ),
    );
    if let Some(sa) = segs
        .iter()
        .find(|x| x.from == Who::Server && x.flags().syn() && x.sent >= o.stale_arrived)
    {
        d.note(
            sa.k,
            if ablated {
                tr!(
                    lang,
                    "two-way: the server counts this as ESTABLISHED now",
                    "两次握手：服务器此刻就认为连接已建立"
                )
            } else {
                tr!(
                    lang,
                    "the server answers and waits for the third message",
                    "服务器应答，并等待第三个报文"
                )
            },
        );
        if let Some(rst) = segs.iter().find(|x| x.k > sa.k && x.flags().rst()) {
            d.note(
                rst.k,
                tr!(
                    lang,
                    "the client opened nothing: RST",
                    "客户端并未请求连接：回复 RST"
                ),
            );
        }
    }
    let items = super::world::compact(
        d.build(&trace, w.pair.client, w.pair.server, ctx.display),
        4,
    );

    let mut findings = vec![
        tr!(
            lang,
            "the real connection (retransmitted SYN) carried its request intact: {}",
            "真正的连接（重传的 SYN 建立）完整传送了请求：{}",
            yn(lang, o.real_request_ok)
        ),
        tr!(
            lang,
            "the stale SYN arrived at {} ({} after it was sent); the client answered the server's SYN,ACK with RST: {}",
            "旧 SYN 在 {} 到达（发出后 {}）；客户端对服务器的 SYN,ACK 回复 RST：{}",
            o.stale_arrived,
            dur(LINGER),
            yn(lang, o.client_rst)
        ),
    ];
    match (o.accepted_stale, o.held_for()) {
        (Some(at), held) => {
            findings.push(tr!(
                lang,
                "the server's application accepted a connection from 192.0.2.1:{CLIENT_PORT} at {} that the client never opened",
                "服务器应用进程在 {} 接受了一个来自 192.0.2.1:{CLIENT_PORT} 的连接，而客户端从未请求",
                at
            ));
            findings.push(tr!(
                lang,
                "it held that connection (a TCB, buffers, an application worker waiting for a request) for {}, until {}",
                "它占用该连接（TCB、缓冲区、一个等待请求的应用进程）达 {}，直到{}",
                held.map_or("-".to_string(), dur),
                reason_text(lang, o.stale_closed.map(|(_, r)| r))
            ));
        }
        (None, _) => findings.push(
            lang.pick(
                "the server's application never saw the stale attempt: it stayed in SYN-RECEIVED inside the stack and was dropped on the RST",
                "服务器应用进程完全没有看到这次旧的连接请求：它只在协议栈内停留在 SYN-RECEIVED，收到 RST 后即被丢弃",
            )
            .to_string(),
        ),
    }
    findings.push(tr!(
        lang,
        "server connection table: {} at most while the stale SYN was handled, {} at the end",
        "服务器连接表：处理旧 SYN 期间最多 {} 个，结束时 {} 个",
        o.server_conns_during,
        o.server_conns_after
    ));
    let failed = ablated.then_some(o.accepted_stale.is_some());
    Ok(Explained {
        title: if ablated {
            tr!(
                lang,
                "Why three messages — a two-way handshake (teaching ablation)",
                "为什么要三次握手 —— 改成两次握手（教学用消融）"
            )
        } else {
            tr!(
                lang,
                "Why three messages: a stale SYN",
                "为什么要三次握手：迟到的旧 SYN"
            )
        },
        items,
        trace,
        client: w.pair.client,
        server: w.pair.server,
        findings,
        failed_as_expected: failed,
    })
}
