-- ?1 topic id, ?2 its new partition count.
UPDATE topics SET partitions = ?2 WHERE id = ?1
