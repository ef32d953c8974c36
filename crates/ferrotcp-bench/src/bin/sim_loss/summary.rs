//! Several seeds per point, summarised as median and range.

use crate::transfer::Done;

/// Median and extremes of a set of values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// `None` for an empty set.
pub fn spread(values: &[f64]) -> Option<Spread> {
    let mut v: Vec<f64> = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let (&min, &max) = (v.first()?, v.last()?);
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some(Spread { median, min, max })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_sets() {
        let s = spread(&[3.0, 1.0, 2.0]).expect("non-empty");
        assert_eq!(
            s,
            Spread {
                median: 2.0,
                min: 1.0,
                max: 3.0
            }
        );
        let s = spread(&[4.0, 1.0, 3.0, 2.0]).expect("non-empty");
        assert_eq!(s.median, 2.5);
        assert!(spread(&[]).is_none());
    }
}
