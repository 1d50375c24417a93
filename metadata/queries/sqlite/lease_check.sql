-- ?1 job, ?2 token: a row only while that token holds an unexpired lease
-- (the write transaction that asks holds SQLite's one write lock, so no
-- takeover can come before it commits).
SELECT token FROM job_leases
WHERE job = ?1 AND token = ?2
  AND expires_at > CAST(round(unixepoch('subsec') * 1000) AS INTEGER)
