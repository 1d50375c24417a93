-- $1 job, $2 token: a row only while that token holds an unexpired lease.
-- FOR SHARE: a takeover (lease_acquire.sql updates the row) waits until the
-- transaction that checked commits, so no write lands after a takeover.
SELECT token FROM job_leases
WHERE job = $1 AND token = $2 AND expires_at > now()
FOR SHARE
