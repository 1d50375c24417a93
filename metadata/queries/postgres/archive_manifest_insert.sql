INSERT INTO archive_manifests (
    topic_id, sequence_number, snapshot_id, manifest_key, manifest_length,
    added_files, added_rows, committed_ms
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
