-- Registers an agent and returns its node id, removing in the same
-- statement the agents silent for longer than the expiry:
-- $1 host, $2 port, $3 zone (NULL: none), $4 expiry in microseconds,
-- $5 advertised listeners (NAME://host:port,…; empty: none).
WITH forgotten AS (
    DELETE FROM agents
    WHERE heartbeat_at < now() - $4::bigint * interval '1 microsecond'
)
INSERT INTO agents (host, port, zone, listeners) VALUES ($1, $2, $3, $5)
RETURNING node_id
