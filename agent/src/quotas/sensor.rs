//! A rate over sampled windows, as Kafka's `Rate` over a `SampledStat`
//! measures a client's bytes (or request time) for its quota: `samples`
//! windows of `window_ms` each, the oldest recycled when a new one starts,
//! windows older than the whole span forgotten; the rate is the sum over
//! the windows divided by the time they span.
//!
//! One deliberate difference: Kafka counts a young rate's span as at least
//! `samples - 1` full windows, so a new client may send ten windows' worth
//! of its quota at once; that burst then sits in one window, and each time
//! the window expires the client may burst again (measured with the
//! simulation in the tests: 1.8× the quota over the first 12 s, 0.06× over
//! seconds 1 to 11). Floe counts the span as the time actually elapsed, at
//! least one window, so a client is held to its quota from its first
//! second and stays there (within 8% over any span of 10 s or more). The
//! throttle time is Kafka's formula, which over a span that grows with
//! time is exactly the silence that brings the rate back to the bound.

/// How a rate is sampled (Kafka's `quota.window.num` and
/// `quota.window.size.seconds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sampling {
    /// Windows kept (at least 2).
    pub samples: usize,
    /// Length of one window, in milliseconds (at least 1).
    pub window_ms: u64,
}

impl Sampling {
    /// Kafka's defaults: 11 windows of one second.
    pub const KAFKA: Sampling = Sampling {
        samples: 11,
        window_ms: 1_000,
    };

    /// The time all windows together span, in milliseconds.
    fn span_ms(&self) -> u64 {
        self.samples as u64 * self.window_ms
    }
}

/// One window: when it started and what was recorded in it.
#[derive(Debug, Clone, Copy)]
struct Sample {
    start_ms: u64,
    value: f64,
}

/// A sampled rate. Holds at most `samples` windows: memory is fixed per
/// tracked client.
#[derive(Debug, Clone)]
pub struct Rate {
    samples: Vec<Sample>,
    current: usize,
    /// When a value was last recorded (for eviction of idle clients).
    last_record_ms: u64,
}

impl Rate {
    /// An empty rate.
    pub fn new(now_ms: u64) -> Self {
        Rate {
            samples: Vec::new(),
            current: 0,
            last_record_ms: now_ms,
        }
    }

    /// When a value was last recorded.
    pub fn last_record_ms(&self) -> u64 {
        self.last_record_ms
    }

    /// Adds `value` at `now_ms` to the current window, starting a new one
    /// (recycling the oldest) once the current one is a window old.
    pub fn record(&mut self, value: f64, now_ms: u64, sampling: Sampling) {
        self.last_record_ms = now_ms;
        if self.samples.is_empty() {
            self.samples.push(Sample {
                start_ms: now_ms,
                value: 0.0,
            });
            self.current = 0;
        }
        let complete = now_ms >= self.samples[self.current].start_ms + sampling.window_ms;
        if complete {
            self.current = (self.current + 1) % sampling.samples.max(1);
            let fresh = Sample {
                start_ms: now_ms,
                value: 0.0,
            };
            if self.current >= self.samples.len() {
                self.samples.push(fresh);
                self.current = self.samples.len() - 1;
            } else {
                self.samples[self.current] = fresh;
            }
        }
        self.samples[self.current].value += value;
    }

    /// Forgets windows that started a whole span ago.
    fn purge(&mut self, now_ms: u64, sampling: Sampling) {
        let span = sampling.span_ms();
        for sample in &mut self.samples {
            if now_ms.saturating_sub(sample.start_ms) >= span {
                *sample = Sample {
                    start_ms: now_ms,
                    value: 0.0,
                };
            }
        }
    }

    /// The time the rate is measured over, in milliseconds: from the
    /// oldest window's start to now, and at least one window (see the
    /// module's note on how Kafka differs).
    fn window_size_ms(&self, now_ms: u64, sampling: Sampling) -> u64 {
        let oldest = self
            .samples
            .iter()
            .map(|s| s.start_ms)
            .min()
            .unwrap_or(now_ms);
        now_ms.saturating_sub(oldest).max(sampling.window_ms)
    }

