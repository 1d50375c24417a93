-- Consumer groups (design.md, "Consumer groups without stateful brokers"):
-- the state a group's coordinator persists after each rebalance, so the
-- group survives a restart, and the offsets its consumers commit. Same
-- tables as migrations/postgres/0004_groups.sql.

-- One row per group with a stored state.
CREATE TABLE group_states (
    group_id       TEXT    NOT NULL PRIMARY KEY,
    generation     INTEGER NOT NULL CHECK (generation BETWEEN 0 AND 2147483647),
    protocol_type  TEXT,
    protocol       TEXT,
    leader         TEXT
) WITHOUT ROWID;

-- The members of a stored state, in the coordinator's order (member_index
-- 0, 1, …). Their protocol metadata and assignments are opaque bytes.
CREATE TABLE group_members (
    group_id              TEXT    NOT NULL
                              REFERENCES group_states (group_id) ON DELETE CASCADE,
    member_index          INTEGER NOT NULL CHECK (member_index >= 0),
    member_id             TEXT    NOT NULL,
    group_instance_id     TEXT,
    client_id             TEXT    NOT NULL,
    client_host           TEXT    NOT NULL,
    session_timeout_ms    INTEGER NOT NULL,
    rebalance_timeout_ms  INTEGER NOT NULL,
    metadata              BLOB    NOT NULL,
    assignment            BLOB    NOT NULL,
    PRIMARY KEY (group_id, member_index)
) WITHOUT ROWID;

-- Committed offsets, with or without a stored state (a consumer outside any
-- group commits too). Times are milliseconds since the Unix epoch by the
-- committer's clock. Deleting a topic deletes its committed offsets (by the
-- cascade: the store enables foreign keys on every connection).
CREATE TABLE group_offsets (
    group_id             TEXT    NOT NULL,
    topic_id             BLOB    NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    partition            INTEGER NOT NULL CHECK (partition >= 0),
    committed_offset     INTEGER NOT NULL,
    leader_epoch         INTEGER NOT NULL,
    metadata             BLOB,
    commit_timestamp_ms  INTEGER NOT NULL,
    PRIMARY KEY (group_id, topic_id, partition)
) WITHOUT ROWID;

-- The cascade from topics.
CREATE INDEX group_offsets_by_topic ON group_offsets (topic_id);
