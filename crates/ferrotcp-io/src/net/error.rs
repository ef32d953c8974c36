//! ferrotcp's typed errors as `std::io::Error`s with the kinds `std::net` uses, so code that
//! matches on `ErrorKind::ConnectionRefused` and friends ports unchanged.

use std::io::{Error, ErrorKind};

use ferrotcp::{CloseReason, TcpError, UdpError};

pub(crate) fn tcp(e: TcpError) -> Error {
    let kind = match e {
        TcpError::InvalidHandle | TcpError::NotConnected => ErrorKind::NotConnected,
        TcpError::AddrInUse => ErrorKind::AddrInUse,
        TcpError::NoEphemeralPorts => ErrorKind::AddrNotAvailable,
        TcpError::Unreachable => ErrorKind::NetworkUnreachable,
        TcpError::InvalidAddress => ErrorKind::InvalidInput,
        TcpError::WouldBlock => ErrorKind::WouldBlock,
        TcpError::Closing => ErrorKind::BrokenPipe,
        TcpError::Closed(reason) => return closed(reason),
    };
    Error::new(kind, e)
}

pub(crate) fn closed(reason: CloseReason) -> Error {
    let kind = match reason {
        CloseReason::Normal => ErrorKind::BrokenPipe,
        CloseReason::Refused => ErrorKind::ConnectionRefused,
        CloseReason::Reset => ErrorKind::ConnectionReset,
        CloseReason::TimedOut => ErrorKind::TimedOut,
        CloseReason::Aborted => ErrorKind::ConnectionAborted,
        CloseReason::Unreachable => ErrorKind::HostUnreachable,
    };
    Error::new(kind, reason.to_string())
}

pub(crate) fn udp(e: UdpError) -> Error {
    let kind = match e {
        UdpError::AddrInUse => ErrorKind::AddrInUse,
        UdpError::InvalidHandle => ErrorKind::NotConnected,
        UdpError::NoEphemeralPorts => ErrorKind::AddrNotAvailable,
        UdpError::PayloadTooLarge => ErrorKind::InvalidInput,
        UdpError::WouldBlock => ErrorKind::WouldBlock,
    };
    Error::new(kind, e)
}

pub(crate) fn stopped() -> Error {
    Error::new(ErrorKind::NotConnected, "the ferrotcp runtime has stopped")
}

pub(crate) fn no_runtime() -> Error {
    Error::new(
        ErrorKind::NotConnected,
        "no default ferrotcp runtime: start one and call Runtime::set_default, or use the *_on constructors",
    )
}
