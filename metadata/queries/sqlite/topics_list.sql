SELECT id, name, partitions, config FROM topics ORDER BY name
