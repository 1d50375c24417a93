-- Replaces a group's state if its stored generation is the expected one
-- (0 rows affected otherwise).
-- ?1 group id, ?2 generation, ?3 protocol type, ?4 protocol, ?5 leader,
-- ?6 expected generation
UPDATE group_states
SET generation = ?2, protocol_type = ?3, protocol = ?4, leader = ?5
WHERE group_id = ?1 AND generation = ?6
