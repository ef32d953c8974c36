//! Property tests for the wire layer: parsers never panic, emit/parse round-trips,
//! and the fast checksum equals a naive RFC 1071 reference.

use std::net::Ipv4Addr;

use ferrotcp::seq::SeqNum;
use ferrotcp::wire::checksum::{checksum, checksum_with, fold, pseudo_header_v4, sum};
use ferrotcp::wire::*;
use proptest::prelude::*;

/// Naive reference: add big-endian byte pairs into a u64, then fold.
fn naive_fold(data: &[u8]) -> u16 {
    let mut acc: u64 = 0;
    let mut i = 0;
    while i < data.len() {
        let hi = u64::from(data[i]) << 8;
        let lo = data.get(i + 1).map_or(0, |&b| u64::from(b));
        acc += hi | lo;
        i += 2;
    }
    while acc > 0xFFFF {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    acc as u16
}

fn ip() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn mac() -> impl Strategy<Value = MacAddr> {
    any::<[u8; 6]>().prop_map(MacAddr)
}

fn tcp_options() -> impl Strategy<Value = TcpOptions> {
    (
        any::<Option<u16>>(),
        any::<Option<u8>>(),
        any::<bool>(),
        prop::collection::vec(any::<(u32, u32)>(), 0..=4),
        any::<Option<(u32, u32)>>(),
    )
        .prop_map(|(mss, window_scale, sack_permitted, blocks, timestamps)| {
            let mut sack_blocks = [None; 4];
            for (slot, (l, r)) in sack_blocks.iter_mut().zip(blocks) {
                *slot = Some(SackBlock {
                    left: SeqNum(l),
                    right: SeqNum(r),
                });
            }
            TcpOptions {
                mss,
                window_scale,
                sack_permitted,
                sack_blocks,
                timestamps,
            }
        })
}

fn tcp_repr() -> impl Strategy<Value = TcpRepr> {
    (any::<(u16, u16, u32, u32, u8, u16, u16)>(), tcp_options()).prop_map(
        |((sp, dp, seq, ack, flags, window, urgent), options)| TcpRepr {
            src_port: sp,
            dst_port: dp,
            seq: SeqNum(seq),
            ack: SeqNum(ack),
            flags: TcpFlags(flags),
            window,
            urgent,
            options,
        },
    )
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

/// A valid Ethernet/IPv4/TCP frame, for mutation-based fuzzing.
fn valid_tcp_frame(repr: &TcpRepr, payload: &[u8]) -> Vec<u8> {
    let (src, dst) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
    let tl = repr.header_len() + payload.len();
    let mut f = vec![0u8; 14 + 20 + tl];
    EthernetRepr {
        src: MacAddr([2, 0, 0, 0, 0, 1]),
        dst: MacAddr([2, 0, 0, 0, 0, 2]),
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut f);
    Ipv4Repr {
        src,
        dst,
        protocol: IpProtocol::Tcp,
        payload_len: tl,
        ttl: 64,
        ident: 1,
        dont_fragment: true,
        dscp_ecn: 0,
    }
    .emit(&mut f[14..]);
    f[34 + repr.header_len()..].copy_from_slice(payload);
    repr.emit(&mut f[34..], src, dst);
    f
}

/// Runs every parser and view accessor over `b`; none may panic.
fn parse_everything(b: &[u8]) {
    let (a, c) = (Ipv4Addr::new(1, 2, 3, 4), Ipv4Addr::new(5, 6, 7, 8));
    let _ = EthernetRepr::parse(b);
    let _ = ArpRepr::parse(b);
    let _ = Ipv4Repr::parse(b);
    let _ = Icmpv4Repr::parse(b);
    let _ = UdpRepr::parse(b, a, c);
    let _ = TcpRepr::parse(b, a, c, true);
    let _ = TcpRepr::parse(b, a, c, false);
    let _ = TcpOptions::parse(b);
    if let Ok(p) = ArpPacket::new_checked(b) {
        let _ = (p.sender_hardware_addr(), p.sender_protocol_addr());
        let _ = (
            p.target_hardware_addr(),
            p.target_protocol_addr(),
            p.operation(),
        );
    }
    if let Ok(p) = Ipv4Packet::new_checked(b) {
        let _ = (
            p.options(),
            p.payload(),
            p.verify_checksum(),
            p.frag_offset(),
        );
    }
    if let Ok(p) = UdpPacket::new_checked(b) {
        let _ = (p.payload(), p.verify_checksum(a, c));
    }
    if let Ok(p) = TcpPacket::new_checked(b) {
        let _ = (p.options(), p.payload(), p.verify_checksum(a, c), p.flags());
    }
    if let Ok(p) = Icmpv4Packet::new_checked(b) {
        let _ = (p.data(), p.verify_checksum(), p.echo_seq_no());
    }
    // Walk down the stack as the receive path does.
    if let Ok((_, ip_bytes)) = EthernetRepr::parse(b) {
        if let Ok((ip, l4)) = Ipv4Repr::parse(ip_bytes) {
            let _ = TcpRepr::parse(l4, ip.src, ip.dst, true);
            let _ = UdpRepr::parse(l4, ip.src, ip.dst);
            let _ = Icmpv4Repr::parse(l4);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(b in bytes(120)) {
        parse_everything(&b);
    }

    #[test]
    fn tcp_header_like_bytes_never_panic(
        mut b in prop::collection::vec(any::<u8>(), 20..80),
        off in 0u8..16,
        opts in prop::collection::vec(prop_oneof![Just(0u8), Just(1), 2u8..=9, any::<u8>()], 0..40),
    ) {
        // Bias towards plausible data offsets and option bytes to reach the option parser.
        b[12] = off << 4;
        let n = opts.len().min(b.len() - 20);
        b[20..20 + n].copy_from_slice(&opts[..n]);
        parse_everything(&b);
        let _ = TcpRepr::parse(&b, Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, false);
    }

    #[test]
    fn mutated_valid_frames_never_panic(
        repr in tcp_repr(),
        payload in bytes(64),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut f = valid_tcp_frame(&repr, &payload);
        for (i, v) in flips {
            let i = i.index(f.len());
            f[i] = v;
        }
        let len = cut.index(f.len() + 1);
        parse_everything(&f[..len]);
        parse_everything(&f);
    }

    #[test]
    fn ethernet_round_trip(src in mac(), dst in mac(), et in any::<u16>(), payload in bytes(64)) {
        let r = EthernetRepr { src, dst, ethertype: EtherType::from(et) };
        let mut buf = vec![0u8; 14];
        r.emit(&mut buf);
        buf.extend_from_slice(&payload);
        let (p, pl) = EthernetRepr::parse(&buf).unwrap();
        prop_assert_eq!(p, r);
        prop_assert_eq!(pl, &payload[..]);
        prop_assert_eq!(u16::from(p.ethertype), et);
    }

    #[test]
    fn arp_round_trip(op in any::<u16>(), sm in mac(), si in ip(), tm in mac(), ti in ip()) {
        let r = ArpRepr {
            operation: ArpOperation::from(op),
            sender_mac: sm, sender_ip: si, target_mac: tm, target_ip: ti,
        };
        let mut buf = [0u8; ArpRepr::LEN];
        r.emit(&mut buf);
        prop_assert_eq!(ArpRepr::parse(&buf), Ok(r));
    }

    #[test]
    fn ipv4_round_trip(
        src in ip(), dst in ip(), proto in any::<u8>(), ttl in any::<u8>(), ident in any::<u16>(),
        df in any::<bool>(), tos in any::<u8>(), payload in bytes(200), padding in bytes(30),
    ) {
        let r = Ipv4Repr {
            src, dst, protocol: IpProtocol::from(proto), payload_len: payload.len(),
            ttl, ident, dont_fragment: df, dscp_ecn: tos,
        };
        let mut buf = vec![0u8; 20];
        r.emit(&mut buf);
        buf.extend_from_slice(&payload);
        buf.extend_from_slice(&padding);
        let (p, pl) = Ipv4Repr::parse(&buf).unwrap();
        prop_assert_eq!(p, r);
        prop_assert_eq!(pl, &payload[..]);
        prop_assert_eq!(checksum(&buf[..20]), 0);
    }

    #[test]
    fn icmp_round_trip(
        kind in 0u8..5, ident in any::<u16>(), seq_no in any::<u16>(), code in any::<u8>(),
        other_type in any::<u8>(), data in bytes(100),
    ) {
        let r = match kind {
            0 => Icmpv4Repr::EchoRequest { ident, seq_no, data: &data },
            1 => Icmpv4Repr::EchoReply { ident, seq_no, data: &data },
            2 => Icmpv4Repr::DstUnreachable { code, data: &data },
            3 => Icmpv4Repr::TimeExceeded { code, data: &data },
            _ => {
                let msg_type = match other_type {
                    3 | 11 => 13,
                    t => t,
                };
                let code = if matches!(msg_type, 0 | 8) { code.max(1) } else { code };
                Icmpv4Repr::Other { msg_type, code }
            }
        };
        let mut buf = vec![0xA5u8; r.buffer_len()];
        r.emit(&mut buf);
        prop_assert_eq!(checksum(&buf), 0);
        prop_assert_eq!(Icmpv4Repr::parse(&buf), Ok(r));
    }

    #[test]
    fn udp_round_trip(
        sp in any::<u16>(), dp in any::<u16>(), src in ip(), dst in ip(),
        payload in bytes(300), trailer in bytes(10),
    ) {
        let r = UdpRepr { src_port: sp, dst_port: dp };
        let mut buf = vec![0u8; 8];
        buf.extend_from_slice(&payload);
        r.emit(&mut buf, src, dst);
        prop_assert_ne!(u16::from_be_bytes([buf[6], buf[7]]), 0);
        buf.extend_from_slice(&trailer);
        let (p, pl) = UdpRepr::parse(&buf, src, dst).unwrap();
        prop_assert_eq!(p, r);
        prop_assert_eq!(pl, &payload[..]);
    }

    #[test]
    fn tcp_round_trip(repr in tcp_repr(), payload in bytes(300), src in ip(), dst in ip()) {
        let hl = repr.header_len();
        prop_assert!(hl <= 60 && hl % 4 == 0);
        prop_assert_eq!(hl, 20 + repr.options.encoded_len());
        let mut seg = vec![0xEEu8; hl];
        seg.extend_from_slice(&payload);
        repr.emit(&mut seg, src, dst);
        let (p, pl) = TcpRepr::parse(&seg, src, dst, true).unwrap();
        let expected = TcpRepr { options: repr.options.fitted(), ..repr };
        prop_assert_eq!(p, expected);
        prop_assert_eq!(pl, &payload[..]);
        // Only SACK blocks are ever dropped, from the end.
        let n = expected.options.sack_block_count();
        prop_assert_eq!(&expected.options.sack_blocks[..n], &repr.options.sack_blocks[..n]);
        prop_assert_eq!(p.seq_len(pl.len()),
            pl.len() + usize::from(repr.flags.syn()) + usize::from(repr.flags.fin()));
        // Any single-bit corruption is caught by the checksum.
        let bit = (usize::from(repr.src_port) * 7919) % (seg.len() * 8);
        seg[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(TcpRepr::parse(&seg, src, dst, true).is_err());
    }

    #[test]
    fn tcp_options_round_trip_alone(opts in tcp_options()) {
        let mut buf = [0u8; 40];
        let n = opts.emit(&mut buf);
        prop_assert_eq!(n, opts.encoded_len());
        prop_assert!(n <= 40 && n % 4 == 0);
        prop_assert_eq!(TcpOptions::parse(&buf[..n]), Ok(opts.fitted()));
        // Trailing EOL padding changes nothing.
        let pad = (n + 4).min(40);
        prop_assert_eq!(TcpOptions::parse(&buf[..pad]), Ok(opts.fitted()));
    }

    #[test]
    fn checksum_matches_naive(data in bytes(2000)) {
        prop_assert_eq!(fold(sum(&data)), naive_fold(&data));
        prop_assert_eq!(checksum(&data), !naive_fold(&data));
    }

    /// Vector and portable code alike (the vector kernel runs from 128 bytes where the CPU
    /// has it), wherever in memory the bytes start and up to jumbo frames.
    #[test]
    fn checksum_matches_naive_at_any_alignment(data in bytes(9100), start in 0usize..64) {
        let d = &data[start.min(data.len())..];
        prop_assert_eq!(fold(sum(d)), naive_fold(d));
    }

    #[test]
    fn checksum_pieces_combine(
        data in bytes(600),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        // Split at even offsets only: every piece but the last has even length.
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(data.len() + 1) & !1).collect();
        points.push(0);
        points.push(data.len());
        points.sort_unstable();
        let acc: u64 = points.windows(2).map(|w| sum(&data[w[0]..w[1]])).sum();
        prop_assert_eq!(fold(acc), naive_fold(&data));
        // checksum_with(sum(prefix), rest) agrees with the whole buffer.
        let mid = points[points.len() / 2];
        prop_assert_eq!(checksum_with(sum(&data[..mid]), &data[mid..]), checksum(&data));
    }

    #[test]
    fn pseudo_header_matches_bytes(src in ip(), dst in ip(), proto in any::<u8>(), len in any::<u16>(),
                                   data in bytes(100)) {
        let mut v = Vec::new();
        v.extend_from_slice(&src.octets());
        v.extend_from_slice(&dst.octets());
        v.extend_from_slice(&[0, proto]);
        v.extend_from_slice(&len.to_be_bytes());
        let mut all = v.clone();
        all.extend_from_slice(&data);
        prop_assert_eq!(fold(pseudo_header_v4(src, dst, proto, len)), naive_fold(&v));
        prop_assert_eq!(checksum_with(pseudo_header_v4(src, dst, proto, len), &data), !naive_fold(&all));
    }
}
