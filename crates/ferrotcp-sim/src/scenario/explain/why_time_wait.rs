//! `why-time-wait`: the two reasons for TIME-WAIT, each run with and without it.
//!
//! (a) The client's last ACK is lost. With TIME-WAIT the client is still there to acknowledge
//! the server's retransmitted FIN; without it the FIN meets a closed port and draws a RST, so the
//! server's application sees a reset instead of a clean close.
//!
//! (b) An old duplicate: a data segment of a first connection lingers in the network while the
//! client opens a second connection from the same port to the same server. RFC 6528 ISNs are a
//! 4 µs clock plus a hash of the address pair, so a connection reused at once starts only
//! `elapsed / 4 µs` above the old one, and the old segment's sequence numbers can fall inside the
//! new connection's window. With TIME-WAIT the port cannot be reused for 2MSL, and the old
//! segment (delayed far less than that) arrives while no connection exists and dies.

use ferrotcp::time::{Duration, Instant};
use ferrotcp::trace::TcpState;
use ferrotcp::wire::TcpFlags;
use ferrotcp::{CloseReason, TcpError, TcpHandle};

use super::world::{Anchor, Diagram, Seg, T0, Who, World, compact, dur, reason_text, tr, yn};
use super::{Ctx, Explained, tcp_config};
use crate::impairments::Impairments;
use crate::pair::Pair;

const PORT_A: u16 = 40000;
const PORT_B: u16 = 40001;
/// Part (b) starts here (part (a) is over by then).
const T1: Instant = Instant::from_secs(3);
/// The client's application opens the second connection this long after the first one began
/// (retrying every second while the port is still in use).
const REUSE_AFTER: Duration = Duration::from_millis(100);
/// Bytes of the first connection, and of the second.
const OLD_LEN: usize = 30_000;
const NEW_LEN: usize = 2000;
/// The second connection's client writes this long after connecting.
const THINK: Duration = Duration::from_millis(50);
/// The old duplicate arrives this long after the second connect attempt.
const DUP_ARRIVES: Duration = Duration::from_millis(40);

fn old_data() -> Vec<u8> {
    b"OLD-".iter().copied().cycle().take(OLD_LEN).collect()
}

fn new_data() -> Vec<u8> {
    b"new-".iter().copied().cycle().take(NEW_LEN).collect()
}

/// What both parts measured.
#[derive(Clone, Debug)]
pub struct TimeWaitOutcome {
    /// (a) How the server's application saw its connection end.
    pub a_server_close: Option<CloseReason>,
    /// (a) The server's connection ended when a RST from the client arrived (not an ACK).
    pub a_ended_by_rst: bool,
    /// (a) The client's answers to the server's retransmitted FIN(s): flags of each.
    pub a_answers: Vec<String>,
    /// (a) When the server's FIN was retransmitted, after the first.
    pub a_fin_rto: Option<Duration>,
    /// (b) Everything the first connection's client sent.
    pub old: Vec<u8>,
    /// (b) Everything the second connection's client sent.
    pub new: Vec<u8>,
    /// (b) What the server's application read on the second connection.
    pub reader: Vec<u8>,
    /// (b) Where the old duplicate's payload starts in the old stream, and its bytes.
    pub dup_offset: usize,
    pub dup_len: usize,
    /// (b) When the old duplicate was sent and when it arrived.
    pub dup_sent: Instant,
    pub dup_arrived: Instant,
    /// (b) When the two connections were opened, and their ISNs.
    pub t1: Instant,
    pub t2: Instant,
    pub isn1: u32,
    pub isn2: u32,
    /// (b) Connection attempts refused with "address in use" before the reuse succeeded.
    pub refused_attempts: u32,
    /// (b) How the server answered the old duplicate (flags of its next segment to the client
    /// port), when it arrived while no connection existed.
    pub dup_answer: Option<String>,
    /// Connections left at either host at the end (leaks).
    pub leftover: usize,
}

impl TimeWaitOutcome {
    /// Where the new connection's first byte sits in the old connection's stream.
    pub fn reuse_offset(&self) -> usize {
        self.isn2.wrapping_sub(self.isn1) as usize
    }

