//! Latencies as histograms of microseconds, and the medians over runs that
//! the tables show.

use std::time::Duration;

use anyhow::Result;
use hdrhistogram::Histogram;

/// A histogram of microseconds.
pub fn histogram() -> Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 600_000_000, 3)?)
}

/// `elapsed` as a histogram value: whole microseconds, at least 1.
pub fn micros(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_micros())
        .unwrap_or(u64::MAX)
        .max(1)
}

pub fn millis(micros: u64) -> f64 {
    micros as f64 / 1_000.0
}

/// The median of some numbers.
pub fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.into_iter().collect();
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The median of one number of each run.
pub fn median_of<R>(runs: &[R], value: impl Fn(&R) -> f64) -> f64 {
    median(runs.iter().map(value))
}

/// `value` to three decimals, for the JSON line.
pub fn round3(value: f64) -> f64 {
    (value * 1_000.0).round() / 1_000.0
}
