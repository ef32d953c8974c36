//! TCP header and options (RFC 9293 §3.1–3.2, RFC 7323 window scale and timestamps,
//! RFC 2018 SACK) over IPv4.

use core::fmt;
use core::net::Ipv4Addr;
use core::ops::{BitAnd, BitOr, BitOrAssign, Not};

use super::checksum;
use super::{WireError, get16, get32, put16, put32};
use crate::seq::SeqNum;

const PROTOCOL_TCP: u8 = 6;
/// RFC 9293 §3.1: at most 40 bytes of options (data offset <= 15 words).
pub const MAX_OPTIONS_LEN: usize = 40;

/// The eight control bits of byte 13 (RFC 9293 §3.1, RFC 3168 for ECE/CWR).
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: TcpFlags = TcpFlags(0x01);
    pub const SYN: TcpFlags = TcpFlags(0x02);
    pub const RST: TcpFlags = TcpFlags(0x04);
    pub const PSH: TcpFlags = TcpFlags(0x08);
    pub const ACK: TcpFlags = TcpFlags(0x10);
    pub const URG: TcpFlags = TcpFlags(0x20);
    pub const ECE: TcpFlags = TcpFlags(0x40);
    pub const CWR: TcpFlags = TcpFlags(0x80);

    pub const fn empty() -> TcpFlags {
        TcpFlags(0)
    }

    pub const fn bits(self) -> u8 {
        self.0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// All bits of `other` are set in `self`.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn insert(&mut self, other: TcpFlags) {
        self.0 |= other.0;
    }

    pub fn remove(&mut self, other: TcpFlags) {
        self.0 &= !other.0;
    }

    pub const fn fin(self) -> bool {
        self.contains(Self::FIN)
    }

    pub const fn syn(self) -> bool {
        self.contains(Self::SYN)
    }

    pub const fn rst(self) -> bool {
        self.contains(Self::RST)
    }

    pub const fn psh(self) -> bool {
        self.contains(Self::PSH)
    }

    pub const fn ack(self) -> bool {
        self.contains(Self::ACK)
    }

    pub const fn urg(self) -> bool {
        self.contains(Self::URG)
    }

    pub const fn ece(self) -> bool {
        self.contains(Self::ECE)
    }

    pub const fn cwr(self) -> bool {
        self.contains(Self::CWR)
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for TcpFlags {
    type Output = TcpFlags;
    fn bitand(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 & rhs.0)
    }
}

impl Not for TcpFlags {
    type Output = TcpFlags;
    fn not(self) -> TcpFlags {
        TcpFlags(!self.0)
    }
}

impl fmt::Display for TcpFlags {
    /// Names joined by commas in the order SYN, RST, FIN, PSH, ACK, URG, ECE, CWR; "none".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(TcpFlags, &str); 8] = [
            (TcpFlags::SYN, "SYN"),
            (TcpFlags::RST, "RST"),
            (TcpFlags::FIN, "FIN"),
            (TcpFlags::PSH, "PSH"),
            (TcpFlags::ACK, "ACK"),
            (TcpFlags::URG, "URG"),
            (TcpFlags::ECE, "ECE"),
            (TcpFlags::CWR, "CWR"),
        ];
        if self.is_empty() {
            return f.write_str("none");
        }
        let mut first = true;
        for (flag, name) in NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One SACK block: the sequence range `[left, right)` (RFC 2018 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SackBlock {
    pub left: SeqNum,
    pub right: SeqNum,
}

/// The TCP options this stack understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    /// Raw shift as received; the caller clamps to 14 (RFC 7323 §2.3).
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    /// Only the first `sack_block_count()` entries are `Some`.
    pub sack_blocks: [Option<SackBlock>; 4],
    /// (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
}

mod kind {
    pub const EOL: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WS: u8 = 3;
    pub const SACK_PERM: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TS: u8 = 8;
}

impl TcpOptions {
    /// Number of leading `Some` SACK blocks.
    pub fn sack_block_count(&self) -> usize {
        self.sack_blocks.iter().take_while(|b| b.is_some()).count()
    }

    /// Bytes of everything but SACK blocks, in the Linux layout.
    fn fixed_len(&self) -> usize {
        let mss = if self.mss.is_some() { 4 } else { 0 };
        let ts_sack_perm = match (self.timestamps.is_some(), self.sack_permitted) {
            (true, _) => 12, // [SACK_PERM | NOP,NOP], TS
            (false, true) => 4,
            (false, false) => 0,
        };
        let ws = if self.window_scale.is_some() { 4 } else { 0 };
        mss + ts_sack_perm + ws
    }

