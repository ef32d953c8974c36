//! Classic libpcap capture files: what tcpdump, tshark and Wireshark read everywhere.
//!
//! [`PcapWriter`] writes microsecond-resolution files (magic `0xa1b2c3d4`, version 2.4,
//! snaplen 262144, tcpdump's default) in little-endian byte order. [`PcapReader`] reads both byte orders and
//! both the microsecond and the nanosecond (`0xa1b23c4d`) variants, and reports malformed
//! input as a [`PcapError`] — it never panics and never allocates more than
//! [`MAX_RECORD_LEN`] bytes for one record, whatever the file says.

use std::fmt;
use std::io::{self, Read, Write};
use std::time::Duration;

const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
const VERSION_MAJOR: u16 = 2;
const VERSION_MINOR: u16 = 4;
/// Snapshot length written to the global header; longer packets are truncated to it.
/// tcpdump's default: a 64 KiB segment the kernel coalesced (receive offload) is 65,549 bytes
/// with its Ethernet header, which 65,535 would cut.
pub const SNAPLEN: u32 = 262_144;
/// The largest record the reader accepts (tcpdump's own limit, 256 KiB).
pub const MAX_RECORD_LEN: u32 = 262_144;
const GLOBAL_HEADER_LEN: usize = 24;
const RECORD_HEADER_LEN: usize = 16;

const LINKTYPE_ETHERNET: u32 = 1;
const LINKTYPE_RAW: u32 = 101;
const LINKTYPE_IPV4: u32 = 228;

/// What each packet in the file starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// Ethernet II frames (LINKTYPE_ETHERNET, 1): what a TAP device carries.
    Ethernet,
    /// Bare IPv4 packets: what a TUN device carries. Written as LINKTYPE_RAW (101), which
    /// every tcpdump and tshark reads; LINKTYPE_IPV4 (228) is accepted when reading.
    RawIpv4,
}

impl LinkType {
    fn code(self) -> u32 {
        match self {
            LinkType::Ethernet => LINKTYPE_ETHERNET,
            LinkType::RawIpv4 => LINKTYPE_RAW,
        }
    }

    fn from_code(code: u32) -> Option<LinkType> {
        match code {
            LINKTYPE_ETHERNET => Some(LinkType::Ethernet),
            LINKTYPE_RAW | LINKTYPE_IPV4 => Some(LinkType::RawIpv4),
            _ => None,
        }
    }
}

/// Writes a capture file packet by packet.
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header. Wrap `out` in a `BufWriter` for files.
    pub fn new(mut out: W, link: LinkType) -> io::Result<Self> {
        let mut h = [0u8; GLOBAL_HEADER_LEN];
        h[0..4].copy_from_slice(&MAGIC_MICROS.to_le_bytes());
        h[4..6].copy_from_slice(&VERSION_MAJOR.to_le_bytes());
        h[6..8].copy_from_slice(&VERSION_MINOR.to_le_bytes());
        // thiszone (8..12) and sigfigs (12..16) stay 0: timestamps are UTC.
        h[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
        h[20..24].copy_from_slice(&link.code().to_le_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter { out })
    }

    /// Appends one packet. `ts` = time since the Unix epoch (the runtime passes
    /// SystemTime-derived durations; the simulator passes virtual time). It is stored with
    /// microsecond resolution (truncated); seconds past `u32::MAX` (year 2106) saturate.
    /// Packets longer than [`SNAPLEN`] are truncated to it, keeping their original length.
    pub fn write_packet(&mut self, ts: Duration, data: &[u8]) -> io::Result<()> {
        let orig_len = u32::try_from(data.len()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "packet longer than 4 GiB cannot be recorded",
            )
        })?;
        let incl_len = orig_len.min(SNAPLEN);
        let secs = u32::try_from(ts.as_secs()).unwrap_or(u32::MAX);
        let mut h = [0u8; RECORD_HEADER_LEN];
        h[0..4].copy_from_slice(&secs.to_le_bytes());
        h[4..8].copy_from_slice(&ts.subsec_micros().to_le_bytes());
        h[8..12].copy_from_slice(&incl_len.to_le_bytes());
        h[12..16].copy_from_slice(&orig_len.to_le_bytes());
        self.out.write_all(&h)?;
        // `incl_len <= data.len()`, so the slice is in bounds.
        self.out.write_all(&data[..incl_len as usize])
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Returns the underlying writer (not flushed).
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Why a capture file could not be read.
#[derive(Debug)]
pub enum PcapError {
    /// Not a classic pcap file (pcapng files also end up here).
    BadMagic,
    /// The file ends inside the header or record that starts at byte offset `at`.
    Truncated { at: u64 },
    /// A link type other than Ethernet (1), raw IP (101) or IPv4 (228).
    UnsupportedLinkType(u32),
    /// The underlying reader failed.
    Io(io::Error),
    /// A record claims more than [`MAX_RECORD_LEN`] bytes: the file is corrupt.
    TooLarge { len: u32 },
}

