//! The tokio API against the Linux kernel: `accept().await`, `tokio::io::copy` through a split
//! stream with half-close, and `connect().await` with `copy_bidirectional`-style use.

mod common;

use std::time::Duration;

use common::{Net, can_run};
use ferrotcp_io::tokio_net::{TcpListener, TcpStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn tokio_echo_server_serves_linux_nc() {
    if !can_run() {
        return;
    }
    let net = Net::start();
    let rt = net.rt.clone();
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let server = tokio_rt.spawn(async move {
        let listener = TcpListener::bind_on(&rt, "0.0.0.0:7").await.expect("bind");
        let (stream, _) = listener.accept().await.expect("accept");
        let (mut r, mut w) = tokio::io::split(stream);
        let n = tokio::io::copy(&mut r, &mut w).await.expect("copy");
        w.shutdown().await.expect("half-close");
        n
    });
    let out = net.sh(
        "head -c 2000000 /dev/urandom > /tmp/ftio-t.$$ && nc -N -w 20 192.0.2.2 7 < /tmp/ftio-t.$$ > /tmp/ftio-u.$$; \
         cmp /tmp/ftio-t.$$ /tmp/ftio-u.$$; r=$?; rm -f /tmp/ftio-t.$$ /tmp/ftio-u.$$; exit $r",
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "echo differs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copied =
        tokio_rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), server).await });
    assert_eq!(copied.expect("in time").expect("task"), 2_000_000);
}

#[test]
fn tokio_client_half_closes_and_reads_the_reply() {
    if !can_run() {
        return;
    }
    let net = Net::start();
    let ns = net.ns.clone();
    let linux = std::thread::spawn(move || {
        std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns,
                "timeout",
                "30",
                "socat",
                "TCP-LISTEN:5001,bind=192.0.2.1,reuseaddr",
                "SYSTEM:wc -c",
            ])
            .output()
    });
    let rt = net.rt.clone();
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let reply = tokio_rt.block_on(async move {
        let mut stream = None;
        for _ in 0..100 {
            match TcpStream::connect_on(&rt, "192.0.2.1:5001").await {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                Err(e) => panic!("connect: {e}"),
            }
        }
        let mut s = stream.expect("socat listened");
        s.write_all(&[1u8; 123_456]).await.expect("write");
        s.shutdown().await.expect("half-close");
        let mut reply = String::new();
        tokio::time::timeout(Duration::from_secs(20), s.read_to_string(&mut reply))
            .await
            .expect("in time")
            .expect("read");
        reply
    });
    assert_eq!(reply.trim(), "123456");
    let _ = linux.join();
}
