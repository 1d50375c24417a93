-- $1 topic ids, $2 partitions, $3 base offsets, $4 last offsets, $5 segment,
-- $6 byte offsets, $7 byte lengths, $8 max timestamps: the new rows.
INSERT INTO index_rows (topic_id, partition, base_offset, last_offset, segment_id,
                        byte_offset, byte_len, max_timestamp)
SELECT n.topic_id, n.partition, n.base_offset, n.last_offset, $5,
       n.byte_offset, n.byte_len, n.max_timestamp
FROM unnest($1::uuid[], $2::integer[], $3::bigint[], $4::bigint[], $6::bigint[],
            $7::bigint[], $8::bigint[])
     AS n (topic_id, partition, base_offset, last_offset, byte_offset, byte_len, max_timestamp)
