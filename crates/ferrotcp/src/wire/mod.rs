//! Byte formats: zero-copy checked views over buffers, and parsed representations with
//! `parse` and `emit`. Parsing never panics; malformed input is a typed [`WireError`].

pub mod arp;
pub mod checksum;
pub mod ethernet;
pub mod icmpv4;
pub mod ipv4;
pub mod offload;
pub mod tcp;
pub mod udp;

use core::fmt;

pub use arp::{ArpOperation, ArpPacket, ArpRepr};
pub use ethernet::{EtherType, EthernetFrame, EthernetRepr, MacAddr};
pub use icmpv4::{Icmpv4Packet, Icmpv4Repr};
pub use ipv4::{IpProtocol, Ipv4Packet, Ipv4Repr};
pub use offload::{FrameOffload, Transmit, TxOffload};
pub use tcp::{SackBlock, TcpFlags, TcpOptions, TcpPacket, TcpRepr};
pub use udp::{UdpPacket, UdpRepr};

/// Why a buffer could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireError {
    /// The buffer is shorter than a header or a length field says.
    Truncated,
    /// A field has an illegal value (bad version, header length, option length...).
    Malformed,
    /// The checksum does not verify.
    BadChecksum,
    /// A legal format this stack does not handle (e.g. non-Ethernet/IPv4 ARP).
    Unsupported,
    /// An IPv4 fragment; reassembly is not supported.
    Fragmented,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WireError::Truncated => "truncated packet",
            WireError::Malformed => "malformed packet",
            WireError::BadChecksum => "bad checksum",
            WireError::Unsupported => "unsupported packet format",
            WireError::Fragmented => "fragmented packet",
        })
    }
}

impl std::error::Error for WireError {}

// Big-endian field helpers. Callers guarantee `at + N <= b.len()` (checked views and
// emit buffers of documented minimum size), so these index directly.

#[inline]
pub(crate) fn get16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

#[inline]
pub(crate) fn get32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[inline]
pub(crate) fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

#[inline]
pub(crate) fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

#[inline]
pub(crate) fn get_ipv4(b: &[u8], at: usize) -> core::net::Ipv4Addr {
    core::net::Ipv4Addr::from(get32(b, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_display() {
        assert_eq!(WireError::BadChecksum.to_string(), "bad checksum");
        let e: Box<dyn std::error::Error> = Box::new(WireError::Truncated);
        assert_eq!(e.to_string(), "truncated packet");
    }
}
