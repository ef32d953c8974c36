//! Borrowed reads and writes (issue 8): `tcp_send_with` fills the send buffer in place and
//! `tcp_recv_with` lends the unread bytes, so an application that can work on them where they
//! lie (a parser, a checksum, a file write) skips a copy. They must carry the same stream as
//! `tcp_send`/`tcp_recv`, give the same end-of-stream and errors, and reopen the window.

mod stacks;

use ferrotcp::time::Duration;
use ferrotcp::{TcpConfig, TcpError};
use stacks::*;

fn byte(i: usize) -> u8 {
    (i * 31 % 253) as u8
}

#[test]
fn borrowed_io_carries_a_stream_larger_than_both_buffers_intact() {
    let mut p = pair(TcpConfig::default().with_fixed_buffers(16 * 1024));
    let (c, s) = establish(&mut p);
    let now = p.net.now();
    assert_eq!(
        p.server()
            .tcp_recv_with(now, s, |_| unreachable!("nothing there")),
        Err(TcpError::WouldBlock)
    );
    let len = 1 << 20;
    let (mut sent, mut got) = (0usize, Vec::with_capacity(len));
    let mut refused_once = false;
    // The reader stalls for a while first, so that the window closes and must reopen.
    let stall_until = now + Duration::from_millis(300);
    let mut filled = false;
    let deadline = now + Duration::from_secs(60);
    while got.len() < len {
        assert!(p.net.now() < deadline, "stuck at {} bytes", got.len());
        let now = p.net.now();
        while sent < len {
            let r = p.client().tcp_send_with(now, c, |room| {
                let n = room.len().min(len - sent);
                for (k, b) in room[..n].iter_mut().enumerate() {
                    *b = byte(sent + k);
                }
                n
            });
            match r {
                Ok(n) => sent += n,
                Err(TcpError::WouldBlock) => break,
                Err(e) => panic!("send_with: {e:?}"),
            }
        }
        p.net.step();
        let now = p.net.now();
        if now < stall_until {
            filled |= p.server().tcp_recv_queue(s) == Ok(16 * 1024);
            continue;
        }
        // Take nothing of what is lent the first time: it must all still be there.
        if !refused_once {
            refused_once = true;
            assert_eq!(
                p.server().tcp_recv_with(now, s, |_| 0),
                Err(TcpError::WouldBlock),
                "taking nothing is not the end of the stream"
            );
        }
        while let Ok(n) = p.server().tcp_recv_with(now, s, |bytes| {
            let take = bytes.len().min(3000);
            got.extend_from_slice(&bytes[..take]);
            take
        }) {
            assert!(n > 0, "end of stream before the close");
        }
    }
    assert!(
        filled,
        "the receive buffer never filled: the window was not exercised"
    );
    assert!(got.iter().enumerate().all(|(i, &b)| b == byte(i)));

    // End of stream reads as Ok(0), as tcp_recv does; a closed sender refuses borrowed writes.
    let now = p.net.now();
    p.client().tcp_shutdown(now, c).expect("shutdown");
    assert_eq!(
        p.client()
            .tcp_send_with(now, c, |_| unreachable!("closing")),
        Err(TcpError::Closing)
    );
    run_for(&mut p, Duration::from_millis(100));
    let now = p.net.now();
    assert_eq!(p.server().tcp_recv_with(now, s, |b| b.len()), Ok(0));
}
