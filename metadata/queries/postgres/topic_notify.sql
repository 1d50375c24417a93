-- Tells every listening agent (postgres/notifications.rs) that topic $1 is
-- being deleted, with its name: they drop the id they cached for it. Sent
-- inside the deleting transaction, so it arrives only if the deletion
-- commits (topic deletions are rare: the server-wide notify lock is no cost).
SELECT pg_notify('floe_topics', name) FROM topics WHERE id = $1
