//! The session state machine, step by step, with the time given.

use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus::{IntCounter, IntGauge};

use super::*;

fn metrics() -> SessionMetrics {
    SessionMetrics {
        open: IntGauge::new("open", "open").expect("gauge"),
        partitions: IntGauge::new("partitions", "partitions").expect("gauge"),
        evictions: IntCounter::new("evictions", "evictions").expect("counter"),
    }
}

fn sessions(slots: usize, max_partitions: usize) -> FetchSessions {
    FetchSessions::new(slots, max_partitions, Some(7), metrics())
}

fn key(topic: &str, partition: i32) -> PartitionKey {
    PartitionKey {
        topic: Arc::from(topic),
        partition,
    }
}

fn want(offset: i64) -> Wanted {
    Wanted {
        fetch_offset: offset,
        max_bytes: 1 << 20,
    }
}

/// `n` partitions of topic `t`, all from offset 0.
fn parts(t: &str, n: i32) -> Vec<(PartitionKey, Wanted)> {
    (0..n).map(|p| (key(t, p), want(0))).collect()
}

fn idle(hw: i64) -> Found {
    Found {
        has_records: false,
        high_watermark: hw,
        log_start_offset: 0,
        error: false,
    }
}

fn full(partitions: Vec<(PartitionKey, Wanted)>) -> SessionRequest {
    SessionRequest {
        session_id: NO_SESSION,
        epoch: INITIAL_EPOCH,
        partitions,
        ..SessionRequest::default()
    }
}

fn incremental(id: i32, epoch: i32) -> SessionRequest {
    SessionRequest {
        session_id: id,
        epoch,
        ..SessionRequest::default()
    }
}

/// Opens a session of `partitions`, all idle at high watermark 0.
fn open_session(s: &FetchSessions, partitions: Vec<(PartitionKey, Wanted)>, now: Instant) -> i32 {
    let n = partitions.len();
    let ctx = s.open(full(partitions), now).expect("full request");
    let answer = s.answer(&ctx, &vec![idle(0); n], now).expect("answer");
    assert!(
        answer.keep.iter().all(|k| *k),
        "a full answer has everything"
    );
    answer.session_id
}

#[test]
fn full_request_creates_a_session_and_incremental_answers_only_news() {
    let s = sessions(10, 1000);
    let t0 = Instant::now();
    let id = open_session(&s, parts("a", 3), t0);
    assert_ne!(id, NO_SESSION);
    assert_eq!(s.len(), 1);

    // Epoch 1, nothing changed: the session's partitions are read, none
    // is answered.
    let ctx = s.open(incremental(id, 1), t0).expect("incremental");
    assert_eq!(ctx.partitions().len(), 3);
    let answer = s
        .answer(&ctx, &[idle(0), idle(0), idle(0)], t0)
        .expect("answer");
    assert_eq!(answer.session_id, id);
    assert_eq!(answer.keep, vec![false, false, false]);

    // Records on partition 1 (and its high watermark moved): only it.
    let ctx = s.open(incremental(id, 2), t0).expect("incremental");
    let with_records = Found {
        has_records: true,
        ..idle(5)
    };
    let answer = s
        .answer(&ctx, &[idle(0), with_records, idle(0)], t0)
        .expect("answer");
    assert_eq!(answer.keep, vec![false, true, false]);

    // The client moves partition 1's offset; it was read last time, so it
    // is now read last (fairness), and nothing is news.
    let mut req = incremental(id, 3);
    req.partitions = vec![(key("a", 1), want(5))];
    let ctx = s.open(req, t0).expect("incremental");
    assert_eq!(
        ctx.partitions(),
        &[
            (key("a", 0), want(0)),
            (key("a", 2), want(0)),
            (key("a", 1), want(5))
        ]
    );
    let answer = s
        .answer(&ctx, &[idle(0), idle(0), idle(5)], t0)
        .expect("answer");
    assert_eq!(answer.keep, vec![false, false, false]);
}

