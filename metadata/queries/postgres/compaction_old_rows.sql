-- $1..$7 the old rows of a swap (topic id, partition, base offset, last
-- offset, segment, byte offset, byte length): how many of each partition's
-- are still stored exactly so.
SELECT o.topic_id, o.partition, count(*)
FROM unnest($1::uuid[], $2::integer[], $3::bigint[], $4::bigint[], $5::uuid[],
            $6::bigint[], $7::bigint[])
     AS o (topic_id, partition, base_offset, last_offset, segment_id, byte_offset, byte_len)
JOIN index_rows AS i
  ON i.topic_id = o.topic_id AND i.partition = o.partition
 AND i.base_offset = o.base_offset AND i.last_offset = o.last_offset
 AND i.segment_id = o.segment_id AND i.byte_offset = o.byte_offset
 AND i.byte_len = o.byte_len
GROUP BY o.topic_id, o.partition
