//! Many concurrent Linux clients against `ferrotcp serve`: 200 curls at once, each download
//! checked, in a namespace the test makes and deletes (addresses 192.0.2.0/24).

mod common;

use std::time::{Duration, Instant};

use common::*;

const CLIENTS: usize = 200;

#[test]
fn two_hundred_concurrent_curls_all_complete_intact() {
    if !can_run(&["curl", "sha256sum"]) {
        return;
    }
    let data = pattern(51, 256 << 10);
    let s = serve(&[("quarter.bin", &data)], &[]);
    let outdir = s.dir.path.join("out");
    std::fs::create_dir_all(&outdir).expect("out dir");
    // 200 curls in the background, then each one's exit status collected; SYNs dropped by a
    // full accept queue are retried by Linux (1 s, 3 s, ...), within --max-time.
    let script = format!(
        "pids=''; for i in $(seq 1 {CLIENTS}); do \
           curl -sS --max-time 50 -o {dir}/$i.bin http://{FERRO_IP}/quarter.bin & pids=\"$pids $!\"; \
         done; \
         failed=0; for p in $pids; do wait $p || failed=$((failed+1)); done; echo failed=$failed",
        dir = outdir.display()
    );
    let started = Instant::now();
    let out = sh_in(&s.ns, &script, Duration::from_secs(60));
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("failed=0"),
        "some curls failed after {took:?}: {stdout}\n{stderr}"
    );
    let want = sha256(&data);
    let mut bad = Vec::new();
    for i in 1..=CLIENTS {
        let got = std::fs::read(outdir.join(format!("{i}.bin"))).unwrap_or_default();
        if got.len() != data.len() || sha256(&got) != want {
            bad.push((i, got.len()));
        }
    }
    assert!(
        bad.is_empty(),
        "damaged downloads (client, length): {bad:?}"
    );
    eprintln!("{CLIENTS} concurrent downloads of 256 KiB in {took:?}");
}
