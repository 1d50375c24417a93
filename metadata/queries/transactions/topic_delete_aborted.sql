DELETE FROM txn_aborted WHERE topic_id = $1
