-- Deletes a group's state (its members go with it, ON DELETE CASCADE) and
-- its committed offsets; returns whether there was either.
-- $1 group id
WITH states AS (
    DELETE FROM group_states WHERE group_id = $1 RETURNING 1
),
offsets AS (
    DELETE FROM group_offsets WHERE group_id = $1 RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM states) OR EXISTS (SELECT 1 FROM offsets)
