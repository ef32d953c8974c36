//! UDP (RFC 768) over IPv4.

use core::net::Ipv4Addr;

use super::checksum;
use super::{WireError, get16, put16};

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const LENGTH: usize = 4;
    pub const CHECKSUM: usize = 6;
}

const PROTOCOL_UDP: u8 = 17;

/// A checked view of a UDP datagram: 8 <= length field <= buffer length.
#[derive(Debug, Clone)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let b = buffer.as_ref();
        if b.len() < UdpRepr::HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let len = usize::from(get16(b, field::LENGTH));
        // RFC 768: the length counts the header, so it is at least 8.
        if len < UdpRepr::HEADER_LEN {
            return Err(WireError::Malformed);
        }
        if len > b.len() {
            return Err(WireError::Truncated);
        }
        Ok(UdpPacket { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn src_port(&self) -> u16 {
        get16(self.buffer.as_ref(), field::SRC_PORT)
    }

    pub fn dst_port(&self) -> u16 {
        get16(self.buffer.as_ref(), field::DST_PORT)
    }

    /// The length field (header + payload).
    pub fn len(&self) -> u16 {
        get16(self.buffer.as_ref(), field::LENGTH)
    }

    /// Never true for a checked view (the length is at least 8).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn checksum(&self) -> u16 {
        get16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// The payload as delimited by the length field.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[UdpRepr::HEADER_LEN..usize::from(self.len())]
    }

    /// RFC 768: a zero checksum means none was sent; otherwise the sum over the
    /// pseudo-header, header and payload must be zero.
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        if self.checksum() == 0 {
            return true;
        }
        let len = self.len();
        let acc = checksum::pseudo_header_v4(src, dst, PROTOCOL_UDP, len);
        checksum::checksum_with(acc, &self.buffer.as_ref()[..usize::from(len)]) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    pub fn set_src_port(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::SRC_PORT, v);
    }

    pub fn set_dst_port(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::DST_PORT, v);
    }

    pub fn set_checksum(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::CHECKSUM, v);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.len());
        &mut self.buffer.as_mut()[UdpRepr::HEADER_LEN..end]
    }
}

/// A parsed UDP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UdpRepr {
    pub src_port: u16,
    pub dst_port: u16,
}

impl UdpRepr {
    pub const HEADER_LEN: usize = 8;

    /// `bytes` is the IP payload. Checks the length field (>= 8, <= `bytes.len()`; trailing
    /// bytes beyond it are ignored) and the checksum (0 on the wire means none). Returns
    /// the payload.
    pub fn parse(
        bytes: &[u8],
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Result<(UdpRepr, &[u8]), WireError> {
        let p = UdpPacket::new_checked(bytes)?;
        if !p.verify_checksum(src, dst) {
            return Err(WireError::BadChecksum);
        }
        let repr = UdpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
        };
        Ok((repr, &bytes[Self::HEADER_LEN..usize::from(p.len())]))
    }

    /// `datagram` = 8 header bytes followed by the payload already in place (total at most
    /// 65535 bytes); writes the header and the checksum (a computed 0 is sent as 0xFFFF).
    pub fn emit(&self, datagram: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr) {
        debug_assert!(datagram.len() >= Self::HEADER_LEN);
        debug_assert!(datagram.len() <= usize::from(u16::MAX));
        let len = datagram.len() as u16;
        put16(datagram, field::SRC_PORT, self.src_port);
        put16(datagram, field::DST_PORT, self.dst_port);
        put16(datagram, field::LENGTH, len);
        put16(datagram, field::CHECKSUM, 0);
        let acc = checksum::pseudo_header_v4(src, dst, PROTOCOL_UDP, len);
        let c = match checksum::checksum_with(acc, datagram) {
            // RFC 768: an all-zero computed checksum is transmitted as all ones.
            0 => 0xFFFF,
            c => c,
        };
        put16(datagram, field::CHECKSUM, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 2);

    // 192.168.0.1:1234 -> 192.168.0.2:53, payload "hi", checksum computed by hand:
    // pseudo c0a8+0001+c0a8+0002+0011+000a = 0x18166; header 04d2+0035+000a; "hi" 6869.
    const DGRAM: [u8; 10] = [0x04, 0xd2, 0x00, 0x35, 0x00, 0x0a, 0x11, 0x16, b'h', b'i'];

    #[test]
    fn parse_and_emit_known_datagram() {
        let (r, payload) = UdpRepr::parse(&DGRAM, SRC, DST).unwrap();
        assert_eq!((r.src_port, r.dst_port), (1234, 53));
        assert_eq!(payload, b"hi");
        let mut out = [0u8; 10];
        out[8..].copy_from_slice(b"hi");
        r.emit(&mut out, SRC, DST);
        assert_eq!(out, DGRAM);
        // Wrong addresses break the pseudo-header sum.
        assert_eq!(
            UdpRepr::parse(&DGRAM, SRC, SRC),
            Err(WireError::BadChecksum)
        );
    }

    #[test]
    fn zero_checksum_means_none_and_trailing_bytes_are_ignored() {
        let mut d = DGRAM.to_vec();
        d[6] = 0;
        d[7] = 0;
        d.extend_from_slice(&[0xFF; 5]);
        let (_, payload) = UdpRepr::parse(&d, SRC, SRC).unwrap();
        assert_eq!(payload, b"hi");
    }

    #[test]
    fn length_checks() {
        assert_eq!(
            UdpRepr::parse(&DGRAM[..7], SRC, DST),
            Err(WireError::Truncated)
        );
        assert_eq!(
            UdpRepr::parse(&DGRAM[..9], SRC, DST),
            Err(WireError::Truncated)
        );
        let mut d = DGRAM;
        d[5] = 7;
        assert_eq!(UdpRepr::parse(&d, SRC, DST), Err(WireError::Malformed));
    }

    #[test]
    fn computed_zero_is_sent_as_ffff() {
        // Choose the payload so the checksum comes out zero: the sum must be 0xFFFF.
        let r = UdpRepr {
            src_port: 0,
            dst_port: 0,
        };
        let mut d = [0u8; 10];
        r.emit(&mut d, SRC, DST);
        let c = get16(&d, 6);
        // Adding the old checksum as payload makes the total sum 0xFFFF (computed 0).
        let mut d2 = [0u8; 10];
        d2[8..].copy_from_slice(&c.to_be_bytes());
        r.emit(&mut d2, SRC, DST);
        assert_eq!(get16(&d2, 6), 0xFFFF);
        assert!(UdpRepr::parse(&d2, SRC, DST).is_ok());
    }
}
