-- Locks the partitions of topic $1 in the order commits lock them, so a
-- deletion and a commit never deadlock.
SELECT partition FROM partitions WHERE topic_id = $1 ORDER BY partition FOR UPDATE
