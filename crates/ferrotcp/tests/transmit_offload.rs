//! Transmit offloads (`Stack::poll_transmit_offload`): for a device that checksums and cuts
//! TCP segments itself, new data leaves as super-segments with a partial checksum; cut in
//! software they are exactly the segments the stack would have sent one by one.

mod common;

use common::*;
use ferrotcp::time::Duration;
use ferrotcp::wire::offload::{FrameOffload, finish_in_software};
use ferrotcp::wire::{EthernetRepr, Ipv4Repr, TcpFlags, TcpRepr, Transmit, TxOffload};

const MSS: usize = 1460;
const ETH: usize = EthernetRepr::HEADER_LEN;

/// A finished frame: (IP identification, TCP header, payload).
type Piece = (u16, TcpRepr, Vec<u8>);

/// Cuts `t` as the device would; returns each piece, with both checksums verified.
fn cut(t: &Transmit) -> Vec<Piece> {
    let mut out = Vec::new();
    finish_in_software(&t.frame, ETH, &t.offload, |p| {
        let (ip, seg) = Ipv4Repr::parse(&p[ETH..]).expect("IPv4 header checksum");
        let (tcp, data) = TcpRepr::parse(seg, STACK_IP, PEER_IP, true).expect("TCP checksum");
        out.push((ip.ident, tcp, data.to_vec()));
    })
    .expect("an IPv4 TCP frame");
    out
}

#[test]
fn new_data_leaves_as_one_super_segment_the_device_cuts_at_the_mss() {
    let mut h = Harness::new();
    let (c, iss) = h.establish_active();
    let now = h.now;
    h.stack.tcp_set_nodelay(c, true).expect("nodelay");
    let data: Vec<u8> = (0..10 * MSS + 100).map(|i| (i * 31) as u8).collect();
    h.stack.tcp_send(now, c, &data).expect("send");
    let t = h
        .stack
        .poll_transmit_offload(now, TxOffload::ALL)
        .expect("a segment");
    // The initial window is ten segments: all ten in one frame, the last 100 bytes wait.
    let seg = t.offload.segmentation.expect("a super-segment");
    assert_eq!(usize::from(seg.size), MSS);
    assert_eq!(usize::from(seg.header_len), ETH + 20 + 20);
    let csum = t.offload.checksum.expect("checksum left to the device");
    assert_eq!((csum.start, csum.offset), ((ETH + 20) as u16, 16));
    assert_eq!(t.frame.len(), ETH + 20 + 20 + 10 * MSS);
    assert_eq!(h.stack.stats().super_segments_out, 1);
    let pieces = cut(&t);
    assert_eq!(pieces.len(), 10);
    let first_ident = pieces[0].0;
    for (i, (ident, tcp, payload)) in pieces.iter().enumerate() {
        assert_eq!(
            *ident,
            first_ident.wrapping_add(i as u16),
            "identifications count up"
        );
        assert_eq!(tcp.seq.0, iss.wrapping_add(1 + (i * MSS) as u32));
        assert_eq!(tcp.ack.0, PEER_ISS + 1);
        assert_eq!(*payload, data[i * MSS..(i + 1) * MSS]);
        assert!(!tcp.flags.contains(TcpFlags::PSH), "more data follows");
    }
    assert!(
        h.stack.poll_transmit_offload(now, TxOffload::ALL).is_none(),
        "the window is full"
    );
    // The ACK opens the window: the 100-byte rest goes, and its identification follows the
    // ten pieces' (no two packets in flight share one).
    h.send(seg_ack(iss.wrapping_add(1 + 10 * MSS as u32)), &[]);
    let rest = h
        .stack
        .poll_transmit_offload(h.now, TxOffload::ALL)
        .expect("the rest");
    assert_eq!(rest.offload.segmentation, None, "shorter than one MSS");
    let rest = cut(&rest);
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].0, first_ident.wrapping_add(10));
    assert_eq!(rest[0].2, data[10 * MSS..]);
    assert!(rest[0].1.flags.contains(TcpFlags::PSH));
}

fn seg_ack(ack: u32) -> TcpRepr {
    seg(TcpFlags::ACK, PEER_ISS + 1, ack)
}

/// Every frame `poll_transmit` hands over at `h.now`, parsed (checksums verified), with the
/// connection's count of segments sent afterwards.
fn burst_of_ten_and_a_bit(gso: bool) -> (Vec<Piece>, u64, u32) {
    let mut h = Harness::with_config(|cfg| cfg.gso = gso);
    let (c, iss) = h.establish_active();
    let now = h.now;
    h.stack.tcp_set_nodelay(c, true).expect("nodelay");
    let before = h.stack.tcp_stats(c).expect("stats").segments_sent;
    h.stack
        .tcp_send(now, c, &vec![3u8; 10 * MSS + 100])
        .expect("send");
    let mut frames = Vec::new();
    while let Some(frame) = h.stack.poll_transmit(now) {
        let t = Transmit {
            frame,
            offload: FrameOffload::default(),
        };
        frames.extend(cut(&t));
    }
    let sent = h.stack.tcp_stats(c).expect("stats").segments_sent - before;
    (frames, sent, iss)
}