    /// SACK blocks that fit in the 40-byte option space after the other options.
    fn sack_blocks_fitting(&self) -> usize {
        let room = MAX_OPTIONS_LEN - self.fixed_len();
        self.sack_block_count().min(room.saturating_sub(4) / 8)
    }

    /// Bytes [`emit`](Self::emit) writes: a multiple of 4, at most 40.
    pub fn encoded_len(&self) -> usize {
        match self.sack_blocks_fitting() {
            0 => self.fixed_len(),
            n => self.fixed_len() + 4 + 8 * n,
        }
    }

    /// The options as [`emit`](Self::emit) sends them: SACK blocks that do not fit in 40
    /// bytes are dropped from the end (and any after the first `None`).
    pub fn fitted(&self) -> TcpOptions {
        let n = self.sack_blocks_fitting();
        let mut o = *self;
        for (i, b) in o.sack_blocks.iter_mut().enumerate() {
            if i >= n {
                *b = None;
            }
        }
        o
    }

    /// Parses an option area (RFC 9293 §3.2). An illegal length (< 2 or past the end)
    /// is `Malformed` (MUST-7); unknown kinds and known kinds with a wrong length are
    /// skipped (MUST-6, like Linux). Later duplicates override earlier ones.
    pub fn parse(mut opts: &[u8]) -> Result<TcpOptions, WireError> {
        let mut o = TcpOptions::default();
        while let Some((&k, rest)) = opts.split_first() {
            match k {
                // RFC 9293 §3.2: End of Option List; the rest is padding.
                kind::EOL => break,
                kind::NOP => {
                    opts = rest;
                    continue;
                }
                _ => {}
            }
            // RFC 9293 §3.2 MUST-7: a length below 2 or beyond the option area is illegal.
            let len = usize::from(*rest.first().ok_or(WireError::Malformed)?);
            if len < 2 || len > opts.len() {
                return Err(WireError::Malformed);
            }
            let (opt, tail) = opts.split_at(len);
            let body = &opt[2..];
            match (k, len) {
                (kind::MSS, 4) => o.mss = Some(get16(body, 0)),
                (kind::WS, 3) => o.window_scale = Some(body[0]),
                (kind::SACK_PERM, 2) => o.sack_permitted = true,
                (kind::TS, 10) => o.timestamps = Some((get32(body, 0), get32(body, 4))),
                // RFC 2018 §3: length 2 + 8n; n <= 4 always holds within 40 bytes.
                (kind::SACK, l) if l >= 10 && (l - 2) % 8 == 0 => {
                    o.sack_blocks = [None; 4];
                    for (slot, b) in o.sack_blocks.iter_mut().zip(body.chunks_exact(8)) {
                        *slot = Some(SackBlock {
                            left: SeqNum(get32(b, 0)),
                            right: SeqNum(get32(b, 4)),
                        });
                    }
                }
                // MUST-6: ignore unknown options; a known kind with a wrong length is
                // skipped the same way.
                _ => {}
            }
            opts = tail;
        }
        Ok(o)
    }

    /// Writes [`encoded_len`](Self::encoded_len) bytes in the order MSS, SACK-permitted,
    /// timestamps, window scale, SACK, NOP-aligned as Linux does. `buf` must be at least
    /// that long. Returns the number of bytes written.
    pub fn emit(&self, buf: &mut [u8]) -> usize {
        let len = self.encoded_len();
        debug_assert!(buf.len() >= len);
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            buf[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        if let Some(mss) = self.mss {
            let [h, l] = mss.to_be_bytes();
            put(&[kind::MSS, 4, h, l]);
        }
        match (self.timestamps, self.sack_permitted) {
            (Some((val, ecr)), sack_perm) => {
                if sack_perm {
                    put(&[kind::SACK_PERM, 2, kind::TS, 10]);
                } else {
                    put(&[kind::NOP, kind::NOP, kind::TS, 10]);
                }
                put(&val.to_be_bytes());
                put(&ecr.to_be_bytes());
            }
            (None, true) => put(&[kind::NOP, kind::NOP, kind::SACK_PERM, 2]),
            (None, false) => {}
        }
        if let Some(shift) = self.window_scale {
            put(&[kind::NOP, kind::WS, 3, shift]);
        }
        let n = self.sack_blocks_fitting();
        if n > 0 {
            put(&[kind::NOP, kind::NOP, kind::SACK, (2 + 8 * n) as u8]);
            for b in self.sack_blocks.iter().take(n).flatten() {
                put(&b.left.0.to_be_bytes());
                put(&b.right.0.to_be_bytes());
            }
        }
        debug_assert_eq!(at, len);
        len
    }
}

pub(crate) mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const SEQ: usize = 4;
    pub const ACK: usize = 8;
    pub const DATA_OFF: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: usize = 14;
    pub const CHECKSUM: usize = 16;
    pub const URGENT: usize = 18;
    pub const OPTIONS: usize = 20;
}

