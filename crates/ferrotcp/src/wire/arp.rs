//! ARP (RFC 826), Ethernet hardware and IPv4 protocol addresses only.

use core::net::Ipv4Addr;

use super::{MacAddr, WireError, get16, put16};

/// The ARP opcode (RFC 826 "ar$op").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArpOperation {
    Request,
    Reply,
    Unknown(u16),
}

impl From<u16> for ArpOperation {
    fn from(v: u16) -> Self {
        match v {
            1 => ArpOperation::Request,
            2 => ArpOperation::Reply,
            other => ArpOperation::Unknown(other),
        }
    }
}

impl From<ArpOperation> for u16 {
    fn from(op: ArpOperation) -> u16 {
        match op {
            ArpOperation::Request => 1,
            ArpOperation::Reply => 2,
            ArpOperation::Unknown(v) => v,
        }
    }
}

/// Hardware type for Ethernet (RFC 826 "ar$hrd").
pub const HTYPE_ETHERNET: u16 = 1;
/// Protocol type for IPv4 (an EtherType, RFC 826 "ar$pro").
pub const PTYPE_IPV4: u16 = 0x0800;

mod field {
    pub const HTYPE: usize = 0;
    pub const PTYPE: usize = 2;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: usize = 6;
    pub const ADDRS: usize = 8;
}

/// A checked view of an ARP packet with any address lengths.
#[derive(Debug, Clone)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Checks the fixed part and that the four addresses fit in the buffer.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let b = buffer.as_ref();
        if b.len() < field::ADDRS {
            return Err(WireError::Truncated);
        }
        let p = ArpPacket { buffer };
        if p.buffer.as_ref().len() < p.addrs_end() {
            return Err(WireError::Truncated);
        }
        Ok(p)
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn addrs_end(&self) -> usize {
        field::ADDRS + 2 * (usize::from(self.hardware_len()) + usize::from(self.protocol_len()))
    }

    pub fn hardware_type(&self) -> u16 {
        get16(self.buffer.as_ref(), field::HTYPE)
    }

    pub fn protocol_type(&self) -> u16 {
        get16(self.buffer.as_ref(), field::PTYPE)
    }

    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    pub fn operation(&self) -> ArpOperation {
        get16(self.buffer.as_ref(), field::OPER).into()
    }

    /// Byte range of address `index`: 0 sender hardware, 1 sender protocol,
    /// 2 target hardware, 3 target protocol (RFC 826 field order).
    fn addr_range(&self, index: usize) -> core::ops::Range<usize> {
        let (h, p) = (
            usize::from(self.hardware_len()),
            usize::from(self.protocol_len()),
        );
        let (start, len) = match index {
            0 => (field::ADDRS, h),
            1 => (field::ADDRS + h, p),
            2 => (field::ADDRS + h + p, h),
            _ => (field::ADDRS + 2 * h + p, p),
        };
        start..start + len
    }

    fn addr(&self, index: usize) -> &[u8] {
        &self.buffer.as_ref()[self.addr_range(index)]
    }

    pub fn sender_hardware_addr(&self) -> &[u8] {
        self.addr(0)
    }

    pub fn sender_protocol_addr(&self) -> &[u8] {
        self.addr(1)
    }

    pub fn target_hardware_addr(&self) -> &[u8] {
        self.addr(2)
    }

    pub fn target_protocol_addr(&self) -> &[u8] {
        self.addr(3)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    pub fn set_operation(&mut self, op: ArpOperation) {
        put16(self.buffer.as_mut(), field::OPER, op.into());
    }

    fn addr_mut(&mut self, index: usize) -> &mut [u8] {
        let range = self.addr_range(index);
        &mut self.buffer.as_mut()[range]
    }

    /// Mutable sender hardware address (length `hardware_len()`).
    pub fn sender_hardware_addr_mut(&mut self) -> &mut [u8] {
        self.addr_mut(0)
    }

    pub fn sender_protocol_addr_mut(&mut self) -> &mut [u8] {
        self.addr_mut(1)
    }

    pub fn target_hardware_addr_mut(&mut self) -> &mut [u8] {
        self.addr_mut(2)
    }

    pub fn target_protocol_addr_mut(&mut self) -> &mut [u8] {
        self.addr_mut(3)
    }
}

/// A parsed Ethernet/IPv4 ARP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArpRepr {
    pub operation: ArpOperation,
    pub sender_mac: MacAddr,
    pub sender_ip: Ipv4Addr,
    pub target_mac: MacAddr,
    pub target_ip: Ipv4Addr,
}

impl ArpRepr {
    pub const LEN: usize = 28;