#[test]
fn software_segmentation_hands_over_the_frames_one_mss_at_a_time_would() {
    // GSO (the default) decides the ten-segment initial window at once and cuts it in the
    // stack: the same ten finished frames, counted as ten segments.
    let (cut_in_stack, counted, iss) = burst_of_ten_and_a_bit(true);
    let (one_by_one, counted_one_by_one, iss_one_by_one) = burst_of_ten_and_a_bit(false);
    assert_eq!(iss, iss_one_by_one, "same seed, same connection");
    assert_eq!(cut_in_stack.len(), 10, "the initial window, the rest waits");
    assert_eq!(cut_in_stack, one_by_one);
    assert_eq!((counted, counted_one_by_one), (10, 10));
    for (i, (_, tcp, payload)) in cut_in_stack.iter().enumerate() {
        assert_eq!(tcp.seq.0, iss.wrapping_add(1 + (i * MSS) as u32));
        assert_eq!(payload.len(), MSS);
    }
}

#[test]
fn checksum_offload_alone_sends_one_mss_at_a_time_with_partial_checksums() {
    let mut h = Harness::new();
    let (c, _) = h.establish_active();
    let now = h.now;
    h.stack.tcp_send(now, c, &vec![9u8; 3 * MSS]).expect("send");
    let device = TxOffload {
        checksum: true,
        segmentation: false,
    };
    let mut frames = 0;
    while let Some(t) = h.stack.poll_transmit_offload(now, device) {
        assert_eq!(t.offload.segmentation, None);
        assert!(t.offload.checksum.is_some());
        assert_eq!(cut(&t).len(), 1);
        frames += 1;
    }
    assert_eq!(frames, 3);
    assert_eq!(h.stack.stats().super_segments_out, 0);
}

#[test]
fn frames_held_for_arp_are_finished_in_software() {
    let mut h = Harness::new();
    let (c, iss) = h.establish_active();
    // The peer's ARP entry expires (60 s): the next segment waits for a new resolution.
    h.advance(Duration::from_secs(61));
    h.output();
    let now = h.now;
    h.stack.tcp_set_nodelay(c, true).expect("nodelay");
    h.stack.tcp_send(now, c, &vec![5u8; 4 * MSS]).expect("send");
    let arp = h
        .stack
        .poll_transmit_offload(now, TxOffload::ALL)
        .expect("an ARP request");
    assert_eq!(arp.offload, FrameOffload::default());
    assert!(
        h.stack.poll_transmit_offload(now, TxOffload::ALL).is_none(),
        "the data waits for ARP"
    );
    h.send_frame(&arp_frame(ferrotcp::wire::ArpOperation::Reply));
    let mut seqs = Vec::new();
    while let Some(t) = h.stack.poll_transmit_offload(now, TxOffload::ALL) {
        assert_eq!(
            t.offload,
            FrameOffload::default(),
            "finished while it waited"
        );
        let (_, seg) = Ipv4Repr::parse(&t.frame[ETH..]).expect("ip");
        let (tcp, data) = TcpRepr::parse(seg, STACK_IP, PEER_IP, true).expect("checksum");
        assert_eq!(data.len(), MSS);
        seqs.push(tcp.seq.0);
    }
    let expected: Vec<u32> = (0..4)
        .map(|i| iss.wrapping_add(1 + i * MSS as u32))
        .collect();
    assert_eq!(seqs, expected);
}

#[test]
fn a_frame_the_device_vouches_for_skips_the_tcp_checksum_and_nothing_else() {
    let mut h = Harness::new();
    let (_, iss) = h.establish_active();
    let data = seg(
        TcpFlags::ACK | TcpFlags::PSH,
        PEER_ISS + 1,
        iss.wrapping_add(1),
    );
    let mut frame = tcp_frame(&data, b"hello");
    // A wrong TCP checksum (what a TAP device hands over with NEEDS_CSUM, before completing).
    let at = ETH + 20 + 16;
    frame[at] ^= 0xFF;
    h.send_frame(&frame);
    assert_eq!(
        h.stack.stats().bad_checksum,
        1,
        "an ordinary receive checks it"
    );
    h.expect_none();
    // The IPv4 header checksum is still checked.
    let mut bad_ip = frame.clone();
    bad_ip[ETH + 10] ^= 0xFF;
    h.stack.receive_checksum_verified(h.now, &bad_ip);
    assert_eq!(h.stack.stats().bad_checksum, 2);
    h.expect_none();
    h.stack.receive_checksum_verified(h.now, &frame);
    assert_eq!(h.stack.stats().bad_checksum, 2);
    h.advance(Duration::from_millis(200));
    let ack = h.expect_one();
    assert_eq!(ack.ack(), PEER_ISS + 1 + 5, "the data was taken");
}
