//! Transmit offloads: work a frame leaves for the device (a NIC, or a TAP/TUN device opened
//! with a virtio-net header) to finish, and the same work done in software where no device
//! will do it.
//!
//! Two offloads, as Linux's `NETIF_F_HW_CSUM` and `NETIF_F_TSO`:
//! - **checksum**: the TCP checksum field holds only the pseudo-header sum
//!   ([`TcpRepr::emit_partial_checksum`](super::TcpRepr::emit_partial_checksum)); the device
//!   sums from the TCP header to the end and stores the result. The stack never reads the
//!   payload to send it.
//! - **segmentation**: one TCP "super-segment" of up to 64 KiB whose payload the device cuts
//!   into pieces of `size` bytes, each with a copy of the headers: consecutive sequence
//!   numbers, IPv4 identifications counting up, FIN and PSH on the last piece only, CWR on
//!   the first only (Linux's `tcp_gso_segment` and `inet_gso_segment`).

use super::{WireError, checksum, get16, get32, put16, put32};

/// What the device the frames go to can finish by itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxOffload {
    /// It computes TCP checksums.
    pub checksum: bool,
    /// It cuts TCP segments longer than the MSS (with their checksums: implies `checksum`).
    pub segmentation: bool,
}

impl TxOffload {
    /// Nothing: every frame leaves finished.
    pub const NONE: TxOffload = TxOffload {
        checksum: false,
        segmentation: false,
    };
    /// Checksums and segmentation, as a TAP/TUN device with a virtio-net header offers.
    pub const ALL: TxOffload = TxOffload {
        checksum: true,
        segmentation: true,
    };
}

/// Where a partial checksum lies: summed from `start` (the TCP header, counted from the
/// frame's first byte) to the end, stored at `start + offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartialChecksum {
    pub start: u16,
    pub offset: u16,
}

/// A TCP super-segment to cut: payload pieces of `size` bytes behind `header_len` bytes of
/// headers (link, IPv4 and TCP with its options).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segmentation {
    pub size: u16,
    pub header_len: u16,
    /// The segment carries CWR (virtio-net's `GSO_ECN`: the device must keep it on the first
    /// piece).
    pub cwr: bool,
}

/// What is left to do for one frame; the default is nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameOffload {
    pub checksum: Option<PartialChecksum>,
    pub segmentation: Option<Segmentation>,
}

impl FrameOffload {
    /// The frame is finished as it is.
    pub fn is_none(&self) -> bool {
        self.checksum.is_none() && self.segmentation.is_none()
    }
}

/// A frame for the link, with what the device must still do to it.
#[derive(Debug, PartialEq, Eq)]
pub struct Transmit {
    pub frame: Vec<u8>,
    pub offload: FrameOffload,
}

use super::ipv4::field as ip;
use super::tcp::field as tcp;
use super::{IpProtocol, TcpFlags};

/// Does in software what `offload` leaves to the device: calls `piece` with each finished
/// frame (one, or one per `size` bytes of payload). `l2_len` is the link header's length
/// (14 for Ethernet, 0 for raw IP). A frame that is not IPv4 + TCP where `offload` says it is
/// gives `Malformed` or `Truncated`, and no piece.
pub fn finish_in_software(
    frame: &[u8],
    l2_len: usize,
    offload: &FrameOffload,
    mut piece: impl FnMut(&[u8]),
) -> Result<(), WireError> {
    if offload.is_none() {
        piece(frame);
        return Ok(());
    }
    let layout = Layout::of(frame, l2_len)?;
    let payload = &frame[layout.headers..];
    let size = match offload.segmentation {
        Some(seg) if seg.size > 0 => usize::from(seg.size),
        Some(_) => return Err(WireError::Malformed),
        None => payload.len().max(1),
    };
    let mut scratch = Vec::with_capacity(layout.headers + size.min(payload.len()));
    let count = payload.len().div_ceil(size).max(1);
    for i in 0..count {
        let chunk = &payload[(i * size).min(payload.len())..((i + 1) * size).min(payload.len())];
        scratch.clear();
        scratch.extend_from_slice(&frame[..layout.headers]);
        scratch.extend_from_slice(chunk);
        layout.rewrite(&mut scratch, i, size, i + 1 == count);
        piece(&scratch);
    }
    Ok(())
}

