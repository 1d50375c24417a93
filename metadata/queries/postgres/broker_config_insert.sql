-- Sets dynamic broker config $1 to $2.
INSERT INTO broker_configs (name, value) VALUES ($1, $2)
