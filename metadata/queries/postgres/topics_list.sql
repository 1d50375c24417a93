-- Ordered bytewise: topics.name is COLLATE "C".
SELECT id, name, partitions, config::text AS config FROM topics ORDER BY name
