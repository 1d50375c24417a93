//! Postgres-specific tests: connecting, migrating concurrently, living
//! through a restart of the server, and what commit notifications carry.
//! Behaviour every store shares is in the contract suite,
//! `tests/contract.rs`.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use floe_tests::TestPostgres;
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;
use sqlx::postgres::PgListener;

use super::PostgresStore;
use super::notifications::{self, Reconnect};
use crate::{
    BatchEntry, BatchOutcome, CommitEntry, CommitNotifications, MetadataError, MetadataStore,
    NewTopic, ProducerBatch, SegmentCommit, StoreEvent, TopicId,
};

/// How long a notification may take before a test gives up: a bound so a
/// broken stream fails instead of hanging, not a latency requirement.
const PATIENCE: Duration = Duration::from_secs(10);

/// One server for the tests that do not restart it, started on first use
/// and removed by its watchdog when the test process exits.
static SERVER: OnceLock<Result<TestPostgres, String>> = OnceLock::new();

/// A fresh database named `name` on the shared server.
async fn database(name: &'static str) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        SERVER
            .get_or_init(|| TestPostgres::start().map_err(|error| format!("{error:#}")))
            .as_ref()
            .map_err(|error| anyhow::anyhow!("cannot start a test postgres: {error}"))?
            .create_database(name)
    })
    .await?
}

/// A topic with one partition.
fn new_topic(name: &str) -> NewTopic {
    NewTopic {
        name: name.to_string(),
        partitions: 1,
        config: BTreeMap::new(),
    }
}

