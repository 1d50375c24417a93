//! `controller_mutation_rate` (Kafka's KIP-599): partitions a client may
//! create or delete per second, through CreateTopics, CreatePartitions and
//! DeleteTopics.
//!
//! Kafka measures mutations with a token bucket, not a sampled rate: the
//! bucket holds `rate × samples × window` tokens (11 s worth of the rate
//! with Kafka's defaults), starts full, refills at the rate, and each
//! mutation takes one token per partition. A request that finds the bucket
//! not empty is let through even if it takes it below zero (a burst); the
//! throttle time is how long the bucket needs to climb back to zero,
//! `-tokens / rate` seconds.
//!
//! Two behaviours, by request version ([`MutationQuota`]):
//! - **strict** (CreateTopics v6+, CreatePartitions v3+, DeleteTopics v5+):
//!   each topic is checked before it is mutated; once the bucket is below
//!   zero, the topics that follow are refused with THROTTLING_QUOTA_EXCEEDED
//!   and the answer carries the throttle time;
//! - **permissive** (older versions, whose clients do not know that error):
//!   every topic is mutated, and the answer carries the throttle time once
//!   the bucket is below zero.

use std::time::Instant;

use super::ClientQuotas;

/// A token bucket (Kafka's `TokenBucket` stat). Fixed size.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    tokens: f64,
    last_ms: u64,
}

impl TokenBucket {
    /// A full bucket.
    pub fn full(burst: f64, now_ms: u64) -> Self {
        TokenBucket {
            tokens: burst,
            last_ms: now_ms,
        }
    }

    /// When the bucket was last refilled or taken from (for eviction of
    /// idle clients).
    pub fn last_ms(&self) -> u64 {
        self.last_ms
    }

    /// Refills at `rate` per second since the last use, up to `burst`,
    /// and answers the tokens left.
    pub fn refill(&mut self, rate: f64, burst: f64, now_ms: u64) -> f64 {
        let elapsed = now_ms.saturating_sub(self.last_ms) as f64 / 1000.0;
        self.tokens = (self.tokens + rate * elapsed).min(burst);
        self.last_ms = self.last_ms.max(now_ms);
        self.tokens
    }

    /// Takes `permits` tokens (the bucket may go below zero).
    pub fn take(&mut self, permits: f64) {
        self.tokens -= permits;
    }
}

/// The time for a bucket holding `tokens` to climb back to zero at `rate`
/// per second, in ms (Kafka's `ControllerMutationQuotaManager.throttleTimeMs`).
pub fn throttle_ms(tokens: f64, rate: f64) -> u64 {
    if tokens >= 0.0 || rate <= 0.0 {
        return 0;
    }
    (-tokens / rate * 1000.0).round() as u64
}

/// What charging a bucket did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    /// Whether the mutations were refused (strict, bucket below zero).
    pub refused: bool,
    /// The time the bucket needs to climb back to zero, in ms, when the
    /// client is to be throttled: a refusal, or a permissive charge that
    /// left the bucket below zero. 0 otherwise.
    pub throttle_ms: u64,
}

/// Charges `permits` to `bucket` as Kafka's strict (check first, then
/// take) or permissive (take, then check) quota does.
pub fn charge(
    bucket: &mut TokenBucket,
    rate: f64,
    burst: f64,
    permits: f64,
    strict: bool,
    now_ms: u64,
) -> Taken {
    let tokens = bucket.refill(rate, burst, now_ms);
    if strict {
        if tokens < 0.0 {
            return Taken {
                refused: true,
                throttle_ms: throttle_ms(tokens, rate),
            };
        }
        bucket.take(permits);
        return Taken {
            refused: false,
            throttle_ms: 0,
        };
    }
    bucket.take(permits);
    Taken {
        refused: false,
        throttle_ms: throttle_ms(tokens - permits, rate),
    }
}

/// A strict quota refused a mutation: the topic gets
/// THROTTLING_QUOTA_EXCEEDED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("The throttling quota has been exceeded.")]
pub struct QuotaExceeded {
    /// How long the client should wait, in ms.
    pub throttle_ms: u64,
}

