//! Topics: create, find, list, delete, recreate.

use std::collections::BTreeMap;

use floe_metadata::{MetadataError, PartitionOffsets};

use crate::backends::Backend;
use crate::support::{appended, create, each, entry, new_topic, segment};

pub async fn create_topic_then_find_it(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let config = BTreeMap::from([
        ("retention.ms".to_string(), "3600000".to_string()),
        ("cleanup.policy".to_string(), "delete".to_string()),
    ]);
    let mut request = new_topic("orders.v1_eu-west", 3);
    request.config = config.clone();
    let topic = store.create_topic(request).await?;
    assert_eq!(topic.name, "orders.v1_eu-west");
    assert_eq!(topic.partitions, 3);
    assert_eq!(topic.config, config);
    assert!(!topic.id.is_nil());

    assert_eq!(
        store.topic_by_name("orders.v1_eu-west").await?,
        Some(topic.clone())
    );
    assert_eq!(store.topic_by_id(topic.id).await?, Some(topic.clone()));
    assert_eq!(store.topic_by_name("orders").await?, None);
    assert_eq!(store.topic_by_id(uuid::Uuid::new_v4()).await?, None);

    let empty = PartitionOffsets {
        log_start_offset: 0,
        high_watermark: 0,
        last_stable_offset: 0,
        last_aborted_offset: -1,
    };
    for partition in 0..3 {
        assert_eq!(
            store.partition_offsets(topic.id, partition).await?,
            Some(empty)
        );
    }
    assert_eq!(store.partition_offsets(topic.id, 3).await?, None);
    assert_eq!(store.partition_offsets(topic.id, -1).await?, None);
    Ok(())
}

pub async fn create_duplicate_topic_fails(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let first = create(&*store, "orders", 2).await?;
    let again = store.create_topic(new_topic("orders", 5)).await;
    assert!(
        matches!(&again, Err(MetadataError::TopicExists(name)) if name == "orders"),
        "got {again:?}"
    );
    assert_eq!(store.topic_by_name("orders").await?, Some(first.clone()));
    assert_eq!(store.list_topics().await?, vec![first]);
    Ok(())
}

pub async fn create_invalid_topic_fails(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let too_long = "x".repeat(250);
    for name in [
        "",
        ".",
        "..",
        "with space",
        "slash/name",
        "ünïcode",
        "tab\t",
        &too_long,
    ] {
        let result = store.create_topic(new_topic(name, 1)).await;
        assert!(
            matches!(result, Err(MetadataError::Invalid(_))),
            "{name:?}: got {result:?}"
        );
    }
    for partitions in [0, -1, i32::MIN, 100_001, i32::MAX] {
        let result = store.create_topic(new_topic("orders", partitions)).await;
        assert!(
            matches!(result, Err(MetadataError::Invalid(_))),
            "{partitions} partitions: got {result:?}"
        );
    }
    assert_eq!(store.list_topics().await?, vec![]);

    // The limits themselves are legal.
    let longest = "y".repeat(249);
    for name in [longest.as_str(), "...", "a", "A-Z_0.9"] {
        store.create_topic(new_topic(name, 1)).await?;
    }
    let wide = store.create_topic(new_topic("wide", 100_000)).await?;
    assert!(store.partition_offsets(wide.id, 99_999).await?.is_some());
    assert_eq!(store.partition_offsets(wide.id, 100_000).await?, None);
    assert_eq!(store.list_topics().await?.len(), 5);
    Ok(())
}

pub async fn list_topics_is_ordered_by_name(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    assert_eq!(store.list_topics().await?, vec![]);
    let b = create(&*store, "b", 1).await?;
    let c = create(&*store, "c", 3).await?;
    let a = create(&*store, "a", 2).await?;
    let upper = create(&*store, "B", 1).await?;
    assert_eq!(store.list_topics().await?, vec![upper, a, b, c]);
    Ok(())
}

