-- $1 job, $2 token, $3 whether the pass finished: ends the lease now if
-- that token still holds it; a finished pass sets last_run_at, so the next
-- one waits an interval (a pass cut short is due again at once).
UPDATE job_leases
SET expires_at = now(),
    last_run_at = CASE WHEN $3 THEN now() ELSE last_run_at END
WHERE job = $1 AND token = $2
