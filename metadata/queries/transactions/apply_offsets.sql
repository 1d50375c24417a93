-- A committed transaction's offsets become its groups' committed offsets:
-- $1 transactional id.
INSERT INTO group_offsets (group_id, topic_id, partition, committed_offset, leader_epoch,
    metadata, commit_timestamp_ms)
SELECT o.group_id, o.topic_id, o.partition, o.committed_offset, o.leader_epoch, o.metadata,
    o.commit_timestamp_ms
FROM txn_offsets AS o WHERE o.transactional_id = $1
ON CONFLICT (group_id, topic_id, partition) DO UPDATE SET
    committed_offset = excluded.committed_offset, leader_epoch = excluded.leader_epoch,
    metadata = excluded.metadata, commit_timestamp_ms = excluded.commit_timestamp_ms
