//! What is committed survives a restart (dropping the store and opening the
//! database again).

use std::collections::BTreeMap;

use floe_metadata::{BatchOutcome, ProducerIdentity};

use crate::backends::Backend;
use crate::support::{
    appended, create, each, entry, entry_of, high_watermark, idempotent, new_topic, segment,
};

pub async fn data_survives_reopen(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let mut request = new_topic("orders", 2);
    request.config = BTreeMap::from([("retention.ms".to_string(), "60000".to_string())]);
    let orders = store.create_topic(request).await?;
    let doomed = create(&*store, "doomed", 1).await?;
    let first = segment(vec![
        entry(orders.id, 0, 3, 100),
        entry(orders.id, 1, 2, 200),
    ]);
    let second = segment(vec![
        entry_of(orders.id, 0, vec![idempotent(7, 1, 0, 4)]),
        entry(doomed.id, 0, 1, 300),
    ]);
    let first_outcomes = store.commit_segment(&first).await?;
    let second_outcomes = store.commit_segment(&second).await?;
    store.delete_topic(doomed.id).await?;
    let rows = store.index_rows(orders.id, 0, 0, 100).await?;
    assert_eq!(rows.len(), 2);
    drop(store);

    // The migrations run again on open and must leave the data alone.
    let store = backend.open().await?;
    assert_eq!(store.list_topics().await?, vec![orders.clone()]);
    assert_eq!(store.topic_by_id(orders.id).await?, Some(orders.clone()));
    assert_eq!(store.topic_by_id(doomed.id).await?, None);
    assert_eq!(high_watermark(&*store, orders.id, 0).await?, 7);
    assert_eq!(high_watermark(&*store, orders.id, 1).await?, 2);
    assert_eq!(store.index_rows(orders.id, 0, 0, 100).await?, rows);
    let max = store.row_with_max_timestamp(orders.id, 0).await?;
    assert_eq!(max.map(|row| row.base_offset), Some(3));

    // Retries of segments committed before the restart are still recognised.
    assert_eq!(store.commit_segment(&first).await?, first_outcomes);
    assert_eq!(store.commit_segment(&second).await?, second_outcomes);
    // Exactly as the first time, although that topic is gone since.
    assert_eq!(second_outcomes[1], vec![appended(0)]);
    // So are the producers' histories.
    let third = segment(vec![entry_of(
        orders.id,
        0,
        vec![idempotent(7, 1, 0, 4), idempotent(7, 1, 4, 1)],
    )]);
    assert_eq!(
        store.commit_segment(&third).await?,
        vec![vec![
            BatchOutcome::Duplicate { base_offset: 3 },
            appended(7)
        ]]
    );
    assert_eq!(
        store
            .commit_segment(&segment(vec![entry_of(
                orders.id,
                0,
                vec![idempotent(7, 0, 5, 1)]
            )]))
            .await?,
        each([BatchOutcome::InvalidProducerEpoch])
    );
    drop(store);

    let store = backend.open().await?;
    assert_eq!(high_watermark(&*store, orders.id, 0).await?, 8);
    Ok(())
}

pub async fn producer_ids_survive_reopen(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let mut before = Vec::new();
    for _ in 0..5 {
        before.push(store.init_producer_id(None).await?.producer_id);
    }
    let transactional = store.init_producer_id(Some("tx")).await?;
    drop(store);

    let store = backend.open().await?;
    let after = store.init_producer_id(None).await?;
    assert!(
        before.iter().all(|id| *id != after.producer_id)
            && after.producer_id != transactional.producer_id,
        "{after:?} was already handed out before the restart"
    );
    assert_eq!(
        store.init_producer_id(Some("tx")).await?,
        ProducerIdentity {
            producer_id: transactional.producer_id,
            epoch: 1
        }
    );
    Ok(())
}
