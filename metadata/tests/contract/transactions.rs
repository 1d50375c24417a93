//! Transactions: the coordinator's compare-and-set state, and the commit's
//! rules for transactional batches and markers (KIP-890 verification, the
//! last stable offset, aborted ranges).

use floe_metadata::BatchOutcome::InvalidTxnState;
use floe_metadata::{
    AbortedTxn, BatchEntry, BatchOutcome, BatchTxn, CleanSwap, CommittedOffset, MetadataError,
    MetadataStore, OpenTxn, ProducerIdentity, TopicId, TxnInit, TxnRefusal, TxnState, TxnVersion,
};

use crate::backends::Backend;
use crate::cleaner::old_rows;
use crate::support::{all_rows, appended, batch, create, idempotent, lease, one_entry};

/// A transactional batch of `producer` at `epoch`.
fn data(producer: ProducerIdentity, base_sequence: i32, offset_count: i64) -> BatchEntry {
    BatchEntry {
        txn: BatchTxn::Data,
        ..idempotent(
            producer.producer_id,
            producer.epoch,
            base_sequence,
            offset_count,
        )
    }
}

/// A commit (true) or abort marker of `producer`'s transaction.
fn marker(producer: ProducerIdentity, commit: bool) -> BatchEntry {
    BatchEntry {
        txn: BatchTxn::Marker {
            producer_id: producer.producer_id,
            producer_epoch: producer.epoch,
            commit,
        },
        ..batch(1, 1_000)
    }
}

/// Commits `batches` to partition 0 and returns their outcomes.
async fn commit(
    store: &dyn MetadataStore,
    topic: TopicId,
    batches: Vec<BatchEntry>,
) -> anyhow::Result<Vec<BatchOutcome>> {
    let mut outcomes = store.commit_segment(&one_entry(topic, 0, batches)).await?;
    anyhow::ensure!(outcomes.len() == 1, "one entry, got {outcomes:?}");
    Ok(outcomes.remove(0))
}

/// `(high watermark, last stable offset, last aborted offset)` of partition 0.
async fn bounds(store: &dyn MetadataStore, topic: TopicId) -> anyhow::Result<(i64, i64, i64)> {
    let b = store
        .partition_offsets(topic, 0)
        .await?
        .ok_or_else(|| anyhow::anyhow!("partition gone"))?;
    let many = store.partitions_offsets(&[(topic, 0)]).await?;
    anyhow::ensure!(many == vec![Some(b)], "both reads agree: {many:?} vs {b:?}");
    Ok((
        b.high_watermark,
        b.last_stable_offset,
        b.last_aborted_offset,
    ))
}

/// InitProducerId that must find the id ready.
async fn init(store: &dyn MetadataStore, id: &str) -> anyhow::Result<ProducerIdentity> {
    match store.init_transaction(id, 60_000, 1_000).await? {
        TxnInit::Ready(identity) => Ok(identity),
        TxnInit::Busy(record) => anyhow::bail!("{id} busy: {record:?}"),
    }
}

