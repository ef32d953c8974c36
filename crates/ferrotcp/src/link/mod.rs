//! Link layer: Ethernet framing and ARP.

pub mod arp_cache;
