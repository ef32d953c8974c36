//! Network layer helpers: IPv4 routing decisions and ICMP.

pub mod rate_limit;
