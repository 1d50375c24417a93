-- Removes key $5 of entity ($1, $2, $3, $4), if set.
DELETE FROM client_quotas
WHERE user_kind = $1 AND user_name = $2 AND client_kind = $3 AND client_name = $4 AND key = $5
