-- $1 topic id: the topic's archive snapshots, oldest first.
SELECT sequence_number, snapshot_id, manifest_key, manifest_length,
       added_files, added_rows, committed_ms
FROM archive_manifests WHERE topic_id = $1 ORDER BY sequence_number
