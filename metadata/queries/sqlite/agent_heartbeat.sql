-- ?1 node id
UPDATE agents SET heartbeat_at = CAST(round(unixepoch('subsec') * 1000) AS INTEGER)
WHERE node_id = ?1
