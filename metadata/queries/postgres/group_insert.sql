-- Stores the state of a group that has none yet, with its members, in one
-- statement; returns how many states it wrote (0: the group has one, and
-- nothing is written). Of concurrent inserts of one group, the first wins
-- and the others wait for it, then write nothing.
-- $1 group id, $2 generation, $3 protocol type, $4 protocol, $5 leader;
-- the members as parallel arrays, one element per member, in order:
-- $6 member ids, $7 group instance ids (NULL elements: dynamic members),
-- $8 client ids, $9 client hosts, $10 session timeouts, $11 rebalance
-- timeouts, $12 metadata, $13 assignments; $14 the writer's coordinator
-- epoch (see group_update.sql).
WITH claimed AS (
    SELECT c.epoch FROM group_coordinators AS c WHERE c.group_id = $1 FOR SHARE
),
stored AS (
    INSERT INTO group_states (group_id, generation, protocol_type, protocol, leader)
    SELECT $1, $2, $3, $4, $5
    WHERE coalesce((SELECT max(epoch) FROM claimed), 0) = $14
    ON CONFLICT (group_id) DO NOTHING
    RETURNING group_id
),
members AS (
    INSERT INTO group_members (
        group_id, member_index, member_id, group_instance_id, client_id, client_host,
        session_timeout_ms, rebalance_timeout_ms, metadata, assignment
    )
    SELECT s.group_id, (m.position - 1)::integer, m.member_id, m.group_instance_id,
        m.client_id, m.client_host, m.session_timeout_ms, m.rebalance_timeout_ms,
        m.metadata, m.assignment
    FROM stored AS s
    CROSS JOIN unnest(
        $6::text[], $7::text[], $8::text[], $9::text[], $10::integer[], $11::integer[],
        $12::bytea[], $13::bytea[]
    ) WITH ORDINALITY AS m (
        member_id, group_instance_id, client_id, client_host, session_timeout_ms,
        rebalance_timeout_ms, metadata, assignment, position
    )
)
SELECT count(*) FROM stored