#[test]
fn a_moved_log_start_or_an_error_is_news_and_errors_repeat() {
    let s = sessions(10, 1000);
    let t0 = Instant::now();
    let id = open_session(&s, parts("a", 2), t0);
    let ctx = s.open(incremental(id, 1), t0).expect("incremental");
    let moved_start = Found {
        log_start_offset: 3,
        ..idle(0)
    };
    let error = Found {
        error: true,
        ..idle(-1)
    };
    let answer = s.answer(&ctx, &[moved_start, error], t0).expect("answer");
    assert_eq!(answer.keep, vec![true, true]);
    let ctx = s.open(incremental(id, 2), t0).expect("incremental");
    let answer = s.answer(&ctx, &[moved_start, error], t0).expect("answer");
    assert_eq!(
        answer.keep,
        vec![false, true],
        "an error is answered every time"
    );
}

#[test]
fn epochs_are_checked_and_unknown_ids_refused() {
    let s = sessions(10, 1000);
    let t0 = Instant::now();
    let id = open_session(&s, parts("a", 1), t0);
    assert_eq!(
        s.open(incremental(id, 2), t0).err(),
        Some(SessionError::InvalidEpoch {
            id,
            expected: 1,
            got: 2
        })
    );
    // The refused request changed nothing: epoch 1 still works.
    s.open(incremental(id, 1), t0).expect("epoch 1");
    // A repeated request (epoch 1 again) is refused.
    assert!(matches!(
        s.open(incremental(id, 1), t0),
        Err(SessionError::InvalidEpoch { expected: 2, .. })
    ));
    let unknown = id.wrapping_add(1).max(1);
    assert_eq!(
        s.open(incremental(unknown, 1), t0).err(),
        Some(SessionError::NotFound(unknown))
    );
}

#[test]
fn an_answer_overtaken_by_a_newer_request_is_refused() {
    let s = sessions(10, 1000);
    let t0 = Instant::now();
    let id = open_session(&s, parts("a", 1), t0);
    let first = s.open(incremental(id, 1), t0).expect("epoch 1");
    let second = s.open(incremental(id, 2), t0).expect("epoch 2");
    assert!(matches!(
        s.answer(&first, &[idle(0)], t0),
        Err(SessionError::InvalidEpoch { .. })
    ));
    // Closed while the newer one long-polled: its answer finds no session.
    let mut close = incremental(id, FINAL_EPOCH);
    close.partitions = parts("a", 1);
    s.open(close, t0).expect("close");
    assert_eq!(
        s.answer(&second, &[idle(0)], t0).err(),
        Some(SessionError::NotFound(id))
    );
}

#[test]
fn forgotten_partitions_leave_and_an_emptied_session_closes() {
    let s = sessions(10, 1000);
    let t0 = Instant::now();
    let mut all = parts("a", 2);
    all.extend(parts("b", 1));
    let id = open_session(&s, all, t0);
    let mut req = incremental(id, 1);
    req.forgotten = vec![key("a", 0), key("a", 1)];
    req.partitions = vec![(key("c", 0), want(9))];
    let ctx = s.open(req, t0).expect("incremental");
    assert_eq!(
        ctx.partitions(),
        &[(key("b", 0), want(0)), (key("c", 0), want(9))]
    );
    // A partition new to the session is news (its high watermark was never
    // told).
    let answer = s.answer(&ctx, &[idle(0), idle(0)], t0).expect("answer");
    assert_eq!(answer.keep, vec![false, true]);

    let mut req = incremental(id, 2);
    req.forgotten = vec![key("b", 0), key("c", 0)];
    let ctx = s.open(req, t0).expect("incremental");
    assert!(matches!(ctx, FetchContext::Sessionless { .. }));
    assert!(s.is_empty());
}

