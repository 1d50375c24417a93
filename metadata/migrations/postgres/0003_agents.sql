-- Agents: every running agent registers here and heartbeats; Metadata
-- responses list the live ones as brokers (design.md, "Routing clients to
-- agents"). Same table as migrations/sqlite/0002_agents.sql.
--
-- node_id is the Kafka broker id (an int32), taken from an identity
-- sequence, so an id is never handed out again, even after its row is
-- deleted. Times are the database's clock.
CREATE TABLE agents (
    node_id        integer     GENERATED ALWAYS AS IDENTITY PRIMARY KEY CHECK (node_id >= 1),
    host           text        NOT NULL CHECK (length(host) > 0),
    port           integer     NOT NULL CHECK (port BETWEEN 1 AND 65535),
    zone           text,
    registered_at  timestamptz NOT NULL DEFAULT now(),
    heartbeat_at   timestamptz NOT NULL DEFAULT now()
);

-- live_agents.sql and the clean-up of long-silent agents.
CREATE INDEX agents_by_heartbeat ON agents (heartbeat_at);
