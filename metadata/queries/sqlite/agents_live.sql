-- The agents that heartbeated at most ?1 milliseconds ago.
SELECT node_id, host, port, zone, listeners
FROM agents
WHERE heartbeat_at >= CAST(round(unixepoch('subsec') * 1000) AS INTEGER) - ?1
ORDER BY node_id
