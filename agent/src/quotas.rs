//! Client quotas (Kafka's KIP-13, KIP-219 and KIP-599): produce bytes,
//! fetch bytes, request-handling time and partition mutations per user and
//! client id, held to the bounds set with AlterClientQuotas.
//!
//! Each agent measures and enforces on its own, as each Kafka broker does:
//! a client spread over N agents gets up to N times its quota. A client
//! over its bound is answered at once with `throttle_time_ms` (the time
//! its rate needs to fall back under the bound), and its connection reads
//! nothing more for that time (`kafka/connection.rs`); clients of KIP-219
//! also wait before sending.
//!
//! With no quota configured for a kind, recording costs one atomic load.
//! Memory is bounded: one fixed-size rate per tracked client, dropped
//! after an hour without requests (as Kafka expires its sensors), and at
//! most `max_tracked` per kind (the least recently seen goes first).

mod keys;
mod mutation;
mod resolve;
mod sensor;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use prometheus::{HistogramVec, IntCounterVec, IntGaugeVec};

pub use keys::{
    CONSUMER_BYTE_RATE, CONTROLLER_MUTATION_RATE, PRODUCER_BYTE_RATE, QuotaKind,
    REQUEST_PERCENTAGE, validate_value,
};
pub use mutation::{MutationQuota, QuotaExceeded};
pub use resolve::{QuotaSet, Resolved};

use keys::KINDS;
use mutation::{Taken, TokenBucket};
pub use sensor::{Rate, Sampling};

/// A client's sensor is dropped after this long without a request
/// (Kafka's sensor inactivity expiry).
pub const IDLE_EXPIRY: Duration = Duration::from_secs(3600);

/// How quotas are measured and how much state they may hold.
#[derive(Debug, Clone, Copy)]
pub struct QuotaSettings {
    /// Windows and window length of every rate.
    pub sampling: Sampling,
    /// Clients tracked per kind at most.
    pub max_tracked: usize,
}

/// The metrics quotas report.
#[derive(Debug, Clone)]
pub struct QuotaMetrics {
    /// Throttle times answered, in ms, by kind.
    pub throttle_ms: HistogramVec,
    /// Requests throttled, by kind.
    pub throttled: IntCounterVec,
    /// Clients whose rates are tracked, by kind.
    pub tracked: IntGaugeVec,
}

/// The quotas of this agent's clients: the configured bounds and each
/// client's measured rates.
#[derive(Debug)]
pub struct ClientQuotas {
    settings: QuotaSettings,
    set: RwLock<Arc<QuotaSet>>,
    /// Whether any quota of each kind exists: the fast path's one load.
    active: [AtomicBool; KINDS],
    /// The rates of the byte and request-time kinds (the mutation kind's
    /// entry stays empty).
    sensors: [Mutex<HashMap<String, Rate>>; KINDS],
    /// The token buckets of the mutation kind.
    buckets: Mutex<HashMap<String, TokenBucket>>,
    epoch: Instant,
    metrics: QuotaMetrics,
}

impl ClientQuotas {
    /// No quotas yet.
    pub fn new(settings: QuotaSettings, metrics: QuotaMetrics) -> Self {
        ClientQuotas {
            settings,
            set: RwLock::new(Arc::new(QuotaSet::default())),
            active: Default::default(),
            sensors: Default::default(),
            buckets: Mutex::default(),
            epoch: Instant::now(),
            metrics,
        }
    }

    /// Puts a new set of configured quotas in force. Rates measured so far
    /// are kept: a changed bound applies to the rate already measured.
    pub fn install(&self, set: QuotaSet) {
        for kind in QuotaKind::ALL {
            self.active[kind.index()].store(set.has(kind), Ordering::Release);
        }
        *self.set.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
    }

    /// Whether any client may be held to a quota of `kind`.
    pub fn enforces(&self, kind: QuotaKind) -> bool {
        self.active[kind.index()].load(Ordering::Relaxed)
    }

    fn resolve(&self, kind: QuotaKind, user: &str, client_id: &str) -> Option<Resolved> {
        if !self.enforces(kind) {
            return None;
        }
        let set = self
            .set
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        set.resolve(kind, user, client_id)
    }

