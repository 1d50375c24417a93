-- Moves the ACL version (and, on Postgres, locks it: ACL writers serialise).
UPDATE acl_version SET version = version + 1 WHERE id = 1 RETURNING version
