//! `why-not-four-way`: a fourth handshake message (the server acknowledging the client's ACK)
//! carries nothing the two sides did not already know, and the client's first data waits one
//! more round trip for it. Both variants are run; the ladder shows the one asked for.

use ferrotcp::time::{Duration, Instant};
use ferrotcp::trace::TcpState;
use ferrotcp::transport::tcp::ablation::Ablation;
use ferrotcp::wire::TcpFlags;

use super::world::{Anchor, Diagram, Seg, T0, Who, World, dur, tr};
use super::{Ctx, Explained, tcp_config};

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 192.0.2.2\r\n\r\n";

/// One variant's measurements.
#[derive(Clone, Debug)]
pub struct HandshakeRun {
    pub syn: Seg,
    pub synack: Seg,
    pub third: Seg,
    /// The server's acknowledgement of the third message, if one was sent before any data.
    pub fourth: Option<Seg>,
    /// The first segment carrying the request.
    pub data: Seg,
    /// When the application called connect().
    pub connect_at: Instant,
    /// When the server's application had read the whole request.
    pub request_read_at: Instant,
}

impl HandshakeRun {
    /// From connect() to the first data byte leaving the client.
    pub fn first_data_after(&self) -> Duration {
        self.data.sent - self.connect_at
    }
}

/// Runs the handshake with three messages (`four` = false) or four.
pub fn measure(four: bool) -> Result<HandshakeRun, String> {
    run_variant(four.then_some(Ablation::FourWayHandshake)).map(|(_, r)| r)
}

fn run_variant(ablation: Option<Ablation>) -> Result<(World, HandshakeRun), String> {
    let mut w = World::new(tcp_config(ablation)?, true);
    let connect_at = w.now();
    let (l, c) = w.listen_and_connect(None)?;
    // The application writes its request at once; the stack sends it as soon as it may.
    w.send(Who::Client, c, REQUEST)?;
    let s = w.accept(l)?;
    let mut got = Vec::new();
    let deadline = w.now() + Duration::from_secs(5);
    let mut read_at = None;
    w.run_until(deadline, |w| {
        w.read(Who::Server, s, &mut got);
        if got.len() >= REQUEST.len() && read_at.is_none() {
            read_at = Some(w.now());
        }
        read_at.is_some()
    });
    w.wait_state(
        Who::Client,
        c,
        TcpState::Established,
        Duration::from_secs(5),
    )?;
    w.run_for(Duration::from_millis(100));
    let segs = w.segments();
    let syn = segs
        .iter()
        .find(|x| x.from == Who::Client && x.flags() == TcpFlags::SYN)
        .cloned()
        .ok_or("no SYN")?;
    let synack = segs
        .iter()
        .find(|x| x.is(Who::Server, TcpFlags::SYN | TcpFlags::ACK))
        .cloned()
        .ok_or("no SYN,ACK")?;
    let third = segs
        .iter()
        .find(|x| x.from == Who::Client && x.k > synack.k && x.flags().ack())
        .cloned()
        .ok_or("no third message")?;
    let data = segs
        .iter()
        .find(|x| x.from == Who::Client && !x.payload.is_empty())
        .cloned()
        .ok_or("no data")?;
    let fourth = segs
        .iter()
        .find(|x| x.from == Who::Server && x.k > third.k && x.k < data.k && x.payload.is_empty())
        .cloned();
    Ok((
        w,
        HandshakeRun {
            syn,
            synack,
            third,
            fourth,
            data,
            connect_at,
            request_read_at: read_at.ok_or("the request never arrived")?,
        },
    ))
}

