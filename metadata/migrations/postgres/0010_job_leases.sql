-- Leases of the background jobs (agent/src/jobs/leased.rs): one row per
-- job, held by one agent at a time for one pass, until expires_at (renewed
-- while the pass runs). A finished pass releases the lease and sets
-- last_run_at; the next pass runs once an interval has passed since, on
-- whichever agent asks first. token grows whenever the lease is taken anew, and every write
-- a job makes checks its token in the same transaction (lease_check.sql,
-- which takes the row FOR SHARE), so a holder that lost its lease (paused,
-- cut off, slow) cannot write once another agent took over.
CREATE TABLE job_leases (
    job          text        NOT NULL PRIMARY KEY,
    holder       text        NOT NULL,
    token        bigint      NOT NULL CHECK (token >= 1),
    expires_at   timestamptz NOT NULL,
    last_run_at  timestamptz NOT NULL
);
