//! What every topic shares: the simulated world (two stacks, 10 ms each way), a way to run it
//! until something holds while logging the applications' events, the TCP segments of the trace,
//! and a diagram builder that ties narrative to arrows.

use std::collections::HashMap;

use ferrotcp::time::{Duration, Instant};
use ferrotcp::trace::{TcpState, TraceEvent};
use ferrotcp::wire::TcpRepr;
use ferrotcp::{CloseReason, Event, ListenerHandle, Stack, TcpConfig, TcpError, TcpHandle};

use crate::impairments::{Impairments, LinkConfig};
use crate::ladder::{LadderItem, LadderSegment, LadderState, Side};
use crate::ladder_trace::{SeqDisplay, ladder_items, tcp_in_frame};
use crate::lang::Lang;
use crate::node::HostId;
use crate::pair::{Pair, SERVER_IP};
use crate::trace::{SimEvent, SimRecord};

/// Every topic uses this seed: the runs, and so the diagrams, are the same every time.
pub(crate) const SEED: u64 = 1;
/// One-way delay of the link; the round trip is twice this.
pub(crate) const DELAY: Duration = Duration::from_millis(10);
/// When a topic's story starts (ARP was resolved before, by a ping at time zero).
pub(crate) const T0: Instant = Instant::from_secs(1);
/// The server's well-known port.
pub(crate) const PORT: u16 = 80;

/// Translated text: `tr!(lang, "english {x}", "中文 {x}")`.
macro_rules! tr {
    ($lang:expr, $en:literal, $zh:literal $(, $arg:expr)* $(,)?) => {
        match $lang {
            $crate::lang::Lang::En => format!($en $(, $arg)*),
            $crate::lang::Lang::Zh => format!($zh $(, $arg)*),
        }
    };
}
pub(crate) use tr;

/// Which host's application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    Client,
    Server,
}

/// Two stacks on one link, plus what their applications were told and when.
pub(crate) struct World {
    pub pair: Pair,
    pub events: Vec<(Instant, Who, Event)>,
    pub listener: Option<ListenerHandle>,
    /// Times an application asked to be woken at (its own timers: think time, a retry).
    wakes: Vec<Instant>,
}

impl World {
    /// A fresh world. With `warm`, the client pings the server at time zero so that both ARP
    /// caches are filled, and the story starts at [`T0`] with an empty trace.
    pub fn new(tcp: TcpConfig, warm: bool) -> World {
        let link = LinkConfig::symmetric(Impairments {
            delay: DELAY,
            ..Impairments::default()
        });
        let pair = Pair::with_config(SEED, link, true, |cfg| {
            cfg.tcp = tcp.clone();
            // Long-lived ARP entries: no re-resolution in the middle of a 2MSL wait.
            cfg.arp.entry_lifetime = Duration::from_secs(3600);
        });
        let mut w = World {
            pair,
            events: Vec::new(),
            listener: None,
            wakes: Vec::new(),
        };
        if warm {
            w.client()
                .icmp_echo_request(Instant::ZERO, SERVER_IP, 1, 1, b"warm");
            w.advance_to(T0);
            w.pump();
            w.events.clear();
            w.pair.net.take_trace();
        }
        w
    }

    pub fn now(&self) -> Instant {
        self.pair.net.now()
    }

    pub fn client(&mut self) -> &mut Stack {
        self.pair.client()
    }

    pub fn server(&mut self) -> &mut Stack {
        self.pair.server()
    }

    pub fn stack(&mut self, who: Who) -> &mut Stack {
        match who {
            Who::Client => self.pair.client(),
            Who::Server => self.pair.server(),
        }
    }

    pub fn host(&self, who: Who) -> HostId {
        match who {
            Who::Client => self.pair.client,
            Who::Server => self.pair.server,
        }
    }

    /// Moves the applications' events into the log.
    pub fn pump(&mut self) {
        let now = self.now();
        for who in [Who::Client, Who::Server] {
            while let Some(ev) = self.stack(who).poll_event() {
                self.events.push((now, who, ev));
            }
        }
    }

