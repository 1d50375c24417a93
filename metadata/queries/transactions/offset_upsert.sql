-- TxnOffsetCommit, one offset, unless its topic is gone: $1 transactional
-- id, $2 group id, $3 topic id, $4 partition, $5 offset, $6 leader epoch,
-- $7 metadata, $8 commit timestamp (ms).
INSERT INTO txn_offsets (transactional_id, group_id, topic_id, partition, committed_offset,
    leader_epoch, metadata, commit_timestamp_ms)
SELECT $1, $2, t.id, $4, $5, $6, $7, $8 FROM topics AS t WHERE t.id = $3
ON CONFLICT (transactional_id, group_id, topic_id, partition) DO UPDATE SET
    committed_offset = excluded.committed_offset, leader_epoch = excluded.leader_epoch,
    metadata = excluded.metadata, commit_timestamp_ms = excluded.commit_timestamp_ms
