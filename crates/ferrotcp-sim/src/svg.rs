//! SVG sequence diagrams: the same [`LadderItem`]s as the text ladder, drawn for a browser.
//!
//! Two vertical lifelines carry the host names on top; time flows down, with a time axis on the
//! left (labels in seconds). Each segment is one sloped arrow from its send time on the sender's
//! lifeline to its arrival time on the receiver's, labelled along its length; a lost segment
//! stops halfway at an X marked "lost". State changes are boxes on the lifeline of the host that
//! entered the state, notes are centred text rows, and [`LadderItem::Elided`] runs are a dashed
//! gap reading "… N segments …".
//!
//! # Vertical scale
//!
//! Time is not drawn linearly, which would make a 60 s TIME-WAIT dwarf a 20 ms handshake:
//!
//! * every row (segment sent, state change, note) gets at least one row height, so events at
//!   the same instant or microseconds apart stay readable, stacked in item order;
//! * between rows (and arrivals), time is linear, scaled so that the typical (median) one-way
//!   flight time of a delivered segment spans [`FLIGHT_PX`] pixels;
//! * an idle gap that would take more than [`MAX_LINEAR_PX`] is cut to [`BREAK_PX`] and drawn
//!   as a torn-paper break marker with the length of the cut ("⋯ 59.980000 s later ⋯").
//!
//! # Output
//!
//! Well-formed, self-contained SVG 1.1 (`xmlns` included, text escaped), and a pure function of
//! its input: no randomness, no hash-map order, coordinates printed with at most one decimal.
//! Each drawn segment is exactly one `<g class="segment">` element (the class is never
//! combined with another), so tests and tools can count them; `data-from` and `data-fate`
//! (`delivered` or `lost`) tell them apart.

use core::fmt::Write as _;

use ferrotcp::time::Instant;
use ferrotcp::trace::TcpState;

use crate::ladder::{LadderItem, LadderSegment, Side};

/// What [`render_svg`] draws besides the items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SvgOptions {
    /// Name over the left lifeline.
    pub left_name: String,
    /// Name over the right lifeline.
    pub right_name: String,
    /// Heading over the diagram (also the document's `<title>`).
    pub title: Option<String>,
    /// Draw at most this many segments: the first half and the last half, with each run of
    /// hidden segments replaced by one dashed "… N segments …" gap (as the text ladder does).
    /// State changes and notes are always drawn.
    pub max_segments: Option<usize>,
}

impl Default for SvgOptions {
    fn default() -> Self {
        SvgOptions {
            left_name: "client".to_string(),
            right_name: "server".to_string(),
            title: None,
            max_segments: None,
        }
    }
}

/// Height of one row (a segment's send, a state change, a note).
const ROW_H: f64 = 22.0;
/// Height of an elided run.
const ELIDED_H: f64 = 2.0 * ROW_H + 8.0;
/// The median one-way flight time of a delivered segment is drawn this tall.
pub const FLIGHT_PX: f64 = 80.0;
/// An idle gap taller than this at the linear scale is cut ...
pub const MAX_LINEAR_PX: f64 = 3.0 * FLIGHT_PX;
/// ... to this, with a break marker.
pub const BREAK_PX: f64 = 64.0;
/// Flight time assumed when no segment was delivered (microseconds).
const DEFAULT_FLIGHT_US: u64 = 10_000;
/// Right edge of the time axis labels; the axis line is a little right of it.
const AXIS_X: f64 = 104.0;
/// Distance between the lifelines.
const LANE_W: f64 = 600.0;
/// Distance along an arrow from the sender's lifeline to its label.
const LABEL_INSET: f64 = 24.0;
/// Font size of labels; monospace, so a character is about 0.6 of it wide.
const FONT: f64 = 11.0;
const HEAD_FONT: f64 = 13.0;
const TITLE_FONT: f64 = 15.0;

