//! `ferrotcp ping`: ICMP echo over the stack.

use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::link_args::LinkArgs;

#[derive(Args, Debug)]
pub struct PingArgs {
    /// Address to ping.
    addr: Ipv4Addr,
    #[command(flatten)]
    link: LinkArgs,
    /// Number of requests.
    #[arg(short = 'c', long, default_value_t = 4)]
    count: u16,
    /// Payload bytes per request.
    #[arg(short = 's', long, default_value_t = 56)]
    size: usize,
}

pub fn run(args: &PingArgs) -> ExitCode {
    let rt = match args.link.start() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ferrotcp ping: {e}");
            return ExitCode::from(1);
        }
    };
    let mut received = 0;
    for seq in 1..=args.count {
        match rt.ping(args.addr, seq, args.size, Duration::from_secs(2)) {
            Ok(Some(rtt)) => {
                received += 1;
                println!(
                    "{} bytes from {}: icmp_seq={seq} time={:.3} ms",
                    args.size + 8,
                    args.addr,
                    rtt.as_secs_f64() * 1000.0
                );
            }
            Ok(None) => println!("no reply from {} for icmp_seq={seq}", args.addr),
            Err(e) => {
                eprintln!("ferrotcp ping: {e}");
                break;
            }
        }
        if seq < args.count {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    println!("{} packets transmitted, {received} received", args.count);
    rt.shutdown();
    if received > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
