-- $1 topic ids, $2 partitions: locks the partitions a swap touches, in
-- (topic id, partition) order as commits and retention do, so none of
-- them changes the partitions' rows until the swap commits.
SELECT p.topic_id, p.partition
FROM partitions AS p
JOIN unnest($1::uuid[], $2::integer[]) AS w (topic_id, partition)
  ON p.topic_id = w.topic_id AND p.partition = w.partition
ORDER BY p.topic_id, p.partition
FOR UPDATE OF p
