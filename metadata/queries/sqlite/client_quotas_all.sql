-- Every client quota row, grouped by entity.
SELECT user_kind, user_name, client_kind, client_name, key, value
FROM client_quotas
ORDER BY user_kind, user_name, client_kind, client_name, key
