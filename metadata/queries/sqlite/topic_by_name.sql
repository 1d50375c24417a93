SELECT id, name, partitions, config FROM topics WHERE name = ?1
