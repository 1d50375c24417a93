-- The ACL version (moves on every change of the ACLs).
SELECT version FROM acl_version WHERE id = 1
