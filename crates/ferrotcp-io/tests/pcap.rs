//! Capture files: byte-exact round trips, hostile input, and tcpdump reading our output.

use std::io::{self, Read};
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ferrotcp::wire::{
    ArpOperation, ArpRepr, EtherType, EthernetRepr, Icmpv4Repr, IpProtocol, Ipv4Repr, MacAddr,
};
use ferrotcp_io::pcap::{LinkType, MAX_RECORD_LEN, PcapError, PcapReader, PcapWriter, SNAPLEN};

fn arp_frame() -> Vec<u8> {
    let mut f = vec![0u8; 42];
    EthernetRepr {
        src: MacAddr([2, 0, 0, 0, 0, 2]),
        dst: MacAddr::BROADCAST,
        ethertype: EtherType::Arp,
    }
    .emit(&mut f);
    ArpRepr {
        operation: ArpOperation::Request,
        sender_mac: MacAddr([2, 0, 0, 0, 0, 2]),
        sender_ip: Ipv4Addr::new(192, 0, 2, 2),
        target_mac: MacAddr::ZERO,
        target_ip: Ipv4Addr::new(192, 0, 2, 1),
    }
    .emit(&mut f[14..]);
    f
}

fn echo_packet(seq_no: u16) -> Vec<u8> {
    let echo = Icmpv4Repr::EchoRequest {
        ident: 0x4654,
        seq_no,
        data: b"pcap",
    };
    let ip = Ipv4Repr {
        src: Ipv4Addr::new(192, 0, 2, 2),
        dst: Ipv4Addr::new(192, 0, 2, 1),
        protocol: IpProtocol::Icmp,
        payload_len: echo.buffer_len(),
        ttl: 64,
        ident: seq_no,
        dont_fragment: true,
        dscp_ecn: 0,
    };
    let mut p = vec![0u8; ip.buffer_len()];
    ip.emit(&mut p);
    echo.emit(&mut p[20..]);
    p
}

fn ethernet_echo(seq_no: u16) -> Vec<u8> {
    let mut f = vec![0u8; 14];
    EthernetRepr {
        src: MacAddr([2, 0, 0, 0, 0, 2]),
        dst: MacAddr([2, 0, 0, 0, 0, 1]),
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut f);
    f.extend_from_slice(&echo_packet(seq_no));
    f
}

/// A timestamp and the captured bytes.
type Packet = (Duration, Vec<u8>);

const T0: Duration = Duration::new(1_700_000_000, 123_456_789);

fn sample(link: LinkType) -> Vec<Packet> {
    match link {
        LinkType::Ethernet => vec![
            (T0, arp_frame()),
            (T0 + Duration::from_micros(250), ethernet_echo(1)),
            (T0 + Duration::from_secs(1), ethernet_echo(2)),
        ],
        LinkType::RawIpv4 => vec![
            (T0, echo_packet(1)),
            (T0 + Duration::from_millis(3), echo_packet(2)),
            (T0 + Duration::from_secs(2), Vec::new()),
        ],
    }
}

fn write_file(link: LinkType, packets: &[Packet]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), link).expect("header");
    for (ts, data) in packets {
        w.write_packet(*ts, data).expect("packet");
    }
    w.flush().expect("flush");
    w.into_inner()
}

fn read_all(bytes: &[u8]) -> Result<(LinkType, Vec<Packet>), PcapError> {
    let mut r = PcapReader::new(bytes)?;
    let mut out = Vec::new();
    // Each record takes at least 16 bytes, so this bound is never the limit.
    for _ in 0..=bytes.len() / 16 {
        match r.next_packet()? {
            Some(p) => out.push(p),
            None => return Ok((r.link_type(), out)),
        }
    }
    panic!(
        "reader did not reach the end of a {}-byte file",
        bytes.len()
    );
}

fn micros(ts: Duration) -> Duration {
    Duration::from_micros(u64::try_from(ts.as_micros()).expect("fits"))
}

#[test]
fn round_trip_is_exact_for_both_link_types() {
    for link in [LinkType::Ethernet, LinkType::RawIpv4] {
        let packets = sample(link);
        let bytes = write_file(link, &packets);
        let expected_len = 24 + packets.iter().map(|(_, d)| 16 + d.len()).sum::<usize>();
        assert_eq!(bytes.len(), expected_len);
        let (read_link, read) = read_all(&bytes).expect("read back");
        assert_eq!(read_link, link);
        assert_eq!(read.len(), packets.len());
        for ((ts, data), (rts, rdata)) in packets.iter().zip(&read) {
            assert_eq!(rdata, data);
            assert_eq!(*rts, micros(*ts), "timestamps keep microseconds");
        }
        // Writing what we read gives the same bytes.
        assert_eq!(write_file(read_link, &read), bytes);
    }
}

