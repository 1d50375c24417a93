-- floe_commit_segment, version 2. It replaces the function of
-- 0002_commit_segment.sql, which it repeats, and adds one thing: a commit
-- that appended at least one batch notifies the channel 'floe_commits' (the
-- segment id as payload), which every agent LISTENs to
-- (PostgresStore::commit_notifications) to wake its long-polling fetches. A
-- retried commit, which returns the stored outcomes, and a commit whose
-- batches were all duplicates or refused notify no one: nothing new can be
-- read. Postgres delivers the notification when the transaction commits; a
-- listener that is not connected then misses it, so agents also poll.
--
-- Later changes go in a new migration that replaces the function again,
-- never in 0002 or here.
--
-- floe_commit_segment: commits a whole segment file in one statement, so a
-- commit is one round trip whatever the number of partitions and batches,
-- and returns what became of each batch, in order.
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
--   concurrent commits never deadlock. Under READ COMMITTED every later
--   statement sees the partitions as the previous commit left them.
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
    -- What each batch became.
    o_batch      integer[] := '{}';
    o_kind       text[] := '{}';
    o_base       bigint[] := '{}';
    -- Index rows to insert, one per run of adjacent appended batches.
    r_count      integer := 0;
    r_topic      uuid[] := '{}';
    r_partition  integer[] := '{}';
    r_base       bigint[] := '{}';
    r_last       bigint[] := '{}';
    r_byte       bigint[] := '{}';
    r_len        bigint[] := '{}';
    r_timestamp  bigint[] := '{}';
    -- High watermarks to write back.
    w_topic      uuid[] := '{}';
    w_partition  integer[] := '{}';
    w_next       bigint[] := '{}';
    -- The current entry.
    v_known      boolean := false;
    v_next       bigint;
    v_start      bigint;
    v_batch      integer := 0;
    v_run_open   boolean := false;
    -- The current batch.
    v_kind       text;
    v_base       bigint;
    v_last_seq   integer;
    v_epoch      smallint;
    v_newest_seq integer;
    v_duplicate  bigint;
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

    PERFORM 1
    FROM partitions AS p
    WHERE (p.topic_id, p.partition) IN (
        SELECT t.topic_id, t.partition
        FROM unnest(p_topic_ids, p_partitions) AS t (topic_id, partition)
    )
    ORDER BY p.topic_id, p.partition
    FOR UPDATE OF p;

    FOR i IN 1 .. n LOOP
        IF i = 1 OR p_entry_indexes[i] <> p_entry_indexes[i - 1] THEN
            -- A new entry: keep the previous one's high watermark.
            IF v_known AND v_next <> v_start THEN
                w_topic := w_topic || p_topic_ids[i - 1];
                w_partition := w_partition || p_partitions[i - 1];
                w_next := w_next || v_next;
            END IF;
            SELECT p.next_offset INTO v_next
            FROM partitions AS p
            WHERE p.topic_id = p_topic_ids[i] AND p.partition = p_partitions[i];
            v_known := FOUND;
            v_start := v_next;
            v_batch := 0;
            v_run_open := false;
        ELSE
            v_batch := v_batch + 1;
        END IF;

        v_base := NULL;
        IF NOT v_known THEN
            v_kind := 'unknown_partition';
        ELSIF p_producer_ids[i] IS NULL THEN
            v_kind := 'appended';
        ELSE
            v_last_seq := ((p_base_sequences[i]::bigint + p_offset_counts[i] - 1)
                % 2147483648)::integer;
            SELECT b.epoch, b.last_sequence INTO v_epoch, v_newest_seq
            FROM producer_batches AS b
            WHERE b.topic_id = p_topic_ids[i] AND b.partition = p_partitions[i]
                AND b.producer_id = p_producer_ids[i]
            ORDER BY b.base_offset DESC
            LIMIT 1;
            IF NOT FOUND THEN
                v_kind := 'appended';
            ELSIF p_producer_epochs[i] < v_epoch THEN
                v_kind := 'invalid_producer_epoch';
            ELSIF p_producer_epochs[i] > v_epoch THEN
                IF p_base_sequences[i] = 0 THEN
                    v_kind := 'appended';
                    DELETE FROM producer_batches AS b
                    WHERE b.topic_id = p_topic_ids[i] AND b.partition = p_partitions[i]
                        AND b.producer_id = p_producer_ids[i];
                ELSE
                    v_kind := 'out_of_order_sequence';
                END IF;
            ELSE
                SELECT b.base_offset INTO v_duplicate
                FROM producer_batches AS b
                WHERE b.topic_id = p_topic_ids[i] AND b.partition = p_partitions[i]
                    AND b.producer_id = p_producer_ids[i]
                    AND b.base_sequence = p_base_sequences[i] AND b.last_sequence = v_last_seq
                LIMIT 1;
                IF FOUND THEN
                    v_kind := 'duplicate';
                    v_base := v_duplicate;
                ELSIF p_base_sequences[i] =
                        (CASE WHEN v_newest_seq = 2147483647 THEN 0 ELSE v_newest_seq + 1 END) THEN
                    v_kind := 'appended';
                ELSE
                    v_kind := 'out_of_order_sequence';
                END IF;
            END IF;
        END IF;

        IF v_kind = 'appended' THEN
            v_base := v_next;
            v_next := v_next + p_offset_counts[i];
            IF p_producer_ids[i] IS NOT NULL THEN
                INSERT INTO producer_batches (
                    topic_id, partition, producer_id, epoch, base_sequence, last_sequence,
                    base_offset
                ) VALUES (
                    p_topic_ids[i], p_partitions[i], p_producer_ids[i], p_producer_epochs[i],
                    p_base_sequences[i], v_last_seq, v_base
                );
                -- Forget all but the newest five.
                DELETE FROM producer_batches AS b
                WHERE b.topic_id = p_topic_ids[i] AND b.partition = p_partitions[i]
                    AND b.producer_id = p_producer_ids[i]
                    AND b.base_offset < (
                        SELECT k.base_offset
                        FROM producer_batches AS k
                        WHERE k.topic_id = p_topic_ids[i] AND k.partition = p_partitions[i]
                            AND k.producer_id = p_producer_ids[i]
                        ORDER BY k.base_offset DESC
                        OFFSET 4 LIMIT 1
                    );
            END IF;
            IF v_run_open AND p_byte_offsets[i] = r_byte[r_count] + r_len[r_count] THEN
                r_last[r_count] := v_next - 1;
                r_len[r_count] := r_len[r_count] + p_byte_lens[i];
                r_timestamp[r_count] := greatest(r_timestamp[r_count], p_max_timestamps[i]);
            ELSE
                r_count := r_count + 1;
                r_topic[r_count] := p_topic_ids[i];
                r_partition[r_count] := p_partitions[i];
                r_base[r_count] := v_base;
                r_last[r_count] := v_next - 1;
                r_byte[r_count] := p_byte_offsets[i];
                r_len[r_count] := p_byte_lens[i];
                r_timestamp[r_count] := p_max_timestamps[i];
            END IF;
            v_run_open := true;
        ELSE
            v_run_open := false;
        END IF;

        o_batch[i] := v_batch;
        o_kind[i] := v_kind;
        o_base[i] := v_base;
    END LOOP;
    IF v_known AND v_next <> v_start THEN
        w_topic := w_topic || p_topic_ids[n];
        w_partition := w_partition || p_partitions[n];
        w_next := w_next || v_next;
    END IF;

    INSERT INTO index_rows (
        topic_id, partition, base_offset, last_offset, segment_id, byte_offset, byte_len,
        max_timestamp
    )
    SELECT r.topic_id, r.partition, r.base_offset, r.last_offset, p_segment_id, r.byte_offset,
        r.byte_len, r.max_timestamp
    FROM unnest(r_topic, r_partition, r_base, r_last, r_byte, r_len, r_timestamp)
        AS r (topic_id, partition, base_offset, last_offset, byte_offset, byte_len, max_timestamp);

    UPDATE partitions AS p
    SET next_offset = w.next_offset
    FROM unnest(w_topic, w_partition, w_next) AS w (topic_id, partition, next_offset)
    WHERE p.topic_id = w.topic_id AND p.partition = w.partition;

    -- Wake long-polling fetches on every agent. Delivered when the
    -- transaction commits, and only if this commit appended something.
    IF r_count > 0 THEN
        PERFORM pg_notify('floe_commits', p_segment_id::text);
    END IF;

    INSERT INTO segment_outcomes (segment_id, entry_index, batch_index, outcome, base_offset)
    SELECT p_segment_id, o.entry_index, o.batch_index, o.outcome, o.base_offset
    FROM unnest(p_entry_indexes, o_batch, o_kind, o_base)
        AS o (entry_index, batch_index, outcome, base_offset);

    RETURN QUERY
        SELECT o.entry_index, o.batch_index, o.outcome, o.base_offset
        FROM unnest(p_entry_indexes, o_batch, o_kind, o_base) WITH ORDINALITY
            AS o (entry_index, batch_index, outcome, base_offset, position)
        ORDER BY o.position;
END;
$$;
