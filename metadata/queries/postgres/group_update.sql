-- Replaces the state of a group whose stored generation is $14, with its
-- members, in one statement; returns how many states it wrote (0: the
-- generation differs or the group has no state, and nothing is written).
-- Concurrent updates of one group queue on its row; each later one
-- re-checks the generation the earlier one left.
-- $1 group id, $2 generation, $3 protocol type, $4 protocol, $5 leader;
-- the members as in group_insert.sql ($6 to $13); $14 expected generation;
-- $15 the writer's coordinator epoch (0 for a writer that never claimed
-- the group: it may write only while nobody did). The coordinator row is
-- share-locked, so a takeover waits for this write.
--
-- Members are rows keyed by their index: those the new state has are
-- upserted, those beyond its last are deleted. (Deleting them all and
-- inserting the new ones would collide: the sub-statements of one
-- statement do not see each other's changes.)
WITH claimed AS (
    SELECT c.epoch FROM group_coordinators AS c WHERE c.group_id = $1 FOR SHARE
),
stored AS (
    UPDATE group_states
    SET generation = $2, protocol_type = $3, protocol = $4, leader = $5
    WHERE group_id = $1 AND generation = $14
      AND coalesce((SELECT max(epoch) FROM claimed), 0) = $15
    RETURNING group_id
),
dropped AS (
    DELETE FROM group_members AS d
    USING stored AS s
    WHERE d.group_id = s.group_id AND d.member_index >= cardinality($6::text[])
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
    ON CONFLICT (group_id, member_index) DO UPDATE SET
        member_id = EXCLUDED.member_id,
        group_instance_id = EXCLUDED.group_instance_id,
        client_id = EXCLUDED.client_id,
        client_host = EXCLUDED.client_host,
        session_timeout_ms = EXCLUDED.session_timeout_ms,
        rebalance_timeout_ms = EXCLUDED.rebalance_timeout_ms,
        metadata = EXCLUDED.metadata,
        assignment = EXCLUDED.assignment
)
SELECT count(*) FROM stored
