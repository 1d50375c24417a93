//! Producer ids for InitProducerId.

use std::collections::HashSet;

use floe_metadata::ProducerIdentity;

use crate::backends::Backend;

pub async fn producer_ids_are_unique(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let mut seen = HashSet::new();
    for _ in 0..50 {
        let identity = store.init_producer_id(None).await?;
        assert_eq!(identity.epoch, 0);
        assert!(identity.producer_id >= 0, "{identity:?}");
        assert!(
            seen.insert(identity.producer_id),
            "{identity:?} handed out twice"
        );
    }
    Ok(())
}

pub async fn transactional_id_bumps_epoch(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let first = store.init_producer_id(Some("payments-1")).await?;
    assert_eq!(first.epoch, 0);
    let id = first.producer_id;
    for epoch in 1..=5 {
        assert_eq!(
            store.init_producer_id(Some("payments-1")).await?,
            ProducerIdentity {
                producer_id: id,
                epoch
            }
        );
        // Idempotent producers in between take fresh ids, never this one.
        let plain = store.init_producer_id(None).await?;
        assert_ne!(plain.producer_id, id);
        assert_eq!(plain.epoch, 0);
    }
    let other = store.init_producer_id(Some("payments-2")).await?;
    assert_eq!(other.epoch, 0);
    assert_ne!(other.producer_id, id);
    assert_eq!(
        store.init_producer_id(Some("payments-1")).await?,
        ProducerIdentity {
            producer_id: id,
            epoch: 6
        }
    );
    assert_eq!(
        store.init_producer_id(Some("payments-2")).await?,
        ProducerIdentity {
            producer_id: other.producer_id,
            epoch: 1
        }
    );
    Ok(())
}
