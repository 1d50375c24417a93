-- ?1 segment, ?2 entry index, ?3 batch index, ?4 outcome, ?5 base offset
INSERT INTO segment_outcomes (segment_id, entry_index, batch_index, outcome, base_offset)
VALUES (?1, ?2, ?3, ?4, ?5)
