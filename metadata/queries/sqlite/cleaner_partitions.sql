-- ?1 topic id: each partition's offsets, the log cleaner's progress on it,
-- the bytes of all its index rows and of those from the cleaned offset on
-- (the dirty section), and the smallest max timestamp of the dirty rows.
SELECT p.partition, p.log_start_offset, p.next_offset,
       coalesce(c.cleaned_offset, 0), coalesce(c.tombstones_below, 0),
       c.pending_offset, c.pending_deadline_ms,
       coalesce((SELECT sum(r.byte_len) FROM index_rows AS r
                 WHERE r.topic_id = p.topic_id AND r.partition = p.partition), 0),
       coalesce((SELECT sum(r.byte_len) FROM index_rows AS r
                 WHERE r.topic_id = p.topic_id AND r.partition = p.partition
                   AND r.base_offset >= coalesce(c.cleaned_offset, 0)), 0),
       (SELECT min(r.max_timestamp) FROM index_rows AS r
        WHERE r.topic_id = p.topic_id AND r.partition = p.partition
          AND r.base_offset >= coalesce(c.cleaned_offset, 0))
FROM partitions AS p
LEFT JOIN log_cleaner_progress AS c
  ON c.topic_id = p.topic_id AND c.partition = p.partition
WHERE p.topic_id = ?1
ORDER BY p.partition
