//! The plot: goodput (log scale, Mbit/s) against loss rate (categorical), one line per
//! variant through the medians, bars from min to max. Hand-written SVG, no dependencies.

use std::fmt::Write;

use crate::summary::Spread;

pub struct Series<'a> {
    pub label: &'a str,
    /// One per loss rate; `None` where a seed failed (no point drawn, "FAIL" written).
    pub points: Vec<Option<Spread>>,
}

pub struct Plot<'a> {
    pub title: &'a str,
    pub subtitle: &'a str,
    /// Loss rates, percent (the x categories).
    pub losses: &'a [f64],
    pub series: &'a [Series<'a>],
    /// A dashed reference line (the path's payload ceiling), Mbit/s.
    pub ceiling: f64,
}

const W: f64 = 820.0;
const H: f64 = 480.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 590.0;
const TOP: f64 = 70.0;
const BOTTOM: f64 = 410.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Decades spanning every value and the ceiling: `(log10 low, log10 high)`.
fn decades(plot: &Plot<'_>) -> (f64, f64) {
    let values = plot
        .series
        .iter()
        .flat_map(|s| s.points.iter().flatten())
        .flat_map(|p| [p.min, p.max])
        .chain([plot.ceiling])
        .filter(|v| v.is_finite() && *v > 0.0);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        lo = lo.min(v.log10().floor());
        hi = hi.max(v.log10().ceil());
    }
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 2.0);
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    (lo, hi)
}

pub fn render(plot: &Plot<'_>) -> String {
    let (lo, hi) = decades(plot);
    let y = |v: f64| BOTTOM - (v.log10() - lo) / (hi - lo) * (BOTTOM - TOP);
    let n = plot.losses.len().max(1) as f64;
    let x = |i: usize| LEFT + (i as f64 + 0.5) * (RIGHT - LEFT) / n;
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="28" font-size="17" font-weight="bold">{}</text>"#,
        esc(plot.title)
    );
    let _ = writeln!(
        s,
        r##"<text x="{LEFT}" y="50" font-size="12" fill="#444">{}</text>"##,
        esc(plot.subtitle)
    );
    grid(&mut s, lo, hi, &y);
    // Ceiling.
    let yc = y(plot.ceiling);
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT}" y1="{yc:.1}" x2="{RIGHT}" y2="{yc:.1}" stroke="#888" stroke-dasharray="6 4"/>"##
    );
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" font-size="11" fill="#666" text-anchor="end">payload ceiling {:.1}</text>"##,
        RIGHT - 4.0,
        yc - 4.0,
        plot.ceiling
    );
    // X axis categories.
    for (i, loss) in plot.losses.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="13" text-anchor="middle">{loss} %</text>"#,
            x(i),
            BOTTOM + 20.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" font-size="13" text-anchor="middle">random loss per frame, each direction</text>"#,
        (LEFT + RIGHT) / 2.0,
        BOTTOM + 44.0
    );
    let _ = writeln!(
        s,
        r#"<text x="18" y="{:.1}" font-size="13" text-anchor="middle" transform="rotate(-90 18 {:.1})">goodput, Mbit/s (log scale)</text>"#,
        (TOP + BOTTOM) / 2.0,
        (TOP + BOTTOM) / 2.0
    );
    let k = plot.series.len() as f64;
    for (j, series) in plot.series.iter().enumerate() {
        let color = COLORS[j % COLORS.len()];
        // Side by side, so that equal values stay visible.
        let dx = (j as f64 - (k - 1.0) / 2.0) * 7.0;
        draw_series(&mut s, series, color, |i| x(i) + dx, &y);
        legend(&mut s, j, series.label, color);
    }
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" font-size="11" fill="#444">dots: median over seeds</text>"##,
        RIGHT + 24.0,
        TOP + 22.0 * k + 16.0
    );
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" font-size="11" fill="#444">bars: min to max</text>"##,
        RIGHT + 24.0,
        TOP + 22.0 * k + 32.0
    );
    s.push_str("</svg>\n");
    s
}

