//! Leases of background jobs: one holder at a time, renewals keep the
//! token, a takeover or a lapse changes it, a released lease is taken again
//! only once the next pass is due, and a write fenced by an old token is
//! refused.

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
        .acquire_lease("retention", "agent-a", MINUTE, Duration::ZERO)
        .await?
        .expect("a free lease is taken");
    assert_eq!(first.job, "retention");
    assert_eq!(
        other
            .acquire_lease("retention", "agent-b", MINUTE, Duration::ZERO)
            .await?,
        None,
        "held by another"
    );
    assert_eq!(
        other
            .acquire_lease("collector", "agent-b", MINUTE, Duration::ZERO)
            .await?
            .map(|f| f.job),
        Some("collector".to_string()),
        "each job has its own lease"
    );
    let renewed = store
        .acquire_lease("retention", "agent-a", MINUTE, Duration::ZERO)
        .await?;
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
    store.release_lease(&first, false).await?;
    let second = other
        .acquire_lease("retention", "agent-b", MINUTE, Duration::ZERO)
        .await?
        .expect("a released lease is free");
    assert!(second.token > first.token, "{second:?} after {first:?}");
    let refused = store.apply_retention(t.id, 0, &policy, &first).await;
    assert!(
        matches!(refused, Err(MetadataError::LeaseLost(ref job)) if job == "retention"),
        "{refused:?}"
    );
    assert_eq!(
        store
            .acquire_lease("retention", "agent-a", MINUTE, Duration::ZERO)
            .await?,
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
    store.release_lease(&first, false).await?;
    assert_eq!(
        other
            .acquire_lease("retention", "agent-b", MINUTE, Duration::ZERO)
            .await?,
        Some(second.clone())
    );
    // A finished pass: nobody, not even its own holder, takes the job again
    // before its interval has passed.
    other.release_lease(&second, true).await?;
    let hourly = Duration::from_secs(3600);
    for (store, holder) in [(&store, "agent-a"), (&other, "agent-b")] {
        let asked = store.acquire_lease("retention", holder, MINUTE, hourly);
        assert_eq!(asked.await?, None, "{holder}");
    }
    let due = store
        .acquire_lease("retention", "agent-a", MINUTE, Duration::ZERO)
        .await?
        .expect("due with a shorter interval");
    assert!(due.token > second.token);
    // A pass cut short (not finished) is due again at once.
    let third = other
        .acquire_lease("collector", "agent-b", MINUTE, Duration::ZERO)
        .await?
        .expect("renewal of the collector's lease");
    other.release_lease(&third, false).await?;
    let fourth = store
        .acquire_lease("collector", "agent-a", MINUTE, Duration::from_secs(3600))
        .await?
        .expect("due at once");
    assert!(fourth.token > third.token);
    Ok(())
}

pub async fn a_lapsed_lease_fences_its_old_holder(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let short = Duration::from_millis(100);
    let old = store
        .acquire_lease("prune", "agent-a", short, Duration::ZERO)
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
        .acquire_lease("prune", "agent-a", MINUTE, Duration::ZERO)
        .await?
        .expect("lapsed, so free");
    assert!(again.token > old.token);
    let other = store
        .acquire_lease("prune", "agent-b", MINUTE, Duration::ZERO)
        .await?;
    assert_eq!(other, None);
    store.prune(MINUTE, MINUTE, 10, &again).await?;
    Ok(())
}