    /// Parses an Ethernet/IPv4 ARP packet; other hardware or protocol types are
    /// `Unsupported`. Trailing bytes (link padding) are ignored.
    pub fn parse(bytes: &[u8]) -> Result<ArpRepr, WireError> {
        if bytes.len() < field::ADDRS {
            return Err(WireError::Truncated);
        }
        let (htype, ptype) = (get16(bytes, field::HTYPE), get16(bytes, field::PTYPE));
        if htype != HTYPE_ETHERNET || ptype != PTYPE_IPV4 {
            return Err(WireError::Unsupported);
        }
        // RFC 826: ar$hln/ar$pln must match the types' address sizes.
        if bytes[field::HLEN] != 6 || bytes[field::PLEN] != 4 {
            return Err(WireError::Malformed);
        }
        let p = ArpPacket::new_checked(bytes)?;
        let mac = |b: &[u8]| MacAddr::from_bytes(b).ok_or(WireError::Malformed);
        let ip = |b: &[u8]| {
            <[u8; 4]>::try_from(b)
                .map(Ipv4Addr::from)
                .map_err(|_| WireError::Malformed)
        };
        Ok(ArpRepr {
            operation: p.operation(),
            sender_mac: mac(p.sender_hardware_addr())?,
            sender_ip: ip(p.sender_protocol_addr())?,
            target_mac: mac(p.target_hardware_addr())?,
            target_ip: ip(p.target_protocol_addr())?,
        })
    }

    /// Writes 28 bytes. `buf.len()` must be at least [`Self::LEN`].
    pub fn emit(&self, buf: &mut [u8]) {
        debug_assert!(buf.len() >= Self::LEN);
        put16(buf, field::HTYPE, HTYPE_ETHERNET);
        put16(buf, field::PTYPE, PTYPE_IPV4);
        buf[field::HLEN] = 6;
        buf[field::PLEN] = 4;
        put16(buf, field::OPER, self.operation.into());
        buf[8..14].copy_from_slice(&self.sender_mac.0);
        buf[14..18].copy_from_slice(&self.sender_ip.octets());
        buf[18..24].copy_from_slice(&self.target_mac.0);
        buf[24..28].copy_from_slice(&self.target_ip.octets());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // "Who has 10.0.0.2? Tell 10.0.0.1" from 02:00:00:00:00:01.
    const REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // htype, ptype, hlen, plen, op
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 0, 0, 1, // sender
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 0, 2, // target
    ];

    fn request() -> ArpRepr {
        ArpRepr {
            operation: ArpOperation::Request,
            sender_mac: MacAddr([2, 0, 0, 0, 0, 1]),
            sender_ip: Ipv4Addr::new(10, 0, 0, 1),
            target_mac: MacAddr::ZERO,
            target_ip: Ipv4Addr::new(10, 0, 0, 2),
        }
    }

    #[test]
    fn parse_and_emit_request() {
        assert_eq!(ArpRepr::parse(&REQUEST), Ok(request()));
        let mut out = [0u8; 28];
        request().emit(&mut out);
        assert_eq!(out, REQUEST);
        // Ethernet padding after the packet is ignored.
        let mut padded = REQUEST.to_vec();
        padded.extend_from_slice(&[0; 18]);
        assert_eq!(ArpRepr::parse(&padded), Ok(request()));
    }

    #[test]
    fn rejects_bad_packets() {
        assert_eq!(ArpRepr::parse(&REQUEST[..27]), Err(WireError::Truncated));
        assert_eq!(ArpRepr::parse(&REQUEST[..5]), Err(WireError::Truncated));
        let mut p = REQUEST;
        p[1] = 6; // IEEE 802 hardware
        assert_eq!(ArpRepr::parse(&p), Err(WireError::Unsupported));
        let mut p = REQUEST;
        p[2] = 0x86; // IPv6
        p[3] = 0xdd;
        assert_eq!(ArpRepr::parse(&p), Err(WireError::Unsupported));
        let mut p = REQUEST;
        p[5] = 16;
        assert_eq!(ArpRepr::parse(&p), Err(WireError::Malformed));
    }

    #[test]
    fn view_accessors() {
        let mut buf = REQUEST;
        let mut p = ArpPacket::new_checked(&mut buf[..]).unwrap();
        assert_eq!(p.hardware_type(), 1);
        assert_eq!(p.protocol_type(), 0x0800);
        assert_eq!(p.target_protocol_addr(), &[10, 0, 0, 2]);
        p.set_operation(ArpOperation::Reply);
        p.target_hardware_addr_mut().copy_from_slice(&[9; 6]);
        assert_eq!(p.operation(), ArpOperation::Reply);
        let r = ArpRepr::parse(&buf).unwrap();
        assert_eq!(r.target_mac, MacAddr([9; 6]));
        assert_eq!(u16::from(ArpOperation::from(7)), 7);
    }

    #[test]
    fn view_checks_variable_address_lengths() {
        let mut p = [0u8; 8 + 2 * (8 + 16)];
        p[4] = 8;
        p[5] = 16;
        assert!(ArpPacket::new_checked(&p[..]).is_ok());
        assert_eq!(
            ArpPacket::new_checked(&p[..p.len() - 1]).err(),
            Some(WireError::Truncated)
        );
    }
}
