//! Ready-made scenarios over the two-host [`Pair`](crate::Pair).

pub mod echo;
pub mod explain;
pub mod pattern;
