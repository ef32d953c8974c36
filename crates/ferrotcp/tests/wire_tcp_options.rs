//! TCP option parsing and emission tables (RFC 9293 §3.2, RFC 7323, RFC 2018).

use std::net::Ipv4Addr;

use ferrotcp::seq::SeqNum;
use ferrotcp::wire::{SackBlock, TcpFlags, TcpOptions, TcpRepr, WireError};

fn sack(l: u32, r: u32) -> Option<SackBlock> {
    Some(SackBlock {
        left: SeqNum(l),
        right: SeqNum(r),
    })
}

fn opts(f: impl FnOnce(&mut TcpOptions)) -> TcpOptions {
    let mut o = TcpOptions::default();
    f(&mut o);
    o
}

#[test]
fn parse_table() {
    let none = TcpOptions::default();
    let cases: Vec<(&str, Vec<u8>, Result<TcpOptions, WireError>)> = vec![
        ("empty", vec![], Ok(none)),
        ("eol only", vec![0, 0, 0, 0], Ok(none)),
        ("junk after eol ignored", vec![0, 2, 0, 0xFF], Ok(none)),
        ("nops", vec![1, 1, 1, 1], Ok(none)),
        (
            "mss",
            vec![2, 4, 0x05, 0xb4],
            Ok(opts(|o| o.mss = Some(1460))),
        ),
        (
            "ws raw shift kept",
            vec![1, 3, 3, 200],
            Ok(opts(|o| o.window_scale = Some(200))),
        ),
        (
            "sack-perm",
            vec![4, 2, 1, 1],
            Ok(opts(|o| o.sack_permitted = true)),
        ),
        (
            "timestamps",
            vec![1, 1, 8, 10, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFE],
            Ok(opts(|o| o.timestamps = Some((1, 0xFFFF_FFFE)))),
        ),
        (
            "sack one block",
            vec![1, 1, 5, 10, 0, 0, 0, 5, 0, 0, 0, 9],
            Ok(opts(|o| o.sack_blocks[0] = sack(5, 9))),
        ),
        (
            "sack four blocks",
            {
                let mut v = vec![5, 34];
                for i in 1..=8u32 {
                    v.extend_from_slice(&i.to_be_bytes());
                }
                v.extend_from_slice(&[0, 0]);
                v
            },
            Ok(opts(|o| {
                o.sack_blocks = [sack(1, 2), sack(3, 4), sack(5, 6), sack(7, 8)]
            })),
        ),
        // MUST-7: illegal lengths poison the whole segment.
        ("len 0", vec![2, 0, 0, 0], Err(WireError::Malformed)),
        ("len 1", vec![8, 1, 0, 0], Err(WireError::Malformed)),
        (
            "unknown kind len 0",
            vec![99, 0, 1, 1],
            Err(WireError::Malformed),
        ),
        (
            "unknown kind len 1",
            vec![1, 1, 99, 1],
            Err(WireError::Malformed),
        ),
        (
            "ts past end",
            vec![1, 1, 8, 10, 0, 0, 0, 0],
            Err(WireError::Malformed),
        ),
        (
            "unknown past end",
            vec![30, 5, 0, 0],
            Err(WireError::Malformed),
        ),
        (
            "kind without length byte",
            vec![1, 1, 1, 2],
            Err(WireError::Malformed),
        ),
        (
            "unknown kind without length",
            vec![1, 1, 1, 77],
            Err(WireError::Malformed),
        ),
        (
            "bad length after good option",
            vec![2, 4, 0, 1, 3, 0, 0, 0],
            Err(WireError::Malformed),
        ),
        // Known kinds with wrong but legal lengths are skipped (like Linux).
        (
            "mss len 3 skipped",
            vec![2, 3, 9, 3, 3, 7, 0, 0],
            Ok(opts(|o| o.window_scale = Some(7))),
        ),
        ("mss len 6 skipped", vec![2, 6, 1, 2, 3, 4, 0, 0], Ok(none)),
        ("ws len 4 skipped", vec![3, 4, 1, 2], Ok(none)),
        ("sack-perm len 3 skipped", vec![4, 3, 0, 0], Ok(none)),
        ("ts len 8 skipped", vec![8, 8, 0, 0, 0, 1, 0, 2], Ok(none)),
        ("sack len 2 skipped", vec![5, 2, 1, 1], Ok(none)),
        (
            "sack len 11 skipped",
            vec![5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 9, 0],
            Ok(none),
        ),
        // MUST-68: unknown options with legal lengths are ignored.
        (
            "unknown kinds skipped",
            vec![30, 4, 1, 2, 254, 2, 1, 3, 3, 14, 0, 0],
            Ok(opts(|o| o.window_scale = Some(14))),
        ),
        (
            "later duplicate wins",
            vec![2, 4, 0, 1, 2, 4, 0, 2],
            Ok(opts(|o| o.mss = Some(2))),
        ),
    ];
    for (name, bytes, want) in cases {
        assert_eq!(TcpOptions::parse(&bytes), want, "case {name}");
    }
}

