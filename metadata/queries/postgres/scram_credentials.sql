-- The SCRAM credentials of user $1 (every user when $1 is NULL).
SELECT user_name, mechanism, salt, stored_key, server_key, iterations
FROM scram_credentials
WHERE $1::text IS NULL OR user_name = $1
ORDER BY user_name, mechanism
