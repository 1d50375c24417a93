-- Stores a credential: ?1 user, ?2 mechanism, ?3 salt, ?4 stored key,
-- ?5 server key, ?6 iterations; replaces the user's one of that mechanism.
INSERT INTO scram_credentials (user_name, mechanism, salt, stored_key, server_key, iterations)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (user_name, mechanism) DO UPDATE
SET salt = excluded.salt, stored_key = excluded.stored_key,
    server_key = excluded.server_key, iterations = excluded.iterations
