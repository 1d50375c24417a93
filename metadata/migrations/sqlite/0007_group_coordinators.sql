-- The coordinator epoch of each group: bumped by every agent that takes
-- over the group (queries/sqlite/group_claim.sql). Group writes carry the
-- epoch of their coordinator and apply only while it is the stored one.
-- Rows outlive their groups: epochs never go back.
CREATE TABLE group_coordinators (
    group_id  TEXT    NOT NULL PRIMARY KEY,
    epoch     INTEGER NOT NULL CHECK (epoch > 0)
) WITHOUT ROWID;
