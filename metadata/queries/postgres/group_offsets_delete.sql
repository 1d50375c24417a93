-- Deletes a group's offsets of some partitions.
-- $1 group id; the partitions as parallel arrays: $2 topic ids, $3 partitions
DELETE FROM group_offsets
WHERE group_id = $1 AND (topic_id, partition) IN (
    SELECT p.topic_id, p.partition FROM unnest($2::uuid[], $3::integer[]) AS p (topic_id, partition)
)
