-- Every ACL binding, in key order.
SELECT resource_type, resource_name, pattern_type, principal, host, operation, permission
FROM acls
ORDER BY resource_type, resource_name, pattern_type, principal, host, operation, permission
