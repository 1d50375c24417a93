-- Tells every listening agent (postgres/notifications.rs) that topic $1 is
-- changing (deleted, given more partitions or altered), with its name: they
-- drop what they cached of it. Sent inside the changing transaction, so it
-- arrives only if the change commits (topic changes are rare: the
-- server-wide notify lock is no cost).
SELECT pg_notify('floe_topics', name) FROM topics WHERE id = $1
