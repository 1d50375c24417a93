-- Sets key ?5 of entity (?1, ?2, ?3, ?4) to ?6.
INSERT INTO client_quotas (user_kind, user_name, client_kind, client_name, key, value)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (user_kind, user_name, client_kind, client_name, key)
DO UPDATE SET value = excluded.value
