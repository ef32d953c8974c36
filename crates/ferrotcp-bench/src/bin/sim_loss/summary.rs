//! Several seeds per point, summarised as median and range.

pub use ferrotcp_bench::spread::{Spread, spread};

use crate::transfer::Done;

/// One variant at one loss rate: every seed's outcome, in seed order.
pub struct Cell {
    pub runs: Vec<(u64, Result<Done, String>)>,
}

impl Cell {
    fn done(&self) -> impl Iterator<Item = &Done> {
        self.runs.iter().filter_map(|(_, r)| r.as_ref().ok())
    }

    pub fn failures(&self) -> impl Iterator<Item = (u64, &str)> {
        self.runs
            .iter()
            .filter_map(|(seed, r)| r.as_ref().err().map(|e| (*seed, e.as_str())))
    }

    /// Goodput over the seeds that finished, Mbit/s.
    pub fn goodput(&self, bytes: u64) -> Option<Spread> {
        let v: Vec<f64> = self.done().map(|d| d.goodput_mbps(bytes)).collect();
        spread(&v)
    }

    /// The figure: only when every seed finished (a median over the survivors would flatter).
    pub fn figure(&self, bytes: u64) -> Option<Spread> {
        if self.failures().next().is_some() {
            None
        } else {
            self.goodput(bytes)
        }
    }

    /// Median of a per-run quantity over the seeds that finished.
    pub fn median_of(&self, f: impl Fn(&Done) -> f64) -> Option<f64> {
        let v: Vec<f64> = self.done().map(f).collect();
        spread(&v).map(|s| s.median)
    }
}
