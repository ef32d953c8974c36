//! Cross-checks against `etherparse` 0.21 as an independent implementation: packets built
//! by etherparse parse identically with ours, and packets we emit parse identically (with
//! valid checksums) with etherparse.

use std::net::Ipv4Addr;

use etherparse::{
    IcmpEchoHeader, Icmpv4Header, Icmpv4Type, IpDscp, IpEcn, IpHeaders, IpNumber, Ipv4Header,
    LinkHeader, NetHeaders, PacketBuilder, PacketHeaders, TcpOptionElement, TransportHeader,
};
use ferrotcp::seq::SeqNum;
use ferrotcp::wire::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Net {
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    src: [u8; 4],
    dst: [u8; 4],
    ttl: u8,
    ident: u16,
    df: bool,
    dscp: u8,
    ecn: u8,
}

fn net() -> impl Strategy<Value = Net> {
    (
        any::<([u8; 6], [u8; 6], [u8; 4], [u8; 4])>(),
        any::<(u8, u16, bool)>(),
        0u8..64,
        0u8..4,
    )
        .prop_map(
            |((src_mac, dst_mac, src, dst), (ttl, ident, df), dscp, ecn)| Net {
                src_mac,
                dst_mac,
                src,
                dst,
                ttl,
                ident,
                df,
                dscp,
                ecn,
            },
        )
}

impl Net {
    fn builder(&self) -> etherparse::PacketBuilderStep<IpHeaders> {
        let mut h = Ipv4Header::new(0, self.ttl, IpNumber(0), self.src, self.dst).unwrap();
        h.identification = self.ident;
        h.dont_fragment = self.df;
        h.dscp = IpDscp::try_new(self.dscp).unwrap();
        h.ecn = IpEcn::try_new(self.ecn).unwrap();
        PacketBuilder::ethernet2(self.src_mac, self.dst_mac)
            .ip(IpHeaders::Ipv4(h, Default::default()))
    }

    fn ips(&self) -> (Ipv4Addr, Ipv4Addr) {
        (Ipv4Addr::from(self.src), Ipv4Addr::from(self.dst))
    }

    /// Parses Ethernet + IPv4 with ours and checks them against `self`.
    fn check_ours<'a>(
        &self,
        frame: &'a [u8],
        proto: IpProtocol,
    ) -> Result<&'a [u8], TestCaseError> {
        let (eth, ip_bytes) = EthernetRepr::parse(frame).unwrap();
        prop_assert_eq!(eth.src, MacAddr(self.src_mac));
        prop_assert_eq!(eth.dst, MacAddr(self.dst_mac));
        prop_assert_eq!(eth.ethertype, EtherType::Ipv4);
        let (ip, l4) = Ipv4Repr::parse(ip_bytes).unwrap();
        prop_assert_eq!((ip.src, ip.dst), self.ips());
        prop_assert_eq!(ip.protocol, proto);
        prop_assert_eq!(
            (ip.ttl, ip.ident, ip.dont_fragment),
            (self.ttl, self.ident, self.df)
        );
        prop_assert_eq!(ip.dscp_ecn, (self.dscp << 2) | self.ecn);
        prop_assert_eq!(ip.payload_len, l4.len());
        Ok(l4)
    }

    /// Emits Ethernet + IPv4 headers with ours in front of an `l4` of the given length.
    fn emit_ours(&self, proto: IpProtocol, l4_len: usize) -> Vec<u8> {
        let mut f = vec![0u8; 34 + l4_len];
        EthernetRepr {
            src: MacAddr(self.src_mac),
            dst: MacAddr(self.dst_mac),
            ethertype: EtherType::Ipv4,
        }
        .emit(&mut f);
        let (src, dst) = self.ips();
        Ipv4Repr {
            src,
            dst,
            protocol: proto,
            payload_len: l4_len,
            ttl: self.ttl,
            ident: self.ident,
            dont_fragment: self.df,
            dscp_ecn: (self.dscp << 2) | self.ecn,
        }
        .emit(&mut f[14..]);
        f
    }

    /// Checks etherparse's view of Ethernet + IPv4 emitted by ours.
    fn check_theirs(
        &self,
        h: &PacketHeaders,
        l4_len: usize,
        proto: u8,
    ) -> Result<Ipv4Header, TestCaseError> {
        let Some(LinkHeader::Ethernet2(eth)) = &h.link else {
            return Err(TestCaseError::fail("no ethernet header"));
        };
        prop_assert_eq!((eth.source, eth.destination), (self.src_mac, self.dst_mac));
        prop_assert_eq!(eth.ether_type.0, 0x0800);
        let Some(NetHeaders::Ipv4(ip, exts)) = &h.net else {
            return Err(TestCaseError::fail("no ipv4 header"));
        };
        prop_assert!(exts.is_empty());
        prop_assert_eq!((ip.source, ip.destination), (self.src, self.dst));
        prop_assert_eq!((ip.time_to_live, ip.identification), (self.ttl, self.ident));
        prop_assert_eq!((ip.dont_fragment, ip.more_fragments), (self.df, false));
        prop_assert_eq!(ip.fragment_offset.value(), 0);
        prop_assert_eq!((ip.dscp.value(), ip.ecn.value()), (self.dscp, self.ecn));
        prop_assert_eq!(ip.protocol.0, proto);
        prop_assert_eq!(usize::from(ip.total_len), 20 + l4_len);
        prop_assert_eq!(ip.header_len(), 20);
        prop_assert_eq!(ip.header_checksum, ip.calc_header_checksum());
        Ok(ip.clone())
    }
}

