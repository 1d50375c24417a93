//! Clients that follow the protocol, driven at random against the cache:
//! whatever the interleaving, evictions and elapsed time, a well-behaved
//! client never sees an epoch error, reads exactly the partitions it
//! believes are in its session, and is told exactly what changed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus::{IntCounter, IntGauge};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

/// What one client knows: its session and what it last heard of each
/// partition (high watermark, log start), as Kafka's FetchSessionHandler.
#[derive(Debug, Default)]
struct Client {
    session: Option<(i32, i32)>,
    heard: BTreeMap<PartitionKey, (Wanted, i64, i64)>,
    desired: BTreeMap<PartitionKey, Wanted>,
}

fn key(rng: &mut StdRng) -> PartitionKey {
    PartitionKey {
        topic: Arc::from(format!("t{}", rng.random_range(0..3))),
        partition: rng.random_range(0..4),
    }
}

#[test]
fn random_clients_follow_the_protocol() {
    let (mut incremental, mut evictions) = (0, 0);
    for seed in 0..20 {
        let (i, e) = run(seed);
        incremental += i;
        evictions += e;
    }
    // The walk reaches what it is meant to check.
    assert!(incremental > 1000, "{incremental} incremental requests");
    assert!(evictions > 10, "{evictions} evictions");
}

/// Returns the incremental requests served and the sessions evicted.
fn run(seed: u64) -> (u64, u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let metrics = SessionMetrics {
        open: IntGauge::new("open", "open").expect("gauge"),
        partitions: IntGauge::new("partitions", "partitions").expect("gauge"),
        evictions: IntCounter::new("evictions", "evictions").expect("counter"),
    };
    let sessions = FetchSessions::new(3, 10, Some(seed), metrics);
    let mut clients: Vec<Client> = (0..5).map(|_| Client::default()).collect();
    // The log: high watermark of every partition.
    let mut logs: BTreeMap<PartitionKey, i64> = BTreeMap::new();
    let mut now = Instant::now();
    let mut incremental = 0;
    for _ in 0..400 {
        now += Duration::from_secs(rng.random_range(0..40));
        let k = key(&mut rng);
        *logs.entry(k).or_default() += rng.random_range(0..2);
        let c = &mut clients[rng.random_range(0..5)];
        match rng.random_range(0..4) {
            0 => {
                let k = key(&mut rng);
                let offset = rng.random_range(0..5);
                c.desired.insert(
                    k,
                    Wanted {
                        fetch_offset: offset,
                        max_bytes: 100,
                    },
                );
            }
            1 => {
                let k = key(&mut rng);
                c.desired.remove(&k);
            }
            _ => {}
        }
        incremental += u64::from(step(&sessions, c, &logs, &mut rng, now, seed));
        assert!(sessions.len() <= 3);
    }
    (incremental, sessions.metrics.evictions.get())
}

fn step(
    sessions: &FetchSessions,
    c: &mut Client,
    logs: &BTreeMap<PartitionKey, i64>,
    rng: &mut StdRng,
    now: Instant,
    seed: u64,
) -> bool {
    let mut req = SessionRequest::default();
    match c.session {
        None => {
            req.epoch = INITIAL_EPOCH;
            req.partitions = c.desired.iter().map(|(k, w)| (k.clone(), *w)).collect();
        }
        Some((id, epoch)) => {
            req.session_id = id;
            req.epoch = epoch;
            req.partitions = c
                .desired
                .iter()
                .filter(|(k, w)| c.heard.get(*k).map(|h| h.0) != Some(**w))
                .map(|(k, w)| (k.clone(), *w))
                .collect();
            req.forgotten = c
                .heard
                .keys()
                .filter(|k| !c.desired.contains_key(*k))
                .cloned()
                .collect();
        }
    }
    let incremental = c.session.is_some();
    let context = match sessions.open(req, now) {
        Ok(context) => context,
        Err(SessionError::NotFound(_)) if incremental => {
            // Evicted by another client, or grown past the bound: start over.
            c.session = None;
            c.heard.clear();
            return false;
        }
        Err(e) => panic!("seed {seed}: a well-behaved client got {e}"),
    };
    let read: Vec<PartitionKey> = context
        .partitions()
        .iter()
        .map(|(k, _)| k.clone())
        .collect();
    if let FetchContext::Incremental { .. } = context {
        let mut expected: Vec<&PartitionKey> = c.desired.keys().collect();
        let mut got: Vec<&PartitionKey> = read.iter().collect();
        expected.sort();
        got.sort();
        assert_eq!(
            got, expected,
            "seed {seed}: the session holds what the client thinks"
        );
    }
    let found: Vec<Found> = context
        .partitions()
        .iter()
        .map(|(k, w)| {
            let hw = logs.get(k).copied().unwrap_or(0);
            let error = rng.random_range(0..20) == 0;
            Found {
                has_records: !error && w.fetch_offset < hw,
                high_watermark: if error { -1 } else { hw },
                log_start_offset: if error { -1 } else { 0 },
                error,
            }
        })
        .collect();
    let answer = sessions
        .answer(&context, &found, now)
        .unwrap_or_else(|e| panic!("seed {seed}: answer refused: {e}"));
    match context {
        FetchContext::Incremental { id, epoch, .. } => {
            for ((k, f), keep) in read.iter().zip(&found).zip(&answer.keep) {
                let news = match c.heard.get(k) {
                    Some((_, hw, ls)) => {
                        f.has_records
                            || f.error
                            || *hw != f.high_watermark
                            || *ls != f.log_start_offset
                    }
                    None => true,
                };
                assert_eq!(*keep, news, "seed {seed}: {k:?} answered iff it has news");
            }
            c.session = Some((id, epoch));
        }
        FetchContext::Full { .. } => {
            assert!(answer.keep.iter().all(|k| *k));
            c.session = (answer.session_id != NO_SESSION).then_some((answer.session_id, 1));
        }
        FetchContext::Sessionless { .. } => c.session = None,
    }
    c.heard.clear();
    if c.session.is_some() {
        for ((k, w), f) in context.partitions().iter().zip(&found) {
            let hw = if f.error { -1 } else { f.high_watermark };
            c.heard.insert(k.clone(), (*w, hw, f.log_start_offset));
        }
    }
    incremental
}