    /// Puts frames the applications just caused on the link (without running anything).
    pub fn flush(&mut self) {
        let now = self.now();
        self.pair.net.run_until(now);
        self.pump();
    }

    /// An application timer: `run_until` stops the clock at `t` and checks its predicate, even
    /// if nothing happens on the network then.
    pub fn wake_at(&mut self, t: Instant) {
        if t > self.now() && !self.wakes.contains(&t) {
            self.wakes.push(t);
        }
    }

    /// Runs event by event until `pred` holds (checked first, after every event and at every
    /// application timer) or nothing is left before `deadline`. Returns whether `pred` held.
    pub fn run_until(
        &mut self,
        deadline: Instant,
        mut pred: impl FnMut(&mut World) -> bool,
    ) -> bool {
        loop {
            self.pump();
            if pred(self) {
                return true;
            }
            let now = self.now();
            self.wakes.retain(|&t| t > now);
            let wake = self.wakes.iter().copied().filter(|&t| t <= deadline).min();
            let limit = wake.unwrap_or(deadline);
            let before = self.pair.net.steps();
            self.pair.net.run_until_pred(limit, 1, |_| false);
            if self.pair.net.steps() == before {
                match wake {
                    Some(t) => self.pair.net.advance_to(t),
                    None => {
                        self.pump();
                        return pred(self);
                    }
                }
            }
        }
    }

    /// Runs everything up to `t`; the clock ends at `t`.
    pub fn advance_to(&mut self, t: Instant) {
        self.run_until(t, |_| false);
        self.pair.net.advance_to(t);
        self.pump();
    }

    pub fn run_for(&mut self, d: Duration) {
        let t = self.now() + d;
        self.advance_to(t);
    }

    /// The server listens on [`PORT`] and the client connects (from `port`, or an ephemeral
    /// port). Returns (listener, client handle) without running anything.
    pub fn listen_and_connect(
        &mut self,
        port: Option<u16>,
    ) -> Result<(ListenerHandle, TcpHandle), String> {
        let l = match self.listener {
            Some(l) => l,
            None => {
                let l = self
                    .server()
                    .tcp_listen(PORT, 16)
                    .map_err(|e| format!("listen: {e}"))?;
                self.listener = Some(l);
                l
            }
        };
        let now = self.now();
        let c = self
            .client()
            .tcp_connect(now, Pair::server_addr(PORT), port)
            .map_err(|e| format!("connect: {e}"))?;
        Ok((l, c))
    }

    /// Runs until the server's application has accepted a connection from `l`.
    pub fn accept(&mut self, l: ListenerHandle) -> Result<TcpHandle, String> {
        let mut s = None;
        let deadline = self.now() + Duration::from_secs(10);
        self.run_until(deadline, |w| {
            if s.is_none() {
                s = w.server().tcp_accept(l).ok().flatten();
            }
            s.is_some()
        });
        s.ok_or_else(|| "the server accepted nothing".to_string())
    }

    /// Runs until `h` at `who` is in `state` (at most `within`).
    pub fn wait_state(
        &mut self,
        who: Who,
        h: TcpHandle,
        state: TcpState,
        within: Duration,
    ) -> Result<(), String> {
        let deadline = self.now() + within;
        if self.run_until(deadline, |w| w.stack(who).tcp_state(h) == Ok(state)) {
            Ok(())
        } else {
            Err(format!("{who:?} never reached {state}"))
        }
    }

    /// [`World::listen_and_connect`], then runs until both sides are ESTABLISHED and the
    /// server's application accepted. Returns (client, server) handles.
    pub fn establish(&mut self, port: Option<u16>) -> Result<(TcpHandle, TcpHandle), String> {
        let (l, c) = self.listen_and_connect(port)?;
        let s = self.accept(l)?;
        self.wait_state(
            Who::Client,
            c,
            TcpState::Established,
            Duration::from_secs(10),
        )?;
        Ok((c, s))
    }

    /// When `who`'s application was told that `h` closed, and why.
    pub fn closed(&self, who: Who, h: TcpHandle) -> Option<(Instant, CloseReason)> {
        self.events.iter().find_map(|(t, w, e)| match e {
            Event::Closed(ch, r) if *w == who && *ch == h => Some((*t, *r)),
            _ => None,
        })
    }

