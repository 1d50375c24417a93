-- Replaces the configuration overrides of topic ?1 with ?2 (a JSON object
-- of strings). Updates nothing (0 rows) if there is no such topic.
UPDATE topics SET config = ?2 WHERE id = ?1
