//! Linux TAP and TUN devices: the link between the stack and the kernel.
//!
//! A [`Device`] owns a non-blocking file descriptor on `/dev/net/tun` attached to one
//! interface. A TAP device carries Ethernet frames, a TUN device raw IP packets; neither
//! prepends the kernel's packet-information header (`IFF_NO_PI`), so what [`Device::recv`]
//! returns is exactly a frame or packet.
//!
//! The device is created in the network namespace of the thread that opens it and may be
//! moved to another one afterwards (`ip link set DEV netns NS`): the descriptor stays valid,
//! and [`Device::mtu`] and [`Device::set_up`] follow the device into its namespace. The
//! interface disappears when the `Device` is dropped (unless it was made persistent by
//! someone else, e.g. `ip tuntap add`).
//!
//! Link configuration (addresses, routes, link state) is left to the caller, except for
//! [`Device::set_up`] for callers that configure nothing else.

use std::ffi::CStr;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::vnet;
use ferrotcp::wire::FrameOffload;

/// Which kind of device to open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    /// Ethernet frames (`IFF_TAP`).
    Tap,
    /// Raw IP packets (`IFF_TUN`).
    Tun,
}

/// Why a device could not be opened or queried.
#[derive(Debug)]
pub enum DeviceError {
    /// Not root / lacking CAP_NET_ADMIN (EPERM/EACCES on open or TUNSETIFF).
    PermissionDenied { name: String },
    /// /dev/net/tun is missing (ENOENT/ENXIO/ENODEV): load the module with `modprobe tun`.
    NoTunDevice,
    /// The name is used by another device of another kind or is busy (EBUSY/EEXIST/EINVAL
    /// from TUNSETIFF with an existing device).
    NameInUse { name: String },
    /// Empty, longer than 15 bytes, `.` or `..`, or containing '/', ':', NUL or whitespace
    /// (the kernel's own rules for interface names).
    InvalidName { name: String },
    /// Any other system error; `context` says what was being done.
    Io {
        context: &'static str,
        source: io::Error,
    },
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceError::PermissionDenied { name } => write!(
                f,
                "permission denied creating network device {name:?}: run as root or grant the \
                 program CAP_NET_ADMIN (e.g. `setcap cap_net_admin+ep PROGRAM`)"
            ),
            DeviceError::NoTunDevice => f.write_str(
                "/dev/net/tun is missing: load the TUN/TAP driver with `modprobe tun` (in a \
                 container, pass the host's /dev/net/tun through, e.g. `--device /dev/net/tun`)",
            ),
            DeviceError::NameInUse { name } => write!(
                f,
                "network device name {name:?} is already in use by a busy or different kind of \
                 device: choose another name or remove it with `ip link delete {name}`"
            ),
            DeviceError::InvalidName { name } => write!(
                f,
                "invalid network device name {name:?}: use 1 to 15 bytes without '/', ':' or \
                 whitespace (e.g. \"tap0\")"
            ),
            DeviceError::Io { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for DeviceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DeviceError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// One frame read by [`Device::recv_frame`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    pub len: usize,
    /// The kernel vouches for its transport checksum.
    pub checksum_trusted: bool,
}

/// An open TAP or TUN device. Reads and writes never block.
pub struct Device {
    fd: OwnedFd,
    name: String,
    kind: DeviceKind,
    /// Every frame carries a virtio-net header (`IFF_VNET_HDR`).
    vnet: bool,
    /// The kernel accepted `TUNSETOFFLOAD`: it may hand over coalesced TCP segments of up to
    /// 64 KiB with their checksum left to us.
    offload: bool,
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("receive_offload", &self.offload)
            .field("fd", &self.fd.as_raw_fd())
            .finish()
    }
}

/// `_IO('T', 227)`: a file descriptor on the network namespace the device is in (Linux 5.2+).
const TUNGETDEVNETNS: libc::Ioctl = libc::TUNGETDEVNETNS as libc::Ioctl;
const TUNSETIFF: libc::Ioctl = libc::TUNSETIFF as libc::Ioctl;
const SIOCGIFMTU: libc::Ioctl = libc::SIOCGIFMTU as libc::Ioctl;
const SIOCGIFFLAGS: libc::Ioctl = libc::SIOCGIFFLAGS as libc::Ioctl;
const SIOCSIFFLAGS: libc::Ioctl = libc::SIOCSIFFLAGS as libc::Ioctl;
const TUNSETOFFLOAD: libc::Ioctl = libc::TUNSETOFFLOAD as libc::Ioctl;
const TUNSETVNETLE: libc::Ioctl = libc::TUNSETVNETLE as libc::Ioctl;

