//! Median and spread of a set of runs.

use std::time::Duration;

/// The runs of one kind at one loss rate: their times, or why a run failed.
#[derive(Default)]
pub struct Runs {
    pub times: Vec<f64>,
    pub failures: usize,
}

impl Runs {
    pub fn push(&mut self, d: Duration) {
        self.times.push(d.as_secs_f64());
    }

    pub fn push_failure(&mut self) {
        self.failures += 1;
    }

    /// Median of the successful runs (mean of the middle two for an even count).
    pub fn median(&self) -> Option<f64> {
        let mut v = self.times.clone();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let m = v.len() / 2;
        Some(if v.len() % 2 == 1 {
            v[m]
        } else {
            (v[m - 1] + v[m]) / 2.0
        })
    }

    pub fn min(&self) -> Option<f64> {
        self.times.iter().copied().min_by(f64::total_cmp)
    }

    pub fn max(&self) -> Option<f64> {
        self.times.iter().copied().max_by(f64::total_cmp)
    }

    /// The figure's value: the median, or `None` ("FAIL") if any run failed.
    pub fn figure(&self) -> Option<f64> {
        if self.failures > 0 {
            None
        } else {
            self.median()
        }
    }

    /// "median 1.234 s (min 1.100 - max 1.500 s, 5 runs)" plus failures if any.
    pub fn describe(&self) -> String {
        let mut s = match (self.median(), self.min(), self.max()) {
            (Some(m), Some(lo), Some(hi)) => format!(
                "median {m:.3} s (min {lo:.3} - max {hi:.3} s, {} runs)",
                self.times.len()
            ),
            _ => "no successful run".to_string(),
        };
        if self.failures > 0 {
            s += &format!(", {} FAILED", self.failures);
        }
        s
    }
}
