//! The congestion control of a Linux socket (`TCP_CONGESTION`), which std does not expose.
//!
//! Per socket rather than the namespace's `net.ipv4.tcp_congestion_control`: a namespace other
//! than the initial one may only choose from `tcp_allowed_congestion_control`, a global
//! setting this bench leaves alone, whereas a root process may pick any available algorithm
//! for its own socket.

use std::net::TcpStream;
use std::os::fd::AsRawFd;

/// Sets the socket's congestion control to `name`.
pub fn set(s: &TcpStream, name: &str) -> Result<(), String> {
    // SAFETY: the descriptor is open for the duration of the call; the value is `name.len()`
    // readable bytes.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            name.as_ptr().cast(),
            name.len() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(format!(
            "setting TCP_CONGESTION to {name:?}: {} (see net.ipv4.tcp_available_congestion_control)",
            std::io::Error::last_os_error()
        ))
    }
}

/// The socket's congestion control.
pub fn get(s: &TcpStream) -> Result<String, String> {
    let mut buf = [0u8; 32];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: the descriptor is open; `buf` has `len` writable bytes and `len` is updated to the
    // number written.
    let rc = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            buf.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(format!(
            "reading TCP_CONGESTION: {}",
            std::io::Error::last_os_error()
        ));
    }
    let name = &buf[..(len as usize).min(buf.len())];
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    Ok(String::from_utf8_lossy(&name[..end]).into_owned())
}
