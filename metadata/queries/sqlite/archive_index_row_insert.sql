-- One row group of an archive file as an index row: byte_offset and
-- byte_len are the row group's column chunks in the Parquet file.
INSERT INTO index_rows (
    topic_id, partition, base_offset, last_offset,
    segment_id, byte_offset, byte_len, max_timestamp
) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
