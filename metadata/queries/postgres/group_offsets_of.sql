-- A group's offsets of some partitions.
-- $1 group id; the partitions as parallel arrays: $2 topic ids, $3 partitions
SELECT topic_id, partition, committed_offset, leader_epoch, metadata, commit_timestamp_ms
FROM group_offsets
WHERE group_id = $1 AND (topic_id, partition) IN (
    SELECT p.topic_id, p.partition FROM unnest($2::uuid[], $3::integer[]) AS p (topic_id, partition)
)
ORDER BY topic_id, partition
