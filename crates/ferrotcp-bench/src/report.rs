//! Runs each workload several times per stack, alternating, and turns the best runs into
//! `figure` lines.

use crate::Stacks;
use crate::ferro_side::FerroPair;
use crate::harness::Harness;
use crate::pattern::Pattern;
use crate::smol_side::SmolPair;
use crate::workloads::{Common, bulk, cycles};

pub struct Figure {
    pub name: &'static str,
    pub unit: &'static str,
    pub ferrotcp: Option<f64>,
    pub smoltcp: Option<f64>,
}

fn fmt(v: Option<f64>) -> String {
    match v {
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
        None => "FAIL".into(),
    }
}

impl Figure {
    pub fn line(&self) -> String {
        let ratio = match (self.ferrotcp, self.smoltcp) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
            _ => "NA".into(),
        };
        format!(
            "figure {} ferrotcp={} smoltcp={} ratio={} unit={}",
            self.name,
            fmt(self.ferrotcp),
            fmt(self.smoltcp),
            ratio,
            self.unit
        )
    }

    pub fn complete(&self) -> bool {
        self.ferrotcp.is_some() && self.smoltcp.is_some()
    }
}

fn best(a: Option<f64>, b: f64) -> Option<f64> {
    Some(a.map_or(b, |a| a.max(b)))
}

/// Runs `one` for both stacks `runs` times, alternating; a stack that fails once is not run again.
fn alternate(
    runs: u32,
    only: Stacks,
    mut one: impl FnMut(&'static str, u32, bool) -> Option<f64>,
) -> (Option<f64>, Option<f64>) {
    let (mut f, mut s) = (None, None);
    let mut f_failed = only == Stacks::Smoltcp;
    let mut s_failed = only == Stacks::Ferrotcp;
    for run in 1..=runs {
        if !f_failed {
            match one("ferrotcp", run, true) {
                Some(v) => f = best(f, v),
                None => f_failed = true,
            }
        }
        if !s_failed {
            match one("smoltcp", run, false) {
                Some(v) => s = best(s, v),
                None => s_failed = true,
            }
        }
    }
    (
        if f_failed { None } else { f },
        if s_failed { None } else { s },
    )
}

fn bulk_once<H: Harness>(
    c: &Common,
    bytes: u64,
    chunk: usize,
    pattern: &Pattern,
    name: &str,
    run: u32,
) -> Option<f64> {
    match bulk::<H>(c, bytes, chunk, pattern) {
        Ok(o) => {
            let secs = o.elapsed.as_secs_f64();
            let gbps = o.bytes as f64 * 8.0 / secs / 1e9;
            println!(
                "# bulk {name} run {run}: {} bytes in {secs:.3} s = {gbps:.2} Gbit/s; \
                 {} iterations, {} frames, {:.1} ms virtual",
                o.bytes,
                o.iterations,
                o.frames,
                o.virtual_us as f64 / 1e3
            );
            Some(gbps)
        }
        Err(e) => {
            println!("# ERROR bulk {name} run {run}: {e}");
            None
        }
    }
}

pub fn run_bulk(
    c: &Common,
    bytes: u64,
    chunk: usize,
    runs: u32,
    only: Stacks,
    pattern: &Pattern,
) -> Figure {
    println!(
        "# bulk: {bytes} bytes client -> server, {chunk}-byte application reads and writes, data checked"
    );
    let (f, s) = alternate(runs, only, |name, run, ferro| {
        if ferro {
            bulk_once::<FerroPair>(c, bytes, chunk, pattern, name, run)
        } else {
            bulk_once::<SmolPair>(c, bytes, chunk, pattern, name, run)
        }
    });
    Figure {
        name: "bulk_throughput",
        unit: "Gbit/s",
        ferrotcp: f,
        smoltcp: s,
    }
}

/// One `cycles` figure: its name and parameters.
pub struct CyclesSpec {
    pub name: &'static str,
    pub count: u64,
    pub msg: usize,
    pub gap_us: u64,
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
                 {} iterations, {} frames ({:.1}/cycle), {:.1} s virtual, {} client connections left",
                spec.name,
                o.cycles,
                o.iterations,
                o.frames,
                o.frames as f64 / o.cycles.max(1) as f64,
                o.virtual_us as f64 / 1e6,
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
         from 49152, {} µs virtual gap between cycles (about {} TIME-WAITs held)",
        spec.name,
        spec.count,
        spec.msg,
        spec.gap_us,
        (c.settings.time_wait_us / spec.gap_us.max(1)).min(spec.count)
    );
    let (f, s) = alternate(runs, only, |name, run, ferro| {
        if ferro {
            cycles_once::<FerroPair>(c, spec, pattern, name, run)
        } else {
            cycles_once::<SmolPair>(c, spec, pattern, name, run)
        }
    });
    Figure {
        name: spec.name,
        unit: "cycles/s",
        ferrotcp: f,
        smoltcp: s,
    }
}
