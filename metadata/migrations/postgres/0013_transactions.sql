-- Transactions (KIP-98): the coordinator's state of each transactional id,
-- the partitions and groups of its open transaction, the offsets it
-- commits for groups, and per partition the transactions still open
-- there and the ranges of those that aborted. Their rows are written in
-- the same database transactions as the index, so a marker's commit ends
-- the transaction on its partition atomically with the marker's offset.

-- The coordinator's view of a transactional id (Kafka's
-- TransactionMetadata). Times are ms since the epoch by the coordinator's
-- clock. Every change is a compare-and-set on (producer_id, epoch, state).
ALTER TABLE transactional_ids
    ADD COLUMN state text NOT NULL DEFAULT 'empty' CHECK (state IN ('empty', 'ongoing',
        'prepare_commit', 'prepare_abort', 'complete_commit', 'complete_abort')),
    ADD COLUMN timeout_ms integer NOT NULL DEFAULT 60000 CHECK (timeout_ms > 0),
    ADD COLUMN started_ms bigint NOT NULL DEFAULT -1,
    ADD COLUMN updated_ms bigint NOT NULL DEFAULT 0,
    -- The epoch before the coordinator bumped it to abort on its own (a
    -- timeout), -1 otherwise: that producer may still InitProducerId with
    -- it (KIP-360) rather than be fenced, as Kafka's lastProducerEpoch.
    ADD COLUMN last_epoch smallint NOT NULL DEFAULT -1;

-- A refused transactional batch of a producer whose transactional id has
-- moved to a newer epoch is INVALID_PRODUCER_EPOCH: looked up by producer id.
CREATE INDEX transactional_ids_by_producer ON transactional_ids (producer_id);

-- The timeout job looks for open transactions (few) by start time.
CREATE INDEX transactional_ids_open ON transactional_ids (started_ms)
    WHERE state <> 'empty' AND state NOT LIKE 'complete%';

-- The partitions of each open transaction (AddPartitionsToTxn).
CREATE TABLE txn_partitions (
    transactional_id  text    NOT NULL REFERENCES transactional_ids ON DELETE CASCADE,
    topic_id          uuid    NOT NULL,
    partition         integer NOT NULL,
    PRIMARY KEY (transactional_id, topic_id, partition)
);

-- The groups of each open transaction (AddOffsetsToTxn).
CREATE TABLE txn_groups (
    transactional_id  text NOT NULL REFERENCES transactional_ids ON DELETE CASCADE,
    group_id          text COLLATE "C" NOT NULL,
    PRIMARY KEY (transactional_id, group_id)
);

-- Offsets committed in an open transaction (TxnOffsetCommit): copied into
-- group_offsets when it commits, dropped when it aborts.
CREATE TABLE txn_offsets (
    transactional_id     text    NOT NULL REFERENCES transactional_ids ON DELETE CASCADE,
    group_id             text    COLLATE "C" NOT NULL,
    topic_id             uuid    NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    partition            integer NOT NULL CHECK (partition >= 0),
    committed_offset     bigint  NOT NULL,
    leader_epoch         integer NOT NULL,
    metadata             bytea,
    commit_timestamp_ms  bigint  NOT NULL,
    PRIMARY KEY (transactional_id, group_id, topic_id, partition)
);
-- OffsetFetch(require_stable) asks whether a group has pending offsets.
CREATE INDEX txn_offsets_by_group ON txn_offsets (group_id, topic_id, partition);