#[test]
fn epoch_minus_one_closes_and_zero_replaces() {
    let s = sessions(10, 1000);
    let t0 = Instant::now();
    let id = open_session(&s, parts("a", 1), t0);
    let mut close = incremental(id, FINAL_EPOCH);
    close.partitions = parts("a", 1);
    let ctx = s.open(close, t0).expect("close");
    assert!(matches!(ctx, FetchContext::Sessionless { .. }));
    assert_eq!(
        s.answer(&ctx, &[idle(0)], t0).expect("answer").session_id,
        0
    );
    assert!(s.is_empty());
    assert_eq!(
        s.open(incremental(id, 1), t0).err(),
        Some(SessionError::NotFound(id))
    );

    // Sessionless: id 0, epoch -1 creates nothing.
    let mut none = full(parts("a", 1));
    none.epoch = FINAL_EPOCH;
    let ctx = s.open(none, t0).expect("sessionless");
    assert_eq!(
        s.answer(&ctx, &[idle(0)], t0).expect("answer").session_id,
        0
    );
    assert!(s.is_empty());

    // Epoch 0 with an id: the old session goes, a new one comes.
    let old = open_session(&s, parts("a", 1), t0);
    let mut again = full(parts("a", 1));
    again.session_id = old;
    let ctx = s.open(again, t0).expect("full");
    let new = s.answer(&ctx, &[idle(0)], t0).expect("answer").session_id;
    assert_ne!(new, old);
    assert_eq!(s.len(), 1);
    assert!(s.open(incremental(old, 1), t0).is_err());
}

#[test]
fn a_session_holds_no_more_partitions_than_a_request_carries() {
    let s = sessions(10, 3);
    let t0 = Instant::now();
    // Too large from the start: answered, but no session.
    let ctx = s.open(full(parts("a", 4)), t0).expect("full");
    assert_eq!(
        s.answer(&ctx, &[idle(0); 4], t0)
            .expect("answer")
            .session_id,
        0
    );
    // Grown too large by increments: the session goes.
    let id = open_session(&s, parts("a", 3), t0);
    let mut req = incremental(id, 1);
    req.partitions = vec![(key("b", 0), want(0))];
    assert_eq!(s.open(req, t0).err(), Some(SessionError::NotFound(id)));
    assert!(s.is_empty());
}

#[test]
fn a_full_cache_evicts_idle_sessions_then_smaller_old_ones() {
    let s = sessions(2, 1000);
    let t0 = Instant::now();
    let small = open_session(&s, parts("a", 1), t0);
    let large = open_session(&s, parts("b", 5), t0);
    // Both young: no room for a third, whatever its size.
    assert_eq!(open_session(&s, parts("c", 9), t0), NO_SESSION);
    assert_eq!(s.metrics.evictions.get(), 0);

    // Once older than MIN_EVICTION (as of their last use) the smaller one
    // gives way to a larger newcomer, never to a smaller or equal one.
    let later = t0 + MIN_EVICTION + Duration::from_secs(1);
    s.open(incremental(small, 1), later).expect("use small");
    s.open(incremental(large, 1), later).expect("use large");
    assert_eq!(open_session(&s, parts("d", 1), later), NO_SESSION);
    let newcomer = open_session(&s, parts("e", 2), later);
    assert_ne!(newcomer, NO_SESSION);
    assert_eq!(
        s.open(incremental(small, 2), later).err(),
        Some(SessionError::NotFound(small))
    );
    assert_eq!(s.metrics.evictions.get(), 1);

    // A session idle for longer than MIN_EVICTION goes for anyone.
    let much_later = later + MIN_EVICTION + Duration::from_secs(1);
    s.open(incremental(large, 2), much_later)
        .expect("use large");
    let tiny = open_session(&s, parts("f", 1), much_later);
    assert_ne!(tiny, NO_SESSION);
    assert!(s.open(incremental(newcomer, 1), much_later).is_err());
    assert_eq!(s.metrics.evictions.get(), 2);
    assert_eq!(s.metrics.open.get(), 2);
    assert_eq!(s.metrics.partitions.get(), 6);
}

#[test]
fn zero_slots_means_no_sessions() {
    let s = sessions(0, 1000);
    assert_eq!(open_session(&s, parts("a", 1), Instant::now()), NO_SESSION);
}

#[test]
fn epochs_wrap_to_one() {
    assert_eq!(next_epoch(1), 2);
    assert_eq!(next_epoch(i32::MAX), 1);
}