#[derive(Debug, Clone)]
struct Tcp {
    sport: u16,
    dport: u16,
    seq: u32,
    ack: Option<u32>,
    window: u16,
    urg: Option<u16>,
    flags: [bool; 6], // fin syn rst psh ece cwr
    options: TcpOptions,
    nops: bool,
    payload: Vec<u8>,
}

fn tcp() -> impl Strategy<Value = Tcp> {
    let opts = (
        any::<Option<u16>>(),
        any::<Option<u8>>(),
        any::<bool>(),
        prop::collection::vec(any::<(u32, u32)>(), 0..=4),
        any::<Option<(u32, u32)>>(),
    )
        .prop_map(|(mss, window_scale, sack_permitted, blocks, timestamps)| {
            let mut o = TcpOptions {
                mss,
                window_scale,
                sack_permitted,
                timestamps,
                ..TcpOptions::default()
            };
            for (slot, (l, r)) in o.sack_blocks.iter_mut().zip(blocks) {
                *slot = Some(SackBlock {
                    left: SeqNum(l),
                    right: SeqNum(r),
                });
            }
            o
        });
    (
        any::<(u16, u16, u32, Option<u32>, u16, Option<u16>, [bool; 6])>(),
        opts,
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(
            |((sport, dport, seq, ack, window, urg, flags), options, nops, payload)| Tcp {
                sport,
                dport,
                seq,
                ack,
                window,
                urg,
                flags,
                options,
                nops,
                payload,
            },
        )
}

impl Tcp {
    fn tcp_flags(&self) -> TcpFlags {
        let bits = [
            TcpFlags::FIN,
            TcpFlags::SYN,
            TcpFlags::RST,
            TcpFlags::PSH,
            TcpFlags::ECE,
            TcpFlags::CWR,
        ];
        let mut f = TcpFlags::default();
        for (on, bit) in self.flags.iter().zip(bits) {
            if *on {
                f |= bit;
            }
        }
        if self.ack.is_some() {
            f |= TcpFlags::ACK;
        }
        if self.urg.is_some() {
            f |= TcpFlags::URG;
        }
        f
    }

    fn repr(&self) -> TcpRepr {
        TcpRepr {
            src_port: self.sport,
            dst_port: self.dport,
            seq: SeqNum(self.seq),
            ack: SeqNum(self.ack.unwrap_or(0)),
            flags: self.tcp_flags(),
            window: self.window,
            urgent: self.urg.unwrap_or(0),
            options: self.options,
        }
    }

    /// etherparse option elements in an order different from ours (WS, TS, SACK, MSS,
    /// SACK-perm), optionally NOP-separated, with SACK blocks trimmed to fit 40 bytes.
    /// Returns the elements and the options they encode.
    fn elements(&self) -> (Vec<TcpOptionElement>, TcpOptions) {
        let o = self.options;
        let nop = |v: &mut Vec<TcpOptionElement>, len: &mut usize| {
            if self.nops {
                v.push(TcpOptionElement::Noop);
                *len += 1;
            }
        };
        let (mut v, mut len) = (Vec::new(), 0usize);
        if let Some(ws) = o.window_scale {
            v.push(TcpOptionElement::WindowScale(ws));
            len += 3;
            nop(&mut v, &mut len);
        }
        if let Some((a, b)) = o.timestamps {
            v.push(TcpOptionElement::Timestamp(a, b));
            len += 10;
            nop(&mut v, &mut len);
        }
        let tail = if o.mss.is_some() { 4 } else { 0 } + if o.sack_permitted { 2 } else { 0 };
        let blocks: Vec<(u32, u32)> = o
            .sack_blocks
            .iter()
            .flatten()
            .map(|b| (b.left.0, b.right.0))
            .collect();
        let fit = blocks.len().min(40usize.saturating_sub(len + tail + 2) / 8);
        let mut expected = o;
        expected.sack_blocks = [None; 4];
        if fit > 0 {
            let rest = [1, 2, 3].map(|i| (i < fit).then(|| blocks[i]));
            v.push(TcpOptionElement::SelectiveAcknowledgement(blocks[0], rest));
            for (i, b) in expected.sack_blocks.iter_mut().take(fit).enumerate() {
                *b = o.sack_blocks[i];
            }
        }
        if let Some(mss) = o.mss {
            v.push(TcpOptionElement::MaximumSegmentSize(mss));
        }
        if o.sack_permitted {
            v.push(TcpOptionElement::SelectiveAcknowledgementPermitted);
        }
        (v, expected)
    }
}

/// etherparse's option iterator, collected into our representation (NOPs dropped).
fn their_options(t: &etherparse::TcpHeader) -> TcpOptions {
    let mut o = TcpOptions::default();
    for e in t.options_iterator() {
        match e.expect("etherparse rejected our options") {
            TcpOptionElement::Noop => {}
            TcpOptionElement::MaximumSegmentSize(m) => o.mss = Some(m),
            TcpOptionElement::WindowScale(w) => o.window_scale = Some(w),
            TcpOptionElement::SelectiveAcknowledgementPermitted => o.sack_permitted = true,
            TcpOptionElement::Timestamp(a, b) => o.timestamps = Some((a, b)),
            TcpOptionElement::SelectiveAcknowledgement(first, rest) => {
                o.sack_blocks = [None; 4];
                let all = std::iter::once(Some(first)).chain(rest);
                for (slot, b) in o.sack_blocks.iter_mut().zip(all) {
                    *slot = b.map(|(l, r)| SackBlock {
                        left: SeqNum(l),
                        right: SeqNum(r),
                    });
                }
            }
        }
    }
    o
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn etherparse_tcp_parses_with_ours(n in net(), t in tcp()) {
        let (elements, expected_opts) = t.elements();
        let mut b = n.builder().tcp(t.sport, t.dport, t.seq, t.window);
        let f = t.flags;
        if f[0] { b = b.fin(); }
        if f[1] { b = b.syn(); }
        if f[2] { b = b.rst(); }
        if f[3] { b = b.psh(); }
        if f[4] { b = b.ece(); }
        if f[5] { b = b.cwr(); }
        if let Some(a) = t.ack { b = b.ack(a); }
        if let Some(u) = t.urg { b = b.urg(u); }
        let b = b.options(&elements).unwrap();
        let mut frame = Vec::new();
        b.write(&mut frame, &t.payload).unwrap();

        let l4 = n.check_ours(&frame, IpProtocol::Tcp)?;
        let (src, dst) = n.ips();
        let (repr, payload) = TcpRepr::parse(l4, src, dst, true).unwrap();
        prop_assert_eq!(repr, TcpRepr { options: expected_opts, ..t.repr() });
        prop_assert_eq!(payload, &t.payload[..]);
    }

    #[test]
    fn our_tcp_parses_with_etherparse(n in net(), t in tcp()) {
        let repr = t.repr();
        let hl = repr.header_len();
        let mut frame = n.emit_ours(IpProtocol::Tcp, hl + t.payload.len());
        frame[34 + hl..].copy_from_slice(&t.payload);
        let (src, dst) = n.ips();
        repr.emit(&mut frame[34..], src, dst);

        let h = PacketHeaders::from_ethernet_slice(&frame).unwrap();
        let ip = n.check_theirs(&h, hl + t.payload.len(), 6)?;
        let Some(TransportHeader::Tcp(th)) = &h.transport else {
            return Err(TestCaseError::fail("no tcp header"));
        };
        prop_assert_eq!((th.source_port, th.destination_port), (t.sport, t.dport));
        prop_assert_eq!((th.sequence_number, th.acknowledgment_number), (t.seq, t.ack.unwrap_or(0)));
        let fl = [th.fin, th.syn, th.rst, th.psh, th.ece, th.cwr];
        prop_assert_eq!(fl, t.flags);
        prop_assert_eq!((th.ack, th.urg, th.ns), (t.ack.is_some(), t.urg.is_some(), false));
        prop_assert_eq!((th.window_size, th.urgent_pointer), (t.window, t.urg.unwrap_or(0)));
        prop_assert_eq!(th.header_len(), hl);
        prop_assert_eq!(their_options(th), repr.options.fitted());
        prop_assert_eq!(h.payload.slice(), &t.payload[..]);
        prop_assert_eq!(th.checksum, th.calc_checksum_ipv4(&ip, &t.payload).unwrap());
    }

    #[test]
    fn etherparse_udp_parses_with_ours(n in net(), sp: u16, dp: u16,
                                       payload in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut frame = Vec::new();
        n.builder().udp(sp, dp).write(&mut frame, &payload).unwrap();
        let l4 = n.check_ours(&frame, IpProtocol::Udp)?;
        let (src, dst) = n.ips();
        let (repr, pl) = UdpRepr::parse(l4, src, dst).unwrap();
        prop_assert_eq!(repr, UdpRepr { src_port: sp, dst_port: dp });
        prop_assert_eq!(pl, &payload[..]);
    }

    #[test]
    fn our_udp_parses_with_etherparse(n in net(), sp: u16, dp: u16,
                                      payload in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut frame = n.emit_ours(IpProtocol::Udp, 8 + payload.len());
        frame[42..].copy_from_slice(&payload);
        let (src, dst) = n.ips();
        UdpRepr { src_port: sp, dst_port: dp }.emit(&mut frame[34..], src, dst);
        let h = PacketHeaders::from_ethernet_slice(&frame).unwrap();
        let ip = n.check_theirs(&h, 8 + payload.len(), 17)?;
        let Some(TransportHeader::Udp(uh)) = &h.transport else {
            return Err(TestCaseError::fail("no udp header"));
        };
        prop_assert_eq!((uh.source_port, uh.destination_port), (sp, dp));
        prop_assert_eq!(usize::from(uh.length), 8 + payload.len());
        prop_assert_eq!(uh.checksum, uh.calc_checksum_ipv4(&ip, &payload).unwrap());
        prop_assert_eq!(h.payload.slice(), &payload[..]);
    }

    #[test]
    fn icmp_echo_both_ways(n in net(), id: u16, seq: u16, request: bool,
                           data in prop::collection::vec(any::<u8>(), 0..100)) {
        let echo = IcmpEchoHeader { id, seq };
        let their_type = if request { Icmpv4Type::EchoRequest(echo) } else { Icmpv4Type::EchoReply(echo) };
        let ours = if request {
            Icmpv4Repr::EchoRequest { ident: id, seq_no: seq, data: &data }
        } else {
            Icmpv4Repr::EchoReply { ident: id, seq_no: seq, data: &data }
        };
        // etherparse -> ours
        let mut frame = Vec::new();
        n.builder().icmpv4(their_type.clone()).write(&mut frame, &data).unwrap();
        let l4 = n.check_ours(&frame, IpProtocol::Icmp)?;
        prop_assert_eq!(Icmpv4Repr::parse(l4).unwrap(), ours);
        // ours -> etherparse
        let mut frame = n.emit_ours(IpProtocol::Icmp, ours.buffer_len());
        ours.emit(&mut frame[34..]);
        let h = PacketHeaders::from_ethernet_slice(&frame).unwrap();
        n.check_theirs(&h, ours.buffer_len(), 1)?;
        let Some(TransportHeader::Icmpv4(ih)) = &h.transport else {
            return Err(TestCaseError::fail("no icmp header"));
        };
        prop_assert_eq!(ih, &Icmpv4Header::with_checksum(their_type, &data));
        prop_assert_eq!(h.payload.slice(), &data[..]);
    }

    #[test]
    fn arp_both_ways(sm: [u8; 6], si: [u8; 4], tm: [u8; 6], ti: [u8; 4], reply: bool) {
        use etherparse::{ArpEthIpv4Packet, ArpPacket as TheirArp};
        let op = if reply { ArpOperation::Reply } else { ArpOperation::Request };
        let theirs = ArpEthIpv4Packet {
            operation: etherparse::ArpOperation(u16::from(op)),
            sender_mac: sm, sender_ipv4: si, target_mac: tm, target_ipv4: ti,
        };
        let ours = ArpRepr {
            operation: op,
            sender_mac: MacAddr(sm), sender_ip: Ipv4Addr::from(si),
            target_mac: MacAddr(tm), target_ip: Ipv4Addr::from(ti),
        };
        let mut frame = Vec::new();
        PacketBuilder::ethernet2(sm, [0xFF; 6]).arp(TheirArp::from(theirs.clone()))
            .write(&mut frame).unwrap();
        let (eth, body) = EthernetRepr::parse(&frame).unwrap();
        prop_assert_eq!(eth.ethertype, EtherType::Arp);
        prop_assert_eq!(ArpRepr::parse(body), Ok(ours));
        let mut buf = [0u8; ArpRepr::LEN];
        ours.emit(&mut buf);
        let parsed = etherparse::ArpPacketSlice::from_slice(&buf).unwrap().to_packet();
        prop_assert_eq!(parsed.try_eth_ipv4().unwrap(), theirs);
    }
}

#[test]
fn etherparse_accepts_our_real_syn_layout() {
    // MSS + SACK-perm + TS + WS in our (Linux) layout, read back by etherparse.
    let repr = TcpRepr {
        src_port: 40000,
        dst_port: 80,
        seq: SeqNum(1),
        ack: SeqNum(0),
        flags: TcpFlags::SYN,
        window: 64240,
        urgent: 0,
        options: TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            sack_blocks: [None; 4],
            timestamps: Some((7, 0)),
        },
    };
    let (src, dst) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
    let mut seg = [0u8; 40];
    repr.emit(&mut seg, src, dst);
    let (th, rest) = etherparse::TcpHeader::from_slice(&seg).unwrap();
    assert!(rest.is_empty());
    let elems: Vec<_> = th.options_iterator().map(|e| e.unwrap()).collect();
    assert_eq!(
        elems,
        vec![
            TcpOptionElement::MaximumSegmentSize(1460),
            TcpOptionElement::SelectiveAcknowledgementPermitted,
            TcpOptionElement::Timestamp(7, 0),
            TcpOptionElement::Noop,
            TcpOptionElement::WindowScale(7),
        ]
    );
    assert_eq!(
        th.checksum,
        th.calc_checksum_ipv4_raw(src.octets(), dst.octets(), &[])
            .unwrap()
    );
}