-- Per partition, the producers with an open transaction there: created by
-- AddPartitionsToTxn (so it is also KIP-890's verification set), given its
-- first offset by the transaction's first appended batch, deleted by its
-- marker's commit. The smallest first offset is the last stable offset.
CREATE TABLE txn_ongoing (
    topic_id        uuid     NOT NULL,
    partition       integer  NOT NULL,
    producer_id     bigint   NOT NULL,
    producer_epoch  smallint NOT NULL,
    first_offset    bigint,
    PRIMARY KEY (topic_id, partition, producer_id)
);
CREATE INDEX txn_ongoing_first ON txn_ongoing (topic_id, partition, first_offset)
    WHERE first_offset IS NOT NULL;

-- Per partition, the aborted transactions: a producer's records from
-- first_offset to its abort marker at last_offset are skipped by
-- read_committed consumers. Looked up by "overlaps [a, b]": last_offset >= a
-- (the key) and first_offset <= b.
CREATE TABLE txn_aborted (
    topic_id      uuid    NOT NULL,
    partition     integer NOT NULL,
    producer_id   bigint  NOT NULL,
    first_offset  bigint  NOT NULL,
    last_offset   bigint  NOT NULL,
    PRIMARY KEY (topic_id, partition, last_offset)
);

-- The newest aborted range's marker offset, read with the high watermark,
-- so a fetch above it skips the lookup of aborted ranges.
ALTER TABLE partitions ADD COLUMN last_aborted_offset bigint NOT NULL DEFAULT -1;

-- floe_commit_txn_segment: floe_commit_segment for a segment holding
-- transactional batches or markers (a plain segment goes straight to
-- floe_commit_segment and pays nothing for this). Same arguments, plus
-- p_txn_kinds: per batch 0 plain, 1 transactional data, 2 commit marker,
-- 3 abort marker; for a marker p_producer_ids / p_producer_epochs hold the
-- producer whose transaction it ends (it is sequenced as a plain batch).
-- The rules are those of metadata/src/sequencer.rs:
-- * a transactional batch is appended only if its producer has an ongoing
--   row on the partition at the batch's epoch and no marker of the producer
--   comes before it in the segment; else 'invalid_producer_epoch' if its
--   producer id's transactional id is at a newer epoch (a fenced zombie, or
--   a producer whose transaction timed out), 'invalid_txn_state' otherwise;
-- * the first appended batch of a transaction sets its first offset;
-- * an appended marker deletes its producer's ongoing row and, for an
--   abort whose transaction appended data, records the aborted range and
--   the partition's last_aborted_offset.
CREATE FUNCTION floe_commit_txn_segment(
    p_segment_id      uuid,
    p_object_key      text,
    p_size            bigint,
    p_entry_indexes   integer[],
    p_topic_ids       uuid[],
    p_partitions      integer[],
    p_byte_offsets    bigint[],
    p_byte_lens       bigint[],
    p_offset_counts   bigint[],
    p_max_timestamps  bigint[],
    p_producer_ids    bigint[],
    p_producer_epochs smallint[],
    p_base_sequences  integer[],
    p_txn_kinds       smallint[]
) RETURNS TABLE (
    committed boolean, entry_indexes integer[], outcomes text[], base_offsets bigint[]
)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    n           integer := coalesce(cardinality(p_entry_indexes), 0);
    refused     boolean[];
    seq_ids     bigint[];
    inner_kind  text[];
    inner_base  bigint[];
    is_new      boolean;
    o_kind      text[] := '{}';
    o_base      bigint[] := '{}';
    j           integer := 0;
