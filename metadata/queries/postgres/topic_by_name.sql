SELECT id, name, partitions, config::text AS config FROM topics WHERE name = $1