    fn now_ms(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    /// Records `value` (bytes, or percent-seconds of a thread) for `user`
    /// connecting as `client_id` at `now`, and answers how long the client
    /// must be throttled, in ms: 0 within its quota or without one.
    /// Request-time throttles are capped at one window, as Kafka caps
    /// them; byte throttles at the whole sampled span, so a connection is
    /// never muted for longer than the rate takes to forget a burst.
    /// Mutations are not a rate: they are charged through [`Self::mutation`]
    /// (recording them here does nothing).
    pub fn record(
        &self,
        kind: QuotaKind,
        user: &str,
        client_id: &str,
        value: f64,
        now: Instant,
    ) -> u64 {
        if kind == QuotaKind::Mutation {
            return 0;
        }
        let Some(quota) = self.resolve(kind, user, client_id) else {
            return 0;
        };
        let now_ms = self.now_ms(now);
        let sampling = self.settings.sampling;
        let throttle = {
            let mut sensors = self.sensors[kind.index()]
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if !sensors.contains_key(&quota.sensor) {
                self.make_room(&mut sensors, now_ms);
            }
            let rate = sensors
                .entry(quota.sensor)
                .or_insert_with(|| Rate::new(now_ms));
            rate.record(value, now_ms, sampling);
            let throttle = rate.throttle_ms(quota.bound, now_ms, sampling);
            self.metrics
                .tracked
                .with_label_values(&[kind.label()])
                .set(sensors.len() as i64);
            throttle
        };
        let cap = match kind {
            QuotaKind::Request => sampling.window_ms,
            QuotaKind::Produce | QuotaKind::Fetch | QuotaKind::Mutation => {
                sampling.window_ms * sampling.samples as u64
            }
        };
        let throttle = throttle.min(cap);
        self.observe(kind, throttle);
        throttle
    }

    fn observe(&self, kind: QuotaKind, throttle: u64) {
        if throttle > 0 {
            self.metrics
                .throttle_ms
                .with_label_values(&[kind.label()])
                .observe(throttle as f64);
            self.metrics
                .throttled
                .with_label_values(&[kind.label()])
                .inc();
        }
    }

    /// The mutation quota of one CreateTopics, CreatePartitions or
    /// DeleteTopics request of `user` connecting as `client_id`: strict
    /// for the versions that know THROTTLING_QUOTA_EXCEEDED, permissive
    /// for older ones (see `quotas/mutation.rs`).
    pub fn mutation(&self, user: &str, client_id: &str, strict: bool) -> MutationQuota<'_> {
        match self.resolve(QuotaKind::Mutation, user, client_id) {
            Some(quota) => MutationQuota::new(self, quota, strict),
            None => MutationQuota::unbounded(),
        }
    }

    /// Charges `permits` partition mutations to the bucket of `quota`.
    fn take_mutations(&self, quota: &Resolved, permits: f64, strict: bool, now: Instant) -> Taken {
        let now_ms = self.now_ms(now);
        let sampling = self.settings.sampling;
        // Kafka's burst: the rate over all the sampled windows.
        let burst = quota.bound * (sampling.window_ms * sampling.samples as u64) as f64 / 1000.0;
        let taken = {
            let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
            if !buckets.contains_key(&quota.sensor) {
                self.make_room(&mut buckets, now_ms);
            }
            let bucket = buckets
                .entry(quota.sensor.clone())
                .or_insert_with(|| TokenBucket::full(burst, now_ms));
            let taken = mutation::charge(bucket, quota.bound, burst, permits, strict, now_ms);
            self.metrics
                .tracked
                .with_label_values(&[QuotaKind::Mutation.label()])
                .set(buckets.len() as i64);
            taken
        };
        self.observe(QuotaKind::Mutation, taken.throttle_ms);
        taken
    }

    /// The most a client may take within the sampled span without going
    /// over its quota of `kind` (Kafka caps a fetch's size to this), if it
    /// has a quota.
    pub fn max_in_window(&self, kind: QuotaKind, user: &str, client_id: &str) -> Option<f64> {
        let quota = self.resolve(kind, user, client_id)?;
        let sampling = self.settings.sampling;
        Some(quota.bound * (sampling.window_ms * sampling.samples as u64) as f64 / 1000.0)
    }

    /// Drops the rates of clients idle for [`IDLE_EXPIRY`], then, while
    /// still full, the least recently seen.
    fn make_room<S: LastSeen>(&self, sensors: &mut HashMap<String, S>, now_ms: u64) {
        if sensors.len() < self.settings.max_tracked {
            return;
        }
        let idle = IDLE_EXPIRY.as_millis() as u64;
        sensors.retain(|_, rate| now_ms.saturating_sub(rate.last_seen_ms()) < idle);
        while sensors.len() >= self.settings.max_tracked.max(1) {
            let Some(oldest) = sensors
                .iter()
                .min_by_key(|(_, rate)| rate.last_seen_ms())
                .map(|(key, _)| key.clone())
            else {
                break;
            };
            sensors.remove(&oldest);
        }
    }

    /// Drops the rates of clients idle for [`IDLE_EXPIRY`] (run each
    /// refresh, so memory follows the clients active in the last hour).
    pub fn expire_idle(&self, now: Instant) {
        let now_ms = self.now_ms(now);
        let idle = IDLE_EXPIRY.as_millis() as u64;
        for kind in QuotaKind::ALL {
            let mut sensors = self.sensors[kind.index()]
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            sensors.retain(|_, rate| now_ms.saturating_sub(rate.last_record_ms()) < idle);
            self.metrics
                .tracked
                .with_label_values(&[kind.label()])
                .set(sensors.len() as i64);
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        buckets.retain(|_, bucket| now_ms.saturating_sub(bucket.last_ms()) < idle);
        self.metrics
            .tracked
            .with_label_values(&[QuotaKind::Mutation.label()])
            .set(buckets.len() as i64);
    }

    /// Clients tracked for `kind`.
    pub fn tracked(&self, kind: QuotaKind) -> usize {
        if kind == QuotaKind::Mutation {
            return self
                .buckets
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len();
        }
        self.sensors[kind.index()]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// When a tracked client was last seen, for eviction.
trait LastSeen {
    fn last_seen_ms(&self) -> u64;
}

impl LastSeen for Rate {
    fn last_seen_ms(&self) -> u64 {
        self.last_record_ms()
    }
}

impl LastSeen for TokenBucket {
    fn last_seen_ms(&self) -> u64 {
        self.last_ms()
    }
}

#[cfg(test)]
mod tests;
