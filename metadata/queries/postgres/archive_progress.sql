-- $1 topic id: per partition, the offset after its last archived range.
SELECT partition, (MAX(last_offset) + 1)::bigint
FROM archive_files WHERE topic_id = $1 GROUP BY partition ORDER BY partition
