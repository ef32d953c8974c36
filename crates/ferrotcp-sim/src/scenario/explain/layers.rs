//! `layers`: one small HTTP request walked down the four layers at the client (application
//! data → TCP segment → IPv4 packet → Ethernet frame) and up at the server, with ARP resolving the
//! next hop first. The bytes annotated are the real frames of the run.

use core::fmt::Write as _;

use ferrotcp::time::{Duration, Instant};
use ferrotcp::trace::TcpState;
use ferrotcp::wire::{ArpOperation, ArpRepr, EtherType, EthernetRepr, Ipv4Repr};

use super::world::{Anchor, Diagram, Who, World, dur, tr, yn};
use super::{Ctx, Explained};
use crate::lang::Lang;
use crate::trace::SimEvent;

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 192.0.2.2\r\n\r\n";

/// A frame from the trace.
struct Frame {
    sent: Instant,
    arrived: Option<Instant>,
    bytes: Vec<u8>,
}

pub(crate) fn explain(ctx: &Ctx) -> Result<Explained, String> {
    let lang = ctx.lang;
    // A cold start: neither host knows the other's MAC address yet.
    let mut w = World::new(ctx.tcp()?, false);
    let (l, c) = w.listen_and_connect(None)?;
    let s = w.accept(l)?;
    w.wait_state(
        Who::Client,
        c,
        TcpState::Established,
        Duration::from_secs(5),
    )?;
    let written_at = w.now();
    w.send(Who::Client, c, REQUEST)?;
    let mut got = Vec::new();
    let mut read_at = None;
    let deadline = w.now() + Duration::from_secs(5);
    w.run_until(deadline, |w| {
        w.read(Who::Server, s, &mut got);
        if got.len() >= REQUEST.len() && read_at.is_none() {
            read_at = Some(w.now());
        }
        read_at.is_some()
    });
    let read_at = read_at.ok_or("the request never arrived")?;
    w.run_for(Duration::from_millis(100));

    // The frames: ARP request and reply, and the first frame carrying the request.
    let client = w.pair.client;
    let mut frames: Vec<(bool, Frame)> = Vec::new();
    let mut ids = Vec::new();
    for r in w.pair.net.trace() {
        match &r.event {
            SimEvent::FrameSent {
                from, frame, id, ..
            } => {
                ids.push(*id);
                frames.push((
                    *from == client,
                    Frame {
                        sent: r.time,
                        arrived: None,
                        bytes: frame.clone(),
                    },
                ));
            }
            SimEvent::FrameDelivered { id, .. } => {
                if let Some(i) = ids.iter().position(|x| x == id) {
                    frames[i].1.arrived.get_or_insert(r.time);
                }
            }
            _ => {}
        }
    }
    let arp = |op: ArpOperation| {
        frames.iter().find(|(_, f)| {
            EthernetRepr::parse(&f.bytes).is_ok_and(|(e, p)| {
                e.ethertype == EtherType::Arp && ArpRepr::parse(p).is_ok_and(|a| a.operation == op)
            })
        })
    };
    let (_, arp_req) = arp(ArpOperation::Request).ok_or("no ARP request")?;
    let (_, arp_rep) = arp(ArpOperation::Reply).ok_or("no ARP reply")?;
    let segs = w.segments();
    let data = segs
        .iter()
        .find(|x| x.from == Who::Client && !x.payload.is_empty())
        .ok_or("no data segment")?;
    let syn = segs.iter().find(|x| x.flags().syn()).ok_or("no SYN")?;

    let mut d = Diagram::default();
    d.initial(Instant::ZERO, Who::Server, TcpState::Listen);
    d.line(
        Anchor::At(arp_req.sent),
        tr!(
            lang,
            "{} ARP who-has 192.0.2.2? (broadcast) →",
            "{} ARP 请求：谁是 192.0.2.2？（广播）→",
            arp_req.sent
        ),
    );
    d.line(
        Anchor::At(arp_rep.sent),
        tr!(
            lang,
            "{} ← ARP 192.0.2.2 is-at 02:00:00:00:00:02",
            "{} ← ARP 应答：192.0.2.2 的 MAC 是 02:00:00:00:00:02",
            arp_rep.sent
        ),
    );
    d.note(
        syn.k,
        tr!(
            lang,
            "the SYN waited {} for ARP",
            "SYN 等待 ARP 解析用了 {}",
            dur(syn.sent - arp_req.sent)
        ),
    );
    d.note(
        data.k,
        tr!(
            lang,
            "the HTTP request: annotated byte by byte below",
            "HTTP 请求：下面逐字节注释"
        ),
    );
    let items = d.build(
        w.pair.net.trace(),
        w.pair.client,
        w.pair.server,
        ctx.display,
    );

    let f = &data.frame;
    let (eth, ip_bytes) = EthernetRepr::parse(f).map_err(|e| e.to_string())?;
    let (ip, _) = Ipv4Repr::parse(ip_bytes).map_err(|e| e.to_string())?;
    let ihl = usize::from(ip_bytes[0] & 0x0f) * 4;
    let tcp_len = ip.payload_len;
    let doff = usize::from(ip_bytes[ihl + 12] >> 4) * 4;
    let mut out = Vec::new();
    out.push(
        lang.pick(
            "down the stack at the client:",
            "发送方（客户端）自上而下：",
        )
        .to_string(),
    );
    out.push(tr!(
        lang,
        "  4 application  {} bytes written at {}: {:?}",
        "  4 应用层  {} 时写入 {} 字节：{:?}",
        REQUEST.len(),
        written_at,
        String::from_utf8_lossy(REQUEST)
    ));
    out.push(tr!(
        lang,
        "  3 transport    + TCP header {} bytes (20 + {} options) = segment of {} bytes, port {} → {}, seq {}, ack {}",
        "  3 运输层  + TCP 首部 {} 字节（20 + {} 字节选项）= {} 字节的报文段，端口 {} → {}，seq {}，ack {}",
        doff,
        doff - 20,
        tcp_len,
        data.repr.src_port,
        data.repr.dst_port,
        data.seq(),
        data.ack()
    ));
    out.push(tr!(
        lang,
        "  2 network      + IPv4 header {} bytes = packet of {} bytes, {} → {}, protocol 6 (TCP), TTL {}",
        "  2 网络层  + IPv4 首部 {} 字节 = {} 字节的 IP 数据报，{} → {}，协议 6（TCP），TTL {}",
        ihl,
        ihl + tcp_len,
        ip.src,
        ip.dst,
        ip.ttl
    ));
    out.push(tr!(
        lang,
        "  1 link         + Ethernet header 14 bytes = frame of {} bytes, {} → {}, EtherType 0x0800 (IPv4); sent {}",
        "  1 数据链路层  + 以太网首部 14 字节 = {} 字节的帧，{} → {}，类型 0x0800（IPv4）；{} 发出",
        f.len(),
        eth.src,
        eth.dst,
        data.sent
    ));
    out.push(tr!(
        lang,
        "  but the link needs the next hop's MAC first: ARP request at {} (broadcast, {} bytes), reply at {} ({} bytes) — {} before the SYN could leave",
        "  但链路层先要知道下一跳的 MAC 地址：ARP 请求 {}（广播，{} 字节），应答 {}（{} 字节）—— SYN 因此推迟 {}",
        arp_req.sent,
        arp_req.bytes.len(),
        arp_rep.sent,
        arp_rep.bytes.len(),
        dur(syn.sent - arp_req.sent)
    ));
    out.push(String::new());
    out.push(tr!(
        lang,
        "ARP request, {} bytes, client → broadcast at {}:",
        "ARP 请求，{} 字节，客户端 → 广播，{}：",
        arp_req.bytes.len(),
        arp_req.sent
    ));
    out.extend(annotate(&arp_req.bytes, lang));
    out.push(String::new());
    out.push(tr!(
        lang,
        "ARP reply, {} bytes, server → client at {}:",
        "ARP 应答，{} 字节，服务器 → 客户端，{}：",
        arp_rep.bytes.len(),
        arp_rep.sent
    ));
    out.extend(annotate(&arp_rep.bytes, lang));
    out.push(String::new());
    out.push(tr!(
        lang,
        "the request's frame, {} bytes, client → server at {}:",
        "携带请求的帧，{} 字节，客户端 → 服务器，{}：",
        f.len(),
        data.sent
    ));
    out.extend(annotate(f, lang));
    out.push(String::new());
    out.push(
        lang.pick("up the stack at the server:", "接收方（服务器）自下而上：")
            .to_string(),
    );
    out.push(tr!(
        lang,
        "  1 link         frame arrived {}: destination MAC {} is this host's → EtherType 0x0800 → IPv4",
        "  1 数据链路层  帧于 {} 到达：目的 MAC {} 是本机 → 类型 0x0800 → 交给 IPv4",
        data.arrived.map_or("-".to_string(), |t| t.to_string()),
        eth.dst
    ));
    out.push(tr!(
        lang,
        "  2 network      destination {} is this host's address, header checksum verified → protocol 6 → TCP",
        "  2 网络层  目的地址 {} 是本机地址，首部检验和正确 → 协议 6 → 交给 TCP",
        ip.dst
    ));
    out.push(tr!(
        lang,
        "  3 transport    port {} of the connection {}:{} → {}:{}, seq {} is the next expected → {} bytes into the receive buffer",
        "  3 运输层  端口 {}，属于连接 {}:{} → {}:{}；seq {} 正是期望的下一个 → {} 字节放入接收缓存",
        data.repr.dst_port,
        ip.src,
        data.repr.src_port,
        ip.dst,
        data.repr.dst_port,
        data.seq(),
        data.payload.len()
    ));
    out.push(tr!(
        lang,
        "  4 application  the server read {} bytes at {}, {} after the client wrote them; intact: {}",
        "  4 应用层  服务器在 {1} 读到 {0} 字节，距客户端写入 {2}；完好：{3}",
        got.len(),
        read_at,
        dur(read_at - written_at),
        yn(lang, got == REQUEST)
    ));
    Ok(Explained {
        title: tr!(
            lang,
            "The layers: one HTTP request down and up the stack",
            "分层：一个 HTTP 请求在协议栈中的下行与上行"
        ),
        items,
        trace: w.pair.net.take_trace(),
        client: w.pair.client,
        server: w.pair.server,
        findings: out,
        failed_as_expected: None,
    })
}

