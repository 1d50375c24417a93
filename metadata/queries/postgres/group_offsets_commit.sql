-- Commits a group's offsets in one statement, all or nothing, and returns
-- whether it did.
-- $1 group id; $2 the generation the group's stored state must have (NULL:
-- commit unconditionally); the offsets as parallel arrays, one element per
-- partition, no partition twice, ordered by topic id and partition (the
-- order their rows are locked in, so concurrent commits cannot deadlock):
-- $3 topic ids, $4 partitions, $5 offsets, $6 leader epochs, $7 metadata
-- (NULL elements: none), $8 commit timestamps in ms; $9 the committing
-- coordinator's epoch (0: one that never claimed the group, which may
-- commit only while nobody did). The coordinator row is share-locked, so a
-- takeover waits for this commit.
--
-- With a generation, the group's state is share-locked: a rebalance that
-- stores a new generation either waits for this commit, or has stored it
-- first and this commit sees the new generation and writes nothing.
-- The topics are key-share-locked: offsets of a topic deleted before this
-- commit are skipped (a topic deleted after it takes them along, by the
-- cascade), never a foreign-key error.
WITH fence AS (
    SELECT s.group_id
    FROM group_states AS s
    WHERE s.group_id = $1 AND s.generation = $2
    FOR SHARE
),
claimed AS (
    SELECT c.epoch FROM group_coordinators AS c WHERE c.group_id = $1 FOR SHARE
),
allowed AS (
    SELECT ($2::integer IS NULL OR EXISTS (SELECT 1 FROM fence))
        AND coalesce((SELECT max(epoch) FROM claimed), 0) = $9 AS ok
),
live AS (
    SELECT t.id
    FROM topics AS t
    WHERE t.id = ANY ($3::uuid[])
    FOR KEY SHARE
),
written AS (
    INSERT INTO group_offsets (
        group_id, topic_id, partition, committed_offset, leader_epoch, metadata,
        commit_timestamp_ms
    )
    SELECT $1, o.topic_id, o.partition, o.committed_offset, o.leader_epoch, o.metadata,
        o.commit_timestamp_ms
    FROM unnest(
        $3::uuid[], $4::integer[], $5::bigint[], $6::integer[], $7::bytea[], $8::bigint[]
    ) WITH ORDINALITY AS o (
        topic_id, partition, committed_offset, leader_epoch, metadata, commit_timestamp_ms,
        position
    )
    WHERE (SELECT a.ok FROM allowed AS a) AND o.topic_id IN (SELECT l.id FROM live AS l)
    ORDER BY o.position
    ON CONFLICT (group_id, topic_id, partition) DO UPDATE SET
        committed_offset = EXCLUDED.committed_offset,
        leader_epoch = EXCLUDED.leader_epoch,
        metadata = EXCLUDED.metadata,
        commit_timestamp_ms = EXCLUDED.commit_timestamp_ms
)
SELECT a.ok FROM allowed AS a
