-- Compaction of small segments (agent/src/jobs/compaction.rs). Each segment
-- has a level: a flush writes level 0, a compaction writes one level above
-- its inputs, so a byte is rewritten at most as many times as there are
-- levels. compactable is false once a segment is no compaction input any
-- more: its rows were all replaced, it is large enough, or its level is the
-- last. Existing rows become level-0 inputs.
ALTER TABLE segments
    ADD COLUMN level integer NOT NULL DEFAULT 0 CHECK (level >= 0),
    ADD COLUMN compactable boolean NOT NULL DEFAULT true;

-- compaction_candidates.sql: the oldest compactable segments of a level.
-- Partial, so segments done with compaction (the bulk of a long log) cost
-- nothing here.
CREATE INDEX segments_compactable ON segments (level, committed_at) WHERE compactable;
