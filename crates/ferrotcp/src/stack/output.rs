//! Frames out: building Ethernet/IPv4 frames, resolving next hops with ARP, and draining the
//! TCP connections that have segments to send.

use core::net::{Ipv4Addr, SocketAddrV4};

use super::{Medium, Stack};
use crate::link::arp_cache::Lookup;
use crate::seq::SeqNum;
use crate::time::Instant;
use crate::transport::tcp::{Outgoing, ecn};
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

impl Stack {
    /// The next frame to put on the link.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        loop {
            if let Some(frame) = self.tx_queue.pop_front() {
                self.stats.frames_out += 1;
                return Some(frame);
            }
            let h = self.tcp.peek_ready()?;
            let out = self.tcp.get_mut(h).and_then(|c| c.tcb.poll_segment(now));
            match out {
                Some(out) => {
                    // Sending can change state (a teaching ablation does); let the rest know.
                    if self.tcp.get(h).is_some_and(|c| c.tcb.has_news()) {
                        self.after_tcb(now, h);
                    }
                    self.tcp.schedule(h);
                    if let Some(frame) = self.tcp_frame(now, h, out) {
                        self.stats.frames_out += 1;
                        return Some(frame);
                    }
                }
                None => {
                    self.tcp.unready(h);
                    self.tcp.schedule(h);
                }
            }
        }
    }

    /// Builds the frame for one segment of connection `h`; None if it waits for ARP.
    fn tcp_frame(
        &mut self,
        now: Instant,
        h: crate::transport::tcp::TcpHandle,
        out: Outgoing,
    ) -> Option<Vec<u8>> {
        let (local, remote) = {
            let conn = self.tcp.get(h)?;
            (conn.tcb.local(), conn.tcb.remote())
        };
        let hdr = out.repr.header_len();
        let seg_len = hdr + out.payload_len;
        // Headers are zeroed and written below; the payload is appended, not zero-filled first.
        let l2 = self.l2_len();
        let mut frame = self.alloc_frame(l2 + IP + hdr);
        if out.payload_len > 0
            && let Some(conn) = self.tcp.get(h)
        {
            conn.tcb
                .append_payload(out.payload_offset, out.payload_len, &mut frame);
        }
        if frame.len() != l2 + IP + seg_len {
            // Cannot happen (the TCB described bytes it holds); never send a short segment.
            self.recycle(frame);
            return None;
        }
        out.repr
            .emit(&mut frame[l2 + IP..], *local.ip(), *remote.ip());
        let ecn = if out.ect { ecn::ECT0 } else { 0 };
        self.finish_ipv4(now, frame, *remote.ip(), (IpProtocol::Tcp, ecn), seg_len)
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
        if let Some(frame) = self.finish_ipv4(now, frame, dst, (protocol, 0), payload_len) {
            self.tx_queue.push_back(frame);
        }
    }

    /// Writes the IPv4 and Ethernet headers in front of a payload already in place (`kind`: the
    /// protocol and the ECN field). Returns the frame if the next hop is resolved; otherwise it
    /// waits in the ARP queue (or is dropped).
    fn finish_ipv4(
        &mut self,
        now: Instant,
        mut frame: Vec<u8>,
        dst: Ipv4Addr,
        kind: (IpProtocol, u8),
        payload_len: usize,
    ) -> Option<Vec<u8>> {
        let (protocol, ecn) = kind;
        self.ip_ident = self.ip_ident.wrapping_add(1);
        let ip = Ipv4Repr {
            src: self.config.ipv4,
            dst,
            protocol,
            payload_len,
            ttl: self.config.ttl,
            ident: self.ip_ident,
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
        if let Err(frame) = self.arp.enqueue(now, hop, frame) {
            self.stats.arp_queue_full += 1;
            self.recycle(frame);
        }
        None
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
