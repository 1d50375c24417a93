INSERT INTO producer_batches (
    topic_id, partition, producer_id, epoch, base_sequence, last_sequence, base_offset,
    written_at
) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