pub async fn transactional_batches_need_an_open_transaction(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let s = &*store;
    let t = create(s, "payments", 1).await?.id;
    let p = init(s, "txn-a").await?;
    assert_eq!(p.epoch, 0);

    // Not added to a transaction: refused, nothing indexed.
    assert_eq!(
        commit(s, t, vec![data(p, 0, 2)]).await?,
        vec![InvalidTxnState]
    );
    assert_eq!(bounds(s, t).await?, (0, 0, -1));

    s.add_to_transaction("txn-a", p.producer_id, p.epoch, &[(t, 0)], &[], 2_000)
        .await?
        .map_err(|r| anyhow::anyhow!("{r:?}"))?;
    assert_eq!(
        s.open_transactions(t, 0).await?,
        vec![OpenTxn {
            producer_id: p.producer_id,
            epoch: 0,
            first_offset: -1
        }]
    );
    // Open but empty: the last stable offset is the high watermark.
    assert_eq!(commit(s, t, vec![batch(1, 1)]).await?, vec![appended(0)]);
    assert_eq!(bounds(s, t).await?, (1, 1, -1));

    // The transaction's first batch holds the last stable offset back;
    // plain batches after it move only the high watermark.
    let wrong_epoch = ProducerIdentity { epoch: 1, ..p };
    assert_eq!(
        commit(
            s,
            t,
            vec![data(wrong_epoch, 0, 2), data(p, 0, 2), batch(3, 1)]
        )
        .await?,
        vec![InvalidTxnState, appended(1), appended(3)]
    );
    assert_eq!(bounds(s, t).await?, (6, 1, -1));
    assert_eq!(commit(s, t, vec![data(p, 2, 1)]).await?, vec![appended(6)]);
    assert_eq!(bounds(s, t).await?, (7, 1, -1));

    // The abort marker ends it: an aborted range 1..=7, the last stable
    // offset catches up, and a late batch of the transaction is refused
    // even in the marker's own segment.
    let aborting = one_entry(t, 0, vec![marker(p, false), data(p, 3, 1)]);
    let outcomes = s.commit_segment(&aborting).await?;
    assert_eq!(outcomes, vec![vec![appended(7), InvalidTxnState]]);
    assert_eq!(
        s.commit_segment(&aborting).await?,
        outcomes,
        "a retry answers alike"
    );
    assert_eq!(bounds(s, t).await?, (8, 8, 7));
    let aborted = AbortedTxn {
        producer_id: p.producer_id,
        first_offset: 1,
        last_offset: 7,
    };
    assert_eq!(
        s.aborted_transactions(t, 0, 0, 100, 10).await?,
        vec![aborted]
    );
    assert_eq!(s.aborted_transactions(t, 0, 7, 7, 10).await?, vec![aborted]);
    assert_eq!(s.aborted_transactions(t, 0, 0, 0, 10).await?, vec![]);
    assert_eq!(s.aborted_transactions(t, 0, 8, 100, 10).await?, vec![]);
    assert!(s.open_transactions(t, 0).await?.is_empty());

    // A committed transaction, data and marker in one segment: no range.
    s.add_to_transaction("txn-a", p.producer_id, p.epoch, &[(t, 0)], &[], 3_000)
        .await?
        .map_err(|r| anyhow::anyhow!("{r:?}"))?;
    assert_eq!(
        commit(s, t, vec![data(p, 3, 2), marker(p, true)]).await?,
        vec![appended(8), appended(10)]
    );
    assert_eq!(bounds(s, t).await?, (11, 11, 7));
    assert_eq!(
        s.aborted_transactions(t, 0, 0, 100, 10).await?,
        vec![aborted]
    );

    // Records deleted below the aborted range's end take it along.
    s.delete_records(t, 0, 7).await?;
    assert_eq!(
        s.aborted_transactions(t, 0, 0, 100, 10).await?,
        vec![aborted]
    );
    s.delete_records(t, 0, 8).await?;
    assert_eq!(s.aborted_transactions(t, 0, 0, 100, 10).await?, vec![]);

    // A newer incarnation fences the producer: its batches are now
    // INVALID_PRODUCER_EPOCH, Kafka's answer to a zombie. (The store's
    // coordinator state is still Ongoing: end it as the coordinator does.)
    let record = s.transaction("txn-a").await?.expect("stored");
    let prepared = s
        .prepare_transaction("txn-a", record.version(), true, record.epoch, 3_500)
        .await?
        .expect("prepared");
    assert!(
        s.complete_transaction("txn-a", prepared.version(), 3_600)
            .await?
    );
    let next = init(s, "txn-a").await?;
    assert_eq!(next.epoch, 1);
    assert_eq!(
        commit(s, t, vec![data(p, 5, 1)]).await?,
        vec![BatchOutcome::InvalidProducerEpoch]
    );
    let p = next;

    // A deleted topic takes its transactional rows along.
    s.add_to_transaction("txn-a", p.producer_id, p.epoch, &[(t, 0)], &[], 4_000)
        .await?
        .map_err(|r| anyhow::anyhow!("{r:?}"))?;
    s.delete_topic(t).await?;
    assert!(s.open_transactions(t, 0).await?.is_empty());
    assert!(s.aborted_transactions(t, 0, 0, 100, 10).await?.is_empty());
    Ok(())
}

