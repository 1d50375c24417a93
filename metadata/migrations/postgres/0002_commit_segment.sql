-- floe_commit_segment: commits a whole segment file in one statement, so a
-- commit is one round trip whatever the number of partitions and batches,
-- and returns what became of each batch. It runs a handful of set-based
-- statements whatever the number of batches (docs/benchmarks.md, "Metadata
-- commit", says what each choice bought). It does not NOTIFY: the store
-- does, after the commit (metadata/src/postgres/notifications.rs), because
-- a transaction that has run NOTIFY takes a lock for the whole server at
-- commit and holds it until its commit record is on disk, so notifying
-- commits could not share a flush.
--
-- Later changes go in a new migration that replaces the function, never
-- here.
--
-- The batches come as parallel arrays, one element per batch, ordered by
-- entry (one entry per partition) and by position in the entry:
-- p_entry_indexes (0-based, non-decreasing), p_topic_ids, p_partitions,
-- p_byte_offsets, p_byte_lens, p_offset_counts, p_max_timestamps, and the
-- idempotence fields p_producer_ids (NULL for a batch of a plain producer),
-- p_producer_epochs, p_base_sequences. The caller has validated them
-- (metadata/src/validate.rs). The function returns one row: whether it
-- committed the segment now, and the entry index, the outcome and the base
-- offset of every batch, in order.
--
-- The rules are those of metadata/src/sequencer.rs, which the SQLite store
-- runs in Rust; the contract suite holds both to the same answers:
-- * A segment already committed is not committed again: its stored
--   outcomes are returned.
-- * The touched partitions are locked in (topic_id, partition) order, so two
--   concurrent commits never deadlock. The statement that locks them also
--   reads their high watermarks (a row locked after a wait is read as the
--   previous commit left it); every later statement takes a new snapshot
--   (READ COMMITTED), so it sees the producer histories as the previous
--   commit left them too.
-- * A batch of an idempotent producer is checked against that producer's
--   last five batches on the partition: an older epoch is refused
--   (invalid_producer_epoch); a newer epoch must start at sequence 0; at the
--   same epoch a batch equal (base and last sequence) to a remembered one is
--   a duplicate and gets that batch's offset, else it must follow the last
--   sequence (wrapping from 2147483647 to 0) or is out of order. A producer
--   the partition has never seen may start at any sequence.
-- * Accepted batches take the partition's next offsets in order; accepted
--   batches adjacent in the file share one index row; each partition's high
--   watermark is written once.
--
-- How: (1) one statement locks the partitions and reads their high
-- watermarks; (2) one statement judges every batch of an idempotent
-- producer that is its producer's only batch in its entry (the usual case)
-- against the stored history; (3) a loop judges, one after the other, the
-- batches of a producer with several batches in one entry, which must see
-- each other; (4) one statement gives the accepted batches their offsets
-- (running sums over each entry), inserts the index rows (runs of adjacent
-- accepted batches), advances the partitions and records the outcomes;
-- (5) one statement rewrites the histories of the producers that had
-- batches accepted. Plain commits skip (2), (3) and (5).

CREATE FUNCTION floe_commit_segment(
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
    p_base_sequences  integer[]
) RETURNS TABLE (
    committed boolean, entry_indexes integer[], outcomes text[], base_offsets bigint[]
)
LANGUAGE plpgsql
-- Plan each statement once, for any number of batches. With the default,
-- the planner kept planning the statements that read arrays for every
-- call (the array lengths change its estimates), which took longer than
-- running them for small commits. The generic plans look rows up by their
-- keys, which suits any size.
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    n            integer := coalesce(cardinality(p_entry_indexes), 0);
    -- Whether any batch is of an idempotent producer.
    idempotent   boolean := cardinality(array_remove(p_producer_ids, NULL)) > 0;
    -- Whether every entry has exactly one batch (the usual case), which
    -- (4) handles without running sums.
    single       boolean := n = 0 OR p_entry_indexes[n] = n - 1;
    -- The high watermark of each batch's partition before this commit, by
    -- position; NULL if the partition does not exist.
    b_next       bigint[];
    -- The verdicts on batches of idempotent producers, by position (NULL
    -- for other batches): the outcome; the offset of the remembered batch a
    -- duplicate repeats, or (v_dup_of) its position if it is in this
    -- commit; whether an accepted batch is forgotten at once (later batches
    -- of this commit pushed it out of the history); and, on one batch of
    -- each producer whose history changes, the offset from which its stored
    -- batches stay remembered (the older ones are deleted; the largest
    -- bigint deletes them all).
    v_kind       text[];
    v_dup_offset bigint[];
    v_dup_of     integer[];
    v_forget     boolean[];
    v_keep_from  bigint[];
    -- Positions of the batches judged in order, by entry and producer.
    c_pos        integer[];
    -- The history of the producer being judged in order, oldest first: its
    -- epoch, and the sequences and offsets of its remembered batches (an
    -- offset -k stands for the batch at position k of this commit).
    g_entry      integer;
    g_producer   bigint;
    g_last       integer;
    g_changed    boolean := false;
    g_epoch      smallint;
    g_base_seqs  integer[];
    g_last_seqs  integer[];
    g_offsets    bigint[];
    i            integer;
    v_found      integer;
    v_last_seq   integer;
    v_accept     boolean;
    -- What each batch became.
    o_kind       text[];
    o_base       bigint[];
BEGIN
    IF coalesce(cardinality(p_topic_ids), 0) <> n OR coalesce(cardinality(p_partitions), 0) <> n
        OR coalesce(cardinality(p_byte_offsets), 0) <> n
        OR coalesce(cardinality(p_byte_lens), 0) <> n
        OR coalesce(cardinality(p_offset_counts), 0) <> n
        OR coalesce(cardinality(p_max_timestamps), 0) <> n
        OR coalesce(cardinality(p_producer_ids), 0) <> n
        OR coalesce(cardinality(p_producer_epochs), 0) <> n
        OR coalesce(cardinality(p_base_sequences), 0) <> n THEN
        RAISE EXCEPTION 'floe_commit_segment: batch arrays differ in length'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    INSERT INTO segments (id, object_key, size) VALUES (p_segment_id, p_object_key, p_size)
    ON CONFLICT (id) DO NOTHING;
    IF NOT FOUND THEN
        -- A retry: answer as the first time.
        RETURN QUERY
            SELECT false, o.entry_indexes, o.outcomes, o.base_offsets
            FROM segment_outcomes AS o
            WHERE o.segment_id = p_segment_id;
        RETURN;
    END IF;

    -- (1) Lock the partitions in order and read their high watermarks. The
    -- lateral lookups run in the order of the sorted batches, each by the
    -- primary key whatever the plan (a batch of a partition already locked
    -- by an earlier batch of its entry finds the lock held).
    SELECT array_agg(l.next_offset ORDER BY t.pos)
    INTO b_next
    FROM (
        SELECT u.topic_id, u.partition, u.pos
        FROM unnest(p_topic_ids, p_partitions) WITH ORDINALITY AS u (topic_id, partition, pos)
        ORDER BY u.topic_id, u.partition, u.pos
    ) AS t
    LEFT JOIN LATERAL (
        SELECT p.next_offset
        FROM partitions AS p
        WHERE p.topic_id = t.topic_id AND p.partition = t.partition
        FOR UPDATE
    ) AS l ON true;

    IF idempotent THEN
        -- (2) Judge the batches of idempotent producers that are alone in
        -- their entry; list the others for (3). (Batches of partitions that
        -- are gone are judged too, and overruled in (4).)
        SELECT
            array_agg(v.kind ORDER BY v.pos),
            array_agg(CASE WHEN v.kind = 'duplicate' THEN v.dup_offset END ORDER BY v.pos),
            array_agg(
                CASE
                    WHEN v.kind IS DISTINCT FROM 'appended' THEN NULL
                    -- A new epoch: the history starts over.
                    WHEN v.producer_epoch > v.stored_epoch THEN 9223372036854775807
                    -- The newest four stay, with this batch.
                    ELSE v.fourth_offset
                END
                ORDER BY v.pos),
            array_agg(v.pos::integer ORDER BY v.entry_index, v.producer_id, v.pos)
                FILTER (WHERE v.producer_id IS NOT NULL AND NOT v.alone)
        INTO v_kind, v_dup_offset, v_keep_from, c_pos
        FROM (
            SELECT b.pos, b.entry_index, b.producer_id, b.producer_epoch, b.alone,
                h.stored_epoch, h.dup_offset, h.fourth_offset,
                CASE
                    WHEN b.producer_id IS NULL OR NOT b.alone THEN NULL
                    WHEN h.stored_epoch IS NULL THEN 'appended'
                    WHEN b.producer_epoch < h.stored_epoch THEN 'invalid_producer_epoch'
                    WHEN b.producer_epoch > h.stored_epoch THEN
                        CASE WHEN b.base_sequence = 0 THEN 'appended' ELSE 'out_of_order_sequence' END
                    WHEN h.dup_offset IS NOT NULL THEN 'duplicate'
                    WHEN b.base_sequence =
                        CASE WHEN h.newest_seq = 2147483647 THEN 0 ELSE h.newest_seq + 1 END
                        THEN 'appended'
                    ELSE 'out_of_order_sequence'
                END AS kind
            FROM (
                SELECT u.*,
                    ((u.base_sequence::bigint + u.offset_count - 1) % 2147483648)::integer
                        AS last_sequence,
                    count(u.producer_id) OVER (PARTITION BY u.entry_index, u.producer_id) <= 1
                        AS alone
                FROM unnest(p_entry_indexes, p_topic_ids, p_partitions, p_offset_counts,
                        p_producer_ids, p_producer_epochs, p_base_sequences) WITH ORDINALITY
                    AS u (entry_index, topic_id, partition, offset_count, producer_id,
                        producer_epoch, base_sequence, pos)
            ) AS b
            LEFT JOIN LATERAL (
                -- Every remembered batch is at the producer's current epoch.
                SELECT max(s.epoch) AS stored_epoch,
                    (array_agg(s.last_sequence ORDER BY s.base_offset DESC))[1] AS newest_seq,
                    (array_agg(s.base_offset ORDER BY s.base_offset DESC))[4] AS fourth_offset,
                    min(s.base_offset) FILTER (WHERE s.base_sequence = b.base_sequence
                        AND s.last_sequence = b.last_sequence) AS dup_offset
                FROM producer_batches AS s
                WHERE b.producer_id IS NOT NULL AND b.alone
                    AND s.topic_id = b.topic_id AND s.partition = b.partition
                    AND s.producer_id = b.producer_id
            ) AS h ON true
        ) AS v;

        -- (3) Judge the batches of a producer with several batches in an
        -- entry one after the other, as sequencer.rs does.
        IF c_pos IS NOT NULL THEN
            v_dup_of := array_fill(NULL::integer, ARRAY[n]);
            v_forget := array_fill(false, ARRAY[n]);
            FOREACH i IN ARRAY c_pos || NULL::integer LOOP
                IF i IS NULL OR g_entry IS DISTINCT FROM p_entry_indexes[i]
                        OR g_producer IS DISTINCT FROM p_producer_ids[i] THEN
                    -- The previous producer is done: which of its stored
                    -- batches are still remembered?
                    IF g_changed THEN
                        v_keep_from[g_last] := coalesce(
                            (SELECT min(o.stored) FROM unnest(g_offsets) AS o (stored)
                             WHERE o.stored >= 0),
                            9223372036854775807);
                    END IF;
                    EXIT WHEN i IS NULL;
                    g_entry := p_entry_indexes[i];
                    g_producer := p_producer_ids[i];
                    g_changed := false;
                    SELECT max(s.epoch),
                        coalesce(array_agg(s.base_sequence ORDER BY s.base_offset), '{}'),
                        coalesce(array_agg(s.last_sequence ORDER BY s.base_offset), '{}'),
                        coalesce(array_agg(s.base_offset ORDER BY s.base_offset), '{}')
                    INTO g_epoch, g_base_seqs, g_last_seqs, g_offsets
                    FROM producer_batches AS s
                    WHERE s.topic_id = p_topic_ids[i] AND s.partition = p_partitions[i]
                        AND s.producer_id = g_producer;
                END IF;
                g_last := i;
                v_last_seq := ((p_base_sequences[i]::bigint + p_offset_counts[i] - 1)
                    % 2147483648)::integer;
                v_accept := false;
                IF g_epoch IS NULL OR p_producer_epochs[i] > g_epoch THEN
                    -- A producer new here, or a new epoch.
                    IF g_epoch IS NULL OR p_base_sequences[i] = 0 THEN
                        v_accept := true;
                        -- The history starts over: without the stored
                        -- batches, and without this commit's earlier ones.
                        FOR k IN 1 .. cardinality(g_offsets) LOOP
                            IF g_offsets[k] < 0 THEN
                                v_forget[-g_offsets[k]] := true;
                            END IF;
                        END LOOP;
                        g_base_seqs := '{}';
                        g_last_seqs := '{}';
                        g_offsets := '{}';
                    ELSE
                        v_kind[i] := 'out_of_order_sequence';
                    END IF;
                ELSIF p_producer_epochs[i] < g_epoch THEN
                    v_kind[i] := 'invalid_producer_epoch';
                ELSE
                    v_found := NULL;
                    FOR k IN 1 .. cardinality(g_base_seqs) LOOP
                        IF g_base_seqs[k] = p_base_sequences[i] AND g_last_seqs[k] = v_last_seq THEN
                            v_found := k;
                            EXIT;
                        END IF;
                    END LOOP;
                    IF v_found IS NOT NULL THEN
                        v_kind[i] := 'duplicate';
                        IF g_offsets[v_found] >= 0 THEN
                            v_dup_offset[i] := g_offsets[v_found];
                        ELSE
                            v_dup_of[i] := -g_offsets[v_found];
                        END IF;
                    ELSIF p_base_sequences[i] = (CASE
                            WHEN g_last_seqs[cardinality(g_last_seqs)] = 2147483647 THEN 0
                            ELSE g_last_seqs[cardinality(g_last_seqs)] + 1 END) THEN
                        v_accept := true;
                    ELSE
                        v_kind[i] := 'out_of_order_sequence';
                    END IF;
                END IF;
                IF v_accept THEN
                    v_kind[i] := 'appended';
                    g_changed := true;
                    g_epoch := p_producer_epochs[i];
                    g_base_seqs := g_base_seqs || p_base_sequences[i];
                    g_last_seqs := g_last_seqs || v_last_seq;
                    g_offsets := g_offsets || (-i)::bigint;
                    IF cardinality(g_offsets) > 5 THEN
                        IF g_offsets[1] < 0 THEN
                            v_forget[-g_offsets[1]] := true;
                        END IF;
                        g_base_seqs := g_base_seqs[2:];
                        g_last_seqs := g_last_seqs[2:];
                        g_offsets := g_offsets[2:];
                    END IF;
                END IF;
            END LOOP;
        END IF;
    END IF;

    -- (4) Place, index, advance, record.
    IF single THEN
        -- One batch per entry: an accepted batch starts at its partition's
        -- high watermark and is an index row of its own.
        WITH batch AS (
            SELECT b.pos, b.topic_id, b.partition, b.byte_offset, b.byte_len, b.offset_count,
                b.max_timestamp, b.next_offset, b.dup_offset,
                CASE WHEN b.next_offset IS NULL THEN 'unknown_partition'
                    ELSE coalesce(b.kind, 'appended') END AS kind
            FROM unnest(p_topic_ids, p_partitions, p_byte_offsets, p_byte_lens, p_offset_counts,
                    p_max_timestamps, b_next, v_kind, v_dup_offset)
                WITH ORDINALITY
                AS b (topic_id, partition, byte_offset, byte_len, offset_count, max_timestamp,
                    next_offset, kind, dup_offset, pos)
        ),
        indexed AS (
            INSERT INTO index_rows (
                topic_id, partition, base_offset, last_offset, segment_id, byte_offset, byte_len,
                max_timestamp
            )
            SELECT b.topic_id, b.partition, b.next_offset, b.next_offset + b.offset_count - 1,
                p_segment_id, b.byte_offset, b.byte_len, b.max_timestamp
            FROM batch AS b
            WHERE b.kind = 'appended'
        ),
        advanced AS (
            UPDATE partitions AS p
            SET next_offset = b.next_offset + b.offset_count
            FROM batch AS b
            WHERE b.kind = 'appended' AND p.topic_id = b.topic_id AND p.partition = b.partition
        ),
        recorded AS (
            INSERT INTO segment_outcomes (segment_id, entry_indexes, outcomes, base_offsets)
            SELECT p_segment_id, coalesce(p_entry_indexes, '{}'),
                coalesce(array_agg(b.kind ORDER BY b.pos), '{}'),
                coalesce(array_agg(
                    CASE
                        WHEN b.kind = 'appended' THEN b.next_offset
                        WHEN b.kind = 'duplicate' THEN b.dup_offset
                    END
                    ORDER BY b.pos), '{}')
            FROM batch AS b
            RETURNING segment_outcomes.outcomes, segment_outcomes.base_offsets
        )
        SELECT r.outcomes, r.base_offsets INTO o_kind, o_base
        FROM recorded AS r;
    ELSE
        -- Several batches in some entries: running sums over each entry
        -- give the offsets, and runs of adjacent accepted batches the
        -- index rows.
        WITH batch AS (
            SELECT b.pos, b.entry_index, b.topic_id, b.partition, b.byte_offset,
                b.byte_len, b.offset_count, b.max_timestamp, b.dup_offset, b.dup_of,
                CASE WHEN b.next_offset IS NULL THEN 'unknown_partition'
                    ELSE coalesce(b.kind, 'appended') END AS kind,
                b.next_offset
            FROM unnest(p_entry_indexes, p_topic_ids, p_partitions, p_byte_offsets, p_byte_lens,
                    p_offset_counts, p_max_timestamps, b_next, v_kind, v_dup_offset, v_dup_of)
                WITH ORDINALITY
                AS b (entry_index, topic_id, partition, byte_offset, byte_len, offset_count,
                    max_timestamp, next_offset, kind, dup_offset, dup_of, pos)
        ),
        placed AS (
            SELECT b.*,
                -- The offsets of the accepted batches up to this one, minus its own.
                CASE WHEN b.kind = 'appended' THEN
                    b.next_offset + (sum(CASE WHEN b.kind = 'appended' THEN b.offset_count ELSE 0 END)
                        OVER w)::bigint - b.offset_count
                END AS base_offset,
                -- Whether the batch extends the index row of the one before.
                coalesce(b.kind = 'appended' AND lag(b.kind) OVER w = 'appended'
                    AND lag(b.byte_offset + b.byte_len) OVER w = b.byte_offset, false) AS extends
            FROM batch AS b
            WINDOW w AS (PARTITION BY b.entry_index ORDER BY b.pos)
        ),
        runs AS (
            SELECT p.*,
                sum(CASE WHEN p.extends THEN 0 ELSE 1 END)
                    OVER (PARTITION BY p.entry_index ORDER BY p.pos) AS run
            FROM placed AS p
            WHERE p.kind = 'appended'
        ),
        indexed AS (
            INSERT INTO index_rows (
                topic_id, partition, base_offset, last_offset, segment_id, byte_offset, byte_len,
                max_timestamp
            )
            SELECT r.topic_id, r.partition, min(r.base_offset), max(r.base_offset + r.offset_count) - 1,
                p_segment_id, min(r.byte_offset), sum(r.byte_len)::bigint, max(r.max_timestamp)
            FROM runs AS r
            GROUP BY r.entry_index, r.topic_id, r.partition, r.run
        ),
        advanced AS (
            UPDATE partitions AS p
            SET next_offset = a.next_offset
            FROM (
                SELECT r.topic_id, r.partition, max(r.base_offset + r.offset_count) AS next_offset
                FROM runs AS r
                GROUP BY r.topic_id, r.partition
            ) AS a
            WHERE p.topic_id = a.topic_id AND p.partition = a.partition
        ),
        recorded AS (
            INSERT INTO segment_outcomes (segment_id, entry_indexes, outcomes, base_offsets)
            SELECT p_segment_id,
                coalesce(array_agg(p.entry_index ORDER BY p.pos), '{}'),
                coalesce(array_agg(p.kind ORDER BY p.pos), '{}'),
                coalesce(array_agg(
                    CASE
                        WHEN p.kind = 'appended' THEN p.base_offset
                        WHEN p.kind = 'duplicate' AND p.dup_of IS NULL THEN p.dup_offset
                        -- A duplicate of a batch of this commit (rare).
                        WHEN p.kind = 'duplicate' THEN
                            (SELECT d.base_offset FROM placed AS d WHERE d.pos = p.dup_of)
                    END
                    ORDER BY p.pos), '{}')
            FROM placed AS p
            RETURNING segment_outcomes.outcomes, segment_outcomes.base_offsets
        )
        SELECT r.outcomes, r.base_offsets INTO o_kind, o_base
        FROM recorded AS r;
    END IF;

    -- (5) Rewrite the histories of the producers that had batches accepted.
    IF idempotent AND 'appended' = ANY (o_kind) THEN
        WITH forgotten AS (
            DELETE FROM producer_batches AS s
            USING unnest(p_topic_ids, p_partitions, p_producer_ids, v_keep_from)
                AS g (topic_id, partition, producer_id, keep_from)
            WHERE g.keep_from IS NOT NULL AND s.topic_id = g.topic_id
                AND s.partition = g.partition AND s.producer_id = g.producer_id
                AND s.base_offset < g.keep_from
        )
        INSERT INTO producer_batches (
            topic_id, partition, producer_id, epoch, base_sequence, last_sequence, base_offset
        )
        SELECT b.topic_id, b.partition, b.producer_id, b.producer_epoch, b.base_sequence,
            ((b.base_sequence::bigint + b.offset_count - 1) % 2147483648)::integer,
            b.base_offset
        FROM unnest(p_topic_ids, p_partitions, p_offset_counts, p_producer_ids,
                p_producer_epochs, p_base_sequences, o_kind, o_base, v_forget)
            AS b (topic_id, partition, offset_count, producer_id, producer_epoch,
                base_sequence, kind, base_offset, forget)
        WHERE b.producer_id IS NOT NULL AND b.kind = 'appended' AND NOT coalesce(b.forget, false);
    END IF;

    RETURN QUERY SELECT true, coalesce(p_entry_indexes, '{}'), o_kind, o_base;
END;
$$;
