-- The coordinator epoch of each group: bumped by every agent that takes
-- over the group (queries/postgres/group_claim.sql). Group writes carry the
-- epoch of their coordinator and apply only while it is the stored one, so
-- an agent that still believes it coordinates a group another agent took
-- over cannot write it (design.md, "Agents agree through the store"). Rows
-- outlive their groups: epochs never go back, even for a group deleted and
-- used again.
CREATE TABLE group_coordinators (
    group_id  text   COLLATE "C" NOT NULL PRIMARY KEY,
    epoch     bigint NOT NULL CHECK (epoch > 0)
);
