-- Compaction of small segments (agent/src/jobs/compaction.rs). Each segment
-- has a level: a flush writes level 0, a compaction writes one level above
-- its inputs, so a byte is rewritten at most as many times as there are
-- levels. compactable is 0 once a segment is no compaction input any more:
-- its rows were all replaced, it is large enough, or its level is the last.
-- Existing rows become level-0 inputs.
ALTER TABLE segments ADD COLUMN level INTEGER NOT NULL DEFAULT 0 CHECK (level >= 0);
ALTER TABLE segments ADD COLUMN compactable INTEGER NOT NULL DEFAULT 1 CHECK (compactable IN (0, 1));

-- compaction_candidates.sql: the oldest compactable segments of a level.
CREATE INDEX segments_compactable ON segments (level, committed_at) WHERE compactable = 1;
