//! The whole measurement: every loss rate × every run × the four transfer kinds, interleaved so
//! that a change in machine load hits all of them alike.

use std::time::{Duration, Instant};

use ferrotcp_bench::pattern::Pattern;

use crate::nft::{self, PathCounts};
use crate::stats::Runs;
use crate::topology::Topology;
use crate::transfer::{self, Ctx, Kind};

/// Results of one loss rate.
pub struct Level {
    pub per_mille: u32,
    /// Indexed like [`Kind::ALL`].
    pub runs: [Runs; 4],
    pub path: [PathCounts; 4],
}

pub struct Settings<'a> {
    pub runs: u32,
    pub bytes: u64,
    pub limit: Duration,
    pub linux_cc: Option<&'a str>,
}

/// A fixed seed per (loss rate, run, kind): reruns are comparable, runs differ.
fn seed(per_mille: u32, run: u32, kind: usize) -> u64 {
    0x1055_0000_0000 | u64::from(per_mille) << 16 | u64::from(run) << 4 | kind as u64
}

pub fn run_level(topo: &Topology, per_mille: u32, set: &Settings<'_>, serial: &mut u32) -> Level {
    let pattern = Pattern::new(crate::CHUNK);
    let pct = crate::pct(per_mille);
    let mut level = Level {
        per_mille,
        runs: Default::default(),
        path: Default::default(),
    };
    println!(
        "# loss {pct} %: R forward hook rule `{}`",
        nft::drop_rule(per_mille)
    );
    for run in 1..=set.runs {
        for (ki, kind) in Kind::ALL.into_iter().enumerate() {
            *serial += 1;
            let ctx = Ctx {
                topo,
                pattern: &pattern,
                bytes: set.bytes,
                limit: set.limit,
                serial: *serial,
                linux_cc: set.linux_cc,
            };
            let t0 = Instant::now();
            match transfer::run(kind, &ctx, per_mille, seed(per_mille, run, ki)) {
                Ok(m) => {
                    println!(
                        "# {pct}% run {run} {}: {} B in {:.3} s; path: {}; {}",
                        kind.label(),
                        set.bytes,
                        m.elapsed.as_secs_f64(),
                        m.path.describe(),
                        m.notes
                    );
                    level.runs[ki].push(m.elapsed);
                    level.path[ki].add(&m.path);
                }
                Err(e) => {
                    println!(
                        "# {pct}% run {run} {}: FAILED after {:.1} s: {e}",
                        kind.label(),
                        t0.elapsed().as_secs_f64()
                    );
                    level.runs[ki].push_failure();
                }
            }
        }
    }
    nft::remove(&topo.r);
    for (ki, kind) in Kind::ALL.into_iter().enumerate() {
        println!("# {pct}% {}: {}", kind.label(), level.runs[ki].describe());
        println!(
            "# {pct}% {} path over all runs: {}",
            kind.label(),
            level.path[ki].describe()
        );
    }
    level
}
