//! Runs each workload several times per stack, alternating, and turns the runs into `figure`
//! lines: the median of each stack's runs, with the spread in a context line.

use crate::Stacks;
use crate::ferro_side::FerroPair;
use crate::harness::Harness;
use crate::pattern::Pattern;
use crate::smol_side::SmolPair;
use crate::spread::spread;
use crate::workloads::{Common, bulk, cycles};

pub struct Figure {
    pub name: String,
    pub unit: &'static str,
    pub ferrotcp: Option<f64>,
    pub smoltcp: Option<f64>,
    /// For costs (bytes per connection): the ratio is then smoltcp / ferrotcp, so that a
    /// ratio above 1 still means ferrotcp does better.
    pub lower_is_better: bool,
    /// Why smoltcp was not run for this figure (printed as `smoltcp=NA`, not a failure).
    pub smoltcp_skipped: Option<&'static str>,
}

fn fmt(v: Option<f64>) -> String {
    match v {
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
        None => "FAIL".into(),
    }
}

impl Figure {
    /// The `figure` line, with `NA` (not `FAIL`) for a stack that `--only` left out.
    pub fn line_for(&self, only: Stacks) -> String {
        let both = only == Stacks::Both;
        let ratio = match (self.ferrotcp, self.smoltcp) {
            (Some(a), Some(b)) if both && self.lower_is_better && a > 0.0 => {
                format!("{:.2}", b / a)
            }
            (Some(a), Some(b)) if both && !self.lower_is_better && b > 0.0 => {
                format!("{:.2}", a / b)
            }
            _ => "NA".into(),
        };
        let ferrotcp = match only {
            Stacks::Smoltcp => "NA".into(),
            Stacks::Ferrotcp | Stacks::Both => fmt(self.ferrotcp),
        };
        let smoltcp = match (self.smoltcp_skipped, only) {
            (Some(_), _) | (None, Stacks::Ferrotcp) => "NA".into(),
            (None, Stacks::Smoltcp | Stacks::Both) => fmt(self.smoltcp),
        };
        format!(
            "figure {} ferrotcp={} smoltcp={} ratio={} unit={}",
            self.name, ferrotcp, smoltcp, ratio, self.unit
        )
    }

    /// A higher-is-better figure with both stacks run.
    pub fn new(
        name: String,
        unit: &'static str,
        ferrotcp: Option<f64>,
        smoltcp: Option<f64>,
    ) -> Figure {
        Figure {
            name,
            unit,
            ferrotcp,
            smoltcp,
            lower_is_better: false,
            smoltcp_skipped: None,
        }
    }

    pub fn complete(&self) -> bool {
        self.ferrotcp.is_some() && (self.smoltcp.is_some() || self.smoltcp_skipped.is_some())
    }
}

/// The median of `runs` and the context line with the spread; `None` if there were none.
pub fn summarize(figure: &str, stack: &str, runs: &[f64], unit: &str) -> Option<f64> {
    let v = spread(runs)?;
    println!(
        "# {figure} {stack}: median {} {unit} (min {} - max {}, {} runs)",
        fmt(Some(v.median)),
        fmt(Some(v.min)),
        fmt(Some(v.max)),
        v.count
    );
    Some(v.median)
}