/// A labelled range of a frame.
struct Field {
    at: usize,
    len: usize,
    layer: &'static str,
    label: String,
}

/// The frame's bytes, one field a line: offset, hex, layer, meaning.
fn annotate(frame: &[u8], lang: Lang) -> Vec<String> {
    let mut fields = Vec::new();
    let mac = |b: &[u8]| {
        b.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    let ip4 = |b: &[u8]| format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]);
    let be16 = |b: &[u8]| u16::from_be_bytes([b[0], b[1]]);
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    if frame.len() < 14 {
        return vec![hex_line(0, frame, "", "")];
    }
    let mut push = |at: usize, len: usize, layer: &'static str, label: String| {
        fields.push(Field {
            at,
            len,
            layer,
            label,
        })
    };
    let eth = "Ethernet";
    push(
        0,
        6,
        eth,
        tr!(lang, "destination MAC {}", "目的 MAC {}", mac(&frame[0..6])),
    );
    push(
        6,
        6,
        eth,
        tr!(lang, "source MAC {}", "源 MAC {}", mac(&frame[6..12])),
    );
    let et = be16(&frame[12..14]);
    let et_name = match et {
        0x0800 => "IPv4",
        0x0806 => "ARP",
        _ => "?",
    };
    push(
        12,
        2,
        eth,
        tr!(
            lang,
            "EtherType 0x{et:04x} = {et_name}",
            "类型 0x{et:04x} = {et_name}"
        ),
    );
    let mut end = 14;
    if et == 0x0806 && frame.len() >= 42 {
        let a = "ARP";
        let p = &frame[14..];
        push(
            14,
            2,
            a,
            tr!(
                lang,
                "hardware type {} (Ethernet)",
                "硬件类型 {}（以太网）",
                be16(&p[0..2])
            ),
        );
        push(
            16,
            2,
            a,
            tr!(
                lang,
                "protocol type 0x{:04x} (IPv4)",
                "协议类型 0x{:04x}（IPv4）",
                be16(&p[2..4])
            ),
        );
        push(
            18,
            1,
            a,
            tr!(lang, "hardware address length {}", "硬件地址长度 {}", p[4]),
        );
        push(
            19,
            1,
            a,
            tr!(lang, "protocol address length {}", "协议地址长度 {}", p[5]),
        );
        let op = be16(&p[6..8]);
        let op_name = if op == 1 {
            lang.pick("request", "请求")
        } else {
            lang.pick("reply", "应答")
        };
        push(
            20,
            2,
            a,
            tr!(lang, "operation {op} = {op_name}", "操作 {op} = {op_name}"),
        );
        push(
            22,
            6,
            a,
            tr!(lang, "sender MAC {}", "发送方 MAC {}", mac(&p[8..14])),
        );
        push(
            28,
            4,
            a,
            tr!(lang, "sender IP {}", "发送方 IP {}", ip4(&p[14..18])),
        );
        push(
            32,
            6,
            a,
            tr!(lang, "target MAC {}", "目标 MAC {}", mac(&p[18..24])),
        );
        push(
            38,
            4,
            a,
            tr!(lang, "target IP {}", "目标 IP {}", ip4(&p[24..28])),
        );
        end = 42;
    } else if et == 0x0800 && frame.len() >= 34 {
        let i = "IPv4";
        let p = &frame[14..];
        let ihl = usize::from(p[0] & 0x0f) * 4;
        push(
            14,
            1,
            i,
            tr!(
                lang,
                "version {}, header length {} × 4 = {} bytes",
                "版本 {}，首部长度 {} × 4 = {} 字节",
                p[0] >> 4,
                p[0] & 0x0f,
                ihl
            ),
        );
        push(
            15,
            1,
            i,
            tr!(lang, "DSCP/ECN 0x{:02x}", "区分服务 0x{:02x}", p[1]),
        );
        let total = usize::from(be16(&p[2..4]));
        push(
            16,
            2,
            i,
            tr!(lang, "total length {total}", "总长度 {total}"),
        );
        push(
            18,
            2,
            i,
            tr!(lang, "identification {}", "标识 {}", be16(&p[4..6])),
        );
        let ff = be16(&p[6..8]);
        push(
            20,
            2,
            i,
            tr!(
                lang,
                "flags DF={}, fragment offset {}",
                "标志 DF={}，片偏移 {}",
                (ff >> 14) & 1,
                ff & 0x1fff
            ),
        );
        push(22, 1, i, tr!(lang, "TTL {}", "生存时间 TTL {}", p[8]));
        push(
            23,
            1,
            i,
            tr!(lang, "protocol {} = TCP", "协议 {} = TCP", p[9]),
        );
        push(
            24,
            2,
            i,
            tr!(
                lang,
                "header checksum 0x{:04x}",
                "首部检验和 0x{:04x}",
                be16(&p[10..12])
            ),
        );
        push(
            26,
            4,
            i,
            tr!(lang, "source {}", "源地址 {}", ip4(&p[12..16])),
        );
        push(
            30,
            4,
            i,
            tr!(lang, "destination {}", "目的地址 {}", ip4(&p[16..20])),
        );
        if ihl > 20 {
            push(34, ihl - 20, i, lang.pick("options", "选项").to_string());
        }
        let t0 = 14 + ihl;
        if frame.len() >= t0 + 20 {
            let t = &frame[t0..];
            let tc = "TCP";
            push(
                t0,
                2,
                tc,
                tr!(lang, "source port {}", "源端口 {}", be16(&t[0..2])),
            );
            push(
                t0 + 2,
                2,
                tc,
                tr!(lang, "destination port {}", "目的端口 {}", be16(&t[2..4])),
            );
            push(
                t0 + 4,
                4,
                tc,
                tr!(lang, "sequence number {}", "序列号 {}", be32(&t[4..8])),
            );
            push(
                t0 + 8,
                4,
                tc,
                tr!(
                    lang,
                    "acknowledgment number {}",
                    "确认号 {}",
                    be32(&t[8..12])
                ),
            );
            let doff = usize::from(t[12] >> 4) * 4;
            push(
                t0 + 12,
                1,
                tc,
                tr!(
                    lang,
                    "data offset {} × 4 = {} bytes",
                    "数据偏移 {} × 4 = {} 字节",
                    t[12] >> 4,
                    doff
                ),
            );
            push(
                t0 + 13,
                1,
                tc,
                tr!(lang, "flags {}", "标志 {}", ferrotcp::wire::TcpFlags(t[13])),
            );
            push(
                t0 + 14,
                2,
                tc,
                tr!(lang, "window {}", "窗口 {}", be16(&t[14..16])),
            );
            push(
                t0 + 16,
                2,
                tc,
                tr!(
                    lang,
                    "checksum 0x{:04x}",
                    "检验和 0x{:04x}",
                    be16(&t[16..18])
                ),
            );
            push(
                t0 + 18,
                2,
                tc,
                tr!(lang, "urgent pointer {}", "紧急指针 {}", be16(&t[18..20])),
            );
            if doff > 20 {
                push(
                    t0 + 20,
                    doff - 20,
                    tc,
                    describe_options(lang, t.get(20..doff).unwrap_or_default()),
                );
            }
            let data_at = t0 + doff;
            let data_end = (14 + total).min(frame.len());
            if data_end > data_at {
                push(
                    data_at,
                    data_end - data_at,
                    "HTTP",
                    tr!(
                        lang,
                        "application data, {} bytes",
                        "应用数据，{} 字节",
                        data_end - data_at
                    ),
                );
            }
            end = data_end.max(data_at);
        }
    }
    if frame.len() > end {
        push(
            end,
            frame.len() - end,
            eth,
            lang.pick("padding", "填充").to_string(),
        );
    }
    let mut out = Vec::new();
    for f in fields {
        let bytes = &frame[f.at..(f.at + f.len).min(frame.len())];
        for (n, chunk) in bytes.chunks(16).enumerate() {
            let (layer, label) = if n == 0 {
                (f.layer, f.label.as_str())
            } else {
                ("", "")
            };
            if f.layer == "HTTP" {
                let text: String = chunk
                    .iter()
                    .map(|&b| {
                        if (0x20..0x7f).contains(&b) {
                            b as char
                        } else {
                            '.'
                        }
                    })
                    .collect();
                let text = format!("|{text}|");
                let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
                let mut line = String::new();
                let _ = write!(
                    line,
                    "  {:04x}  {:<48} {layer:<8} {text:<18} {label}",
                    f.at + n * 16,
                    hex.join(" ")
                );
                out.push(line.trim_end().to_string());
            } else {
                out.push(hex_line(f.at + n * 16, chunk, layer, label));
            }
        }
    }
    out
}