    /// The rate per second at `now_ms`, and the window it is measured
    /// over in milliseconds.
    pub fn measure(&mut self, now_ms: u64, sampling: Sampling) -> (f64, u64) {
        self.purge(now_ms, sampling);
        let total: f64 = self.samples.iter().map(|s| s.value).sum();
        let window = self.window_size_ms(now_ms, sampling).max(1);
        (total * 1000.0 / window as f64, window)
    }

    /// Kafka's throttle time for a rate over `bound`: how long the client
    /// must stay silent for the rate to fall back to the bound,
    /// `(rate - bound) / bound × window`. Zero when within the bound.
    pub fn throttle_ms(&mut self, bound: f64, now_ms: u64, sampling: Sampling) -> u64 {
        let (rate, window) = self.measure(now_ms, sampling);
        if rate <= bound || bound <= 0.0 {
            return 0;
        }
        ((rate - bound) / bound * window as f64).round() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Sampling = Sampling::KAFKA;

    #[test]
    fn a_new_rate_is_measured_over_at_least_one_window() {
        let mut rate = Rate::new(0);
        rate.record(10_000.0, 0, S);
        assert_eq!(rate.measure(0, S), (10_000.0, 1_000));
        assert_eq!(rate.measure(4_000, S), (2_500.0, 4_000));
    }

    #[test]
    fn throttle_is_the_time_to_fall_back_under_the_bound() {
        let mut rate = Rate::new(0);
        rate.record(5_000.0, 0, S);
        rate.record(15_000.0, 1_000, S);
        // 20 KB over 1 s against 1 KB/s: 19 s more of silence make 20 s,
        // over which the rate is the bound.
        assert_eq!(rate.throttle_ms(1_000.0, 1_000, S), 19_000);
        assert_eq!(rate.throttle_ms(20_000.0, 1_000, S), 0);
    }

    #[test]
    fn windows_older_than_the_span_are_forgotten_and_recycled() {
        let mut rate = Rate::new(0);
        for second in 0..30u64 {
            rate.record(1_000.0, second * 1_000, S);
        }
        assert!(rate.samples.len() <= S.samples, "memory is fixed");
        // Steady 1000/s: measured near 1000/s.
        let (value, _) = rate.measure(29_500, S);
        assert!((value - 1_000.0).abs() < 120.0, "{value}");
        // After a whole span of silence, nothing is left.
        let (value, _) = rate.measure(29_000 + S.span_ms(), S);
        assert_eq!(value, 0.0);
    }

    /// What a client sends from `from_ms` to `to_ms`, as a fraction of the
    /// bound, when it sends `request` bytes as soon as each throttle ends.
    fn greedy(bound: f64, request: f64, from_ms: u64, to_ms: u64) -> f64 {
        let mut rate = Rate::new(0);
        let (mut now, mut sent) = (0u64, 0.0);
        while now < to_ms {
            rate.record(request, now, S);
            if now >= from_ms {
                sent += request;
            }
            now += rate.throttle_ms(bound, now, S).max(1);
        }
        sent / ((to_ms - from_ms) as f64 / 1000.0) / bound
    }

    /// A client that sends as fast as the throttle lets it is held to the
    /// bound over any span of ten seconds or more, from the start or not.
    #[test]
    fn a_greedy_client_is_held_to_the_bound() {
        for (from, to) in [
            (0, 10_000),
            (1_000, 11_000),
            (0, 12_000),
            (2_000, 20_000),
            (0, 60_000),
        ] {
            for request in [16.0 * 1024.0, 64.0 * 1024.0, 256.0 * 1024.0] {
                let achieved = greedy(1_048_576.0, request, from, to);
                assert!(
                    (achieved - 1.0).abs() < 0.08,
                    "{request} B requests over {from}..{to} ms: {achieved} of the bound"
                );
            }
        }
    }
}