    /// How many of the new reader's first bytes are the old connection's bytes at the same
    /// sequence numbers (old data accepted as new).
    pub fn old_bytes_in_new_stream(&self) -> usize {
        let from = self.reuse_offset();
        let old = self.old.get(from..).unwrap_or(&[]);
        self.reader
            .iter()
            .zip(old)
            .take_while(|(r, o)| r == o)
            .count()
    }
}

/// Runs both parts with (`no_time_wait` = false) or without TIME-WAIT.
pub fn outcome(no_time_wait: bool) -> Result<TimeWaitOutcome, String> {
    let ablation = no_time_wait.then_some(ferrotcp::transport::tcp::ablation::Ablation::NoTimeWait);
    scenario(ablation).map(|(_, o)| o)
}

fn scenario(
    ablation: Option<ferrotcp::transport::tcp::ablation::Ablation>,
) -> Result<(World, TimeWaitOutcome), String> {
    // Timestamps off: with them, PAWS (RFC 7323 §5) would discard the old duplicate of part (b)
    // on its own; TIME-WAIT is what protects connections without them.
    let tcp = ferrotcp::TcpConfig {
        timestamps: false,
        ..tcp_config(ablation)?
    };
    let mut w = World::new(tcp, true);
    let (a_server_close, a_answers, a_fin_rto) = part_a(&mut w)?;
    let a_closed = w
        .states(Who::Server)
        .into_iter()
        .find(|&(_, st)| st == TcpState::Closed)
        .map(|(t, _)| t);
    let a_ended_by_rst = w.segments().iter().any(|x| {
        x.from == Who::Client
            && x.flags().rst()
            && x.repr.src_port == PORT_A
            && x.arrived == a_closed
    });
    let b = part_b(&mut w)?;
    // The applications let go of every handle that is closed; anything else is left over.
    for who in [Who::Client, Who::Server] {
        for h in w.stack(who).tcp_handles() {
            let _ = w.stack(who).tcp_release(h);
        }
    }
    let leftover = w.client().tcp_connection_count() + w.server().tcp_connection_count();
    Ok((
        w,
        TimeWaitOutcome {
            a_server_close,
            a_answers,
            a_fin_rto,
            a_ended_by_rst,
            leftover,
            ..b
        },
    ))
}

fn link(loss: f64) -> Impairments {
    Impairments {
        delay: super::world::DELAY,
        loss,
        ..Impairments::default()
    }
}

type PartA = (Option<CloseReason>, Vec<String>, Option<Duration>);

fn part_a(w: &mut World) -> Result<PartA, String> {
    let (c, s) = w.establish(Some(PORT_A))?;
    w.advance_to(T0 + Duration::from_millis(100));
    w.shutdown(Who::Client, c)?;
    let client = w.pair.client;
    // The server's application closes when it reads the end of the stream; from then on the
    // client's next frame (its last ACK) is lost.
    let mut server_shut = false;
    let deadline = w.now() + Duration::from_secs(5);
    w.run_until(deadline, |w| {
        if !server_shut && w.read(Who::Server, s, &mut Vec::new()) {
            server_shut = w.shutdown(Who::Server, s).is_ok();
            let _ = w.pair.net.set_impairments(client, link(1.0));
        }
        server_shut
    });
    let sent_before = w.pair.net.direction_stats(client).map_or(0, |s| s.sent);
    w.run_until(deadline, |w| {
        w.pair.net.direction_stats(client).map_or(0, |s| s.sent) > sent_before
    });
    w.pair
        .net
        .set_impairments(client, link(0.0))
        .map_err(|e| e.to_string())?;
    w.run_until(deadline, |w| w.closed(Who::Server, s).is_some());
    w.advance_to(Instant::from_millis(2500));
    release_closed(w, Who::Client, c);
    release_closed(w, Who::Server, s);
    let segs = w.segments();
    let fins: Vec<&Seg> = segs
        .iter()
        .filter(|x| x.is(Who::Server, TcpFlags::FIN) && x.repr.dst_port == PORT_A)
        .collect();
    let rto = (fins.len() > 1).then(|| fins[1].sent - fins[0].sent);
    let answers = fins
        .get(1)
        .map(|f| {
            segs.iter()
                .filter(|x| x.from == Who::Client && x.k > f.k && x.repr.src_port == PORT_A)
                .map(|x| x.flag_text())
                .collect()
        })
        .unwrap_or_default();
    Ok((w.closed(Who::Server, s).map(|(_, r)| r), answers, rto))
}

