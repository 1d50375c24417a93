-- Leases of the background jobs (agent/src/jobs/leased.rs): one row per
-- job, held by one agent at a time until expires_at. token grows whenever
-- the holder changes or a lease had lapsed, and every write a job makes
-- checks its token in the same transaction (lease_check.sql, which takes the
-- row FOR SHARE), so a holder that lost its lease (paused, cut off, slow)
-- cannot write once another agent took over.
CREATE TABLE job_leases (
    job         text        NOT NULL PRIMARY KEY,
    holder      text        NOT NULL,
    token       bigint      NOT NULL CHECK (token >= 1),
    expires_at  timestamptz NOT NULL
);
