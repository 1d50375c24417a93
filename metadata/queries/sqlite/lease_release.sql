-- ?1 job, ?2 token: ends the lease now if that token still holds it, so
-- another agent can take the job at once (with a new token).
UPDATE job_leases SET expires_at = CAST(round(unixepoch('subsec') * 1000) AS INTEGER)
WHERE job = ?1 AND token = ?2
