//! Frames in: Ethernet → ARP or IPv4 → ICMP, UDP, TCP. Every drop is counted; nothing panics.

use core::net::{Ipv4Addr, SocketAddrV4};

use super::gro::{Coalescer, HeldStart};
use super::{Event, Medium, Stack};
use crate::seq::SeqNum;
use crate::time::Instant;
use crate::trace::DropReason;
use crate::transport::tcp::{Disposition, IcmpError, IcmpOutcome, Payload, Tcb, TcpHandle, ecn};
use crate::transport::udp::DeliverOutcome;
use crate::wire::MacAddr;
#[cfg(feature = "teaching")]
use crate::wire::TcpFlags;
use crate::wire::icmpv4::unreachable_code;
use crate::wire::{
    ArpOperation, ArpRepr, EtherType, EthernetRepr, Icmpv4Repr, IpProtocol, Ipv4Repr, TcpRepr,
    UdpRepr, WireError,
};

fn drop_reason(e: WireError) -> DropReason {
    match e {
        WireError::BadChecksum => DropReason::BadChecksum,
        WireError::Fragmented => DropReason::Fragmented,
        WireError::Truncated | WireError::Malformed | WireError::Unsupported => {
            DropReason::Malformed
        }
    }
}

impl Stack {
    /// A frame arrived from the link.
    pub fn receive(&mut self, now: Instant, frame: &[u8]) {
        self.receive_frame(now, frame, false, None);
    }