/// Where the headers of an Ethernet/IPv4/TCP frame end.
struct Layout {
    l3: usize,
    l4: usize,
    headers: usize,
}

impl Layout {
    fn of(frame: &[u8], l2_len: usize) -> Result<Layout, WireError> {
        let packet = frame.get(l2_len..).ok_or(WireError::Truncated)?;
        let first = *packet.first().ok_or(WireError::Truncated)?;
        let ihl = usize::from(first & 0x0F) * 4;
        if first >> 4 != 4 || ihl < 20 {
            return Err(WireError::Malformed);
        }
        if packet.get(ip::PROTOCOL).copied() != Some(u8::from(IpProtocol::Tcp)) {
            return Err(WireError::Malformed);
        }
        let l4 = l2_len + ihl;
        let offset = *frame.get(l4 + tcp::DATA_OFF).ok_or(WireError::Truncated)?;
        let thl = usize::from(offset >> 4) * 4;
        if thl < 20 {
            return Err(WireError::Malformed);
        }
        let headers = l4 + thl;
        if headers > frame.len() || frame.len() - l2_len > usize::from(u16::MAX) {
            return Err(WireError::Truncated);
        }
        Ok(Layout {
            l3: l2_len,
            l4,
            headers,
        })
    }

    /// Makes `p` (headers copied from the super-segment, then piece `i`'s payload) a
    /// finished packet of its own.
    fn rewrite(&self, p: &mut [u8], i: usize, size: usize, last: bool) {
        let (l3, l4) = (self.l3, self.l4);
        let ip_len = (p.len() - l3) as u16;
        let ident = get16(p, l3 + ip::IDENT).wrapping_add(i as u16);
        put16(p, l3 + ip::LENGTH, ip_len);
        put16(p, l3 + ip::IDENT, ident);
        put16(p, l3 + ip::CHECKSUM, 0);
        let ip_sum = checksum::checksum(&p[l3..l4]);
        put16(p, l3 + ip::CHECKSUM, ip_sum);
        let seq = get32(p, l4 + tcp::SEQ).wrapping_add((i * size) as u32);
        put32(p, l4 + tcp::SEQ, seq);
        let mut flags = TcpFlags(p[l4 + tcp::FLAGS]);
        if !last {
            flags.remove(TcpFlags::FIN | TcpFlags::PSH);
        }
        if i > 0 {
            flags.remove(TcpFlags::CWR);
        }
        p[l4 + tcp::FLAGS] = flags.0;
        put16(p, l4 + tcp::CHECKSUM, 0);
        let src = super::get_ipv4(p, l3 + ip::SRC);
        let dst = super::get_ipv4(p, l3 + ip::DST);
        let tcp_len = (p.len() - l4) as u16;
        let acc = checksum::pseudo_header_v4(src, dst, IpProtocol::Tcp.into(), tcp_len);
        let sum = checksum::checksum_with(acc, &p[l4..]);
        put16(p, l4 + tcp::CHECKSUM, sum);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seq::SeqNum;
    use crate::wire::{IpProtocol, Ipv4Repr, TcpFlags, TcpOptions, TcpRepr};
    use core::net::Ipv4Addr;

    const SRC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
    const L2: usize = 14;

    fn repr(flags: TcpFlags) -> TcpRepr {
        TcpRepr {
            src_port: 40000,
            dst_port: 80,
            seq: SeqNum(0xFFFF_F000),
            ack: SeqNum(7),
            flags,
            window: 512,
            urgent: 0,
            options: TcpOptions {
                timestamps: Some((1, 2)),
                ..TcpOptions::default()
            },
        }
    }

    /// An Ethernet + IPv4 + TCP super-segment with a partial checksum, as the stack builds one.
    fn super_segment(flags: TcpFlags, payload: &[u8]) -> Vec<u8> {
        let tcp = repr(flags);
        let hl = tcp.header_len();
        let mut f = vec![0u8; L2 + 20 + hl];
        f.extend_from_slice(payload);
        tcp.emit_partial_checksum(&mut f[L2 + 20..], SRC, DST);
        Ipv4Repr {
            src: SRC,
            dst: DST,
            protocol: IpProtocol::Tcp,
            payload_len: hl + payload.len(),
            ttl: 64,
            ident: 0xFFFE,
            dont_fragment: true,
            dscp_ecn: 0,
        }
        .emit(&mut f[L2..L2 + 20]);
        f
    }

    fn offload(size: u16, hl: usize) -> FrameOffload {
        FrameOffload {
            checksum: Some(PartialChecksum {
                start: (L2 + 20) as u16,
                offset: 16,
            }),
            segmentation: Some(Segmentation {
                size,
                header_len: (L2 + 20 + hl) as u16,
                cwr: false,
            }),
        }
    }

    fn pieces(frame: &[u8], off: &FrameOffload) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        finish_in_software(frame, L2, off, |p| out.push(p.to_vec())).expect("finish");
        out
    }