/// A checked view of a TCP segment: 20 <= data offset * 4 <= buffer length.
#[derive(Debug, Clone)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let b = buffer.as_ref();
        if b.len() < TcpRepr::MIN_HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let hl = usize::from(b[field::DATA_OFF] >> 4) * 4;
        // RFC 9293 §3.1: the data offset is at least 5 words.
        if hl < TcpRepr::MIN_HEADER_LEN {
            return Err(WireError::Malformed);
        }
        if hl > b.len() {
            return Err(WireError::Truncated);
        }
        Ok(TcpPacket { buffer })
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

    pub fn seq_number(&self) -> SeqNum {
        SeqNum(get32(self.buffer.as_ref(), field::SEQ))
    }

    pub fn ack_number(&self) -> SeqNum {
        SeqNum(get32(self.buffer.as_ref(), field::ACK))
    }

    /// Header length in bytes (data offset * 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::DATA_OFF] >> 4) * 4
    }

    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.buffer.as_ref()[field::FLAGS])
    }

    pub fn window_len(&self) -> u16 {
        get16(self.buffer.as_ref(), field::WINDOW)
    }

    pub fn checksum(&self) -> u16 {
        get16(self.buffer.as_ref(), field::CHECKSUM)
    }

    pub fn urgent_at(&self) -> u16 {
        get16(self.buffer.as_ref(), field::URGENT)
    }

    /// The raw option area.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[field::OPTIONS..self.header_len()]
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }

    /// RFC 9293 §3.1: checksum over the pseudo-header, header and payload.
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        let b = self.buffer.as_ref();
        let Ok(len) = u16::try_from(b.len()) else {
            return false;
        };
        let acc = checksum::pseudo_header_v4(src, dst, PROTOCOL_TCP, len);
        checksum::checksum_with(acc, b) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    pub fn set_src_port(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::SRC_PORT, v);
    }

    pub fn set_dst_port(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::DST_PORT, v);
    }

    pub fn set_seq_number(&mut self, v: SeqNum) {
        put32(self.buffer.as_mut(), field::SEQ, v.0);
    }

    pub fn set_ack_number(&mut self, v: SeqNum) {
        put32(self.buffer.as_mut(), field::ACK, v.0);
    }

    pub fn set_flags(&mut self, f: TcpFlags) {
        self.buffer.as_mut()[field::FLAGS] = f.0;
    }

    pub fn set_window_len(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::WINDOW, v);
    }

    pub fn set_checksum(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::CHECKSUM, v);
    }

    pub fn set_urgent_at(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::URGENT, v);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        &mut self.buffer.as_mut()[hl..]
    }

    /// Recomputes the checksum over the whole buffer (at most 65535 bytes).
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let b = self.buffer.as_ref();
        let acc = checksum::pseudo_header_v4(src, dst, PROTOCOL_TCP, b.len() as u16);
        let c = checksum::checksum_with(acc, b);
        self.set_checksum(c);
    }
}

/// A parsed TCP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: SeqNum,
    /// The raw field, even when ACK is not set.
    pub ack: SeqNum,
    pub flags: TcpFlags,
    /// Raw, unscaled.
    pub window: u16,
    pub urgent: u16,
    pub options: TcpOptions,
}

impl TcpRepr {
    pub const MIN_HEADER_LEN: usize = 20;

    /// `20 + options.encoded_len()`; at most 60.
    pub fn header_len(&self) -> usize {
        Self::MIN_HEADER_LEN + self.options.encoded_len()
    }

