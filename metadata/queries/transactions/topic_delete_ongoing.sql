DELETE FROM txn_ongoing WHERE topic_id = $1
