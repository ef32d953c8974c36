//! An async echo server on ferrotcp with tokio: `accept().await` and `tokio::io::copy`.
//! Run it like the `echo_server` example (root, a namespace, a TAP device).

use ferrotcp::StackConfig;
use ferrotcp::wire::MacAddr;
use ferrotcp_io::device::DeviceKind;
use ferrotcp_io::tokio_net::TcpListener;
use ferrotcp_io::{Runtime, RuntimeConfig};
use tokio::io::AsyncWriteExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = std::env::args().nth(1).unwrap_or_else(|| "ftap0".into());
    let stack = StackConfig::new(MacAddr([0x02, 0, 0, 0, 0, 0x23]), "192.0.2.2".parse()?, 24)
        .with_seed(std::process::id().into());
    let rt = Runtime::start(RuntimeConfig {
        device,
        kind: DeviceKind::Tap,
        stack,
        pcap: None,
        impair: None,
        trace: false,
    })?;
    rt.set_default();
    let listener = TcpListener::bind("0.0.0.0:7").await?;
    loop {
        let (stream, peer) = listener.accept().await?;
        tokio::spawn(async move {
            let (mut r, mut w) = tokio::io::split(stream);
            let n = tokio::io::copy(&mut r, &mut w).await.unwrap_or(0);
            let _ = w.shutdown().await;
            println!("{peer}: echoed {n} bytes");
        });
    }
}
