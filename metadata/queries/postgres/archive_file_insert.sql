INSERT INTO archive_files (
    topic_id, partition, base_offset, last_offset, file_id, object_key,
    size, records, sequence_number
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
