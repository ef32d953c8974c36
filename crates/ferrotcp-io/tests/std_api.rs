//! The std-like API against the Linux kernel: a blocking echo server that Linux's nc talks to,
//! a blocking client against a Linux server, and the error kinds std::net code expects.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::time::Duration;

use common::{Net, can_run};
use ferrotcp_io::net::{TcpListener, TcpStream, UdpSocket};

#[test]
fn linux_nc_round_trips_through_a_blocking_echo_server() {
    if !can_run() {
        return;
    }
    let net = Net::start();
    let listener = TcpListener::bind_on(&net.rt, "0.0.0.0:7").expect("bind");
    assert_eq!(
        listener.local_addr().expect("addr").to_string(),
        "192.0.2.2:7"
    );
    let server = std::thread::spawn(move || {
        let (mut s, peer) = listener.accept().expect("accept");
        assert_eq!(peer.ip().to_string(), "192.0.2.1");
        let mut buf = vec![0u8; 8192];
        loop {
            let n = s.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            s.write_all(&buf[..n]).expect("write");
        }
        s.shutdown(Shutdown::Write).expect("shutdown");
    });
    let out = net.sh(
        "head -c 1000000 /dev/urandom > /tmp/ftio-in.$$ && nc -N -w 20 192.0.2.2 7 < /tmp/ftio-in.$$ > /tmp/ftio-out.$$; \
         cmp /tmp/ftio-in.$$ /tmp/ftio-out.$$; r=$?; rm -f /tmp/ftio-in.$$ /tmp/ftio-out.$$; exit $r",
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "echo differs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.join().expect("server thread");
    // Receive offload (issue 8): Linux handed over segments of several MSS in one frame, and
    // the echo above shows they were taken apart correctly.
    assert!(net.rt.receive_offload(), "this kernel takes TUNSETOFFLOAD");
    let report = net.rt.shutdown();
    assert!(
        report.coalesced_frames_in > 0,
        "Linux sent 1 MB in MTU-sized frames only: {report:?}"
    );
    assert_eq!(report.bad_frames_in, 0, "{report:?}");
    // Transmit offload: the echo went back as super-segments that Linux cut (or took whole),
    // and `cmp` above shows every byte arrived.
    assert!(
        report.super_segments_out > 0,
        "the echo went out one MSS per frame: {report:?}"
    );
    // Linux's segments came with NEEDS_CSUM: the stack trusted them, as Linux does.
    assert!(report.checksum_trusted_in > 0, "{report:?}");
}

#[test]
fn blocking_client_reads_a_linux_reply_after_half_closing() {
    if !can_run() {
        return;
    }
    let net = Net::start();
    // Linux counts what it received and answers only after our FIN.
    let ns = net.ns.clone();
    let server = std::thread::spawn(move || {
        std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns,
                "timeout",
                "30",
                "socat",
                "TCP-LISTEN:5000,bind=192.0.2.1,reuseaddr",
                "SYSTEM:wc -c",
            ])
            .output()
            .expect("socat")
    });
    let mut s = None;
    for _ in 0..100 {
        match TcpStream::connect_on(&net.rt, "192.0.2.1:5000") {
            Ok(c) => {
                s = Some(c);
                break;
            }
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(e) => panic!("connect: {e}"),
        }
    }
    let mut s = s.expect("socat never listened");
    s.write_all(&[7u8; 300_000]).expect("write");
    s.shutdown(Shutdown::Write).expect("half-close");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("read reply");
    assert_eq!(reply.trim(), "300000");
    server.join().expect("socat thread");
}

#[test]
fn errors_have_the_kinds_std_net_uses() {
    if !can_run() {
        return;
    }
    let net = Net::start();
    let e = TcpStream::connect_on(&net.rt, "192.0.2.1:9")
        .err()
        .expect("nobody listens on 9");
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
    let l = TcpListener::bind_on(&net.rt, "0.0.0.0:80").expect("bind");
    let e = TcpListener::bind_on(&net.rt, "0.0.0.0:80")
        .err()
        .expect("second bind");
    assert_eq!(e.kind(), ErrorKind::AddrInUse);
    let e = TcpListener::bind_on(&net.rt, "192.0.2.77:81")
        .err()
        .expect("not our address");
    assert_eq!(e.kind(), ErrorKind::AddrNotAvailable);
    drop(l);
    let e = TcpStream::connect_on(&net.rt, "198.51.100.1:80")
        .err()
        .expect("no route");
    assert_eq!(e.kind(), ErrorKind::NetworkUnreachable);
    let (mut s, client) = {
        let l = TcpListener::bind_on(&net.rt, "0.0.0.0:82").expect("bind");
        let ns = net.ns.clone();
        let t = std::thread::spawn(move || {
            std::process::Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &ns,
                    "sh",
                    "-c",
                    "sleep 1 | nc -w 3 192.0.2.2 82",
                ])
                .output()
        });
        let (s, _) = l.accept().expect("accept");
        (s, t)
    };
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let mut buf = [0u8; 4];
    let e = s.read(&mut buf).expect_err("nothing to read yet");
    assert_eq!(
        e.kind(),
        ErrorKind::WouldBlock,
        "read timeouts report WouldBlock, as std does on Unix"
    );
    let _ = client.join();
}

#[test]
fn udp_echo_with_linux_socat() {
    if !can_run() {
        return;
    }
    let net = Net::start();
    let ns = net.ns.clone();
    let server = std::thread::spawn(move || {
        std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns,
                "timeout",
                "10",
                "socat",
                "UDP-RECVFROM:6000,bind=192.0.2.1",
                "EXEC:cat",
            ])
            .output()
    });
    let mut sock = UdpSocket::bind_on(&net.rt, "0.0.0.0:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut buf = [0u8; 64];
    let mut answered = None;
    for _ in 0..30 {
        sock.send_to(b"ferrotcp udp", "192.0.2.1:6000")
            .expect("send");
        if let Ok((n, from)) = sock.recv_from(&mut buf) {
            answered = Some((buf[..n].to_vec(), from));
            break;
        }
    }
    let (data, from) = answered.expect("socat echoed the datagram");
    assert_eq!(data, b"ferrotcp udp");
    assert_eq!(from.to_string(), "192.0.2.1:6000");
    let _ = server.join();
}