fn hex_line(at: usize, bytes: &[u8], layer: &str, label: &str) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let line = format!("  {at:04x}  {:<48} {layer:<8} {label}", hex.join(" "));
    line.trim_end().to_string()
}

/// What a TCP option area says, in words ("options" alone when it cannot be read).
fn describe_options(lang: Lang, area: &[u8]) -> String {
    let word = lang.pick("options", "选项");
    let Ok(o) = ferrotcp::wire::tcp::TcpOptions::parse(area) else {
        return word.to_string();
    };
    let mut parts = Vec::new();
    if let Some(mss) = o.mss {
        parts.push(format!("MSS {mss}"));
    }
    if o.sack_permitted {
        parts.push("SACK-permitted".to_string());
    }
    if let Some((val, ecr)) = o.timestamps {
        parts.push(format!("TSval {val} TSecr {ecr}"));
    }
    if let Some(shift) = o.window_scale {
        parts.push(tr!(lang, "window scale {}", "窗口缩放 {}", shift));
    }
    if o.sack_block_count() > 0 {
        parts.push(tr!(
            lang,
            "{} SACK blocks",
            "{} 个 SACK 块",
            o.sack_block_count()
        ));
    }
    if parts.is_empty() {
        word.to_string()
    } else {
        format!("{word}: {}", parts.join(", "))
    }
}
