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
use sqlx::PgPool;
use sqlx::postgres::PgListener;

use super::PostgresStore;
use super::notifications::{self, Reconnect};
use crate::{
    BatchEntry, BatchOutcome, CommitEntry, CommitNotifications, MetadataError, MetadataStore,
    NewTopic, ProducerBatch, SegmentCommit, TopicId,
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

    // The pool's connections die with the server; it opens new ones.
    let mut server = server;
    let server = tokio::task::spawn_blocking(move || {
        server.restart()?;
        anyhow::Ok(server)
    })
    .await??;
    let second = one_batch(topic.id, 2);
    assert_eq!(
        store.commit_segment(&second).await?,
        vec![vec![BatchOutcome::Appended { base_offset: 3 }]]
    );
    assert_eq!(
        store.commit_segment(&first).await?,
        vec![vec![BatchOutcome::Appended { base_offset: 0 }]]
    );
    assert_eq!(store.topic_by_id(topic.id).await?, Some(topic));
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
            Ok(Some(())) => return Ok(()),
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
        Some(())
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
    let long_gone = store.register_agent("10.0.0.1", 9092, None).await?;
    let paused = store.register_agent("10.0.0.2", 9092, None).await?;
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
    let newcomer = store.register_agent("10.0.0.3", 9092, None).await?;
    assert!(!store.heartbeat_agent(long_gone).await?);
    assert!(store.heartbeat_agent(paused).await?);
    assert!(store.heartbeat_agent(newcomer).await?);
    Ok(())
}
