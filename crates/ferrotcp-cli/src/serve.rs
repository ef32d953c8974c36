//! `ferrotcp serve`: the stack on a real device with a few services.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use ferrotcp_io::net::{TcpListener, TcpStream};

use crate::http::FileServer;
use crate::link_args::LinkArgs;

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    link: LinkArgs,
    /// Echo service: every byte comes back.
    #[arg(long)]
    echo: Option<u16>,
    /// Discard service: bytes are read and counted.
    #[arg(long)]
    discard: Option<u16>,
    /// HTTP/1.1 file server on this port (needs --root).
    #[arg(long, requires = "root")]
    http: Option<u16>,
    /// Directory the HTTP server serves.
    #[arg(long)]
    root: Option<PathBuf>,
}

pub fn run(args: &ServeArgs) -> ExitCode {
    if args.echo.is_none() && args.discard.is_none() && args.http.is_none() {
        eprintln!("ferrotcp serve: nothing to serve (use --echo, --discard or --http)");
        return ExitCode::from(2);
    }
    let rt = match args.link.start() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ferrotcp serve: {e}");
            return ExitCode::from(1);
        }
    };
    if let Err(e) = crate::signals::install(&rt) {
        eprintln!("ferrotcp serve: {e}");
    }
    let mut listeners = Vec::new();
    let bind = |port: u16, what: &str| match TcpListener::bind_on(&rt, ("0.0.0.0", port)) {
        Ok(l) => {
            eprintln!(
                "ferrotcp: {what} on {}",
                l.local_addr().map(|a| a.to_string()).unwrap_or_default()
            );
            Some(l)
        }
        Err(e) => {
            eprintln!("ferrotcp serve: {what} on port {port}: {e}");
            None
        }
    };
    if let Some(p) = args.echo {
        let Some(l) = bind(p, "echo") else {
            return ExitCode::from(1);
        };
        listeners.push(std::thread::spawn(move || accept_loop(l, echo)));
    }
    if let Some(p) = args.discard {
        let Some(l) = bind(p, "discard") else {
            return ExitCode::from(1);
        };
        listeners.push(std::thread::spawn(move || accept_loop(l, discard)));
    }
    if let (Some(p), Some(root)) = (args.http, &args.root) {
        let server = match FileServer::new(root) {
            Ok(s) => std::sync::Arc::new(s),
            Err(e) => {
                eprintln!("ferrotcp serve: --root {}: {e}", root.display());
                return ExitCode::from(1);
            }
        };
        let Some(l) = bind(p, "http") else {
            return ExitCode::from(1);
        };
        listeners.push(std::thread::spawn(move || {
            accept_loop(l, move |s| {
                let _ = server.serve_connection(s);
            })
        }));
    }
    eprintln!("ferrotcp: serving (Ctrl-C to stop)");
    for t in listeners {
        let _ = t.join();
    }
    rt.shutdown();
    if crate::signals::interrupted() {
        ExitCode::from(130)
    } else {
        ExitCode::SUCCESS
    }
}

/// One thread per connection; the loop ends when the runtime stops.
fn accept_loop(listener: TcpListener, handler: impl Fn(TcpStream) + Send + Sync + Clone + 'static) {
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                let h = handler.clone();
                std::thread::spawn(move || h(stream));
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::WouldBlock {
                    return;
                }
            }
        }
    }
}

/// Echo (RFC 862): bytes back until the peer half-closes, then our FIN.
fn echo(mut s: TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if s.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        }
    }
    let _ = s.shutdown(Shutdown::Write);
    // Wait for the peer's close so that our FIN is not cut short by a reset.
    let _ = s.read(&mut buf);
}

/// Discard (RFC 863): read and count until end of stream.
fn discard(mut s: TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total: u64 = 0;
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n as u64,
        }
    }
    let peer = s.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    eprintln!("ferrotcp: discard: {total} bytes from {peer}");
    let _ = s.shutdown(Shutdown::Write);
}
