-- Segments that may have lost their last index row: those of deleted
-- topics. The segment collector checks only these, so its work follows what
-- was deleted, not the size of the log (segments can number millions).
CREATE TABLE segment_gc_candidates (
    segment_id  uuid  NOT NULL PRIMARY KEY
);