    /// Frames that arrived together (one wake-up's worth, in arrival order): the same as
    /// [`receive`](Self::receive) on each, except that runs of consecutive in-order data
    /// segments of one connection reach TCP as one segment (software GRO, as Linux's
    /// `napi_gro_receive`; see `stack/gro.rs`), so that connection's per-segment work is done
    /// once per run. Each connection still sees its segments in order and answers as it would
    /// one at a time; only the order between different connections and protocols may differ.
    pub fn receive_batch<'a>(&mut self, now: Instant, frames: impl IntoIterator<Item = &'a [u8]>) {
        let mut gro = Coalescer::new();
        for frame in frames {
            self.receive_frame(now, frame, false, Some(&mut gro));
        }
        self.flush_gro(now, &mut gro);
    }

    /// A frame whose TCP checksum the device has already verified, or whose sender never
    /// left this machine (a TAP/TUN device's virtio-net header says `DATA_VALID` or
    /// `NEEDS_CSUM`: Linux trusts such packets the same way). TCP skips its pass over the
    /// payload; everything else is checked as in [`receive`](Self::receive).
    pub fn receive_checksum_verified(&mut self, now: Instant, frame: &[u8]) {
        self.receive_frame(now, frame, true, None);
    }

    fn receive_frame<'a>(
        &mut self,
        now: Instant,
        frame: &'a [u8],
        tcp_checksum_verified: bool,
        gro: Option<&mut Coalescer<'a>>,
    ) {
        self.stats.frames_in += 1;
        let verify = !tcp_checksum_verified;
        if self.config.medium == Medium::Ip {
            return self.on_ipv4(now, None, frame, verify, gro);
        }
        let (eth, payload) = match EthernetRepr::parse(frame) {
            Ok(v) => v,
            Err(e) => return self.drop_input(now, drop_reason(e)),
        };
        if eth.dst != self.config.mac && !eth.dst.is_broadcast() {
            return self.drop_input(now, DropReason::NotForUs);
        }
        match eth.ethertype {
            EtherType::Arp => self.on_arp(now, payload),
            EtherType::Ipv4 => self.on_ipv4(now, Some(eth.src), payload, verify, gro),
            EtherType::Ipv6 | EtherType::Unknown(_) => {
                self.drop_input(now, DropReason::UnknownProtocol)
            }
        }
    }

    /// RFC 826 packet reception: learn the sender if the request is for us; answer requests.
    fn on_arp(&mut self, now: Instant, payload: &[u8]) {
        let arp = match ArpRepr::parse(payload) {
            Ok(a) => a,
            Err(e) => return self.drop_input(now, drop_reason(e)),
        };
        if arp.target_ip != self.config.ipv4 {
            return self.drop_input(now, DropReason::NotForUs);
        }
        if arp.sender_mac.is_unicast() && !arp.sender_ip.is_unspecified() {
            self.arp.insert(now, arp.sender_ip, arp.sender_mac);
            let released: Vec<Vec<u8>> = self.arp.take_pending(arp.sender_ip).collect();
            for mut frame in released {
                if let Some(dst) = frame.get_mut(0..6) {
                    dst.copy_from_slice(&arp.sender_mac.0);
                }
                self.tx_queue.push_back(frame);
            }
        }
        if arp.operation == ArpOperation::Request {
            let reply = ArpRepr {
                operation: ArpOperation::Reply,
                sender_mac: self.config.mac,
                sender_ip: self.config.ipv4,
                target_mac: arp.sender_mac,
                target_ip: arp.sender_ip,
            };
            self.send_arp(reply, arp.sender_mac);
            self.stats.arp_replies_sent += 1;
        }
    }

    /// `verify_tcp`: check the TCP checksum (see `receive_checksum_verified`).
    fn on_ipv4<'a>(
        &mut self,
        now: Instant,
        src_mac: Option<MacAddr>,
        packet: &'a [u8],
        verify_tcp: bool,
        gro: Option<&mut Coalescer<'a>>,
    ) {
        let (ip, payload) = match Ipv4Repr::parse(packet) {
            Ok(v) => v,
            Err(e) => return self.drop_input(now, drop_reason(e)),
        };
        let unicast = ip.dst == self.config.ipv4;
        // Traffic from a neighbour confirms its mapping; at most once a second, off the per-packet
        // cost (the cache is an ordered map).
        if let Some(src_mac) = src_mac
            && unicast
            && now >= self.next_arp_confirm
        {
            let hop = if self.config.on_link(ip.src) {
                Some(ip.src)
            } else {
                self.config.gateway
            };
            if let Some(hop) = hop {
                self.arp.confirm(now, hop, src_mac);
                self.next_arp_confirm = now + crate::time::Duration::from_secs(1);
            }
        }
        let broadcast = ip.dst.is_broadcast() || ip.dst == self.config.subnet_broadcast();
        if !unicast && !broadcast {
            return self.drop_input(now, DropReason::NotForUs);
        }
        match ip.protocol {
            IpProtocol::Tcp if unicast => self.on_tcp(now, &ip, payload, verify_tcp, gro),
            // MUST-57 (RFC 9293 §3.9.1.1): segments to broadcast or multicast addresses are silently discarded.
            IpProtocol::Tcp => self.drop_input(now, DropReason::NotForUs),
            IpProtocol::Udp => self.on_udp(now, &ip, packet, payload, unicast),
            IpProtocol::Icmp => self.on_icmp(now, &ip, payload, unicast),
            IpProtocol::Unknown(_) => {
                self.drop_input(now, DropReason::UnknownProtocol);
                if unicast {
                    // RFC 1122 §3.2.2.1: protocol unreachable.
                    self.send_icmp_unreachable(now, &ip, packet, unreachable_code::PROTOCOL);
                }
            }
        }
    }

    fn on_icmp(&mut self, now: Instant, ip: &Ipv4Repr, payload: &[u8], unicast: bool) {
        let icmp = match Icmpv4Repr::parse(payload) {
            Ok(i) => i,
            Err(e) => return self.drop_input(now, drop_reason(e)),
        };
        self.stats.icmp_received += 1;
        let error = match icmp {
            Icmpv4Repr::DstUnreachable { code: 4, data } => {
                // RFC 1191 §4: the next-hop MTU sits in the low 16 bits of the unused word.
                let mtu = payload
                    .get(6..8)
                    .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
                Some((IcmpError::FragmentationNeeded { mtu }, data))
            }
            Icmpv4Repr::DstUnreachable { code, data } => Some((IcmpError::Unreachable(code), data)),
            Icmpv4Repr::TimeExceeded { data, .. } => Some((IcmpError::TimeExceeded, data)),
            Icmpv4Repr::Other { msg_type: 12, .. } => {
                // Parameter problem: the quoted packet follows the 8-byte header.
                payload.get(8..).map(|d| (IcmpError::ParameterProblem, d))
            }
            // Source quench (MUST-55) and everything else: silently discarded.
            _ => None,
        };
        if let Some((error, quoted)) = error {
            self.on_icmp_error(now, error, quoted);
            return;
        }
        if let Icmpv4Repr::EchoReply {
            ident,
            seq_no,
            data,
        } = icmp
            && unicast
        {
            self.events.push_back(Event::EchoReply {
                from: ip.src,
                ident,
                seq_no,
                len: data.len(),
            });
            return;
        }
        if let Icmpv4Repr::EchoRequest {
            ident,
            seq_no,
            data,
        } = icmp
            && unicast
        {
            // RFC 1122 §3.2.2.6: echo the data back.
            let reply = Icmpv4Repr::EchoReply {
                ident,
                seq_no,
                data,
            };
            let len = reply.buffer_len();
            self.send_ipv4(now, ip.src, IpProtocol::Icmp, len, |buf| reply.emit(buf));
            self.stats.icmp_echo_replies += 1;
        }
    }

    /// MUST-54: hand an ICMP error to the connection whose segment it quotes.
    fn on_icmp_error(&mut self, now: Instant, error: IcmpError, quoted: &[u8]) {
        let Some(&vihl) = quoted.first() else { return };
        let ihl = usize::from(vihl & 0x0f) * 4;
        let (Some(ip), Some(tcp)) = (quoted.get(..20), quoted.get(ihl..ihl + 8)) else {
            return;
        };
        if vihl >> 4 != 4 || ihl < 20 || ip[9] != 6 {
            return;
        }
        let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
        let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
        if src != self.config.ipv4 {
            return;
        }
        let local = SocketAddrV4::new(src, u16::from_be_bytes([tcp[0], tcp[1]]));
        let remote = SocketAddrV4::new(dst, u16::from_be_bytes([tcp[2], tcp[3]]));
        let seq = SeqNum(u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]));
        let conn = self
            .tcp
            .lookup(local, remote)
            .or_else(|| self.tcp.thaw(&(local, remote), &self.config.tcp, now));
        let Some(h) = conn else {
            return;
        };
        let outcome = match self.tcp.get_mut(h) {
            Some(conn) => conn.tcb.on_icmp_error(now, error, seq),
            None => return,
        };
        if outcome == IcmpOutcome::Soft
            && self
                .tcp
                .get(h)
                .is_some_and(|c| c.listener.is_none() && c.tcb.is_owned())
        {
            self.events.push_back(Event::IcmpError(h, error));
        }
        self.after_tcb(now, h);
    }

    fn on_udp(
        &mut self,
        now: Instant,
        ip: &Ipv4Repr,
        packet: &[u8],
        payload: &[u8],
        unicast: bool,
    ) {
        let (udp, data) = match UdpRepr::parse(payload, ip.src, ip.dst) {
            Ok(v) => v,
            Err(e) => return self.drop_input(now, drop_reason(e)),
        };
        self.stats.udp_datagrams_in += 1;
        let src = SocketAddrV4::new(ip.src, udp.src_port);
        match self.udp.deliver(src, udp.dst_port, data) {
            // Edge-triggered like `Readable`: one event when the queue stops being empty, so an
            // application that never polls events cannot make the event queue grow.
            DeliverOutcome::Delivered(h) => {
                if self.udp.queued(h) == Ok(1) {
                    self.events.push_back(Event::UdpReadable(h));
                }
            }
            DeliverOutcome::QueueFull => self.drop_input(now, DropReason::QueueFull),
            DeliverOutcome::NoSocket => {
                self.stats.udp_no_socket += 1;
                if unicast {
                    // RFC 1122 §4.1.3.1: port unreachable.
                    self.send_icmp_unreachable(now, ip, packet, unreachable_code::PORT);
                }
            }
        }
    }

    fn on_tcp<'a>(
        &mut self,
        now: Instant,
        ip: &Ipv4Repr,
        payload: &'a [u8],
        verify: bool,
        gro: Option<&mut Coalescer<'a>>,
    ) {
        let (seg, data) = match TcpRepr::parse(payload, ip.src, ip.dst, verify) {
            Ok(v) => v,
            Err(e) => return self.drop_input(now, drop_reason(e)),
        };
        self.stats.tcp_segments_in += 1;
        // MUST-63 (RFC 9293 §3.9.2.3): a segment from an invalid source address is ignored.
        if !self.valid_source(ip.src) {
            return self.drop_input(now, DropReason::Malformed);
        }
        let local = SocketAddrV4::new(ip.dst, seg.dst_port);
        let remote = SocketAddrV4::new(ip.src, seg.src_port);
        let ce = ip.dscp_ecn & 0b11 == ecn::CE;
        if let Some(gro) = gro {
            if gro.try_join((local, remote), &seg, data, ce) {
                return;
            }
            // Whatever is held goes first: a connection sees its segments in order.
            self.flush_gro(now, gro);
            if let Some(start) = self.gro_start(now, local, remote, &seg, data, ce) {
                gro.hold(start, data);
                return;
            }
        }
        self.deliver_tcp(now, local, remote, &seg, Payload::one(data), ce);
    }

    /// A segment that may start a run of coalesced segments: one its connection would take
    /// whole and as it is (`Tcb::coalescing_room`).
    fn gro_start(
        &self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        seg: &TcpRepr,
        data: &[u8],
        ce: bool,
    ) -> Option<HeldStart> {
        if !Coalescer::candidate(seg, data) {
            return None;
        }
        let handle = self.tcp.lookup(local, remote)?;
        let room = self.tcp.get(handle)?.tcb.coalescing_room(seg, now);
        (room >= data.len()).then_some(HeldStart {
            local,
            remote,
            seg: *seg,
            ce,
            room,
        })
    }

    /// Hands the held run of segments to its connection as one.
    fn flush_gro(&mut self, now: Instant, gro: &mut Coalescer<'_>) {
        if let Some((held, parts)) = gro.take() {
            self.stats.tcp_segments_coalesced += parts.len().saturating_sub(1) as u64;
            let payload = Payload::coalesced(parts);
            self.deliver_tcp(now, held.local, held.remote, &held.seg, payload, held.ce);
        }
    }

    /// §3.10.7: a segment to its connection (a TIME-WAIT kept small is made whole for it),
    /// else to a listener, else CLOSED's answer.
    fn deliver_tcp(
        &mut self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        seg: &TcpRepr,
        payload: Payload<'_>,
        ce: bool,
    ) {
        let conn = self
            .tcp
            .lookup(local, remote)
            .or_else(|| self.tcp.thaw(&(local, remote), &self.config.tcp, now));
        if let Some(h) = conn {
            let reply = match self.tcp.get_mut(h) {
                Some(conn) => conn.tcb.on_segment(now, seg, payload, ce),
                None => Disposition::Drop(DropReason::NoSocket),
            };
            if let Disposition::Reopen { iss } = reply {
                return self.reopen_time_wait(now, h, seg, iss);
            }
            self.send_reply(now, local, remote, reply);
            self.after_tcb(now, h);
            return;
        }
        if let Some(&lh) = self.tcp.by_port.get(&seg.dst_port) {
            return self.on_listen(now, lh, local, remote, seg, None);
        }
        self.stats.tcp_no_socket += 1;
        self.reset_for_closed(now, local, remote, seg, payload.len());
    }

    /// §3.10.7.1 CLOSED: "all data in the incoming segment is discarded. An incoming segment
    /// containing a RST is discarded. An incoming segment not containing a RST causes a RST to be
    /// sent in response."
    fn reset_for_closed(
        &mut self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        seg: &TcpRepr,
        len: usize,
    ) {
        if seg.flags.rst() {
            return;
        }
        let reply = if seg.flags.ack() {
            Disposition::Rst {
                seq: seg.ack,
                ack: None,
            }
        } else {
            Disposition::Rst {
                seq: SeqNum(0),
                ack: Some(seg.seq + seg.seq_len(len)),
            }
        };
        self.send_reply(now, local, remote, reply);
    }

    /// RFC 6191: a new SYN for a connection in TIME-WAIT. With a listener on the port, the old
    /// connection ends and the listener takes the SYN (the new connection's ISS lies beyond
    /// the old one's sequence space, MAY-2); without one, the SYN is answered with an ACK.
    fn reopen_time_wait(&mut self, now: Instant, h: TcpHandle, seg: &TcpRepr, iss: SeqNum) {
        let listener = self.tcp.by_port.get(&seg.dst_port).copied();
        let Some(conn) = self.tcp.get_mut(h) else {
            return;
        };
        let (local, remote) = (conn.tcb.local(), conn.tcb.remote());
        match listener {
            Some(lh) => {
                conn.tcb.end_time_wait(now);
                self.after_tcb(now, h);
                self.on_listen(now, lh, local, remote, seg, Some(iss));
            }
            None => {
                conn.tcb.refuse_reopen();
                self.after_tcb(now, h);
            }
        }
    }

    /// §3.10.7.2 LISTEN. `iss`: the ISS to use instead of a fresh one (a TIME-WAIT reopened).
    fn on_listen(
        &mut self,
        now: Instant,
        lh: crate::transport::tcp::ListenerHandle,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        seg: &TcpRepr,
        iss: Option<SeqNum>,
    ) {
        // First: an incoming RST is ignored.
        if seg.flags.rst() {
            return;
        }
        // Second: any ACK is bad in LISTEN: <SEQ=SEG.ACK><CTL=RST>.
        if seg.flags.ack() {
            return self.send_reply(
                now,
                local,
                remote,
                Disposition::Rst {
                    seq: seg.ack,
                    ack: None,
                },
            );
        }
        // Third: SYN.
        if !seg.flags.syn() {
            return;
        }
        let Some(listener) = self.tcp.listeners.get_mut(lh.0) else {
            return;
        };
        if listener.pending >= listener.backlog {
            // Like Linux with a full queue: drop the SYN; the peer retries.
            self.stats.tcp_listen_overflow += 1;
            return;
        }
        listener.pending += 1;
        let mut init = self.tcb_init(now, local, remote);
        if let Some(iss) = iss {
            init.iss = iss;
        }
        let tcb = Tcb::new_passive(init, seg);
        let h = self.tcp.insert(tcb, Some(lh));
        self.after_tcb(now, h);
    }

    /// Does what a connection (or the LISTEN/CLOSED processing) said must happen at once.
    pub(super) fn send_reply(
        &mut self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        reply: Disposition,
    ) {
        match reply {
            Disposition::None => {}
            Disposition::Rst { seq, ack } => self.send_rst(now, local, remote, seq, ack),
            #[cfg(feature = "teaching")]
            Disposition::Ack { seq, ack, window } => {
                let seg = super::output::Control {
                    flags: TcpFlags::ACK,
                    seq,
                    ack: Some(ack),
                    window,
                };
                self.send_control(now, local, remote, seg)
            }
            Disposition::Drop(reason) => self.drop_input(now, reason),
            // Handled where a connection answers (`on_tcp`); nothing else returns it.
            Disposition::Reopen { .. } => {}
        }
    }

    /// RFC 1122 §3.2.1.3: broadcast (limited or this subnet's), multicast and 0.0.0.0 are never
    /// a source address; MUST-63 ignores SYNs from them.
    fn valid_source(&self, src: Ipv4Addr) -> bool {
        !(src.is_broadcast()
            || src.is_multicast()
            || src.is_unspecified()
            || src == self.config.subnet_broadcast())
    }

    fn send_icmp_unreachable(&mut self, now: Instant, ip: &Ipv4Repr, packet: &[u8], code: u8) {
        // RFC 1122 §3.2.2: no ICMP error about a packet from a non-unicast source.
        if !self.valid_source(ip.src) {
            return;
        }
        if !self.icmp_limiter.try_take(now) {
            self.stats.icmp_rate_limited += 1;
            return;
        }
        // RFC 1812 §4.3.2.3: as much of the original as fits in 576 bytes.
        let quoted_len = packet.len().min(576 - 20 - 8);
        let quoted = &packet[..quoted_len];
        let msg = Icmpv4Repr::DstUnreachable { code, data: quoted };
        let len = msg.buffer_len();
        let dst: Ipv4Addr = ip.src;
        self.send_ipv4(now, dst, IpProtocol::Icmp, len, |buf| msg.emit(buf));
        self.stats.icmp_errors_sent += 1;
    }
}
