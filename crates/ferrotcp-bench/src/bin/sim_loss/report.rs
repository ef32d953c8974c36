//! The text output: a table per loss rate and one `figure` line per loss rate.

use crate::summary::Cell;
use crate::variants::Variant;

/// `0.1` → "0.1", `5.0` → "5": loss rates as the user wrote them.
pub fn loss_name(pct: f64) -> String {
    format!("{pct}")
}

fn mbps(v: Option<f64>) -> String {
    v.map_or_else(|| "FAIL".into(), |v| format!("{v:.2}"))
}

fn count(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.0}"))
}

/// The table for one loss rate: per variant, goodput (median, min–max over the finished
/// seeds), transfer time, what happened to the data direction's frames and how many frames
/// (ACKs) the receiver sent (medians).
/// `segments` is the number of full-sized segments the data needs at the least.
pub fn table(loss_pct: f64, variants: &[&Variant], cells: &[Cell], bytes: u64, segments: u64) {
    println!();
    println!("loss {} % each direction:", loss_name(loss_pct));
    println!(
        "  {:<26} {:>8} {:>15} {:>7} {:>9} {:>6} {:>9} {:>11} {:>8} {:>4}",
        "variant",
        "Mbit/s",
        "min-max",
        "time s",
        "data frm",
        "lost",
        "tail-drop",
        "sent/needed",
        "ack frm",
        "fail"
    );
    for (v, cell) in variants.iter().zip(cells) {
        let g = cell.goodput(bytes);
        let range = g.map_or_else(|| "-".into(), |g| format!("{:.2}-{:.2}", g.min, g.max));
        let sent = cell.median_of(|d| d.data_dir.sent as f64);
        println!(
            "  {:<26} {:>8} {:>15} {:>7} {:>9} {:>6} {:>9} {:>11} {:>8} {:>4}",
            v.label,
            mbps(g.map(|g| g.median)),
            range,
            cell.median_of(|d| d.elapsed.as_secs_f64())
                .map_or_else(|| "-".into(), |t| format!("{t:.2}")),
            count(sent),
            count(cell.median_of(|d| d.data_dir.lost as f64)),
            count(cell.median_of(|d| d.data_dir.queue_dropped as f64)),
            sent.map_or_else(|| "-".into(), |s| format!("{:.3}", s / segments as f64)),
            count(cell.median_of(|d| d.ack_dir.sent as f64)),
            cell.failures().count(),
        );
    }
    for (v, cell) in variants.iter().zip(cells) {
        for (seed, e) in cell.failures() {
            println!("  # FAIL {} seed {seed}: {e}", v.label);
        }
    }
}

/// `figure sim_goodput_<loss> <label>=<median Mbit/s or FAIL> ... unit=Mbit/s`.
pub fn figure(loss_pct: f64, variants: &[&Variant], cells: &[Cell], bytes: u64) -> String {
    let mut line = format!("figure sim_goodput_{}", loss_name(loss_pct));
    for (v, cell) in variants.iter().zip(cells) {
        let value = mbps(cell.figure(bytes).map(|g| g.median));
        line.push_str(&format!(" {}={value}", v.label));
    }
    line.push_str(" unit=Mbit/s");
    line
}
