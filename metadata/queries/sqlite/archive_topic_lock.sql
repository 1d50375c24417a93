-- ?1 topic id: whether the topic still exists (the write transaction holds
-- SQLite's one writer lock).
SELECT partitions FROM topics WHERE id = ?1