/// The largest frame a device with receive offloads may hand over: a 64 KiB IPv4 packet and
/// an Ethernet header.
pub const MAX_FRAME: usize = 65_535 + 14;

impl Device {
    /// Opens (creating it if needed) the device `name`, in the network namespace of the
    /// calling thread. `name` may be a kernel template such as `"tap%d"`; [`Device::name`]
    /// then says which name the kernel chose.
    ///
    /// The descriptor is non-blocking and close-on-exec. The link is not brought up: see
    /// [`Device::set_up`].
    pub fn open(name: &str, kind: DeviceKind) -> Result<Device, DeviceError> {
        Self::open_flags(name, kind, false)
    }

    /// [`Device::open`] with receive offloads: a virtio-net header on every frame and
    /// `TUN_F_CSUM | TUN_F_TSO4`, so the kernel sends TCP in segments of up to 64 KiB (one
    /// system call where there were up to 44) and leaves their checksum to [`Device::recv`],
    /// which completes it. Where the kernel refuses, the device works as [`Device::open`]'s
    /// and [`Device::receive_offload`] says so. `recv` needs a buffer of [`MAX_FRAME`].
    pub fn open_offloaded(name: &str, kind: DeviceKind) -> Result<Device, DeviceError> {
        let mut dev = match Self::open_flags(name, kind, true) {
            Ok(dev) => dev,
            // A kernel without IFF_VNET_HDR rejects the flag: open as before.
            Err(DeviceError::NameInUse { .. } | DeviceError::Io { .. }) => {
                return Self::open_flags(name, kind, false);
            }
            Err(e) => return Err(e),
        };
        let little_endian: libc::c_int = 1;
        // SAFETY: TUNSETVNETLE reads an int; `fd` is open. Failure (kernels before 4.8)
        // leaves the header in native order, which is little-endian on every target we build.
        unsafe { libc::ioctl(dev.fd.as_raw_fd(), TUNSETVNETLE, &little_endian) };
        let features = libc::TUN_F_CSUM | libc::TUN_F_TSO4;
        // SAFETY: TUNSETOFFLOAD takes the feature bits as its argument; `fd` is open.
        let rc = unsafe {
            libc::ioctl(
                dev.fd.as_raw_fd(),
                TUNSETOFFLOAD,
                libc::c_ulong::from(features),
            )
        };
        dev.offload = rc == 0;
        Ok(dev)
    }

    fn open_flags(name: &str, kind: DeviceKind, vnet: bool) -> Result<Device, DeviceError> {
        validate_name(name)?;
        // SAFETY: the path is a valid NUL-terminated string; open has no other preconditions.
        let raw = unsafe {
            libc::open(
                c"/dev/net/tun".as_ptr(),
                libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if raw < 0 {
            let err = io::Error::last_os_error();
            return Err(match err.raw_os_error() {
                Some(libc::ENOENT | libc::ENXIO | libc::ENODEV) => DeviceError::NoTunDevice,
                Some(libc::EPERM | libc::EACCES) => DeviceError::PermissionDenied {
                    name: name.to_owned(),
                },
                _ => DeviceError::Io {
                    context: "opening /dev/net/tun",
                    source: err,
                },
            });
        }
        // SAFETY: `raw` is a freshly opened descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };

        let mut req = ifreq_for(name);
        let kind_flag = match kind {
            DeviceKind::Tap => libc::IFF_TAP,
            DeviceKind::Tun => libc::IFF_TUN,
        };
        let vnet_flag = if vnet { libc::IFF_VNET_HDR } else { 0 };
        // The flags fit in the 16-bit field (IFF_TAP = 0x2, IFF_NO_PI = 0x1000,
        // IFF_VNET_HDR = 0x4000).
        req.ifr_ifru.ifru_flags = (kind_flag | libc::IFF_NO_PI | vnet_flag) as libc::c_short;
        // SAFETY: TUNSETIFF reads and writes a `struct ifreq`, which `req` is, and `fd` is open.
        let rc = unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETIFF, &mut req) };
        if rc < 0 {
            let err = io::Error::last_os_error();
            return Err(map_setiff_error(name, err));
        }
        let name = ifreq_name(&req).unwrap_or_else(|| name.to_owned());
        Ok(Device {
            fd,
            name,
            kind,
            vnet,
            offload: false,
        })
    }

    /// Whether the kernel may hand over coalesced segments (see [`Device::open_offloaded`]).
    pub fn receive_offload(&self) -> bool {
        self.offload
    }

