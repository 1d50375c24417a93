-- $1 topic id, $2 partition: log start, high watermark, last stable offset
-- (the first offset of the oldest open transaction, else the high
-- watermark) and the last aborted offset, in one statement.
SELECT p.log_start_offset, p.next_offset,
    coalesce((SELECT min(o.first_offset) FROM txn_ongoing AS o
              WHERE o.topic_id = p.topic_id AND o.partition = p.partition
                  AND o.first_offset IS NOT NULL), p.next_offset),
    p.last_aborted_offset
FROM partitions AS p WHERE p.topic_id = $1 AND p.partition = $2
