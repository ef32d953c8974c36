//! Linux's counters inside a namespace.

use std::process::Command;

/// Absolute values of Linux's SNMP/netstat counters `names` in namespace `ns` (`nstat -asz`:
/// absolute, history not updated, zeros included); a counter that cannot be read is 0.
pub fn nstat(ns: &str, names: &[&str]) -> Vec<u64> {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "nstat", "-asz"])
        .args(names)
        .output();
    let text = match out {
        Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
        Err(_) => String::new(),
    };
    names.iter().map(|n| field(&text, n)).collect()
}

/// `/sys/class/net/DEV/statistics/STAT` of a device in namespace `ns` (`ip netns exec`
/// mounts that namespace's sysfs), 0 if unreadable.
pub fn dev_stat(ns: &str, dev: &str, stat: &str) -> u64 {
    Command::new("ip")
        .args(["netns", "exec", ns, "cat"])
        .arg(format!("/sys/class/net/{dev}/statistics/{stat}"))
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(0)
}

/// The value after `name` in `name value ...` lines.
fn field(text: &str, name: &str) -> u64 {
    text.lines()
        .map(|l| l.split_whitespace())
        .find_map(|mut f| (f.next() == Some(name)).then(|| f.next()).flatten())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