/// The mutation quota of one request: opened by the request's dispatch,
/// charged by its handler once per topic that passed every other check,
/// and asked for the throttle time when the answer is made.
#[derive(Debug)]
pub struct MutationQuota<'a> {
    /// The agent's quotas and the client's bound and sensor; `None` when
    /// the client has no mutation quota.
    quota: Option<(&'a ClientQuotas, super::Resolved)>,
    strict: bool,
    /// The last throttle time found and when (Kafka's
    /// `lastThrottleTimeMs`, `lastRecordedTimeMs`).
    throttled: Option<(u64, Instant)>,
}

impl<'a> MutationQuota<'a> {
    /// A quota that never refuses nor throttles.
    pub fn unbounded() -> Self {
        MutationQuota {
            quota: None,
            strict: false,
            throttled: None,
        }
    }

    pub(super) fn new(quotas: &'a ClientQuotas, quota: super::Resolved, strict: bool) -> Self {
        MutationQuota {
            quota: Some((quotas, quota)),
            strict,
            throttled: None,
        }
    }

    /// Whether the client has a mutation quota.
    pub fn is_bounded(&self) -> bool {
        self.quota.is_some()
    }

    /// Charges `partitions` mutations. A strict quota whose bucket is
    /// already below zero refuses them (nothing is taken); a permissive
    /// one always takes them.
    pub fn record(&mut self, partitions: u64) -> Result<(), QuotaExceeded> {
        let Some((quotas, quota)) = &self.quota else {
            return Ok(());
        };
        let now = Instant::now();
        let taken = quotas.take_mutations(quota, partitions as f64, self.strict, now);
        if taken.throttle_ms > 0 {
            self.throttled = Some((taken.throttle_ms, now));
        }
        if taken.refused {
            return Err(QuotaExceeded {
                throttle_ms: taken.throttle_ms,
            });
        }
        Ok(())
    }

    /// The throttle time to answer: the last one found, less the time
    /// since (the request may have waited on the store meanwhile).
    pub fn throttle_ms(&self) -> u64 {
        self.throttled.map_or(0, |(ms, at)| {
            ms.saturating_sub(u64::try_from(at.elapsed().as_millis()).unwrap_or(u64::MAX))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_starts_full_refills_at_the_rate_and_caps_at_the_burst() {
        let mut bucket = TokenBucket::full(110.0, 0);
        assert_eq!(bucket.refill(10.0, 110.0, 0), 110.0);
        bucket.take(200.0);
        assert_eq!(bucket.refill(10.0, 110.0, 0), -90.0);
        assert_eq!(throttle_ms(-90.0, 10.0), 9_000);
        assert_eq!(bucket.refill(10.0, 110.0, 4_000), -50.0);
        assert_eq!(bucket.refill(10.0, 110.0, 60_000), 110.0, "capped");
        assert_eq!(throttle_ms(0.0, 10.0), 0);
    }

    /// Kafka's own cases (`StrictControllerMutationQuotaTest`,
    /// `PermissiveControllerMutationQuotaTest`): rate 10, 10 windows of 1 s.
    #[test]
    fn strict_checks_before_taking_and_permissive_after() {
        let (rate, burst) = (10.0, 100.0);
        let mut strict = TokenBucket::full(burst, 0);
        let accepted = Taken {
            refused: false,
            throttle_ms: 0,
        };
        assert_eq!(charge(&mut strict, rate, burst, 90.0, true, 0), accepted);
        assert_eq!(
            charge(&mut strict, rate, burst, 90.0, true, 0),
            accepted,
            "a bucket not yet empty lets a burst through"
        );
        assert_eq!(
            charge(&mut strict, rate, burst, 1.0, true, 0),
            Taken {
                refused: true,
                throttle_ms: 8_000
            }
        );
        assert_eq!(
            charge(&mut strict, rate, burst, 1.0, true, 5_000),
            Taken {
                refused: true,
                throttle_ms: 3_000
            },
            "a refusal takes nothing"
        );
        assert_eq!(charge(&mut strict, rate, burst, 1.0, true, 8_000), accepted);

        let mut permissive = TokenBucket::full(burst, 0);
        assert_eq!(
            charge(&mut permissive, rate, burst, 90.0, false, 0),
            accepted
        );
        assert_eq!(
            charge(&mut permissive, rate, burst, 90.0, false, 0),
            Taken {
                refused: false,
                throttle_ms: 8_000
            },
            "taken, and throttled at once"
        );
    }
}
