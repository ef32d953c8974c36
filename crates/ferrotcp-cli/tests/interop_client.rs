//! ferrotcp → Linux: `ferrotcp get` and `ferrotcp connect` against Linux servers (python's
//! http.server, socat) in a namespace each test makes and deletes (addresses 192.0.2.0/24).
//!
//! The link is a persistent TAP made with `ip tuntap add` and configured before ferrotcp runs
//! (see [`common::Link`]): the Linux server binds 192.0.2.1 first and ferrotcp attaches to the
//! existing device by name.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// `python3 -m http.server PORT --bind 192.0.2.1 --directory DIR` inside the link's namespace.
fn python_http(link: &Link, dir: &TempDir, port: u16) -> Proc {
    let mut py = link.ns.cmd("python3");
    py.args([
        "-m",
        "http.server",
        &port.to_string(),
        "--bind",
        LINUX_IP,
        "--directory",
    ])
    .arg(&dir.path);
    let p = Proc::spawn(py);
    wait_listening(&link.ns, port, Duration::from_secs(10));
    p
}

#[test]
fn get_downloads_10_mib_from_python_http_server() {
    if !can_run(&["python3", "sha256sum", "ss"]) {
        return;
    }
    let link = Link::new("tap");
    let dir = TempDir::new("pyhttp");
    let data = pattern(11, 10 << 20);
    std::fs::write(dir.path.join("file.bin"), &data).expect("write");
    let _server = python_http(&link, &dir, 8000);
    let out_path = dir.path.join("got.bin");
    let started = Instant::now();
    let out = sh_in(
        &link.ns,
        &format!(
            "exec {} get http://{LINUX_IP}:8000/file.bin -o {} {}",
            ferrotcp_bin(),
            out_path.display(),
            link.link_args()
        ),
        Duration::from_secs(60),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ferrotcp get failed: {err}");
    assert!(err.contains("200 OK, 10485760 bytes"), "{err}");
    let got = std::fs::read(&out_path).expect("downloaded file");
    assert_eq!(got.len(), data.len());
    assert_eq!(sha256(&got), sha256(&data));
    eprintln!("10 MiB from python in {:?}", started.elapsed());
}

#[test]
fn connect_echoes_1_mib_through_linux_socat_and_half_close_ends_it() {
    if !can_run(&["socat"]) {
        return;
    }
    let link = Link::new("tap");
    let dir = TempDir::new("echo");
    let data = pattern(12, 1 << 20);
    let inp = dir.path.join("in.bin");
    let outp = dir.path.join("out.bin");
    std::fs::write(&inp, &data).expect("write");
    // A plain echo: `cat` behind socat. Our FIN (end of stdin) reaches cat as end of input;
    // cat ends, socat sends the rest and its FIN, and only that ends `ferrotcp connect`.
    let mut socat = link.ns.cmd("socat");
    socat.args([
        "-t",
        "30",
        &format!("TCP-LISTEN:7,bind={LINUX_IP},reuseaddr"),
        "EXEC:cat",
    ]);
    let _server = Proc::spawn(socat);
    wait_listening(&link.ns, 7, Duration::from_secs(10));
    let out = sh_in(
        &link.ns,
        &format!(
            "exec {} connect {LINUX_IP}:7 {} < {} > {}",
            ferrotcp_bin(),
            link.link_args(),
            inp.display(),
            outp.display()
        ),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "ferrotcp connect: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = std::fs::read(&outp).expect("echo output");
    assert_eq!(got.len(), data.len(), "echo length");
    assert!(got == data, "the echo differs from what was sent");
}

#[test]
fn connect_to_a_closed_linux_port_is_refused_at_once() {
    if !can_run(&[]) {
        return;
    }
    let link = Link::new("tap");
    let started = Instant::now();
    let out = sh_in(
        &link.ns,
        &format!(
            "exec {} connect {LINUX_IP}:9 {} < /dev/null",
            ferrotcp_bin(),
            link.link_args()
        ),
        Duration::from_secs(30),
    );
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "connect to a closed port succeeded: {err}"
    );
    assert!(err.contains("ConnectionRefused"), "{err}");
    assert!(
        took < Duration::from_secs(3),
        "refused only after {took:?}: {err}"
    );
}