#[test]
fn header_and_record_layout_is_classic_pcap() {
    let bytes = write_file(LinkType::Ethernet, &[(T0, vec![0xAB; 3])]);
    let mut expected = Vec::new();
    expected.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    expected.extend_from_slice(&2u16.to_le_bytes());
    expected.extend_from_slice(&4u16.to_le_bytes());
    expected.extend_from_slice(&[0; 8]); // thiszone, sigfigs
    expected.extend_from_slice(&262_144u32.to_le_bytes());
    expected.extend_from_slice(&1u32.to_le_bytes());
    expected.extend_from_slice(&1_700_000_000u32.to_le_bytes());
    expected.extend_from_slice(&123_456u32.to_le_bytes());
    expected.extend_from_slice(&3u32.to_le_bytes());
    expected.extend_from_slice(&3u32.to_le_bytes());
    expected.extend_from_slice(&[0xAB; 3]);
    assert_eq!(bytes, expected);

    let raw = write_file(LinkType::RawIpv4, &[]);
    assert_eq!(raw[20..24], 101u32.to_le_bytes(), "LINKTYPE_RAW");
}

#[test]
fn long_packets_are_cut_to_the_snaplen() {
    let big = vec![0x5A; 300_000];
    let bytes = write_file(LinkType::RawIpv4, &[(T0, big)]);
    assert_eq!(bytes[24 + 8..24 + 12], SNAPLEN.to_le_bytes(), "incl_len");
    assert_eq!(
        bytes[24 + 12..24 + 16],
        300_000u32.to_le_bytes(),
        "orig_len"
    );
    let (_, read) = read_all(&bytes).expect("read");
    assert_eq!(read[0].1.len(), 262_144);
}

#[test]
fn a_coalesced_64_kib_segment_is_recorded_whole() {
    // 14-byte Ethernet header + a 65,535-byte IPv4 packet: what receive offload hands over.
    let frame: Vec<u8> = (0..65_549u32).map(|i| i as u8).collect();
    let bytes = write_file(LinkType::Ethernet, &[(T0, frame.clone())]);
    let (_, read) = read_all(&bytes).expect("read");
    assert_eq!(read[0].1, frame);
}

/// Builds a file by hand: `be` for big-endian, `nanos` for the nanosecond magic.
fn handmade(be: bool, nanos: bool, link: u32, records: &[(u32, u32, &[u8])]) -> Vec<u8> {
    let u32b = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let u16b = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut b = Vec::new();
    b.extend_from_slice(&u32b(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
    b.extend_from_slice(&u16b(2));
    b.extend_from_slice(&u16b(4));
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&u32b(65_535));
    b.extend_from_slice(&u32b(link));
    for &(sec, frac, data) in records {
        b.extend_from_slice(&u32b(sec));
        b.extend_from_slice(&u32b(frac));
        let len = u32::try_from(data.len()).expect("small");
        b.extend_from_slice(&u32b(len));
        b.extend_from_slice(&u32b(len));
        b.extend_from_slice(data);
    }
    b
}

#[test]
fn reads_both_byte_orders_and_nanosecond_files() {
    let data: &[u8] = &[1, 2, 3, 4, 5];
    for be in [false, true] {
        let (link, read) = read_all(&handmade(be, false, 1, &[(10, 999_999, data)])).expect("us");
        assert_eq!(link, LinkType::Ethernet);
        assert_eq!(read, vec![(Duration::new(10, 999_999_000), data.to_vec())]);

        let (link, read) = read_all(&handmade(be, true, 228, &[(10, 5, data)])).expect("ns");
        assert_eq!(link, LinkType::RawIpv4);
        assert_eq!(read, vec![(Duration::new(10, 5), data.to_vec())]);
    }
    // An out-of-range fraction does not panic; it carries into the seconds.
    let (_, read) = read_all(&handmade(false, false, 101, &[(1, u32::MAX, data)])).expect("big");
    assert_eq!(
        read[0].0,
        Duration::from_secs(1) + Duration::from_micros(u64::from(u32::MAX))
    );
}

#[test]
fn malformed_files_are_errors() {
    assert!(matches!(
        PcapReader::new(&[][..]),
        Err(PcapError::Truncated { at: 0 })
    ));
    let pcapng = [0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0];
    assert!(matches!(
        PcapReader::new(&pcapng[..]),
        Err(PcapError::BadMagic)
    ));
    let file = handmade(false, false, 105, &[]);
    assert!(matches!(
        PcapReader::new(&file[..]),
        Err(PcapError::UnsupportedLinkType(105))
    ));
    assert!(matches!(
        PcapReader::new(&file[..20]),
        Err(PcapError::Truncated { at: 0 })
    ));

    // A record claiming more than the limit is refused without allocating it.
    let mut huge = handmade(false, false, 1, &[]);
    huge.extend_from_slice(&[0; 8]);
    huge.extend_from_slice(&(MAX_RECORD_LEN + 1).to_le_bytes());
    huge.extend_from_slice(&u32::MAX.to_le_bytes());
    let mut r = PcapReader::new(&huge[..]).expect("header");
    assert!(
        matches!(r.next_packet(), Err(PcapError::TooLarge { len }) if len == MAX_RECORD_LEN + 1)
    );

    for e in [
        PcapError::BadMagic,
        PcapError::Truncated { at: 40 },
        PcapError::UnsupportedLinkType(105),
        PcapError::TooLarge { len: 1 << 30 },
        PcapError::Io(io::Error::other("boom")),
    ] {
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn every_truncation_of_a_valid_file_is_reported() {
    let packets = sample(LinkType::Ethernet);
    let bytes = write_file(LinkType::Ethernet, &packets);
    // Record boundaries: cutting exactly there is a shorter valid file.
    let mut boundaries = vec![24];
    for (_, d) in &packets {
        let last = *boundaries.last().expect("non-empty");
        boundaries.push(last + 16 + d.len());
    }
    for cut in 0..bytes.len() {
        match read_all(&bytes[..cut]) {
            Ok((_, read)) => {
                let n = boundaries.iter().position(|&b| b == cut);
                assert_eq!(
                    Some(read.len()),
                    n,
                    "cut at {cut} read {} packets",
                    read.len()
                );
            }
            Err(PcapError::Truncated { at }) => {
                assert!(!boundaries.contains(&cut), "cut at a boundary {cut}");
                assert!(at <= cut as u64);
                assert!(at == 0 || boundaries.contains(&(at as usize)), "at {at}");
            }
            Err(e) => panic!("cut at {cut}: unexpected {e}"),
        }
    }
}

/// SplitMix64, for reproducible random input without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> usize {
        usize::try_from(self.next() % n).expect("small")
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0xfe77_0c4b);
    let valid = write_file(LinkType::Ethernet, &sample(LinkType::Ethernet));
    for case in 0..20_000 {
        let mut bytes: Vec<u8> = match case % 3 {
            // Pure noise.
            0 => (0..rng.below(200)).map(|_| rng.next() as u8).collect(),
            // A valid header followed by noise.
            1 => {
                let mut b = valid[..24].to_vec();
                b.extend((0..rng.below(200)).map(|_| rng.next() as u8));
                b
            }
            // A valid file with a few bytes flipped and maybe cut.
            _ => {
                let mut b = valid.clone();
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(b.len() as u64);
                    b[i] ^= rng.next() as u8 | 1;
                }
                b
            }
        };
        if case % 5 == 0 {
            let keep = rng.below(bytes.len() as u64 + 1);
            bytes.truncate(keep);
        }
        // Ok or Err are both fine; panics and endless loops are not.
        let _ = read_all(&bytes);
    }
}

