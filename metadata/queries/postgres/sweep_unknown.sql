-- $1 segment ids (listed in the bucket): those the store has no segment
-- row for. Uploaded but never committed, once older than the grace: orphans.
SELECT listed.id FROM unnest($1::uuid[]) AS listed (id)
WHERE NOT EXISTS (SELECT 1 FROM segments s WHERE s.id = listed.id)
