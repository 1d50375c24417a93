//! Commit notifications: every store that can notify wakes the other
//! stores on the database after a commit; the others say they cannot.

use std::time::Duration;

use floe_metadata::StoreEvent;
use futures::StreamExt;

use crate::backends::Backend;
use crate::support::{create, entry, segment};

/// How long a notification may take before the test gives up. A bound so a
/// broken stream fails the test instead of hanging it, not a latency
/// requirement.
const PATIENCE: Duration = Duration::from_secs(10);

pub async fn commits_notify_other_stores(backend: &dyn Backend) -> anyhow::Result<()> {
    let listening = backend.open().await?;
    let Some(mut notifications) = listening.commit_notifications().await? else {
        assert!(
            !backend.notifies_commits(),
            "this backend should offer commit notifications"
        );
        return Ok(());
    };
    assert!(
        backend.notifies_commits(),
        "this backend should not offer commit notifications"
    );

    // A commit by another store (another agent) wakes this one.
    let committing = backend.open().await?;
    let topic = create(&*committing, "orders", 2).await?;
    committing
        .commit_segment(&segment(vec![entry(topic.id, 0, 3, 100)]))
        .await?;
    let woken = tokio::time::timeout(PATIENCE, notifications.next()).await?;
    assert_eq!(woken, Some(StoreEvent::Committed));

    // So does one of its own, and a second stream hears it as well.
    let Some(mut second) = committing.commit_notifications().await? else {
        anyhow::bail!("a second stream should be offered too");
    };
    listening
        .commit_segment(&segment(vec![entry(topic.id, 1, 2, 200)]))
        .await?;
    let woken = tokio::time::timeout(PATIENCE, notifications.next()).await?;
    assert_eq!(woken, Some(StoreEvent::Committed));
    let woken = tokio::time::timeout(PATIENCE, second.next()).await?;
    assert_eq!(woken, Some(StoreEvent::Committed));

    // Altering a topic's configs tells every stream its name, so agents
    // drop the copy they cached.
    let config = std::collections::BTreeMap::from([("retention.ms".into(), "5".into())]);
    committing.set_topic_config(topic.id, &config).await?;
    for stream in [&mut notifications, &mut second] {
        loop {
            match tokio::time::timeout(PATIENCE, stream.next()).await? {
                Some(StoreEvent::TopicChanged(name)) => {
                    assert_eq!(name, "orders");
                    break;
                }
                Some(StoreEvent::Committed) => {}
                other => anyhow::bail!("expected the alteration of orders, got {other:?}"),
            }
        }
    }

    // Deleting a topic tells every stream its name, so agents drop the id
    // they cached for it.
    committing.delete_topic(topic.id).await?;
    for stream in [&mut notifications, &mut second] {
        loop {
            match tokio::time::timeout(PATIENCE, stream.next()).await? {
                Some(StoreEvent::TopicChanged(name)) => {
                    assert_eq!(name, "orders");
                    break;
                }
                Some(StoreEvent::Committed) => {}
                other => anyhow::bail!("expected the deletion of orders, got {other:?}"),
            }
        }
    }
    Ok(())
}
