-- Takes over group ?1: bumps its coordinator epoch (1 the first time) and
-- returns it. In Postgres the row lock makes it wait for writes made under
-- the previous epoch, which hold the row FOR SHARE, so the new coordinator
-- loads the group after them.
INSERT INTO group_coordinators AS c (group_id, epoch) VALUES (?1, 1)
ON CONFLICT (group_id) DO UPDATE SET epoch = c.epoch + 1
RETURNING epoch
