-- $1 topic id, $2 partition: locks the partition (commits lock it too) and
-- reads its high watermark.
SELECT next_offset FROM partitions WHERE topic_id = $1 AND partition = $2 FOR UPDATE