/// The log cleaner's swap that drops abort markers deletes their aborted
/// ranges with the rows, and only those; a dropped marker where the swap
/// keeps a batch is refused.
pub async fn a_clean_that_drops_abort_markers_prunes_their_ranges(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let s = &*store;
    let t = create(s, "changelog", 1).await?.id;
    let p = init(s, "txn-c").await?;
    let mut ranges = Vec::new();
    for (n, at) in [(0, 0), (1, 3), (2, 6)] {
        s.add_to_transaction("txn-c", p.producer_id, p.epoch, &[(t, 0)], &[], 1_000 + n)
            .await?
            .map_err(|r| anyhow::anyhow!("{r:?}"))?;
        let seq = i32::try_from(n * 2)?;
        assert_eq!(
            commit(s, t, vec![data(p, seq, 2), marker(p, false)]).await?,
            vec![appended(at), appended(at + 2)]
        );
        ranges.push(AbortedTxn {
            producer_id: p.producer_id,
            first_offset: at,
            last_offset: at + 2,
        });
    }
    assert_eq!(s.aborted_transactions(t, 0, 0, 100, 10).await?, ranges);

    let fence = lease(s, "log_cleaner").await?;
    let mut rows = all_rows(s, t, 0).await?;
    rows.retain(|r| r.last_offset <= 5);
    let mut swap = CleanSwap {
        topic_id: t,
        partition: 0,
        segment: None,
        old: old_rows(t, &rows),
        new: vec![],
        progress: None,
        dropped_aborts: vec![5],
    };
    // A marker offset outside the old rows: refused, nothing written.
    swap.dropped_aborts = vec![8];
    assert!(matches!(
        s.swap_cleaned(&swap, &fence).await,
        Err(MetadataError::Invalid(_))
    ));
    swap.dropped_aborts = vec![2, 5];
    assert!(s.swap_cleaned(&swap, &fence).await?);
    assert_eq!(
        s.aborted_transactions(t, 0, 0, 100, 10).await?,
        vec![ranges[2]],
        "the ranges of the dropped markers went, the other stays"
    );
    let b = s.partition_offsets(t, 0).await?.expect("partition");
    assert_eq!(
        (b.last_stable_offset, b.last_aborted_offset),
        (9, 8),
        "the offsets a Fetch reads first are unchanged"
    );
    Ok(())
}

