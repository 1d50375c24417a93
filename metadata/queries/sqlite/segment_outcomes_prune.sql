-- Forgets the stored outcomes of segments committed more than ?1
-- milliseconds ago, at most ?2 segments: only a retry of a commit reads
-- them, and none comes that late (the agent refuses a grace shorter than its
-- commit retry window).
DELETE FROM segment_outcomes
WHERE segment_id IN (
    SELECT DISTINCT o.segment_id
    FROM segment_outcomes AS o
    JOIN segments AS s ON s.id = o.segment_id
    WHERE s.committed_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('-%.3f seconds', ?1 / 1000.0))
    LIMIT ?2
)
