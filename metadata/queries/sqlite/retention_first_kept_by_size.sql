-- ?1 topic id, ?2 partition, ?3 bytes to keep (retention.bytes): the first
-- index row, in offset order, that size retention keeps. Rows go, oldest
-- first, while the rows after them still hold at least ?3 bytes, so what is
-- left never falls below it (as Kafka deletes segments). Rows whose later
-- rows hold fewer bytes than ?3 are kept; the oldest of them is the answer.
SELECT base_offset FROM (
    SELECT base_offset,
           sum(byte_len) OVER (ORDER BY base_offset DESC
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS later
    FROM index_rows
    WHERE topic_id = ?1 AND partition = ?2
) AS sized
WHERE coalesce(later, 0) < ?3
ORDER BY base_offset
LIMIT 1
