-- ?1 host, ?2 port, ?3 zone (NULL: none), ?4 advertised listeners. Both times are the same 'now':
-- SQLite reads its clock once per statement.
INSERT INTO agents (host, port, zone, listeners, registered_at, heartbeat_at)
VALUES (
    ?1, ?2, ?3, ?4,
    CAST(round(unixepoch('subsec') * 1000) AS INTEGER),
    CAST(round(unixepoch('subsec') * 1000) AS INTEGER)
)
RETURNING node_id
