//! Leases of background jobs: one holder at a time, renewals keep the
//! token, a takeover or a lapse changes it, and a write fenced by an old
//! token is refused.

use std::time::Duration;

use floe_metadata::{MetadataError, RetentionPolicy};

use crate::backends::Backend;
use crate::support::{create, entry, segment};

const MINUTE: Duration = Duration::from_secs(60);

pub async fn leases_are_exclusive_renewed_and_taken_over(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let other = backend.open().await?;
    let first = store
        .acquire_lease("retention", "agent-a", MINUTE)
        .await?
        .expect("a free lease is taken");
    assert_eq!(first.job, "retention");
    assert_eq!(
        other.acquire_lease("retention", "agent-b", MINUTE).await?,
        None,
        "held by another"
    );
    assert_eq!(
        other
            .acquire_lease("collector", "agent-b", MINUTE)
            .await?
            .map(|f| f.job),
        Some("collector".to_string()),
        "each job has its own lease"
    );
    let renewed = store.acquire_lease("retention", "agent-a", MINUTE).await?;
    assert_eq!(renewed, Some(first.clone()), "a renewal keeps the token");

    // The fence works while held.
    let t = create(&*store, "events", 1).await?;
    store
        .commit_segment(&segment(vec![entry(t.id, 0, 3, 100)]))
        .await?;
    let policy = RetentionPolicy {
        older_than_ms: Some(1_000),
        max_bytes: None,
        max_rows: 100,
    };
    let retained = store.apply_retention(t.id, 0, &policy, &first).await?;
    assert_eq!(retained.map(|r| r.log_start_offset), Some(3));

    // Released: another holder takes it at once, with a new token, and the
    // old fence no longer writes.
    store.release_lease(&first).await?;
    let second = other
        .acquire_lease("retention", "agent-b", MINUTE)
        .await?
        .expect("a released lease is free");
    assert!(second.token > first.token, "{second:?} after {first:?}");
    let refused = store.apply_retention(t.id, 0, &policy, &first).await;
    assert!(
        matches!(refused, Err(MetadataError::LeaseLost(ref job)) if job == "retention"),
        "{refused:?}"
    );
    assert_eq!(
        store.acquire_lease("retention", "agent-a", MINUTE).await?,
        None,
        "the old holder cannot take it back while it runs"
    );
    let refused = store.forget_segments(&[], &first).await;
    assert!(
        matches!(refused, Err(MetadataError::LeaseLost(_))),
        "{refused:?}"
    );
    let refused = store.prune(MINUTE, MINUTE, 10, &first).await;
    assert!(
        matches!(refused, Err(MetadataError::LeaseLost(_))),
        "{refused:?}"
    );
    // Releasing with an old fence leaves the new holder's lease alone.
    store.release_lease(&first).await?;
    assert_eq!(
        other.acquire_lease("retention", "agent-b", MINUTE).await?,
        Some(second)
    );
    Ok(())
}

pub async fn a_lapsed_lease_fences_its_old_holder(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let short = Duration::from_millis(100);
    let old = store
        .acquire_lease("prune", "agent-a", short)
        .await?
        .expect("free");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = store.prune(MINUTE, MINUTE, 10, &old).await;
    assert!(
        matches!(refused, Err(MetadataError::LeaseLost(_))),
        "a lapsed lease writes nothing: {refused:?}"
    );
    // Its own holder taking it again gets a new token: the fence of the
    // pass that ran before the lapse stays dead.
    let again = store
        .acquire_lease("prune", "agent-a", MINUTE)
        .await?
        .expect("lapsed, so free");
    assert!(again.token > old.token);
    let other = store.acquire_lease("prune", "agent-b", MINUTE).await?;
    assert_eq!(other, None);
    store.prune(MINUTE, MINUTE, 10, &again).await?;
    Ok(())
}
