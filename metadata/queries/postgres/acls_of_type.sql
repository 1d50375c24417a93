-- The ACL bindings of resource type $1, in key order.
SELECT resource_type, resource_name, pattern_type, principal, host, operation, permission
FROM acls
WHERE resource_type = $1
ORDER BY resource_type, resource_name, pattern_type, principal, host, operation, permission
