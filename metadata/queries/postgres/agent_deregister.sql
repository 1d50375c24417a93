-- $1 node id
DELETE FROM agents WHERE node_id = $1