impl fmt::Display for PcapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PcapError::BadMagic => f.write_str(
                "not a classic pcap file (bad magic number; pcapng is not supported, convert \
                 with `editcap -F pcap`)",
            ),
            PcapError::Truncated { at } => {
                write!(
                    f,
                    "pcap file truncated in the header or record at byte {at}"
                )
            }
            PcapError::UnsupportedLinkType(code) => write!(
                f,
                "unsupported pcap link type {code} (only Ethernet 1, raw IP 101 and IPv4 228)"
            ),
            PcapError::Io(e) => write!(f, "reading pcap file: {e}"),
            PcapError::TooLarge { len } => write!(
                f,
                "pcap record of {len} bytes exceeds the {MAX_RECORD_LEN}-byte limit (corrupt file?)"
            ),
        }
    }
}

impl std::error::Error for PcapError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PcapError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for PcapError {
    fn from(e: io::Error) -> Self {
        PcapError::Io(e)
    }
}

/// Reads a capture file packet by packet.
pub struct PcapReader<R: Read> {
    input: R,
    big_endian: bool,
    nanos: bool,
    link: LinkType,
    /// Bytes consumed so far (for error offsets).
    offset: u64,
}

impl<R: Read> PcapReader<R> {
    /// Reads and checks the global header.
    pub fn new(mut input: R) -> Result<Self, PcapError> {
        let mut h = [0u8; GLOBAL_HEADER_LEN];
        let got = read_full(&mut input, &mut h)?;
        if got < 4 {
            return Err(PcapError::Truncated { at: 0 });
        }
        let magic = [h[0], h[1], h[2], h[3]];
        let (big_endian, nanos) = if magic == MAGIC_MICROS.to_le_bytes() {
            (false, false)
        } else if magic == MAGIC_MICROS.to_be_bytes() {
            (true, false)
        } else if magic == MAGIC_NANOS.to_le_bytes() {
            (false, true)
        } else if magic == MAGIC_NANOS.to_be_bytes() {
            (true, true)
        } else {
            return Err(PcapError::BadMagic);
        };
        if got < GLOBAL_HEADER_LEN {
            return Err(PcapError::Truncated { at: 0 });
        }
        let code = u32_at(&h, 20, big_endian);
        // The upper 16 bits may carry FCS information; the link type is the low 16.
        let link =
            LinkType::from_code(code & 0xffff).ok_or(PcapError::UnsupportedLinkType(code))?;
        Ok(PcapReader {
            input,
            big_endian,
            nanos,
            link,
            offset: GLOBAL_HEADER_LEN as u64,
        })
    }

    /// The file's link type.
    pub fn link_type(&self) -> LinkType {
        self.link
    }

    /// The next packet and its timestamp (since the Unix epoch), or `None` at the end of
    /// the file. The data is what was captured (at most the snapshot length).
    pub fn next_packet(&mut self) -> Result<Option<(Duration, Vec<u8>)>, PcapError> {
        let at = self.offset;
        let mut h = [0u8; RECORD_HEADER_LEN];
        match read_full(&mut self.input, &mut h)? {
            0 => return Ok(None),
            RECORD_HEADER_LEN => {}
            _ => return Err(PcapError::Truncated { at }),
        }
        let secs = u32_at(&h, 0, self.big_endian);
        let frac = u32_at(&h, 4, self.big_endian);
        let incl_len = u32_at(&h, 8, self.big_endian);
        if incl_len > MAX_RECORD_LEN {
            return Err(PcapError::TooLarge { len: incl_len });
        }
        let sub = if self.nanos {
            Duration::from_nanos(u64::from(frac))
        } else {
            Duration::from_micros(u64::from(frac))
        };
        let ts = Duration::from_secs(u64::from(secs)) + sub;
        let mut data = vec![0u8; incl_len as usize];
        if read_full(&mut self.input, &mut data)? < data.len() {
            return Err(PcapError::Truncated { at });
        }
        self.offset += (RECORD_HEADER_LEN + data.len()) as u64;
        Ok(Some((ts, data)))
    }
}

fn u32_at(b: &[u8], at: usize, big_endian: bool) -> u32 {
    let v = [b[at], b[at + 1], b[at + 2], b[at + 3]];
    if big_endian {
        u32::from_be_bytes(v)
    } else {
        u32::from_le_bytes(v)
    }
}

/// Fills `buf` unless the input ends first; returns how many bytes were read.
fn read_full<R: Read>(input: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            // A reader claiming more than it was given is not trusted past the buffer.
            Ok(n) => filled += n.min(buf.len() - filled),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
