//! `handshake`: the three-way handshake, then one small write so the ack arithmetic continues.

use ferrotcp::time::Duration;
use ferrotcp::trace::TcpState;
use ferrotcp::wire::TcpFlags;

use super::world::{Anchor, Diagram, T0, Who, World, dur, path, tr, yn};
use super::{Ctx, Explained};

pub(crate) fn explain(ctx: &Ctx) -> Result<Explained, String> {
    let lang = ctx.lang;
    let mut w = World::new(ctx.tcp()?, true);
    let (l, c) = w.listen_and_connect(None)?;
    // The client writes as soon as it is connected; the server accepts when it can.
    w.wait_state(
        Who::Client,
        c,
        TcpState::Established,
        Duration::from_secs(5),
    )?;
    w.send(Who::Client, c, b"hello")?;
    w.accept(l)?;
    w.run_for(Duration::from_millis(200));

    let segs = w.segments();
    let find = |from: Who, pred: &dyn Fn(&super::world::Seg) -> bool| {
        segs.iter().find(|s| s.from == from && pred(s)).cloned()
    };
    let syn = find(Who::Client, &|s| s.flags().syn()).ok_or("no SYN")?;
    let synack = find(Who::Server, &|s| s.flags().syn() && s.flags().ack()).ok_or("no SYN,ACK")?;
    let ack3 = find(Who::Client, &|s| {
        s.k > synack.k && s.flags() == TcpFlags::ACK && s.payload.is_empty()
    })
    .ok_or("no third message")?;
    let data = find(Who::Client, &|s| !s.payload.is_empty()).ok_or("no data")?;
    let data_ack =
        find(Who::Server, &|s| s.k > data.k && s.flags().ack()).ok_or("no ACK of the data")?;
    let (x, y) = (syn.seq(), synack.seq());

    let mut d = Diagram::default();
    d.initial(T0, Who::Server, TcpState::Listen);
    d.line(
        Anchor::Start,
        tr!(
            lang,
            "x = client ISN, y = server ISN",
            "x = 客户端初始序列号, y = 服务器初始序列号"
        ),
    );
    d.note(
        syn.k,
        tr!(
            lang,
            "SYN: seq = x, the client's ISN",
            "SYN：seq = x，客户端的初始序列号"
        ),
    );
    d.note(
        synack.k,
        tr!(
            lang,
            "seq = y; ack = x+1: the SYN consumes one sequence number",
            "seq = y；确认号 ack = x+1：SYN 消耗一个序列号"
        ),
    );
    d.note(
        ack3.k,
        tr!(
            lang,
            "seq = x+1, ack = y+1: the third message acknowledges the server's SYN",
            "seq = x+1，ack = y+1：第三个报文确认服务器的 SYN"
        ),
    );
    d.note(
        data.k,
        tr!(
            lang,
            "first data byte is x+1 (the bare ACK took no sequence number)",
            "第一个数据字节的序列号是 x+1（纯 ACK 不消耗序列号）"
        ),
    );
    d.note(
        data_ack.k,
        tr!(
            lang,
            "ack = x+1+{}: the next byte expected",
            "ack = x+1+{}：期望收到的下一个字节",
            data.payload.len()
        ),
    );
    let items = d.build(
        w.pair.net.trace(),
        w.pair.client,
        w.pair.server,
        ctx.display,
    );

    let c_est = w
        .entered(Who::Client, TcpState::Established, T0)
        .ok_or("client never ESTABLISHED")?;
    let s_est = w
        .entered(Who::Server, TcpState::Established, T0)
        .ok_or("server never ESTABLISHED")?;
    let syn_opts = syn.repr.options;
    let sa_opts = synack.repr.options;
    let opt = |v: Option<u16>| v.map_or("-".to_string(), |v| v.to_string());
    let ws = |v: Option<u8>| v.map_or("-".to_string(), |v| v.to_string());
    let mut findings = vec![
        tr!(
            lang,
            "client {}:{} → server {}:{}",
            "客户端 {}:{} → 服务器 {}:{}",
            syn.frame_ip_src(),
            syn.repr.src_port,
            syn.frame_ip_dst(),
            syn.repr.dst_port
        ),
        tr!(
            lang,
            "ISNs: x = {x}, y = {y} (RFC 6528: a 4 µs clock plus a keyed hash of the address pair)",
            "初始序列号：x = {x}，y = {y}（RFC 6528：4 微秒时钟加上地址对的密钥哈希）"
        ),
        tr!(
            lang,
            "SYN,ACK ack = {} = x+1; third message seq = {} = x+1, ack = {} = y+1",
            "SYN,ACK 的确认号 = {} = x+1；第三个报文 seq = {} = x+1，ack = {} = y+1",
            synack.ack(),
            ack3.seq(),
            ack3.ack()
        ),
        tr!(
            lang,
            "options: SYN MSS {} window scale {}; SYN,ACK MSS {} window scale {}",
            "选项：SYN 的 MSS {}、窗口扩大因子 {}；SYN,ACK 的 MSS {}、窗口扩大因子 {}",
            opt(syn_opts.mss),
            ws(syn_opts.window_scale),
            opt(sa_opts.mss),
            ws(sa_opts.window_scale)
        ),
        tr!(
            lang,
            "both SYNs also offer SACK ({}, {}) and timestamps ({}, {}): each side then reports out-of-order data and times every round trip (RFC 2018, RFC 7323)",
            "双方的 SYN 还提供 SACK（{}，{}）和时间戳（{}，{}）：此后双方报告乱序数据，并测量每一个往返时间（RFC 2018、RFC 7323）",
            yn(lang, syn_opts.sack_permitted),
            yn(lang, sa_opts.sack_permitted),
            yn(lang, syn_opts.timestamps.is_some()),
            yn(lang, sa_opts.timestamps.is_some())
        ),
        tr!(
            lang,
            "client: {} (ESTABLISHED {} after its SYN = 1 RTT)",
            "客户端：{}（发出 SYN 后 {} 即 ESTABLISHED = 1 个 RTT）",
            path(&w.states(Who::Client)),
            dur(c_est - syn.sent)
        ),
        tr!(
            lang,
            "server: LISTEN → {} (ESTABLISHED {} after the client's SYN = 1.5 RTT)",
            "服务器：LISTEN → {}（客户端发出 SYN 后 {} 才 ESTABLISHED = 1.5 个 RTT）",
            path(&w.states(Who::Server)),
            dur(s_est - syn.sent)
        ),
        {
            let ack_delay = data_ack.sent - data.arrived.unwrap_or(data.sent);
            if ack_delay.is_zero() {
                tr!(
                    lang,
                    "the first data byte left {} after connect(); its ACK went at once (a new connection starts in quick-ACK mode, as Linux's does, so slow start is not held back by delayed ACKs)",
                    "第一个数据字节在 connect() 之后 {} 发出；其确认立即发出（新连接像 Linux 一样从快速确认模式开始，慢启动不会被延迟确认拖慢）",
                    dur(data.sent - syn.sent)
                )
            } else {
                tr!(
                    lang,
                    "the first data byte left {} after connect(); its ACK came {} after the data arrived (delayed ACK)",
                    "第一个数据字节在 connect() 之后 {} 发出；数据到达后 {} 才确认（延迟确认）",
                    dur(data.sent - syn.sent),
                    dur(ack_delay)
                )
            }
        },
    ];
    findings.retain(|f| !f.is_empty());
    Ok(Explained {
        title: tr!(
            lang,
            "The three-way handshake",
            "三次握手 (three-way handshake)"
        ),
        items,
        trace: w.pair.net.take_trace(),
        client: w.pair.client,
        server: w.pair.server,
        findings,
        failed_as_expected: None,
    })
}
