//! ferrotcp's endpoint: the ferrotcp-io runtime on a TAP device moved into R, with the
//! std-like blocking sockets on the calling thread. Default `StackConfig` and `TcpConfig`
//! (nothing tuned), IP MTU 1500 (the TAP device's), a seed given per run.

use std::io::Read;
use std::net::{Shutdown, SocketAddrV4};
use std::time::{Duration, Instant};

use ferrotcp::StackConfig;
use ferrotcp::transport::tcp::TcpStats;
use ferrotcp::wire::MacAddr;
use ferrotcp_bench::pattern::{Pattern, Verifier};
use ferrotcp_bench::realnet::Watchdog;
use ferrotcp_io::device::DeviceKind;
use ferrotcp_io::net::{TcpListener, TcpStream};
use ferrotcp_io::{Runtime, RuntimeConfig};

use crate::CHUNK;
use crate::topology::{FERRO_ADDR, FERRO_GATEWAY, FERRO_PREFIX, Topology};

/// A running ferrotcp host; its runtime is shut down on drop, which closes (and so deletes)
/// the TAP device.
pub struct FerroHost {
    rt: Runtime,
    pub dev: String,
}

impl FerroHost {
    pub fn start(topo: &Topology, dev: String, seed: u64) -> Result<FerroHost, String> {
        let stack = StackConfig::new(MacAddr([2, 0, 0, 0, 0, 0x99]), FERRO_ADDR, FERRO_PREFIX)
            .with_gateway(FERRO_GATEWAY)
            .with_seed(seed);
        let rt = Runtime::start(RuntimeConfig {
            device: dev.clone(),
            kind: DeviceKind::Tap,
            stack,
            pcap: None,
            impair: None,
            trace: false,
        })
        .map_err(|e| format!("starting ferrotcp's runtime on {dev}: {e}"))?;
        let host = FerroHost { rt, dev };
        topo.attach_tap(&host.dev)?;
        Ok(host)
    }

    /// Sends `bytes` of the pattern to `to`, half-closes, and waits for the receiver's close
    /// (so every byte was delivered). Returns the connection's counters and the time from
    /// the established connection to the receiver's close.
    pub fn send(
        &self,
        to: SocketAddrV4,
        bytes: u64,
        pattern: &Pattern,
        limit: Duration,
    ) -> Result<(TcpStats, Duration), String> {
        let _dog = Watchdog::arm(&self.rt, limit);
        let give_up = Instant::now() + Duration::from_secs(5);
        let mut s = loop {
            match TcpStream::connect_timeout_on(&self.rt, to, Some(limit)) {
                Ok(s) => break s,
                Err(e) if Instant::now() >= give_up => return Err(format!("connect {to}: {e}")),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        let start = Instant::now();
        pattern.write_all(&mut s, bytes)?;
        s.shutdown(Shutdown::Write)
            .map_err(|e| format!("shutdown: {e}"))?;
        let mut rest = Vec::new();
        s.read_to_end(&mut rest)
            .map_err(|e| format!("waiting for the receiver's close: {e}"))?;
        let elapsed = start.elapsed();
        let stats = s.stats().map_err(|e| format!("stats: {e}"))?;
        Ok((stats, elapsed))
    }

    /// Listens on `port`, calls `start_sender` (which starts the Linux sender), accepts one
    /// connection and reads and checks everything until end of stream. Returns the time from
    /// `accept` to end of stream, the counters and what `start_sender` returned.
    pub fn receive<P>(
        &self,
        port: u16,
        bytes: u64,
        pattern: &Pattern,
        limit: Duration,
        start_sender: impl FnOnce() -> Result<P, String>,
    ) -> Result<(Duration, TcpStats, P), String> {
        let listener = TcpListener::bind_on(&self.rt, (FERRO_ADDR, port))
            .map_err(|e| format!("listen: {e}"))?;
        let sender = start_sender()?;
        let _dog = Watchdog::arm(&self.rt, limit);
        let (mut s, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
        let elapsed = Verifier::read_all(&mut s, pattern, bytes, CHUNK)?;
        let stats = s.stats().map_err(|e| format!("stats: {e}"))?;
        drop(s);
        Ok((elapsed, stats, sender))
    }
}

impl Drop for FerroHost {
    fn drop(&mut self) {
        // Graceful (bounded by the runtime's 5 s grace): a FIN still in flight through the
        // lossy path gets its chance, then the device goes away.
        self.rt.shutdown();
    }
}

/// ferrotcp's loss-recovery counters, for the per-run line.
pub fn describe(stats: &TcpStats) -> String {
    format!(
        "ferrotcp: segments_sent={} retransmissions={} timeouts={} fast_retransmits={} srtt={} us rto={} us",
        stats.segments_sent,
        stats.retransmissions,
        stats.timeouts,
        stats.fast_retransmits,
        stats.srtt_micros,
        stats.rto_micros
    )
}