pub async fn transaction_state_changes_are_compare_and_set(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let s = &*store;
    let t = create(s, "orders", 2).await?.id;
    let p = init(s, "txn-b").await?;
    let both = [(t, 1), (t, 0)];
    let add = |epoch: i16, producer_id: i64| {
        s.add_to_transaction("txn-b", producer_id, epoch, &both, &[], 5_000)
    };
    assert_eq!(
        s.add_to_transaction("nobody", p.producer_id, 0, &[(t, 0)], &[], 1)
            .await?,
        Err(TxnRefusal::UnknownProducer)
    );
    assert_eq!(
        add(0, p.producer_id + 1).await?,
        Err(TxnRefusal::UnknownProducer)
    );
    assert_eq!(add(1, p.producer_id).await?, Err(TxnRefusal::Fenced));
    assert_eq!(add(0, p.producer_id).await?, Ok(true));
    assert_eq!(add(0, p.producer_id).await?, Ok(false), "already open");
    let record = s.transaction("txn-b").await?.expect("stored");
    assert_eq!(record.state, TxnState::Ongoing);
    assert_eq!(record.started_ms, 5_000);
    assert_eq!(record.timeout_ms, 60_000);
    assert_eq!(record.partitions, vec![(t, 0), (t, 1)]);

    // An open transaction keeps InitProducerId busy.
    assert!(matches!(
        s.init_transaction("txn-b", 60_000, 6_000).await?,
        TxnInit::Busy(busy) if busy == record
    ));

    // Prepare: only from the version expected; a stale one changes nothing.
    let stale = TxnVersion {
        epoch: 1,
        ..record.version()
    };
    assert!(
        s.prepare_transaction("txn-b", stale, true, 1, 7_000)
            .await?
            .is_none()
    );
    let prepared = s
        .prepare_transaction("txn-b", record.version(), false, 1, 7_000)
        .await?
        .expect("prepared");
    assert_eq!(prepared.state, TxnState::PrepareAbort);
    assert_eq!(
        prepared.epoch, 1,
        "an abort by the coordinator bumps the epoch"
    );
    assert_eq!(prepared.partitions, record.partitions);
    assert!(
        s.prepare_transaction("txn-b", record.version(), false, 1, 7_000)
            .await?
            .is_none()
    );
    // The old epoch is fenced; the new one must wait for the markers.
    assert_eq!(add(0, p.producer_id).await?, Err(TxnRefusal::Fenced));
    assert_eq!(add(1, p.producer_id).await?, Err(TxnRefusal::Concurrent));

    assert!(
        !s.complete_transaction("txn-b", record.version(), 8_000)
            .await?
    );
    assert!(
        s.complete_transaction("txn-b", prepared.version(), 8_000)
            .await?
    );
    assert!(
        !s.complete_transaction("txn-b", prepared.version(), 8_000)
            .await?
    );
    let done = s.transaction("txn-b").await?.expect("stored");
    assert_eq!(done.state, TxnState::CompleteAbort);
    assert_eq!(done.last_epoch, 0, "the epoch the coordinator bumped past");
    assert_eq!(done.started_ms, -1);
    assert!(done.partitions.is_empty());

    let next = init(s, "txn-b").await?;
    assert_eq!((next.producer_id, next.epoch), (p.producer_id, 2));
    assert_eq!(
        s.transaction("txn-b").await?.expect("stored").last_epoch,
        -1
    );
    let listed = s.list_transactions("", 10).await?;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, TxnState::Empty);
    assert!(s.list_transactions("txn-b", 10).await?.is_empty());

    // Idle ids expire; open ones never do.
    init(s, "txn-c").await?;
    let c = s.transaction("txn-c").await?.expect("stored");
    s.add_to_transaction("txn-c", c.producer_id, c.epoch, &[(t, 0)], &[], 9_000)
        .await?
        .map_err(|r| anyhow::anyhow!("{r:?}"))?;
    assert_eq!(s.expire_transactional_ids(i64::MAX, 10).await?, 1);
    assert!(s.transaction("txn-b").await?.is_none());
    assert!(s.transaction("txn-c").await?.is_some());
    Ok(())
}

pub async fn transactional_offsets_apply_only_on_commit(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let s = &*store;
    let t = create(s, "input", 1).await?.id;
    let offset = |value: i64| CommittedOffset {
        topic_id: t,
        partition: 0,
        offset: value,
        leader_epoch: -1,
        metadata: Some("m".into()),
        commit_timestamp_ms: 10,
    };
    for (round, commit) in [(1_i64, false), (2, true)] {
        let p = init(s, "txn-d").await?;
        let id = "txn-d";
        // Offsets of a group not in the transaction are refused.
        assert_eq!(
            s.txn_commit_offsets(id, p.producer_id, p.epoch, "g", &[offset(round)])
                .await?,
            Err(TxnRefusal::InvalidState)
        );
        s.add_to_transaction(id, p.producer_id, p.epoch, &[], &["g".to_string()], 1)
            .await?
            .map_err(|r| anyhow::anyhow!("{r:?}"))?;
        assert_eq!(
            s.txn_commit_offsets(id, p.producer_id, p.epoch + 1, "g", &[offset(round)])
                .await?,
            Err(TxnRefusal::Fenced)
        );
        assert_eq!(
            s.txn_commit_offsets(id, p.producer_id, p.epoch, "g", &[offset(round)])
                .await?,
            Ok(())
        );
        assert_eq!(s.pending_txn_offsets("g").await?, vec![(t, 0)]);
        assert!(s.fetch_offsets("g", None).await?.is_empty());
        let record = s.transaction(id).await?.expect("stored");
        assert_eq!(record.groups, vec!["g".to_string()]);
        let prepared = s
            .prepare_transaction(id, record.version(), commit, p.epoch, 2)
            .await?
            .expect("prepared");
        assert!(s.complete_transaction(id, prepared.version(), 3).await?);
        assert!(s.pending_txn_offsets("g").await?.is_empty());
    }
    // Only the committed round's offset was applied.
    assert_eq!(s.fetch_offsets("g", None).await?, vec![offset(2)]);
    Ok(())
}

