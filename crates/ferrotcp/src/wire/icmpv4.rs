//! ICMP for IPv4 (RFC 792): echo, destination unreachable and time exceeded.

use super::checksum;
use super::{WireError, get16, put16};

/// Message types (RFC 792).
pub mod msg_type {
    pub const ECHO_REPLY: u8 = 0;
    pub const DST_UNREACHABLE: u8 = 3;
    pub const ECHO_REQUEST: u8 = 8;
    pub const TIME_EXCEEDED: u8 = 11;
}

/// Destination unreachable codes (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1).
pub mod unreachable_code {
    pub const NET: u8 = 0;
    pub const HOST: u8 = 1;
    pub const PROTOCOL: u8 = 2;
    pub const PORT: u8 = 3;
    pub const FRAG_NEEDED: u8 = 4;
    pub const SOURCE_ROUTE_FAILED: u8 = 5;
    pub const NET_UNKNOWN: u8 = 6;
    pub const HOST_UNKNOWN: u8 = 7;
    pub const SOURCE_HOST_ISOLATED: u8 = 8;
    pub const NET_PROHIBITED: u8 = 9;
    pub const HOST_PROHIBITED: u8 = 10;
    pub const NET_TOS: u8 = 11;
    pub const HOST_TOS: u8 = 12;
    pub const COMM_PROHIBITED: u8 = 13;
    pub const HOST_PRECEDENCE: u8 = 14;
    pub const PRECEDENCE_CUTOFF: u8 = 15;
}

/// Time exceeded codes (RFC 792).
pub mod time_exceeded_code {
    pub const TTL: u8 = 0;
    pub const REASSEMBLY: u8 = 1;
}

mod field {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: usize = 2;
    pub const IDENT: usize = 4;
    pub const SEQ_NO: usize = 6;
    pub const DATA: usize = 8;
}

/// Length of the fixed ICMP header (type, code, checksum, 4 type-specific bytes).
pub const HEADER_LEN: usize = 8;

/// A checked view of an ICMPv4 message (at least 8 bytes).
#[derive(Debug, Clone)]
pub struct Icmpv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        Ok(Icmpv4Packet { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    pub fn checksum(&self) -> u16 {
        get16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Echo identifier (bytes 4..6).
    pub fn echo_ident(&self) -> u16 {
        get16(self.buffer.as_ref(), field::IDENT)
    }

    /// Echo sequence number (bytes 6..8).
    pub fn echo_seq_no(&self) -> u16 {
        get16(self.buffer.as_ref(), field::SEQ_NO)
    }

    /// Everything after the 8-byte header.
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[field::DATA..]
    }

    /// RFC 792: the checksum covers the whole message.
    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(self.buffer.as_ref()) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
    pub fn set_msg_type(&mut self, v: u8) {
        self.buffer.as_mut()[field::TYPE] = v;
    }

    pub fn set_code(&mut self, v: u8) {
        self.buffer.as_mut()[field::CODE] = v;
    }

    pub fn set_checksum(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::CHECKSUM, v);
    }

    pub fn set_echo_ident(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::IDENT, v);
    }

    pub fn set_echo_seq_no(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::SEQ_NO, v);
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::DATA..]
    }

    /// Recomputes the checksum over the whole buffer.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(c);
    }
}

/// A parsed ICMPv4 message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Icmpv4Repr<'a> {
    EchoRequest {
        ident: u16,
        seq_no: u16,
        data: &'a [u8],
    },
    EchoReply {
        ident: u16,
        seq_no: u16,
        data: &'a [u8],
    },
    /// `data` is the invoking IP header plus at least 8 bytes of its payload (as given).
    DstUnreachable {
        code: u8,
        data: &'a [u8],
    },
    TimeExceeded {
        code: u8,
        data: &'a [u8],
    },
    /// Any other type, or an echo with a nonzero code; only the header is kept.
    Other {
        msg_type: u8,
        code: u8,
    },
}