BEGIN
    IF coalesce(cardinality(p_txn_kinds), 0) <> n THEN
        RAISE EXCEPTION 'floe_commit_txn_segment: batch arrays differ in length'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    IF EXISTS (SELECT 1 FROM segments AS s WHERE s.id = p_segment_id) THEN
        -- A retry: answer as the first time.
        RETURN QUERY
            SELECT false, o.entry_indexes, o.outcomes, o.base_offsets
            FROM segment_outcomes AS o
            WHERE o.segment_id = p_segment_id;
        RETURN;
    END IF;

    -- Lock the partitions in (topic_id, partition) order, as every commit
    -- does, before reading their ongoing transactions.
    PERFORM 1
    FROM partitions AS p
    WHERE (p.topic_id, p.partition) IN (
        SELECT u.topic_id, u.partition FROM unnest(p_topic_ids, p_partitions) AS u (topic_id, partition)
    )
    ORDER BY p.topic_id, p.partition
    FOR UPDATE;

    SELECT coalesce(array_agg(
            u.kind = 1 AND (
                NOT EXISTS (
                    SELECT 1 FROM txn_ongoing AS o
                    WHERE o.topic_id = u.topic_id AND o.partition = u.partition
                        AND o.producer_id = u.producer_id AND o.producer_epoch = u.producer_epoch)
                OR EXISTS (
                    SELECT 1
                    FROM unnest(p_entry_indexes, p_producer_ids, p_txn_kinds) WITH ORDINALITY
                        AS m (entry_index, producer_id, kind, pos)
                    WHERE m.pos < u.pos AND m.entry_index = u.entry_index
                        AND m.producer_id = u.producer_id AND m.kind >= 2))
            ORDER BY u.pos), '{}'),
        coalesce(array_agg(CASE WHEN u.kind >= 2 THEN NULL ELSE u.producer_id END
            ORDER BY u.pos), '{}')
    INTO refused, seq_ids
    FROM unnest(p_entry_indexes, p_topic_ids, p_partitions, p_producer_ids, p_producer_epochs,
            p_txn_kinds) WITH ORDINALITY
        AS u (entry_index, topic_id, partition, producer_id, producer_epoch, kind, pos);

    -- Sequence the batches that are not refused (markers as plain batches).
    SELECT s.committed, s.outcomes, s.base_offsets
    INTO is_new, inner_kind, inner_base
    FROM floe_commit_segment(p_segment_id, p_object_key, p_size,
        ARRAY(SELECT u.v FROM unnest(p_entry_indexes, refused) WITH ORDINALITY AS u (v, r, pos)
              WHERE NOT u.r ORDER BY u.pos),
        ARRAY(SELECT u.v FROM unnest(p_topic_ids, refused) WITH ORDINALITY AS u (v, r, pos)
              WHERE NOT u.r ORDER BY u.pos),
        ARRAY(SELECT u.v FROM unnest(p_partitions, refused) WITH ORDINALITY AS u (v, r, pos)
              WHERE NOT u.r ORDER BY u.pos),
        ARRAY(SELECT u.v FROM unnest(p_byte_offsets, refused) WITH ORDINALITY AS u (v, r, pos)
              WHERE NOT u.r ORDER BY u.pos),
        ARRAY(SELECT u.v FROM unnest(p_byte_lens, refused) WITH ORDINALITY AS u (v, r, pos)
              WHERE NOT u.r ORDER BY u.pos),
        ARRAY(SELECT u.v FROM unnest(p_offset_counts, refused) WITH ORDINALITY AS u (v, r, pos)
              WHERE NOT u.r ORDER BY u.pos),
        ARRAY(SELECT u.v FROM unnest(p_max_timestamps, refused) WITH ORDINALITY AS u (v, r, pos)
              WHERE NOT u.r ORDER BY u.pos),
        ARRAY(SELECT u.v FROM unnest(seq_ids, refused) WITH ORDINALITY AS u (v, r, pos)
              WHERE NOT u.r ORDER BY u.pos),
        ARRAY(SELECT u.v FROM unnest(p_producer_epochs, refused) WITH ORDINALITY AS u (v, r, pos)
              WHERE NOT u.r ORDER BY u.pos),
        ARRAY(SELECT u.v FROM unnest(p_base_sequences, refused) WITH ORDINALITY AS u (v, r, pos)
              WHERE NOT u.r ORDER BY u.pos)
    ) AS s;

    FOR i IN 1 .. n LOOP
        IF refused[i] THEN
            o_kind := o_kind || CASE
                WHEN EXISTS (
                    SELECT 1 FROM transactional_ids AS t
                    WHERE t.producer_id = p_producer_ids[i] AND t.epoch > p_producer_epochs[i])
                THEN 'invalid_producer_epoch'
                ELSE 'invalid_txn_state'
            END;
            o_base := o_base || NULL::bigint;
        ELSE
            j := j + 1;
            o_kind := o_kind || inner_kind[j];
            o_base := o_base || inner_base[j];
        END IF;
    END LOOP;

    IF true = ANY (refused) THEN
        UPDATE segment_outcomes AS o
        SET entry_indexes = coalesce(p_entry_indexes, '{}'), outcomes = o_kind,
            base_offsets = o_base
        WHERE o.segment_id = p_segment_id;
    END IF;

    -- The first appended batch of each transaction sets its first offset.
    UPDATE txn_ongoing AS o
    SET first_offset = f.first_offset
    FROM (
        SELECT u.topic_id, u.partition, u.producer_id, min(u.base) AS first_offset
        FROM unnest(p_topic_ids, p_partitions, p_producer_ids, p_txn_kinds, o_kind, o_base)
            AS u (topic_id, partition, producer_id, kind, outcome, base)
        WHERE u.kind = 1 AND u.outcome = 'appended'
        GROUP BY u.topic_id, u.partition, u.producer_id
    ) AS f
    WHERE o.topic_id = f.topic_id AND o.partition = f.partition
        AND o.producer_id = f.producer_id AND o.first_offset IS NULL;

    -- Markers end their producers' transactions on their partitions.
    WITH ended AS (
        DELETE FROM txn_ongoing AS o
        USING unnest(p_topic_ids, p_partitions, p_producer_ids, p_txn_kinds, o_kind, o_base)
            AS m (topic_id, partition, producer_id, kind, outcome, base)
        WHERE m.kind >= 2 AND m.outcome = 'appended' AND o.topic_id = m.topic_id
            AND o.partition = m.partition AND o.producer_id = m.producer_id
        RETURNING o.topic_id, o.partition, o.producer_id, o.first_offset, m.base AS marker,
            m.kind
    ),
    aborted AS (
        INSERT INTO txn_aborted (topic_id, partition, producer_id, first_offset, last_offset)
        SELECT e.topic_id, e.partition, e.producer_id, e.first_offset, e.marker
        FROM ended AS e
        WHERE e.kind = 3 AND e.first_offset IS NOT NULL
        RETURNING txn_aborted.topic_id, txn_aborted.partition, txn_aborted.last_offset
    )
    UPDATE partitions AS p
    SET last_aborted_offset = a.last_offset
    FROM (
        SELECT b.topic_id, b.partition, max(b.last_offset) AS last_offset
        FROM aborted AS b
        GROUP BY b.topic_id, b.partition
    ) AS a
    WHERE p.topic_id = a.topic_id AND p.partition = a.partition;

    RETURN QUERY SELECT true, coalesce(p_entry_indexes, '{}'), o_kind, o_base;
END;
$$;
