-- ?1 group id, ?2 member index, ?3 member id, ?4 group instance id (NULL:
-- a dynamic member), ?5 client id, ?6 client host, ?7 session timeout,
-- ?8 rebalance timeout, ?9 metadata, ?10 assignment
INSERT INTO group_members (
    group_id, member_index, member_id, group_instance_id, client_id, client_host,
    session_timeout_ms, rebalance_timeout_ms, metadata, assignment
) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
