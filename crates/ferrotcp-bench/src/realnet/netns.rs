//! A network namespace owned by the bench, deleted on drop, and the `ip` command.

use std::fmt;
use std::process::Command;

/// A network namespace made by this program (`ip netns add`) and deleted when dropped
/// (`ip netns del`), which also deletes the veth devices inside it.
pub struct Netns {
    name: String,
}

impl Netns {
    pub fn create(name: impl Into<String>) -> Result<Netns, String> {
        let name = name.into();
        ip(&["netns", "add", &name])?;
        Ok(Netns { name })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip -n NS ARGS...`.
    pub fn ip(&self, args: &[&str]) -> Result<(), String> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        ip(&all)
    }

    /// Runs `PROGRAM ARGS...` inside the namespace and returns its standard output.
    pub fn output(&self, program: &str, args: &[&str]) -> Result<String, String> {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.name, program])
            .args(args)
            .output()
            .map_err(|e| format!("ip netns exec {} {program}: {e}", self.name))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "ip netns exec {} {program} {args:?}: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// Sets a sysctl inside the namespace (`net.*` sysctls are per namespace).
    pub fn sysctl_set(&self, key: &str, value: &str) -> Result<(), String> {
        self.output("sysctl", &["-q", "-w", &format!("{key}={value}")])
            .map(drop)
    }

    /// Reads a sysctl inside the namespace.
    pub fn sysctl_get(&self, key: &str) -> Result<String, String> {
        self.output("sysctl", &["-n", key])
            .map(|s| s.trim().to_string())
    }
}

impl fmt::Display for Netns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// `ip ARGS...`, with its error output in the message when it fails.
pub fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