/// A one-batch segment for partition 0 of `topic`.
fn one_batch(topic: TopicId, offset_count: i64) -> SegmentCommit {
    SegmentCommit {
        segment_id: uuid::Uuid::new_v4(),
        object_key: "segments/test.floe".to_string(),
        size: 1_000,
        entries: vec![CommitEntry {
            topic_id: topic,
            partition: 0,
            batches: vec![BatchEntry {
                byte_offset: 64,
                byte_len: 100,
                offset_count,
                max_timestamp: 1,
                producer: None,
                txn: crate::BatchTxn::None,
            }],
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_survives_a_server_restart() -> anyhow::Result<()> {
    let server = tokio::task::spawn_blocking(TestPostgres::start).await??;
    let url = server.create_database("restart")?;

    // Agents starting together migrate the fresh database once.
    let (a, b) = tokio::join!(PostgresStore::connect(&url), PostgresStore::connect(&url));
    let (a, b) = (a?, b?);
    b.close().await;
    let store = crate::open(&url.replacen("postgres://", "postgresql://", 1)).await?;
    drop(a);

    let topic = store.create_topic(new_topic("orders")).await?;
    let first = one_batch(topic.id, 3);
    assert_eq!(
        store.commit_segment(&first).await?,
        vec![vec![BatchOutcome::Appended { base_offset: 0 }]]
    );

    // The pool's connections die with the server; it opens new ones. The
    // store tries a commit once: a commit sent on a connection that died
    // fails with an unknown outcome, and the caller (the agent's flusher)
    // asks again, which is safe as a commit is idempotent.
    let mut server = server;
    let server = tokio::task::spawn_blocking(move || {
        server.restart()?;
        anyhow::Ok(server)
    })
    .await??;
    let second = one_batch(topic.id, 2);
    assert_eq!(
        commit_as_the_flusher_does(&*store, &second).await?,
        vec![vec![BatchOutcome::Appended { base_offset: 3 }]]
    );
    assert_eq!(
        commit_as_the_flusher_does(&*store, &first).await?,
        vec![vec![BatchOutcome::Appended { base_offset: 0 }]]
    );
    // A read sent on a pooled connection that died with the server fails
    // once (the caller's client retries); the pool then opens a new one.
    let found = match store.topic_by_id(topic.id).await {
        Ok(found) => found,
        Err(error) => {
            eprintln!("read on a dead connection failed: {error}");
            store.topic_by_id(topic.id).await?
        }
    };
    assert_eq!(found, Some(topic));
    drop(store);
    tokio::task::spawn_blocking(move || drop(server)).await?;
    Ok(())
}

#[tokio::test]
async fn bad_urls_are_invalid() -> anyhow::Result<()> {
    for url in [
        "postgres://127.0.0.1:notaport/floe",
        "postgresql://127.0.0.1/floe?sslmode=sometimes",
    ] {
        let result = PostgresStore::connect(url).await;
        assert!(
            matches!(result, Err(MetadataError::Invalid(_))),
            "{url}: got {result:?}"
        );
    }
    Ok(())
}

/// Commits as the agent's flusher does: asks again, a few times, after an
/// error that leaves the outcome unknown.
async fn commit_as_the_flusher_does(
    store: &dyn MetadataStore,
    commit: &SegmentCommit,
) -> crate::Result<Vec<Vec<BatchOutcome>>> {
    for _ in 0..10 {
        match store.commit_segment(commit).await {
            Err(error) if !error.is_definitive() => {
                eprintln!("commit failed, asking again: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            result => return result,
        }
    }
    store.commit_segment(commit).await
}

/// A one-batch segment for partition 0 of `topic`, of idempotent producer 7
/// at epoch 0 and sequence 0.
fn idempotent_batch(topic: TopicId) -> SegmentCommit {
    let mut commit = one_batch(topic, 1);
    for entry in &mut commit.entries {
        for batch in &mut entry.batches {
            batch.producer = Some(ProducerBatch {
                producer_id: 7,
                producer_epoch: 0,
                base_sequence: 0,
            });
        }
    }
    commit
}

/// The backends of this database that listen for commit notifications.
async fn listening_connections(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'floe-notifications'",
    )
    .fetch_one(pool)
    .await?)
}

/// Waits until [`listening_connections`] is `expected`.
async fn until_listening_connections(pool: &PgPool, expected: i64) -> anyhow::Result<()> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let count = listening_connections(pool).await?;
        if count == expected {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{count} listening connections, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Commits one batch after another until `notifications` yields: after a
/// failure of the server the stream connects again in the background, and
/// commits made before it listens again are not heard.
async fn commit_until_heard(
    committing: &PostgresStore,
    topic: TopicId,
    notifications: &mut CommitNotifications,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Err(error) = committing.commit_segment(&one_batch(topic, 1)).await {
            eprintln!("commit while the server comes back failed, retrying: {error}");
        }
        match tokio::time::timeout(Duration::from_secs(1), notifications.next()).await {
            Ok(Some(StoreEvent::Committed)) => return Ok(()),
            // Listening again after the failure; the commit comes next.
            Ok(Some(_)) => {}
            Ok(None) => anyhow::bail!("the stream ended after a failure of the server"),
            Err(_) => anyhow::ensure!(
                Instant::now() < deadline,
                "no notification within 15 s of the server's return"
            ),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_commits_that_append_notify() -> anyhow::Result<()> {
    let url = database("notify_payloads").await?;
    let store = PostgresStore::connect(&url).await?;
    let mut listener = PgListener::connect(&url).await?;
    listener.listen("floe_commits").await?;
    let topic = store.create_topic(new_topic("orders")).await?;
    let doomed = store.create_topic(new_topic("doomed")).await?;
    store.delete_topic(doomed.id).await?;

    // The store notifies after each commit that appended, with the id of
    // the segment; commits made while a notification is being sent are
    // merged into the next one, so each step below waits for its own.
    let heard = async |listener: &mut PgListener, expected: &SegmentCommit| {
        let notification = tokio::time::timeout(PATIENCE, listener.recv()).await??;
        assert_eq!(notification.payload(), expected.segment_id.to_string());
        anyhow::Ok(())
    };
    let plain = one_batch(topic.id, 2);
    store.commit_segment(&plain).await?;
    heard(&mut listener, &plain).await?;

    // A retry returns the stored outcomes: nothing new to read. Had it
    // notified, its id would come before the next commit's.
    store.commit_segment(&plain).await?;
    let idempotent = idempotent_batch(topic.id);
    store.commit_segment(&idempotent).await?;
    heard(&mut listener, &idempotent).await?;

    // The same producer batch in another segment is a duplicate; a batch
    // for a deleted topic is refused. Neither notifies.
    assert_eq!(
        store.commit_segment(&idempotent_batch(topic.id)).await?,
        vec![vec![BatchOutcome::Duplicate { base_offset: 2 }]]
    );
    assert_eq!(
        store.commit_segment(&one_batch(doomed.id, 1)).await?,
        vec![vec![BatchOutcome::UnknownPartition]]
    );
    let last = one_batch(topic.id, 1);
    store.commit_segment(&last).await?;
    heard(&mut listener, &last).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notification_streams_release_their_connection() -> anyhow::Result<()> {
    let url = database("notify_release").await?;
    let observer = PgPool::connect(&url).await?;
    let store = PostgresStore::connect(&url).await?;

    // The stream listens before it is returned, on a connection of its own.
    let stream = store
        .commit_notifications()
        .await?
        .context("postgres offers notifications")?;
    assert_eq!(listening_connections(&observer).await?, 1);
    drop(stream);
    until_listening_connections(&observer, 0).await?;

    // Closing the store ends its streams, which then let go too.
    let mut stream = store
        .commit_notifications()
        .await?
        .context("postgres offers notifications")?;
    assert_eq!(listening_connections(&observer).await?, 1);
    store.close().await;
    assert_eq!(tokio::time::timeout(PATIENCE, stream.next()).await?, None);
    until_listening_connections(&observer, 0).await?;

    // So does dropping the store: a stream never outlives its store.
    let store = PostgresStore::connect(&url).await?;
    let mut stream = store
        .commit_notifications()
        .await?
        .context("postgres offers notifications")?;
    drop(store);
    assert_eq!(tokio::time::timeout(PATIENCE, stream.next()).await?, None);
    until_listening_connections(&observer, 0).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_survive_a_server_restart() -> anyhow::Result<()> {
    let server = tokio::task::spawn_blocking(TestPostgres::start).await??;
    let url = server.create_database("notify_restart")?;
    let listening = PostgresStore::connect(&url).await?;
    let committing = PostgresStore::connect(&url).await?;
    let mut notifications = listening
        .commit_notifications()
        .await?
        .context("postgres offers notifications")?;
    let topic = committing.create_topic(new_topic("orders")).await?;
    committing.commit_segment(&one_batch(topic.id, 1)).await?;
    assert_eq!(
        tokio::time::timeout(PATIENCE, notifications.next()).await?,
        Some(StoreEvent::Committed)
    );

    let mut server = server;
    let server = tokio::task::spawn_blocking(move || {
        server.restart()?;
        anyhow::Ok(server)
    })
    .await??;

    commit_until_heard(&committing, topic.id, &mut notifications).await?;
    drop((notifications, listening, committing));
    tokio::task::spawn_blocking(move || drop(server)).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_survive_an_outage_longer_than_a_connect_attempt() -> anyhow::Result<()> {
    let server = tokio::task::spawn_blocking(TestPostgres::start).await??;
    let url = server.create_database("notify_outage")?;
    let listening = PostgresStore::connect(&url).await?;
    let committing = PostgresStore::connect(&url).await?;
    // Attempts that give up quickly, so the outage below makes several fail
    // and the stream has to start afresh (a short one PgListener rides out
    // by itself).
    let quick = Reconnect {
        connect_timeout: Duration::from_millis(200),
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
    };
    let mut notifications = notifications::subscribe(&listening.pool, quick).await?;
    let topic = committing.create_topic(new_topic("orders")).await?;

    let mut server = server;
    let outage = tokio::task::spawn_blocking(move || {
        server.stop()?;
        std::thread::sleep(Duration::from_secs(2));
        server.restart()?;
        anyhow::Ok(server)
    });
    // The stream is polled all along, as an agent does, so it meets the
    // outage and fails to connect, again and again. Nothing is committed
    // meanwhile: it must not yield, nor end.
    let during = tokio::time::timeout(Duration::from_millis(1_500), notifications.next()).await;
    assert!(
        during.is_err(),
        "the stream yielded {during:?} during the outage"
    );
    let server = outage.await??;
    commit_until_heard(&committing, topic.id, &mut notifications).await?;
    drop((notifications, listening, committing));
    tokio::task::spawn_blocking(move || drop(server)).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_silent_agents_are_forgotten_at_the_next_registration() -> anyhow::Result<()> {
    let url = database("agents_forgotten").await?;
    let store = PostgresStore::connect(&url).await?;
    let long_gone = store.register_agent("10.0.0.1", 9092, None, "").await?;
    let paused = store.register_agent("10.0.0.2", 9092, None, "").await?;
    let silent_for = |age: &'static str, node_id: i32| {
        sqlx::query(
            "UPDATE agents SET heartbeat_at = heartbeat_at - $1::interval WHERE node_id = $2",
        )
        .bind(age)
        .bind(node_id)
    };
    silent_for("2 hours", long_gone)
        .execute(&store.pool)
        .await?;
    silent_for("30 minutes", paused)
        .execute(&store.pool)
        .await?;
    let newcomer = store.register_agent("10.0.0.3", 9092, None, "").await?;
    assert!(!store.heartbeat_agent(long_gone).await?);
    assert!(store.heartbeat_agent(paused).await?);
    assert!(store.heartbeat_agent(newcomer).await?);
    Ok(())
}

/// A seeded generator for the random commits, so a failing seed replays.
struct Random(StdRng);

impl Random {
    fn new(seed: u64) -> Self {
        Self(StdRng::seed_from_u64(seed))
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.0.random_range(0..n)
    }

    /// True once in `n` times.
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

/// What the generator remembers of a producer on a partition, to make
/// plausible batches: the epoch and sequence it would use next, and its
/// recent batches (to send again, as a retrying producer does).
#[derive(Default, Clone)]
struct ProducerModel {
    epoch: i16,
    next_sequence: i32,
    recent: Vec<(i16, i32, i64)>,
}

/// A random batch of idempotent producer `producer`: usually the next in
/// sequence, sometimes a retry of a recent one, a gap, a fenced epoch, a
/// new epoch (from sequence 0 or not), or a wrap past `i32::MAX`.
fn random_producer_batch(random: &mut Random, producer: &mut ProducerModel) -> (i16, i32, i64) {
    let offset_count = 1 + random.below(3) as i64;
    let batch = match random.below(40) {
        28..=31 if !producer.recent.is_empty() => {
            producer.recent[random.below(producer.recent.len() as u64) as usize]
        }
        32 => (
            producer.epoch,
            ((i64::from(producer.next_sequence) + 1 + random.below(3) as i64) % (1 << 31)) as i32,
            offset_count,
        ),
        33 if producer.epoch > 0 => (producer.epoch - 1, producer.next_sequence, offset_count),
        34 => (producer.epoch + 1, 0, offset_count),
        35 => (producer.epoch + 1, 5, offset_count),
        36 => (producer.epoch, i32::MAX - 1, offset_count),
        _ => (producer.epoch, producer.next_sequence, offset_count),
    };
    // The model follows what the producer sent, right or wrong; the stores
    // decide. A sequence past i32::MAX wraps.
    let (epoch, base, count) = batch;
    if epoch >= producer.epoch {
        producer.epoch = epoch;
        producer.next_sequence = ((i64::from(base) + count) % (1 << 31)) as i32;
    }
    producer.recent.push(batch);
    if producer.recent.len() > 7 {
        producer.recent.remove(0);
    }
    batch
}

/// The Postgres commit, set-based in PL/pgSQL, gives the same answers as
/// the SQLite store, which runs the rules of `sequencer.rs` batch by
/// batch, on random commits: several entries, several batches per entry
/// from a few idempotent producers and plain ones, retries, gaps, fenced
/// and new epochs, wrapping sequences, unknown partitions, batches not
/// adjacent in the file, and retried commits. Index rows and high
/// watermarks must agree too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_based_commit_agrees_with_the_sequencer() -> anyhow::Result<()> {
    const PARTITIONS: i32 = 3;
    let url = database("set_based_agrees").await?;
    let postgres = PostgresStore::connect(&url).await?;
    let sqlite = crate::SqliteStore::connect("sqlite::memory:").await?;
    let stores: [&dyn MetadataStore; 2] = [&postgres, &sqlite];
    let mut topics = Vec::new();
    for store in stores {
        let mut topic = new_topic("orders");
        topic.partitions = PARTITIONS;
        let live = store.create_topic(topic).await?;
        let gone = store.create_topic(new_topic("gone")).await?;
        store.delete_topic(gone.id).await?;
        topics.push((live.id, gone.id));
    }

    for seed in 1..=3u64 {
        let mut random = Random::new(seed);
        let mut models: BTreeMap<(i32, i64), ProducerModel> = BTreeMap::new();
        // Each commit as the two stores see it (their topic ids differ).
        let mut committed: Vec<[SegmentCommit; 2]> = Vec::new();
        for round in 0..120 {
            // A retry of an earlier commit, now and then.
            if !committed.is_empty() && random.one_in(8) {
                let earlier = &committed[random.below(committed.len() as u64) as usize];
                let answers = [
                    postgres.commit_segment(&earlier[0]).await?,
                    sqlite.commit_segment(&earlier[1]).await?,
                ];
                assert_eq!(answers[0], answers[1], "seed {seed} round {round}: retry");
                continue;
            }
            let segment_id = uuid::Uuid::now_v7();
            let before = models.clone();
            let mut entries: [Vec<CommitEntry>; 2] = [Vec::new(), Vec::new()];
            let mut position = 64;
            let mut partitions: Vec<i32> = (0..PARTITIONS).collect();
            let entry_count = 1 + random.below(PARTITIONS as u64) as usize;
            for _ in 0..entry_count {
                let partition = partitions.remove(random.below(partitions.len() as u64) as usize);
                let to_gone = random.one_in(10);
                let mut batches = Vec::new();
                for _ in 0..1 + random.below(6) {
                    if random.one_in(5) {
                        position += 10; // not adjacent to the batch before
                    }
                    let producer = if random.one_in(4) {
                        None
                    } else {
                        // New producers for each seed: the stores remember the last ones.
                        let producer_id = 10 * seed as i64 + random.below(2) as i64;
                        let model = models.entry((partition, producer_id)).or_default();
                        let (epoch, base_sequence, count) =
                            random_producer_batch(&mut random, model);
                        Some((
                            ProducerBatch {
                                producer_id,
                                producer_epoch: epoch,
                                base_sequence,
                            },
                            count,
                        ))
                    };
                    let offset_count = producer.map_or(1 + random.below(3) as i64, |(_, c)| c);
                    let byte_len = 100 * offset_count as u64;
                    batches.push(BatchEntry {
                        byte_offset: position,
                        byte_len,
                        offset_count,
                        max_timestamp: random.below(1_000) as i64,
                        producer: producer.map(|(batch, _)| batch),
                        txn: crate::BatchTxn::None,
                    });
                    position += byte_len;
                }
                for (side, (live, gone)) in topics.iter().enumerate() {
                    entries[side].push(CommitEntry {
                        topic_id: if to_gone { *gone } else { *live },
                        partition: if to_gone { 0 } else { partition },
                        batches: batches.clone(),
                    });
                }
            }
            let [for_postgres, for_sqlite] = entries.map(|entries| SegmentCommit {
                segment_id,
                object_key: format!("segments/{segment_id}.floe"),
                size: position + 32,
                entries,
            });
            let answers = [
                postgres.commit_segment(&for_postgres).await,
                sqlite.commit_segment(&for_sqlite).await,
            ];
            match answers {
                [Ok(postgres_answer), Ok(sqlite_answer)] => {
                    assert_eq!(
                        postgres_answer, sqlite_answer,
                        "seed {seed} round {round}: {for_sqlite:#?}"
                    );
                    // The producers go on from what was accepted.
                    let recent: BTreeMap<_, _> = models
                        .iter()
                        .map(|(key, model)| (*key, model.recent.clone()))
                        .collect();
                    models = before;
                    for (key, recent) in recent {
                        models.entry(key).or_default().recent = recent;
                    }
                    for (entry, outcomes) in for_sqlite.entries.iter().zip(&sqlite_answer) {
                        for (batch, outcome) in entry.batches.iter().zip(outcomes) {
                            if let (Some(producer), BatchOutcome::Appended { .. }) =
                                (batch.producer, outcome)
                                && entry.topic_id == topics[1].0
                            {
                                let model = models
                                    .entry((entry.partition, producer.producer_id))
                                    .or_default();
                                model.epoch = producer.producer_epoch;
                                model.next_sequence =
                                    ((i64::from(producer.base_sequence) + batch.offset_count)
                                        % (1 << 31)) as i32;
                            }
                        }
                    }
                    committed.push([for_postgres, for_sqlite]);
                }
                // A commit both refuse (an entry for the deleted topic
                // twice) is fine, as long as both refuse it.
                [
                    Err(MetadataError::Invalid(_)),
                    Err(MetadataError::Invalid(_)),
                ] => models = before,
                answers => panic!("seed {seed} round {round}: {answers:?}"),
            }
        }
    }

    for partition in 0..PARTITIONS {
        let mut seen = Vec::new();
        for (store, (live, _)) in stores.iter().zip(&topics) {
            let offsets = store.partition_offsets(*live, partition).await?;
            let rows: Vec<_> = store
                .index_rows(*live, partition, 0, 100_000)
                .await?
                .into_iter()
                .map(|row| {
                    (
                        row.base_offset,
                        row.last_offset,
                        row.segment_id,
                        row.byte_offset,
                        row.byte_len,
                        row.max_timestamp,
                    )
                })
                .collect();
            seen.push((offsets, rows));
        }
        assert_eq!(seen[0], seen[1], "partition {partition}");
        assert!(
            seen[0].1.len() > 10,
            "partition {partition} has too few rows to tell"
        );
    }
    Ok(())
}
