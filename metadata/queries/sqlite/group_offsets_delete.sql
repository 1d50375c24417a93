-- Deletes a group's offsets of some partitions.
-- ?1 group id, ?2 the partitions as a JSON array of [topic id in hex, partition]
DELETE FROM group_offsets
WHERE group_id = ?1 AND (topic_id, partition) IN (
    SELECT unhex(p.value ->> 0), p.value ->> 1 FROM json_each(?2) AS p
)