#[test]
fn reader_errors_are_io_errors() {
    /// Yields `data`, then fails.
    struct ThenFail(Vec<u8>);
    impl Read for ThenFail {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("disk on fire"));
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            Ok(n)
        }
    }
    assert!(matches!(
        PcapReader::new(ThenFail(Vec::new())),
        Err(PcapError::Io(_))
    ));
    let header = write_file(LinkType::Ethernet, &[]);
    let mut r = PcapReader::new(ThenFail(header)).expect("header");
    let err = r.next_packet().expect_err("the reader fails");
    assert!(matches!(err, PcapError::Io(_)));
    assert!(std::error::Error::source(&err).is_some());
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

static FILES: AtomicU32 = AtomicU32::new(0);

/// A temporary file removed on drop.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(bytes: &[u8]) -> TempFile {
        let n = FILES.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("ferrotcp-io-pcap-{}-{n}.pcap", std::process::id()));
        std::fs::write(&path, bytes).expect("write temp file");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `tcpdump -r FILE -nn`, bounded to 20 s. `None` if tcpdump cannot be started.
fn tcpdump(path: &std::path::Path) -> Option<(bool, String, String)> {
    let mut child = Command::new("tcpdump")
        .arg("-r")
        .arg(path)
        .arg("-nn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("tcpdump did not finish within 20 s");
            }
        }
    }
    let out = child.wait_with_output().expect("tcpdump output");
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[test]
fn tcpdump_reads_our_files() {
    let installed = Command::new("tcpdump")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        assert!(
            !ci(),
            "CI=true requires tcpdump (apt-get install -y tcpdump)"
        );
        println!("skipped: tcpdump is not installed");
        return;
    }
    for (link, needles) in [
        (
            LinkType::Ethernet,
            &[
                "Request who-has 192.0.2.1 tell 192.0.2.2",
                "ICMP echo request",
            ][..],
        ),
        (
            LinkType::RawIpv4,
            &["192.0.2.2 > 192.0.2.1: ICMP echo request"][..],
        ),
    ] {
        let packets = sample(link);
        let file = TempFile::new(&write_file(link, &packets));
        let (ok, stdout, stderr) = tcpdump(&file.0).expect("tcpdump runs");
        assert!(ok, "tcpdump failed on {link:?}: {stderr}");
        assert_eq!(stdout.lines().count(), packets.len(), "{stdout}");
        for needle in needles {
            assert!(
                stdout.contains(needle),
                "{link:?}: {needle:?} not in\n{stdout}"
            );
        }
    }
}
