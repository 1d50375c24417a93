-- Security (docs/security.md). Same changes as migrations/sqlite/0013_security.sql.
--
-- Each agent advertises one address per listener ("SASL_SSL://h:9093,…");
-- Metadata answers a client with the addresses of the listener it came in
-- on. Empty for agents that registered before listeners existed: their
-- host and port stand for the PLAINTEXT listener.
ALTER TABLE agents ADD COLUMN listeners text NOT NULL DEFAULT '';

-- SCRAM credentials (RFC 5802, Kafka's KIP-554): never the password, only
-- the salted password's StoredKey and ServerKey. One user may hold one
-- credential per mechanism; PLAIN checks its password against them.
CREATE TABLE scram_credentials (
    user_name   text    NOT NULL CHECK (length(user_name) BETWEEN 1 AND 255),
    mechanism   text    NOT NULL CHECK (mechanism IN ('SCRAM-SHA-256', 'SCRAM-SHA-512')),
    salt        bytea   NOT NULL CHECK (length(salt) BETWEEN 1 AND 1024),
    stored_key  bytea   NOT NULL,
    server_key  bytea   NOT NULL,
    iterations  integer NOT NULL CHECK (iterations BETWEEN 4096 AND 16384),
    PRIMARY KEY (user_name, mechanism)
);
