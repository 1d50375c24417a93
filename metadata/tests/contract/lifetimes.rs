//! What the store keeps only for a while: stored commit outcomes and the
//! histories of idempotent producers gone quiet, forgotten by `prune`.

use std::time::Duration;

use floe_metadata::{BatchOutcome, Pruned};

use crate::backends::Backend;
use crate::support::{appended, create, each, entry, idempotent, lease, one_entry, segment};

/// Longer than the stores' clock resolution, so a zero age has passed.
const TICK: Duration = Duration::from_millis(20);
const HOUR: Duration = Duration::from_secs(3600);

pub async fn prune_forgets_old_outcomes_and_quiet_producers(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let fence = lease(&*store, "prune").await?;
    let t = create(&*store, "p", 1).await?;
    let plain = segment(vec![entry(t.id, 0, 2, 10)]);
    assert_eq!(store.commit_segment(&plain).await?, each([appended(0)]));
    let first = one_entry(t.id, 0, vec![idempotent(7, 0, 0, 3)]);
    assert_eq!(store.commit_segment(&first).await?, each([appended(2)]));

    // Nothing is old enough yet.
    assert_eq!(
        store.prune(HOUR, HOUR, 100, &fence).await?,
        Pruned::default()
    );
    // A gap in producer 7's sequence is refused while it is remembered.
    let gap = one_entry(t.id, 0, vec![idempotent(7, 0, 9, 1)]);
    assert_eq!(
        store.commit_segment(&gap).await?,
        each([BatchOutcome::OutOfOrderSequence])
    );

    tokio::time::sleep(TICK).await;
    // Outcomes first: both segments' (and the refused one's) go, producers stay.
    let pruned = store.prune(Duration::ZERO, HOUR, 100, &fence).await?;
    assert!(pruned.outcomes >= 3, "{pruned:?}");
    assert_eq!(pruned.producer_batches, 0);
    assert_eq!(
        store
            .partition_offsets(t.id, 0)
            .await?
            .map(|b| b.high_watermark),
        Some(5)
    );

    // Then the quiet producer: forgotten, it may start anywhere again.
    let pruned = store.prune(HOUR, Duration::ZERO, 100, &fence).await?;
    assert_eq!(pruned.outcomes, 0);
    assert!(pruned.producer_batches >= 1, "{pruned:?}");
    let fresh = one_entry(t.id, 0, vec![idempotent(7, 0, 9, 1)]);
    assert_eq!(store.commit_segment(&fresh).await?, each([appended(5)]));

    // A bounded pass: a limit of one forgets one segment's outcomes.
    tokio::time::sleep(TICK).await;
    let more = [
        segment(vec![entry(t.id, 0, 1, 10)]),
        segment(vec![entry(t.id, 0, 1, 10)]),
    ];
    for s in &more {
        store.commit_segment(s).await?;
    }
    tokio::time::sleep(TICK).await;
    let one = store.prune(Duration::ZERO, HOUR, 1, &fence).await?;
    assert_eq!(one.outcomes, 1, "{one:?}");
    Ok(())
}
