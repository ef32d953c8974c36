//! IPv4 (RFC 791). No fragment reassembly; options are skipped on receive and never sent.

use core::net::Ipv4Addr;

use super::checksum;
use super::{WireError, get_ipv4, get16, put16};

/// The IPv4 protocol field (IANA protocol numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpProtocol {
    Icmp,
    Tcp,
    Udp,
    Unknown(u8),
}

impl From<u8> for IpProtocol {
    fn from(v: u8) -> Self {
        match v {
            1 => IpProtocol::Icmp,
            6 => IpProtocol::Tcp,
            17 => IpProtocol::Udp,
            other => IpProtocol::Unknown(other),
        }
    }
}

impl From<IpProtocol> for u8 {
    fn from(p: IpProtocol) -> u8 {
        match p {
            IpProtocol::Icmp => 1,
            IpProtocol::Tcp => 6,
            IpProtocol::Udp => 17,
            IpProtocol::Unknown(v) => v,
        }
    }
}

pub(crate) mod field {
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLG_OFF: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC: usize = 12;
    pub const DST: usize = 16;
}

const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1FFF;

/// A checked view of an IPv4 packet: header length >= 20 and <= total length <= buffer.
#[derive(Debug, Clone)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Checks lengths only (not version or checksum).
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let b = buffer.as_ref();
        if b.len() < Ipv4Repr::HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let ihl = usize::from(b[field::VER_IHL] & 0x0F) * 4;
        let total = usize::from(get16(b, field::LENGTH));
        // RFC 791 §3.1: IHL is at least 5 words; total length includes the header.
        if ihl < Ipv4Repr::HEADER_LEN || total < ihl {
            return Err(WireError::Malformed);
        }
        if total > b.len() {
            return Err(WireError::Truncated);
        }
        Ok(Ipv4Packet { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes (IHL * 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0F) * 4
    }

    /// The DSCP and ECN bits (the former TOS octet).
    pub fn dscp_ecn(&self) -> u8 {
        self.buffer.as_ref()[field::TOS]
    }

    pub fn total_len(&self) -> u16 {
        get16(self.buffer.as_ref(), field::LENGTH)
    }

    pub fn ident(&self) -> u16 {
        get16(self.buffer.as_ref(), field::IDENT)
    }

    pub fn dont_fragment(&self) -> bool {
        get16(self.buffer.as_ref(), field::FLG_OFF) & FLAG_DF != 0
    }

    pub fn more_fragments(&self) -> bool {
        get16(self.buffer.as_ref(), field::FLG_OFF) & FLAG_MF != 0
    }

    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        (get16(self.buffer.as_ref(), field::FLG_OFF) & OFFSET_MASK) << 3
    }

    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    pub fn protocol(&self) -> IpProtocol {
        self.buffer.as_ref()[field::PROTOCOL].into()
    }

    pub fn checksum(&self) -> u16 {
        get16(self.buffer.as_ref(), field::CHECKSUM)
    }

    pub fn src_addr(&self) -> Ipv4Addr {
        get_ipv4(self.buffer.as_ref(), field::SRC)
    }

    pub fn dst_addr(&self) -> Ipv4Addr {
        get_ipv4(self.buffer.as_ref(), field::DST)
    }

    /// Header options (possibly empty).
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[Ipv4Repr::HEADER_LEN..self.header_len()]
    }

    /// RFC 791 §3.1: the header checksum sums to zero over the whole header.
    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(&self.buffer.as_ref()[..self.header_len()]) == 0
    }

    /// The payload: from the header end to the total length (link padding excluded).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..usize::from(self.total_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    pub fn set_dscp_ecn(&mut self, v: u8) {
        self.buffer.as_mut()[field::TOS] = v;
    }

    pub fn set_ident(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::IDENT, v);
    }

    pub fn set_ttl(&mut self, v: u8) {
        self.buffer.as_mut()[field::TTL] = v;
    }

    pub fn set_protocol(&mut self, p: IpProtocol) {
        self.buffer.as_mut()[field::PROTOCOL] = p.into();
    }

    pub fn set_checksum(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::CHECKSUM, v);
    }

    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC..field::SRC + 4].copy_from_slice(&a.octets());
    }

    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::DST..field::DST + 4].copy_from_slice(&a.octets());
    }

    /// Recomputes the header checksum.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(&self.buffer.as_ref()[..self.header_len()]);
        self.set_checksum(c);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (start, end) = (self.header_len(), usize::from(self.total_len()));
        &mut self.buffer.as_mut()[start..end]
    }
}

/// A parsed IPv4 header (unfragmented, options dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ipv4Repr {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: IpProtocol,
    pub payload_len: usize,
    pub ttl: u8,
    pub ident: u16,
    pub dont_fragment: bool,
    pub dscp_ecn: u8,
}

impl Ipv4Repr {
    pub const HEADER_LEN: usize = 20;

    /// Checks version 4 (else `Malformed`), IHL >= 5, total length within the buffer (bytes
    /// past total length are Ethernet padding and are ignored), and the header checksum
    /// (`BadChecksum`). Options are skipped. A fragment (MF set or offset != 0) is
    /// `Fragmented`. Returns the repr and the payload (exactly `payload_len` bytes).
    pub fn parse(packet: &[u8]) -> Result<(Ipv4Repr, &[u8]), WireError> {
        let p = Ipv4Packet::new_checked(packet)?;
        if p.version() != 4 {
            return Err(WireError::Malformed);
        }
        if !p.verify_checksum() {
            return Err(WireError::BadChecksum);
        }
        if p.more_fragments() || p.frag_offset() != 0 {
            return Err(WireError::Fragmented);
        }
        let payload = &packet[p.header_len()..usize::from(p.total_len())];
        let repr = Ipv4Repr {
            src: p.src_addr(),
            dst: p.dst_addr(),
            protocol: p.protocol(),
            payload_len: payload.len(),
            ttl: p.ttl(),
            ident: p.ident(),
            dont_fragment: p.dont_fragment(),
            dscp_ecn: p.dscp_ecn(),
        };
        Ok((repr, payload))
    }

