//! Median and extremes of a set of runs: what every bench program reports (the median, never
//! the best run, with the range beside it).

/// Median and extremes of a set of values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    /// The middle value (the mean of the middle two for an even count).
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub count: usize,
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
    Some(Spread {
        median,
        min,
        max,
        count: n,
    })
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
                max: 3.0,
                count: 3
            }
        );
        let s = spread(&[4.0, 1.0, 3.0, 2.0]).expect("non-empty");
        assert_eq!(s.median, 2.5);
        assert!(spread(&[]).is_none());
    }
}
