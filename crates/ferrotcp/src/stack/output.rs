//! Frames out: building Ethernet/IPv4 frames, resolving next hops with ARP, and draining the
//! TCP connections that have segments to send.

use core::net::{Ipv4Addr, SocketAddrV4};

use super::{Medium, Stack};
use crate::link::arp_cache::Lookup;
use crate::seq::SeqNum;
use crate::time::Instant;
use crate::transport::tcp::{Outgoing, ecn};
use crate::wire::offload::{
    self, FrameOffload, PartialChecksum, Segmentation, Transmit, TxOffload,
};
use crate::wire::{
    ArpOperation, ArpRepr, EtherType, EthernetRepr, IpProtocol, Ipv4Repr, MacAddr, TcpFlags,
    TcpOptions, TcpRepr,
};

const ETH: usize = EthernetRepr::HEADER_LEN;

/// The header fields of a connection-less control segment (the ACK flag is implied by `ack`).
pub(super) struct Control {
    pub flags: TcpFlags,
    pub seq: SeqNum,
    pub ack: Option<SeqNum>,
    pub window: u16,
}
const IP: usize = Ipv4Repr::HEADER_LEN;
/// Where the checksum lies in a TCP header.
const TCP_CHECKSUM_OFFSET: u16 = crate::wire::tcp::field::CHECKSUM as u16;
/// The payload of a super-segment: whole MSS-sized pieces within one IPv4 packet's 65,535
/// bytes, with room for the largest TCP header (Linux's GSO limit is the same 64 KiB).
const MAX_SUPER_SEGMENT_PAYLOAD: u32 = (u16::MAX as usize - IP - 60) as u32;

