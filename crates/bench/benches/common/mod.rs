//! What the criterion benches share: how long a group warms up and
//! measures.

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion};

/// The group `name`, measured for `measure` with `samples` samples after
/// half a second of warm-up: every bench runs short, so that the whole
/// suite stays within minutes.
pub fn group<'c>(
    c: &'c mut Criterion,
    name: &str,
    samples: usize,
    measure: Duration,
) -> BenchmarkGroup<'c, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(samples);
    g.measurement_time(measure);
    g.warm_up_time(Duration::from_millis(500));
    g
}