    /// The interface name (as the kernel chose it, for a template name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// TAP or TUN.
    pub fn kind(&self) -> DeviceKind {
        self.kind
    }

    /// IP MTU of the device as the kernel reports it (re-read on each call; 1500 by default
    /// for TAP and TUN). Works wherever the device is, also after it was moved to another
    /// network namespace.
    pub fn mtu(&self) -> Result<usize, DeviceError> {
        let sock = self.control_socket()?;
        let mut req = ifreq_for(&self.name);
        // SAFETY: SIOCGIFMTU reads and writes a `struct ifreq`; `sock` is an open socket.
        let rc = unsafe { libc::ioctl(sock.as_raw_fd(), SIOCGIFMTU, &mut req) };
        if rc < 0 {
            return Err(self.query_error("reading the device MTU (SIOCGIFMTU)"));
        }
        // SAFETY: after a successful SIOCGIFMTU the kernel has set the `ifru_mtu` member.
        let mtu = unsafe { req.ifr_ifru.ifru_mtu };
        usize::try_from(mtu).map_err(|_| DeviceError::Io {
            context: "reading the device MTU (SIOCGIFMTU)",
            source: io::Error::new(io::ErrorKind::InvalidData, format!("negative MTU {mtu}")),
        })
    }

    /// Non-blocking read of one frame (TAP) or packet (TUN); `Err(WouldBlock)` when none.
    ///
    /// `buf` should hold the largest frame: MTU bytes for TUN, MTU + 14 for TAP (the kernel
    /// may drop a frame that does not fit).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv_frame(buf).map(|r| r.len)
    }

    /// As [`recv`](Self::recv), and whether the kernel vouches for the frame's transport
    /// checksum (see [`vnet::VnetHeader::checksum_trusted`]), so the stack may skip it.
    pub fn recv_frame(&self, buf: &mut [u8]) -> io::Result<Received> {
        if !self.vnet {
            // SAFETY: `buf` is valid for writes of `buf.len()` bytes and `fd` is open.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            // `n >= 0` here; never report more than the buffer holds.
            return Ok(Received {
                len: n.unsigned_abs().min(buf.len()),
                checksum_trusted: false,
            });
        }
        let mut hdr = [0u8; vnet::HEADER_LEN];
        let iov = [
            libc::iovec {
                iov_base: hdr.as_mut_ptr().cast(),
                iov_len: hdr.len(),
            },
            libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: buf.len(),
            },
        ];
        // SAFETY: both iovecs describe writable memory of their stated lengths; `fd` is open.
        let n = unsafe { libc::readv(self.fd.as_raw_fd(), iov.as_ptr(), 2) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let Some(len) = n.unsigned_abs().checked_sub(vnet::HEADER_LEN) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "frame shorter than its virtio-net header",
            ));
        };
        let len = len.min(buf.len());
        let frame = &mut buf[..len];
        let hdr = vnet::VnetHeader::parse(&hdr);
        vnet::complete(&hdr, frame).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("virtio-net header: {e:?}"),
            )
        })?;
        Ok(Received {
            len,
            checksum_trusted: hdr.checksum_trusted(),
        })
    }

    /// Writes one frame (TAP) or packet (TUN); may return `Err(WouldBlock)` when the
    /// kernel's queue is full.
    pub fn send(&self, frame: &[u8]) -> io::Result<usize> {
        self.send_offloaded(frame, &FrameOffload::default())
    }

    /// Whether frames carry a virtio-net header, so [`send_offloaded`](Self::send_offloaded)
    /// can leave checksums and segmentation to the kernel.
    pub fn transmit_offload(&self) -> bool {
        self.vnet
    }

    /// Writes one frame, leaving to the kernel what `offload` says (its TCP checksum, cutting
    /// a super-segment at the MSS: Linux's GSO does it as for a NIC's frames). Without a
    /// virtio-net header only finished frames can go: anything else is `InvalidInput`.
    pub fn send_offloaded(&self, frame: &[u8], offload: &FrameOffload) -> io::Result<usize> {
        if !self.vnet {
            if !offload.is_none() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "an unfinished frame for a device without a virtio-net header",
                ));
            }
            // SAFETY: `frame` is valid for reads of `frame.len()` bytes and `fd` is open.
            let n = unsafe { libc::write(self.fd.as_raw_fd(), frame.as_ptr().cast(), frame.len()) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            return Ok(n.unsigned_abs());
        }
        // All zero for a finished frame, checksummed, one segment.
        let hdr = vnet::VnetHeader::for_transmit(offload).emit();
        let iov = [
            libc::iovec {
                iov_base: hdr.as_ptr().cast_mut().cast(),
                iov_len: hdr.len(),
            },
            libc::iovec {
                iov_base: frame.as_ptr().cast_mut().cast(),
                iov_len: frame.len(),
            },
        ];
        // SAFETY: both iovecs describe readable memory of their stated lengths (writev only
        // reads through them); `fd` is open.
        let n = unsafe { libc::writev(self.fd.as_raw_fd(), iov.as_ptr(), 2) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n.unsigned_abs().saturating_sub(vnet::HEADER_LEN))
    }

    /// Brings the interface up (SIOCSIFFLAGS with IFF_UP) — for callers that configure
    /// nothing else. Other flags are kept.
    pub fn set_up(&self) -> Result<(), DeviceError> {
        let sock = self.control_socket()?;
        let mut req = ifreq_for(&self.name);
        // SAFETY: SIOCGIFFLAGS reads and writes a `struct ifreq`; `sock` is an open socket.
        let rc = unsafe { libc::ioctl(sock.as_raw_fd(), SIOCGIFFLAGS, &mut req) };
        if rc < 0 {
            return Err(self.query_error("reading the device flags (SIOCGIFFLAGS)"));
        }
        // SAFETY: after a successful SIOCGIFFLAGS the kernel has set `ifru_flags`, so reading
        // it (to OR in IFF_UP) reads initialised data of the right type.
        unsafe {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        }
        // SAFETY: SIOCSIFFLAGS reads a `struct ifreq`; `sock` is an open socket.
        let rc = unsafe { libc::ioctl(sock.as_raw_fd(), SIOCSIFFLAGS, &mut req) };
        if rc < 0 {
            return Err(self.query_error("bringing the device up (SIOCSIFFLAGS)"));
        }
        Ok(())
    }

    /// Maps the last OS error of an interface ioctl.
    fn query_error(&self, context: &'static str) -> DeviceError {
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EPERM | libc::EACCES) => DeviceError::PermissionDenied {
                name: self.name.clone(),
            },
            _ => DeviceError::Io {
                context,
                source: err,
            },
        }
    }

    /// An AF_INET datagram socket in the device's network namespace, for interface ioctls.
    fn control_socket(&self) -> Result<OwnedFd, DeviceError> {
        match self.device_netns() {
            Some(ns) if !is_current_netns(ns.as_fd()) => socket_in_netns(ns.as_fd(), &self.name),
            // Same namespace, or the kernel cannot say (before Linux 5.2): use ours.
            _ => inet_socket().map_err(|source| DeviceError::Io {
                context: "creating a control socket for interface ioctls",
                source,
            }),
        }
    }

    /// The namespace the device is in now, if the kernel supports TUNGETDEVNETNS.
    fn device_netns(&self) -> Option<OwnedFd> {
        // SAFETY: TUNGETDEVNETNS takes no argument and returns a new descriptor or -1.
        let raw = unsafe { libc::ioctl(self.fd.as_raw_fd(), TUNGETDEVNETNS) };
        if raw < 0 {
            return None;
        }
        // SAFETY: on success the ioctl returned a new descriptor that we now own.
        Some(unsafe { OwnedFd::from_raw_fd(raw) })
    }
}

