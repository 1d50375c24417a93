use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use floe_metadata::{ClientQuota, ClientQuotaEntity, QuotaEntityPart};

use super::*;
use crate::metrics::Metrics;

fn quotas(max_tracked: usize) -> ClientQuotas {
    let metrics = Metrics::new().expect("metrics");
    ClientQuotas::new(
        QuotaSettings {
            sampling: Sampling::KAFKA,
            max_tracked,
        },
        metrics.quota_metrics(),
    )
}

fn default_client_quota(key: &str, value: f64) -> QuotaSet {
    QuotaSet::new(&[ClientQuota {
        entity: ClientQuotaEntity {
            user: None,
            client_id: Some(QuotaEntityPart::Default),
        },
        values: BTreeMap::from([(key.to_string(), value)]),
    }])
}

#[test]
fn without_quotas_nothing_is_tracked_or_throttled() {
    let q = quotas(10);
    let now = Instant::now();
    assert_eq!(q.record(QuotaKind::Produce, "u", "c", 1e12, now), 0);
    assert_eq!(q.tracked(QuotaKind::Produce), 0);
    assert_eq!(q.max_in_window(QuotaKind::Fetch, "u", "c"), None);
}

#[test]
fn a_client_over_its_quota_is_throttled_and_others_are_not() {
    let q = quotas(10);
    q.install(default_client_quota(PRODUCER_BYTE_RATE, 1000.0));
    let now = Instant::now();
    // One second's worth at once is within the quota; more is over it.
    assert_eq!(q.record(QuotaKind::Produce, "u", "a", 1_000.0, now), 0);
    let throttle = q.record(QuotaKind::Produce, "u", "a", 5_000.0, now);
    assert_eq!(throttle, 5_000, "(6000/1 - 1000) / 1000 × 1 s");
    assert_eq!(q.record(QuotaKind::Produce, "u", "b", 1_000.0, now), 0);
    assert_eq!(q.record(QuotaKind::Fetch, "u", "a", 1e9, now), 0);
    assert_eq!(
        q.max_in_window(QuotaKind::Produce, "u", "a"),
        Some(11_000.0)
    );
}

#[test]
fn throttles_are_capped() {
    let q = quotas(10);
    q.install(default_client_quota(PRODUCER_BYTE_RATE, 1.0));
    let now = Instant::now();
    assert_eq!(q.record(QuotaKind::Produce, "u", "a", 1e9, now), 11_000);
    q.install(default_client_quota(REQUEST_PERCENTAGE, 1.0));
    assert_eq!(q.record(QuotaKind::Request, "u", "a", 1e9, now), 1_000);
}

#[test]
fn tracked_clients_are_bounded_and_expire() {
    let q = quotas(3);
    q.install(default_client_quota(CONSUMER_BYTE_RATE, 1000.0));
    let start = Instant::now();
    for i in 0..10 {
        let at = start + Duration::from_millis(i);
        q.record(QuotaKind::Fetch, "u", &format!("c{i}"), 1.0, at);
        assert!(q.tracked(QuotaKind::Fetch) <= 3);
    }
    q.expire_idle(start + IDLE_EXPIRY + Duration::from_secs(1));
    assert_eq!(q.tracked(QuotaKind::Fetch), 0);
}
