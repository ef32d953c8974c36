//! The virtio-net header a TAP/TUN device opened with `IFF_VNET_HDR` puts before each frame
//! (`struct virtio_net_hdr`, 10 bytes, little-endian once `TUNSETVNETLE` is set).
//!
//! With receive offloads on (`TUNSETOFFLOAD` with `TUN_F_CSUM | TUN_F_TSO4`), the kernel
//! treats the device as a NIC that checksums and segments by itself: it hands over TCP
//! segments of up to 64 KiB in one frame (what it would have cut into MSS-sized frames, one
//! system call each) and may leave their checksum to us (`NEEDS_CSUM`: the field holds the
//! pseudo-header sum; the rest is to be summed from `csum_start`). [`complete`] turns such a
//! frame into an ordinary one, with a correct checksum, so the stack checks it as any other.

use ferrotcp::wire::FrameOffload;
use ferrotcp::wire::checksum;

pub const HEADER_LEN: usize = 10;

/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`.
const NEEDS_CSUM: u8 = 1;
/// `VIRTIO_NET_HDR_F_DATA_VALID`: the kernel verified the checksum.
const DATA_VALID: u8 = 2;
/// `VIRTIO_NET_HDR_GSO_TCPV4`.
const GSO_TCPV4: u8 = 1;
/// `VIRTIO_NET_HDR_GSO_ECN`: the segment carries CWR, to be kept on the first piece only.
const GSO_ECN: u8 = 0x80;

/// What a header says about its frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VnetHeader {
    pub flags: u8,
    /// `VIRTIO_NET_HDR_GSO_*`: 0 for an ordinary frame, 1 (TCPv4) for a coalesced one.
    pub gso_type: u8,
    /// The headers' length (link, IPv4, TCP) of a super-segment: a hint the kernel checks.
    pub hdr_len: u16,
    pub gso_size: u16,
    pub csum_start: u16,
    pub csum_offset: u16,
}

/// Why a received frame was refused (it is dropped and counted; never a panic).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VnetError {
    /// The checksum position lies outside the frame.
    BadChecksumOffsets,
}

impl VnetHeader {
    /// The header that asks the kernel to finish a frame as `offload` says: compute the TCP
    /// checksum (`NEEDS_CSUM`), cut a super-segment at its MSS (`GSO_TCPV4`). All zero for a
    /// finished frame.
    pub fn for_transmit(offload: &FrameOffload) -> VnetHeader {
        let mut hdr = VnetHeader {
            flags: 0,
            gso_type: 0,
            hdr_len: 0,
            gso_size: 0,
            csum_start: 0,
            csum_offset: 0,
        };
        if let Some(c) = offload.checksum {
            hdr.flags = NEEDS_CSUM;
            hdr.csum_start = c.start;
            hdr.csum_offset = c.offset;
        }
        if let Some(s) = offload.segmentation {
            hdr.gso_type = GSO_TCPV4 | if s.cwr { GSO_ECN } else { 0 };
            hdr.gso_size = s.size;
            hdr.hdr_len = s.header_len;
        }
        hdr
    }

    /// The 10 bytes, little-endian (`TUNSETVNETLE`).
    pub fn emit(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0] = self.flags;
        b[1] = self.gso_type;
        b[2..4].copy_from_slice(&self.hdr_len.to_le_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_le_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_le_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_le_bytes());
        b
    }

    /// The transport checksum needs no check: the kernel verified it (`DATA_VALID`), or the
    /// packet was made on this machine and never crossed a wire (`NEEDS_CSUM`; Linux trusts
    /// `CHECKSUM_PARTIAL` packets alike).
    pub fn checksum_trusted(&self) -> bool {
        self.flags & (NEEDS_CSUM | DATA_VALID) != 0
    }

    pub fn parse(bytes: &[u8; HEADER_LEN]) -> VnetHeader {
        let le = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
        VnetHeader {
            flags: bytes[0],
            gso_type: bytes[1],
            hdr_len: le(2),
            gso_size: le(4),
            csum_start: le(6),
            csum_offset: le(8),
        }
    }
}

/// Finishes a frame the kernel left partly checksummed: sums from `csum_start` to the end
/// (the checksum field holds the pseudo-header sum, so it is part of that sum) and stores
/// the result. Frames that need nothing are left alone.
pub fn complete(hdr: &VnetHeader, frame: &mut [u8]) -> Result<(), VnetError> {
    if hdr.flags & NEEDS_CSUM == 0 {
        return Ok(());
    }
    let start = usize::from(hdr.csum_start);
    let at = start + usize::from(hdr.csum_offset);
    if at + 2 > frame.len() || start > frame.len() {
        return Err(VnetError::BadChecksumOffsets);
    }
    let sum = checksum::checksum(&frame[start..]);
    frame[at..at + 2].copy_from_slice(&sum.to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    /// An Ethernet + IPv4 + TCP frame with a 2,000-byte payload (bigger than an MTU: a
    /// coalesced segment), its TCP checksum field holding only the pseudo-header sum, as the
    /// kernel leaves it.
    fn partial_frame() -> (Vec<u8>, u16) {
        let (src, dst) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
        let payload: Vec<u8> = (0..2000u32).map(|i| (i * 7) as u8).collect();
        let tcp_len = 20 + payload.len();
        let mut f = vec![0u8; 14 + 20];
        f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        f[14] = 0x45;
        f[16..18].copy_from_slice(&((20 + tcp_len) as u16).to_be_bytes());
        f[23] = 6;
        f[26..30].copy_from_slice(&src.octets());
        f[30..34].copy_from_slice(&dst.octets());
        let mut tcp = vec![0u8; 20];
        tcp[0..2].copy_from_slice(&40000u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&80u16.to_be_bytes());
        tcp[12] = 5 << 4;
        tcp[13] = 0x10;
        tcp.extend_from_slice(&payload);
        // The reference: the full checksum over pseudo-header and segment.
        let pseudo = checksum::pseudo_header_v4(src, dst, 6, tcp_len as u16);
        let full = checksum::checksum_with(pseudo, &tcp);
        // What the kernel leaves: the folded pseudo-header sum, not inverted.
        let partial = checksum::fold(pseudo);
        tcp[16..18].copy_from_slice(&partial.to_be_bytes());
        f.extend_from_slice(&tcp);
        (f, full)
    }

    #[test]
    fn completes_a_partial_checksum_to_the_full_one() {
        let (mut frame, full) = partial_frame();
        let hdr = VnetHeader {
            flags: NEEDS_CSUM,
            gso_type: 1,
            hdr_len: 66,
            gso_size: 1448,
            csum_start: 34,
            csum_offset: 16,
        };
        complete(&hdr, &mut frame).expect("complete");
        assert_eq!(u16::from_be_bytes([frame[50], frame[51]]), full);
    }

    #[test]
    fn leaves_finished_frames_alone_and_refuses_offsets_outside_the_frame() {
        let (mut frame, _) = partial_frame();
        let before = frame.clone();
        let mut hdr = VnetHeader::parse(&[0; HEADER_LEN]);
        complete(&hdr, &mut frame).expect("nothing to do");
        assert_eq!(frame, before);
        hdr.flags = NEEDS_CSUM;
        hdr.csum_start = 34;
        hdr.csum_offset = u16::MAX;
        assert_eq!(
            complete(&hdr, &mut frame),
            Err(VnetError::BadChecksumOffsets)
        );
        hdr.csum_start = u16::MAX;
        hdr.csum_offset = 0;
        assert_eq!(
            complete(&hdr, &mut frame),
            Err(VnetError::BadChecksumOffsets)
        );
    }

    #[test]
    fn parses_little_endian_fields() {
        let h = VnetHeader::parse(&[1, 1, 0x36, 0, 0xa8, 0x05, 0x22, 0, 0x10, 0]);
        assert_eq!(h.flags, 1);
        assert_eq!(h.gso_type, 1);
        assert_eq!(h.gso_size, 1448);
        assert_eq!(h.csum_start, 34);
        assert_eq!(h.csum_offset, 16);
        assert_eq!(h.hdr_len, 0x36);
        assert!(h.checksum_trusted(), "NEEDS_CSUM");
        assert!(VnetHeader::parse(&[2, 0, 0, 0, 0, 0, 0, 0, 0, 0]).checksum_trusted());
        assert!(!VnetHeader::parse(&[0; HEADER_LEN]).checksum_trusted());
        assert_eq!(h.emit(), [1, 1, 0x36, 0, 0xa8, 0x05, 0x22, 0, 0x10, 0]);
    }

    #[test]
    fn a_super_segment_asks_for_checksum_and_tcpv4_segmentation() {
        use ferrotcp::wire::offload::{PartialChecksum, Segmentation};
        let mut offload = FrameOffload {
            checksum: Some(PartialChecksum {
                start: 34,
                offset: 16,
            }),
            segmentation: Some(Segmentation {
                size: 1448,
                header_len: 66,
                cwr: false,
            }),
        };
        let h = VnetHeader::for_transmit(&offload);
        assert_eq!(h.emit(), [1, 1, 66, 0, 0xa8, 0x05, 34, 0, 16, 0]);
        offload.segmentation = offload
            .segmentation
            .map(|s| Segmentation { cwr: true, ..s });
        assert_eq!(VnetHeader::for_transmit(&offload).gso_type, 0x81, "GSO_ECN");
        offload.segmentation = None;
        assert_eq!(
            VnetHeader::for_transmit(&offload).emit(),
            [1, 0, 0, 0, 0, 0, 34, 0, 16, 0],
            "checksum only"
        );
        assert_eq!(
            VnetHeader::for_transmit(&FrameOffload::default()).emit(),
            [0; HEADER_LEN]
        );
    }
}
