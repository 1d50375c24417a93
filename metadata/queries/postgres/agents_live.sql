-- The agents that heartbeated at most $1 microseconds ago.
SELECT node_id, host, port, zone, listeners
FROM agents
WHERE heartbeat_at >= now() - $1::bigint * interval '1 microsecond'
ORDER BY node_id
