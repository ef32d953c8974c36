//! ferrotcp's side: the ferrotcp-io runtime (its own thread) on the TAP device, and the
//! std-like blocking `TcpListener` / `TcpStream` on the calling thread. TCP settings are
//! ferrotcp's defaults (SACK, RACK, timestamps, Nagle on, delayed ACK 40 ms) but the
//! congestion control chosen for both stacks and, with `Buffers::Fixed`, the buffers, fixed
//! at 256 KiB like smoltcp's (by default, `Buffers::Large`, they grow to 4 and 6 MiB).

use std::io::{Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use ferrotcp::StackConfig;
use ferrotcp::transport::tcp::congestion::Algorithm;
use ferrotcp::wire::MacAddr;
use ferrotcp_bench::harness::Congestion;
use ferrotcp_bench::realnet::Watchdog;
use ferrotcp_io::device::DeviceKind;
use ferrotcp_io::net::{TcpListener, TcpStream};
use ferrotcp_io::{Runtime, RuntimeConfig};

use crate::{
    Buffers, CHUNK, CONNECT_LIMIT, EXIT_LIMIT, LINUX_ADDR, Net, Outcome, PORT_IN, PORT_OUT,
};
use crate::{STACK_ADDR, TRANSFER_LIMIT};

/// Both directions, Linux → ferrotcp first.
pub fn run(net: &Net, bytes: usize, cc: Congestion, buffers: Buffers) -> [Outcome; 2] {
    let figures = buffers.figures();
    let rt = match start(net, cc, buffers) {
        Ok(rt) => rt,
        Err(e) => return [Err(e.clone()), Err(e)],
    };
    let rx = linux_to_ferrotcp(&rt, net, bytes);
    net.print_counters("ferrotcp", figures[0]);
    let tx = ferrotcp_to_linux(&rt, net, bytes);
    net.print_counters("ferrotcp", figures[1]);
    rt.shutdown();
    [rx, tx]
}

fn start(net: &Net, cc: Congestion, buffers: Buffers) -> Result<Runtime, String> {
    let mut stack = StackConfig::new(MacAddr([2, 0, 0, 0, 0, 0x99]), STACK_ADDR, 24)
        .with_seed(std::process::id().into());
    match buffers {
        Buffers::Fixed => stack.tcp = stack.tcp.with_fixed_buffers(CHUNK),
        // ferrotcp's defaults are Linux's: 256 KiB, autotuned up to 4 and 6 MiB.
        Buffers::Large => {
            stack.tcp.max_send_buffer = crate::LARGE_SEND;
            stack.tcp.max_recv_buffer = crate::LARGE_RECV;
        }
    }
    stack.tcp.congestion = match cc {
        Congestion::Cubic => Algorithm::Cubic,
        Congestion::Reno => Algorithm::NewReno,
    };
    let rt = Runtime::start(RuntimeConfig {
        device: net.dev.clone(),
        kind: DeviceKind::Tap,
        stack,
        pcap: None,
        impair: None,
        trace: false,
    })
    .map_err(|e| format!("starting the runtime on {}: {e}", net.dev))?;
    if let Err(e) = net.attach() {
        rt.abort();
        return Err(e);
    }
    Ok(rt)
}

/// The kernel sends, ferrotcp reads and discards. Timed from `accept` to end of stream.
fn linux_to_ferrotcp(rt: &Runtime, net: &Net, bytes: usize) -> Outcome {
    let listener =
        TcpListener::bind_on(rt, ("0.0.0.0", PORT_IN)).map_err(|e| format!("listen: {e}"))?;
    let mut sender = net.linux_sender(bytes)?;
    let _dog = Watchdog::arm(rt, TRANSFER_LIMIT);
    let (mut s, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut buf = vec![0u8; CHUNK];
    let mut got = 0usize;
    loop {
        let n = s
            .read(&mut buf)
            .map_err(|e| format!("read after {got} of {bytes} bytes: {e}"))?;
        if n == 0 {
            break;
        }
        got += n;
    }
    let elapsed = start.elapsed();
    drop(s);
    let _ = sender.wait_for(EXIT_LIMIT);
    if got != bytes {
        return Err(format!("received {got} of {bytes} bytes"));
    }
    Ok(elapsed)
}

/// ferrotcp sends, the kernel discards; done when Linux has read it all and closed (so every
/// byte was acknowledged). Timed from the established connection to Linux's FIN.
fn ferrotcp_to_linux(rt: &Runtime, net: &Net, bytes: usize) -> Outcome {
    let mut receiver = net.linux_receiver()?;
    let _dog = Watchdog::arm(rt, TRANSFER_LIMIT);
    let end = Instant::now() + CONNECT_LIMIT;
    let mut s = loop {
        match TcpStream::connect_timeout_on(rt, (LINUX_ADDR, PORT_OUT), Some(CONNECT_LIMIT)) {
            Ok(c) => break c,
            Err(e) if Instant::now() >= end => return Err(format!("connect: {e}")),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    s.set_write_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let chunk = vec![0u8; CHUNK];
    let start = Instant::now();
    let mut sent = 0;
    while sent < bytes {
        let n = (bytes - sent).min(chunk.len());
        s.write_all(&chunk[..n])
            .map_err(|e| format!("write after {sent} of {bytes} bytes: {e}"))?;
        sent += n;
    }
    s.shutdown(Shutdown::Write)
        .map_err(|e| format!("shutdown: {e}"))?;
    let mut rest = Vec::new();
    s.read_to_end(&mut rest)
        .map_err(|e| format!("waiting for Linux's FIN: {e}"))?;
    let elapsed = start.elapsed();
    let _ = receiver.wait_for(EXIT_LIMIT);
    Ok(elapsed)
}
