-- Client quotas (Kafka's KIP-546 DescribeClientQuotas / AlterClientQuotas):
-- one row per entity and key, cluster-wide, read by every agent. An entity
-- has a user part and a client-id part, each absent (kind 0), the default
-- (kind 1) or a name (kind 2, name in *_name; '' otherwise). Which keys are
-- accepted is the agent's decision (agent/src/quotas/).
CREATE TABLE client_quotas (
    user_kind    INTEGER NOT NULL CHECK (user_kind BETWEEN 0 AND 2),
    user_name    TEXT NOT NULL,
    client_kind  INTEGER NOT NULL CHECK (client_kind BETWEEN 0 AND 2),
    client_name  TEXT NOT NULL,
    key          TEXT NOT NULL,
    value        REAL NOT NULL,
    PRIMARY KEY (user_kind, user_name, client_kind, client_name, key)
) WITHOUT ROWID;
