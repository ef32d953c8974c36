//! `ferrotcp`: the command-line front door.

mod connect;
mod demo;
mod diagram;
mod explain;
mod get;
mod http;
mod link_args;
mod outputs;
mod ping;
mod serve;
mod signals;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "ferrotcp",
    version,
    about = "A user-space TCP/IP stack that explains itself"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Two simulated hosts: the client sends N bytes, the server echoes them, both close.
    Demo(demo::DemoArgs),
    /// Run the stack on a TAP/TUN device with echo, discard and HTTP services.
    Serve(serve::ServeArgs),
    /// Download a URL over HTTP/1.1 through the stack.
    Get(get::GetArgs),
    /// Connect to ADDR:PORT and pipe standard input and output, like nc.
    Connect(connect::ConnectArgs),
    /// Send ICMP echo requests through the stack.
    Ping(ping::PingArgs),
    /// Draw the ladder diagram of a TCP connection in a pcap capture.
    Diagram(diagram::DiagramArgs),
    /// Explain TCP by running it: handshake, close, TIME-WAIT and why (list topics without one).
    Explain(explain::ExplainArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Get(args) => get::run(&args),
        Command::Connect(args) => connect::run(&args),
        Command::Ping(args) => ping::run(&args),
        Command::Diagram(args) => diagram::run(&args),
        Command::Explain(args) => explain::run(&args),
    }
}
