-- Removes the agents silent for longer than ?1 milliseconds.
DELETE FROM agents
WHERE heartbeat_at < CAST(round(unixepoch('subsec') * 1000) AS INTEGER) - ?1
