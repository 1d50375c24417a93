-- ?1 group id
SELECT topic_id, partition, committed_offset, leader_epoch, metadata, commit_timestamp_ms
FROM group_offsets
WHERE group_id = ?1
ORDER BY topic_id, partition