    /// Writes a 20-byte header without options, total length `20 + payload_len` (which
    /// must fit in 16 bits), checksum filled in. `buf.len()` must be at least 20.
    pub fn emit(&self, buf: &mut [u8]) {
        debug_assert!(buf.len() >= Self::HEADER_LEN);
        debug_assert!(Self::HEADER_LEN + self.payload_len <= usize::from(u16::MAX));
        let total = (Self::HEADER_LEN + self.payload_len) as u16;
        buf[field::VER_IHL] = 0x45;
        buf[field::TOS] = self.dscp_ecn;
        put16(buf, field::LENGTH, total);
        put16(buf, field::IDENT, self.ident);
        put16(
            buf,
            field::FLG_OFF,
            if self.dont_fragment { FLAG_DF } else { 0 },
        );
        buf[field::TTL] = self.ttl;
        buf[field::PROTOCOL] = self.protocol.into();
        put16(buf, field::CHECKSUM, 0);
        buf[field::SRC..field::SRC + 4].copy_from_slice(&self.src.octets());
        buf[field::DST..field::DST + 4].copy_from_slice(&self.dst.octets());
        let c = checksum::checksum(&buf[..Self::HEADER_LEN]);
        put16(buf, field::CHECKSUM, c);
    }

    /// Header plus payload length.
    pub fn buffer_len(&self) -> usize {
        Self::HEADER_LEN + self.payload_len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // UDP, 192.168.0.1 -> 192.168.0.199, total length 0x73, DF, TTL 64, checksum 0xb861.
    const HEADER: [u8; 20] = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];

    fn packet() -> Vec<u8> {
        let mut p = HEADER.to_vec();
        p.resize(0x73, 0xAB);
        p
    }

    #[test]
    fn parse_known_header() {
        let mut p = packet();
        p.extend_from_slice(&[0; 6]); // link padding
        let (r, payload) = Ipv4Repr::parse(&p).unwrap();
        assert_eq!(r.src, Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!(r.dst, Ipv4Addr::new(192, 168, 0, 199));
        assert_eq!(r.protocol, IpProtocol::Udp);
        assert_eq!(r.payload_len, 0x73 - 20);
        assert_eq!(payload.len(), 0x73 - 20);
        assert!(payload.iter().all(|&b| b == 0xAB));
        assert_eq!(
            (r.ttl, r.ident, r.dont_fragment, r.dscp_ecn),
            (64, 0, true, 0)
        );
        let mut out = [0u8; 20];
        r.emit(&mut out);
        assert_eq!(out, HEADER);
    }

    #[test]
    fn rejects_bad_headers() {
        let p = packet();
        assert_eq!(Ipv4Repr::parse(&p[..19]), Err(WireError::Truncated));
        assert_eq!(Ipv4Repr::parse(&p[..0x72]), Err(WireError::Truncated));
        let mut bad = p.clone();
        bad[11] ^= 1;
        assert_eq!(Ipv4Repr::parse(&bad), Err(WireError::BadChecksum));
        let mut bad = p.clone();
        bad[0] = 0x44; // IHL 4
        assert_eq!(Ipv4Repr::parse(&bad), Err(WireError::Malformed));
        let mut v6 = p.clone();
        v6[0] = 0x65;
        assert_eq!(Ipv4Repr::parse(&v6), Err(WireError::Malformed));
        let mut short_total = p.clone();
        short_total[2..4].copy_from_slice(&[0, 19]);
        assert_eq!(Ipv4Repr::parse(&short_total), Err(WireError::Malformed));
    }

    fn refill(p: &mut [u8]) {
        Ipv4Packet::new_checked(p).unwrap().fill_checksum();
    }

    #[test]
    fn fragments_are_reported() {
        let mut mf = packet();
        mf[6] = 0x20; // MF
        refill(&mut mf);
        assert_eq!(Ipv4Repr::parse(&mf), Err(WireError::Fragmented));
        let mut off = packet();
        off[7] = 0x01; // offset 8 bytes
        refill(&mut off);
        assert_eq!(Ipv4Repr::parse(&off), Err(WireError::Fragmented));
        assert_eq!(Ipv4Packet::new_checked(&off[..]).unwrap().frag_offset(), 8);
    }

    #[test]
    fn options_are_skipped() {
        let mut p = vec![
            0x46, 0, 0, 28, 0, 1, 0, 0, 9, 6, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
        ];
        p.extend_from_slice(&[1, 1, 1, 0]); // NOP NOP NOP EOL
        p.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        refill(&mut p);
        let (r, payload) = Ipv4Repr::parse(&p).unwrap();
        assert_eq!(payload, &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(r.protocol, IpProtocol::Tcp);
        assert_eq!(r.payload_len, 4);
        assert_eq!(
            Ipv4Packet::new_checked(&p[..]).unwrap().options(),
            &[1, 1, 1, 0]
        );
        p[0] = 0x4F; // IHL 15 exceeds total length
        assert_eq!(Ipv4Repr::parse(&p), Err(WireError::Malformed));
    }

    #[test]
    fn protocol_conversions() {
        for v in [1u8, 6, 17, 89] {
            assert_eq!(u8::from(IpProtocol::from(v)), v);
        }
    }
}
