-- $1 job, $2 holder, $3 lease length in ms: takes the lease when it is free
-- or lapsed, renews it when $2 holds it. Returns its token, no row when
-- another holder has it. The token stays the same on a renewal and grows on
-- any other change, so fences taken before a lapse stop working.
INSERT INTO job_leases AS l (job, holder, token, expires_at)
VALUES ($1, $2, 1, now() + $3::float8 * interval '1 millisecond')
ON CONFLICT (job) DO UPDATE
SET token = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_at > now()
                 THEN l.token ELSE l.token + 1 END,
    holder = EXCLUDED.holder,
    expires_at = EXCLUDED.expires_at
WHERE l.holder = EXCLUDED.holder OR l.expires_at <= now()
RETURNING token