/// Plot frame, horizontal lines at 1, 2 and 5 of each decade, labelled.
fn grid(s: &mut String, lo: f64, hi: f64, y: &impl Fn(f64) -> f64) {
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{}" height="{}" fill="none" stroke="#333"/>"##,
        RIGHT - LEFT,
        BOTTOM - TOP
    );
    let mut d = lo;
    while d <= hi {
        for m in [1.0, 2.0, 5.0] {
            let v = m * 10f64.powf(d);
            if v.log10() > hi + 1e-9 {
                break;
            }
            let yy = y(v);
            let (stroke, width) = if m == 1.0 {
                ("#ccc", 1.0)
            } else {
                ("#eee", 0.8)
            };
            let _ = writeln!(
                s,
                r#"<line x1="{LEFT}" y1="{yy:.1}" x2="{RIGHT}" y2="{yy:.1}" stroke="{stroke}" stroke-width="{width}"/>"#
            );
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"#,
                LEFT - 6.0,
                yy + 4.0,
                tick(v)
            );
        }
        d += 1.0;
    }
}

/// 0.01, 0.2, 5, 100: as many decimals as the tick's decade needs.
fn tick(v: f64) -> String {
    let decimals = (-v.log10().floor()).max(0.0) as usize;
    format!("{v:.decimals$}")
}

fn draw_series(
    s: &mut String,
    series: &Series<'_>,
    color: &str,
    x: impl Fn(usize) -> f64,
    y: &impl Fn(f64) -> f64,
) {
    // The line, broken where a point is missing.
    let mut run: Vec<String> = Vec::new();
    let flush = |run: &mut Vec<String>, s: &mut String| {
        if run.len() > 1 {
            let _ = writeln!(
                s,
                r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
                run.join(" ")
            );
        }
        run.clear();
    };
    for (i, p) in series.points.iter().enumerate() {
        match p {
            Some(p) => run.push(format!("{:.1},{:.1}", x(i), y(p.median))),
            None => flush(&mut run, s),
        }
    }
    flush(&mut run, s);
    for (i, p) in series.points.iter().enumerate() {
        let xi = x(i);
        match p {
            Some(p) => {
                let (y0, y1) = (y(p.min), y(p.max));
                let _ = writeln!(
                    s,
                    r#"<line x1="{xi:.1}" y1="{y0:.1}" x2="{xi:.1}" y2="{y1:.1}" stroke="{color}" stroke-width="1.2"/>"#
                );
                for yy in [y0, y1] {
                    let _ = writeln!(
                        s,
                        r#"<line x1="{:.1}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="{color}" stroke-width="1.2"/>"#,
                        xi - 3.0,
                        xi + 3.0
                    );
                }
                let _ = writeln!(
                    s,
                    r#"<circle cx="{xi:.1}" cy="{:.1}" r="4" fill="{color}"><title>{}: {:.2} Mbit/s</title></circle>"#,
                    y(p.median),
                    esc(series.label),
                    p.median
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    r#"<text x="{xi:.1}" y="{:.1}" font-size="11" fill="{color}" text-anchor="middle">FAIL</text>"#,
                    BOTTOM - 8.0
                );
            }
        }
    }
}

fn legend(s: &mut String, j: usize, label: &str, color: &str) {
    let yy = TOP + 8.0 + 22.0 * j as f64;
    let x0 = RIGHT + 24.0;
    let _ = writeln!(
        s,
        r#"<line x1="{x0:.1}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="{color}" stroke-width="2"/>"#,
        x0 + 26.0
    );
    let _ = writeln!(
        s,
        r#"<circle cx="{:.1}" cy="{yy:.1}" r="4" fill="{color}"/>"#,
        x0 + 13.0
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" font-size="13">{}</text>"#,
        x0 + 34.0,
        yy + 4.0,
        esc(label)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_well_formed_svg_with_a_line_per_series() {
        let sp = |m: f64| {
            Some(Spread {
                median: m,
                min: m * 0.9,
                max: m * 1.1,
                count: 5,
            })
        };
        let series = [
            Series {
                label: "a<b",
                points: vec![sp(95.0), sp(60.0), sp(20.0), sp(3.0)],
            },
            Series {
                label: "c",
                points: vec![sp(95.0), None, sp(0.4), sp(0.05)],
            },
        ];
        let svg = render(&Plot {
            title: "t & t",
            subtitle: "s",
            losses: &[0.0, 0.1, 1.0, 5.0],
            series: &series,
            ceiling: 95.7,
        });
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        let count = |tag: &str| doc.descendants().filter(|n| n.has_tag_name(tag)).count();
        // Series "c" is broken by its missing point into a lone point and a 2-point line.
        assert_eq!(count("polyline"), 2);
        // 7 medians plus 2 legend dots.
        assert_eq!(count("circle"), 9);
        let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        assert!(texts.contains(&"a<b"));
        assert!(texts.contains(&"FAIL"));
        assert!(texts.contains(&"0.01"));
    }
}
