//! Text ladder diagrams (the classic two-lifeline TCP exchange figure), from plain items.
//!
//! Independent of how the items were obtained: the caller turns a trace into items, this module
//! only lays them out. Output is a pure function of the input, so it can be snapshot-tested.
//!
//! ```text
//!                       client                                                       server
//!   0.000000s       CLOSED |                                                            | LISTEN
//!   0.000000s     SYN-SENT |                                                            |
//!   0.000000s              |-- SYN seq=1000 win=65535 len=0 --------------------------->| rx 0.010000s
//!   0.010000s              |                                                            | SYN-RECEIVED
//!   0.010000s              |<- SYN,ACK seq=5000 ack=1001 win=65535 len=0 ---------------| rx 0.020000s
//!   0.020000s  ESTABLISHED |                                                            |
//!   0.020000s              |-- ACK seq=1001 ack=5001 win=65535 len=0 ---X               | (lost)
//! ```
//!
//! Each line is: time, the left host's new state (if any), the two lifelines with an arrow or
//! note between them, then the right host's new state, or for a segment its arrival time or
//! `(lost)` and its note. Segments are drawn at their send time.

use core::fmt::Write as _;

use ferrotcp::time::Instant;
use ferrotcp::trace::TcpState;

/// Which of the two hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Left,
    Right,
}

/// One TCP segment, sent by `from` to the other side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LadderSegment {
    pub sent: Instant,
    /// `None` = lost.
    pub arrived: Option<Instant>,
    pub from: Side,
    /// E.g. `"SYN,ACK"`.
    pub flags: String,
    pub seq: u32,
    pub ack: Option<u32>,
    pub len: usize,
    pub window: u16,
    /// Free text after the arrival column, e.g. `"retransmission"`.
    pub note: Option<String>,
}

