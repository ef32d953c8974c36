//! A blocking echo server on ferrotcp, written exactly like one on `std::net`.
//!
//! As root, in a namespace of your own:
//! ```sh
//! ip netns add demo && ip netns exec demo cargo run -p ferrotcp-io --example echo_server -- ftap0
//! ip -n demo addr add 192.0.2.1/24 dev ftap0 && ip -n demo link set ftap0 up   # in another shell
//! ip netns exec demo sh -c 'echo hello | nc -N 192.0.2.2 7'
//! ```

use std::io::{Read, Write};
use std::net::Shutdown;

use ferrotcp::StackConfig;
use ferrotcp::wire::MacAddr;
use ferrotcp_io::device::DeviceKind;
use ferrotcp_io::net::TcpListener;
use ferrotcp_io::{Runtime, RuntimeConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = std::env::args().nth(1).unwrap_or_else(|| "ftap0".into());
    let stack = StackConfig::new(MacAddr([0x02, 0, 0, 0, 0, 0x22]), "192.0.2.2".parse()?, 24)
        .with_seed(std::process::id().into());
    let rt = Runtime::start(RuntimeConfig {
        device,
        kind: DeviceKind::Tap,
        stack,
        pcap: None,
        impair: None,
        trace: true,
    })?;
    rt.set_default();

    let listener = TcpListener::bind("0.0.0.0:7")?;
    for stream in listener.incoming() {
        let mut stream = stream?;
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 || stream.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = stream.shutdown(Shutdown::Write);
        });
    }
    Ok(())
}
