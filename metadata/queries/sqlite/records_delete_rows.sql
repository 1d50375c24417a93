-- ?1 topic id, ?2 partition, ?3 new log start: the rows whose records are
-- all below it go; a row the new start falls inside stays (reads from the
-- start skip its first records, as Kafka's do inside a batch).
DELETE FROM index_rows WHERE topic_id = ?1 AND partition = ?2 AND last_offset < ?3
