-- floe_commit_segment, version 3: the same rules, answers and notification
-- as version 2 (0004_commit_notify.sql), which it replaces, in a handful of
-- set-based statements instead of a loop running several statements per
-- batch. A 1,000-partition commit ran about 9,000 statements inside the
-- function (counting the foreign-key checks); now it runs five, whatever
-- the number of batches (docs/benchmarks.md, "Metadata commit").
--
-- Later changes go in a new migration that replaces the function again,
-- never here.
--
-- The batches come as parallel arrays, one element per batch, ordered by
-- entry (one entry per partition) and by position in the entry:
-- p_entry_indexes (0-based, non-decreasing), p_topic_ids, p_partitions,
-- p_byte_offsets, p_byte_lens, p_offset_counts, p_max_timestamps, and the
-- idempotence fields p_producer_ids (NULL for a batch of a plain producer),
-- p_producer_epochs, p_base_sequences. The caller has validated them
-- (metadata/src/validate.rs).
--
-- The rules are those of metadata/src/sequencer.rs, which the SQLite store
-- runs in Rust; the contract suite holds both to the same answers:
-- * A segment already committed is not committed again: its stored
--   outcomes are returned.
-- * The touched partitions are locked in (topic_id, partition) order, so two
--   concurrent commits never deadlock. The statement that locks them also
--   reads their high watermarks (a row locked after waiting is read as the
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
-- producer that is the only batch of its producer in its entry (the usual
-- case) against the stored history; (3) a loop judges the batches of a
-- producer with several batches in one entry, which must see each other,
-- in order; (4) one statement places the accepted batches (running sums
-- over each entry), inserts the index rows (gaps and islands over adjacent
-- accepted batches), advances the partitions, rewrites the producer
-- histories, records the outcomes and returns them.
CREATE OR REPLACE FUNCTION floe_commit_segment(
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
) RETURNS TABLE (entry_index integer, batch_index integer, outcome text, base_offset bigint)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    n            integer := coalesce(cardinality(p_entry_indexes), 0);
    -- The touched partitions that exist, locked, and their high watermarks.
    l_topic      uuid[];
    l_partition  integer[];
    l_next       bigint[];
    -- The verdicts on batches of idempotent producers, by position (NULL
    -- for other batches): the outcome; the offset of the remembered batch a
    -- duplicate repeats, or (v_dup_of) its position if it is in this commit;
    -- whether an accepted batch starts its producer's history over; whether
    -- an accepted batch is forgotten at once (a later batch of this commit
    -- started the history over).
    v_kind       text[];
    v_dup_offset bigint[];
    v_dup_of     integer[];
    v_reset      boolean[];
    v_forget     boolean[];
    -- Positions of the batches judged in order, by entry and producer.
    c_pos        integer[];
    -- The history of the producer being judged in order, oldest first: its
    -- epoch, and the sequences and offsets of its remembered batches (an
    -- offset -k stands for the batch at position k of this commit).
    g_entry      integer;
    g_producer   bigint;
    g_epoch      smallint;
    g_base_seqs  integer[];
    g_last_seqs  integer[];
    g_offsets    bigint[];
    g_appended   integer[];
    i            integer;
    k            integer;
    v_found      integer;
    v_last_seq   integer;
    v_accept     boolean;
    v_restart    boolean;
    -- What each batch became.
    o_batch      integer[];
    o_kind       text[];
    o_base       bigint[];
BEGIN
    IF EXISTS (
        SELECT 1
        FROM unnest(ARRAY[
            cardinality(p_topic_ids), cardinality(p_partitions), cardinality(p_byte_offsets),
            cardinality(p_byte_lens), cardinality(p_offset_counts),
            cardinality(p_max_timestamps), cardinality(p_producer_ids),
            cardinality(p_producer_epochs), cardinality(p_base_sequences)
        ]) AS lengths (len)
        WHERE coalesce(lengths.len, 0) <> n
    ) THEN
        RAISE EXCEPTION 'floe_commit_segment: batch arrays differ in length'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    INSERT INTO segments (id, object_key, size) VALUES (p_segment_id, p_object_key, p_size)
    ON CONFLICT (id) DO NOTHING;
    IF NOT FOUND THEN
        -- A retry: answer as the first time.
        RETURN QUERY
            SELECT o.entry_index, o.batch_index, o.outcome, o.base_offset
            FROM segment_outcomes AS o
            WHERE o.segment_id = p_segment_id
            ORDER BY o.entry_index, o.batch_index;
        RETURN;
    END IF;

    -- (1) Lock the partitions in order and read their high watermarks.
    SELECT array_agg(l.topic_id), array_agg(l.partition), array_agg(l.next_offset)
    INTO l_topic, l_partition, l_next
    FROM (
        SELECT p.topic_id, p.partition, p.next_offset
        FROM partitions AS p
        WHERE (p.topic_id, p.partition) IN (
            SELECT t.topic_id, t.partition
            FROM unnest(p_topic_ids, p_partitions) AS t (topic_id, partition)
        )
        ORDER BY p.topic_id, p.partition
        FOR UPDATE OF p
    ) AS l;

    IF cardinality(array_remove(p_producer_ids, NULL)) > 0 THEN
        -- (2) Judge the batches of idempotent producers that are alone in
        -- their entry; list the others for (3). (Batches of partitions that
        -- are gone are judged too, and overruled in (4).)
        SELECT
            array_agg(v.kind ORDER BY v.pos),
            array_agg(CASE WHEN v.kind = 'duplicate' THEN v.dup_offset END ORDER BY v.pos),
            array_agg(v.kind = 'appended' AND v.stored_epoch IS NOT NULL
                AND v.producer_epoch > v.stored_epoch ORDER BY v.pos),
            array_agg(v.pos::integer ORDER BY v.entry_index, v.producer_id, v.pos)
                FILTER (WHERE v.producer_id IS NOT NULL AND NOT v.alone)
        INTO v_kind, v_dup_offset, v_reset, c_pos
        FROM (
            SELECT b.pos, b.entry_index, b.producer_id, b.producer_epoch, h.stored_epoch,
                b.alone, h.dup_offset,
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
            FOREACH i IN ARRAY c_pos LOOP
                IF g_entry IS DISTINCT FROM p_entry_indexes[i]
                        OR g_producer IS DISTINCT FROM p_producer_ids[i] THEN
                    g_entry := p_entry_indexes[i];
                    g_producer := p_producer_ids[i];
                    SELECT max(s.epoch), coalesce(array_agg(s.base_sequence ORDER BY s.base_offset), '{}'),
                        coalesce(array_agg(s.last_sequence ORDER BY s.base_offset), '{}'),
                        coalesce(array_agg(s.base_offset ORDER BY s.base_offset), '{}')
                    INTO g_epoch, g_base_seqs, g_last_seqs, g_offsets
                    FROM producer_batches AS s
                    WHERE s.topic_id = p_topic_ids[i] AND s.partition = p_partitions[i]
                        AND s.producer_id = g_producer;
                    g_appended := '{}';
                END IF;
                v_last_seq := ((p_base_sequences[i]::bigint + p_offset_counts[i] - 1)
                    % 2147483648)::integer;
                v_accept := false;
                v_restart := false;
                IF g_epoch IS NULL THEN
                    v_accept := true;
                    v_restart := true;
                ELSIF p_producer_epochs[i] < g_epoch THEN
                    v_kind[i] := 'invalid_producer_epoch';
                ELSIF p_producer_epochs[i] > g_epoch THEN
                    IF p_base_sequences[i] = 0 THEN
                        v_accept := true;
                        v_restart := true;
                    ELSE
                        v_kind[i] := 'out_of_order_sequence';
                    END IF;
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
                    ELSIF p_base_sequences[i] = (CASE WHEN g_last_seqs[cardinality(g_last_seqs)] = 2147483647
                            THEN 0 ELSE g_last_seqs[cardinality(g_last_seqs)] + 1 END) THEN
                        v_accept := true;
                    ELSE
                        v_kind[i] := 'out_of_order_sequence';
                    END IF;
                END IF;
                IF v_accept THEN
                    v_kind[i] := 'appended';
                    IF v_restart THEN
                        -- The stored history goes, and so do this commit's
                        -- earlier batches of the producer.
                        v_reset[i] := true;
                        FOREACH k IN ARRAY g_appended LOOP
                            v_forget[k] := true;
                        END LOOP;
                        g_base_seqs := '{}';
                        g_last_seqs := '{}';
                        g_offsets := '{}';
                        g_appended := '{}';
                    END IF;
                    g_epoch := p_producer_epochs[i];
                    g_base_seqs := g_base_seqs || p_base_sequences[i];
                    g_last_seqs := g_last_seqs || v_last_seq;
                    g_offsets := g_offsets || (-i)::bigint;
                    g_appended := g_appended || i;
                    IF cardinality(g_base_seqs) > 5 THEN
                        g_base_seqs := g_base_seqs[2:];
                        g_last_seqs := g_last_seqs[2:];
                        g_offsets := g_offsets[2:];
                    END IF;
                END IF;
            END LOOP;
        END IF;
    END IF;

    -- (4) Place, index, advance, remember, record.
    WITH batch AS (
        SELECT b.pos::integer AS pos, b.entry_index, b.topic_id, b.partition, b.byte_offset,
            b.byte_len, b.offset_count, b.max_timestamp, b.producer_id, b.producer_epoch,
            b.base_sequence, b.dup_offset, b.dup_of, b.reset, b.forget,
            CASE WHEN l.next_offset IS NULL THEN 'unknown_partition'
                ELSE coalesce(b.kind, 'appended') END AS kind,
            l.next_offset
        FROM unnest(p_entry_indexes, p_topic_ids, p_partitions, p_byte_offsets, p_byte_lens,
                p_offset_counts, p_max_timestamps, p_producer_ids, p_producer_epochs,
                p_base_sequences, v_kind, v_dup_offset, v_dup_of, v_reset, v_forget)
            WITH ORDINALITY
            AS b (entry_index, topic_id, partition, byte_offset, byte_len, offset_count,
                max_timestamp, producer_id, producer_epoch, base_sequence, kind, dup_offset,
                dup_of, reset, forget, pos)
        LEFT JOIN unnest(l_topic, l_partition, l_next) AS l (topic_id, partition, next_offset)
            ON l.topic_id = b.topic_id AND l.partition = b.partition
    ),
    placed AS (
        SELECT b.*,
            (row_number() OVER w - 1)::integer AS batch_index,
            -- The offsets of the accepted batches before this one, and its own.
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
            sum(CASE WHEN p.extends THEN 0 ELSE 1 END) OVER (PARTITION BY p.entry_index ORDER BY p.pos)
                AS run
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
    -- The accepted batches of idempotent producers that stay remembered.
    remembered AS (
        SELECT r.topic_id, r.partition, r.producer_id, r.producer_epoch, r.base_sequence,
            ((r.base_sequence::bigint + r.offset_count - 1) % 2147483648)::integer
                AS last_sequence,
            r.base_offset
        FROM runs AS r
        WHERE r.producer_id IS NOT NULL AND NOT coalesce(r.forget, false)
    ),
    -- The producers whose history changes, and whether it starts over.
    producers AS (
        SELECT r.topic_id, r.partition, r.producer_id,
            bool_or(coalesce(r.reset, false)) AS reset
        FROM runs AS r
        WHERE r.producer_id IS NOT NULL
        GROUP BY r.topic_id, r.partition, r.producer_id
    ),
    stored AS (
        SELECT s.topic_id, s.partition, s.producer_id, s.base_offset, g.reset
        FROM producers AS g
        JOIN producer_batches AS s ON s.topic_id = g.topic_id AND s.partition = g.partition
            AND s.producer_id = g.producer_id
    ),
    -- Each producer's history, newest first: what was stored (unless it
    -- starts over) and what this commit adds. Only the newest five stay.
    ranked AS (
        SELECT h.*, row_number() OVER (
                PARTITION BY h.topic_id, h.partition, h.producer_id ORDER BY h.base_offset DESC
            ) AS age
        FROM (
            SELECT s.topic_id, s.partition, s.producer_id, s.base_offset, false AS new
            FROM stored AS s
            WHERE NOT s.reset
            UNION ALL
            SELECT m.topic_id, m.partition, m.producer_id, m.base_offset, true AS new
            FROM remembered AS m
        ) AS h
    ),
    forgotten AS (
        DELETE FROM producer_batches AS s
        USING (
            SELECT d.topic_id, d.partition, d.producer_id, d.base_offset
            FROM stored AS d
            WHERE d.reset
            UNION ALL
            SELECT d.topic_id, d.partition, d.producer_id, d.base_offset
            FROM ranked AS d
            WHERE NOT d.new AND d.age > 5
        ) AS d
        WHERE s.topic_id = d.topic_id AND s.partition = d.partition
            AND s.producer_id = d.producer_id AND s.base_offset = d.base_offset
    ),
    added AS (
        INSERT INTO producer_batches (
            topic_id, partition, producer_id, epoch, base_sequence, last_sequence, base_offset
        )
        SELECT m.topic_id, m.partition, m.producer_id, m.producer_epoch, m.base_sequence,
            m.last_sequence, m.base_offset
        FROM remembered AS m
        JOIN ranked AS k ON k.new AND k.age <= 5 AND k.topic_id = m.topic_id
            AND k.partition = m.partition AND k.producer_id = m.producer_id
            AND k.base_offset = m.base_offset
    ),
    outcomes AS (
        SELECT p.pos, p.entry_index, p.batch_index, p.kind,
            CASE
                WHEN p.kind = 'appended' THEN p.base_offset
                WHEN p.kind = 'duplicate' AND p.dup_of IS NULL THEN p.dup_offset
                -- A duplicate of a batch of this commit (rare).
                WHEN p.kind = 'duplicate' THEN
                    (SELECT d.base_offset FROM placed AS d WHERE d.pos = p.dup_of)
            END AS base_offset
        FROM placed AS p
    ),
    recorded AS (
        INSERT INTO segment_outcomes (segment_id, entry_index, batch_index, outcome, base_offset)
        SELECT p_segment_id, o.entry_index, o.batch_index, o.kind, o.base_offset
        FROM outcomes AS o
    )
    SELECT array_agg(o.batch_index ORDER BY o.pos), array_agg(o.kind ORDER BY o.pos),
        array_agg(o.base_offset ORDER BY o.pos)
    INTO o_batch, o_kind, o_base
    FROM outcomes AS o;

    -- Wake long-polling fetches on every agent. Delivered when the
    -- transaction commits, and only if this commit appended something.
    IF 'appended' = ANY (o_kind) THEN
        PERFORM pg_notify('floe_commits', p_segment_id::text);
    END IF;

    RETURN QUERY
        SELECT o.entry_index, o.batch_index, o.outcome, o.base_offset
        FROM unnest(p_entry_indexes, o_batch, o_kind, o_base) WITH ORDINALITY
            AS o (entry_index, batch_index, outcome, base_offset, position)
        ORDER BY o.position;
END;
$$;
