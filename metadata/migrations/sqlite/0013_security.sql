-- Security (docs/security.md). Same changes as migrations/postgres/0014_security.sql.
--
-- Each agent advertises one address per listener ("SASL_SSL://h:9093,…");
-- empty for agents that registered before listeners existed.
ALTER TABLE agents ADD COLUMN listeners TEXT NOT NULL DEFAULT '';

-- SCRAM credentials: only the salted password's StoredKey and ServerKey.
CREATE TABLE scram_credentials (
    user_name   TEXT    NOT NULL CHECK (length(user_name) BETWEEN 1 AND 255),
    mechanism   TEXT    NOT NULL CHECK (mechanism IN ('SCRAM-SHA-256', 'SCRAM-SHA-512')),
    salt        BLOB    NOT NULL CHECK (length(salt) BETWEEN 1 AND 1024),
    stored_key  BLOB    NOT NULL,
    server_key  BLOB    NOT NULL,
    iterations  INTEGER NOT NULL CHECK (iterations BETWEEN 4096 AND 16384),
    PRIMARY KEY (user_name, mechanism)
) WITHOUT ROWID;
