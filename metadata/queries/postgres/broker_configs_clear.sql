-- Forgets every dynamic broker config (the set is then written anew).
DELETE FROM broker_configs
