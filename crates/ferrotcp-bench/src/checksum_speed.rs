//! The Internet checksum alone: ferrotcp's (vector kernel where the CPU has one) against
//! smoltcp's `wire::checksum::data`, over whole TCP segments of the three MTUs the bulk
//! figures use. Bytes per second of checksummed data, from 256 different buffers in turn so
//! neither side is timed on one cache-hot buffer.

use std::hint::black_box;
use std::time::Instant;

use ferrotcp::wire::checksum;

use crate::report::Figure;

/// TCP segment lengths (IP MTU - 20) of MTU 1500, 9000 and 65535.
const SEGMENTS: [usize; 3] = [1480, 8980, 65_515];
const BUFFERS: usize = 256;
/// Bytes checksummed per measurement (about 10 ms of work each).
const WORK: usize = 512 << 20;

fn gbytes_per_s(bufs: &[Vec<u8>], f: impl Fn(&[u8]) -> u64) -> f64 {
    let len = bufs[0].len();
    let iters = WORK / len;
    let start = Instant::now();
    let mut x = 0u64;
    for i in 0..iters {
        x = x.wrapping_add(f(black_box(&bufs[i % BUFFERS])));
    }
    black_box(x);
    (iters * len) as f64 / start.elapsed().as_secs_f64() / 1e9
}

/// One figure per segment length; the median of `runs` measurements each.
pub fn run(runs: u32) -> Vec<Figure> {
    println!(
        "# bulk_csum: RFC 1071 checksum of one TCP segment (IP MTU - 20 bytes), ferrotcp vs \
         smoltcp 0.14, GB/s; AVX2 on this CPU: {}",
        cfg!(target_arch = "x86_64") && avx2()
    );
    SEGMENTS
        .iter()
        .map(|&len| {
            let bufs: Vec<Vec<u8>> = (0..BUFFERS)
                .map(|k| (0..len).map(|i| (i * 31 + k * 7) as u8).collect())
                .collect();
            let (mut f, mut s, mut p, mut v) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for _ in 0..runs {
                f.push(gbytes_per_s(&bufs, |b| u64::from(checksum::checksum(b))));
                s.push(gbytes_per_s(&bufs, |b| {
                    u64::from(smoltcp::wire::checksum::data(b))
                }));
                p.push(gbytes_per_s(&bufs, checksum::sum_portable));
                #[cfg(target_arch = "x86_64")]
                v.push(gbytes_per_s(&bufs, checksum::sum_sse2));
            }
            let name = format!("bulk_csum_{len}b");
            let median = |v: &[f64]| crate::spread::spread(v).map(|s| s.median);
            if let Some(pm) = median(&p) {
                println!("# {name}: ferrotcp's portable code (no vector kernel) {pm:.1} GB/s");
            }
            if let Some(vm) = median(&v) {
                println!("# {name}: ferrotcp's SSE2 kernel (x86_64 without AVX2) {vm:.1} GB/s");
            }
            Figure::new(name, "GB/s", median(&f), median(&s))
        })
        .collect()
}

#[cfg(target_arch = "x86_64")]
fn avx2() -> bool {
    std::is_x86_feature_detected!("avx2")
}

#[cfg(not(target_arch = "x86_64"))]
fn avx2() -> bool {
    false
}
