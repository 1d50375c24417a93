//! Unreferenced segments: found once their topics are deleted, no index row
//! points at them and their grace has passed; forgotten only while still
//! unreferenced.

use std::time::Duration;

use floe_metadata::UnreferencedSegment;

use crate::backends::Backend;
use crate::support::{create, entry, high_watermark, segment};

/// Longer than the stores' clock resolution, so a zero grace has passed.
const TICK: Duration = Duration::from_millis(20);

pub async fn unreferenced_segments_are_found_and_forgotten(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let kept = create(&*store, "kept", 1).await?;
    let doomed = create(&*store, "doomed", 2).await?;
    let shared = segment(vec![entry(kept.id, 0, 1, 1), entry(doomed.id, 0, 1, 1)]);
    let alone = segment(vec![entry(doomed.id, 1, 2, 1)]);
    let later = segment(vec![entry(doomed.id, 0, 3, 1)]);
    for s in [&shared, &alone, &later] {
        store.commit_segment(s).await?;
        // Apart in time, so "oldest first" has one answer.
        tokio::time::sleep(TICK).await;
    }
    tokio::time::sleep(TICK).await;
    assert_eq!(
        store.unreferenced_segments(Duration::ZERO, 100).await?,
        vec![]
    );

    // The topic's rows go with it: its own segments are unreferenced, oldest
    // first; the shared one still holds the other topic's rows.
    store.delete_topic(doomed.id).await?;
    tokio::time::sleep(TICK).await;
    let unreferenced = |s: &floe_metadata::SegmentCommit| UnreferencedSegment {
        id: s.segment_id,
        object_key: s.object_key.clone(),
    };
    assert_eq!(
        store.unreferenced_segments(Duration::ZERO, 100).await?,
        vec![unreferenced(&alone), unreferenced(&later)]
    );
    assert_eq!(
        store.unreferenced_segments(Duration::ZERO, 1).await?,
        vec![unreferenced(&alone)]
    );
    assert_eq!(
        store
            .unreferenced_segments(Duration::from_secs(3600), 100)
            .await?,
        vec![],
        "within the grace"
    );

    // Forgetting keeps what is still referenced.
    let asked = [alone.segment_id, shared.segment_id, later.segment_id];
    assert_eq!(store.forget_segments(&asked).await?, 2);
    assert_eq!(
        store.unreferenced_segments(Duration::ZERO, 100).await?,
        vec![]
    );
    assert_eq!(store.forget_segments(&asked).await?, 0, "already forgotten");
    assert_eq!(high_watermark(&*store, kept.id, 0).await?, 1);
    // The shared segment still answers a retried commit as the first time.
    assert_eq!(store.commit_segment(&shared).await?.len(), 2);
    assert_eq!(high_watermark(&*store, kept.id, 0).await?, 1);

    // Once its last topic goes, the shared segment is found too.
    store.delete_topic(kept.id).await?;
    tokio::time::sleep(TICK).await;
    assert_eq!(
        store.unreferenced_segments(Duration::ZERO, 100).await?,
        vec![unreferenced(&shared)]
    );
    assert_eq!(store.forget_segments(&[shared.segment_id]).await?, 1);
    assert_eq!(
        store.unreferenced_segments(Duration::ZERO, 100).await?,
        vec![]
    );
    Ok(())
}
