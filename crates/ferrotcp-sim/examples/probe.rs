use ferrotcp::time::{Duration, Instant};
use ferrotcp::{Event, TcpConfig};
use ferrotcp_sim::ladder::{LadderOptions, render};
use ferrotcp_sim::ladder_trace::ladder_items;
use ferrotcp_sim::{Impairments, LinkConfig, Pair};

fn main() {
    let link = LinkConfig::symmetric(Impairments {
        delay: Duration::from_millis(10),
        ..Impairments::default()
    });
    let mut p = Pair::new(1, link, TcpConfig::default(), true);
    let l = p.server().tcp_listen(80, 8).unwrap();
    let c = p
        .client()
        .tcp_connect(Instant::ZERO, Pair::server_addr(80), None)
        .unwrap();
    p.net.run_until(Instant::from_millis(100));
    let s = p.server().tcp_accept(l).unwrap().unwrap();
    let now = p.net.now();
    p.client().tcp_send(now, c, b"hello").unwrap();
    p.net.run_until(Instant::from_millis(200));
    let mut buf = [0u8; 100];
    let now = p.net.now();
    let n = p.server().tcp_recv(now, s, &mut buf).unwrap();
    println!("server got {:?}", std::str::from_utf8(&buf[..n]));
    p.client().tcp_shutdown(now, c).unwrap();
    p.net.run_until(Instant::from_millis(300));
    let now = p.net.now();
    p.server().tcp_send(now, s, b"bye").unwrap();
    p.server().tcp_close(now, s).unwrap();
    p.net.run_until(Instant::from_secs(100));
    while let Some(e) = p.client().poll_event() {
        println!("client {e:?}");
    }
    while let Some(e) = p.server().poll_event() {
        println!("server {e:?}");
    }
    let items = ladder_items(
        p.net.trace(),
        p.client,
        p.server,
        ferrotcp_sim::ladder_trace::SeqDisplay::Relative,
    );
    print!(
        "{}",
        render(
            &items,
            &LadderOptions {
                width: 120,
                ..LadderOptions::default()
            }
        )
    );
    println!(
        "conns {} {}",
        p.client().tcp_connection_count(),
        p.server().tcp_connection_count()
    );
}
