//! The machine the bench runs on: privileges, tools, and context for the report.

use std::process::{Command, Stdio};

/// Fails with a clear message unless we are root and every tool in `tools` runs
/// (`TOOL --version` or `TOOL -V`), and `/dev/net/tun` exists if `tun` is set.
pub fn check_privileges(tools: &[&str], tun: bool) -> Result<(), String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("reading /proc/self/status: {e}"))?;
    // "Uid: real effective saved fs": the effective one decides.
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .ok_or("no Uid line in /proc/self/status")?;
    if euid != "0" {
        return Err(format!(
            "this bench creates network namespaces, veth and TAP devices and nftables rules: \
             run it as root (effective uid is {euid}), e.g. `sudo -E cargo run --release ...`"
        ));
    }
    for tool in tools {
        let runs = ["--version", "-V"].iter().any(|flag| {
            Command::new(tool)
                .arg(flag)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
        if !runs {
            return Err(format!(
                "`{tool}` is missing or does not run: install it (Debian/Ubuntu: iproute2 for \
                 `ip` and `nstat`, nftables for `nft`)"
            ));
        }
    }
    if tun && !std::path::Path::new("/dev/net/tun").exists() {
        return Err("/dev/net/tun is missing: load the TUN/TAP driver (`modprobe tun`)".into());
    }
    Ok(())
}

/// `/proc/loadavg` (other work on the machine skews timings).
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The kernel release (`uname -r`).
pub fn uname() -> String {
    Command::new("uname")
        .arg("-r")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