/// Runs `one` for both stacks `runs` times, alternating; a stack that fails once is not run
/// again and gets no figure. Returns the medians.
fn alternate(
    figure: &str,
    unit: &str,
    runs: u32,
    only: Stacks,
    mut one: impl FnMut(&'static str, u32, bool) -> Option<f64>,
) -> (Option<f64>, Option<f64>) {
    let (mut f, mut s) = (Vec::new(), Vec::new());
    let mut f_failed = only == Stacks::Smoltcp;
    let mut s_failed = only == Stacks::Ferrotcp;
    for run in 1..=runs {
        if !f_failed {
            match one("ferrotcp", run, true) {
                Some(v) => f.push(v),
                None => f_failed = true,
            }
        }
        if !s_failed {
            match one("smoltcp", run, false) {
                Some(v) => s.push(v),
                None => s_failed = true,
            }
        }
    }
    (
        if f_failed {
            None
        } else {
            summarize(figure, "ferrotcp", &f, unit)
        },
        if s_failed {
            None
        } else {
            summarize(figure, "smoltcp", &s, unit)
        },
    )
}

/// What one bulk figure moves.
pub struct BulkSpec {
    pub bytes: u64,
    pub chunk: usize,
}

/// `bulk_mtu1500_buf64k`: the figure's name from its MTU and buffer size.
fn bulk_name(c: &Common) -> String {
    let b = c.settings.buffer;
    let size = if b % (1 << 20) == 0 {
        format!("{}m", b >> 20)
    } else if b % 1024 == 0 {
        format!("{}k", b >> 10)
    } else {
        format!("{b}b")
    };
    format!("bulk_mtu{}_buf{size}", c.settings.mtu)
}

fn bulk_once<H: Harness>(
    c: &Common,
    spec: &BulkSpec,
    pattern: &Pattern,
    figure: &str,
    name: &str,
    run: u32,
) -> Option<f64> {
    match bulk::<H>(c, spec.bytes, spec.chunk, pattern) {
        Ok(o) => {
            let secs = o.elapsed.as_secs_f64();
            let gbps = o.bytes as f64 * 8.0 / secs / 1e9;
            let virtual_secs = o.virtual_us as f64 / 1e6;
            println!(
                "# {figure} {name} run {run}: {} bytes in {secs:.3} s wall = {gbps:.2} Gbit/s; \
                 {:.1} ms virtual = {:.2} Gbit/s, {} timer waits ({:.1} ms of it), \
                 {} iterations, {} frames",
                o.bytes,
                virtual_secs * 1e3,
                o.bytes as f64 * 8.0 / virtual_secs / 1e9,
                o.timer_waits,
                o.waited_us as f64 / 1e3,
                o.iterations,
                o.frames,
            );
            Some(gbps)
        }
        Err(e) => {
            println!("# ERROR {figure} {name} run {run}: {e}");
            None
        }
    }
}

pub fn run_bulk(c: &Common, spec: &BulkSpec, runs: u32, only: Stacks, pattern: &Pattern) -> Figure {
    let name = bulk_name(c);
    println!(
        "# {name}: {} bytes client -> server, IP MTU {}, {} B buffers, {}-byte application \
         reads and writes, data checked",
        spec.bytes, c.settings.mtu, c.settings.buffer, spec.chunk
    );
    let unit = "Gbit/s";
    let (f, s) = alternate(&name, unit, runs, only, |stack, run, ferro| {
        if ferro {
            bulk_once::<FerroPair>(c, spec, pattern, &name, stack, run)
        } else {
            bulk_once::<SmolPair>(c, spec, pattern, &name, stack, run)
        }
    });
    Figure::new(name, unit, f, s)
}

/// One `cycles` figure: its name and parameters.
pub struct CyclesSpec {
    pub name: &'static str,
    pub count: u64,
    pub msg: usize,
    pub gap_us: u64,
    /// smoltcp keeps its closed client sockets and connects them again.
    pub smoltcp_reuses_sockets: bool,
}

fn cycles_once<H: Harness>(
    c: &Common,
    spec: &CyclesSpec,
    pattern: &Pattern,
    name: &str,
    run: u32,
) -> Option<f64> {
    match cycles::<H>(c, spec.count, spec.msg, spec.gap_us, pattern) {
        Ok(o) => {
            let secs = o.elapsed.as_secs_f64();
            let rate = o.cycles as f64 / secs;
            println!(
                "# {} {name} run {run}: {} cycles in {secs:.3} s = {rate:.0} cycles/s; \
                 {} iterations, {} frames ({:.1}/cycle), {:.1} s virtual, {} timer waits, \
                 {} client connections left",
                spec.name,
                o.cycles,
                o.iterations,
                o.frames,
                o.frames as f64 / o.cycles.max(1) as f64,
                o.virtual_us as f64 / 1e6,
                o.timer_waits,
                o.lingering
            );
            Some(rate)
        }
        Err(e) => {
            println!("# ERROR {} {name} run {run}: {e}", spec.name);
            None
        }
    }
}

pub fn run_cycles(
    c: &Common,
    spec: &CyclesSpec,
    runs: u32,
    only: Stacks,
    pattern: &Pattern,
) -> Figure {
    println!(
        "# {}: {} x (connect, {} B echo, client closes first, server closes), sequential ports \
         from 49152, {} µs virtual gap between cycles (about {} TIME-WAITs held), {} B \
         buffers; smoltcp {}",
        spec.name,
        spec.count,
        spec.msg,
        spec.gap_us,
        (c.settings.time_wait_us / spec.gap_us.max(1)).min(spec.count),
        c.settings.buffer,
        if spec.smoltcp_reuses_sockets {
            "reuses its closed client sockets (buffers kept)"
        } else {
            "makes a new socket (two fresh buffers) per connection"
        }
    );
    let unit = "cycles/s";
    let (f, s) = alternate(spec.name, unit, runs, only, |name, run, ferro| {
        if ferro {
            cycles_once::<FerroPair>(c, spec, pattern, name, run)
        } else if spec.smoltcp_reuses_sockets {
            cycles_once::<SmolPair<true>>(c, spec, pattern, name, run)
        } else {
            cycles_once::<SmolPair>(c, spec, pattern, name, run)
        }
    });
    Figure::new(spec.name.to_string(), unit, f, s)
}
