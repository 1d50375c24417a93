-- Stores a group's state if it has none yet (0 rows affected if it has).
-- ?1 group id, ?2 generation, ?3 protocol type, ?4 protocol, ?5 leader
INSERT INTO group_states (group_id, generation, protocol_type, protocol, leader)
VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (group_id) DO NOTHING
