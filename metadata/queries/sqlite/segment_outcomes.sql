-- The offsets a committed segment was given, per partition.
SELECT topic_id, partition, base_offset, last_offset FROM index_rows WHERE segment_id = ?1