/// A host entered `state` at `time`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LadderState {
    pub time: Instant,
    pub side: Side,
    pub state: TcpState,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LadderItem {
    Segment(LadderSegment),
    State(LadderState),
    /// A free-text line between the lifelines.
    Note(String),
    /// `segments` segments sent between `from` and `to` are not shown.
    Elided {
        segments: usize,
        from: Instant,
        to: Instant,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LadderOptions {
    pub left_name: String,
    pub right_name: String,
    /// Width of the diagram up to the end of the right state column; annotations after the
    /// right lifeline (arrival time, notes, long state names) may run past it.
    pub width: usize,
    /// Show at most this many segments: the first half and the last half, with each run of
    /// hidden segments replaced by one `Elided` line. State changes and notes are always shown.
    pub max_segments: Option<usize>,
}

impl Default for LadderOptions {
    fn default() -> Self {
        LadderOptions {
            left_name: "client".to_string(),
            right_name: "server".to_string(),
            width: 100,
            max_segments: None,
        }
    }
}

/// Spaces before the time column.
const INDENT: usize = 2;
/// Width of the left state column: the longest RFC state name, `SYN-RECEIVED`.
const STATE_W: usize = 12;
/// Narrowest space between the lifelines, whatever `width` says.
const MIN_MIDDLE: usize = 30;
/// Characters an arrow needs besides its label: `"-- "`, `" "`, at least `"->"`, plus room for
/// a lost arrow to stop short of the far lifeline.
const ARROW_OVERHEAD: usize = 8;

/// Renders `items` in order, one line each (a left and a right state change at the same instant
/// share a line). Every line ends with `\n` and has no trailing spaces.
pub fn render(items: &[LadderItem], opts: &LadderOptions) -> String {
    let items = summarise(items, opts.max_segments);
    let time_w = items
        .iter()
        .filter_map(item_time)
        .map(|t| t.to_string().len())
        .max()
        .unwrap_or(0)
        .max(Instant::ZERO.to_string().len());
    let layout = Layout::new(time_w, opts.width);
    let mut out = String::new();
    layout.header(&mut out, &opts.left_name, &opts.right_name);
    let mut i = 0;
    while i < items.len() {
        match &items[i] {
            LadderItem::State(s) => {
                // A state change on the other side at the same instant shares the line.
                let partner = match items.get(i + 1) {
                    Some(LadderItem::State(n)) if n.time == s.time && n.side != s.side => Some(n),
                    _ => None,
                };
                let (left, right) = match (s.side, partner) {
                    (Side::Left, p) => (Some(s.state), p.map(|p| p.state)),
                    (Side::Right, p) => (p.map(|p| p.state), Some(s.state)),
                };
                layout.state_line(&mut out, s.time, left, right);
                i += if partner.is_some() { 2 } else { 1 };
            }
            LadderItem::Segment(seg) => {
                layout.segment_line(&mut out, seg);
                i += 1;
            }
            LadderItem::Note(text) => {
                layout.note_line(&mut out, text);
                i += 1;
            }
            LadderItem::Elided { segments, from, to } => {
                layout.elided_line(&mut out, *segments, *from, *to);
                i += 1;
            }
        }
    }
    out
}

/// The time shown in the time column for `item`, if any.
fn item_time(item: &LadderItem) -> Option<Instant> {
    match item {
        LadderItem::Segment(s) => Some(s.sent),
        LadderItem::State(s) => Some(s.time),
        LadderItem::Note(_) | LadderItem::Elided { .. } => None,
    }
}

/// Keeps the first `ceil(max/2)` and last `floor(max/2)` segments; each run of hidden segments
/// becomes one `Elided` item. Everything that is not a segment is kept in place.
pub(crate) fn summarise(items: &[LadderItem], max: Option<usize>) -> Vec<LadderItem> {
    let total = items
        .iter()
        .filter(|i| matches!(i, LadderItem::Segment(_)))
        .count();
    let Some(max) = max.filter(|&m| total > m) else {
        return items.to_vec();
    };
    let head = max.div_ceil(2);
    let tail_start = total - max / 2;
    let mut out = Vec::new();
    let mut run: Option<(usize, Instant, Instant)> = None;
    let mut seen = 0;
    for item in items {
        if let LadderItem::Segment(seg) = item {
            let index = seen;
            seen += 1;
            if index >= head && index < tail_start {
                run = Some(match run {
                    None => (1, seg.sent, seg.sent),
                    Some((n, from, _)) => (n + 1, from, seg.sent),
                });
                continue;
            }
        }
        if let Some((segments, from, to)) = run.take() {
            out.push(LadderItem::Elided { segments, from, to });
        }
        out.push(item.clone());
    }
    if let Some((segments, from, to)) = run {
        out.push(LadderItem::Elided { segments, from, to });
    }
    out
}

/// Column positions, fixed for one diagram.
struct Layout {
    time_w: usize,
    /// Characters between the two lifelines.
    middle: usize,
}

impl Layout {
    fn new(time_w: usize, width: usize) -> Self {
        let fixed = INDENT + time_w + 1 + STATE_W + 1 + 2 + 1 + STATE_W;
        Layout {
            time_w,
            middle: width.saturating_sub(fixed).max(MIN_MIDDLE),
        }
    }

    /// Column of the left lifeline.
    fn left_col(&self) -> usize {
        INDENT + self.time_w + 1 + STATE_W + 1
    }

    fn right_col(&self) -> usize {
        self.left_col() + self.middle + 1
    }

    /// Host names centred over their lifelines.
    fn header(&self, out: &mut String, left: &str, right: &str) {
        let mut line = String::new();
        let left_start = self.left_col().saturating_sub(width(left) / 2);
        pad_to(&mut line, left_start);
        line.push_str(left);
        let right_start = self
            .right_col()
            .saturating_sub(width(right) / 2)
            .max(width(&line) + 1);
        pad_to(&mut line, right_start);
        line.push_str(right);
        push_line(out, &line);
    }

    /// One diagram line; `time` and `left` are right-aligned in their columns.
    fn line(
        &self,
        out: &mut String,
        time: Option<Instant>,
        left: &str,
        lifeline: char,
        middle: &str,
        right: &str,
    ) {
        let time = time.map(|t| t.to_string()).unwrap_or_default();
        let mut line = String::new();
        let _ = write!(
            line,
            "{:indent$}{time:>tw$} {left:>sw$} {lifeline}{middle:<mw$}{lifeline} {right}",
            "",
            indent = INDENT,
            tw = self.time_w,
            sw = STATE_W,
            mw = self.middle,
        );
        push_line(out, &line);
    }

    fn state_line(
        &self,
        out: &mut String,
        time: Instant,
        left: Option<TcpState>,
        right: Option<TcpState>,
    ) {
        let name = |s: Option<TcpState>| s.map_or("", TcpState::rfc_name);
        self.line(out, Some(time), name(left), '|', "", name(right));
    }

    fn segment_line(&self, out: &mut String, seg: &LadderSegment) {
        let label = truncate(&segment_label(seg), self.middle - ARROW_OVERHEAD);
        let label_len = width(&label);
        let m = self.middle;
        // A lost segment's arrow stops short of the far lifeline, at an X.
        let lost_len = (label_len + ARROW_OVERHEAD).max(3 * m / 4).min(m - 1);
        let arrow = match (seg.from, seg.arrived.is_some()) {
            (Side::Left, true) => format!("-- {label} {}>", dashes(m - label_len - 5)),
            (Side::Right, true) => format!("<- {label} {}", dashes(m - label_len - 4)),
            (Side::Left, false) => format!("-- {label} {}X", dashes(lost_len - label_len - 5)),
            (Side::Right, false) => format!(
                "{:pad$}X- {label} {}",
                "",
                dashes(lost_len - label_len - 4),
                pad = m - lost_len
            ),
        };
        let mut right = match seg.arrived {
            Some(t) => format!("rx {t}"),
            None => "(lost)".to_string(),
        };
        if let Some(note) = &seg.note {
            right.push_str("  ");
            right.push_str(note);
        }
        self.line(out, Some(seg.sent), "", '|', &arrow, &right);
    }

    fn note_line(&self, out: &mut String, text: &str) {
        let (middle, right) = self.centred(text);
        self.line(out, None, "", '|', &middle, right);
    }

    fn elided_line(&self, out: &mut String, segments: usize, from: Instant, to: Instant) {
        let plural = if segments == 1 { "" } else { "s" };
        let text = format!("~ {segments} segment{plural} not shown, {from} to {to} ~");
        let (middle, right) = self.centred(&text);
        self.line(out, None, "", ':', &middle, right);
    }

    /// `text` centred between the lifelines, or after the right one if it does not fit.
    fn centred<'a>(&self, text: &'a str) -> (String, &'a str) {
        let len = width(text);
        if len + 2 > self.middle {
            return (String::new(), text);
        }
        (
            format!("{:pad$}{text}", "", pad = (self.middle - len) / 2),
            "",
        )
    }
}

/// `SYN,ACK seq=5000 ack=1001 win=65535 len=0`.
fn segment_label(seg: &LadderSegment) -> String {
    let mut s = String::new();
    if !seg.flags.is_empty() {
        s.push_str(&seg.flags);
        s.push(' ');
    }
    let _ = write!(s, "seq={}", seg.seq);
    if let Some(ack) = seg.ack {
        let _ = write!(s, " ack={ack}");
    }
    let _ = write!(s, " win={} len={}", seg.window, seg.len);
    s
}

/// Columns `s` takes on a terminal (a Chinese character takes two).
fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// Cuts `s` to at most `max` columns, marking the cut with `..`.
fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut t = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > max.saturating_sub(2) {
            break;
        }
        used += w;
        t.push(c);
    }
    t.push_str("..");
    t
}

fn dashes(n: usize) -> String {
    "-".repeat(n)
}

fn pad_to(line: &mut String, col: usize) {
    let len = width(line);
    line.extend(core::iter::repeat_n(' ', col.saturating_sub(len)));
}

fn push_line(out: &mut String, line: &str) {
    out.push_str(line.trim_end());
    out.push('\n');
}
