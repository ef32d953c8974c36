//! `ferrotcp serve` on a TUN device (raw IP packets, no Ethernet, no ARP): Linux's ping and
//! curl, in a namespace the test makes and deletes (addresses 192.0.2.0/24).

mod common;

use std::time::Duration;

use common::*;

#[test]
fn tun_ping_is_answered_and_curl_1_mib_is_intact() {
    if !can_run(&["ping", "curl", "sha256sum"]) {
        return;
    }
    let data = pattern(61, 1 << 20);
    let s = serve_tun(&[("one.bin", &data)], &[]);
    let kind = run_bounded(
        {
            let mut c = s.ns.cmd("ip");
            c.args(["-d", "link", "show", &s.dev]);
            c
        },
        Duration::from_secs(5),
    );
    let kind = String::from_utf8_lossy(&kind.stdout);
    assert!(kind.contains("tun type tun"), "not a TUN device: {kind}");

    let out = sh_in(
        &s.ns,
        &format!("ping -c 3 -i 0.2 -W 2 {FERRO_IP}"),
        Duration::from_secs(20),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "ping failed: {text}");
    assert!(text.contains("3 received"), "{text}");

    let out_path = s.dir.path.join("got.bin");
    let out = sh_in(
        &s.ns,
        &format!(
            "curl -sS --max-time 30 -o {} http://{FERRO_IP}/one.bin",
            out_path.display()
        ),
        Duration::from_secs(40),
    );
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = std::fs::read(&out_path).expect("downloaded file");
    assert_eq!(got.len(), data.len());
    assert_eq!(sha256(&got), sha256(&data));
}
