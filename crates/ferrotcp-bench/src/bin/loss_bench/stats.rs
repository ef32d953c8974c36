//! Median and spread of a set of runs.

use std::time::Duration;

use ferrotcp_bench::spread::spread;

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
        spread(&self.times).map(|s| s.median)
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
        let mut s = match spread(&self.times) {
            Some(v) => format!(
                "median {:.3} s (min {:.3} - max {:.3} s, {} runs)",
                v.median, v.min, v.max, v.count
            ),
            None => "no successful run".to_string(),
        };
        if self.failures > 0 {
            s += &format!(", {} FAILED", self.failures);
        }
        s
    }
}
