//! SQLite-specific tests: connection settings, stored data the public API
//! cannot produce (corruption, an exhausted epoch). Behaviour every store
//! shares is in the contract suite, `tests/contract.rs`.

use std::collections::BTreeMap;

use super::SqliteStore;
use crate::{MetadataError, MetadataStore, NewTopic, ProducerIdentity};

fn new_topic(name: &str) -> NewTopic {
    NewTopic {
        name: name.to_string(),
        partitions: 1,
        config: BTreeMap::new(),
    }
}

#[tokio::test]
async fn file_is_created_with_wal_and_full_sync() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("meta.db");
    let store = SqliteStore::connect(&format!("sqlite://{}", path.display())).await?;
    assert!(path.exists());
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&store.pool)
        .await?;
    assert_eq!(journal, "wal");
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&store.pool)
        .await?;
    assert_eq!(synchronous, 2, "synchronous must be FULL");
    store.close().await;
    Ok(())
}

#[tokio::test]
async fn bad_locations_fail_without_panicking() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let missing_dir = dir.path().join("no/such/dir/meta.db");
    let result = SqliteStore::connect(&format!("sqlite://{}", missing_dir.display())).await;
    assert!(
        matches!(result, Err(MetadataError::Database(_))),
        "got {result:?}"
    );
    let result = SqliteStore::connect("sqlite://x.db?mode=nonsense").await;
    assert!(
        matches!(result, Err(MetadataError::Invalid(_))),
        "got {result:?}"
    );
    for url in ["mysql://localhost/floe", "floe.db", "postgres:floe"] {
        let result = crate::open(url).await;
        assert!(
            matches!(result, Err(MetadataError::UnsupportedUrl(_))),
            "{url}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn each_memory_store_is_private() -> anyhow::Result<()> {
    let a = SqliteStore::connect("sqlite::memory:").await?;
    let b = SqliteStore::connect("sqlite::memory:").await?;
    a.create_topic(new_topic("orders")).await?;
    assert!(a.topic_by_name("orders").await?.is_some());
    assert_eq!(b.topic_by_name("orders").await?, None);
    Ok(())
}

#[tokio::test]
async fn exhausted_epoch_gets_a_fresh_producer_id() -> anyhow::Result<()> {
    let store = SqliteStore::connect("sqlite::memory:").await?;
    let first = store.init_producer_id(Some("tx")).await?;
    sqlx::query("UPDATE transactional_ids SET epoch = 32765 WHERE transactional_id = 'tx'")
        .execute(&store.pool)
        .await?;
    let last = store.init_producer_id(Some("tx")).await?;
    assert_eq!(
        last,
        ProducerIdentity {
            producer_id: first.producer_id,
            epoch: i16::MAX - 1
        }
    );
    let fresh = store.init_producer_id(Some("tx")).await?;
    assert_ne!(fresh.producer_id, first.producer_id);
    assert_eq!(fresh.epoch, 0);
    let bumped = store.init_producer_id(Some("tx")).await?;
    assert_eq!(
        bumped,
        ProducerIdentity {
            producer_id: fresh.producer_id,
            epoch: 1
        }
    );

    sqlx::query("UPDATE transactional_ids SET epoch = 70000 WHERE transactional_id = 'tx'")
        .execute(&store.pool)
        .await?;
    let result = store.init_producer_id(Some("tx")).await;
    assert!(
        matches!(result, Err(MetadataError::Corrupt(_))),
        "got {result:?}"
    );
    Ok(())
}

#[tokio::test]
async fn corrupt_rows_are_reported_not_panicked_on() -> anyhow::Result<()> {
    let store = SqliteStore::connect("sqlite::memory:").await?;
    store.create_topic(new_topic("orders")).await?;
    sqlx::query("UPDATE topics SET config = 'not json' WHERE name = 'orders'")
        .execute(&store.pool)
        .await?;
    let result = store.topic_by_name("orders").await;
    assert!(
        matches!(result, Err(MetadataError::Corrupt(_))),
        "got {result:?}"
    );
    let result = store.list_topics().await;
    assert!(
        matches!(result, Err(MetadataError::Corrupt(_))),
        "got {result:?}"
    );

    // The schema's checks keep ids 16 bytes long; bypass them (and the
    // foreign key from `partitions`) to corrupt one.
    let mut conn = store.pool.acquire().await?;
    for pragma in [
        "PRAGMA ignore_check_constraints = ON",
        "PRAGMA foreign_keys = OFF",
    ] {
        sqlx::query(pragma).execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE topics SET id = x'0102', config = '{}' WHERE name = 'orders'")
        .execute(&mut *conn)
        .await?;
    for pragma in [
        "PRAGMA ignore_check_constraints = OFF",
        "PRAGMA foreign_keys = ON",
    ] {
        sqlx::query(pragma).execute(&mut *conn).await?;
    }
    drop(conn);
    let result = store.topic_by_name("orders").await;
    assert!(
        matches!(result, Err(MetadataError::Corrupt(_))),
        "got {result:?}"
    );
    Ok(())
}

#[tokio::test]
async fn long_silent_agents_are_forgotten_at_the_next_registration() -> anyhow::Result<()> {
    let store = SqliteStore::connect("sqlite::memory:").await?;
    let long_gone = store.register_agent("10.0.0.1", 9092, None, "").await?;
    let paused = store.register_agent("10.0.0.2", 9092, None, "").await?;
    // Times are milliseconds; move the last heartbeats into the past.
    let silent_for = |millis: i64, node_id: i32| {
        sqlx::query("UPDATE agents SET heartbeat_at = heartbeat_at - ?1 WHERE node_id = ?2")
            .bind(millis)
            .bind(node_id)
    };
    silent_for(2 * 3_600_000, long_gone)
        .execute(&store.pool)
        .await?;
    silent_for(30 * 60_000, paused).execute(&store.pool).await?;
    let newcomer = store.register_agent("10.0.0.3", 9092, None, "").await?;
    assert!(!store.heartbeat_agent(long_gone).await?);
    assert!(store.heartbeat_agent(paused).await?);
    assert!(store.heartbeat_agent(newcomer).await?);
    Ok(())
}
