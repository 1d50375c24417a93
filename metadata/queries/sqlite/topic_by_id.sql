SELECT id, name, partitions, config FROM topics WHERE id = ?1
