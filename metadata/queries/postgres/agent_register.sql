-- Registers an agent and returns its node id, removing in the same
-- statement the agents silent for longer than the expiry:
-- $1 host, $2 port, $3 zone (NULL: none), $4 expiry in microseconds.
WITH forgotten AS (
    DELETE FROM agents
    WHERE heartbeat_at < now() - $4::bigint * interval '1 microsecond'
)
INSERT INTO agents (host, port, zone) VALUES ($1, $2, $3)
RETURNING node_id
