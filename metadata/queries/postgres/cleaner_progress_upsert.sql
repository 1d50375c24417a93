-- $1 topic id, $2 partition, $3 cleaned offset, $4 tombstones removable
-- below, $5 pending tombstone offset, $6 its deadline (ms): the cleaner's
-- progress on a partition after a swap.
INSERT INTO log_cleaner_progress (topic_id, partition, cleaned_offset, tombstones_below,
                                  pending_offset, pending_deadline_ms)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (topic_id, partition) DO UPDATE SET
    cleaned_offset = excluded.cleaned_offset,
    tombstones_below = excluded.tombstones_below,
    pending_offset = excluded.pending_offset,
    pending_deadline_ms = excluded.pending_deadline_ms
