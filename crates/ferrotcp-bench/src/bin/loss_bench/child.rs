//! The Linux endpoints: this same binary re-executed inside a namespace
//! (`ip netns exec NS loss_bench --role ...`), using `std::net`, i.e. the kernel's TCP. Start-up
//! is not timed: the receiver times from `accept` to end of stream and prints the result on
//! standard output for the parent, one line:
//!
//! * `ready` once listening (receiver), then `done bytes=N elapsed_ns=T` (receiver) or
//!   `sent bytes=N cc=NAME elapsed_ns=T` (sender, once the receiver has closed; NAME is its
//!   socket's congestion control, T its own view: established to the receiver's close);
//! * `error MESSAGE` and exit status 1 on failure.

use std::io::Read;
use std::net::{Shutdown, SocketAddrV4, TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ferrotcp_bench::pattern::{Pattern, Verifier};

use crate::cli::Role;
use crate::{CHUNK, congestion};

/// Runs one role and reports on standard output.
pub fn run(
    role: Role,
    addr: SocketAddrV4,
    bytes: u64,
    limit: Duration,
    cc: Option<&str>,
) -> ExitCode {
    // However the peer behaves, this process ends: the parent kills it too, but a child must
    // never outlive a bench that was itself killed.
    std::thread::spawn(move || {
        std::thread::sleep(limit + Duration::from_secs(5));
        println!("error over the time limit of {limit:?}");
        std::process::exit(2);
    });
    let pattern = Pattern::new(CHUNK);
    let r = match role {
        Role::LinuxRecv => receive(addr, bytes, &pattern),
        Role::LinuxSend => send(addr, bytes, &pattern, limit, cc),
    };
    match r {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("error {e}");
            ExitCode::FAILURE
        }
    }
}

/// Listens, accepts one connection, reads and checks everything until end of stream, closes.
fn receive(addr: SocketAddrV4, bytes: u64, pattern: &Pattern) -> Result<String, String> {
    let listener = TcpListener::bind(addr).map_err(|e| format!("bind {addr}: {e}"))?;
    println!("ready");
    let (mut s, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
    let elapsed = Verifier::read_all(&mut s, pattern, bytes, CHUNK)?;
    drop(s);
    Ok(format!(
        "done bytes={bytes} elapsed_ns={}",
        elapsed.as_nanos()
    ))
}

/// Connects (retrying while the listener is not up yet), sets the congestion control if asked,
/// sends `bytes` of the pattern, half-closes, and waits for the receiver's close.
fn send(
    addr: SocketAddrV4,
    bytes: u64,
    pattern: &Pattern,
    limit: Duration,
    cc: Option<&str>,
) -> Result<String, String> {
    let give_up = Instant::now() + Duration::from_secs(5);
    let mut s = loop {
        match TcpStream::connect_timeout(&addr.into(), limit) {
            Ok(s) => break s,
            Err(e) if Instant::now() >= give_up => return Err(format!("connect {addr}: {e}")),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    // Before any data, so the whole transfer runs under it.
    if let Some(cc) = cc {
        congestion::set(&s, cc)?;
    }
    let cc = congestion::get(&s)?;
    let start = Instant::now();
    pattern.write_all(&mut s, bytes)?;
    s.shutdown(Shutdown::Write)
        .map_err(|e| format!("shutdown: {e}"))?;
    let mut rest = Vec::new();
    s.read_to_end(&mut rest)
        .map_err(|e| format!("waiting for the receiver's close: {e}"))?;
    Ok(format!(
        "sent bytes={bytes} cc={cc} elapsed_ns={}",
        start.elapsed().as_nanos()
    ))
}
