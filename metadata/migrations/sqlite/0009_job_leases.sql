-- Leases of the background jobs (agent/src/jobs/leased.rs): one row per
-- job, held by one agent at a time until expires_at (ms since the epoch by
-- SQLite's clock). token grows whenever the holder changes or a lease had
-- lapsed, and every write a job makes checks its token in the same
-- transaction (lease_check.sql). Same table as
-- migrations/postgres/0010_job_leases.sql.
CREATE TABLE job_leases (
    job         TEXT    NOT NULL PRIMARY KEY,
    holder      TEXT    NOT NULL,
    token       INTEGER NOT NULL CHECK (token >= 1),
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
