//! What a link does to frames: loss, duplication, reordering, corruption, delay, bandwidth.
//!
//! Plain data with a "perfect link" default, so a scenario states only the impairments it is about.

use core::fmt;

use ferrotcp::time::Duration;

/// One direction of a link. `Default` is a perfect wire: no loss, no delay, infinite bandwidth.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Impairments {
    /// Probability a frame is dropped on the wire (after it used its share of bandwidth).
    pub loss: f64,
    /// Probability a frame is delivered twice (the copy arrives right behind the original).
    pub duplicate: f64,
    /// Probability a frame is held back by `reorder_delay`, letting later frames overtake it.
    pub reorder: f64,
    pub reorder_delay: Duration,
    /// Probability one uniformly chosen bit of the frame is flipped.
    pub corrupt: f64,
    /// One-way propagation delay.
    pub delay: Duration,
    /// Uniform extra delay in `[0, jitter]`. Never reorders frames on its own: a frame that would
    /// overtake an earlier one is held until that one has arrived.
    pub jitter: Duration,
    /// Serialisation rate; `None` = infinitely fast. Frames queue behind each other.
    pub bandwidth_bps: Option<u64>,
    /// Frames allowed to wait for serialisation (the one on the wire is not counted);
    /// beyond it the new frame is tail-dropped. `None` = unbounded. Only matters with bandwidth.
    pub queue_limit: Option<usize>,
}

impl Impairments {
    /// A perfect wire (same as `Default`).
    pub fn perfect() -> Self {
        Impairments::default()
    }

    /// A perfect wire with a fixed one-way delay.
    pub fn with_delay(delay: Duration) -> Self {
        Impairments {
            delay,
            ..Impairments::default()
        }
    }

    /// Checks what the type cannot: probabilities in `[0, 1]` and a non-zero bandwidth.
    pub fn validate(&self) -> Result<(), ImpairmentError> {
        let probabilities = [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
            ("corrupt", self.corrupt),
        ];
        for (field, value) in probabilities {
            if !(0.0..=1.0).contains(&value) {
                return Err(ImpairmentError::BadProbability { field, value });
            }
        }
        if self.bandwidth_bps == Some(0) {
            return Err(ImpairmentError::ZeroBandwidth);
        }
        Ok(())
    }
}

/// Both directions of a point-to-point link.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct LinkConfig {
    pub a_to_b: Impairments,
    pub b_to_a: Impairments,
}

impl LinkConfig {
    /// Perfect in both directions.
    pub fn perfect() -> Self {
        LinkConfig::default()
    }

    /// The same impairments in both directions.
    pub fn symmetric(impairments: Impairments) -> Self {
        LinkConfig {
            a_to_b: impairments.clone(),
            b_to_a: impairments,
        }
    }

    pub fn validate(&self) -> Result<(), ImpairmentError> {
        self.a_to_b.validate()?;
        self.b_to_a.validate()
    }
}

/// An impairment value that makes no sense.
#[derive(Clone, Debug, PartialEq)]
pub enum ImpairmentError {
    /// A probability outside `[0, 1]` (or NaN).
    BadProbability { field: &'static str, value: f64 },
    /// `bandwidth_bps: Some(0)` would never finish sending anything.
    ZeroBandwidth,
}

impl fmt::Display for ImpairmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImpairmentError::BadProbability { field, value } => {
                write!(
                    f,
                    "impairment `{field}` = {value} is not a probability in [0, 1]"
                )
            }
            ImpairmentError::ZeroBandwidth => f.write_str("bandwidth of 0 bit/s"),
        }
    }
}

impl std::error::Error for ImpairmentError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_perfect() {
        let p = Impairments::default();
        assert_eq!(p.validate(), Ok(()));
        assert_eq!(p.loss, 0.0);
        assert_eq!(p.delay, Duration::ZERO);
        assert_eq!(p.bandwidth_bps, None);
    }

    #[test]
    fn rejects_bad_probabilities_and_zero_bandwidth() {
        let bad = Impairments {
            loss: 1.5,
            ..Impairments::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(ImpairmentError::BadProbability { field: "loss", .. })
        ));
        let nan = Impairments {
            corrupt: f64::NAN,
            ..Impairments::default()
        };
        assert!(nan.validate().is_err());
        let zero = Impairments {
            bandwidth_bps: Some(0),
            ..Impairments::default()
        };
        assert_eq!(zero.validate(), Err(ImpairmentError::ZeroBandwidth));
        let cfg = LinkConfig {
            a_to_b: Impairments::default(),
            b_to_a: bad,
        };
        assert!(cfg.validate().is_err());
    }
}
