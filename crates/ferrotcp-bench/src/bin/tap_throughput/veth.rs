//! The reference: Linux → Linux over a veth pair between two namespaces of its own, in the same
//! run as the TAP figures, so that "how fast is the kernel on this machine, now" sits beside
//! them. The sender is the same as for the stacks ([`crate::linux_sender`]); the receiver is a small Python
//! loop that times, like the stacks' receivers, from `accept` to end of stream. The veth keeps
//! its default offloads (a 64 KiB GSO packet crosses it as one): that is the kernel at its
//! best, which a user-space stack on TAP is measured against.

use std::time::{Duration, Instant};

use ferrotcp_bench::realnet::{Netns, Proc};

use crate::{EXIT_LIMIT, Outcome, PORT_IN, TRANSFER_LIMIT};

const RECEIVER: &str = "\
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('192.0.2.2', PORT))
s.listen(1)
print('listening', flush=True)
c, _ = s.accept()
t = time.monotonic()
b = bytearray(1 << 20)
n = 0
while True:
    k = c.recv_into(b)
    if not k:
        break
    n += k
print(n, time.monotonic() - t, flush=True)
";

/// One Linux → Linux transfer of `bytes`; the namespaces (and the veth) are deleted on return.
pub fn run(run: u32, bytes: usize) -> Outcome {
    let pid = std::process::id();
    let tx_ns = Netns::create(format!("tapbench-{pid}-vs{run}"))?;
    let rx_ns = Netns::create(format!("tapbench-{pid}-vr{run}"))?;
    for ns in [&tx_ns, &rx_ns] {
        ns.ip(&["link", "set", "lo", "up"])?;
    }
    tx_ns.ip(&[
        "link",
        "add",
        "vref0",
        "type",
        "veth",
        "peer",
        "name",
        "vref1",
        "netns",
        rx_ns.name(),
    ])?;
    tx_ns.ip(&["addr", "add", "192.0.2.1/24", "dev", "vref0"])?;
    rx_ns.ip(&["addr", "add", "192.0.2.2/24", "dev", "vref1"])?;
    tx_ns.ip(&["link", "set", "vref0", "up"])?;
    rx_ns.ip(&["link", "set", "vref1", "up"])?;

    let script = RECEIVER.replace("PORT", &PORT_IN.to_string());
    let mut receiver = Proc::exec_captured(rx_ns.name(), "python3", &["-c", &script])?;
    let ready = Instant::now() + Duration::from_secs(10);
    if receiver.next_line(ready).as_deref() != Some("listening") {
        return Err("the Linux receiver did not start listening".into());
    }
    let mut sender = crate::linux_sender(&tx_ns, bytes)?;
    let line = receiver
        .next_line(Instant::now() + TRANSFER_LIMIT)
        .ok_or("the Linux receiver reported nothing")?;
    let _ = sender.wait_for(EXIT_LIMIT);
    let mut fields = line.split_whitespace();
    let got: usize = fields
        .next()
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| format!("unexpected receiver output {line:?}"))?;
    let secs: f64 = fields
        .next()
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| format!("unexpected receiver output {line:?}"))?;
    if got != bytes {
        return Err(format!("received {got} of {bytes} bytes"));
    }
    Ok(Duration::from_secs_f64(secs))
}
