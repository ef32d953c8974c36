//! Ethernet II framing (IEEE 802.3 with EtherType, RFC 894).

use core::fmt;

use super::{WireError, get16, put16};

/// A 48-bit IEEE 802 MAC address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const BROADCAST: MacAddr = MacAddr([0xFF; 6]);
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// `ff:ff:ff:ff:ff:ff`.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// Group bit set (IEEE 802 I/G bit); broadcast is also multicast.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// Neither multicast nor broadcast.
    pub fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// Locally administered (U/L bit set).
    pub fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    /// The address in a byte slice of exactly 6 bytes.
    pub fn from_bytes(b: &[u8]) -> Option<MacAddr> {
        b.try_into().ok().map(MacAddr)
    }

    pub fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// The EtherType field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EtherType {
    Ipv4,
    Arp,
    Ipv6,
    Unknown(u16),
}

impl From<u16> for EtherType {
    fn from(v: u16) -> Self {
        match v {
            0x0800 => EtherType::Ipv4,
            0x0806 => EtherType::Arp,
            0x86DD => EtherType::Ipv6,
            other => EtherType::Unknown(other),
        }
    }
}

impl From<EtherType> for u16 {
    fn from(t: EtherType) -> u16 {
        match t {
            EtherType::Ipv4 => 0x0800,
            EtherType::Arp => 0x0806,
            EtherType::Ipv6 => 0x86DD,
            EtherType::Unknown(v) => v,
        }
    }
}

mod field {
    pub const DST: core::ops::Range<usize> = 0..6;
    pub const SRC: core::ops::Range<usize> = 6..12;
    pub const ETHERTYPE: usize = 12;
    pub const PAYLOAD: usize = 14;
}

/// A checked view of an Ethernet II frame (at least 14 bytes).
#[derive(Debug, Clone)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Wraps `buffer`, checking that it holds a whole header.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        if buffer.as_ref().len() < field::PAYLOAD {
            return Err(WireError::Truncated);
        }
        Ok(EthernetFrame { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn dst_addr(&self) -> MacAddr {
        let mut a = [0; 6];
        a.copy_from_slice(&self.buffer.as_ref()[field::DST]);
        MacAddr(a)
    }

    pub fn src_addr(&self) -> MacAddr {
        let mut a = [0; 6];
        a.copy_from_slice(&self.buffer.as_ref()[field::SRC]);
        MacAddr(a)
    }

    pub fn ethertype(&self) -> EtherType {
        EtherType::from(get16(self.buffer.as_ref(), field::ETHERTYPE))
    }

    /// Everything after the header, including any link padding.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    pub fn set_dst_addr(&mut self, a: MacAddr) {
        self.buffer.as_mut()[field::DST].copy_from_slice(&a.0);
    }

    pub fn set_src_addr(&mut self, a: MacAddr) {
        self.buffer.as_mut()[field::SRC].copy_from_slice(&a.0);
    }

    pub fn set_ethertype(&mut self, t: EtherType) {
        put16(self.buffer.as_mut(), field::ETHERTYPE, t.into());
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD..]
    }
}

/// A parsed Ethernet II header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EthernetRepr {
    pub src: MacAddr,
    pub dst: MacAddr,
    pub ethertype: EtherType,
}

impl EthernetRepr {
    pub const HEADER_LEN: usize = 14;

    /// Parses the header; returns it and the payload (which may include link padding).
    pub fn parse(frame: &[u8]) -> Result<(EthernetRepr, &[u8]), WireError> {
        let f = EthernetFrame::new_checked(frame)?;
        let repr = EthernetRepr {
            src: f.src_addr(),
            dst: f.dst_addr(),
            ethertype: f.ethertype(),
        };
        Ok((repr, &frame[field::PAYLOAD..]))
    }

    /// Writes the 14-byte header. `buf.len()` must be at least [`Self::HEADER_LEN`].
    pub fn emit(&self, buf: &mut [u8]) {
        debug_assert!(buf.len() >= Self::HEADER_LEN);
        buf[field::DST].copy_from_slice(&self.dst.0);
        buf[field::SRC].copy_from_slice(&self.src.0);
        put16(buf, field::ETHERTYPE, self.ethertype.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: [u8; 16] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // dst
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // src
        0x08, 0x06, // ARP
        0xaa, 0xbb,
    ];

    #[test]
    fn parse_known_frame() {
        let (r, payload) = EthernetRepr::parse(&FRAME).unwrap();
        assert_eq!(r.dst, MacAddr::BROADCAST);
        assert_eq!(r.src, MacAddr([2, 0, 0, 0, 0, 1]));
        assert_eq!(r.ethertype, EtherType::Arp);
        assert_eq!(payload, &[0xaa, 0xbb]);
        let mut out = [0u8; 14];
        r.emit(&mut out);
        assert_eq!(out, FRAME[..14]);
    }

    #[test]
    fn short_frame_is_truncated() {
        assert_eq!(EthernetRepr::parse(&FRAME[..13]), Err(WireError::Truncated));
        assert_eq!(EthernetRepr::parse(&FRAME[..14]).unwrap().1, &[] as &[u8]);
    }

    #[test]
    fn view_setters() {
        let mut buf = [0u8; 20];
        let mut f = EthernetFrame::new_checked(&mut buf[..]).unwrap();
        f.set_dst_addr(MacAddr([1, 2, 3, 4, 5, 6]));
        f.set_src_addr(MacAddr::BROADCAST);
        f.set_ethertype(EtherType::Unknown(0x1234));
        f.payload_mut()[0] = 9;
        assert_eq!(f.dst_addr(), MacAddr([1, 2, 3, 4, 5, 6]));
        assert_eq!(f.ethertype(), EtherType::Unknown(0x1234));
        assert_eq!(buf[12..15], [0x12, 0x34, 9]);
    }

    #[test]
    fn mac_classes_and_display() {
        let m = MacAddr([2, 0, 0, 0, 0, 1]);
        assert_eq!(m.to_string(), "02:00:00:00:00:01");
        assert!(m.is_unicast() && !m.is_multicast() && m.is_local());
        assert!(MacAddr::BROADCAST.is_broadcast() && MacAddr::BROADCAST.is_multicast());
        assert!(!MacAddr::BROADCAST.is_unicast());
        assert!(MacAddr([0x01, 0, 0x5e, 0, 0, 1]).is_multicast());
        assert_eq!(MacAddr::from_bytes(&[1, 2, 3]), None);
    }

    #[test]
    fn ethertype_conversions() {
        for v in [0x0800u16, 0x0806, 0x86DD, 0x88CC] {
            assert_eq!(u16::from(EtherType::from(v)), v);
        }
        assert_eq!(EtherType::from(0x86DD), EtherType::Ipv6);
    }
}
