DELETE FROM producer_batches WHERE topic_id = ?1