    /// Reads everything `h` has; returns whether the end of the stream was reached.
    pub fn read(&mut self, who: Who, h: TcpHandle, out: &mut Vec<u8>) -> bool {
        let now = self.now();
        let mut buf = [0u8; 4096];
        loop {
            match self.stack(who).tcp_recv(now, h, &mut buf) {
                Ok(0) => return true,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(TcpError::WouldBlock) | Err(_) => return false,
            }
        }
    }

    /// Sends all of `data` (the buffers are large enough in every topic).
    pub fn send(&mut self, who: Who, h: TcpHandle, data: &[u8]) -> Result<(), String> {
        let now = self.now();
        let n = self
            .stack(who)
            .tcp_send(now, h, data)
            .map_err(|e| format!("send: {e}"))?;
        if n == data.len() {
            Ok(())
        } else {
            Err(format!("send: only {n} of {} bytes fit", data.len()))
        }
    }

    pub fn shutdown(&mut self, who: Who, h: TcpHandle) -> Result<(), String> {
        let now = self.now();
        self.stack(who)
            .tcp_shutdown(now, h)
            .map_err(|e| format!("shutdown: {e}"))
    }

    /// The TCP segments on the wire so far (see [`segments`]).
    pub fn segments(&self) -> Vec<Seg> {
        segments(self.pair.net.trace(), self.pair.client, self.pair.server)
    }

