//! `ferrotcp get URL`: an HTTP/1.1 download over ferrotcp, with a progress bar for long ones.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use ferrotcp_io::net::TcpStream;
use indicatif::{ProgressBar, ProgressStyle};

use crate::http::{Url, get};
use crate::link_args::LinkArgs;

#[derive(Args, Debug)]
pub struct GetArgs {
    /// http://ADDRESS[:PORT]/PATH (the host must be an IPv4 address: there is no DNS yet).
    url: String,
    #[command(flatten)]
    link: LinkArgs,
    /// Write the body here instead of standard output.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
}

/// Bodies smaller than this get no progress bar.
const BAR_FROM: u64 = 1 << 20;

pub fn run(args: &GetArgs) -> ExitCode {
    let url = match Url::parse(&args.url) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("ferrotcp get: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match args.link.start() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ferrotcp get: {e}");
            return ExitCode::from(1);
        }
    };
    let _ = crate::signals::install(&rt);
    let code = fetch(&rt, &url, args.output.as_ref());
    rt.shutdown();
    code
}

fn fetch(rt: &ferrotcp_io::Runtime, url: &Url, output: Option<&PathBuf>) -> ExitCode {
    let mut stream = match TcpStream::connect_on(rt, (url.host.as_str(), url.port)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "ferrotcp get: {}:{}: {e} ({:?})",
                url.host,
                url.port,
                e.kind()
            );
            return ExitCode::from(1);
        }
    };
    // A server that stops sending (or never closes) must not hang the command.
    if let Err(e) = stream.set_read_timeout(Some(std::time::Duration::from_secs(60))) {
        eprintln!("ferrotcp get: {e}");
        return ExitCode::from(1);
    }
    let out: Box<dyn Write> = match output {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Box::new(io::BufWriter::new(f)),
            Err(e) => {
                eprintln!("ferrotcp get: {}: {e}", p.display());
                return ExitCode::from(1);
            }
        },
        None => Box::new(io::BufWriter::new(io::stdout().lock())),
    };
    let bar = ProgressBar::hidden();
    let progress = |done: u64, total: Option<u64>| {
        if bar.is_hidden() && total.unwrap_or(0) >= BAR_FROM {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.set_length(total.unwrap_or(0));
            bar.set_style(
                ProgressStyle::with_template(
                    "{bytes}/{total_bytes} {wide_bar} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
        }
        bar.set_position(done);
    };
    match get(stream, url, out, progress) {
        Ok((resp, n)) => {
            bar.finish_and_clear();
            eprintln!("ferrotcp get: {} {}, {n} bytes", resp.status, resp.reason);
            if (200..300).contains(&resp.status) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            bar.abandon();
            eprintln!("ferrotcp get: {e}");
            ExitCode::from(1)
        }
    }
}
