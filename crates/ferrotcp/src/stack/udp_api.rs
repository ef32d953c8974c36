//! UDP sockets: bind, send_to, recv_from.

use core::net::SocketAddrV4;

use super::Stack;
use crate::time::Instant;
use crate::transport::udp::{UdpError, UdpHandle};
use crate::wire::{IpProtocol, UdpRepr};

impl Stack {
    /// Binds `port` (0 picks an ephemeral port).
    pub fn udp_bind(&mut self, port: u16) -> Result<UdpHandle, UdpError> {
        self.udp.bind(port)
    }

    pub fn udp_close(&mut self, h: UdpHandle) -> Result<(), UdpError> {
        self.udp.close(h)
    }

    pub fn udp_local_port(&self, h: UdpHandle) -> Result<u16, UdpError> {
        self.udp.local_port(h)
    }

    /// Sends one datagram (it waits for ARP resolution if needed).
    pub fn udp_send_to(
        &mut self,
        now: Instant,
        h: UdpHandle,
        dst: SocketAddrV4,
        data: &[u8],
    ) -> Result<(), UdpError> {
        let src_port = self.udp.check_send_len(h, data.len())?;
        let repr = UdpRepr {
            src_port,
            dst_port: dst.port(),
        };
        let (src_ip, dst_ip) = (self.config.ipv4, *dst.ip());
        let len = UdpRepr::HEADER_LEN + data.len();
        self.send_ipv4(now, dst_ip, IpProtocol::Udp, len, |buf| {
            buf[UdpRepr::HEADER_LEN..].copy_from_slice(data);
            repr.emit(buf, src_ip, dst_ip);
        });
        Ok(())
    }

    /// Sends an ICMP echo request (ping); the answer comes back as [`Event::EchoReply`].
    pub fn icmp_echo_request(
        &mut self,
        now: Instant,
        dst: core::net::Ipv4Addr,
        ident: u16,
        seq_no: u16,
        data: &[u8],
    ) {
        let req = crate::wire::Icmpv4Repr::EchoRequest {
            ident,
            seq_no,
            data,
        };
        let len = req.buffer_len();
        self.send_ipv4(now, dst, IpProtocol::Icmp, len, |buf| req.emit(buf));
    }

    /// The next datagram: (bytes copied, sender). Longer datagrams are truncated to `buf`.
    pub fn udp_recv_from(
        &mut self,
        h: UdpHandle,
        buf: &mut [u8],
    ) -> Result<(usize, SocketAddrV4), UdpError> {
        self.udp.recv_from(h, buf)
    }
}
