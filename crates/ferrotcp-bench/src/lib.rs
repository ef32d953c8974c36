//! Pieces shared by the bench programs (`ferrotcp-bench`, `sim_loss`, `loss_bench`,
//! `tap_throughput`): the addresses and settings both stacks get, the byte pattern and its
//! check, how each stack's host is set up (smoltcp's in-memory `Device` and `Interface`,
//! ferrotcp's `StackConfig`), so that every program compares the stacks under the very same
//! settings; and the helpers for benches on a real path through Linux network namespaces.

pub mod ferro_host;
pub mod harness;
pub mod heap_meter;
pub mod link;
pub mod pattern;
pub mod realnet;
pub mod smol_host;
pub mod spread;