impl<'a> Icmpv4Repr<'a> {
    /// Parses an ICMP message (the whole IP payload) and verifies its checksum.
    pub fn parse(bytes: &'a [u8]) -> Result<Icmpv4Repr<'a>, WireError> {
        let p = Icmpv4Packet::new_checked(bytes)?;
        if !p.verify_checksum() {
            return Err(WireError::BadChecksum);
        }
        let (ident, seq_no, data) = (p.echo_ident(), p.echo_seq_no(), &bytes[HEADER_LEN..]);
        Ok(match (p.msg_type(), p.code()) {
            (msg_type::ECHO_REQUEST, 0) => Icmpv4Repr::EchoRequest {
                ident,
                seq_no,
                data,
            },
            (msg_type::ECHO_REPLY, 0) => Icmpv4Repr::EchoReply {
                ident,
                seq_no,
                data,
            },
            (msg_type::DST_UNREACHABLE, code) => Icmpv4Repr::DstUnreachable { code, data },
            (msg_type::TIME_EXCEEDED, code) => Icmpv4Repr::TimeExceeded { code, data },
            (msg_type, code) => Icmpv4Repr::Other { msg_type, code },
        })
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        match self {
            Icmpv4Repr::EchoRequest { data, .. }
            | Icmpv4Repr::EchoReply { data, .. }
            | Icmpv4Repr::DstUnreachable { data, .. }
            | Icmpv4Repr::TimeExceeded { data, .. } => HEADER_LEN + data.len(),
            Icmpv4Repr::Other { .. } => HEADER_LEN,
        }
    }

    /// Writes the message into `buf[..buffer_len()]` (`buf.len() >= buffer_len()`),
    /// computing the checksum. Unused header bytes are zero.
    pub fn emit(&self, buf: &mut [u8]) {
        let len = self.buffer_len();
        debug_assert!(buf.len() >= len);
        let buf = &mut buf[..len];
        let (t, code, rest, data): (u8, u8, [u16; 2], &[u8]) = match *self {
            Icmpv4Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => (msg_type::ECHO_REQUEST, 0, [ident, seq_no], data),
            Icmpv4Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => (msg_type::ECHO_REPLY, 0, [ident, seq_no], data),
            Icmpv4Repr::DstUnreachable { code, data } => {
                (msg_type::DST_UNREACHABLE, code, [0, 0], data)
            }
            Icmpv4Repr::TimeExceeded { code, data } => {
                (msg_type::TIME_EXCEEDED, code, [0, 0], data)
            }
            Icmpv4Repr::Other { msg_type, code } => (msg_type, code, [0, 0], &[]),
        };
        buf[field::TYPE] = t;
        buf[field::CODE] = code;
        put16(buf, field::CHECKSUM, 0);
        put16(buf, field::IDENT, rest[0]);
        put16(buf, field::SEQ_NO, rest[1]);
        buf[HEADER_LEN..].copy_from_slice(data);
        let c = checksum::checksum(buf);
        put16(buf, field::CHECKSUM, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // An echo request as sent by `ping` (id 0x1234, seq 1, "abcd").
    const ECHO: [u8; 12] = [
        0x08, 0x00, 0x21, 0x04, 0x12, 0x34, 0x00, 0x01, b'a', b'b', b'c', b'd',
    ];

    #[test]
    fn parse_and_emit_echo() {
        let r = Icmpv4Repr::parse(&ECHO).unwrap();
        assert_eq!(
            r,
            Icmpv4Repr::EchoRequest {
                ident: 0x1234,
                seq_no: 1,
                data: b"abcd"
            }
        );
        let mut out = [0u8; 12];
        assert_eq!(r.buffer_len(), 12);
        r.emit(&mut out);
        assert_eq!(out, ECHO);
        let reply = Icmpv4Repr::EchoReply {
            ident: 0x1234,
            seq_no: 1,
            data: b"abcd",
        };
        reply.emit(&mut out);
        // Type 8 -> 0 changes the checksum by exactly 0x0800.
        assert_eq!(out[..4], [0, 0, 0x29, 0x04]);
        assert_eq!(Icmpv4Repr::parse(&out), Ok(reply));
    }

    #[test]
    fn rejects_bad_messages() {
        assert_eq!(Icmpv4Repr::parse(&ECHO[..7]), Err(WireError::Truncated));
        let mut bad = ECHO;
        bad[9] ^= 0x40;
        assert_eq!(Icmpv4Repr::parse(&bad), Err(WireError::BadChecksum));
    }

    #[test]
    fn unreachable_round_trip() {
        let inner = [0x45u8; 28];
        let r = Icmpv4Repr::DstUnreachable {
            code: unreachable_code::PORT,
            data: &inner,
        };
        let mut buf = vec![0xEE; r.buffer_len() + 4];
        r.emit(&mut buf);
        assert_eq!(buf[..8], [3, 3, buf[2], buf[3], 0, 0, 0, 0]);
        assert_eq!(buf[36..], [0xEE; 4]);
        assert_eq!(Icmpv4Repr::parse(&buf[..36]), Ok(r));
        let view = Icmpv4Packet::new_checked(&buf[..36]).unwrap();
        assert!(view.verify_checksum());
        assert_eq!(view.data(), &inner);
    }

    #[test]
    fn other_types_keep_type_and_code() {
        let r = Icmpv4Repr::Other {
            msg_type: 13,
            code: 0,
        };
        let mut buf = [0u8; 8];
        r.emit(&mut buf);
        assert_eq!(Icmpv4Repr::parse(&buf), Ok(r));
        let mut echo = ECHO;
        echo[1] = 1; // nonzero echo code
        Icmpv4Packet::new_checked(&mut echo[..])
            .unwrap()
            .fill_checksum();
        assert_eq!(
            Icmpv4Repr::parse(&echo),
            Ok(Icmpv4Repr::Other {
                msg_type: 8,
                code: 1
            })
        );
    }
}