/// An archive swap (`drop_segments`) forgets the aborted ranges whose
/// abort marker it archived away (the archive holds no markers), and keeps
/// those whose marker is still live.
pub async fn archive_swaps_forget_aborted_ranges_they_archive(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    use floe_metadata::{ArchiveCommit, ArchiveOutcome, ArchivedFile, ArchivedRowGroup};
    use std::time::Duration;

    let store = backend.open().await?;
    let s = &*store;
    let t = create(s, "archived-txn", 1).await?.id;
    let p = init(s, "txn-archived").await?;
    let add = || async {
        s.add_to_transaction(
            "txn-archived",
            p.producer_id,
            p.epoch,
            &[(t, 0)],
            &[],
            2_000,
        )
        .await?
        .map_err(|r| anyhow::anyhow!("{r:?}"))
    };
    // Aborted 0..=2 (marker at 2); aborted 3..=5 (plain record at 4,
    // marker at 5); one row per commit.
    add().await?;
    assert_eq!(commit(s, t, vec![data(p, 0, 2)]).await?, vec![appended(0)]);
    assert_eq!(
        commit(s, t, vec![marker(p, false)]).await?,
        vec![appended(2)]
    );
    add().await?;
    assert_eq!(commit(s, t, vec![data(p, 2, 1)]).await?, vec![appended(3)]);
    assert_eq!(
        commit(s, t, vec![batch(1, 1_000)]).await?,
        vec![appended(4)]
    );
    assert_eq!(
        commit(s, t, vec![marker(p, false)]).await?,
        vec![appended(5)]
    );
    let range = |first_offset, last_offset| AbortedTxn {
        producer_id: p.producer_id,
        first_offset,
        last_offset,
    };
    assert_eq!(
        s.aborted_transactions(t, 0, 0, 100, 10).await?,
        vec![range(0, 2), range(3, 5)]
    );

    let fence = s
        .acquire_lease(
            "archive",
            "contract",
            Duration::from_secs(60),
            Duration::ZERO,
        )
        .await?
        .expect("a free lease");
    let id = uuid::Uuid::new_v4();
    let pass = |drop_segments| ArchiveCommit {
        topic_id: t,
        snapshot_id: 1,
        manifest_key: "archive/t/metadata/m.avro".into(),
        manifest_length: 1,
        committed_ms: 0,
        files: vec![ArchivedFile {
            file_id: id,
            object_key: format!("archive/t/data/0-0-3-{id}.parquet"),
            size: 100,
            partition: 0,
            base_offset: 0,
            last_offset: 3,
            records: 0,
            row_groups: vec![ArchivedRowGroup {
                base_offset: 0,
                last_offset: 3,
                byte_offset: 0,
                byte_len: 0,
                max_timestamp: -1,
            }],
        }],
        drop_segments,
    };
    // Rows 0-1, 2 and 3 swapped: the range whose marker (2) went is
    // forgotten, the one whose marker (5) is live stays.
    assert!(matches!(
        s.commit_archive(&pass(true), &fence).await?,
        ArchiveOutcome::Committed { .. }
    ));
    assert_eq!(
        s.aborted_transactions(t, 0, 0, 100, 10).await?,
        vec![range(3, 5)]
    );
    let rows = s.index_rows(t, 0, 0, 10).await?;
    assert_eq!(
        rows.iter()
            .map(|r| (r.base_offset, r.last_offset))
            .collect::<Vec<_>>(),
        vec![(0, 3), (4, 4), (5, 5)]
    );
    Ok(())
}
