-- $1 topic ids, $2 partitions, $3 base offsets: the replaced rows (checked
-- unchanged under the partitions' locks).
DELETE FROM index_rows AS i
USING unnest($1::uuid[], $2::integer[], $3::bigint[]) AS o (topic_id, partition, base_offset)
WHERE i.topic_id = o.topic_id AND i.partition = o.partition AND i.base_offset = o.base_offset
