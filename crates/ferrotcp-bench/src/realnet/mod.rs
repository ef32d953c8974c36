//! Helpers for benches that run on real Linux paths: network namespaces the bench creates and
//! deletes itself, processes started inside them (in their own process group, killed on drop),
//! a watchdog that bounds a ferrotcp-io transfer, Linux's counters, and context for the report.
//! Everything that touches the system is undone by a `Drop` guard, also on error paths.

mod counters;
mod host;
mod netns;
mod proc_group;
mod watchdog;

pub use counters::{dev_stat, nstat};
pub use host::{check_privileges, loadavg, uname};
pub use netns::{Netns, ip};
pub use proc_group::Proc;
pub use watchdog::Watchdog;