impl AsRawFd for Device {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for Device {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The kernel's `dev_valid_name`, plus our 15-byte limit (IFNAMSIZ - 1).
fn validate_name(name: &str) -> Result<(), DeviceError> {
    let bad = name.is_empty()
        || name.len() >= libc::IFNAMSIZ
        || name == "."
        || name == ".."
        || name
            .bytes()
            // C isspace() also counts vertical tab; the kernel's Latin-1 table counts NBSP.
            .any(|b| matches!(b, b'/' | b':' | 0 | 0x0b | 0xa0) || b.is_ascii_whitespace());
    if bad {
        return Err(DeviceError::InvalidName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

fn map_setiff_error(name: &str, err: io::Error) -> DeviceError {
    match err.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => DeviceError::PermissionDenied {
            name: name.to_owned(),
        },
        Some(libc::EBUSY | libc::EEXIST | libc::EINVAL) => DeviceError::NameInUse {
            name: name.to_owned(),
        },
        _ => DeviceError::Io {
            context: "attaching to the device (TUNSETIFF)",
            source: err,
        },
    }
}

/// A zeroed `ifreq` carrying `name` (already validated: shorter than IFNAMSIZ, no NUL).
fn ifreq_for(name: &str) -> libc::ifreq {
    // SAFETY: `ifreq` is plain old data (arrays, integers, a union of those and a pointer);
    // all-zero bytes are a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, &src) in req.ifr_name.iter_mut().zip(name.as_bytes()) {
        *dst = src as libc::c_char;
    }
    // The last byte stays NUL because `name.len() < IFNAMSIZ`.
    req
}

fn ifreq_name(req: &libc::ifreq) -> Option<String> {
    let bytes: Vec<u8> = req.ifr_name.iter().map(|&c| c as u8).collect();
    let name = CStr::from_bytes_until_nul(&bytes).ok()?;
    let name = name.to_str().ok()?;
    (!name.is_empty()).then(|| name.to_owned())
}

fn inet_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket has no memory preconditions.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a freshly created descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Whether `ns` is the calling thread's network namespace.
fn is_current_netns(ns: BorrowedFd<'_>) -> bool {
    let (Ok(theirs), Ok(ours)) = (fstat(ns), stat(c"/proc/thread-self/ns/net")) else {
        return false;
    };
    (theirs.st_dev, theirs.st_ino) == (ours.st_dev, ours.st_ino)
}

fn fstat(fd: BorrowedFd<'_>) -> io::Result<libc::stat> {
    // SAFETY: `stat` is plain old data; all-zero bytes are a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` is open and `st` is a valid, writable `struct stat`.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st)
}

fn stat(path: &CStr) -> io::Result<libc::stat> {
    // SAFETY: `stat` is plain old data; all-zero bytes are a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is NUL-terminated and `st` is a valid, writable `struct stat`.
    if unsafe { libc::stat(path.as_ptr(), &mut st) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st)
}

/// Creates a socket inside the namespace `ns`: a short-lived thread joins the namespace
/// (setns only affects the calling thread) and creates it there; a socket stays in the
/// namespace it was created in.
fn socket_in_netns(ns: BorrowedFd<'_>, name: &str) -> Result<OwnedFd, DeviceError> {
    let ns_raw = ns.as_raw_fd();
    let result = std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("ferrotcp-netns".into())
            .spawn_scoped(scope, move || {
                // SAFETY: `ns_raw` is a namespace descriptor kept open by the caller for the
                // whole scope; setns changes only this short-lived thread's namespace.
                if unsafe { libc::setns(ns_raw, libc::CLONE_NEWNET) } < 0 {
                    let err = io::Error::last_os_error();
                    return Err(("joining the device's network namespace (setns)", err));
                }
                inet_socket()
                    .map_err(|e| ("creating a control socket in the device's namespace", e))
            })
            .map_err(|e| ("spawning a thread to join the device's namespace", e))?;
        handle.join().unwrap_or_else(|_| {
            let err = io::Error::other("helper thread panicked");
            Err(("joining the device's network namespace", err))
        })
    });
    result.map_err(|(context, source)| match source.raw_os_error() {
        Some(libc::EPERM) => DeviceError::PermissionDenied {
            name: name.to_owned(),
        },
        _ => DeviceError::Io { context, source },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated_like_the_kernel() {
        for bad in [
            "",
            "abcdefghijklmnop",
            "a/b",
            "a b",
            "tab\t",
            "nl\n",
            ".",
            "..",
            "a:b",
            "nul\0",
        ] {
            assert!(
                matches!(validate_name(bad), Err(DeviceError::InvalidName { ref name }) if name == bad),
                "{bad:?} should be rejected"
            );
        }
        for good in ["tap0", "abcdefghijklmno", "ftap12345", "tap%d", "a.b-c_d"] {
            assert!(validate_name(good).is_ok(), "{good:?} should be accepted");
        }
    }

    #[test]
    fn setiff_errors_are_mapped() {
        let e = |code| map_setiff_error("tap0", io::Error::from_raw_os_error(code));
        assert!(matches!(
            e(libc::EPERM),
            DeviceError::PermissionDenied { .. }
        ));
        assert!(matches!(
            e(libc::EACCES),
            DeviceError::PermissionDenied { .. }
        ));
        for code in [libc::EBUSY, libc::EEXIST, libc::EINVAL] {
            assert!(matches!(e(code), DeviceError::NameInUse { ref name } if name == "tap0"));
        }
        let io = e(libc::ENOMEM);
        assert!(matches!(io, DeviceError::Io { .. }));
        assert!(std::error::Error::source(&io).is_some());
    }

    #[test]
    fn ifreq_name_round_trips() {
        let req = ifreq_for("abcdefghijklmno");
        assert_eq!(ifreq_name(&req).as_deref(), Some("abcdefghijklmno"));
        assert_eq!(req.ifr_name[15], 0);
    }
}
