-- ACL bindings (Kafka's CreateAcls / DescribeAcls / DeleteAcls), cluster-wide,
-- held in memory by every agent's authorizer. Codes are Kafka's wire codes
-- (resource type, pattern type LITERAL 3 / PREFIXED 4, operation, permission
-- DENY 2 / ALLOW 3); which are valid is checked before a row is written. A
-- binding is its whole row: creating it twice keeps one.
CREATE TABLE acls (
    resource_type  INTEGER NOT NULL,
    resource_name  TEXT NOT NULL,
    pattern_type   INTEGER NOT NULL CHECK (pattern_type IN (3, 4)),
    principal      TEXT NOT NULL,
    host           TEXT NOT NULL,
    operation      INTEGER NOT NULL,
    permission     INTEGER NOT NULL CHECK (permission IN (2, 3)),
    PRIMARY KEY (resource_type, resource_name, pattern_type, principal, host,
                 operation, permission)
) WITHOUT ROWID;

-- One row: moves on every change of acls, in the same transaction, so each
-- agent polls one small row to know whether to read the ACLs again.
CREATE TABLE acl_version (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL
);
INSERT INTO acl_version (id, version) VALUES (1, 0);
