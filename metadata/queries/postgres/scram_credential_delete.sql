-- Deletes user $1's credential of mechanism $2 (every mechanism when NULL).
DELETE FROM scram_credentials
WHERE user_name = $1 AND ($2::text IS NULL OR mechanism = $2)
