-- The log start of a partition moved to $3: the aborted ranges wholly below
-- it cannot be read any more and go (retention, DeleteRecords).
-- $1 topic id, $2 partition.
DELETE FROM txn_aborted WHERE topic_id = $1 AND partition = $2 AND last_offset < $3