const CSS: &str = "\
svg{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'DejaVu Sans Mono','Liberation Mono',monospace;font-size:11px}
.title{font-size:15px;font-weight:bold}
.host rect{fill:#f2f2f2;stroke:#333}
.host text{font-size:13px;font-weight:bold;text-anchor:middle}
.lifeline{stroke:#555;stroke-width:1.5}
.axis line{stroke:#999}
.axis text{fill:#555;text-anchor:end}
.arrow{fill:none;stroke-width:1.3}
.head{stroke:none}
.data .arrow{stroke-width:2}
.lr .arrow{stroke:#1f5fa8}.lr .head{fill:#1f5fa8}.lr .label{fill:#173f70}
.rl .arrow{stroke:#2e7d32}.rl .head{fill:#2e7d32}.rl .label{fill:#1b4d1f}
.lost .arrow{stroke:#c62828;stroke-dasharray:6 3}
.cross{stroke:#c62828;stroke-width:2.5}
.lost .label,.lost-text{fill:#c62828}
.label{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
.state rect{fill:#fff6d5;stroke:#b08900}
.state.established rect{fill:#e3f4e6;stroke:#2e7d32}
.state.closed rect{fill:#eeeeee;stroke:#777}
.state text{text-anchor:middle;font-weight:bold}
.note{text-anchor:middle;font-style:italic;fill:#444;paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}
.elided rect,.break rect{fill:#fff;stroke:none}
.elided line{stroke:#555;stroke-width:1.5;stroke-dasharray:4 4}
.elided text,.break text{text-anchor:middle;fill:#666}
.elided .range{font-size:10px}
.break polyline{fill:none;stroke:#999}
";

/// Draws `items` (in order) as an SVG document.
pub fn render_svg(items: &[LadderItem], opts: &SvgOptions) -> String {
    let items = crate::ladder::summarise(items, opts.max_segments);
    let layout = Layout::new(&items, opts);
    layout.draw(opts)
}

/// One row of the diagram.
#[derive(Clone, Copy)]
enum Row<'a> {
    Segment(&'a LadderSegment),
    States {
        left: Option<TcpState>,
        right: Option<TcpState>,
    },
    Note(&'a str),
}

/// A stretch of the vertical axis: rows at one instant, an elided run covering `t0..=t1`, or a
/// bare arrival instant (no rows, no height).
struct Band<'a> {
    t0: u64,
    t1: u64,
    rows: Vec<Row<'a>>,
    /// `Some(n)`: an elided run of `n` segments.
    elided: Option<usize>,
    y: f64,
    h: f64,
}

impl Band<'_> {
    fn is_rows(&self) -> bool {
        self.elided.is_none() && !self.rows.is_empty()
    }
}

/// Where a delivered segment's arrow ends: (band index, arrival slot in that band).
type Slot = Option<(usize, usize)>;

/// A cut idle gap.
struct Break {
    y: f64,
    micros: u64,
}

/// A segment's arrow, in page coordinates.
struct Arrow<'a> {
    seg: &'a LadderSegment,
    x1: f64,
    y1: f64,
    x2: f64,
    y2: f64,
}

struct Layout<'a> {
    bands: Vec<Band<'a>>,
    breaks: Vec<Break>,
    arrows: Vec<Arrow<'a>>,
    left_x: f64,
    right_x: f64,
    width: f64,
    height: f64,
    /// Top of the lifelines (bottom of the host boxes).
    top: f64,
}

impl<'a> Layout<'a> {
    fn new(items: &'a [LadderItem], opts: &SvgOptions) -> Self {
        let mut bands = row_bands(items);
        add_arrival_points(&mut bands);
        let (slots, arrivals) = arrival_slots(&bands);
        let scale = FLIGHT_PX / median_flight(&bands) as f64;

        let left_half = host_box_w(&opts.left_name) / 2.0;
        let right_half = host_box_w(&opts.right_name) / 2.0;
        let left_x = (AXIS_X + 60.0).max(AXIS_X + 24.0 + left_half);
        let right_x = left_x + LANE_W;
        let width = (right_x + right_half.max(state_box_w("SYN-RECEIVED") / 2.0) + 24.0).round();
        let title_h = if opts.title.is_some() { 30.0 } else { 0.0 };
        let top = 12.0 + title_h + 30.0 + 14.0;

        // Twice: where lost arrows stop depends on how far the delivered ones drop, and a break
        // must not start before the X of a lost segment sent just before it.
        let mut breaks = place(&mut bands, &arrivals, scale, top, 0.0);
        let (_, lost_drop) = arrows(&bands, &slots, (left_x, right_x), scale);
        if lost_drop > 0.0 {
            breaks = place(&mut bands, &arrivals, scale, top, lost_drop);
        }
        let (arrows, _) = arrows(&bands, &slots, (left_x, right_x), scale);
        let bottom = arrows
            .iter()
            .map(|a| a.y2 + 18.0)
            .chain(bands.last().map(|b| b.y + b.h))
            .fold(top, f64::max);
        Layout {
            bands,
            breaks,
            arrows,
            left_x,
            right_x,
            width,
            height: (bottom + 24.0).round(),
            top,
        }
    }

    fn draw(&self, opts: &SvgOptions) -> String {
        let mut s = String::new();
        let (w, h) = (num(self.width), num(self.height));
        s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">"
        );
        let doc_title = opts
            .title
            .clone()
            .unwrap_or_else(|| format!("{} ↔ {}", opts.left_name, opts.right_name));
        let _ = writeln!(s, "<title>{}</title>", esc(&doc_title));
        let _ = writeln!(s, "<style>\n{CSS}</style>");
        let _ = writeln!(s, "<rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>");
        if let Some(title) = &opts.title {
            let _ = writeln!(
                s,
                "<text class=\"title\" x=\"{}\" y=\"{}\">{}</text>",
                num(12.0),
                num(12.0 + TITLE_FONT + 4.0),
                esc(title)
            );
        }
        self.draw_hosts(&mut s, opts);
        self.draw_axis(&mut s);
        self.draw_breaks(&mut s);
        self.draw_elided(&mut s);
        s.push_str("<g class=\"traffic\">\n");
        for a in &self.arrows {
            self.draw_arrow(&mut s, a, opts);
        }
        s.push_str("</g>\n");
        self.draw_rows(&mut s);
        s.push_str("</svg>\n");
        s
    }

    fn draw_hosts(&self, s: &mut String, opts: &SvgOptions) {
        let box_h = 30.0;
        let box_y = self.top - 14.0 - box_h;
        s.push_str("<g class=\"lifelines\">\n");
        for (x, name) in [
            (self.left_x, &opts.left_name),
            (self.right_x, &opts.right_name),
        ] {
            let bw = host_box_w(name);
            let _ = writeln!(
                s,
                "<line class=\"lifeline\" x1=\"{x}\" y1=\"{y1}\" x2=\"{x}\" y2=\"{y2}\"/>",
                x = num(x),
                y1 = num(box_y + box_h),
                y2 = num(self.height - 12.0),
            );
            let _ = writeln!(
                s,
                "<g class=\"host\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"4\"/><text x=\"{}\" y=\"{}\">{}</text></g>",
                num(x - bw / 2.0),
                num(box_y),
                num(bw),
                num(box_h),
                num(x),
                num(box_y + box_h / 2.0 + HEAD_FONT * 0.35),
                esc(name)
            );
        }
        s.push_str("</g>\n");
    }

    fn draw_axis(&self, s: &mut String) {
        let ax = AXIS_X + 8.0;
        s.push_str("<g class=\"axis\">\n");
        let _ = writeln!(
            s,
            "<line x1=\"{x}\" y1=\"{y1}\" x2=\"{x}\" y2=\"{y2}\"/>",
            x = num(ax),
            y1 = num(self.top),
            y2 = num(self.height - 12.0)
        );
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\">time</text>",
            num(AXIS_X),
            num(self.top - 4.0)
        );
        // One label per instant: a band at the same time as the one above it gets none.
        let mut last = None;
        let mut tick = |y: f64, t: u64| {
            if last.replace(t) == Some(t) {
                return;
            }
            let _ = writeln!(
                s,
                "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\"/><text x=\"{}\" y=\"{}\">{}</text>",
                num(ax - 4.0),
                num(ax + 4.0),
                num(AXIS_X),
                num(y + FONT * 0.35),
                Instant::from_micros(t),
                y = num(y),
            );
        };
        for band in &self.bands {
            if band.is_rows() {
                tick(band.y + ROW_H / 2.0, band.t0);
            } else if band.elided.is_some() {
                tick(band.y + ROW_H / 2.0, band.t0);
                tick(band.y + band.h - ROW_H / 2.0, band.t1);
            }
        }
        s.push_str("</g>\n");
    }

    fn draw_breaks(&self, s: &mut String) {
        let (x0, x1) = (AXIS_X - 70.0, self.width - 8.0);
        for b in &self.breaks {
            let (top, bot) = (b.y + 10.0, b.y + BREAK_PX - 10.0);
            let _ = writeln!(
                s,
                "<g class=\"break\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>{}{}<text x=\"{}\" y=\"{}\">⋯ {} later ⋯</text></g>",
                num(x0),
                num(top),
                num(x1 - x0),
                num(bot - top),
                zigzag(x0, x1, top),
                zigzag(x0, x1, bot),
                num((self.left_x + self.right_x) / 2.0),
                num((top + bot) / 2.0 + FONT * 0.35),
                secs(b.micros)
            );
        }
    }

    fn draw_elided(&self, s: &mut String) {
        for band in &self.bands {
            let Some(n) = band.elided else { continue };
            let (top, bot) = (band.y, band.y + band.h);
            let mid = (self.left_x + self.right_x) / 2.0;
            let plural = if n == 1 { "" } else { "s" };
            let _ = write!(
                s,
                "<g class=\"elided\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
                num(self.left_x - 4.0),
                num(top),
                num(self.right_x - self.left_x + 8.0),
                num(bot - top)
            );
            for x in [self.left_x, self.right_x] {
                let _ = write!(
                    s,
                    "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\"/>",
                    num(top),
                    num(bot),
                    x = num(x)
                );
            }
            let (t0, t1) = (Instant::from_micros(band.t0), Instant::from_micros(band.t1));
            let range = if t0 == t1 {
                format!("not shown, sent at {t0}")
            } else {
                format!("not shown, sent {t0} to {t1}")
            };
            let _ = writeln!(
                s,
                "<text x=\"{m}\" y=\"{}\">… {n} segment{plural} …</text><text class=\"range\" x=\"{m}\" y=\"{}\">{range}</text></g>",
                num((top + bot) / 2.0 - 2.0),
                num((top + bot) / 2.0 + 12.0),
                m = num(mid),
            );
        }
    }

    fn draw_arrow(&self, s: &mut String, a: &Arrow<'_>, opts: &SvgOptions) {
        let seg = a.seg;
        let lost = seg.arrived.is_none();
        let data = if seg.len > 0 { " data" } else { "" };
        let (dir, from, to) = match seg.from {
            Side::Left => ("lr", &opts.left_name, &opts.right_name),
            Side::Right => ("rl", &opts.right_name, &opts.left_name),
        };
        let fate = if lost { "lost" } else { "delivered" };
        let side = match seg.from {
            Side::Left => "left",
            Side::Right => "right",
        };
        let _ = write!(
            s,
            "<g class=\"segment\" data-from=\"{side}\" data-fate=\"{fate}\"><g class=\"{dir}{data}{}\">",
            if lost { " lost" } else { "" }
        );
        let label = label(seg);
        let tip = match seg.arrived {
            Some(t) => format!("arrived {t}"),
            None => "lost".to_string(),
        };
        let _ = write!(
            s,
            "<title>{} → {}, sent {}, {}: {}</title>",
            esc(from),
            esc(to),
            seg.sent,
            tip,
            esc(&label)
        );
        let _ = write!(
            s,
            "<line class=\"arrow\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
            num(a.x1),
            num(a.y1),
            num(a.x2),
            num(a.y2)
        );
        let (dx, dy) = (a.x2 - a.x1, a.y2 - a.y1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ux, uy) = (dx / len, dy / len);
        if lost {
            let r = 6.0;
            let _ = write!(
                s,
                "<path class=\"cross\" d=\"M{} {}L{} {}M{} {}L{} {}\"/><text class=\"lost-text\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">lost</text>",
                num(a.x2 - r),
                num(a.y2 - r),
                num(a.x2 + r),
                num(a.y2 + r),
                num(a.x2 - r),
                num(a.y2 + r),
                num(a.x2 + r),
                num(a.y2 - r),
                num(a.x2),
                num(a.y2 + r + FONT + 2.0)
            );
        } else {
            // Arrowhead: a triangle 9 long, 7 wide, its point on the receiver's lifeline.
            let (bx, by) = (a.x2 - 9.0 * ux, a.y2 - 9.0 * uy);
            let (nx, ny) = (-uy * 3.5, ux * 3.5);
            let _ = write!(
                s,
                "<path class=\"head\" d=\"M{} {}L{} {}L{} {}Z\"/>",
                num(a.x2),
                num(a.y2),
                num(bx + nx),
                num(by + ny),
                num(bx - nx),
                num(by - ny)
            );
        }
        // The label runs left to right along the arrow, just above it, starting a little away
        // from the sender's lifeline: where bursts cross, each direction's labels stay on its
        // sender's side. (A rotation without trigonometry: the matrix is the unit vector.)
        let (lx, ly, anchor) = if ux >= 0.0 {
            (ux, uy, "start")
        } else {
            (-ux, -uy, "end")
        };
        let _ = writeln!(
            s,
            "<text class=\"label\" text-anchor=\"{anchor}\" transform=\"matrix({} {} {} {} {} {})\" y=\"-4\">{}</text></g></g>",
            num4(lx),
            num4(ly),
            num4(-ly),
            num4(lx),
            num(a.x1 + LABEL_INSET * ux),
            num(a.y1 + LABEL_INSET * uy),
            esc(&label)
        );
    }

    fn draw_rows(&self, s: &mut String) {
        let mid = (self.left_x + self.right_x) / 2.0;
        for band in &self.bands {
            if band.elided.is_some() {
                continue;
            }
            for (j, row) in band.rows.iter().enumerate() {
                let y = band.y + (j as f64 + 0.5) * ROW_H;
                match *row {
                    Row::Segment(_) => {}
                    Row::States { left, right } => {
                        for (x, st) in [(self.left_x, left), (self.right_x, right)] {
                            if let Some(st) = st {
                                state_box(s, x, y, st);
                            }
                        }
                    }
                    Row::Note(text) => {
                        let _ = writeln!(
                            s,
                            "<text class=\"note\" x=\"{}\" y=\"{}\">{}</text>",
                            num(mid),
                            num(y + FONT * 0.35),
                            esc(text)
                        );
                    }
                }
            }
        }
    }
}

fn state_box(s: &mut String, x: f64, y: f64, st: TcpState) {
    let name = st.rfc_name();
    let w = state_box_w(name);
    let h = ROW_H - 4.0;
    let kind = match st {
        TcpState::Established => " established",
        TcpState::Closed | TcpState::Listen => " closed",
        _ => "",
    };
    let _ = writeln!(
        s,
        "<g class=\"state{kind}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\"/><text x=\"{}\" y=\"{}\">{name}</text></g>",
        num(x - w / 2.0),
        num(y - h / 2.0),
        num(w),
        num(h),
        num(x),
        num(y + FONT * 0.35)
    );
}

/// Sets each band's `y` and `h` from `top` down; returns the breaks. A break starts below the
/// X of any lost segment sent in the band before it (`lost_drop` below its row).
fn place(
    bands: &mut [Band<'_>],
    arrivals: &[usize],
    scale: f64,
    top: f64,
    lost_drop: f64,
) -> Vec<Break> {
    let mut breaks = Vec::new();
    let mut y = top;
    // How far down the previous band's lost arrows (and their "lost" labels) reach.
    let mut reach = top;
    let mut prev_t1: Option<u64> = None;
    for (band, &arrivals) in bands.iter_mut().zip(arrivals) {
        if let Some(t1) = prev_t1 {
            let dt = band.t0.saturating_sub(t1);
            let gap = dt as f64 * scale;
            if gap > MAX_LINEAR_PX {
                y = y.max(reach);
                breaks.push(Break { y, micros: dt });
                y += BREAK_PX;
            } else {
                y += gap;
            }
        }
        band.y = y;
        band.h = match band.elided {
            Some(_) => ELIDED_H,
            None if band.rows.is_empty() => arrivals.saturating_sub(1) as f64 * ROW_H,
            None => band.rows.len().max(arrivals) as f64 * ROW_H,
        };
        reach = band
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r, Row::Segment(s) if s.arrived.is_none()))
            .map(|(j, _)| band.y + (j as f64 + 0.5) * ROW_H + lost_drop + 24.0)
            .fold(y + band.h, f64::max);
        y += band.h;
        prev_t1 = Some(band.t1);
    }
    breaks
}

/// The arrows of the segment rows, in drawing order, and how far lost ones drop: half the
/// median drop of the delivered ones, so they have the same slope.
fn arrows<'a>(
    bands: &[Band<'a>],
    slots: &[Slot],
    (left_x, right_x): (f64, f64),
    scale: f64,
) -> (Vec<Arrow<'a>>, f64) {
    let mut arrows = Vec::new();
    let mut drops = Vec::new();
    let mut slots = slots.iter();
    for band in bands {
        for (j, row) in band.rows.iter().enumerate() {
            let Row::Segment(seg) = *row else { continue };
            let slot = slots.next().copied().flatten();
            let y1 = band.y + (j as f64 + 0.5) * ROW_H;
            let (x1, x2) = match seg.from {
                Side::Left => (left_x, right_x),
                Side::Right => (right_x, left_x),
            };
            let y2 = match seg.arrived {
                Some(t) => {
                    let y2 = match slot {
                        Some((k, i)) => bands[k].y + i as f64 * ROW_H,
                        None => y_of(bands, t.total_micros(), scale),
                    }
                    .max(y1 + ROW_H / 2.0);
                    drops.push(y2 - y1);
                    y2
                }
                None => y1,
            };
            arrows.push(Arrow {
                seg,
                x1,
                y1,
                x2,
                y2,
            });
        }
    }
    drops.sort_by(f64::total_cmp);
    let lost_drop = drops.get(drops.len() / 2).map_or(2.0 * ROW_H, |d| d / 2.0);
    for a in &mut arrows {
        if a.seg.arrived.is_none() {
            a.x2 = (a.x1 + a.x2) / 2.0;
            a.y2 = a.y1 + lost_drop;
        }
    }
    (arrows, lost_drop)
}

/// Groups the items into bands of rows, in item order. Times never go backwards: an item
/// stamped earlier than the one before it is drawn at the earlier item's time.
fn row_bands(items: &[LadderItem]) -> Vec<Band<'_>> {
    fn push<'a>(bands: &mut Vec<Band<'a>>, t: u64, row: Row<'a>) {
        match bands.last_mut() {
            Some(b) if b.elided.is_none() && b.t0 == t => b.rows.push(row),
            _ => bands.push(Band {
                t0: t,
                t1: t,
                rows: vec![row],
                elided: None,
                y: 0.0,
                h: 0.0,
            }),
        }
    }
    let mut bands: Vec<Band<'_>> = Vec::new();
    let mut now = 0u64;
    let mut i = 0;
    while i < items.len() {
        match &items[i] {
            LadderItem::Segment(seg) => {
                now = now.max(seg.sent.total_micros());
                push(&mut bands, now, Row::Segment(seg));
            }
            LadderItem::State(st) => {
                now = now.max(st.time.total_micros());
                // A change on the other side at the same instant shares the row.
                let partner = match items.get(i + 1) {
                    Some(LadderItem::State(n)) if n.time == st.time && n.side != st.side => {
                        i += 1;
                        Some(n.state)
                    }
                    _ => None,
                };
                let (left, right) = match st.side {
                    Side::Left => (Some(st.state), partner),
                    Side::Right => (partner, Some(st.state)),
                };
                push(&mut bands, now, Row::States { left, right });
            }
            LadderItem::Note(text) => push(&mut bands, now, Row::Note(text)),
            LadderItem::Elided { segments, from, to } => {
                let t0 = now.max(from.total_micros());
                let t1 = t0.max(to.total_micros());
                now = t1;
                bands.push(Band {
                    t0,
                    t1,
                    rows: Vec::new(),
                    elided: Some(*segments),
                    y: 0.0,
                    h: 0.0,
                });
            }
        }
        i += 1;
    }
    bands
}

/// Adds a zero-height band for each arrival instant no band covers yet, so arrivals sit on the
/// same scale as everything else.
fn add_arrival_points(bands: &mut Vec<Band<'_>>) {
    let covered = |bands: &[Band<'_>], t: u64| bands.iter().any(|b| b.t0 <= t && t <= b.t1);
    let mut points: Vec<u64> = bands
        .iter()
        .flat_map(|b| b.rows.iter())
        .filter_map(|r| match r {
            Row::Segment(seg) => seg.arrived.map(Instant::total_micros),
            _ => None,
        })
        .collect();
    points.sort_unstable();
    points.dedup();
    points.retain(|&t| !covered(bands, t));
    if points.is_empty() {
        return;
    }
    let old = core::mem::take(bands);
    let mut points = points.into_iter().peekable();
    for band in old {
        while let Some(&t) = points.peek()
            && t < band.t0
        {
            bands.push(point(t));
            points.next();
        }
        bands.push(band);
    }
    bands.extend(points.map(point));
}

/// For each segment row (in drawing order), the band and slot its arrival is drawn at: the
/// `i`-th segment arriving at one instant lands `i` rows below the first, so a burst stays a
/// set of parallel arrows instead of a fan. `None` for lost segments and for arrivals inside an
/// elided run. Also returns the number of arrivals per band.
fn arrival_slots(bands: &[Band<'_>]) -> (Vec<Slot>, Vec<usize>) {
    let mut counts = vec![0usize; bands.len()];
    let mut slots = Vec::new();
    for band in bands {
        for row in &band.rows {
            let Row::Segment(seg) = row else { continue };
            let slot = seg.arrived.and_then(|a| {
                let a = a.total_micros();
                let first = bands.partition_point(|b| b.t0 < a);
                let k = (first..bands.len())
                    .take_while(|&k| bands[k].t0 == a)
                    .find(|&k| bands[k].elided.is_none())?;
                counts[k] += 1;
                Some((k, counts[k] - 1))
            });
            slots.push(slot);
        }
    }
    (slots, counts)
}

fn point<'a>(t: u64) -> Band<'a> {
    Band {
        t0: t,
        t1: t,
        rows: Vec::new(),
        elided: None,
        y: 0.0,
        h: 0.0,
    }
}

/// Median one-way flight time of the delivered segments (microseconds, at least 1).
fn median_flight(bands: &[Band<'_>]) -> u64 {
    let mut flights: Vec<u64> = bands
        .iter()
        .flat_map(|b| b.rows.iter())
        .filter_map(|r| match r {
            Row::Segment(seg) => seg
                .arrived
                .map(|a| a.total_micros().saturating_sub(seg.sent.total_micros())),
            _ => None,
        })
        .filter(|&f| f > 0)
        .collect();
    flights.sort_unstable();
    flights
        .get(flights.len() / 2)
        .copied()
        .unwrap_or(DEFAULT_FLIGHT_US)
        .max(1)
}

/// Page y of instant `t`: the top of the band at `t`, proportionally inside an elided band, or
/// proportionally across a gap.
fn y_of(bands: &[Band<'_>], t: u64, scale: f64) -> f64 {
    let mut prev: Option<&Band<'_>> = None;
    for b in bands {
        if t < b.t0 {
            return match prev {
                None => b.y,
                Some(p) => {
                    let end = p.y + p.h;
                    end + (b.y - end) * (t - p.t1) as f64 / (b.t0 - p.t1) as f64
                }
            };
        }
        if t <= b.t1 {
            return if b.t1 > b.t0 {
                b.y + b.h * (t - b.t0) as f64 / (b.t1 - b.t0) as f64
            } else {
                b.y
            };
        }
        prev = Some(b);
    }
    match prev {
        None => 0.0,
        Some(p) => p.y + p.h + ((t - p.t1) as f64 * scale).min(MAX_LINEAR_PX),
    }
}

/// `SYN,ACK seq=0 ack=1 win=65535 len=0`, then the note in parentheses.
fn label(seg: &LadderSegment) -> String {
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
    if let Some(note) = &seg.note {
        let _ = write!(s, " ({note})");
    }
    s
}

/// Approximate drawn width of `text` at `font` px in a monospace font (wide characters, such
/// as CJK, count double).
fn text_w(text: &str, font: f64) -> f64 {
    let cells: usize = text
        .chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum();
    cells as f64 * font * 0.6
}

fn host_box_w(name: &str) -> f64 {
    (text_w(name, HEAD_FONT) + 20.0).max(80.0)
}

fn state_box_w(name: &str) -> f64 {
    text_w(name, FONT) + 12.0
}

/// A horizontal zigzag (torn edge) from `x0` to `x1` at `y`.
fn zigzag(x0: f64, x1: f64, y: f64) -> String {
    let mut pts = String::new();
    let mut x = x0;
    let mut up = true;
    while x < x1 {
        let _ = write!(
            pts,
            "{}{},{}",
            if pts.is_empty() { "" } else { " " },
            num(x),
            num(if up { y - 3.0 } else { y + 3.0 })
        );
        x += 8.0;
        up = !up;
    }
    format!("<polyline points=\"{pts}\"/>")
}

/// Microseconds as `59.980000 s`.
fn secs(micros: u64) -> String {
    format!("{}.{:06} s", micros / 1_000_000, micros % 1_000_000)
}

/// A coordinate with at most one decimal, without a trailing `.0`, never `-0`.
fn num(x: f64) -> String {
    fixed(x, 10.0, 1)
}

/// A unit-vector component with at most four decimals.
fn num4(x: f64) -> String {
    fixed(x, 10_000.0, 4)
}

fn fixed(x: f64, scale: f64, places: usize) -> String {
    let r = (x * scale).round() / scale;
    if r == 0.0 || !r.is_finite() {
        return "0".to_string();
    }
    let s = format!("{r:.places$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Escapes text for element content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 forbids (control characters other than tab and newlines).
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ladder::LadderState;

    fn seg(
        sent_ms: u64,
        arrived_ms: Option<u64>,
        from: Side,
        flags: &str,
        len: usize,
    ) -> LadderItem {
        LadderItem::Segment(LadderSegment {
            sent: Instant::from_millis(sent_ms),
            arrived: arrived_ms.map(Instant::from_millis),
            from,
            flags: flags.to_string(),
            seq: 0,
            ack: (flags != "SYN").then_some(1),
            len,
            window: 65535,
            note: None,
        })
    }

    fn state(ms: u64, side: Side, state: TcpState) -> LadderItem {
        LadderItem::State(LadderState {
            time: Instant::from_millis(ms),
            side,
            state,
        })
    }

    /// A handshake, some data with one loss and a retransmission, a close and TIME-WAIT.
    fn exchange() -> Vec<LadderItem> {
        let mut v = vec![
            state(0, Side::Left, TcpState::Closed),
            state(0, Side::Right, TcpState::Listen),
            state(0, Side::Left, TcpState::SynSent),
            seg(0, Some(10), Side::Left, "SYN", 0),
            state(10, Side::Right, TcpState::SynReceived),
            seg(10, Some(20), Side::Right, "SYN,ACK", 0),
            state(20, Side::Left, TcpState::Established),
            seg(20, Some(30), Side::Left, "ACK", 0),
            seg(20, Some(31), Side::Left, "ACK", 1000),
            seg(21, None, Side::Left, "ACK", 1000),
            state(30, Side::Right, TcpState::Established),
            seg(31, Some(41), Side::Right, "ACK", 0),
            LadderItem::Note("fast retransmit <3 dup ACKs> & recovery".to_string()),
        ];
        let mut retx = seg(241, Some(251), Side::Left, "ACK", 1000);
        if let LadderItem::Segment(s) = &mut retx {
            s.note = Some("retransmission".to_string());
        }
        v.push(retx);
        v.extend([
            seg(251, Some(261), Side::Right, "ACK", 0),
            state(261, Side::Left, TcpState::FinWait1),
            seg(261, Some(271), Side::Left, "FIN,ACK", 0),
            state(271, Side::Right, TcpState::CloseWait),
            seg(271, Some(281), Side::Right, "ACK", 0),
            state(281, Side::Left, TcpState::FinWait2),
            state(281, Side::Right, TcpState::LastAck),
            seg(281, Some(291), Side::Right, "FIN,ACK", 0),
            state(291, Side::Left, TcpState::TimeWait),
            seg(291, Some(301), Side::Left, "ACK", 0),
            state(301, Side::Right, TcpState::Closed),
            state(60_291, Side::Left, TcpState::Closed),
        ]);
        v
    }

    fn segments_in(items: &[LadderItem]) -> usize {
        items
            .iter()
            .filter(|i| matches!(i, LadderItem::Segment(_)))
            .count()
    }

    fn parse(svg: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}\n{svg}"))
    }

    fn with_class<'a>(
        doc: &'a roxmltree::Document<'a>,
        class: &str,
    ) -> Vec<roxmltree::Node<'a, 'a>> {
        doc.descendants()
            .filter(|n| {
                n.attribute("class")
                    .is_some_and(|c| c.split_whitespace().any(|t| t == class))
            })
            .collect()
    }

    #[test]
    fn is_svg_xml_with_one_element_per_segment() {
        let items = exchange();
        let svg = render_svg(&items, &SvgOptions::default());
        let doc = parse(&svg);
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg")
        );
        let segs = with_class(&doc, "segment");
        assert_eq!(segs.len(), segments_in(&items));
        assert_eq!(
            svg.matches("class=\"segment\"").count(),
            segments_in(&items)
        );
        assert!(segs.iter().all(|n| n.attribute("class") == Some("segment")));
        // Host names and state boxes are there.
        let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        for want in [
            "client",
            "server",
            "SYN-SENT",
            "TIME-WAIT",
            "LAST-ACK",
            "CLOSED",
        ] {
            assert!(texts.contains(&want), "no {want:?} in {texts:?}");
        }
        assert!(texts.iter().any(|t| t.starts_with("SYN,ACK seq=0 ack=1")));
        assert!(texts.contains(&"ACK seq=0 ack=1 win=65535 len=1000 (retransmission)"));
    }

    #[test]
    fn escapes_labels_names_and_title() {
        let mut items = exchange();
        if let LadderItem::Segment(s) = &mut items[3] {
            s.note = Some("<odd> & \"quoted\"".to_string());
        }
        let opts = SvgOptions {
            left_name: "a<b>&c".to_string(),
            right_name: "it's \"me\"".to_string(),
            title: Some("R&D <test>".to_string()),
            max_segments: None,
        };
        let svg = render_svg(&items, &opts);
        let doc = parse(&svg);
        let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        for want in [
            "a<b>&c",
            "it's \"me\"",
            "R&D <test>",
            "SYN seq=0 win=65535 len=0 (<odd> & \"quoted\")",
            "fast retransmit <3 dup ACKs> & recovery",
        ] {
            assert!(texts.contains(&want), "no {want:?} in {texts:?}");
        }
        assert!(svg.contains("a&lt;b&gt;&amp;c"));
    }

    #[test]
    fn lost_segments_end_in_an_x() {
        let items = exchange();
        let svg = render_svg(&items, &SvgOptions::default());
        let doc = parse(&svg);
        let lost: Vec<_> = with_class(&doc, "segment")
            .into_iter()
            .filter(|n| n.attribute("data-fate") == Some("lost"))
            .collect();
        assert_eq!(lost.len(), 1);
        let g = lost[0];
        assert!(
            g.descendants()
                .any(|n| n.attribute("class") == Some("cross"))
        );
        assert!(g.descendants().any(|n| n.text() == Some("lost")));
        // The arrow stops halfway between the lifelines, below where it started.
        let line = g
            .descendants()
            .find(|n| n.attribute("class") == Some("arrow"))
            .expect("arrow");
        let f = |a: &str| line.attribute(a).unwrap().parse::<f64>().unwrap();
        let delivered = with_class(&doc, "segment")
            .into_iter()
            .find(|n| n.attribute("data-fate") == Some("delivered"))
            .unwrap();
        let dl = delivered
            .descendants()
            .find(|n| n.attribute("class") == Some("arrow"))
            .unwrap();
        let g2 = |a: &str| dl.attribute(a).unwrap().parse::<f64>().unwrap();
        let mid = (g2("x1") + g2("x2")) / 2.0;
        assert!((f("x2") - mid).abs() < 0.2, "{} vs {mid}", f("x2"));
        assert!(f("y2") > f("y1"));
    }

    #[test]
    fn time_wait_gap_is_cut_with_a_break_marker() {
        let items = exchange();
        let svg = render_svg(&items, &SvgOptions::default());
        let doc = parse(&svg);
        let breaks = with_class(&doc, "break");
        // TIME-WAIT (60 s) and the retransmission timeout (200 ms = 20 flights) are cut.
        assert_eq!(breaks.len(), 2, "{svg}");
        assert!(svg.contains("⋯ 59.990000 s later ⋯"), "{svg}");
        let h: f64 = doc
            .root_element()
            .attribute("height")
            .unwrap()
            .parse()
            .unwrap();
        // Linear, the 60 s would take 480 000 px (a 10 ms flight is 80 px).
        assert!(h < 3000.0, "height {h}");
        // The axis labels the last state change with its real time.
        assert!(svg.contains(">60.291000s<"));
    }

    #[test]
    fn elided_runs_are_dashed_gaps() {
        let items = exchange();
        let opts = SvgOptions {
            max_segments: Some(4),
            ..SvgOptions::default()
        };
        let svg = render_svg(&items, &opts);
        let doc = parse(&svg);
        assert_eq!(with_class(&doc, "segment").len(), 4);
        let elided = with_class(&doc, "elided");
        assert!(!elided.is_empty());
        let hidden: usize = elided
            .iter()
            .filter_map(|g| {
                g.descendants().filter_map(|n| n.text()).find_map(|t| {
                    t.strip_prefix("… ")?
                        .split(' ')
                        .next()?
                        .parse::<usize>()
                        .ok()
                })
            })
            .sum();
        assert_eq!(hidden, segments_in(&items) - 4);
        // States are still all drawn.
        assert_eq!(
            with_class(&doc, "state").len(),
            items
                .iter()
                .filter(|i| matches!(i, LadderItem::State(_)))
                .count()
        );
    }

    #[test]
    fn arrows_slope_down_to_their_arrival() {
        let items = exchange();
        let svg = render_svg(&items, &SvgOptions::default());
        let doc = parse(&svg);
        for g in with_class(&doc, "segment") {
            let line = g
                .descendants()
                .find(|n| n.attribute("class") == Some("arrow"))
                .unwrap();
            let f = |a: &str| line.attribute(a).unwrap().parse::<f64>().unwrap();
            assert!(f("y2") > f("y1"), "{:?}", g.attribute("data-fate"));
        }
    }

    #[test]
    fn deterministic_and_handles_empty_input() {
        let items = exchange();
        assert_eq!(
            render_svg(&items, &SvgOptions::default()),
            render_svg(&items, &SvgOptions::default())
        );
        let svg = render_svg(&[], &SvgOptions::default());
        let doc = parse(&svg);
        assert_eq!(with_class(&doc, "segment").len(), 0);
        let svg = render_svg(
            &[LadderItem::Note("only a note".into())],
            &SvgOptions::default(),
        );
        parse(&svg);
    }

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.25), "12.3");
        assert_eq!(num(-0.01), "0");
        assert_eq!(num4(0.123456), "0.1235");
        assert_eq!(num4(1.0), "1");
        assert_eq!(secs(59_990_000), "59.990000 s");
    }
}
