//! Host-wide counters: every dropped input is counted by reason.

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StackStats {
    pub frames_in: u64,
    pub frames_out: u64,
    /// Frames out that were TCP super-segments for the device to cut (segmentation offload).
    pub super_segments_out: u64,
    pub malformed: u64,
    pub bad_checksum: u64,
    pub not_for_us: u64,
    pub unknown_protocol: u64,
    pub fragments_dropped: u64,
    pub no_route: u64,
    pub arp_queue_full: u64,
    pub arp_failed_drops: u64,
    pub arp_requests_sent: u64,
    pub arp_replies_sent: u64,
    pub icmp_echo_replies: u64,
    pub icmp_errors_sent: u64,
    pub icmp_rate_limited: u64,
    pub icmp_received: u64,
    pub tcp_segments_in: u64,
    /// Segments that reached TCP joined to the one before them (software GRO,
    /// `Stack::receive_batch`).
    pub tcp_segments_coalesced: u64,
    pub tcp_no_socket: u64,
    pub tcp_rst_sent: u64,
    pub tcp_listen_overflow: u64,
    pub tcp_dropped: u64,
    pub udp_datagrams_in: u64,
    pub udp_no_socket: u64,
    pub udp_queue_full: u64,
}