fn release_closed(w: &mut World, who: Who, h: TcpHandle) {
    if w.closed(who, h).is_some() {
        let _ = w.stack(who).tcp_release(h);
    }
}

fn part_b(w: &mut World) -> Result<TimeWaitOutcome, String> {
    w.advance_to(T1);
    let old = old_data();
    let new = new_data();
    let t1 = w.now();
    let (l, c1) = w.listen_and_connect(Some(PORT_B))?;
    let s1 = w.accept(l)?;
    w.wait_state(
        Who::Client,
        c1,
        TcpState::Established,
        Duration::from_secs(5),
    )?;
    let isn1 = w
        .segments()
        .iter()
        .rev()
        .find(|x| x.is(Who::Client, TcpFlags::SYN) && x.repr.src_port == PORT_B)
        .map(|x| x.seq())
        .ok_or("no SYN")?;
    let t2_plan = t1 + REUSE_AFTER;
    // The sequence number the second connection will start at, relative to the first:
    // (t2 - t1) / 4 µs. The old segment that covers it is the one that lingers.
    let delta = (t2_plan.total_micros() / 4 - t1.total_micros() / 4) as u32;
    let target = isn1.wrapping_add(1).wrapping_add(delta);
    w.send(Who::Client, c1, &old)?;
    w.shutdown(Who::Client, c1)?;
    let mut dup: Option<(u64, Instant, usize, usize)> = None;
    let mut server_got = Vec::new();
    let mut s1_shut = false;
    let client = w.pair.client;
    w.wake_at(t2_plan);
    let deadline = t2_plan;
    w.run_until(deadline, |w| {
        if dup.is_none() {
            let found = w.segments().into_iter().find(|x| {
                x.from == Who::Client
                    && x.repr.src_port == PORT_B
                    && !x.payload.is_empty()
                    && target.wrapping_sub(x.seq()) < x.payload.len() as u32
            });
            if let Some(x) = found {
                let now = w.now();
                let id = w
                    .pair
                    .net
                    .inject_frame(client, x.frame.clone(), t2_plan + DUP_ARRIVES);
                let off = x.seq().wrapping_sub(isn1.wrapping_add(1)) as usize;
                dup = id.map(|id| (id, now, off, x.payload.len()));
            }
        }
        if !s1_shut && w.read(Who::Server, s1, &mut server_got) {
            s1_shut = w.shutdown(Who::Server, s1).is_ok();
        }
        false
    });
    let (dup_id, dup_sent, dup_offset, dup_len) =
        dup.ok_or("no segment of the first connection covered the reuse point")?;
    if server_got != old {
        return Err("the first connection's data did not arrive intact".into());
    }

    // The client's application reuses the port, retrying every second while it is in use.
    let mut refused = 0;
    let c2 = loop {
        release_closed(w, Who::Client, c1);
        release_closed(w, Who::Server, s1);
        let now = w.now();
        match w
            .client()
            .tcp_connect(now, Pair::server_addr(super::world::PORT), Some(PORT_B))
        {
            Ok(h) => break h,
            Err(TcpError::AddrInUse) if refused < 200 => {
                refused += 1;
                w.run_for(Duration::from_secs(1));
            }
            Err(e) => return Err(format!("reconnect: {e}")),
        }
    };
    let t2 = w.now();
    let s2 = w.accept(l)?;
    w.wake_at(t2 + THINK);
    let mut reader = Vec::new();
    let mut wrote = false;
    let mut done = false;
    let deadline = t2 + Duration::from_secs(5);
    w.run_until(deadline, |w| {
        if !wrote && w.now() >= t2 + THINK {
            wrote = w.send(Who::Client, c2, &new).is_ok() && w.shutdown(Who::Client, c2).is_ok();
        }
        if !done && w.read(Who::Server, s2, &mut reader) {
            done = w.shutdown(Who::Server, s2).is_ok();
        }
        done
    });
    w.run_for(tcp_time_wait(w) + Duration::from_secs(1));
    release_closed(w, Who::Client, c2);
    release_closed(w, Who::Server, s2);

    let segs = w.segments();
    let dup_seg = segs
        .iter()
        .find(|x| x.id == dup_id)
        .ok_or("dup not traced")?;
    let dup_arrived = dup_seg.arrived.ok_or("the old duplicate never arrived")?;
    let isn2 = segs
        .iter()
        .rev()
        .find(|x| x.is(Who::Client, TcpFlags::SYN) && x.repr.src_port == PORT_B)
        .map(|x| x.seq())
        .ok_or("no second SYN")?;
    // Whatever the server sent to the client's port right after the duplicate arrived.
    let dup_answer = segs
        .iter()
        .find(|x| x.from == Who::Server && x.sent >= dup_arrived && x.repr.dst_port == PORT_B)
        .filter(|_| dup_arrived < t2)
        .map(|x| x.flag_text());
    Ok(TimeWaitOutcome {
        a_server_close: None,
        a_ended_by_rst: false,
        a_answers: Vec::new(),
        a_fin_rto: None,
        old,
        new,
        reader,
        dup_offset,
        dup_len,
        dup_sent,
        dup_arrived,
        t1,
        t2,
        isn1,
        isn2,
        refused_attempts: refused,
        dup_answer,
        leftover: 0,
    })
}

