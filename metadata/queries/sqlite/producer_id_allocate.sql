-- Takes the next producer id from the counter.
UPDATE producer_ids SET next_id = next_id + 1 WHERE id = 1 RETURNING next_id - 1 AS producer_id
