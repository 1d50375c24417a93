-- $1 topic id: locks the topic row (after its partitions, in the order a
-- deletion takes them) and reads its partition count.
SELECT partitions FROM topics WHERE id = $1 FOR UPDATE