    /// `segment` is the IP payload. Checks the data offset (< 5 words: `Malformed`; past the
    /// buffer: `Truncated`), then, if `verify_checksum`, the checksum with the IPv4
    /// pseudo-header (`BadChecksum`), then the options (`Malformed`). Returns the payload.
    pub fn parse(
        segment: &[u8],
        src: Ipv4Addr,
        dst: Ipv4Addr,
        verify_checksum: bool,
    ) -> Result<(TcpRepr, &[u8]), WireError> {
        let p = TcpPacket::new_checked(segment)?;
        if verify_checksum && !p.verify_checksum(src, dst) {
            return Err(WireError::BadChecksum);
        }
        let repr = TcpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            seq: p.seq_number(),
            ack: p.ack_number(),
            flags: p.flags(),
            window: p.window_len(),
            urgent: p.urgent_at(),
            options: TcpOptions::parse(p.options())?,
        };
        Ok((repr, &segment[p.header_len()..]))
    }

    /// `segment` = `header_len()` bytes of room followed by the payload already in place
    /// (at most 65535 bytes in all). Writes the header, options and checksum over
    /// pseudo-header + header + payload.
    pub fn emit(&self, segment: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr) {
        let acc = self.emit_header(segment, src, dst);
        put16(
            segment,
            field::CHECKSUM,
            checksum::checksum_with(acc, segment),
        );
    }

    /// As [`emit`](Self::emit) for a segment whose payload (everything after the header) was
    /// summed as it was copied in (`payload_sum`, as [`checksum::sum`] gives it): only the
    /// header is read here.
    pub fn emit_with_payload_sum(
        &self,
        segment: &mut [u8],
        src: Ipv4Addr,
        dst: Ipv4Addr,
        payload_sum: u64,
    ) {
        let acc = self.emit_header(segment, src, dst) + payload_sum;
        let header = &segment[..self.header_len()];
        put16(
            segment,
            field::CHECKSUM,
            checksum::checksum_with(acc, header),
        );
    }

    /// As [`emit`](Self::emit), but the checksum field is left holding only the folded
    /// pseudo-header sum, not inverted, for a device that finishes the checksum itself
    /// (`CHECKSUM_PARTIAL`: summing from the TCP header to the end of the segment, this
    /// field included, gives the checksum). The payload is not read.
    pub fn emit_partial_checksum(&self, segment: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr) {
        let acc = self.emit_header(segment, src, dst);
        put16(segment, field::CHECKSUM, checksum::fold(acc));
    }

    /// Writes everything but the checksum (left zero); returns the pseudo-header sum.
    #[inline]
    fn emit_header(&self, segment: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr) -> u64 {
        let hl = self.header_len();
        debug_assert!(segment.len() >= hl && segment.len() <= usize::from(u16::MAX));
        put16(segment, field::SRC_PORT, self.src_port);
        put16(segment, field::DST_PORT, self.dst_port);
        put32(segment, field::SEQ, self.seq.0);
        put32(segment, field::ACK, self.ack.0);
        segment[field::DATA_OFF] = ((hl / 4) as u8) << 4;
        segment[field::FLAGS] = self.flags.0;
        put16(segment, field::WINDOW, self.window);
        put16(segment, field::CHECKSUM, 0);
        put16(segment, field::URGENT, self.urgent);
        self.options.emit(&mut segment[field::OPTIONS..hl]);
        checksum::pseudo_header_v4(src, dst, PROTOCOL_TCP, segment.len() as u16)
    }

    /// Segment length in sequence space: payload + SYN + FIN (RFC 9293 §3.4 SEG.LEN).
    pub fn seq_len(&self, payload_len: usize) -> usize {
        payload_len + usize::from(self.flags.syn()) + usize::from(self.flags.fin())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    // A Linux-style SYN 10.0.0.1:40000 -> 10.0.0.2:80: MSS 1460, SACK-perm, TS, NOP, WS 7.
    const SYN: [u8; 40] = [
        0x9c, 0x40, 0x00, 0x50, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa,
        0xf0, 0x2f, 0xca, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x01, 0x02,
        0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
    ];

    fn syn_repr() -> TcpRepr {
        TcpRepr {
            src_port: 40000,
            dst_port: 80,
            seq: SeqNum(0x1234_5678),
            ack: SeqNum(0),
            flags: TcpFlags::SYN,
            window: 64240,
            urgent: 0,
            options: TcpOptions {
                mss: Some(1460),
                window_scale: Some(7),
                sack_permitted: true,
                sack_blocks: [None; 4],
                timestamps: Some((0x0102_0304, 0)),
            },
        }
    }

    #[test]
    fn parse_and_emit_real_syn() {
        let (r, payload) = TcpRepr::parse(&SYN, SRC, DST, true).unwrap();
        assert_eq!(r, syn_repr());
        assert!(payload.is_empty());
        assert_eq!(r.header_len(), 40);
        assert_eq!(r.seq_len(0), 1);
        let mut out = [0u8; 40];
        r.emit(&mut out, SRC, DST);
        assert_eq!(out, SYN);
        assert_eq!(
            TcpRepr::parse(&SYN, SRC, Ipv4Addr::new(10, 0, 0, 3), true),
            Err(WireError::BadChecksum)
        );
        assert!(TcpRepr::parse(&SYN, SRC, Ipv4Addr::new(10, 0, 0, 3), false).is_ok());
    }

    #[test]
    fn data_offset_checks() {
        assert_eq!(
            TcpRepr::parse(&SYN[..19], SRC, DST, false),
            Err(WireError::Truncated)
        );
        assert_eq!(
            TcpRepr::parse(&SYN[..39], SRC, DST, false),
            Err(WireError::Truncated)
        );
        let mut s = SYN;
        s[12] = 0x40;
        assert_eq!(
            TcpRepr::parse(&s, SRC, DST, false),
            Err(WireError::Malformed)
        );
    }
}
