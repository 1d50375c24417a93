-- ?1..?7 one old row of a swap: whether it is still stored exactly so.
SELECT count(*) FROM index_rows
WHERE topic_id = ?1 AND partition = ?2 AND base_offset = ?3 AND last_offset = ?4
  AND segment_id = ?5 AND byte_offset = ?6 AND byte_len = ?7
