-- Consumer groups (design.md, "Consumer groups without stateful brokers"):
-- the state a group's coordinator persists after each rebalance, so another
-- agent can take the group over, and the offsets its consumers commit.
-- Same tables as migrations/sqlite/0003_groups.sql.
--
-- A group's coordinator writes its state with compare-and-set on the
-- generation (group_store_*.sql), so of two agents that both believe they
-- coordinate a group only one can write. Group ids order bytewise (COLLATE
-- "C"), as in SQLite.

-- One row per group with a stored state.
CREATE TABLE group_states (
    group_id       text    COLLATE "C" NOT NULL PRIMARY KEY,
    generation     integer NOT NULL CHECK (generation >= 0),
    protocol_type  text,
    protocol       text,
    leader         text
);

-- The members of a stored state, in the coordinator's order (member_index
-- 0, 1, …). Their protocol metadata and assignments are opaque bytes.
CREATE TABLE group_members (
    group_id              text    COLLATE "C" NOT NULL
                              REFERENCES group_states (group_id) ON DELETE CASCADE,
    member_index          integer NOT NULL CHECK (member_index >= 0),
    member_id             text    NOT NULL,
    group_instance_id     text,
    client_id             text    NOT NULL,
    client_host           text    NOT NULL,
    session_timeout_ms    integer NOT NULL,
    rebalance_timeout_ms  integer NOT NULL,
    metadata              bytea   NOT NULL,
    assignment            bytea   NOT NULL,
    PRIMARY KEY (group_id, member_index)
);

-- Committed offsets, with or without a stored state (a consumer outside any
-- group commits too). Times are milliseconds since the Unix epoch by the
-- committer's clock. Deleting a topic deletes its committed offsets: by the
-- cascade, which also catches a commit racing with the delete (a commit
-- locks the topic rows it writes for, group_offsets_commit.sql).
CREATE TABLE group_offsets (
    group_id             text    COLLATE "C" NOT NULL,
    topic_id             uuid    NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    partition            integer NOT NULL CHECK (partition >= 0),
    committed_offset     bigint  NOT NULL,
    leader_epoch         integer NOT NULL,
    metadata             bytea,
    commit_timestamp_ms  bigint  NOT NULL,
    PRIMARY KEY (group_id, topic_id, partition)
);

-- The cascade from topics.
CREATE INDEX group_offsets_by_topic ON group_offsets (topic_id);
