-- $1 file id, $2 object key, $3 size: the Parquet file as a segment, so the
-- collector deletes it once no index row points at it (retention). Never a
-- compaction input: its rows point at Parquet row groups, not at batches.
INSERT INTO segments (id, object_key, size, compactable) VALUES ($1, $2, $3, false)
