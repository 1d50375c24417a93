-- Wakes the agents listening for commits (postgres/notifications.rs): $1
-- is the id of the segment committed last. The commit it announces is
-- already durable; this transaction need not be, so it does not wait for
-- its own commit record to reach the disk (NOTIFY gives it a transaction
-- id, and it holds the server-wide notify lock until it has committed).
SELECT pg_notify('floe_commits', $1), set_config('synchronous_commit', 'off', true)
