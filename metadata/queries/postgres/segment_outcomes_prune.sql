-- Forgets the stored outcomes of segments committed more than $1
-- microseconds ago, at most $2 segments: only a retry of a commit reads
-- them, and none comes that late (the agent refuses a grace shorter than its
-- commit retry window). Returns the rows deleted.
WITH old AS (
    SELECT o.segment_id
    FROM segment_outcomes AS o
    JOIN segments AS s ON s.id = o.segment_id
    WHERE s.committed_at < now() - $1::bigint * interval '1 microsecond'
    LIMIT $2
), gone AS (
    DELETE FROM segment_outcomes AS o
    USING old
    WHERE o.segment_id = old.segment_id
    RETURNING 1
)
SELECT count(*) FROM gone
