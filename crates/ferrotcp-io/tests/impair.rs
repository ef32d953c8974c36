//! The user-space impairer: deterministic loss, exact delay, FIFO, reordering.

use std::time::{Duration, Instant};

use ferrotcp_io::impair::{ImpairConfig, ImpairStats, Impairer, REORDER_EXTRA};

fn config(loss: f64, delay_ms: u64, reorder: f64, seed: u64) -> ImpairConfig {
    ImpairConfig {
        loss,
        delay: Duration::from_millis(delay_ms),
        reorder,
        seed,
    }
}

fn frame(i: u32) -> Vec<u8> {
    i.to_be_bytes().to_vec()
}

fn index(f: &[u8]) -> u32 {
    u32::from_be_bytes(f.try_into().expect("4-byte test frame"))
}

/// Pushes `n` frames 100 µs apart, then drains everything; returns the push outcomes,
/// the delivered frame indices with their delivery offsets, and the stats.
fn run(cfg: ImpairConfig, stream: u64, n: u32) -> (Vec<bool>, Vec<(u32, Duration)>, ImpairStats) {
    let t0 = Instant::now();
    let mut imp = Impairer::new(cfg, stream);
    let mut kept = Vec::new();
    let mut delivered = Vec::new();
    let step = Duration::from_micros(100);
    for i in 0..n {
        let now = t0 + step * i;
        while let Some(f) = imp.pop_due(now) {
            delivered.push((index(&f), now - t0));
        }
        kept.push(imp.push(now, frame(i)));
    }
    // Drain by jumping to each due time (bounded: one pop at least per step).
    for _ in 0..=n {
        let Some(due) = imp.next_due() else { break };
        while let Some(f) = imp.pop_due(due) {
            delivered.push((index(&f), due - t0));
        }
    }
    assert_eq!(imp.next_due(), None, "queue drained");
    (kept, delivered, imp.stats())
}

#[test]
fn same_seed_same_fate_other_seed_or_stream_differs() {
    let a = run(config(0.2, 5, 0.2, 42), 0, 2_000);
    let b = run(config(0.2, 5, 0.2, 42), 0, 2_000);
    assert_eq!(a.0, b.0);
    assert_eq!(
        a.1.iter().map(|d| d.0).collect::<Vec<_>>(),
        b.1.iter().map(|d| d.0).collect::<Vec<_>>()
    );
    assert_eq!(a.2, b.2);
    let other_seed = run(config(0.2, 5, 0.2, 43), 0, 2_000);
    assert_ne!(a.0, other_seed.0);
    let other_stream = run(config(0.2, 5, 0.2, 42), 1, 2_000);
    assert_ne!(a.0, other_stream.0);
}

#[test]
fn loss_rate_is_roughly_the_configured_one() {
    for (loss, lo, hi) in [(0.1, 800, 1_200), (0.5, 4_700, 5_300), (0.01, 50, 160)] {
        let (kept, delivered, stats) = run(config(loss, 0, 0.0, 7), 0, 10_000);
        let dropped = kept.iter().filter(|k| !**k).count();
        assert!(
            (lo..=hi).contains(&dropped),
            "loss {loss}: {dropped} of 10000 dropped"
        );
        assert_eq!(stats.dropped, dropped as u64);
        assert_eq!(stats.passed, 10_000 - dropped as u64);
        assert_eq!(delivered.len() as u64, stats.passed);
    }
    let (kept, _, _) = run(config(0.0, 0, 0.0, 7), 0, 10_000);
    assert!(kept.iter().all(|k| *k), "loss 0 keeps everything");
    let (kept, delivered, _) = run(config(1.0, 0, 0.0, 7), 0, 1_000);
    assert!(
        kept.iter().all(|k| !*k) && delivered.is_empty(),
        "loss 1 drops everything"
    );
}

#[test]
fn delay_is_exact() {
    let t0 = Instant::now();
    let delay = Duration::from_millis(30);
    let mut imp = Impairer::new(
        ImpairConfig {
            delay,
            ..ImpairConfig::default()
        },
        0,
    );
    assert_eq!(imp.next_due(), None);
    assert_eq!(imp.pop_due(t0 + Duration::from_secs(1)), None);
    assert!(imp.push(t0, frame(1)));
    assert_eq!(imp.next_due(), Some(t0 + delay));
    assert_eq!(imp.pop_due(t0 + delay - Duration::from_nanos(1)), None);
    assert_eq!(imp.pop_due(t0 + delay), Some(frame(1)));
    assert_eq!(imp.pop_due(t0 + delay), None);
    assert_eq!(imp.next_due(), None);

    // Zero delay: due at once.
    let mut imp = Impairer::new(ImpairConfig::default(), 0);
    assert!(imp.push(t0, frame(2)));
    assert_eq!(imp.next_due(), Some(t0));
    assert_eq!(imp.pop_due(t0), Some(frame(2)));
}

#[test]
fn without_reorder_delivery_is_fifo() {
    let (_, delivered, stats) = run(config(0.3, 10, 0.0, 9), 0, 5_000);
    let order: Vec<u32> = delivered.iter().map(|d| d.0).collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(order, sorted);
    assert_eq!(stats.reordered, 0);
    // Each frame is delivered exactly `delay` after it entered.
    for (i, at) in &delivered {
        assert_eq!(
            *at,
            Duration::from_micros(100) * *i + Duration::from_millis(10)
        );
    }

    // Frames entering at the same instant keep their order.
    let t0 = Instant::now();
    let mut imp = Impairer::new(config(0.0, 1, 0.0, 1), 0);
    for i in 0..100 {
        assert!(imp.push(t0, frame(i)));
    }
    let later = t0 + Duration::from_millis(1);
    let out: Vec<u32> = std::iter::from_fn(|| imp.pop_due(later))
        .map(|f| index(&f))
        .collect();
    assert_eq!(out, (0..100).collect::<Vec<_>>());
}

#[test]
fn reorder_holds_frames_back_and_loses_none() {
    let (_, delivered, stats) = run(config(0.0, 0, 0.25, 3), 0, 4_000);
    assert_eq!(delivered.len(), 4_000, "reordering loses nothing");
    assert!(
        (700..=1_300).contains(&stats.reordered),
        "{} reordered",
        stats.reordered
    );
    let late = delivered
        .iter()
        .filter(|(i, at)| *at == Duration::from_micros(100) * *i + REORDER_EXTRA)
        .count();
    assert_eq!(
        late as u64, stats.reordered,
        "held back exactly 2 ms with zero delay"
    );
    let inversions = delivered.windows(2).filter(|w| w[0].0 > w[1].0).count();
    assert!(inversions > 0, "some frames overtake held-back ones");

    // With a delay, a held-back frame waits `2 * delay + 2 ms` in all.
    let (_, delivered, stats) = run(config(0.0, 5, 0.25, 3), 0, 1_000);
    let held = delivered
        .iter()
        .filter(|(i, at)| {
            *at == Duration::from_micros(100) * *i + Duration::from_millis(10) + REORDER_EXTRA
        })
        .count();
    assert_eq!(held as u64, stats.reordered);
}
