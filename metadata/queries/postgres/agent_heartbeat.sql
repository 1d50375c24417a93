-- $1 node id
UPDATE agents SET heartbeat_at = now() WHERE node_id = $1