impl Stack {
    /// The next frame to put on the link, finished: checksummed, at most one MTU.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        self.poll_transmit_offload(now, TxOffload::NONE)
            .map(|t| t.frame)
    }

    /// The next frame to put on a link whose device finishes what `device` says it can: TCP
    /// checksums left for it to compute, and new data in super-segments of up to 64 KiB for
    /// it to cut at the MSS ([`Transmit::offload`] says what is left, frame by frame). Frames
    /// the stack holds back for ARP are finished in software, so a device that offers less
    /// later still gets only what it can finish. With [`TxOffload::NONE`], the same as
    /// [`poll_transmit`](Self::poll_transmit).
    pub fn poll_transmit_offload(&mut self, now: Instant, device: TxOffload) -> Option<Transmit> {
        // A device that only checksums gets one MSS at a time, with its checksums left to it
        // (the queue of software-cut pieces carries finished frames).
        let software_gso = self.config.gso && !device.checksum;
        let burst = if device.segmentation || software_gso {
            MAX_SUPER_SEGMENT_PAYLOAD
        } else {
            0
        };
        loop {
            if let Some(frame) = self.tx_queue.pop_front() {
                self.stats.frames_out += 1;
                return Some(Transmit {
                    frame,
                    offload: FrameOffload::default(),
                });
            }
            let h = self.tcp.peek_ready()?;
            let out = self
                .tcp
                .get_mut(h)
                .and_then(|c| c.tcb.poll_segment(now, burst));
            match out {
                Some(out) => {
                    // Sending can change state (a teaching ablation does); let the rest know.
                    if self.tcp.get(h).is_some_and(|c| c.tcb.has_news()) {
                        self.after_tcb(now, h);
                    }
                    self.tcp.schedule(h);
                    if out.segment_size > 0 && !device.segmentation {
                        self.cut_burst(now, h, out);
                        continue;
                    }
                    if let Some(t) = self.tcp_frame(now, h, out, device) {
                        self.stats.frames_out += 1;
                        if let Some(seg) = t.offload.segmentation {
                            self.stats.super_segments_out += 1;
                            let data = t.frame.len() - usize::from(seg.header_len);
                            let pieces = data.div_ceil(usize::from(seg.size).max(1));
                            if let Some(conn) = self.tcp.get_mut(h) {
                                conn.tcb
                                    .count_segments_sent(pieces.saturating_sub(1) as u64);
                            }
                        }
                        return Some(t);
                    }
                }
                None => {
                    self.tcp.unready(h);
                    self.tcp.schedule(h);
                    // Its last ACK is out: a TIME-WAIT nobody holds can shrink now.
                    self.tcp.freeze(h);
                }
            }
        }
    }

    /// Software segmentation: queues a burst's MSS-sized pieces as frames of their own, each
    /// built straight from the send buffer (no super-segment is assembled first). The pieces
    /// carry what a device would give them (`wire::offload`): consecutive sequence numbers,
    /// FIN and PSH on the last only, CWR on the first only. They leave finished (the queue
    /// of finished frames carries no offload).
    fn cut_burst(&mut self, now: Instant, h: crate::transport::tcp::TcpHandle, out: Outgoing) {
        let size = out.segment_size as usize;
        let count = out.payload_len.div_ceil(size);
        if let Some(conn) = self.tcp.get_mut(h) {
            conn.tcb.count_segments_sent(count as u64 - 1);
        }
        for i in 0..count {
            let start = i * size;
            let mut repr = out.repr;
            repr.seq = repr.seq + start as u32;
            if i + 1 < count {
                repr.flags.remove(TcpFlags::FIN | TcpFlags::PSH);
            }
            if i > 0 {
                repr.flags.remove(TcpFlags::CWR);
            }
            let piece = Outgoing {
                repr,
                payload_offset: out.payload_offset + start,
                payload_len: size.min(out.payload_len - start),
                ect: out.ect,
                segment_size: 0,
            };
            if let Some(t) = self.tcp_frame(now, h, piece, TxOffload::NONE) {
                self.tx_queue.push_back(t.frame);
            }
        }
    }

    /// Builds the frame for one segment of connection `h`, leaving the checksum to the device
    /// where it offers that; None if it waits for ARP.
    fn tcp_frame(
        &mut self,
        now: Instant,
        h: crate::transport::tcp::TcpHandle,
        out: Outgoing,
        device: TxOffload,
    ) -> Option<Transmit> {
        let (local, remote) = {
            let conn = self.tcp.get(h)?;
            (conn.tcb.local(), conn.tcb.remote())
        };
        let hdr = out.repr.header_len();
        let seg_len = hdr + out.payload_len;
        // Headers are zeroed and written below; the payload is appended, not zero-filled first.
        let l2 = self.l2_len();
        let mut frame = self.alloc_frame(l2 + IP + hdr);
        let device_sums = device.checksum || device.segmentation;
        let mut payload_sum = 0;
        if out.payload_len > 0
            && let Some(conn) = self.tcp.get(h)
        {
            let (offset, len) = (out.payload_offset, out.payload_len);
            if device_sums {
                conn.tcb.append_payload(offset, len, &mut frame);
            } else {
                // Summed as it is copied: the payload is read once.
                payload_sum = conn.tcb.append_payload_summed(offset, len, &mut frame).1;
            }
        }
        if frame.len() != l2 + IP + seg_len {
            // Cannot happen (the TCB described bytes it holds); never send a short segment.
            self.recycle(frame);
            return None;
        }
        let offload = if device_sums {
            out.repr
                .emit_partial_checksum(&mut frame[l2 + IP..], *local.ip(), *remote.ip());
            FrameOffload {
                checksum: Some(PartialChecksum {
                    start: (l2 + IP) as u16,
                    offset: TCP_CHECKSUM_OFFSET,
                }),
                segmentation: (out.segment_size > 0).then(|| Segmentation {
                    size: out.segment_size as u16,
                    header_len: (l2 + IP + hdr) as u16,
                    cwr: out.repr.flags.contains(TcpFlags::CWR),
                }),
            }
        } else {
            out.repr.emit_with_payload_sum(
                &mut frame[l2 + IP..],
                *local.ip(),
                *remote.ip(),
                payload_sum,
            );
            FrameOffload::default()
        };
        let ecn = if out.ect { ecn::ECT0 } else { 0 };
        let kind = (IpProtocol::Tcp, ecn);
        let frame = self.finish_ipv4(now, (frame, offload), *remote.ip(), kind, seg_len)?;
        Some(Transmit { frame, offload })
    }

    /// Bytes of link-layer header in front of every IPv4 packet.
    pub(super) fn l2_len(&self) -> usize {
        match self.config.medium {
            Medium::Ethernet => ETH,
            Medium::Ip => 0,
        }
    }

    /// `<SEQ=seq><CTL=RST>` or `<SEQ=seq><ACK=ack><CTL=RST,ACK>` from `local` to `remote`.
    pub(super) fn send_rst(
        &mut self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        seq: SeqNum,
        ack: Option<SeqNum>,
    ) {
        self.stats.tcp_rst_sent += 1;
        let seg = Control {
            flags: TcpFlags::RST,
            seq,
            ack,
            window: 0,
        };
        self.send_control(now, local, remote, seg);
    }

    /// A segment without data and without a connection behind it (RST, or a last ACK).
    pub(super) fn send_control(
        &mut self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        seg: Control,
    ) {
        let mut flags = seg.flags;
        if seg.ack.is_some() {
            flags |= TcpFlags::ACK;
        }
        let repr = TcpRepr {
            src_port: local.port(),
            dst_port: remote.port(),
            seq: seg.seq,
            ack: seg.ack.unwrap_or(SeqNum(0)),
            flags,
            window: seg.window,
            urgent: 0,
            options: TcpOptions::default(),
        };
        let len = repr.header_len();
        self.send_ipv4(now, *remote.ip(), IpProtocol::Tcp, len, |buf| {
            repr.emit(buf, *local.ip(), *remote.ip())
        });
    }

    /// Builds an IPv4 packet with a `payload_len`-byte payload filled by `fill`, and queues it.
    pub(super) fn send_ipv4(
        &mut self,
        now: Instant,
        dst: Ipv4Addr,
        protocol: IpProtocol,
        payload_len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) {
        let l2 = self.l2_len();
        let mut frame = self.alloc_frame(l2 + IP + payload_len);
        fill(&mut frame[l2 + IP..]);
        let finished = (frame, FrameOffload::default());
        if let Some(frame) = self.finish_ipv4(now, finished, dst, (protocol, 0), payload_len) {
            self.tx_queue.push_back(frame);
        }
    }

    /// Writes the IPv4 and Ethernet headers in front of a payload already in place (`kind`: the
    /// protocol and the ECN field; `offload`: what the frame leaves to the device). Returns
    /// the frame if the next hop is resolved; otherwise it waits in the ARP queue, finished in
    /// software (or is dropped).
    fn finish_ipv4(
        &mut self,
        now: Instant,
        (mut frame, offload): (Vec<u8>, FrameOffload),
        dst: Ipv4Addr,
        kind: (IpProtocol, u8),
        payload_len: usize,
    ) -> Option<Vec<u8>> {
        let (protocol, ecn) = kind;
        let ident = self.ip_ident.wrapping_add(1);
        // A super-segment's pieces take the identifications after its own (Linux's
        // `ip_select_ident_segs`), so no two packets in flight share one.
        let pieces = offload.segmentation.map_or(1, |s| {
            let data = (self.l2_len() + IP + payload_len).saturating_sub(usize::from(s.header_len));
            data.div_ceil(usize::from(s.size).max(1)).max(1)
        });
        self.ip_ident = self.ip_ident.wrapping_add(pieces as u16);
        let ip = Ipv4Repr {
            src: self.config.ipv4,
            dst,
            protocol,
            payload_len,
            ttl: self.config.ttl,
            ident,
            dont_fragment: true,
            dscp_ecn: ecn,
        };
        let l2 = self.l2_len();
        ip.emit(&mut frame[l2..l2 + IP]);
        let Some(hop) = self.config.next_hop(dst) else {
            self.stats.no_route += 1;
            self.recycle(frame);
            return None;
        };
        if self.config.medium == Medium::Ip {
            // A raw-IP link (TUN) has no link-layer header and no neighbours to resolve.
            return Some(frame);
        }
        let mac = if hop.is_broadcast() || hop == self.config.subnet_broadcast() {
            Some(MacAddr::BROADCAST)
        } else {
            match self.arp.lookup(now, hop) {
                Lookup::Found(mac) => Some(mac),
                Lookup::SendRequest => {
                    self.send_arp_request(hop);
                    None
                }
                Lookup::Pending => None,
                Lookup::Failed => {
                    self.stats.arp_failed_drops += 1;
                    self.recycle(frame);
                    return None;
                }
            }
        };
        let eth = EthernetRepr {
            src: self.config.mac,
            dst: mac.unwrap_or(MacAddr::ZERO),
            ethertype: EtherType::Ipv4,
        };
        eth.emit(&mut frame[..ETH]);
        if mac.is_some() {
            return Some(frame);
        }
        if offload.is_none() {
            self.hold_for_arp(now, hop, frame);
            return None;
        }
        // Whatever device drains the ARP queue later gets finished frames.
        let mut pieces = Vec::new();
        let cut = offload::finish_in_software(&frame, ETH, &offload, |p| {
            let mut piece = Vec::with_capacity(p.len());
            piece.extend_from_slice(p);
            pieces.push(piece);
        });
        if cut.is_err() {
            // Cannot happen: the frame was built above as IPv4 + TCP.
            self.stats.malformed += 1;
        }
        self.recycle(frame);
        for piece in pieces {
            self.hold_for_arp(now, hop, piece);
        }
        None
    }

    fn hold_for_arp(&mut self, now: Instant, hop: Ipv4Addr, frame: Vec<u8>) {
        if let Err(frame) = self.arp.enqueue(now, hop, frame) {
            self.stats.arp_queue_full += 1;
            self.recycle(frame);
        }
    }

    pub(super) fn send_arp_request(&mut self, ip: Ipv4Addr) {
        let req = ArpRepr {
            operation: ArpOperation::Request,
            sender_mac: self.config.mac,
            sender_ip: self.config.ipv4,
            target_mac: MacAddr::ZERO,
            target_ip: ip,
        };
        self.stats.arp_requests_sent += 1;
        self.send_arp(req, MacAddr::BROADCAST);
    }

    pub(super) fn send_arp(&mut self, arp: ArpRepr, dst: MacAddr) {
        // 14 + 28 bytes, padded to Ethernet's 60-byte minimum like a real NIC would.
        let mut frame = self.alloc_frame(60);
        EthernetRepr {
            src: self.config.mac,
            dst,
            ethertype: EtherType::Arp,
        }
        .emit(&mut frame[..ETH]);
        arp.emit(&mut frame[ETH..ETH + ArpRepr::LEN]);
        self.tx_queue.push_back(frame);
    }
}