pub(crate) fn explain(ctx: &Ctx) -> Result<Explained, String> {
    let lang = ctx.lang;
    let four = ctx.ablation.is_some();
    let (mut w, shown) = run_variant(ctx.ablation)?;
    // The comparison runs the other variant; a build without teaching ablations has no
    // four-message variant to run, and says so instead of measuring it.
    let other = match run_variant(if four {
        None
    } else {
        Some(Ablation::FourWayHandshake)
    }) {
        Ok((_, other)) => Some(other),
        Err(_) if !four => None,
        Err(e) => return Err(e),
    };
    let (r3, r4) = match &other {
        Some(other) if four => (other, Some(&shown)),
        other => (&shown, other.as_ref()),
    };

    let mut d = Diagram::default();
    d.initial(T0, Who::Server, TcpState::Listen);
    d.line(
        Anchor::Start,
        if four {
            tr!(lang, "four messages (teaching ablation): the client waits for the server to acknowledge its ACK", "四次握手（教学用消融）：客户端要等服务器确认它的 ACK")
        } else {
            tr!(lang, "three messages; the application wrote its request before the handshake finished", "三次握手；应用进程在握手完成前就写入了请求")
        },
    );
    d.note(shown.syn.k, tr!(lang, "1: SYN seq = x", "1：SYN seq = x"));
    d.note(
        shown.synack.k,
        tr!(
            lang,
            "2: SYN,ACK seq = y, ack = x+1",
            "2：SYN,ACK seq = y，ack = x+1"
        ),
    );
    d.note(
        shown.third.k,
        if shown.third.payload.is_empty() {
            tr!(
                lang,
                "3: ACK seq = x+1, ack = y+1",
                "3：ACK seq = x+1，ack = y+1"
            )
        } else {
            tr!(
                lang,
                "3: ACK seq = x+1, ack = y+1, with the request",
                "3：ACK seq = x+1，ack = y+1，并携带请求"
            )
        },
    );
    if let Some(f) = &shown.fourth {
        d.note(
            f.k,
            tr!(
                lang,
                "4: seq = y+1, ack = x+1: both already known",
                "4：seq = y+1，ack = x+1：双方早已知道"
            ),
        );
    }
    if shown.data.k != shown.third.k {
        d.note(
            shown.data.k,
            tr!(
                lang,
                "first data, {} after connect()",
                "第一个数据报文段，connect() 之后 {}",
                dur(shown.first_data_after())
            ),
        );
    }
    let items = d.build(
        w.pair.net.trace(),
        w.pair.client,
        w.pair.server,
        ctx.display,
    );

    let mut findings = Vec::new();
    if let Some(f) = r4.and_then(|r4| r4.fourth.as_ref().map(|f| (r4, f))) {
        let (r4, f) = f;
        findings.push(tr!(
            lang,
            "4th message: flags {}, seq {} = y+1 (the client sent ack {} in message 3), ack {} = x+1 (the server sent ack {} in message 2), {} bytes",
            "第 4 个报文：标志 {}，seq {} = y+1（客户端在第 3 个报文中已确认 {}），ack {} = x+1（服务器在第 2 个报文中已确认 {}），{} 字节数据",
            f.flag_text(),
            f.seq(),
            r4.third.ack(),
            f.ack(),
            r4.synack.ack(),
            f.payload.len()
        ));
        findings.push(tr!(
            lang,
            "its window field {} (scaled) only restates the receive window, which every later segment carries anyway",
            "其窗口字段 {}（已缩放）只是重复接收窗口，而之后的每个报文段本来都会携带",
            f.repr.window
        ));
    }
    findings.push(tr!(
        lang,
        "three messages: first data byte left {} after connect(); the server had the request {} after connect()",
        "三次握手：connect() 之后 {} 发出第一个数据字节；服务器在 connect() 之后 {} 收到请求",
        dur(r3.first_data_after()),
        dur(r3.request_read_at - r3.connect_at)
    ));
    match r4 {
        Some(r4) => {
        findings.push(tr!(
            lang,
            "four messages: first data byte left {} after connect(); the server had the request {} after connect()",
            "四次握手：connect() 之后 {} 发出第一个数据字节；服务器在 connect() 之后 {} 收到请求",
            dur(r4.first_data_after()),
            dur(r4.request_read_at - r4.connect_at)
        ));
        findings.push(tr!(
            lang,
            "the fourth message costs {} (RTT = {}) and tells nothing new: three is the fewest that lets each side learn its own SYN was received",
            "第四个报文多花 {}（RTT = {}），却没有任何新信息：三次是让双方都确认自己的 SYN 已被收到的最少次数",
            dur(r4.first_data_after().saturating_sub(r3.first_data_after())),
            dur(super::world::DELAY * 2)
        ));
        }
        None => findings.push(tr!(
            lang,
            "four messages: not measured here (this ferrotcp was built without teaching ablations; `cargo run --release --features teaching -- explain why-not-four-way`)",
            "四次握手：此处未测量（此 ferrotcp 构建时未包含教学消融；`cargo run --release --features teaching -- explain why-not-four-way`）"
        )),
    }
    Ok(Explained {
        title: if four {
            tr!(
                lang,
                "Why not four messages — with a fourth (teaching ablation)",
                "为什么不是四次握手 —— 加上第四个报文（教学用消融）"
            )
        } else {
            tr!(lang, "Why not four messages", "为什么不需要四次握手")
        },
        items,
        trace: w.pair.net.take_trace(),
        client: w.pair.client,
        server: w.pair.server,
        findings,
        failed_as_expected: four.then(|| {
            r4.is_some_and(|r4| {
                r4.fourth.is_some() && r4.first_data_after() > r3.first_data_after()
            })
        }),
    })
}
