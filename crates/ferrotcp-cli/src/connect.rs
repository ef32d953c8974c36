//! `ferrotcp connect ADDR:PORT`: like `nc`, stdin to the connection and the connection to
//! stdout; end of stdin half-closes (our FIN), the peer's end of stream ends the command.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddrV4};
use std::process::ExitCode;

use clap::Args;
use ferrotcp_io::net::TcpStream;

use crate::link_args::LinkArgs;

#[derive(Args, Debug)]
pub struct ConnectArgs {
    /// Where to connect, e.g. 192.0.2.1:7.
    addr: SocketAddrV4,
    #[command(flatten)]
    link: LinkArgs,
}

pub fn run(args: &ConnectArgs) -> ExitCode {
    let rt = match args.link.start() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ferrotcp connect: {e}");
            return ExitCode::from(1);
        }
    };
    let _ = crate::signals::install(&rt);
    let code = match TcpStream::connect_on(&rt, args.addr) {
        Ok(stream) => pipe(stream),
        Err(e) => {
            eprintln!("ferrotcp connect: {}: {e} ({:?})", args.addr, e.kind());
            ExitCode::from(1)
        }
    };
    rt.shutdown();
    code
}

fn pipe(stream: TcpStream) -> ExitCode {
    let mut to_peer = match stream.try_clone() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ferrotcp connect: {e}");
            return ExitCode::from(1);
        }
    };
    // stdin → connection; at end of input, half-close so the peer sees our FIN.
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        let mut stdin = io::stdin().lock();
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to_peer.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = to_peer.shutdown(Shutdown::Write);
    });
    match copy_out(stream) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferrotcp connect: {e} ({:?})", e.kind());
            ExitCode::from(1)
        }
    }
}

/// connection → stdout until the peer's end of stream.
fn copy_out(mut s: TcpStream) -> io::Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = io::stdout().lock();
    let mut total = 0;
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            out.flush()?;
            return Ok(total);
        }
        out.write_all(&buf[..n])?;
        total += n as u64;
    }
}
