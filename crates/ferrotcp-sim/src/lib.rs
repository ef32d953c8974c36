//! Deterministic simulated network for ferrotcp.
