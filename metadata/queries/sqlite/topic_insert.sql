-- ?1 id, ?2 name, ?3 partitions, ?4 config (JSON object)
INSERT INTO topics (id, name, partitions, config) VALUES (?1, ?2, ?3, ?4)