fn tcp_time_wait(w: &World) -> Duration {
    w.pair.net.host(w.pair.client).config().tcp.time_wait()
}

pub(crate) fn explain(ctx: &Ctx) -> Result<Explained, String> {
    let lang = ctx.lang;
    let ablated = ctx.ablation.is_some();
    let (mut w, o) = scenario(ctx.ablation)?;
    let segs = w.segments();
    let msl = ctx.tcp()?.msl;

    let mut d = Diagram::default();
    d.initial(T0, Who::Server, TcpState::Listen);
    d.line(
        Anchor::Start,
        tr!(
            lang,
            "(a) the client's last ACK is lost (client port {PORT_A})",
            "(a) 客户端的最后一个 ACK 丢失（客户端端口 {PORT_A}）"
        ),
    );
    let a: Vec<&Seg> = segs
        .iter()
        .filter(|x| x.repr.src_port == PORT_A || x.repr.dst_port == PORT_A)
        .collect();
    let fins: Vec<&&Seg> = a
        .iter()
        .filter(|x| x.is(Who::Server, TcpFlags::FIN))
        .collect();
    if let Some(f) = fins.first() {
        d.note(f.k, tr!(lang, "the server's FIN", "服务器的 FIN"));
        if let Some(last) = a.iter().find(|x| x.from == Who::Client && x.k > f.k) {
            d.note(
                last.k,
                if ablated {
                    tr!(
                        lang,
                        "last ACK, lost; no TIME-WAIT: the client is CLOSED at once",
                        "最后一个 ACK 丢失；没有 TIME-WAIT：客户端立即 CLOSED"
                    )
                } else {
                    tr!(
                        lang,
                        "last ACK, lost; the client waits in TIME-WAIT",
                        "最后一个 ACK 丢失；客户端在 TIME-WAIT 中等待"
                    )
                },
            );
        }
    }
    if let Some(f) = fins.get(1) {
        d.note(
            f.k,
            tr!(
                lang,
                "no ACK came: the server retransmits its FIN",
                "未收到确认：服务器重传 FIN"
            ),
        );
        if let Some(ans) = a.iter().find(|x| x.from == Who::Client && x.k > f.k) {
            d.note(
                ans.k,
                if ans.flags().rst() {
                    tr!(
                        lang,
                        "the port is closed: RST, which ends the server's connection",
                        "端口已关闭：回复 RST，服务器的连接因此终止"
                    )
                } else {
                    tr!(
                        lang,
                        "TIME-WAIT re-acknowledges the FIN: both close cleanly",
                        "TIME-WAIT 中再次确认 FIN：双方正常关闭"
                    )
                },
            );
        }
    }
    d.line(
        Anchor::At(o.t1),
        tr!(
            lang,
            "(b) an old duplicate from a previous connection on the same ports ({PORT_B} → 80)",
            "(b) 同一端口对（{PORT_B} → 80）上一个连接的旧重复报文段"
        ),
    );
    if let Some(dup) = segs
        .iter()
        .find(|x| x.sent == o.dup_sent && x.arrived == Some(o.dup_arrived))
    {
        if let Some(orig) = segs
            .iter()
            .find(|x| x.k != dup.k && x.from == Who::Client && x.frame == dup.frame)
        {
            d.note(
                orig.k,
                tr!(
                    lang,
                    "a copy of this segment lingers in the network",
                    "这个报文段的一个副本滞留在网络中"
                ),
            );
        }
        d.note(
            dup.k,
            tr!(
                lang,
                "that old copy, delayed {}",
                "那个旧副本，滞留了 {}",
                dur(o.dup_arrived - o.dup_sent)
            ),
        );
    }
    let second_syn = segs
        .iter()
        .filter(|x| x.is(Who::Client, TcpFlags::SYN) && x.repr.src_port == PORT_B)
        .nth(1);
    if let Some(syn) = second_syn {
        d.note(
            syn.k,
            tr!(
                lang,
                "same ports reused; ISN only {} above the old one",
                "复用同一端口对；新 ISN 只比旧的大 {}",
                o.isn2.wrapping_sub(o.isn1)
            ),
        );
    }
    if o.dup_arrived > o.t2 {
        let old_n = o.old_bytes_in_new_stream();
        if let Some(x) = segs
            .iter()
            .find(|x| x.from == Who::Server && x.sent >= o.dup_arrived && x.repr.dst_port == PORT_B)
        {
            d.note(
                x.k,
                tr!(
                    lang,
                    "acknowledges {old_n} old bytes as the new stream's first",
                    "把 {old_n} 个旧字节当作新连接的开头予以确认"
                ),
            );
        }
        if let Some(x) = segs
            .iter()
            .find(|x| x.from == Who::Client && x.sent > o.dup_arrived && !x.payload.is_empty())
        {
            d.note(
                x.k,
                tr!(
                    lang,
                    "the real first bytes: the server already 'has' {old_n} of them and drops them",
                    "真正的开头字节：服务器以为前 {old_n} 字节已收到，将其丢弃"
                ),
            );
        }
    }
    if let Some(ans) = &o.dup_answer
        && let Some(x) = segs
            .iter()
            .find(|x| x.from == Who::Server && x.sent >= o.dup_arrived && x.repr.dst_port == PORT_B)
    {
        d.note(
            x.k,
            tr!(
                lang,
                "{ans}: no connection owns the old segment (the client is in TIME-WAIT)",
                "{ans}：没有连接接收这个旧报文段（客户端处于 TIME-WAIT）"
            ),
        );
    }
    let items = compact(
        d.build(
            w.pair.net.trace(),
            w.pair.client,
            w.pair.server,
            ctx.display,
        ),
        4,
    );

    let old_in_new = o.old_bytes_in_new_stream();
    let a_failed = o.a_ended_by_rst;
    let b_failed = old_in_new > 0;
    let preview = |b: &[u8]| String::from_utf8_lossy(&b[..b.len().min(24)]).into_owned();
    let mut findings = vec![
        tr!(
            lang,
            "(a) the server retransmitted its FIN after {}; the client answered {}",
            "(a) 服务器在 {} 后重传 FIN；客户端的回答是 {}",
            o.a_fin_rto.map_or("-".into(), dur),
            if o.a_answers.is_empty() {
                "-".to_string()
            } else {
                o.a_answers.join(", ")
            }
        ),
        tr!(
            lang,
            "(a) the server's connection ended by {}; its application was told: {}",
            "(a) 服务器的连接因 {} 而结束；其应用进程得到的结果：{}",
            if o.a_ended_by_rst { "RST" } else { "ACK" },
            reason_text(lang, o.a_server_close)
        ),
        tr!(
            lang,
            "(b) first connection at {}, ISN {}; the segment at stream offset {} ({} bytes) was copied and delayed {} (2MSL = {})",
            "(b) 第一个连接始于 {}，ISN {}；流偏移 {} 处的报文段（{} 字节）被复制并滞留 {}（2MSL = {}）",
            o.t1,
            o.isn1,
            o.dup_offset,
            o.dup_len,
            dur(o.dup_arrived - o.dup_sent),
            dur(msl * 2)
        ),
        tr!(
            lang,
            "(b) second connection from the same port at {} ({} refused attempts, {} after the first): ISN {} = old ISN + {} ({} / 4 µs)",
            "(b) 第二个连接在 {} 从同一端口发起（被拒绝 {} 次，距第一个连接 {}）：ISN {} = 旧 ISN + {}（{} / 4 微秒）",
            o.t2,
            o.refused_attempts,
            dur(o.t2 - o.t1),
            o.isn2,
            o.isn2.wrapping_sub(o.isn1),
            dur(o.t2 - o.t1)
        ),
    ];
    if o.a_ended_by_rst && o.a_server_close == Some(CloseReason::Normal) {
        findings.insert(
            2,
            lang.pick(
            "(a) note: RFC 9293 §3.10.7.4 has a RST in LAST-ACK simply enter CLOSED, so this stack reports a normal close; the ACK of the server's FIN never came",
            "(a) 注意：按 RFC 9293 §3.10.7.4，LAST-ACK 状态收到 RST 直接进入 CLOSED，因此本协议栈报告为正常关闭；但服务器 FIN 的确认始终没有到来",
        ).to_string());
    }
    if o.dup_arrived < o.t2 {
        findings.push(tr!(
            lang,
            "(b) the old duplicate arrived at {}, before the port could be reused: answered {}, and it died",
            "(b) 旧重复报文段在 {} 到达，此时端口尚不能复用：服务器回复 {}，该报文段作废",
            o.dup_arrived,
            o.dup_answer.clone().unwrap_or_else(|| "-".into())
        ));
    } else {
        findings.push(tr!(
            lang,
            "(b) the old duplicate arrived at {}, during the new connection: its sequence numbers {}..{} were inside the new window",
            "(b) 旧重复报文段在 {} 到达，正值新连接期间：其序列号 {}..{} 落在新连接的窗口之内",
            o.dup_arrived,
            o.isn1.wrapping_add(1).wrapping_add(o.dup_offset as u32),
            o.isn1.wrapping_add(1).wrapping_add((o.dup_offset + o.dup_len) as u32)
        ));
    }
    findings.push(tr!(
        lang,
        "(b) the new connection's reader got {} bytes starting {:?}; {} of them are the old connection's bytes",
        "(b) 新连接的读取方收到 {} 字节，开头是 {:?}；其中 {} 字节来自旧连接",
        o.reader.len(),
        preview(&o.reader),
        old_in_new
    ));
    findings.push(tr!(
        lang,
        "connections left at the end: {}",
        "结束时遗留的连接：{}",
        o.leftover
    ));
    findings.push(lang.pick(
        "timestamps (RFC 7323) are off in this topic: with them, PAWS would also reject the old duplicate by its old TSval",
        "本主题关闭了时间戳（RFC 7323）：启用时，PAWS 也会依据旧的 TSval 丢弃这个旧重复报文段",
    ).to_string());
    if ablated {
        findings.push(tr!(
            lang,
            "without TIME-WAIT: (a) failed as expected: {}; (b) failed as expected: {}",
            "没有 TIME-WAIT：(a) 如预期失败：{}；(b) 如预期失败：{}",
            yn(lang, a_failed),
            yn(lang, b_failed)
        ));
    }
    let failed = ablated.then_some(a_failed && b_failed);
    let title = if ablated {
        tr!(
            lang,
            "Why TIME-WAIT — without it (teaching ablation)",
            "为什么要 TIME-WAIT —— 去掉它之后（教学用消融）"
        )
    } else {
        tr!(
            lang,
            "Why TIME-WAIT waits 2MSL",
            "为什么 TIME-WAIT 要等待 2MSL"
        )
    };
    Ok(Explained {
        title,
        items,
        trace: w.pair.net.take_trace(),
        client: w.pair.client,
        server: w.pair.server,
        findings,
        failed_as_expected: failed,
    })
}
