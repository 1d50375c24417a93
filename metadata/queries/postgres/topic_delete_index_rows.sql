DELETE FROM index_rows WHERE topic_id = $1
