//! Byte formats: zero-copy checked views over buffers, and parsed representations with
//! `parse` and `emit`. Parsing never panics; malformed input is a typed [`WireError`].

pub mod arp;
pub mod checksum;
pub mod ethernet;
pub mod icmpv4;
pub mod ipv4;
pub mod tcp;
pub mod udp;
