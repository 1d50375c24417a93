-- $1 topic id, $2 partition, $3 marker offsets: the aborted ranges whose
-- abort markers a clean dropped (their records went before them), so they
-- hold nothing a read_committed Fetch must skip.
DELETE FROM txn_aborted WHERE topic_id = $1 AND partition = $2 AND last_offset = ANY($3)
