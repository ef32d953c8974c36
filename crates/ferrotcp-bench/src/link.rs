//! The in-memory "wire" both stacks use: two one-way frame queues, nothing else.
//!
//! Frames are moved, never copied, between the queues; a driver step empties a queue into the
//! receiving stack. No loss, no reordering, no delay beyond one driver step.

use std::collections::VecDeque;

use core::net::Ipv4Addr;

pub const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
pub const SERVER_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
pub const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
pub const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
pub const PREFIX_LEN: u8 = 24;
/// IP MTU; Ethernet frames are at most 14 bytes longer.
pub const IP_MTU: usize = 1500;
pub const ETH_HEADER: usize = 14;

/// Spare frame buffers kept for reuse (ferrotcp keeps at most 256 too).
pub const POOL_LIMIT: usize = 256;

/// The two directions of the link.
#[derive(Default)]
pub struct Link {
    pub client_to_server: VecDeque<Vec<u8>>,
    pub server_to_client: VecDeque<Vec<u8>>,
    /// Frames carried, for context lines and leak/loop checks.
    pub frames: u64,
}

impl Link {
    pub fn is_empty(&self) -> bool {
        self.client_to_server.is_empty() && self.server_to_client.is_empty()
    }
}
