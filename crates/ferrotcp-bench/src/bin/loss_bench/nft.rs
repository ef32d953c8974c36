//! The loss: one nftables rule in R's forward hook, for every forwarded TCP packet in both
//! directions, with counters around it to check the drop rate and the packet sizes.

use ferrotcp_bench::realnet::Netns;

const TABLE: &str = "lossbench";

/// The drop rule itself (as printed in the header).
pub fn drop_rule(per_mille: u32) -> String {
    format!("meta l4proto tcp numgen random mod 1000 < {per_mille} counter drop")
}

/// (Re)creates the table in R with counters at zero. Rules, in order: packets towards and
/// from L before the drop rule, packets over 1500 B (must stay 0: a GSO packet would make one
/// drop a burst), the drop rule, packets towards and from L that passed it.
pub fn install(r: &Netns, per_mille: u32) -> Result<(), String> {
    let script = format!(
        "table inet {TABLE}
delete table inet {TABLE}
table inet {TABLE} {{
  chain forward {{
    type filter hook forward priority 0; policy accept;
    meta l4proto tcp ip daddr 192.0.2.0/24 counter comment \"seen_to_l\"
    meta l4proto tcp ip saddr 192.0.2.0/24 counter comment \"seen_from_l\"
    meta l4proto tcp meta length > 1500 counter comment \"oversize\"
    {} comment \"loss\"
    meta l4proto tcp ip daddr 192.0.2.0/24 counter comment \"passed_to_l\"
    meta l4proto tcp ip saddr 192.0.2.0/24 counter comment \"passed_from_l\"
  }}
}}",
        drop_rule(per_mille)
    );
    r.output("nft", &[&script]).map(drop)
}

/// Deletes the table (R's deletion would too; this is for a clean state between levels).
pub fn remove(r: &Netns) {
    let _ = r.output("nft", &["delete", "table", "inet", TABLE]);
}

/// Packet counts in R's forward hook since [`install`].
#[derive(Clone, Copy, Debug, Default)]
pub struct PathCounts {
    pub seen_to_l: u64,
    pub seen_from_l: u64,
    pub passed_to_l: u64,
    pub passed_from_l: u64,
    pub dropped: u64,
    pub oversize: u64,
}

impl PathCounts {
    pub fn read(r: &Netns) -> Result<PathCounts, String> {
        let text = r.output("nft", &["list", "chain", "inet", TABLE, "forward"])?;
        let get = |name: &str| -> Result<u64, String> {
            let tag = format!("comment \"{name}\"");
            text.lines()
                .find(|l| l.contains(&tag))
                .and_then(|l| l.split("counter packets ").nth(1))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("no counter {name:?} in `nft list chain`: {text}"))
        };
        Ok(PathCounts {
            seen_to_l: get("seen_to_l")?,
            seen_from_l: get("seen_from_l")?,
            passed_to_l: get("passed_to_l")?,
            passed_from_l: get("passed_from_l")?,
            dropped: get("loss")?,
            oversize: get("oversize")?,
        })
    }

    pub fn add(&mut self, o: &PathCounts) {
        self.seen_to_l += o.seen_to_l;
        self.seen_from_l += o.seen_from_l;
        self.passed_to_l += o.passed_to_l;
        self.passed_from_l += o.passed_from_l;
        self.dropped += o.dropped;
        self.oversize += o.oversize;
    }

    /// "N TCP packets forwarded, D dropped = x.xx % (towards L a %, from L b %), O over 1500 B".
    pub fn describe(&self) -> String {
        let seen = self.seen_to_l + self.seen_from_l;
        let pct = |dropped: u64, of: u64| {
            if of == 0 {
                0.0
            } else {
                dropped as f64 * 100.0 / of as f64
            }
        };
        let to_l = self.seen_to_l.saturating_sub(self.passed_to_l);
        let from_l = self.seen_from_l.saturating_sub(self.passed_from_l);
        format!(
            "{seen} TCP packets reached R's forward hook, {} dropped = {:.2} % (towards L {to_l} of {} = {:.2} %, from L {from_l} of {} = {:.2} %), {} over 1500 B",
            self.dropped,
            pct(self.dropped, seen),
            self.seen_to_l,
            pct(to_l, self.seen_to_l),
            self.seen_from_l,
            pct(from_l, self.seen_from_l),
            self.oversize
        )
    }
}
