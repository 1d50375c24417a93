-- Every dynamic broker config, by name.
SELECT name, value FROM broker_configs ORDER BY name
