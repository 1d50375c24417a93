-- $1 job, $2 holder, $3 lease length in ms, $4 the job's interval in ms:
-- renews the lease when $2 holds it, takes it when it is free (expired) and
-- the last pass finished at least an interval ago. Returns its token, no
-- row otherwise. The token stays the same on a renewal and grows whenever
-- the lease is taken anew, so fences taken before stop working.
INSERT INTO job_leases AS l (job, holder, token, expires_at, last_run_at)
VALUES ($1, $2, 1, now() + $3::float8 * interval '1 millisecond', '-infinity')
ON CONFLICT (job) DO UPDATE
SET token = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_at > now()
                 THEN l.token ELSE l.token + 1 END,
    holder = EXCLUDED.holder,
    expires_at = EXCLUDED.expires_at
WHERE (l.holder = EXCLUDED.holder AND l.expires_at > now())
   OR (l.expires_at <= now()
       AND l.last_run_at + $4::float8 * interval '1 millisecond' <= now())
RETURNING token
