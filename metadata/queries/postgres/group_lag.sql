-- $1 group id
SELECT t.name AS topic, o.partition, o.committed_offset, p.next_offset AS high_watermark
FROM group_offsets o
JOIN partitions p ON p.topic_id = o.topic_id AND p.partition = o.partition
JOIN topics t ON t.id = o.topic_id
WHERE o.group_id = $1
ORDER BY t.name, o.partition