    /// States `who` entered, with times, from the trace.
    pub fn states(&self, who: Who) -> Vec<(Instant, TcpState)> {
        let host = self.host(who);
        self.pair
            .net
            .trace()
            .iter()
            .filter_map(|r| match &r.event {
                SimEvent::Host { host: h, record } if *h == host => match record.event {
                    TraceEvent::TcpState { to, .. } => Some((record.time, to)),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    /// When `who` first entered `state` at or after `since`.
    pub fn entered(&self, who: Who, state: TcpState, since: Instant) -> Option<Instant> {
        self.states(who)
            .into_iter()
            .find(|&(t, s)| s == state && t >= since)
            .map(|(t, _)| t)
    }
}

/// One TCP segment of the trace, in the order the ladder draws them.
#[derive(Clone, Debug)]
pub struct Seg {
    /// Position among the ladder's segments.
    pub k: usize,
    pub id: u64,
    pub sent: Instant,
    pub arrived: Option<Instant>,
    pub from: Who,
    pub repr: TcpRepr,
    pub payload: Vec<u8>,
    pub frame: Vec<u8>,
}

impl Seg {
    pub fn flags(&self) -> ferrotcp::wire::TcpFlags {
        self.repr.flags
    }

    pub fn seq(&self) -> u32 {
        self.repr.seq.raw()
    }

    pub fn ack(&self) -> u32 {
        self.repr.ack.raw()
    }

    pub fn is(&self, from: Who, flags: ferrotcp::wire::TcpFlags) -> bool {
        self.from == from && self.repr.flags.contains(flags)
    }

    pub fn frame_ip_src(&self) -> core::net::Ipv4Addr {
        ip_at(&self.frame, 26)
    }

    pub fn frame_ip_dst(&self) -> core::net::Ipv4Addr {
        ip_at(&self.frame, 30)
    }

    /// Flags exactly as the ladder prints them (`"SYN,ACK"`).
    pub fn flag_text(&self) -> String {
        self.repr.flags.to_string()
    }

    /// Sequence space the segment occupies (SYN and FIN count one each).
    pub fn seq_len(&self) -> u32 {
        self.payload.len() as u32
            + u32::from(self.repr.flags.syn())
            + u32::from(self.repr.flags.fin())
    }
}

/// The TCP segments between `client` and `server`, numbered as `ladder_items` draws them.
pub(crate) fn segments(trace: &[SimRecord], client: HostId, server: HostId) -> Vec<Seg> {
    let mut out: Vec<Seg> = Vec::new();
    let mut by_id: HashMap<u64, usize> = HashMap::new();
    for rec in trace {
        match &rec.event {
            SimEvent::FrameSent {
                from, frame, id, ..
            } => {
                let who = if *from == client {
                    Who::Client
                } else if *from == server {
                    Who::Server
                } else {
                    continue;
                };
                let Some(seen) = tcp_in_frame(frame) else {
                    continue;
                };
                let payload = frame[frame.len() - seen.payload_len..].to_vec();
                by_id.insert(*id, out.len());
                out.push(Seg {
                    k: out.len(),
                    id: *id,
                    sent: rec.time,
                    arrived: None,
                    from: who,
                    repr: seen.repr,
                    payload,
                    frame: frame.clone(),
                });
            }
            SimEvent::FrameDuplicated { id, copy } => {
                if let Some(&i) = by_id.get(id) {
                    let mut dup = out[i].clone();
                    dup.k = out.len();
                    dup.id = *copy;
                    dup.arrived = None;
                    by_id.insert(*copy, out.len());
                    out.push(dup);
                }
            }
            SimEvent::FrameDelivered { id, .. } => {
                if let Some(&i) = by_id.get(id)
                    && out[i].arrived.is_none()
                {
                    out[i].arrived = Some(rec.time);
                }
            }
            _ => {}
        }
    }
    out
}

/// Where a narrative line goes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Anchor {
    Start,
    /// After everything that happened at or before this time.
    After(Instant),
    /// Before anything that happened at or after this time.
    At(Instant),
}

/// Narrative for one ladder: per-arrow notes and free lines.
#[derive(Default)]
pub(crate) struct Diagram {
    notes: HashMap<usize, String>,
    lines: Vec<(Anchor, String)>,
    initial: Vec<LadderState>,
}

impl Diagram {
    /// Sets the note of segment `k` (appends if it already has one).
    pub fn note(&mut self, k: usize, text: impl Into<String>) {
        let text = text.into();
        self.notes
            .entry(k)
            .and_modify(|n| {
                n.push_str("; ");
                n.push_str(&text);
            })
            .or_insert(text);
    }

    pub fn line(&mut self, at: Anchor, text: impl Into<String>) {
        self.lines.push((at, text.into()));
    }

    /// A state the host was already in when the story starts (not a change the trace shows).
    pub fn initial(&mut self, time: Instant, who: Who, state: TcpState) {
        self.initial.push(LadderState {
            time,
            side: side(who),
            state,
        });
    }

    /// The ladder of `trace` with this narrative woven in.
    pub fn build(
        &self,
        trace: &[SimRecord],
        client: HostId,
        server: HostId,
        display: SeqDisplay,
    ) -> Vec<LadderItem> {
        let raw = ladder_items(trace, client, server, display);
        let mut out: Vec<LadderItem> = Vec::new();
        let lines_at = |out: &mut Vec<LadderItem>, pred: &dyn Fn(&Anchor) -> bool| {
            for (a, text) in &self.lines {
                if pred(a) {
                    out.push(LadderItem::Note(text.clone()));
                }
            }
        };
        lines_at(&mut out, &|a| matches!(a, Anchor::Start));
        out.extend(self.initial.iter().cloned().map(LadderItem::State));
        let mut k = 0;
        let mut done_times: Vec<usize> = Vec::new();
        for item in raw {
            let t = match &item {
                LadderItem::Segment(s) => Some(s.sent),
                LadderItem::State(s) => Some(s.time),
                _ => None,
            };
            if let Some(t) = t {
                for (i, (a, text)) in self.lines.iter().enumerate() {
                    let due = match a {
                        Anchor::After(at) => *at < t,
                        Anchor::At(at) => *at <= t,
                        _ => false,
                    };
                    if due && !done_times.contains(&i) {
                        done_times.push(i);
                        out.push(LadderItem::Note(text.clone()));
                    }
                }
            }
            match item {
                LadderItem::Segment(mut s) => {
                    if let Some(n) = self.notes.get(&k) {
                        s.note = Some(match s.note.take() {
                            Some(old) => format!("{old}; {n}"),
                            None => n.clone(),
                        });
                    }
                    out.push(LadderItem::Segment(s));
                    k += 1;
                }
                other => out.push(other),
            }
        }
        for (i, (a, text)) in self.lines.iter().enumerate() {
            if matches!(a, Anchor::After(_) | Anchor::At(_)) && !done_times.contains(&i) {
                out.push(LadderItem::Note(text.clone()));
            }
        }
        out
    }
}

/// Collapses runs of more than `keep` consecutive segments that carry no note into one `Elided`
/// line (the first and last of each run stay), so a bulk transfer does not drown the story.
pub(crate) fn compact(items: Vec<LadderItem>, keep: usize) -> Vec<LadderItem> {
    let plain = |i: &LadderItem| matches!(i, LadderItem::Segment(s) if s.note.is_none());
    let mut out = Vec::new();
    let mut i = 0;
    while i < items.len() {
        if !plain(&items[i]) {
            out.push(items[i].clone());
            i += 1;
            continue;
        }
        // A run of plain segments, state changes in between allowed.
        let mut j = i;
        let mut segs = Vec::new();
        while j < items.len() && (plain(&items[j]) || matches!(items[j], LadderItem::State(_))) {
            if plain(&items[j]) {
                segs.push(j);
            }
            j += 1;
        }
        // Do not swallow trailing state changes.
        let end = segs.last().map_or(i, |&l| l + 1);
        if segs.len() > keep + 2 {
            let first = segs[0];
            let last = *segs.last().unwrap_or(&first);
            out.push(items[first].clone());
            let hidden: Vec<&LadderSegment> = segs[1..segs.len() - 1]
                .iter()
                .filter_map(|&x| match &items[x] {
                    LadderItem::Segment(s) => Some(s),
                    _ => None,
                })
                .collect();
            // State changes inside the run are kept, in order, before the summary.
            for item in &items[first + 1..last] {
                if matches!(item, LadderItem::State(_)) {
                    out.push(item.clone());
                }
            }
            if let (Some(a), Some(b)) = (hidden.first(), hidden.last()) {
                out.push(LadderItem::Elided {
                    segments: hidden.len(),
                    from: a.sent,
                    to: b.sent,
                });
            }
            out.push(items[last].clone());
        } else {
            out.extend(items[i..end].iter().cloned());
        }
        i = end.max(i + 1);
    }
    out
}

pub(crate) fn side(who: Who) -> Side {
    match who {
        Who::Client => Side::Left,
        Who::Server => Side::Right,
    }
}

/// `20 ms`, `1.5 ms`, `60.000 s`.
pub(crate) fn dur(d: Duration) -> String {
    let us = d.as_micros();
    if us >= 1_000_000 {
        format!("{:.3} s", d.as_secs_f64())
    } else if us % 1000 == 0 {
        format!("{} ms", us / 1000)
    } else {
        format!("{:.3} ms", us as f64 / 1000.0)
    }
}

/// The state names of a list, joined with arrows.
pub(crate) fn path(states: &[(Instant, TcpState)]) -> String {
    states
        .iter()
        .map(|(_, s)| s.rfc_name())
        .collect::<Vec<_>>()
        .join(" → ")
}

/// Yes or no, in words.
pub(crate) fn yn(lang: Lang, b: bool) -> &'static str {
    match (b, lang) {
        (true, Lang::En) => "yes",
        (false, Lang::En) => "no",
        (true, Lang::Zh) => "是",
        (false, Lang::Zh) => "否",
    }
}

pub(crate) fn reason_text(lang: Lang, r: Option<CloseReason>) -> String {
    match r {
        None => lang.pick("still open", "仍未关闭").to_string(),
        Some(CloseReason::Normal) => lang.pick("clean close", "正常关闭").to_string(),
        Some(CloseReason::Reset) => lang
            .pick("connection reset (RST)", "连接被重置 (RST)")
            .to_string(),
        Some(other) => format!("{other}"),
    }
}

fn ip_at(frame: &[u8], at: usize) -> core::net::Ipv4Addr {
    match frame.get(at..at + 4) {
        Some(b) => core::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]),
        None => core::net::Ipv4Addr::UNSPECIFIED,
    }
}