pub async fn delete_topic_removes_partitions_and_index(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let doomed = create(&*store, "doomed", 2).await?;
    let kept = create(&*store, "kept", 1).await?;
    let commit = segment(vec![
        entry(doomed.id, 0, 3, 10),
        entry(doomed.id, 1, 2, 10),
        entry(kept.id, 0, 4, 10),
    ]);
    store.commit_segment(&commit).await?;

    store.delete_topic(doomed.id).await?;
    assert_eq!(store.topic_by_name("doomed").await?, None);
    assert_eq!(store.topic_by_id(doomed.id).await?, None);
    assert_eq!(store.list_topics().await?, vec![kept.clone()]);
    for partition in 0..2 {
        assert_eq!(store.partition_offsets(doomed.id, partition).await?, None);
        assert_eq!(
            store.index_rows(doomed.id, partition, 0, 100).await?,
            vec![]
        );
        assert_eq!(
            store.row_with_max_timestamp(doomed.id, partition).await?,
            None
        );
    }
    // The other topic in the same segment is untouched.
    let rows = store.index_rows(kept.id, 0, 0, 100).await?;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].base_offset, rows[0].last_offset), (0, 3));
    assert_eq!(rows[0].segment_id, commit.segment_id);

    let again = store.delete_topic(doomed.id).await;
    assert!(
        matches!(again, Err(MetadataError::UnknownTopic(_))),
        "got {again:?}"
    );
    let never = store.delete_topic(uuid::Uuid::new_v4()).await;
    assert!(
        matches!(never, Err(MetadataError::UnknownTopic(_))),
        "got {never:?}"
    );
    Ok(())
}

pub async fn recreated_topic_gets_new_id_and_empty_partitions(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let old = create(&*store, "orders", 1).await?;
    store
        .commit_segment(&segment(vec![entry(old.id, 0, 5, 10)]))
        .await?;
    store.delete_topic(old.id).await?;

    let new = create(&*store, "orders", 2).await?;
    assert_ne!(new.id, old.id);
    assert_eq!(new.partitions, 2);
    assert_eq!(store.topic_by_name("orders").await?, Some(new.clone()));
    assert_eq!(store.topic_by_id(old.id).await?, None);
    assert_eq!(store.index_rows(new.id, 0, 0, 100).await?, vec![]);
    assert_eq!(store.index_rows(old.id, 0, 0, 100).await?, vec![]);

    // The new topic's offsets start again at 0; the old id stays dead.
    let outcomes = store
        .commit_segment(&segment(vec![
            entry(new.id, 0, 2, 10),
            entry(old.id, 0, 2, 10),
        ]))
        .await?;
    assert_eq!(
        outcomes,
        each([appended(0), floe_metadata::BatchOutcome::UnknownPartition])
    );
    Ok(())
}

pub async fn set_topic_config_replaces_the_whole_set(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let mut request = new_topic("configured", 2);
    request.config = BTreeMap::from([
        ("retention.ms".to_string(), "1000".to_string()),
        ("max.message.bytes".to_string(), "2048".to_string()),
    ]);
    let topic = store.create_topic(request).await?;
    let other = create(&*store, "untouched", 1).await?;

    let replaced = BTreeMap::from([("cleanup.policy".to_string(), "delete".to_string())]);
    store.set_topic_config(topic.id, &replaced).await?;
    let found = store.topic_by_name("configured").await?.expect("topic");
    assert_eq!(found.config, replaced, "the old overrides are gone");
    assert_eq!(found.id, topic.id);
    assert_eq!(found.partitions, 2);
    assert_eq!(store.topic_by_id(other.id).await?, Some(other));

    store.set_topic_config(topic.id, &BTreeMap::new()).await?;
    let found = store.topic_by_id(topic.id).await?.expect("topic");
    assert!(found.config.is_empty());

    let missing = store
        .set_topic_config(uuid::Uuid::new_v4(), &replaced)
        .await;
    assert!(
        matches!(missing, Err(MetadataError::UnknownTopic(_))),
        "got {missing:?}"
    );
    Ok(())
}

