//! The command line says clearly what is wrong and exits non-zero; none of this needs root.

use std::process::Command;

fn ferrotcp(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ferrotcp"))
        .args(args)
        .output()
        .expect("run ferrotcp");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn invalid_device_name_is_explained() {
    let (code, err) = ferrotcp(&[
        "serve",
        "--tap",
        "bad/name",
        "--ip",
        "192.0.2.2/24",
        "--echo",
        "7",
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("invalid network device name") && err.contains("bad/name"),
        "{err}"
    );
}

#[test]
fn serve_without_services_is_a_usage_error() {
    let (code, err) = ferrotcp(&["serve", "--tap", "x", "--ip", "192.0.2.2/24"]);
    assert_eq!(code, 2);
    assert!(err.contains("nothing to serve"), "{err}");
}

#[test]
fn bad_urls_and_addresses_are_rejected_before_touching_a_device() {
    let (code, err) = ferrotcp(&[
        "get",
        "ftp://192.0.2.1/x",
        "--tap",
        "x",
        "--ip",
        "192.0.2.2/24",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("only http://"), "{err}");
    let (code, err) = ferrotcp(&["serve", "--tap", "x", "--ip", "192.0.2.2/33", "--echo", "7"]);
    assert_eq!(code, 2);
    assert!(err.contains("prefix 33"), "{err}");
    let (code, _) = ferrotcp(&[
        "serve",
        "--tap",
        "x",
        "--tun",
        "y",
        "--ip",
        "192.0.2.2/24",
        "--echo",
        "7",
    ]);
    assert_eq!(code, 2, "--tap and --tun exclude each other");
}

#[test]
fn demo_reports_success_and_exits_zero() {
    let out = Command::new(env!("CARGO_BIN_EXE_ferrotcp"))
        .args(["demo", "--bytes", "20000", "--loss", "5", "--seed", "9"])
        .output()
        .expect("demo");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("result: OK"), "{text}");
    assert!(
        text.contains("TIME-WAIT"),
        "the client's states include TIME-WAIT: {text}"
    );
}
