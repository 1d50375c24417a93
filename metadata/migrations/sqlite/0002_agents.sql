-- Agents: every running agent registers here and heartbeats; Metadata
-- responses list the live ones as brokers (design.md, "Routing clients to
-- agents"). Same table as migrations/postgres/0003_agents.sql.
--
-- node_id is the Kafka broker id. AUTOINCREMENT (not a bare INTEGER PRIMARY
-- KEY) so an id is never handed out again, even after its row is deleted.
-- Times are milliseconds since the Unix epoch by SQLite's clock (integers,
-- unlike the ISO-8601 text of 0001_init.sql, so ages are plain arithmetic).
CREATE TABLE agents (
    node_id        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT
                       CHECK (node_id BETWEEN 1 AND 2147483647),
    host           TEXT    NOT NULL CHECK (length(host) > 0),
    port           INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    zone           TEXT,
    registered_at  INTEGER NOT NULL,
    heartbeat_at   INTEGER NOT NULL
);

-- live_agents.sql and the clean-up of long-silent agents.
CREATE INDEX agents_by_heartbeat ON agents (heartbeat_at);
