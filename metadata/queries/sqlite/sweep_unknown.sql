-- ?1 segment ids (listed in the bucket) as a JSON array of hex: those the
-- store has no segment row for. Uploaded but never committed, once older
-- than the grace: orphans.
SELECT value FROM json_each(?1)
WHERE NOT EXISTS (SELECT 1 FROM segments s WHERE s.id = unhex(value))