#[test]
fn emit_layouts_match_linux() {
    let ts = Some((0x0102_0304, 0x0506_0708));
    let cases: Vec<(TcpOptions, Vec<u8>)> = vec![
        (TcpOptions::default(), vec![]),
        (opts(|o| o.mss = Some(1460)), vec![2, 4, 5, 0xb4]),
        (opts(|o| o.sack_permitted = true), vec![1, 1, 4, 2]),
        (opts(|o| o.window_scale = Some(7)), vec![1, 3, 3, 7]),
        (
            opts(|o| o.timestamps = ts),
            vec![1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8],
        ),
        (
            // Linux SYN: MSS, SACK_PERM+TS packed, NOP+WS.
            opts(|o| {
                o.mss = Some(1460);
                o.sack_permitted = true;
                o.timestamps = ts;
                o.window_scale = Some(7);
            }),
            vec![
                2, 4, 5, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 3, 3, 7,
            ],
        ),
        (
            opts(|o| {
                o.timestamps = ts;
                o.sack_blocks[0] = sack(0x10, 0x20);
            }),
            vec![
                1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 5, 10, 0, 0, 0, 0x10, 0, 0, 0, 0x20,
            ],
        ),
    ];
    for (o, want) in cases {
        assert_eq!(o.encoded_len(), want.len(), "{o:?}");
        let mut buf = [0xAAu8; 40];
        assert_eq!(o.emit(&mut buf), want.len());
        assert_eq!(&buf[..want.len()], &want[..], "{o:?}");
        assert_eq!(
            buf[want.len()..],
            [0xAA; 40][want.len()..],
            "wrote past encoded_len"
        );
        assert_eq!(TcpOptions::parse(&want), Ok(o));
    }
}

#[test]
fn sack_blocks_dropped_from_the_end_to_fit_40_bytes() {
    let all = [sack(1, 2), sack(3, 4), sack(5, 6), sack(7, 8)];
    let full = opts(|o| {
        o.mss = Some(536);
        o.sack_permitted = true;
        o.timestamps = Some((1, 2));
        o.window_scale = Some(3);
        o.sack_blocks = all;
    });
    // 4 + 12 + 4 = 20 bytes fixed, leaving room for 2 blocks (4 + 16).
    assert_eq!(full.encoded_len(), 40);
    assert_eq!(full.fitted().sack_blocks, [all[0], all[1], None, None]);
    let ts_only = opts(|o| {
        o.timestamps = Some((1, 2));
        o.sack_blocks = all;
    });
    assert_eq!(ts_only.encoded_len(), 40);
    assert_eq!(ts_only.fitted().sack_block_count(), 3);
    let bare = opts(|o| o.sack_blocks = all);
    assert_eq!(bare.encoded_len(), 36);
    assert_eq!(bare.fitted(), bare);
    // Blocks after a gap are not sent.
    let gap = opts(|o| o.sack_blocks = [sack(1, 2), None, sack(5, 6), None]);
    assert_eq!(gap.sack_block_count(), 1);
    assert_eq!(gap.encoded_len(), 12);
}

#[test]
fn malformed_option_fails_whole_segment_even_with_good_checksum() {
    let (src, dst) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
    let repr = TcpRepr {
        src_port: 1,
        dst_port: 2,
        seq: SeqNum(3),
        ack: SeqNum(4),
        flags: TcpFlags::ACK,
        window: 5,
        urgent: 0,
        options: opts(|o| o.window_scale = Some(2)),
    };
    let mut seg = vec![0u8; 24 + 3];
    seg[24..].copy_from_slice(b"abc");
    repr.emit(&mut seg, src, dst);
    assert_eq!(&seg[20..24], &[1, 3, 3, 2]);
    let (parsed, payload) = TcpRepr::parse(&seg, src, dst, true).unwrap();
    assert_eq!((parsed, payload), (repr, &b"abc"[..]));
    // Turn the WS length into 1 and fix up the checksum with the view.
    seg[22] = 1;
    ferrotcp::wire::TcpPacket::new_checked(&mut seg[..])
        .unwrap()
        .fill_checksum(src, dst);
    assert_eq!(
        TcpRepr::parse(&seg, src, dst, true),
        Err(WireError::Malformed)
    );
    // An option running past the data offset is illegal too.
    seg[22] = 4;
    ferrotcp::wire::TcpPacket::new_checked(&mut seg[..])
        .unwrap()
        .fill_checksum(src, dst);
    assert_eq!(
        TcpRepr::parse(&seg, src, dst, true),
        Err(WireError::Malformed)
    );
}

#[test]
fn ack_is_raw_and_seq_len_counts_syn_and_fin() {
    let mut seg = [0u8; 20];
    let repr = TcpRepr {
        src_port: 80,
        dst_port: 1024,
        seq: SeqNum(u32::MAX),
        ack: SeqNum(0xDEAD_BEEF),
        flags: TcpFlags::SYN | TcpFlags::FIN,
        window: 0,
        urgent: 7,
        options: TcpOptions::default(),
    };
    repr.emit(&mut seg, Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST);
    let (p, _) = TcpRepr::parse(&seg, Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, true).unwrap();
    assert!(!p.flags.ack());
    assert_eq!(p.ack, SeqNum(0xDEAD_BEEF));
    assert_eq!(p.seq_len(10), 12);
    assert_eq!(
        TcpRepr {
            flags: TcpFlags::ACK,
            ..p
        }
        .seq_len(10),
        10
    );
}

#[test]
fn flags_display_and_ops() {
    let sa = TcpFlags::SYN | TcpFlags::ACK;
    assert_eq!(sa.to_string(), "SYN,ACK");
    assert_eq!(
        format!("{:?}", TcpFlags(0xFF)),
        "SYN,RST,FIN,PSH,ACK,URG,ECE,CWR"
    );
    assert_eq!(TcpFlags::default().to_string(), "none");
    assert!(sa.contains(TcpFlags::SYN) && sa.syn() && sa.ack() && !sa.fin());
    let mut f = TcpFlags::FIN;
    f |= TcpFlags::RST;
    assert!(f.fin() && f.rst() && !f.contains(sa));
    f.remove(TcpFlags::FIN);
    assert_eq!(f, TcpFlags::RST);
}
