//! `--trace`: a live ladder on standard error. Each TCP segment is an arrow between ferrotcp
//! (left) and its peer (right), and each state change is printed on ferrotcp's side.

use std::fmt::Write;

use ferrotcp::Medium;
use ferrotcp::time::Instant;
use ferrotcp::trace::{TcpState, TraceEvent};
use ferrotcp::wire::{EtherType, EthernetRepr, IpProtocol, Ipv4Repr, TcpRepr};

/// Which way a frame went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

/// One ladder line for a frame carrying TCP, or `None` for anything else.
pub fn segment_line(now: Instant, medium: Medium, dir: Direction, frame: &[u8]) -> Option<String> {
    let packet = match medium {
        Medium::Ethernet => {
            let (eth, p) = EthernetRepr::parse(frame).ok()?;
            if eth.ethertype != EtherType::Ipv4 {
                return None;
            }
            p
        }
        Medium::Ip => frame,
    };
    let (ip, payload) = Ipv4Repr::parse(packet).ok()?;
    if ip.protocol != IpProtocol::Tcp {
        return None;
    }
    let (tcp, data) = TcpRepr::parse(payload, ip.src, ip.dst, false).ok()?;
    let mut label = format!("{} seq={}", tcp.flags, tcp.seq);
    if tcp.flags.ack() {
        let _ = write!(label, " ack={}", tcp.ack);
    }
    let _ = write!(label, " win={} len={}", tcp.window, data.len());
    let (arrow, peer) = match dir {
        Direction::Out => (
            format!("|-- {label} -->"),
            format!("{}:{}", ip.dst, tcp.dst_port),
        ),
        Direction::In => (
            format!("|<-- {label} --"),
            format!("{}:{}", ip.src, tcp.src_port),
        ),
    };
    let port = if dir == Direction::Out {
        tcp.src_port
    } else {
        tcp.dst_port
    };
    Some(format!(
        "{:>12} {:>5} {arrow:<64} {peer}",
        now.to_string(),
        port
    ))
}

/// One line for a state change of a connection.
pub fn state_line(now: Instant, event: &TraceEvent) -> Option<String> {
    match event {
        TraceEvent::TcpState {
            local,
            remote,
            from,
            to,
        } => Some(format!(
            "{:>12} {:>5} {:<64} {remote}{}",
            now.to_string(),
            local.port(),
            format!("[{from} -> {to}]"),
            if *to == TcpState::TimeWait {
                "  (2*MSL timer started)"
            } else {
                ""
            }
        )),
        TraceEvent::TcpTimer { .. } | TraceEvent::Dropped { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrotcp::seq::SeqNum;
    use ferrotcp::wire::{TcpFlags, TcpOptions};

    #[test]
    fn a_syn_is_drawn_as_an_outgoing_arrow() {
        let src = "192.0.2.2".parse().expect("ip");
        let dst = "192.0.2.1".parse().expect("ip");
        let tcp = TcpRepr {
            src_port: 40000,
            dst_port: 80,
            seq: SeqNum(1000),
            ack: SeqNum(0),
            flags: TcpFlags::SYN,
            window: 65535,
            urgent: 0,
            options: TcpOptions::default(),
        };
        let mut packet = vec![0u8; 20 + tcp.header_len()];
        Ipv4Repr {
            src,
            dst,
            protocol: IpProtocol::Tcp,
            payload_len: tcp.header_len(),
            ttl: 64,
            ident: 0,
            dont_fragment: true,
            dscp_ecn: 0,
        }
        .emit(&mut packet[..20]);
        tcp.emit(&mut packet[20..], src, dst);
        let line = segment_line(Instant::from_millis(5), Medium::Ip, Direction::Out, &packet)
            .expect("a TCP segment");
        assert!(
            line.contains("|-- SYN seq=1000 win=65535 len=0 -->"),
            "{line}"
        );
        assert!(line.ends_with("192.0.2.1:80"), "{line}");
    }
}
