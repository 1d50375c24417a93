-- A fresh producer id.
SELECT nextval('producer_ids') AS producer_id