    #[test]
    fn a_super_segment_is_cut_into_checksummed_pieces_with_consecutive_sequence_numbers() {
        let payload: Vec<u8> = (0..10_000u32).map(|i| (i * 13) as u8).collect();
        let flags = TcpFlags::ACK | TcpFlags::PSH | TcpFlags::FIN | TcpFlags::CWR;
        let frame = super_segment(flags, &payload);
        let hl = repr(flags).header_len();
        let out = pieces(&frame, &offload(1448, hl));
        assert_eq!(out.len(), 7, "10,000 bytes in 1,448-byte pieces");
        let mut joined = Vec::new();
        for (i, p) in out.iter().enumerate() {
            let (ip, seg) = Ipv4Repr::parse(&p[L2..]).expect("valid IPv4 header and checksum");
            assert_eq!(ip.ident, 0xFFFEu16.wrapping_add(i as u16));
            let (tcp, data) = TcpRepr::parse(seg, SRC, DST, true).expect("valid TCP checksum");
            assert_eq!(
                tcp.seq,
                SeqNum(0xFFFF_F000) + (i * 1448) as u32,
                "wraps too"
            );
            assert_eq!(tcp.options, repr(flags).options, "options copied");
            let last = i == 6;
            assert_eq!(tcp.flags.fin(), last, "FIN on the last piece only");
            assert_eq!(tcp.flags.contains(TcpFlags::PSH), last);
            assert_eq!(
                tcp.flags.contains(TcpFlags::CWR),
                i == 0,
                "CWR on the first"
            );
            assert_eq!(data.len(), if last { 10_000 - 6 * 1448 } else { 1448 });
            joined.extend_from_slice(data);
        }
        assert_eq!(joined, payload);
    }

    #[test]
    fn checksum_only_finishes_the_one_frame() {
        let payload = vec![0xA5u8; 999];
        let frame = super_segment(TcpFlags::ACK, &payload);
        let mut off = offload(1448, 32);
        off.segmentation = None;
        let out = pieces(&frame, &off);
        assert_eq!(out.len(), 1);
        let (_, seg) = Ipv4Repr::parse(&out[0][L2..]).expect("ip");
        TcpRepr::parse(seg, SRC, DST, true).expect("checksum completed");
    }

    #[test]
    fn a_frame_that_is_not_tcp_is_refused_not_cut() {
        let mut frame = super_segment(TcpFlags::ACK, &[1, 2, 3]);
        frame[L2 + 9] = 17;
        let mut n = 0;
        let r = finish_in_software(&frame, L2, &offload(1, 32), |_| n += 1);
        assert_eq!(r, Err(WireError::Malformed));
        assert_eq!(n, 0);
        let r = finish_in_software(&frame[..L2 + 10], L2, &offload(1, 32), |_| n += 1);
        assert!(r.is_err());
        assert_eq!(n, 0);
    }
}