pub async fn broker_configs_are_replaced_as_a_set(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    assert!(store.broker_configs().await?.is_empty());
    let first = BTreeMap::from([
        ("log.retention.ms".to_string(), "1000".to_string()),
        ("message.max.bytes".to_string(), "2048".to_string()),
    ]);
    store.set_broker_configs(&first).await?;
    assert_eq!(store.broker_configs().await?, first);
    let second = BTreeMap::from([("message.max.bytes".to_string(), "4096".to_string())]);
    store.set_broker_configs(&second).await?;
    assert_eq!(store.broker_configs().await?, second, "the old set is gone");
    store.set_broker_configs(&BTreeMap::new()).await?;
    assert!(store.broker_configs().await?.is_empty());
    Ok(())
}

pub async fn client_quotas_are_set_altered_and_removed(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    use floe_metadata::{ClientQuotaAlteration, ClientQuotaEntity, QuotaEntityPart};
    let store = backend.open().await?;
    assert!(store.client_quotas().await?.is_empty());
    let named = |s: &str| Some(QuotaEntityPart::Named(s.to_string()));
    let client = ClientQuotaEntity {
        user: None,
        client_id: named("c1"),
    };
    let user_default = ClientQuotaEntity {
        user: Some(QuotaEntityPart::Default),
        client_id: None,
    };
    let both = ClientQuotaEntity {
        user: named("alice"),
        client_id: named(""),
    };
    let set = |entity: &ClientQuotaEntity, ops: &[(&str, Option<f64>)]| ClientQuotaAlteration {
        entity: entity.clone(),
        ops: ops.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
    };
    store
        .alter_client_quotas(&[
            set(&client, &[("producer_byte_rate", Some(1048576.0))]),
            set(&user_default, &[("consumer_byte_rate", Some(2048.0))]),
            set(
                &both,
                &[
                    ("request_percentage", Some(12.5)),
                    ("producer_byte_rate", Some(1.0)),
                ],
            ),
        ])
        .await?;
    let quotas = store.client_quotas().await?;
    assert_eq!(quotas.len(), 3, "{quotas:?}");
    let of = |entity: &ClientQuotaEntity| {
        quotas
            .iter()
            .find(|q| &q.entity == entity)
            .map(|q| q.values.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        of(&client),
        BTreeMap::from([("producer_byte_rate".to_string(), 1048576.0)])
    );
    assert_eq!(
        of(&user_default),
        BTreeMap::from([("consumer_byte_rate".to_string(), 2048.0)])
    );
    assert_eq!(
        of(&both),
        BTreeMap::from([
            ("producer_byte_rate".to_string(), 1.0),
            ("request_percentage".to_string(), 12.5)
        ]),
        "an empty client id is a name of its own"
    );

    // A new value replaces the old, a removal drops only its key, removing
    // a key never set is no error, and an entity without keys is gone.
    store
        .alter_client_quotas(&[
            set(&client, &[("producer_byte_rate", Some(512.0))]),
            set(
                &both,
                &[("request_percentage", None), ("consumer_byte_rate", None)],
            ),
            set(&user_default, &[("consumer_byte_rate", None)]),
        ])
        .await?;
    let quotas = store.client_quotas().await?;
    let entities: Vec<_> = quotas.iter().map(|q| q.entity.clone()).collect();
    assert_eq!(entities.len(), 2, "{quotas:?}");
    assert!(!entities.contains(&user_default));
    let client_values = quotas
        .iter()
        .find(|q| q.entity == client)
        .map(|q| &q.values);
    assert_eq!(
        client_values.and_then(|v| v.get("producer_byte_rate")),
        Some(&512.0)
    );

    // Invalid alterations change nothing, even beside valid ones.
    let nobody = ClientQuotaEntity {
        user: None,
        client_id: None,
    };
    for bad in [
        vec![
            set(&client, &[("producer_byte_rate", Some(1.0))]),
            set(&nobody, &[("producer_byte_rate", Some(1.0))]),
        ],
        vec![set(&client, &[("producer_byte_rate", Some(f64::NAN))])],
        vec![set(&client, &[("", Some(1.0))])],
    ] {
        let refused = store.alter_client_quotas(&bad).await;
        assert!(
            matches!(refused, Err(MetadataError::Invalid(_))),
            "got {refused:?}"
        );
    }
    assert_eq!(store.client_quotas().await?, quotas);
    Ok(())
}
