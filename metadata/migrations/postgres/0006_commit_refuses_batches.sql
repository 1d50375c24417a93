-- floe_commit_segment refuses invalid batches one by one.
--
-- Before, a batch with a negative producer id, epoch or base sequence, or
-- an offset count outside 1 to 2^31, failed the whole commit (the caller
-- refused it, and the function would have stored it): every producer of the
-- segment got an error for one producer's bad batch. Now such a batch gets
-- the outcome 'invalid_record' and the others are committed as if it were
-- not in the segment, the rule of metadata/src/sequencer.rs (the SQLite
-- store) and metadata/src/validate.rs (`batch_is_valid`).
--
-- How: the function of 0002 keeps its rules and becomes
-- floe_sequence_segment; the new floe_commit_segment, with the same
-- signature and result, hands it the valid batches only, then puts the
-- refused ones back in place in the answer and in the stored outcomes, so a
-- retried commit answers as the first one did. A commit without a refused
-- batch (every one the agent makes, as the edge refuses such batches first)
-- goes straight through.

ALTER FUNCTION floe_commit_segment(
    uuid, text, bigint, integer[], uuid[], integer[], bigint[], bigint[], bigint[], bigint[],
    bigint[], smallint[], integer[]
) RENAME TO floe_sequence_segment;

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
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    n          integer := coalesce(cardinality(p_entry_indexes), 0);
    -- Whether each batch is refused, by position.
    refused    boolean[];
    inner_kind text[];
    inner_base bigint[];
    is_new     boolean;
    o_kind     text[] := '{}';
    o_base     bigint[] := '{}';
    j          integer := 0;
BEGIN
    SELECT coalesce(array_agg(
            u.offset_count IS NULL OR u.offset_count NOT BETWEEN 1 AND 2147483648
            OR (u.producer_id IS NOT NULL
                AND (u.producer_id < 0 OR u.producer_epoch < 0 OR u.base_sequence < 0))
            ORDER BY u.pos), '{}')
    INTO refused
    FROM unnest(p_offset_counts, p_producer_ids, p_producer_epochs, p_base_sequences)
        WITH ORDINALITY AS u (offset_count, producer_id, producer_epoch, base_sequence, pos);

    IF NOT (true = ANY (refused)) THEN
        RETURN QUERY SELECT * FROM floe_sequence_segment(p_segment_id, p_object_key, p_size,
            p_entry_indexes, p_topic_ids, p_partitions, p_byte_offsets, p_byte_lens,
            p_offset_counts, p_max_timestamps, p_producer_ids, p_producer_epochs,
            p_base_sequences);
        RETURN;
    END IF;

    -- The valid batches only, in order. (If the arrays differ in length,
    -- floe_sequence_segment refuses them: the filter keeps that.)
    SELECT s.committed, s.outcomes, s.base_offsets
    INTO is_new, inner_kind, inner_base
    FROM floe_sequence_segment(p_segment_id, p_object_key, p_size,
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
        ARRAY(SELECT u.v FROM unnest(p_producer_ids, refused) WITH ORDINALITY AS u (v, r, pos)
              WHERE NOT u.r ORDER BY u.pos),
        ARRAY(SELECT u.v FROM unnest(p_producer_epochs, refused) WITH ORDINALITY AS u (v, r, pos)
              WHERE NOT u.r ORDER BY u.pos),
        ARRAY(SELECT u.v FROM unnest(p_base_sequences, refused) WITH ORDINALITY AS u (v, r, pos)
              WHERE NOT u.r ORDER BY u.pos)
    ) AS s;

    IF NOT is_new THEN
        -- A retry: the stored outcomes already hold the refused batches.
        RETURN QUERY SELECT false, coalesce(p_entry_indexes, '{}'), inner_kind, inner_base;
        RETURN;
    END IF;

    FOR i IN 1 .. n LOOP
        IF refused[i] THEN
            o_kind := o_kind || 'invalid_record'::text;
            o_base := o_base || NULL::bigint;
        ELSE
            j := j + 1;
            o_kind := o_kind || inner_kind[j];
            o_base := o_base || inner_base[j];
        END IF;
    END LOOP;

    UPDATE segment_outcomes AS o
    SET entry_indexes = coalesce(p_entry_indexes, '{}'), outcomes = o_kind, base_offsets = o_base
    WHERE o.segment_id = p_segment_id;

    RETURN QUERY SELECT true, coalesce(p_entry_indexes, '{}'), o_kind, o_base;
END;
$$;
