-- $1 topic id, $2 partition, $3 most rows one call may delete: the base
-- offset of the row after the first $3, so a call never deletes more (a
-- large backlog goes over several bounded transactions).
SELECT base_offset FROM index_rows
WHERE topic_id = $1 AND partition = $2
ORDER BY base_offset
OFFSET $3 LIMIT 1
